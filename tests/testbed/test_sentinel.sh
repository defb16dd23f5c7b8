#!/usr/bin/env bash
#
# The domain's store on a replicated Redis with failover: a primary, two
# replicas and three Redis Sentinels in the dbs namespace
# (tests/testbed/redis_sentinel.sh); fa1 and fa2 find the primary through
# the Sentinels and keep the node's SA record with WAIT 1 (a write counts
# only once a replica has it).  Full reuse from the store, with records
# written meanwhile by mipsa-store's load (one long-lived client, as an
# FA's, from fa1's namespace, user "load").
#
#  1. hand-overs fa1 <-> fa2 take the SAs from the store (no IKE message);
#  2. the primary is killed (SIGKILL) in the middle of the load, and the
#     node hands over at once, into the outage: it registers within 15 s,
#     with the SAs from the store if the new FA's client already found the
#     promoted replica, else by negotiating (printed).  Both FAs find the
#     promoted replica through the Sentinels on their own; an FA whose
#     copy of the node's SAs failed during the outage writes it again
#     (store_put_retries), so every hand-over after that takes the SAs from
#     the store again, the first within FAILOVER_BOUND_S of the kill
#     (measured and printed).  From the kill on, traffic must flow both
#     ways within RESUME_BOUND_S of each registration (printed): an FA
#     whose own copy has not been kept yet holds its packets meanwhile;
#  3. every record the load was told is kept (WAIT counted a replica) is
#     read back, authentic, from the new primary: none lost; the FAs
#     counted the failover (store_counters.failovers) and the node's record
#     is there.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=require.sh
source "$here/require.sh"
need_root
export TB_PREFIX=${TB_PREFIX:-se$$} TB_IPSEC=1 TB_REUSE=full TB_TECHNIQUE=store
export TB_STORE=sentinel TB_XFER_TIMEOUT_MS=300
source "$top/testbed/lib.sh"
source "$top/testbed/daemons.sh"
source "$here/helpers.sh"
# shellcheck source=redis_sentinel.sh
source "$here/redis_sentinel.sh"
for b in redis-server redis-sentinel redis-cli jq; do
	need_cmd "$b" scripts/deps
done
FAILOVER_BOUND_S=30
RESUME_BOUND_S=5
load_pid=
ping_pid=
cleanup() {
	[[ -z $load_pid ]] || kill "$load_pid" 2>/dev/null || true
	[[ -z $ping_pid ]] || kill "$ping_pid" 2>/dev/null || true
	rs_stop
}
tb_trap_cleanup cleanup

now_ms() {
	date +%s%3N
}

# ping1 NODE ADDR: one echo from NODE to ADDR answered within a second
ping1() {
	tb_exec "$1" ping -c 1 -W 1 -q "$2" >/dev/null 2>&1
}

# hop TO [RESUME_S]: move the node to TO, registered and pinging; sets how
# TO got the SAs: how=store (full reuse from the store) or how=fallback.
# With RESUME_S, traffic must flow both ways within RESUME_S seconds of the
# registration, and resume_ms says when it did; held is what TO refused to
# send meanwhile (esp_drop_reserved).  After a failover, the FA's own copy
# of the SAs it took may fail at first (WAIT before a replica follows the
# new primary), and until it is kept the FA sends nothing above the numbers
# the store's older copy promised: it writes the copy again every second
# (store_put_retries) or renews the SAs by Quick Mode.
hop() {
	local to=$1 bound=${2:-} before after held0 t0
	before=$(jqv "$to" sas '.reuse_counters.reuse_full')
	held0=$(jqv "$to" sas '.esp_counters.esp_drop_reserved')
	tb_move "$to" >/dev/null
	tb_wait_registered "$to" 15 || fail "no registration through $to"
	if [[ -z $bound ]]; then
		pings
	else
		t0=$(now_ms)
		within "ping CN -> MN through $to" "$bound" ping1 cn "$TB_MN_HOME"
		within "ping MN -> CN through $to" "$bound" ping1 mn "$TB_CN_ADDR"
		resume_ms=$(($(now_ms) - t0))
		held=$(($(jqv "$to" sas '.esp_counters.esp_drop_reserved') - held0))
	fi
	after=$(jqv "$to" sas '.reuse_counters.reuse_full')
	how=fallback
	((after == before)) || how=store
}

tb_up
mkdir -p "$TB_RUN"
rs_setup "$(tb_ns dbs)" "$TB_DBS_ADDR" "$TB_RUN/rs" "fa-$TB_FA1_COA" "fa-$TB_FA2_COA" load
t0=$SECONDS
rs_start || fail "the Redis primary, replicas and Sentinels did not come up"
first=$(rs_primary)
echo "--- Redis primary $first, replicas, 3 Sentinels ready after $((SECONDS - t0)) s"
tb_start_daemons
tb_wait_registered fa1 15 || fail "no registration through fa1"
pings

# the load: records load0, load1, ... one after the other, 5 ms apart
: >"$TB_RUN/load.out"
# not through tb_exec (a function: $! would be a subshell that kill leaves running)
ip netns exec "$(tb_ns fa1)" "$TB_BIN/tools/mipsa-store" -b redis -u load \
	-P "$TB_RUN/rs/pass.load" -S "$TB_DBS_ADDR:26379,$TB_DBS_ADDR:26380,$TB_DBS_ADDR:26381" -W 1 -w 200 \
	-k "$TB_RUN/k_db.a" -K "$TB_RUN/k_sa.a" -t 1000 load put load 1000000 5 \
	>"$TB_RUN/load.out" 2>"$TB_RUN/load.err" &
load_pid=$!

# ---- 1. before: from the store ----
for to in fa2 fa1 fa2; do
	hop "$to"
	[[ $how == store ]] || fail "hand-over to $to before the failover: $how"
done
within "the load's first records" 10 grep -q ' ok ' "$TB_RUN/load.out"
echo "    3 hand-overs with the SAs from the store"

# ---- 2. kill the primary, and hand over into the outage ----
# The node keeps sending (a ping every 200 ms): an FA writes a failed copy
# again only for a node that is still active.
# not through tb_exec (a function: $! would be a subshell that kill leaves running)
ip netns exec "$(tb_ns mn)" ping -i 0.2 -q "$TB_CN_ADDR" >/dev/null 2>&1 &
ping_pid=$!
rs_kill_primary "$first"
kill_ms=$(now_ms)
echo "--- primary $first killed"
hop fa1 "$RESUME_BOUND_S"
echo "    hand-over to fa1 during the outage: $how, traffic both ways $(($(now_ms) - kill_ms)) ms" \
	"after the kill, $held packets held"
for fa in fa1 fa2; do
	jqa_within "$FAILOVER_BOUND_S" "$fa" counters '.counters.store_counters.failovers >= 1'
done
seen_ms=$(($(now_ms) - kill_ms))
second=$(rs_primary)
[[ $second != "$first" ]] || fail "the Sentinels still name $first"
# fa1's copy of SAs it negotiated may have failed (or waited for the new
# primary): either way the next hand-over must find it in the store
echo "    fa1: $(jqv fa1 sas '.reuse_counters | "store_put_failures=\(.store_put_failures) store_put_retries=\(.store_put_retries)"')"
to=fa2
for i in 1 2 3; do
	hop "$to" "$RESUME_BOUND_S"
	[[ $how == store ]] || fail "hand-over $i to $to after the failover: $how"
	echo "    hand-over $i to $to: traffic both ways $resume_ms ms after the registration," \
		"$held packets held (bound $RESUME_BOUND_S s)"
	((i > 1)) || back_ms=$(($(now_ms) - kill_ms))
	[[ $to == fa1 ]] && to=fa2 || to=fa1
done
((back_ms < FAILOVER_BOUND_S * 1000)) ||
	fail "the first hand-over from the store came $back_ms ms after the kill"
echo "    failover to $second: both FAs on it $seen_ms ms after the kill; the first" \
	"hand-over from the store registered $back_ms ms after it (bound $FAILOVER_BOUND_S s)"
jqa fa1 counters '.counters.store_counters.sentinel_lookups >= 2'

# ---- 3. nothing acknowledged lost ----
kill "$ping_pid"
wait "$ping_pid" 2>/dev/null || true
ping_pid=
kill "$load_pid"
wait "$load_pid" 2>/dev/null || true
load_pid=
n=$(wc -l <"$TB_RUN/load.out")
acked=$(awk '$2 == "ok"' "$TB_RUN/load.out" | wc -l)
# the longest stretch without an acknowledged write: the outage the load saw
gap=$(awk '$2 == "ok" { if (last && $3 - last > gap) gap = $3 - last; last = $3 }
	END { print gap + 0 }' "$TB_RUN/load.out")
((acked > 100)) || fail "only $acked of $n writes acknowledged"
tb_exec fa2 "$TB_BIN/tools/mipsa-store" -b redis -u load -P "$TB_RUN/rs/pass.load" \
	-S "$TB_DBS_ADDR:26379,$TB_DBS_ADDR:26380,$TB_DBS_ADDR:26381" \
	-k "$TB_RUN/k_db.a" -t 1000 load get load "$n" >"$TB_RUN/check.out" 2>"$TB_RUN/check.err"
lost=$(join <(awk '$2 == "ok" { print $1 }' "$TB_RUN/load.out" | sort) \
	<(awk '$2 != "ok" { print $1 }' "$TB_RUN/check.out" | sort) | wc -l)
((lost == 0)) || fail "$lost acknowledged records not read back: $(join \
	<(awk '$2 == "ok" { print $1 }' "$TB_RUN/load.out" | sort) \
	<(awk '$2 != "ok" { print $1, $2 }' "$TB_RUN/check.out" | sort) | head -5)"
[[ $(rs_cli "${second##*:}" EXISTS "mipsa:sa:$TB_MN_NAI") == 1 ]] ||
	fail "the node's record is not on the new primary"
echo "    load: $n writes, $acked acknowledged, all $acked read back from $second;" \
	"longest stretch without an acknowledgement ${gap} ms"
echo "PASS: test_sentinel"
