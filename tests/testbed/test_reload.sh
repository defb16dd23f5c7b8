#!/usr/bin/env bash
#
# Reload without loss (mipsactl reload, SIGHUP), every daemon, under
# traffic, with domain A reusing SAs (full, direct and the store):
#
#  1. each daemon re-reads its unchanged file, by the control socket and by
#     SIGHUP: nothing changed, the same ISAKMP SAs (cookies) and IPsec SAs
#     (SPIs) on the MN and its FA, the binding and the visitor as they were,
#     ESP flowing throughout;
#  2. live changes, each named in the answer and applied: log level and
#     limits on every daemon, the MN-HA key on the MN and the HA (the next
#     registration is refused while only the HA has the new one, accepted
#     once both have it), IKE lifetimes and the
#     PSK on the MN and every FA (established SAs stay; a new negotiation,
#     with domain B's FA, uses the new PSK);
#  3. a broken file: refused with its file:line message, by the control
#     socket (mipsactl exits 1) and by SIGHUP (in the log), the daemon still
#     running on its configuration; "reload check" only compares;
#  4. a setting only a restart takes (the care-of address): refused, named;
#  5. every daemon reloaded while the MN hands over fa1 -> fa2 -> fa1: full
#     reuse each time, no fallback, traffic both ways;
#  6. new K_SA and K_DB for domain A, reloaded one daemon at a time (fa1, a
#     hand-over to fa2 still on the old keys, then mipsa-dbs and fa2):
#     full reuse at every hand-over before, during and after the overlap,
#     no transfer message refused, no store record fallen back.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=require.sh
source "$here/require.sh"
need_root
export TB_PREFIX=${TB_PREFIX:-rl$$} TB_IPSEC=1
source "$top/testbed/lib.sh"
source "$top/testbed/daemons.sh"
source "$here/helpers.sh"
tb_trap_cleanup

# reload NODE [ARG]: through the control socket; prints what changed
reload() {
	local out
	out=$(tb_ctl "$1" --json reload ${2:+"$2"}) || fail "mipsactl $1 reload ${2:-}: refused: $out"
	jq -r .changed <<<"$out"
}

# hup NODE: SIGHUP, and the log's answer (its next reload line) within 5 s
_reload_lines() { grep -c "reload: \|reload refused" "$TB_RUN/$1.log" || true; }
_more_reload_lines() { [[ $(_reload_lines "$1") -gt $2 ]]; }
hup() {
	local node=$1 n
	n=$(_reload_lines "$node")
	kill -HUP "$(cat "$TB_RUN/$node.pid")"
	within "$node's log answering SIGHUP" 5 _more_reload_lines "$node" "$n"
	grep "reload: \|reload refused" "$TB_RUN/$node.log" | tail -1
}

# state NODE: what a reload must leave as it was (SAs, binding, visitors)
state() {
	case $1 in
	mn | fa?) jqv "$1" sas '[(.isakmp_sas[] | select(.state == "established") |
		.icookie + .rcookie), (.ipsec_sas[] | .spi_in + "/" + .spi_out)] | sort | join(" ")' ;;
	ha) jqv ha bindings '[.bindings[] | .home_address + ">" + .care_of_address] | join(" ")' ;;
	dbs) jqv dbs status '.records' ;;
	esac
}

# edit NODE SED-EXPRESSION: change NODE's file in place
edit() {
	sed -i -e "$2" "$TB_RUN/$1.conf"
}

# ESP from and to the MN keeps flowing: 50 more packets each way within 10 s
flowing() {
	local in out
	in=$(jqv mn sas '.esp_counters.esp_in')
	out=$(jqv mn sas '.esp_counters.esp_out')
	jqa_within 10 mn sas ".esp_counters.esp_in >= $((in + 50)) and
		.esp_counters.esp_out >= $((out + 50))"
}

export TB_REUSE=full TB_TECHNIQUE=both TB_STORE=dbs
start "reload under traffic, domain A reusing SAs (full, both, mipsa-dbs)"
tb_exec cn ping -i 0.01 -W 1 -q "$TB_MN_HOME" >/dev/null 2>&1 &
ping_cn=$!
tb_exec mn ping -i 0.01 -W 1 -q "$TB_CN_ADDR" >/dev/null 2>&1 &
ping_mn=$!
flowing

# ---- 1. the unchanged file ----
echo "--- 1. unchanged files, by the control socket and by SIGHUP"
for node in mn fa1 fa2 ha dbs; do
	before=$(state "$node")
	[[ -n $before || $node == fa2 ]] || fail "$node: nothing to compare"
	changed=$(reload "$node")
	[[ -z $changed ]] || fail "$node: an unchanged file changed '$changed'"
	line=$(hup "$node")
	[[ $line == *"reload: changed nothing"* ]] || fail "$node after SIGHUP: $line"
	after=$(state "$node")
	[[ $after == "$before" ]] || fail "$node: '$before' became '$after' across reloads"
	kill -0 "$(cat "$TB_RUN/$node.pid")" || fail "$node died"
done
flowing
echo "    every daemon reloaded twice: its SAs, binding, visitors and records kept"

# ---- 2. live changes ----
echo "--- 2. live changes"
expect() { # expect NODE 'names' : the reload applied exactly these
	local changed
	changed=$(reload "$1")
	[[ $changed == "$2" ]] || fail "$1: reload changed '$changed', expected '$2'"
}
new_key=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
new_psk=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
mn_sas=$(state mn)
edit ha "s/max_lifetime = 600;/max_lifetime = 500;/; s/key = \"$TB_KEY_MNHA\"/key = \"$new_key\"/"
expect ha "max_lifetime, mobile_nodes"
# the HA has the new MN-HA key, the MN not yet: its next registration is refused
denied=$(jqv ha counters '.counters.deny_mn_auth')
tb_ctl mn reregister >/dev/null
jqa_within 10 ha counters ".counters.deny_mn_auth > $denied"
edit mn "s/key = \"$TB_KEY_MNHA\"/key = \"$new_key\"/; s/$TB_PSK/$new_psk/g"
edit mn 's/    udp_encapsulation = /    ike_lifetime = 7200;\n    udp_encapsulation = /'
changed=$(reload mn)
[[ $changed == "ha_security, ipsec.ike_lifetime, ipsec.peers" ]] || fail "mn: reload changed '$changed'"
for fa in fa1 fa2 fa3; do
	edit "$fa" "s/$TB_PSK/$new_psk/g; s/max_lifetime = 600;/max_lifetime = 550;/"
	edit "$fa" 's/^  log_level = "[a-z]*";/  log_level = "debug";/'
	expect "$fa" "max_lifetime, log_level, ipsec.peers"
done
edit dbs 's/^  log_level = "[a-z]*";/  log_level = "debug";/'
expect dbs "log_level"
[[ $(state mn) == "$mn_sas" ]] || fail "the MN's SAs changed with its keys"
flowing
# with both on the new MN-HA key, the next registration is accepted
regs=$(jqv ha counters '.counters.reg_accepted')
tb_ctl mn reregister >/dev/null
jqa_within 10 ha counters ".counters.reg_accepted > $regs"
tb_wait_registered fa1 10 || fail "the MN is not registered under the new MN-HA key"
# a new negotiation, with domain B's FA, under the new PSK
tb_move fa3 >/dev/null
tb_wait_registered fa3 20 || fail "no registration through fa3 with the new PSK"
jqa fa3 sas '.ike_counters.ike_established >= 1'
pings
tb_move fa1 >/dev/null
tb_wait_registered fa1 20 || fail "no registration back through fa1"
flowing
echo "    keys, PSKs, lifetimes, limits and log levels applied; SAs kept; a new negotiation under the new PSK"

# ---- 3. a broken file ----
echo "--- 3. broken files refused, the running configuration kept"
for node in mn fa1 ha dbs; do
	cp -p "$TB_RUN/$node.conf" "$TB_RUN/$node.conf.good"
	printf 'broken = ;\n' >>"$TB_RUN/$node.conf"
	lines=$(wc -l <"$TB_RUN/$node.conf")
	if out=$(tb_ctl "$node" reload 2>&1); then
		fail "$node accepted a broken file: $out"
	fi
	[[ $out == *"$node.conf:$lines"* ]] || fail "$node: the refusal names no file:line: $out"
	line=$(hup "$node")
	[[ $line == *"reload refused"*"$node.conf:$lines"* ]] || fail "$node after SIGHUP: $line"
	kill -0 "$(cat "$TB_RUN/$node.pid")" || fail "$node died of a broken file"
	mv "$TB_RUN/$node.conf.good" "$TB_RUN/$node.conf"
done
flowing
# check compares only: a change it names is not applied
edit fa1 's/max_lifetime = 550;/max_lifetime = 500;/'
[[ $(reload fa1 check) == "max_lifetime" ]] || fail "fa1: reload check did not name max_lifetime"
[[ $(reload fa1 check) == "max_lifetime" ]] || fail "fa1: reload check applied the change"
[[ $(reload fa1) == "max_lifetime" ]] || fail "fa1: reload did not apply max_lifetime"
echo "    broken files refused by mipsactl (exit 1) and SIGHUP with file:line; check compares only"

# ---- 4. a setting only a restart takes ----
echo "--- 4. a change only a restart takes"
cp -p "$TB_RUN/fa2.conf" "$TB_RUN/fa2.conf.good"
edit fa2 "s/care_of_address = \"$TB_FA2_COA\";/care_of_address = \"192.0.2.99\";/"
if out=$(tb_ctl fa2 reload 2>&1); then
	fail "fa2 took a new care-of address without a restart: $out"
fi
[[ $out == *"care_of_address: changed, and only a restart takes it"* ]] || fail "fa2: $out"
mv "$TB_RUN/fa2.conf.good" "$TB_RUN/fa2.conf"
echo "    refused: $out"

# ---- 5. reloads during hand-overs ----
echo "--- 5. every daemon reloaded while the MN hands over"
for to in fa2 fa1; do
	full=$(jqv "$to" sas '.reuse_counters.reuse_full')
	tb_move "$to" >/dev/null
	for node in fa1 fa2 ha dbs mn; do
		kill -HUP "$(cat "$TB_RUN/$node.pid")"
	done
	tb_wait_registered "$to" 15 || fail "no registration through $to"
	jqa_within 10 "$to" sas ".reuse_counters.reuse_full == $((full + 1))"
	flowing
done
for node in fa1 fa2 fa3 ha dbs mn; do
	kill -0 "$(cat "$TB_RUN/$node.pid")" || fail "$node died"
done
fallbacks=$(jqv fa1 sas '[.reuse_counters | to_entries[] | select(.key | startswith("fallback_")) | .value] | add')
fallbacks2=$(jqv fa2 sas '[.reuse_counters | to_entries[] | select(.key | startswith("fallback_")) | .value] | add')
[[ $fallbacks -eq 0 && $fallbacks2 -eq 0 ]] || fail "fallbacks during reloads: fa1 $fallbacks, fa2 $fallbacks2"
echo "    two hand-overs with full reuse while every daemon reloaded; no fallback"

# ---- 6. K_SA and K_DB rotated across domain A, one daemon at a time ----
echo "--- 6. K_SA/K_DB rotation: fa1, then a hand-over, then mipsa-dbs and fa2"
overlap=3000
for node in fa1 fa2; do
	edit "$node" "s|    transfer_timeout_ms = |    key_overlap_ms = $overlap;\n    transfer_timeout_ms = |"
	expect "$node" "domain.key_overlap_ms"
done
edit dbs "s|^  log_level = |  key_overlap_ms = $overlap;\n  log_level = |"
expect dbs "key_overlap_ms"
# new keys in place (the files keep their owner and mode)
od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$TB_RUN/k_sa.a"
od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$TB_RUN/k_db.a"
t1=$(date +%s%3N)
expect fa1 "domain.store.k_db_file, domain.k_sa_file, domain.k_db_file"
# fa2 still has the old keys only: the hand-over from fa1 reuses all the same
handover_full() { # handover_full TO
	local full
	full=$(jqv "$1" sas '.reuse_counters.reuse_full')
	tb_move "$1" >/dev/null
	tb_wait_registered "$1" 15 || fail "no registration through $1"
	jqa_within 10 "$1" sas ".reuse_counters.reuse_full == $((full + 1))"
	flowing
}
handover_full fa2
jqa fa1 sas '.reuse_counters.key_rotations == 1 and .reuse_counters.rx_previous_key >= 1'
expect dbs "k_db_file"
expect fa2 "domain.store.k_db_file, domain.k_sa_file, domain.k_db_file"
t2=$(date +%s%3N)
((t2 - t1 <= overlap)) || echo "    (fa2 reloaded $((t2 - t1)) ms after fa1, more than the overlap: a slow machine)"
# from t + overlap each sends under the new keys, and rewrites its store copies under them
puts=$(jqv fa2 sas '.reuse_counters.store_puts')
jqa_within 10 fa2 sas ".reuse_counters.store_puts > $puts"
handover_full fa1
# after t + 2 overlap the old keys are gone everywhere: the domain runs on the new ones
_past() { (($(date +%s%3N) > $1)); }
within "the old keys retired" 20 _past $((t2 + 2 * overlap))
handover_full fa2
handover_full fa1
for fa in fa1 fa2; do
	jqa "$fa" sas '.reuse_counters.key_rotations == 1 and .reuse_counters.keys_dropped == 0 and
		.reuse_counters.fallback_bad_record == 0 and .reuse_counters.sax_bad_messages == 0'
done
jqa dbs counters '.counters.key_rotations == 1'
echo "    four hand-overs with full reuse across the rotation; no message refused, no fallback"

kill "$ping_cn" "$ping_mn" 2>/dev/null || true
wait "$ping_cn" "$ping_mn" 2>/dev/null || true
tb_down
echo "PASS: reload"
