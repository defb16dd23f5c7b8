#!/usr/bin/env bash
#
# testbed/throughput.sh -- ESP throughput with iperf3, side by side: mipsa's
# userspace ESP, strongSwan's (charon, kernel-libipsec) and no ESP at all,
# the systems interleaved round after round so that a slow spell of this
# shared machine falls on all of them alike.  Root.
#
#   testbed/throughput.sh [--short] [-r ROUNDS] [-t SECONDS] [-u RATES] [--results DIR]
#
# -r rounds (default 3); -t seconds per iperf3 run (default 5); -u the UDP
# rates in Mbit/s, each both ways (default "100 500 1000"; "" for none);
# --short: a smoke run (1 round of 1 s runs, no CBC rows, TCP and UDP 500M
# from the MN only); --results DIR: default results/throughput-<UTC time>.
#
# Each system runs in a testbed of its own, all of them up at once:
#   link         no daemon, no ESP: the MN's home address on its eth0 by
#                hand, host routes across the access link (the hop's floor)
#   off          plain Mobile IP, reverse tunnelling (mipsa-mn, -fa, -ha)
#   mipsa-gcm    Mobile IP with IPsec on the access link, ESP AES-128-GCM-16
#   mipsa-cbc    ESP AES-128-CBC + HMAC-SHA1-96
#   charon-gcm   no mipsa daemon: the link's addresses, and charon in mn and
#                in fa1, IKEv2 PSK, esp = aes128gcm16
#   charon-cbc   esp = aes128-sha1
#   bare         a veth pair between two fresh namespaces: the ceiling
# ESP goes in UDP 4500 everywhere: the kernel-libipsec of charon 5.9.8 does
# no other (raw ESP came in 5.9.11).
# The paths:
#   hop   the MN's home address <-> fa1's care-of address, both ways across
#         the access link alone: mipsa-fa opens a visitor's ESP for its own
#         addresses into its stack, and seals its stack's packets for the
#         visitor (link, mipsa-*, charon-*; plain Mobile IP has no such
#         path: the FA's packets to a visitor would go round by the HA)
#   path  the MN's home address <-> the CN: FA, core, HA and back through
#         the reverse tunnel, ESP on the access link only (off, mipsa-*)
#   veth  bare only
# The iperf3 client runs in the MN (bare: in one end), the server at the far
# end; "up" is from the MN, "down" to it (-R).  TCP with MSS 1340 and UDP
# datagrams of 1300 bytes everywhere: they fit charon's ipsec0 (MTU 1400)
# and every mipsa tunnel, so no system fragments and every system moves
# the same segments.
#
# Writes DIR/runs.csv (a row per iperf3 run), DIR/summary.csv (median,
# min, max over the rounds; ratios against no ESP on the same path, link
# on the hop and off on the path, and, on the hop, against charon with the
# same algorithm), DIR/throughput.png and
# the table on stdout.  Daemon CPU: utime + stime of the system's daemons
# (mn and fa1, on the path also ha; both charons) over the run, from /proc.
# Figures are printed, never asserted.  A run that fails is made once more
# (runs.csv: attempts).  Exit 1, with no table, when iperf3 or charon is
# missing, or a run fails twice, carries nothing, or an ESP row's traffic
# did not go through ESP.
set -euo pipefail

die() {
	echo "throughput: $*" >&2
	exit 1
}
# Tools first, with builtins only: a missing one means no comparison.
command -v iperf3 >/dev/null || die "iperf3 is not installed (scripts/deps): no comparison to make"
if ! command -v swanctl >/dev/null || [[ ! -x /usr/lib/ipsec/charon ]]; then
	die "strongSwan (/usr/lib/ipsec/charon, swanctl) is not installed (scripts/deps): no comparison to make"
fi
for t in jq gnuplot ip timeout; do
	command -v "$t" >/dev/null || die "$t is not installed (scripts/deps)"
done

rounds=3 secs=5 short=0 results="" udp_rates="100 500 1000"
usage() {
	sed -n '8,13p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 64
}
while (($# > 0)); do
	case $1 in
	--short) short=1 rounds=1 secs=1 ;;
	-r) rounds=${2:-}; shift ;;
	-t) secs=${2:-}; shift ;;
	-u) udp_rates=${2-}; shift ;;
	--results) results=${2:-}; shift ;;
	*) usage ;;
	esac
	shift
done
[[ $rounds =~ ^[1-9][0-9]*$ && $secs =~ ^[1-9][0-9]*$ && $udp_rates =~ ^[0-9\ ]*$ ]] || usage
[[ $EUID -eq 0 ]] || die "run as root (network namespaces)"

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
for b in fa/mipsa-fa mn/mipsa-mn ha/mipsa-ha tools/mipsactl tools/mipsa-linkmove; do
	[[ -x ${MIPSA_BIN:-$top}/$b ]] || die "$b is missing: build first (scripts/build)"
done
# shellcheck source=testbed/lib.sh
source "$here/lib.sh"
# shellcheck source=testbed/daemons.sh
source "$here/daemons.sh"
# shellcheck source=testbed/charon.sh
source "$here/charon.sh"

results=${results:-$top/results/throughput-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$results"
results=$(cd "$results" && pwd)
base=${TB_PREFIX:-tput$$}
MSS=1340 UDP_LEN=1300 PSK=$(_tb_hexkey)

systems=(link off mipsa-gcm charon-gcm mipsa-cbc charon-cbc bare)
rows=("veth bare" "hop link" "hop mipsa-gcm" "hop charon-gcm" "hop mipsa-cbc" "hop charon-cbc"
	"path off" "path mipsa-gcm" "path mipsa-cbc")
tests=("tcp up" "tcp down")
for rate in $udp_rates; do tests+=("udp up $rate" "udp down $rate"); done
if ((short)); then
	systems=(link off mipsa-gcm charon-gcm bare)
	rows=("veth bare" "hop link" "hop mipsa-gcm" "hop charon-gcm" "path off" "path mipsa-gcm")
	tests=("tcp up" "tcp down" "udp up 500")
fi

# use SYSTEM: the testbed of SYSTEM is the one lib.sh and daemons.sh act on
use() {
	TB_PREFIX=$base-${1//-/}
	TB_RUN=/tmp/$TB_PREFIX-run
}

teardown_all() {
	local s
	# a second signal must not cut the clean-up short
	trap '' INT TERM HUP
	# a testbed still being built would outlive its tb_down
	for s in "${!setup[@]}"; do
		kill -TERM "${setup[$s]}" 2>/dev/null || true
		wait "${setup[$s]}" 2>/dev/null || true
	done
	# side by side: each tb_down takes seconds on a loaded machine
	for s in "${systems[@]}"; do
		(
			use "$s"
			tb_down || true
			rm -rf "$TB_RUN"
		) &
	done
	wait
}
declare -A setup=()
tb_trap_cleanup teardown_all

# wait_listen NODE ADDR: the iperf3 server in NODE listens on ADDR
wait_listen() {
	local i
	for i in $(seq 100); do
		tb_exec "$1" ss -Hltn "sport = :5201" | grep -q . && return 0
		sleep 0.05
	done
	die "iperf3 server in $(tb_ns "$1") not listening on $2"
}

serve() { # NODE ADDR
	tb_exec "$1" iperf3 -s -B "$2" >>"$TB_RUN/iperf3-$1.log" 2>&1 &
	wait_listen "$1" "$2"
}

# mipsa_up SYSTEM: testbed, daemons (ESP proposal by SYSTEM), registered
# through fa1, servers on fa1's care-of address and on the CN
mipsa_up() {
	local want=""
	use "$1"
	tb_up >/dev/null
	export TB_IPSEC=1 TB_UDP_ENCAP=true TB_REUSE=none
	case $1 in
	off) TB_IPSEC=0 ;;
	mipsa-gcm) TB_ESP_PROPOSAL=aes128gcm16 want=aes-gcm-16 ;;
	mipsa-cbc) TB_ESP_PROPOSAL=aes128-sha1 want=aes-cbc/hmac-sha1-96 ;;
	esac
	tb_start_daemons
	tb_wait_registered fa1 15 || die "$1: the MN did not register through fa1"
	tb_exec mn ping -c 1 -W 3 -q "$TB_FA1_COA" >/dev/null || die "$1: MN -> fa1 unreachable"
	if [[ -n $want ]]; then
		local got
		got=$(tb_ctl mn --json sas | jq -r '[.ipsec_sas[] | "\(.algorithm) \(.udp_encap)"] | join(",")')
		[[ $got == "$want true" ]] || die "$1: the MN's SA is '$got', not '$want' in UDP"
	fi
	serve fa1 "$TB_FA1_COA"
	serve cn "$TB_CN_ADDR"
}

# charon_conf FILE LOCAL REMOTE LOCAL_TS REMOTE_TS LOCAL_ID REMOTE_ID ESP
charon_conf() {
	cat >"$1" <<CONF
connections {
  t {
    version = 2
    encap = yes
    local_addrs = $2
    remote_addrs = $3
    proposals = aes128-sha256-modp2048
    local { auth = psk
      id = $6 }
    remote { auth = psk
      id = $7 }
    children { c { local_ts = $4
      remote_ts = $5
      esp_proposals = $8
      mode = tunnel } }
  }
}
secrets { ike-1 { id-1 = $6
  id-2 = $7
  secret = $PSK } }
CONF
}

# link_up SYSTEM: a testbed with no daemon, the MN's home address on its
# eth0 and host routes between it and fa1's alias on the access link; the
# MN reaches fa1's care-of address through the alias unless told otherwise
link_up() {
	use "$1"
	tb_up >/dev/null
	mkdir -p "$TB_RUN"
	ip -n "$(tb_ns mn)" addr add "$TB_MN_HOME/32" dev eth0
	ip -n "$(tb_ns mn)" route add "$TB_ALIAS_A/32" dev eth0
	ip -n "$(tb_ns fa1)" route add "$TB_MN_HOME/32" dev acc0
	[[ $1 != link ]] && return 0
	ip -n "$(tb_ns mn)" route add "$TB_FA1_COA/32" via "$TB_ALIAS_A" dev eth0
	tb_exec mn ping -c 1 -W 3 -q "$TB_FA1_COA" >/dev/null || die "link: MN -> fa1 unreachable"
	serve fa1 "$TB_FA1_COA"
}

# charon_up SYSTEM: the link's testbed with the same end points, the MN's
# home address and fa1's care-of address, reached only through charon's
# tunnel between the home address and fa1's alias; no mipsa daemon
charon_up() {
	local esp=aes128gcm16 want=AES_GCM_16 got
	[[ $1 == charon-cbc ]] && esp=aes128-sha1 want=AES_CBC/HMAC_SHA1_96
	link_up "$1"
	charon_conf "$TB_RUN/fa.conf" "$TB_ALIAS_A" "$TB_MN_HOME" "$TB_FA1_COA/32" "$TB_MN_HOME/32" \
		fa.example mn.example "$esp"
	charon_conf "$TB_RUN/mn.conf" "$TB_MN_HOME" "$TB_ALIAS_A" "$TB_MN_HOME/32" "$TB_FA1_COA/32" \
		mn.example fa.example "$esp"
	tb_charon_start fa1 fa "$TB_RUN/fa.conf" 2>/dev/null || die "$1: charon in fa1 did not start"
	tb_charon_start mn mn "$TB_RUN/mn.conf" 2>/dev/null || die "$1: charon in mn did not start"
	tb_swanctl mn --initiate --child c >"$TB_RUN/initiate.out" 2>&1 ||
		die "$1: charon could not establish: $(tail -n 3 "$TB_RUN/initiate.out")"
	got=$(tb_swanctl mn --list-sas --raw 2>/dev/null | grep -o 'encr-alg=[A-Z_0-9]* encr-keysize=[0-9]*\( integ-alg=[A-Z_0-9]*\)\?' | tail -n 1)
	got=${got//encr-alg=/} got=${got// encr-keysize=128/} got=${got// integ-alg=//}
	[[ $got == "$want" ]] || die "$1: charon's CHILD_SA is '$got', not $want"
	tb_exec mn ping -c 1 -W 3 -q "$TB_FA1_COA" >/dev/null || die "$1: MN -> fa1 unreachable"
	serve fa1 "$TB_FA1_COA"
}

# bare_up: two namespaces and a veth pair, nothing else
bare_up() {
	use bare
	local a=$TB_PREFIX-a b=$TB_PREFIX-b
	mkdir -p "$TB_RUN"
	ip netns add "$a" && ip netns add "$b"
	ip -n "$a" link add eth0 type veth peer name eth0 netns "$b"
	ip -n "$a" addr add 198.18.200.1/24 dev eth0
	ip -n "$b" addr add 198.18.200.2/24 dev eth0
	ip -n "$a" link set eth0 up && ip -n "$b" link set eth0 up
	serve b 198.18.200.2
}

# where SYSTEM PATH -> "CLIENT_NODE SERVER_ADDR PIDFILES..." (pid files of
# the daemons whose CPU the run costs)
where() {
	local r=$TB_RUN
	case $1:$2 in
	bare:*) echo "a 198.18.200.2" ;;
	link:hop) echo "mn $TB_FA1_COA" ;;
	charon-*:hop) echo "mn $TB_FA1_COA $r/charon-mn/pid $r/charon-fa/pid" ;;
	*:hop) echo "mn $TB_FA1_COA $r/mn.pid $r/fa1.pid" ;;
	*:path) echo "mn $TB_CN_ADDR $r/mn.pid $r/fa1.pid $r/ha.pid" ;;
	esac
}

# cpu_ticks PIDFILE...: utime + stime of those processes, in clock ticks
cpu_ticks() {
	local f s=0 stat
	for f in "$@"; do
		stat=$(cat "/proc/$(cat "$f")/stat") || die "daemon of $f is gone"
		stat=${stat##*) } # the fields after "(comm) "
		read -r -a v <<<"$stat"
		s=$((s + v[11] + v[12]))
	done
	echo "$s"
}

# esp_packets SYSTEM: ESP packets the MN has sealed and opened so far (0 for
# the systems without ESP): proof that a row's traffic went through ESP
esp_packets() {
	case $1 in
	mipsa-*) tb_ctl mn --json sas | jq '.esp_counters.esp_in + .esp_counters.esp_out' ;;
	charon-*)
		tb_swanctl mn --list-sas --raw 2>/dev/null | grep -o 'packets-[a-z]*=[0-9]*' |
			awk -F= '{ s += $2 } END { print s + 0 }'
		;;
	*) echo 0 ;;
	esac
}

runs=$results/runs.csv
echo "round,path,system,test,dir,rate_mbit,mbit_s,sent_mbit_s,retransmits,loss_pct,mss,daemon_cpu_s,cpu_s_per_gbit,esp_packets,host_cpu_pct,remote_cpu_pct,attempts" >"$runs"

# iperf NODE OUT ARGS...: the client in NODE, its JSON into OUT; in the
# background, so that a signal is handled at once, not after the run
iperf() {
	local node=$1 out=$2
	shift 2
	timeout $((secs + 30)) ip netns exec "$(tb_ns "$node")" iperf3 "$@" >"$out" 2>&1 &
	wait $! && jq -e '.error == null' "$out" >/dev/null 2>&1
}

# settle NODE ADDR: ADDR answers a ping from NODE within 60 s; prints the wait
settle() {
	local t0=$SECONDS
	until tb_exec "$1" ping -c 1 -W 1 -q "$2" >/dev/null 2>&1; do
		((SECONDS - t0 < 60)) || return 1
	done
	echo "  $2 answers again after $((SECONDS - t0)) s"
}

iperf_error() {
	jq -r '.error // empty' "$1" 2>/dev/null || tail -n 2 "$1"
}

# run_one ROUND PATH SYSTEM TEST DIR [RATE]: one iperf3 run, one CSV row
run_one() {
	local r=$1 path=$2 sys=$3 test=$4 dir=$5 rate=${6:-} node addr pids c0 c1 e0 e1 out args row cpu
	local attempts=1
	use "$sys"
	read -r node addr pids <<<"$(where "$sys" "$path")"
	read -r -a pids <<<"$pids"
	args=(-c "$addr" -t "$secs" -J --connect-timeout 3000)
	[[ $dir == down ]] && args+=(-R)
	if [[ $test == udp ]]; then args+=(-u -b "${rate}M" -l "$UDP_LEN"); else args+=(-M "$MSS"); fi
	c0=$(cpu_ticks "${pids[@]}") e0=$(esp_packets "$sys")
	out=$results/raw/$r-$path-$sys-$test-$dir${rate:+-$rate}.json
	iperf "$node" "$out" "${args[@]}" || {
		# iperf3's end-of-test exchange rides the path under test: after a
		# UDP flood it sometimes never completes (mipsa's path: the MN
		# re-registers over and over for tens of seconds).  Once, the run
		# is made again when the path answers again (the stalled output kept
		# as .failed); twice ends the script.
		mv "$out" "${out%.json}.failed.json"
		echo "  retrying $path $sys $test $dir ${rate:+${rate}M}: $(iperf_error "${out%.json}.failed.json")"
		settle "$node" "$addr" || die "$path $sys: $addr still unreachable 60 s after a failed run: no table"
		attempts=2 c0=$(cpu_ticks "${pids[@]}") e0=$(esp_packets "$sys")
		iperf "$node" "$out" "${args[@]}" ||
			die "iperf3 $path $sys $test $dir ${rate:+${rate}M }failed twice: $(iperf_error "$out"): no table"
	}
	c1=$(cpu_ticks "${pids[@]}") e1=$(esp_packets "$sys")
	cpu=null
	((${#pids[@]} == 0)) || cpu=$((c1 - c0))
	row=$(jq -r --argjson cpu "$cpu" --argjson hz "$(getconf CLK_TCK)" '
		.end as $e | (if $e.sum_received then $e.sum_received else $e.sum end) as $rx
		| ($rx.bits_per_second / 1e6) as $mbit
		| ($rx.bytes * 8 / 1e9) as $gbit
		| [$mbit, ($e.sum_sent.bits_per_second / 1e6), ($e.sum_sent.retransmits // ""),
		   ($rx.lost_percent // ""), (.start.tcp_mss // .start.tcp_mss_default // ""),
		   (if $cpu then $cpu / $hz else "" end),
		   (if $cpu and $gbit > 0 then $cpu / $hz / $gbit else "" end), "ESP",
		   $e.cpu_utilization_percent.host_total, $e.cpu_utilization_percent.remote_total]
		| map(if type == "number" then (. * 1000 | round / 1000) else . end | tostring)
		| join(",")' "$out") || die "iperf3 $path $sys $test $dir: unreadable output $out"
	row=${row/ESP/$((e1 - e0))}
	[[ ${row%%,*} != 0 ]] || die "$path $sys $test $dir ${rate:+${rate}M }carried nothing: no table"
	[[ $sys == off || $sys == bare || $sys == link ]] || ((e1 - e0 > 0)) ||
		die "$path $sys $test $dir: no ESP packet counted on the MN: no table"
	echo "$r,$path,$sys,$test,$dir,$rate,$row,$attempts" >>"$runs"
	printf '  round %s %-5s %-11s %s %-4s %5s %8.1f Mbit/s\n' "$r" "$path" "$sys" "$test" "$dir" \
		"${rate:+${rate}M}" "${row%%,*}"
}

start=$SECONDS
mkdir -p "$results/raw"
echo "throughput: results in $results; testbeds $base-*"
# The testbeds are independent (a prefix each): built side by side, which
# halves the smoke run's time.
for s in "${systems[@]}"; do
	case $s in
	bare) bare_up ;;
	link) link_up link ;;
	charon-*) charon_up "$s" ;;
	*) mipsa_up "$s" ;;
	esac >"$results/setup-$s.log" 2>&1 &
	setup[$s]=$!
done
for s in "${systems[@]}"; do
	wait "${setup[$s]}" || die "$s could not be set up: $(tail -n 5 "$results/setup-$s.log")"
	unset "setup[$s]"
	echo "throughput: $s up"
done

# Round after round, test after test, every row in turn; the rows' order
# turns by one each round, so that no row always follows the same one.
n=${#rows[@]}
for ((r = 1; r <= rounds; r++)); do
	for t in "${tests[@]}"; do
		for ((i = 0; i < n; i++)); do
			read -r path sys <<<"${rows[(i + r - 1) % n]}"
			# shellcheck disable=SC2086 # "tcp up" / "udp down 500": words on purpose
			run_one "$r" "$path" "$sys" $t
		done
	done
done

# ---- summary: one row per path, system, test, direction, rate ----------------
summary=$results/summary.csv
awk -F, -v order="${rows[*]}" "$(<"$top/tools/stats.awk")"'
function ratio(a, b) { return b > 0 ? sprintf("%.2f", a / b) : "" }
NR > 1 {
	k = $2 SUBSEP $3 SUBSEP $4 SUBSEP $5 SUBSEP $6
	if (!(k in n)) keys[++nk] = k
	n[k]++; mb[k] = mb[k] " " $7
	if ($9 != "") re[k] = re[k] " " $9
	if ($10 != "") loss[k] = loss[k] " " $10
	if ($13 != "") cg[k] = cg[k] " " $13
}
END {
	print "path,system,test,dir,rate_mbit,mbit_median,mbit_min,mbit_max,n,retransmits_median,loss_pct_median,cpu_s_per_gbit_median,x_plain,x_charon"
	for (i = 1; i <= nk; i++) {
		k = keys[i]; split(k, f, SUBSEP)
		m = median(mb[k]); c = sorted(mb[k], a)
		# no ESP on the same path: the link alone on the hop, plain Mobile IP on the path
		plain = f[1] SUBSEP (f[1] == "hop" ? "link" : "off") SUBSEP f[3] SUBSEP f[4] SUBSEP f[5]
		xo = (f[2] ~ /^(mipsa|charon)-/ && (plain in n)) ? ratio(m, median(mb[plain])) : ""
		xc = ""
		if (f[1] == "hop" && f[2] ~ /^mipsa-/) {
			ch = f[1] SUBSEP "charon-" substr(f[2], 7) SUBSEP f[3] SUBSEP f[4] SUBSEP f[5]
			if (ch in n) xc = ratio(m, median(mb[ch]))
		}
		printf "%s,%s,%s,%s,%s,%s,%s,%s,%d,%s,%s,%s,%s,%s\n", f[1], f[2], f[3], f[4], f[5], m,
		       a[1], a[c], n[k], median(re[k]), median(loss[k]), median(cg[k]), xo, xc
	}
}' "$runs" | { IFS= read -r h; echo "$h"; sort -t, -k3,3 -k5,5n -k4,4r -k1,1 -s; } >"$summary"

# ---- plot: TCP from and to the MN, a pair of bars per path and system -------
# The bare veth and the link with no daemon, tens of times faster, would
# flatten the rest: they are named in the title instead.
for row in "${rows[@]}"; do
	read -r path sys <<<"$row"
	awk -F, -v p="$path" -v s="$sys" '$1 == p && $2 == s && $3 == "tcp" { v[$4] = $6 " " $7 " " $8 }
		END { printf "\"%s\\n%s\" %s %s\n", p, s, v["up"], v["down"] }' "$summary"
done | grep -v -e '^"veth' -e '^"hop.nlink' | awk '{ print NR, $0 }' >"$results/tcp.dat"
ceiling=$(awk -F, '($2 == "bare" || $2 == "link") && $3 == "tcp" {
	printf "%s%s %.0f %s", s, $2, $6, $4; s = ", " }' "$summary")
gnuplot <<GP 2>"$results/gnuplot.log" || die "gnuplot failed (see $results/gnuplot.log)"
set terminal pngcairo size 1000,500 font ",10"
set output "$results/throughput.png"
set title "iperf3 TCP, median of $rounds round(s) of $secs s (min-max), systems interleaved\\nnot drawn (Mbit/s): $ceiling"
set ylabel "Mbit/s"
set bmargin 4
set yrange [0:*]
set xrange [0.4:$(wc -l <"$results/tcp.dat").6]
set boxwidth 0.35
set style fill solid 0.6
set grid ytics
set key top right
plot "$results/tcp.dat" using (\$1 - 0.18):3:xtic(2) with boxes lc rgb "#3060a0" title "from the MN (up)", \\
     "" using (\$1 - 0.18):3:4:5 with yerrorbars lc rgb "black" pt 0 notitle, \\
     "" using (\$1 + 0.18):6 with boxes lc rgb "#a06030" title "to the MN (down)", \\
     "" using (\$1 + 0.18):6:7:8 with yerrorbars lc rgb "black" pt 0 notitle
GP
[[ -s $results/throughput.png ]] || die "the plot was not written"

# ---- the table ---------------------------------------------------------------
echo
awk -F, 'NR == 1 {
	printf "%-4s %-4s %5s  %-5s %-11s %26s %3s %7s %7s %9s %7s %8s\n", "test", "dir", "rate",
	       "path", "system", "Mbit/s median (min-max)", "n", "retr", "loss %", "CPU s/Gb", "x plain",
	       "x charon"
	next
}
function f(v, d) { return v == "" ? "" : sprintf("%." d "f", v) }
$3 $4 $5 != last { if (NR > 2) print ""; last = $3 $4 $5 }
{
	printf "%-4s %-4s %5s  %-5s %-11s %8.1f (%7.1f-%7.1f) %3s %7s %7s %9s %7s %8s\n", $3, $4,
	       $5 == "" ? "" : $5 "M", $1, $2, $6, $7, $8, $9, $10, f($11, 1), f($12, 2), $13, $14
}' "$summary" | tee "$results/table.txt"
echo
echo "up: from the MN (bare: a -> b), down: to the MN; hop: MN <-> fa1's care-of address"
echo "across the access link; path: MN <-> CN through fa1 and the HA (reverse tunnel); veth:"
echo "two namespaces, no daemon (the ceiling).  link: the hop with no daemon; off: plain Mobile"
echo "IP.  Mbit/s: received; retr: TCP retransmissions; loss: UDP; CPU s/Gb: the daemons' CPU"
echo "seconds per Gbit received; x plain: over no ESP on the same path (link on the hop, off"
echo "on the path); x charon: over charon with the same algorithm.  Medians of the rounds."
echo "CSV: $runs, $summary; plot: $results/throughput.png; took $((SECONDS - start)) s"
