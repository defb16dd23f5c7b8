#!/usr/bin/env bash
#
# The IKE responder rate comparison runs (tools/ike-rate.sh --short: 20
# identities, both groups, mipsa-fa and charon): on every run all 20
# identities came up on the load side (ike-load's RESULT), none failed, and
# the responder itself holds 20 IPsec SA pairs (mipsactl sas, swanctl
# --list-sas), and the table and CSVs are written.  The figures are
# printed, never checked.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=require.sh
source "$here/require.sh"
need_root
need_charon
need_cmd jq
export TB_PREFIX=${TB_PREFIX:-ir$$}

fail() {
	echo "FAIL: test_ike_rate: $*" >&2
	exit 1
}

res=$(mktemp -d /tmp/test-ike-rate.XXXXXX)
trap 'rm -rf "$res"' EXIT
"$top/tools/ike-rate.sh" --short --results "$res" || fail "tools/ike-rate.sh --short failed"

n=20
runs=0
for g in modp2048 ecp256; do
	for s in mipsa charon; do
		raw=$res/raw-1-$g-$s.txt
		[[ -f $raw ]] || fail "no run of $s with $g"
		grep -q "^RESULT .* ok=$n failed=0 " "$raw" || fail "$s $g: not all $n up: $(cat "$raw")"
		grep -qx "responder_sas=$n" "$raw" || fail "$s $g: the responder does not hold $n: $(cat "$raw")"
		runs=$((runs + 1))
	done
done
[[ $(($(wc -l <"$res/runs.csv") - 1)) -eq $runs ]] || fail "runs.csv: $(cat "$res/runs.csv")"
[[ $(($(wc -l <"$res/summary.csv") - 1)) -eq 4 ]] || fail "summary.csv: $(cat "$res/summary.csv")"
awk -F, 'NR > 1 && ($5 != 20 || $6 != 0) { bad = 1 } END { exit bad }' "$res/runs.csv" ||
	fail "runs.csv has a run short of $n: $(cat "$res/runs.csv")"
echo "PASS: test_ike_rate: $runs runs, $n SAs each on both sides"
