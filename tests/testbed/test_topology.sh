#!/usr/bin/env bash
# tests/testbed/test_topology.sh -- the namespace testbed (testbed/lib.sh): build,
# reachability, settings, hand-over mechanics, clean-up on exit and on signals.
# Needs root.  Exit 0 pass, 1 fail, 77 skip (not root; a failure under CI).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../../testbed/lib.sh
source "$top/testbed/lib.sh"
# shellcheck source=require.sh
source "$here/require.sh"
need_root
command -v ping >/dev/null || {
	echo "FAIL: ping not found (apt-get install iputils-ping)"
	exit 1
}

export TB_PREFIX=${TB_PREFIX:-mipsa-tt$$}
tmp=$(mktemp -d /tmp/mipsa-test-topology.XXXXXX)
mon_pid=
cleanup() {
	if [[ -n $mon_pid ]]; then
		kill "$mon_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
tb_trap_cleanup cleanup

fails=0
check() {
	local what=$1
	shift
	if "$@"; then
		echo "ok   - $what"
	else
		echo "FAIL - $what"
		fails=$((fails + 1))
	fi
}
ping_from() { # ping_from NODE ADDR
	tb_exec "$1" ping -q -c 1 -W 2 "$2" >/dev/null
}
sysctl_is() { # sysctl_is NODE KEY VALUE
	[[ $(tb_exec "$1" sysctl -n "$2") == "$3" ]]
}
root_links() {
	ip -o link show | awk -F': ' '{ print $2 }' | sort
}
neigh_mac() { # MAC the MN has cached for ADDR
	tb_exec mn ip neigh show "$1" dev eth0 | awk '{ for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1) }'
}
out_has() { # out_has PATTERN CMD...: CMD's output matches PATTERN (no SIGPIPE race)
	local pat=$1 out
	shift
	out=$("$@" 2>/dev/null) || return 1
	grep -q -- "$pat" <<<"$out"
}
# ns_busy NS: a process runs in the namespace NS
ns_busy() {
	[[ -n $(ip netns pids "$1" 2>/dev/null) ]]
}
# mon_ready: a change of the MN's lo made now (a new alias, which the monitor
# reports without printing it) shows in the link monitor's output
mon_n=0
mon_ready() {
	mon_n=$((mon_n + 1))
	tb_exec mn ip link set dev lo alias "tt-mon-$mon_n"
	grep -q ' lo: ' "$tmp/monitor"
}
# carrier_seen N: the monitor has seen the MN's eth0 lose and regain its carrier N times
carrier_seen() {
	(($(grep -c 'eth0.*NO-CARRIER' "$tmp/monitor" || true) >= $1)) &&
		(($(grep -c 'eth0.*LOWER_UP' "$tmp/monitor" || true) >= $1))
}
no_ns_left() { # no_ns_left PREFIX
	local out
	out=$(ip netns list)
	! grep -q "^$1-" <<<"$out"
}
not() { # not CMD...: CMD fails (its stderr hidden)
	! "$@" 2>/dev/null
}
rp_filter_off() { # rp_filter_off NODE IFACE
	sysctl_is "$1" net.ipv4.conf.all.rp_filter 0 &&
		sysctl_is "$1" "net.ipv4.conf.$2.rp_filter" 0
}
acc0_is() { # acc0_is FA ADDR MAC
	out_has "inet $2/24" tb_exec "$1" ip -o addr show dev acc0 &&
		out_has "link/ether $3" tb_exec "$1" ip -o link show dev acc0
}
moves_file_ok() { # 4 lines "<start_us> <end_us> <from> <to>" in the expected order
	awk '{ if ($1 > $2 || $1 !~ /^[0-9]+$/ || $2 !~ /^[0-9]+$/) bad = 1; p = p $3 ">" $4 " " }
	     END { exit bad || p != "fa1>fa2 fa2>fa3 fa3>fa3 fa3>fa1 " }' "$1"
}
in_cell_of() { # in_cell_of FA: mnport is a port of FA's bridge in the air
	out_has "master br-$1 " ip -n "$(tb_ns air)" -o link show dev mnport
}
mn_addr() { # give the MN a test address on its access link (not part of the testbed)
	tb_exec mn ip addr flush dev eth0
	tb_exec mn ip addr add "$1" dev eth0
}

links_before=$(root_links)

t0=${EPOCHREALTIME//[!0-9]/}
tb_up
t1=${EPOCHREALTIME//[!0-9]/}
echo "tb_up took $(((t1 - t0) / 1000)) ms"

# ---- structure ---------------------------------------------------------------
for n in "${TB_NODES[@]}"; do
	check "namespace $(tb_ns "$n") exists" test -e "$TB_NETNS_DIR/$(tb_ns "$n")"
done
check "root namespace links unchanged" test "$(root_links)" = "$links_before"
check "tb_up refuses a second time" not tb_up
check "tb_where = fa1" test "$(tb_where)" = fa1

# ---- reachability ----------------------------------------------------------
check "ping cn -> fa1 CoA $TB_FA1_COA" ping_from cn "$TB_FA1_COA"
check "ping fa1 -> HA $TB_HA_ADDR" ping_from fa1 "$TB_HA_ADDR"
check "ping cn -> dbs $TB_DBS_ADDR" ping_from cn "$TB_DBS_ADDR"
check "ping cn -> fa2 CoA $TB_FA2_COA" ping_from cn "$TB_FA2_COA"
check "ping fa3 -> HA $TB_HA_ADDR" ping_from fa3 "$TB_HA_ADDR"
check "ping ha -> cn $TB_CN_ADDR" ping_from ha "$TB_CN_ADDR"

# ---- settings --------------------------------------------------------------
for n in "${TB_NODES[@]}"; do
	check "$n: IPv6 disabled" sysctl_is "$n" net.ipv6.conf.all.disable_ipv6 1
	check "$n: no IPv6 address" test -z "$(tb_exec "$n" ip -6 addr show)"
done
for n in core ha fa1 fa2 fa3; do
	check "$n: ip_forward=1" sysctl_is "$n" net.ipv4.ip_forward 1
done
for n in fa1 fa2 fa3; do
	check "$n: rp_filter all=0 acc0=0" rp_filter_off "$n" acc0
done
check "mn: rp_filter all=0 eth0=0" rp_filter_off mn eth0
check "mn: eth0 has no address" test -z "$(tb_exec mn ip -4 -o addr show dev eth0)"
for n in fa1 fa2; do
	check "$n: acc0 $TB_ALIAS_A/24 $TB_MAC_A" acc0_is "$n" "$TB_ALIAS_A" "$TB_MAC_A"
done
check "fa3: acc0 $TB_ALIAS_B/24 $TB_MAC_B" acc0_is fa3 "$TB_ALIAS_B" "$TB_MAC_B"
check "core: route to home net via ha" \
	out_has "via $TB_HA_LINK_ADDR" tb_exec core ip route show "$TB_HOME_NET"

# ---- hand-over mechanics ------------------------------------------------------
export TB_MOVES_FILE=$tmp/moves
ip -n "$(tb_ns mn)" -o monitor link >"$tmp/monitor" 2>&1 &
mon_pid=$!
# listening once it reports a change
tb_poll 10 mon_ready || {
	echo "FAIL: ip monitor link in mn reports nothing"
	exit 1
}

mn_addr 198.19.0.10/24
check "mn@fa1 reaches alias $TB_ALIAS_A" ping_from mn "$TB_ALIAS_A"
check "mn caches alias MAC $TB_MAC_A" test "$(neigh_mac "$TB_ALIAS_A")" = "$TB_MAC_A"

tb_move fa2
check "tb_where = fa2" test "$(tb_where)" = fa2
check "mnport is in fa2's cell" in_cell_of fa2
check "mnport left fa1's cell" not in_cell_of fa1
check "fa1 no longer reaches the mn" not ping_from fa1 198.19.0.10
check "mn eth0 has carrier" out_has LOWER_UP tb_exec mn ip -o link show dev eth0
check "mn@fa2 reaches alias $TB_ALIAS_A (same MAC, no new ARP)" ping_from mn "$TB_ALIAS_A"

tb_move fa3
mn_addr 198.19.1.10/24
check "tb_where = fa3" test "$(tb_where)" = fa3
check "mn@fa3 reaches alias $TB_ALIAS_B" ping_from mn "$TB_ALIAS_B"
check "mn caches alias MAC $TB_MAC_B" test "$(neigh_mac "$TB_ALIAS_B")" = "$TB_MAC_B"

tb_move fa3 # flap in place
check "flap: tb_where = fa3" test "$(tb_where)" = fa3
check "flap: still in fa3's cell" in_cell_of fa3

tb_move fa1
mn_addr 198.19.0.10/24
check "back at fa1" test "$(tb_where)" = fa1
check "mn@fa1 reaches alias $TB_ALIAS_A again" ping_from mn "$TB_ALIAS_A"
check "tb_move rejects a bad target" not tb_move fa9

# the monitor has caught up with the last move (the checks below say what is missing)
tb_poll 5 carrier_seen 4 || true
kill "$mon_pid"
wait "$mon_pid" 2>/dev/null || true
mon_pid=
ncarrier_loss=$(grep -c 'eth0.*NO-CARRIER' "$tmp/monitor" || true)
ncarrier_up=$(grep -c 'eth0.*LOWER_UP' "$tmp/monitor" || true)
check "mn saw carrier loss on every move ($ncarrier_loss >= 4)" test "$ncarrier_loss" -ge 4
check "mn saw carrier return on every move ($ncarrier_up >= 4)" test "$ncarrier_up" -ge 4

check "moves file has 4 lines" test "$(wc -l <"$TB_MOVES_FILE")" -eq 4
check "moves file: start <= end, hops fa1 fa2 fa3 fa3 fa1" moves_file_ok "$TB_MOVES_FILE"
awk '{ d = ($2 - $1) / 1000; s += d; if (d > w) w = d; printf "move %s -> %s: %.3f ms\n", $3, $4, d }
	END { printf "move duration: mean %.3f ms, worst %.3f ms\n", s / NR, w }' "$TB_MOVES_FILE"

# ---- teardown --------------------------------------------------------------
tb_exec cn sleep 300 &
sleeper=$!
tb_poll 10 ns_busy "$(tb_ns cn)" || echo "warning: the sleeper in cn did not start within 10 s"
t0=${EPOCHREALTIME//[!0-9]/}
tb_down
t1=${EPOCHREALTIME//[!0-9]/}
echo "tb_down took $(((t1 - t0) / 1000)) ms"
rc=0
wait "$sleeper" 2>/dev/null || rc=$?
check "tb_down killed the process inside cn (status $rc)" test "$rc" -ne 0
check "no namespace with prefix $TB_PREFIX left" no_ns_left "$TB_PREFIX"
check "tb_down is idempotent" tb_down
check "root namespace links unchanged after tb_down" test "$(root_links)" = "$links_before"

# ---- clean-up on signals: a child script traps, builds, gets SIGTERM / SIGHUP --
for sig in TERM HUP; do
	child_prefix=${TB_PREFIX}ts$sig
	TB_PREFIX=$child_prefix bash -c '
		set -euo pipefail
		source "$1/testbed/lib.sh"
		tb_trap_cleanup
		tb_up
		touch "$2"
		tb_exec cn sleep 300 &
		wait' _ "$top" "$tmp/ready$sig" &
	child=$!
	# the child has built its testbed (tb_up: 4 to 10 s on a loaded
	# machine) and started a process inside it
	tb_poll 60 test -e "$tmp/ready$sig" || echo "warning: the child's tb_up took over 60 s"
	tb_poll 10 ns_busy "$(TB_PREFIX=$child_prefix tb_ns cn)" ||
		echo "warning: the child's sleeper did not start within 10 s"
	kill -"$sig" "$child"
	rc=0
	wait "$child" || rc=$?
	want=$((128 + $(kill -l "$sig")))
	check "SIG$sig: child exits $rc (want $want)" test "$rc" -eq "$want"
	check "SIG$sig: child's namespaces removed" no_ns_left "$child_prefix"
	TB_PREFIX=$child_prefix tb_down # in case the check failed
done

if [[ $fails -ne 0 ]]; then
	echo "test_topology: $fails check(s) failed"
	exit 1
fi
echo "test_topology: PASS"
