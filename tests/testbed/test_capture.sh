#!/usr/bin/env bash
#
# tshark decodes a capture of the registration and advertisement traffic
# (fa1's access link and its uplink) with no malformed packet, no expert
# error, and no field it does not know.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=require.sh
source "$here/require.sh"
need_root
need_cmd tshark "scripts/deps"
export TB_PREFIX=${TB_PREFIX:-mc$$}
source "$top/testbed/lib.sh"
source "$top/testbed/daemons.sh"
tb_trap_cleanup
fail() { echo "FAIL: $*" >&2; exit 1; }

tb_up
mkdir -p "$TB_RUN"
cap="$TB_RUN/mip.pcapng"
# ip netns exec execs tshark, so $! is tshark itself
ip netns exec "$(tb_ns fa1)" tshark -i acc0 -i up0 -f "udp port 434 or icmp" -w "$cap" -q \
	2>/dev/null &
cap_pid=$!
for _ in $(seq 50); do [[ -s $cap ]] && break; sleep 0.1; done
sleep 0.5
tb_start_daemons
tb_wait_registered fa1 10 || fail "no registration"
tb_move fa2 >/dev/null
tb_wait_registered fa2 10 || fail "no registration through fa2"
tb_move fa1 >/dev/null
tb_wait_registered fa1 10 || fail "no registration back through fa1"
sleep 1.2 # one periodic advertisement
_tb_stop mn # deregistration
sleep 0.5
kill -TERM "$cap_pid"
wait "$cap_pid" || true

count() { tshark -r "$cap" -Y "$1" 2>/dev/null | wc -l; }
total=$(count frame)
requests=$(count "mip.type == 1")
replies=$(count "mip.type == 3")
adverts=$(count "icmp.type == 9 && mip.type")
adverts_any=$(count "icmp.type == 9")
sols=$(count "icmp.type == 10")
echo "captured $total packets: $requests requests, $replies replies, $adverts_any advertisements, $sols solicitations"
[[ $requests -ge 6 && $replies -ge 6 ]] || fail "expected >= 6 requests and replies"
[[ $adverts_any -ge 2 && $sols -ge 2 ]] || fail "expected advertisements and solicitations"
[[ $(count "_ws.malformed") -eq 0 ]] || fail "malformed packets: $(tshark -r "$cap" -Y _ws.malformed)"
[[ $(count "_ws.expert.severity >= error") -eq 0 ]] ||
	fail "expert errors: $(tshark -r "$cap" -Y '_ws.expert.severity >= error')"
# every packet is one tshark understands down to the last byte
unknown=$(tshark -r "$cap" -V 2>/dev/null | grep -i -E "unknown|undecoded|trailing" || true)
[[ -z $unknown ]] || fail "fields tshark does not know: $unknown"
# the advertisement carries the mobility agent extension with our care-of address
# (grep -c reads to the end: grep -q would close the pipe under tshark and, with
# pipefail, fail the pipeline when tshark still had output to write)
[[ $(tshark -r "$cap" -Y "icmp.type == 9" -V 2>/dev/null | grep -c "Care-Of-Address: $TB_FA1_COA") \
	-ge 1 ]] || fail "advertisement without fa1's care-of address"
echo "test_capture: ok"
