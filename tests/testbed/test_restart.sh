#!/usr/bin/env bash
#
# Restarts with a node attached (issue 11): mipsa-fa killed (SIGKILL, no
# goodbye) and started again while the node stays on its link, and likewise
# mipsa-ha.  The node must recover -- registered again, traffic both ways
# through the restarted daemon -- within a stated bound:
#
#   FA, plain Mobile IP      RESTART_FA_S (5 s): the FA's advertisements
#                            restart their sequence below 256 (RFC 5944
#                            2.3.1), the node takes that for a reboot and
#                            registers again at the next one (1 s apart here)
#   FA, IPsec, full reuse    RESTART_FA_IPSEC_S (10 s): the same, and the
#                            node's SAs come back (from the store, or by
#                            negotiation) before it registers
#   HA                       RESTART_HA_S (5 s): the home agent reads back
#                            the bindings it saved (state_file) at start
#
# Prints what each recovery took; asserts only the bounds.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=require.sh
source "$here/require.sh"
need_root
export TB_PREFIX=${TB_PREFIX:-rs$$}
source "$top/testbed/lib.sh"
source "$top/testbed/daemons.sh"
source "$here/helpers.sh"
tb_trap_cleanup

RESTART_FA_S=5 RESTART_FA_IPSEC_S=10 RESTART_HA_S=5

# pings_ok: three pings each way get through
pings_ok() {
	tb_exec cn ping -c 3 -i 0.1 -W 1 -q "$TB_MN_HOME" >/dev/null 2>&1 &&
		tb_exec mn ping -c 3 -i 0.1 -W 1 -q "$TB_CN_ADDR" >/dev/null 2>&1
}

# kill_restart NODE BIN: SIGKILL NODE's daemon and start it again
kill_restart() {
	local node=$1 bin=$2
	local pid
	pid=$(cat "$TB_RUN/$node.pid")
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null || true
	_tb_start "$node" "$bin" || fail "$node did not start again"
}

# recovered BOUND_S WHAT: the node registered through fa1 and traffic
# flowing both ways within BOUND_S seconds of now
recovered() {
	local bound=$1 what=$2 t0 t1
	t0=$(date +%s%N)
	# the node's own state says registered throughout: the FA's list tells
	within "$what: registered again" "$bound" jq_ok fa1 visitors \
		"[.visitors[] | select(.home_address == \"$TB_MN_HOME\" and .state == \"registered\")] | length == 1"
	within "$what: traffic both ways" "$bound" pings_ok
	t1=$(date +%s%N)
	echo "    $what: recovered in $(((t1 - t0) / 1000000)) ms (bound ${bound} s)"
}

echo "--- mipsa-fa killed and restarted, plain Mobile IP"
export TB_IPSEC=0
tb_up
tb_start_daemons
tb_wait_registered fa1 10 || fail "no registration through fa1"
pings_ok || fail "no traffic before the restart"
kill_restart fa1 fa/mipsa-fa
recovered "$RESTART_FA_S" "FA restart (plain)"
tb_down

echo "--- mipsa-fa killed and restarted, IPsec with full reuse (store)"
export TB_IPSEC=1 TB_REUSE=full TB_TECHNIQUE=both TB_STORE=dbs
tb_up
tb_start_daemons
tb_wait_registered fa1 15 || fail "no registration through fa1"
pings_ok || fail "no traffic before the restart"
kill_restart fa1 fa/mipsa-fa
recovered "$RESTART_FA_IPSEC_S" "FA restart (IPsec, full reuse)"
grep " registration node=$TB_MN_HOME " "$TB_RUN/fa1.log" | tail -1 | sed 's/^.*registration /    fa1: /'
tb_down

echo "--- mipsa-fa killed and restarted, IPsec without reuse"
export TB_IPSEC=1 TB_REUSE=none
tb_up
tb_start_daemons
tb_wait_registered fa1 15 || fail "no registration through fa1"
pings_ok || fail "no traffic before the restart"
kill_restart fa1 fa/mipsa-fa
recovered "$RESTART_FA_IPSEC_S" "FA restart (IPsec, negotiating)"
grep " registration node=$TB_MN_HOME " "$TB_RUN/fa1.log" | tail -1 | sed 's/^.*registration /    fa1: /'
tb_down

echo "--- mipsa-ha killed and restarted"
export TB_IPSEC=0
tb_up
tb_start_daemons
tb_wait_registered fa1 10 || fail "no registration through fa1"
pings_ok || fail "no traffic before the restart"
# the binding is in the state file before the HA goes (written by its unprivileged user)
jqa ha counters '.counters.state_saves >= 1 and .counters.state_save_failures == 0'
kill_restart ha ha/mipsa-ha
t0=$(date +%s%N)
within "HA restart: binding back" "$RESTART_HA_S" jq_ok ha bindings \
	"(.bindings | length) == 1 and .bindings[0].care_of_address == \"$TB_FA1_COA\""
within "HA restart: traffic both ways" "$RESTART_HA_S" pings_ok
echo "    HA restart: recovered in $((($(date +%s%N) - t0) / 1000000)) ms (bound ${RESTART_HA_S} s)"
grep -q "state: 1 bindings restored" "$TB_RUN/ha.log" || fail "the HA restored no binding from its state file"
tb_down

echo "test_restart: ok"
