#!/usr/bin/env bash
#
# testbed/rounds.sh -- the demo's hand-over measurement with the modes
# interleaved: round after round, each round runs K hand-overs fa1 <-> fa2
# in every mode in turn (plain, none, partial, full, plain, ...), so that a
# slow spell of this shared machine falls on every mode alike instead of on
# whichever mode the demo happened to run then.  Partial and full reuse use
# the direct technique (the new FA holds the SAs the previous one offered
# ahead: the ISAKMP SA, and for full reuse the IPsec SAs; doc/sa-reuse.md).
#
#   testbed/rounds.sh -o DIR [-n HANDOVERS] [-k PER_ROUND] [-m MODES] [-d DELAY_US]
#
# -n  hand-overs per mode in all (default 20); -k  per mode per round
#     (default 5): ceil(N/K) rounds, the last one shorter when K does not
#     divide N.
# -m  the modes, in the order they run in each round (default "plain none
#     partial full"); also swan: strongSwan's charon on the MN and the FAs
#     renegotiating at each hand-over over plain Mobile IP (testbed/swan.sh),
#     swan-pinned: the same with the MN's neighbour entry for the FAs' alias
#     address static; swan-dpd: no hook, charon's DPD finds the FA gone.
#     The swan modes need charon and swanctl.
# -d  the home agent DELAY_US away from the FAs, each way (tb_distance,
#     tools/mipsa-delay), for the whole run; the CN and the store stay near.
#     Default none: the home agent in the next namespace.
# Writes DIR/handover.csv, one row per hand-over:
#   round,mode,move,status,gap_cn2mn_ms,gap_mn2cn_ms,move_ms,resume_ms
# (gap: last datagram before the link move .. first after it; move: the
# testbed's own link move; resume: link back up .. first datagram through
# the new FA, CN -> MN), DIR/registration.csv, one row per registration at
# an FA during the hand-overs, from the FAs' logs:
#   round,mode,fa,reuse,sas,time_us,xfer_us,held_us
# (time: request in .. reply out at that FA; held: of that, the home agent's
# reply waiting for the node's SAs), DIR/ike.csv (round,mode,ike_messages_per_move: for
# swan, the IKE packets the MN's charon sent and received) and
# the probes' JSON under DIR/json/.  Prints figures, asserts nothing about
# them; exit 1 when a round cannot be measured.
set -euo pipefail

N=20 K=5 OUT="" MODES="plain none partial full" DELAY_US=""
while getopts "n:k:o:m:d:h" opt; do
	case $opt in
	n) N=$OPTARG ;;
	k) K=$OPTARG ;;
	o) OUT=$OPTARG ;;
	m) MODES=$OPTARG ;;
	d) DELAY_US=$OPTARG ;;
	*)
		sed -n '2,36p' "$0"
		exit 64
		;;
	esac
done
read -ra modes <<<"$MODES"
[[ -n $OUT && $N =~ ^[1-9][0-9]*$ && $K =~ ^[1-9][0-9]*$ && ${#modes[@]} -gt 0 &&
	$DELAY_US =~ ^([1-9][0-9]*)?$ ]] || {
	sed -n '11,24p' "$0" >&2
	exit 64
}
swan=0
for mode in "${modes[@]}"; do
	case $mode in
	plain | none | partial | full) ;;
	swan | swan-pinned | swan-dpd) swan=1 ;;
	*)
		echo "rounds: unknown mode '$mode' (plain none partial full swan swan-pinned swan-dpd)" >&2
		exit 64
		;;
	esac
done
# no figure against nothing: a swan mode without strongSwan is an error, not a skip
if ((swan)) && ! { command -v swanctl >/dev/null && [[ -x /usr/lib/ipsec/charon ]]; }; then
	echo "rounds: the swan modes need strongSwan's charon (/usr/lib/ipsec/charon) and" \
		"swanctl (scripts/deps: strongswan-charon, strongswan-swanctl," \
		"libcharon-extra-plugins)" >&2
	exit 1
fi

here=$(cd "$(dirname "$0")" && pwd)
# unique per run: another worker's testbed or demo may be up beside this one
export TB_PREFIX=${TB_PREFIX:-mbench$$}
# shellcheck source=testbed/lib.sh
source "$here/lib.sh"
# shellcheck source=testbed/daemons.sh
source "$here/daemons.sh"
# shellcheck source=testbed/measure.sh
source "$here/measure.sh"
# shellcheck source=testbed/charon.sh
source "$here/charon.sh"
# shellcheck source=testbed/swan.sh
source "$here/swan.sh"

mkdir -p "$OUT/json"
csv=$OUT/handover.csv ike=$OUT/ike.csv
echo "round,mode,move,status,gap_cn2mn_ms,gap_mn2cn_ms,move_ms,resume_ms" >"$csv"
echo "round,mode,ike_messages_per_move" >"$ike"
reg=$OUT/registration.csv
echo "round,mode,fa,reuse,sas,time_us,xfer_us,held_us" >"$reg"

# tb_down undoes all this script sets up but the swan hook's reader, outside
# the namespaces, and the distance's pid file
rounds_cleanup() {
	tb_swan_stop
	[[ -z $DELAY_US ]] || tb_distance_clear >/dev/null
}
tb_trap_cleanup rounds_cleanup
echo "rounds: building the testbed ($TB_PREFIX-*)"
tb_up >/dev/null
if [[ -n $DELAY_US ]]; then
	echo "rounds: the home agent $DELAY_US us from the FAs, each way (tb_distance)"
	tb_distance "$DELAY_US"
fi

ike_messages() {
	tb_ctl mn --json sas 2>/dev/null |
		jq -r 'if .ipsec then .ike_counters.rx_messages + .ike_counters.tx_messages else 0 end'
}

# registrations ROUND MODE: the FAs' registration lines (fa_log_registration) of
# the round (every daemon start begins new logs), in time order, without the
# first one (the node's arrival at fa1 before the hand-overs), as CSV rows:
# what the registration cost each FA itself, request in to reply out, away
# from the probes' and the link's noise
registrations() {
	local r=$1 mode=$2 fa
	for fa in fa1 fa2; do
		[[ -f $TB_RUN/$fa.log ]] || continue
		grep ' registration node=' "$TB_RUN/$fa.log" | sed "s/^/$fa /" || true
	done | sort -s -k2,2 | tail -n +2 | awk -v r="$r" -v m="$mode" '{
		delete f
		for (i = 3; i <= NF; i++)
			if (split($i, kv, "=") == 2)
				f[kv[1]] = kv[2]
		printf "%s,%s,%s,%s,%s,%s,%s,%s\n", r, m, $1, f["reuse"], f["sas"], f["time_us"],
			f["xfer_us"], f["held_us"]
	}' >>"$reg"
}

# one_round ROUND MODE K: daemons in MODE, K hand-overs, rows appended
one_round() {
	local r=$1 mode=$2 k=$3 name before after
	name=$mode-r$r
	case $mode in
	plain) export TB_IPSEC=0 TB_REUSE=none ;;
	none) export TB_IPSEC=1 TB_REUSE=none ;;
	partial | full) export TB_IPSEC=1 TB_REUSE=$mode TB_TECHNIQUE=direct TB_STORE=dbs ;;
	swan) export TB_SWAN_PIN_MAC=0 TB_SWAN_TRIGGER=hook ;;
	swan-pinned) export TB_SWAN_PIN_MAC=1 TB_SWAN_TRIGGER=hook ;;
	swan-dpd) export TB_SWAN_PIN_MAC=0 TB_SWAN_TRIGGER=dpd ;;
	esac
	if [[ $mode == swan* ]]; then
		tb_swan_start
		before=$(tb_swan_ike_messages)
		TB_MOVE_WAIT=tb_swan_wait_sa tb_measure "$name" "$k" fa2 fa1 >/dev/null
		after=$(tb_swan_ike_messages)
		tb_swan_stop
	else
		tb_start_daemons
		tb_wait_registered fa1 10
		before=$(ike_messages)
		tb_measure "$name" "$k" fa2 fa1 >/dev/null
		after=$(ike_messages)
		tb_stop_daemons
	fi
	[[ $mode == swan* ]] || registrations "$r" "$mode"
	# the link may be at either FA now; every round starts at fa1
	[[ $(tb_where) == fa1 ]] || tb_move fa1 >/dev/null
	cp "$TB_RUN/$name".*.json "$TB_RUN/$name.moves" "$OUT/json/"
	echo "$r,$mode,$(((after - before) / k))" >>"$ike"
	# the two directions' gaps of the same move side by side (moves by index)
	jq -rn --arg r "$r" --arg m "$mode" \
		--slurpfile a "$TB_RUN/$name.cn2mn.json" --slurpfile b "$TB_RUN/$name.mn2cn.json" '
		($b[0].moves | map({key: (.index | tostring), value: .}) | from_entries) as $back
		| $a[0].moves[]
		| [$r, $m, .index,
		   (if .status == "ok" and $back[.index | tostring].status == "ok" then "ok" else "no_data" end),
		   .gap_ms, $back[.index | tostring].gap_ms, .move_ms, .resume_ms]
		| map(. // "" | tostring) | join(",")' >>"$csv"
	printf 'rounds: round %s %-7s %s hand-overs, gap CN->MN median %s ms\n' "$r" "$mode" "$k" \
		"$(tb_gap_field "$name" cn2mn median_gap_ms)"
}

rounds=$(((N + K - 1) / K))
for ((r = 1; r <= rounds; r++)); do
	k=$K
	((r * K <= N)) || k=$((N - (r - 1) * K))
	for mode in "${modes[@]}"; do
		one_round "$r" "$mode" "$k"
	done
done
# whether the delay asked for is the one the packets got (none early, the latest release)
[[ -z $DELAY_US ]] || echo "rounds: $(tb_distance_stats)"
echo "rounds: $rounds round(s), $N hand-overs per mode: $csv"
