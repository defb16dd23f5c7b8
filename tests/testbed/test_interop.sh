#!/usr/bin/env bash
#
# Interoperability with strongSwan 5.9 (charon with its userspace IPsec
# plugin): a real IKEv1 peer nobody here wrote.
#   A. charon as the initiator (a road-warrior client in the mn namespace,
#      holding the home address) against mipsa-fa on the alias address;
#   B. mipsa-mn (IPsec client mode, gateway = the alias) against charon as
#      the responder in fa1's namespace.
# Each with pre-shared keys and with RSA certificates: Main Mode + Quick
# Mode with PFS, data both ways through the SAs, a rekey and a Delete from
# charon, a Delete from our side, DPD.  The ESP keys charon derives (its
# log at level 4) must equal the ones we export: known answers from an
# independent implementation.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=require.sh
source "$here/require.sh"
need_root
need_charon
export TB_PREFIX=${TB_PREFIX:-mx$$}
source "$top/testbed/lib.sh"
source "$top/testbed/daemons.sh"
source "$here/helpers.sh"
source "$top/testbed/charon.sh"
stop_all() {
	tb_charon_stop A || true
	tb_charon_stop B || true
}
tb_trap_cleanup stop_all

# quiet check for wait_for: true when the jq filter holds
jqq() {
	tb_ctl "$1" --json "$2" 2>/dev/null | jq -e "$3" >/dev/null 2>&1
}
wait_for() { # wait_for SECONDS COMMAND...
	local i
	for i in $(seq $(($1 * 10))); do
		"${@:2}" && return 0
		sleep 0.1
	done
	return 1
}
HOME_ADDR=198.18.100.10
ALIAS=$TB_ALIAS_A
PSK=interop-secret-0123456789

# ---- credentials: a CA and two RSA certificates, made fresh for the run ----
make_creds() {
	local d=$TB_RUN/pki who san
	mkdir -p "$d"/x509 "$d"/x509ca "$d"/private
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/ca.key" -out "$d/x509ca/ca.pem" \
		-days 2 -subj "/C=CH/O=mipsa test/CN=mipsa test CA" 2>/dev/null
	for who in mn fa; do
		san="email:mn1@home.example"
		[[ $who == fa ]] && san="DNS:fa.domain-a.example"
		openssl req -newkey rsa:2048 -nodes -keyout "$d/private/$who.pem" -out "$d/$who.csr" \
			-subj "/C=CH/O=mipsa test/CN=$who.test" 2>/dev/null
		printf 'subjectAltName=%s\n' "$san" >"$d/$who.ext"
		openssl x509 -req -in "$d/$who.csr" -CA "$d/x509ca/ca.pem" -CAkey "$d/ca.key" \
			-CAcreateserial -days 2 -out "$d/x509/$who.pem" -extfile "$d/$who.ext" 2>/dev/null
	done
}

# charon_conf FILE ROLE AUTH: ROLE client (charon holds the home address) or gateway
charon_conf() {
	local file=$1 role=$2 auth=$3 la ra lts rts lid rid me lauth rauth
	if [[ $role == client ]]; then
		la=$HOME_ADDR ra=$ALIAS lts=$HOME_ADDR/32 rts=0.0.0.0/0
		lid=mn1@home.example rid=fa.domain-a.example me=mn
	else
		la=$ALIAS ra=$HOME_ADDR lts=0.0.0.0/0 rts=$HOME_ADDR/32
		lid=fa.domain-a.example rid=mn1@home.example me=fa
	fi
	lauth="auth = psk"
	rauth="auth = psk"
	if [[ $auth == rsa ]]; then
		lauth="auth = pubkey
            certs = $TB_RUN/pki/x509/$me.pem"
		rauth="auth = pubkey"
	fi
	{
		printf 'connections {\n  t {\n    version = 1\n'
		printf '    local_addrs = %s\n    remote_addrs = %s\n' "$la" "$ra"
		printf '    proposals = aes128-sha256-modp2048,aes256-sha256-ecp256\n'
		printf '    dpd_delay = 2s\n'
		printf '    local {\n      %s\n      id = %s\n    }\n' "$lauth" "$lid"
		printf '    remote {\n      %s\n      id = %s\n    }\n' "$rauth" "$rid"
		printf '    children {\n      c {\n        local_ts = %s\n        remote_ts = %s\n' \
			"$lts" "$rts"
		printf '        esp_proposals = aes128-sha256-modp2048,aes128gcm16-modp2048\n'
		printf '        mode = tunnel\n      }\n    }\n  }\n}\n'
		printf 'secrets {\n  ike-1 {\n    id-1 = mn1@home.example\n'
		printf '    id-2 = fa.domain-a.example\n    secret = %s\n  }\n}\n' "$PSK"
	} >"$file"
}

# the ipsec group for our side: ours_ipsec AUTH WHO PEER_ADDRESS
ours_ipsec() {
	local auth=$1 who=$2 peer=$3 id=fa.domain-a.example pid=mn1@home.example
	[[ $who == mn ]] && { id=mn1@home.example; pid=fa.domain-a.example; }
	printf '  ipsec = {\n'
	if [[ $auth == rsa ]]; then
		printf '    auth = "rsa";\n    local_id = "%s";\n' "$id"
		printf '    certificate = "%s/pki/x509/%s.pem";\n' "$TB_RUN" "$who"
		printf '    private_key = "%s/pki/private/%s.pem";\n' "$TB_RUN" "$who"
		printf '    ca = "%s/pki/x509ca/ca.pem";\n' "$TB_RUN"
	else
		printf '    local_id = "%s";\n' "$id"
	fi
	printf '    ike_proposals = [ "aes128-sha256-modp2048" ];\n'
	printf '    esp_proposals = [ "aes128-sha256", "aes128gcm16" ];\n'
	printf '    pfs = "modp2048";\n    dpd_interval = 2;\n'
	printf '    peers = ( { address = "%s"; id = "%s"; psk = "%s"; } );\n  };\n' "$peer" "$pid" \
		"$PSK"
}

# ESP keys: ours (exported) against the ones charon logged (level 4)
check_kat() {
	local node=$1 name=$2 keys ck found=0 k
	keys=$(tb_ctl "$node" keys esp)
	ck=$(awk '/encryption (initiator|responder) key =>/ { if (grab) print k; grab = 1; k = ""; next }
		grab && /\[CHD\] +[0-9]+: / {
			for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+:$/) break
			for (j = i + 1; j <= NF && $j ~ /^[0-9A-F][0-9A-F]$/; j++) k = k tolower($j)
			next }
		grab { print k; grab = 0 }
		END { if (grab) print k }' "$(tb_charon_log "$name")" | sort -u)
	[[ -n $ck ]] || fail "no keys in charon's log"
	for k in $ck; do
		grep -q "0x$k" <<<"$keys" && found=$((found + 1))
	done
	[[ $found -ge 2 ]] || fail "charon's keys ($ck) are not ours ($keys)"
	echo "  known answers: $found ESP encryption keys equal to charon's"
}

creds_of() {
	[[ $1 == rsa ]] && printf '%s' "$TB_RUN/pki"
	return 0
}

# ---- A: charon initiates to mipsa-fa ----
case_a() {
	local auth=$1
	echo "--- A ($auth): charon initiator -> mipsa-fa"
	tb_up
	mkdir -p "$TB_RUN"
	if [[ $auth == rsa ]]; then make_creds; fi
	TB_IPSEC=0 tb_gen_configs
	sed -i '$d' "$TB_RUN/fa1.conf" # the closing "};"
	ours_ipsec "$auth" fa "$HOME_ADDR" >>"$TB_RUN/fa1.conf"
	echo "};" >>"$TB_RUN/fa1.conf"
	_tb_start fa1 fa/mipsa-fa || fail "mipsa-fa did not start"
	# charon's side: the home address on eth0, the alias on the link
	ip -n "$(tb_ns mn)" addr add "$HOME_ADDR/32" dev eth0
	ip -n "$(tb_ns mn)" route add "$ALIAS/32" dev eth0
	charon_conf "$TB_RUN/a.conf" client "$auth"
	tb_charon_start mn A "$TB_RUN/a.conf" "$(creds_of "$auth")" || fail "charon A"
	tb_swanctl A --initiate --child c >/dev/null || fail "charon could not establish"
	jqa fa1 sas '[.isakmp_sas[] | select(.state == "established")] | length == 1'
	jqa fa1 sas '.ipsec_sas | length == 1'
	tb_exec mn ping -c 3 -i 0.2 -W 2 -q "$ALIAS" >/dev/null || fail "ping through the SA"
	jqa fa1 sas '.esp_counters.esp_in >= 3 and .esp_counters.esp_out >= 3'
	check_kat fa1 A
	# rekey from charon: a new Quick Mode (IKEv1 charon keeps the old pair to its end)
	tb_swanctl A --rekey --child c >/dev/null || fail "rekey"
	wait_for 5 jqq fa1 sas '.ike_counters.children_established >= 2' ||
		fail "rekey not seen by mipsa-fa: $(tb_ctl fa1 --json sas)"
	tb_exec mn ping -c 2 -i 0.2 -W 2 -q "$ALIAS" >/dev/null || fail "ping after rekey"
	wait_for 5 jqq fa1 sas '.ike_counters.dpd_acked >= 1' || fail "no DPD answer from charon"
	# Deletes from charon: a pair, then everything with the ISAKMP SA
	tb_swanctl A --terminate --child c >/dev/null || fail "terminate child"
	wait_for 3 jqq fa1 sas '.ike_counters.deletes_received >= 1' || fail "Delete not handled"
	tb_swanctl A --terminate --ike t >/dev/null || true
	wait_for 3 jqq fa1 sas '(.isakmp_sas | length) == 0 and (.ipsec_sas | length) == 0' ||
		fail "ISAKMP Delete not handled: $(tb_ctl fa1 --json sas)"
	tb_charon_stop A
	tb_down
}

# ---- B: mipsa-mn initiates to charon ----
case_b() {
	local auth=$1
	echo "--- B ($auth): mipsa-mn -> charon responder"
	tb_up
	mkdir -p "$TB_RUN"
	if [[ $auth == rsa ]]; then make_creds; fi
	TB_IPSEC=0 tb_gen_configs
	sed -i '$d' "$TB_RUN/mn.conf"
	printf '  gateway = "%s";\n' "$ALIAS" >>"$TB_RUN/mn.conf"
	ours_ipsec "$auth" mn "$ALIAS" >>"$TB_RUN/mn.conf"
	echo "};" >>"$TB_RUN/mn.conf"
	# charon on the alias in fa1, reaching the home address on the access link
	ip -n "$(tb_ns fa1)" route add "$HOME_ADDR/32" dev acc0
	charon_conf "$TB_RUN/b.conf" gateway "$auth"
	tb_charon_start fa1 B "$TB_RUN/b.conf" "$(creds_of "$auth")" || fail "charon B"
	_tb_start mn mn/mipsa-mn || fail "mipsa-mn did not start"
	wait_for 8 jqq mn sas '(.ipsec_sas | length) == 1' || fail "no SA with charon"
	jqa mn sas '[.isakmp_sas[] | select(.state == "established")] | length == 1'
	tb_exec mn ping -c 3 -i 0.2 -W 2 -q "$ALIAS" >/dev/null || fail "ping through the SA"
	jqa mn sas '.esp_counters.esp_in >= 3 and .esp_counters.esp_out >= 3'
	check_kat mn B
	# charon rekeys the pair (as Quick Mode initiator) and deletes the old one
	tb_swanctl B --rekey --child c >/dev/null || fail "rekey"
	wait_for 5 jqq mn sas '.ike_counters.children_established >= 2' ||
		fail "rekey not seen by mipsa-mn"
	tb_exec mn ping -c 2 -i 0.2 -W 2 -q "$ALIAS" >/dev/null || fail "ping after rekey"
	# a Delete from our side: mipsa-mn stops and deletes what it has
	_tb_stop mn
	wait_for 3 grep -q "received DELETE" "$(tb_charon_log B)" ||
		fail "charon saw no Delete from mipsa-mn"
	tb_charon_stop B
	tb_down
}

for auth in psk rsa; do
	case_a "$auth"
	case_b "$auth"
done
echo "test_interop: ok"
