# shellcheck shell=bash
# shellcheck disable=SC2034 # the TB_* constants are API for the sourcing scripts
#
# testbed/lib.sh -- network-namespace testbed for mipsa (Mobile IPv4).
#
# Source this file from bash (scripts, tests); it defines functions only and
# changes no shell options.  Every namespace is called "${TB_PREFIX:-mipsa}-<node>"
# and everything (veths, bridges, addresses) lives inside those namespaces:
# the root namespace is never touched.  Needs root.  See testbed/README.md.
#
# Public functions:
#   tb_up                 build the topology (rolls back on failure)
#   tb_down               idempotent teardown: stop daemons hook, kill every
#                         process in the namespaces, delete the namespaces
#   tb_ns NODE            print the full namespace name of NODE
#   tb_exec NODE CMD...   run CMD inside NODE (ip netns exec)
#   tb_move FA            hand-over: move the MN's link to FA (fa1|fa2|fa3)
#   tb_where              print the FA the MN is attached to
#   tb_trap_cleanup [FN]  trap EXIT INT TERM HUP: run FN (optional), then
#                         tb_down; the exit status is preserved
#   tb_poll SECS CMD...   run CMD every 50 ms until it succeeds (status 0) or
#                         SECS seconds have passed (status 1)
#   tb_start_daemons / tb_stop_daemons   hook point, see below
#   tb_impair / tb_impair_stats / tb_impair_clear   loss and reordering on
#                         every link (testbed/impair.sh)
#   tb_distance / tb_distance_stats / tb_distance_clear   the home agent's
#                         distance from the FAs, a fixed delay (impair.sh)

# ---- topology constants ---------------------------------------------------
TB_NODES=(core cn ha fa1 fa2 fa3 dbs mn air)
TB_FAS=(fa1 fa2 fa3)

TB_CN_ADDR=198.18.1.2
TB_HA_LINK_ADDR=198.18.2.2
TB_HA_ADDR=198.18.100.1
TB_HOME_NET=198.18.100.0/24
TB_DBS_ADDR=198.18.3.2
TB_FA1_COA=198.18.11.2
TB_FA2_COA=198.18.12.2
TB_FA3_COA=198.18.13.2
TB_ALIAS_A=198.19.0.1 # domain A: fa1, fa2
TB_ALIAS_B=198.19.1.1 # domain B: fa3
TB_MAC_A=02:00:5e:00:01:01
TB_MAC_B=02:00:5e:00:01:02
# interface names: in each leaf the uplink to core is "up0"; in core the link
# to leaf X is "to-X"; access bridge "acc0" in each FA, whose port "air0"
# leads to the FA's bridge "br-faN" in the "air" namespace (the radio); MN
# side "eth0", its peer "mnport" (in air) is a port of the current FA's
# br-faN; ha has "home0"
# (198.18.100.1) whose veth peer "home0p" stands in for the home link.

TB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TB_NETNS_DIR=/var/run/netns

# ---- hook point: daemons --------------------------------------------------
# The testbed starts no daemon.  Daemons are started by the caller after
# tb_up (e.g. `tb_exec ha <daemon> ...`).  Code that manages daemons may
# define tb_start_daemons / tb_stop_daemons, before or after sourcing this
# file (an earlier definition is kept).  tb_up never calls tb_start_daemons;
# tb_down calls tb_stop_daemons first (best effort) and then kills whatever
# still runs inside the namespaces.
if ! declare -F tb_start_daemons >/dev/null; then
	tb_start_daemons() {
		:
	}
fi
if ! declare -F tb_stop_daemons >/dev/null; then
	tb_stop_daemons() {
		:
	}
fi

# ---- helpers ----------------------------------------------------------------
tb_poll() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		((SECONDS < deadline)) || return 1
		sleep 0.05
	done
}

_tb_err() {
	printf 'testbed: %s\n' "$*" >&2
}

# run a command, report it on failure; callers add `|| return 1` so that the
# functions also fail correctly when errexit is suspended (`tb_up || ...`).
_tb_do() {
	"$@" || {
		local rc=$?
		_tb_err "command failed (status $rc): $*"
		return "$rc"
	}
}

_tb_prefix() {
	printf '%s' "${TB_PREFIX:-mipsa}"
}

_tb_exists() {
	[[ -e "$TB_NETNS_DIR/$1" ]]
}

_tb_is_fa() {
	case "${1:-}" in
	fa1 | fa2 | fa3) return 0 ;;
	*) return 1 ;;
	esac
}

_tb_require_root() {
	if [[ $EUID -ne 0 ]]; then
		_tb_err "must run as root"
		return 1
	fi
}

# _tb_sysctl NODE KEY=VALUE...
_tb_sysctl() {
	local node=$1
	shift
	_tb_do ip netns exec "$(tb_ns "$node")" sysctl -q -w "$@" >/dev/null || return 1
}

# list namespaces that belong to the current prefix: "<prefix>-<word>" where
# <word> is [a-z0-9_]+ (no dash, so "mipsa" does not match a test's
# "mipsa-t1-core").
_tb_list_ns() {
	local p f name rest
	p=$(_tb_prefix)
	for f in "$TB_NETNS_DIR/$p"-*; do
		[[ -e $f ]] || continue
		name=${f##*/}
		rest=${name#"$p"-}
		[[ $rest =~ ^[a-z0-9_]+$ ]] || continue
		printf '%s\n' "$name"
	done
}

# ---- public API ---------------------------------------------------------------
tb_ns() {
	if [[ $# -ne 1 || -z $1 ]]; then
		_tb_err "usage: tb_ns NODE"
		return 1
	fi
	printf '%s-%s\n' "$(_tb_prefix)" "$1"
}

tb_exec() {
	if [[ $# -lt 2 ]]; then
		_tb_err "usage: tb_exec NODE CMD..."
		return 1
	fi
	local ns
	ns=$(tb_ns "$1") || return 1
	shift
	ip netns exec "$ns" "$@"
}

# _tb_leaf NODE THIRD_OCTET: veth core:to-NODE <-> NODE:up0 on 198.18.X.0/24
_tb_leaf() {
	local node=$1 x=$2 core ns
	core=$(tb_ns core)
	ns=$(tb_ns "$node")
	_tb_do ip -n "$core" link add "to-$node" type veth peer name up0 netns "$ns" || return 1
	_tb_do ip -n "$core" addr add "198.18.$x.1/24" dev "to-$node" || return 1
	_tb_do ip -n "$core" link set "to-$node" up || return 1
	_tb_do ip -n "$ns" addr add "198.18.$x.2/24" dev up0 || return 1
	_tb_do ip -n "$ns" link set up0 up || return 1
	_tb_do ip -n "$ns" route add default via "198.18.$x.1" dev up0 || return 1
}

# _tb_fa FA THIRD_OCTET ALIAS MAC
_tb_fa() {
	local fa=$1 x=$2 alias=$3 mac=$4 ns
	ns=$(tb_ns "$fa")
	_tb_leaf "$fa" "$x" || return 1
	_tb_do ip -n "$ns" link add acc0 type bridge stp_state 0 forward_delay 0 \
		mcast_snooping 0 || return 1
	_tb_do ip -n "$ns" link set acc0 address "$mac" || return 1
	_tb_do ip -n "$ns" addr add "$alias/24" dev acc0 || return 1
	_tb_do ip -n "$ns" link set acc0 up || return 1
	# The access link stays up while no MN is on it, as an access point's
	# does.  A bridge without ports loses carrier and drops what it sends
	# until the kernel's link watch sees the next port come up: the FA's
	# answer to the MN's solicitation would vanish there.
	_tb_do ip -n "$ns" link add accstub type veth peer name accstub-peer || return 1
	_tb_do ip -n "$ns" link set accstub master acc0 up || return 1
	_tb_do ip -n "$ns" link set accstub-peer up || return 1
	_tb_sysctl "$fa" net.ipv4.ip_forward=1 net.ipv4.conf.acc0.rp_filter=0 \
		net.ipv4.conf.all.accept_local=1 net.ipv4.conf.acc0.accept_local=1 || return 1
	# the FA's cell in the air: acc0:air0 <-> air:p-FA, a port of air:br-FA
	local air
	air=$(tb_ns air)
	_tb_do ip -n "$air" link add "br-$fa" type bridge stp_state 0 forward_delay 0 \
		mcast_snooping 0 || return 1
	_tb_do ip -n "$air" link set "br-$fa" up || return 1
	_tb_do ip -n "$ns" link add air0 type veth peer name "p-$fa" netns "$air" || return 1
	_tb_do ip -n "$ns" link set air0 master acc0 up || return 1
	_tb_do ip -n "$air" link set "p-$fa" master "br-$fa" up || return 1
}

_tb_up_body() {
	local n ns
	for n in "${TB_NODES[@]}"; do
		ns=$(tb_ns "$n")
		_tb_do ip netns add "$ns" || return 1
		# before any interface exists: no IPv6 (clean captures), no reverse
		# path filtering (triangular routing: the MN's home address shows up
		# behind the FAs), no ICMP redirects.
		_tb_sysctl "$n" net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1 \
			net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
			net.ipv4.conf.all.send_redirects=0 \
			net.ipv4.conf.default.send_redirects=0 || return 1
		_tb_do ip -n "$ns" link set lo up || return 1
	done

	_tb_sysctl core net.ipv4.ip_forward=1 || return 1
	_tb_leaf cn 1 || return 1
	_tb_leaf ha 2 || return 1
	_tb_leaf dbs 3 || return 1

	# home network 198.18.100.0/24 inside ha.  The kernel has no dummy
	# driver, so home0 is one end of a veth pair whose other end (home0p,
	# up, no address) plays the empty home link.
	ns=$(tb_ns ha)
	_tb_do ip -n "$ns" link add home0 type veth peer name home0p || return 1
	_tb_do ip -n "$ns" addr add "$TB_HA_ADDR/24" dev home0 || return 1
	_tb_do ip -n "$ns" link set home0p up || return 1
	_tb_do ip -n "$ns" link set home0 up || return 1
	_tb_sysctl ha net.ipv4.ip_forward=1 || return 1
	_tb_do ip -n "$(tb_ns core)" route add "$TB_HOME_NET" via "$TB_HA_LINK_ADDR" || return 1

	_tb_fa fa1 11 "$TB_ALIAS_A" "$TB_MAC_A" || return 1
	_tb_fa fa2 12 "$TB_ALIAS_A" "$TB_MAC_A" || return 1
	_tb_fa fa3 13 "$TB_ALIAS_B" "$TB_MAC_B" || return 1

	# mobile node: eth0 (no address) <-> air:mnport, a port of fa1's cell
	ns=$(tb_ns mn)
	_tb_do ip -n "$ns" link add eth0 type veth peer name mnport netns "$(tb_ns air)" || return 1
	_tb_sysctl mn net.ipv4.conf.eth0.rp_filter=0 net.ipv4.conf.all.accept_local=1 \
		net.ipv4.conf.eth0.accept_local=1 || return 1
	_tb_do ip -n "$ns" link set eth0 up || return 1
	_tb_do ip -n "$(tb_ns air)" link set mnport master br-fa1 up || return 1
}

tb_up() {
	local n
	_tb_require_root || return 1
	for n in "${TB_NODES[@]}"; do
		if _tb_exists "$(tb_ns "$n")"; then
			_tb_err "namespace $(tb_ns "$n") exists: testbed '$(_tb_prefix)' is up (tb_down first)"
			return 1
		fi
	done
	if ! _tb_up_body; then
		_tb_err "tb_up failed, rolling back"
		tb_down || true
		return 1
	fi
}

tb_down() {
	local names=() ns pids=() p tries rc=0
	_tb_require_root || return 1
	mapfile -t names < <(_tb_list_ns)
	[[ ${#names[@]} -gt 0 ]] || return 0

	tb_stop_daemons || _tb_err "tb_stop_daemons failed (ignored)"

	# TERM everything still running inside, wait up to 2 s, then KILL.
	for tries in $(seq 20); do
		pids=()
		for ns in "${names[@]}"; do
			while read -r p; do
				[[ -n $p && $p != "$$" && $p != "$BASHPID" ]] && pids+=("$p")
			done < <(ip netns pids "$ns" 2>/dev/null)
		done
		[[ ${#pids[@]} -gt 0 ]] || break
		if [[ $tries -eq 1 ]]; then
			kill -TERM "${pids[@]}" 2>/dev/null || true
		elif [[ $tries -eq 20 ]]; then
			_tb_err "killing stubborn processes: ${pids[*]}"
			kill -KILL "${pids[@]}" 2>/dev/null || true
		fi
		sleep 0.1
	done

	for ns in "${names[@]}"; do
		if ! ip netns del "$ns"; then
			_tb_err "ip netns del $ns failed"
			rc=1
		fi
	done
	return "$rc"
}

tb_where() {
	local out
	out=$(ip -n "$(tb_ns air)" -o link show dev mnport 2>/dev/null) || out=
	if [[ $out =~ " master br-"(fa[0-9]+)" " ]]; then
		printf '%s\n' "${BASH_REMATCH[1]}"
		return 0
	fi
	_tb_err "mnport is in no FA's cell (is testbed '$(_tb_prefix)' up?)"
	return 1
}

# tb_move FA: hand-over of the MN's link.  In the air namespace, mnport goes
# down (MN: carrier loss), leaves the current FA's bridge, joins FA's
# bridge and comes up (MN: carrier back).  Moving to the current FA flaps
# the link in place.  The steps are three netlink requests from one
# process (tools/mipsa-linkmove) on links that stay in their namespace;
# moving mnport between namespaces, as the testbed once did, took the
# kernel 10-35 ms, and three `ip` processes more, which hid the protocol's
# share of a hand-over gap.  Prints the timing; appends "<start_us>
# <end_us> <from> <to>" (CLOCK_REALTIME, around the requests) to
# $TB_MOVES_FILE if that is set.
tb_move() {
	local to=${1:-} from times start end d air
	if ! _tb_is_fa "$to"; then
		_tb_err "usage: tb_move fa1|fa2|fa3"
		return 1
	fi
	from=$(tb_where) || return 1
	air="$TB_NETNS_DIR/$(tb_ns air)"
	times=$(_tb_do "${MIPSA_BIN:-$TB_DIR/..}/tools/mipsa-linkmove" --dev mnport --netns "$air" \
		--master "br-$to" --peer-netns "$TB_NETNS_DIR/$(tb_ns mn)" --peer eth0) || return 1
	read -r start end <<<"$times"
	d=$((end - start))
	printf 'tb_move: %s -> %s start_us=%s end_us=%s took %d.%03d ms\n' \
		"$from" "$to" "$start" "$end" $((d / 1000)) $((d % 1000))
	if [[ -n ${TB_MOVES_FILE:-} ]]; then
		printf '%s %s %s %s\n' "$start" "$end" "$from" "$to" >>"$TB_MOVES_FILE" || return 1
	fi
}

_TB_CLEANUP_HOOK=
_TB_CLEANED=0

_tb_cleanup_run() {
	[[ $_TB_CLEANED -eq 0 ]] || return 0
	_TB_CLEANED=1
	if [[ -n $_TB_CLEANUP_HOOK ]]; then
		"$_TB_CLEANUP_HOOK" || _tb_err "cleanup hook $_TB_CLEANUP_HOOK failed (ignored)"
	fi
	tb_down || _tb_err "tb_down failed during cleanup"
}

_tb_cleanup_exit() {
	local rc=$?
	set +e
	_tb_cleanup_run
	# TB_RM_RUN=1 (the tests): a run that passed leaves no files; a failed one keeps its logs
	if [[ $rc -eq 0 && ${TB_RM_RUN:-0} == 1 && ${TB_RUN:-} == /tmp/?*-run ]]; then
		rm -rf "$TB_RUN"
	fi
	exit "$rc"
}

_tb_cleanup_signal() {
	trap - EXIT INT TERM HUP
	set +e
	_tb_err "caught SIG$1, cleaning up"
	_tb_cleanup_run
	exit "$2"
}

tb_trap_cleanup() {
	_TB_CLEANUP_HOOK=${1:-}
	_TB_CLEANED=0
	trap _tb_cleanup_exit EXIT
	trap '_tb_cleanup_signal INT 130' INT
	trap '_tb_cleanup_signal TERM 143' TERM
	trap '_tb_cleanup_signal HUP 129' HUP
}

# shellcheck source-path=SCRIPTDIR source=impair.sh
source "$TB_DIR/impair.sh"
