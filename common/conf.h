/*
 * libconfig loading with errors that name the file, the line and the
 * setting, e.g.  "fa.conf:12: setting 'fa.care_of_address': not an IPv4
 * address".  Every getter records the first error in conf->err and returns
 * -1, so a daemon can read all its settings and report once.
 */
#ifndef MIPSA_CONF_H
#define MIPSA_CONF_H

#include <libconfig.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The settings a group may hold: each loader declares the names it reads
 * in a table, so that a name no loader reads (a misspelled security switch,
 * say) is an error instead of being ignored.  sub is what a member that is
 * a group, or a list of groups, may hold in turn (NULL for other settings).
 * A table ends at an entry without a name; that entry's sub, when set,
 * continues the table (one loader's names followed by another's).
 */
struct conf_names {
	const char *name;
	const struct conf_names *sub;
};

struct conf {
	config_t cfg;
	char path[256];
	char err[512];
	bool loaded;
	const struct conf_names *names; /* given to conf_check: the file's root group */
};

int conf_load(struct conf *c, const char *path);
/*
 * Every setting of the file, from the root down, must be in root's tables:
 * the first one that is not is an error ("unknown", with the closest known
 * name of its group).  From then on every getter also refuses a name the
 * tables leave out: a loader reading a setting nobody declared is a bug
 * the tests catch.
 */
int conf_check(struct conf *c, const struct conf_names *root);
void conf_free(struct conf *c);
const char *conf_error(const struct conf *c);

/* Record an error about setting s (or the file when s is NULL). Returns -1. */
int conf_fail(struct conf *c, const config_setting_t *s, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* A required group (or list) member of grp; NULL and an error when absent. */
const config_setting_t *conf_group(struct conf *c, const config_setting_t *grp, const char *name,
				   bool required);
const config_setting_t *conf_root(struct conf *c);

/* Getters: 0 when set, 1 when absent and optional (out untouched), -1 on error. */
int conf_str(struct conf *c, const config_setting_t *grp, const char *name, bool required,
	     const char **out);
/*
 * The number as the file writes it, not as libconfig 1.5 read it (wrapped
 * to 32 bits without an L suffix); out of min..max, or beyond 64 bits, the
 * error shows it as written.
 */
int conf_int(struct conf *c, const config_setting_t *grp, const char *name, bool required,
	     long long min, long long max, long long *out);
int conf_bool(struct conf *c, const config_setting_t *grp, const char *name, bool required,
	      bool *out);
int conf_addr(struct conf *c, const config_setting_t *grp, const char *name, bool required,
	      struct in_addr *out);
/* "198.18.0.0/15" */
int conf_prefix(struct conf *c, const config_setting_t *grp, const char *name, bool required,
		struct in_addr *addr, uint8_t *plen);
/* An optional integer setting in min..max; *out keeps its default when absent. */
int conf_uint(struct conf *c, const config_setting_t *grp, const char *name, uint32_t min,
	      uint32_t max, uint32_t *out);
/* A string setting copied into a fixed buffer, with its length checked. */
int conf_strcpy(struct conf *c, const config_setting_t *grp, const char *name, bool required,
		char *out, size_t cap);
/* log_level = "err" | "warn" | "notice" | "info" | "debug" (default info). */
int conf_log_level(struct conf *c, const config_setting_t *grp, int *level);
/* A hex string of min..max bytes, e.g. a key. */
int conf_hex(struct conf *c, const config_setting_t *grp, const char *name, bool required,
	     uint8_t *out, size_t min, size_t max, size_t *len);
/* "02:00:5e:00:01:01" */
int conf_mac(struct conf *c, const config_setting_t *grp, const char *name, bool required,
	     uint8_t mac[6]);

/* Parse helpers shared with command-line tools. */
int conf_parse_hex(const char *s, uint8_t *out, size_t max, size_t *len);
int conf_parse_mac(const char *s, uint8_t mac[6]);
int conf_parse_prefix(const char *s, struct in_addr *addr, uint8_t *plen);

#endif
