#!/usr/bin/env bash
# A swarm of mobile nodes in the testbed: tools/mipsa-swarm runs N nodes
# (each its own home address from 198.18.128.1 on, MN-HA key, ISAKMP ID and
# PSK, all derived from one seed) from the namespace <prefix>-swarm, which
# has one veth in fa1's cell (sw1, its peer swp1 a port of br-fa1 in air)
# and one in fa2's (sw2 / swp2 in br-fa2).  A node moves by sending from
# the other interface.  Core routes the swarm's home net, 198.18.128.0/17,
# to the HA.  The HA gets one mobility security association per node and
# fa1/fa2 one IPsec peer per node, appended to the testbed's own
# configurations (testbed/daemons.sh: IPsec on, domain A with SA reuse
# "full" and the direct technique; -M ike: no reuse).
#
#   testbed/swarm.sh [-n N] [-d SECONDS] [-m MOVE_MS] [-i PING_MS] [-M reuse|ike]
#                    [-c INFLIGHT] [-t TIMEOUT_S] [-r RETRY_MS] [--no-ha-state] [--out DIR]
#                    [--sentinel KILL_S | --dbs-crash KILL_S]
#
# Prints mipsa-swarm's RESULT line, the FAs' RSS every 5 s, and a second
# line, "SWARM ...": the FAs' own counters (summed over fa1 and fa2) beside
# the swarm's and whether they agree:
#   reg accepted   FA reg_accepted           = nodes' accepted replies
#   reuse          FA reuse_full             = nodes' full-reuse answers
#   ESP in         FA esp_in + its inbound drops = ESP the nodes sent (the outbound
#                  drops, esp_drop_reserved and esp_drop_seal, are packets to the nodes)
#   ESP out        FA esp_out (both)         >= ESP the nodes received
# and fa_rss_growth_kb: the FAs' RSS at the end less at the first sample
# after warm-up (the first registrations done, then one hand-over period
# and 5 s: every node has been to both FAs), and fa_heap_growth_kb, the
# same of what their heaps hold (mipsactl counters, memory), which a
# socket ring becoming resident does not move: memory flat after warm-up.  Exit status:
# mipsa-swarm's (0: no failed registration, no lost SA, no duplicate
# (SPI, seq) pair, every node registered at the end), or 1 when the
# counters disagree or a daemon died.  Root.
#
# --sentinel KILL_S: the SAs move through the store only (technique store),
# a Redis primary with two replicas and three Sentinels in the dbs
# namespace (tests/testbed/redis_sentinel.sh), found by the FAs through the
# Sentinels; the primary is killed (SIGKILL) KILL_S seconds into the run.
# --dbs-crash KILL_S: the same with mipsa-dbs as the store, killed
# (SIGKILL) KILL_S seconds into the run and started again at once, as a
# supervisor would.  A third line, "STORE_KILL ...", gives when the store
# was there again (back_ms: both FAs on the promoted replica, or the
# restarted mipsa-dbs answering) and when the first hand-over after that
# took the SAs from the store again (reuse_resumed_ms, both from the kill),
# and how many nodes have their record in the store at the end (records,
# of nodes).  Status 1 also when reuse did not resume within
# STORE_BOUND_S (30) of the kill or a node's record is missing.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
bin=${MIPSA_BIN:-$top}
n=100 dur=10 move_ms=5000 ping_ms=1000 mode=reuse inflight=32 timeout=30 out="" ha_state=1 retry=1000
kill_s=0 crash=""
STORE_BOUND_S=${STORE_BOUND_S:-30}
usage() {
	sed -n '13,15p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 64
}
while (($# > 0)); do
	case $1 in
	-n) n=${2:?}; shift ;;
	-d) dur=${2:?}; shift ;;
	-m) move_ms=${2:?}; shift ;;
	-i) ping_ms=${2:?}; shift ;;
	-M) mode=${2:?}; shift ;;
	-c) inflight=${2:?}; shift ;;
	-t) timeout=${2:?}; shift ;;
	-r) retry=${2:?}; shift ;;
	--out) out=${2:?}; shift ;;
	--no-ha-state) ha_state=0 ;;
	--sentinel) kill_s=${2:?} crash=sentinel; shift ;;
	--dbs-crash) kill_s=${2:?} crash=dbs; shift ;;
	*) usage ;;
	esac
	shift
done
[[ $mode == reuse || $mode == ike ]] || usage
[[ $kill_s =~ ^[0-9]+$ ]] && { ((kill_s == 0)) || [[ $mode == reuse && $kill_s -lt $dur ]]; } || usage
[[ $EUID -eq 0 ]] || { echo "swarm: needs root (network namespaces)" >&2; exit 1; }
command -v jq >/dev/null || { echo "swarm: jq is missing" >&2; exit 1; }
for b in tools/mipsa-swarm tools/mipsactl fa/mipsa-fa ha/mipsa-ha; do
	[[ -x $bin/$b ]] || { echo "swarm: $bin/$b is missing: build first (scripts/build)" >&2; exit 1; }
done

export TB_PREFIX=${TB_PREFIX:-sw$$}
export TB_RUN=${TB_RUN:-/tmp/$TB_PREFIX-run}
export TB_IPSEC=1 TB_IKE_PROPOSAL=aes128-sha1-ecp256 TB_ESP_PROPOSAL=aes128-sha1
export TB_LOG_LEVEL=${TB_LOG_LEVEL:-notice}
# An FA asks the previous one for a node's SAs; 100 ms (the testbed's) is short for
# hundreds of hand-overs a second on two shared cores: a late answer is a renegotiation.
export TB_XFER_TIMEOUT_MS=${TB_XFER_TIMEOUT_MS:-1000}
# The HA reads thousands of mobile nodes before it opens its control socket: wait longer.
export TB_TIME_FACTOR=${TB_TIME_FACTOR:-$((1 + n / 1000))}
if [[ $mode == reuse ]]; then export TB_REUSE=full TB_TECHNIQUE=direct; else export TB_REUSE=none; fi
[[ -z $crash ]] || export TB_TECHNIQUE=store TB_STORE=$crash
# shellcheck source=lib.sh
source "$top/testbed/lib.sh"
# shellcheck source=daemons.sh
source "$top/testbed/daemons.sh"
SW_HOME_NET=198.18.128.0/17
SW_BASE=198.18.128.1
seed=$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')
out=${out:-$TB_RUN/swarm}
swarm_pid=""
stop_swarm() {
	[[ $crash != sentinel ]] || rs_stop
	[[ -n $swarm_pid ]] || return 0
	kill -TERM "$swarm_pid" 2>/dev/null || true
	wait "$swarm_pid" 2>/dev/null || true
}
if [[ $crash == sentinel ]]; then
	for b in redis-server redis-sentinel redis-cli; do
		command -v "$b" >/dev/null || { echo "swarm: $b is missing: scripts/deps" >&2; exit 1; }
	done
	# shellcheck source=../tests/testbed/redis_sentinel.sh
	source "$top/tests/testbed/redis_sentinel.sh"
fi
tb_trap_cleanup stop_swarm

# The swarm's namespace: a cable into each of domain A's cells.
swarm_up() {
	local ns air i
	ns=$(tb_ns swarm) air=$(tb_ns air)
	ip netns add "$ns"
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.all.send_redirects=0
	ip -n "$ns" link set lo up
	for i in 1 2; do
		ip -n "$ns" link add "sw$i" type veth peer name "swp$i" netns "$air"
		ip -n "$air" link set "swp$i" master "br-fa$i" up
		ip -n "$ns" link set "sw$i" up
	done
	ip -n "$(tb_ns core)" route add "$SW_HOME_NET" via "$TB_HA_LINK_ADDR"
}

# _sw_splice FILE ANCHOR FORMAT FIELDS [MAX_VISITORS]: after the line holding ANCHOR
# (the testbed's own node), one FORMAT line per swarm node, from the fields of
# `mipsa-swarm -P` that FIELDS names ("2 1 4": the second, the first, the fourth);
# MAX_VISITORS, when given, goes after max_lifetime.
_sw_splice() {
	awk -v mn="$2" -v fmt="$3" -v which="$4" -v max="${5:-0}" 'FNR == NR { e[++k] = $0; next }
		max > 0 && /max_lifetime = / { print; printf "  max_visitors = %d;\n", max; next }
		index($0, mn) {
			print $0 ","
			split(which, w, " ")
			for (i = 1; i <= k; i++) {
				split(e[i], f, " ")
				printf fmt "%s\n", f[w[1]], f[w[2]], f[w[3]], (i < k ? "," : "")
			}
			next
		}
		{ print }' "$TB_RUN/swarm-nodes" "$1" >"$1.new" && mv "$1.new" "$1" && chmod 600 "$1"
}

# Append the swarm's nodes to the HA's mobile nodes and to fa1's and fa2's IPsec peers.
swarm_configs() {
	local f
	"$bin/tools/mipsa-swarm" -P -b "$SW_BASE" -n "$n" -k "$seed" >"$TB_RUN/swarm-nodes"
	chmod 600 "$TB_RUN/swarm-nodes"
	_sw_splice "$TB_RUN/ha.conf" "home_address = \"$TB_MN_HOME\"" \
		'    { nai = "%s"; home_address = "%s"; spi = 1001; key = "%s"; }' "2 1 4"
	# --no-ha-state: the HA writes its whole state file, O(bindings), once per run of
	# up to 64 requests (group commit): without it the runs measure the FAs alone.
	((ha_state)) || sed -i '/^  state_file = /d' "$TB_RUN/ha.conf"
	for f in fa1 fa2; do
		_sw_splice "$TB_RUN/$f.conf" "address = \"$TB_MN_HOME\"" \
			'      { address = "%s"; id = "%s"; psk = "%s"; }' "1 2 3" $((n + 1000))
	done
}

# The daemons of the swarm's run: the HA, fa1 and fa2 (no MN of the testbed's own, no fa3).
swarm_daemons() {
	mkdir -p "$TB_RUN" && rm -rf "$TB_RUN"/*.log "$TB_RUN/ha-state"
	tb_ensure_user && tb_gen_configs || return 1
	swarm_configs
	mkdir -p "$TB_RUN/ha-state"
	[[ $TB_SANDBOX != 1 ]] || chown "$TB_USER:" "$TB_RUN/ha-state"
	_tb_start ha ha/mipsa-ha && _tb_start_store && _tb_start fa1 fa/mipsa-fa &&
		_tb_start fa2 fa/mipsa-fa
}

# utime+stime in seconds
cpu_s() { awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); printf "%.1f", ($12 + $13) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
# what the daemon's heap holds (mipsactl counters, memory): RSS also counts socket rings filling
heap_kb() { tb_ctl "$1" --json counters 2>/dev/null | jq '.counters.memory.heap_in_use_bytes / 1024 | floor' 2>/dev/null || echo 0; }

# fa1 and fa2 counters summed: "reg_accepted reuse_full esp_in esp_out esp_dropped"
fa_counts() {
	local f
	for f in fa1 fa2; do
		echo "$(tb_ctl "$f" --json counters | jq -r '.counters.reg_accepted')" \
			"$(tb_ctl "$f" --json sas | jq -r '"\(.reuse_counters.reuse_full // 0) \(.esp_counters.esp_in) \(.esp_counters.esp_out) \([.esp_counters | to_entries[] | select((.key | startswith("esp_drop_")) and .key != "esp_drop_reserved" and .key != "esp_drop_seal") | .value] | add)"')"
	done | awk '{ for (i = 1; i <= NF; i++) s[i] += $i } END { printf "%d %d %d %d %d\n", s[1], s[2], s[3], s[4], s[5] }'
}

mkdir -p "$out"
tb_up >/dev/null
swarm_up
if [[ $crash == sentinel ]]; then
	mkdir -p "$TB_RUN"
	rs_setup "$(tb_ns dbs)" "$TB_DBS_ADDR" "$TB_RUN/rs" "fa-$TB_FA1_COA" "fa-$TB_FA2_COA"
	rs_start || { echo "swarm: the Redis primary, replicas and Sentinels did not come up" >&2; exit 1; }
	first_primary=$(rs_primary)
fi
swarm_daemons || { echo "swarm: the daemons did not start" >&2; exit 1; }
fa1_pid=$(cat "$TB_RUN/fa1.pid") fa2_pid=$(cat "$TB_RUN/fa2.pid") ha_pid=$(cat "$TB_RUN/ha.pid")
echo "swarm: $n nodes, mode $mode, ${dur} s, a hand-over every ${move_ms} ms per node, a ping every ${ping_ms} ms; output in $out"
ip netns exec "$(tb_ns swarm)" "$bin/tools/mipsa-swarm" -1 sw1 -2 sw2 -b "$SW_BASE" -n "$n" -d "$dur" \
	-m "$move_ms" -i "$ping_ms" -M "$mode" -c "$inflight" -t "$timeout" -r "$retry" -k "$seed" \
	-A "$TB_HA_ADDR" -T "$TB_CN_ADDR" -a "$TB_ALIAS_A" -I fa.domain-a.example \
	>"$out/result.txt" 2>"$out/swarm.log" &
swarm_pid=$!
# FA memory every 5 s, from the start (warm-up: until the first registrations are done)
rss_log=$out/fa-rss.txt
echo "# t_s fa1_rss_kb fa2_rss_kb ha_rss_kb phase fa1_heap_kb fa2_heap_kb" >"$rss_log"
now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
fa_reuse_full() { fa_counts | cut -d' ' -f2; }
# fa1's and fa2's clients both on another primary than the first
failed_over() {
	local f
	for f in fa1 fa2; do
		[[ $(tb_ctl "$f" --json counters | jq '.counters.store_counters.failovers') -ge 1 ]] || return 1
	done
}
t0=$(now_ms) next=$t0 t_up="" kill_ms="" back_ms="" resumed_ms="" reuse_then=0
# --sentinel, --dbs-crash: kill the store, then watch for it to be back and for the
# first reuse after that
store_watch() {
	if [[ -z $kill_ms ]]; then
		(($(now_ms) - t0 >= kill_s * 1000)) || return 0
		if [[ $crash == sentinel ]]; then
			rs_kill_primary "$first_primary"
		else
			kill -KILL "$(cat "$TB_RUN/dbs.pid")"
		fi
		kill_ms=$(now_ms)
		echo "swarm: the store ($crash) killed at $(((kill_ms - t0) / 1000)) s" >&2
		# a supervisor's restart, at once
		[[ $crash != dbs ]] || _tb_start dbs dbs/mipsa-dbs ||
			{ echo "swarm: mipsa-dbs did not start again" >&2; exit 1; }
	elif [[ -z $back_ms ]]; then
		if [[ $crash == sentinel ]]; then failed_over || return 0; fi
		back_ms=$(($(now_ms) - kill_ms)) reuse_then=$(fa_reuse_full)
	elif [[ -z $resumed_ms ]]; then
		(($(fa_reuse_full) > reuse_then)) && resumed_ms=$(($(now_ms) - kill_ms))
	fi
	return 0
}
while kill -0 "$swarm_pid" 2>/dev/null; do
	[[ -z $crash ]] || store_watch
	if (($(now_ms) >= next)); then
		# warm-up: until the first registrations are done and every node has had
		# time to hand over once (both FAs have seen every node)
		phase=warmup
		[[ -z $t_up ]] && grep -q 'first registrations done' "$out/swarm.log" 2>/dev/null &&
			t_up=$(now_ms)
		[[ -n $t_up ]] && (($(now_ms) - t_up >= move_ms + 5000 || move_ms == 0)) && phase=run
		echo "$((($(now_ms) - t0) / 1000)) $(rss_kb "$fa1_pid") $(rss_kb "$fa2_pid") $(rss_kb "$ha_pid") $phase $(heap_kb fa1) $(heap_kb fa2)" >>"$rss_log"
		next=$((next + 5000))
	fi
	sleep 0.2 # the poll's interval: the samples go by the clock, every 5 s
done
rc=0
wait "$swarm_pid" || rc=$?
swarm_pid=""
echo "$((($(now_ms) - t0) / 1000)) $(rss_kb "$fa1_pid") $(rss_kb "$fa2_pid") $(rss_kb "$ha_pid") end $(heap_kb fa1) $(heap_kb fa2)" >>"$rss_log"
cat "$out/swarm.log" >&2
res=$(grep '^RESULT' "$out/result.txt" || true)
[[ -n $res ]] || { echo "swarm: mipsa-swarm gave no result (status $rc)" >&2; exit 1; }
echo "$res"
for p in "$fa1_pid" "$fa2_pid" "$ha_pid"; do
	kill -0 "$p" 2>/dev/null || { echo "swarm: a daemon died (pid $p)" >&2; rc=1; }
done
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$res"; }
for f in fa1 fa2; do
	tb_ctl "$f" --json counters >"$out/$f-counters.json" || true
	tb_ctl "$f" --json sas >"$out/$f-sas.json" || true
done
read -r fa_acc fa_reuse fa_esp_in fa_esp_out fa_esp_drop < <(fa_counts)
rss=$(awk '$5 == "run" || $5 == "end" { r[++k] = $2 + $3 } END {
	if (k < 2) { print "n/a n/a"; exit } printf "%d %d\n", r[1], r[k] - r[1] }' "$rss_log")
heap=$(awk '$5 == "run" || $5 == "end" { r[++k] = $6 + $7 } END {
	if (k < 2) { print "n/a n/a"; exit } printf "%d %d\n", r[1], r[k] - r[1] }' "$rss_log")
rss_series=$(awk '!/^#/ { printf "%s%s:%d/%d", (NR > 2 ? "," : ""), $1, $2, $3 }' "$rss_log")
heap_series=$(awk '!/^#/ { printf "%s%s:%d/%d", (NR > 2 ? "," : ""), $1, $6, $7 }' "$rss_log")
ok=yes
[[ $fa_acc -eq $(field reg_accepted) ]] || ok=no
[[ $mode != reuse || $fa_reuse -eq $(field sa_reused) ]] || ok=no
[[ $((fa_esp_in + fa_esp_drop)) -eq $(field esp_sent) ]] || ok=no
[[ $fa_esp_out -ge $(field esp_received) ]] || ok=no
echo "SWARM fa_reg_accepted=$fa_acc swarm_reg_accepted=$(field reg_accepted)" \
	"fa_reuse_full=$fa_reuse swarm_sa_reused=$(field sa_reused)" \
	"fa_esp_in=$fa_esp_in fa_esp_dropped=$fa_esp_drop swarm_esp_sent=$(field esp_sent)" \
	"fa_esp_out=$fa_esp_out swarm_esp_received=$(field esp_received)" \
	"fa_rss_after_warmup_kb=${rss% *} fa_rss_growth_kb=${rss#* }" \
	"fa_heap_after_warmup_kb=${heap% *} fa_heap_growth_kb=${heap#* }" \
	"cpu_s=fa1:$(cpu_s "$fa1_pid"),fa2:$(cpu_s "$fa2_pid"),ha:$(cpu_s "$ha_pid") counters_consistent=$ok"
echo "FA_RSS t_s:fa1_kb/fa2_kb $rss_series"
echo "FA_HEAP t_s:fa1_kb/fa2_kb $heap_series"
if [[ -n $crash ]]; then
	if [[ $crash == sentinel ]]; then
		second=$(rs_primary)
		records=$(rs_cli "${second##*:}" --scan --pattern 'mipsa:sa:*' | wc -l)
		where="$first_primary->$second"
	else
		records=$(tb_ctl dbs --json status | jq '.records')
		where=mipsa-dbs
	fi
	store=$(for f in fa1 fa2; do jq -r '"\(.counters.store_counters.failovers) \(.counters.store_counters.timeouts + .counters.store_counters.errors)"' "$out/$f-counters.json"; done |
		awk '{ f += $1; e += $2 } END { printf "fa_failovers=%d fa_store_failed=%d", f, e }')
	retries=$(for f in fa1 fa2; do jq -r '.reuse_counters | "\(.store_put_failures) \(.store_put_retries) \(.reuse_refused)"' "$out/$f-sas.json"; done |
		awk '{ f += $1; r += $2; x += $3 } END { printf "store_put_failures=%d store_put_retries=%d reuse_refused=%d", f, r, x }')
	echo "STORE_KILL store=$crash $where kill_at_s=$kill_s back_ms=${back_ms:-none}" \
		"reuse_resumed_ms=${resumed_ms:-none} $store $retries records=$records nodes=$n"
	[[ $crash != sentinel || $second != "$first_primary" ]] ||
		{ echo "swarm: the Sentinels still name $first_primary" >&2; rc=1; }
	[[ -n $resumed_ms ]] && ((resumed_ms <= STORE_BOUND_S * 1000)) ||
		{ echo "swarm: no hand-over from the store within $STORE_BOUND_S s of the kill" >&2; rc=1; }
	((records == n)) || { echo "swarm: $records of $n nodes have a record in $where" >&2; rc=1; }
fi
[[ $ok == yes ]] || rc=1
exit "$rc"
