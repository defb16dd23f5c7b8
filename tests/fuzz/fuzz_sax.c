/*
 * Fuzz the SA transfer codec (common/sax.c).  The first input byte picks a
 * mode (byte % 4) and options (the other bits); the second is a parameter;
 * the rest is the data:
 *
 *   0  sax_parse of the data as it comes, with fixed keys, K_SA or not
 *      (bit 2), a window of 30 s or 0 (bit 3), at a fixed clock.  Nearly
 *      everything stops at the structure or the HMAC.
 *   1  the same after writing a valid HMAC (K_DB) over the data into its
 *      last 32 bytes, at a clock near the message's own timestamp (the
 *      parameter moves it), so freshness, the Sealed field and the replay
 *      cache are reached; mutants of the seeds (genuine messages) open.
 *   2  the data sealed as the TLV list of a RECORD, a STORE_PUT (parameter
 *      bit 0) or a REQUEST (bit 1) with the test hook sax_build_raw, and
 *      parsed with K_SA: the TLV parser in full, a record's (children,
 *      the optional LOAN_CAP) or a REQUEST's (the registration).
 *   3  the replay cache against a model: the data is a list of 4-byte
 *      operations (sender, nonce, timestamp step, clock step); the cache
 *      must say REPLAY exactly when the model does.
 *
 * Whatever parses is built again (same keys, the IV it had) and parsed
 * again, and must come back equal: header, Sealed field (store role),
 * record or registration (FA role).  What an FA accepts, the store (no
 * K_SA) accepts too.  Every error must be one the check order allows.
 *
 * The seed corpus in tests/fuzz/corpus/fuzz_sax/ is written by this file
 * built as a program, after make:
 *   cc -std=c11 -D_GNU_SOURCE -DFUZZ_SAX_MAKE_SEEDS -Icommon tests/fuzz/fuzz_sax.c \
 *      common/libmipsa.a -lcrypto -o /tmp/mkseeds
 *   /tmp/mkseeds tests/fuzz/corpus/fuzz_sax
 */
#include "buf.h"
#include "log.h"
#include "sax.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#define FZ_NOW    1767225600000ull /* 2026-01-01T00:00:00Z */
#define FZ_WINDOW 30000
#define MAX_IN    (SAX_MSG_MAX + 64)

static struct sax_keys fz_keys;
static uint8_t work[MAX_IN], again[SAX_MSG_MAX];
static struct sax_msg m1, m2, mb;

static void fz_keys_init(void)
{
	for (int i = 0; i < SAX_KEY_LEN; i++) {
		fz_keys.k_sa[i] = (uint8_t)(0x11 * (i + 1));
		fz_keys.k_db[i] = (uint8_t)(0xa5 ^ (i * 7));
	}
	fz_keys.have_k_sa = true;
}

static void fz_hmac(const uint8_t *d, size_t n, uint8_t out[SAX_MAC_LEN])
{
	OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
								(char *)(uintptr_t) "SHA256", 0),
			       OSSL_PARAM_construct_end()};
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
	size_t outl = 0;

	CHECK(ctx != NULL && EVP_MAC_init(ctx, fz_keys.k_db, SAX_KEY_LEN, params) == 1);
	CHECK(EVP_MAC_update(ctx, d, n) == 1);
	CHECK(EVP_MAC_final(ctx, out, &outl, SAX_MAC_LEN) == 1 && outl == SAX_MAC_LEN);
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
}

static bool fz_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

static void fz_child_eq(const struct sax_child *a, const struct sax_child *b)
{
	CHECK(a->spi_in == b->spi_in && a->spi_out == b->spi_out && a->alg == b->alg);
	CHECK(a->key_bits == b->key_bits && a->enc_len == b->enc_len && a->auth_len == b->auth_len);
	CHECK(memcmp(a->enc_in, b->enc_in, sizeof(a->enc_in)) == 0);
	CHECK(memcmp(a->enc_out, b->enc_out, sizeof(a->enc_out)) == 0);
	CHECK(memcmp(a->auth_in, b->auth_in, sizeof(a->auth_in)) == 0);
	CHECK(memcmp(a->auth_out, b->auth_out, sizeof(a->auth_out)) == 0);
	CHECK(a->expires_ms == b->expires_ms && a->lifetime_kb == b->lifetime_kb);
	CHECK(a->bytes == b->bytes && a->seq_out == b->seq_out && a->replay_top == b->replay_top);
	CHECK(a->loan_cap == b->loan_cap);
	CHECK(a->udp_encap == b->udp_encap && a->local_port == b->local_port &&
	      a->peer_port == b->peer_port);
	CHECK(a->local_net.s_addr == b->local_net.s_addr &&
	      a->remote_net.s_addr == b->remote_net.s_addr);
	CHECK(a->local_plen == b->local_plen && a->remote_plen == b->remote_plen);
}

static void fz_record_eq(const struct sax_record *a, const struct sax_record *b)
{
	const struct sax_isakmp *x = &a->isakmp, *y = &b->isakmp;

	CHECK(memcmp(x->icookie, y->icookie, 8) == 0 && memcmp(x->rcookie, y->rcookie, 8) == 0);
	CHECK(x->hash == y->hash && x->key_bits == y->key_bits && x->group == y->group &&
	      x->auth == y->auth);
	CHECK(x->hash_len == y->hash_len && x->enc_key_len == y->enc_key_len);
	CHECK(memcmp(x->skeyid_d, y->skeyid_d, 32) == 0 &&
	      memcmp(x->skeyid_a, y->skeyid_a, 32) == 0);
	CHECK(memcmp(x->enc_key, y->enc_key, 32) == 0 && memcmp(x->p1_last, y->p1_last, 16) == 0);
	CHECK(x->expires_ms == y->expires_ms && x->dpd_seq == y->dpd_seq);
	CHECK(x->peer_id_type == y->peer_id_type && x->peer_id_len == y->peer_id_len);
	CHECK(memcmp(x->peer_id, y->peer_id, sizeof(x->peer_id)) == 0);
	CHECK(x->peer.s_addr == y->peer.s_addr && x->local.s_addr == y->local.s_addr);
	CHECK(x->peer_port == y->peer_port && x->local_port == y->local_port && x->nat == y->nat);
	CHECK(a->n_children == b->n_children && a->n_children <= SAX_MAX_CHILDREN);
	for (size_t i = 0; i < SAX_MAX_CHILDREN; i++)
		fz_child_eq(&a->children[i], &b->children[i]);
	CHECK(a->home_addr.s_addr == b->home_addr.s_addr &&
	      a->prev_coa.s_addr == b->prev_coa.s_addr);
}

/* What a successful parse promises about msg[0..len). */
static void fz_check_parsed(const struct sax_msg *m, const uint8_t *msg, size_t len,
			    const struct sax_keys *k)
{
	bool record = m->type == SAX_RECORD || m->type == SAX_STORE_PUT;
	/* a STORE_DEL between FAs may carry the registration it confirms */
	bool sealed = record || m->type == SAX_REQUEST ||
		      (m->type == SAX_STORE_DEL && m->sealed_len != 0);
	bool reg = m->type == SAX_REQUEST || (m->type == SAX_STORE_DEL && sealed);

	CHECK(m->version == SAX_VERSION && m->type > 0 && m->type < SAX_TYPE_MAX);
	CHECK(m->flags == 0 || m->type == SAX_REFUSED || m->type == SAX_STORE_ACK);
	CHECK(m->mn_id_len >= 1 && m->mn_id_len <= SAX_ID_MAX && m->mn_id[m->mn_id_len] == '\0');
	CHECK(strlen(m->mn_id) == m->mn_id_len);
	CHECK(memcmp(m->mn_id, msg + SAX_HDR_LEN, m->mn_id_len) == 0);
	CHECK(m->has_record == record);
	CHECK(len == SAX_HDR_LEN + m->mn_id_len + 2 + m->sealed_len + SAX_MAC_LEN);
	CHECK(len <= SAX_MSG_MAX);
	if (sealed) {
		CHECK(m->sealed == msg + SAX_HDR_LEN + m->mn_id_len + 2);
		CHECK(m->sealed_len >= SAX_SEALED_MIN && m->sealed_len <= SAX_SEALED_MAX);
	} else {
		CHECK(m->sealed == NULL && m->sealed_len == 0);
	}
	if (!record || !k->have_k_sa)
		CHECK(fz_zero(&m->rec, sizeof(m->rec)));
	else
		CHECK(m->rec.n_children <= SAX_MAX_CHILDREN);
	/* a REQUEST (or such a STORE_DEL) opens to its registration with K_SA, nothing else */
	if (!reg || !k->have_k_sa)
		CHECK(fz_zero(&m->req, sizeof(m->req)));
	else
		CHECK(m->req.reg_len >= 1 && m->req.reg_len <= SAX_REG_MAX &&
		      m->sealed_len >= SAX_SEALED_MIN + 4 + (size_t)m->req.reg_len);
}

/* Build what parsed again, with the IV it had, and parse that: it must come back equal. */
static void fz_round_trip(const struct sax_msg *m, const uint8_t *msg, size_t len,
			  const struct sax_keys *k, uint64_t now, uint32_t window)
{
	static const uint8_t iv0[SAX_GCM_IV_LEN];
	struct buf b;
	size_t n;

	fz_check_parsed(m, msg, len, k);
	buf_init_write(&b, again, sizeof(again));
	CHECK(sax_build_iv(&b, m, k, m->sealed != NULL ? m->sealed : iv0) == SAX_E_OK);
	n = buf_used(&b);
	CHECK(sax_parse(again, n, k, now, window, NULL, &m2) == SAX_E_OK);
	fz_check_parsed(&m2, again, n, k);
	CHECK(m2.type == m->type && m2.flags == m->flags && m2.timestamp_ms == m->timestamp_ms);
	CHECK(memcmp(m2.nonce, m->nonce, SAX_NONCE_LEN) == 0);
	CHECK(m2.sender.s_addr == m->sender.s_addr && m2.expires_ms == m->expires_ms);
	CHECK(m2.mn_id_len == m->mn_id_len && memcmp(m2.mn_id, m->mn_id, m->mn_id_len) == 0);
	/* the header is rebuilt byte for byte */
	CHECK(memcmp(again, msg, SAX_HDR_LEN + m->mn_id_len) == 0);
	if (m->has_record && k->have_k_sa) {
		fz_record_eq(&m->rec, &m2.rec);
		CHECK(n <= len); /* the canonical TLVs are never longer */
	} else if ((m->type == SAX_REQUEST || (m->type == SAX_STORE_DEL && m->sealed != NULL)) &&
		   k->have_k_sa) {
		CHECK(m2.req.reg_len == m->req.reg_len);
		CHECK(memcmp(m2.req.reg, m->req.reg, sizeof(m->req.reg)) == 0);
		CHECK(n <= len);
		/* the registration alone, as the builder writes it: the same bytes */
		if (m->sealed_len == SAX_SEALED_MIN + 4 + (size_t)m->req.reg_len)
			CHECK(n == len && memcmp(again, msg, len) == 0);
	} else {
		CHECK(n == len && memcmp(again, msg, len) == 0); /* copied as it came */
	}
	sax_record_wipe(&m2.rec);
}

static void fz_parse_mode(const uint8_t *d, size_t n, uint8_t sel, uint8_t param, bool fix_mac)
{
	struct sax_keys k = fz_keys;
	uint32_t window = sel & 8 ? 0 : FZ_WINDOW;
	uint64_t now = FZ_NOW;
	struct sax_replay *rc = NULL;
	enum sax_err e;

	k.have_k_sa = (sel & 4) == 0;
	if (n > MAX_IN)
		n = MAX_IN;
	memcpy(work, d, n);
	if (fix_mac) {
		if (n < SAX_MAC_LEN)
			return;
		fz_hmac(work, n - SAX_MAC_LEN, work + n - SAX_MAC_LEN);
		if (n >= 12) {
			uint64_t ts = 0;

			for (int i = 4; i < 12; i++)
				ts = ts << 8 | work[i];
			now = ts + (uint64_t)(int64_t)(int8_t)param * 1000;
		}
		if (sel & 16)
			rc = sax_replay_new(4, FZ_WINDOW);
	}
	e = sax_parse(work, n, &k, now, window, rc, &m1);
	CHECK(e >= SAX_E_OK && e < SAX_E_NOSPACE);
	if (e != SAX_E_OK)
		CHECK(fz_zero(&m1.rec, sizeof(m1.rec)) && fz_zero(&m1.req, sizeof(m1.req)));
	if (e == SAX_E_OK) {
		fz_round_trip(&m1, work, n, &k, now, window);
		/* what an FA accepts, the store accepts too: it only cannot open it */
		if (k.have_k_sa) {
			struct sax_keys store = k;

			memset(store.k_sa, 0, sizeof(store.k_sa));
			store.have_k_sa = false;
			CHECK(sax_parse(work, n, &store, now, window, NULL, &mb) == SAX_E_OK);
			CHECK(mb.sealed == m1.sealed && mb.sealed_len == m1.sealed_len);
		}
		/* within the window the cache remembers it */
		if (rc != NULL && window != 0)
			CHECK(sax_parse(work, n, &k, now, window, rc, &mb) == SAX_E_REPLAY);
	}
	if (fix_mac)
		CHECK(e != SAX_E_MAC); /* the HMAC is right by construction */
	if (rc == NULL)
		CHECK(e != SAX_E_REPLAY);
	if (!k.have_k_sa)
		CHECK(e != SAX_E_SEALED); /* the store never opens anything */
	sax_record_wipe(&m1.rec);
	sax_replay_free(rc);
}

/* The data as the TLV list of a RECORD, STORE_PUT or REQUEST: the TLV parser. */
static void fz_tlv_mode(const uint8_t *d, size_t n, uint8_t param)
{
	static uint8_t msg[SAX_MSG_MAX];
	static const uint8_t iv[SAX_GCM_IV_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
	struct buf b;
	enum sax_err e;

	memset(&mb, 0, sizeof(mb));
	mb.type = param & 2 ? SAX_REQUEST : param & 1 ? SAX_STORE_PUT : SAX_RECORD;
	mb.timestamp_ms = FZ_NOW;
	mb.expires_ms = FZ_NOW + 1000;
	memcpy(mb.mn_id, "fuzz@example.net", 16);
	mb.mn_id_len = 16;
	buf_init_write(&b, msg, sizeof(msg));
	e = sax_build_raw(&b, &mb, &fz_keys, iv, d, n);
	if (n > SAX_SEALED_MAX - SAX_SEALED_MIN) {
		CHECK(e == SAX_E_NOSPACE);
		return;
	}
	CHECK(e == SAX_E_OK);
	e = sax_parse(msg, buf_used(&b), &fz_keys, FZ_NOW, FZ_WINDOW, NULL, &m1);
	CHECK(e == SAX_E_OK || e == SAX_E_SEALED || e == SAX_E_ATTR);
	if (e == SAX_E_OK)
		fz_round_trip(&m1, msg, buf_used(&b), &fz_keys, FZ_NOW, FZ_WINDOW);
	else
		CHECK(fz_zero(&m1.rec, sizeof(m1.rec)) && fz_zero(&m1.req, sizeof(m1.req)));
	sax_record_wipe(&m1.rec);
}

/*
 * The replay cache against a model.  Each operation is 4 bytes: sender (2
 * bits) and nonce (6 bits), a timestamp offset, a clock step (never back)
 * and one spare.  The model keeps every insertion; a pair is a replay when
 * its last insertion has not aged out and fewer than `cap` insertions came
 * after it.
 */
#define FZ_OPS 512
static void fz_replay_mode(const uint8_t *d, size_t n, uint8_t param)
{
	static struct {
		uint8_t pair;
		uint64_t ts;
	} ins[FZ_OPS];
	size_t cap = 1 + param % 16, n_ins = 0;
	uint32_t window = param & 0x80 ? 0 : 100;
	struct sax_replay *rc = sax_replay_new(cap, window);
	uint64_t now = 1000000;

	CHECK(rc != NULL);
	for (size_t i = 0; i + 4 <= n && n_ins < FZ_OPS; i += 4) {
		uint8_t pair = d[i];
		uint64_t ts = now - 128 + d[i + 1];
		struct in_addr s = {.s_addr = (uint32_t)(pair >> 6) + 1};
		uint8_t nonce[SAX_NONCE_LEN] = {0};
		bool want = false;
		enum sax_err e;

		now += d[i + 2] % 64;
		nonce[0] = (uint8_t)(pair & 63);
		nonce[1] = 0x5a;
		for (size_t j = n_ins; j-- > 0;) {
			if (ins[j].pair != pair)
				continue;
			want = n_ins - 1 - j < cap &&
			       !(window != 0 && now > ins[j].ts && now - ins[j].ts > window);
			break;
		}
		e = sax_replay_check(rc, s, nonce, ts, now);
		CHECK(e == (want ? SAX_E_REPLAY : SAX_E_OK));
		if (e == SAX_E_OK) {
			ins[n_ins].pair = pair;
			ins[n_ins].ts = ts;
			n_ins++;
		}
		CHECK(sax_replay_size(rc) <= cap);
	}
	sax_replay_free(rc);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_set_level(getenv("FUZZ_SAX_LOG") != NULL ? LOG_LVL_DEBUG : LOG_LVL_ERR);
	fz_keys_init();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t sel, param;

	if (size < 2)
		return 0;
	sel = data[0];
	param = data[1];
	data += 2;
	size -= 2;
	switch (sel % 4) {
	case 0:
		fz_parse_mode(data, size, sel, param, false);
		break;
	case 1:
		fz_parse_mode(data, size, sel, param, true);
		break;
	case 2:
		fz_tlv_mode(data, size, param);
		break;
	default:
		fz_replay_mode(data, size, param);
		break;
	}
	return 0;
}

#ifdef FUZZ_SAX_MAKE_SEEDS
/* ---- the seed corpus ---- */

#include <arpa/inet.h>

static const char *seed_dir;

static void seed(const char *name, uint8_t sel, uint8_t param, const uint8_t *d, size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", seed_dir, name);
	f = fopen(path, "wb");
	CHECK(f != NULL);
	CHECK(fputc(sel, f) != EOF && fputc(param, f) != EOF);
	CHECK(n == 0 || fwrite(d, 1, n, f) == n);
	CHECK(fclose(f) == 0);
}

static void seed_record(struct sax_record *r, size_t children)
{
	memset(r, 0, sizeof(*r));
	memset(r->isakmp.icookie, 0x01, 8);
	memset(r->isakmp.rcookie, 0x02, 8);
	r->isakmp.hash = 4;
	r->isakmp.key_bits = 256;
	r->isakmp.group = 14;
	r->isakmp.auth = 1;
	r->isakmp.hash_len = 32;
	r->isakmp.enc_key_len = 32;
	memset(r->isakmp.skeyid_d, 0x03, 32);
	memset(r->isakmp.skeyid_a, 0x04, 32);
	memset(r->isakmp.enc_key, 0x05, 32);
	r->isakmp.expires_ms = FZ_NOW + 3600000;
	r->isakmp.peer_id_type = 1;
	r->isakmp.peer_id_len = 4;
	memcpy(r->isakmp.peer_id, "\x0a\x00\x01\x05", 4);
	inet_pton(AF_INET, "10.0.1.5", &r->isakmp.peer);
	inet_pton(AF_INET, "10.0.1.1", &r->isakmp.local);
	r->isakmp.peer_port = r->isakmp.local_port = 500;
	r->n_children = children;
	for (size_t i = 0; i < children; i++) {
		struct sax_child *c = &r->children[i];

		c->spi_in = 0x1000 + (uint32_t)i;
		c->spi_out = 0x2000 + (uint32_t)i;
		c->alg = (uint8_t)(i % 3);
		c->key_bits = 128;
		c->enc_len = c->alg == 2 ? 20 : 16;
		memset(c->enc_in, 0x06, c->enc_len);
		memset(c->enc_out, 0x07, c->enc_len);
		c->auth_len = c->alg == 2 ? 0 : 32;
		memset(c->auth_in, 0x08, c->auth_len);
		memset(c->auth_out, 0x09, c->auth_len);
		c->expires_ms = FZ_NOW + 1800000;
		c->remote_plen = 32;
		/* one child on loan from a direct hand-over, the others without (a store's) */
		c->loan_cap = i == 0 && children < SAX_MAX_CHILDREN ? 5000 : 0;
	}
	inet_pton(AF_INET, "10.0.1.5", &r->home_addr);
	inet_pton(AF_INET, "198.18.1.2", &r->prev_coa);
}

/*
 * A node's Registration Request through its SA reuse extension (fixed part,
 * NAI, MN-HA, SA reuse NVSE with its proof): the one of the unit tests'
 * vector.
 */
static const uint8_t seed_reg[] = {
	0x01, 0x02, 0x01, 0x2c, 0x0a, 0x00, 0x01, 0x05, 0x0a, 0x00, 0x01, 0x01, 0xc6, 0x12, 0x02,
	0x02, 0xed, 0x00, 0x37, 0x80, 0x00, 0x00, 0x2d, 0x5a, 0x83, 0x0f, 0x6d, 0x6e, 0x31, 0x40,
	0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x6e, 0x65, 0x74, 0x20, 0x14, 0x00, 0x00,
	0x03, 0xe9, 0xdc, 0x5b, 0xa0, 0x28, 0x1d, 0x5e, 0x01, 0x08, 0x5e, 0x85, 0xef, 0x2b, 0x91,
	0xb9, 0x5c, 0x81, 0x86, 0x4e, 0x00, 0x00, 0x00, 0x00, 0x7e, 0xd9, 0x00, 0x01, 0x00, 0x00,
	0xc6, 0x12, 0x01, 0x02, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x11, 0x12, 0x13,
	0x14, 0x15, 0x16, 0x17, 0x18, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x89, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x03, 0xe6, 0x3c, 0x2c, 0x7a, 0x21, 0x99, 0xc1, 0xf0, 0x52, 0x03,
	0xca, 0xd9, 0xc4, 0x1f, 0x9f, 0x60, 0x94, 0xfd, 0x34, 0x82, 0xa6, 0x0f, 0xe3, 0x3c, 0x01,
	0x87, 0x01, 0x4a, 0x06, 0x53, 0xa6, 0xa0, 0x08,
};

int main(int argc, char **argv)
{
	static uint8_t out[SAX_MSG_MAX];
	static struct sax_msg m;
	char name[64];

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	seed_dir = argv[1];
	fz_keys_init();
	for (uint8_t t = 1; t < SAX_TYPE_MAX; t++) {
		struct buf b;
		bool record = t == SAX_RECORD || t == SAX_STORE_PUT;
		bool sealed = record || t == SAX_REQUEST;

		memset(&m, 0, sizeof(m));
		m.type = t;
		m.flags = t == SAX_REFUSED || t == SAX_STORE_ACK ? SAX_R_UNKNOWN : 0;
		m.timestamp_ms = FZ_NOW;
		memset(m.nonce, t, SAX_NONCE_LEN);
		inet_pton(AF_INET, "198.18.1.2", &m.sender);
		m.expires_ms = record ? FZ_NOW + 3600000 : 0;
		memcpy(m.mn_id, "mn1@example.net", 15);
		m.mn_id_len = 15;
		m.has_record = record;
		if (record)
			seed_record(&m.rec, t == SAX_RECORD ? 2 : SAX_MAX_CHILDREN);
		memcpy(m.req.reg, seed_reg, sizeof(seed_reg));
		m.req.reg_len = t == SAX_REQUEST ? sizeof(seed_reg) : 0;
		if (t != SAX_REQUEST)
			memset(m.req.reg, 0, sizeof(m.req.reg));
		buf_init_write(&b, out, sizeof(out));
		CHECK(sax_build(&b, &m, &fz_keys) == SAX_E_OK);
		/* 0: as it is (K_SA, K_SA off); 1: HMAC rewritten, with and without a cache */
		snprintf(name, sizeof(name), "parse-%s", sax_type_name(t));
		seed(name, 0, 0, out, buf_used(&b));
		snprintf(name, sizeof(name), "parse-store-%s", sax_type_name(t));
		seed(name, 4, 0, out, buf_used(&b));
		snprintf(name, sizeof(name), "mac-%s", sax_type_name(t));
		seed(name, 1, 0, out, buf_used(&b));
		snprintf(name, sizeof(name), "mac-replay-%s", sax_type_name(t));
		seed(name, 1 | 16, 0, out, buf_used(&b));
		snprintf(name, sizeof(name), "mac-window0-%s", sax_type_name(t));
		seed(name, 1 | 8, 0x80, out, buf_used(&b));
		if (sealed) {
			/* 2: the TLVs, taken back out of a message sealed with a known IV */
			static const uint8_t iv[SAX_GCM_IV_LEN];
			EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
			uint8_t aad[SAX_AAD_MAX], pt[SAX_MSG_MAX];
			size_t aad_len = sax_aad_len(15), sl;
			int outl = 0;

			buf_init_write(&b, out, sizeof(out));
			CHECK(sax_build_iv(&b, &m, &fz_keys, iv) == SAX_E_OK);
			sl = (size_t)out[SAX_HDR_LEN + 15] << 8 | out[SAX_HDR_LEN + 16];
			aad[0] = 1;
			memcpy(aad + 1, out + 32, 8);
			aad[9] = 15;
			memcpy(aad + 10, "mn1@example.net", 15);
			CHECK(EVP_DecryptInit_ex2(c, EVP_aes_256_gcm(), fz_keys.k_sa, iv, NULL) ==
			      1);
			CHECK(EVP_DecryptUpdate(c, NULL, &outl, aad, (int)aad_len) == 1);
			CHECK(EVP_DecryptUpdate(c, pt, &outl, out + SAX_HDR_LEN + 15 + 2 + 12,
						(int)(sl - SAX_SEALED_MIN)) == 1);
			EVP_CIPHER_CTX_free(c);
			snprintf(name, sizeof(name), "tlv-%s", sax_type_name(t));
			seed(name, 2,
			     t == SAX_REQUEST     ? 2
			     : t == SAX_STORE_PUT ? 1
						  : 0,
			     pt, (size_t)outl);
		}
	}
	/* a STORE_DEL from the new FA to the previous FA: the registration it confirms */
	{
		struct buf b;

		memset(&m, 0, sizeof(m));
		m.type = SAX_STORE_DEL;
		m.timestamp_ms = FZ_NOW;
		memset(m.nonce, 0x77, SAX_NONCE_LEN);
		inet_pton(AF_INET, "198.18.1.2", &m.sender);
		memcpy(m.mn_id, "mn1@example.net", 15);
		m.mn_id_len = 15;
		memcpy(m.req.reg, seed_reg, sizeof(seed_reg));
		m.req.reg_len = sizeof(seed_reg);
		buf_init_write(&b, out, sizeof(out));
		CHECK(sax_build(&b, &m, &fz_keys) == SAX_E_OK);
		seed("parse-store-del-reg", 0, 0, out, buf_used(&b));
		seed("parse-store-store-del-reg", 4, 0, out, buf_used(&b));
		seed("mac-store-del-reg", 1, 0, out, buf_used(&b));
	}
	/* 2: a REQUEST's registration at its longest, and one byte longer */
	{
		static uint8_t pt[4 + SAX_REG_MAX + 1];

		for (size_t n = SAX_REG_MAX; n <= SAX_REG_MAX + 1; n++) {
			pt[0] = 0;
			pt[1] = SAX_Q_REGISTRATION;
			pt[2] = (uint8_t)(n >> 8);
			pt[3] = (uint8_t)n;
			for (size_t i = 0; i < n; i++)
				pt[4 + i] = (uint8_t)(i * 7 + 1);
			seed(n == SAX_REG_MAX ? "tlv-request-longest" : "tlv-request-too-long", 2,
			     2, pt, 4 + n);
		}
	}
	/* 3: the replay cache: repeats, steps, a cache of 4 and one without a window */
	{
		uint8_t ops[64];

		for (size_t i = 0; i < sizeof(ops); i += 4) {
			ops[i] = (uint8_t)(i / 8);
			ops[i + 1] = 128;
			ops[i + 2] = (uint8_t)(i * 3);
			ops[i + 3] = 0;
		}
		seed("replay-4", 3, 3, ops, sizeof(ops));
		seed("replay-nowindow", 3, 0x81, ops, sizeof(ops));
	}
	return 0;
}
#endif
