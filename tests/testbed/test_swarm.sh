#!/usr/bin/env bash
#
# A swarm of 100 mobile nodes (tools/mipsa-swarm through testbed/swarm.sh)
# in domain A with full SA reuse: for 10 s each node hands over between
# fa1 and fa2 every 3 s and pings the correspondent through ESP.  Checks:
# every node registered at the end, no registration failed, no IPsec SA
# lost, hand-overs answered with full reuse, no (SPI, sequence number) pair
# sent twice by either side, echo replies back through ESP, and the FAs'
# own counters (registrations accepted, full reuses, ESP in and out) agree
# with the swarm's count.  Figures (rates, FA memory) are printed, never
# checked.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=require.sh
source "$here/require.sh"
need_root
need_cmd jq
export TB_PREFIX=${TB_PREFIX:-sw$$}
# the testbed's run directory, for swarm.sh: ours to remove once the test passed
export TB_RUN=/tmp/$TB_PREFIX-run

fail() {
	echo "FAIL: test_swarm: $*" >&2
	exit 1
}

out=$(mktemp -d /tmp/test-swarm.XXXXXX)
passed=0
cleanup() {
	rm -rf "$out"
	if ((passed)); then rm -rf "$TB_RUN"; fi
}
trap cleanup EXIT
rc=0
# -r 3000: a registration retransmitted during a hand-over can be answered
# without the reuse status (doc/testbed.md, "A swarm of mobile nodes"); on a
# loaded machine a round trip may pass 1 s
"$top/testbed/swarm.sh" -n 100 -d 10 -m 3000 -r 3000 -M reuse --out "$out" >"$out/stdout" || rc=$?
cat "$out/stdout"
res=$(grep '^RESULT' "$out/stdout") || fail "no RESULT line (status $rc)"
sw=$(grep '^SWARM' "$out/stdout") || fail "no SWARM line (status $rc)"
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }
[[ $(field registered "$res") -eq 100 ]] || fail "not every node registered at the end"
for k in reg_failed sa_lost dup_sent dup_received sa_refused sa_partial send_errors; do
	[[ $(field "$k" "$res") -eq 0 ]] || fail "$k=$(field "$k" "$res")"
done
[[ $(field moves "$res") -gt 0 && $(field sa_reused "$res") -gt 0 ]] || fail "no hand-over with full reuse"
[[ $(field sa_reused "$res") -eq $(($(field reg_ok "$res") - 100)) ]] ||
	fail "not every hand-over reused the SAs"
[[ $(field pings_answered "$res") -gt 0 ]] || fail "no echo reply came back through ESP"
[[ $(field counters_consistent "$sw") == yes ]] || fail "the FAs' counters disagree: $sw"
[[ $rc -eq 0 ]] || fail "testbed/swarm.sh exited $rc"
passed=1
echo "PASS: test_swarm"
