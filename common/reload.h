/*
 * Reload: what SIGHUP and "mipsactl reload" share.  A daemon re-reads its
 * file exactly as it does at start, compares the result with what runs,
 * and either applies the settings that may change live or refuses the
 * whole file: a broken file (the usual file:line message) or a changed
 * setting that only a restart can take (an address, an interface, a
 * socket).  Refused, the daemon goes on with the configuration it had.
 * "reload check" does everything but apply (BIRD's "configure check").
 */
#ifndef MIPSA_RELOAD_H
#define MIPSA_RELOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct ctl_out;

#define RELOAD_LIST_MAX 512

/* What a reload found different, as comma-separated setting names. */
struct reload_diff {
	char changed[RELOAD_LIST_MAX]; /* applied live */
	char restart[RELOAD_LIST_MAX]; /* refused: take a restart */
};

/* Add a name to one of the lists (cut short with "..." when full). */
void reload_changed(struct reload_diff *rd, const char *name);
void reload_restart(struct reload_diff *rd, const char *name);

/* Two arrays of n and m items of size bytes: their lengths or their bytes differ. */
static inline bool reload_arrays_differ(const void *a, size_t n, const void *b, size_t m,
					size_t size)
{
	return n != m || (n > 0 && memcmp(a, b, n * size) != 0);
}

/* Field f of two structs, byte for byte (both zeroed before loading: no stray padding). */
#define RELOAD_DIFFERS(a, b, f) (memcmp(&(a)->f, &(b)->f, sizeof((a)->f)) != 0)
/* A setting applied live, and one that only a restart takes. */
#define RELOAD_LIVE(rd, a, b, f, name)                                                             \
	do {                                                                                       \
		if (RELOAD_DIFFERS(a, b, f))                                                       \
			reload_changed(rd, name);                                                  \
	} while (0)
#define RELOAD_FIXED(rd, a, b, f, name)                                                            \
	do {                                                                                       \
		if (RELOAD_DIFFERS(a, b, f))                                                       \
			reload_restart(rd, name);                                                  \
	} while (0)

/*
 * A daemon's reload: read the file into fresh structures, fill rd, and
 * unless dry (or rd->restart is not empty) apply it.  0; or -1 with why
 * in err and the running configuration untouched.
 */
typedef int (*reload_fn)(void *arg, bool dry, struct reload_diff *rd, char *err, size_t errlen);

/* A daemon's reload with its argument, for SIGHUP (daemon_signals); lives as long as the loop. */
struct reload_hook {
	reload_fn fn;
	void *arg;
};

/*
 * Run one (from SIGHUP, dry false, o NULL; or from the control socket):
 * refuses when rd->restart is not empty, tells systemd RELOADING=1 and
 * READY=1 around a real one, logs the outcome, and answers o with
 * "reload" ("applied", "checked") and "changed".  0 or -1 (err).
 */
int reload_run(reload_fn fn, void *arg, bool dry, struct ctl_out *o, char *err, size_t errlen);

/* The control command ("reload" or "reload check"), answered as daemon's.  0 or -1 (err). */
int reload_ctl(const char *daemon, reload_fn fn, void *arg, int argc, char **argv,
	       struct ctl_out *o, char *err, size_t errlen);

#endif
