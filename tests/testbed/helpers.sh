# shellcheck shell=bash
#
# Helpers the testbed tests share.  Source after testbed/lib.sh and
# testbed/daemons.sh.
#
#   fail MSG...               print MSG and the tail of every daemon log, exit 1
#   jqa NODE CMD FILTER       mipsactl NODE --json CMD must satisfy the jq FILTER
#   jqv NODE CMD FILTER       print the value of FILTER over mipsactl NODE --json CMD
#   ike_msgs                  IKE messages the MN has sent and received so far

fail() {
	echo "FAIL: $*" >&2
	local f
	for f in "$TB_RUN"/*.log; do
		[[ -f $f ]] || continue
		echo "--- $f" >&2
		tail -n 15 "$f" >&2
	done
	exit 1
}

jqa() {
	local node=$1 cmd=$2 filter=$3 out
	out=$(tb_ctl "$node" --json "$cmd") || fail "mipsactl $node $cmd"
	jq -e "$filter" >/dev/null <<<"$out" || fail "$node $cmd: expected $filter, got $out"
}

jqv() {
	local node=$1 cmd=$2 filter=$3 out
	out=$(tb_ctl "$node" --json "$cmd") || fail "mipsactl $node $cmd"
	jq -r "$filter" <<<"$out"
}

ike_msgs() {
	jqv mn sas '.ike_counters.rx_messages + .ike_counters.tx_messages'
}
