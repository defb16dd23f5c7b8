#!/bin/sh
# Run every testbed test, one after the other; each builds its own
# namespaces and removes them.  Ends with one line:
#
#   testbed: N passed, N failed, N skipped (names)
#
# and exits 1 when a test failed, or, under CI (CI=true or CI=1), when one
# was skipped: there, a test that cannot run (exit 77: not root, a
# dependency missing) is a failure too.  The tests themselves already exit 1
# instead of 77 under CI (tests/testbed/require.sh); this is the second
# line of defence.
set -u
cd "$(dirname "$0")/../.." || exit 1
passed=0
failed=0
skipped=0
failed_names=""
skipped_names=""
for t in tests/testbed/test_*.sh; do
	printf -- '--- %s\n' "$t"
	start=$(date +%s)
	rc=0
	"$t" || rc=$?
	secs=$(($(date +%s) - start))
	name=$(basename "$t" .sh)
	case $rc in
	0)
		echo "PASS: $t ($secs s)"
		passed=$((passed + 1))
		;;
	77)
		echo "SKIP: $t ($secs s)"
		skipped=$((skipped + 1))
		skipped_names="$skipped_names $name"
		;;
	*)
		echo "FAIL: $t (status $rc, $secs s)"
		failed=$((failed + 1))
		failed_names="$failed_names $name"
		;;
	esac
done
names=""
[ -z "$failed_names" ] || names="failed:$failed_names"
[ -z "$skipped_names" ] || names="${names:+$names; }skipped:$skipped_names"
echo "testbed: $passed passed, $failed failed, $skipped skipped${names:+ ($names)}"
[ "$failed" -eq 0 ] || exit 1
case ${CI:-} in
true | TRUE | True | 1)
	if [ "$skipped" -ne 0 ]; then
		echo "testbed: CI=$CI: a skipped test is a failure" >&2
		exit 1
	fi
	;;
esac
exit 0
