# shellcheck shell=bash
#
# testbed/charon.sh -- strongSwan's charon (with its userspace IPsec plugin,
# since the kernel has no ESP) as a real IKEv1 peer inside a testbed
# namespace.  Source after lib.sh and daemons.sh.
#
#   tb_charon_start NODE NAME SWANCTL_CONF [CRED_DIR]
#       start charon in NODE with its own strongswan.conf, vici socket, log
#       and a private /run (charon's pid file path is fixed), then load the
#       connections (and, with CRED_DIR, the x509/x509ca/private files in it)
#   tb_swanctl NAME ARGS...     swanctl against that instance
#   tb_charon_log NAME          the instance's log file
#   tb_charon_stop NAME
#
# The log runs at level 4 for IKE and CHILD_SA key derivation, so that the
# keys charon derives can be compared with ours (known answers that do not
# come from our own code).

TB_CHARON_PLUGINS="random nonce openssl pem pkcs1 pkcs8 x509 pubkey kdf sha1 sha2 hmac aes gmp \
kernel-libipsec kernel-netlink socket-default vici"

tb_charon_start() {
	local node=$1 name=$2 conf=$3 creds=${4:-} dir i
	dir="$TB_RUN/charon-$name"
	mkdir -p "$dir"
	cat >"$dir/strongswan.conf" <<EOF
charon {
  load = $TB_CHARON_PLUGINS
  install_routes = yes
  retransmit_tries = 3
  delete_rekeyed_delay = 1
  plugins {
    vici { socket = unix://$dir/charon.vici }
    # the mobile node's inner and outer address are both its home address
    kernel-libipsec { allow_peer_ts = yes }
  }
  filelog {
    log {
      path = $dir/charon.log
      default = 1
      ike = 4
      chd = 4
      time_format = %H:%M:%S
      time_add_ms = yes
      flush_line = yes
    }
  }
}
EOF
	# With allow_peer_ts, traffic to the peer's address goes into charon's
	# tunnel; IKE and ESP themselves (UDP 500/4500) must not: they take the
	# main table ahead of charon's table 220.
	ip -n "$(tb_ns "$node")" rule add ipproto udp sport 500 lookup main pref 100 2>/dev/null || true
	ip -n "$(tb_ns "$node")" rule add ipproto udp sport 4500 lookup main pref 101 2>/dev/null || true
	ip netns exec "$(tb_ns "$node")" unshare -m sh -c \
		"mount -t tmpfs none /run && STRONGSWAN_CONF=$dir/strongswan.conf exec /usr/lib/ipsec/charon" \
		>"$dir/charon.out" 2>&1 &
	echo $! >"$dir/pid"
	for i in $(seq 100); do
		[[ -S $dir/charon.vici ]] && break
		sleep 0.05
	done
	[[ -S $dir/charon.vici ]] || { _tb_err "charon $name did not start"; return 1; }
	# swanctl reads credentials (x509, x509ca, private, ...) next to its
	# configuration file: put a copy of the configuration in CRED_DIR.
	local base=${creds:-$dir/swanctl}
	mkdir -p "$base"/x509 "$base"/x509ca "$base"/private
	cp "$conf" "$base/swanctl.conf"
	# the socket may be there a little before charon answers on it (a loaded machine)
	for i in $(seq 20); do
		tb_swanctl "$name" --load-all --file "$base/swanctl.conf" >"$dir/swanctl.out" 2>&1 &&
			return 0
		sleep 0.2
	done
	_tb_err "swanctl --load-all for charon $name failed:"
	cat "$dir/swanctl.out" >&2
	return 1
}

tb_swanctl() {
	local name=$1 dir
	shift
	dir="$TB_RUN/charon-$name"
	STRONGSWAN_CONF=$dir/strongswan.conf swanctl "$@" --uri "unix://$dir/charon.vici"
}

tb_charon_log() {
	printf '%s\n' "$TB_RUN/charon-$1/charon.log"
}

tb_charon_stop() {
	local dir="$TB_RUN/charon-$1"
	[[ -f $dir/pid ]] || return 0
	kill -TERM "$(cat "$dir/pid")" 2>/dev/null || true
	rm -f "$dir/pid"
}
