#!/bin/sh
# doc/testing.md's table of security checks ("## Security checks") and the
# mutations of tests/mutate/*.tsv name the same ids, each once; and every
# row still applies (scripts/mutate --check: its find occurs exactly once
# in its file), so a refactoring cannot leave a check without its mutation.
set -u
export LC_ALL=C
top=$(cd "$(dirname "$0")/.." && pwd)
doc=${MUTATE_DOC_PAGE:-$top/doc/testing.md}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

cat "$top"/tests/mutate/*.tsv | awk -F'\t' '!/^#/ && NF > 0 { print $1 }' | sort >"$tmp/tsv"
# the third column of each table row in the section, in backquotes
awk -F'|' '
	/^## / { on = ($0 == "## Security checks"); next }
	!on || !/^\|/ || /^\|--/ || $4 ~ /mutation/ { next }
	{
		id = $4
		gsub(/[ \t]/, "", id)
		if (id !~ /^`[^`]+`$/) { print "BAD " $0; next }
		print substr(id, 2, length(id) - 2)
	}' "$doc" | sort >"$tmp/doc"

if grep '^BAD ' "$tmp/doc"; then
	echo "FAIL: the table rows above have no \`id\` in the mutation column"
	fails=$((fails + 1))
fi
for f in tsv doc; do
	uniq -d "$tmp/$f" | while read -r id; do echo "FAIL: $id twice in the $f"; done
	[ -z "$(uniq -d "$tmp/$f")" ] || fails=$((fails + 1))
done
sort -u -o "$tmp/tsv" "$tmp/tsv"
grep -v '^BAD ' "$tmp/doc" | sort -u >"$tmp/doc.ids"
comm -23 "$tmp/tsv" "$tmp/doc.ids" | while read -r id; do
	echo "FAIL: mutation $id (tests/mutate/*.tsv) has no row in doc/testing.md's table"
done
comm -13 "$tmp/tsv" "$tmp/doc.ids" | while read -r id; do
	echo "FAIL: doc/testing.md's table names $id, which no tests/mutate/*.tsv row has"
done
[ -z "$(comm -3 "$tmp/tsv" "$tmp/doc.ids")" ] || fails=$((fails + 1))
# Under scripts/mutate's make check one row is applied: its find is gone.
if [ -n "${MUTATE_ROW:-}" ]; then
	echo "mutate_doc_check: row $MUTATE_ROW applied: scripts/mutate --check left out"
elif ! "$top/scripts/mutate" --check; then
	echo "FAIL: scripts/mutate --check: the rows above no longer apply"
	fails=$((fails + 1))
fi
if [ "$fails" -gt 0 ]; then
	echo "mutate_doc_check: $fails problems"
	exit 1
fi
echo "mutate_doc_check: $(wc -l <"$tmp/tsv") mutations, each in doc/testing.md's table"
