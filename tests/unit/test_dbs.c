/*
 * Unit tests for the store engine (dbs/libdbs.a), driven in-process with
 * a fake wall clock: put/get/del, later-beats-earlier, expiry, restart
 * (reload from the log), bad writers (wrong K_DB, stale, replayed,
 * non-member, malformed), torn and corrupt logs (every cut point), write
 * errors, group commit (one sync per batch, a failed sync undone),
 * compaction, max_records, the log entry codec, the key file
 * parser, the configuration and the control output.
 */
#include "check_main.h"
#include "ctl.h"
#include "dbs.h"
#include "store.h"

#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NOW      1700000000000ull
#define WINDOW   30000u
#define STORE_IP "198.18.3.2"
#define FA1      "198.18.11.2"
#define FA2      "198.18.12.2"
#define FA3      "198.18.13.2" /* not a member */

static char tmpdir[96];
static struct dbs_config cfg;
static struct sax_keys fa_keys; /* K_DB and K_SA, as an FA has them */

static struct in_addr ip(const char *s)
{
	struct in_addr a;

	ck_assert_int_eq(inet_pton(AF_INET, s, &a), 1);
	return a;
}

static void rm_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[256];

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

static void setup(void)
{
	const char *base = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/test_dbs.XXXXXX",
		 base && strlen(base) < 60 ? base : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	dbs_config_defaults(&cfg);
	cfg.address = ip(STORE_IP);
	snprintf(cfg.data_dir, sizeof(cfg.data_dir), "%s/data", tmpdir);
	cfg.members[0] = ip(FA1);
	cfg.members[1] = ip(FA2);
	cfg.n_members = 2;
	cfg.freshness_window_ms = WINDOW;
	cfg.max_records = 100;
	cfg.compact_min_bytes = 4096;
	memset(&fa_keys, 0, sizeof(fa_keys));
	memset(fa_keys.k_db, 0x42, SAX_KEY_LEN);
	memset(fa_keys.k_sa, 0x17, SAX_KEY_LEN);
	fa_keys.have_k_sa = true;
	memcpy(cfg.k_db, fa_keys.k_db, SAX_KEY_LEN);
}

static void teardown(void)
{
	char p[160];

	snprintf(p, sizeof(p), "%s/data", tmpdir);
	rm_tree(p);
	rm_tree(tmpdir);
}

static const char *log_path(void)
{
	static char p[200];

	snprintf(p, sizeof(p), "%s/data/%s", tmpdir, DBS_LOG_NAME);
	return p;
}

static long file_size(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

static struct dbs *open_at(uint64_t now)
{
	struct dbs *d = dbs_open(&cfg, now);

	ck_assert_ptr_nonnull(d);
	return d;
}

/* ---- messages as an FA builds them ---- */

struct msg {
	uint8_t b[SAX_MSG_MAX];
	size_t len;
};

static void fill_record(struct sax_record *r, struct in_addr home, struct in_addr coa,
			uint64_t expires)
{
	memset(r, 0, sizeof(*r));
	memset(r->isakmp.icookie, 1, 8);
	memset(r->isakmp.rcookie, 2, 8);
	r->isakmp.hash = 2;
	r->isakmp.key_bits = 128;
	r->isakmp.group = 14;
	r->isakmp.auth = 1;
	r->isakmp.hash_len = 20;
	r->isakmp.enc_key_len = 16;
	r->isakmp.expires_ms = expires;
	r->home_addr = home;
	r->prev_coa = coa;
}

static struct msg build(uint8_t type, const char *id, const char *sender, uint64_t ts,
			uint64_t expires, const char *home, const struct sax_keys *k)
{
	struct msg out;
	struct sax_msg m;
	struct buf b;

	memset(&m, 0, sizeof(m));
	m.version = SAX_VERSION;
	m.type = type;
	sax_stamp(&m);
	m.timestamp_ms = ts;
	m.sender = ip(sender);
	m.expires_ms = expires;
	m.mn_id_len = strlen(id);
	memcpy(m.mn_id, id, m.mn_id_len);
	if (type == SAX_STORE_PUT) {
		m.has_record = true;
		fill_record(&m.rec, ip(home), ip(sender), expires);
	}
	buf_init_write(&b, out.b, sizeof(out.b));
	ck_assert_int_eq(sax_build(&b, &m, k), SAX_E_OK);
	out.len = buf_used(&b);
	return out;
}

static struct msg put(const char *id, const char *sender, uint64_t ts, uint64_t expires,
		      const char *home)
{
	return build(SAX_STORE_PUT, id, sender, ts, expires, home, &fa_keys);
}

static struct msg get(const char *id, const char *sender, uint64_t ts)
{
	return build(SAX_STORE_GET, id, sender, ts, 0, NULL, &fa_keys);
}

static struct msg del(const char *id, const char *sender, uint64_t ts)
{
	return build(SAX_STORE_DEL, id, sender, ts, 0, NULL, &fa_keys);
}

/* Feed m to the store from src at now; the answer parsed as the FA would (0: none). */
static int feed(struct dbs *d, const struct msg *m, const char *src, uint64_t now,
		struct sax_msg *ans)
{
	static uint8_t out[SAX_MSG_MAX]; /* ans points into it until the next feed */
	size_t n = dbs_handle(d, m->b, m->len, ip(src), now, out, sizeof(out));

	if (n == 0)
		return 0;
	ck_assert_int_eq(sax_parse(out, n, &fa_keys, now, WINDOW, NULL, ans), SAX_E_OK);
	ck_assert_uint_eq(ans->sender.s_addr, ip(STORE_IP).s_addr);
	ck_assert_uint_eq(ans->timestamp_ms, now);
	return 1;
}

/* Expect a STORE_ACK (or REFUSED for a get) with reason why. */
static void expect(struct dbs *d, const struct msg *m, const char *src, uint64_t now, uint8_t type,
		   uint16_t why)
{
	struct sax_msg a;

	ck_assert_int_eq(feed(d, m, src, now, &a), 1);
	ck_assert_uint_eq(a.type, type);
	ck_assert_uint_eq(a.flags, why);
	sax_record_wipe(&a.rec);
}

static void expect_silence(struct dbs *d, const struct msg *m, const char *src, uint64_t now)
{
	struct sax_msg a;

	ck_assert_int_eq(feed(d, m, src, now, &a), 0);
}

/* A get answered with a RECORD whose sealed part opens to home. */
static void expect_record(struct dbs *d, const char *id, const char *home, uint64_t now)
{
	struct msg g = get(id, FA2, now);
	struct sax_msg a;

	ck_assert_int_eq(feed(d, &g, FA2, now, &a), 1);
	ck_assert_uint_eq(a.type, SAX_RECORD);
	ck_assert_str_eq(a.mn_id, id);
	ck_assert_uint_eq(a.rec.home_addr.s_addr, ip(home).s_addr);
	sax_record_wipe(&a.rec);
}

static void expect_unknown(struct dbs *d, const char *id, uint64_t now, uint16_t why)
{
	struct msg g = get(id, FA2, now);

	expect(d, &g, FA2, now, SAX_REFUSED, why);
}

/* ---- put / get / del ---- */

START_TEST(test_put_get)
{
	struct dbs *d = open_at(NOW);
	struct msg p = put("mn1@home.example", FA1, NOW, NOW + 60000, "198.18.100.10");
	struct sax_msg a;

	expect(d, &p, FA1, NOW, SAX_STORE_ACK, SAX_OK);
	ck_assert_uint_eq(dbs_n_records(d), 1);
	/* the RECORD carries the Sealed field exactly as put, and its Expires */
	struct msg g = get("mn1@home.example", FA2, NOW + 10);
	ck_assert_int_eq(feed(d, &g, FA2, NOW + 10, &a), 1);
	ck_assert_uint_eq(a.type, SAX_RECORD);
	ck_assert_uint_eq(a.expires_ms, NOW + 60000);
	struct sax_msg pm;
	ck_assert_int_eq(sax_parse(p.b, p.len, &fa_keys, NOW, WINDOW, NULL, &pm), SAX_E_OK);
	ck_assert_uint_eq(a.sealed_len, pm.sealed_len);
	ck_assert_mem_eq(a.sealed, pm.sealed, pm.sealed_len);
	ck_assert_uint_eq(a.rec.home_addr.s_addr, ip("198.18.100.10").s_addr);
	ck_assert_uint_eq(a.rec.prev_coa.s_addr, ip(FA1).s_addr);
	sax_record_wipe(&a.rec);
	sax_record_wipe(&pm.rec);
	const struct dbs_counters *c = dbs_counters(d);
	ck_assert_uint_eq(c->puts, 1);
	ck_assert_uint_eq(c->stored, 1);
	ck_assert_uint_eq(c->synced_writes, 1);
	ck_assert_uint_eq(c->gets, 1);
	ck_assert_uint_eq(c->hits, 1);
	ck_assert_uint_eq(c->misses, 0);
	dbs_close(d);
}
END_TEST

START_TEST(test_get_unknown)
{
	struct dbs *d = open_at(NOW);

	expect_unknown(d, "nobody@home.example", NOW, SAX_R_UNKNOWN);
	ck_assert_uint_eq(dbs_counters(d)->misses, 1);
	dbs_close(d);
}
END_TEST

START_TEST(test_newer_wins)
{
	struct dbs *d = open_at(NOW);
	struct msg p1 = put("mn1", FA1, NOW, NOW + 60000, "198.18.100.10");
	struct msg p2 = put("mn1", FA2, NOW + 100, NOW + 60000, "198.18.100.20");
	struct msg old = put("mn1", FA1, NOW + 50, NOW + 60000, "198.18.100.30");

	expect(d, &p1, FA1, NOW, SAX_STORE_ACK, SAX_OK);
	expect(d, &p2, FA2, NOW + 100, SAX_STORE_ACK, SAX_OK);
	expect_record(d, "mn1", "198.18.100.20", NOW + 200);
	/* a delayed older put is acknowledged (something newer is kept) but changes nothing */
	expect(d, &old, FA1, NOW + 300, SAX_STORE_ACK, SAX_OK);
	expect_record(d, "mn1", "198.18.100.20", NOW + 400);
	ck_assert_uint_eq(dbs_counters(d)->superseded, 1);
	ck_assert_uint_eq(dbs_counters(d)->synced_writes, 2);
	ck_assert_uint_eq(dbs_n_records(d), 1);
	dbs_close(d);
}
END_TEST

START_TEST(test_del_and_tombstone)
{
	struct dbs *d = open_at(NOW);
	struct msg p = put("mn1", FA1, NOW, NOW + 60000, "198.18.100.10");
	struct msg x = del("mn1", FA2, NOW + 100);
	struct msg late = put("mn1", FA1, NOW + 50, NOW + 60000, "198.18.100.10");

	expect(d, &p, FA1, NOW, SAX_STORE_ACK, SAX_OK);
	expect(d, &x, FA2, NOW + 100, SAX_STORE_ACK, SAX_OK);
	expect_unknown(d, "mn1", NOW + 200, SAX_R_UNKNOWN);
	ck_assert_uint_eq(dbs_n_records(d), 0);
	ck_assert_uint_eq(dbs_n_tombstones(d), 1);
	/* a put older than the delete cannot bring the record back */
	expect(d, &late, FA1, NOW + 300, SAX_STORE_ACK, SAX_OK);
	expect_unknown(d, "mn1", NOW + 400, SAX_R_UNKNOWN);
	/* the tombstone lasts one window; a newer put is welcome at any time */
	dbs_tick(d, NOW + 100 + WINDOW);
	ck_assert_uint_eq(dbs_n_tombstones(d), 0);
	struct msg again = put("mn1", FA2, NOW + WINDOW + 200, NOW + 90000, "198.18.100.11");
	expect(d, &again, FA2, NOW + WINDOW + 200, SAX_STORE_ACK, SAX_OK);
	expect_record(d, "mn1", "198.18.100.11", NOW + WINDOW + 300);
	/* deleting what is not there is fine, and written nowhere */
	uint64_t writes = dbs_counters(d)->synced_writes;
	struct msg none = del("ghost", FA1, NOW + WINDOW + 400);
	expect(d, &none, FA1, NOW + WINDOW + 400, SAX_STORE_ACK, SAX_OK);
	ck_assert_uint_eq(dbs_counters(d)->synced_writes, writes);
	ck_assert_uint_eq(dbs_counters(d)->dels, 2);
	dbs_close(d);
}
END_TEST

/* ---- expiry ---- */

START_TEST(test_expiry_timer)
{
	struct dbs *d = open_at(NOW);
	struct msg a = put("short", FA1, NOW, NOW + 1000, "198.18.100.10");
	struct msg b = put("long", FA1, NOW, NOW + 100000, "198.18.100.11");

	expect(d, &a, FA1, NOW, SAX_STORE_ACK, SAX_OK);
	expect(d, &b, FA1, NOW, SAX_STORE_ACK, SAX_OK);
	dbs_tick(d, NOW + 999);
	ck_assert_uint_eq(dbs_n_records(d), 2);
	expect_record(d, "short", "198.18.100.10", NOW + 999);
	dbs_tick(d, NOW + 1000);
	ck_assert_uint_eq(dbs_n_records(d), 1);
	ck_assert_uint_eq(dbs_counters(d)->expired, 1);
	expect_unknown(d, "short", NOW + 1001, SAX_R_UNKNOWN);
	expect_record(d, "long", "198.18.100.11", NOW + 1001);
	dbs_close(d);
}
END_TEST

START_TEST(test_expiry_on_get)
{
	struct dbs *d = open_at(NOW);
	struct msg a = put("short", FA1, NOW, NOW + 1000, "198.18.100.10");

	expect(d, &a, FA1, NOW, SAX_STORE_ACK, SAX_OK);
	/* no tick in between: the get itself finds it over */
	expect_unknown(d, "short", NOW + 1500, SAX_R_EXPIRED);
	ck_assert_uint_eq(dbs_n_records(d), 0);
	ck_assert_uint_eq(dbs_counters(d)->expired, 1);
	/* an already expired put is refused by the parser as stale */
	struct msg dead = put("dead", FA1, NOW + 2000, NOW + 1999, "198.18.100.10");
	expect_silence(d, &dead, FA1, NOW + 2000);
	ck_assert_uint_eq(dbs_counters(d)->refused_stale, 1);
	dbs_close(d);
}
END_TEST

/* ---- restart ---- */

START_TEST(test_restart_reload)
{
	struct dbs *d = open_at(NOW);
	struct msg p1 = put("a", FA1, NOW, NOW + 100000, "198.18.100.1");
	struct msg p2 = put("b", FA1, NOW, NOW + 5000, "198.18.100.2");
	struct msg p3 = put("c", FA2, NOW, NOW + 100000, "198.18.100.3");
	struct msg p4 = put("a", FA2, NOW + 10, NOW + 100000, "198.18.100.4");
	struct msg x = del("c", FA2, NOW + 20);

	expect(d, &p1, FA1, NOW, SAX_STORE_ACK, SAX_OK);
	expect(d, &p2, FA1, NOW, SAX_STORE_ACK, SAX_OK);
	expect(d, &p3, FA2, NOW, SAX_STORE_ACK, SAX_OK);
	expect(d, &p4, FA2, NOW + 10, SAX_STORE_ACK, SAX_OK);
	expect(d, &x, FA2, NOW + 20, SAX_STORE_ACK, SAX_OK);
	dbs_close(d);

	/* same moment: a (second version) and b */
	d = open_at(NOW + 100);
	ck_assert_uint_eq(dbs_n_records(d), 2);
	ck_assert_uint_eq(dbs_counters(d)->loaded, 2);
	expect_record(d, "a", "198.18.100.4", NOW + 100);
	expect_record(d, "b", "198.18.100.2", NOW + 100);
	expect_unknown(d, "c", NOW + 100, SAX_R_UNKNOWN);
	dbs_close(d);

	/* later: b has expired meanwhile and is not loaded */
	d = open_at(NOW + 6000);
	ck_assert_uint_eq(dbs_n_records(d), 1);
	expect_unknown(d, "b", NOW + 6000, SAX_R_UNKNOWN);
	expect_record(d, "a", "198.18.100.4", NOW + 6000);
	ck_assert_uint_eq(dbs_counters(d)->log_dropped_bytes, 0);
	dbs_close(d);
}
END_TEST

/* ---- bad writers ---- */

START_TEST(test_wrong_k_db)
{
	struct dbs *d = open_at(NOW);
	struct sax_keys evil = fa_keys;

	evil.k_db[0] ^= 1;
	struct msg p = build(SAX_STORE_PUT, "mn1", FA1, NOW, NOW + 60000, "198.18.100.10", &evil);
	expect_silence(d, &p, FA1, NOW);
	struct msg g = build(SAX_STORE_GET, "mn1", FA1, NOW, 0, NULL, &evil);
	expect_silence(d, &g, FA1, NOW);
	ck_assert_uint_eq(dbs_counters(d)->refused_mac, 2);
	ck_assert_uint_eq(dbs_counters(d)->puts + dbs_counters(d)->gets, 0);
	ck_assert_uint_eq(dbs_n_records(d), 0);
	dbs_close(d);
}
END_TEST

START_TEST(test_stale)
{
	struct dbs *d = open_at(NOW);
	struct msg old = put("mn1", FA1, NOW - WINDOW - 1, NOW + 60000, "198.18.100.10");
	struct msg future = put("mn1", FA1, NOW + WINDOW + 1, NOW + 60000, "198.18.100.10");
	struct msg edge = put("mn1", FA1, NOW - WINDOW, NOW + 60000, "198.18.100.10");

	expect_silence(d, &old, FA1, NOW);
	expect_silence(d, &future, FA1, NOW);
	ck_assert_uint_eq(dbs_counters(d)->refused_stale, 2);
	ck_assert_uint_eq(dbs_n_records(d), 0);
	expect(d, &edge, FA1, NOW, SAX_STORE_ACK, SAX_OK);
	dbs_close(d);
}
END_TEST

START_TEST(test_replay)
{
	struct dbs *d = open_at(NOW);
	struct msg p = put("mn1", FA1, NOW, NOW + 60000, "198.18.100.10");
	struct msg x = del("mn1", FA1, NOW + 10);

	expect(d, &p, FA1, NOW, SAX_STORE_ACK, SAX_OK);
	expect(d, &x, FA1, NOW + 10, SAX_STORE_ACK, SAX_OK);
	/* the same put again (captured and replayed) must not resurrect the record */
	expect_silence(d, &p, FA1, NOW + 20);
	expect_silence(d, &x, FA1, NOW + 20);
	ck_assert_uint_eq(dbs_counters(d)->refused_replay, 2);
	expect_unknown(d, "mn1", NOW + 30, SAX_R_UNKNOWN);
	dbs_close(d);
}
END_TEST

START_TEST(test_not_member)
{
	struct dbs *d = open_at(NOW);
	struct msg p = put("mn1", FA3, NOW, NOW + 60000, "198.18.100.10");
	struct msg g = get("mn1", FA3, NOW);
	struct msg spoof = put("mn1", FA1, NOW, NOW + 60000, "198.18.100.10");

	/* an outsider holding K_DB is told so, and nothing is kept */
	expect(d, &p, FA3, NOW, SAX_STORE_ACK, SAX_R_NOT_MEMBER);
	expect(d, &g, FA3, NOW, SAX_REFUSED, SAX_R_NOT_MEMBER);
	/* naming a member as Sender from another address does not help */
	expect(d, &spoof, FA3, NOW, SAX_STORE_ACK, SAX_R_NOT_MEMBER);
	ck_assert_uint_eq(dbs_counters(d)->refused_not_member, 3);
	ck_assert_uint_eq(dbs_n_records(d), 0);
	ck_assert_uint_eq(dbs_counters(d)->synced_writes, 0);
	dbs_close(d);
}
END_TEST

START_TEST(test_member_prefix)
{
	cfg.n_members = 0;
	cfg.have_prefix = true;
	cfg.member_prefix = ip("198.18.12.0");
	cfg.member_plen = 24;
	ck_assert(dbs_is_member(&cfg, ip("198.18.12.2")));
	ck_assert(dbs_is_member(&cfg, ip("198.18.12.255")));
	ck_assert(!dbs_is_member(&cfg, ip("198.18.13.2")));
	ck_assert(!dbs_is_member(&cfg, ip(FA1)));
	cfg.members[0] = ip(FA1);
	cfg.n_members = 1;
	ck_assert(dbs_is_member(&cfg, ip(FA1)));

	struct dbs *d = open_at(NOW);
	struct msg p = put("mn1", FA2, NOW, NOW + 60000, "198.18.100.10");
	struct msg q = put("mn2", FA3, NOW, NOW + 60000, "198.18.100.10");
	expect(d, &p, FA2, NOW, SAX_STORE_ACK, SAX_OK);
	expect(d, &q, FA3, NOW, SAX_STORE_ACK, SAX_R_NOT_MEMBER);
	dbs_close(d);
}
END_TEST

START_TEST(test_malformed)
{
	struct dbs *d = open_at(NOW);
	struct msg p = put("mn1", FA1, NOW, NOW + 60000, "198.18.100.10");
	struct msg rec;

	for (size_t n = 0; n < p.len; n += 7) {
		struct msg cut = p;
		cut.len = n;
		expect_silence(d, &cut, FA1, NOW);
	}
	struct msg longer = p;
	longer.b[longer.len++] = 0;
	expect_silence(d, &longer, FA1, NOW);
	/* authentic, but not something a store is asked: what FAs send each other */
	static const uint8_t fa_types[] = {SAX_REQUEST, SAX_RELEASED, SAX_OFFER};
	for (size_t i = 0; i < sizeof(fa_types); i++) {
		struct sax_msg m;
		struct buf b;
		memset(&m, 0, sizeof(m));
		m.version = SAX_VERSION;
		m.type = fa_types[i];
		sax_stamp(&m);
		m.timestamp_ms = NOW;
		m.sender = ip(FA1);
		m.mn_id_len = 3;
		memcpy(m.mn_id, "mn1", 3);
		/* a REQUEST seals the node's registration: any bytes will do for the store */
		if (m.type == SAX_REQUEST) {
			memset(m.req.reg, 0x01, 24);
			m.req.reg_len = 24;
		}
		/* an OFFER carries a record (the ISAKMP SA), as a STORE_PUT does */
		if (m.type == SAX_OFFER) {
			m.has_record = true;
			m.expires_ms = NOW + 60000;
			fill_record(&m.rec, ip(FA1), ip(FA1), m.expires_ms);
		}
		buf_init_write(&b, rec.b, sizeof(rec.b));
		ck_assert_int_eq(sax_build(&b, &m, &fa_keys), SAX_E_OK);
		rec.len = buf_used(&b);
		expect_silence(d, &rec, FA1, NOW);
	}
	const struct dbs_counters *c = dbs_counters(d);
	/* every cut (0, 7, 14, ...), the longer one and the three FA-to-FA messages */
	ck_assert_uint_eq(c->refused_malformed, (p.len + 6) / 7 + 1 + 3);
	ck_assert_uint_eq(c->refused_mac, 0);
	ck_assert_uint_eq(dbs_n_records(d), 0);
	/* after all that, the genuine message still goes through */
	expect(d, &p, FA1, NOW, SAX_STORE_ACK, SAX_OK);
	dbs_close(d);
}
END_TEST

/* ---- the log: torn, corrupt, foreign ---- */

/* Three records in a fresh store; returns the log size after each put. */
static void three_records(long sizes[3])
{
	struct dbs *d = open_at(NOW);
	const char *ids[] = {"a", "b", "c"};

	for (int i = 0; i < 3; i++) {
		struct msg p = put(ids[i], FA1, NOW + (uint64_t)i, NOW + 100000, "198.18.100.1");
		expect(d, &p, FA1, NOW + (uint64_t)i, SAX_STORE_ACK, SAX_OK);
		sizes[i] = (long)dbs_log_bytes(d);
		ck_assert_int_eq(file_size(log_path()), sizes[i]);
	}
	dbs_close(d);
}

START_TEST(test_truncated_tail)
{
	long sizes[3];

	three_records(sizes);
	ck_assert_int_eq(truncate(log_path(), sizes[2] - 5), 0);
	struct dbs *d = open_at(NOW + 100);
	ck_assert_uint_eq(dbs_n_records(d), 2);
	ck_assert_uint_eq(dbs_counters(d)->log_dropped_bytes, (uint64_t)(sizes[2] - 5 - sizes[1]));
	ck_assert_int_eq(file_size(log_path()), sizes[1]);
	expect_unknown(d, "c", NOW + 100, SAX_R_UNKNOWN);
	/* what is appended after the cut is read back */
	struct msg p = put("d", FA1, NOW + 200, NOW + 100000, "198.18.100.9");
	expect(d, &p, FA1, NOW + 200, SAX_STORE_ACK, SAX_OK);
	dbs_close(d);
	d = open_at(NOW + 300);
	ck_assert_uint_eq(dbs_n_records(d), 3);
	expect_record(d, "d", "198.18.100.9", NOW + 300);
	ck_assert_uint_eq(dbs_counters(d)->log_dropped_bytes, 0);
	dbs_close(d);
}
END_TEST

/* A crash can stop a write anywhere: every prefix of a log loads, with the entries it holds whole.
 */
START_TEST(test_every_cut_point)
{
	long sizes[3];
	static uint8_t saved[4096];

	three_records(sizes);
	ck_assert_int_lt(sizes[2], (long)sizeof(saved));
	int fd = open(log_path(), O_RDONLY);
	ck_assert_int_eq(read(fd, saved, sizeof(saved)), sizes[2]);
	close(fd);
	for (long cut = 0; cut <= sizes[2]; cut++) {
		fd = open(log_path(), O_WRONLY | O_TRUNC);
		ck_assert_int_eq(write(fd, saved, (size_t)cut), cut);
		close(fd);
		struct dbs *d = open_at(NOW + 100);
		size_t want = cut >= sizes[2] ? 3 : cut >= sizes[1] ? 2 : cut >= sizes[0] ? 1 : 0;
		ck_assert_uint_eq(dbs_n_records(d), want);
		dbs_close(d);
	}
}
END_TEST

START_TEST(test_corrupt_entry)
{
	long sizes[3];

	three_records(sizes);
	/* a flipped bit in the last entry's body: the CRC catches it */
	int fd = open(log_path(), O_RDWR);
	uint8_t byte;
	ck_assert_int_eq(pread(fd, &byte, 1, sizes[2] - 3), 1);
	byte ^= 0x10;
	ck_assert_int_eq(pwrite(fd, &byte, 1, sizes[2] - 3), 1);
	/* and garbage after it */
	ck_assert_int_eq(pwrite(fd, "garbage!", 8, sizes[2]), 8);
	close(fd);
	struct dbs *d = open_at(NOW + 100);
	ck_assert_uint_eq(dbs_n_records(d), 2);
	ck_assert_uint_eq(dbs_counters(d)->log_dropped_bytes, (uint64_t)(sizes[2] + 8 - sizes[1]));
	dbs_close(d);
}
END_TEST

START_TEST(test_foreign_and_torn_header)
{
	char dir[160];

	snprintf(dir, sizeof(dir), "%s/data", tmpdir);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	/* the start of our header only (a crash while creating it): start afresh */
	int fd = open(log_path(), O_CREAT | O_WRONLY | O_TRUNC, 0600);
	ck_assert_int_eq(write(fd, "MIPSA", 5), 5);
	close(fd);
	struct dbs *d = open_at(NOW);
	ck_assert_uint_eq(dbs_n_records(d), 0);
	ck_assert_int_eq(file_size(log_path()), DBS_LOG_HDR_LEN);
	dbs_close(d);
	/* somebody else's file is left alone, and the store does not start */
	fd = open(log_path(), O_CREAT | O_WRONLY | O_TRUNC, 0600);
	ck_assert_int_eq(write(fd, "SQLite format 3\0", 16), 16);
	close(fd);
	ck_assert_ptr_null(dbs_open(&cfg, NOW));
	ck_assert_int_eq(file_size(log_path()), 16);
}
END_TEST

START_TEST(test_write_error)
{
	struct dbs *d = open_at(NOW);
	struct msg p1 = put("a", FA1, NOW, NOW + 100000, "198.18.100.1");
	struct msg p2 = put("b", FA1, NOW + 1, NOW + 100000, "198.18.100.2");
	struct msg p3 = put("c", FA1, NOW + 2, NOW + 100000, "198.18.100.3");

	expect(d, &p1, FA1, NOW, SAX_STORE_ACK, SAX_OK);
	long good = file_size(log_path());
	dbs_inject_write_errors(d, 1);
	expect(d, &p2, FA1, NOW + 1, SAX_STORE_ACK, SAX_R_STORE_ERROR);
	/* the half-written entry was cut off again: nothing follows a torn entry */
	ck_assert_int_eq(file_size(log_path()), good);
	ck_assert_uint_eq(dbs_counters(d)->store_errors, 1);
	ck_assert_uint_eq(dbs_n_records(d), 1);
	expect_unknown(d, "b", NOW + 3, SAX_R_UNKNOWN);
	expect(d, &p3, FA1, NOW + 2, SAX_STORE_ACK, SAX_OK);
	dbs_close(d);
	d = open_at(NOW + 10);
	ck_assert_uint_eq(dbs_n_records(d), 2);
	ck_assert_uint_eq(dbs_counters(d)->log_dropped_bytes, 0);
	dbs_close(d);
}
END_TEST

/*
 * Durability before acknowledgement: an entry written in full whose sync
 * fails is not acknowledged, not kept, and not found after a restart (the
 * unsynced bytes are cut off).  Without the sync in the append, the put
 * would be answered OK.
 */
START_TEST(test_sync_error)
{
	struct dbs *d = open_at(NOW);
	struct msg p1 = put("a", FA1, NOW, NOW + 100000, "198.18.100.1");
	struct msg p2 = put("b", FA1, NOW + 1, NOW + 100000, "198.18.100.2");
	struct msg x1 = del("a", FA2, NOW + 2);

	expect(d, &p1, FA1, NOW, SAX_STORE_ACK, SAX_OK);
	long good = file_size(log_path());
	uint64_t synced = dbs_counters(d)->synced_writes;
	dbs_inject_sync_errors(d, 1);
	expect(d, &p2, FA1, NOW + 1, SAX_STORE_ACK, SAX_R_STORE_ERROR);
	ck_assert_int_eq(file_size(log_path()), good);
	ck_assert_uint_eq(dbs_counters(d)->store_errors, 1);
	ck_assert_uint_eq(dbs_counters(d)->synced_writes, synced);
	expect_unknown(d, "b", NOW + 3, SAX_R_UNKNOWN);
	/* a delete that cannot be made durable leaves the record in place */
	dbs_inject_sync_errors(d, 1);
	expect(d, &x1, FA2, NOW + 2, SAX_STORE_ACK, SAX_R_STORE_ERROR);
	ck_assert_uint_eq(dbs_counters(d)->store_errors, 2);
	ck_assert_int_eq(file_size(log_path()), good);
	expect_record(d, "a", "198.18.100.1", NOW + 4);
	dbs_close(d);
	d = open_at(NOW + 10);
	ck_assert_uint_eq(dbs_n_records(d), 1);
	ck_assert_uint_eq(dbs_counters(d)->log_dropped_bytes, 0);
	expect_unknown(d, "b", NOW + 11, SAX_R_UNKNOWN);
	expect_record(d, "a", "198.18.100.1", NOW + 12);
	dbs_close(d);
}
END_TEST

/* ---- group commit ---- */

/* One request of a batch: its answer, held by the caller until the commit. */
struct held {
	uint8_t out[SAX_MSG_MAX];
	size_t len;
};

static void batch_add(struct dbs *d, const struct msg *m, const char *src, uint64_t now,
		      struct held *h)
{
	dbs_batch_handle(d, m->b, m->len, ip(src), now, h->out, sizeof(h->out), &h->len);
}

/* A held answer, parsed as the FA would: its type and reason; home, for a RECORD. */
static void expect_held(const struct held *h, uint64_t now, uint8_t type, uint16_t why,
			const char *home)
{
	struct sax_msg a;

	ck_assert_uint_gt(h->len, 0);
	ck_assert_int_eq(sax_parse(h->out, h->len, &fa_keys, now, WINDOW, NULL, &a), SAX_E_OK);
	ck_assert_uint_eq(a.type, type);
	ck_assert_uint_eq(a.flags, why);
	if (home != NULL)
		ck_assert_uint_eq(a.rec.home_addr.s_addr, ip(home).s_addr);
	sax_record_wipe(&a.rec);
}

START_TEST(test_batch_one_sync)
{
	struct dbs *d = open_at(NOW);
	struct msg p1 = put("a", FA1, NOW, NOW + 100000, "198.18.100.1");
	struct msg p2 = put("b", FA2, NOW, NOW + 100000, "198.18.100.2");
	struct msg x1 = del("a", FA2, NOW + 1);
	struct msg g2 = get("b", FA1, NOW + 1);
	static struct held h[4];

	batch_add(d, &p1, FA1, NOW, &h[0]);
	batch_add(d, &p2, FA2, NOW, &h[1]);
	batch_add(d, &x1, FA2, NOW + 1, &h[2]);
	batch_add(d, &g2, FA1, NOW + 1, &h[3]);
	/* written, not yet synced: nothing counted as durable */
	ck_assert_uint_eq(dbs_counters(d)->synced_writes, 0);
	ck_assert_int_eq(dbs_batch_commit(d, NOW + 1), 0);
	ck_assert_uint_eq(dbs_counters(d)->synced_writes, 3);
	ck_assert_uint_eq(dbs_counters(d)->syncs, 1);
	expect_held(&h[0], NOW, SAX_STORE_ACK, SAX_OK, NULL);
	expect_held(&h[1], NOW, SAX_STORE_ACK, SAX_OK, NULL);
	expect_held(&h[2], NOW + 1, SAX_STORE_ACK, SAX_OK, NULL);
	expect_held(&h[3], NOW + 1, SAX_RECORD, SAX_OK, "198.18.100.2");
	dbs_close(d);
	d = open_at(NOW + 10);
	expect_unknown(d, "a", NOW + 11, SAX_R_UNKNOWN);
	expect_record(d, "b", "198.18.100.2", NOW + 12);
	dbs_close(d);
}
END_TEST

/*
 * The sync of a batch fails: every change of the batch is undone, in the
 * table and the log, and every answer from its first change on says
 * STORE_ERROR, a get's too (it may have read what was undone).  An answer
 * from before the first change stands.
 */
START_TEST(test_batch_sync_error)
{
	struct dbs *d = open_at(NOW);
	struct msg p0 = put("a", FA1, NOW, NOW + 100000, "198.18.100.1");
	struct msg g1 = get("a", FA2, NOW + 1);
	struct msg p1 = put("b", FA1, NOW + 1, NOW + 100000, "198.18.100.2");
	struct msg p2 = put("a", FA2, NOW + 1, NOW + 100000, "198.18.100.3");
	struct msg x1 = del("c", FA2, NOW + 1);
	struct msg g2 = get("b", FA2, NOW + 1);
	static struct held h[5];

	expect(d, &p0, FA1, NOW, SAX_STORE_ACK, SAX_OK);
	long good = file_size(log_path());
	uint64_t synced = dbs_counters(d)->synced_writes, stored = dbs_counters(d)->stored;
	batch_add(d, &g1, FA2, NOW + 1, &h[0]);
	batch_add(d, &p1, FA1, NOW + 1, &h[1]);
	batch_add(d, &p2, FA2, NOW + 1, &h[2]);
	batch_add(d, &x1, FA2, NOW + 1, &h[3]);
	batch_add(d, &g2, FA2, NOW + 1, &h[4]);
	dbs_inject_sync_errors(d, 1);
	ck_assert_int_eq(dbs_batch_commit(d, NOW + 1), -1);
	expect_held(&h[0], NOW + 1, SAX_RECORD, SAX_OK, "198.18.100.1");
	expect_held(&h[1], NOW + 1, SAX_STORE_ACK, SAX_R_STORE_ERROR, NULL);
	expect_held(&h[2], NOW + 1, SAX_STORE_ACK, SAX_R_STORE_ERROR, NULL);
	expect_held(&h[3], NOW + 1, SAX_STORE_ACK, SAX_R_STORE_ERROR, NULL);
	expect_held(&h[4], NOW + 1, SAX_REFUSED, SAX_R_STORE_ERROR, NULL);
	ck_assert_uint_eq(dbs_counters(d)->store_errors, 4);
	ck_assert_uint_eq(dbs_counters(d)->synced_writes, synced);
	ck_assert_uint_eq(dbs_counters(d)->stored, stored);
	ck_assert_int_eq(file_size(log_path()), good);
	ck_assert_uint_eq(dbs_n_records(d), 1);
	ck_assert_uint_eq(dbs_n_tombstones(d), 0);
	expect_record(d, "a", "198.18.100.1", NOW + 2);
	expect_unknown(d, "b", NOW + 2, SAX_R_UNKNOWN);
	/* the store goes on: the next batch syncs */
	struct msg p3 = put("b", FA1, NOW + 3, NOW + 100000, "198.18.100.4");
	expect(d, &p3, FA1, NOW + 3, SAX_STORE_ACK, SAX_OK);
	dbs_close(d);
	d = open_at(NOW + 10);
	ck_assert_uint_eq(dbs_counters(d)->log_dropped_bytes, 0);
	expect_record(d, "a", "198.18.100.1", NOW + 11);
	expect_record(d, "b", "198.18.100.4", NOW + 12);
	dbs_close(d);
}
END_TEST

/* More than DBS_BATCH_MAX requests in one batch: the one too many gets no answer. */
START_TEST(test_batch_full)
{
	struct dbs *d = open_at(NOW);
	static struct held h[DBS_BATCH_MAX + 1];
	char id[16];

	for (int i = 0; i <= DBS_BATCH_MAX; i++) {
		snprintf(id, sizeof(id), "n%d", i);
		struct msg g = get(id, FA1, NOW);
		batch_add(d, &g, FA1, NOW, &h[i]);
	}
	ck_assert_int_eq(dbs_batch_commit(d, NOW), 0);
	expect_held(&h[DBS_BATCH_MAX - 1], NOW, SAX_REFUSED, SAX_R_UNKNOWN, NULL);
	ck_assert_uint_eq(h[DBS_BATCH_MAX].len, 0);
	ck_assert_uint_eq(dbs_counters(d)->gets, DBS_BATCH_MAX);
	dbs_close(d);
}
END_TEST

/* ---- compaction ---- */

struct seen {
	char ids[64][16];
	size_t n;
	uint64_t entry_bytes; /* what their log entries take */
};

static void collect(void *arg, const struct dbs_record_info *r)
{
	struct seen *s = arg;

	ck_assert_uint_lt(s->n, 64);
	snprintf(s->ids[s->n++], sizeof(s->ids[0]), "%s", r->mn_id);
	s->entry_bytes +=
		DBS_ENTRY_HDR_LEN + 1 + 8 + 8 + 4 + 1 + strlen(r->mn_id) + 2 + r->sealed_len;
}

static int cmp_ids(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void sorted_ids(struct dbs *d, struct seen *s)
{
	memset(s, 0, sizeof(*s));
	dbs_foreach(d, collect, s);
	qsort(s->ids, s->n, sizeof(s->ids[0]), cmp_ids);
}

START_TEST(test_compaction_keeps_live)
{
	struct dbs *d = open_at(NOW);
	char id[16], tmp[220];
	struct seen before, after;

	for (int i = 0; i < 20; i++) {
		snprintf(id, sizeof(id), "mn%02d", i);
		/* odd ones live a second, even ones long */
		struct msg p = put(id, FA1, NOW, NOW + (i % 2 ? 1000 : 100000), "198.18.100.1");
		expect(d, &p, FA1, NOW, SAX_STORE_ACK, SAX_OK);
	}
	for (int i = 0; i < 20; i += 4) {
		snprintf(id, sizeof(id), "mn%02d", i);
		struct msg x = del(id, FA2, NOW + 10);
		expect(d, &x, FA2, NOW + 10, SAX_STORE_ACK, SAX_OK);
	}
	for (int i = 2; i < 20; i += 4) {
		snprintf(id, sizeof(id), "mn%02d", i);
		struct msg p = put(id, FA2, NOW + 20, NOW + 100000, "198.18.100.2");
		expect(d, &p, FA2, NOW + 20, SAX_STORE_ACK, SAX_OK);
	}
	ck_assert_int_eq(dbs_compact(d, NOW + 2000), 0);
	/* live: even, not deleted (i % 4 == 2): 2, 6, 10, 14, 18 */
	ck_assert_uint_eq(dbs_n_records(d), 5);
	ck_assert_uint_eq(dbs_counters(d)->compactions, 1);
	sorted_ids(d, &before);
	long size = file_size(log_path());
	ck_assert_int_eq(size, (long)dbs_log_bytes(d));
	snprintf(tmp, sizeof(tmp), "%s.tmp", log_path());
	ck_assert_int_eq(access(tmp, F_OK), -1);
	dbs_close(d);

	d = open_at(NOW + 2000);
	sorted_ids(d, &after);
	ck_assert_uint_eq(after.n, 5);
	for (size_t i = 0; i < after.n; i++)
		ck_assert_str_eq(before.ids[i], after.ids[i]);
	ck_assert_str_eq(after.ids[0], "mn02");
	ck_assert_str_eq(after.ids[4], "mn18");
	expect_record(d, "mn06", "198.18.100.2", NOW + 2000);
	/* exactly the live records: header + one entry each, nothing else */
	ck_assert_int_eq(file_size(log_path()), (long)(DBS_LOG_HDR_LEN + after.entry_bytes));
	ck_assert_uint_eq(dbs_counters(d)->loaded, 5);
	dbs_close(d);
}
END_TEST

/*
 * A log larger than the loader's read buffer (256 KiB at most, sized to the
 * file) and than the compaction's write buffer: every record is loaded
 * across the buffer's refills, written back by a compaction and loaded
 * again, and the file holds exactly them.
 */
START_TEST(test_log_beyond_one_buffer)
{
	enum { N = 2000 };
	struct dbs *d;
	char id[16];

	cfg.max_records = N;
	d = open_at(NOW);

	for (int i = 0; i < N; i++) {
		snprintf(id, sizeof(id), "mn%04d", i);
		struct msg p = put(id, i % 2 ? FA1 : FA2, NOW, NOW + 100000, "198.18.100.1");
		expect(d, &p, i % 2 ? FA1 : FA2, NOW, SAX_STORE_ACK, SAX_OK);
	}
	ck_assert_int_gt(file_size(log_path()), 2 * 256 * 1024);
	dbs_close(d);
	for (int round = 0; round < 2; round++) {
		d = open_at(NOW + 10);
		ck_assert_uint_eq(dbs_counters(d)->loaded, N);
		ck_assert_uint_eq(dbs_counters(d)->log_dropped_bytes, 0);
		expect_record(d, "mn0000", "198.18.100.1", NOW + 10);
		expect_record(d, "mn1023", "198.18.100.1", NOW + 10);
		expect_record(d, "mn1999", "198.18.100.1", NOW + 10);
		if (round == 0) {
			ck_assert_int_eq(dbs_compact(d, NOW + 10), 0);
			ck_assert_int_eq(file_size(log_path()), (long)dbs_log_bytes(d));
		}
		dbs_close(d);
	}
}
END_TEST

START_TEST(test_compaction_on_tick)
{
	struct dbs *d = open_at(NOW);
	uint64_t t = NOW;

	for (int i = 0; i < 60; i++, t++) {
		struct msg p = put("busy", FA1, t, NOW + 100000, "198.18.100.1");
		expect(d, &p, FA1, t, SAX_STORE_ACK, SAX_OK);
	}
	uint64_t grown = dbs_log_bytes(d);
	ck_assert_uint_gt(grown, cfg.compact_min_bytes);
	dbs_tick(d, t);
	ck_assert_uint_eq(dbs_counters(d)->compactions, 1);
	ck_assert_uint_lt(dbs_log_bytes(d), grown / 10);
	/* small logs are left alone */
	dbs_tick(d, t + 1);
	ck_assert_uint_eq(dbs_counters(d)->compactions, 1);
	dbs_close(d);
	d = open_at(t + 2);
	expect_record(d, "busy", "198.18.100.1", t + 2);
	dbs_close(d);
}
END_TEST

/* ---- limits ---- */

START_TEST(test_max_records)
{
	cfg.max_records = 3;
	struct dbs *d = open_at(NOW);
	const char *ids[] = {"a", "b", "c"};

	for (int i = 0; i < 3; i++) {
		struct msg p =
			put(ids[i], FA1, NOW, NOW + (i == 0 ? 1000 : 100000), "198.18.100.1");
		expect(d, &p, FA1, NOW, SAX_STORE_ACK, SAX_OK);
	}
	struct msg d1 = put("d", FA1, NOW + 1, NOW + 100000, "198.18.100.1");
	expect(d, &d1, FA1, NOW + 1, SAX_STORE_ACK, SAX_R_STORE_ERROR);
	ck_assert_uint_eq(dbs_counters(d)->refused_full, 1);
	/* replacing a record needs no room */
	struct msg b2 = put("b", FA2, NOW + 2, NOW + 100000, "198.18.100.2");
	expect(d, &b2, FA2, NOW + 2, SAX_STORE_ACK, SAX_OK);
	/* once "a" has expired there is room again, even before the timer runs */
	struct msg d2 = put("d", FA1, NOW + 1500, NOW + 100000, "198.18.100.1");
	expect(d, &d2, FA1, NOW + 1500, SAX_STORE_ACK, SAX_OK);
	ck_assert_uint_eq(dbs_n_records(d), 3);
	dbs_close(d);
}
END_TEST

/* ---- the log entry codec ---- */

START_TEST(test_crc32_vector)
{
	ck_assert_uint_eq(dbs_crc32((const uint8_t *)"123456789", 9), 0xcbf43926u);
	ck_assert_uint_eq(dbs_crc32(NULL, 0), 0);
}
END_TEST

static size_t sample_entry(uint8_t *out, size_t cap, uint8_t op, size_t sealed_len)
{
	static const uint8_t sealed[64] = {1, 2, 3};
	struct dbs_entry e = {.op = op,
			      .ts_ms = NOW,
			      .expires_ms = NOW + 5,
			      .writer = ip(FA1),
			      .mn_id = "mn1@x",
			      .mn_id_len = 5,
			      .sealed = sealed,
			      .sealed_len = sealed_len};

	return dbs_entry_encode(&e, out, cap);
}

/* Rewrite the CRC after tampering with the body, so the content checks are reached. */
static void fix_crc(uint8_t *p, size_t n)
{
	uint32_t crc = dbs_crc32(p + DBS_ENTRY_HDR_LEN, n - DBS_ENTRY_HDR_LEN);

	p[4] = (uint8_t)(crc >> 24);
	p[5] = (uint8_t)(crc >> 16);
	p[6] = (uint8_t)(crc >> 8);
	p[7] = (uint8_t)crc;
}

START_TEST(test_entry_roundtrip)
{
	uint8_t b[512];
	struct dbs_entry e;
	size_t used, n = sample_entry(b, sizeof(b), DBS_OP_PUT, 40);

	ck_assert_uint_eq(n, DBS_ENTRY_HDR_LEN + 1 + 8 + 8 + 4 + 1 + 5 + 2 + 40);
	ck_assert_int_eq(dbs_entry_decode(b, n, &e, &used), DBS_DEC_OK);
	ck_assert_uint_eq(used, n);
	ck_assert_uint_eq(e.op, DBS_OP_PUT);
	ck_assert_uint_eq(e.ts_ms, NOW);
	ck_assert_uint_eq(e.expires_ms, NOW + 5);
	ck_assert_uint_eq(e.writer.s_addr, ip(FA1).s_addr);
	ck_assert_uint_eq(e.mn_id_len, 5);
	ck_assert_mem_eq(e.mn_id, "mn1@x", 5);
	ck_assert_uint_eq(e.sealed_len, 40);
	ck_assert_uint_eq(e.sealed[2], 3);
	/* with more behind it, only the first entry is taken */
	ck_assert_int_eq(dbs_entry_decode(b, sizeof(b), &e, &used), DBS_DEC_OK);
	ck_assert_uint_eq(used, n);
	n = sample_entry(b, sizeof(b), DBS_OP_DEL, 0);
	ck_assert_int_eq(dbs_entry_decode(b, n, &e, &used), DBS_DEC_OK);
	ck_assert_uint_eq(e.op, DBS_OP_DEL);
	/* too small a buffer */
	ck_assert_uint_eq(sample_entry(b, 20, DBS_OP_PUT, 40), 0);
}
END_TEST

START_TEST(test_entry_short)
{
	uint8_t b[512];
	struct dbs_entry e;
	size_t used, n = sample_entry(b, sizeof(b), DBS_OP_PUT, 40);

	for (size_t cut = 0; cut < n; cut++)
		ck_assert_int_eq(dbs_entry_decode(b, cut, &e, &used), DBS_DEC_SHORT);
}
END_TEST

START_TEST(test_entry_corrupt)
{
	uint8_t b[512], c[512];
	struct dbs_entry e;
	size_t used, n = sample_entry(b, sizeof(b), DBS_OP_PUT, 40);

	/* any flipped bit anywhere in the body */
	for (size_t i = DBS_ENTRY_HDR_LEN; i < n; i++) {
		memcpy(c, b, n);
		c[i] ^= 0x01;
		ck_assert_int_eq(dbs_entry_decode(c, n, &e, &used), DBS_DEC_CORRUPT);
	}
	/* lengths out of range */
	memcpy(c, b, n);
	c[0] = 0x7f;
	ck_assert_int_eq(dbs_entry_decode(c, n, &e, &used), DBS_DEC_CORRUPT);
	memcpy(c, b, n);
	c[0] = c[1] = c[2] = 0;
	c[3] = 3;
	ck_assert_int_eq(dbs_entry_decode(c, n, &e, &used), DBS_DEC_CORRUPT);
	/* good CRC, bad content: unknown op, empty id, sealed length beyond the body */
	memcpy(c, b, n);
	c[DBS_ENTRY_HDR_LEN] = 3;
	fix_crc(c, n);
	ck_assert_int_eq(dbs_entry_decode(c, n, &e, &used), DBS_DEC_CORRUPT);
	memcpy(c, b, n);
	c[DBS_ENTRY_HDR_LEN + 21] = 0;
	fix_crc(c, n);
	ck_assert_int_eq(dbs_entry_decode(c, n, &e, &used), DBS_DEC_CORRUPT);
	memcpy(c, b, n);
	c[DBS_ENTRY_HDR_LEN + 27] = 0xff;
	fix_crc(c, n);
	ck_assert_int_eq(dbs_entry_decode(c, n, &e, &used), DBS_DEC_CORRUPT);
	/* a put without a record, a delete with one */
	n = sample_entry(b, sizeof(b), DBS_OP_PUT, 0);
	ck_assert_int_eq(dbs_entry_decode(b, n, &e, &used), DBS_DEC_CORRUPT);
	n = sample_entry(b, sizeof(b), DBS_OP_DEL, 4);
	ck_assert_int_eq(dbs_entry_decode(b, n, &e, &used), DBS_DEC_CORRUPT);
}
END_TEST

/* ---- key files ---- */

START_TEST(test_key_parse)
{
	/* one byte more than a key, for the 33-byte case */
	uint8_t key[SAX_KEY_LEN], raw[SAX_KEY_LEN + 1] = {0};
	char err[200];
	const char *hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1F";
	char buf[100];

	ck_assert_int_eq(store_parse_key((const uint8_t *)hex, 64, key, err, sizeof(err)), 0);
	for (int i = 0; i < 32; i++)
		ck_assert_uint_eq(key[i], i);
	snprintf(buf, sizeof(buf), "  %s\n", hex);
	ck_assert_int_eq(store_parse_key((const uint8_t *)buf, strlen(buf), key, err, sizeof(err)),
			 0);
	ck_assert_uint_eq(key[31], 31);
	for (int i = 0; i < 32; i++)
		raw[i] = (uint8_t)(0xe0 + i % 16);
	ck_assert_int_eq(store_parse_key(raw, 32, key, err, sizeof(err)), 0);
	ck_assert_mem_eq(key, raw, 32);
	/* too short, too long, not hex, 32 hex digits (half a key) */
	ck_assert_int_eq(store_parse_key((const uint8_t *)hex, 63, key, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "found 63 bytes"));
	ck_assert_int_eq(store_parse_key(raw, 31, key, err, sizeof(err)), -1);
	ck_assert_int_eq(store_parse_key(raw, 33, key, err, sizeof(err)), -1);
	snprintf(buf, sizeof(buf), "%s", hex);
	buf[10] = 'g';
	ck_assert_int_eq(store_parse_key((const uint8_t *)buf, 64, key, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "not hex"));
	ck_assert_int_eq(store_parse_key((const uint8_t *)hex, 32, key, err, sizeof(err)), -1);
	ck_assert_int_eq(store_parse_key((const uint8_t *)"", 0, key, err, sizeof(err)), -1);
}
END_TEST

static const char *write_tmp(const char *name, const void *data, size_t len)
{
	static char paths[16][200];
	static int next;
	char *p = paths[next++ % 16];

	snprintf(p, sizeof(paths[0]), "%s/%s", tmpdir, name);
	FILE *f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	fclose(f);
	chmod(p, 0600);
	return p;
}

START_TEST(test_key_file)
{
	uint8_t key[SAX_KEY_LEN];
	char err[400];
	char big[1000];

	const char *p = write_tmp(
		"k.hex", "4242424242424242424242424242424242424242424242424242424242424242\n", 65);
	ck_assert_int_eq(store_read_key_file(p, key, err, sizeof(err)), 0);
	ck_assert_uint_eq(key[5], 0x42);
	p = write_tmp("k.short", "0011", 4);
	ck_assert_int_eq(store_read_key_file(p, key, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, p));
	ck_assert_ptr_nonnull(strstr(err, "expected 64 hex digits or 32 raw bytes"));
	memset(big, 'a', sizeof(big));
	p = write_tmp("k.big", big, sizeof(big));
	ck_assert_int_eq(store_read_key_file(p, key, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "found 1000 bytes"));
	ck_assert_int_eq(store_read_key_file("/nonexistent/k", key, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/k"));
}
END_TEST

/* ---- configuration ---- */

static const char *key_hex = "4242424242424242424242424242424242424242424242424242424242424242";

/* Load text as a configuration; returns the error ("" when it loaded). */
static const char *load_conf(const char *text, struct dbs_config *out)
{
	static char err[600];
	struct conf c;
	const char *p = write_tmp("dbs.conf", text, strlen(text));

	err[0] = '\0';
	if (conf_load(&c, p) < 0 || dbs_config_load(&c, out) < 0)
		snprintf(err, sizeof(err), "%s", conf_error(&c));
	conf_free(&c);
	return err;
}

START_TEST(test_config_good)
{
	struct dbs_config c;
	char text[1200];
	const char *kp = write_tmp("k_db", key_hex, 64);

	snprintf(text, sizeof(text),
		 "dbs: {\n address = \"198.18.3.2\";\n data_dir = \"%s/d\";\n"
		 " control_socket = \"%s/s\";\n k_db_file = \"%s\";\n"
		 " members = ( \"198.18.11.2\", \"198.18.12.2\" );\n"
		 " member_prefix = \"198.18.0.0/16\";\n freshness_window_ms = 5000;\n"
		 " max_records = 7;\n log_compact_min_bytes = 8192;\n log_level = \"debug\";\n"
		 " port = 14434;\n};\n",
		 tmpdir, tmpdir, kp);
	ck_assert_str_eq(load_conf(text, &c), "");
	ck_assert_uint_eq(c.address.s_addr, ip(STORE_IP).s_addr);
	ck_assert_uint_eq(c.n_members, 2);
	ck_assert_uint_eq(c.members[1].s_addr, ip(FA2).s_addr);
	ck_assert(c.have_prefix);
	ck_assert_uint_eq(c.member_plen, 16);
	ck_assert_uint_eq(c.freshness_window_ms, 5000);
	ck_assert_uint_eq(c.max_records, 7);
	ck_assert_uint_eq(c.compact_min_bytes, 8192);
	ck_assert_uint_eq(c.port, 14434);
	ck_assert_uint_eq(c.k_db[0], 0x42);
	/* only what must be there */
	snprintf(text, sizeof(text),
		 "dbs: { address = \"198.18.3.2\"; k_db_file = \"%s\"; members = [ \"198.18.11.2\" "
		 "]; };\n",
		 kp);
	ck_assert_str_eq(load_conf(text, &c), "");
	ck_assert_uint_eq(c.port, SAX_PORT);
	ck_assert_uint_eq(c.freshness_window_ms, DBS_DEFAULT_WINDOW_MS);
	ck_assert(!c.have_prefix);
}
END_TEST

START_TEST(test_config_errors)
{
	struct dbs_config c;
	char text[800], want[300];
	const char *kp = write_tmp("k_db", key_hex, 64);
	const char *bad = write_tmp("k_bad", "0011", 4);
	const char *err;

	snprintf(text, sizeof(text),
		 "dbs: {\n address = \"198.18.3.2\";\n k_db_file = \"%s\";\n"
		 " members = ( \"198.18.11.2\", \"198.18.12\" );\n};\n",
		 kp);
	err = load_conf(text, &c);
	ck_assert_ptr_nonnull(
		strstr(err, ":4: setting 'dbs.members.[1]': '198.18.12' is not an IPv4 address"));
	snprintf(text, sizeof(text),
		 "dbs: {\n address = \"198.18.3.2\";\n k_db_file = \"%s\";\n};\n", kp);
	err = load_conf(text, &c);
	ck_assert_ptr_nonnull(strstr(err, "members, member_prefix or both"));
	snprintf(text, sizeof(text),
		 "dbs: {\n address = \"198.18.3.2\";\n k_db_file = \"%s\";\n"
		 " member_prefix = \"0.0.0.0/0\";\n};\n",
		 kp);
	err = load_conf(text, &c);
	ck_assert_ptr_nonnull(strstr(err, ":4: setting 'dbs.member_prefix': a /0 prefix"));
	snprintf(text, sizeof(text),
		 "dbs: {\n address = \"198.18.3.2\";\n members = [ \"198.18.11.2\" ];\n"
		 " k_db_file = \"%s\";\n};\n",
		 bad);
	err = load_conf(text, &c);
	snprintf(want, sizeof(want),
		 ":4: setting 'dbs.k_db_file': %s: expected 64 hex digits or 32 raw bytes, found 4 "
		 "bytes",
		 bad);
	ck_assert_msg(strstr(err, want) != NULL, "%s", err);
	snprintf(text, sizeof(text),
		 "dbs: {\n address = \"198.18.3.2\";\n members = [ \"198.18.11.2\" ];\n"
		 " k_db_file = \"%s\";\n max_records = 0;\n};\n",
		 kp);
	err = load_conf(text, &c);
	ck_assert_ptr_nonnull(strstr(err, ":5: setting 'dbs.max_records': 0 is outside"));
	err = load_conf("dbs: { members = [ \"198.18.11.2\" ]; };\n", &c);
	ck_assert_ptr_nonnull(strstr(err, "setting 'dbs.address': missing"));
	err = load_conf("dbs: { address = \"198.18.3.2\"; members = [ \"198.18.11.2\" ]; };\n", &c);
	ck_assert_ptr_nonnull(strstr(err, "setting 'dbs.k_db_file': missing"));
}
END_TEST

/* The example in conf/ loads, with its key file pointed at one of ours. */
START_TEST(test_config_example)
{
	const char *srcdir = getenv("srcdir");
	char path[300], text[4096], line[512];
	size_t len = 0;
	const char *kp = write_tmp("k_db", key_hex, 64);
	struct dbs_config c;

	snprintf(path, sizeof(path), "%s/conf/dbs.conf", srcdir ? srcdir : ".");
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strstr(line, "k_db_file =") != NULL)
			snprintf(line, sizeof(line), "  k_db_file = \"%s\";\n", kp);
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s", line);
	}
	fclose(f);
	ck_assert_str_eq(load_conf(text, &c), "");
	ck_assert_uint_eq(c.address.s_addr, ip(STORE_IP).s_addr);
	ck_assert_uint_eq(c.n_members, 2);
	ck_assert(c.have_prefix);
}
END_TEST

/* ---- control output ---- */

START_TEST(test_ctl)
{
	struct dbs *d = open_at(NOW);
	struct msg p = put("mn1@home.example", FA1, NOW, NOW + 60000, "198.18.100.10");
	struct ctl_out o;
	char err[128];
	char *argv[] = {"records"};

	expect(d, &p, FA1, NOW, SAX_STORE_ACK, SAX_OK);
	ctl_out_init(&o, true);
	ck_assert_int_eq(dbs_ctl(d, 1, argv, &o, err, sizeof(err), NOW + 1000), 0);
	const char *s = ctl_out_str(&o);
	ck_assert_ptr_nonnull(strstr(s, "\"mn_id\":\"mn1@home.example\""));
	ck_assert_ptr_nonnull(strstr(s, "\"writer\":\"198.18.11.2\""));
	ck_assert_ptr_nonnull(strstr(s, "\"remaining\":59"));
	ck_assert_ptr_null(strstr(s, "sealed\":\""));
	ctl_out_free(&o);
	argv[0] = "status";
	ctl_out_init(&o, false);
	ck_assert_int_eq(dbs_ctl(d, 1, argv, &o, err, sizeof(err), NOW), 0);
	s = ctl_out_str(&o);
	ck_assert_ptr_nonnull(strstr(s, "records"));
	ck_assert_ptr_nonnull(strstr(s, "refused_not_member"));
	ck_assert_ptr_nonnull(strstr(s, "synced_writes"));
	ctl_out_free(&o);
	argv[0] = "bindings";
	ctl_out_init(&o, true);
	ck_assert_int_eq(dbs_ctl(d, 1, argv, &o, err, sizeof(err), NOW), -1);
	ck_assert_str_eq(err,
			 "unknown command 'bindings' (status, counters, records, reload, help)");
	ctl_out_free(&o);
	argv[0] = "help";
	ctl_out_init(&o, true);
	ck_assert_int_eq(dbs_ctl(d, 1, argv, &o, err, sizeof(err), NOW), 0);
	ck_assert_ptr_nonnull(strstr(ctl_out_str(&o), "{\"command\":\"records\","));
	ctl_out_free(&o);
	dbs_close(d);
}
END_TEST

/*
 * K_DB rotated (dbs_rotate, the reload path) at NOW with a 1 s overlap:
 * fa1, not reloaded yet, puts and fa2 gets under the old key, each answered
 * under it (feed parses the answer under the request's key); under the new
 * key likewise; from NOW + 2 s the old key is refused as a forged HMAC is
 * (refused_mac, no answer).
 */
START_TEST(test_key_rotation)
{
	struct dbs *d = open_at(NOW);
	const struct dbs_counters *c = dbs_counters(d);
	struct sax_keys old = fa_keys, fresh_keys = fa_keys;
	struct dbs_config fresh = cfg;
	struct msg p, g;

	ck_assert_uint_eq(cfg.key_overlap_ms, SAX_RING_OVERLAP_DEFAULT);
	memset(fresh_keys.k_db, 0x43, SAX_KEY_LEN);
	memcpy(fresh.k_db, fresh_keys.k_db, SAX_KEY_LEN);
	fresh.key_overlap_ms = 1000;
	ck_assert_int_eq(dbs_rotate(d, &fresh, NOW), 1);
	ck_assert_int_eq(dbs_rotate(d, &fresh, NOW), 0); /* the same file again */
	ck_assert_uint_eq(c->key_rotations, 1);
	p = put("mn1@home.example", FA1, NOW + 10, NOW + 60000, "198.18.100.10");
	expect(d, &p, FA1, NOW + 10, SAX_STORE_ACK, SAX_OK);
	expect_record(d, "mn1@home.example", "198.18.100.10", NOW + 20);
	ck_assert_uint_eq(c->rx_previous_key, 2);
	fa_keys = fresh_keys;
	expect_record(d, "mn1@home.example", "198.18.100.10", NOW + 1999);
	ck_assert_uint_eq(c->rx_previous_key, 2);
	fa_keys = old;
	expect_record(d, "mn1@home.example", "198.18.100.10", NOW + 1999);
	ck_assert_uint_eq(c->rx_previous_key, 3);
	/* retired: exactly a bad HMAC */
	g = get("mn1@home.example", FA2, NOW + 2000);
	expect_silence(d, &g, FA2, NOW + 2000);
	ck_assert_uint_eq(c->refused_mac, 1);
	ck_assert_uint_eq(c->rx_previous_key, 3);
	fa_keys = fresh_keys;
	expect_record(d, "mn1@home.example", "198.18.100.10", NOW + 2000);
	ck_assert_uint_eq(c->refused_mac, 1);
	fa_keys = old;
	dbs_close(d);
}
END_TEST

static Suite *dbs_suite(void)
{
	Suite *s = suite_create("dbs");
	TCase *tc = tcase_create("store");
	TCase *lg = tcase_create("log");
	TCase *cf = tcase_create("config");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_put_get);
	tcase_add_test(tc, test_get_unknown);
	tcase_add_test(tc, test_newer_wins);
	tcase_add_test(tc, test_del_and_tombstone);
	tcase_add_test(tc, test_expiry_timer);
	tcase_add_test(tc, test_expiry_on_get);
	tcase_add_test(tc, test_restart_reload);
	tcase_add_test(tc, test_wrong_k_db);
	tcase_add_test(tc, test_stale);
	tcase_add_test(tc, test_replay);
	tcase_add_test(tc, test_not_member);
	tcase_add_test(tc, test_member_prefix);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_max_records);
	tcase_add_test(tc, test_ctl);
	tcase_add_test(tc, test_key_rotation);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(lg, setup, teardown);
	tcase_set_timeout(lg, 30);
	tcase_add_test(lg, test_truncated_tail);
	tcase_add_test(lg, test_every_cut_point);
	tcase_add_test(lg, test_corrupt_entry);
	tcase_add_test(lg, test_foreign_and_torn_header);
	tcase_add_test(lg, test_write_error);
	tcase_add_test(lg, test_sync_error);
	tcase_add_test(lg, test_batch_one_sync);
	tcase_add_test(lg, test_batch_sync_error);
	tcase_add_test(lg, test_batch_full);
	tcase_add_test(lg, test_compaction_keeps_live);
	tcase_add_test(lg, test_log_beyond_one_buffer);
	tcase_add_test(lg, test_compaction_on_tick);
	tcase_add_test(lg, test_crc32_vector);
	tcase_add_test(lg, test_entry_roundtrip);
	tcase_add_test(lg, test_entry_short);
	tcase_add_test(lg, test_entry_corrupt);
	suite_add_tcase(s, lg);

	tcase_add_checked_fixture(cf, setup, teardown);
	tcase_add_test(cf, test_key_parse);
	tcase_add_test(cf, test_key_file);
	tcase_add_test(cf, test_config_good);
	tcase_add_test(cf, test_config_errors);
	tcase_add_test(cf, test_config_example);
	suite_add_tcase(s, cf);
	return s;
}

int main(void)
{
	return check_main(dbs_suite());
}
