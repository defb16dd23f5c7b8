#include "reload.h"

#include "ctl.h"
#include "daemon.h"
#include "log.h"

#include <stdio.h>

static void reload_append(char *list, const char *name)
{
	size_t len = strlen(list), need = (len > 0 ? 2 : 0) + strlen(name);

	if (len >= 3 && strcmp(list + len - 3, "...") == 0)
		return; /* cut short already */
	if (len + need < RELOAD_LIST_MAX) {
		snprintf(list + len, RELOAD_LIST_MAX - len, "%s%s", len > 0 ? ", " : "", name);
		return;
	}
	/* No room for it: say the list goes on, over the end of the last name if need be. */
	memcpy(list + (len + 4 <= RELOAD_LIST_MAX ? len : RELOAD_LIST_MAX - 4), "...", 4);
}

void reload_changed(struct reload_diff *rd, const char *name)
{
	reload_append(rd->changed, name);
}

void reload_restart(struct reload_diff *rd, const char *name)
{
	reload_append(rd->restart, name);
}

int reload_run(reload_fn fn, void *arg, bool dry, struct ctl_out *o, char *err, size_t errlen)
{
	struct reload_diff rd = {{0}, {0}};
	const char *what = dry ? "check" : "reload";
	int r;

	err[0] = '\0';
	if (!dry)
		daemon_notify("RELOADING=1");
	r = fn(arg, dry, &rd, err, errlen);
	if (r == 0 && rd.restart[0] != '\0') {
		snprintf(err, errlen, "%s: changed, and only a restart takes %s", rd.restart,
			 strchr(rd.restart, ',') != NULL ? "them" : "it");
		r = -1;
	}
	if (!dry)
		daemon_notify("READY=1");
	if (r < 0) {
		log_err("%s refused, the running configuration is kept: %s", what,
			err[0] != '\0' ? err : "(no reason given)");
		return -1;
	}
	log_notice("%s: %s%s", what, dry ? "would change " : "changed ",
		   rd.changed[0] != '\0' ? rd.changed : "nothing");
	if (o != NULL) {
		ctl_str(o, "reload", dry ? "checked" : "applied");
		ctl_str(o, "changed", rd.changed);
	}
	return 0;
}

int reload_ctl(const char *daemon, reload_fn fn, void *arg, int argc, char **argv,
	       struct ctl_out *o, char *err, size_t errlen)
{
	bool dry = argc == 2 && strcmp(argv[1], "check") == 0;
	int r;

	if (argc > 2 || (argc == 2 && !dry)) {
		snprintf(err, errlen, "usage: reload [check]");
		return -1;
	}
	ctl_obj_begin(o, NULL);
	ctl_str(o, "daemon", daemon);
	r = reload_run(fn, arg, dry, o, err, errlen);
	ctl_obj_end(o);
	return r;
}
