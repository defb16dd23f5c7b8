#!/usr/bin/env bash
#
# TCP at full packet size through the mobile node (doc/mobile-ip.md, "MTU"):
# every link of the testbed is a veth of MTU 1500 and nothing here touches
# an MTU or an MSS for the TCP runs.
#
#  1. iperf3 CN -> MN and MN -> CN, a few seconds each, before and after a
#     hand-over fa1 -> fa2, in plain Mobile IP, with IPsec (renegotiating at
#     fa2), with partial and with full SA reuse (full: AES-GCM in UDP, then
#     on to fa3 in domain B): every run moves more than TCP_FLOOR bytes;
#  2. the MN's tunnel device MTU is the link's less the worst overhead;
#  3. a DF-clear 3000-byte ping CN -> MN gets through in fragments (the HA,
#     and with IPsec also the FA, fragment it), and DF-set pings too big
#     for a tunnel come back as "fragmentation needed" with the next-hop
#     MTU: from the HA (1480, IP-in-IP), from the FA (what ESP leaves),
#     and, with the MN's device MTU raised by hand to 1500, from the FA's
#     reverse tunnel (plain) or from the MN itself (IPsec), and to the FA's
#     own ping from the FA's data plane;
# each with the counters of the daemon that answered.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=require.sh
source "$here/require.sh"
need_root
export TB_PREFIX=${TB_PREFIX:-tcp$$}
source "$top/testbed/lib.sh"
source "$top/testbed/daemons.sh"
source "$here/helpers.sh"
tb_trap_cleanup
command -v iperf3 >/dev/null || { echo "iperf3 missing (scripts/deps)"; exit 1; }

IPERF_SECONDS=${IPERF_SECONDS:-2}
TCP_FLOOR=${TCP_FLOOR:-1000000} # bytes; a stalled connection moves a few kB at most

# start (helpers.sh), then an iperf3 server on the MN
start_iperf() {
	start "$@"
	tb_exec mn iperf3 -s -p 5201 >"$TB_RUN/iperf3-server.log" 2>&1 &
	local i
	for i in $(seq 100); do
		tb_exec mn ss -Hltn 'sport = :5201' | grep -q . && return 0
		sleep 0.05
	done
	fail "iperf3 server on the MN not listening"
}

# tcp WHERE: iperf3 both ways, each must move more than TCP_FLOOR bytes
tcp() {
	local where=$1 dir out bytes mbit mss
	for dir in "CN -> MN" "MN -> CN"; do
		local rev=()
		[[ $dir == "MN -> CN" ]] && rev=(-R)
		out=$(timeout $((IPERF_SECONDS + 20)) ip netns exec "$(tb_ns cn)" iperf3 -c "$TB_MN_HOME" \
			-p 5201 -t "$IPERF_SECONDS" --connect-timeout 3000 -J "${rev[@]}") || true
		bytes=$(jq -r '.end.sum_received.bytes // 0' <<<"$out" 2>/dev/null || echo 0)
		mbit=$(jq -r '(.end.sum_received.bits_per_second // 0) / 1e6 | floor' <<<"$out" 2>/dev/null || echo 0)
		mss=$(jq -r '.start.tcp_mss_default // "?"' <<<"$out" 2>/dev/null || echo "?")
		[[ $bytes -gt $TCP_FLOOR ]] ||
			fail "$where, TCP $dir: $bytes bytes in ${IPERF_SECONDS}s ($(jq -r '.error // ""' <<<"$out" 2>/dev/null))"
		printf '    %-38s TCP %s: %10d bytes, %5d Mbit/s (MSS %s)\n' "$where" "$dir" "$bytes" "$mbit" "$mss"
	done
}

# the MN's tunnel device: its MTU as the daemon set it, and as the kernel has it
tunnel_mtu() {
	local want=$1 dev
	jqa mn mtu ".link_mtu == 1500 and .tunnel_mtu == $want"
	dev=$(ip -n "$(tb_ns mn)" -j link show mip0 | jq -r '.[0].mtu')
	[[ $dev == "$want" ]] || fail "mip0 MTU $dev, expected $want"
	echo "    mip0 MTU $want"
}

# frag_needed NODE DST SIZE MTU FROM: a DF-set ping of SIZE data bytes from NODE
# to DST is answered "fragmentation needed" by FROM with next-hop MTU MTU.
frag_needed() {
	local node=$1 dst=$2 size=$3 mtu=$4 from=$5 out
	out=$(tb_exec "$node" ping -M do -s "$size" -c 1 -W 2 "$dst" 2>&1) || true
	grep -q "From $from .*Frag needed and DF set (mtu = $mtu)" <<<"$out" ||
		fail "ping -M do -s $size $node -> $dst: no fragmentation needed (mtu $mtu) from $from: $out"
	echo "    $node -> $dst DF $((size + 28)) bytes: fragmentation needed, mtu $mtu, from $from"
}

# big_ping: 3000 data bytes, DF clear, CN -> MN: it must come back, in fragments
big_ping() {
	tb_exec cn ping -M dont -s 3000 -c 2 -i 0.2 -W 2 -q "$TB_MN_HOME" >/dev/null ||
		fail "DF-clear 3028-byte ping CN -> MN lost"
	echo "    CN -> MN DF-clear 3028 bytes: answered"
}

# the MN's device MTU raised by hand: the next hop that cannot carry 1500 must say so
raised_mtu() {
	local mtu=$1 from=$2
	ip -n "$(tb_ns mn)" link set mip0 mtu 1500
	frag_needed mn "$TB_CN_ADDR" 1472 "$mtu" "$from"
	ip -n "$(tb_ns mn)" link set mip0 mtu "$(jqv mn mtu .tunnel_mtu)"
}

# handover [FA]: move to FA (fa2), registered there, pings both ways
handover() {
	local to=${1:-fa2}
	tb_move "$to" >/dev/null
	tb_wait_registered "$to" 15 || fail "no registration through $to"
	pings
}

# ---- plain Mobile IP ----
export TB_IPSEC=0 TB_REUSE=none
start_iperf "plain Mobile IP (reverse tunnel)"
tunnel_mtu 1480
tcp "plain, fa1"
big_ping
jqa ha counters '.tunnel_mtu_counters.fragmented >= 1 and .tunnel_mtu_counters.icmp_frag_needed == 0'
frag_needed cn "$TB_MN_HOME" 1472 1480 "$TB_HA_ADDR"
jqa ha counters '.tunnel_mtu_counters.icmp_frag_needed == 1'
raised_mtu 1480 "$TB_ALIAS_A"
jqa fa1 counters '.reverse_tunnel_mtu_counters.icmp_frag_needed == 1'
handover
tcp "plain, after hand-over to fa2"
tb_down

# ---- IPsec, renegotiating at each FA ----
export TB_IPSEC=1 TB_REUSE=none TB_ESP_PROPOSAL=aes128-sha1 TB_UDP_ENCAP=false
start_iperf "IPsec aes128-sha1, ESP in IP, no SA reuse"
tunnel_mtu 1422
tcp "IPsec, fa1"
big_ping
jqa fa1 counters '.delivery_mtu_counters.fragmented >= 1 and .delivery_mtu_counters.icmp_frag_needed == 0'
frag_needed cn "$TB_MN_HOME" 1472 1480 "$TB_HA_ADDR"
# 1480 - ESP in IP with AES-CBC and HMAC-SHA1-96: 1438
frag_needed cn "$TB_MN_HOME" 1452 1438 "$TB_FA1_COA"
jqa fa1 counters '.delivery_mtu_counters.icmp_frag_needed == 1'
raised_mtu 1438 "$TB_ALIAS_A"
jqa mn mtu '.mtu_counters.icmp_frag_needed == 1'
# the FA's own packet to the MN, through its TUN and the MN's SA: the error comes back into its stack
frag_needed fa1 "$TB_MN_HOME" 1472 1438 "$TB_MN_HOME"
jqa fa1 sas '.local_mtu_counters.icmp_frag_needed == 1'
handover
tcp "IPsec, after renegotiation at fa2"
tb_down

# ---- SA reuse ----
export TB_REUSE=partial TB_TECHNIQUE=direct
start_iperf "partial SA reuse, direct"
tcp "partial reuse, fa1"
handover
jqa fa2 sas '.reuse_counters.reuse_partial == 1'
tcp "partial reuse, after hand-over to fa2"
tb_down

export TB_REUSE=full TB_ESP_PROPOSAL=aes256gcm16 TB_UDP_ENCAP=true
start_iperf "full SA reuse, direct, AES-GCM in UDP"
# ESP in UDP with AES-GCM: 1500 - 20 - 8 - 8 - 8 - 16 = 1440, padded: 1438
tunnel_mtu 1438
tcp "full reuse, fa1"
handover
jqa fa2 sas '.reuse_counters.reuse_full == 1'
tcp "full reuse, after hand-over to fa2"
frag_needed cn "$TB_MN_HOME" 1472 1480 "$TB_HA_ADDR"
frag_needed cn "$TB_MN_HOME" 1452 1438 "$TB_FA2_COA"
handover fa3
tcp "full reuse, then to fa3 (domain B)"
tb_down

echo "test_tcp: ok"
