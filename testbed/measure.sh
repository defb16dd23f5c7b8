# shellcheck shell=bash
#
# testbed/measure.sh -- hand-over gap measurement.  Source after lib.sh and
# daemons.sh.
#
#   tb_measure NAME N [FAS...]
#       Runs a steady 1 ms UDP probe stream CN -> MN and MN -> CN, moves the
#       MN's link N times (cycling through FAS, default fa2 fa1), waiting for
#       the registration after each move and then TB_SETTLE_S, stops the
#       streams once both have data after the last move, and writes the gaps of both
#       directions to $TB_RUN/NAME.cn2mn.json and $TB_RUN/NAME.mn2cn.json
#       (mipsa-probe gaps --json).  Returns non-zero when a move has no data.
#       TB_MOVE_WAIT: a command run after each registration, before the
#       settling time, that waits for what else a mode needs (swan: its SA).
#       TB_QUIET_S: how long the harness keeps off the CPUs after each move
#       before it asks the MN whether it registered (see below).

TB_PROBE_PORT=${TB_PROBE_PORT:-9000}
TB_PROBE_INTERVAL_US=${TB_PROBE_INTERVAL_US:-1000}
TB_SETTLE_S=${TB_SETTLE_S:-0.6}
TB_QUIET_S=${TB_QUIET_S:-0.03}

tb_measure() {
	local name=$1 n=$2 i to probe recv=() send=() rc=0 last_end
	shift 2
	local fas=("$@")
	[[ ${#fas[@]} -gt 0 ]] || fas=(fa2 fa1)
	probe="$TB_BIN/tools/mipsa-probe"
	local in=$TB_RUN/$name.cn2mn.txt out=$TB_RUN/$name.mn2cn.txt
	# The streams run until the last move has data both ways, however long
	# the moves take; --duration-s only bounds them should nobody stop them.
	local secs=$((n * 30 + 60))

	export TB_MOVES_FILE="$TB_RUN/$name.moves"
	rm -f "$TB_MOVES_FILE" "$TB_RUN/$name".*.txt
	# not through tb_exec (a function: $! would be a subshell); ip netns exec execs
	ip netns exec "$(tb_ns mn)" "$probe" recv --port "$TB_PROBE_PORT" --out "$in" \
		--duration-s "$secs" >/dev/null 2>&1 &
	recv+=($!)
	ip netns exec "$(tb_ns cn)" "$probe" recv --port "$TB_PROBE_PORT" --out "$out" \
		--duration-s "$secs" >/dev/null 2>&1 &
	recv+=($!)
	# a receiver writes its header once it is bound
	_tb_probe_until "$in" -1 && _tb_probe_until "$out" -1 || rc=1
	ip netns exec "$(tb_ns cn)" "$probe" send --to "$TB_MN_HOME" --port "$TB_PROBE_PORT" \
		--interval-us "$TB_PROBE_INTERVAL_US" --duration-s "$secs" >/dev/null 2>&1 &
	send+=($!)
	ip netns exec "$(tb_ns mn)" "$probe" send --to "$TB_CN_ADDR" --port "$TB_PROBE_PORT" \
		--interval-us "$TB_PROBE_INTERVAL_US" --duration-s "$secs" >/dev/null 2>&1 &
	send+=($!)
	# both streams arrive before the first move
	_tb_probe_until "$in" 0 && _tb_probe_until "$out" 0 || rc=1
	for ((i = 0; i < n; i++)); do
		to=${fas[$((i % ${#fas[@]}))]}
		tb_move "$to" >/dev/null || rc=1
		# not synchronisation: the hand-over measured takes a few ms, and a
		# mipsactl forked meanwhile takes one of this machine's two cores
		# from the daemons that carry it (the node's ESP is in userspace,
		# plain Mobile IP's data in the kernel: it hit the modes unequally)
		sleep "$TB_QUIET_S"
		tb_wait_registered "$to" 10 || rc=1
		[[ -z ${TB_MOVE_WAIT:-} ]] || $TB_MOVE_WAIT || rc=1
		# not synchronisation: the streams run through the new agent a while
		# before the next move, so that each move has its own gap
		sleep "$TB_SETTLE_S"
	done
	# a datagram each way after the last move, then stop: the receivers
	# record what is queued before they exit
	last_end=$(awk 'END { print $2 }' "$TB_MOVES_FILE" 2>/dev/null)
	_tb_probe_until "$in" "${last_end:-0}" && _tb_probe_until "$out" "${last_end:-0}" || rc=1
	kill -TERM "${send[@]}" 2>/dev/null || true
	wait "${send[@]}" || true
	kill -TERM "${recv[@]}" 2>/dev/null || true
	wait "${recv[@]}" || true
	unset TB_MOVES_FILE
	"$probe" gaps --in "$in" --moves "$TB_RUN/$name.moves" --json >"$TB_RUN/$name.cn2mn.json" ||
		rc=1
	"$probe" gaps --in "$out" --moves "$TB_RUN/$name.moves" --json >"$TB_RUN/$name.mn2cn.json" ||
		rc=1
	return "$rc"
}

# _tb_probe_until FILE T: within 10 s, FILE (mipsa-probe recv's, written out
# once a second) records a datagram received after T (microseconds since
# the epoch; 0: any datagram; -1: the file's header will do)
_tb_probe_until() {
	local file=$1 t=$2 deadline=$((SECONDS + 10))
	until [[ -s $file ]] && awk -v t="$t" 't < 0 || (!/^#/ && $3 > t) { found = 1; exit }
		END { exit !found }' "$file"; do
		if ((SECONDS >= deadline)); then
			_tb_err "$file: no datagram received after $t within 10 s"
			return 1
		fi
		sleep 0.05
	done
}

# tb_gap_field NAME DIR FIELD: a summary field (median_gap_ms, worst_gap_ms, ...)
tb_gap_field() {
	jq -r ".summary.$3" "$TB_RUN/$1.$2.json"
}
