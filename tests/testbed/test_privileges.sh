#!/usr/bin/env bash
#
# Least privilege of the running daemons (doc/security.md): every daemon of
# a testbed with IPsec and SA reuse through mipsa-dbs (so all four run),
# after the MN has registered and traffic has crossed, runs as the
# unprivileged user (uid and gid, no supplementary group), with exactly
# the capabilities doc/security.md lists effective and permitted (mipsa-fa
# and mipsa-ha CAP_NET_ADMIN, mipsa-mn and mipsa-dbs none), nothing
# inheritable, ambient or in the bounding set, no_new_privs, and a seccomp
# filter (Seccomp: 2); mipsa-dbs, unprivileged, still rewrites its log
# (compaction: a new file in its data_dir, renamed over the log).  That a call outside the filter kills the process
# is tests/unit/test_sandbox.c's part, with the daemons' own filters.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=require.sh
source "$here/require.sh"
need_root
export TB_PREFIX=${TB_PREFIX:-pr$$} TB_IPSEC=1 TB_REUSE=full TB_TECHNIQUE=both TB_STORE=dbs
export TB_SANDBOX=1 TB_DBS_COMPACT_MIN=4096
source "$top/testbed/lib.sh"
source "$top/testbed/daemons.sh"
source "$here/helpers.sh"
tb_trap_cleanup

CAP_NET_ADMIN=0000000000001000
NONE=0000000000000000

# field PID NAME: the value of NAME: in /proc/PID/status (whitespace squeezed)
field() {
	awk -v f="$2:" '$1 == f { $1 = ""; sub(/^ /, ""); print }' "/proc/$1/status"
}

# check NODE DAEMON CAPS: NODE's daemon runs as TB_USER with exactly CAPS
check() {
	local node=$1 daemon=$2 caps=$3 pid uid gid f
	pid=$(cat "$TB_RUN/$node.pid")
	[[ $(cat "/proc/$pid/comm") == "$daemon" ]] || fail "$node: pid $pid is not $daemon"
	uid=$(id -u "$TB_USER") gid=$(id -g "$TB_USER")
	[[ $(field "$pid" Uid) == "$uid $uid $uid $uid" ]] ||
		fail "$node: Uid $(field "$pid" Uid), want $uid four times"
	[[ $(field "$pid" Gid) == "$gid $gid $gid $gid" ]] ||
		fail "$node: Gid $(field "$pid" Gid), want $gid four times"
	[[ -z $(field "$pid" Groups) ]] || fail "$node: supplementary groups $(field "$pid" Groups)"
	for f in CapEff CapPrm; do
		[[ $(field "$pid" $f) == "$caps" ]] || fail "$node: $f $(field "$pid" $f), want $caps"
	done
	for f in CapInh CapBnd CapAmb; do
		[[ $(field "$pid" $f) == "$NONE" ]] || fail "$node: $f $(field "$pid" $f), want $NONE"
	done
	[[ $(field "$pid" NoNewPrivs) == 1 ]] || fail "$node: NoNewPrivs $(field "$pid" NoNewPrivs)"
	[[ $(field "$pid" Seccomp) == 2 ]] || fail "$node: Seccomp $(field "$pid" Seccomp), want 2"
	printf '%-4s %-9s uid %s caps %s no_new_privs 1 seccomp 2\n' "$node" "$daemon" "$uid" "$caps"
}

tb_up
tb_start_daemons
tb_wait_registered fa1 15 || fail "no registration through fa1"
tb_exec cn ping -c 3 -i 0.1 -W 1 -q "$TB_MN_HOME" >/dev/null || fail "ping CN -> MN via fa1"
# a hand-over: the HA changes its route, fa2 reuses the SAs through mipsa-dbs
tb_move fa2 >/dev/null
tb_wait_registered fa2 15 || fail "no registration through fa2"
tb_exec cn ping -c 3 -i 0.1 -W 1 -q "$TB_MN_HOME" >/dev/null || fail "ping CN -> MN via fa2"

# puts and deletes from fa1 until dead entries outweigh live ones: the store compacts
for i in $(seq 40); do
	for op in "put churn$i@home.example 198.18.100.99" "del churn$i@home.example"; do
		# shellcheck disable=SC2086 # op is split on purpose
		tb_exec fa1 "$TB_BIN/tools/mipsa-store" -a "$TB_DBS_ADDR" -l "$TB_FA1_COA" \
			-k "$TB_RUN/k_db.a" -K "$TB_RUN/k_sa.a" -t 1000 $op >/dev/null ||
			fail "mipsa-store $op"
	done
done
jqa_within 10 dbs counters '.counters.compactions >= 1'
[[ $(stat -c %U "$TB_RUN/dbs-data/dbs.log") == "$TB_USER" ]] ||
	fail "dbs.log is not $TB_USER's after the rewrite"

check dbs mipsa-dbs "$NONE"
check ha mipsa-ha "$CAP_NET_ADMIN"
for fa in fa1 fa2 fa3; do
	check "$fa" mipsa-fa "$CAP_NET_ADMIN"
done
check mn mipsa-mn "$NONE"
echo "test_privileges: ok"
