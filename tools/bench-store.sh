#!/bin/bash
# The domain's store under load: mipsa-dbs against Redis, side by side in
# one run.  Starts, as an ordinary user on 127.0.0.1 and free ports, with
# data in a temporary directory:
#   mipsa-dbs              durable as in production: every write fdatasync'ed
#                          before it is acknowledged;
#   Redis "always"         appendonly yes, appendfsync always: the same promise;
#   Redis "everysec"       appendfsync everysec: up to a second of acknowledged
#                          writes may be lost (shown for reference, not the
#                          comparison);
#   dbs-baseline           with --baseline-dbs BIN: another mipsa-dbs binary
#                          (say, the one before a change), for before/after.
# Then runs tools/bench_store against each in turn (dbs, redis, ... for R
# rounds) and prints one table: transfers/s (median of the rounds, min-max),
# p50 and p99 latency, the server's CPU per transfer, transfers per
# server-CPU-second, and the ratio to Redis "always".  CSV of every run and
# of the table under the results directory.  Prints figures, asserts
# nothing about them; exit 1 when a server is missing or a run fails.
#
#   tools/bench-store.sh [--short] [--rounds R] [--seconds S] [--clients C]
#                        [--results DIR] [--baseline-dbs BIN]
#
# --short: 1 round of 2 s (a smoke run, under 30 s).  The data directories
# go under $TMPDIR (default /var/tmp); on tmpfs an fsync costs nothing, which
# the output says.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
bin=${MIPSA_BUILD:-$top}
dbs_bin=$bin/dbs/mipsa-dbs
bench=$bin/tools/bench_store
rounds=3 seconds=10 clients=64 results="" baseline=""

usage() {
	sed -n '20,22p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 64
}

while (($# > 0)); do
	case $1 in
	--short) rounds=1 seconds=2 ;;
	--rounds) rounds=${2:?}; shift ;;
	--seconds) seconds=${2:?}; shift ;;
	--clients) clients=${2:?}; shift ;;
	--results) results=${2:?}; shift ;;
	--baseline-dbs) baseline=${2:?}; shift ;;
	-h | --help) usage ;;
	*) usage ;;
	esac
	shift
done
[[ $rounds =~ ^[1-9][0-9]*$ && $seconds =~ ^[0-9]+(\.[0-9]+)?$ && $clients =~ ^[1-9][0-9]*$ ]] ||
	usage

die() {
	echo "bench-store: $*" >&2
	exit 1
}

command -v redis-server >/dev/null || die "redis-server is not installed: no comparison to make"
[[ -x $dbs_bin ]] || die "$dbs_bin is missing: build first (scripts/build)"
[[ -x $bench ]] || die "$bench is missing: build first (scripts/build)"
[[ -z $baseline || -x $baseline ]] || die "$baseline is not an executable mipsa-dbs"
results=${results:-$top/results/store-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$results"

tmp=$(mktemp -d "${TMPDIR:-/var/tmp}/mipsa-bench-store.XXXXXX")
pids=()
cleanup() {
	for p in "${pids[@]}"; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# A port free for both UDP and TCP on 127.0.0.1 and not handed out yet
# here (a small race with other programs remains).
taken=" "
got_port=""
free_port() { # into got_port
	local p
	for _ in $(seq 200); do
		p=$((20000 + RANDOM % 40000))
		[[ $taken == *" $p "* ]] && continue
		if [[ -z $(ss -Hantu "( sport = :$p )") ]]; then
			taken+="$p "
			got_port=$p
			return 0
		fi
	done
	die "no free port found"
}

wait_for() { # what, its pid, its log, test command...
	local what=$1 pid=$2 log=$3
	shift 3
	for _ in $(seq 100); do
		if ! kill -0 "$pid" 2>/dev/null; then
			tail -n 20 "$log" >&2 || true
			die "$what exited at start"
		fi
		"$@" 2>/dev/null && return 0
		sleep 0.05
	done
	die "$what did not come up"
}

tcp_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

declare -A port pid kind
systems=()

start_dbs() { # name, binary
	local name=$1 exe=$2 d=$tmp/$1
	mkdir -p "$d"
	free_port
	port[$name]=$got_port
	cat >"$d/dbs.conf" <<CONF
dbs: {
  address = "127.0.0.1";
  port = ${port[$name]};
  control_socket = "$d/dbs.sock";
  data_dir = "$d/data";
  k_db_file = "$tmp/k_db";
  members = ( "127.0.0.1" );
  max_records = 1000000;
  log_level = "warn";
};
CONF
	"$exe" -c "$d/dbs.conf" >>"$d/log" 2>&1 &
	pid[$name]=$!
	pids+=("$!")
	kind[$name]=dbs
	systems+=("$name")
	wait_for "$name" "${pid[$name]}" "$d/log" test -S "$d/dbs.sock"
}

start_redis() { # name, appendfsync
	local name=$1 d=$tmp/$1
	mkdir -p "$d"
	free_port
	port[$name]=$got_port
	cat >"$d/redis.conf" <<CONF
bind 127.0.0.1
port ${port[$name]}
dir $d
daemonize no
save ""
appendonly yes
appendfsync $2
logfile $d/log
user default off
user fa1 on >$(cat "$tmp/password") ~mipsa:sa:* +set +get +del
CONF
	redis-server "$d/redis.conf" &
	pid[$name]=$!
	pids+=("$!")
	kind[$name]=redis
	systems+=("$name")
	wait_for "$name" "${pid[$name]}" "$d/log" tcp_open "${port[$name]}"
}

(
	umask 077
	od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$tmp/k_db"
	od -An -tx1 -N16 /dev/urandom | tr -d ' \n' >"$tmp/password"
)
start_dbs dbs "$dbs_bin"
[[ -z $baseline ]] || start_dbs dbs-baseline "$baseline"
start_redis redis-always always
start_redis redis-everysec everysec

fs=$(stat -f -c %T "$tmp")
echo "bench-store: $clients clients, $rounds round(s) of ${seconds} s each; data on $fs ($tmp)"
[[ $fs != tmpfs && $fs != ramfs ]] ||
	echo "bench-store: WARNING: $tmp is in memory: fsync costs nothing there; set TMPDIR to a disk"

runs=$results/runs.csv
echo "round,system,backend,clients,put_pct,seconds,transfers,per_s,p50_us,p99_us,max_us,server_cpu_s,server_cpu_us_per_transfer,per_server_cpu_s,client_cpu_s,failed" >"$runs"

run_one() { # round, system
	local r=$1 s=$2 out=$results/raw-$2-$1.txt args
	if [[ ${kind[$s]} == dbs ]]; then
		args=(-b dbs -l 127.0.0.1 -k "$tmp/k_db")
	else
		args=(-b redis -u fa1 -P "$tmp/password")
	fi
	if ! "$bench" "${args[@]}" -a 127.0.0.1 -p "${port[$s]}" -c "$clients" -d "$seconds" \
		-s "${pid[$s]}" -C >"$out" 2>&1; then
		cat "$out" >&2
		die "the run against $s failed: no table"
	fi
	echo "$r,$s,$(tail -n 1 "$out")" >>"$runs"
	printf '  round %s %-15s %s\n' "$r" "$s" "$(sed -n 1p "$out" | sed 's/.*: //')"
}

for r in $(seq "$rounds"); do
	for s in "${systems[@]}"; do
		run_one "$r" "$s"
	done
done

# One row per system: medians over the rounds (and the range of transfers/s).
summary=$results/summary.csv
awk -F, -v order="${systems[*]}" "$(<"$top/tools/stats.awk")"'
NR > 1 {
	rate[$2] = rate[$2] " " $8; p50[$2] = p50[$2] " " $9; p99[$2] = p99[$2] " " $10
	cpu[$2] = cpu[$2] " " $13; core[$2] = core[$2] " " $14
}
END {
	n = split(order, sys, " ")
	ref = median(rate["redis-always"])
	print "system,per_s_median,per_s_min,per_s_max,p50_us,p99_us,server_cpu_us_per_transfer,per_server_cpu_s,ratio_to_redis_always"
	for (i = 1; i <= n; i++) {
		s = sys[i]; m = median(rate[s])
		printf "%s,%.0f,%.0f,%.0f,%.1f,%.1f,%.2f,%.0f,%.2f\n", s, m, lo(rate[s]), hi(rate[s]),
		       median(p50[s]), median(p99[s]), median(cpu[s]), median(core[s]), ref ? m / ref : 0
	}
}' "$runs" >"$summary"

echo
awk -F, 'NR == 1 {
	printf "%-15s %22s %9s %9s %13s %15s %9s\n", "system", "transfers/s (min-max)", "p50 us",
	       "p99 us", "CPU us/xfer", "xfer/CPU-s", "x redis"
	next
}
{
	printf "%-15s %8s (%s-%s) %9s %9s %13s %15s %9s\n", $1, $2, $3, $4, $5, $6, $7, $8, $9
}' "$summary" | tee "$results/table.txt"
echo
echo "x redis: median transfers/s over Redis with appendfsync always (the same durability)."
echo "CSV: $runs, $summary"
