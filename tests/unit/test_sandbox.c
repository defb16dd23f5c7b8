/*
 * Unit tests for common/sandbox.c: each daemon's real seccomp filter, in a
 * child that installs it, lets through what the daemon does at run time
 * and kills the child with SIGSYS at a call outside the list (execve,
 * ptrace, ioctl; opening a file or fsync everywhere but in mipsa-dbs).  The privilege drop, when
 * run as root, leaves exactly the profile's capabilities, no bounding or
 * ambient set, the new uid and gid, and no_new_privs, as
 * /proc/self/status shows them.
 */
#include "check_main.h"
#include "sandbox.h"

#include <cap-ng.h>
#include <check.h>
#include <grp.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define N_PROFILES 4
#define NOBODY     65534

/* What a child does under the filter; its return value is its exit status. */
typedef int (*child_fn)(void);

/* Run fn in a child that has installed p's filter; its wait status. */
static int under_filter(enum sandbox_profile p, child_fn fn)
{
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (sandbox_filter(p) < 0)
			_exit(100);
		_exit(fn());
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return status;
}

static void assert_killed(int status, const char *what, enum sandbox_profile p)
{
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS,
		      "%s under %s: expected death by SIGSYS, got status %#x", what,
		      sandbox_profile_name(p), (unsigned)status);
}

static void assert_survived(int status, const char *what, enum sandbox_profile p)
{
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "%s under %s: expected exit 0, got status %#x", what, sandbox_profile_name(p),
		      (unsigned)status);
}

static int do_execve(void)
{
	char *argv[] = {"/bin/true", NULL}, *envp[] = {NULL};

	execve(argv[0], argv, envp);
	return 1; /* refused with an error instead of killed: a failure too */
}

static int do_ptrace(void)
{
	return syscall(SYS_ptrace, PTRACE_TRACEME, 0, NULL, NULL) == 0 ? 2 : 3;
}

static int do_ioctl(void)
{
	int n;

	return ioctl(STDERR_FILENO, FIONREAD, &n) == 0 ? 4 : 5;
}

static int do_fsync(void)
{
	return fsync(STDERR_FILENO) == 0 ? 0 : 0; /* EINVAL on a pipe is fine: it was allowed */
}

static int do_open(void)
{
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

	return fd >= 0 && write(fd, "x", 1) == 1 && close(fd) == 0 ? 0 : 6;
}

/* A state file copy rewritten in place (mipsa-ha): a pipe refuses both, but they were let through.
 */
static int do_overwrite(void)
{
	return pwrite(STDERR_FILENO, "", 0, 0) + ftruncate(STDERR_FILENO, 0) != 0 ? 0 : 0;
}

/* A log compacted beside the old one (mipsa-dbs): ENOENT, but let through. */
static int do_rename(void)
{
	return rename("/nonexistent-mipsa-a", "/nonexistent-mipsa-b") != 0 ? 0 : 0;
}

/* What a reload does under every profile: read the configuration again. */
static int do_open_read(void)
{
	char c;
	int fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);

	return fd >= 0 && read(fd, &c, 1) == 1 && close(fd) == 0 ? 0 : 7;
}

/* Read-only, but creating: a file the read-only rule must not let through. */
static int do_open_creat(void)
{
	int fd = open("/tmp/mipsa-sandbox-creat", O_RDONLY | O_CREAT | O_CLOEXEC, 0600);

	return fd >= 0 ? 0 : 8;
}

/* A daemon's day: time, randomness, a socket, epoll, a signal mask, memory, stderr. */
static int do_daemon_calls(void)
{
	struct timespec ts;
	unsigned char rnd[16];
	sigset_t set;
	int ep, s;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0 || getpid() <= 0 ||
	    getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return 10;
	if (write(STDERR_FILENO, "", 0) != 0)
		return 11;
	ep = epoll_create1(EPOLL_CLOEXEC);
	s = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ep < 0 || s < 0)
		return 12;
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = s};
	struct epoll_event out;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev) < 0 || epoll_wait(ep, &out, 1, 0) != 0)
		return 13;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return 14;
	void *p = malloc(1 << 20); /* mmap */
	if (p == NULL)
		return 15;
	free(p);
	close(s);
	close(ep);
	return 0;
}

START_TEST(test_forbidden_calls_kill)
{
	enum sandbox_profile p = (enum sandbox_profile)_i;

	assert_killed(under_filter(p, do_execve), "execve", p);
	assert_killed(under_filter(p, do_ptrace), "ptrace", p);
	assert_killed(under_filter(p, do_ioctl), "ioctl", p);
}
END_TEST

START_TEST(test_allowed_calls_survive)
{
	enum sandbox_profile p = (enum sandbox_profile)_i;

	assert_survived(under_filter(p, do_daemon_calls), "event loop, file, socket calls", p);
}
END_TEST

/*
 * Files: opened by mipsa-dbs (its log) and mipsa-ha (its state file) alone,
 * synced and renamed by mipsa-dbs alone, rewritten in place by mipsa-ha alone.
 */
START_TEST(test_files_dbs_ha_only)
{
	enum sandbox_profile none[] = {SANDBOX_FA, SANDBOX_MN};

	assert_survived(under_filter(SANDBOX_DBS, do_fsync), "fsync", SANDBOX_DBS);
	assert_survived(under_filter(SANDBOX_DBS, do_open), "open", SANDBOX_DBS);
	assert_survived(under_filter(SANDBOX_DBS, do_rename), "rename", SANDBOX_DBS);
	assert_killed(under_filter(SANDBOX_DBS, do_overwrite), "pwrite", SANDBOX_DBS);
	assert_survived(under_filter(SANDBOX_HA, do_open), "open", SANDBOX_HA);
	assert_survived(under_filter(SANDBOX_HA, do_overwrite), "pwrite, ftruncate", SANDBOX_HA);
	assert_killed(under_filter(SANDBOX_HA, do_fsync), "fsync", SANDBOX_HA);
	assert_killed(under_filter(SANDBOX_HA, do_rename), "rename", SANDBOX_HA);
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		assert_killed(under_filter(none[i], do_fsync), "fsync", none[i]);
		assert_killed(under_filter(none[i], do_open), "open", none[i]);
		assert_killed(under_filter(none[i], do_open_creat), "open O_CREAT", none[i]);
		assert_killed(under_filter(none[i], do_overwrite), "pwrite", none[i]);
		assert_killed(under_filter(none[i], do_rename), "rename", none[i]);
	}
}
END_TEST

/* A reload reads its files again as the user: every profile opens read-only. */
START_TEST(test_read_only_open_survives)
{
	enum sandbox_profile p = (enum sandbox_profile)_i;

	assert_survived(under_filter(p, do_open_read), "open read-only", p);
}
END_TEST

/* One hexadecimal field of /proc/self/status ("CapEff:"), or UINT64_MAX. */
static uint64_t status_hex(const char *field)
{
	char line[256];
	uint64_t v = UINT64_MAX;
	size_t n = strlen(field);
	FILE *f = fopen("/proc/self/status", "re");

	if (f == NULL)
		return v;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, field, n) == 0)
			v = strtoull(line + n, NULL, 16);
	fclose(f);
	return v;
}

/* In the child: 0 if everything is as the profile says, else which check failed. */
static int drop_and_check(enum sandbox_profile p)
{
	uint64_t keep = sandbox_caps(p);

	if (sandbox_drop(NOBODY, NOBODY, p) < 0)
		return 20;
	if (getuid() != NOBODY || geteuid() != NOBODY || getgid() != NOBODY ||
	    getegid() != NOBODY || getgroups(0, NULL) != 0)
		return 21;
	if (status_hex("CapEff:") != keep || status_hex("CapPrm:") != keep)
		return 22;
	if (status_hex("CapInh:") != 0 || status_hex("CapBnd:") != 0 || status_hex("CapAmb:") != 0)
		return 23;
	if (status_hex("NoNewPrivs:") != 1)
		return 24;
	return 0;
}

START_TEST(test_drop_leaves_profile_caps)
{
	enum sandbox_profile p = (enum sandbox_profile)_i;
	int status;

	if (geteuid() != 0) {
		fprintf(stderr, "test_sandbox: not root, the privilege drop is not tried\n");
		return;
	}
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(drop_and_check(p));
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "%s: drop check failed with status %#x", sandbox_profile_name(p),
		      (unsigned)status);
}
END_TEST

/*
 * In the child: become NOBODY keeping capabilities, as systemd's User= with
 * AmbientCapabilities= starts a daemon: the start capabilities effective,
 * permitted, inheritable and ambient.  0 when that worked.
 */
static int start_as_user_with_caps(void)
{
	static const unsigned start_caps[] = {CAP_NET_ADMIN, CAP_NET_RAW, CAP_NET_BIND_SERVICE};

	if (setgroups(0, NULL) < 0 || prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 ||
	    setresgid(NOBODY, NOBODY, NOBODY) < 0 || setresuid(NOBODY, NOBODY, NOBODY) < 0)
		return -1;
	capng_clear(CAPNG_SELECT_CAPS);
	for (size_t i = 0; i < 3; i++)
		if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_INHERITABLE,
				 start_caps[i]) < 0)
			return -1;
	if (capng_apply(CAPNG_SELECT_CAPS) < 0)
		return -1;
	for (size_t i = 0; i < 3; i++)
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, start_caps[i], 0, 0) < 0)
			return -1;
	return status_hex("CapAmb:") == 0 ? -1 : 0;
}

/* In the child: started as the user, the drop narrows to the profile's capabilities. */
static int narrow_and_check(enum sandbox_profile p)
{
	uint64_t keep = sandbox_caps(p);

	if (start_as_user_with_caps() < 0)
		return 30;
	if (sandbox_drop(NOBODY, NOBODY, p) < 0)
		return 31;
	if (getuid() != NOBODY || geteuid() != NOBODY || getgid() != NOBODY)
		return 32;
	if (status_hex("CapEff:") != keep || status_hex("CapPrm:") != keep)
		return 33;
	if (status_hex("CapInh:") != 0 || status_hex("CapAmb:") != 0)
		return 34;
	if (status_hex("NoNewPrivs:") != 1)
		return 35;
	return 0;
}

/* In the child: a start as some other unprivileged user is refused. */
static int other_user_refused(void)
{
	if (start_as_user_with_caps() < 0)
		return 40;
	return sandbox_drop(NOBODY - 1, NOBODY - 1, SANDBOX_FA) == -1 ? 0 : 41;
}

/* fn in a forked child (root only); its exit status must be 0. */
static void in_root_child(int (*fn)(enum sandbox_profile), enum sandbox_profile p, const char *what)
{
	int status;

	if (geteuid() != 0) {
		fprintf(stderr, "test_sandbox: not root, %s is not tried\n", what);
		return;
	}
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(fn(p));
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "%s, %s: failed with status %#x", what, sandbox_profile_name(p),
		      (unsigned)status);
}

START_TEST(test_started_as_user_narrows)
{
	in_root_child(narrow_and_check, (enum sandbox_profile)_i, "a start as the user");
}
END_TEST

static int other_user_refused_p(enum sandbox_profile p)
{
	(void)p;
	return other_user_refused();
}

START_TEST(test_started_as_other_user_refused)
{
	in_root_child(other_user_refused_p, SANDBOX_FA, "a start as another user");
}
END_TEST

START_TEST(test_profile_caps)
{
	uint64_t net_admin = UINT64_C(1) << CAP_NET_ADMIN;

	ck_assert_uint_eq(sandbox_caps(SANDBOX_FA), net_admin);
	ck_assert_uint_eq(sandbox_caps(SANDBOX_HA), net_admin);
	ck_assert_uint_eq(sandbox_caps(SANDBOX_MN), 0);
	ck_assert_uint_eq(sandbox_caps(SANDBOX_DBS), 0);
}
END_TEST

/*
 * Under AddressSanitizer (scripts/sanitize) the sanitizer's own runtime makes
 * system calls the daemons never make, and the filter rightly kills it: a
 * filtered child cannot be expected to survive there.  The kills are still
 * checked; the survivals are checked by the ordinary build, in the same CI.
 */
#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_UNDER_ASAN 1
#endif
#endif
#ifndef SANDBOX_UNDER_ASAN
#define SANDBOX_UNDER_ASAN 0
#endif

static Suite *sandbox_suite(void)
{
	Suite *s = suite_create("sandbox");
	TCase *tc = tcase_create("filter and drop");

	tcase_add_loop_test(tc, test_forbidden_calls_kill, 0, N_PROFILES);
	tcase_add_loop_test(tc, test_read_only_open_survives, 0, N_PROFILES);
	if (!SANDBOX_UNDER_ASAN) {
		tcase_add_loop_test(tc, test_allowed_calls_survive, 0, N_PROFILES);
		tcase_add_test(tc, test_files_dbs_ha_only);
	} else {
		fprintf(stderr, "test_sandbox: under AddressSanitizer: the survivals are the "
				"ordinary build's to check\n");
	}
	tcase_add_loop_test(tc, test_drop_leaves_profile_caps, 0, N_PROFILES);
	tcase_add_loop_test(tc, test_started_as_user_narrows, 0, N_PROFILES);
	tcase_add_test(tc, test_started_as_other_user_refused);
	tcase_add_test(tc, test_profile_caps);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_main(sandbox_suite());
}
