#!/bin/bash
# IKE responder rate: mipsa-fa against strongSwan's charon, side by side.
# In two fresh network namespaces joined by a veth (made again for every
# run), tools/ike-load brings up N identities (each its own home address
# 10.200.x.y on the load side, its own ID and PSK: IKEv1 Main Mode with
# PSK, then Quick Mode, C at a time) against:
#   mipsa   mipsa-fa, N peers in its ipsec group keyed by home address
#           (IKE on the alias from the access link, as from visitors; the FA
#           takes IKE from any configured home address, no registration first);
#   charon  charon with kernel-libipsec, N connections in swanctl.conf
#           (remote_addrs and a PSK per identity), on the same address.
# Same proposals on both: IKEv1 aes128-sha1-<group>, ESP aes128-sha1 without
# PFS.  Groups modp2048 and ecp256; round after round, interleaved.  Each run
# starts its responder afresh and reads its utime+stime (/proc/PID/stat) and
# VmRSS (/proc/PID/status) at rest before the load and again once the load
# is done and the responder has gone quiet: CPU per SA and RSS per SA.  Then
# its own count of IPsec SAs (mipsactl sas, swanctl --list-sas) must be N.
#
#   tools/ike-rate.sh [--short] [-n N] [-r ROUNDS] [-c INFLIGHT] [--pin] [--results DIR]
#
# --short: N=20, one round (a smoke run).  --pin: the load on CPU 0, the
# responder (all of charon's threads too) on CPU 1: one core each, so that
# SAs/s compares the responders core for core.  Writes DIR/runs.csv (every
# run; load_cpu_ms_per_sa is ike-load's own CPU, to tell whether the load
# was the limit), DIR/summary.csv (medians, min, max, ratio mipsa/charon),
# prints the table.
# Prints figures and asserts nothing about them; exit 1 with no table when
# charon or swanctl is missing, or a run establishes nothing.  Root.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
bin=${MIPSA_BUILD:-$top}
load=$bin/tools/ike-load
fa_bin=$bin/fa/mipsa-fa
ctl=$bin/tools/mipsactl
charon_bin=${CHARON:-/usr/lib/ipsec/charon}
n=200 rounds=3 inflight=16 results="" pin=()
groups=(modp2048 ecp256)
systems=(mipsa charon)

usage() {
	sed -n '19,19p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 64
}

while (($# > 0)); do
	case $1 in
	--short) n=20 rounds=1 ;;
	-n) n=${2:?}; shift ;;
	-r) rounds=${2:?}; shift ;;
	-c) inflight=${2:?}; shift ;;
	--pin) pin=(taskset -c) ;;
	--results) results=${2:?}; shift ;;
	-h | --help) usage ;;
	*) usage ;;
	esac
	shift
done
[[ $n =~ ^[1-9][0-9]*$ && $rounds =~ ^[1-9][0-9]*$ && $inflight =~ ^[1-9][0-9]*$ ]] || usage
((n <= 5000)) || { echo "ike-rate: -n at most 5000" >&2; exit 64; }

die() {
	echo "ike-rate: $*" >&2
	exit 1
}

[[ $EUID -eq 0 ]] || die "needs root (network namespaces)"
[[ -x $charon_bin ]] || die "$charon_bin is missing (strongSwan: scripts/deps): no comparison to make"
command -v swanctl >/dev/null || die "swanctl is missing (strongSwan: scripts/deps): no comparison to make"
command -v jq >/dev/null || die "jq is missing"
for b in "$load" "$fa_bin" "$ctl"; do
	[[ -x $b ]] || die "$b is missing: build first (scripts/build)"
done

prefix=${TB_PREFIX:-ikr$$}
ns_l=$prefix-load
ns_r=$prefix-resp
RESP=10.199.0.1
LOAD_LINK=10.199.0.2
COA=10.198.0.1
BASE=10.200.0.1
RESP_ID=fa.load.example
CHARON_PLUGINS="random nonce openssl pem pkcs1 pkcs8 x509 pubkey kdf sha1 sha2 hmac aes gmp \
kernel-libipsec kernel-netlink socket-default vici"
seed=$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')
results=${results:-$top/results/ike-rate-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$results"
tmp=$(mktemp -d /tmp/ike-rate.XXXXXX)
chmod 700 "$tmp"
pids=()

# ---- cleanup: our processes by pid, then our two namespaces ----
stop_pid() { # pid: TERM, up to 3 s, then KILL
	local p=$1 _
	kill -TERM "$p" 2>/dev/null || return 0
	for _ in $(seq 60); do
		kill -0 "$p" 2>/dev/null || { wait "$p" 2>/dev/null || true; return 0; }
		sleep 0.05
	done
	kill -KILL "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
}
ns_del() {
	local ns p
	for ns in "$ns_l" "$ns_r"; do
		[[ -e /var/run/netns/$ns ]] || continue
		for p in $(ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$p" 2>/dev/null || true
		done
		ip netns del "$ns" 2>/dev/null || true
	done
}
cleanup() {
	local p
	for p in "${pids[@]}"; do
		stop_pid "$p"
	done
	pids=()
	ns_del
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# ---- the two namespaces: load (the identities' addresses) -- veth -- responder ----
ns_make() {
	ns_del
	ip netns add "$ns_l"
	ip netns add "$ns_r"
	ip -n "$ns_l" link add v-load type veth peer name v-resp netns "$ns_r"
	ip -n "$ns_l" link set lo up
	ip -n "$ns_r" link set lo up
	ip -n "$ns_l" addr add "$LOAD_LINK/24" dev v-load
	ip -n "$ns_r" addr add "$RESP/24" dev v-resp
	ip -n "$ns_r" addr add "$COA/32" dev lo
	# the home addresses, one /32 each, as many mobile nodes on one link
	awk '{ print "address add " $1 "/32 dev v-load" }' "$tmp/ids" | ip -n "$ns_l" -batch -
	ip netns exec "$ns_l" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
	ip netns exec "$ns_r" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
	ip -n "$ns_l" link set v-load up
	ip -n "$ns_r" link set v-resp up
	ip -n "$ns_r" route add 10.200.0.0/16 dev v-resp
}

# ---- the responders' configurations, from the same identities ----
fa_conf() { # group
	local g=$1
	cat <<CONF
fa: {
  access_interface = "v-resp";
  alias_address = "$RESP";
  alias_prefix_length = 24;
  care_of_address = "$COA";
  control_socket = "$tmp/fa.sock";
  log_level = "notice";
  ipsec = {
    local_id = "$RESP_ID";
    ike_proposals = [ "aes128-sha1-$g" ];
    esp_proposals = [ "aes128-sha1" ];
    dpd_interval = 0;
    peers = (
CONF
	awk '{ printf "%s      { address = \"%s\"; id = \"%s\"; psk = \"%s\"; }", (NR > 1 ? ",\n" : ""), $1, $2, $3 }
		END { print "" }' "$tmp/ids"
	printf '    );\n  };\n};\n'
}

swanctl_conf() { # group
	local g=$1
	awk -v resp="$RESP" -v rid="$RESP_ID" -v g="$g" '
	BEGIN { print "connections {" }
	{
		name = "c" NR
		print "  " name " {\n    version = 1\n    local_addrs = " resp "\n    remote_addrs = " $1
		print "    proposals = aes128-sha1-" g
		print "    local {\n      auth = psk\n      id = " rid "\n    }"
		print "    remote {\n      auth = psk\n      id = " $2 "\n    }"
		print "    children {\n      c {\n        local_ts = 0.0.0.0/0"
		print "        esp_proposals = aes128-sha1\n        mode = tunnel\n      }\n    }\n  }"
		id[NR] = $2; psk[NR] = $3
	}
	END {
		print "}\nsecrets {"
		for (i = 1; i <= NR; i++)
			print "  ike-" i " {\n    id-1 = " id[i] "\n    id-2 = " rid "\n    secret = " psk[i] "\n  }"
		print "}"
	}' "$tmp/ids"
}

# ---- responders: start (pid into resp_pid), count their IPsec SAs ----
resp_pid=""
wait_until() { # seconds, command...: poll every 50 ms
	local _
	for _ in $(seq $(($1 * 20))); do
		"${@:2}" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

start_mipsa() { # group
	fa_conf "$1" >"$tmp/fa.conf"
	rm -f "$tmp/fa.sock"
	ip netns exec "$ns_r" ${pin[@]+"${pin[@]}" 1} "$fa_bin" -c "$tmp/fa.conf" >>"$tmp/fa.log" 2>&1 &
	resp_pid=$!
	pids+=("$resp_pid")
	wait_until 5 test -S "$tmp/fa.sock" || { tail -20 "$tmp/fa.log" >&2; die "mipsa-fa did not start"; }
}

start_charon() { # group
	local d=$tmp/charon
	mkdir -p "$d"
	cat >"$d/strongswan.conf" <<EOF
charon {
  load = $CHARON_PLUGINS
  install_routes = yes
  plugins {
    vici { socket = unix://$d/charon.vici }
    # the node's inner and outer address are both its home address
    kernel-libipsec { allow_peer_ts = yes }
  }
  filelog {
    log { path = $d/charon.log
      default = 0
    }
  }
}
# swanctl only talks to charon here: no credentials, no plugins to speak of
swanctl { load = random nonce openssl pem pkcs1 x509 pubkey }
EOF
	swanctl_conf "$1" >"$d/swanctl.conf"
	mkdir -p "$d"/x509 "$d"/x509ca "$d"/private
	rm -f "$d/charon.vici"
	# IKE itself keeps to the main table, not charon's tunnel routes (table 220)
	ip -n "$ns_r" rule add ipproto udp sport 500 lookup main pref 100
	ip -n "$ns_r" rule add ipproto udp sport 4500 lookup main pref 101
	# a private /run: charon's pid file path is fixed
	ip netns exec "$ns_r" ${pin[@]+"${pin[@]}" 1} unshare -m sh -c \
		"mount -t tmpfs none /run && STRONGSWAN_CONF=$d/strongswan.conf exec $charon_bin" \
		>>"$d/charon.out" 2>&1 &
	resp_pid=$!
	pids+=("$resp_pid")
	wait_until 5 test -S "$d/charon.vici" || die "charon did not start"
	wait_until 10 swan --load-all --file "$d/swanctl.conf" >"$d/swanctl.out" ||
		{ cat "$d/swanctl.out" >&2; die "swanctl --load-all failed"; }
	wait_until 5 charon_has_conns || die "charon did not load $n connections"
}

swan() {
	STRONGSWAN_CONF=$tmp/charon/strongswan.conf swanctl "$@" --uri "unix://$tmp/charon/charon.vici"
}
charon_has_conns() {
	[[ $(swan --list-conns | grep -c '^c[0-9]*: IKEv1') -eq $n ]]
}

resp_sas() { # system: the responder's IPsec SA pairs now
	if [[ $1 == mipsa ]]; then
		"$ctl" -s "$tmp/fa.sock" --json sas | jq '.ipsec_sas | length'
	else
		swan --list-sas | grep -c 'INSTALLED' || true
	fi
}

resp_has() { # system, count
	[[ $(resp_sas "$1") -eq $2 ]]
}

# utime+stime in clock ticks; VmRSS in bytes
cpu_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
rss_bytes() { awk '/^VmRSS:/ { print $2 * 1024 }' "/proc/$1/status"; }

# the responder has gone quiet: its CPU time did not move for 100 ms
quiet_cpu() {
	local a b
	a=$(cpu_ticks "$resp_pid")
	sleep 0.1
	b=$(cpu_ticks "$resp_pid")
	[[ $a == "$b" ]]
}

HZ=$(getconf CLK_TCK)
runs=$results/runs.csv
echo "round,group,system,n,ok,failed,wall_s,sas_per_s,cpu_ms_per_sa,rss_per_sa_b,load_cpu_ms_per_sa" >"$runs"

run_one() { # round, group, system
	local r=$1 g=$2 s=$3 out=$results/raw-$1-$2-$3.txt lpid cpu0 cpu1 rss0 rss1 res ok failed wall rate
	local lcpu got
	ns_make
	"start_$s" "$g"
	wait_until 5 quiet_cpu || true
	cpu0=$(cpu_ticks "$resp_pid")
	rss0=$(rss_bytes "$resp_pid")
	ip netns exec "$ns_l" ${pin[@]+"${pin[@]}" 0} "$load" -a "$RESP" -i "$RESP_ID" -b "$BASE" -n "$n" -c "$inflight" \
		-g "$g" -k "$seed" -H >"$out" 2>"$out.err" &
	lpid=$!
	pids+=("$lpid")
	# the tool prints RESULT once every identity is done (each has a deadline)
	wait_until 600 grep -q '^RESULT' "$out" ||
		{ cat "$out" "$out.err" >&2; die "ike-load against $s gave no result"; }
	wait_until 10 quiet_cpu || echo "ike-rate: $s still busy after the load" >&2
	cpu1=$(cpu_ticks "$resp_pid")
	rss1=$(rss_bytes "$resp_pid")
	res=$(grep '^RESULT' "$out")
	field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$res"; }
	ok=$(field ok) failed=$(field failed) wall=$(field wall_s) rate=$(field sas_per_s)
	lcpu=$(field load_cpu_ms_per_sa)
	# every SA the load has must be on the responder too
	wait_until 10 resp_has "$s" "$ok" || true
	got=$(resp_sas "$s")
	echo "responder_sas=$got" >>"$out"
	stop_pid "$lpid"
	stop_pid "$resp_pid"
	[[ $s == charon ]] && cp "$tmp/charon/charon.log" "$results/charon-$r-$g.log" 2>/dev/null
	((ok > 0)) || { cat "$out" "$out.err" >&2; die "round $r $g $s established nothing: no table"; }
	[[ $got -eq $ok ]] || echo "ike-rate: $s has $got IPsec SAs, the load $ok" >&2
	awk -v r="$r" -v g="$g" -v s="$s" -v n="$n" -v ok="$ok" -v f="$failed" -v w="$wall" \
		-v rate="$rate" -v c0="$cpu0" -v c1="$cpu1" -v m0="$rss0" -v m1="$rss1" -v hz="$HZ" \
		-v lc="$lcpu" 'BEGIN {
		printf "%s,%s,%s,%s,%s,%s,%s,%s,%.3f,%.0f,%s\n", r, g, s, n, ok, f, w, rate,
		       (c1 - c0) * 1000 / hz / ok, (m1 - m0) / ok, lc }' >>"$runs"
	printf '  round %s %-8s %-6s %s (responder %s SAs)\n' "$r" "$g" "$s" "${res#RESULT }" "$got"
	grep '^FAILED' "$out" | sed 's/^/    /' || true
}

echo "ike-rate: $n identities, $inflight in flight, $rounds round(s)${pin[*]:+, load on CPU 0 and responder on CPU 1}; results in $results"
((${#pin[@]} == 0)) || command -v taskset >/dev/null || die "--pin needs taskset (util-linux)"
ids_args=(-P -b "$BASE" -n "$n" -k "$seed")
"$load" "${ids_args[@]}" >"$tmp/ids"
for r in $(seq "$rounds"); do
	for g in "${groups[@]}"; do
		for s in "${systems[@]}"; do
			run_one "$r" "$g" "$s"
		done
	done
done
ns_del

summary=$results/summary.csv
awk -F, "$(<"$top/tools/stats.awk")"'
NR > 1 {
	k = $2 "," $3
	rate[k] = rate[k] " " $8; cpu[k] = cpu[k] " " $9; rss[k] = rss[k] " " $10
	oks[k] = oks[k] " " $5; n = $4; rounds[k]++
}
END {
	print "group,system,n,rounds,ok_min,sas_per_s_median,sas_per_s_min,sas_per_s_max,cpu_ms_per_sa_median,cpu_ms_per_sa_min,cpu_ms_per_sa_max,rss_per_sa_b_median,rss_per_sa_b_min,rss_per_sa_b_max,ratio_sas_per_s,ratio_cpu_per_sa,ratio_rss_per_sa"
	split("modp2048 ecp256", gs, " ")
	split("mipsa charon", ss, " ")
	for (i = 1; i <= 2; i++) {
		c = gs[i] ",charon"
		for (j = 1; j <= 2; j++) {
			k = gs[i] "," ss[j]
			if (!(k in rate))
				continue
			rr = median(rate[c]) ? median(rate[k]) / median(rate[c]) : 0
			rc = median(cpu[c]) ? median(cpu[k]) / median(cpu[c]) : 0
			rm = median(rss[c]) ? median(rss[k]) / median(rss[c]) : 0
			printf "%s,%d,%d,%d,%.1f,%.1f,%.1f,%.3f,%.3f,%.3f,%.0f,%.0f,%.0f,%.2f,%.2f,%.2f\n",
			       k, n, rounds[k], lo(oks[k]), median(rate[k]), lo(rate[k]), hi(rate[k]),
			       median(cpu[k]), lo(cpu[k]), hi(cpu[k]), median(rss[k]), lo(rss[k]), hi(rss[k]),
			       rr, rc, rm
		}
	}
}' "$runs" >"$summary"

echo
awk -F, 'NR == 1 {
	printf "%-9s %-7s %5s %22s %20s %22s %7s %7s %7s\n", "group", "system", "ok", "SAs/s (min-max)",
	       "CPU ms/SA (min-max)", "RSS B/SA (min-max)", "x SAs/s", "x CPU", "x RSS"
	next
}
{
	printf "%-9s %-7s %5s %8s (%s-%s) %7s (%s-%s) %8s (%s-%s) %7s %7s %7s\n", $1, $2, $5, $6, $7, $8,
	       $9, $10, $11, $12, $13, $14, $15, $16, $17
}' "$summary" | tee "$results/table.txt"
echo
echo "x: mipsa-fa over charon (medians); SAs/s higher is better, CPU and RSS per SA lower."
echo "CSV: $runs, $summary"
