# shellcheck shell=bash
#
# Helpers the testbed tests share.  Source after testbed/lib.sh and
# testbed/daemons.sh.
#
#   fail MSG...               print MSG and the tail of every daemon log, exit 1
#   start DESC...             print DESC, build the testbed, start the daemons with the
#                             TB_* settings in force, registered through fa1, pings
#   jqa NODE CMD FILTER       mipsactl NODE --json CMD must satisfy the jq FILTER
#   jqv NODE CMD FILTER       print the value of FILTER over mipsactl NODE --json CMD
#   jqa_within S NODE CMD FILTER  as jqa, once FILTER holds, within S seconds
#   ike_msgs                  IKE messages the MN has sent and received so far
#   pings                     two pings CN -> MN and MN -> CN must come back
#   has_sas FA / no_sas FA    the FA has (one ISAKMP SA and one IPsec SA pair
#                             with the MN) / has no SAs at all
#   within WHAT SECS CMD...   CMD succeeds within SECS seconds, else fail WHAT
#   jq_ok NODE CMD FILTER     as jqa, but true or false instead of failing
#   capture / capture_stop    tshark on an FA's access link, started and stopped
#                             so that nothing is missing from the file
#   pcap_count FILE FILTER    frames in a capture matching a display filter
#   pcap_has FILE FILTER N    at least N of them
#
# A test that passes removes its run directory ($TB_RUN: the daemons' logs,
# configurations and captures) on its way out; a failed one keeps it.
# TB_RM_RUN=0 keeps it always.
#
# Never sleep for a daemon to have done something: poll for it with a
# deadline (jqa_within, within, capture_stop), so that the tests hold on a
# loaded machine.

TB_RM_RUN=${TB_RM_RUN:-1}

fail() {
	echo "FAIL: $*" >&2
	local f
	# charon's packet dumps left out
	for f in "$TB_RUN"/*.log "$TB_RUN"/charon-*/charon.log; do
		[[ -f $f ]] || continue
		echo "--- $f" >&2
		grep -v "=>\|\[[A-Z]*\] *[0-9]*: " "$f" | tail -n 15 >&2
	done
	exit 1
}

start() {
	echo "--- $*"
	tb_up
	tb_start_daemons
	tb_wait_registered fa1 15 || fail "no registration through fa1"
	pings
}

jqa() {
	local node=$1 cmd=$2 filter=$3 out
	out=$(tb_ctl "$node" --json "$cmd") || fail "mipsactl $node $cmd"
	jq -e "$filter" >/dev/null <<<"$out" || fail "$node $cmd: expected $filter, got $out"
}

jqa_within() {
	local deadline=$((SECONDS + $1)) node=$2 cmd=$3 filter=$4 out
	while out=$(tb_ctl "$node" --json "$cmd") && ! jq -e "$filter" >/dev/null <<<"$out"; do
		((SECONDS < deadline)) || fail "$node $cmd: expected $filter within $1 s, got $out"
		sleep 0.05
	done
	[[ -n $out ]] || fail "mipsactl $node $cmd"
}

jqv() {
	local node=$1 cmd=$2 filter=$3 out
	out=$(tb_ctl "$node" --json "$cmd") || fail "mipsactl $node $cmd"
	jq -r "$filter" <<<"$out"
}

ike_msgs() {
	jqv mn sas '.ike_counters.rx_messages + .ike_counters.tx_messages'
}

pings() {
	tb_exec cn ping -c 2 -i 0.1 -W 2 -q "$TB_MN_HOME" >/dev/null || fail "ping CN -> MN"
	tb_exec mn ping -c 2 -i 0.1 -W 2 -q "$TB_CN_ADDR" >/dev/null || fail "ping MN -> CN"
}

has_sas() {
	jqa "$1" sas "([.isakmp_sas[] | select(.state == \"established\")] | length == 1) and ([.ipsec_sas[] | select(.remote_ts == \"$TB_MN_HOME/32\")] | length == 1)"
}

no_sas() {
	jqa "$1" sas '([.isakmp_sas[] | select(.state == "established")] | length == 0) and (.ipsec_sas | length == 0)'
}

# capture NODE FILE [FILTER [IFACE...]]: tshark on NODE's IFACEs (default
# acc0) into FILE, returning only once it captures: a probe (UDP to the
# discard port, between addresses no test uses) injected on the access
# bridge's stub port must be in the file.  Sets cap_pid.
capture() {
	local node=$1 file=$2 filter=${3:-} ifaces=("${@:4}") args=() i
	command -v tshark >/dev/null || fail "tshark missing (scripts/deps)"
	[[ ${#ifaces[@]} -gt 0 ]] || ifaces=(acc0)
	for i in "${ifaces[@]}"; do args+=(-i "$i"); done
	[[ -z $filter ]] || args+=(-f "($filter) or (udp dst port 9 and host 198.18.99.99)")
	ip netns exec "$(tb_ns "$node")" tshark "${args[@]}" -w "$file" -q 2>/dev/null &
	cap_pid=$!
	_cap_probed "$node" "$file" 0 || fail "the capture on $node did not start within 10 s"
}

# capture_stop NODE FILE [PID]: stop the capture of NODE's acc0 into FILE
# (PID, default $cap_pid) once FILE holds every frame that crossed acc0
# before the call: a probe sent after them must be in it (one interface's
# frames reach the file in order).  A frame counted at either end of the
# access link has crossed acc0.
capture_stop() {
	local node=$1 file=$2 pid=${3:-$cap_pid}
	_cap_probed "$node" "$file" "$(_cap_probes "$file")" ||
		fail "the capture on $node still lags after 10 s"
	kill -TERM "$pid"
	wait "$pid" || true
}

# _cap_probed NODE FILE N: true once FILE holds more than N probes (one sent
# every second), false after 10 s
_cap_probed() {
	local node=$1 file=$2 n=$3 i
	for i in $(seq 0 99); do
		((i % 10)) || tb_exec "$node" "$TB_BIN/tools/mipsa-inject" udp --dev accstub-peer \
			--dst-mac ff:ff:ff:ff:ff:ff --src 198.18.99.98 --dst 198.18.99.99 \
			--sport 9 --dport 9 --hex 00 >/dev/null 2>&1 || true
		[[ -s $file ]] && (($(_cap_probes "$file") > n)) && return 0
		sleep 0.1
	done
	return 1
}

_cap_probes() {
	pcap_count "$1" "udp.dstport == 9 && ip.dst == 198.18.99.99"
}

# pcap_count FILE FILTER: the frames of FILE (a capture still running, too)
# that match the display FILTER
pcap_count() {
	tshark -r "$1" -Y "$2" 2>/dev/null | wc -l
}

# pcap_has FILE FILTER N: FILE holds at least N frames matching FILTER
pcap_has() {
	(($(pcap_count "$1" "$2") >= $3))
}

# within WHAT SECS CMD...: CMD succeeds within SECS seconds (polled), else fail
within() {
	local what=$1 secs=$2
	shift 2
	tb_poll "$secs" "$@" || fail "$what: still not so after $secs s"
}

# jq_ok NODE CMD FILTER: true when mipsactl NODE --json CMD satisfies FILTER
jq_ok() {
	local out
	out=$(tb_ctl "$1" --json "$2" 2>/dev/null) || return 1
	jq -e "$3" >/dev/null <<<"$out"
}
