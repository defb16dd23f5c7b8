/*
 * mipsa-confnames: print every setting a daemon's configuration file may
 * hold, one dotted path a line ("fa.ipsec.peers.psk"), groups included,
 * from the same conf_names tables conf_check holds the file to.
 *   mipsa-confnames fa|ha|mn|dbs
 * tests/man_check.sh compares this list with the daemon's .conf(5) page,
 * so a setting added to a loader without a word in the page fails
 * "make check".
 */
#include "conf.h"
#include "dbs.h"
#include "fa.h"
#include "ha.h"
#include "mn.h"

#include <stdio.h>
#include <string.h>

#define CONFNAMES_DEPTH 8 /* the deepest file has 4 levels (fa.domain.store.port) */

static int confnames_print(const struct conf_names *t, const char *prefix, int depth)
{
	if (depth > CONFNAMES_DEPTH) {
		fprintf(stderr, "mipsa-confnames: %s: tables nested too deep\n", prefix);
		return -1;
	}
	while (t != NULL) {
		const struct conf_names *n = t;

		/* a table ends at an entry without a name, whose sub continues it */
		for (; n->name != NULL; n++) {
			char path[256];
			int len = snprintf(path, sizeof(path), "%s%s%s", prefix,
					   prefix[0] ? "." : "", n->name);

			if (len < 0 || (size_t)len >= sizeof(path)) {
				fprintf(stderr, "mipsa-confnames: %s.%s: path too long\n", prefix,
					n->name);
				return -1;
			}
			printf("%s\n", path);
			if (n->sub != NULL && confnames_print(n->sub, path, depth + 1) < 0)
				return -1;
		}
		t = n->sub;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *daemon;
		const struct conf_names *root;
	} files[] = {
		{"fa", fa_root_names},
		{"ha", ha_root_names},
		{"mn", mn_root_names},
		{"dbs", dbs_root_names},
	};

	if (argc != 2) {
		fprintf(stderr, "usage: mipsa-confnames fa|ha|mn|dbs\n");
		return 2;
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (strcmp(argv[1], files[i].daemon) == 0)
			return confnames_print(files[i].root, "", 0) < 0 ? 1 : 0;
	fprintf(stderr, "mipsa-confnames: '%s' is not fa, ha, mn or dbs\n", argv[1]);
	return 2;
}
