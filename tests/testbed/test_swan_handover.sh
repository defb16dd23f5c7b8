#!/usr/bin/env bash
#
# The swan mode of testbed/rounds.sh (testbed/swan.sh): strongSwan's charon
# on the MN and on domain A's FAs, over plain Mobile IP, renegotiating at
# every hand-over.  Three hand-overs fa1 -> fa2 -> fa1 -> fa2 under probe
# streams both ways; then:
#   * each move renegotiated: one carrier-up in the MN's hook and one new
#     CHILD_SA in the MN's charon per move, Main Mode and Quick Mode on
#     fa2's access link for each of its two visits, and the MN's and fa2's
#     charon each list one established IKE SA with its CHILD_SA;
#   * the probe traffic went through charon's ESP on the access link both
#     ways: ESP in UDP 4500 between the alias and the home address on fa2's
#     access link, not one probe datagram in clear there, before or after
#     the SA was up, and mipsa-fa delivered and reverse-tunnelled it;
#   * the streams arrive after the last move, both ways.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=require.sh
source "$here/require.sh"
need_root
need_charon
need_cmd tshark "scripts/deps"
export TB_PREFIX=${TB_PREFIX:-sh$$}
source "$top/testbed/lib.sh"
source "$top/testbed/daemons.sh"
source "$here/helpers.sh"
source "$top/testbed/measure.sh"
source "$top/testbed/charon.sh"
source "$top/testbed/swan.sh"

probes=()
stop_all() {
	local p
	for p in "${probes[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	tb_swan_stop
}
tb_trap_cleanup stop_all

echo "--- charon on the MN and on fa1, fa2 over plain Mobile IP"
tb_up >/dev/null
tb_swan_start || fail "swan mode did not start"
pings

# probe streams both ways, 2 ms apart
probe=$TB_BIN/tools/mipsa-probe port=9000
in=$TB_RUN/swan-cn2mn.txt out=$TB_RUN/swan-mn2cn.txt
rm -f "$in" "$out"
ip netns exec "$(tb_ns mn)" "$probe" recv --port "$port" --out "$in" --duration-s 120 \
	>/dev/null 2>&1 &
probes+=($!)
ip netns exec "$(tb_ns cn)" "$probe" recv --port "$port" --out "$out" --duration-s 120 \
	>/dev/null 2>&1 &
probes+=($!)
for f in "$in" "$out"; do
	_tb_probe_until "$f" -1 || fail "probe receiver $f"
done
ip netns exec "$(tb_ns cn)" "$probe" send --to "$TB_MN_HOME" --port "$port" --interval-us 2000 \
	--duration-s 120 >/dev/null 2>&1 &
probes+=($!)
ip netns exec "$(tb_ns mn)" "$probe" send --to "$TB_CN_ADDR" --port "$port" --interval-us 2000 \
	--duration-s 120 >/dev/null 2>&1 &
probes+=($!)
for f in "$in" "$out"; do
	_tb_probe_until "$f" 0 || fail "no probe traffic through charon ($f)"
done

pcap=$TB_RUN/swan-fa2.pcap
capture fa2 "$pcap" "udp port 500 or udp port 4500 or udp port $port"
hooks_before=$(grep -c "carrier up" "$TB_RUN/swan-hook.out" || true)
children_before=$(_tb_swan_children)
delivered_before=$(jqv fa2 counters '.counters.delivered_packets')
reverse_before=$(jqv fa2 counters '.counters.reverse_tunnelled_packets')
moves=(fa2 fa1 fa2)
for to in "${moves[@]}"; do
	echo "--- hand-over to $to"
	tb_move "$to" >/dev/null
	tb_wait_registered "$to" 10 || fail "no registration through $to"
	tb_swan_wait_sa 10 || fail "no new CHILD_SA after the move to $to"
done
# probe datagrams sent after the last SA came up, both ways
sa_up=$(date +%s%6N)
_tb_probe_until "$in" "$sa_up" || fail "CN -> MN: nothing after the last renegotiation"
_tb_probe_until "$out" "$sa_up" || fail "MN -> CN: nothing after the last renegotiation"
capture_stop fa2 "$pcap"

echo "--- one renegotiation per move"
hooks=$(($(grep -c "carrier up" "$TB_RUN/swan-hook.out") - hooks_before))
children=$(($(_tb_swan_children) - children_before))
[[ $hooks -eq ${#moves[@]} ]] || fail "the MN's hook ran $hooks times for ${#moves[@]} moves"
[[ $children -eq ${#moves[@]} ]] || fail "$children new CHILD_SAs on the MN for ${#moves[@]} moves"
# fa2 was visited twice: Main Mode (exchange 2) and Quick Mode (32) each time
mm=$(pcap_count "$pcap" "isakmp.exchangetype == 2")
qm=$(pcap_count "$pcap" "isakmp.exchangetype == 32")
((mm >= 12 && qm >= 6)) || fail "fa2's link: $mm Main Mode and $qm Quick Mode messages, want 12 and 6"
echo "  $hooks link-up hooks, $children CHILD_SAs; on fa2's link $mm MM, $qm QM messages"
for n in mn fa2; do
	sas=$(tb_swanctl "$n" --list-sas 2>/dev/null)
	grep -q "ESTABLISHED, IKEv1" <<<"$sas" || fail "$n's charon: no IKE SA: $sas"
	grep -q "INSTALLED, TUNNEL-in-UDP" <<<"$sas" || fail "$n's charon: no CHILD_SA: $sas"
	[[ $(grep -c "ESTABLISHED" <<<"$sas") -eq 1 ]] || fail "$n's charon: stale IKE SAs: $sas"
done

echo "--- the probes crossed fa2's access link in charon's ESP only"
esp_in=$(pcap_count "$pcap" "esp && udp.port == 4500 && ip.src == $TB_ALIAS_A && ip.dst == $TB_MN_HOME")
esp_out=$(pcap_count "$pcap" "esp && udp.port == 4500 && ip.src == $TB_MN_HOME && ip.dst == $TB_ALIAS_A")
plain=$(pcap_count "$pcap" "udp.port == $port")
echo "  ESP in UDP 4500: $esp_in to the MN, $esp_out from it; probe datagrams in clear: $plain"
((esp_in >= 50 && esp_out >= 50)) || fail "too little ESP on fa2's link: $esp_in in, $esp_out out"
[[ $plain -eq 0 ]] || fail "$plain probe datagrams in clear on fa2's access link"
# and Mobile IP carried them: delivered by route, reverse-tunnelled
jqa fa2 counters ".counters.delivered_packets > $delivered_before"
jqa fa2 counters ".counters.reverse_tunnelled_packets > $reverse_before"
echo "test_swan_handover: ok"
