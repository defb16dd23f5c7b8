#!/usr/bin/env bash
#
# testbed/demo.sh -- the mipsa demo: build the namespace testbed, start the
# home agent, three foreign agents and the mobile node, and measure the
# hand-over gap of steady probe streams in both directions over N
# hand-overs between fa1 and fa2 (domain A), in each mode:
#
#   plain Mobile IP     no IPsec: the floor every secured mode is compared with
#   IPsec, no reuse     IKEv1 Main Mode + Quick Mode with each new FA, then the
#                       registration under ESP
#   partial reuse       the new FA takes the ISAKMP SA over; Quick Mode only
#   full reuse          the new FA takes ISAKMP and IPsec SAs over; no IKE
#
# each reuse mode with each transfer technique: direct (the new FA holds
# the SAs the previous one offered ahead, the ISAKMP SA for partial reuse,
# and asks nothing), store (mipsa-dbs; full reuse also
# through Redis) and both (direct, the store as fallback).
#
#   testbed/demo.sh [-n HANDOVERS] [-o DIR]
#
# Besides the table on standard output, DIR (default results/demo) gets
# table.txt, gaps.csv (every hand-over's gap, both directions) and
# gap_by_mode.png (gnuplot: every hand-over a point per mode and technique,
# the median a bar, plain Mobile IP's median marked as the floor).
#
# gap     = last packet before the link move .. first packet after it
# link    = how long the testbed takes to move the link (the test rig's share
#           of the gap, the same in every mode)
# resume  = link back up .. first packet through the new agent
# IKE     = IKE messages on the access link per hand-over
set -euo pipefail

N=10
OUT=results/demo
while getopts "n:o:h" opt; do
	case $opt in
	n) N=$OPTARG ;;
	o) OUT=$OPTARG ;;
	*)
		sed -n '2,29p' "$0"
		exit 0
		;;
	esac
done

here=$(cd "$(dirname "$0")" && pwd)
export TB_PREFIX=${TB_PREFIX:-mipsademo}
# shellcheck source=testbed/lib.sh
source "$here/lib.sh"
# shellcheck source=testbed/daemons.sh
source "$here/daemons.sh"
# shellcheck source=testbed/measure.sh
source "$here/measure.sh"

command -v gnuplot >/dev/null || {
	echo "testbed/demo.sh: gnuplot is missing (Debian gnuplot-nox; scripts/deps)" >&2
	exit 1
}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
echo "run,mode,technique,direction,handover,gap_ms,resume_ms,status" >"$OUT/gaps.csv"
COLS=() # "run|label|technique" per mode, in the order run

tb_trap_cleanup
echo "mipsa demo: building the testbed ($TB_PREFIX-*: cn ha core fa1 fa2 fa3 dbs mn)"
tb_up

ROWS=()
FLOOR="" # plain Mobile IP's median gap CN -> MN
med() {
	jq -r "[.moves[] | select(.status == \"ok\") | .$2] | sort | .[length / 2 | floor]" \
		"$TB_RUN/$1"
}
ike_messages() {
	tb_ctl mn --json sas 2>/dev/null |
		jq -r 'if .ipsec then .ike_counters.rx_messages + .ike_counters.tx_messages else 0 end'
}

# demo_plot: gap_by_mode.png from gaps.csv, CN -> MN: a column per mode and
# technique in the order run, every hand-over a point (jittered sideways),
# the median a bar, the floor (plain Mobile IP's median) a dashed line.
demo_plot() {
	local i xtics="" run label tech runs=""
	for i in "${!COLS[@]}"; do
		IFS='|' read -r run label tech <<<"${COLS[$i]}"
		xtics+="${xtics:+, }\"$label\\n$tech\" $((i + 1))"
		runs+="$run;"
	done
	awk -F, -v cols="$runs" '
		BEGIN { n = split(cols, c, ";"); for (i = 1; i < n; i++) x[c[i]] = i; srand(1) }
		FNR > 1 && $4 == "cn2mn" && $8 == "ok" && $6 != "" {
			printf "%.3f %s\n", x[$1] + (rand() - 0.5) * 0.3, $6
		}' "$OUT/gaps.csv" >"$OUT/gap_points.dat"
	# the medians as the other summaries take them (tools/stats.awk: of an even
	# count, the mean of the middle two)
	awk -F, -v cols="$runs" "$(<"$here/../tools/stats.awk")"'
		BEGIN { n = split(cols, c, ";"); for (i = 1; i < n; i++) x[c[i]] = i }
		FNR > 1 && $4 == "cn2mn" && $8 == "ok" && $6 != "" { v[x[$1]] = v[x[$1]] " " $6 }
		END {
			for (i = 1; i < n; i++) {
				if (v[i] == "") continue
				m = median(v[i])
				printf "%.2f %s\n%.2f %s\n\n", i - 0.25, m, i + 0.25, m
			}
		}' "$OUT/gaps.csv" >"$OUT/gap_medians.dat"
	gnuplot <<GP 2>"$OUT/gnuplot.log" || { cat "$OUT/gnuplot.log" >&2; return 1; }
set terminal pngcairo size 1100,520 font ",9"
set output "$OUT/gap_by_mode.png"
set title "Hand-over gap CN -> MN, $N hand-overs fa1 <-> fa2 per mode (testbed demo)"
set ylabel "gap (ms), log scale"
set logscale y
set bmargin 5
set xrange [0.4:${#COLS[@]}.6]
set xtics ($xtics)
set grid ytics
set arrow from graph 0, first $FLOOR to graph 1, first $FLOOR nohead dt 2 lc rgb "red"
set label "floor: plain Mobile IP median $FLOOR ms" at graph 0.98, first $FLOOR right offset 0,-0.9 tc rgb "red"
plot "$OUT/gap_points.dat" using 1:2 with points pt 7 ps 0.6 lc rgb "#3060a0" title "one hand-over", \
     "$OUT/gap_medians.dat" using 1:2 with lines lw 3 lc rgb "black" title "median"
GP
	[[ -s $OUT/gap_by_mode.png ]]
}

# run_mode NAME LABEL [TECHNIQUE]: daemons with the current TB_* settings, N hand-overs, one row
run_mode() {
	local name=$1 label=$2 tech=${3:--} before after gap
	tb_start_daemons
	tb_wait_registered fa1 10
	before=$(ike_messages)
	echo "$label: registered through fa1; $N hand-overs fa1 <-> fa2 under 1 ms probes ..."
	tb_measure "$name" "$N" fa2 fa1
	after=$(ike_messages)
	gap=$(tb_gap_field "$name" cn2mn median_gap_ms)
	[[ -n $FLOOR ]] || FLOOR=$gap
	COLS+=("$name|$label|$tech")
	for dir in cn2mn mn2cn; do
		jq -r --arg r "$name" --arg m "${label//,/}" --arg t "$tech" --arg d "$dir" \
			'.moves[] | [$r, $m, $t, $d, .index, (.gap_ms // ""), (.resume_ms // ""), .status] | @csv' \
			"$TB_RUN/$name.$dir.json" | tr -d '"' >>"$OUT/gaps.csv"
	done
	ROWS+=("$(printf '%-16s %-14s %-5s %-7s %-22s %-22s %-10s %-10s' "$label" "$tech" \
		"$(((after - before) / N))" "$(awk -v g="$gap" -v f="$FLOOR" 'BEGIN { printf "%.2f", g / f }')" \
		"$(tb_gap_field "$name" cn2mn median_gap_ms)/$(tb_gap_field "$name" cn2mn worst_gap_ms) ms" \
		"$(tb_gap_field "$name" mn2cn median_gap_ms)/$(tb_gap_field "$name" mn2cn worst_gap_ms) ms" \
		"$(med "$name.cn2mn.json" move_ms) ms" "$(med "$name.cn2mn.json" resume_ms) ms")")
	tb_stop_daemons
	# the link may be at either FA now; start the next mode at fa1
	[[ $(tb_where) == fa1 ]] || tb_move fa1 >/dev/null
}

TB_IPSEC=0 run_mode plain "plain Mobile IP"
TB_IPSEC=1 run_mode ipsec-none "IPsec, no reuse"
for reuse in partial full; do
	for tech in direct store both; do
		label=$tech
		[[ $tech == direct ]] || label="$tech (dbs)"
		TB_IPSEC=1 TB_REUSE=$reuse TB_TECHNIQUE=$tech TB_STORE=dbs \
			run_mode "$reuse-$tech" "$reuse reuse" "$label"
	done
done
TB_IPSEC=1 TB_REUSE=full TB_TECHNIQUE=store TB_STORE=redis \
	run_mode full-redis "full reuse" "store (redis)"

{
	printf '\n%-16s %-14s %-5s %-7s %-22s %-22s %-10s %-10s\n' "mode" "technique" "IKE" "x floor" \
		"gap CN->MN med/worst" "gap MN->CN med/worst" "link med" "resume med"
	printf '%s\n' "${ROWS[@]}"
	echo
	echo "(gap includes the testbed's own link move; resume is the protocol's share;"
	echo " x floor: median gap CN->MN over plain Mobile IP's, targets 1.1 full, 1.5 partial)"
} | tee "$OUT/table.txt"
demo_plot
echo "table, every hand-over and the plot: $OUT/table.txt, $OUT/gaps.csv, $OUT/gap_by_mode.png"
