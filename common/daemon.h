/* What the three daemons' mains share: arguments, signals, the sweep timer. */
#ifndef MIPSA_DAEMON_H
#define MIPSA_DAEMON_H

#include <stdbool.h>

struct ev_loop;

struct daemon_args {
	const char *config;
	bool check_only; /* -t: check the config and exit */
	bool debug;      /* -d: log at debug level */
};

/* Parse "-c FILE [-t] [-d]"; prints usage and exits on error or -h. */
void daemon_parse_args(int argc, char **argv, const char *name, struct daemon_args *a);
/* SIGINT and SIGTERM stop the loop; SIGPIPE is ignored. */
int daemon_signals(struct ev_loop *loop);

#endif
