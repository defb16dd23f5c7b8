# shellcheck shell=bash
#
# What test_dbs.sh and test_dbs_crash.sh share: a mipsa-dbs of their own in
# the dbs namespace, run from a private directory.  Source it after
# testbed/lib.sh and testbed/daemons.sh, with $bin set (the build).
#
#   dbs_run_dir NAME  run=: a new private directory /tmp/mipsa-NAME.XXXXXX
#   dbs_keys NAME...  a random 32-byte key (hex) in $run/NAME each, mode 600
#   dbs_conf LINES    $run/dbs.conf: the address, control socket, data
#                     directory, K_DB ($run/k_db), log level and sandbox
#                     settings, and LINES (members, limits)
#   start_dbs         start mipsa-dbs (dbs_pid), wait for its control socket
#   stop_dbs          SIGTERM it and wait
#   ctl ARGS...       mipsactl on its socket
#   fail MSG          MSG and the tail of the daemon's log; exit 1

dbs_pid=

dbs_run_dir() {
	run=$(mktemp -d "/tmp/mipsa-$1.XXXXXX")
	chmod 700 "$run"
}

dbs_keys() {
	local k
	for k in "$@"; do
		od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$run/$k"
		chmod 600 "$run/$k"
	done
}

dbs_conf() {
	cat >"$run/dbs.conf" <<CONF
dbs: {
  address = "$TB_DBS_ADDR";
  control_socket = "$run/dbs.sock";
  data_dir = "$run/data";
  k_db_file = "$run/k_db";
  log_level = "info";
$1
$(_tb_sandbox_conf)
};
CONF
}

fail() {
	echo "FAIL: $*" >&2
	echo "--- mipsa-dbs log" >&2
	tail -n 30 "$run/dbs.log" >&2 || true
	exit 1
}

ctl() {
	"$bin/tools/mipsactl" -s "$run/dbs.sock" "$@"
}

start_dbs() {
	# not through tb_exec (a function: $! would be a subshell): ip netns exec execs the daemon
	ip netns exec "$(tb_ns dbs)" "$bin/dbs/mipsa-dbs" -c "$run/dbs.conf" >>"$run/dbs.log" 2>&1 &
	dbs_pid=$!
	tb_poll 5 _dbs_answers || fail "mipsa-dbs did not come up"
}

# its control socket answers; it has not exited
_dbs_answers() {
	kill -0 "$dbs_pid" 2>/dev/null || fail "mipsa-dbs exited"
	ctl status >/dev/null 2>&1
}

stop_dbs() {
	[[ -n $dbs_pid ]] || return 0
	kill -TERM "$dbs_pid" 2>/dev/null || true
	wait "$dbs_pid" 2>/dev/null || true
	dbs_pid=
}
