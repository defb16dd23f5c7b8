# shellcheck shell=bash
#
# testbed/measure.sh -- hand-over gap measurement.  Source after lib.sh and
# daemons.sh.
#
#   tb_measure NAME N [FAS...]
#       Runs a steady 1 ms UDP probe stream CN -> MN and MN -> CN, moves the
#       MN's link N times (cycling through FAS, default fa2 fa1), waiting for
#       the registration after each move, and writes the gaps of both
#       directions to $TB_RUN/NAME.cn2mn.json and $TB_RUN/NAME.mn2cn.json
#       (mipsa-probe gaps --json).  Returns non-zero when a move has no data.

TB_PROBE_PORT=${TB_PROBE_PORT:-9000}
TB_PROBE_INTERVAL_US=${TB_PROBE_INTERVAL_US:-1000}
TB_SETTLE_S=${TB_SETTLE_S:-0.6}

tb_measure() {
	local name=$1 n=$2 i to probe pids=() rc=0
	shift 2
	local fas=("$@")
	[[ ${#fas[@]} -gt 0 ]] || fas=(fa2 fa1)
	probe="$TB_BIN/tools/mipsa-probe"
	# long enough for every move plus settling on each side
	local secs
	secs=$(awk -v n="$n" -v s="$TB_SETTLE_S" 'BEGIN { printf "%d", n * (s + 0.3) + 3 }')

	export TB_MOVES_FILE="$TB_RUN/$name.moves"
	rm -f "$TB_MOVES_FILE" "$TB_RUN/$name".*.txt
	tb_exec mn "$probe" recv --port "$TB_PROBE_PORT" --out "$TB_RUN/$name.cn2mn.txt" \
		--duration-s "$((secs + 1))" >/dev/null 2>&1 &
	pids+=($!)
	tb_exec cn "$probe" recv --port "$TB_PROBE_PORT" --out "$TB_RUN/$name.mn2cn.txt" \
		--duration-s "$((secs + 1))" >/dev/null 2>&1 &
	pids+=($!)
	sleep 0.2
	tb_exec cn "$probe" send --to "$TB_MN_HOME" --port "$TB_PROBE_PORT" \
		--interval-us "$TB_PROBE_INTERVAL_US" --duration-s "$secs" >/dev/null 2>&1 &
	pids+=($!)
	tb_exec mn "$probe" send --to "$TB_CN_ADDR" --port "$TB_PROBE_PORT" \
		--interval-us "$TB_PROBE_INTERVAL_US" --duration-s "$secs" >/dev/null 2>&1 &
	pids+=($!)
	sleep 1
	for ((i = 0; i < n; i++)); do
		to=${fas[$((i % ${#fas[@]}))]}
		tb_move "$to" >/dev/null || rc=1
		tb_wait_registered "$to" 10 || rc=1
		sleep "$TB_SETTLE_S"
	done
	wait "${pids[@]}" || true
	unset TB_MOVES_FILE
	"$probe" gaps --in "$TB_RUN/$name.cn2mn.txt" --moves "$TB_RUN/$name.moves" --json \
		>"$TB_RUN/$name.cn2mn.json" || rc=1
	"$probe" gaps --in "$TB_RUN/$name.mn2cn.txt" --moves "$TB_RUN/$name.moves" --json \
		>"$TB_RUN/$name.mn2cn.json" || rc=1
	return "$rc"
}

# tb_gap_field NAME DIR FIELD: a summary field (median_gap_ms, worst_gap_ms, ...)
tb_gap_field() {
	jq -r ".summary.$3" "$TB_RUN/$1.$2.json"
}
