#!/usr/bin/env bash
#
# SA reuse under hostile input.  Domain A is fa1, fa2 and the store
# (mipsa-dbs in the dbs namespace, whose own address is no member of the
# FAs' domain); fa3 is domain B, with other keys.  Full reuse, technique
# both, the MN registered through fa1 with SAs.  tools/mipsa-store request
# plays the requester (it listens on its Sender's port 4434, or watches it
# with a raw socket where a daemon holds that port), tools/mipsa-inject
# sends raw datagrams.
#
#  1. a SAX_REQUEST with the domain's FA-to-FA key from a non-member (the
#     store's address, and the correspondent's): REFUSED not_member, counted
#     and logged by fa1, which keeps the SAs; traffic flows;
#  1b. one under K_DB alone, the store's key: no answer, counted bad;
#  2. a request under domain B's keys (from fa3): no answer, counted bad;
#  3. the same request bytes twice: the first copy is answered, the replay
#     is counted bad and not answered;
#  4. 200 garbage datagrams (random, 0..1500 bytes) each to fa1:4434 and to
#     mipsa-dbs: every one counted, both daemons and traffic carry on;
#  5. a member asking with the domain's keys but without the node's own
#     registration gets past every check but the proof (the control for
#     1-3: the refusals are about who asks, not a requester that cannot
#     work; the node's own hand-over is test_reuse.sh and test_forged_reg.sh);
#  6. a forged record in the store (right keys, random cookies, no pairs),
#     fa1 stopped so the direct request goes unanswered: fa2 falls back to
#     the store, refuses the record (fallback_possession), the MN negotiates
#     and traffic flows;
#  7. (a second testbed) a record sealed under another K_SA: fa2 refuses it
#     (fallback_bad_record), the MN negotiates and traffic flows.
#  No daemon may crash anywhere.
#
#  6b. datagrams larger than the receive buffer, to fa1 and to mipsa-dbs:
#      counted like any other bad message;
#  8. a STORE_DEL forged under K_DB (which the store holds) with a member's
#     source address: refused as a bad message, fa2 keeps the MN's SAs.
#  (Found by this test and fixed: oversized datagrams went uncounted, and
#  K_DB alone let the store ask an FA for SAs or make it drop them; FA-to-FA
#  messages now use a key derived from K_SA, common/sax.h sax_fa_keys.)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=require.sh
source "$here/require.sh"
need_root
export TB_PREFIX=${TB_PREFIX:-rh$$} TB_IPSEC=1 TB_REUSE=full TB_TECHNIQUE=both TB_STORE=dbs
# shellcheck disable=SC1091 # found at run time
source "$top/testbed/lib.sh"
# shellcheck disable=SC1091
source "$top/testbed/daemons.sh"
# shellcheck disable=SC1091
source "$here/helpers.sh"
store="$TB_BIN/tools/mipsa-store"
inject="$TB_BIN/tools/mipsa-inject"
started=$(date +%s)

cleanup() {
	local f
	# stopped daemons would not see tb_down's TERM
	for f in "$TB_RUN"/*.pid; do
		[[ -f $f ]] && kill -CONT "$(cat "$f")" 2>/dev/null
	done
	tb_down
	rm -rf "$TB_RUN"
}
tb_trap_cleanup cleanup

start() {
	echo "--- $*"
	rm -rf "$TB_RUN/dbs-data"
	tb_up
	tb_start_daemons
	tb_wait_registered fa1 15 || fail "no registration through fa1"
	has_sas fa1
	pings
	# fa1's own copy is in the store
	settle "fa1 store put" jqa_q fa1 sas '.reuse_counters.store_puts >= 1'
}



# jqa without failing: true when the filter holds
jqa_q() {
	local out
	out=$(tb_ctl "$1" --json "$2" 2>/dev/null) || return 1
	jq -e "$3" >/dev/null <<<"$out"
}

# settle WHAT CMD...: CMD succeeds within 5 s (counters move after the datagram)
settle() {
	local what=$1
	shift
	for _ in $(seq 100); do
		"$@" && return 0
		sleep 0.05
	done
	fail "$what: $* still false after 5 s"
}

ctr() {
	jqv "$1" sas ".reuse_counters.$2"
}

# every refusal mipsa-dbs counts
dbs_refused() {
	jqv dbs counters '[.counters | to_entries[] | select(.key | startswith("refused_")) | .value] | add'
}

# fa1 answered nothing new but what the caller expects: NAME=VALUE... of its served_* counters
served() {
	local want="true" kv
	for kv in "$@"; do
		want+=" and .reuse_counters.${kv%%=*} == ${kv#*=}"
	done
	jqa fa1 sas "$want"
}

# every daemon still runs and answers on its control socket
alive() {
	local n
	for n in ha fa1 fa2 fa3 mn dbs; do
		kill -0 "$(cat "$TB_RUN/$n.pid")" 2>/dev/null || fail "$n is gone"
		tb_ctl "$n" status >/dev/null || fail "$n does not answer on its control socket"
	done
}

# req NODE SENDER K_DB [OPTIONS]: mipsa-store request for the MN to fa1 from
# NODE as SENDER; sets out (one JSON line per copy) and rc (its exit status)
req() {
	local node=$1 sender=$2 kdb=$3
	shift 3
	rc=0
	out=$(tb_exec "$node" "$store" -j -a "$TB_FA1_COA" -l "$sender" -k "$kdb" -t 500 "$@" \
		request "$TB_MN_NAI") || rc=$?
}

# only_fallback NODE NAME=VALUE...: every fallback_* counter is 0 but the ones named
only_fallback() {
	local node=$1 filter="(.reuse_counters | to_entries | map(select(.key | startswith(\"fallback_\")) | .value) | add) == ([" sep="" kv
	shift
	for kv in "$@"; do
		[[ ${kv%%=*} == fallback_* ]] && filter+="$sep${kv#*=}" && sep=,
	done
	filter+="] | add // 0)"
	for kv in "$@"; do
		filter+=" and .reuse_counters.${kv%%=*} == ${kv#*=}"
	done
	jqa "$node" sas "$filter"
}

# garbage NODE SRC DST N: N datagrams of random bytes, random length 0..1500,
# from NODE to DST:4434.  Up to 1472 bytes through mipsa-inject (exact, one
# frame; every fourth starts like a sax REQUEST and every fourth like a
# STORE_PUT, to get past the first checks), longer ones through a UDP
# socket (mipsa-inject sends no fragments).
garbage() {
	# shellcheck disable=SC2016 # expanded by the inner shell
	tb_exec "$1" bash -c '
		set -e
		inject=$1 src=$2 dst=$3 n=$4 tmp=$5
		for ((i = 0; i < n; i++)); do
			len=$((RANDOM % 1501))
			head -c "$len" /dev/urandom >"$tmp"
			if ((len > 1472)); then
				cat "$tmp" >"/dev/udp/$dst/4434"
				continue
			fi
			hex=$(od -An -tx1 -v "$tmp" | tr -d " \n")
			if ((len >= 2 && i % 4 == 0)); then
				hex=0101${hex:4}
			elif ((len >= 2 && i % 4 == 1)); then
				hex=0104${hex:4}
			fi
			"$inject" udp --src "$src" --dst "$dst" --sport 4434 --dport 4434 --hex "$hex"
		done' _ "$inject" "$2" "$3" "$4" "$TB_RUN/garbage.$1"
}

start "hostile requests and garbage: full reuse, technique both, mipsa-dbs"
kdb_a=$TB_RUN/k_db.a ksa_a=$TB_RUN/k_sa.a kdb_b=$TB_RUN/k_db.b ksa_b=$TB_RUN/k_sa.b

# ---- 1. the right K_DB, from outside the domain ----
echo "--- 1. a request from a non-member with the domain's keys"
nm=$(ctr fa1 served_not_member) bad=$(ctr fa1 sax_bad_messages)
# the store's address: mipsa-dbs holds port 4434 there, the answer is watched for raw
req dbs "$TB_DBS_ADDR" "$kdb_a" -K "$ksa_a"
[[ $rc -eq 2 ]] || fail "request from $TB_DBS_ADDR: exit $rc, want 2 (refused): $out"
jq -e '.copy == 1 and .status == "refused" and .reason == "not_member" and .ignored == 0' \
	>/dev/null <<<"$out" || fail "request from $TB_DBS_ADDR: $out"
settle "served_not_member" jqa_q fa1 sas ".reuse_counters.served_not_member == $((nm + 1))"
grep -q "SA request from $TB_DBS_ADDR, not a member of the domain: refused" "$TB_RUN/fa1.log" ||
	fail "fa1 did not log the refusal of $TB_DBS_ADDR"
# the correspondent's address: port 4434 free there, the answer comes to our socket
req cn "$TB_CN_ADDR" "$kdb_a" -K "$ksa_a"
[[ $rc -eq 2 ]] || fail "request from $TB_CN_ADDR: exit $rc, want 2 (refused): $out"
jq -e '.status == "refused" and .reason == "not_member"' >/dev/null <<<"$out" ||
	fail "request from $TB_CN_ADDR: $out"
settle "served_not_member" jqa_q fa1 sas ".reuse_counters.served_not_member == $((nm + 2))"
grep -q "SA request from $TB_CN_ADDR, not a member of the domain: refused" "$TB_RUN/fa1.log" ||
	fail "fa1 did not log the refusal of $TB_CN_ADDR"
served served_records=0 served_refused=0 "sax_bad_messages=$bad"
has_sas fa1
pings
echo "    refused (not_member), counted, logged; fa1 keeps the SAs, traffic flows"

# ---- 1b. K_DB alone: what the store holds does not let anyone ask an FA ----
echo "--- 1b. a request under K_DB alone (the store's key), from the store"
req dbs "$TB_DBS_ADDR" "$kdb_a"
[[ $rc -eq 3 ]] || fail "request under K_DB alone: exit $rc, want 3 (no answer): $out"
settle "sax_bad_messages" jqa_q fa1 sas ".reuse_counters.sax_bad_messages == $((bad + 1))"
served "served_not_member=$((nm + 2))" served_records=0 served_refused=0
has_sas fa1
echo "    no answer, counted as bad: FA-to-FA messages need a key derived from K_SA"

# ---- 2. domain B's K_DB ----
echo "--- 2. a request under another domain's keys (from fa3)"
bad=$(ctr fa1 sax_bad_messages) bad3=$(ctr fa3 sax_bad_messages)
req fa3 "$TB_FA3_COA" "$kdb_b" -K "$ksa_b"
[[ $rc -eq 3 ]] || fail "request under domain B's K_DB: exit $rc, want 3 (no answer): $out"
jq -e '.status == "timeout" and .ignored == 0' >/dev/null <<<"$out" ||
	fail "request under domain B's K_DB: $out"
settle "sax_bad_messages" jqa_q fa1 sas ".reuse_counters.sax_bad_messages == $((bad + 1))"
grep -q "SA transfer message from $TB_FA3_COA: bad HMAC" "$TB_RUN/fa1.log" ||
	fail "fa1 did not log the bad HMAC from $TB_FA3_COA"
served "served_not_member=$((nm + 2))" served_records=0 served_refused=0
[[ $(ctr fa3 sax_bad_messages) -eq $bad3 ]] || fail "fa3 received something back"
echo "    no answer, counted as bad by fa1"

# ---- 3. a replay ----
echo "--- 3. the same request bytes twice"
bad=$(ctr fa1 sax_bad_messages)
req dbs "$TB_DBS_ADDR" "$kdb_a" -K "$ksa_a" -R
[[ $rc -eq 3 ]] || fail "replayed request: exit $rc, want 3 (the replay unanswered): $out"
[[ $(wc -l <<<"$out") -eq 2 ]] || fail "replayed request: want two results: $out"
jq -e '.copy == 1 and .status == "refused" and .reason == "not_member"' >/dev/null \
	<<<"$(sed -n 1p <<<"$out")" || fail "first copy: $out"
jq -e '.copy == 2 and .status == "timeout" and .ignored == 0' >/dev/null \
	<<<"$(sed -n 2p <<<"$out")" || fail "second copy: $out"
settle "sax_bad_messages" jqa_q fa1 sas ".reuse_counters.sax_bad_messages == $((bad + 1))"
served "served_not_member=$((nm + 3))" served_records=0 served_refused=0
grep -q "SA transfer message from $TB_DBS_ADDR: replayed" "$TB_RUN/fa1.log" ||
	fail "fa1 did not log the replay"
echo "    first copy refused, the replay counted as bad and not answered"

# ---- 4. garbage ----
echo "--- 4. 200 garbage datagrams each to fa1 and to mipsa-dbs"
bad=$(ctr fa1 sax_bad_messages) dbad=$(dbs_refused)
garbage dbs "$TB_DBS_ADDR" "$TB_FA1_COA" 200 || fail "sending garbage to fa1"
garbage fa3 "$TB_FA3_COA" "$TB_DBS_ADDR" 200 || fail "sending garbage to mipsa-dbs"
settle "fa1 counted 200 bad messages" \
	jqa_q fa1 sas ".reuse_counters.sax_bad_messages == $((bad + 200))"
settle "mipsa-dbs counted 200 refusals" jqa_q dbs counters \
	"([.counters | to_entries[] | select(.key | startswith(\"refused_\")) | .value] | add) == $((dbad + 200))"
served "served_not_member=$((nm + 3))" served_records=0 served_refused=0
jqa dbs counters '.counters.stored == 1 and .counters.puts == 1'
alive
has_sas fa1
pings
echo "    every datagram counted; every daemon up; traffic flows"

# ---- 5. the control: a member gets past every check but the node's proof ----
echo "--- 5. a member (fa2's address) asking without the node's registration"
req fa2 "$TB_FA2_COA" "$kdb_a" -K "$ksa_a"
[[ $rc -eq 2 ]] || fail "request from member $TB_FA2_COA: exit $rc, want 2 (refused): $out"
jq -e ".status == \"refused\" and .reason == \"proof\" and .fa == \"$TB_FA1_COA\"" \
	>/dev/null <<<"$out" || fail "answer from fa1: $out"
settle "served_bad_proof" jqa_q fa1 sas '.reuse_counters.served_bad_proof == 1'
served "served_not_member=$((nm + 3))" served_records=0 served_refused=0
has_sas fa1
pings
echo "    refused for the proof only (membership and keys passed); fa1 keeps the SAs"

# ---- 6 and 7: a record in the store that is no good, the previous FA silent ----
# store_record KIND: KIND possession (right keys, random cookies, no pairs) or
# sealed (sealed under domain B's K_SA); then the MN moves to fa2 with fa1
# stopped, so fa2 falls back to the store.
store_record() {
	local kind=$1 ksa=$ksa_a counter=fallback_possession t0 t1 why
	why="names another ISAKMP SA"
	if [[ $kind == sealed ]]; then
		ksa=$ksa_b counter=fallback_bad_record why="sealed part does not open"
	fi
	kill -STOP "$(cat "$TB_RUN/fa1.pid")"
	# written as fa1 (the store takes writes from members only)
	out=$(tb_exec fa1 "$store" -j -a "$TB_DBS_ADDR" -l "$TB_FA1_COA" -k "$kdb_a" -K "$ksa" \
		put "$TB_MN_NAI" "$TB_MN_HOME") || fail "put of the forged record: $out"
	out=$(tb_exec fa2 "$store" -j -a "$TB_DBS_ADDR" -l "$TB_FA2_COA" -k "$kdb_a" -K "$ksa_a" \
		get "$TB_MN_NAI") || fail "get of the forged record: $out"
	if [[ $kind == sealed ]]; then
		jq -e '.verified and (.opened | not)' >/dev/null <<<"$out" ||
			fail "the store does not hold the forged record: $out"
	else
		jq -e ".verified and .opened and .home_address == \"$TB_MN_HOME\" and .children == 0" \
			>/dev/null <<<"$out" || fail "the store does not hold the forged record: $out"
	fi
	t0=$(date +%s%N)
	tb_move fa2 >/dev/null
	tb_wait_registered fa2 15 || fail "no registration through fa2"
	pings
	t1=$(date +%s%N)
	kill -CONT "$(cat "$TB_RUN/fa1.pid")"
	only_fallback fa2 "$counter=1" reuse_requests=1 reuse_refused=1 reuse_full=0 reuse_partial=0
	jqa mn sas '.esp_counters.reuse_refused == 1 and .esp_counters.reuse_full == 0'
	grep -q "SA reuse for $TB_MN_HOME falls back to negotiation: $why" "$TB_RUN/fa2.log" ||
		fail "fa2 did not log the reason ($why)"
	has_sas fa2
	alive
	echo "    fa2 refused it ($counter), the MN negotiated: traffic $(((t1 - t0) / 1000000)) ms after the move"
}

echo "--- 6. a forged record in the store (right keys, random cookies), fa1 silent"
store_record possession

# oversized datagrams, counted like any other bad message
echo "--- 6b. datagrams larger than the receive buffer, to fa1 and to mipsa-dbs"
bad=$(ctr fa1 sax_bad_messages) dbad=$(dbs_refused)
head -c 9000 /dev/urandom >"$TB_RUN/garbage.big"
for _ in 1 2 3; do
	tb_exec dbs bash -c "cat '$TB_RUN/garbage.big' >/dev/udp/$TB_FA1_COA/4434"
	tb_exec fa3 bash -c "cat '$TB_RUN/garbage.big' >/dev/udp/$TB_DBS_ADDR/4434"
done
settle "fa1 counted 3 oversized datagrams" \
	jqa_q fa1 sas ".reuse_counters.sax_bad_messages == $((bad + 3))"
settle "mipsa-dbs counted 3 oversized datagrams" jqa_q dbs counters \
	"([.counters | to_entries[] | select(.key | startswith(\"refused_\")) | .value] | add) == $((dbad + 3))"
alive
tb_down

start "a record sealed under another domain's K_SA"
echo "--- 7. a record sealed under domain B's K_SA in the store, fa1 silent"
store_record sealed

# a STORE_DEL ("the node's SAs are mine now") forged under K_DB, which the
# store holds, with a member's source address: fa2 must keep the MN's SAs.
{
	echo "--- 8. a STORE_DEL to fa2 forged by a K_DB holder (the store) as fa1"
	hexip() {
		local IFS=.
		# shellcheck disable=SC2086 # split on the dots
		printf '%02x%02x%02x%02x' $1
	}
	id=$(printf '%s' "$TB_MN_NAI" | od -An -tx1 -v | tr -d ' \n')
	# Version 1, Type 7 (STORE_DEL), Flags 0, Timestamp, Nonce, Sender, Expires 0,
	# MN ID, Sealed length 0; then the HMAC under K_DB (common/sax.h)
	del=01070000$(printf '%016x' "$(($(date +%s%N) / 1000000))")
	del+=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')$(hexip "$TB_FA1_COA")0000000000000000
	del+=$(printf '%02x' ${#TB_MN_NAI})${id}0000
	# shellcheck disable=SC2001 # each byte's two hex digits become \xHH
	mac=$(printf '%b' "$(sed 's/../\\x&/g' <<<"$del")" |
		openssl dgst -sha256 -mac HMAC -macopt "hexkey:$(cat "$kdb_a")" -binary |
		od -An -tx1 -v | tr -d ' \n')
	bad=$(ctr fa2 sax_bad_messages)
	tb_exec dbs "$inject" udp --src "$TB_FA1_COA" --dst "$TB_FA2_COA" --sport 4434 \
		--dport 4434 --hex "$del$mac"
	settle "fa2 counted the forgery as bad" \
		jqa_q fa2 sas ".reuse_counters.sax_bad_messages == $((bad + 1))"
	alive
	has_sas fa2
	tb_exec cn ping -c 2 -i 0.2 -W 1 -q "$TB_MN_HOME" >/dev/null ||
		fail "CN -> MN traffic stopped after the forged STORE_DEL"
	echo "    refused as a bad message; fa2 keeps the SAs, traffic flows"
}
echo "test_reuse_hostile: $(($(date +%s) - started)) s"
echo "test_reuse_hostile: ok"
