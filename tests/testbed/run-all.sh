#!/bin/sh
# Run every testbed test; each builds its own namespaces and removes them.
set -u
cd "$(dirname "$0")/../.."
fail=0
for t in tests/testbed/test_*.sh; do
	printf -- '--- %s\n' "$t"
	start=$(date +%s)
	if "$t"; then
		echo "PASS: $t ($(($(date +%s) - start)) s)"
	else
		rc=$?
		if [ "$rc" -eq 77 ]; then
			echo "SKIP: $t"
		else
			echo "FAIL: $t (status $rc)"
			fail=1
		fi
	fi
done
exit "$fail"
