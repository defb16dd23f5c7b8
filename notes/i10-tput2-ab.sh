#!/usr/bin/env bash
#
# notes/i10-tput2-ab.sh -- old and new daemons side by side: two testbeds
# (TB_PREFIX $AB_PREFIX-o: OLD_BIN, $AB_PREFIX-n: NEW_BIN; AB_PREFIX default tpa), Mobile IP with ESP AES-128-GCM in
# UDP 4500 on the access link, iperf3 TCP (MSS 1340) over the hop (MN home
# address <-> fa1's care-of address) and the path (MN <-> CN), old and new
# alternating run by run, the order turned each round.  Root.
#
#   notes/i10-tput2-ab.sh OLD_BIN NEW_BIN [ROUNDS] [SECS] [TESTS]
#
# TESTS: words among "hop-up hop-down path-up path-down" (default all).
# Prints one line per run and a table: median Mbit/s old and new, new/old,
# and the daemons' CPU seconds per Gbit (mn, fa1; ha too on the path).
# ESP_PROPOSAL=aes128-sha1 for CBC.  Figures are printed, never asserted.
set -euo pipefail
[[ $# -ge 2 ]] || {
	sed -n '9,13p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 64
}
old=$(cd "$1" && pwd) new=$(cd "$2" && pwd)
rounds=${3:-3} secs=${4:-5} tests=(${5:-hop-up hop-down path-up path-down})
command -v iperf3 >/dev/null || {
	echo "iperf3 missing" >&2
	exit 1
}
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/testbed/lib.sh"
source "$here/testbed/daemons.sh"

declare -A bin=([old]=$old [new]=$new) pfx=([old]=${AB_PREFIX:-tpa}-o [new]=${AB_PREFIX:-tpa}-n)
use() {
	TB_PREFIX=${pfx[$1]} TB_RUN=/tmp/${pfx[$1]}-run TB_BIN=${bin[$1]}
}
down_all() {
	trap '' INT TERM HUP
	for s in old new; do (use $s && tb_down && rm -rf "$TB_RUN") & done
	wait
}
tb_trap_cleanup down_all

up() {
	use "$1"
	tb_up >/dev/null
	export TB_IPSEC=1 TB_UDP_ENCAP=true TB_REUSE=none TB_ESP_PROPOSAL=${ESP_PROPOSAL:-aes128gcm16}
	tb_start_daemons
	tb_wait_registered fa1 15 || {
		echo "$1: not registered" >&2
		return 1
	}
	tb_exec mn ping -c 1 -W 3 -q "$TB_FA1_COA" >/dev/null
	tb_exec fa1 iperf3 -s -D -B "$TB_FA1_COA" >/dev/null
	tb_exec cn iperf3 -s -D -B "$TB_CN_ADDR" >/dev/null
	sleep 0.5
}
for s in old new; do up $s >"/tmp/tpa-ab-setup-$s.log" 2>&1 & done
wait %1 && wait %2 || {
	cat /tmp/tpa-ab-setup-*.log >&2
	exit 1
}

# ticks NODE...: utime + stime of those nodes' daemons, in clock ticks
ticks() {
	local n s=0 v
	for n in "$@"; do
		read -r -a v <<<"$(cut -d')' -f2- "/proc/$(cat "$TB_RUN/$n.pid")/stat")"
		s=$((s + v[11] + v[12]))
	done
	echo "$s"
}
declare -A res=() cpu=()
one() { # SYS TEST
	local sys=$1 t=$2 addr args=(-t "$secs" -J -M 1340 --connect-timeout 3000) v c0 c1 nodes=(mn fa1)
	use "$sys"
	[[ $t == hop-* ]] && addr=$TB_FA1_COA || addr=$TB_CN_ADDR
	[[ $t == path-* ]] && nodes+=(ha)
	[[ $t == *-down ]] && args+=(-R)
	c0=$(ticks "${nodes[@]}")
	v=$(timeout $((secs + 30)) ip netns exec "$(tb_ns mn)" iperf3 -c "$addr" "${args[@]}" |
		jq -r '"\(.end.sum_received.bits_per_second / 1e6 | floor) \(.end.sum_sent.retransmits) \(.end.sum_received.bytes * 8 / 1e9)"') || v="0 0 0"
	c1=$(ticks "${nodes[@]}")
	read -r mb re gb <<<"$v"
	# the daemons' CPU seconds per Gbit carried: what the machine's load changes least
	c=$(echo "scale=3; ($c1 - $c0) / $(getconf CLK_TCK) / ($gb + 0.000001)" | bc -l)
	res[$sys,$t]+="$mb " cpu[$sys,$t]+="$c "
	printf '%-3s %-9s %s %6s Mbit/s retr %-4s CPU %s s/Gbit\n' "$r" "$t" "$sys" "$mb" "$re" "$c"
}
for ((r = 1; r <= rounds; r++)); do
	for t in "${tests[@]}"; do
		if ((r % 2)); then one old "$t"; one new "$t"; else one new "$t"; one old "$t"; fi
	done
done
med() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
echo
printf '%-9s %8s %8s %6s %9s %9s %6s  (%s rounds of %s s; medians)\n' test "old Mb/s" "new Mb/s" ratio \
	"old CPU/Gb" "new CPU/Gb" ratio "$rounds" "$secs"
for t in "${tests[@]}"; do
	o=$(med <<<"${res[old,$t]}") n=$(med <<<"${res[new,$t]}")
	oc=$(med <<<"${cpu[old,$t]}") nc=$(med <<<"${cpu[new,$t]}")
	printf '%-9s %8s %8s %6.2f %9s %9s %6.2f\n' "$t" "$o" "$n" "$(echo "$n / $o" | bc -l)" \
		"$oc" "$nc" "$(echo "$nc / $oc" | bc -l)"
done
