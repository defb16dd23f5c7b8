#!/bin/sh
# doc/control.md lists every control command and every counter of every
# daemon, and nothing else, as the sources define them:
#
#  - commands: each daemon's list as "mipsactl help" prints it (from
#    common/ctl_cmds.h, which the daemons' tables are built from), "help"
#    included, against the rows of the page's command table;
#  - counters: the X-macro lists (and the names a daemon's *_ctl_rcvbuf
#    writes itself) against the page's "- `object`: `name`, ..." lines,
#    object by object, both ways;
#  - every X-macro list of counters or drops in the tree belongs to an
#    object below, and every counters object and path a daemon renders is
#    named on the page.
#
# When a counter, a list or a command is added: add it to doc/control.md,
# and a new list or object to the table "objects" below.
#   tests/doc_check.sh --list   prints each object's line as the sources have it
set -u
export LC_ALL=C
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(pwd) # make check runs us in the build tree, where tools/mipsactl is
doc=${DOC_CHECK_PAGE:-$top/doc/control.md} # another page: to test this script
cd "$top" || exit 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
: >"$tmp/fails"

# Findings go to a file: some are made in a pipeline's subshell.
fail() {
	echo "FAIL: $*" >>"$tmp/fails"
}

# The C sources of the daemons and their libraries.
sources() {
	ls common/*.[ch] ha/*.[ch] fa/*.[ch] mn/*.[ch] dbs/*.[ch]
}

# xlist MACRO: the names of the X-macro list MACRO, wherever it is defined.
xlist() {
	# shellcheck disable=SC2046
	f=$(grep -l "^#define $1(X)" $(sources))
	if [ -z "$f" ] || [ "$(printf '%s\n' "$f" | wc -l)" -ne 1 ]; then
		fail "X-macro list $1: defined in '$f', want one file"
		return
	fi
	awk -v m="$1" '
		index($0, "#define " m "(X)") == 1 { on = 1 }
		on {
			line = $0
			while (match(line, /X\([a-z0-9_]+\)/)) {
				print substr(line, RSTART + 2, RLENGTH - 3)
				line = substr(line, RSTART + RLENGTH)
			}
			if ($0 !~ /\\$/)
				exit
		}' "$f"
}

# rendered FILE:FUNC: the names FUNC writes with ctl_u64(o, "name", ...),
# and those of each X-macro list it expands.
rendered() {
	file=${1%%:*} fn=${1#*:}
	if ! grep -q "^[a-z].*[ *]$fn(" "$file" 2>/dev/null; then
		fail "$file has no function $fn"
		return
	fi
	awk -v fn="$fn" '
		$0 ~ "^[a-z].*[ *]" fn "\\(" { on = 1; next }
		on && /^}/ { exit }
		on {
			line = $0
			while (match(line, /ctl_u64\(o, "[a-z0-9_]+"/)) {
				s = substr(line, RSTART, RLENGTH)
				sub(/^ctl_u64\(o, "/, "", s)
				sub(/"$/, "", s)
				print s
				line = substr(line, RSTART + RLENGTH)
			}
			if (match($0, /^[ \t]*[A-Z][A-Z0-9_]*\([A-Z][A-Z0-9_]*\)[ \t]*$/)) {
				s = $0
				sub(/^[ \t]*/, "", s)
				sub(/\(.*/, "", s)
				print "@" s
			}
		}' "$file" >"$tmp/rendered"
	while read -r n; do
		case $n in
		@*)
			echo "${n#@}" >>"$tmp/used-lists"
			xlist "${n#@}"
			;;
		*) echo "$n" ;;
		esac
	done <"$tmp/rendered"
}

# Each object of the page: section (the heading's first word), object (the
# line's first name), and where its names come from (an X-macro list, or
# FILE:FUNCTION for what that function writes).
cat >"$tmp/objects" <<'EOF'
mipsa-ha counters HA_COUNTERS
mipsa-ha rcvbuf_drops ha/ha_main.c:ha_ctl_rcvbuf
mipsa-ha tun_counters TUN_IO_COUNTERS
mipsa-fa counters FA_COUNTERS
mipsa-fa rcvbuf_drops fa/fa_main.c:fa_ctl_rcvbuf
mipsa-fa tun_counters TUN_IO_COUNTERS
mipsa-fa esp_counters IPSEC_EP_COUNTERS
mipsa-fa esp_counters FA_SEC_COUNTERS
mipsa-fa esp_cache_counters fa/fa_ipsec.c:fa_sec_ctl_cache
mipsa-fa reuse_counters FA_REUSE_COUNTERS
mipsa-fa store_counters fa/fa_main.c:fa_ctl_store
mipsa-mn counters MN_COUNTERS
mipsa-mn rcvbuf_drops mn/mn_main.c:mn_ctl_rcvbuf
mipsa-mn tun_counters TUN_IO_COUNTERS
mipsa-mn esp_counters IPSEC_EP_COUNTERS
mipsa-mn esp_counters MN_SEC_COUNTERS
mipsa-dbs counters DBS_COUNTERS
mipsa-dbs rcvbuf_drops dbs/dbs_main.c:dbs_ctl_rcvbuf
IKE ike_counters IKE_COUNTERS
Paths *_mtu_counters PMTU_COUNTERS
EOF

# Each daemon's command table.
cat >"$tmp/tables" <<'EOF'
mipsa-ha ha/ha_ctl.c
mipsa-fa fa/fa_ctl.c
mipsa-mn mn/mn_ctl.c
mipsa-dbs dbs/dbs_ctl.c
EOF

# ---- the page, parsed ----

# "## Counters": "section object name" for every name of every object line
# (a line "- `object` ...: `name`, `name`, ..." and the indented lines that
# continue it).
awk '
	function flush(   line, key, names) {
		if (bullet == "")
			return
		line = bullet
		bullet = ""
		if (!match(line, /`[^`]+`/))
			return
		key = substr(line, RSTART + 1, RLENGTH - 2)
		if (!match(line, /: /)) {
			print sect, key, "-"
			return
		}
		names = substr(line, RSTART + 2)
		seen = 0
		while (match(names, /`[^`]+`/)) {
			print sect, key, substr(names, RSTART + 1, RLENGTH - 2)
			names = substr(names, RSTART + RLENGTH)
			seen = 1
		}
		if (!seen)
			print sect, key, "-"
	}
	/^## / { flush(); on = ($0 == "## Counters"); next }
	!on { next }
	/^### / { flush(); sect = $2; next }
	/^- `/ { flush(); bullet = $0; next }
	/^  / && bullet != "" { bullet = bullet " " $0; next }
	{ flush() }
	END { flush() }' "$doc" >"$tmp/doc-counters"

# "## Commands": "daemon command" for each row of the table; "all" is
# every daemon, "mipsa-fa, mipsa-mn" both.
awk -F'|' '
	/^## / { on = ($0 == "## Commands"); next }
	!on || !/^\| / || /^\|--/ || $2 ~ /daemon/ { next }
	{
		cmd = $3
		if (!match(cmd, /`[^`]+`/))
			next
		cmd = substr(cmd, RSTART + 1, RLENGTH - 2)
		sub(/ .*/, "", cmd)
		n = split($2, ds, ",")
		for (i = 1; i <= n; i++) {
			d = ds[i]
			gsub(/[ \t]/, "", d)
			print d, cmd
		}
	}' "$doc" >"$tmp/doc-commands-raw"
while read -r d c; do
	if [ "$d" = all ]; then
		while read -r dd _; do echo "$dd $c"; done <"$tmp/tables"
	else
		echo "$d $c"
	fi
done <"$tmp/doc-commands-raw" | sort >"$tmp/doc-commands"

# ---- commands ----

# "mipsactl help" with no socket prints the lists the daemons' tables are
# built from (common/ctl_cmds.h), "help" included.
env -u MIPSA_CTL "$build/tools/mipsactl" help >"$tmp/help" ||
	fail "mipsactl help (no socket) failed"
awk '
	/^[a-z-]+:$/ { d = substr($0, 1, length($0) - 1); next }
	/^  [a-z]/ { print d, $1 }
' "$tmp/help" | sort >"$tmp/code-commands"
[ "$(grep -c . "$tmp/code-commands")" -gt 4 ] || fail "no command tables found in the *_ctl.c files"
comm -23 "$tmp/code-commands" "$tmp/doc-commands" | while read -r d c; do
	fail "$d's command '$c' ($(grep "^$d " "$tmp/tables" | cut -d' ' -f2)) is not in doc/control.md"
done
comm -13 "$tmp/code-commands" "$tmp/doc-commands" | while read -r d c; do
	fail "doc/control.md lists '$c' for $d, which has no such command"
done

# ---- counters, object by object ----

: >"$tmp/used-lists"
: >"$tmp/code-counters"
while read -r sect obj src; do
	case $src in
	*:*) rendered "$src" ;;
	*)
		echo "$src" >>"$tmp/used-lists"
		xlist "$src"
		;;
	esac | sed "s|^|$sect $obj |" >>"$tmp/code-counters"
done <"$tmp/objects"
if [ "${1:-}" = --list ]; then
	awk '{ k = $1 " " $2; if (!(k in names)) order[++n] = k; names[k] = names[k] sep[k] "`" $3 "`"; sep[k] = ", " }
		END { for (i = 1; i <= n; i++) { split(order[i], a, " "); print a[1] ": - `" a[2] "`: " names[order[i]] } }' \
		"$tmp/code-counters"
	exit 0
fi
sort -o "$tmp/code-counters" "$tmp/code-counters"
grep -v ' -$' "$tmp/doc-counters" | sort >"$tmp/doc-names"
comm -23 "$tmp/code-counters" "$tmp/doc-names" | while read -r s o n; do
	fail "counter '$n' of $s's $o is not in doc/control.md"
done
comm -13 "$tmp/code-counters" "$tmp/doc-names" | while read -r s o n; do
	fail "doc/control.md lists '$n' in $s's $o, which has no such counter"
done
cut -d' ' -f1,2 "$tmp/doc-counters" | sort -u >"$tmp/doc-objects"
cut -d' ' -f1,2 "$tmp/objects" | sort -u >"$tmp/code-objects"
comm -13 "$tmp/code-objects" "$tmp/doc-objects" | while read -r s o; do
	fail "doc/control.md has a list '$o' under $s that tests/doc_check.sh does not know"
done

# ---- nothing left out ----

# Every list of counters or drops in the sources is one of the objects'.
# shellcheck disable=SC2046
sed -n 's/^#define \([A-Z0-9_]*\(COUNTERS\|DROPS\)\)(X).*/\1/p' $(sources) | sort -u |
	while read -r m; do
		grep -qx "$m" "$tmp/used-lists" ||
			fail "X-macro list $m is shown by no object of doc/control.md" \
				"(add it there and to tests/doc_check.sh)"
	done
# Every counters object and every path a daemon renders is named on the page.
# shellcheck disable=SC2046
sed -n 's/.*\(ctl_obj_begin\|pmtu_ctl\)(o, "\([a-z0-9_]*\(counters\|drops\)\)".*/\2/p' \
	$(sources) | sort -u | while read -r o; do
	grep -q "\`$o\`" "$doc" || fail "object '$o' is rendered but not in doc/control.md"
done

if [ -s "$tmp/fails" ]; then
	cat "$tmp/fails"
	echo "doc_check: $(wc -l <"$tmp/fails") differences between doc/control.md and the sources"
	exit 1
fi
echo "doc_check: doc/control.md lists $(wc -l <"$tmp/code-commands") commands and" \
	"$(wc -l <"$tmp/code-counters") counters, as the sources do"
