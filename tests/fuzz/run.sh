#!/bin/sh
# Build the libFuzzer targets with clang in a separate build tree and run
# each one for a number of seconds (first argument, else $FUZZ_SECONDS, else
# 30) starting from the seed corpora in tests/fuzz/corpus/<target>/.
# Exits non-zero when any target crashes, leaks, times out or fails a CHECK;
# the input that did it is saved under build/fuzz/artifacts/<target>/.
#
#   tests/fuzz/run.sh            # 30 s per target
#   FUZZ_SECONDS=60 tests/fuzz/run.sh
#   tests/fuzz/run.sh 5 fuzz_buf # 5 s, one target
#   FUZZ_RUNS=10000000 tests/fuzz/run.sh 7200 fuzz_esp
#                                # 10^7 executions, or 2 h if that comes first
#   FUZZ_FORK=2 FUZZ_RUNS=10000000 tests/fuzz/run.sh 7200 fuzz_dbs_log
#                                # the same run in libFuzzer's fork mode: two
#                                # worker processes, their executions counted
#                                # together, a timeout or OOM still a finding
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-${FUZZ_SECONDS:-30}}
[ $# -gt 0 ] && shift
# every target there is a source for, unless named
all=$(cd "$top/tests/fuzz" && ls fuzz_*.c | sed 's/\.c$//' | tr '\n' ' ')
targets=${*:-$all}
out=${FUZZ_BUILD_DIR:-$top/build/fuzz}
jobs=$(nproc 2>/dev/null || echo 2)

runs=${FUZZ_RUNS:--1}
fork=${FUZZ_FORK:-0}
case $secs in
'' | *[!0-9]*)
	echo "run.sh: seconds must be a number, not '$secs'" >&2
	exit 2
	;;
esac
case $fork in
'' | *[!0-9]*)
	echo "run.sh: FUZZ_FORK must be a number, not '$fork'" >&2
	exit 2
	;;
esac
# fork mode ignores timeouts and OOMs unless told otherwise
fork_args=""
[ "$fork" -eq 0 ] || fork_args="-fork=$fork -ignore_timeouts=0 -ignore_ooms=0"
case $runs in
-1) ;;
'' | *[!0-9]*)
	echo "run.sh: FUZZ_RUNS must be a number, not '$runs'" >&2
	exit 2
	;;
esac
command -v clang >/dev/null 2>&1 || {
	echo "run.sh: clang is needed for libFuzzer" >&2
	exit 2
}

mkdir -p "$out"
out=$(cd "$out" && pwd)
# the sources to configure from: the tree, or a snapshot of it when it has
# been configured in place (scripts/srctree)
src=$("$top/scripts/srctree" "$out")
if [ "$src" = "$top" ]; then bld=$out; else bld=$src/build; fi

mkdir -p "$bld"
cd "$bld"
if ! grep -q -- '--enable-fuzz' config.status 2>/dev/null; then
	echo "run.sh: configuring a clang build in $bld"
	"$src/configure" --enable-fuzz CC=clang >"$out/configure.log" 2>&1 || {
		tail -30 "$out/configure.log" >&2
		exit 1
	}
fi
# Every target: through `make fuzz`, which must then have built one for
# each tests/fuzz/fuzz_*.c, so a target missing from its list shows here.
if [ $# -eq 0 ]; then
	bins=fuzz
else
	bins=""
	for t in $targets; do
		bins="$bins tests/fuzz/$t"
	done
fi
# shellcheck disable=SC2086
make -j"$jobs" $bins >"$out/build.log" 2>&1 || {
	tail -40 "$out/build.log" >&2
	exit 1
}
for t in $targets; do
	[ -x "$bld/tests/fuzz/$t" ] || {
		echo "run.sh: make $bins built no tests/fuzz/$t (add it to FUZZ_TARGETS," \
			"tests/fuzz/local.mk)" >&2
		exit 1
	}
done

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
failed=""
for t in $targets; do
	seeds=$top/tests/fuzz/corpus/$t
	work=$out/corpus-run/$t
	art=$out/artifacts/$t
	mkdir -p "$work" "$art"
	[ -d "$seeds" ] || seeds=""
	echo "run.sh: $t for ${secs}s${FUZZ_RUNS:+ or $runs executions}"
	# The first directory receives new inputs; the committed seeds stay as they are.
	start=$(date +%s)
	# shellcheck disable=SC2086 # $fork_args and $seeds: none, or words to split
	if "$bld/tests/fuzz/$t" $fork_args -runs="$runs" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$art/" "$work" $seeds \
		>"$out/$t.log" 2>&1; then
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$t.log")
		# fork mode prints no final stats: "INFO: fuzzed for N iterations", or
		# (stopped by the clock) its last "#N: cov: ..." line
		[ -n "$execs" ] || execs=$(sed -n 's/^INFO: fuzzed for \([0-9]*\) iterations.*/\1/p' "$out/$t.log")
		[ -n "$execs" ] || execs=$(sed -n 's/^#\([0-9]*\): cov: .*/\1/p' "$out/$t.log" | tail -1)
		# the last status line: "#N DONE cov: C ft: F corp: ..."
		cov=$(grep -E '^#[0-9]+.* cov: ' "$out/$t.log" | tail -1 | sed -n 's/.* cov: \([0-9]*\) ft: \([0-9]*\).*/\1 edges, \2 features/p')
		echo "run.sh: $t ok: ${execs:-?} executions in $(($(date +%s) - start))s," \
			"coverage ${cov:-?}, corpus $(ls "$work" | wc -l) inputs"
	else
		echo "run.sh: $t FAILED (log: $out/$t.log)"
		grep -E 'ERROR|CHECK failed|runtime error|SUMMARY|Test unit written' \
			"$out/$t.log" | head -20
		failed="$failed $t"
	fi
done
if [ -n "$failed" ]; then
	echo "run.sh: failed:$failed" >&2
	exit 1
fi
echo "run.sh: all fuzz targets ran without a finding"
