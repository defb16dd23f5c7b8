# shellcheck shell=bash
#
# testbed/swan.sh -- what one deploys today instead of mipsa's IPsec:
# strongSwan's charon on the mobile node and on each FA of domain A,
# renegotiating IKEv1 Main Mode + Quick Mode at every hand-over, over plain
# Mobile IP (mipsa's own ESP off).  Source after lib.sh, daemons.sh and
# charon.sh.
#
#   tb_swan_start         mipsa daemons in plain Mobile IP, charon in mn, fa1,
#                         fa2, the routes below and the MN's link-up hook;
#                         returns once the MN is registered through fa1 and
#                         its first CHILD_SA is up
#   tb_swan_stop          the hook, the charons, the routes and rules again
#   tb_swan_wait_sa [S]   a CHILD_SA newer than the last one waited for is up
#                         on the MN (within S seconds, default 10)
#   tb_swan_ike_messages  IKE messages the MN's charon has sent and received
#
# Configuration, as an operator would set it up:
#   * charon: IKEv1, PSK, the proposals of mipsa's renegotiating mode
#     (TB_IKE_PROPOSAL aes128-sha1-modp2048, TB_ESP_PROPOSAL aes128-sha1, no
#     PFS), tunnel mode, the MN's home address/32 === 0.0.0.0/0.  Both FAs
#     answer on the domain's alias address with the same identity and key,
#     as mipsa's FAs do.  kernel-libipsec: the kernel has no ESP, so ESP is
#     UDP-encapsulated (4500) and travels through charon's TUN (ipsec0) and
#     its routes in table 220.
#   * MN: charon reaches the alias on the access link (a /32 route on eth0,
#     resolved by ARP); whatever does not go through charon's table 220 is
#     dropped (a blackhole rule), so that nothing leaves in clear while an
#     SA is missing.
#   * FA: mipsa-fa delivers decapsulated packets for visitors by route
#     (visitor_delivery = "route") instead of to the visitor's MAC; those
#     packets may only take charon's table 220 (else blackhole); what
#     charon decrypts from ipsec0 goes to mipsa-fa's TUN (its table 100) to
#     be reverse-tunnelled; charon's own IKE/ESP to the home address goes
#     on the access link (a /32 route on acc0).
#   * The renegotiation trigger: the MN's link-up hook.  Both FAs share the
#     alias address, so to charon the peer has not changed and nothing in
#     charon notices the move: its SA still looks fine, and the packets
#     sealed with it die at the new FA.  A hook on carrier up (what
#     ifplugd, networkd-dispatcher or a NetworkManager dispatcher script
#     run) terminates the IKE SA (the new FA does not know it) and
#     initiates a new one.  The alternative, DPD, would notice only after
#     dpd_delay plus the retransmissions of an unanswered R-U-THERE
#     (seconds), and start_action = trap does not fire while the stale SA
#     is still installed.
#
# TB_SWAN_PIN_MAC=1: the MN's neighbour entry for the alias is static (the
# domain's alias MAC), so charon's first IKE packet after a move does not
# wait for ARP.
# TB_SWAN_TRIGGER=dpd: no hook; the MN's charon finds the FA gone by DPD
# (dpd_delay TB_SWAN_DPD_DELAY, default 1s, dpd_timeout TB_SWAN_DPD_TIMEOUT,
# default 2s, dpd_action restart): the alternative to the hook, measured.

TB_SWAN_FAS=(fa1 fa2)
_TB_SWAN_PIDS=()
TB_SWAN_BLACKHOLE_PREF=221
# charon's routes (kernel-netlink) live in table 220, its rule at pref 220
TB_SWAN_TABLE=220

# the swanctl.conf of the MN (initiator) or an FA (responder)
_tb_swan_conf() {
	local role=$1 la ra lts rts lid rid dpd="" action=""
	if [[ $role == mn ]]; then
		la=$TB_MN_HOME ra=$TB_ALIAS_A lts=$TB_MN_HOME/32 rts=0.0.0.0/0
		lid=$TB_MN_NAI rid=fa.domain-a.example
		if [[ ${TB_SWAN_TRIGGER:-hook} == dpd ]]; then
			dpd="dpd_delay = ${TB_SWAN_DPD_DELAY:-1s}
    dpd_timeout = ${TB_SWAN_DPD_TIMEOUT:-2s}"
			action="dpd_action = restart"
		fi
	else
		la=$TB_ALIAS_A ra=$TB_MN_HOME lts=0.0.0.0/0 rts=$TB_MN_HOME/32
		lid=fa.domain-a.example rid=$TB_MN_NAI
	fi
	cat <<EOF
connections {
  swan {
    version = 1
    local_addrs = $la
    remote_addrs = $ra
    proposals = $TB_IKE_PROPOSAL
    $dpd
    local { auth = psk
            id = $lid }
    remote { auth = psk
             id = $rid }
    children {
      c { local_ts = $lts
          remote_ts = $rts
          esp_proposals = $TB_ESP_PROPOSAL
          $action
          mode = tunnel }
    }
  }
}
secrets { ike-1 { id-1 = $TB_MN_NAI
                  id-2 = fa.domain-a.example
                  secret = $TB_SWAN_PSK } }
EOF
}

# _tb_swan_net add|del: the routes and rules of the header, made (stopping
# at the first failure) or undone (each one, whatever is left of them)
_tb_swan_net() {
	local op=$1 fa mn
	mn=$(tb_ns mn)
	_tb_swan_ip "$op" -n "$mn" route "$op" "$TB_ALIAS_A/32" dev eth0 || return 1
	_tb_swan_ip "$op" -n "$mn" rule "$op" pref "$TB_SWAN_BLACKHOLE_PREF" blackhole || return 1
	if [[ $op == del ]]; then
		ip -n "$mn" neigh del "$TB_ALIAS_A" dev eth0 2>/dev/null || true
	elif [[ ${TB_SWAN_PIN_MAC:-0} == 1 ]]; then
		ip -n "$mn" neigh replace "$TB_ALIAS_A" lladdr "$TB_MAC_A" dev eth0 nud permanent ||
			return 1
	fi
	for fa in "${TB_SWAN_FAS[@]}"; do
		fa=$(tb_ns "$fa")
		_tb_swan_ip "$op" -n "$fa" route "$op" "$TB_MN_HOME/32" dev acc0 || return 1
		_tb_swan_ip "$op" -n "$fa" rule "$op" pref 210 iif mipfa0 lookup "$TB_SWAN_TABLE" ||
			return 1
		_tb_swan_ip "$op" -n "$fa" rule "$op" pref 211 iif mipfa0 blackhole || return 1
		_tb_swan_ip "$op" -n "$fa" rule "$op" pref 212 iif ipsec0 lookup 100 || return 1
	done
}

# _tb_swan_ip add|del ARGS...: ip ARGS; when undoing, a failure (already gone) is no error
_tb_swan_ip() {
	local op=$1
	shift
	if [[ $op == del ]]; then
		ip "$@" 2>/dev/null || true
	else
		ip "$@"
	fi
}

# the MN's link-up hook: on carrier back, a fresh IKE SA with whoever has the alias now
_tb_swan_hook() {
	local up=1 line
	while read -r line; do
		if [[ $line != *LOWER_UP* ]]; then
			up=0
		elif ((!up)); then
			up=1
			printf '%s carrier up: renegotiating\n' "$(date +%s.%N)"
			# the old IKE SA's peer is gone: no Delete to wait for
			tb_swanctl mn --terminate --ike swan --force --timeout 1 >/dev/null 2>&1
			tb_swanctl mn --initiate --child c --timeout 10 2>&1 | tail -n 1
		fi
	done
}

tb_swan_start() {
	if ! command -v swanctl >/dev/null || [[ ! -x /usr/lib/ipsec/charon ]]; then
		_tb_err "strongSwan's charon and swanctl are needed (scripts/deps)"
		return 1
	fi
	local fa
	export TB_IPSEC=0 TB_REUSE=none TB_DELIVERY_A=route
	tb_start_daemons || return 1
	unset TB_DELIVERY_A
	TB_SWAN_PSK=$(_tb_hexkey)
	_tb_swan_conf mn >"$TB_RUN/swan-mn.conf"
	_tb_swan_conf fa >"$TB_RUN/swan-fa.conf"
	_tb_swan_net add || return 1
	for fa in "${TB_SWAN_FAS[@]}"; do
		tb_charon_start "$fa" "$fa" "$TB_RUN/swan-fa.conf" || return 1
	done
	tb_charon_start mn mn "$TB_RUN/swan-mn.conf" || return 1
	tb_wait_registered fa1 10 || return 1
	_TB_SWAN_SEEN=0
	tb_swanctl mn --initiate --child c --timeout 10 >"$TB_RUN/swan-first.out" 2>&1 || {
		_tb_err "charon on the MN could not establish its first SA:" \
			"$(tail -n 3 "$TB_RUN/swan-first.out")"
		return 1
	}
	tb_swan_wait_sa 10 || return 1
	[[ ${TB_SWAN_TRIGGER:-hook} == hook ]] || return 0
	# through a FIFO, so that both processes have a pid to stop them by
	rm -f "$TB_RUN/swan-link.fifo"
	mkfifo "$TB_RUN/swan-link.fifo" || return 1
	ip netns exec "$(tb_ns mn)" ip -o monitor link dev eth0 >"$TB_RUN/swan-link.fifo" 2>/dev/null &
	_TB_SWAN_PIDS=($!)
	_tb_swan_hook <"$TB_RUN/swan-link.fifo" >>"$TB_RUN/swan-hook.out" 2>&1 &
	_TB_SWAN_PIDS+=($!)
	# ip monitor has no "listening" to wait for: a flap of the link in place
	# must reach the hook and renegotiate
	tb_move fa1 >/dev/null || return 1
	if ! tb_wait_registered fa1 10 || ! tb_swan_wait_sa 10; then
		_tb_err "the MN's link-up hook did not renegotiate: $(tail -n 3 "$TB_RUN/swan-hook.out")"
		return 1
	fi
}

tb_swan_stop() {
	local n pid
	for pid in "${_TB_SWAN_PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	_TB_SWAN_PIDS=()
	for n in mn "${TB_SWAN_FAS[@]}"; do
		[[ -f $TB_RUN/charon-$n/pid ]] || continue
		pid=$(cat "$TB_RUN/charon-$n/pid")
		tb_charon_stop "$n"
		# charon takes its TUN, routes and rule away as it exits
		for _ in $(seq 60); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.05
		done
		kill -KILL "$pid" 2>/dev/null || true
	done
	tb_stop_daemons
	_tb_swan_net del 2>/dev/null || true
	for n in mn "${TB_SWAN_FAS[@]}"; do
		ip -n "$(tb_ns "$n")" rule del pref 100 2>/dev/null || true
		ip -n "$(tb_ns "$n")" rule del pref 101 2>/dev/null || true
	done
}

# CHILD_SAs the MN's charon has established so far (its log)
_tb_swan_children() {
	grep -c "CHILD_SA c{[0-9]*} established" "$(tb_charon_log mn)" 2>/dev/null || true
}

tb_swan_wait_sa() {
	local secs=${1:-10} n deadline
	deadline=$((SECONDS + secs))
	until n=$(_tb_swan_children) && ((n > _TB_SWAN_SEEN)); do
		if ((SECONDS >= deadline)); then
			_tb_err "no new CHILD_SA on the MN within $secs s (seen $_TB_SWAN_SEEN)"
			return 1
		fi
		sleep 0.02
	done
	_TB_SWAN_SEEN=$n
}

tb_swan_ike_messages() {
	grep -cE "(sending|received) packet: from" "$(tb_charon_log mn)" 2>/dev/null || true
}
