#!/bin/sh
# testbed/throughput.sh refuses to compare against nothing: without iperf3,
# or without strongSwan's swanctl, it exits 1 naming what is missing and
# prints no table (nothing on stdout).  Needs no root: the tools are
# checked before anything else.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
bash=$(command -v bash)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

# expect NAME PATH WORD: run with PATH, exit 1, WORD on stderr, stdout empty
expect() {
	PATH=$2 "$bash" "$top/testbed/throughput.sh" --short --results "$tmp/res" \
		>"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -ne 1 ] || ! grep -q "$3" "$tmp/err" || [ -s "$tmp/out" ] || [ -e "$tmp/res" ]; then
		echo "FAIL: $1: exit $rc, stderr: $(cat "$tmp/err"), stdout: $(cat "$tmp/out")"
		fails=$((fails + 1))
	else
		echo "ok: $1: $(cat "$tmp/err")"
	fi
}

mkdir "$tmp/none" "$tmp/iperf"
expect "no iperf3" "$tmp/none" iperf3
# an iperf3 that is there, with no swanctl beside it
printf '#!/bin/sh\nexit 0\n' >"$tmp/iperf/iperf3"
chmod +x "$tmp/iperf/iperf3"
expect "no strongSwan" "$tmp/iperf" swanctl
[ "$fails" -eq 0 ]
