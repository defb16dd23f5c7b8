#!/usr/bin/env bash
# tests/testbed/test_probe.sh -- mipsa-probe send/recv/gaps over loopback in a
# fresh network namespace (root).  Two fake "moves": the sender is frozen with
# SIGSTOP for 300 ms (gap, no loss), then the receiver's input is dropped with
# nftables for 200 ms (gap and loss).  Exit 0 pass, 1 fail, 77 skip (not root;
# a failure under CI).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source-path=SCRIPTDIR source=../../testbed/lib.sh
source "$top/testbed/lib.sh"

PROBE=${MIPSA_PROBE:-$top/tools/mipsa-probe}
PORT=47000
# shellcheck source=require.sh
source "$here/require.sh"
need_root
if [[ ! -x $PROBE ]]; then
	echo "FAIL: $PROBE not built (run make)"
	exit 1
fi
command -v nft >/dev/null || {
	echo "FAIL: nft not found"
	exit 1
}

export TB_PREFIX=${TB_PREFIX:-mipsa-tp$$}
tmp=$(mktemp -d /tmp/mipsa-test-probe.XXXXXX)
passed=0
send_pid=
recv_pid=

cleanup() {
	local p
	for p in $send_pid $recv_pid; do
		kill -CONT "$p" 2>/dev/null || true
		kill -TERM "$p" 2>/dev/null || true
	done
	if [[ $passed -eq 1 ]]; then
		rm -rf "$tmp"
	else
		echo "test_probe: FAILED, files kept in $tmp" >&2
	fi
}
tb_trap_cleanup cleanup

fails=0
check() {
	local what=$1
	shift
	if "$@"; then
		echo "ok   - $what"
	else
		echo "FAIL - $what"
		fails=$((fails + 1))
	fi
}
between() { # between VALUE LO HI (decimal numbers)
	awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v != "" && v + 0 >= lo && v + 0 <= hi) }'
}
now_us() {
	printf '%s' "${EPOCHREALTIME//[!0-9]/}"
}
# recorded COND: the receiver's file (written out once a second) has a
# datagram for which the awk condition COND over seq ($1), send_us ($2)
# and recv_us ($3) holds
recorded() {
	awk "!/^#/ && ($1) { found = 1; exit } END { exit !found }" "$recv_out"
}
# field NAME LINE: value of NAME=value in a gaps output line
field() {
	sed -n "s/.*[[:space:]]$1=\([^[:space:]]*\).*/\1/p" <<<"$2"
}

ns=$(tb_ns probe)
ip netns add "$ns"
ip -n "$ns" link set lo up

recv_out=$tmp/recv.txt
moves=$tmp/moves.txt
: >"$moves"

ip netns exec "$ns" "$PROBE" recv --port "$PORT" --out "$recv_out" --duration-s 20 \
	2>"$tmp/recv.err" &
recv_pid=$!
for _ in $(seq 50); do # the header is written after bind()
	[[ -s $recv_out ]] && break
	sleep 0.05
done
[[ -s $recv_out ]] || {
	echo "FAIL: receiver did not start"
	cat "$tmp/recv.err"
	exit 1
}

# The moves wait for the stream to have run long enough (600 datagrams
# before the first, 400 ms after the first before the second), as the
# receiver's file says, so DURATION_S leaves room for its once-a-second
# writes and a loaded machine; the stops themselves (300 ms, 200 ms) are
# the moves, timed on purpose.
DURATION_S=6
ip netns exec "$ns" "$PROBE" send --to 127.0.0.1 --port "$PORT" --interval-us 1000 \
	--duration-s "$DURATION_S" 2>"$tmp/send.err" &
send_pid=$!

# move 1: freeze the sender for 300 ms
check "600 datagrams before move 1" tb_poll 10 recorded '$1 >= 600'
start=$(now_us)
kill -STOP "$send_pid"
sleep 0.3 # the move: a 300 ms stall
kill -CONT "$send_pid"
end=$(now_us)
echo "$start $end stop cont" >>"$moves"

# move 2: drop everything arriving at the receiver for 200 ms
check "400 ms of datagrams after move 1" tb_poll 10 recorded "\$3 > $end + 400000"
start=$(now_us)
ip netns exec "$ns" nft -f - <<EOF
table inet tp_drop {
	chain in {
		type filter hook input priority 0; policy accept;
		udp dport $PORT drop
	}
}
EOF
sleep 0.2 # the move: 200 ms of loss
ip netns exec "$ns" nft delete table inet tp_drop
end=$(now_us)
echo "$start $end drop pass" >>"$moves"

rc=0
wait "$send_pid" || rc=$?
send_pid=
check "sender exits 0 after --duration-s" test "$rc" -eq 0
# the receiver has the last datagram (sequence numbers: one per datagram
# sent or failed, from 1)
last=$(sed -n 's/.* \([0-9]*\) datagrams sent, \([0-9]*\) send errors.*/\1 \2/p' \
	"$tmp/send.err" | awk '{ print $1 + $2 }')
check "the receiver recorded the last datagram, ${last:-?}" tb_poll 10 recorded "\$1 == ${last:-0}"
kill -TERM "$recv_pid"
rc=0
wait "$recv_pid" || rc=$?
recv_pid=
check "receiver exits 0 on SIGTERM" test "$rc" -eq 0
cat "$tmp/send.err" "$tmp/recv.err"

npk=$(grep -vc '^#' "$recv_out" || true)
# DURATION_S at 1 ms, less a 300 ms stall and 200 ms of loss, less the
# slots a loaded machine skips (the exact count is checked against the
# gaps below)
check "recorded $npk datagrams (expect ~$((DURATION_S * 1000 - 500)))" \
	between "$npk" $((DURATION_S * 1000 / 2)) $((DURATION_S * 1000 - 100))

# steady schedule: datagrams leave on a fixed 1 ms grid (absolute deadlines), so
# before the first move nearly all send times share one phase modulo 1 ms (a late
# datagram, or slots skipped after a stall, keep it); a sender that drifts would
# spread the phase evenly (~40% within +-200 us of any centre).
phase=$(awk '!/^#/ { if ($1 > 590) exit; ph[n++] = $2 % 1000 }
	END { for (c = 0; c < 1000; c += 10) { k = 0
		for (i = 0; i < n; i++) { d = ph[i] - c; if (d < 0) d = -d; if (d > 500) d = 1000 - d
			if (d < 200) k++ }
		if (k > best) best = k }
	printf "%d", n ? 100 * best / n : 0 }' "$recv_out")
check "steady grid: ${phase}% of send times within 200 us of one 1 ms grid phase" \
	between "$phase" 75 100
# every slot of DURATION_S at 1 ms is either sent, failed or skipped
slots=$(sed -n 's/.* \([0-9]*\) datagrams sent, \([0-9]*\) send errors, \([0-9]*\) slots skipped.*/\1 \2 \3/p' \
	"$tmp/send.err" | awk '{ print $1 + $2 + $3 }')
check "no drift: ${slots} slots in $DURATION_S s at 1 ms (sent + failed + skipped)" \
	between "$slots" $((DURATION_S * 1000 - 1)) $((DURATION_S * 1000 + 1))

rc=0
out=$("$PROBE" gaps --in "$recv_out" --moves "$moves") || rc=$?
echo "$out"
check "gaps exits 0" test "$rc" -eq 0
m1=$(grep '^move 1 ' <<<"$out" || true)
m2=$(grep '^move 2 ' <<<"$out" || true)
sum=$(grep '^summary:' <<<"$out" || true)
g1=$(field gap_ms "$m1")
l1=$(field lost "$m1")
g2=$(field gap_ms "$m2")
l2=$(field lost "$m2")
check "SIGSTOP 300 ms: gap ${g1} ms in [250, 600]" between "$g1" 250 600
check "SIGSTOP: lost ${l1} == 0" test "${l1:-x}" = 0
check "drop 200 ms: gap ${g2} ms in [150, 500]" between "$g2" 150 500
check "drop 200 ms: lost ${l2} in [100, 400]" between "$l2" 100 400
check "summary count=2" test "$(field count "$sum")" = 2
lost=$(field lost_total "$sum")
check "every datagram recorded but the ${lost} lost in move 2: $npk + $lost == ${last:-?}" \
	test "$((npk + ${lost:-0}))" -eq "${last:-0}"
check "summary worst = max(gaps)" test "$(field worst_gap_ms "$sum")" = \
	"$(printf '%s\n%s\n' "$g1" "$g2" | sort -g | tail -1)"

rc=0
json=$("$PROBE" gaps --in "$recv_out" --moves "$moves" --json) || rc=$?
check "gaps --json exits 0" test "$rc" -eq 0
if command -v python3 >/dev/null; then
	check "gaps --json is valid JSON with 2 moves" python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["summary"]["count"] == 2 and len(d["moves"]) == 2
assert all(m["status"] == "ok" for m in d["moves"])' "$json"
else
	check "gaps --json mentions 2 moves" grep -q '"count":2' <<<"$json"
fi

# edge cases: a move before the first packet, after the last one, none at all
first=$(awk '!/^#/ { print $3; exit }' "$recv_out")
last=$(awk '!/^#/ { v = $3 } END { print v }' "$recv_out")
printf '%s %s early x\n%s %s late y\n' $((first - 5000)) $((first - 4000)) \
	$((last + 1000)) $((last + 2000)) >"$tmp/moves_nodata.txt"
rc=0
out=$("$PROBE" gaps --in "$recv_out" --moves "$tmp/moves_nodata.txt") || rc=$?
echo "$out"
check "no data: exit status 2" test "$rc" -eq 2
check "no data: both moves reported" test "$(grep -c 'no data' <<<"$out")" -eq 2
rc=0
"$PROBE" gaps --in "$recv_out" --moves /dev/null >/dev/null 2>&1 || rc=$?
check "empty moves file: exit status 2" test "$rc" -eq 2
echo "1 2" >"$tmp/bad.txt"
rc=0
"$PROBE" gaps --in "$tmp/bad.txt" --moves "$moves" >/dev/null 2>&1 || rc=$?
check "malformed recv file: exit status 1" test "$rc" -eq 1

tb_down
check "namespace $ns removed" test ! -e "$TB_NETNS_DIR/$ns"

if [[ $fails -ne 0 ]]; then
	echo "test_probe: $fails check(s) failed"
	exit 1
fi
passed=1
echo "test_probe: PASS"
