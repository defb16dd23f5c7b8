#!/usr/bin/env bash
#
# Mobile IPv4 end to end in the namespace testbed: registration through
# fa1, ping and probe streams CN <-> MN across hand-overs fa1 -> fa2 -> fa1,
# the HA binding and the FA visitor lists asserted after every move through
# `mipsactl --json`, no registration refused; then hostile input at the HA
# and the FA is dropped and counted and changes no binding.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=require.sh
source "$here/require.sh"
need_root
export TB_PREFIX=${TB_PREFIX:-mt$$}
source "$top/testbed/lib.sh"
source "$top/testbed/daemons.sh"
source "$here/helpers.sh"
source "$top/testbed/measure.sh"
tb_trap_cleanup

coa_of() {
	case $1 in fa1) echo "$TB_FA1_COA" ;; fa2) echo "$TB_FA2_COA" ;; fa3) echo "$TB_FA3_COA" ;; esac
}
assert_attached() {
	local fa=$1 coa
	coa=$(coa_of "$fa")
	jqa ha bindings "[.bindings[] | select(.home_address == \"$TB_MN_HOME\")] | length == 1"
	jqa ha bindings ".bindings[0].care_of_address == \"$coa\" and .bindings[0].reverse_tunnel"
	jqa "$fa" visitors "[.visitors[] | select(.home_address == \"$TB_MN_HOME\" and
		.state == \"registered\" and .home_agent == \"$TB_HA_ADDR\")] | length == 1"
	jqa mn state ".state == \"registered\" and .registration.care_of_address == \"$coa\""
}

tb_up
tb_start_daemons
tb_wait_registered fa1 10 || fail "no registration through fa1"
assert_attached fa1
tb_exec cn ping -c 5 -i 0.1 -W 1 -q "$TB_MN_HOME" >/dev/null || fail "ping CN -> MN via fa1"
tb_exec mn ping -c 5 -i 0.1 -W 1 -q "$TB_CN_ADDR" >/dev/null || fail "ping MN -> CN via fa1"

# ping runs through the hand-overs alongside the probe streams
tb_exec cn ping -i 0.05 -w 8 -q "$TB_MN_HOME" >"$TB_RUN/ping.txt" 2>&1 &
ping_pid=$!
TB_SETTLE_S=0.8 tb_measure handover 2 fa2 fa1 || fail "probe measurement"
wait "$ping_pid" || true
grep -q " 0 received" "$TB_RUN/ping.txt" && fail "ping across hand-overs got nothing back"
for dir in cn2mn mn2cn; do
	jq -e '.summary.measured == 2 and .summary.no_data == 0' "$TB_RUN/handover.$dir.json" \
		>/dev/null || fail "probe $dir: $(cat "$TB_RUN/handover.$dir.json")"
done
assert_attached fa1

# the same moves once more, asserting in between
tb_move fa2 >/dev/null
tb_wait_registered fa2 10 || fail "no registration through fa2"
assert_attached fa2
tb_exec cn ping -c 3 -i 0.1 -W 1 -q "$TB_MN_HOME" >/dev/null || fail "ping CN -> MN via fa2"
tb_move fa1 >/dev/null
tb_wait_registered fa1 10 || fail "no registration back through fa1"
assert_attached fa1

# a move the MN sleeps through: the carrier's loss and return wait together
# in its notifications, and it must still see the loss and solicit (not wait
# for fa2's next advertisement as if nothing had happened)
down=$(jqv mn counters '.counters.link_down_events')
kill -STOP "$(cat "$TB_RUN/mn.pid")"
tb_move fa2 >/dev/null
kill -CONT "$(cat "$TB_RUN/mn.pid")"
tb_wait_registered fa2 10 || fail "no registration through fa2 after a move the MN slept through"
jqa mn counters ".counters.link_down_events == $((down + 1))"
tb_move fa1 >/dev/null
tb_wait_registered fa1 10 || fail "no registration back through fa1"

# no registration was refused anywhere, none timed out
jqa ha counters '.counters.reg_denied == 0 and .counters.reg_accepted >= 5'
for fa in fa1 fa2; do
	jqa "$fa" counters '.counters.reg_denied_by_fa == 0 and .counters.reg_denied_by_ha == 0'
done
jqa mn counters '.counters.reg_denied == 0 and .counters.reg_retransmits == 0'

# ---- hostile input: dropped, counted, no binding changes ----
before=$(tb_ctl ha --json bindings | jq -c '[.bindings[] | {home_address, care_of_address}]')
ha_malformed=$(jqv ha counters '.counters.drop_malformed')
ha_auth=$(jqv ha counters '.counters.deny_mn_auth')
fa1_malformed=$(jqv fa1 counters '.counters.drop_malformed')
mn_malformed=$(jqv mn counters '.counters.drop_malformed')
inject="$TB_BIN/tools/mipsa-inject"
# from cn: a truncated request, and a well-formed one with a forged MN-HA
tb_exec cn "$inject" udp --src "$TB_CN_ADDR" --dst "$TB_HA_ADDR" --sport 434 --dport 434 \
	--hex 010200
forged=01020078c612640ac6126401c6120b02     # request: T, lifetime 120, home, HA, CoA
forged+=0000000100000001                    # identification
forged+=2014000003e9000102030405060708090a0b0c0d0e0f  # MN-HA, SPI 1001, wrong
tb_exec cn "$inject" udp --src "$TB_CN_ADDR" --dst "$TB_HA_ADDR" --sport 434 --dport 434 \
	--hex "${forged//[^0-9a-f]/}"
# to fa1: garbage as a "reply" from cn, and a truncated request on the access link
tb_exec cn "$inject" udp --src "$TB_CN_ADDR" --dst "$TB_FA1_COA" --sport 434 --dport 434 \
	--hex 030000
tb_exec mn "$inject" udp --dev eth0 --dst-mac "$TB_MAC_A" --src "$TB_MN_HOME" \
	--dst "$TB_ALIAS_A" --sport 434 --dport 434 --hex 01020078
# to the MN: an advertisement with a bad ICMP checksum
tb_exec fa1 "$inject" icmp --dev acc0 --dst-mac ff:ff:ff:ff:ff:ff --src "$TB_ALIAS_A" \
	--dst 224.0.0.1 --ttl 1 --hex 0900dead01020003c6130001000000001006000100780000c6120b02
# each one counted (which also says it has been handled)
jqa_within 5 ha counters ".counters.drop_malformed == $((ha_malformed + 1)) and
	.counters.deny_mn_auth == $((ha_auth + 1))"
jqa_within 5 fa1 counters ".counters.drop_malformed == $((fa1_malformed + 2))"
jqa_within 5 mn counters ".counters.drop_malformed == $((mn_malformed + 1))"
after=$(tb_ctl ha --json bindings | jq -c '[.bindings[] | {home_address, care_of_address}]')
[[ $before == "$after" ]] || fail "bindings changed by hostile input: $before -> $after"
tb_exec cn ping -c 3 -i 0.1 -W 1 -q "$TB_MN_HOME" >/dev/null || fail "ping after hostile input"

# deregistration on exit: the binding goes away
_tb_stop mn
jqa_within 5 ha bindings '.bindings | length == 0'
jqa ha counters '.counters.deregistrations == 1'
echo "test_mip: ok"
