#!/usr/bin/env bash
#
# Hand-overs under loss and reordering (testbed/impair.sh): 10 % of the
# IPv4 packets dropped at random on every link (the air between the MN and
# the FAs, and core between the FAs, the HA, the store and the CN), and 10 %
# of the rest held back behind later ones.  For each reuse mode (none: a
# full negotiation at every FA; partial; full, with the store as the
# fallback of the direct transfer), hand-overs fa1 -> fa2 -> fa1 -> fa2
# with IPsec on the access link:
#
#  - every registration completes (the MN registered through the new FA
#    within REG_BOUND_S) and so does every IKE negotiation (the new FA holds
#    one established ISAKMP SA and one IPsec SA pair with the MN), through
#    the retransmissions the test prints;
#  - protected traffic resumes within RESUME_BOUND_S of the move: a ping
#    from the CN every 10 ms (to the MN and back: both ways through the
#    FA's ESP) answered again, its request sent after the move; each
#    figure is printed;
#  - every reuse request at the new FA ends as a reuse or a refusal, and
#    every refusal is counted under a fallback reason, printed;
#  - the home agent's binding points at the FA the MN is at, the old FA
#    gives up the SAs the new one took (reuse modes; after a fallback
#    nobody took them and it keeps them, as after any negotiation), no
#    daemon died, and once the impairment is gone, traffic flows without
#    loss.
#
# The bounds: the MN retransmits its registration after 0.5 s, doubling to
# 8 s; IKE after 0.5 s, doubling, 5 times; the SA transfer waits 100 ms per
# technique.  A registration's round trip crosses four impaired links (air
# and core, each way), so one try fails 1 - 0.9^4 = 34 % of the time at
# 10 % loss.  The tries leave at 0, 0.5, 1.5, 3.5, 7.5, 15.5, 23.5 and
# 31.5 s: REG_BOUND_S = 40 waits for eight, which all fail once in
# 0.34^8, 5,000 hand-overs (a run makes nine).  The 20 s it was waited for
# six (once in 600 hand-overs), and a CI run met that: six tries lost in a
# row, registered after 23.5 s.  Figures are printed, never asserted
# beyond these bounds (the machine is shared).  LOSS, REORDER, HANDOVERS,
# REG_BOUND_S, RESUME_BOUND_S and MODES in the environment change the
# defaults (10, 10, 3, 40, 40, "none partial full").
# A request to the previous FA or to the store lost once is sent again
# within the transfer's 100 ms (transfer_resent, printed with the reuse
# counters), so a single loss there is no fallback.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=require.sh
source "$here/require.sh"
need_root
need_cmd nft "nftables: scripts/deps"
need_cmd iptables "iptables: scripts/deps"
export TB_PREFIX=${TB_PREFIX:-ls$$} TB_IPSEC=1
source "$top/testbed/lib.sh"
source "$top/testbed/daemons.sh"
source "$here/helpers.sh"
[[ -x $TB_BIN/tools/mipsa-reorder ]] || fail "tools/mipsa-reorder not built (libnetfilter-queue-dev)"

LOSS=${LOSS:-10}
REORDER=${REORDER:-10}
HANDOVERS=${HANDOVERS:-3}
# the bounds are for the default 10 %: a harsher run may need more
REG_BOUND_S=${REG_BOUND_S:-40}
RESUME_BOUND_S=${RESUME_BOUND_S:-40}

ping_pid=
stop_ping() {
	[[ -z $ping_pid ]] || kill "$ping_pid" 2>/dev/null || true
	[[ -z $ping_pid ]] || wait "$ping_pid" 2>/dev/null || true
	ping_pid=
}
cleanup() {
	stop_ping
	tb_impair_clear >/dev/null 2>&1 || true
}
tb_trap_cleanup cleanup

coa_of() {
	case $1 in
	fa1) echo "$TB_FA1_COA" ;;
	fa2) echo "$TB_FA2_COA" ;;
	esac
}

# resumed_after START_US: true once the CN's ping log has a reply to a
# request sent after START_US; sets resume_us to its arrival
resumed_after() {
	local line
	line=$(awk -v start="$1" '
		match($0, /^\[[0-9.]+\]/) && match($0, /time=[0-9.]+/) {
			split($0, a, /[][]/); rx = a[2] * 1e6
			t = substr($0, RSTART + 5, RLENGTH - 5) * 1e3
			if (rx - t > start) { printf "%.0f\n", rx; exit }
		}' "$TB_RUN/ping.log")
	[[ -n $line ]] || return 1
	resume_us=$line
}

# one hand-over under impairment: registration, negotiation, traffic
handover() {
	local to=$1 from=$2 t0 reg_us resume_us=0 refused fallbacks was_refused=0
	[[ $TB_REUSE == none ]] || was_refused=$(jqv "$to" sas '.reuse_counters.reuse_refused')
	TB_MOVES_FILE=$TB_RUN/moves tb_move "$to" >/dev/null
	# the move's start, as tb_move recorded it
	t0=$(tail -1 "$TB_RUN/moves" | cut -d' ' -f1)
	tb_wait_registered "$to" "$REG_BOUND_S" ||
		fail "$TB_REUSE: no registration through $to within $REG_BOUND_S s under loss"
	# the MN's own figure: carrier up to the accepted reply (the poll above
	# spawns mipsactl every 50 ms: its own figure would be the machine's)
	reg_us=$(jqv mn state '.. | .last_handover_us? // empty')
	# tb_wait_registered counts polls, not seconds: the bound, on the MN's clock
	((reg_us <= REG_BOUND_S * 1000000)) ||
		fail "$TB_REUSE: registered through $to $((reg_us / 1000)) ms after carrier up, bound $REG_BOUND_S s"
	# the negotiation (or the reuse) ended with the SAs at the new FA
	jqa_within "$REG_BOUND_S" "$to" sas "([.isakmp_sas[] | select(.state == \"established\")] | length == 1) and ([.ipsec_sas[] | select(.remote_ts == \"$TB_MN_HOME/32\")] | length == 1)"
	within "$TB_REUSE: traffic through $to" "$RESUME_BOUND_S" resumed_after "$t0"
	printf '    %s -> %s: registered %d.%03d ms after carrier up, traffic back %d.%03d ms after the move\n' \
		"$from" "$to" $((reg_us / 1000)) $((reg_us % 1000)) $(((resume_us - t0) / 1000)) \
		$(((resume_us - t0) % 1000))
	# the HA's binding follows the MN, whatever was lost or reordered
	jqa_within 5 ha bindings "[.. | objects | select(.care_of_address? == \"$(coa_of "$to")\")] | length >= 1"
	if [[ $TB_REUSE != none ]]; then
		# every request at the new FA ended: a reuse, or a refusal with its reason
		# shellcheck disable=SC2016 # jq's variable
		jqa_within 5 "$to" sas '.reuse_counters as $c | $c.reuse_requests == $c.reuse_full + $c.reuse_partial + $c.reuse_refused'
		refused=$(jqv "$to" sas '.reuse_counters.reuse_refused')
		fallbacks=$(jqv "$to" sas '[.reuse_counters | to_entries[] | select(.key | startswith("fallback_")) | .value] | add')
		((fallbacks >= refused)) ||
			fail "$to refused $refused reuses but counted $fallbacks fallbacks"
		if ((refused == was_refused)); then
			# the new FA took them: the old one gave them up once it confirmed
			# (retried under loss)
			jqa_within "$REG_BOUND_S" "$from" sas '([.isakmp_sas[] | select(.state == "established")] | length == 0) and (.ipsec_sas | length == 0)'
		else
			# a fallback: nobody took the SAs, so nobody told the old FA; it
			# keeps them until their lifetime, as after any negotiation
			echo "    $to refused the reuse (fallback): $from keeps the old SAs"
		fi
	fi
}

# the counters that say what the loss cost: retransmissions, fallbacks
report() {
	local fa dropped='[.. | objects | to_entries[] | select((.key | test("^(deny|drop)_")) and (.value | type) == "number" and .value > 0) | "\(.key)=\(.value)"] | join(" ") | if . == "" then "none" else . end'
	printf '    MN: registrations sent %s, retransmitted %s; IKE messages %s, retransmitted %s, negotiations %s, failed %s\n' \
		"$(jqv mn counters '.. | .reg_sent? // empty')" \
		"$(jqv mn counters '.. | .reg_retransmits? // empty')" \
		"$(jqv mn sas '.ike_counters.tx_messages')" "$(jqv mn sas '.ike_counters.retransmits')" \
		"$(jqv mn sas '.ike_counters.ike_established')" "$(jqv mn sas '.ike_counters.ike_failed')"
	# what the loss and the reordering made them refuse: counted, not obeyed
	printf '    HA refused or dropped: %s; MN dropped: %s\n' \
		"$(jqv ha counters "$dropped")" "$(jqv mn counters "$dropped")"
	for fa in fa1 fa2; do
		printf '    %s: IKE retransmitted %s' "$fa" "$(jqv "$fa" sas '.ike_counters.retransmits')"
		[[ $TB_REUSE == none ]] || printf ', reuse %s' "$(jqv "$fa" sas '.reuse_counters | to_entries | map(select(.value > 0 and (.key | test("^(reuse|fallback)_|^transfer_resent$"))) | "\(.key)=\(.value)") | join(" ")')"
		printf '\n'
	done
	# the reasons, as the FAs logged them
	cat "$TB_RUN/fa1.log" "$TB_RUN/fa2.log" |
		grep -o ': [0-9.]* refused ([^)]*)\|falls back to negotiation: .*' |
		sed 's/^: [0-9.]* //' | sort | uniq -c | sed 's/^ */    fallback: x/' || true
	tb_impair_stats | sed 's/^/    /'
}

alive() {
	local n
	for n in ha fa1 fa2 fa3 mn dbs; do
		[[ -f $TB_RUN/$n.pid ]] || continue
		kill -0 "$(cat "$TB_RUN/$n.pid")" 2>/dev/null || fail "$n died under loss"
	done
}

run_mode() {
	local from=fa1 to=fa2 t _
	export TB_REUSE=$1 TB_TECHNIQUE=both TB_STORE=dbs
	start "reuse $TB_REUSE: $LOSS % loss and $REORDER % reordering on every link"
	tb_impair "$LOSS" "$REORDER" || fail "tb_impair"
	ip netns exec "$(tb_ns cn)" ping -D -i 0.01 -W 1 "$TB_MN_HOME" >"$TB_RUN/ping.log" 2>&1 &
	ping_pid=$!
	rm -f "$TB_RUN/moves"
	for _ in $(seq "$HANDOVERS"); do
		handover "$to" "$from"
		t=$from
		from=$to to=$t
	done
	stop_ping
	report
	alive
	tb_impair_clear >/dev/null
	# no loss left behind: every ping answered
	tb_exec cn ping -c 20 -w 10 -i 0.02 -q "$TB_MN_HOME" >/dev/null ||
		fail "$TB_REUSE: pings lost after the impairment was cleared"
	alive
	tb_down
}

for mode in ${MODES:-none partial full}; do
	run_mode "$mode"
done
echo "test_loss: ok"
