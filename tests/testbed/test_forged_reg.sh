#!/usr/bin/env bash
#
# A forged or replayed cleartext registration must not cost a node its SAs
# (issue 7, item 1).  Domain A (fa1, fa2, mipsa-dbs), full reuse, technique
# both, seq_reserve 1024 (the smallest allowed: a lent pair would run dry
# after 1024 packets instead of 2^20).
#
# The MN moves fa1 -> fa2 -> fa1 -> fa2 while fa1's access link is captured,
# so the attacker holds R, the node's cleartext reuse registration naming
# fa2 as the FA it leaves.  With the node at fa2, from a host on fa1's
# access link (the bridge's stub port):
#
#  1. R replayed as it was;
#  2. R's SA reuse extension behind a new, current Identification;
#  3. the same with a wrong MN-HA authenticator too;
#  4. R with only its MN-HA authenticator changed.
#
# Each time fa2, which holds the SAs, refuses to lend them (served_stale for
# the replay, served_bad_proof for the others) and counts nothing as handed
# over; fa1 finds the store's copy, which the proof fails (2-4) or the home
# agent refuses (1: the Identification is old; fa1 drops what it took in,
# taken_denied), and the store keeps fa2's copy.  Then FLOOD pings towards
# the node (default 5000, about five times the reserve, as a million would
# be at the default reserve): every one is answered, fa2 never refuses to
# seal for want of sequence numbers, and the node still registers and
# carries traffic.
#
# Then (a second testbed, technique direct, lend_timeout_ms 1500) a loan
# that is not confirmed in time: the home agent's replies to fa2 are dropped
# while the MN moves fa1 -> fa2, so fa2 holds a loan it cannot confirm; fa1
# takes the SAs back (served_reclaimed).  Once the replies pass again, fa2
# confirms late, fa1 refuses (served_late_confirm), fa2 counts it
# (taken_reclaimed) and makes new IPsec SAs with the node by Quick Mode;
# traffic flows both ways.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=require.sh
source "$here/require.sh"
need_root
export TB_PREFIX=${TB_PREFIX:-fr$$} TB_IPSEC=1 TB_REUSE=full TB_TECHNIQUE=both TB_STORE=dbs TB_SEQ_RESERVE=1024
# shellcheck disable=SC1091 # found at run time
source "$top/testbed/lib.sh"
# shellcheck disable=SC1091
source "$top/testbed/daemons.sh"
# shellcheck disable=SC1091
source "$here/helpers.sh"
inject="$TB_BIN/tools/mipsa-inject"
FLOOD=${FLOOD:-5000}
cap_pid=""

cleanup() {
	[[ -z $cap_pid ]] || kill "$cap_pid" 2>/dev/null || true
	tb_down
	rm -rf "$TB_RUN"
}
tb_trap_cleanup cleanup

ctr() {
	jqv "$1" sas ".reuse_counters.$2"
}

move() {
	tb_move "$1" >/dev/null
	tb_wait_registered "$1" 15 || fail "no registration through $1"
	pings
}

tb_up
mkdir -p "$TB_RUN"
capture fa1 "$TB_RUN/fa1.pcapng" "udp dst port 434"
tb_start_daemons
tb_wait_registered fa1 15 || fail "no registration through fa1"
pings
move fa2
move fa1
move fa2
# the capture has what went over the link before the last move
capture_stop fa1 "$TB_RUN/fa1.pcapng"
cap_pid=""

fa2_hex=$(printf '%02x' ${TB_FA2_COA//./ })
reg=$(tshark -r "$TB_RUN/fa1.pcapng" -Y "udp.dstport == 434 && ip.src == $TB_MN_HOME" \
	-T fields -e ip.dst -e udp.srcport -e udp.payload 2>/dev/null | tr -d : |
	grep "00007ed90001....$fa2_hex" | tail -n 1) || true
read -r reg_dst reg_sport reg_hex <<<"$reg"
[[ -n ${reg_hex:-} ]] || fail "no cleartext reuse registration naming fa2 in fa1's capture"
echo "    captured the node's registration naming fa2 (${#reg_hex} hex digits) to $reg_dst"

# Identification: NTP seconds now, any fraction
new_ident() {
	printf '%08x%08x' $(($(date +%s) + 2208988800)) $((RANDOM * 65536 + RANDOM))
}

# the MN-HA authenticator's first byte: after the fixed part (24), the NAI
# extension (2 + its length) and MN-HA's Type, Length and SPI (6)
nai_len=$((16#${reg_hex:50:2}))
mnha_auth=$(((24 + 2 + nai_len + 6) * 2))
[[ ${reg_hex:$(((24 + 2 + nai_len) * 2)):2} == 20 ]] ||
	fail "no MN-HA authentication extension after the NAI in the captured registration"
with_ident() {
	printf '%s%s%s' "${1:0:32}" "$(new_ident)" "${1:48}"
}
flip_mnha() {
	local b=${1:$mnha_auth:2}
	printf '%s%02x%s' "${1:0:$mnha_auth}" $((16#$b ^ 0xff)) "${1:$((mnha_auth + 2))}"
}

# the attacker: a host on fa1's access link (the bridge's stub port)
attack() {
	tb_exec fa1 "$inject" udp --dev accstub-peer --dst-mac "$TB_MAC_A" --src "$TB_MN_HOME" \
		--dst "$reg_dst" --sport "$reg_sport" --dport 434 --hex "$1"
}

served0=$(ctr fa2 served_records)
puts0=$(ctr fa1 store_puts)
seal0=$(jqv fa2 sas '.esp_counters.esp_drop_reserved')

try() {
	local what=$1 hex=$2 fa2_ctr=$3 fa1_ctr=$4 a b c
	a=$(ctr fa2 "$fa2_ctr")
	b=$(ctr fa1 "$fa1_ctr")
	c=$(jqv ha counters '.counters.deny_identification + .counters.deny_mn_auth')
	attack "$hex"
	within "$what: fa2 $fa2_ctr" 5 jq_ok fa2 sas ".reuse_counters.$fa2_ctr == $((a + 1))"
	within "$what: fa1 $fa1_ctr" 10 jq_ok fa1 sas ".reuse_counters.$fa1_ctr == $((b + 1))"
	within "$what: denied by the home agent" 5 jq_ok ha counters \
		"(.counters.deny_identification + .counters.deny_mn_auth) == $((c + 1))"
	jqa fa2 sas ".reuse_counters.served_records == $served0 and .reuse_counters.served_reclaimed == 0"
	has_sas fa2
	no_sas fa1
	echo "    $what: fa2 refused ($fa2_ctr), fa1 $fa1_ctr, the home agent denied it"
}

try "replayed as it was" "$reg_hex" served_stale taken_denied
try "extension behind a new Identification" "$(with_ident "$reg_hex")" served_bad_proof \
	fallback_possession
try "new Identification, wrong MN-HA authenticator" "$(flip_mnha "$(with_ident "$reg_hex")")" \
	served_bad_proof fallback_possession
try "wrong MN-HA authenticator" "$(flip_mnha "$reg_hex")" served_bad_proof fallback_possession
# the store still has fa2's copy: fa1 wrote nothing
jqa fa1 sas ".reuse_counters.store_puts == $puts0"

# the node's traffic never stops
sent0=$(jqv fa2 sas '.esp_counters.esp_out')
loss=$(tb_exec cn ping -f -c "$FLOOD" -W 1 -q "$TB_MN_HOME" | sed -n 's/.* \([0-9.]*\)% packet loss.*/\1/p')
sent=$(($(jqv fa2 sas '.esp_counters.esp_out') - sent0))
# A flood ping on a loaded machine may lose a reply to a full queue; what
# must not happen is fa2 refusing to seal (esp_drop_reserved) or traffic
# stopping, which would lose everything after the reserve.
awk -v l="$loss" 'BEGIN { exit !(l != "" && l < 1) }' ||
	fail "flood towards the node: ${loss:-?}% lost"
[[ $sent -ge $((FLOOD * 99 / 100)) ]] || fail "fa2 sealed only $sent packets for $FLOOD pings"
# A lent pair would be stuck for good after seq_reserve packets; fa2's own
# store copy is renewed half-way, and with a reserve this small a renewal
# slower than 512 flood packets may refuse a packet or two meanwhile.
jqa fa2 sas ".esp_counters.esp_drop_reserved - $seal0 < $((FLOOD / 100)) and
	.reuse_counters.served_records == $served0"
pings
echo "    $FLOOD pings towards the node, ${loss}% lost: fa2 sealed $sent, refused $(($(jqv fa2 sas .esp_counters.esp_drop_reserved) - seal0)) for want of sequence numbers"
# and it still hands over: fa2 lends, fa1 takes the SAs
move fa1
jqa fa2 sas ".reuse_counters.served_records == $((served0 + 1))"
echo "    the node's own hand-over afterwards: full reuse"
tb_down

# ---- a loan not confirmed in time ----
echo "--- a loan not confirmed in time"
# without offers: with them fa2 would take the SAs without a loan to reclaim
export TB_TECHNIQUE=direct TB_LEND_MS=1500 TB_OFFERS=false
unset TB_SEQ_RESERVE
tb_up
tb_start_daemons
tb_wait_registered fa1 15 || fail "no registration through fa1"
pings
# fa2 hears nothing from the home agent for now
ip netns exec "$(tb_ns fa2)" nft -f - <<EOF
table inet fr_block {
	chain input {
		type filter hook input priority 0; policy accept;
		iifname "up0" udp sport 434 counter drop
	}
}
EOF
tb_move fa2 >/dev/null
within "fa1 lends the SAs" 5 jq_ok fa1 sas '.reuse_counters.served_records == 1'
within "fa1 takes them back" 5 jq_ok fa1 sas '.reuse_counters.served_reclaimed == 1'
ip netns exec "$(tb_ns fa2)" nft delete table inet fr_block
tb_wait_registered fa2 15 || fail "no registration through fa2 after the replies pass again"
within "fa1 refuses the late confirmation" 5 jq_ok fa1 sas '.reuse_counters.served_late_confirm == 1'
within "fa2 counts it" 5 jq_ok fa2 sas '.reuse_counters.taken_reclaimed == 1'
within "new IPsec SAs between fa2 and the node" 10 jq_ok fa2 sas \
	"[.ipsec_sas[] | select(.remote_ts == \"$TB_MN_HOME/32\")] | length == 1"
pings
echo "    fa1 took its loan back after 1.5 s; fa2's late confirmation refused; new IPsec SAs by Quick Mode"
