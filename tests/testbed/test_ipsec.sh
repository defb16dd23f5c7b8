#!/usr/bin/env bash
#
# IKEv1 and ESP between the mobile node and the foreign agents in the
# testbed, for each ESP algorithm and both encapsulations:
#  - at first attach the MN negotiates Main Mode + Quick Mode with the alias,
#    then registers under ESP: no registration crosses the access link in
#    the clear;
#  - CN <-> MN traffic flows through the SAs;
#  - a hand-over to fa2 renegotiates (no SA reuse here) and traffic resumes;
#  - the keys mipsactl exports let tshark decrypt the capture (IKE and ESP)
#    and find the inner packets, with nothing malformed;
#  - cleartext from a node that has SAs is dropped and counted;
#  - a forged ESP packet (replayed) is dropped and counted;
#  - IKE to an FA's care-of address (from the core or the access link), or
#    to ports 500/4500 from off the access link, is dropped, counted
#    (ike_drop_not_alias) and logged: the sockets listen on every address,
#    but IKE is served on the alias, to senders on the access link;
#  - the FA's and the MN's counters show each socket's kernel drops.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=require.sh
source "$here/require.sh"
need_root
export TB_PREFIX=${TB_PREFIX:-mi$$} TB_IPSEC=1
source "$top/testbed/lib.sh"
source "$top/testbed/daemons.sh"
source "$here/helpers.sh"
tb_trap_cleanup

# decrypt CAPTURE with the keys NODE exports; prints tshark's one-line summary
decrypt() {
	local node=$1 cap=$2 home
	home="$TB_RUN/home-$node"
	mkdir -p "$home/.config/wireshark"
	tb_ctl "$node" keys esp >"$home/.config/wireshark/esp_sa"
	tb_ctl "$node" keys ikev1 >"$home/.config/wireshark/ikev1_decryption_table"
	HOME=$home tshark -r "$cap" -o esp.enable_encryption_decode:TRUE "${@:3}" 2>/dev/null
}

run_case() {
	local esp=$1 encap=$2 cap
	echo "--- ESP $esp, UDP encapsulation $encap"
	export TB_ESP_PROPOSAL=$esp TB_UDP_ENCAP=$encap
	tb_up
	mkdir -p "$TB_RUN"
	cap="$TB_RUN/acc-$esp.pcapng"
	capture fa1 "$cap"
	tb_start_daemons
	tb_wait_registered fa1 10 || fail "no registration through fa1"
	jqa mn sas '[.isakmp_sas[] | select(.state == "established")] | length == 1'
	jqa mn sas "[.ipsec_sas[] | select(.udp_encap == $encap)] | length == 1"
	jqa fa1 sas '[.ipsec_sas[] | select(.remote_ts == "198.18.100.10/32")] | length == 1'
	tb_exec cn ping -c 3 -i 0.1 -W 1 -q "$TB_MN_HOME" >/dev/null || fail "ping CN -> MN"
	tb_exec mn ping -c 3 -i 0.1 -W 1 -q "$TB_CN_ADDR" >/dev/null || fail "ping MN -> CN"
	jqa fa1 sas '.esp_counters.esp_in >= 4 and .esp_counters.esp_out >= 4'
	# one registration surely inside the capture, however late it started
	local accepted
	accepted=$(jqv mn counters '.counters.reg_accepted')
	tb_ctl mn reregister >/dev/null || fail "mipsactl mn reregister"
	jqa_within 5 mn counters ".counters.reg_accepted > $accepted"
	capture_stop fa1 "$cap"

	# no Mobile IP in the clear on the access link, only IKE, ESP and advertisements
	local clear
	clear=$(tshark -r "$cap" -Y "mip || (icmp.type == 0 || icmp.type == 8)" 2>/dev/null | wc -l)
	[[ $clear -eq 0 ]] || fail "$clear registration or data packets in the clear"
	[[ $(tshark -r "$cap" -Y esp 2>/dev/null | wc -l) -ge 8 ]] || fail "no ESP on the link"
	# with the exported keys tshark finds the registration and the pings inside
	[[ $(decrypt fa1 "$cap" -Y "mip.type == 1" | wc -l) -ge 1 ]] ||
		fail "tshark cannot decrypt the registration request"
	[[ $(decrypt fa1 "$cap" -Y "icmp.type == 8" | wc -l) -ge 3 ]] ||
		fail "tshark cannot decrypt the pings"
	[[ $(decrypt fa1 "$cap" -Y "isakmp.id.type" | wc -l) -ge 2 ]] ||
		fail "tshark cannot decrypt Main Mode messages 5 and 6"
	[[ $(decrypt fa1 "$cap" -Y "_ws.malformed || _ws.expert.severity >= error" | wc -l) -eq 0 ]] ||
		fail "tshark finds malformed packets: $(decrypt fa1 "$cap" -Y _ws.malformed)"
	# no secret in any log line: not the PSK, not a single exported key
	local secret
	for secret in "$TB_PSK" $( { tb_ctl fa1 keys esp; tb_ctl mn keys esp; } |
		tr ',' '\n' | tr -d '"' | grep '^0x' | sed 's/^0x//'
		{ tb_ctl fa1 keys ikev1; tb_ctl mn keys ikev1; } | cut -d, -f2); do
		[[ ${#secret} -ge 16 ]] || continue
		if grep -rqi -- "$secret" "$TB_RUN"/*.log; then
			fail "a secret appears in a log: $(grep -rli -- "$secret" "$TB_RUN"/*.log)"
		fi
	done
}

run_case aes128-sha1 false

# hand-over to fa2: the MN renegotiates there (no reuse), traffic resumes
tb_move fa2 >/dev/null
tb_wait_registered fa2 10 || fail "no registration through fa2"
jqa fa2 sas '[.isakmp_sas[] | select(.state == "established")] | length == 1'
tb_exec cn ping -c 3 -i 0.1 -W 1 -q "$TB_MN_HOME" >/dev/null || fail "ping via fa2"

# cleartext from a node with SAs: a registration and a data packet, both dropped
inject="$TB_BIN/tools/mipsa-inject"
cleartext=$(jqv fa2 counters '.counters.drop_cleartext')
forged=01020078c612640ac6126401c6120c020000000100000001
forged+=2014000003e9000102030405060708090a0b0c0d0e0f
tb_exec mn "$inject" udp --dev eth0 --dst-mac "$TB_MAC_A" --src "$TB_MN_HOME" \
	--dst "$TB_ALIAS_A" --sport 434 --dport 434 --hex "$forged"
tb_exec mn "$inject" udp --dev eth0 --dst-mac "$TB_MAC_A" --src "$TB_MN_HOME" \
	--dst "$TB_CN_ADDR" --sport 9 --dport 9 --hex 00
jqa_within 5 fa2 counters ".counters.drop_cleartext == $((cleartext + 2))"
# ESP with a known SPI and a forged ICV, of the size AES-CBC + HMAC-SHA1-96
# makes (header 8, IV 16, one block, ICV 12) and a sequence number ahead of
# the window, so the ICV check is what refuses it; one a block short (a
# header error); one with an unknown SPI
spi=$(tb_ctl fa2 --json sas | jq -r '.ipsec_sas[0].spi_in')
esp_before=$(tb_ctl fa2 --json sas | jq -c '.esp_counters')
ctr_before() { jq -r ".$1" <<<"$esp_before"; }
iv=00112233445566778899aabbccddeeff
tb_exec mn "$inject" udp --dev eth0 --dst-mac "$TB_MAC_A" --src "$TB_MN_HOME" \
	--dst "$TB_ALIAS_A" --sport 4500 --dport 4500 \
	--hex "${spi}00100000${iv}${iv}00112233445566778899aabb"
tb_exec mn "$inject" udp --dev eth0 --dst-mac "$TB_MAC_A" --src "$TB_MN_HOME" \
	--dst "$TB_ALIAS_A" --sport 4500 --dport 4500 \
	--hex "${spi}00100001${iv}00112233445566778899aabb"
tb_exec mn "$inject" udp --dev eth0 --dst-mac "$TB_MAC_A" --src "$TB_MN_HOME" \
	--dst "$TB_ALIAS_A" --sport 4500 --dport 4500 --hex "deadbeef00000001aabbccdd"
jqa_within 3 fa2 sas ".esp_counters.esp_drop_icv == $(($(ctr_before esp_drop_icv) + 1)) and
	.esp_counters.esp_drop_header == $(($(ctr_before esp_drop_header) + 1)) and
	.esp_counters.esp_drop_spi == $(($(ctr_before esp_drop_spi) + 1)) and
	.esp_counters.esp_drop_replay == $(ctr_before esp_drop_replay)"
# IKE to fa2's care-of address, from the core and from the access link, on
# 500 and on 4500 (zero marker): four drops, counted and logged (they went
# without a trace, or were answered from the care-of address)
jqa fa2 sas '.esp_counters.ike_drop_not_alias == 0'
ike_hdr=0011223344556677000000000000000000100200000000000000001c
for port in 500 4500; do
	marker=
	[[ $port == 500 ]] || marker=00000000
	tb_exec cn "$inject" udp --src "$TB_CN_ADDR" --dst "$TB_FA2_COA" --sport "$port" \
		--dport "$port" --hex "$marker$ike_hdr"
	tb_exec mn "$inject" udp --dev eth0 --dst-mac "$TB_MAC_A" --src "$TB_MN_HOME" \
		--dst "$TB_FA2_COA" --sport "$port" --dport "$port" --hex "$marker$ike_hdr"
done
jqa_within 3 fa2 sas '.esp_counters.ike_drop_not_alias == 4'
for from in "$TB_CN_ADDR" "$TB_MN_HOME"; do
	grep -q "IKE from $from to $TB_FA2_COA:4500 dropped" "$TB_RUN/fa2.log" ||
		fail "no log line for IKE from $from to fa2's care-of address"
done
tb_exec cn ping -c 2 -i 0.1 -W 1 -q "$TB_MN_HOME" >/dev/null || fail "ping after hostile input"
jqa fa2 sas '.esp_counters.ike_drop_not_alias == 4'
# every socket's kernel drops in the counters (none here)
jqa fa2 counters '(.counters.rcvbuf_drops | keys) ==
	["capture", "esp", "ike", "mip", "natt", "sax", "store", "tunnel"] and
	([.counters.rcvbuf_drops[]] | all(. == 0))'
jqa mn counters '(.counters.rcvbuf_drops | keys) == ["arp", "capture", "esp", "ike", "mip", "natt"]'
jqa ha counters '(.counters.rcvbuf_drops | keys) == ["mip", "tunnel"]'
tb_down

run_case aes256-sha256 true
tb_down
run_case aes128gcm16 false
echo "test_ipsec: ok"
