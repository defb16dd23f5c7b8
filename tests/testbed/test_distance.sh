#!/usr/bin/env bash
#
# The home agent's distance (testbed/impair.sh tb_distance, tools/mipsa-delay):
#
#  - the tool refuses a bad command line (exit 2);
#  - with the distance on, an FA's round trip to the home agent takes at
#    least twice the delay, and the tool counts each packet of it delayed,
#    none early; the CN's and the store's round trips, which must stay near,
#    stay under the one-way delay;
#  - a tool holding at most one packet lets the rest of a burst through
#    early and counts them;
#  - with the tool killed and its rules left, packets pass (the rules say
#    "bypass"; the queue is fail-open): a dead tool is no outage;
#  - a second tb_distance while the tool runs is refused;
#  - tb_distance_clear removes the rules and stops the tool, and the round
#    trip is near again.
#
# The delay is 50 ms one way, so that the near paths' bound (their fastest
# of five pings under 50 ms, where they take a tenth of a millisecond)
# holds on a loaded machine; the lower bounds cannot fail for slowness.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=require.sh
source "$here/require.sh"
need_root
need_cmd iptables "iptables: scripts/deps"
need_cmd ping "iputils-ping: scripts/deps"
export TB_PREFIX=${TB_PREFIX:-dt$$}
# shellcheck source-path=SCRIPTDIR source=../../testbed/lib.sh
source "$top/testbed/lib.sh"
# the build tb_distance runs (scripts/sanitize points MIPSA_BIN at its own)
delay=${MIPSA_BIN:-$top}/tools/mipsa-delay
[[ -x $delay ]] || {
	echo "FAIL: tools/mipsa-delay not built (libnetfilter-queue-dev)" >&2
	exit 1
}
tb_trap_cleanup tb_distance_clear

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

DELAY_US=50000

# min_rtt_us NODE ADDR [COUNT [INTERVAL]]: the fastest of COUNT pings, in us
min_rtt_us() {
	tb_exec "$1" ping -q -n -c "${3:-5}" -i "${4:-0.1}" -W 2 "$2" |
		awk -F'[/ ]' '/^rtt/ { printf "%d\n", $7 * 1000 }'
}

# counter NAME: that field of the tool's counters now
counter() {
	tb_distance_stats | tr ' ' '\n' | awk -F= -v k="$1" '$1 == k { print $2 }'
}

echo "--- the command line"
for args in "" "--queue 8" "--delay-us 100" "--queue 8 --delay-us 0" \
	"--queue 8 --delay-us 10000001" "--queue 8 --delay-us 5x" "--queue 8 --delay-us 10 --max-held 0" \
	"--queue 8 --delay-us 10 --max-held 4097" "--queue 8 --delay-us 10 extra"; do
	rc=0
	# shellcheck disable=SC2086 # the words of each case
	# (bounded: a line wrongly taken would bind queue 8 here and wait for packets)
	timeout 5 "$delay" $args 2>/dev/null || rc=$?
	((rc == 2)) || fail "mipsa-delay $args: status $rc, not 2"
done
echo "ok   - nine bad command lines refused with status 2"

tb_up >/dev/null
near=$(min_rtt_us fa1 "$TB_HA_LINK_ADDR")
echo "    fa1 -> ha before: ${near} us"

echo "--- the home agent $((DELAY_US / 1000)) ms from the FAs"
tb_distance "$DELAY_US"
for fa in fa1 fa2; do
	rtt=$(min_rtt_us "$fa" "$TB_HA_LINK_ADDR")
	((rtt >= 2 * DELAY_US)) || fail "$fa -> ha: ${rtt} us, not delayed twice by $DELAY_US us"
	echo "ok   - $fa -> ha ${rtt} us (at least $((2 * DELAY_US)))"
done
# ten pings, two packets each, all through the queue, none early
delayed=$(counter delayed) early=$(counter early)
((delayed == 20)) || fail "the tool delayed $delayed packets, not the 20 of ten pings: $(tb_distance_stats)"
((early == 0)) || fail "the tool let $early packets through early: $(tb_distance_stats)"
echo "ok   - $(tb_distance_stats)"
for path in "cn $TB_HA_LINK_ADDR" "fa1 $TB_DBS_ADDR" "fa1 $TB_FA2_COA"; do
	read -r node addr <<<"$path"
	rtt=$(min_rtt_us "$node" "$addr")
	((rtt < DELAY_US)) || fail "$node -> $addr: ${rtt} us, delayed though not between the home agent and an FA"
	echo "ok   - $node -> $addr stays near: ${rtt} us"
done
(($(counter delayed) == 20)) || fail "the near paths went through the delay: $(tb_distance_stats)"
! tb_distance "$DELAY_US" 2>/dev/null || fail "a second tb_distance was taken while the first runs"
echo "ok   - a second tb_distance refused while the first runs"
tb_distance_clear >/dev/null

echo "--- a full tool lets packets through early, counted"
tb_distance "$DELAY_US" 1
grep -q "max_held=1" "$(_tb_impair_dir)/delay.log" || fail "mipsa-delay did not take --max-held 1"
# twenty requests 10 ms apart: four or five wait in the tool at any time
min_rtt_us fa1 "$TB_HA_LINK_ADDR" 20 0.01 >/dev/null
early=$(counter early)
((early > 0)) || fail "a tool that holds one packet let none through early: $(tb_distance_stats)"
echo "ok   - $(tb_distance_stats)"

echo "--- the tool killed, its rules left: packets pass"
pid=$(cat "$(_tb_impair_dir)/delay.pid")
# (the shell's "Killed" notice for its own job silenced with the wait)
{
	kill -KILL "$pid"
	wait "$pid" || true
} 2>/dev/null
tb_exec core iptables -w -t mangle -S FORWARD | grep -q NFQUEUE || fail "the rules went with the tool"
rtt=$(min_rtt_us fa1 "$TB_HA_LINK_ADDR") || fail "fa1 -> ha lost with the tool dead"
((rtt < DELAY_US)) || fail "fa1 -> ha ${rtt} us with the tool dead"
echo "ok   - fa1 -> ha ${rtt} us with the tool dead"

echo "--- cleared"
tb_distance "$DELAY_US"
pid=$(cat "$(_tb_impair_dir)/delay.pid")
tb_distance_clear >/dev/null
! tb_exec core iptables -w -t mangle -S FORWARD | grep -q NFQUEUE || fail "queue rules left after tb_distance_clear"
[[ ! -e $(_tb_impair_dir)/delay.pid ]] || fail "tb_distance_clear left the tool's pid file"
! kill -0 "$pid" 2>/dev/null || fail "tb_distance_clear left the tool running (pid $pid)"
rtt=$(min_rtt_us fa1 "$TB_HA_LINK_ADDR")
((rtt < DELAY_US)) || fail "fa1 -> ha ${rtt} us after clearing"
echo "ok   - fa1 -> ha ${rtt} us again"
echo "test_distance: ok"
