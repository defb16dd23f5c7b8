#!/usr/bin/env bash
#
# mipsa-dbs in the namespace testbed (namespace dbs, 198.18.3.2), written
# to by tools/mipsa-store from the FA namespaces: fa1 is a member by
# address, fa2 by prefix, fa3 is not a member.  Checks: records put from
# fa1/fa2 are read back (sealed part opens), survive a restart of the
# daemon; fa3 is refused and counted; a wrong K_DB gets no answer; a
# short-lived record is gone after its Expires; a put and a delete are
# answered only after their log entry is written and synced, puts sent at
# once perhaps sharing one sync (strace); a torn log tail (a crash
# in the middle of a write) and garbage after the last entry are cut off
# at start and the daemon goes on; mipsactl status/counters/records in
# text and JSON, with no key material in the listing; a flood on UDP 4434
# beyond the receive buffer, the daemon stopped: every datagram is either
# handled or counted as dropped by the kernel (rcvbuf_drops, SO_RXQ_OVFL).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=require.sh
source "$here/require.sh"
need_root
bin=${MIPSA_BIN:-$top}
export TB_PREFIX=${TB_PREFIX:-db$$}
# shellcheck disable=SC1091 # testbed/lib.sh, found at run time
source "$top/testbed/lib.sh"
# shellcheck disable=SC1091 # for the sandbox settings and the user (doc/security.md)
source "$top/testbed/daemons.sh"

# shellcheck source=dbs_helpers.sh
source "$here/dbs_helpers.sh"
dbs_run_dir dbs-test
cleanup() {
	stop_dbs
	rm -rf "$run"
}
tb_trap_cleanup cleanup

# jqa CMD FILTER: the jq FILTER holds on `mipsactl --json CMD`
jqa() {
	local out
	out=$(ctl --json "$1") || fail "mipsactl $1"
	jq -e "$2" >/dev/null <<<"$out" || fail "$1: expected $2, got $out"
}

# store NODE SENDER [options] OP ARGS...: mipsa-store from NODE as SENDER, JSON out
store() {
	local node=$1 sender=$2
	shift 2
	tb_exec "$node" "$bin/tools/mipsa-store" -j -a "$TB_DBS_ADDR" -l "$sender" \
		-k "$run/k_db" -K "$run/k_sa" -t 1000 "$@"
}
# expect_store STATUS NODE SENDER ARGS...: exit status and JSON status both as STATUS says
expect_store() {
	local want=$1 out rc=0 code
	shift
	out=$(store "$@") || rc=$?
	case $want in ok) code=0 ;; not_found) code=1 ;; refused) code=2 ;; *) code=3 ;; esac
	[[ $rc -eq $code ]] || fail "mipsa-store $*: exit $rc, want $code ($out)"
	jq -e ".status == \"$want\"" >/dev/null <<<"$out" || fail "mipsa-store $*: $out"
	printf '%s\n' "$out"
}

dbs_keys k_db k_sa k_wrong
dbs_conf '  members = ( "'"$TB_FA1_COA"'" );
  member_prefix = "198.18.12.0/24";
  freshness_window_ms = 30000;
  max_records = 100;'
tb_ensure_user || fail "no user $TB_USER for the daemon"
"$bin/dbs/mipsa-dbs" -t -c "$run/dbs.conf" >/dev/null || fail "configuration check"

tb_up
start_dbs
jqa status '.daemon == "mipsa-dbs" and .records == 0 and .members == 1'

# ---- members write, any member reads ----
expect_store ok fa1 "$TB_FA1_COA" put mn1@home.example 198.18.100.10 >/dev/null
expect_store ok fa2 "$TB_FA2_COA" put mn2@home.example 198.18.100.20 >/dev/null
expect_store ok fa1 "$TB_FA1_COA" -L 2 put short@home.example 198.18.100.30 >/dev/null
out=$(expect_store ok fa2 "$TB_FA2_COA" get mn1@home.example)
jq -e '.verified and .home_address == "198.18.100.10" and .prev_coa == "198.18.11.2" and
	.sender == "198.18.3.2"' >/dev/null <<<"$out" || fail "get mn1: $out"
jqa records '[.records[].mn_id] == ["mn1@home.example", "mn2@home.example", "short@home.example"]'
jqa records '.records[0].writer == "198.18.11.2" and .records[1].writer == "198.18.12.2"'
# what a record shows: who wrote it and until when, no key material
jqa records '[.records[] | keys] | unique ==
	[["expires_ms", "mn_id", "remaining", "sealed_bytes", "writer", "written_ms"]]'
ctl records | grep -q "mn1@home.example" || fail "text records listing"
ctl status | grep -q "synced_writes" || fail "text status"

# ---- outsiders ----
expect_store refused fa3 "$TB_FA3_COA" put mn9@home.example 198.18.100.90 >/dev/null
expect_store refused fa3 "$TB_FA3_COA" get mn1@home.example >/dev/null
out=$(tb_exec fa1 "$bin/tools/mipsa-store" -j -a "$TB_DBS_ADDR" -l "$TB_FA1_COA" \
	-k "$run/k_wrong" -t 200 get mn1@home.example) && fail "wrong K_DB answered: $out"
jq -e '.status == "timeout"' >/dev/null <<<"$out" || fail "wrong K_DB: $out"
# the client asks a second time at half its timeout (if its loop fires that
# timer in time): each asking refused
jqa counters '.counters.refused_not_member >= 2 and (.counters.refused_mac == 1 or
	.counters.refused_mac == 2) and .counters.stored == 3'

# ---- expiry ----
# the 2 s record goes on the daemon's expiry tick (10 s at most)
deadline=$((SECONDS + 10))
until out=$(ctl --json status) && jq -e '.counters.expired == 1' >/dev/null <<<"$out"; do
	((SECONDS < deadline)) || fail "short@home.example not expired within 10 s: $out"
	sleep 0.1
done
expect_store not_found fa1 "$TB_FA1_COA" get short@home.example >/dev/null
jqa status '.records == 2 and .counters.expired == 1'

# ---- restart: the records survive ----
stop_dbs
start_dbs
jqa status '.records == 2 and .counters.loaded == 2 and .counters.log_dropped_bytes == 0'
out=$(expect_store ok fa1 "$TB_FA1_COA" get mn2@home.example)
jq -e '.home_address == "198.18.100.20"' >/dev/null <<<"$out" || fail "mn2 after restart: $out"

# ---- durability: a put or delete is written, synced, and only then answered ----
# strace, attached to the running daemon, records the order of the log's
# writes and fdatasyncs and of the answers' sendmsg.  Group commit lets one
# sync cover the writes of several requests read together, so the rule is:
# no answer goes out while a write is not yet synced (each answer follows
# the sync that covers its write).  A put and a delete one after the other,
# then four puts at once (from two FAs), which may share a sync.
command -v strace >/dev/null || fail "strace missing (scripts/deps)"
log_fd=
for f in /proc/"$dbs_pid"/fd/*; do
	[[ $(readlink "$f") == "$run/data/dbs.log" ]] && log_fd=${f##*/}
done
[[ -n $log_fd ]] || fail "mipsa-dbs has no descriptor for $run/data/dbs.log"
strace -qq -p "$dbs_pid" -e trace=write,pwrite64,fdatasync,fsync,sendmsg,sendto \
	-o "$run/trace" &
strace_pid=$!
deadline=$((SECONDS + 10))
until grep -Eq '^TracerPid:[[:space:]]+[1-9]' /proc/"$dbs_pid"/status; do
	((SECONDS < deadline)) || fail "strace did not attach to mipsa-dbs"
	sleep 0.05
done
expect_store ok fa1 "$TB_FA1_COA" put durable@home.example 198.18.100.60 >/dev/null
expect_store ok fa2 "$TB_FA2_COA" del durable@home.example >/dev/null
together=()
for i in 1 2; do
	expect_store ok fa1 "$TB_FA1_COA" put "group$i@home.example" 198.18.100.6$i >/dev/null &
	together+=($!)
	expect_store ok fa2 "$TB_FA2_COA" put "group$((i + 2))@home.example" 198.18.100.7$i \
		>/dev/null &
	together+=($!)
done
for p in "${together[@]}"; do
	wait "$p" || fail "a put sent together with others failed"
done
kill -INT "$strace_pid"
wait "$strace_pid" 2>/dev/null || true
# W: the log written, S: the log synced, A: an answer sent
order=$(awk -v fd="$log_fd" '
	$0 ~ "^(write|pwrite64)\\(" fd "," { printf "W" }
	$0 ~ "^(fdatasync|fsync)\\(" fd "\\)" { printf "S" }
	/^(sendmsg|sendto)\(/ { printf "A" }' "$run/trace")
[[ ${order:0:6} == WSAWSA ]] ||
	fail "put, then delete: order ${order:0:6}, want WSAWSA (trace: $run/trace)"
# An answer while a write waits for its sync: a W with no S between it and an A.
if [[ $order =~ W[^S]*A ]]; then
	fail "an answer before the sync of a write: order $order (trace: $run/trace)"
fi
writes=${order//[^W]/} answers=${order//[^A]/}
((${#writes} == 6 && ${#answers} == 6)) ||
	fail "six writes and six answers expected: order $order (trace: $run/trace)"
kill -0 "$dbs_pid" || fail "mipsa-dbs died under strace"
for i in 1 2 3 4; do # the checks below count the records of before
	expect_store ok fa1 "$TB_FA1_COA" del "group$i@home.example" >/dev/null
done

# ---- a torn write at a crash: the daemon starts, without the torn record ----
expect_store ok fa1 "$TB_FA1_COA" put torn@home.example 198.18.100.40 >/dev/null
kill -KILL "$dbs_pid"
wait "$dbs_pid" 2>/dev/null || true
dbs_pid=
truncate -s -7 "$run/data/dbs.log"
start_dbs
jqa status '.records == 2 and .counters.log_dropped_bytes > 0'
expect_store not_found fa1 "$TB_FA1_COA" get torn@home.example >/dev/null
expect_store ok fa1 "$TB_FA1_COA" get mn1@home.example >/dev/null
# appends after the cut are read back; garbage after the last entry is cut too
expect_store ok fa2 "$TB_FA2_COA" put after@home.example 198.18.100.50 >/dev/null
stop_dbs
head -c 100 /dev/urandom >>"$run/data/dbs.log"
start_dbs
jqa status '.records == 3 and .counters.log_dropped_bytes == 100'
expect_store ok fa1 "$TB_FA1_COA" get after@home.example >/dev/null

# ---- a flood larger than the receive buffer ----
# 20000 one-byte datagrams while the daemon is stopped (from its own
# namespace, over loopback, so none is lost on the way): the 4 MiB buffer
# holds some thousands, the kernel drops the rest.  SO_RXQ_OVFL reports
# the total with the next datagram read, so one more follows the drain.
# drained: the daemon's receive queue is empty (ss: Recv-Q 0), within 10 s
# (not "the counter stood still for a while": a daemon that a loaded
# machine has not yet scheduled stands still too)
drained() {
	local deadline=$((SECONDS + 10)) q
	until q=$(tb_exec dbs ss -Huan 'sport = :4434' | awk '{ print $2; exit }') && [[ $q == 0 ]]; do
		((SECONDS < deadline)) || fail "mipsa-dbs's receive queue still holds ${q:-?} bytes after 10 s"
		sleep 0.1
	done
}
flood=20000
drained
before=$(ctl --json counters | jq '.counters.refused_malformed')
jqa counters '.counters.rcvbuf_drops.sax == 0'
kill -STOP "$dbs_pid"
tb_exec dbs "$bin/tools/mipsa-inject" udp --src "$TB_DBS_ADDR" --dst "$TB_DBS_ADDR" \
	--sport 9 --dport 4434 --hex 00 --count "$flood"
kill -CONT "$dbs_pid"
drained
tb_exec dbs "$bin/tools/mipsa-inject" udp --src "$TB_DBS_ADDR" --dst "$TB_DBS_ADDR" \
	--sport 9 --dport 4434 --hex 00
deadline=$((SECONDS + 5))
until out=$(ctl --json counters) &&
	jq -e ".counters.refused_malformed - $before + .counters.rcvbuf_drops.sax == $flood + 1" \
		>/dev/null <<<"$out"; do
	((SECONDS < deadline)) || fail "flood: not every datagram accounted for: $out"
	sleep 0.1
done
jq -e '.counters.rcvbuf_drops.sax > 0 and .counters.refused_malformed > 1000' >/dev/null <<<"$out" ||
	fail "flood: the buffer held all of it, or nothing: $out"
echo "flood: $(jq -c '{handled: .counters.refused_malformed, dropped: .counters.rcvbuf_drops}' <<<"$out")"

# ---- delete ----
expect_store ok fa2 "$TB_FA2_COA" del mn1@home.example >/dev/null
expect_store not_found fa1 "$TB_FA1_COA" get mn1@home.example >/dev/null
stop_dbs
start_dbs
jqa records '[.records[].mn_id] == ["after@home.example", "mn2@home.example"]'
kill -0 "$dbs_pid" || fail "mipsa-dbs died"
echo "PASS: test_dbs"
