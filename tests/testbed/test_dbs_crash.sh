#!/usr/bin/env bash
#
# mipsa-dbs killed (SIGKILL) and restarted under load loses nothing it
# acknowledged.  mipsa-store's load (one long-lived client, as an FA's,
# from fa1's namespace) puts records load0, load1, ... one after the
# other, 2 ms apart; the daemon in the dbs namespace is killed twice in
# the middle and restarted at once (as a supervisor would).  It answers a
# put only once its log entry is synced (test_dbs.sh checks the order with
# strace), so every put answered "ok" before a kill must be there after
# the restart: `load get` reads them all back, authentic under K_DB.  The
# puts made while it is down time out (not acknowledged, not counted); the
# load goes on after each restart (acknowledgements after it, printed:
# the longest stretch without one).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=require.sh
source "$here/require.sh"
need_root
bin=${MIPSA_BIN:-$top}
export TB_PREFIX=${TB_PREFIX:-dc$$}
# shellcheck disable=SC1091 # testbed/lib.sh, found at run time
source "$top/testbed/lib.sh"
# shellcheck disable=SC1091 # for the sandbox settings and the user (doc/security.md)
source "$top/testbed/daemons.sh"

# shellcheck source=dbs_helpers.sh
source "$here/dbs_helpers.sh"
dbs_run_dir dbs-crash
load_pid=
cleanup() {
	[[ -z $load_pid ]] || kill "$load_pid" 2>/dev/null || true
	stop_dbs
	wait 2>/dev/null || true
	rm -rf "$run"
}
tb_trap_cleanup cleanup

# acked: the puts answered "ok" so far
acked() {
	awk '$2 == "ok"' "$run/load.out" | wc -l
}

# more_acked N S: more than N puts acknowledged within S seconds
more_acked() {
	local n=$1 deadline=$((SECONDS + $2))
	until (($(acked) > n)); do
		((SECONDS < deadline)) || fail "no put acknowledged within $2 s (still $n)"
		sleep 0.05
	done
}

dbs_keys k_db k_sa
dbs_conf '  members = ( "'"$TB_FA1_COA"'" );
  max_records = 1000000;'
tb_ensure_user || fail "no user $TB_USER for the daemon"
tb_up
start_dbs

: >"$run/load.out"
# not through tb_exec (a function: $! would be a subshell that kill leaves running)
ip netns exec "$(tb_ns fa1)" "$bin/tools/mipsa-store" -a "$TB_DBS_ADDR" -l "$TB_FA1_COA" \
	-k "$run/k_db" -K "$run/k_sa" -t 300 load put load 1000000 2 >"$run/load.out" 2>"$run/load.err" &
load_pid=$!
for round in 1 2; do
	more_acked "$(acked)" 10
	more_acked $(($(acked) + 200)) 20
	kill -KILL "$dbs_pid"
	wait "$dbs_pid" 2>/dev/null || true
	before=$(acked)
	kill_ms=$(date +%s%3N)
	start_dbs
	more_acked "$before" 10
	first=$(awk -v t="$kill_ms" '$2 == "ok" && $3 > t { print $3 - t; exit }' "$run/load.out")
	echo "    kill $round: $before puts acknowledged before it; restarted, the first" \
		"acknowledgement ${first:-?} ms after the kill"
done
more_acked $(($(acked) + 100)) 20
kill "$load_pid"
wait "$load_pid" 2>/dev/null || true
load_pid=

n=$(wc -l <"$run/load.out")
ok=$(acked)
gap=$(awk '$2 == "ok" { if (last && $3 - last > gap) gap = $3 - last; last = $3 }
	END { print gap + 0 }' "$run/load.out")
tb_exec fa1 "$bin/tools/mipsa-store" -a "$TB_DBS_ADDR" -l "$TB_FA1_COA" -k "$run/k_db" \
	-t 1000 load get load "$n" >"$run/check.out" 2>"$run/check.err"
lost=$(join <(awk '$2 == "ok" { print $1 }' "$run/load.out" | sort) \
	<(awk '$2 != "ok" { print $1, $2 }' "$run/check.out" | sort))
[[ -z $lost ]] || fail "$(wc -l <<<"$lost") acknowledged records not read back: $(head -5 <<<"$lost")"
ctl --json status | jq -e '.counters.loaded > 0' >/dev/null || fail "nothing loaded from the log"
echo "    load: $n puts, $ok acknowledged, all $ok read back after two SIGKILLs;" \
	"longest stretch without an acknowledgement ${gap} ms"
echo "PASS: test_dbs_crash"
