/* What the daemons' mains share: arguments, signals, the sweep timer. */
#ifndef MIPSA_DAEMON_H
#define MIPSA_DAEMON_H

#include <stdbool.h>
#include <stddef.h>

#include "reload.h"

struct ev_loop;
struct ctl_out;

struct daemon_args {
	const char *config;
	bool check_only; /* -t: check the config and exit */
	bool debug;      /* -d: log at debug level */
	bool use_syslog; /* -s: log to syslog */
};

enum daemon_parse {
	DAEMON_ARGS_OK,
	DAEMON_ARGS_HELP,    /* -h, --help */
	DAEMON_ARGS_VERSION, /* -V, --version */
	DAEMON_ARGS_ERROR,   /* err says what is wrong */
};

/* The command line into a, printing nothing (so tests can run it). */
enum daemon_parse daemon_args_parse(int argc, char **argv, struct daemon_args *a, char *err,
				    size_t errlen);
/* As daemon_args_parse; prints usage or the version and exits unless the line is good. */
void daemon_parse_args(int argc, char **argv, const char *name, struct daemon_args *a);
/*
 * To systemd (a unit of Type=notify; nothing without NOTIFY_SOCKET): ready
 * once every socket is open and the privileges dropped, just before the
 * loop; stopping once the loop has ended.
 */
void daemon_ready(void);
void daemon_stopping(void);
/* Any other state to systemd ("RELOADING=1"); a failure is only logged. */
void daemon_notify(const char *state);
/*
 * SIGINT and SIGTERM stop the loop; SIGHUP runs the reload (common/reload.h),
 * whose outcome is logged; SIGPIPE is ignored.  hook must outlive the loop.
 */
int daemon_signals(struct ev_loop *loop, struct reload_hook *hook);
/* SIGHUP alone, for a daemon that stops its own way (mipsa-mn deregisters first). */
int daemon_reload_signal(struct ev_loop *loop, struct reload_hook *hook);

/*
 * Into "counters": the heap (glibc's mallinfo2), so a long run can tell
 * memory held from memory the kernel merely made resident (a socket's
 * ring, say).
 */
void daemon_ctl_memory(struct ctl_out *o);

#endif
