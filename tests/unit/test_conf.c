/*
 * Unit tests for common/conf.c: every error names the file, the line and the
 * full setting path (groups and list elements, e.g. 'mn.keys.[1].spi').
 * Each test writes its configuration into a fresh temporary directory.
 */
#include "check_main.h"
#include "conf.h"

#include <arpa/inet.h>
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmpdir[64];
static char files[8][128];
static int nfiles;

static void setup(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/test_conf.XXXXXX",
		 base && strlen(base) < 40 ? base : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	nfiles = 0;
}

static void teardown(void)
{
	for (int i = 0; i < nfiles; i++)
		unlink(files[i]);
	rmdir(tmpdir);
}

/* Write text to name in the temporary directory; returns the full path. */
static const char *write_file(const char *name, const char *text)
{
	char want[128];
	char *path = NULL;

	snprintf(want, sizeof(want), "%s/%s", tmpdir, name);
	for (int i = 0; i < nfiles && path == NULL; i++)
		if (strcmp(files[i], want) == 0)
			path = files[i]; /* rewritten: one slot per name */
	if (path == NULL) {
		ck_assert_int_lt(nfiles, 8);
		path = files[nfiles++];
		snprintf(path, sizeof(files[0]), "%s", want);
	}
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
	return path;
}

/* The error conf_fail would produce: "<path>:<line>: setting '<name>': <what>". */
static void assert_err(const struct conf *c, const char *path, int line, const char *setting,
		       const char *what)
{
	char want[600];

	if (line > 0)
		snprintf(want, sizeof(want), "%s:%d: setting '%s': %s", path, line, setting, what);
	else
		snprintf(want, sizeof(want), "%s: setting '%s': %s", path, setting, what);
	ck_assert_str_eq(conf_error(c), want);
}

/* A configuration exercising nested groups and a list of groups. */
static const char *const sample =
	"# line 1\n"
	"mn = {\n"                                                          /* 2 */
	"  home_address = \"10.0.0.5\";\n"                                  /* 3 */
	"  home_prefix = \"10.0.0.0/24\";\n"                                /* 4 */
	"  lifetime = 300;\n"                                               /* 5 */
	"  keys = (\n"                                                      /* 6 */
	"    { spi = 256; key = \"00112233445566778899aabbccddeeff\"; },\n" /* 7 */
	"    { spi = 12;\n"                                                 /* 8 */
	"      key = \"zz\"; }\n"                                           /* 9 */
	"  );\n"                                                            /* 10 */
	"  mac = \"02:00:5e:00:01:01\";\n"                                  /* 11 */
	"  reverse = true;\n"                                               /* 12 */
	"  big = 4294967295L;\n"                                            /* 13 */
	"  ratio = 1.5;\n"                                                  /* 14 */
	"  name = \"mn1\";\n"                                               /* 15 */
	"  tunnel = { mtu = 1400; peer = \"10.0.0.300\"; };\n"              /* 16 */
	"};\n";                                                             /* 17 */

static void load_sample(struct conf *c, const char **path)
{
	*path = write_file("mn.conf", sample);
	ck_assert_int_eq(conf_load(c, *path), 0);
	ck_assert_str_eq(conf_error(c), "");
}

/* ---- loading ---- */

START_TEST(test_syntax_error_names_file_and_line)
{
	const char *p = write_file("bad.conf", "a = 1;\nb = 2;\nc = ;\nd = 4;\n");
	struct conf c;
	char want[300];

	ck_assert_int_eq(conf_load(&c, p), -1);
	snprintf(want, sizeof(want), "%s:3: syntax error", p);
	ck_assert_str_eq(conf_error(&c), want);
	conf_free(&c);
	conf_free(&c); /* twice is harmless */
}
END_TEST

START_TEST(test_missing_file)
{
	struct conf c;
	char p[200], want[300];

	snprintf(p, sizeof(p), "%s/absent.conf", tmpdir);
	ck_assert_int_eq(conf_load(&c, p), -1);
	snprintf(want, sizeof(want), "%s: cannot read the file: No such file or directory", p);
	ck_assert_str_eq(conf_error(&c), want);
	conf_free(&c);
}
END_TEST

START_TEST(test_syntax_error_in_included_file)
{
	char inc[400];
	struct conf c;
	char want[300];

	const char *sub = write_file("sub.conf", "x = 1;\ny = ;\n");
	snprintf(inc, sizeof(inc), "a = 1;\n@include \"%s\"\n", sub);
	const char *top = write_file("top.conf", inc);
	ck_assert_int_eq(conf_load(&c, top), -1);
	/* The included file and its line, not the top file's. */
	ck_assert_ptr_nonnull(strstr(conf_error(&c), sub));
	snprintf(want, sizeof(want), "%s:2: ", sub);
	ck_assert_msg(strncmp(conf_error(&c), want, strlen(want)) == 0, "got '%s'", conf_error(&c));
	conf_free(&c);
}
END_TEST

/* Load "<group> = { @include <group>.inc };" with inner in <group>.inc; the included file's path.
 */
static const char *load_included(struct conf *c, const char *group, const char *inner)
{
	char name[32], inc[400];

	snprintf(name, sizeof(name), "%s.inc", group);
	const char *sub = write_file(name, inner);
	snprintf(inc, sizeof(inc), "%s = {\n  @include \"%s\"\n};\n", group, sub);
	snprintf(name, sizeof(name), "%s.conf", group);
	ck_assert_int_eq(conf_load(c, write_file(name, inc)), 0);
	return sub;
}

START_TEST(test_setting_error_in_included_file)
{
	struct conf c;
	long long v = 0;

	const char *sub = load_included(&c, "ha", "\n\nlifetime = 0;\n");
	const config_setting_t *ha = conf_group(&c, NULL, "ha", true);
	ck_assert_ptr_nonnull(ha);
	ck_assert_int_eq(conf_int(&c, ha, "lifetime", true, 1, 65535, &v), -1);
	assert_err(&c, sub, 3, "ha.lifetime", "0 is outside 1..65535");
	conf_free(&c);
}
END_TEST

/* ---- getters: success ---- */

START_TEST(test_getters_ok)
{
	const char *p, *s = NULL;
	struct conf c;
	long long v = 0;
	bool b = false;
	struct in_addr a;
	uint8_t plen = 0, key[16], mac[6];
	size_t klen = 0;

	load_sample(&c, &p);
	const config_setting_t *mn = conf_group(&c, NULL, "mn", true);
	ck_assert_ptr_nonnull(mn);
	ck_assert_int_eq(conf_addr(&c, mn, "home_address", true, &a), 0);
	ck_assert_uint_eq(a.s_addr, htonl(0x0a000005));
	ck_assert_int_eq(conf_prefix(&c, mn, "home_prefix", true, &a, &plen), 0);
	ck_assert_uint_eq(a.s_addr, htonl(0x0a000000));
	ck_assert_uint_eq(plen, 24);
	ck_assert_int_eq(conf_int(&c, mn, "lifetime", true, 1, 65535, &v), 0);
	ck_assert_int_eq(v, 300);
	ck_assert_int_eq(conf_int(&c, mn, "big", true, 0, 4294967295LL, &v), 0);
	ck_assert_int_eq(v, 4294967295LL);
	ck_assert_int_eq(conf_bool(&c, mn, "reverse", true, &b), 0);
	ck_assert(b);
	ck_assert_int_eq(conf_str(&c, mn, "name", true, &s), 0);
	ck_assert_str_eq(s, "mn1");
	ck_assert_int_eq(conf_mac(&c, mn, "mac", true, mac), 0);
	const uint8_t want_mac[6] = {0x02, 0x00, 0x5e, 0x00, 0x01, 0x01};
	ck_assert_mem_eq(mac, want_mac, 6);

	const config_setting_t *keys = conf_group(&c, mn, "keys", true);
	ck_assert_ptr_nonnull(keys);
	const config_setting_t *k0 = config_setting_get_elem(keys, 0);
	ck_assert_int_eq(conf_int(&c, k0, "spi", true, 256, 4294967295LL, &v), 0);
	ck_assert_int_eq(v, 256);
	ck_assert_int_eq(conf_hex(&c, k0, "key", true, key, 16, 16, &klen), 0);
	ck_assert_uint_eq(klen, 16);
	ck_assert_uint_eq(key[0], 0x00);
	ck_assert_uint_eq(key[15], 0xff);
	ck_assert_str_eq(conf_error(&c), "");
	conf_free(&c);
}
END_TEST

START_TEST(test_optional_absent)
{
	const char *p, *s = "untouched";
	struct conf c;
	long long v = 77;
	bool b = true;
	struct in_addr a = {.s_addr = 0x01020304};
	uint8_t plen = 9, mac[6] = {9, 9, 9, 9, 9, 9}, key[4];
	size_t klen = 5;

	load_sample(&c, &p);
	const config_setting_t *mn = conf_group(&c, NULL, "mn", true);
	ck_assert_int_eq(conf_str(&c, mn, "nope", false, &s), 1);
	ck_assert_int_eq(conf_int(&c, mn, "nope", false, 0, 1, &v), 1);
	ck_assert_int_eq(conf_bool(&c, mn, "nope", false, &b), 1);
	ck_assert_int_eq(conf_addr(&c, mn, "nope", false, &a), 1);
	ck_assert_int_eq(conf_prefix(&c, mn, "nope", false, &a, &plen), 1);
	ck_assert_int_eq(conf_hex(&c, mn, "nope", false, key, 1, 4, &klen), 1);
	ck_assert_int_eq(conf_mac(&c, mn, "nope", false, mac), 1);
	ck_assert_ptr_null(conf_group(&c, mn, "nope", false));
	ck_assert_str_eq(s, "untouched");
	ck_assert_int_eq(v, 77);
	ck_assert(b);
	ck_assert_uint_eq(a.s_addr, 0x01020304);
	ck_assert_uint_eq(plen, 9);
	ck_assert_uint_eq(klen, 5);
	ck_assert_uint_eq(mac[0], 9);
	ck_assert_str_eq(conf_error(&c), "");
	conf_free(&c);
}
END_TEST

/* ---- getters: errors name file, line and path ---- */

START_TEST(test_missing_required)
{
	const char *p, *s;
	struct conf c;

	load_sample(&c, &p);
	const config_setting_t *mn = conf_group(&c, NULL, "mn", true);
	/* The line of the parent group, and the full path of what is missing. */
	ck_assert_int_eq(conf_str(&c, mn, "nai", true, &s), -1);
	assert_err(&c, p, 2, "mn.nai", "missing");
	conf_free(&c);

	load_sample(&c, &p);
	mn = conf_group(&c, NULL, "mn", true);
	const config_setting_t *keys = conf_group(&c, mn, "keys", true);
	uint8_t mac[6];
	ck_assert_int_eq(conf_mac(&c, config_setting_get_elem(keys, 1), "mac", true, mac), -1);
	assert_err(&c, p, 8, "mn.keys.[1].mac", "missing");
	conf_free(&c);

	/* A top-level group: no line to give, the file is named. */
	load_sample(&c, &p);
	ck_assert_ptr_null(conf_group(&c, NULL, "fa", true));
	assert_err(&c, p, 0, "fa", "missing");
	conf_free(&c);
}
END_TEST

START_TEST(test_wrong_types)
{
	const struct {
		int getter; /* 0 str, 1 int, 2 bool, 3 addr, 4 group, 5 hex, 6 mac, 7 prefix */
		const char *name;
		int line;
		const char *what;
	} t[] = {
		{0, "lifetime", 5, "expected a string"},
		{1, "name", 15, "expected an integer"},
		{1, "ratio", 14, "expected an integer"},
		{1, "reverse", 12, "expected an integer"},
		{1, "keys", 6, "expected an integer"},
		{2, "lifetime", 5, "expected true or false"},
		{2, "name", 15, "expected true or false"},
		{3, "lifetime", 5, "expected a string"},
		{4, "name", 15, "expected a group or a list"},
		{5, "reverse", 12, "expected a string"},
		{6, "big", 13, "expected a string"},
		{7, "tunnel", 16, "expected a string"},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const char *p, *s;
		struct conf c;
		long long v;
		bool b;
		struct in_addr a;
		uint8_t buf[16], plen;
		size_t len;
		int r = 0;
		char path[64];

		load_sample(&c, &p);
		const config_setting_t *mn = conf_group(&c, NULL, "mn", true);
		switch (t[i].getter) {
		case 0:
			r = conf_str(&c, mn, t[i].name, true, &s);
			break;
		case 1:
			r = conf_int(&c, mn, t[i].name, true, 0, 100000, &v);
			break;
		case 2:
			r = conf_bool(&c, mn, t[i].name, true, &b);
			break;
		case 3:
			r = conf_addr(&c, mn, t[i].name, true, &a);
			break;
		case 4:
			r = conf_group(&c, mn, t[i].name, true) == NULL ? -1 : 0;
			break;
		case 5:
			r = conf_hex(&c, mn, t[i].name, true, buf, 1, 16, &len);
			break;
		case 6:
			r = conf_mac(&c, mn, t[i].name, true, buf);
			break;
		case 7:
			r = conf_prefix(&c, mn, t[i].name, true, &a, &plen);
			break;
		}
		ck_assert_msg(r == -1, "getter %d on %s: %d", t[i].getter, t[i].name, r);
		snprintf(path, sizeof(path), "mn.%s", t[i].name);
		assert_err(&c, p, t[i].line, path, t[i].what);
		conf_free(&c);
	}
}
END_TEST

START_TEST(test_out_of_range)
{
	const char *p;
	struct conf c;
	long long v = 5;

	load_sample(&c, &p);
	const config_setting_t *mn = conf_group(&c, NULL, "mn", true);
	ck_assert_int_eq(conf_int(&c, mn, "lifetime", true, 301, 1000, &v), -1);
	assert_err(&c, p, 5, "mn.lifetime", "300 is outside 301..1000");
	ck_assert_int_eq(v, 5);
	conf_free(&c);

	/* The bounds themselves are inside. */
	load_sample(&c, &p);
	mn = conf_group(&c, NULL, "mn", true);
	ck_assert_int_eq(conf_int(&c, mn, "lifetime", true, 300, 300, &v), 0);
	ck_assert_int_eq(v, 300);
	ck_assert_int_eq(conf_int(&c, mn, "big", true, 0, 4294967294LL, &v), -1);
	assert_err(&c, p, 13, "mn.big", "4294967295 is outside 0..4294967294");
	conf_free(&c);

	/* A list element inside a group: the full path with the index. */
	load_sample(&c, &p);
	mn = conf_group(&c, NULL, "mn", true);
	const config_setting_t *keys = conf_group(&c, mn, "keys", true);
	ck_assert_int_eq(
		conf_int(&c, config_setting_get_elem(keys, 1), "spi", true, 256, 4294967295LL, &v),
		-1);
	assert_err(&c, p, 8, "mn.keys.[1].spi", "12 is outside 256..4294967295");
	conf_free(&c);
}
END_TEST

/*
 * Integers as written (libconfig 1.5 reads one without an L suffix through
 * atoi(), wrapping it to 32 bits): the value in range, or the error with
 * the literal as the file has it.  Each text is the body of group x, from
 * line 2; the setting is x.v.
 */
static const struct literal_case {
	const char *text;
	long long min, max;
	long long v;      /* when in range */
	const char *what; /* when not */
} literal_cases[] = {
	{"v = 99999999999999999999;", 1, 65534, 0, "99999999999999999999 is outside 1..65534"},
	{"v = -99999999999999999999;", 1, 65534, 0, "-99999999999999999999 is outside 1..65534"},
	{"v = 18446744073709551616;", 0, LLONG_MAX, 0,
	 "18446744073709551616 is outside 0.."
	 "9223372036854775807"},
	{"v = 9223372036854775808;", 0, LLONG_MAX, 0,
	 "9223372036854775808 is outside 0.."
	 "9223372036854775807"},
	{"v = 0x1FFFFFFFFFFFFFFFF;", 1, 65534, 0, "0x1FFFFFFFFFFFFFFFF is outside 1..65534"},
	{"v = 99999999999999999999L;", 1, 65534, 0, "99999999999999999999 is outside 1..65534"},
	/* 600 + 2^32: atoi() alone makes it 600, in range */
	{"v = 4294967896;", 1, 65534, 0, "4294967896 is outside 1..65534"},
	{"v = 4294967295;", 0, 4294967295LL, 4294967295LL, NULL}, /* atoi(): -1 */
	{"v = 0xFFFFFFFF;", 0, 4294967295LL, 4294967295LL, NULL},
	{"v = 0x100;", 256, 65535, 256, NULL},
	{"v = +5;", 0, 9, 5, NULL},
	{"v = 9223372036854775807L;", 0, LLONG_MAX, LLONG_MAX, NULL},
	{"v = -9223372036854775808L;", LLONG_MIN, 0, LLONG_MIN, NULL},
	{"v = -9223372036854775809L;", LLONG_MIN, 0, 0,
	 "-9223372036854775809 is outside "
	 "-9223372036854775808..0"},
	{"v = 1234567890123456789012345678901234567890123456789012345678901234567890;", 0, 1, 0,
	 "123456789012345678901234567890123456789012345678... is outside 0..1"},
	/* the name's line, the value further down; ':' for '=' */
	{"v =\n\n  4294967297;", 0, 10, 0, "4294967297 is outside 0..10"},
	{"v : 4294967297;", 0, 10, 0, "4294967297 is outside 0..10"},
	/* other text like "v = 5" on the line before it: a string, comments, a longer name */
	{"s = \"v = 5\"; v = 4294967297;", 0, 10, 0, "4294967297 is outside 0..10"},
	{"/* v = 5 */ v = 4294967297;", 0, 10, 0, "4294967297 is outside 0..10"},
	{"vv = 5; v = 4294967297; # v = 6", 0, 10, 0, "4294967297 is outside 0..10"},
};

START_TEST(test_int_as_written)
{
	const struct literal_case *l = &literal_cases[_i];
	char text[512];
	struct conf c;
	long long v = 7;

	snprintf(text, sizeof(text), "x = {\n%s\n};\n", l->text);
	const char *p = write_file("literal.conf", text);
	ck_assert_int_eq(conf_load(&c, p), 0);
	int rc = conf_int(&c, conf_group(&c, NULL, "x", true), "v", true, l->min, l->max, &v);
	if (l->what == NULL) {
		ck_assert_msg(rc == 0, "%s", conf_error(&c));
		ck_assert_int_eq(v, l->v);
	} else {
		ck_assert_int_eq(rc, -1);
		assert_err(&c, p, 2, "x.v", l->what);
		ck_assert_int_eq(v, 7);
	}
	conf_free(&c);
}
END_TEST

/* Settings of one name on one line: each is read from its own literal. */
START_TEST(test_int_as_written_same_line)
{
	const char *p =
		write_file("line.conf", "# one line\nl = ( { v = 1; }, { v = 4294967297; } );\n");
	struct conf c;
	long long v = 0;

	ck_assert_int_eq(conf_load(&c, p), 0);
	const config_setting_t *l = conf_group(&c, NULL, "l", true);
	ck_assert_int_eq(conf_int(&c, config_setting_get_elem(l, 0), "v", true, 0, 10, &v), 0);
	ck_assert_int_eq(v, 1);
	ck_assert_int_eq(conf_int(&c, config_setting_get_elem(l, 1), "v", true, 0, 10, &v), -1);
	assert_err(&c, p, 2, "l.[1].v", "4294967297 is outside 0..10");
	conf_free(&c);
}
END_TEST

START_TEST(test_bad_address)
{
	const char *p;
	struct conf c;
	struct in_addr a = {.s_addr = 7};

	load_sample(&c, &p);
	const config_setting_t *mn = conf_group(&c, NULL, "mn", true);
	const config_setting_t *tun = conf_group(&c, mn, "tunnel", true);
	ck_assert_ptr_nonnull(tun);
	ck_assert_int_eq(conf_addr(&c, tun, "peer", true, &a), -1);
	assert_err(&c, p, 16, "mn.tunnel.peer", "'10.0.0.300' is not an IPv4 address");
	conf_free(&c);

	load_sample(&c, &p);
	mn = conf_group(&c, NULL, "mn", true);
	ck_assert_int_eq(conf_addr(&c, mn, "name", true, &a), -1);
	assert_err(&c, p, 15, "mn.name", "'mn1' is not an IPv4 address");
	conf_free(&c);
}
END_TEST

/* One setting "v" in group "g" at line 3, read by the getter under test. */
static void one_value(struct conf *c, const char **path, const char *value)
{
	char text[400];

	snprintf(text, sizeof(text), "g = {\n  other = 1;\n  v = \"%s\";\n};\n", value);
	*path = write_file("one.conf", text);
	ck_assert_int_eq(conf_load(c, *path), 0);
}

START_TEST(test_bad_prefix)
{
	const char *bad[] = {"10.0.0.0/33",
			     "10.0.0.0",
			     "10.0.0.0/",
			     "10.0.0.0/8x",
			     "/8",
			     "10.0.0/8",
			     "10.0.0.0/ 8",
			     "10.0.0.0/+8",
			     "10.0.0.0/-0",
			     "10.0.0.0/-1",
			     " 10.0.0.0/8",
			     "10.0.0.0/8 ",
			     "10.0.0.0//8",
			     "10.0.0.0/0x8",
			     "10.0.0.0/99999999999999999999",
			     "255.255.255.255.255.255.255/32",
			     ""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *p;
		struct conf c;
		struct in_addr a = {.s_addr = 1};
		uint8_t plen = 99;
		char what[200];

		one_value(&c, &p, bad[i]);
		const config_setting_t *g = conf_group(&c, NULL, "g", true);
		ck_assert_msg(conf_prefix(&c, g, "v", true, &a, &plen) == -1, "'%s' accepted",
			      bad[i]);
		snprintf(what, sizeof(what), "'%s' is not an IPv4 prefix (a.b.c.d/len)", bad[i]);
		assert_err(&c, p, 3, "g.v", what);
		ck_assert_uint_eq(plen, 99);
		conf_free(&c);
	}
}
END_TEST

START_TEST(test_good_prefix)
{
	const struct {
		const char *s;
		uint32_t addr;
		uint8_t plen;
	} t[] = {
		{"198.18.0.0/15", 0xc6120000, 15},
		{"0.0.0.0/0", 0, 0},
		{"10.1.2.3/32", 0x0a010203, 32},
		{"10.0.0.0/08", 0x0a000000, 8},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct in_addr a;
		uint8_t plen = 99;

		ck_assert_msg(conf_parse_prefix(t[i].s, &a, &plen) == 0, "'%s' refused", t[i].s);
		ck_assert_uint_eq(a.s_addr, htonl(t[i].addr));
		ck_assert_uint_eq(plen, t[i].plen);
	}
}
END_TEST

START_TEST(test_bad_hex)
{
	/* conf_hex with 2..4 bytes wanted. */
	const char *bad[] = {"abc",
			     "zz",
			     "0x",
			     "",
			     "00",
			     "0011223344",
			     "00 11",
			     "0g11",
			     "+011",
			     "0x0x00",
			     "00112233445566778899"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *p;
		struct conf c;
		uint8_t out[4];
		size_t len = 0;

		one_value(&c, &p, bad[i]);
		const config_setting_t *g = conf_group(&c, NULL, "g", true);
		ck_assert_msg(conf_hex(&c, g, "v", true, out, 2, 4, &len) == -1, "'%s' accepted",
			      bad[i]);
		assert_err(&c, p, 3, "g.v", "expected 2 to 4 bytes of hex");
		conf_free(&c);
	}

	/* In a list element. */
	const char *p;
	struct conf c;
	uint8_t key[16];
	size_t len;
	load_sample(&c, &p);
	const config_setting_t *mn = conf_group(&c, NULL, "mn", true);
	const config_setting_t *keys = conf_group(&c, mn, "keys", true);
	ck_assert_int_eq(
		conf_hex(&c, config_setting_get_elem(keys, 1), "key", true, key, 1, 16, &len), -1);
	assert_err(&c, p, 9, "mn.keys.[1].key", "expected 1 to 16 bytes of hex");
	conf_free(&c);
}
END_TEST

START_TEST(test_good_hex)
{
	uint8_t out[4];
	size_t len = 0;

	ck_assert_int_eq(conf_parse_hex("0x00fF7a", out, 4, &len), 0);
	ck_assert_uint_eq(len, 3);
	ck_assert_uint_eq(out[0], 0x00);
	ck_assert_uint_eq(out[1], 0xff);
	ck_assert_uint_eq(out[2], 0x7a);
	ck_assert_int_eq(conf_parse_hex("DEADBEEF", out, 4, &len), 0);
	ck_assert_uint_eq(len, 4);
	ck_assert_uint_eq(out[3], 0xef);
	ck_assert_int_eq(conf_parse_hex("DEADBEEF00", out, 4, &len), -1);
	ck_assert_uint_eq(len, 4);
	ck_assert_int_eq(conf_parse_hex("", out, 4, &len), 0);
	ck_assert_uint_eq(len, 0);
}
END_TEST

START_TEST(test_bad_mac)
{
	const char *bad[] = {"02:00:5e:00:01",    "02:00:5e:00:01:01:02", "02:00:5e:00:01:zz",
			     "02-00-5e-00-01-01", "-1:00:00:00:00:00",    " 2:00:5e:00:01:01",
			     "+2:00:5e:00:01:01", "2:0:5e:0:1:1",         "02:00:5e:00:01:1",
			     "02: 0:5e:00:01:01", "02:00:5e:00:01:01 ",   "0x2:00:5e:00:01:01",
			     "020:0:5e:00:01:01", "02:00:5e:00:01:01:",   "",
			     "0200.5e00.0101"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *p;
		struct conf c;
		uint8_t mac[6] = {7, 7, 7, 7, 7, 7};
		char what[200];

		one_value(&c, &p, bad[i]);
		const config_setting_t *g = conf_group(&c, NULL, "g", true);
		ck_assert_msg(conf_mac(&c, g, "v", true, mac) == -1, "'%s' accepted", bad[i]);
		snprintf(what, sizeof(what), "'%s' is not a MAC address (xx:xx:xx:xx:xx:xx)",
			 bad[i]);
		assert_err(&c, p, 3, "g.v", what);
		ck_assert_uint_eq(mac[0], 7);
		conf_free(&c);
	}
	uint8_t mac[6];
	ck_assert_int_eq(conf_parse_mac("FF:fe:0A:b0:00:99", mac), 0);
	const uint8_t want[6] = {0xff, 0xfe, 0x0a, 0xb0, 0x00, 0x99};
	ck_assert_mem_eq(mac, want, 6);
}
END_TEST

START_TEST(test_first_error_kept)
{
	const char *p, *s;
	struct conf c;
	long long v;

	load_sample(&c, &p);
	const config_setting_t *mn = conf_group(&c, NULL, "mn", true);
	ck_assert_int_eq(conf_int(&c, mn, "name", true, 0, 1, &v), -1);
	ck_assert_int_eq(conf_str(&c, mn, "absent", true, &s), -1);
	ck_assert_int_eq(conf_fail(&c, mn, "x", "later %d", 2), -1);
	assert_err(&c, p, 15, "mn.name", "expected an integer");
	conf_free(&c);
}
END_TEST

START_TEST(test_conf_fail_direct)
{
	const char *p;
	struct conf c;

	load_sample(&c, &p);
	const config_setting_t *mn = conf_group(&c, NULL, "mn", true);
	const config_setting_t *keys = conf_group(&c, mn, "keys", true);
	const config_setting_t *k1 = config_setting_get_elem(keys, 1);
	ck_assert_int_eq(conf_fail(&c, k1, NULL, "duplicate SPI %d", 12), -1);
	assert_err(&c, p, 8, "mn.keys.[1]", "duplicate SPI 12");
	conf_free(&c);

	load_sample(&c, &p);
	ck_assert_int_eq(conf_fail(&c, NULL, "daemon.mode", "unknown mode"), -1);
	assert_err(&c, p, 0, "daemon.mode", "unknown mode");
	conf_free(&c);
}
END_TEST

/* ---- unknown settings (conf_check) ---- */

/* What the sample may hold; mn's table goes on in mn_more, as one loader's names after another's.
 */
static const struct conf_names key_names[] = {{"spi", NULL}, {"key", NULL}, {NULL, NULL}};
static const struct conf_names tunnel_names[] = {{"mtu", NULL}, {"peer", NULL}, {NULL, NULL}};
static const struct conf_names mn_more[] = {
	{"mac", NULL},  {"reverse", NULL},        {"big", NULL}, {"ratio", NULL},
	{"name", NULL}, {"tunnel", tunnel_names}, {NULL, NULL}};
static const struct conf_names mn_names[] = {{"home_address", NULL},
					     {"home_prefix", NULL},
					     {"lifetime", NULL},
					     {"keys", key_names},
					     {NULL, mn_more}};
static const struct conf_names root_names[] = {{"mn", mn_names}, {NULL, NULL}};

START_TEST(test_check_known)
{
	const char *p;
	struct conf c;

	load_sample(&c, &p);
	ck_assert_int_eq(conf_check(&c, root_names), 0);
	ck_assert_str_eq(conf_error(&c), "");
	conf_free(&c);
}
END_TEST

#define LONG_NAME "x123456789012345678901234567890123456789012345678901234567890123456789"

/* One name of the sample changed: the error names its line, its path and the closest known name. */
static const struct unknown_case {
	const char *from, *to;
	int line;
	const char *setting, *what;
} unknown_cases[] = {
	{"lifetime =", "lifetmie =", 5, "mn.lifetmie", "unknown (did you mean 'lifetime'?)"},
	{"reverse =", "REVERSE =", 12, "mn.REVERSE", "unknown (did you mean 'reverse'?)"},
	{"home_prefix =", "home_prefixx =", 4, "mn.home_prefixx",
	 "unknown (did you mean 'home_prefix'?)"},
	{"mac =", "mc =", 11, "mn.mc", "unknown (did you mean 'mac'?)"},
	/* in the table's continuation */
	{"name =", "nmae =", 15, "mn.nmae", "unknown (did you mean 'name'?)"},
	/* nothing close: no suggestion */
	{"ratio =", "colour =", 14, "mn.colour", "unknown"},
	{"ratio =", LONG_NAME " =", 14, "mn." LONG_NAME, "unknown"},
	/* an element of a list of groups, a group in a group, the root */
	{"{ spi = 12;", "{ sip = 12;", 8, "mn.keys.[1].sip", "unknown (did you mean 'spi'?)"},
	{"mtu =", "mru =", 16, "mn.tunnel.mru", "unknown (did you mean 'mtu'?)"},
	{"mn = {", "mn_ = {", 2, "mn_", "unknown (did you mean 'mn'?)"},
	{"mn = {", "nm = {", 2, "nm", "unknown"}, /* one edit of two letters is too many */
	/* the first of two, in the file's order */
	{"lifetime = 300;", "lifetime = 300; lifetme = 1; hme_address = 2;", 5, "mn.lifetme",
	 "unknown (did you mean 'lifetime'?)"},
};

START_TEST(test_check_unknown)
{
	const struct unknown_case *u = &unknown_cases[_i];
	char text[2048];
	const char *at = strstr(sample, u->from);
	struct conf c;

	ck_assert_ptr_nonnull(at);
	snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - sample), sample, u->to,
		 at + strlen(u->from));
	const char *p = write_file("unknown.conf", text);
	ck_assert_int_eq(conf_load(&c, p), 0);
	ck_assert_int_eq(conf_check(&c, root_names), -1);
	assert_err(&c, p, u->line, u->setting, u->what);
	conf_free(&c);
}
END_TEST

START_TEST(test_check_unknown_in_included_file)
{
	struct conf c;
	const char *sub = load_included(&c, "mn", "\nlifetime = 300;\nlifetim = 1;\n");

	ck_assert_int_eq(conf_check(&c, root_names), -1);
	assert_err(&c, sub, 3, "mn.lifetim", "unknown (did you mean 'lifetime'?)");
	conf_free(&c);
}
END_TEST

/* A loader that reads a name its table leaves out is caught, once there are tables. */
START_TEST(test_check_undeclared_read)
{
	const char *p;
	struct conf c;
	long long v;

	load_sample(&c, &p);
	const config_setting_t *mn = conf_group(&c, NULL, "mn", true);
	ck_assert_int_eq(conf_int(&c, mn, "mtu", false, 0, 9000, &v), 1); /* no tables: absent */
	ck_assert_int_eq(conf_check(&c, root_names), 0);
	ck_assert_int_eq(conf_int(&c, mn, "lifetime", true, 1, 65535, &v), 0);
	const config_setting_t *keys = conf_group(&c, mn, "keys", true);
	ck_assert_int_eq(
		conf_int(&c, config_setting_get_elem(keys, 0), "spi", true, 256, UINT32_MAX, &v),
		0);
	ck_assert_int_eq(conf_int(&c, mn, "mtu", false, 0, 9000, &v), -1);
	assert_err(&c, p, 2, "mn.mtu", "read, but in no table of names (a bug)");
	conf_free(&c);
}
END_TEST

static Suite *conf_suite(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("conf");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_syntax_error_names_file_and_line);
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_syntax_error_in_included_file);
	tcase_add_test(tc, test_setting_error_in_included_file);
	tcase_add_test(tc, test_getters_ok);
	tcase_add_test(tc, test_optional_absent);
	tcase_add_test(tc, test_missing_required);
	tcase_add_test(tc, test_wrong_types);
	tcase_add_test(tc, test_out_of_range);
	tcase_add_loop_test(tc, test_int_as_written, 0,
			    (int)(sizeof(literal_cases) / sizeof(literal_cases[0])));
	tcase_add_test(tc, test_int_as_written_same_line);
	tcase_add_test(tc, test_bad_address);
	tcase_add_test(tc, test_bad_prefix);
	tcase_add_test(tc, test_good_prefix);
	tcase_add_test(tc, test_bad_hex);
	tcase_add_test(tc, test_good_hex);
	tcase_add_test(tc, test_bad_mac);
	tcase_add_test(tc, test_first_error_kept);
	tcase_add_test(tc, test_conf_fail_direct);
	tcase_add_test(tc, test_check_known);
	tcase_add_loop_test(tc, test_check_unknown, 0,
			    (int)(sizeof(unknown_cases) / sizeof(unknown_cases[0])));
	tcase_add_test(tc, test_check_unknown_in_included_file);
	tcase_add_test(tc, test_check_undeclared_read);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_main(conf_suite());
}
