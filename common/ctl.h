/*
 * Control socket: a Unix stream socket per daemon.  A client writes one
 * request line "<text|json> <command> [args...]\n"; the daemon answers a
 * status line ("ok" or "error <reason>") followed by the body, then closes.
 *
 * Bodies are written through struct ctl_out, which renders the same calls
 * as JSON or as text (aligned tables for lists, "key: value" for objects),
 * so the two forms can never disagree.
 */
#ifndef MIPSA_CTL_H
#define MIPSA_CTL_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ev_loop;

#define CTL_MAX_DEPTH 8
#define CTL_MAX_COLS  24

struct ctl_table;

struct ctl_out {
	bool json;
	bool failed; /* out of memory: the reply is replaced by an error */
	char *s;
	size_t len, cap;
	int depth;
	uint8_t kind[CTL_MAX_DEPTH]; /* what each open level is */
	bool first[CTL_MAX_DEPTH];   /* no member written yet at this level */
	struct ctl_table *table;     /* text mode: the list being collected */
	/*
	 * Set by a daemon before its library answers: counters the library
	 * does not keep (its sockets', say), written into the library's
	 * "counters" object through ctl_daemon_counters.
	 */
	void (*daemon_counters)(void *arg, struct ctl_out *o);
	void *daemon_arg;
};

void ctl_out_init(struct ctl_out *o, bool json);
void ctl_out_free(struct ctl_out *o);
/* The finished body (NUL-terminated). */
const char *ctl_out_str(struct ctl_out *o);

/* name is NULL for the root object and for rows of a list. */
void ctl_obj_begin(struct ctl_out *o, const char *name);
void ctl_obj_end(struct ctl_out *o);
void ctl_list_begin(struct ctl_out *o, const char *name);
void ctl_list_end(struct ctl_out *o);
void ctl_str(struct ctl_out *o, const char *name, const char *v);
void ctl_u64(struct ctl_out *o, const char *name, uint64_t v);
void ctl_i64(struct ctl_out *o, const char *name, int64_t v);
void ctl_bool(struct ctl_out *o, const char *name, bool v);
void ctl_addr(struct ctl_out *o, const char *name, struct in_addr a);
void ctl_mac(struct ctl_out *o, const char *name, const uint8_t mac[6]);
/* Inside a library's "counters" object: the daemon's own, when it set daemon_counters. */
void ctl_daemon_counters(struct ctl_out *o);
/* Text mode only: append s as it is (a file's content, e.g. exported keys). */
void ctl_raw(struct ctl_out *o, const char *s);

/* Handler: fill o, return 0, or return -1 with a reason in err. */
typedef int (*ctl_handler)(void *arg, int argc, char **argv, struct ctl_out *o, char *err,
			   size_t errlen);

/*
 * One command of a daemon.  Each daemon's *_ctl.c keeps all its commands in
 * one table, ended by an entry without a name; ctl_dispatch runs them,
 * answers "help" from the table and refuses an unknown name with the list,
 * and doc/control.md is checked against the tables (tests/doc_check.sh).
 */
struct ctl_cmd {
	const char *name;
	const char *args; /* "" or what may follow, e.g. "[esp]" */
	const char *help; /* one line: what the answer holds */
	/*
	 * Fills the answer's root object after its "daemon" member.  NULL for a
	 * command the daemon layer answers before it hands the rest to the
	 * library's table (it is listed all the same).
	 */
	ctl_handler run;
};

/* The command every table answers without an entry of its own. */
#define CTL_HELP "help"

/*
 * Run argv[0] from cmds for daemon (its name, e.g. "mipsa-ha"), giving arg
 * to the command; the answer is one object that starts with "daemon".
 */
int ctl_dispatch(const struct ctl_cmd *cmds, const char *daemon, void *arg, int argc, char **argv,
		 struct ctl_out *o, char *err, size_t errlen);

struct ctl_server;
struct ctl_server *ctl_server_open(struct ev_loop *loop, const char *path, ctl_handler h,
				   void *arg);
void ctl_server_close(struct ctl_server *s);

/* Client side: send one request and collect the reply; returns 0 ok, 1 daemon error, -1 I/O. */
int ctl_request(const char *path, bool json, int argc, char **argv, char **body);

#endif
