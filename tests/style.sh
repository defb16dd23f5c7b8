#!/bin/sh
# The C sources follow .clang-format: list the files that do not.
set -eu
cd "$(dirname "$0")/.."
bad=""
for f in $(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]'); do
	if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
		bad="$bad $f"
	fi
done
if [ -n "$bad" ]; then
	echo "not clang-formatted:$bad" >&2
	echo "fix with: clang-format -i$bad" >&2
	exit 1
fi
echo "style: all C files follow .clang-format"
