#!/usr/bin/env bash
#
# testbed/demo.sh -- the mipsa demo: build the namespace testbed, start the
# home agent, three foreign agents and the mobile node, and measure the
# hand-over gap of a steady probe stream in both directions over N
# hand-overs between fa1 and fa2 (domain A).
#
#   testbed/demo.sh [-n HANDOVERS]
#
# gap     = last packet before the link move .. first packet after it
# link    = how long the testbed takes to move the link (the part of the gap
#           that is the test rig, not the protocol)
# resume  = link back up .. first packet through the new agent
set -euo pipefail

N=10
while getopts "n:h" opt; do
	case $opt in
	n) N=$OPTARG ;;
	*) sed -n '2,16p' "$0"; exit 0 ;;
	esac
done

here=$(cd "$(dirname "$0")" && pwd)
export TB_PREFIX=${TB_PREFIX:-mipsademo}
# shellcheck source=testbed/lib.sh
source "$here/lib.sh"
# shellcheck source=testbed/daemons.sh
source "$here/daemons.sh"
# shellcheck source=testbed/measure.sh
source "$here/measure.sh"

tb_trap_cleanup
echo "mipsa demo: building the testbed ($TB_PREFIX-*: cn ha core fa1 fa2 fa3 dbs mn)"
tb_up
tb_start_daemons
tb_wait_registered fa1 10
echo "mobile node $TB_MN_HOME registered through fa1 ($TB_FA1_COA)"
tb_exec cn ping -c 3 -i 0.2 -W 1 -q "$TB_MN_HOME" | tail -2

echo "measuring $N hand-overs fa1 <-> fa2 with 1 ms probe streams both ways ..."
tb_measure plain "$N" fa2 fa1

med() { jq -r "[.moves[] | select(.status == \"ok\") | .$2] | sort | .[length / 2 | floor]" \
	"$TB_RUN/$1"; }
printf '\n%-22s %-10s %-5s %-22s %-22s %-10s %-10s\n' "mode" "technique" "IKE" \
	"gap CN->MN med/worst" "gap MN->CN med/worst" "link med" "resume med"
for dir in cn2mn; do
	printf '%-22s %-10s %-5s %-22s %-22s %-10s %-10s\n' "plain Mobile IP" "-" "0" \
		"$(tb_gap_field plain cn2mn median_gap_ms)/$(tb_gap_field plain cn2mn worst_gap_ms) ms" \
		"$(tb_gap_field plain mn2cn median_gap_ms)/$(tb_gap_field plain mn2cn worst_gap_ms) ms" \
		"$(med plain.$dir.json move_ms) ms" "$(med plain.$dir.json resume_ms) ms"
done
echo
echo "home agent bindings:"
tb_ctl ha bindings
echo "mobile node counters (non-zero):"
tb_ctl mn counters | grep -v ': 0$' | tail -n +2
