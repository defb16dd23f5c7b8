/*
 * Type=notify: a daemon tells systemd it is ready only once it is, and
 * that it is stopping.  daemon_ready and daemon_stopping alone against a
 * socket of ours as NOTIFY_SOCKET; then the real mipsa-dbs (the daemon
 * that needs nothing but a port and a directory), started as a unit would
 * start it (as root, dropping to its user itself; or already its user, as
 * with User=), must send READY=1 after its privilege drop and filter (a
 * notification the filter killed would show here) and STOPPING=1 at
 * SIGTERM, and exit 0.
 */
#include "check_main.h"
#include "daemon.h"

#include <check.h>
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NOTIFY_WAIT_MS 10000

/*
 * Under AddressSanitizer (scripts/sanitize) the sanitizer's runtime makes
 * system calls at exit that the daemon's filter rightly kills: there the
 * daemon runs without its sandbox, and the ordinary build, in the same CI,
 * checks the notifications under the filter.
 */
#if defined(__SANITIZE_ADDRESS__)
#define NOTIFY_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NOTIFY_UNDER_ASAN 1
#endif
#endif
#ifndef NOTIFY_UNDER_ASAN
#define NOTIFY_UNDER_ASAN 0
#endif

struct notify_sock {
	char dir[64];
	char path[108];
	int fd;
};

/* A datagram socket in a fresh directory, named in NOTIFY_SOCKET. */
static void notify_open(struct notify_sock *n)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};

	snprintf(n->dir, sizeof(n->dir), "/tmp/mipsa-notify.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(n->dir));
	ck_assert_int_eq(chmod(n->dir, 0755), 0);
	snprintf(n->path, sizeof(n->path), "%s/notify", n->dir);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", n->path);
	n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(n->fd, 0);
	ck_assert_int_eq(bind(n->fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	ck_assert_int_eq(chmod(n->path, 0666), 0); /* the daemon sends as its user */
	ck_assert_int_eq(setenv("NOTIFY_SOCKET", n->path, 1), 0);
}

static void notify_close(struct notify_sock *n)
{
	unsetenv("NOTIFY_SOCKET");
	close(n->fd);
	unlink(n->path);
	rmdir(n->dir);
}

/* The next notification, within NOTIFY_WAIT_MS; "" when none came. */
static void notify_next(struct notify_sock *n, char *buf, size_t len)
{
	struct pollfd p = {.fd = n->fd, .events = POLLIN};
	ssize_t r;

	buf[0] = '\0';
	if (poll(&p, 1, NOTIFY_WAIT_MS) != 1)
		return;
	r = recv(n->fd, buf, len - 1, 0);
	if (r > 0)
		buf[r] = '\0';
}

START_TEST(test_ready_and_stopping)
{
	struct notify_sock n;
	char got[256];

	notify_open(&n);
	daemon_ready();
	notify_next(&n, got, sizeof(got));
	ck_assert_str_eq(got, "READY=1");
	daemon_stopping();
	notify_next(&n, got, sizeof(got));
	ck_assert_str_eq(got, "STOPPING=1");
	notify_close(&n);
}
END_TEST

START_TEST(test_no_socket_is_quiet)
{
	unsetenv("NOTIFY_SOCKET");
	daemon_ready(); /* must neither fail nor block without systemd */
	daemon_stopping();
}
END_TEST

/* A mipsa-dbs configuration in dir: a port on the loopback, its log and key there. */
static void dbs_write_conf(const char *dir, const char *user, bool sandbox, char *conf, size_t len)
{
	char key[160];
	FILE *f;

	snprintf(key, sizeof(key), "%s/k_db", dir);
	f = fopen(key, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "%s\n", "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
	fclose(f);
	ck_assert_int_eq(chmod(key, 0600), 0);
	snprintf(conf, len, "%s/dbs.conf", dir);
	f = fopen(conf, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f,
		"dbs: {\n  address = \"127.0.0.1\";\n  port = %u;\n"
		"  control_socket = \"%s/dbs.sock\";\n  data_dir = \"%s/data\";\n"
		"  k_db_file = \"%s\";\n  members = ( \"127.0.0.1\" );\n"
		"  log_level = \"notice\";\n  user = \"%s\";\n  sandbox = %s;\n};\n",
		20000u + (unsigned)(getpid() % 20000), dir, dir, key, user,
		sandbox ? "true" : "false");
	fclose(f);
}

START_TEST(test_dbs_notifies)
{
	bool root = geteuid() == 0;
	struct passwd *nobody = getpwnam("nobody");
	struct notify_sock n;
	char dir[] = "/tmp/mipsa-notify-dbs.XXXXXX", conf[256], got[256];
	int status;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	if (_i == 1 && root && nobody != NULL) /* the unit's StateDirectory is the user's */
		ck_assert_int_eq(chown(dir, nobody->pw_uid, nobody->pw_gid), 0);
	dbs_write_conf(dir, nobody != NULL ? "nobody" : "mipsa",
		       root && nobody != NULL && !NOTIFY_UNDER_ASAN, conf, sizeof(conf));
	if (_i == 1 && root && nobody != NULL) { /* and the key file is too */
		char key[300];
		snprintf(key, sizeof(key), "%s/k_db", dir);
		ck_assert_int_eq(chown(key, nobody->pw_uid, nobody->pw_gid), 0);
	}
	notify_open(&n);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* _i 1: as a unit with User= starts it, already the user */
		if (_i == 1 && root && nobody != NULL &&
		    (setgroups(0, NULL) < 0 ||
		     setresgid(nobody->pw_gid, nobody->pw_gid, nobody->pw_gid) < 0 ||
		     setresuid(nobody->pw_uid, nobody->pw_uid, nobody->pw_uid) < 0))
			_exit(126);
		execl("dbs/mipsa-dbs", "mipsa-dbs", "--config", conf, (char *)NULL);
		_exit(127);
	}
	notify_next(&n, got, sizeof(got));
	ck_assert_msg(strcmp(got, "READY=1") == 0, "mipsa-dbs sent '%s', not READY=1", got);
	ck_assert_int_eq(kill(pid, SIGTERM), 0);
	notify_next(&n, got, sizeof(got));
	ck_assert_msg(strcmp(got, "STOPPING=1") == 0, "mipsa-dbs sent '%s', not STOPPING=1", got);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "mipsa-dbs ended %#x",
		      (unsigned)status);
	notify_close(&n);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static Suite *notify_suite(void)
{
	Suite *s = suite_create("notify");
	TCase *tc = tcase_create("sd_notify");

	tcase_add_test(tc, test_ready_and_stopping);
	tcase_add_test(tc, test_no_socket_is_quiet);
	tcase_add_loop_test(tc, test_dbs_notifies, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_main(notify_suite());
}
