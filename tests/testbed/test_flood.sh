#!/usr/bin/env bash
#
# Floods (issue 11, item 5; doc/security.md, "Floods").  Domain A (fa1,
# fa2, mipsa-dbs), full reuse, technique both; domain B is fa3.  Every FA
# has IPsec peers for 64 addresses besides the node's (198.18.100.128/26,
# TB_FA_EXTRA_PEERS), which the Main Mode flood spoofs, and halfopen_max
# 128, halfopen_peer_max 4 (so that 64 sources fill the table); the other
# limits are the defaults.  Each flood runs at RATE packets a second
# (default 10000) from mipsa-inject, for at most FLOOD_S seconds (default
# 20), and is stopped once the node has done what the phase asks of it
# under the flood (registered through the new FA while the flood still
# ran, which has its SAs, some of 10 pings each way answered through
# them); then two pings each way must come back:
#
#  1. registration requests for random home addresses, to a home agent
#     that never answers, on fa2's access link; the node hands over
#     fa1 -> fa2, its SAs moving (reuse_full): fa2 evicts the oldest
#     newcomers' relays (drop_pending_evicted) and never holds more than
#     max_pending_relays (4096) of them;
#  2. forged SA-transfer requests (random timestamp, nonce, sealed part
#     and HMAC, from fa1's address) at fa2, and forged STORE_GETs at the
#     store; the node hands over fa2 -> fa1, fa2 serving its SAs: fa2
#     counts them in sax_bad_messages, the store in refused_mac;
#  3. Main Mode messages 1 with random initiator cookies from the 64
#     spoofed peers on fa3's access link; the node hands over fa1 -> fa3,
#     another domain, so Main Mode and Quick Mode with fa3:
#     drop_halfopen_global and drop_halfopen_peer count, fa3 never holds
#     more than 128 half-open ISAKMP SAs, nor more than 4 from one address.
#
# Every daemon's VmRSS (fa1, fa2, fa3, ha, dbs, mn) is read before the
# floods and after each: it may grow by at most RSS_MAX_KB (default 16384)
# over its start.  The figures (packets sent, achieved rate, drops, RSS,
# how long the node took) are printed, never asserted.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=require.sh
source "$here/require.sh"
need_root
RATE=${RATE:-10000}
FLOOD_S=${FLOOD_S:-20}
RSS_MAX_KB=${RSS_MAX_KB:-16384}
peers=""
for i in $(seq 128 191); do peers+="198.18.100.$i "; done
export TB_PREFIX=${TB_PREFIX:-fl$$} TB_IPSEC=1 TB_REUSE=full TB_TECHNIQUE=both TB_STORE=dbs \
	TB_HALFOPEN_MAX=128 TB_HALFOPEN_PEER_MAX=4 TB_FA_EXTRA_PEERS=$peers
# shellcheck disable=SC1091 # found at run time
source "$top/testbed/lib.sh"
# shellcheck disable=SC1091
source "$top/testbed/daemons.sh"
# shellcheck disable=SC1091
source "$here/helpers.sh"
inject="$TB_BIN/tools/mipsa-inject"
started=$(date +%s)
flood_pids=()

stop_floods() {
	local p
	for p in ${flood_pids[@]+"${flood_pids[@]}"}; do
		kill -INT "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	flood_pids=()
}

cleanup() {
	stop_floods
	tb_down
	rm -rf "$TB_RUN"
}
tb_trap_cleanup cleanup

# flood NODE NAME ARGS...: mipsa-inject udp in NODE, RATE a second for
# FLOOD_S seconds at most, in the background; its report goes to NAME.log
flood() {
	local node=$1 name=$2
	shift 2
	# ip netns exec becomes mipsa-inject: $! is the flood itself
	ip netns exec "$(tb_ns "$node")" "$inject" udp --rate "$RATE" --count $((RATE * FLOOD_S)) \
		"$@" 2>"$TB_RUN/flood-$name.log" &
	flood_pids+=($!)
}

# the inject tool's own figures (or that it was stopped before the end)
flood_report() {
	local f
	for f in "$TB_RUN"/flood-*.log; do
		echo "    $(basename "$f" .log): $(cat "$f" 2>/dev/null || true)"
	done
	rm -f "$TB_RUN"/flood-*.log
}

# flooding: true while every flood started is still running
flooding() {
	local p
	for p in ${flood_pids[@]+"${flood_pids[@]}"}; do
		kill -0 "$p" 2>/dev/null || return 1
	done
}

# move_under FA: hand-over to FA while the floods run; prints how long the
# node took to register there and whether the floods were still running then
move_under() {
	local t0=$SECONDS
	tb_move "$1" >/dev/null
	tb_wait_registered "$1" 15 || fail "no registration through $1 under the flood"
	flooding || fail "the flood ended before the node registered through $1 ($((SECONDS - t0)) s): raise FLOOD_S"
	echo "    registered through $1 $((SECONDS - t0)) s after the move, the flood still running"
}

# pings_under: under a flood, of 10 pings each way at least one must come
# back through the SAs; the loss is printed (the FA shares 2 cores with
# the floods and their sender)
pings_under() {
	local cn mn
	cn=$(tb_exec cn ping -c 10 -i 0.2 -W 2 -q "$TB_MN_HOME" | sed -n 's/.* \([0-9]*\) received.*/\1/p')
	mn=$(tb_exec mn ping -c 10 -i 0.2 -W 2 -q "$TB_CN_ADDR" | sed -n 's/.* \([0-9]*\) received.*/\1/p')
	echo "    under the flood: CN -> MN ${cn:-0}/10 pings answered, MN -> CN ${mn:-0}/10"
	((${cn:-0} > 0 && ${mn:-0} > 0)) || fail "no traffic through the SAs under the flood"
}

rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$(cat "$TB_RUN/$1.pid")/status"
}

declare -A rss0
rss_check() {
	local n kb line=""
	for n in fa1 fa2 fa3 ha dbs mn; do
		kb=$(rss_kb "$n") || fail "$n is gone"
		line+=" $n=${kb}kB(+$((kb - rss0[$n])))"
		((kb - rss0[$n] <= RSS_MAX_KB)) ||
			fail "$n's VmRSS grew from ${rss0[$n]} kB to $kb kB, by more than $RSS_MAX_KB kB"
	done
	echo "    VmRSS after $1:$line"
	line=""
	for n in fa1 fa2 fa3 ha dbs mn; do
		line+=" $n=$(wc -l <"$TB_RUN/$n.log")"
	done
	# attacker-triggerable lines are rate-limited: a few hundred, not one a packet
	echo "    log lines so far:$line"
}

# hex builders: fields as the receivers parse them, the random parts left to --rand
ip_hex() {
	local a b c d
	IFS=. read -r a b c d <<<"$1"
	printf '%02x%02x%02x%02x' "$a" "$b" "$c" "$d"
}
# Main Mode message 1: header (cookies, SA next, version 1.0, Identity
# Protection, length 84), SA (IPsec DOI, identity only), one proposal
# (ISAKMP), one transform (KEY_IKE): AES-CBC 128, SHA1, PSK, MODP 2048,
# 28800 s: the testbed's proposal, so the FA answers it and keeps it half-open
mm1_hex=$(printf '%032d%s' 0 0110020000000000000000540000003800000001000000010000002c01010001)
mm1_hex+=000000240101000080010007800e008080020002800300018004000e800b0001800c7080
# registration request: lifetime 300, home address (random), a home agent
# that never answers, fa2's care-of address, Identification (random),
# MN-HA extension (SPI 1024, an authenticator nobody checks before the HA)
silent_ha=198.18.1.77
reg_hex=$(printf '0100012c%08d%s%s%016d201400000400%032d' 0 "$(ip_hex "$silent_ha")" \
	"$(ip_hex "$TB_FA2_COA")" 0 0)
# SA-transfer messages from fa2's address: a REQUEST (the smallest sealed
# part) and a STORE_GET: version, type, flags, timestamp, nonce, sender,
# expires, MN ID "x", sealed length, sealed part, HMAC; timestamp, nonce,
# sealed part and HMAC random
sax_head() {
	printf '01%02x0000%016d%032d%s%016d0178' "$1" 0 0 "$(ip_hex "$TB_FA1_COA")" 0
}
sax_req_hex=$(printf '%s001c%056d%064d' "$(sax_head 1)" 0 0)
sax_get_hex=$(printf '%s0000%064d' "$(sax_head 5)" 0)

[[ ${#mm1_hex} -eq 168 && ${#reg_hex} -eq 92 && ${#sax_req_hex} -eq 208 && ${#sax_get_hex} -eq 152 ]] ||
	fail "a flood message has the wrong length"

start "floods at $RATE/s, each for at most $FLOOD_S s"
has_sas fa1
for n in fa1 fa2 fa3 ha dbs mn; do rss0[$n]=$(rss_kb "$n"); done

# ---- 1: registration flood at fa2, hand-over fa1 -> fa2 (the SAs move) ----
full0=$(jqv fa2 sas '.reuse_counters.reuse_full')
flood fa2 reg-fa2 --dev accstub-peer --dst-mac "$TB_MAC_A" --src 198.18.100.250 \
	--dst "$TB_ALIAS_A" --sport 434 --dport 434 --hex "$reg_hex" --rand 4:4 --rand 16:8
within "fa2 evicting newcomers' relays" 10 jq_ok fa2 counters '.counters.drop_pending_evicted > 0'
# the newcomers' relays stay bounded while the flood runs
pend=$(jqv fa2 visitors '[.visitors[] | select(.pending)] | length')
((pend <= 4096)) || fail "fa2 holds $pend pending relays, more than max_pending_relays 4096"
move_under fa2
has_sas fa2
pings_under
stop_floods
flood_report
pings
jqa fa2 sas ".reuse_counters.reuse_full > $full0"
echo "    fa2: $(jqv fa2 counters '.counters | "reg_requests \(.reg_requests), drop_pending_evicted \(.drop_pending_evicted)"'), rcvbuf_drops $(jqv fa2 counters '.counters.rcvbuf_drops | tostring'); $pend relays pending mid-flood; the SAs moved to fa2 (reuse_full)"
rss_check "the registration flood"

# ---- 2: SA-transfer request floods at fa2 and the store, hand-over fa2 -> fa1 ----
sax0=$(jqv fa2 sas '.reuse_counters.sax_bad_messages')
mac0=$(jqv dbs counters '.counters.refused_mac')
full0=$(jqv fa1 sas '.reuse_counters.reuse_full')
flood core sax-fa2 --src "$TB_FA1_COA" --dst "$TB_FA2_COA" --sport 4434 --dport 4434 \
	--hex "$sax_req_hex" --rand 4:8 --rand 12:16 --rand 44:28 --rand 72:32
flood core sax-dbs --src "$TB_FA1_COA" --dst "$TB_DBS_ADDR" --sport 4434 --dport 4434 \
	--hex "$sax_get_hex" --rand 4:8 --rand 12:16 --rand 44:32
within "fa2 counting forged SA requests" 10 jq_ok fa2 sas ".reuse_counters.sax_bad_messages > $sax0"
within "the store counting forged STORE_GETs" 10 jq_ok dbs counters ".counters.refused_mac > $mac0"
move_under fa1
has_sas fa1
pings_under
stop_floods
flood_report
pings
jqa fa1 sas ".reuse_counters.reuse_full > $full0"
echo "    fa2 sax_bad_messages +$(($(jqv fa2 sas '.reuse_counters.sax_bad_messages') - sax0)), store refused_mac +$(($(jqv dbs counters '.counters.refused_mac') - mac0)); the SAs moved back to fa1 (reuse_full)"
rss_check "the SA-transfer floods"

# ---- 3: Main Mode message 1 flood at fa3, hand-over fa1 -> fa3 (Main Mode) ----
est0=$(jqv fa3 sas '.ike_counters.ike_established')
flood fa3 mm1-fa3 --dev accstub-peer --dst-mac "$TB_MAC_B" --src-net 198.18.100.128/26 \
	--dst "$TB_ALIAS_B" --sport 500 --dport 500 --hex "$mm1_hex" --rand 0:8
within "fa3 at its half-open limit" 5 jq_ok fa3 sas \
	'.ike_counters.drop_halfopen_global > 0 and .ike_counters.drop_halfopen_peer > 0'
# the half-open table stays bounded while the flood runs, in all and per source
halfopen='[.isakmp_sas[] | select(.state == "MM-R2" or .state == "MM-R4")]'
ho=$(jqv fa3 sas "$halfopen | length")
ho_peer=$(jqv fa3 sas "$halfopen | group_by(.peer) | map(length) | max // 0")
((ho <= 128)) || fail "fa3 holds $ho half-open ISAKMP SAs, more than halfopen_max 128"
((ho_peer <= 4)) || fail "fa3 holds $ho_peer half-open ISAKMP SAs from one address, more than 4"
move_under fa3
has_sas fa3
pings_under
stop_floods
flood_report
pings
jqa fa3 sas ".ike_counters.ike_established > $est0"
echo "    fa3: $(jqv fa3 sas '.ike_counters | "drop_halfopen_global \(.drop_halfopen_global), drop_halfopen_peer \(.drop_halfopen_peer), drop_peer_unknown \(.drop_peer_unknown), ike_established \(.ike_established)"'); half-open $ho (at most $ho_peer from one address)"
rss_check "the Main Mode flood"

echo "test_flood: $(($(date +%s) - started)) s"
echo "test_flood: ok"
