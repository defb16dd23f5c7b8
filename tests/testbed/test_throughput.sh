#!/usr/bin/env bash
#
# testbed/throughput.sh, the smoke run and its honesty path:
#  1. with an iperf3 client that carries nothing (a stand-in that reports
#     0 bytes; the servers are the real iperf3), the script exits 1 with no
#     table and leaves no namespace of its prefix behind;
#  2. --short for real: exit 0, a runs.csv row per run, every ESP row's
#     traffic counted by ESP on the MN, ratios in the summary, the plot.
# Figures are printed by the script, never asserted here.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=require.sh
source "$here/require.sh"
need_root
need_cmd iperf3 "scripts/deps"
need_cmd swanctl "strongSwan: scripts/deps"
prefix=${TB_PREFIX:-th$$}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}
left() { ip netns list | awk -v p="$prefix-" 'index($1, p) == 1' | wc -l; }

echo "--- an iperf3 client that carries nothing"
mkdir "$tmp/bin"
cat >"$tmp/bin/iperf3" <<FAKE
#!/bin/sh
case " \$* " in
*" -s "*) exec $(command -v iperf3) "\$@" ;;
esac
echo '{"start":{},"end":{"sum_sent":{"bytes":0,"bits_per_second":0,"retransmits":0},
 "sum_received":{"bytes":0,"bits_per_second":0},
 "cpu_utilization_percent":{"host_total":0,"remote_total":0}}}'
FAKE
chmod +x "$tmp/bin/iperf3"
rc=0
PATH=$tmp/bin:$PATH TB_PREFIX=$prefix "$top/testbed/throughput.sh" --short \
	--results "$tmp/nothing" >"$tmp/out" 2>"$tmp/err" || rc=$?
[[ $rc == 1 ]] || fail "exit $rc, expected 1: $(tail -n 5 "$tmp/err")"
grep -q "carried nothing: no table" "$tmp/err" || fail "no 'carried nothing': $(tail -n 5 "$tmp/err")"
! grep -q "Mbit/s median" "$tmp/out" || fail "a table was printed"
[[ ! -e $tmp/nothing/summary.csv ]] || fail "a summary was written"
[[ $(left) == 0 ]] || fail "namespaces of $prefix left behind"
echo "  $(tail -n 1 "$tmp/err")"

echo "--- --short"
TB_PREFIX=$prefix "$top/testbed/throughput.sh" --short --results "$tmp/res" >"$tmp/out" 2>&1 ||
	fail "exit $?: $(tail -n 10 "$tmp/out")"
sed -n '/Mbit\/s median/,/^$/p' "$tmp/out"
runs=$tmp/res/runs.csv
# 6 rows (veth, 3 on the hop, 2 on the path) x 3 tests
[[ $(($(wc -l <"$runs") - 1)) == 18 ]] || fail "$(wc -l <"$runs") lines in runs.csv"
awk -F, 'NR > 1 && $3 ~ /^(mipsa|charon)-/ && $14 <= 0 { bad = 1 } END { exit bad }' "$runs" ||
	fail "an ESP row without ESP packets: $(cat "$runs")"
awk -F, '$1 == "hop" && $2 == "mipsa-gcm" && ($13 == "" || $14 == "") { bad = 1 } END { exit bad }' \
	"$tmp/res/summary.csv" || fail "no ratio in the summary: $(cat "$tmp/res/summary.csv")"
[[ -s $tmp/res/throughput.png ]] || fail "no plot"
[[ $(left) == 0 ]] || fail "namespaces of $prefix left behind"
echo "test_throughput: ok"
