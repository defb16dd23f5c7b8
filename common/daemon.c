#include "config.h"

#include "daemon.h"
#include "evloop.h"
#include "log.h"

#include "ctl.h"

#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <systemd/sd-daemon.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char daemon_usage_text[] =
	"usage: %s -c CONFIG [-t] [-d] [-s]\n"
	"       %s -h | -V\n"
	"  -c, --config CONFIG  libconfig file, see %s.conf(5)\n"
	"  -t, --check          check the configuration and exit (0 when it is good)\n"
	"  -d, --debug          log at debug level, whatever the file's log_level\n"
	"  -s, --syslog         log to syslog (LOG_DAEMON), not to standard error\n"
	"  -h, --help           this text\n"
	"  -V, --version        the version\n";

enum daemon_parse daemon_args_parse(int argc, char **argv, struct daemon_args *a, char *err,
				    size_t errlen)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
					     {"check", no_argument, NULL, 't'},
					     {"debug", no_argument, NULL, 'd'},
					     {"syslog", no_argument, NULL, 's'},
					     {"help", no_argument, NULL, 'h'},
					     {"version", no_argument, NULL, 'V'},
					     {NULL, 0, NULL, 0}};
	int ch;

	memset(a, 0, sizeof(*a));
	err[0] = '\0';
	/* getopt keeps its place in globals: start afresh, and say nothing ourselves */
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":c:tdshV", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			a->config = optarg;
			break;
		case 't':
			a->check_only = true;
			break;
		case 'd':
			a->debug = true;
			break;
		case 's':
			a->use_syslog = true;
			break;
		case 'h':
			return DAEMON_ARGS_HELP;
		case 'V':
			return DAEMON_ARGS_VERSION;
		case ':':
			snprintf(err, errlen, "option %s needs an argument", argv[optind - 1]);
			return DAEMON_ARGS_ERROR;
		default:
			snprintf(err, errlen, "unknown option %s", argv[optind - 1]);
			return DAEMON_ARGS_ERROR;
		}
	}
	if (optind != argc) {
		snprintf(err, errlen, "unexpected argument '%s'", argv[optind]);
		return DAEMON_ARGS_ERROR;
	}
	if (a->config == NULL) {
		snprintf(err, errlen, "no configuration file (-c CONFIG)");
		return DAEMON_ARGS_ERROR;
	}
	return DAEMON_ARGS_OK;
}

void daemon_parse_args(int argc, char **argv, const char *name, struct daemon_args *a)
{
	char err[256];

	switch (daemon_args_parse(argc, argv, a, err, sizeof(err))) {
	case DAEMON_ARGS_OK:
		if (a->use_syslog)
			log_init(name, LOG_LVL_INFO, true);
		return;
	case DAEMON_ARGS_HELP:
		printf(daemon_usage_text, name, name, name);
		exit(0);
	case DAEMON_ARGS_VERSION:
		printf("%s %s\n", name, PACKAGE_VERSION);
		exit(0);
	case DAEMON_ARGS_ERROR:
		break;
	}
	fprintf(stderr, "%s: %s\n", name, err);
	fprintf(stderr, daemon_usage_text, name, name, name);
	exit(1);
}

static void daemon_on_signal(struct ev_loop *loop, int signo, void *arg)
{
	(void)arg;
	log_notice("signal %d: shutting down", signo);
	ev_loop_stop(loop);
}

/* The outcome is in the log (reload_run): nobody is there to answer. */
static void daemon_on_hup(struct ev_loop *loop, int signo, void *arg)
{
	struct reload_hook *h = arg;
	char err[512];

	(void)loop;
	log_notice("signal %d: reloading", signo);
	(void)reload_run(h->fn, h->arg, false, NULL, err, sizeof(err));
}

int daemon_reload_signal(struct ev_loop *loop, struct reload_hook *hook)
{
	if (ev_signal_add(loop, SIGHUP, daemon_on_hup, hook) < 0) {
		log_err("cannot route SIGHUP into the event loop");
		return -1;
	}
	return 0;
}

int daemon_signals(struct ev_loop *loop, struct reload_hook *hook)
{
	signal(SIGPIPE, SIG_IGN);
	if (ev_signal_add(loop, SIGINT, daemon_on_signal, NULL) < 0 ||
	    ev_signal_add(loop, SIGTERM, daemon_on_signal, NULL) < 0) {
		log_err("cannot route signals into the event loop");
		return -1;
	}
	return daemon_reload_signal(loop, hook);
}

/*
 * sd_notify does nothing (0) when the daemon was not started by systemd
 * (no NOTIFY_SOCKET), and the daemon goes on either way: a unit that never
 * hears READY fails by its own timeout, which says more than we could.
 */
void daemon_notify(const char *state)
{
	int r = sd_notify(0, state);

	if (r < 0)
		log_warn("sd_notify \"%s\": %s", state, strerror(-r));
}

void daemon_ready(void)
{
	daemon_notify("READY=1");
}

void daemon_stopping(void)
{
	daemon_notify("STOPPING=1");
}

void daemon_ctl_memory(struct ctl_out *o)
{
	struct mallinfo2 mi = mallinfo2();

	/* What the heap holds (glibc's count), apart from what the kernel has made resident. */
	ctl_obj_begin(o, "memory");
	ctl_u64(o, "heap_in_use_bytes", mi.uordblks + mi.hblkhd);
	ctl_u64(o, "heap_free_bytes", mi.fordblks);
	ctl_u64(o, "heap_mapped_bytes", mi.hblkhd);
	ctl_obj_end(o);
}
