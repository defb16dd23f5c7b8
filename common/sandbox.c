#include "sandbox.h"
#include "log.h"
#include "reload.h"

#include <cap-ng.h>
#include <openssl/crypto.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <pwd.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

/*
 * The system calls every daemon makes at run time, by what makes them.
 * Names, not numbers: libseccomp resolves each for the build's
 * architecture and skips one the architecture lacks (open, on arm64).
 */
static const char *const sandbox_sys_base[] = {
	/* the event loop (its epoll, signalfd and timers were made before) */
	"epoll_wait", "epoll_pwait", "epoll_pwait2", "epoll_ctl", "epoll_create1", "poll", "ppoll",
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "restart_syscall",
	/* AddressSanitizer's runtime asks for the signal stack after some calls (a read) */
	"sigaltstack",
	/* descriptors: reads, writes (stderr, the TUN), closes, flags */
	"read", "readv", "write", "writev", "close", "fcntl", "lseek", "fstat", "newfstatat",
	"statx",
	/* memory: malloc, OpenSSL's secure heap, pcap's ring */
	"brk", "mmap", "munmap", "mremap", "mprotect", "madvise",
	/* time, randomness (OpenSSL's DRBG, IKE nonces and SPIs), identity */
	"clock_gettime", "clock_getres", "gettimeofday", "time", "clock_nanosleep", "nanosleep",
	"getrandom", "getpid", "gettid", "getuid", "geteuid", "getgid", "getegid",
	/* glibc's qsort sizes its buffer by the machine's memory */
	"sysinfo", "futex", "sched_yield",
	/*
	 * Sockets: everything the daemons receive and send (batched: mmsg),
	 * the control socket's clients, the path MTU probe (a connected UDP
	 * socket), netlink, the store's reconnections (hiredis connects anew)
	 */
	"socket", "connect", "bind", "accept", "accept4", "getsockopt", "setsockopt", "getsockname",
	"getpeername", "sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg",
	"shutdown",
	/* the control socket is removed at exit (in a directory the user can write) */
	"unlink", "unlinkat",
	/* the end */
	"exit", "exit_group"};

/*
 * Files opened to write: mipsa-dbs's log and mipsa-ha's state file.  The
 * others open files once they run only to read them, at a reload
 * (sandbox_allow_read_only); OpenSSL's configuration is loaded before the
 * drop (sandbox_enter).
 */
static const char *const sandbox_sys_files[] = {"openat", "open"};
/* mipsa-dbs's compaction: a new log written whole beside the old, renamed over it. */
static const char *const sandbox_sys_rename[] = {"rename", "renameat", "renameat2"};
/* mipsa-ha's state file: each copy rewritten in place and cut to its length. */
static const char *const sandbox_sys_overwrite[] = {"pwrite64", "ftruncate"};
/* mipsa-dbs alone syncs: its append-only log, and the directory after a compaction. */
static const char *const sandbox_sys_sync[] = {"fsync", "fdatasync", "ftruncate"};

struct sandbox_def {
	const char *name;
	unsigned caps[2]; /* 0-terminated: CAP_CHOWN (0) is never kept */
	bool files, rename, overwrite, sync;
};

static const struct sandbox_def sandbox_defs[] = {
	[SANDBOX_FA] = {"mipsa-fa", {CAP_NET_ADMIN, 0}, false, false, false, false},
	[SANDBOX_HA] = {"mipsa-ha", {CAP_NET_ADMIN, 0}, true, false, true, false},
	[SANDBOX_MN] = {"mipsa-mn", {0}, false, false, false, false},
	[SANDBOX_DBS] = {"mipsa-dbs", {0}, true, true, false, true},
};

#define SANDBOX_ALLOW_IF(ctx, on, list)                                                            \
	(!(on) || sandbox_allow(ctx, list, sizeof(list) / sizeof(list[0])) == 0)

const char *sandbox_profile_name(enum sandbox_profile p)
{
	return sandbox_defs[p].name;
}

uint64_t sandbox_caps(enum sandbox_profile p)
{
	uint64_t mask = 0;

	for (size_t i = 0; i < 2 && sandbox_defs[p].caps[i] != 0; i++)
		mask |= UINT64_C(1) << sandbox_defs[p].caps[i];
	return mask;
}

int sandbox_conf_load(struct conf *c, const config_setting_t *grp, struct sandbox_config *sc)
{
	memset(sc, 0, sizeof(*sc));
	sc->enabled = true;
	snprintf(sc->user, sizeof(sc->user), "%s", SANDBOX_USER_DEFAULT);
	/* An empty user is refused (conf_strcpy): "sandbox = false" is the one way to keep root. */
	if (conf_bool(c, grp, "sandbox", false, &sc->enabled) < 0 ||
	    conf_strcpy(c, grp, "user", false, sc->user, sizeof(sc->user)) < 0)
		return -1;
	return 0;
}

void sandbox_conf_diff(const struct sandbox_config *a, const struct sandbox_config *b,
		       struct reload_diff *rd)
{
	RELOAD_FIXED(rd, a, b, enabled, "sandbox");
	RELOAD_FIXED(rd, a, b, user, "user");
}

int sandbox_lookup(struct sandbox_config *sc)
{
	struct passwd *pw;

	if (!sc->enabled)
		return 0;
	errno = 0;
	pw = getpwnam(sc->user);
	if (pw == NULL) {
		log_err("user \"%s\" %s: create it (useradd --system --no-create-home "
			"--shell /usr/sbin/nologin %s), name another with \"user\", or run "
			"unconfined with sandbox = false",
			sc->user, errno != 0 ? strerror(errno) : "does not exist", sc->user);
		return -1;
	}
	if (pw->pw_uid == 0 || pw->pw_gid == 0) {
		log_err("user \"%s\" is root (uid %u, gid %u): name an unprivileged one, or set "
			"sandbox = false",
			sc->user, (unsigned)pw->pw_uid, (unsigned)pw->pw_gid);
		return -1;
	}
	sc->uid = pw->pw_uid;
	sc->gid = pw->pw_gid;
	return 0;
}

/* The profile's capabilities, effective and permitted; nothing inheritable. */
static int sandbox_keep_caps(const struct sandbox_def *def)
{
	capng_clear(CAPNG_SELECT_BOTH);
	for (size_t i = 0; i < 2 && def->caps[i] != 0; i++)
		if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, def->caps[i]) < 0) {
			log_err("capability %u: cannot keep it", def->caps[i]);
			return -1;
		}
	return 0;
}

/*
 * Started as root: become the user, keeping the profile's capabilities
 * through the change; groups dropped, bounding and ambient sets emptied.
 */
static int sandbox_change_id(uid_t uid, gid_t gid, const struct sandbox_def *def)
{
	int r;

	if (sandbox_keep_caps(def) < 0)
		return -1;
	r = capng_change_id((int)uid, (int)gid,
			    CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING | CAPNG_CLEAR_AMBIENT);
	if (r < 0) {
		log_err("changing to uid %u gid %u failed (libcap-ng step %d): %s", (unsigned)uid,
			(unsigned)gid, r, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Started as the user already, with capabilities given from outside (a
 * systemd unit's User= and AmbientCapabilities=, whose
 * CapabilityBoundingSet= bounds them): keep the profile's, drop the rest,
 * ambient included.  The bounding set needs CAP_SETPCAP to shrink, which
 * such a start does not give: it stays the unit's, and no_new_privs and
 * the filter (no execve) leave nothing to gain from it.
 */
static int sandbox_narrow(const struct sandbox_def *def)
{
	if (sandbox_keep_caps(def) < 0)
		return -1;
	if (capng_apply(CAPNG_SELECT_CAPS) < 0) {
		log_err("narrowing the capabilities to the profile's failed: %s", strerror(errno));
		return -1;
	}
	/* Lowering the inheritable set has emptied the ambient one; said outright all the same. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) {
		log_err("emptying the ambient capabilities: %s", strerror(errno));
		return -1;
	}
	if (capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP) == 0)
		log_info("started as uid %u: the bounding set stays the one we were given",
			 (unsigned)getuid());
	return 0;
}

int sandbox_drop(uid_t uid, gid_t gid, enum sandbox_profile p)
{
	const struct sandbox_def *def = &sandbox_defs[p];
	bool started_as_user = getuid() == uid && geteuid() == uid;

	if (!started_as_user && geteuid() != 0) {
		log_err("started as uid %u, which is neither root nor the user (uid %u)",
			(unsigned)geteuid(), (unsigned)uid);
		return -1;
	}
	if (started_as_user ? sandbox_narrow(def) < 0 : sandbox_change_id(uid, gid, def) < 0)
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		log_err("no_new_privs: %s", strerror(errno));
		return -1;
	}
	/* Never trust the drop blindly: root back, or a capability more, is fatal. */
	if (setuid(0) == 0 || getuid() != uid || geteuid() != uid || getgid() != gid) {
		log_err("still able to become root after the drop");
		return -1;
	}
	return 0;
}

static int sandbox_allow(scmp_filter_ctx ctx, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int nr = seccomp_syscall_resolve_name(names[i]);
		if (nr == __NR_SCMP_ERROR)
			continue; /* not on this architecture */
		int r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		if (r < 0) {
			log_err("seccomp: allowing %s: %s", names[i], strerror(-r));
			return -1;
		}
	}
	return 0;
}

/*
 * A reload reads the configuration file again (and the key, certificate
 * and CA files it names) as the daemon's user: a daemon without the file
 * calls above may still open a file, for reading only.
 */
static int sandbox_allow_read_only(scmp_filter_ctx ctx)
{
	const scmp_datum_t mask = O_ACCMODE | O_CREAT | O_TRUNC | O_APPEND;
	const struct {
		const char *name;
		unsigned flags_arg;
	} calls[] = {{"openat", 2}, {"open", 1}};

	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		int nr = seccomp_syscall_resolve_name(calls[i].name);
		if (nr == __NR_SCMP_ERROR)
			continue; /* not on this architecture (open, on arm64) */
		const struct scmp_arg_cmp rdonly = {.arg = calls[i].flags_arg,
						    .op = SCMP_CMP_MASKED_EQ,
						    .datum_a = mask,
						    .datum_b = O_RDONLY};
		int r = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, 1, &rdonly);
		if (r < 0) {
			log_err("seccomp: allowing %s read-only: %s", calls[i].name, strerror(-r));
			return -1;
		}
	}
	return 0;
}

int sandbox_filter(enum sandbox_profile p)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	int r = -1;

	if (ctx == NULL) {
		log_err("seccomp_init failed");
		return -1;
	}
	if (!SANDBOX_ALLOW_IF(ctx, true, sandbox_sys_base) ||
	    !SANDBOX_ALLOW_IF(ctx, sandbox_defs[p].files, sandbox_sys_files) ||
	    (!sandbox_defs[p].files && sandbox_allow_read_only(ctx) < 0) ||
	    !SANDBOX_ALLOW_IF(ctx, sandbox_defs[p].rename, sandbox_sys_rename) ||
	    !SANDBOX_ALLOW_IF(ctx, sandbox_defs[p].overwrite, sandbox_sys_overwrite) ||
	    !SANDBOX_ALLOW_IF(ctx, sandbox_defs[p].sync, sandbox_sys_sync))
		goto out;
	/* abort() signals itself, and only itself (the comparison spelt out: clang
	 * finds SCMP_A0's compound literal short of a field). */
	const struct scmp_arg_cmp self = {
		.arg = 0, .op = SCMP_CMP_EQ, .datum_a = (scmp_datum_t)getpid(), .datum_b = 0};
	r = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(tgkill), 1, &self);
	if (r < 0) {
		log_err("seccomp: allowing tgkill: %s", strerror(-r));
		goto out;
	}
	r = seccomp_load(ctx);
	if (r < 0)
		log_err("seccomp: loading the filter: %s", strerror(-r));
out:
	seccomp_release(ctx);
	return r < 0 ? -1 : 0;
}

int sandbox_enter(const struct sandbox_config *sc, enum sandbox_profile p)
{
	if (!sc->enabled) {
		log_warn("sandbox = false: running as uid %u with every capability, no filter",
			 (unsigned)geteuid());
		return 0;
	}
	/*
	 * What would otherwise open a file at its first use, now rather than
	 * under the filter: glibc's time zone (its first gmtime_r, in every
	 * log line, reads /etc/localtime) and OpenSSL's configuration.
	 */
	tzset();
	if (OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL) != 1) {
		log_err("OpenSSL initialisation failed");
		return -1;
	}
	if (sandbox_drop(sc->uid, sc->gid, p) < 0 || sandbox_filter(p) < 0)
		return -1;
	log_notice("sandbox: user %s (uid %u), capabilities %#llx, seccomp filter %s", sc->user,
		   (unsigned)sc->uid, (unsigned long long)sandbox_caps(p), sandbox_profile_name(p));
	return 0;
}
