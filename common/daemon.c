#include "daemon.h"
#include "evloop.h"
#include "log.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void daemon_usage(const char *name, int status)
{
	fprintf(status ? stderr : stdout,
		"usage: %s -c CONFIG [-t] [-d]\n"
		"  -c CONFIG  libconfig file\n"
		"  -t         check the configuration and exit\n"
		"  -d         log at debug level\n",
		name);
	exit(status);
}

void daemon_parse_args(int argc, char **argv, const char *name, struct daemon_args *a)
{
	int ch;

	memset(a, 0, sizeof(*a));
	while ((ch = getopt(argc, argv, "c:tdh")) != -1) {
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
		case 'h':
			daemon_usage(name, 0);
			break;
		default:
			daemon_usage(name, 1);
		}
	}
	if (a->config == NULL || optind != argc)
		daemon_usage(name, 1);
}

static void daemon_on_signal(struct ev_loop *loop, int signo, void *arg)
{
	(void)arg;
	log_notice("signal %d: shutting down", signo);
	ev_loop_stop(loop);
}

int daemon_signals(struct ev_loop *loop)
{
	signal(SIGPIPE, SIG_IGN);
	if (ev_signal_add(loop, SIGINT, daemon_on_signal, NULL) < 0 ||
	    ev_signal_add(loop, SIGTERM, daemon_on_signal, NULL) < 0) {
		log_err("cannot route signals into the event loop");
		return -1;
	}
	return 0;
}
