# shellcheck shell=bash
#
# testbed/impair.sh -- loss and reordering on every link of the testbed,
# and the home agent's distance from the visited domain.  Sourced by
# testbed/lib.sh.  Needs nft and iptables (iptables-nft) and
# tools/mipsa-reorder and tools/mipsa-delay (libnetfilter-queue).
#
#   tb_impair [LOSS_PCT [REORDER_PCT]]   every IPv4 packet that crosses core
#                         (routed: FA<->HA, FA<->FA, FA<->store, HA<->CN) or
#                         the air (bridged: MN<->FA) is dropped with
#                         probability LOSS_PCT % (default 10), and of the
#                         rest, REORDER_PCT % (default 10; 0: none) are held
#                         back behind 1 to 3 later packets, 50 ms at most
#   tb_impair_stats       one line per node: packets seen and dropped, held
#                         and how they were released
#   tb_impair_clear       remove both (idempotent), print tb_impair_stats first
#   tb_distance DELAY_US [MAX_HELD]  every packet between the home agent
#                         and an FA (core's to-ha <-> to-fa*, both ways) held
#                         DELAY_US by tools/mipsa-delay in core: the home
#                         agent as far from the visited domain as a wide-area
#                         link would put it.  The CN (on the home side) and
#                         the store (in the visited domain) stay near.  At
#                         most MAX_HELD packets (default 4096) held at once.
#   tb_distance_stats     mipsa-delay's counters: packets delayed, let
#                         through early (the tool full), the latest release
#   tb_distance_clear     remove it (idempotent), print tb_distance_stats first
#
# How: the kernel has no netem, nftables no delay.  Loss is an nftables rule
# in the forward hook of core and of air, `numgen random mod 100 < LOSS
# drop`; in air the bridges' IPv4 frames reach that hook through
# br_netfilter (net.bridge.bridge-nf-call-iptables=1, set here).  This
# kernel has no nft `queue` expression (CONFIG_NFT_QUEUE is off) but has
# the xtables NFQUEUE target, so an iptables-nft rule, after the loss rule,
# queues what survives to tools/mipsa-reorder in the same namespace, which
# lets most of it through at once and holds a few back.  ARP is neither
# dropped nor reordered: it takes neither hook, and its retries are the
# kernel's, not mipsa's.  The queue rule says "bypass": with the tool gone,
# packets pass.  The distance's queue rule is in the mangle table's forward
# chain, which runs before the loss rule and the reordering's filter chain:
# a packet released from the delay still meets both.

TB_IMPAIR_NODES=(core air)
TB_IMPAIR_QUEUE=7
TB_DISTANCE_QUEUE=8

_tb_impair_dir() {
	printf '%s\n' "${TB_IMPAIR_DIR:-/tmp/$(_tb_prefix)-impair}"
}

tb_impair() {
	local loss=${1:-10} reorder=${2:-10} node dir
	if ! [[ $loss =~ ^[0-9]+$ && $reorder =~ ^[0-9]+$ ]] || ((loss > 100 || reorder > 100)); then
		_tb_err "usage: tb_impair [LOSS_PCT [REORDER_PCT]] (0..100)"
		return 1
	fi
	dir=$(_tb_impair_dir)
	mkdir -p "$dir" || return 1
	_tb_sysctl air net.bridge.bridge-nf-call-iptables=1 || return 1
	for node in "${TB_IMPAIR_NODES[@]}"; do
		_tb_do tb_exec "$node" nft -f - <<NFT || return 1
table inet tb_impair {
	counter seen { }
	counter lost { }
	chain impair {
		type filter hook forward priority -10; policy accept;
		meta nfproto ipv4 counter name seen
		meta nfproto ipv4 numgen random mod 100 < $loss counter name lost drop
	}
}
NFT
		((reorder == 0)) || _tb_reorder_start "$node" "$reorder" "$dir" || return 1
	done
}

# _tb_reorder_start NODE PCT DIR: mipsa-reorder bound to the queue, then the
# rule that feeds it
_tb_reorder_start() {
	local node=$1 pct=$2 dir=$3 log pid
	log="$dir/reorder-$node.log"
	: >"$log"
	# ip netns exec execs the tool: $! is its pid (tb_exec, a function, would
	# leave a subshell in between that the signals would kill)
	ip netns exec "$(tb_ns "$node")" "${MIPSA_BIN:-$TB_DIR/..}/tools/mipsa-reorder" \
		--queue "$TB_IMPAIR_QUEUE" --percent "$pct" >>"$log" 2>&1 &
	pid=$!
	echo "$pid" >"$dir/reorder-$node.pid"
	if ! tb_poll 5 grep -q "bound" "$log"; then
		_tb_err "mipsa-reorder in $node did not bind its queue: $(cat "$log")"
		return 1
	fi
	_tb_do tb_exec "$node" iptables -w -A FORWARD -j NFQUEUE --queue-num "$TB_IMPAIR_QUEUE" \
		--queue-bypass || return 1
}

tb_impair_stats() {
	local node dir seen lost pid
	dir=$(_tb_impair_dir)
	for node in "${TB_IMPAIR_NODES[@]}"; do
		seen=$(tb_exec "$node" nft list counter inet tb_impair seen 2>/dev/null |
			grep -o 'packets [0-9]*' | tr -dc 0-9) || seen=
		lost=$(tb_exec "$node" nft list counter inet tb_impair lost 2>/dev/null |
			grep -o 'packets [0-9]*' | tr -dc 0-9) || lost=
		[[ -n $seen ]] || continue
		printf 'impair %s: forwarded=%s dropped=%s' "$node" "$seen" "$lost"
		pid=$(cat "$dir/reorder-$node.pid" 2>/dev/null) || pid=
		[[ -z $pid ]] || printf '%s' "$(_tb_tool_counters reorder "$dir/reorder-$node.log" "$pid" |
			sed 's/^./ &/')"
		printf '\n'
	done
}

# _tb_tool_counters TOOL LOG PID: the tool's counters now (SIGUSR1: it
# answers within its next poll with one more "TOOL: queue=" line in LOG),
# without the line's first two words
_tb_tool_counters() {
	local tool=$1 log=$2 pid=$3 n
	n=$(_tb_tool_lines "$tool" "$log")
	kill -USR1 "$pid" 2>/dev/null || return 0
	tb_poll 2 _tb_tool_reported "$tool" "$log" "${n:-0}" || true
	grep "^$tool: queue=" "$log" | tail -1 | cut -d' ' -f3-
}

_tb_tool_lines() {
	grep -c "^$1: queue=" "$2" 2>/dev/null || true
}

# _tb_tool_reported TOOL LOG N: LOG has more than N counter lines
_tb_tool_reported() {
	(($(_tb_tool_lines "$1" "$2") > $3))
}

tb_impair_clear() {
	local node dir pid
	dir=$(_tb_impair_dir)
	tb_impair_stats
	for node in "${TB_IMPAIR_NODES[@]}"; do
		_tb_exists "$(tb_ns "$node")" || continue
		# the queue rule first, then the tool: no packet queued to nobody
		while tb_exec "$node" iptables -w -D FORWARD -j NFQUEUE --queue-num \
			"$TB_IMPAIR_QUEUE" --queue-bypass 2>/dev/null; do :; done
		pid=$(cat "$dir/reorder-$node.pid" 2>/dev/null) || pid=
		if [[ -n $pid ]]; then
			kill -TERM "$pid" 2>/dev/null || true
			wait "$pid" 2>/dev/null || true
			rm -f "$dir/reorder-$node.pid"
		fi
		tb_exec "$node" nft delete table inet tb_impair 2>/dev/null || true
	done
}

# the distance's queue rule from IN to OUT: ACTION (-A, -D) on it
_tb_distance_rule() {
	tb_exec core iptables -w -t mangle "$1" FORWARD -i "$2" -o "$3" \
		-j NFQUEUE --queue-num "$TB_DISTANCE_QUEUE" --queue-bypass
}

# _tb_distance_running: the pid file names a mipsa-delay that still runs
_tb_distance_running() {
	local pid
	pid=$(cat "$(_tb_impair_dir)/delay.pid" 2>/dev/null) || return 1
	[[ $(cat "/proc/$pid/comm" 2>/dev/null) == mipsa-delay ]]
}

tb_distance() {
	local us=${1:-} held=${2:-4096} dir log pid
	if ! [[ $us =~ ^[1-9][0-9]*$ && $held =~ ^[1-9][0-9]*$ ]] || ((us > 10000000 || held > 4096)); then
		_tb_err "usage: tb_distance DELAY_US [MAX_HELD] (1..10000000 us one way; 1..4096 packets)"
		return 1
	fi
	if _tb_distance_running; then
		_tb_err "tb_distance: already on (tb_distance_clear first)"
		return 1
	fi
	dir=$(_tb_impair_dir)
	mkdir -p "$dir" || return 1
	log=$dir/delay.log
	: >"$log"
	# the tool first, then the rules: no packet queued to nobody.  A wire
	# takes no CPU: under a real-time policy the tool is not kept waiting
	# for a core by the daemons it delays (it sleeps between packets)
	ip netns exec "$(tb_ns core)" chrt -f 10 "${MIPSA_BIN:-$TB_DIR/..}/tools/mipsa-delay" \
		--queue "$TB_DISTANCE_QUEUE" --delay-us "$us" --max-held "$held" >>"$log" 2>&1 &
	pid=$!
	echo "$pid" >"$dir/delay.pid"
	if ! tb_poll 5 grep -q "bound" "$log"; then
		_tb_err "mipsa-delay in core did not bind its queue: $(cat "$log")"
		return 1
	fi
	_tb_do _tb_distance_rule -A to-ha 'to-fa+' && _tb_do _tb_distance_rule -A 'to-fa+' to-ha
}

tb_distance_stats() {
	local dir
	dir=$(_tb_impair_dir)
	# a pid file left by a testbed torn down (tb_down) names nobody, or someone else
	_tb_distance_running || return 0
	printf 'distance: %s\n' "$(_tb_tool_counters delay "$dir/delay.log" "$(cat "$dir/delay.pid")")"
}

tb_distance_clear() {
	local dir pid
	dir=$(_tb_impair_dir)
	tb_distance_stats
	if _tb_exists "$(tb_ns core)"; then
		# the rules first, then the tool
		while _tb_distance_rule -D to-ha 'to-fa+' 2>/dev/null; do :; done
		while _tb_distance_rule -D 'to-fa+' to-ha 2>/dev/null; do :; done
	fi
	if _tb_distance_running; then
		pid=$(cat "$dir/delay.pid")
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -f "$dir/delay.pid"
}
