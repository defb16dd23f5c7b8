#!/bin/sh
# The manual pages in man/ against the sources:
#
#  - every page is clean under "mandoc -T lint -W warning" (no output at
#    all); mandoc missing is a failure (scripts/deps installs it);
#  - each mipsa-DAEMON.conf(5) names every setting the daemon accepts and
#    no other.  The accepted ones come from the daemon's conf_names tables,
#    printed as dotted paths by tools/mipsa-confnames; the page's are its
#    ".Ss PATH" headings (one per group) and the ".It Cm NAME" items under
#    each (PATH.NAME);
#  - each daemon page's OPTIONS and SYNOPSIS have every option of the
#    daemon's --help, short and long, and OPTIONS no other; the same for
#    mipsactl(8), whose ".Ss mipsa-DAEMON" lists must hold every command
#    "mipsactl help" prints for that daemon, and no other;
#  - the checks themselves catch a dropped and an invented setting (run on
#    a copy of mipsa-fa.conf(5) with one item removed, one added);
#  - the example in each .conf(5) page's EXAMPLES passes "mipsa-DAEMON -t".
#
# When a setting, an option or a command is added: document it in its page.
set -u
export LC_ALL=C
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(pwd) # make check runs us in the build tree, where the programs are
man=$top/man
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

fail() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

daemons="fa ha mn dbs"
pages="mipsactl.8 mipsa-probe.1"
for d in $daemons; do
	pages="$pages mipsa-$d.8 mipsa-$d.conf.5"
done

# ---- mandoc -T lint ----
if ! command -v mandoc >/dev/null 2>&1; then
	fail "mandoc is not installed (scripts/deps installs it)"
else
	for p in $pages; do
		if [ ! -f "$man/$p" ]; then
			fail "man/$p is missing"
			continue
		fi
		mandoc -T lint -W warning "$man/$p" >"$tmp/lint" 2>&1
		if [ -s "$tmp/lint" ]; then
			fail "mandoc -T lint -W warning man/$p:"
			cat "$tmp/lint"
		fi
	done
fi

# page_settings PAGE: the dotted paths a .conf(5) page documents, sorted.
page_settings() {
	awk '
	/^\.Sh / { cur = ""; next }
	/^\.Ss / {
		cur = ($2 ~ /^[a-z_]+(\.[a-z_]+)*$/ && NF == 2) ? $2 : ""
		if (cur != "") print cur
		next
	}
	/^\.It Cm / && cur != "" { print cur "." $3 }
	' "$1" | sort -u
}

# compare_settings DAEMON PAGE: the page against mipsa-confnames DAEMON, both ways.
compare_settings() {
	"$build/tools/mipsa-confnames" "$1" | sort -u >"$tmp/accepted" || {
		fail "tools/mipsa-confnames $1 failed"
		return
	}
	page_settings "$2" >"$tmp/documented"
	comm -23 "$tmp/accepted" "$tmp/documented" >"$tmp/undocumented"
	comm -13 "$tmp/accepted" "$tmp/documented" >"$tmp/unknown"
	while read -r s; do
		fail "$(basename "$2"): setting $s is accepted by mipsa-$1 but not documented"
	done <"$tmp/undocumented"
	while read -r s; do
		fail "$(basename "$2"): documents $s, which mipsa-$1 does not accept"
	done <"$tmp/unknown"
}

# ---- settings ----
if [ ! -x "$build/tools/mipsa-confnames" ]; then
	fail "tools/mipsa-confnames is not built (make check builds it)"
else
	for d in $daemons; do
		[ -f "$man/mipsa-$d.conf.5" ] && compare_settings "$d" "$man/mipsa-$d.conf.5"
	done
	# The comparison must see a dropped and an invented setting: drop the
	# first plain setting of the fa group (one that is not a group itself).
	leaf=$("$build/tools/mipsa-confnames" fa | awk '
		{ seen[NR] = $0; n = NR }
		END {
			for (i = 1; i <= n; i++) {
				if (seen[i] !~ /^fa\.[a-z_]+$/) continue
				for (j = 1; j <= n; j++)
					if (index(seen[j], seen[i] ".") == 1) break
				if (j > n) { print substr(seen[i], 4); exit }
			}
		}')
	before=$fails
	grep -v "^\.It Cm $leaf\$" "$man/mipsa-fa.conf.5" >"$tmp/dropped.5"
	compare_settings fa "$tmp/dropped.5" >"$tmp/self" 2>&1
	grep -q "fa.$leaf is accepted" "$tmp/self" ||
		echo "FAIL: self-test: a page without fa.$leaf went unnoticed" >>"$tmp/self.fail"
	sed "s/^\.It Cm $leaf\$/.It Cm $leaf\n.It Cm no_such_setting/" \
		"$man/mipsa-fa.conf.5" >"$tmp/invented.5"
	compare_settings fa "$tmp/invented.5" >"$tmp/self" 2>&1
	grep -q 'documents fa.no_such_setting' "$tmp/self" ||
		echo "FAIL: self-test: a page with fa.no_such_setting went unnoticed" >>"$tmp/self.fail"
	fails=$before
	if [ -s "$tmp/self.fail" ]; then
		cat "$tmp/self.fail"
		fails=$((fails + 1))
	fi
fi

# section PAGE NAME: the lines of section NAME (.Sh NAME) of PAGE.
section() {
	awk -v name="$2" '/^\.Sh / { on = (substr($0, 5) == name); next } on' "$1"
}

# compare_options PAGE HELP: every "-x, --long" of HELP in PAGE's SYNOPSIS
# (".Fl x | -long") and OPTIONS (".It Fl x ... , Fl -long ..."), and no other option there.
compare_options() {
	sed -n 's/^ *-\([A-Za-z]\), --\([a-z-]*\).*/\1 \2/p' "$2" >"$tmp/opts"
	[ -s "$tmp/opts" ] || fail "$(basename "$1"): no options found in the program's --help"
	section "$1" SYNOPSIS >"$tmp/synopsis"
	section "$1" OPTIONS >"$tmp/options"
	while read -r short long; do
		grep -q "Fl $short | -$long\( \|$\)" "$tmp/synopsis" ||
			fail "$(basename "$1"): SYNOPSIS lacks -$short | --$long"
		grep -q "^\.It Fl $short\( Ar [a-z]*\)\? , Fl -$long\( \|$\)" "$tmp/options" ||
			fail "$(basename "$1"): OPTIONS lacks .It Fl $short ... , Fl -$long"
	done <"$tmp/opts"
	sed -n 's/^\.It Fl \([A-Za-z]\).*/\1/p' "$tmp/options" | while read -r short; do
		grep -q "^$short " "$tmp/opts" ||
			echo "$(basename "$1"): OPTIONS has -$short, which --help does not" >>"$tmp/extra"
	done
}

# ---- options ----
: >"$tmp/extra"
for d in $daemons; do
	prog=$build/$d/mipsa-$d
	if [ ! -x "$prog" ]; then
		fail "$d/mipsa-$d is not built"
		continue
	fi
	"$prog" --help >"$tmp/help" 2>&1 || fail "mipsa-$d --help exited $?"
	compare_options "$man/mipsa-$d.8" "$tmp/help"
done
if [ -x "$build/tools/mipsactl" ]; then
	"$build/tools/mipsactl" --help >"$tmp/help" 2>&1 || fail "mipsactl --help exited $?"
	compare_options "$man/mipsactl.8" "$tmp/help"
else
	fail "tools/mipsactl is not built"
fi
while read -r line; do
	fail "$line"
done <"$tmp/extra"

# ---- mipsactl's commands, daemon by daemon ----
if [ -x "$build/tools/mipsactl" ]; then
	env -u MIPSA_CTL "$build/tools/mipsactl" help >"$tmp/cmds.help" 2>&1 ||
		fail "mipsactl help exited $?"
	awk '/^[^ ].*:$/ { d = substr($0, 1, length($0) - 1); next }
	     /^  [a-z]/ { print d, $1 }' "$tmp/cmds.help" | sort -u >"$tmp/cmds.src"
	awk '/^\.S[hs] / { d = ($1 == ".Ss" && $2 ~ /^mipsa-/ && NF == 2) ? $2 : ""; next }
	     /^\.It Cm / && d != "" { print d, $3 }' "$man/mipsactl.8" | sort -u >"$tmp/cmds.page"
	[ -s "$tmp/cmds.src" ] || fail "mipsactl help printed no command"
	comm -23 "$tmp/cmds.src" "$tmp/cmds.page" | while read -r d c; do
		echo "mipsactl.8: $d's command $c is not documented"
	done >"$tmp/extra"
	comm -13 "$tmp/cmds.src" "$tmp/cmds.page" | while read -r d c; do
		echo "mipsactl.8: documents $d's command $c, which mipsactl help does not list"
	done >>"$tmp/extra"
	while read -r line; do
		fail "$line"
	done <"$tmp/extra"
fi

# ---- each .conf(5) page's example passes mipsa-DAEMON -t ----
# (its key file, when it names one, replaced by a made-up key)
printf '%064d' 0 >"$tmp/k_db"
chmod 600 "$tmp/k_db"
for d in $daemons; do
	[ -x "$build/$d/mipsa-$d" ] || continue
	section "$man/mipsa-$d.conf.5" EXAMPLES |
		awk '/^\.Bd/ { on = 1; next } /^\.Ed/ { on = 0 } on' |
		sed "s#\"/etc/mipsa/k_db\"#\"$tmp/k_db\"#" >"$tmp/example.conf"
	if [ ! -s "$tmp/example.conf" ]; then
		fail "mipsa-$d.conf.5: no example in EXAMPLES"
	elif ! "$build/$d/mipsa-$d" -t -c "$tmp/example.conf" >"$tmp/t.out" 2>&1; then
		fail "mipsa-$d.conf.5: its example does not pass mipsa-$d -t: $(cat "$tmp/t.out")"
	fi
done

if [ "$fails" -ne 0 ]; then
	echo "man_check: $fails failure(s)"
	exit 1
fi
echo "man_check: $(echo "$pages" | wc -w) pages clean; settings, options, commands agree; examples load"
exit 0
