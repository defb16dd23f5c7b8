#!/bin/sh
# The systemd units (systemd/*.service.in), made with this build's daemons
# as ExecStart, are clean under `systemd-analyze verify`; each is
# Type=notify, runs as mipsa with NoNewPrivileges and ProtectSystem=strict,
# and its CapabilityBoundingSet holds what the daemon keeps after its drop
# (doc/security.md) and nothing the daemon does not need to start; the
# manual pages the units name exist.
# systemd-analyze missing is a failure (scripts/deps installs systemd).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(pwd) # make check runs us in the build tree
tmp=$(mktemp -d /tmp/mipsa-units.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
bad=0
fail() {
	echo "units_check: $*" >&2
	bad=1
}

command -v systemd-analyze >/dev/null || {
	echo "units_check: systemd-analyze is missing (Debian package systemd; scripts/deps)" >&2
	exit 1
}
mkdir "$tmp/sbin" "$tmp/bin" "$tmp/units"
ln -s "$build/tools/mipsactl" "$tmp/bin/mipsactl"
for d in fa ha mn dbs; do
	ln -s "$build/$d/mipsa-$d" "$tmp/sbin/mipsa-$d"
	sed -e "s|@sbindir@|$tmp/sbin|g" -e "s|@bindir@|$tmp/bin|g" -e "s|@sysconfdir@|/etc|g" \
		"$top/systemd/mipsa-$d.service.in" >"$tmp/units/mipsa-$d.service"
done

# verify: every directive known, every path absolute, the binaries there,
# and the pages of Documentation= found (man/, laid out as man(1) looks)
mkdir -p "$tmp/man/man5" "$tmp/man/man8"
for p in "$top"/man/*.5; do ln -s "$p" "$tmp/man/man5/"; done
for p in "$top"/man/*.8; do ln -s "$p" "$tmp/man/man8/"; done
out=$(cd "$tmp/units" && MANPATH="$tmp/man" systemd-analyze verify ./mipsa-*.service 2>&1)
[ -z "$out" ] || fail "systemd-analyze verify: $out"

# what each daemon keeps after its drop (common/sandbox.c) and may start with
keeps() {
	case $1 in
	fa | ha) echo CAP_NET_ADMIN ;;
	*) echo "" ;;
	esac
}
may() {
	case $1 in
	dbs) echo "" ;;
	*) echo "CAP_NET_ADMIN CAP_NET_RAW CAP_NET_BIND_SERVICE" ;;
	esac
}
value() { sed -n "s/^$2=//p" "$tmp/units/mipsa-$1.service"; }
for d in fa ha mn dbs; do
	[ "$(value $d Type)" = notify ] || fail "mipsa-$d: Type is not notify"
	[ "$(value $d User)" = mipsa ] || fail "mipsa-$d: User is not mipsa"
	[ "$(value $d NoNewPrivileges)" = yes ] || fail "mipsa-$d: NoNewPrivileges is not yes"
	[ "$(value $d ProtectSystem)" = strict ] || fail "mipsa-$d: ProtectSystem is not strict"
	[ "$(value $d RuntimeDirectory)" = mipsa ] || fail "mipsa-$d: RuntimeDirectory is not mipsa"
	# reload through the daemon's own default socket, so a refusal fails the reload
	[ "$(value $d ExecReload)" = "$tmp/bin/mipsactl --socket /run/mipsa/$d.sock reload" ] ||
		fail "mipsa-$d: ExecReload is not mipsactl reload on /run/mipsa/$d.sock"
	bound=$(value $d CapabilityBoundingSet)
	[ "$bound" = "$(value $d AmbientCapabilities)" ] ||
		fail "mipsa-$d: AmbientCapabilities differs from CapabilityBoundingSet"
	for c in $(keeps $d); do
		case " $bound " in *" $c "*) ;; *) fail "mipsa-$d: keeps $c, which the unit does not give" ;; esac
	done
	for c in $bound; do
		case " $(may $d) " in *" $c "*) ;; *) fail "mipsa-$d: gives $c, which it does not need" ;; esac
	done
done
[ "$(value dbs StateDirectory)" = mipsa-dbs ] || fail "mipsa-dbs: StateDirectory is not mipsa-dbs"
[ "$(value ha StateDirectory)" = mipsa ] || fail "mipsa-ha: StateDirectory is not mipsa"
[ $bad -eq 0 ] && echo "units_check: 4 units verified"
exit $bad
