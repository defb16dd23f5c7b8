# shellcheck shell=bash
#
# A Redis primary, two replicas and three Redis Sentinels in one network
# namespace, for the tests (tests/testbed/test_sentinel.sh): the domain's
# store on a replicated engine with failover.  Source it; then
#
#   rs_setup NS ADDR DIR USER...  write the configurations into DIR (data
#                                 there too): the primary on ADDR:6379, the
#                                 replicas on ADDR:6380, 6381, Sentinels on
#                                 ADDR:26379..26381 watching master "mipsa";
#                                 each USER an ACL user for an FA (password
#                                 in DIR/pass.USER), plus "admin"
#   rs_start                      start all six, wait until the Sentinels
#                                 know the replicas and each other
#   rs_kill_primary               SIGKILL the current primary
#   rs_primary                    ADDR:PORT the Sentinels name now
#   rs_cli PORT ARGS...           redis-cli as admin against ADDR:PORT
#   rs_stop                       stop what is still running
#
# Down after 1 s without an answer, failover timeout 3 s: a failover takes
# a few seconds.  No persistence: what the replicas hold is all there is.
# Two replicas, so that after one failover a write still has a replica to
# wait for (WAIT 1) while the killed primary stays down.
# Nothing leaves the namespace (every process binds ADDR inside it).

RS_MASTER=mipsa
RS_PRIMARY_PORT=6379
RS_REPLICA_PORTS=(6380 6381)
RS_SENTINEL_PORTS=(26379 26380 26381)
RS_DOWN_AFTER_MS=${RS_DOWN_AFTER_MS:-1000}
RS_FAILOVER_TIMEOUT_MS=${RS_FAILOVER_TIMEOUT_MS:-3000}
declare -A RS_PIDS=()

_rs_pass() {
	od -An -tx1 -N16 /dev/urandom | tr -d ' \n'
}

# the ACL and replication lines both servers share (either may be the primary)
_rs_server_conf() {
	local port=$1 u
	printf 'bind %s\nport %s\nprotected-mode no\nsave ""\nappendonly no\n' "$RS_ADDR" "$port"
	printf 'dir %s/data-%s\nuser default off\n' "$RS_DIR" "$port"
	printf 'masteruser replica\nmasterauth %s\n' "$(cat "$RS_DIR/pass.replica")"
	printf 'user replica on >%s +psync +replconf +ping\n' "$(cat "$RS_DIR/pass.replica")"
	printf 'user sentinel on >%s allchannels +multi +slaveof +ping +exec +subscribe ' \
		"$(cat "$RS_DIR/pass.sentinel")"
	printf '+config|rewrite +role +publish +info +client|setname +client|kill +script|kill\n'
	printf 'user admin on >%s ~* &* +@all\n' "$(cat "$RS_DIR/pass.admin")"
	for u in "${RS_USERS[@]}"; do
		printf 'user %s on >%s ~mipsa:sa:* +set +get +del +ping +auth +hello +role +wait\n' \
			"$u" "$(cat "$RS_DIR/pass.$u")"
	done
}

rs_setup() {
	RS_NS=$1 RS_ADDR=$2 RS_DIR=$3
	shift 3
	RS_USERS=("$@")
	local u p
	mkdir -p "$RS_DIR"
	chmod 700 "$RS_DIR"
	for u in replica sentinel admin "${RS_USERS[@]}"; do
		_rs_pass >"$RS_DIR/pass.$u"
	done
	chmod 600 "$RS_DIR"/pass.*
	for p in "$RS_PRIMARY_PORT" "${RS_REPLICA_PORTS[@]}"; do
		mkdir -p "$RS_DIR/data-$p"
		_rs_server_conf "$p" >"$RS_DIR/redis-$p.conf"
	done
	for p in "${RS_REPLICA_PORTS[@]}"; do
		printf 'replicaof %s %s\n' "$RS_ADDR" "$RS_PRIMARY_PORT" >>"$RS_DIR/redis-$p.conf"
	done
	for p in "${RS_SENTINEL_PORTS[@]}"; do
		mkdir -p "$RS_DIR/data-$p"
		# the Sentinel rewrites its own file: one per Sentinel, writable
		cat >"$RS_DIR/sentinel-$p.conf" <<CONF
bind $RS_ADDR
port $p
protected-mode no
dir $RS_DIR/data-$p
sentinel monitor $RS_MASTER $RS_ADDR $RS_PRIMARY_PORT 2
sentinel auth-user $RS_MASTER sentinel
sentinel auth-pass $RS_MASTER $(cat "$RS_DIR/pass.sentinel")
sentinel down-after-milliseconds $RS_MASTER $RS_DOWN_AFTER_MS
sentinel failover-timeout $RS_MASTER $RS_FAILOVER_TIMEOUT_MS
sentinel parallel-syncs $RS_MASTER 1
CONF
	done
	chmod 600 "$RS_DIR"/*.conf
}

rs_cli() {
	local port=$1
	shift
	ip netns exec "$RS_NS" redis-cli --no-auth-warning -h "$RS_ADDR" -p "$port" \
		--user admin --pass "$(cat "$RS_DIR/pass.admin")" "$@"
}

_rs_sentinel_cli() {
	local port=$1
	shift
	ip netns exec "$RS_NS" redis-cli -h "$RS_ADDR" -p "$port" "$@"
}

# _rs_run NAME BINARY CONF: one process, not daemonized, its pid kept
_rs_run() {
	ip netns exec "$RS_NS" "$2" "$3" >>"$RS_DIR/$1.log" 2>&1 &
	RS_PIDS[$1]=$!
}

_rs_ready() {
	local p=$1 n
	n=$(_rs_sentinel_cli "$p" SENTINEL replicas "$RS_MASTER" | grep -c "^$RS_ADDR:63[0-9]*$")
	[[ $n -ge ${#RS_REPLICA_PORTS[@]} ]] || return 1
	n=$(_rs_sentinel_cli "$p" SENTINEL sentinels "$RS_MASTER" | grep -c '^runid$')
	[[ $n -ge 2 ]]
}

# the replicas have caught up with the primary (master_link_status:up)
_rs_replicas_up() {
	local p
	for p in "${RS_REPLICA_PORTS[@]}"; do
		rs_cli "$p" INFO replication | grep -q '^master_link_status:up' || return 1
	done
}

rs_start() {
	local p
	_rs_run "redis-$RS_PRIMARY_PORT" redis-server "$RS_DIR/redis-$RS_PRIMARY_PORT.conf"
	for p in "${RS_REPLICA_PORTS[@]}"; do
		_rs_run "redis-$p" redis-server "$RS_DIR/redis-$p.conf"
	done
	tb_poll 10 rs_cli "$RS_PRIMARY_PORT" PING >/dev/null 2>&1 || { echo "redis primary did not start" >&2; return 1; }
	tb_poll 10 _rs_replicas_up >/dev/null 2>&1 || { echo "the replicas did not sync" >&2; return 1; }
	for p in "${RS_SENTINEL_PORTS[@]}"; do
		_rs_run "sentinel-$p" redis-sentinel "$RS_DIR/sentinel-$p.conf"
	done
	# the Sentinels learn of the replica (INFO, every 10 s at first) and of
	# each other (hello messages, every 2 s) on their own schedule
	for p in "${RS_SENTINEL_PORTS[@]}"; do
		tb_poll 30 _rs_ready "$p" >/dev/null 2>&1 || { echo "Sentinel $p not ready" >&2; return 1; }
	done
}

rs_primary() {
	_rs_sentinel_cli "${RS_SENTINEL_PORTS[0]}" SENTINEL get-master-addr-by-name "$RS_MASTER" |
		paste -sd:
}

rs_kill_primary() {
	local port=${1:-$(rs_primary)}
	port=${port##*:}
	kill -KILL "${RS_PIDS[redis-$port]}"
	wait "${RS_PIDS[redis-$port]}" 2>/dev/null || true
	unset "RS_PIDS[redis-$port]"
}

rs_stop() {
	local n
	for n in "${!RS_PIDS[@]}"; do
		kill -TERM "${RS_PIDS[$n]}" 2>/dev/null || true
	done
	for n in "${!RS_PIDS[@]}"; do
		wait "${RS_PIDS[$n]}" 2>/dev/null || true
	done
	RS_PIDS=()
}
