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
source "$here/helpers.sh"
tb_trap_cleanup
count() { pcap_count "$cap" "$1"; }

tb_up
mkdir -p "$TB_RUN"
cap="$TB_RUN/mip.pcapng"
capture fa1 "$cap" "udp port 434 or icmp" acc0 up0
tb_start_daemons
tb_wait_registered fa1 10 || fail "no registration"
tb_move fa2 >/dev/null
tb_wait_registered fa2 10 || fail "no registration through fa2"
tb_move fa1 >/dev/null
tb_wait_registered fa1 10 || fail "no registration back through fa1"
# one periodic advertisement, not only the answers to solicitations
adverts=$(count "icmp.type == 9")
within "a periodic advertisement captured" 10 pcap_has "$cap" "icmp.type == 9" $((adverts + 1))
_tb_stop mn # deregistration
jqa_within 5 ha bindings '.bindings | length == 0'
# the home agent's reply, on the uplink and relayed on the access link
within "the deregistration reply captured twice" 5 pcap_has "$cap" "mip.type == 3 && mip.life == 0" 2
capture_stop fa1 "$cap"

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
