# shellcheck shell=bash
#
# What a testbed test needs before it builds anything.  Source it first
# (it only defines functions).  A test that cannot run says why and exits
# 77, which tests/testbed/run-all.sh counts as skipped, never as passed;
# under CI (CI=true, or CI=1) there is no skip: a missing dependency is a
# failure, exit 1.
#
#   tb_ci                 true under CI
#   skip REASON...        exit 77 (exit 1 under CI), saying REASON
#   need_root             skip unless root (the testbed makes namespaces)
#   need_cmd CMD [HINT]   skip unless CMD is on the PATH
#   need_charon           skip unless strongSwan (charon, swanctl) is installed

tb_ci() {
	case ${CI:-} in
	true | TRUE | True | 1) return 0 ;;
	*) return 1 ;;
	esac
}

skip() {
	local name
	name=$(basename "$0")
	if tb_ci; then
		echo "FAIL: $name: $* (CI=$CI: a test that cannot run fails)" >&2
		exit 1
	fi
	echo "SKIP: $name: $*"
	exit 77
}

need_root() {
	[[ $EUID -eq 0 ]] || skip "needs root"
}

need_cmd() {
	command -v "$1" >/dev/null || skip "$1 missing${2:+ ($2)}"
}

# strongSwan as a peer: charon (not on PATH) and swanctl to drive it
need_charon() {
	need_cmd swanctl "strongSwan: scripts/deps"
	[[ -x /usr/lib/ipsec/charon ]] || skip "/usr/lib/ipsec/charon missing (strongSwan: scripts/deps)"
}
