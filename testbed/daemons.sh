# shellcheck shell=bash
#
# testbed/daemons.sh -- configure, start and stop the mipsa daemons inside
# the testbed namespaces.  Source after testbed/lib.sh.  Defines the
# tb_start_daemons / tb_stop_daemons hooks of lib.sh and:
#
#   tb_gen_configs        write ha.conf, fa1..fa3.conf, mn.conf into $TB_RUN
#   tb_ctl NODE ARGS...   mipsactl against NODE's control socket
#   tb_wait_registered [FA] [TIMEOUT_S]
#                         wait until the MN is registered (through FA)
#
# Keys are fresh random ones for every run.  Logs go to $TB_RUN/<node>.log.

TB_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TB_BIN=${MIPSA_BIN:-$TB_TOP}
TB_RUN=${TB_RUN:-/tmp/${TB_PREFIX:-mipsa}-run}
TB_MN_HOME=198.18.100.10
TB_MN_NAI=mn1@home.example
TB_MN_LIFETIME=${TB_MN_LIFETIME:-120}
TB_LOG_LEVEL=${TB_LOG_LEVEL:-info}
TB_DAEMON_NODES=(ha fa1 fa2 fa3 mn)
# IPsec on the access link: TB_IPSEC=1; proposals and the rest as in conf/*.conf
TB_IPSEC=${TB_IPSEC:-0}
TB_IKE_PROPOSAL=${TB_IKE_PROPOSAL:-aes128-sha1-modp2048}
TB_ESP_PROPOSAL=${TB_ESP_PROPOSAL:-aes128-sha1}
TB_UDP_ENCAP=${TB_UDP_ENCAP:-false}
# SA reuse in domain A: TB_REUSE=none|partial|full, TB_TECHNIQUE=direct|store|both,
# TB_STORE=dbs|redis|sentinel (the store runs in the dbs namespace; sentinel: a
# primary, replicas and Sentinels the test starts itself, tests/testbed/redis_sentinel.sh,
# with the passwords in $TB_RUN/rs, TB_WAIT_MS WAIT's timeout)
TB_REUSE=${TB_REUSE:-none}
TB_TECHNIQUE=${TB_TECHNIQUE:-direct}
TB_STORE=${TB_STORE:-dbs}
TB_XFER_TIMEOUT_MS=${TB_XFER_TIMEOUT_MS:-100}
# The daemons drop to TB_USER with only the capabilities they keep (doc/security.md);
# TB_SANDBOX=0 runs them as root, unfiltered (debugging: strace, gdb).
TB_USER=${TB_USER:-mipsa}
TB_SANDBOX=${TB_SANDBOX:-1}
# Under a checker (scripts/valgrind): TB_DAEMON_WRAPPER, when set, starts
# each daemon as `$TB_DAEMON_WRAPPER NODE BINARY ARGS...`; TB_TIME_FACTOR
# (an integer, default 1) multiplies the waits for a daemon to start and stop.
TB_TIME_FACTOR=${TB_TIME_FACTOR:-1}
# optional: TB_DBS_COMPACT_MIN (dbs.log_compact_min_bytes),
# TB_SEQ_RESERVE (fa.domain.seq_reserve), TB_LEND_MS (lend_timeout_ms),
# TB_OFFERS (fa.domain.offers: false to make every hand-over ask),
# TB_DELIVERY_A (fa.visitor_delivery of domain A's FAs: "route" when charon
# protects the access link, testbed/swan.sh)

# the sandbox settings every daemon's group gets
_tb_sandbox_conf() {
	if [[ $TB_SANDBOX == 1 ]]; then
		printf '  user = "%s";\n  sandbox = true;\n' "$TB_USER"
	else
		printf '  sandbox = false;\n'
	fi
}

# The unprivileged user the daemons become: a system account without a
# home or a shell, created once and left for the next run (idempotent).
tb_ensure_user() {
	[[ $TB_SANDBOX == 1 ]] || return 0
	id -u "$TB_USER" >/dev/null 2>&1 && return 0
	useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
		--user-group "$TB_USER" || id -u "$TB_USER" >/dev/null 2>&1 ||
		{ _tb_err "cannot create user $TB_USER"; return 1; }
}

_tb_hexkey() {
	od -An -tx1 -N16 /dev/urandom | tr -d ' \n'
}

# the ipsec group of a configuration: _tb_ipsec_conf LOCAL_ID PEER...
# where each PEER is "address|id"
_tb_ipsec_conf() {
	local id=$1 p sep=""
	shift
	[[ $TB_IPSEC == 1 ]] || return 0
	printf '  ipsec = {\n    local_id = "%s";\n' "$id"
	printf '    ike_proposals = [ "%s" ];\n    esp_proposals = [ "%s" ];\n' \
		"$TB_IKE_PROPOSAL" "$TB_ESP_PROPOSAL"
	[[ -z ${TB_IKE_LIFETIME:-} ]] || printf '    ike_lifetime = %s;\n' "$TB_IKE_LIFETIME"
	[[ -z ${TB_IPSEC_LIFETIME:-} ]] || printf '    ipsec_lifetime = %s;\n' "$TB_IPSEC_LIFETIME"
	[[ -z ${TB_REKEY_MARGIN:-} ]] || printf '    rekey_margin = %s;\n' "$TB_REKEY_MARGIN"
	[[ -z ${TB_HALFOPEN_MAX:-} ]] || printf '    halfopen_max = %s;\n' "$TB_HALFOPEN_MAX"
	[[ -z ${TB_HALFOPEN_PEER_MAX:-} ]] ||
		printf '    halfopen_peer_max = %s;\n' "$TB_HALFOPEN_PEER_MAX"
	printf '    udp_encapsulation = %s;\n    peers = (\n' "$TB_UDP_ENCAP"
	for p in "$@"; do
		printf '%s      { address = "%s"; id = "%s"; psk = "%s"; }' "$sep" "${p%%|*}" \
			"${p#*|}" "$TB_PSK"
		sep=$',\n'
	done
	printf '\n    );\n  };\n'
}

# TB_FA_EXTRA_PEERS: more addresses every FA has an IPsec peer for (the
# flood tests spoof them), each as "address|flood-N@home.example"
_tb_extra_peers() {
	local a n=0
	for a in ${TB_FA_EXTRA_PEERS:-}; do
		n=$((n + 1))
		printf '%s|flood-%d@home.example\n' "$a" "$n"
	done
}

_tb_fa_conf() {
	local fa=$1 coa=$2 alias=$3 domain=a extra=()
	[[ $alias == "$TB_ALIAS_B" ]] && domain=b
	mapfile -t extra < <(_tb_extra_peers)
	cat >"$TB_RUN/$fa.conf" <<CONF
fa: {
  access_interface = "acc0";
  alias_address = "$alias";
  alias_prefix_length = 24;
  care_of_address = "$coa";
  control_socket = "$TB_RUN/$fa.sock";
  advertisement_interval_ms = 1000;
  advertisement_lifetime = 3;
  max_lifetime = 600;
$(_tb_sandbox_conf)
  log_level = "$TB_LOG_LEVEL";$([[ $domain == a && -n ${TB_DELIVERY_A:-} ]] &&
		printf '\n  visitor_delivery = "%s";' "$TB_DELIVERY_A")
  home_agents = ( { address = "$TB_HA_ADDR"; spi = 2001; key = "$TB_KEY_FAHA"; } );
$(_tb_ipsec_conf "fa.domain-$domain.example" "$TB_MN_HOME|$TB_MN_NAI" ${extra[@]+"${extra[@]}"})
$(_tb_domain_conf "$domain" "$coa")
};
CONF
}

# the domain group of an FA: _tb_domain_conf DOMAIN COA
_tb_domain_conf() {
	local domain=$1 coa=$2 members tech=$TB_TECHNIQUE
	[[ $TB_IPSEC == 1 && $TB_REUSE != none ]] || return 0
	members=${TB_MEMBERS_A:-"\"$TB_FA1_COA\", \"$TB_FA2_COA\""}
	# domain B is fa3 alone, without a store
	[[ $domain == b ]] && members="\"$TB_FA3_COA\"" tech=direct
	printf '  domain = {\n    reuse = "%s";\n    technique = "%s";\n' "$TB_REUSE" "$tech"
	printf '    members = [ %s ];\n' "$members"
	printf '    k_sa_file = "%s/k_sa.%s";\n    k_db_file = "%s/k_db.%s";\n' \
		"$TB_RUN" "$domain" "$TB_RUN" "$domain"
	printf '    transfer_timeout_ms = %s;\n' "$TB_XFER_TIMEOUT_MS"
	[[ -z ${TB_SEQ_RESERVE:-} ]] || printf '    seq_reserve = %s;\n' "$TB_SEQ_RESERVE"
	[[ -z ${TB_LEND_MS:-} ]] || printf '    lend_timeout_ms = %s;\n' "$TB_LEND_MS"
	[[ -z ${TB_OFFERS:-} ]] || printf '    offers = %s;\n' "$TB_OFFERS"
	if [[ $tech != direct ]]; then
		if [[ $TB_STORE == sentinel ]]; then
			printf '    store = { backend = "redis"; master_name = "mipsa";\n'
			printf '              sentinels = [ "%s:26379", "%s:26380", "%s:26381" ];\n' \
				"$TB_DBS_ADDR" "$TB_DBS_ADDR" "$TB_DBS_ADDR"
			printf '              wait_replicas = 1; wait_ms = %s;\n' "${TB_WAIT_MS:-200}"
			printf '              user = "fa-%s"; password_file = "%s/rs/pass.fa-%s"; };\n' \
				"$coa" "$TB_RUN" "$coa"
		elif [[ $TB_STORE == redis ]]; then
			printf '    store = { backend = "redis"; host = "%s"; port = 6379;\n' \
				"$TB_DBS_ADDR"
			printf '              user = "fa-%s"; password_file = "%s/redis-pass.%s"; };\n' \
				"$coa" "$TB_RUN" "$coa"
		else
			printf '    store = { backend = "dbs"; address = "%s"; local_address = "%s";\n' \
				"$TB_DBS_ADDR" "$coa"
			printf '              k_db_file = "%s/k_db.%s"; };\n' "$TB_RUN" "$domain"
		fi
	fi
	printf '  };\n'
}

# the store of domain A: mipsa-dbs, or redis-server with one ACL user per FA
_tb_store_conf() {
	local fa
	cat >"$TB_RUN/dbs.conf" <<CONF
dbs: {
  address = "$TB_DBS_ADDR";
  control_socket = "$TB_RUN/dbs.sock";
  data_dir = "$TB_RUN/dbs-data";
  k_db_file = "$TB_RUN/k_db.a";
  members = ( "$TB_FA1_COA", "$TB_FA2_COA" );
  log_level = "$TB_LOG_LEVEL";$([[ -z ${TB_DBS_COMPACT_MIN:-} ]] ||
		printf '\n  log_compact_min_bytes = %s;' "$TB_DBS_COMPACT_MIN")
$(_tb_sandbox_conf)
};
CONF
	{
		printf 'bind %s\nport 6379\nprotected-mode yes\nsave ""\nappendonly no\n' "$TB_DBS_ADDR"
		printf 'dir %s\nuser default off\n' "$TB_RUN"
		for fa in "$TB_FA1_COA" "$TB_FA2_COA"; do
			_tb_hexkey >"$TB_RUN/redis-pass.$fa"
			printf 'user fa-%s on >%s ~mipsa:sa:* +set +get +del +ping +auth +hello +role +wait\n' "$fa" \
				"$(cat "$TB_RUN/redis-pass.$fa")"
		done
		# the operator (and the tests): everything
		_tb_hexkey >"$TB_RUN/redis-pass.admin"
		printf 'user admin on >%s ~* +@all\n' "$(cat "$TB_RUN/redis-pass.admin")"
	} >"$TB_RUN/redis.conf"
	chmod 600 "$TB_RUN"/redis-pass.* "$TB_RUN/redis.conf"
}

# A reload reads the files again as the daemon's user: the run directory,
# the configurations and the keys they name are the user's group's to read
# (root:mipsa, 0750 and 0640, as the Debian package sets /etc/mipsa), and
# nobody else's.
_tb_conf_perms() {
	[[ $TB_SANDBOX == 1 ]] || return 0
	local f files=()
	for f in "$TB_RUN"/{ha,fa1,fa2,fa3,mn,dbs}.conf "$TB_RUN"/k_sa.* "$TB_RUN"/k_db.* \
		"$TB_RUN"/redis-pass.fa*; do
		[[ -f $f ]] && files+=("$f")
	done
	chgrp "$TB_USER" "$TB_RUN" "${files[@]}" && chmod 750 "$TB_RUN" && chmod 640 "${files[@]}"
}

tb_gen_configs() {
	mkdir -p "$TB_RUN" || return 1
	chmod 700 "$TB_RUN"
	TB_KEY_MNHA=$(_tb_hexkey)
	TB_KEY_FAHA=$(_tb_hexkey)
	TB_PSK=$(_tb_hexkey)
	local d
	for d in a b; do
		{ _tb_hexkey; _tb_hexkey; } | tr -d '\n' >"$TB_RUN/k_sa.$d"
		{ _tb_hexkey; _tb_hexkey; } | tr -d '\n' >"$TB_RUN/k_db.$d"
	done
	chmod 600 "$TB_RUN"/k_sa.* "$TB_RUN"/k_db.*
	_tb_store_conf
	cat >"$TB_RUN/ha.conf" <<CONF
ha: {
  address = "$TB_HA_ADDR";
  home_prefix = "$TB_HOME_NET";
  control_socket = "$TB_RUN/ha.sock";
  state_file = "$TB_RUN/ha-state/ha.state";
  max_lifetime = 600;
  log_level = "$TB_LOG_LEVEL";
$(_tb_sandbox_conf)
  mobile_nodes = (
    { nai = "$TB_MN_NAI"; home_address = "$TB_MN_HOME"; spi = 1001; key = "$TB_KEY_MNHA"; }
  );
  foreign_agents = (
    { address = "$TB_FA1_COA"; spi = 2001; key = "$TB_KEY_FAHA"; },
    { address = "$TB_FA2_COA"; spi = 2001; key = "$TB_KEY_FAHA"; },
    { address = "$TB_FA3_COA"; spi = 2001; key = "$TB_KEY_FAHA"; }
  );
};
CONF
	_tb_fa_conf fa1 "$TB_FA1_COA" "$TB_ALIAS_A"
	_tb_fa_conf fa2 "$TB_FA2_COA" "$TB_ALIAS_A"
	_tb_fa_conf fa3 "$TB_FA3_COA" "$TB_ALIAS_B"
	cat >"$TB_RUN/mn.conf" <<CONF
mn: {
  interface = "eth0";
  home_address = "$TB_MN_HOME";
  home_agent = "$TB_HA_ADDR";
  nai = "$TB_MN_NAI";
  lifetime = $TB_MN_LIFETIME;
  reverse_tunnel = true;
  control_socket = "$TB_RUN/mn.sock";
  log_level = "$TB_LOG_LEVEL";
$(_tb_sandbox_conf)
  sa_reuse = $([[ $TB_REUSE != none ]] && echo true || echo false);
  ha_security = { spi = 1001; key = "$TB_KEY_MNHA"; };
$(_tb_ipsec_conf "$TB_MN_NAI" "$TB_ALIAS_A|fa.domain-a.example" "$TB_ALIAS_B|fa.domain-b.example")
};
CONF
	_tb_conf_perms
}

tb_ctl() {
	local node=$1
	shift
	"$TB_BIN/tools/mipsactl" -s "$TB_RUN/$node.sock" "$@"
}

# _tb_start NODE BINARY: start a daemon in NODE, wait for its control socket.
_tb_start() {
	local node=$1 bin=$2 i
	rm -f "$TB_RUN/$node.sock"
	ip netns exec "$(tb_ns "$node")" ${TB_DAEMON_WRAPPER:+"$TB_DAEMON_WRAPPER" "$node"} \
		"$TB_BIN/$bin" -c "$TB_RUN/$node.conf" >>"$TB_RUN/$node.log" 2>&1 &
	echo $! >"$TB_RUN/$node.pid"
	for i in $(seq $((100 * TB_TIME_FACTOR))); do
		[[ -S $TB_RUN/$node.sock ]] && return 0
		if ! kill -0 "$(cat "$TB_RUN/$node.pid")" 2>/dev/null; then
			_tb_err "$bin in $node exited; log:"
			tail -20 "$TB_RUN/$node.log" >&2
			return 1
		fi
		sleep 0.05
	done
	_tb_err "$bin in $node did not open its control socket"
	return 1
}

# the store, when domain A uses one
_tb_start_store() {
	[[ $TB_IPSEC == 1 && $TB_REUSE != none && $TB_TECHNIQUE != direct ]] || return 0
	[[ $TB_STORE != sentinel ]] || return 0 # the test's own (tests/testbed/redis_sentinel.sh)
	if [[ $TB_STORE == redis ]]; then
		ip netns exec "$(tb_ns dbs)" redis-server "$TB_RUN/redis.conf" \
			>>"$TB_RUN/redis.log" 2>&1 &
		echo $! >"$TB_RUN/redis.pid"
		local i
		for i in $(seq 100); do
			ip netns exec "$(tb_ns dbs)" bash -c "echo >/dev/tcp/$TB_DBS_ADDR/6379" \
				2>/dev/null && return 0
			sleep 0.05
		done
		_tb_err "redis-server did not start"
		return 1
	fi
	_tb_start dbs dbs/mipsa-dbs
}

tb_start_daemons() {
	# every start is a fresh domain: no records from an earlier run in the store
	mkdir -p "$TB_RUN" && rm -rf "$TB_RUN"/*.log "$TB_RUN/dbs-data" "$TB_RUN/ha-state"
	tb_ensure_user && tb_gen_configs || return 1
	# the home agent rewrites its state file there after dropping root
	mkdir -p "$TB_RUN/ha-state"
	[[ $TB_SANDBOX != 1 ]] || chown "$TB_USER:" "$TB_RUN/ha-state"
	_tb_start_store || return 1
	_tb_start ha ha/mipsa-ha || return 1
	_tb_start fa1 fa/mipsa-fa || return 1
	_tb_start fa2 fa/mipsa-fa || return 1
	_tb_start fa3 fa/mipsa-fa || return 1
	_tb_start mn mn/mipsa-mn || return 1
}

# _tb_stop NODE: SIGTERM and wait up to 3 s times TB_TIME_FACTOR (the MN
# deregisters first).
_tb_stop() {
	local node=$1 pid i
	[[ -f $TB_RUN/$node.pid ]] || return 0
	pid=$(cat "$TB_RUN/$node.pid")
	rm -f "$TB_RUN/$node.pid"
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq $((60 * TB_TIME_FACTOR))); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.05
	done
	_tb_err "$node ($pid) did not stop, killing it"
	kill -KILL "$pid" 2>/dev/null || true
}

tb_stop_daemons() {
	local n
	[[ -d $TB_RUN ]] || return 0
	_tb_stop mn
	for n in fa1 fa2 fa3 ha dbs redis; do
		_tb_stop "$n"
	done
}

# tb_wait_registered [FA] [TIMEOUT_S]: the MN says "registered" (through FA's
# care-of address when FA is given).
tb_wait_registered() {
	local fa=${1:-} timeout=${2:-10} coa="" i state
	case $fa in
	fa1) coa=$TB_FA1_COA ;;
	fa2) coa=$TB_FA2_COA ;;
	fa3) coa=$TB_FA3_COA ;;
	esac
	for i in $(seq $((timeout * 20))); do
		state=$(tb_ctl mn --json state 2>/dev/null) || state=""
		if [[ $state == *'"state":"registered"'* ]] &&
			{ [[ -z $coa ]] || [[ $state == *"\"registration\":{\"care_of_address\":\"$coa\""* ]]; }; then
			return 0
		fi
		sleep 0.05
	done
	_tb_err "MN not registered${fa:+ through $fa} after ${timeout}s: $state"
	return 1
}
