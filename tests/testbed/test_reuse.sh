#!/usr/bin/env bash
#
# SA reuse across domain A (fa1, fa2; fa3 is domain B) in the testbed:
#
#  1. every mode x technique (partial, full) x (direct, store, both), with
#     mipsa-dbs and with Redis: after each hand-over the MN exchanged no IKE
#     message (full) or only a Quick Mode (partial), traffic flows both ways,
#     the new FA counted the reuse and no fallback, the old FA gave the SAs
#     up; with the direct technique, partial reuse takes the ISAKMP SA the
#     old FA offered ahead, and full reuse without a store its SAs
#     (reuse_offered), and the old FA serves no request;
#  2. captures, full reuse with the store as fallback and with offers: no
#     ESP sequence number repeats on an SPI across the FAs of the domain,
#     and a packet captured before the hand-over and replayed into the new
#     FA (and one replayed to the MN) is dropped;
#  3. fallbacks, each counted under its reason: previous FA silent (and, with
#     the store as fallback, the old FA dead in the middle of the hand-over),
#     store down, a record that fails its authenticator, previous FA outside
#     the domain, IPsec SAs expired (partial instead);
#  4. re-association: fa1 -> fa3 (domain B: negotiation) -> fa2 reuses domain
#     A's SAs from the store; fa2 -> fa3 -> fa2 finds them still at fa2 (no
#     IKE message, reuse_reassociated); after the ISAKMP lifetime it negotiates.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=require.sh
source "$here/require.sh"
need_root
export TB_PREFIX=${TB_PREFIX:-ru$$} TB_IPSEC=1
source "$top/testbed/lib.sh"
source "$top/testbed/daemons.sh"
source "$here/helpers.sh"
tb_trap_cleanup
inject="$TB_BIN/tools/mipsa-inject"
command -v redis-server >/dev/null || { echo "redis-server missing (scripts/deps)"; exit 1; }


# handover FA IKE_MSGS: move, registered through FA, traffic both ways, and
# exactly IKE_MSGS IKE messages on the access link meanwhile (- : any)
handover() {
	local to=$1 want=$2 before after
	before=$(ike_msgs)
	tb_move "$to" >/dev/null
	tb_wait_registered "$to" 15 || fail "no registration through $to"
	pings
	after=$(ike_msgs)
	[[ $want == - || $((after - before)) -eq $want ]] ||
		fail "hand-over to $to: $((after - before)) IKE messages, expected $want"
}

# traffic FA: the pings run through FA's SAs, 60 more ESP packets each way
traffic() {
	local in out
	in=$(jqv "$1" sas '.esp_counters.esp_in')
	out=$(jqv "$1" sas '.esp_counters.esp_out')
	jqa_within 10 "$1" sas ".esp_counters.esp_in >= $((in + 60)) and
		.esp_counters.esp_out >= $((out + 60))"
}

# the reuse counters of an FA, all zero but the ones named (name=value ...)
counters() {
	local node=$1 filter="(.reuse_counters | to_entries | map(select(.key | startswith(\"fallback_\")) | .value) | add) == 0"
	shift
	local kv
	for kv in "$@"; do
		filter+=" and .reuse_counters.${kv%%=*} == ${kv#*=}"
	done
	jqa "$node" sas "$filter"
}


# ---- 1. every mode x technique ----
matrix_case() {
	local reuse=$1 tech=$2 store=$3 qm=0 kind=reuse_full offer=0
	[[ $reuse == partial ]] && qm=3 kind=reuse_partial
	# direct: the FA the node leaves offered its SAs ahead (full: no store)
	[[ ($reuse == partial && $tech != store) || ($reuse == full && $tech == direct) ]] && offer=1
	export TB_REUSE=$reuse TB_TECHNIQUE=$tech TB_STORE=$store
	start "$reuse reuse, technique $tech, store $store"
	((offer == 0)) || jqa_within 5 fa2 sas '.reuse_counters.offers_kept >= 1'
	handover fa2 "$qm"
	counters fa2 "$kind=1" reuse_refused=0 reuse_offered="$offer"
	has_sas fa2
	no_sas fa1
	jqa mn sas ".esp_counters.$kind == 1 and .esp_counters.reuse_refused == 0"
	[[ $tech == store ]] || counters fa1 served_records=$((1 - offer)) served_released=1
	[[ $tech == direct ]] || jqa fa1 sas '.reuse_counters.store_puts >= 1 and .reuse_counters.store_put_failures == 0'
	((offer == 0)) || jqa_within 5 fa1 sas '.reuse_counters.offers_kept >= 1'
	handover fa1 "$qm"
	counters fa1 "$kind=1" reuse_offered="$offer"
	[[ $tech == store ]] || counters fa2 served_records=$((1 - offer))
	no_sas fa2
	jqa mn sas ".esp_counters.$kind == 2"
	tb_down
}
for reuse in partial full; do
	for tech in direct store both; do
		matrix_case "$reuse" "$tech" dbs
	done
done
matrix_case full store redis
matrix_case partial both redis

# ---- 2. captures: sequence numbers across FAs, replays ----
# esp_frames FA SRC FIELD...: the fields (-e ...) of every ESP frame SRC sent in FA's capture
esp_frames() {
	tshark -r "$TB_RUN/$1.pcapng" -Y "esp && ip.src == $2 && !icmp" -T fields "${@:3}" 2>/dev/null
}

# every (SPI, sequence number) the FAs sent to the MN, from both access links.
# A UDP GSO run is one frame here, its packets joined: one SA, consecutive
# sequence numbers, each as long as the first (the last may be shorter); the
# second packet's SPI and number give the length, and each packet is listed.
fields() {
	esp_frames "$1" "$2" -e udp.payload | awk '
	function hex(s, i, v) {
		for (i = 1; i <= length(s); i++)
			v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
		return v
	}
	{
		p = tolower($1); n = length(p) / 2; spi = substr(p, 1, 8); seq = hex(substr(p, 9, 8))
		seg = n
		for (k = 16; k + 8 <= n; k++)
			if (substr(p, 2 * k + 1, 8) == spi && hex(substr(p, 2 * k + 9, 8)) == seq + 1) {
				seg = k
				break
			}
		for (off = 0; off < n; off += seg)
			printf "0x%s\t%d\n", spi, hex(substr(p, 2 * off + 9, 8))
	}'
}

# esp_sample FA SRC: the UDP payload of one ESP packet SRC sent, from FA's
# capture: the fifth frame of the most common length (a ping's). A sender's
# UDP GSO run is one frame in the capture, its packets' payloads joined, and
# replays as one malformed packet, not as a replay; runs are a few frames of
# hundreds.
esp_sample() {
	esp_frames "$1" "$2" -e frame.len -e udp.payload |
		awk '{ len[NR] = $1; pl[NR] = $2; if (++seen[$1] > most) { most = seen[$1]; mode = $1 } }
		     END { for (i = 1; i <= NR; i++) if (len[i] == mode && ++k == 5) print pl[i] }'
}

# captures TECHNIQUE SAS: three hand-overs under traffic both ways with
# full reuse, fa2's registrations naming where the SAs came from (SAS), and
# every ESP frame on both access links checked
captures() {
	local tech=$1 sas=$2 n dups spi old_mn old_fa before mn_mac ping_cn ping_mn fa to
	local cap_pids=()
	echo "--- captures: full reuse, technique $tech, UDP encapsulation"
	export TB_REUSE=full TB_TECHNIQUE=$tech TB_STORE=dbs TB_UDP_ENCAP=true
	tb_up
	mkdir -p "$TB_RUN"
	for fa in fa1 fa2; do
		capture "$fa" "$TB_RUN/$fa.pcapng"
		cap_pids+=("$cap_pid")
	done
	tb_start_daemons
	tb_wait_registered fa1 15 || fail "no registration through fa1"
	# steady traffic both ways across three hand-overs
	tb_exec cn ping -i 0.01 -W 1 -q "$TB_MN_HOME" >/dev/null 2>&1 &
	ping_cn=$!
	tb_exec mn ping -i 0.01 -W 1 -q "$TB_CN_ADDR" >/dev/null 2>&1 &
	ping_mn=$!
	traffic fa1
	for to in fa2 fa1 fa2; do
		tb_move "$to" >/dev/null
		tb_wait_registered "$to" 15 || fail "no registration through $to"
		traffic "$to"
	done
	kill "$ping_cn" "$ping_mn" 2>/dev/null || true
	wait "$ping_cn" "$ping_mn" 2>/dev/null || true
	capture_stop fa1 "$TB_RUN/fa1.pcapng" "${cap_pids[0]}"
	capture_stop fa2 "$TB_RUN/fa2.pcapng" "${cap_pids[1]}"
	counters fa2 reuse_full=2
	counters fa1 reuse_full=1
	# one registration line per hand-over, saying where the SAs came from
	n=$(grep -c "registration node=$TB_MN_HOME .* reuse=full sas=$sas prev=$TB_FA1_COA " \
		"$TB_RUN/fa2.log") || true
	[[ $n -eq 2 ]] || fail "fa2 logged $n full-reuse registrations from fa1, expected 2"

	fields fa1 "$TB_ALIAS_A" >"$TB_RUN/seq.fa1"
	fields fa2 "$TB_ALIAS_A" >"$TB_RUN/seq.fa2"
	spi=$(sort "$TB_RUN/seq.fa1" | awk 'NR == 1 { print $1 }')
	[[ -n $spi ]] || fail "no ESP from fa1 in the capture"
	grep -q "^$spi" "$TB_RUN/seq.fa2" || fail "fa2 never sent on fa1's SPI $spi: no reuse to check"
	n=$(cat "$TB_RUN/seq.fa1" "$TB_RUN/seq.fa2" | wc -l)
	dups=$(cat "$TB_RUN/seq.fa1" "$TB_RUN/seq.fa2" | sort | uniq -d | wc -l)
	[[ $n -ge 200 ]] || fail "only $n ESP packets from the FAs captured"
	[[ $dups -eq 0 ]] || fail "$dups (SPI, sequence number) pairs used twice across the FAs"
	echo "    $n ESP packets from fa1 and fa2 on SPI $spi and others: no sequence number used twice"
	# and what the MN sent: every number once, whichever FA received it
	fields fa1 "$TB_MN_HOME" >"$TB_RUN/mnseq.fa1"
	fields fa2 "$TB_MN_HOME" >"$TB_RUN/mnseq.fa2"
	dups=$(cat "$TB_RUN/mnseq.fa1" "$TB_RUN/mnseq.fa2" | sort | uniq -d | wc -l)
	[[ $dups -eq 0 ]] || fail "the MN used $dups (SPI, sequence number) pairs twice"

	# a packet the MN sent to fa1 before the first hand-over, replayed into fa2
	old_mn=$(esp_sample fa1 "$TB_MN_HOME")
	[[ -n $old_mn ]] || fail "no ESP from the MN in fa1's capture"
	before=$(jqv fa2 sas '.esp_counters.esp_drop_replay')
	tb_exec mn "$inject" udp --dev eth0 --dst-mac "$TB_MAC_A" --src "$TB_MN_HOME" \
		--dst "$TB_ALIAS_A" --sport 4500 --dport 4500 --hex "${old_mn//:/}"
	jqa_within 5 fa2 sas ".esp_counters.esp_drop_replay == $((before + 1))"
	# a packet fa1 sent to the MN before the hand-over, replayed to the MN from fa2's link
	old_fa=$(esp_sample fa1 "$TB_ALIAS_A")
	[[ -n $old_fa ]] || fail "no ESP from fa1 in its capture"
	mn_mac=$(ip -n "$(tb_ns mn)" -j link show eth0 | jq -r '.[0].address')
	before=$(jqv mn sas '.esp_counters.esp_drop_replay')
	tb_exec fa2 "$inject" udp --dev acc0 --dst-mac "$mn_mac" --src "$TB_ALIAS_A" \
		--dst "$TB_MN_HOME" --sport 4500 --dport 4500 --hex "${old_fa//:/}"
	jqa_within 5 mn sas ".esp_counters.esp_drop_replay == $((before + 1))"
	pings
	echo "    replayed ESP dropped by the new FA and by the MN"
	tb_down
}
captures both previous-fa
# offers: the new FA sends in its own block of fa1's numbers, then above
# fa1's top once released
captures direct offer
export TB_UDP_ENCAP=false

# ---- 3. fallbacks ----
# the move after the caller broke something: it must still end registered, with traffic
fallback_move() {
	local t0 t1
	t0=$(date +%s%N)
	handover fa2 -
	t1=$(date +%s%N)
	echo "    registered through fa2 and traffic flowing $(((t1 - t0) / 1000000)) ms after the move"
}

# without offers: with them fa2 would not ask the silent FA at all
export TB_REUSE=full TB_TECHNIQUE=direct TB_STORE=dbs TB_XFER_TIMEOUT_MS=200 TB_OFFERS=false
start "fallback: previous FA silent (direct only, no offers)"
kill -STOP "$(cat "$TB_RUN/fa1.pid")"
fallback_move
kill -CONT "$(cat "$TB_RUN/fa1.pid")"
jqa fa2 sas '.reuse_counters.fallback_prev_silent == 1 and .reuse_counters.reuse_refused == 1'
jqa mn sas '.esp_counters.reuse_refused == 1'
has_sas fa2
grep -q "falls back to negotiation: the previous FA did not answer in time; node=$TB_MN_HOME prev=$TB_FA1_COA reason=fallback_prev_silent" "$TB_RUN/fa2.log" ||
	fail "fa2 did not log the reason"
# the fallback came within the configured time: the log gives the transfer's duration
us=$(grep -o 'refused: negotiation follows ([^,]*, [0-9]* us)' "$TB_RUN/fa2.log" | grep -o '[0-9]* us' | tr -dc 0-9)
[[ -n $us && $us -lt 400000 ]] || fail "fallback after ${us:-?} us, transfer_timeout_ms is 200"
# the registration's line: negotiation, and the home agent's reply waited for the timeout
line=$(grep " registration node=$TB_MN_HOME .* prev=$TB_FA1_COA " "$TB_RUN/fa2.log" | tail -1)
[[ $line == *" reuse=refused sas=negotiation "* ]] || fail "fa2's registration line: $line"
held=${line##* held_us=} total=${line##* time_us=} total=${total%% *}
[[ $held -gt 0 && $total -ge 200000 && $total -ge $held ]] ||
	fail "fa2 held the reply ${held} us of ${total} us, the transfer timed out after 200 ms"
tb_down

unset TB_OFFERS
export TB_TECHNIQUE=both
start "fallback: the old FA dies in the middle of the hand-over (direct, then the store)"
kill -KILL "$(cat "$TB_RUN/fa1.pid")"
handover fa2 0
jqa fa2 sas '.reuse_counters.reuse_full == 1 and .reuse_counters.fallback_prev_silent == 0'
has_sas fa2
tb_down

export TB_TECHNIQUE=store
start "fallback: store down"
kill -KILL "$(cat "$TB_RUN/dbs.pid")"
fallback_move
jqa fa2 sas '.reuse_counters.fallback_store_down == 1 and .reuse_counters.reuse_refused == 1'
has_sas fa2
tb_down

export TB_STORE=redis
start "fallback: a record that fails its authenticator (tampered in Redis)"
pass=$(cat "$TB_RUN/redis-pass.admin")
rcli() {
	tb_exec dbs redis-cli --no-auth-warning -h "$TB_DBS_ADDR" --user admin --pass "$pass" "$@"
}
[[ $(rcli EXISTS "mipsa:sa:$TB_MN_NAI") == 1 ]] || fail "fa1 kept no record in Redis"
# fa1 stopped: no later copy of its own may undo the change (the new FA reads
# the store only); a byte that happened to be X already becomes Y
kill -STOP "$(cat "$TB_RUN/fa1.pid")"
was=$(rcli GETRANGE "mipsa:sa:$TB_MN_NAI" 120 120)
rcli SETRANGE "mipsa:sa:$TB_MN_NAI" 120 X >/dev/null
[[ $(rcli GETRANGE "mipsa:sa:$TB_MN_NAI" 120 120) != "$was" ]] ||
	rcli SETRANGE "mipsa:sa:$TB_MN_NAI" 120 Y >/dev/null
fallback_move
kill -CONT "$(cat "$TB_RUN/fa1.pid")"
jqa fa2 sas '.reuse_counters.fallback_bad_record == 1 and .reuse_counters.reuse_refused == 1'
has_sas fa2
tb_down

export TB_STORE=dbs TB_TECHNIQUE=direct TB_MEMBERS_A="\"$TB_FA2_COA\""
start "fallback: previous FA outside the domain"
fallback_move
jqa fa2 sas '.reuse_counters.fallback_not_member == 1 and .reuse_counters.reuse_refused == 1'
jqa fa1 sas '.reuse_counters.served_records == 0'
has_sas fa2
tb_down
unset TB_MEMBERS_A

export TB_TECHNIQUE=store TB_IPSEC_LIFETIME=10 TB_REKEY_MARGIN=3
start "fallback: IPsec SAs expired while away (partial instead)"
tb_move fa3 >/dev/null
tb_wait_registered fa3 15 || fail "no registration through fa3"
# not synchronisation: the IPsec lifetime (10 s) has to run out, by the FAs'
# clocks; the MN's view of it would race them by the milliseconds between
# its Quick Mode and theirs
sleep 11
handover fa2 3
jqa fa2 sas '.reuse_counters.fallback_expired == 1 and .reuse_counters.reuse_partial == 1'
has_sas fa2
tb_down
unset TB_IPSEC_LIFETIME TB_REKEY_MARGIN

# ---- 4. re-association ----
export TB_TECHNIQUE=store TB_IKE_LIFETIME=20 TB_REKEY_MARGIN=4
start "re-association: fa1 -> fa3 (domain B) -> fa2 within the lifetime"
handover fa3 -
has_sas fa3
handover fa2 0
counters fa2 reuse_full=1
has_sas fa2
no_sas fa1
echo "--- re-association: fa2 -> fa3 -> fa2, back to the FA that still holds the SAs"
handover fa3 -
handover fa2 0
counters fa2 reuse_full=2 reuse_reassociated=1
has_sas fa2
echo "--- re-association after the ISAKMP lifetime"
handover fa3 -
jqa_within 30 mn sas "[.isakmp_sas[] | select(.peer == \"$TB_ALIAS_A\" and .state == \"established\")] | length == 0"
handover fa1 -
jqa fa1 sas '.reuse_counters.reuse_requests == 0'
has_sas fa1
tb_down

echo "test_reuse: ok"
