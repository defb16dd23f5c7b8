/*
 * Tests of the pieces of SA reuse that are pure functions of common/: the
 * orchestration that uses them (fa/fa_reuse.c, mn/mn_ipsec.c) runs for
 * real, agents and all, in tests/unit/test_handover.c.
 *
 *  1. seq_table: a numbered table of cases for the sequence-number
 *     hand-off (ipsec_next_seq, ipsec_hand_over, ipsec_lend,
 *     ipsec_reclaim, ipsec_released, ipsec_reserve, ipsec_reserve_done,
 *     ipsec_take_over, ipsec_offer, ipsec_offer_renew, ipsec_top,
 *     ipsec_may_send) on an ESP pair built by hand (FA
 *     side and node side), with ESP seal/open for real.
 *  4. possession: the registration request with the SA reuse extension,
 *     built as mn_ipsec_extend does, checked by reuse_claim_check (both
 *     FAs' check); the extension parser's length rules.
 *  5. claims: the holder's decision (reuse_claim_serve) on forged and
 *     replayed requests that cross the sax codec, with and without a last
 *     registration to compare against; flood: a flood past any lent limit
 *     after every refusal.
 *  6. endpoint: ipsec_ep_seal_send keeps to the numbers the pair may use.
 *
 * A case or test whose message starts with "regression:" guards a bug this
 * test found in common/ipsec.c (fixed since): a store copy's lower promise
 * outliving a hand-over, a limit of 0 read as no limit, a refused take-over
 * that moved the inbound window.
 */
#include "check_main.h"
#include "esp.h"
#include "ike.h"
#include "ike_xfer.h"
#include "ike_pair.h"
#include "ip4.h"
#include "ipsec.h"
#include "ipsec_ep.h"
#include "log.h"
#include "mip_msg.h"
#include "reuse_claim.h"
#include "sax.h"

#include <arpa/inet.h>
#include <check.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ike_pair's addresses: the node's IKE address and the FAs' alias. */
#define MN_ADDR  "10.9.0.1"
#define FA_ALIAS "10.9.0.2"
#define MN_HOME  "10.7.0.10" /* the node's traffic selector */
#define CN_ADDR  "192.0.2.1" /* a correspondent */
#define FA1_COA  "10.9.1.1"
#define FA2_COA  "10.9.1.2"
#define MN_ID    "mn@test"

#define RESERVE  64 /* the table's reservation */
#define MAX_SENT 4096

static struct in_addr ip(const char *s)
{
	struct in_addr a;

	ck_assert_int_eq(inet_pton(AF_INET, s, &a), 1);
	return a;
}

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * Everything a test allocates goes on this list and the checked teardown
 * releases it, last first: also after a failed assertion, which with
 * CK_FORK=no leaves the test by longjmp (valgrind stays clean either way).
 */
#define MAX_CLEANUPS 32
static struct {
	void (*fn)(void *);
	void *p;
} cleanups[MAX_CLEANUPS];
static size_t n_cleanups;

static void *defer(void (*fn)(void *), void *p)
{
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_lt(n_cleanups, MAX_CLEANUPS);
	cleanups[n_cleanups].fn = fn;
	cleanups[n_cleanups++].p = p;
	return p;
}

static void teardown(void)
{
	while (n_cleanups > 0) {
		n_cleanups--;
		cleanups[n_cleanups].fn(cleanups[n_cleanups].p);
	}
}

static void *zalloc(size_t n)
{
	return defer(free, calloc(1, n));
}

static void ipsec_release(void *p)
{
	ipsec_free(p);
	free(p);
}

/* An SA table (one agent's data plane). */
static struct ipsec *ipsec_new(void)
{
	struct ipsec *t = calloc(1, sizeof(*t));

	ck_assert_ptr_nonnull(t);
	ipsec_init(t);
	return defer(ipsec_release, t);
}

static void record_release(void *p)
{
	sax_record_wipe(p);
	free(p);
}

static struct sax_record *record_new(void)
{
	return defer(record_release, calloc(1, sizeof(struct sax_record)));
}

/* ---- packets ---- */

/* One sealed packet: a whole outer IPv4 packet, or (off 0) a bare ESP packet. */
struct pkt {
	uint8_t b[256];
	size_t len;
	size_t off; /* where ESP starts */
	uint32_t seq;
};

/* A small valid inner IPv4/UDP packet: from the node's home address, or to it. */
static size_t inner_packet(uint8_t *out, size_t cap, bool from_mn)
{
	static uint32_t tag;
	static struct in_addr home, cn;
	uint8_t payload[16] = {0};
	struct buf b;

	if (home.s_addr == 0) {
		home = ip(MN_HOME);
		cn = ip(CN_ADDR);
	}
	tag++;
	memcpy(payload, &tag, sizeof(tag));
	buf_init_write(&b, out, cap);
	if (ip4_udp_put(&b, from_mn ? home : cn, from_mn ? cn : home, 4000, 5000, 64, payload,
			sizeof(payload)) != 0)
		ck_abort_msg("cannot build an inner packet");
	return buf_used(&b);
}

/* p seals a packet; the outer header must carry ESP. */
static void seal(struct ipsec_pair *p, bool from_mn, struct pkt *k)
{
	uint8_t inner[128];
	size_t n = inner_packet(inner, sizeof(inner), from_mn);
	struct ip4_hdr h;
	struct buf payload;

	ck_assert_int_eq(ipsec_seal(p, inner, n, k->b, sizeof(k->b), &k->len), ESP_OK);
	ck_assert_int_eq(ip4_parse(k->b, k->len, &h, &payload), IP4_OK);
	ck_assert_uint_eq(h.proto, IP4_PROTO_ESP);
	ck_assert_uint_eq(h.src.s_addr, p->local.s_addr);
	ck_assert_uint_eq(h.dst.s_addr, p->peer.s_addr);
	k->off = k->len - buf_left(&payload);
	k->seq = be32(k->b + k->off + 4);
	ck_assert_uint_eq(be32(k->b + k->off), p->out.spi);
}

static enum ipsec_err open_at(struct ipsec *at, const struct pkt *k)
{
	uint8_t inner[256];
	struct ip4_pkt n;
	struct ipsec_pair *pp = NULL;

	return ipsec_open(at, k->b + k->off, k->len - k->off, inner, sizeof(inner), &n, &pp);
}

static uint64_t last_sent(const struct ipsec_pair *p)
{
	struct esp_sa_state st;

	esp_sa_export_state(&p->out, &st);
	return st.seq_out;
}

/* Sequence numbers an agent put on the wire. */
struct seqs {
	size_t n;
	uint32_t v[MAX_SENT];
};

/*
 * p sends one packet (it must be allowed to), numbered one above what it
 * sent before; delivered to `to` (NULL: lost on the link), where it must open.
 */
static void send_one(struct ipsec_pair *p, bool from_mn, struct ipsec *to, struct seqs *log,
		     struct pkt *keep)
{
	struct pkt k;
	uint64_t before = last_sent(p);

	ck_assert_msg(ipsec_may_send(p), "sending %" PRIu64 " is not allowed", before + 1);
	seal(p, from_mn, &k);
	ck_assert_uint_eq(k.seq, (uint32_t)(before + 1));
	if (log != NULL) {
		ck_assert_uint_lt(log->n, MAX_SENT);
		log->v[log->n++] = k.seq;
	}
	if (to != NULL)
		ck_assert_msg(open_at(to, &k) == IPSEC_OK, "packet %u refused", k.seq);
	if (keep != NULL)
		*keep = k;
}

static void send_n(struct ipsec_pair *p, bool from_mn, size_t n, struct ipsec *to, struct seqs *log)
{
	for (size_t i = 0; i < n; i++)
		send_one(p, from_mn, to, log, NULL);
}

/* ---- 1. the sequence-number table ---- */

/* One Quick Mode's pair, built by hand: the FA's view and the node's. */
struct duo {
	struct ipsec fa, mn;
	struct ike_child cf, cm;
	struct ipsec_pair *f, *m;
};

static void duo_release(void *p)
{
	struct duo *d = p;

	ipsec_free(&d->fa);
	ipsec_free(&d->mn);
	free(d);
}

static struct duo *duo_new(enum esp_alg alg)
{
	struct duo *d = calloc(1, sizeof(*d));
	size_t enc = alg == ESP_ALG_AES_GCM_16 ? 16 + ESP_GCM_SALT_LEN : 16;
	size_t auth = alg == ESP_ALG_AES_CBC_HMAC_SHA1_96      ? 20
		      : alg == ESP_ALG_AES_CBC_HMAC_SHA256_128 ? 32
							       : 0;
	struct ike_child *f, *m;

	ck_assert_ptr_nonnull(d);
	ipsec_init(&d->fa);
	ipsec_init(&d->mn);
	/* The FA's pairs borrow keyed contexts as mipsa-fa's do, from a cache small enough to
	 * evict. */
	ck_assert_int_eq(ipsec_use_cache(&d->fa, 1), 0);
	defer(duo_release, d);
	f = &d->cf;
	m = &d->cm;
	f->spi_in = 0x1000;
	f->spi_out = 0x2000;
	f->alg = alg;
	f->enc_len = enc;
	f->auth_len = auth;
	memset(f->enc_in, 0xa1, enc);
	memset(f->enc_out, 0xb2, enc);
	memset(f->auth_in, 0xc3, auth);
	memset(f->auth_out, 0xd4, auth);
	f->local = ip(FA_ALIAS);
	f->peer = ip(MN_ADDR);
	f->remote_net = ip(MN_HOME);
	f->remote_plen = 32;
	/* the node: the same keys the other way round */
	*m = *f;
	m->spi_in = f->spi_out;
	m->spi_out = f->spi_in;
	memcpy(m->enc_in, f->enc_out, enc);
	memcpy(m->enc_out, f->enc_in, enc);
	memcpy(m->auth_in, f->auth_out, auth);
	memcpy(m->auth_out, f->auth_in, auth);
	m->local = f->peer;
	m->peer = f->local;
	m->local_net = ip(MN_HOME);
	m->local_plen = 32;
	m->remote_net.s_addr = 0;
	m->remote_plen = 0;
	d->f = ipsec_add(&d->fa, f, ip(MN_HOME).s_addr);
	d->m = ipsec_add(&d->mn, m, ip(FA_ALIAS).s_addr);
	ck_assert_ptr_nonnull(d->f);
	ck_assert_ptr_nonnull(d->m);
	return d;
}

/* The node sends one packet numbered seq (its own counter set there). */
static void node_packet_at(const struct ike_child *c, uint64_t seq, struct pkt *k)
{
	struct esp_sa sa;
	struct esp_sa_state st;
	uint8_t inner[128];
	size_t n = inner_packet(inner, sizeof(inner), true);
	struct buf b;

	ck_assert_int_eq(esp_sa_init(&sa, c->spi_out, c->alg, c->enc_out, c->enc_len,
				     c->auth_len ? c->auth_out : NULL, c->auth_len),
			 ESP_OK);
	esp_sa_export_state(&sa, &st);
	st.seq_out = seq - 1;
	ck_assert_int_eq(esp_sa_import_state(&sa, &st), ESP_OK);
	buf_init_write(&b, k->b, sizeof(k->b));
	ck_assert_int_eq(esp_encap(&sa, inner, n, &b), ESP_OK);
	k->len = buf_used(&b);
	k->off = 0;
	k->seq = be32(k->b + 4);
	ck_assert_uint_eq(k->seq, (uint32_t)seq);
	esp_sa_clear(&sa);
}

enum seq_op {
	S_END = 0,
	S_SEND,       /* v0 packets, each allowed, numbered on, opened by the node */
	S_SEND_LIMIT, /* send while ipsec_may_send: exactly v0 packets */
	S_NEXT,       /* ipsec_next_seq(p, v0) == v1 */
	S_RESERVE,    /* ipsec_reserve(p, v0) */
	S_DONE,       /* ipsec_reserve_done(p, v0, flag) */
	S_HAND,       /* ipsec_hand_over(p, v0) */
	S_LEND,       /* ipsec_lend(p, v0, v1) == v2 */
	S_RECLAIM,    /* ipsec_reclaim(p, flag) == err */
	S_RELEASED,   /* ipsec_released(p, v0) == err; refused: the cap stays */
	S_OFFER,      /* ipsec_offer(p, v0, v1) == v2; 0: nothing changed */
	S_RENEW,      /* ipsec_offer_renew(p, v0) == err; refused: nothing changed */
	S_TOP,        /* ipsec_top(p) == v0 */
	S_TAKE,       /* ipsec_take_over(p, v0..v3, flag, cap) == err; refused: nothing changed */
	S_MAY,        /* ipsec_may_send(p) == flag */
	S_LAST,       /* the last number p sent == v0 */
	S_PEER,       /* the node sends number v0: the FA accepts it iff flag */
};

struct seq_step {
	enum seq_op op;
	uint64_t v[4];
	bool flag;
	uint64_t cap;
	enum esp_err err;
};

#define MAX_STEPS 24
struct seq_case {
	const char *name;
	bool bug; /* guards a bug found here (see the header) */
	struct seq_step s[MAX_STEPS];
};

/* clang-format off */
#define SEND(n)       {.op = S_SEND, .v = {(n)}}
#define SEND_LIMIT(n) {.op = S_SEND_LIMIT, .v = {(n)}}
#define NEXT(r, want) {.op = S_NEXT, .v = {(r), (want)}}
#define RESERVE_(s)   {.op = S_RESERVE, .v = {(s)}}
#define KEPT(s)       {.op = S_DONE, .v = {(s)}, .flag = true}
#define LOST(s)       {.op = S_DONE, .v = {(s)}, .flag = false}
#define HAND(s)       {.op = S_HAND, .v = {(s)}}
#define TAKE(so, top, sent, recv, hold, e) \
	{.op = S_TAKE, .v = {(so), (top), (sent), (recv)}, .flag = (hold), .err = (e)}
#define TAKE_CAP(so, hold, lc, e) \
	{.op = S_TAKE, .v = {(so)}, .flag = (hold), .cap = (lc), .err = (e)}
#define LEND(s, block, want) {.op = S_LEND, .v = {(s), (block), (want)}}
#define RECLAIM(hold, e) {.op = S_RECLAIM, .flag = (hold), .err = (e)}
#define RELEASED     {.op = S_RELEASED}
#define RELEASED_AT(top, e) {.op = S_RELEASED, .v = {(top)}, .err = (e)}
#define OFFER(block, n, want) {.op = S_OFFER, .v = {(block), (n), (want)}}
#define RENEW(block, e) {.op = S_RENEW, .v = {(block)}, .err = (e)}
#define TOP(n)        {.op = S_TOP, .v = {(n)}}
#define MAY(b)        {.op = S_MAY, .flag = (b)}
#define LAST(n)       {.op = S_LAST, .v = {(n)}}
#define PEER(seq, b)  {.op = S_PEER, .v = {(seq)}, .flag = (b)}
/* clang-format on */

#define R       RESERVE
#define TOO_BIG ((uint64_t)ESP_SEQ_MAX + 1)

static const struct seq_case seq_cases[] = {
	/* 0 */
	{"fresh pair: no limit; next_seq is what it sent plus the reserve",
	 false,
	 {MAY(true), NEXT(0, 0), NEXT(R, R), SEND(5), LAST(5), NEXT(R, 5 + R), NEXT(0, 5),
	  SEND(200), LAST(205), MAY(true)}},
	/* 1 */
	{"first store write limits at once, before any answer",
	 false,
	 {SEND(3), NEXT(R, 3 + R), RESERVE_(3 + R), MAY(true), NEXT(0, 3 + R), NEXT(R, 3 + R),
	  SEND_LIMIT(R), LAST(3 + R), MAY(false), NEXT(R, 3 + 2 * R)}},
	/* 2 */
	{"write kept; a renewal keeps the old limit until it is kept too",
	 false,
	 {SEND(2), NEXT(R, 2 + R), RESERVE_(2 + R), KEPT(2 + R), MAY(true), SEND_LIMIT(R),
	  LAST(2 + R), MAY(false), NEXT(R, 2 + 2 * R), RESERVE_(2 + 2 * R), MAY(false),
	  NEXT(0, 2 + 2 * R), SEND_LIMIT(0), KEPT(2 + 2 * R), MAY(true), SEND_LIMIT(R),
	  LAST(2 + 2 * R)}},
	/* 3 */
	{"write lost: the first promise still limits (the store may have kept it)",
	 false,
	 {SEND(2), RESERVE_(2 + R), LOST(2 + R), MAY(true), NEXT(0, 2 + R), SEND_LIMIT(R),
	  MAY(false), NEXT(R, 2 + 2 * R), RESERVE_(2 + 2 * R), LOST(2 + 2 * R), MAY(false),
	  SEND_LIMIT(0), NEXT(R, 2 + 2 * R), RESERVE_(2 + 2 * R), KEPT(2 + 2 * R), SEND_LIMIT(R),
	  LAST(2 + 2 * R)}},
	/* 4 */
	{"answers out of order: an older write's answer changes nothing",
	 false,
	 {SEND(1), RESERVE_(1 + R), SEND(10), NEXT(R, 11 + R), RESERVE_(11 + R), KEPT(1 + R),
	  NEXT(0, 11 + R), LOST(1 + R), NEXT(0, 11 + R), SEND_LIMIT(R - 10), MAY(false),
	  KEPT(11 + R), MAY(true), SEND_LIMIT(10), LAST(11 + R), KEPT(1 + R), MAY(false)}},
	/* 5 */
	{"handed over: always the same number, never sending past it",
	 false,
	 {SEND(5), NEXT(R, 5 + R), HAND(5 + R), NEXT(0, 5 + R), NEXT(R, 5 + R), NEXT(100000, 5 + R),
	  RESERVE_(500), KEPT(500), NEXT(R, 5 + R), MAY(true), SEND_LIMIT(R), LAST(5 + R),
	  MAY(false), NEXT(R, 5 + R), NEXT(0, 5 + R)}},
	/* 6 */
	{"handed over with a store write pending: the record is not below its promise",
	 false,
	 {SEND(5), RESERVE_(5 + R), SEND(10), NEXT(0, 5 + R), NEXT(R, 15 + R), HAND(15 + R),
	  KEPT(5 + R), NEXT(0, 15 + R), NEXT(R, 15 + R), LOST(15 + R), NEXT(R, 15 + R)}},
	/* 7 */
	{"regression: handed over at 0 (reserve 0 on an unused pair) must send nothing",
	 true,
	 {NEXT(0, 0), HAND(0), NEXT(R, 0), MAY(false), SEND_LIMIT(0)}},
	/* 8 */
	{"take over: the node sent more than the record's replay top",
	 false,
	 {TAKE(100, 20, 30, 0, false, ESP_OK), PEER(20, false), PEER(25, false), PEER(30, false),
	  PEER(31, true), PEER(31, false), PEER(29, false), LAST(100), MAY(true), SEND(1),
	  LAST(101)}},
	/* 9 */
	{"take over: the node sent less than the record's replay top",
	 false,
	 {TAKE(100, 20, 10, 0, false, ESP_OK), PEER(11, false), PEER(15, false), PEER(20, false),
	  PEER(21, true), PEER(22, true), PEER(21, false)}},
	/* 10 */
	{"take over: the node received above the record's seq_out",
	 false,
	 {TAKE(100, 0, 0, 150, false, ESP_OK), LAST(150), NEXT(0, 150), NEXT(R, 150 + R), MAY(true),
	  SEND(1), LAST(151), SEND(200), MAY(true), PEER(1, true)}},
	/* 11 */
	{"take over: the node received below the record's seq_out",
	 false,
	 {TAKE(100, 0, 0, 50, false, ESP_OK), LAST(100), SEND(1), LAST(101), MAY(true)}},
	/* 12 */
	{"take over with hold: nothing goes out until a kept write raises the limit",
	 false,
	 {TAKE(100, 0, 0, 0, true, ESP_OK), MAY(false), SEND_LIMIT(0), NEXT(R, 100 + R),
	  RESERVE_(100 + R), MAY(false), LOST(100 + R), MAY(false), SEND_LIMIT(0), NEXT(R, 100 + R),
	  RESERVE_(100 + R), KEPT(100 + R), MAY(true), SEND_LIMIT(R), LAST(100 + R)}},
	/* 13 */
	{"regression: take over with hold on an SA nobody sent on yet must hold too",
	 true,
	 {TAKE(0, 0, 0, 0, true, ESP_OK), MAY(false), SEND_LIMIT(0)}},
	/* 14 */
	{"a counter never goes back: take over below it is refused",
	 false,
	 {SEND(50), TAKE(10, 0, 0, 20, false, ESP_E_INVAL), LAST(50), MAY(true), SEND(1), LAST(51),
	  TAKE(51, 0, 0, 0, false, ESP_OK), LAST(51), TAKE(TOO_BIG, 0, 0, 0, false, ESP_E_INVAL),
	  TAKE(60, TOO_BIG, 0, 0, false, ESP_E_INVAL), TAKE(60, 0, TOO_BIG, 0, false, ESP_E_INVAL),
	  TAKE(60, 0, 0, TOO_BIG, false, ESP_E_INVAL), LAST(51), SEND(1), LAST(52)}},
	/* 15 */
	{"regression: a refused take over leaves the inbound window where it was",
	 true,
	 {PEER(40, true), SEND(50), TAKE(10, 5, 5, 20, false, ESP_E_INVAL), PEER(40, false),
	  PEER(41, true)}},
	/* 16 */
	{"take over of a handed-over pair (the SAs came back) starts afresh",
	 false,
	 {SEND(5), HAND(5 + R), TAKE(200, 0, 0, 0, false, ESP_OK), MAY(true), NEXT(R, 200 + R),
	  SEND(1), LAST(201), RESERVE_(200 + R), MAY(true), SEND_LIMIT(R - 1), LAST(200 + R)}},
	/* 17 */
	{"lent: the record's number is final for us, as when handed over",
	 false,
	 {SEND(5), LEND(5 + R, R, 5 + 2 * R), NEXT(0, 5 + R), NEXT(R, 5 + R), MAY(true),
	  SEND_LIMIT(R), LAST(5 + R), MAY(false)}},
	/* 18 */
	{"loan not confirmed: we go on above the block we lent",
	 false,
	 {SEND(5), LEND(5 + R, R, 5 + 2 * R), SEND(3), RECLAIM(false, ESP_OK), LAST(5 + 2 * R),
	  MAY(true), SEND(1), LAST(6 + 2 * R), NEXT(R, 6 + 3 * R), RECLAIM(false, ESP_E_INVAL),
	  LAST(6 + 2 * R), SEND(2)}},
	/* 19 */
	{"loan not confirmed, with a store: nothing goes out until a copy promising more is kept",
	 false,
	 {SEND(5), LEND(5 + R, R, 5 + 2 * R), RECLAIM(true, ESP_OK), MAY(false), SEND_LIMIT(0),
	  NEXT(R, 5 + 3 * R), RESERVE_(5 + 3 * R), MAY(false), LOST(5 + 3 * R), MAY(false),
	  RESERVE_(5 + 3 * R), KEPT(5 + 3 * R), MAY(true), SEND_LIMIT(R), LAST(5 + 3 * R)}},
	/* 20 */
	{"nothing lent, nothing to take back",
	 false,
	 {RECLAIM(false, ESP_E_INVAL), SEND(2), HAND(2 + R), RECLAIM(true, ESP_E_INVAL), MAY(true),
	  SEND_LIMIT(R), LAST(2 + R)}},
	/* 21 */
	{"a loan up to the last number: nothing left to take back",
	 false,
	 {LEND(ESP_SEQ_MAX - 5, R, ESP_SEQ_MAX), RECLAIM(false, ESP_E_SEQ_OVERFLOW), MAY(true),
	  SEND(1), LEND(ESP_SEQ_MAX, R, ESP_SEQ_MAX), LEND(TOO_BIG, R, ESP_SEQ_MAX)}},
	/* 22 */
	{"on loan: up to the cap and no further until released",
	 false,
	 {TAKE_CAP(100, false, 100 + R, ESP_OK), MAY(true), SEND_LIMIT(R), LAST(100 + R),
	  MAY(false), RELEASED, MAY(true), SEND(5), LAST(105 + R)}},
	/* 23 */
	{"on loan with a store: a copy promising more does not lift the cap",
	 false,
	 {TAKE_CAP(100, true, 100 + R / 2, ESP_OK), MAY(false), RESERVE_(100 + R), KEPT(100 + R),
	  MAY(true), SEND_LIMIT(R / 2), MAY(false), RELEASED, MAY(true), SEND_LIMIT(R / 2),
	  LAST(100 + R)}},
	/* 24 */
	{"a cap below the record's number is refused and changes nothing",
	 false,
	 {SEND(3), TAKE_CAP(100, false, 99, ESP_E_INVAL), LAST(3), MAY(true), SEND(1)}},
	/* 25 */
	{"offer: we send up to our limit, the members' blocks lie above it, a lend above them",
	 false,
	 {SEND(5), OFFER(R, 2, 5 + R), TOP(5 + 3 * R), MAY(true), NEXT(0, 5 + 3 * R),
	  NEXT(R, 5 + 3 * R), SEND_LIMIT(R), LAST(5 + R), MAY(false), TOP(5 + 3 * R)}},
	/* 26 */
	{"a second offer gives new blocks above the first, and our limit stays",
	 false,
	 {SEND(5), OFFER(R, 2, 5 + R), OFFER(R, 2, 5 + 3 * R), OFFER(R, 1, 5 + 5 * R),
	  TOP(5 + 6 * R), SEND_LIMIT(R), LAST(5 + R), MAY(false)}},
	/* 27 */
	{"our limit reached: renewal goes on above every block offered",
	 false,
	 {SEND(5), OFFER(R, 2, 5 + R), SEND_LIMIT(R), MAY(false), RENEW(R, ESP_OK), MAY(true),
	  LAST(5 + 3 * R), SEND(1), LAST(6 + 3 * R), SEND_LIMIT(R - 1), MAY(false),
	  OFFER(R, 1, 5 + 4 * R), TOP(5 + 5 * R), SEND_LIMIT(0)}},
	/* 28 */
	{"no renewal without offers, nor after a lend; no offers while lent",
	 false,
	 {RENEW(R, ESP_E_INVAL), SEND(3), OFFER(R, 1, 3 + R), LEND(3 + 2 * R, R, 3 + 3 * R),
	  RENEW(R, ESP_E_INVAL), OFFER(R, 1, 0), TOP(3 + 3 * R), MAY(true), SEND_LIMIT(R),
	  LAST(3 + R)}},
	/* 29 */
	{"taken from an offer: no offers on the loan; released, above the holder's top",
	 false,
	 {TAKE_CAP(100, false, 100 + R, ESP_OK), OFFER(R, 2, 0), SEND(5),
	  RELEASED_AT(100 + 3 * R, ESP_OK), LAST(100 + 3 * R), MAY(true), SEND(1),
	  LAST(101 + 3 * R), OFFER(R, 2, 101 + 4 * R), TOP(101 + 6 * R)}},
	/* 30 */
	{"released below what we sent: no number changes",
	 false,
	 {TAKE_CAP(100, false, 100 + R, ESP_OK), SEND(10), RELEASED_AT(50, ESP_OK), LAST(110),
	  MAY(true), SEND(R), LAST(110 + R)}},
	/* 31 */
	{"released past the last number is refused: the cap stays",
	 false,
	 {TAKE_CAP(100, false, 100 + R, ESP_OK), RELEASED_AT(TOO_BIG, ESP_E_SEQ_OVERFLOW),
	  SEND_LIMIT(R), MAY(false), LAST(100 + R)}},
	/* 32 */
	{"blocks that do not fit below the last number are not given",
	 false,
	 {TAKE(ESP_SEQ_MAX - 3 * R, 0, 0, 0, false, ESP_OK), OFFER(R, 3, 0),
	  TOP(ESP_SEQ_MAX - 3 * R), OFFER(R, 2, ESP_SEQ_MAX - 2 * R), TOP(ESP_SEQ_MAX),
	  RENEW(R, ESP_E_SEQ_OVERFLOW), SEND_LIMIT(R), MAY(false)}},
	/* 33 */
	{"the SAs come back on a loan within a block we offered: we go on above our blocks",
	 false,
	 {SEND(5), OFFER(R, 2, 5 + R), TAKE_CAP(5 + 2 * R, false, 5 + 4 * R, ESP_OK),
	  LAST(5 + 3 * R), MAY(true), SEND_LIMIT(R), LAST(5 + 4 * R), MAY(false)}},
};

#define N_SEQ_CASES ((int)(sizeof(seq_cases) / sizeof(seq_cases[0])))

static void seq_step(struct duo *d, int ci, size_t si, const struct seq_step *s)
{
	const struct seq_case *c = &seq_cases[ci];
	struct ipsec_pair *p = d->f;
	struct pkt k;

#define WHERE "%scase %d (%s) step %zu: "
#define AT    c->bug ? "regression: " : "", ci, c->name, si
	switch (s->op) {
	case S_END:
		break;
	case S_SEND:
		for (uint64_t i = 0; i < s->v[0]; i++) {
			uint64_t before = last_sent(p);
			ck_assert_msg(ipsec_may_send(p), WHERE "may not send %" PRIu64, AT,
				      before + 1);
			seal(p, false, &k);
			ck_assert_msg(k.seq == (uint32_t)(before + 1),
				      WHERE "sent %u after %" PRIu64, AT, k.seq, before);
			ck_assert_msg(open_at(&d->mn, &k) == IPSEC_OK, WHERE "the node refused %u",
				      AT, k.seq);
		}
		break;
	case S_SEND_LIMIT: {
		uint64_t n = 0;
		while (ipsec_may_send(p) && n <= s->v[0]) {
			uint64_t before = last_sent(p);
			seal(p, false, &k);
			ck_assert_msg(k.seq == (uint32_t)(before + 1),
				      WHERE "sent %u after %" PRIu64, AT, k.seq, before);
			ck_assert_msg(open_at(&d->mn, &k) == IPSEC_OK, WHERE "the node refused %u",
				      AT, k.seq);
			n++;
		}
		ck_assert_msg(n == s->v[0],
			      WHERE "sent %" PRIu64 " packets before the limit, want %" PRIu64
				    " (last %" PRIu64 ")",
			      AT, n, s->v[0], last_sent(p));
		break;
	}
	case S_NEXT: {
		uint64_t got = ipsec_next_seq(p, s->v[0]);
		ck_assert_msg(got == s->v[1],
			      WHERE "next_seq(%" PRIu64 ") = %" PRIu64 ", want %" PRIu64, AT,
			      s->v[0], got, s->v[1]);
		break;
	}
	case S_RESERVE:
		ipsec_reserve(p, s->v[0]);
		break;
	case S_DONE:
		ipsec_reserve_done(p, s->v[0], s->flag);
		break;
	case S_HAND:
		ipsec_hand_over(p, s->v[0]);
		break;
	case S_LEND: {
		uint64_t cap = ipsec_lend(p, s->v[0], s->v[1]);
		ck_assert_msg(cap == s->v[2], WHERE "lend: cap %" PRIu64 ", want %" PRIu64, AT, cap,
			      s->v[2]);
		break;
	}
	case S_RECLAIM: {
		struct ipsec_pair before = *p;
		enum esp_err e = ipsec_reclaim(p, s->flag);
		ck_assert_msg(e == s->err, WHERE "reclaim: %s, want %s", AT, esp_err_name(e),
			      esp_err_name(s->err));
		if (e != ESP_OK)
			ck_assert_msg(last_sent(p) == last_sent(&before) &&
					      p->handed_over == before.handed_over &&
					      p->lent_cap == before.lent_cap,
				      WHERE "a refused reclaim changed the outbound state", AT);
		break;
	}
	case S_RELEASED: {
		uint64_t cap = p->loan_cap;
		enum esp_err e = ipsec_released(p, s->v[0]);
		ck_assert_msg(e == s->err, WHERE "released: %s, want %s", AT, esp_err_name(e),
			      esp_err_name(s->err));
		ck_assert_msg(p->loan_cap == (e == ESP_OK ? 0 : cap),
			      WHERE "released: cap %" PRIu64, AT, p->loan_cap);
		break;
	}
	case S_OFFER: {
		struct ipsec_pair before = *p;
		uint64_t first = ipsec_offer(p, s->v[0], s->v[1]);
		ck_assert_msg(first == s->v[2], WHERE "offer: first %" PRIu64 ", want %" PRIu64, AT,
			      first, s->v[2]);
		if (first == 0)
			ck_assert_msg(p->offer_top == before.offer_top &&
					      p->reserved_seq == before.reserved_seq &&
					      p->seq_limited == before.seq_limited,
				      WHERE "a refused offer changed the pair", AT);
		break;
	}
	case S_RENEW: {
		struct ipsec_pair before = *p;
		enum esp_err e = ipsec_offer_renew(p, s->v[0]);
		ck_assert_msg(e == s->err, WHERE "renew: %s, want %s", AT, esp_err_name(e),
			      esp_err_name(s->err));
		if (e != ESP_OK)
			ck_assert_msg(last_sent(p) == last_sent(&before) &&
					      p->reserved_seq == before.reserved_seq,
				      WHERE "a refused renewal changed the pair", AT);
		break;
	}
	case S_TOP:
		ck_assert_msg(ipsec_top(p) == s->v[0], WHERE "top %" PRIu64 ", want %" PRIu64, AT,
			      ipsec_top(p), s->v[0]);
		break;
	case S_TAKE: {
		struct ipsec_pair before = *p;
		enum esp_err e =
			ipsec_take_over(p, s->v[0], s->v[1], s->v[2], s->v[3], s->flag, s->cap);
		ck_assert_msg(e == s->err, WHERE "take_over: %s, want %s", AT, esp_err_name(e),
			      esp_err_name(s->err));
		if (e != ESP_OK) {
			ck_assert_msg(last_sent(p) == last_sent(&before) &&
					      p->reserved_seq == before.reserved_seq &&
					      p->reserve_pending == before.reserve_pending &&
					      p->handed_over == before.handed_over &&
					      p->loan_cap == before.loan_cap,
				      WHERE "a refused take_over changed the outbound state", AT);
		}
		break;
	}
	case S_MAY:
		ck_assert_msg(ipsec_may_send(p) == s->flag,
			      WHERE "may_send %d, want %d (last %" PRIu64 ", reserved %" PRIu64
				    ", handed over %d)",
			      AT, ipsec_may_send(p), s->flag, last_sent(p), p->reserved_seq,
			      p->handed_over);
		break;
	case S_LAST:
		ck_assert_msg(last_sent(p) == s->v[0], WHERE "last sent %" PRIu64 ", want %" PRIu64,
			      AT, last_sent(p), s->v[0]);
		break;
	case S_PEER: {
		uint64_t drops = p->in.stats.in_drop_replay;
		node_packet_at(&d->cm, s->v[0], &k);
		enum ipsec_err e = open_at(&d->fa, &k);
		bool replayed = e != IPSEC_OK && p->in.stats.in_drop_replay == drops + 1;
		ck_assert_msg(s->flag ? e == IPSEC_OK : replayed,
			      WHERE "the node's %" PRIu64 ": %s, want %s", AT, s->v[0],
			      ipsec_err_name(e), s->flag ? "accepted" : "refused as a replay");
		break;
	}
	}
#undef WHERE
#undef AT
}

START_TEST(test_seq_table)
{
	const struct seq_case *c = &seq_cases[_i];
	struct duo *d = duo_new((enum esp_alg)(_i % ESP_ALG_MAX));

	for (size_t si = 0; si < MAX_STEPS && c->s[si].op != S_END; si++)
		seq_step(d, _i, si, &c->s[si]);
}
END_TEST

/* ---- agents: IKE engines, their pairs, records ---- */

static void pair_release(void *p)
{
	ike_pair_free(p);
	free(p);
}

/* The node and FA1 negotiate: one proposal each phase, so the test knows what it got. */
static struct ike_pair *negotiate(enum esp_alg alg, enum ike_hash hash)
{
	struct ike_pair *p = calloc(1, sizeof(*p));

	ck_assert_ptr_nonnull(p);
	ike_pair_init(p);
	for (int i = 0; i < 2; i++) {
		struct ike_config *c = &p->side[i].cfg;
		c->p1[0] = (struct ike_p1_prop){128, hash, IKE_GROUP_ECP256};
		c->n_p1 = 1;
		c->p2[0] = (struct ike_p2_prop){alg, 128};
		c->n_p2 = 1;
	}
	ike_pair_start(p);
	defer(pair_release, p);
	ike_pair_establish(p);
	for (int i = 0; i < 2; i++) {
		ck_assert_uint_eq(p->side[i].n_up, 1);
		ck_assert_int_eq(p->side[i].children[0].alg, alg);
	}
	return p;
}

static const struct sax_keys *dom_keys(void)
{
	static struct sax_keys k;

	memset(k.k_sa, 0x5a, sizeof(k.k_sa));
	memset(k.k_db, 0xdb, sizeof(k.k_db));
	k.have_k_sa = true;
	return &k;
}

/* ---- 4. proof of possession ---- */

static const enum ike_hash hashes[] = {IKE_HASH_SHA1, IKE_HASH_SHA2_256};
#define N_HASHES ((int)(sizeof(hashes) / sizeof(hashes[0])))

/* A registration request with the SA reuse extension last. */
struct reg {
	uint8_t b[512];
	size_t len;
	size_t covered; /* what the builder said the proof covers */
	size_t auth_off;
	struct mip_reuse_req req;
};

enum cookie_fault { CF_NONE, CF_ICOOKIE, CF_RCOOKIE, CF_SWAP };

/* What the node puts in a request, and what an attacker changes after it. */
struct claim_opts {
	enum cookie_fault cf;
	size_t auth_len;    /* 0: the PRF's */
	uint64_t id;        /* Identification; 0: a fixed one */
	const char *home;   /* NULL: MN_HOME */
	const char *prev;   /* NULL: FA1_COA */
	uint8_t mn_ha_key0; /* the MN-HA key's first byte (0: the node's) */
	const char *nai;    /* NULL: MN_ID */
};

/*
 * As mn_ipsec_extend does, after the NAI and the MN-HA authenticator: the
 * extension keyed from the node's exported ISAKMP SA, its proof over every
 * byte before the authenticator.  auth_len 0: the PRF's length; a longer
 * one is padded with zeros, a shorter one is the PRF output cut.
 */
static void build_claim(struct reg *r, struct ike_pair *p, const struct claim_opts *o)
{
	static struct sax_record mn_rec;
	struct sax_record *rec = &mn_rec;
	struct mip_reg_request rq = {.flags = MIP_RQ_T,
				     .lifetime = 600,
				     .home_addr = ip(o->home != NULL ? o->home : MN_HOME),
				     .home_agent = ip("10.8.0.1"),
				     .coa = ip(FA2_COA),
				     .id = o->id != 0 ? o->id : 0x1122334455667788ull};
	uint8_t mn_ha_key[17] = "0123456789abcdef";
	uint8_t mac[IKE_MAX_HASH] = {0}, *auth;
	size_t auth_len = o->auth_len;
	struct buf b;

	if (o->mn_ha_key0 != 0)
		mn_ha_key[0] = o->mn_ha_key0;
	ck_assert_int_eq(ike_export(p->side[0].eng, ip(FA_ALIAS), false, rec), 0);
	memset(r, 0, sizeof(*r));
	r->req.flags = 0;
	r->req.prev_coa = ip(o->prev != NULL ? o->prev : FA1_COA);
	memcpy(r->req.icookie, rec->isakmp.icookie, 8);
	memcpy(r->req.rcookie, rec->isakmp.rcookie, 8);
	r->req.mn_sent = 0x0102030405ull;
	r->req.mn_received = 0x0a0b0c0dull;
	switch (o->cf) {
	case CF_NONE:
		break;
	case CF_ICOOKIE:
		r->req.icookie[3] ^= 0x10;
		break;
	case CF_RCOOKIE:
		r->req.rcookie[7] ^= 0x01;
		break;
	case CF_SWAP:
		memcpy(r->req.icookie, rec->isakmp.rcookie, 8);
		memcpy(r->req.rcookie, rec->isakmp.icookie, 8);
		break;
	}
	if (auth_len == 0)
		auth_len = rec->isakmp.hash_len;
	buf_init_write(&b, r->b, sizeof(r->b));
	ck_assert_int_eq(mip_request_put(&b, &rq), 0);
	ck_assert_int_eq(mip_ext_put_nai(&b, o->nai != NULL ? o->nai : MN_ID,
					 strlen(o->nai != NULL ? o->nai : MN_ID)),
			 0);
	ck_assert_int_eq(mip_ext_put_auth(&b, MIP_EXT_MN_HA_AUTH, 0x100, mn_ha_key, 16), 0);
	ck_assert_int_eq(mip_ext_put_reuse(&b, &r->req, auth_len, &auth, &r->covered), 0);
	ck_assert_int_eq(ike_possession_mac(&rec->isakmp, buf_data(&b), r->covered, mac), 0);
	memcpy(auth, mac, auth_len);
	r->auth_off = r->covered;
	r->len = buf_used(&b);
	ck_assert_uint_eq(r->len, r->covered + auth_len);
	sax_record_wipe(rec);
}

static void build_request(struct reg *r, struct ike_pair *p, enum cookie_fault cf, size_t auth_len)
{
	struct claim_opts o = {.cf = cf, .auth_len = auth_len};

	build_claim(r, p, &o);
}

/* Both FAs' check of the request against a record's ISAKMP SA (reuse_claim_check). */
static enum reuse_verdict verify(const uint8_t *msg, size_t len, const struct sax_record *rec)
{
	struct mip_reg_request rq;

	return reuse_claim_check(msg, len, &rec->isakmp, &rq);
}

#define ck_verdict(got, want)                                                                      \
	do {                                                                                       \
		enum reuse_verdict got_ = (got), want_ = (want);                                   \
		ck_assert_msg(got_ == want_, "verdict %s, want %s", reuse_verdict_name(got_),      \
			      reuse_verdict_name(want_));                                          \
	} while (0)

/* FA1's record of the node's ISAKMP SA (what FA2 gets). */
static struct sax_record *fa_record(struct ike_pair *p)
{
	struct sax_record *rec = record_new();

	ck_assert_int_eq(ike_export(p->side[1].eng, ip(MN_ADDR), true, rec), 0);
	return rec;
}

START_TEST(test_possession_verifies)
{
	struct ike_pair *p = negotiate(ESP_ALG_AES_CBC_HMAC_SHA1_96, hashes[_i]);
	struct sax_record *rec = fa_record(p);
	struct mip_reg_request rq;
	struct reg r;

	build_request(&r, p, CF_NONE, 0);
	ck_assert_int_eq(mip_request_parse(r.b, r.len, &rq), MIP_PERR_OK);
	ck_assert(rq.ext.reuse.present);
	ck_assert_uint_eq(rq.ext.reuse.covered_len, r.covered);
	ck_assert_uint_eq(rq.ext.reuse.auth_len, hashes[_i] == IKE_HASH_SHA1 ? 20 : 32);
	ck_assert_ptr_eq(rq.ext.reuse.auth, r.b + r.auth_off);
	ck_assert_uint_eq(rq.ext.reuse.prev_coa.s_addr, ip(FA1_COA).s_addr);
	ck_assert_mem_eq(rq.ext.reuse.icookie, r.req.icookie, 8);
	ck_assert_mem_eq(rq.ext.reuse.rcookie, r.req.rcookie, 8);
	ck_assert_uint_eq(rq.ext.reuse.mn_sent, r.req.mn_sent);
	ck_assert_uint_eq(rq.ext.reuse.mn_received, r.req.mn_received);
	ck_assert(rq.ext.mn_ha.present);
	ck_assert_uint_eq(rq.ext.nai_len, strlen(MN_ID));
	ck_assert_uint_eq(rec->isakmp.hash_len, rq.ext.reuse.auth_len);
	ck_verdict(verify(r.b, r.len, rec), REUSE_OK);
}
END_TEST

/* One flipped bit anywhere, covered bytes and authenticator alike, and it fails. */
START_TEST(test_possession_bit_flips)
{
	struct ike_pair *p = negotiate(ESP_ALG_AES_CBC_HMAC_SHA1_96, hashes[_i]);
	struct sax_record *rec = fa_record(p);
	struct reg r;
	size_t n = 0;

	build_request(&r, p, CF_NONE, 0);
	ck_verdict(verify(r.b, r.len, rec), REUSE_OK);
	for (size_t i = 0; i < r.len; i++)
		for (int bit = 0; bit < 8; bit++) {
			r.b[i] ^= (uint8_t)(1u << bit);
			enum reuse_verdict v = verify(r.b, r.len, rec);
			ck_assert_msg(v != REUSE_OK, "byte %zu bit %d flipped: still verifies", i,
				      bit);
			r.b[i] ^= (uint8_t)(1u << bit);
			n++;
		}
	ck_assert_uint_eq(n, 8 * r.len);
	ck_verdict(verify(r.b, r.len, rec), REUSE_OK);
	/* The record's side: its key, its cookies. */
	rec->isakmp.skeyid_a[0] ^= 0x80;
	ck_verdict(verify(r.b, r.len, rec), REUSE_PROOF);
	rec->isakmp.skeyid_a[0] ^= 0x80;
	rec->isakmp.rcookie[0] ^= 0x02;
	ck_verdict(verify(r.b, r.len, rec), REUSE_COOKIES);
	rec->isakmp.rcookie[0] ^= 0x02;
	ck_verdict(verify(r.b, r.len, rec), REUSE_OK);
}
END_TEST

/* The record of another ISAKMP SA (a second negotiation) never verifies the proof. */
START_TEST(test_possession_other_sa)
{
	struct ike_pair *p = negotiate(ESP_ALG_AES_CBC_HMAC_SHA1_96, hashes[_i]);
	struct ike_pair *q = negotiate(ESP_ALG_AES_CBC_HMAC_SHA1_96, hashes[_i]);
	struct sax_record *rec = fa_record(p), *other = fa_record(q);
	struct reg r, rq2;

	build_request(&r, p, CF_NONE, 0);
	build_request(&rq2, q, CF_NONE, 0);
	ck_verdict(verify(r.b, r.len, rec), REUSE_OK);
	ck_verdict(verify(rq2.b, rq2.len, other), REUSE_OK);
	ck_assert(memcmp(rec->isakmp.icookie, other->isakmp.icookie, 8) != 0);
	/* crossed */
	ck_verdict(verify(r.b, r.len, other), REUSE_COOKIES);
	ck_verdict(verify(rq2.b, rq2.len, rec), REUSE_COOKIES);
	/* the other SA's record with this one's cookies: the key tells */
	memcpy(other->isakmp.icookie, rec->isakmp.icookie, 8);
	memcpy(other->isakmp.rcookie, rec->isakmp.rcookie, 8);
	ck_verdict(verify(r.b, r.len, other), REUSE_PROOF);
}
END_TEST

/* Cookies that are not the record's, the proof computed over them by the key holder. */
START_TEST(test_possession_wrong_cookies)
{
	struct ike_pair *p = negotiate(ESP_ALG_AES_CBC_HMAC_SHA1_96, hashes[_i]);
	struct sax_record *rec = fa_record(p);
	static const enum cookie_fault faults[] = {CF_ICOOKIE, CF_RCOOKIE, CF_SWAP};
	struct reg r;

	for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++) {
		build_request(&r, p, faults[i], 0);
		ck_verdict(verify(r.b, r.len, rec), REUSE_COOKIES);
	}
}
END_TEST

/* An authenticator shorter or longer than the SA's PRF, or cut off. */
START_TEST(test_possession_truncated_auth)
{
	struct ike_pair *p = negotiate(ESP_ALG_AES_CBC_HMAC_SHA1_96, hashes[_i]);
	struct sax_record *rec = fa_record(p);
	size_t hl = rec->isakmp.hash_len;
	struct reg r;

	/* the other length the parser accepts: PRF cut to 20, or padded to 32 */
	build_request(&r, p, CF_NONE, hl == 32 ? 20 : 32);
	ck_verdict(verify(r.b, r.len, rec), REUSE_PROOF);
	/* lengths the parser refuses */
	build_request(&r, p, CF_NONE, hl - 1);
	ck_verdict(verify(r.b, r.len, rec), REUSE_MALFORMED);
	build_request(&r, p, CF_NONE, 12);
	ck_verdict(verify(r.b, r.len, rec), REUSE_MALFORMED);
	/* the message cut anywhere inside the extension */
	build_request(&r, p, CF_NONE, 0);
	ck_verdict(verify(r.b, r.len, rec), REUSE_OK);
	for (size_t cut = 1; cut < 2 + 8 + 38 + hl; cut++)
		ck_assert_msg(verify(r.b, r.len - cut, rec) == REUSE_MALFORMED, "cut by %zu: %s",
			      cut, reuse_verdict_name(verify(r.b, r.len - cut, rec)));
	/* cut off whole: a request without the extension */
	ck_verdict(verify(r.b, r.len - (2 + 8 + 38 + hl), rec), REUSE_MALFORMED);
}
END_TEST

/* ---- the extension parser's length rules (table) ---- */

struct ext_case {
	const char *name;
	int ext_len;     /* the NVSE's Length byte */
	int present_len; /* bytes that follow it in the message (-1: ext_len) */
	uint32_t vendor; /* 0: ours */
	uint16_t type;   /* 0: SA reuse request */
	enum mip_perr want;
	bool present;
};

/* Head: Reserved (2), Vendor (4), NVSE type (2) = 8; fixed value 38; authenticator. */
static const struct ext_case ext_cases[] = {
	/* 0 */ {"NVSE head only", 8, -1, 0, 0, MIP_PERR_BAD_EXT, false},
	/* 1 */ {"fixed value one byte short", 8 + 37, -1, 0, 0, MIP_PERR_BAD_EXT, false},
	/* 2 */ {"fixed value, no authenticator", 8 + 38, -1, 0, 0, MIP_PERR_BAD_EXT, false},
	/* 3 */ {"authenticator 19", 8 + 38 + 19, -1, 0, 0, MIP_PERR_BAD_EXT, false},
	/* 4 */ {"authenticator 20 (HMAC-SHA1)", 8 + 38 + 20, -1, 0, 0, MIP_PERR_OK, true},
	/* 5 */ {"authenticator 21", 8 + 38 + 21, -1, 0, 0, MIP_PERR_BAD_EXT, false},
	/* 6 */ {"authenticator 31", 8 + 38 + 31, -1, 0, 0, MIP_PERR_BAD_EXT, false},
	/* 7 */ {"authenticator 32 (HMAC-SHA-256)", 8 + 38 + 32, -1, 0, 0, MIP_PERR_OK, true},
	/* 8 */ {"authenticator 33", 8 + 38 + 33, -1, 0, 0, MIP_PERR_BAD_EXT, false},
	/* 9 */ {"authenticator 209 (Length 255)", 255, -1, 0, 0, MIP_PERR_BAD_EXT, false},
	/* 10 */ {"Length past the end", 8 + 38 + 20, 8 + 38 + 19, 0, 0, MIP_PERR_TRUNCATED, false},
	/* 11 */ {"Length 78, nothing after it", 8 + 38 + 32, 0, 0, 0, MIP_PERR_TRUNCATED, false},
	/* 12 */ {"too short to name a vendor: skipped", 5, -1, 0, 0, MIP_PERR_OK, false},
	/* 13 */ {"another vendor's type 1: skipped", 8 + 38 + 20, -1, 1234, 0, MIP_PERR_OK, false},
	/* 14 */ {"our vendor, unknown type: skipped", 8 + 38 + 20, -1, 0, 9, MIP_PERR_OK, false},
};
#define N_EXT_CASES ((int)(sizeof(ext_cases) / sizeof(ext_cases[0])))

/* A request whose last extension is an NVSE as the case describes; its length. */
static size_t request_with_nvse(uint8_t *out, size_t cap, const struct ext_case *c)
{
	struct mip_reg_request rq = {.lifetime = 600, .home_addr = ip(MN_HOME)};
	uint8_t body[255];
	uint32_t vendor = c->vendor ? c->vendor : MIP_NVSE_VENDOR;
	uint16_t type = c->type ? c->type : MIP_NVSE_SA_REUSE;
	size_t present = c->present_len < 0 ? (size_t)c->ext_len : (size_t)c->present_len;
	struct buf b;

	for (size_t i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)(0x40 + i);
	body[0] = body[1] = 0;
	body[2] = (uint8_t)(vendor >> 24);
	body[3] = (uint8_t)(vendor >> 16);
	body[4] = (uint8_t)(vendor >> 8);
	body[5] = (uint8_t)vendor;
	body[6] = (uint8_t)(type >> 8);
	body[7] = (uint8_t)type;
	buf_init_write(&b, out, cap);
	ck_assert_int_eq(mip_request_put(&b, &rq), 0);
	ck_assert_int_eq(buf_put_u8(&b, MIP_EXT_NVSE), BUF_OK);
	ck_assert_int_eq(buf_put_u8(&b, (uint8_t)c->ext_len), BUF_OK);
	ck_assert_int_eq(buf_put_bytes(&b, body, present), BUF_OK);
	return buf_used(&b);
}

START_TEST(test_reuse_ext_lengths)
{
	const struct ext_case *c = &ext_cases[_i];
	uint8_t msg[512];
	size_t len = request_with_nvse(msg, sizeof(msg), c);
	struct mip_reg_request rq;
	enum mip_perr e = mip_request_parse(msg, len, &rq);

	ck_assert_msg(e == c->want, "case %d (%s): %s, want %s", _i, c->name, mip_perr_name(e),
		      mip_perr_name(c->want));
	ck_assert_msg(rq.ext.reuse.present == c->present, "case %d (%s): present %d", _i, c->name,
		      rq.ext.reuse.present);
	if (c->present) {
		size_t fixed = len - 2 - (size_t)c->ext_len;
		ck_assert_uint_eq(rq.ext.reuse.covered_len, fixed + 2 + 8 + 38);
		ck_assert_uint_eq(rq.ext.reuse.auth_len, (size_t)c->ext_len - 8 - 38);
		ck_assert_ptr_eq(rq.ext.reuse.auth, msg + fixed + 2 + 8 + 38);
	}
}
END_TEST

/* Every Length 0..255: only 66 and 78 carry a request; below 8 it is someone else's. */
START_TEST(test_reuse_ext_every_length)
{
	uint8_t msg[512];
	struct mip_reg_request rq;

	for (int l = 0; l <= 255; l++) {
		struct ext_case c = {"sweep", l, -1, 0, 0, MIP_PERR_OK, false};
		size_t len = request_with_nvse(msg, sizeof(msg), &c);
		enum mip_perr e = mip_request_parse(msg, len, &rq);
		bool ok = l == 8 + 38 + 20 || l == 8 + 38 + 32;
		enum mip_perr want = l < 8 || ok ? MIP_PERR_OK : MIP_PERR_BAD_EXT;
		ck_assert_msg(e == want, "Length %d: %s, want %s", l, mip_perr_name(e),
			      mip_perr_name(want));
		ck_assert_msg(rq.ext.reuse.present == ok, "Length %d: present %d", l,
			      rq.ext.reuse.present);
		if (l < 8)
			ck_assert_uint_eq(rq.ext.skipped, 1);
	}
}
END_TEST

START_TEST(test_reuse_ext_builder)
{
	struct mip_reuse_req req = {.prev_coa = ip(FA1_COA), .mn_sent = 7, .mn_received = 9};
	struct mip_reg_request rq = {.lifetime = 600, .home_addr = ip(MN_HOME)};
	struct mip_reg_request got;
	uint8_t msg[512], *auth;
	size_t covered, fixed;
	struct buf b;

	/* oversized: refused by the builder */
	buf_init_write(&b, msg, sizeof(msg));
	ck_assert_int_eq(mip_request_put(&b, &rq), 0);
	fixed = buf_used(&b);
	ck_assert_int_eq(mip_ext_put_reuse(&b, &req, 33, &auth, &covered), -1);
	/* no room */
	buf_init_write(&b, msg, fixed + 2 + 8 + 38 + 19);
	ck_assert_int_eq(mip_request_put(&b, &rq), 0);
	ck_assert_int_eq(mip_ext_put_reuse(&b, &req, 20, &auth, &covered), -1);
	/* twice: the parser refuses the duplicate */
	buf_init_write(&b, msg, sizeof(msg));
	ck_assert_int_eq(mip_request_put(&b, &rq), 0);
	ck_assert_int_eq(mip_ext_put_reuse(&b, &req, 20, &auth, &covered), 0);
	ck_assert_uint_eq(covered, fixed + 2 + 8 + 38);
	memset(auth, 0xaa, 20);
	ck_assert_int_eq(mip_request_parse(msg, buf_used(&b), &got), MIP_PERR_OK);
	ck_assert(got.ext.reuse.present);
	ck_assert_uint_eq(got.ext.reuse.mn_sent, 7);
	ck_assert_uint_eq(got.ext.reuse.mn_received, 9);
	ck_assert_int_eq(mip_ext_put_reuse(&b, &req, 32, &auth, &covered), 0);
	memset(auth, 0xbb, 32);
	ck_assert_int_eq(mip_request_parse(msg, buf_used(&b), &got), MIP_PERR_DUP_EXT);
}
END_TEST

/* The FA's answer in the reply: status and reason, exactly two bytes. */
START_TEST(test_reuse_status_ext)
{
	struct mip_reg_reply rp = {
		.code = MIP_CODE_ACCEPTED, .lifetime = 600, .home_addr = ip(MN_HOME)};
	struct mip_reg_reply got;
	uint8_t msg[256];
	struct buf b;
	size_t fixed;

	buf_init_write(&b, msg, sizeof(msg));
	ck_assert_int_eq(mip_reply_put(&b, &rp), 0);
	fixed = buf_used(&b);
	ck_assert_int_eq(mip_ext_put_reuse_status(&b, MIP_REUSE_PARTIAL, 7), 0);
	ck_assert_uint_eq(buf_used(&b), fixed + 2 + 8 + 2);
	ck_assert_int_eq(mip_reply_parse(msg, buf_used(&b), &got), MIP_PERR_OK);
	ck_assert(got.ext.reuse_status.present);
	ck_assert_uint_eq(got.ext.reuse_status.status, MIP_REUSE_PARTIAL);
	ck_assert_uint_eq(got.ext.reuse_status.reason, 7);
	ck_assert(!got.ext.reuse.present);
	/* truncated: one byte of value (Length and the message both shortened) */
	msg[fixed + 1] = 8 + 1;
	ck_assert_int_eq(mip_reply_parse(msg, fixed + 2 + 8 + 1, &got), MIP_PERR_BAD_EXT);
	ck_assert(!got.ext.reuse_status.present);
	/* oversized: three bytes */
	msg[fixed + 1] = 8 + 3;
	msg[fixed + 2 + 8 + 2] = 0;
	ck_assert_int_eq(mip_reply_parse(msg, fixed + 2 + 8 + 3, &got), MIP_PERR_BAD_EXT);
	/* twice */
	msg[fixed + 1] = 8 + 2;
	buf_init_append(&b, msg, sizeof(msg), fixed + 2 + 8 + 2);
	ck_assert_int_eq(mip_ext_put_reuse_status(&b, MIP_REUSE_FULL, 0), 0);
	ck_assert_int_eq(mip_reply_parse(msg, buf_used(&b), &got), MIP_PERR_DUP_EXT);
}
END_TEST

/* ---- 5. the claim at the FA that holds the SAs: forged and replayed requests ---- */

#define NOW_S       3976000000ull /* our clock, NTP seconds */
#define ID(s)       (((uint64_t)(NOW_S + (s)) << 32) | 0x1234u)
#define WINDOW_S    30
#define FLOOD       ((1u << 20) + 2) /* past the default seq_reserve */
#define NO_ACCEPTED INT64_MIN

struct claim_case {
	const char *name;
	struct claim_opts o;
	int64_t id_s;   /* the request's Identification: our clock + id_s */
	int64_t last_s; /* the last registration accepted through us (NO_ACCEPTED: none) */
	bool copied;    /* the node's genuine extension pasted behind the request o describes */
	size_t cut;     /* bytes cut off the end */
	enum reuse_verdict want;
};

static const struct claim_case claim_cases[] = {
	/* 0 */ {"the node's own, newer than the last accepted", {0}, 1, -10, false, 0, REUSE_OK},
	/* 1 */ {"replay of the last registration accepted", {0}, -10, -10, false, 0, REUSE_REPLAY},
	/* 2 */ {"replay of an older registration", {0}, -20, -10, false, 0, REUSE_REPLAY},
	/* 3 */
	{"its extension copied behind a new Identification", {0}, 2, -10, true, 0, REUSE_PROOF},
	/* 4 */
	{"copied, new Identification, wrong MN-HA authenticator",
	 {.mn_ha_key0 = 'X'},
	 2,
	 -10,
	 true,
	 0,
	 REUSE_PROOF},
	/* 5 */
	{"the node's own but a wrong MN-HA authenticator",
	 {.mn_ha_key0 = 'X'},
	 1,
	 -10,
	 true,
	 0,
	 REUSE_PROOF},
	/* 6 */
	{"names another FA as the one it leaves",
	 {.prev = FA2_COA},
	 1,
	 -10,
	 false,
	 0,
	 REUSE_OTHER_FA},
	/* 7 */
	{"for another home address", {.home = "10.7.0.11"}, 1, -10, false, 0, REUSE_OTHER_NODE},
	/* 8 */ {"Identification far behind our clock", {0}, -100, -200, false, 0, REUSE_STALE},
	/* 9 */ {"Identification far ahead of our clock", {0}, 100, -10, false, 0, REUSE_STALE},
	/* 10 */
	{"no registration accepted through us", {0}, 1, NO_ACCEPTED, false, 0, REUSE_REPLAY},
	/* 11 */
	{"another ISAKMP SA's cookies", {.cf = CF_ICOOKIE}, 1, -10, false, 0, REUSE_COOKIES},
	/* 12 */ {"cut short by a byte", {0}, 1, -10, false, 1, REUSE_MALFORMED},
	/* 13 */
	{"another node's NAI, as long as ours",
	 {.nai = "mn@tesT"},
	 1,
	 -10,
	 false,
	 0,
	 REUSE_OTHER_NODE},
	/* 14 */
	{"another node's NAI, ours and more",
	 {.nai = "mn@test2"},
	 1,
	 -10,
	 false,
	 0,
	 REUSE_OTHER_NODE},
};
#define N_CLAIM_CASES ((int)(sizeof(claim_cases) / sizeof(claim_cases[0])))

/*
 * The request the case describes, as FA2 sends it (a SAX_REQUEST with the
 * registration sealed) and FA1 reads it: the registration FA1 decides on.
 */
static void claim_request(struct ike_pair *p, const struct claim_case *c, struct sax_msg *got)
{
	static struct sax_msg msg;
	static uint8_t out[SAX_MSG_MAX];
	struct claim_opts o = c->o;
	struct reg *r = zalloc(sizeof(*r)), *genuine = zalloc(sizeof(*genuine));
	struct buf b;

	o.id = ID(c->id_s);
	build_claim(r, p, &o);
	if (c->copied) {
		/* what an attacker has: the node's request as it went over the link */
		struct claim_opts g = {.id = ID(1)};
		build_claim(genuine, p, &g);
		ck_assert_uint_eq(genuine->len, r->len);
		memcpy(r->b + r->auth_off, genuine->b + genuine->auth_off, r->len - r->auth_off);
	}
	memset(&msg, 0, sizeof(msg));
	msg.type = SAX_REQUEST;
	msg.sender = ip(FA2_COA);
	memcpy(msg.mn_id, MN_ID, strlen(MN_ID));
	msg.mn_id_len = strlen(MN_ID);
	memcpy(msg.req.reg, r->b, r->len - c->cut);
	msg.req.reg_len = (uint16_t)(r->len - c->cut);
	sax_stamp(&msg);
	buf_init_write(&b, out, sizeof(out));
	ck_assert_int_eq(sax_build(&b, &msg, dom_keys()), SAX_E_OK);
	ck_assert_int_eq(sax_parse(out, buf_used(&b), dom_keys(), wall_ms(), 30000, NULL, got),
			 SAX_E_OK);
	ck_assert_uint_eq(got->req.reg_len, r->len - c->cut);
}

/* FA1 decides as fa_serve_request does; it lends the pair only on REUSE_OK. */
static enum reuse_verdict claim_serve(struct ike_pair *p, struct ipsec *fa1_ip,
				      const struct claim_case *c, struct sax_record *rec)
{
	static struct sax_msg got;
	struct reuse_holder h = {.home = ip(MN_HOME),
				 .id = MN_ID,
				 .id_len = strlen(MN_ID),
				 .us = ip(FA1_COA),
				 .last_accepted = c->last_s == NO_ACCEPTED ? 0 : ID(c->last_s),
				 .now_ntp = ID(0),
				 .window_s = WINDOW_S};
	enum reuse_verdict v;

	claim_request(p, c, &got);
	ck_assert_int_eq(ike_export(p->side[1].eng, ip(MN_ADDR), true, rec), 0);
	h.sa = &rec->isakmp;
	v = reuse_claim_serve(got.req.reg, got.req.reg_len, &h);
	OPENSSL_cleanse(&got, sizeof(got));
	return v;
}

/* Each case: the verdict, and a refused request leaves FA1's pair as it was. */
START_TEST(test_claim_cases)
{
	const struct claim_case *c = &claim_cases[_i];
	struct ike_pair *p = negotiate((enum esp_alg)(_i % ESP_ALG_MAX), hashes[_i % N_HASHES]);
	struct ipsec *fa1_ip = ipsec_new(), *mn_ip = ipsec_new();
	struct sax_record *rec = record_new();
	struct ipsec_pair *f1 = ipsec_add(fa1_ip, &p->side[1].children[0], ip(MN_HOME).s_addr);
	struct ipsec_pair before;
	enum reuse_verdict v;

	ck_assert_ptr_nonnull(ipsec_add(mn_ip, &p->side[0].children[0], ip(FA_ALIAS).s_addr));
	send_n(f1, false, 10, mn_ip, NULL);
	before = *f1;
	v = claim_serve(p, fa1_ip, c, rec);
	ck_assert_msg(v == c->want, "case %d (%s): %s, want %s", _i, c->name, reuse_verdict_name(v),
		      reuse_verdict_name(c->want));
	/* what the holder then does with a claim is test_handover's (the real fa_reuse.c) */
	ck_assert_msg(!f1->handed_over && f1->lent_cap == 0 && !f1->seq_limited &&
			      f1->reserved_seq == before.reserved_seq && last_sent(f1) == 10,
		      "case %d (%s): a refused request changed the pair", _i, c->name);
	send_n(f1, false, 10, mn_ip, NULL);
}
END_TEST

/*
 * The node back at an FA that still holds its SAs and has accepted no
 * registration through them (window_only, fa_own_claim): with nothing to
 * compare against, its Identification must still lie within the window of
 * our clock, in the past and in the future.
 */
START_TEST(test_claim_window_only)
{
	static const struct {
		int64_t id_s;
		enum reuse_verdict want;
	} t[] = {{1, REUSE_OK},
		 {-WINDOW_S + 1, REUSE_OK},
		 {-WINDOW_S - 5, REUSE_STALE},
		 {WINDOW_S + 5, REUSE_STALE},
		 {-100, REUSE_STALE}};
	struct ike_pair *p = negotiate(ESP_ALG_AES_GCM_16, IKE_HASH_SHA1);
	struct sax_record *rec = record_new();
	static struct sax_msg got;

	ck_assert_int_eq(ike_export(p->side[1].eng, ip(MN_ADDR), true, rec), 0);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const struct claim_case c = {.name = "window only", .id_s = t[i].id_s};
		struct reuse_holder h = {.sa = &rec->isakmp,
					 .home = ip(MN_HOME),
					 .id = MN_ID,
					 .id_len = strlen(MN_ID),
					 .us = ip(FA1_COA),
					 .window_only = true,
					 .now_ntp = ID(0),
					 .window_s = WINDOW_S};
		enum reuse_verdict v;

		claim_request(p, &c, &got);
		v = reuse_claim_serve(got.req.reg, got.req.reg_len, &h);
		ck_assert_msg(v == t[i].want, "Identification %+" PRId64 " s: %s, want %s",
			      t[i].id_s, reuse_verdict_name(v), reuse_verdict_name(t[i].want));
		OPENSSL_cleanse(&got, sizeof(got));
	}
}
END_TEST

/*
 * Every refused request against one FA in a row, then more packets towards
 * the node than a lent pair could ever carry: none is refused, and the
 * node opens each one.
 */
START_TEST(test_claims_then_flood)
{
	struct ike_pair *p = negotiate(ESP_ALG_AES_GCM_16, IKE_HASH_SHA1);
	struct ipsec *fa1_ip = ipsec_new(), *mn_ip = ipsec_new();
	struct sax_record *rec = record_new();
	struct ipsec_pair *f1 = ipsec_add(fa1_ip, &p->side[1].children[0], ip(MN_HOME).s_addr);
	size_t refused = 0;
	struct pkt k;

	ck_assert_ptr_nonnull(ipsec_add(mn_ip, &p->side[0].children[0], ip(FA_ALIAS).s_addr));
	for (int i = 0; i < N_CLAIM_CASES; i++) {
		if (claim_cases[i].want == REUSE_OK)
			continue;
		ck_assert_int_eq(claim_serve(p, fa1_ip, &claim_cases[i], rec), claim_cases[i].want);
		refused++;
	}
	ck_assert_uint_eq(refused, N_CLAIM_CASES - 1);
	seal(f1, false, &k);
	ck_assert_int_eq(open_at(mn_ip, &k), IPSEC_OK);
	/* plain ifs: every ck_assert costs a message to Check's parent process */
	for (uint32_t i = 1; i < FLOOD; i++) {
		uint8_t inner[64];
		size_t n = inner_packet(inner, sizeof(inner), false);
		if (!ipsec_may_send(f1) ||
		    ipsec_seal(f1, inner, n, k.b, sizeof(k.b), &k.len) != ESP_OK)
			ck_abort_msg("packet %u towards the node refused", i + 1);
		if (open_at(mn_ip, &k) != IPSEC_OK)
			ck_abort_msg("the node refused packet %u", i + 1);
	}
	ck_assert_uint_eq(last_sent(f1), FLOOD);
}
END_TEST

/* ---- 6. the endpoint's send path keeps to the numbers it may use ---- */

static size_t ep_frames;

static void ep_to_link(void *arg, const uint8_t mac[6], const uint8_t *pkt, size_t len)
{
	(void)arg;
	(void)mac;
	(void)pkt;
	(void)len;
	ep_frames++;
}

static void ep_release(void *p)
{
	ipsec_ep_free(p);
	free(p);
}

/*
 * ipsec_ep_seal_send on a pair limited to 3 numbers (reserved for the next
 * holder above): 3 frames leave, the 4th is refused and counted as
 * esp_drop_reserved, and nothing more reaches the link.
 */
START_TEST(test_ep_send_reserved)
{
	struct duo *d = duo_new(ESP_ALG_AES_GCM_16);
	struct ipsec_ep *ep = calloc(1, sizeof(*ep));
	const struct ike_ops owner = {0};
	const struct ipsec_ep_ops ops = {.to_link = ep_to_link};
	const uint8_t mac[6] = {2, 0, 0, 0, 0, 1};
	struct ipsec_pair *p;
	uint8_t inner[128];
	size_t n;

	ck_assert_ptr_nonnull(ep);
	ck_assert_int_eq(ipsec_ep_init(ep, NULL, NULL, &owner, &ops), 0);
	defer(ep_release, ep);
	p = ipsec_add(&ep->sas, &d->cf, ip(MN_HOME).s_addr);
	ck_assert_ptr_nonnull(p);
	ipsec_reserve(p, 3);
	ep_frames = 0;
	for (int i = 0; i < 5; i++) {
		n = inner_packet(inner, sizeof(inner), false);
		ck_assert_int_eq(ipsec_ep_seal_send(ep, p, mac, inner, n), i < 3 ? 0 : -1);
	}
	ck_assert_uint_eq(ep_frames, 3);
	ck_assert_uint_eq(ep->ctr.esp_out, 3);
	ck_assert_uint_eq(ep->ctr.esp_drop_reserved, 2);
	ck_assert_uint_eq(last_sent(p), 3);
}
END_TEST

/* The FA's cache of keyed contexts: sized in pairs, set before any pair exists. */
START_TEST(test_ipsec_cache)
{
	struct ipsec *t = ipsec_new();
	struct esp_cache_stats st;
	struct duo *d;

	ck_assert_int_eq(ipsec_use_cache(t, 0), 0);
	ck_assert_ptr_null(t->cache);
	ck_assert_int_eq(ipsec_use_cache(t, 3), 0);
	esp_cache_get_stats(t->cache, &st);
	ck_assert_uint_eq(st.slots, 6);
	ck_assert_uint_eq(st.bound, 0);
	d = duo_new(ESP_ALG_AES_GCM_16);
	/* The pair there keeps what it was made with: no switch under it. */
	ck_assert_int_eq(ipsec_use_cache(&d->fa, 4), -1);
	ck_assert_int_eq(ipsec_use_cache(&d->fa, 0), -1);
}
END_TEST

static Suite *reuse_suite(void)
{
	Suite *s = suite_create("reuse");
	TCase *tc;

	tc = tcase_create("seq_table");
	tcase_add_loop_test(tc, test_seq_table, 0, N_SEQ_CASES);
	tcase_add_test(tc, test_ipsec_cache);
	tcase_add_checked_fixture(tc, NULL, teardown);
	suite_add_tcase(s, tc);

	tc = tcase_create("possession");
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_possession_verifies, 0, N_HASHES);
	tcase_add_loop_test(tc, test_possession_bit_flips, 0, N_HASHES);
	tcase_add_loop_test(tc, test_possession_other_sa, 0, N_HASHES);
	tcase_add_loop_test(tc, test_possession_wrong_cookies, 0, N_HASHES);
	tcase_add_loop_test(tc, test_possession_truncated_auth, 0, N_HASHES);
	tcase_add_loop_test(tc, test_reuse_ext_lengths, 0, N_EXT_CASES);
	tcase_add_test(tc, test_reuse_ext_every_length);
	tcase_add_test(tc, test_reuse_ext_builder);
	tcase_add_test(tc, test_reuse_status_ext);
	tcase_add_checked_fixture(tc, NULL, teardown);
	suite_add_tcase(s, tc);

	tc = tcase_create("claims");
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_claim_cases, 0, N_CLAIM_CASES);
	tcase_add_test(tc, test_claim_window_only);
	tcase_add_checked_fixture(tc, NULL, teardown);
	suite_add_tcase(s, tc);

	/* its own case: a million packets, which a run of CK_RUN_CASE=claims leaves out */
	tc = tcase_create("flood");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_claims_then_flood);
	tcase_add_checked_fixture(tc, NULL, teardown);
	suite_add_tcase(s, tc);

	tc = tcase_create("endpoint");
	tcase_add_test(tc, test_ep_send_reserved);
	tcase_add_checked_fixture(tc, NULL, teardown);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_main(reuse_suite());
}
