/*
 * Least privilege for the daemons (doc/security.md).  A daemon opens,
 * as root, everything that needs root (raw and packet sockets, the TUN,
 * its routes and rules, the control socket, key files), then calls
 * sandbox_enter before its event loop first reads the network:
 *   - it becomes the configured unprivileged user (setting "user"),
 *     without supplementary groups;
 *   - it keeps, effective and permitted, only the capabilities its
 *     profile needs at run time, with empty inheritable, ambient and
 *     bounding sets, and no_new_privs;
 *   - a seccomp filter allows only the system calls of its profile and
 *     kills the process at any other.
 * "sandbox = false" in the daemon's group turns all of it off (debugging).
 */
#ifndef MIPSA_SANDBOX_H
#define MIPSA_SANDBOX_H

#include "conf.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define SANDBOX_USER_DEFAULT "mipsa"
#define SANDBOX_USER_MAX     64

/* The two settings every daemon group accepts, for its conf_names table. */
#define SANDBOX_CONF_NAMES                                                                         \
	{"user", NULL},                                                                            \
	{                                                                                          \
		"sandbox", NULL                                                                    \
	}

enum sandbox_profile {
	SANDBOX_FA,  /* routes for visitors at run time: CAP_NET_ADMIN */
	SANDBOX_HA,  /* a /32 route per binding: CAP_NET_ADMIN */
	SANDBOX_MN,  /* everything opened and set up before: no capability */
	SANDBOX_DBS, /* its log in data_dir, which it owns: no capability */
};

struct sandbox_config {
	bool enabled;                /* "sandbox", default true */
	char user[SANDBOX_USER_MAX]; /* "user", default SANDBOX_USER_DEFAULT */
	uid_t uid;                   /* filled in by sandbox_lookup */
	gid_t gid;
};

/* Read "user" and "sandbox" from the daemon's group (both optional). */
int sandbox_conf_load(struct conf *c, const config_setting_t *grp, struct sandbox_config *sc);
/*
 * Resolve the user (before anything is dropped: it reads the passwd
 * database).  A user that does not exist, or is root, is an error with a
 * message on the log: the daemon refuses to start rather than keep root.
 */
int sandbox_lookup(struct sandbox_config *sc);
/* Reload: "sandbox" and "user" changed take a restart (common/reload.h). */
struct reload_diff;
void sandbox_conf_diff(const struct sandbox_config *a, const struct sandbox_config *b,
		       struct reload_diff *rd);
/* The whole drop, in order: the user and capabilities, then the filter. */
int sandbox_enter(const struct sandbox_config *sc, enum sandbox_profile p);

/* The parts, for the tests. */
int sandbox_drop(uid_t uid, gid_t gid, enum sandbox_profile p);
int sandbox_filter(enum sandbox_profile p);
/* The capabilities the profile keeps, as the bit mask /proc/PID/status shows. */
uint64_t sandbox_caps(enum sandbox_profile p);
const char *sandbox_profile_name(enum sandbox_profile p);

#endif
