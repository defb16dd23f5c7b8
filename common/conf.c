#include "conf.h"
#include "log.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>

#define CONF_MAC_LEN     6
#define CONF_MAC_STR_LEN (CONF_MAC_LEN * 3 - 1) /* "xx:xx:xx:xx:xx:xx" */

int conf_load(struct conf *c, const char *path)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->path, sizeof(c->path), "%s", path);
	config_init(&c->cfg);
	c->loaded = true;
	errno = 0;
	if (config_read_file(&c->cfg, path) == CONFIG_TRUE)
		return 0;
	/* A reload reads as the daemon's user: say why (a mode, an owner) when the system did. */
	if (config_error_type(&c->cfg) == CONFIG_ERR_FILE_IO)
		snprintf(c->err, sizeof(c->err), "%s: cannot read the file%s%s", path,
			 errno != 0 ? ": " : "", errno != 0 ? strerror(errno) : "");
	else
		snprintf(c->err, sizeof(c->err), "%s:%d: %s",
			 config_error_file(&c->cfg) ? config_error_file(&c->cfg) : path,
			 config_error_line(&c->cfg), config_error_text(&c->cfg));
	return -1;
}

void conf_free(struct conf *c)
{
	if (c->loaded)
		config_destroy(&c->cfg);
	c->loaded = false;
}

const char *conf_error(const struct conf *c)
{
	return c->err;
}

const config_setting_t *conf_root(struct conf *c)
{
	return config_root_setting(&c->cfg);
}

/* "fa.keys.[2].spi": the setting's path from the root, for messages. */
static void conf_setting_path(const config_setting_t *s, char *out, size_t len)
{
	char tmp[256];
	const char *name;

	out[0] = '\0';
	for (; s != NULL && !config_setting_is_root(s); s = config_setting_parent(s)) {
		name = config_setting_name(s);
		if (name != NULL)
			snprintf(tmp, sizeof(tmp), "%s%s%s", name, out[0] ? "." : "", out);
		else
			snprintf(tmp, sizeof(tmp), "[%d]%s%s", config_setting_index(s),
				 out[0] ? "." : "", out);
		snprintf(out, len, "%s", tmp);
	}
}

int conf_fail(struct conf *c, const config_setting_t *s, const char *name, const char *fmt, ...)
{
	char path[256], what[256];
	const char *file = c->path;
	int line = 0;
	va_list ap;

	if (c->err[0] != '\0')
		return -1; /* the first error is the one worth reading */
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	path[0] = '\0';
	if (s != NULL) {
		conf_setting_path(s, path, sizeof(path));
		line = config_setting_source_line(s);
		if (config_setting_source_file(s) != NULL)
			file = config_setting_source_file(s);
	}
	if (name != NULL) {
		size_t n = strlen(path);
		snprintf(path + n, sizeof(path) - n, "%s%s", n ? "." : "", name);
	}
	/* A missing top-level setting has no line (libconfig says 0): name the file only. */
	if (line > 0)
		snprintf(c->err, sizeof(c->err), "%s:%d: setting '%s': %s", file, line, path, what);
	else
		snprintf(c->err, sizeof(c->err), "%s: setting '%s': %s", file, path, what);
	return -1;
}

/* ---- names ---- */

/* The entry for name in a table (and the tables it continues in), or NULL. */
static const struct conf_names *conf_names_find(const struct conf_names *t, const char *name)
{
	for (; t != NULL; t = t->sub)
		for (; t->name != NULL; t++)
			if (strcmp(t->name, name) == 0)
				return t;
	return NULL;
}

/* What grp may hold by the tables conf_check was given (NULL: nothing declared). */
static const struct conf_names *conf_names_of(const struct conf *c, const config_setting_t *grp)
{
	const struct conf_names *up, *n;

	if (config_setting_is_root(grp))
		return c->names;
	up = conf_names_of(c, config_setting_parent(grp));
	if (up == NULL || config_setting_name(grp) == NULL)
		return up; /* an element of a list holds what the list's entry says */
	n = conf_names_find(up, config_setting_name(grp));
	return n != NULL ? n->sub : NULL;
}

#define CONF_NAME_MAX 64

/*
 * Edits (insert, delete, change, swap two neighbours) from a to b, case
 * ignored: "requre" and "reqiure" are both one from "require".  Names
 * longer than CONF_NAME_MAX are never close to anything.
 */
static size_t conf_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	uint8_t d[CONF_NAME_MAX + 1][CONF_NAME_MAX + 1];

	if (la > CONF_NAME_MAX || lb > CONF_NAME_MAX)
		return SIZE_MAX;
	for (size_t i = 0; i <= la; i++)
		d[i][0] = (uint8_t)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (uint8_t)j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			int ca = tolower((unsigned char)a[i - 1]),
			    cb = tolower((unsigned char)b[j - 1]);
			uint8_t v = (uint8_t)(d[i - 1][j - 1] + (ca != cb));
			if (d[i - 1][j] + 1 < v)
				v = (uint8_t)(d[i - 1][j] + 1);
			if (d[i][j - 1] + 1 < v)
				v = (uint8_t)(d[i][j - 1] + 1);
			if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == cb && d[i - 2][j - 2] + 1 < v)
				v = (uint8_t)(d[i - 2][j - 2] + 1);
			d[i][j] = v;
		}
	return d[la][lb];
}

/* An unknown setting: name the closest known one when a third of it or less differs. */
static int conf_unknown(struct conf *c, const config_setting_t *s, const struct conf_names *t)
{
	const char *name = config_setting_name(s), *best = NULL;
	size_t best_d = SIZE_MAX;

	for (; t != NULL; t = t->sub)
		for (; t->name != NULL; t++) {
			size_t d = conf_distance(name, t->name);
			if (d < best_d) {
				best_d = d;
				best = t->name;
			}
		}
	if (best == NULL ||
	    best_d * 3 > (strlen(name) > strlen(best) ? strlen(name) : strlen(best)))
		return conf_fail(c, s, NULL, "unknown");
	return conf_fail(c, s, NULL, "unknown (did you mean '%s'?)", best);
}

static int conf_check_group(struct conf *c, const config_setting_t *grp, const struct conf_names *t)
{
	for (int i = 0; i < config_setting_length(grp); i++) {
		const config_setting_t *s = config_setting_get_elem(grp, (unsigned)i);
		const struct conf_names *n = t;

		if (config_setting_name(s) != NULL) {
			n = conf_names_find(t, config_setting_name(s));
			if (n == NULL)
				return conf_unknown(c, s, t);
			n = n->sub;
		}
		/* A list's elements hold what its entry says; scalars hold nothing. */
		if (n != NULL && config_setting_is_aggregate(s) && conf_check_group(c, s, n) < 0)
			return -1;
	}
	return 0;
}

int conf_check(struct conf *c, const struct conf_names *root)
{
	c->names = root;
	return conf_check_group(c, conf_root(c), root);
}

/* ---- integers as written ---- */

/*
 * libconfig 1.5 reads an integer without an L suffix through atoi(): in a
 * file, 4294967896 is 600 and 99999999999999999999 is -1, without a word.
 * So conf_int takes the number from the file's text, the literal after the
 * setting's name at the line libconfig gives for it, and shows it as
 * written (less an L suffix) when it is out of range.
 */
#define CONF_LITERAL_SHOWN 52 /* a longer literal is cut, with "..." */

static bool conf_name_char(int ch)
{
	return isalnum(ch) || ch == '_' || ch == '-' || ch == '*';
}

/* The whole file as a string; NULL when it cannot be read again. */
static char *conf_slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	char *text = NULL;
	long len;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (text = malloc((size_t)len + 1)) != NULL)
		text[fread(text, 1, (size_t)len, f)] = '\0';
	fclose(f);
	return text;
}

/* Past the string or comment that starts at p; p itself when none does. */
static const char *conf_skip_noise(const char *p)
{
	if (*p == '"') {
		for (p++; *p != '\0' && *p != '"'; p++)
			if (*p == '\\' && p[1] != '\0')
				p++;
		return *p != '\0' ? p + 1 : p;
	}
	if (*p == '#' || (p[0] == '/' && p[1] == '/'))
		return p + strcspn(p, "\n");
	if (p[0] == '/' && p[1] == '*') {
		const char *end = strstr(p + 2, "*/");
		return end != NULL ? end + 2 : p + strlen(p);
	}
	return p;
}

/* Where the value of the nth setting named name from the start of line on begins, or NULL. */
static const char *conf_find_value(const char *text, int line, const char *name, int nth)
{
	const char *p = text, *q;
	size_t n = strlen(name);

	for (int l = 1; l < line && p != NULL; l++)
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	while (p != NULL && *p != '\0') {
		if ((q = conf_skip_noise(p)) != p) {
			p = q;
		} else if (!conf_name_char(*p)) {
			p++;
		} else {
			q = p + n + strspn(p + n, " \t\r\n");
			if (strncmp(p, name, n) == 0 && !conf_name_char(p[n]) &&
			    (*q == '=' || *q == ':') && nth-- == 0)
				return q + 1 + strspn(q + 1, " \t\r\n");
			while (conf_name_char(*p))
				p++;
		}
	}
	return NULL;
}

/* a and b come from the same file (libconfig keeps one name per file; NULL: a string) */
static bool conf_same_file(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/*
 * Settings like s (name, file, line) that come before it in the file,
 * counted into *n.  An aggregate whose next sibling, from the same file,
 * starts above s's line ends above it too: nothing in it can share s's
 * line, and it is not entered, so that a list of thousands of groups (the
 * HA's mobile nodes) costs one pass over it per integer, not one walk of
 * the whole tree.
 */
static bool conf_before_on_line(const config_setting_t *at, const config_setting_t *s, int *n)
{
	const char *f = config_setting_source_file(s);
	int line = (int)config_setting_source_line(s), len = config_setting_length(at);

	for (int i = 0; i < len; i++) {
		const config_setting_t *e = config_setting_get_elem(at, (unsigned)i);
		const config_setting_t *next =
			i + 1 < len ? config_setting_get_elem(at, (unsigned)i + 1) : NULL;
		const char *ef = config_setting_source_file(e);
		if (e == s)
			return true;
		if ((int)config_setting_source_line(e) == line && config_setting_name(e) != NULL &&
		    strcmp(config_setting_name(e), config_setting_name(s)) == 0 &&
		    conf_same_file(ef, f))
			(*n)++;
		if (next != NULL && (int)config_setting_source_line(next) < line &&
		    conf_same_file(config_setting_source_file(next), ef) && conf_same_file(ef, f))
			continue;
		if (config_setting_is_aggregate(e) && conf_before_on_line(e, s, n))
			return true;
	}
	return false;
}

/*
 * The integer literal at p: [-+], decimal digits or 0x and hex digits, L or
 * LL.  Its length (0: not one), and *v when it fits in a long long (*fits).
 */
static size_t conf_literal(const char *p, long long *v, bool *fits)
{
	bool neg = *p == '-';
	size_t i = *p == '-' || *p == '+', start;
	unsigned base = p[i] == '0' && (p[i + 1] == 'x' || p[i + 1] == 'X') ? 16 : 10;
	unsigned long long m = 0;

	*fits = true;
	i += base == 16 ? 2 : 0;
	for (start = i;
	     isxdigit((unsigned char)p[i]) && (base == 16 || isdigit((unsigned char)p[i])); i++) {
		unsigned d = isdigit((unsigned char)p[i])
				     ? (unsigned)(p[i] - '0')
				     : (unsigned)(tolower((unsigned char)p[i]) - 'a' + 10);
		if (m > (ULLONG_MAX - d) / base)
			*fits = false;
		else
			m = m * base + d;
	}
	if (i == start)
		return 0;
	i += p[i] == 'L' ? (p[i + 1] == 'L' ? 2 : 1) : 0;
	if (conf_name_char(p[i]) || p[i] == '.')
		return 0;
	if (m > (unsigned long long)LLONG_MAX + neg)
		*fits = false;
	if (*fits)
		*v = !neg                                     ? (long long)m
		     : m == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN
							      : -(long long)m;
	return i;
}

/*
 * s's integer as written in the file: into *v when it fits in a long long
 * (else false), and as text into shown.  When the text cannot be found
 * (the file is gone, say), libconfig's value stands.
 */
static bool conf_int_written(struct conf *c, const config_setting_t *s, long long *v, char *shown,
			     size_t cap)
{
	const char *file = config_setting_source_file(s), *at = NULL;
	char *text = conf_slurp(file != NULL ? file : c->path);
	size_t len = 0;
	bool fits = true;
	long long lv = 0;
	int nth = 0;

	snprintf(shown, cap, "%lld", *v);
	if (text != NULL) {
		conf_before_on_line(conf_root(c), s, &nth);
		at = conf_find_value(text, config_setting_source_line(s), config_setting_name(s),
				     nth);
		len = at != NULL ? conf_literal(at, &lv, &fits) : 0;
	}
	if (len > 0) {
		size_t digits = len - (at[len - 1] == 'L') - (len > 1 && at[len - 2] == 'L');
		bool cut = digits >= cap - 3;
		snprintf(shown, cap, "%.*s%s", cut ? (int)cap - 4 : (int)digits, at,
			 cut ? "..." : "");
		if (fits)
			*v = lv;
	}
	free(text);
	return len == 0 || fits;
}

/* ---- getters ---- */

static const config_setting_t *conf_member(struct conf *c, const config_setting_t *grp,
					   const char *name, bool required, int *rc)
{
	const config_setting_t *s;

	if (grp == NULL)
		grp = conf_root(c);
	if (c->names != NULL && conf_names_find(conf_names_of(c, grp), name) == NULL) {
		*rc = conf_fail(c, grp, name, "read, but in no table of names (a bug)");
		return NULL;
	}
	s = config_setting_get_member(grp, name);
	if (s == NULL)
		*rc = required ? conf_fail(c, grp, name, "missing") : 1;
	else
		*rc = 0;
	return s;
}

const config_setting_t *conf_group(struct conf *c, const config_setting_t *grp, const char *name,
				   bool required)
{
	int rc;
	const config_setting_t *s = conf_member(c, grp, name, required, &rc);

	if (s != NULL && !config_setting_is_aggregate(s)) {
		conf_fail(c, s, NULL, "expected a group or a list");
		return NULL;
	}
	return s;
}

int conf_str(struct conf *c, const config_setting_t *grp, const char *name, bool required,
	     const char **out)
{
	int rc;
	const config_setting_t *s = conf_member(c, grp, name, required, &rc);

	if (s == NULL)
		return rc;
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return conf_fail(c, s, NULL, "expected a string");
	*out = config_setting_get_string(s);
	return 0;
}

int conf_int(struct conf *c, const config_setting_t *grp, const char *name, bool required,
	     long long min, long long max, long long *out)
{
	int rc;
	long long v;
	char shown[CONF_LITERAL_SHOWN];
	const config_setting_t *s = conf_member(c, grp, name, required, &rc);

	if (s == NULL)
		return rc;
	if (config_setting_type(s) == CONFIG_TYPE_INT)
		v = config_setting_get_int(s);
	else if (config_setting_type(s) == CONFIG_TYPE_INT64)
		v = config_setting_get_int64(s);
	else
		return conf_fail(c, s, NULL, "expected an integer");
	if (!conf_int_written(c, s, &v, shown, sizeof(shown)) || v < min || v > max)
		return conf_fail(c, s, NULL, "%s is outside %lld..%lld", shown, min, max);
	*out = v;
	return 0;
}

int conf_bool(struct conf *c, const config_setting_t *grp, const char *name, bool required,
	      bool *out)
{
	int rc;
	const config_setting_t *s = conf_member(c, grp, name, required, &rc);

	if (s == NULL)
		return rc;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return conf_fail(c, s, NULL, "expected true or false");
	*out = config_setting_get_bool(s) != 0;
	return 0;
}

int conf_addr(struct conf *c, const config_setting_t *grp, const char *name, bool required,
	      struct in_addr *out)
{
	const char *v;
	int rc = conf_str(c, grp, name, required, &v);

	if (rc != 0)
		return rc;
	if (inet_pton(AF_INET, v, out) != 1)
		return conf_fail(c, config_setting_get_member(grp ? grp : conf_root(c), name), NULL,
				 "'%s' is not an IPv4 address", v);
	return 0;
}

int conf_parse_prefix(const char *s, struct in_addr *addr, uint8_t *plen)
{
	char tmp[32];
	char *slash, *end;
	long n;

	if (strlen(s) >= sizeof(tmp))
		return -1;
	strcpy(tmp, s);
	slash = strchr(tmp, '/');
	if (slash == NULL)
		return -1;
	*slash = '\0';
	/* strtol alone would also take " 8", "+8" and "-0": demand a digit first. */
	if (!isdigit((unsigned char)slash[1]))
		return -1;
	n = strtol(slash + 1, &end, 10);
	if (*end != '\0' || n < 0 || n > 32)
		return -1;
	if (inet_pton(AF_INET, tmp, addr) != 1)
		return -1;
	*plen = (uint8_t)n;
	return 0;
}

int conf_prefix(struct conf *c, const config_setting_t *grp, const char *name, bool required,
		struct in_addr *addr, uint8_t *plen)
{
	const char *v;
	int rc = conf_str(c, grp, name, required, &v);

	if (rc != 0)
		return rc;
	if (conf_parse_prefix(v, addr, plen) < 0)
		return conf_fail(c, config_setting_get_member(grp ? grp : conf_root(c), name), NULL,
				 "'%s' is not an IPv4 prefix (a.b.c.d/len)", v);
	return 0;
}

int conf_parse_hex(const char *s, uint8_t *out, size_t max, size_t *len)
{
	size_t n = strlen(s);

	if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		n -= 2;
	}
	if (n % 2 != 0 || n / 2 > max)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;
		if (!isxdigit((unsigned char)s[2 * i]) || !isxdigit((unsigned char)s[2 * i + 1]))
			return -1;
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	*len = n / 2;
	return 0;
}

int conf_hex(struct conf *c, const config_setting_t *grp, const char *name, bool required,
	     uint8_t *out, size_t min, size_t max, size_t *len)
{
	const char *v;
	int rc = conf_str(c, grp, name, required, &v);

	if (rc != 0)
		return rc;
	if (conf_parse_hex(v, out, max, len) < 0 || *len < min)
		return conf_fail(c, config_setting_get_member(grp ? grp : conf_root(c), name), NULL,
				 "expected %zu to %zu bytes of hex", min, max);
	return 0;
}

int conf_parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[CONF_MAC_LEN];
	char extra;

	/*
	 * Exactly "xx:xx:xx:xx:xx:xx" first: sscanf's %2x alone also takes signs,
	 * blanks and single digits, so "-1:00:00:00:00:00" read as ff:00:...
	 */
	if (strlen(s) != CONF_MAC_STR_LEN)
		return -1;
	for (int i = 0; i < CONF_MAC_STR_LEN; i++)
		if (i % 3 == 2 ? s[i] != ':' : !isxdigit((unsigned char)s[i]))
			return -1;
	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &extra) != CONF_MAC_LEN)
		return -1;
	for (int i = 0; i < CONF_MAC_LEN; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

int conf_mac(struct conf *c, const config_setting_t *grp, const char *name, bool required,
	     uint8_t mac[6])
{
	const char *v;
	int rc = conf_str(c, grp, name, required, &v);

	if (rc != 0)
		return rc;
	if (conf_parse_mac(v, mac) < 0)
		return conf_fail(c, config_setting_get_member(grp ? grp : conf_root(c), name), NULL,
				 "'%s' is not a MAC address (xx:xx:xx:xx:xx:xx)", v);
	return 0;
}

int conf_log_level(struct conf *c, const config_setting_t *grp, int *level)
{
	const char *name = "info";
	int r = conf_str(c, grp, "log_level", false, &name);

	if (r < 0)
		return -1;
	*level = log_level_from_name(name);
	if (*level < 0)
		return conf_fail(c, config_setting_get_member(grp, "log_level"), NULL,
				 "'%s' is not one of err, warn, notice, info, debug", name);
	return 0;
}

int conf_strcpy(struct conf *c, const config_setting_t *grp, const char *name, bool required,
		char *out, size_t cap)
{
	const char *v;
	int r = conf_str(c, grp, name, required, &v);

	if (r != 0)
		return r;
	if (strlen(v) >= cap || v[0] == '\0')
		return conf_fail(c, config_setting_get_member(grp, name), NULL,
				 "must be 1 to %zu characters", cap - 1);
	snprintf(out, cap, "%s", v);
	return 0;
}

int conf_uint(struct conf *c, const config_setting_t *grp, const char *name, uint32_t min,
	      uint32_t max, uint32_t *out)
{
	long long v;
	int r = conf_int(c, grp, name, false, min, max, &v);

	if (r == 0)
		*out = (uint32_t)v;
	return r < 0 ? -1 : 0;
}
