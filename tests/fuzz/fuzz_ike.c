/*
 * Fuzz the IKEv1 engine (common/ike_*.c) through its only input,
 * ike_input(), with two engines of tests/unit/ike_pair.c (an initiator at
 * 10.9.0.1, a responder at 10.9.0.2, PSK, ECP-256 for speed).  The first
 * input byte picks a mode (byte % 4) and its variations (byte / 4); the
 * rest is the data:
 *
 *   0  a raw datagram to the responder.  Variation bits: 1 local port 4500
 *      (else 500), 2 source port 4500 (else 500), 4 an unknown source
 *      address (10.9.0.77) instead of the configured peer.
 *   1  message 3 of a real exchange replaced: the real header (cookies of
 *      the exchange in progress), data[0] its Next Payload, the rest the
 *      payload chain.  Variation bit 1: the E flag set.
 *   2  message 5 replaced: data[0] the first payload type, the rest the
 *      plaintext chain, sealed under the exchange's phase-1 key and IV, so
 *      the responder decrypts exactly the fuzzed bytes.  Variation bit 1: a
 *      valid IDii and HASH_I go first (the HASH's Next Payload is data[0]),
 *      so what follows a successful authentication is reached too.
 *   3  Quick Mode message 1 replaced: data[0] the payload after HASH(1), the
 *      rest the payloads, with a valid HASH(1) over them (when they form a
 *      chain), sealed with the exchange's IV.  Variation bit 1: PFS
 *      (group 19) configured on both sides.
 *
 * Invariants: nothing crashes or leaks; no fuzzed message 3 or unprotected
 * datagram establishes an ISAKMP SA, and without a valid HASH_I message 5
 * does not either; a fuzzed Quick Mode message 1 never brings up an IPsec
 * SA at the responder (that needs HASH(3)).  After each input every SA of
 * both engines is deleted (ike_peer_delete), so a leak shows.  (Mode 3
 * found the engine handing the NULL of a missing payload to the codec's
 * parsers; tests/unit/test_ike.c test_*_missing_payload keep those cases.)
 *
 * The seed corpus in tests/fuzz/corpus/fuzz_ike/ is written by this file
 * built as a program (real messages of each kind, decrypted where needed),
 * after make:
 *   cc -std=c11 -D_GNU_SOURCE -DFUZZ_IKE_MAKE_SEEDS -Icommon -Itests/unit \
 *      tests/fuzz/fuzz_ike.c tests/unit/ike_pair.c common/libmipsa.a -lcrypto \
 *      -o /tmp/mkseeds-ike
 *   /tmp/mkseeds-ike tests/fuzz/corpus/fuzz_ike
 */
#include "ike_int.h"
#include "ike_pair.h"
#include "log.h"

#include <arpa/inet.h>
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

#define FZ_MAX   3000 /* fuzzed bytes used: a sealed message must fit IKE_MSG_MAX */
#define FZ_MSGID 0x0a0b0c0du

static struct ike_pair *pairs[2]; /* without and with PFS */
static struct ike_pair_msg held;  /* the real message the fuzzed one replaces */
static size_t hold_nth;
static bool have_held;

static bool hold_filter(struct ike_pair *p, size_t nth, struct ike_pair_msg *m)
{
	(void)p;
	if (nth != hold_nth)
		return false;
	held = *m;
	have_held = true;
	return true;
}

static struct ike_pair *pair_setup(bool pfs)
{
	struct ike_pair *p = calloc(1, sizeof(*p));

	CHECK(p != NULL);
	ike_pair_init(p);
	for (int i = 0; i < 2; i++) {
		p->side[i].cfg.p1[0] =
			(struct ike_p1_prop){128, IKE_HASH_SHA2_256, IKE_GROUP_ECP256};
		p->side[i].cfg.n_p1 = 1;
		p->side[i].cfg.pfs_group = pfs ? IKE_GROUP_ECP256 : 0;
	}
	ike_pair_start(p);
	p->filter = hold_filter;
	return p;
}

/* Every SA and IPsec SA pair of both engines goes; nothing stays queued. */
static void pair_clean(struct ike_pair *p)
{
	static const char *const others[] = {"10.9.0.77"};

	ike_peer_delete(p->side[0].eng, p->side[1].addr, "fuzz");
	ike_peer_delete(p->side[1].eng, p->side[0].addr, "fuzz");
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		struct in_addr a;
		inet_pton(AF_INET, others[i], &a);
		ike_peer_delete(p->side[1].eng, a, "fuzz");
	}
	ike_pair_flush(p);
	CHECK(p->side[0].eng->sas == NULL && p->side[1].eng->sas == NULL);
	CHECK(ike_children(p->side[0].eng) == NULL && ike_children(p->side[1].eng) == NULL);
}

/* Run a fresh exchange until message nth, which is held back; the responder's SA, if any. */
static struct ike_sa *run_until(struct ike_pair *p, size_t nth)
{
	p->sent = 0;
	hold_nth = nth;
	have_held = false;
	ike_pair_establish(p);
	CHECK(have_held);
	struct ike_sa *sa = p->side[1].eng->sas;
	CHECK(nth == M1 ? sa == NULL : sa != NULL && sa->next == NULL);
	return sa;
}

static void to_responder(struct ike_pair *p, const uint8_t *msg, size_t len)
{
	ike_input(p->side[1].eng, p->side[1].addr, ISAKMP_PORT, p->side[0].addr, ISAKMP_PORT, msg,
		  len);
}

static void fuzz_raw(struct ike_pair *p, unsigned var, const uint8_t *d, size_t n)
{
	struct in_addr src = p->side[0].addr;
	uint64_t est = ike_engine_counters(p->side[1].eng)->ike_established;

	if (var & 4)
		inet_pton(AF_INET, "10.9.0.77", &src);
	ike_input(p->side[1].eng, p->side[1].addr, var & 1 ? ISAKMP_NATT_PORT : ISAKMP_PORT, src,
		  var & 2 ? ISAKMP_NATT_PORT : ISAKMP_PORT, d, n);
	CHECK(ike_engine_counters(p->side[1].eng)->ike_established == est);
}

static void fuzz_msg3(struct ike_pair *p, unsigned var, const uint8_t *d, size_t n)
{
	static uint8_t msg[ISAKMP_HDR_LEN + FZ_MAX];
	uint64_t est = ike_engine_counters(p->side[1].eng)->ike_established;
	size_t len = ISAKMP_HDR_LEN + n - 1;

	run_until(p, M3);
	memcpy(msg, held.data, 16); /* the cookies */
	msg[16] = d[0];
	msg[17] = ISAKMP_VERSION;
	msg[18] = ISAKMP_EXCH_MAIN;
	msg[19] = var & 1 ? ISAKMP_FLAG_E : 0;
	memset(msg + 20, 0, 4);
	msg[24] = (uint8_t)(len >> 24);
	msg[25] = (uint8_t)(len >> 16);
	msg[26] = (uint8_t)(len >> 8);
	msg[27] = (uint8_t)len;
	memcpy(msg + ISAKMP_HDR_LEN, d + 1, n - 1);
	to_responder(p, msg, len);
	ike_pair_pump(p);
	CHECK(ike_engine_counters(p->side[1].eng)->ike_established == est);
}

/* HASH_I = prf(SKEYID, g^xi | g^xr | CKY-I | CKY-R | SAi_b | IDii_b) (RFC 2409 5). */
static void hash_i(const struct ike_sa *sa, const uint8_t *idb, size_t idb_len, uint8_t *out)
{
	struct ike_chunk c[] = {IKE_CHUNK(sa->mm->gxi, sa->mm->ke_len),
				IKE_CHUNK(sa->mm->gxr, sa->mm->ke_len),
				IKE_CHUNK(sa->icookie, ISAKMP_COOKIE_LEN),
				IKE_CHUNK(sa->rcookie, ISAKMP_COOKIE_LEN),
				IKE_CHUNK(sa->mm->sai_b, sa->mm->sai_b_len),
				IKE_CHUNK(idb, idb_len)};

	CHECK(ike_prf(sa->keys.hash, sa->keys.skeyid, sa->keys.hash_len, c, 6, out) == 0);
}

static void fuzz_msg5(struct ike_pair *p, unsigned var, const uint8_t *d, size_t n)
{
	static uint8_t chain[IKE_MSG_MAX], out[IKE_MSG_MAX];
	uint64_t est = ike_engine_counters(p->side[1].eng)->ike_established;
	struct ike_sa *sa = run_until(p, M5);
	uint8_t iv[IKE_BLOCK], first = d[0];
	size_t len = 0, olen;

	CHECK(sa->state == IKE_MM_R4 && sa->have_keys);
	if (var & 1) {
		/* IDii and a valid HASH_I, then the fuzzed payloads */
		const struct ike_id *lid = &p->side[0].cfg.local_id;
		struct isakmp_id id = {.type = lid->type, .data = lid->data, .data_len = lid->len};
		uint8_t idb[IKE_ID_MAX + 8], h[IKE_MAX_HASH];
		struct isakmp_builder bld;
		struct buf b;
		buf_init_write(&b, idb, sizeof(idb));
		CHECK(isakmp_id_body_put(&b, &id, NULL) == ISAKMP_OK);
		hash_i(sa, idb, buf_used(&b), h);
		buf_init_write(&b, chain, sizeof(chain));
		isakmp_build_init(&bld, &b, NULL);
		isakmp_put_id(&bld, &id);
		isakmp_put_data(&bld, ISAKMP_PL_HASH, h, sa->keys.hash_len);
		CHECK(isakmp_build_finish(&bld, &len) == ISAKMP_OK);
		chain[bld.last_pos] = d[0]; /* the HASH's Next Payload */
		first = ISAKMP_PL_ID;
	}
	memcpy(chain + len, d + 1, n - 1);
	len += n - 1;
	memcpy(iv, sa->iv, IKE_BLOCK);
	if (ike_seal(sa, ISAKMP_EXCH_MAIN, 0, first, chain, len, iv, out, &olen) < 0)
		return;
	to_responder(p, out, olen);
	if (!(var & 1))
		CHECK(ike_engine_counters(p->side[1].eng)->ike_established == est);
	ike_pair_pump(p);
}

static void fuzz_qm1(struct ike_pair *p, const uint8_t *d, size_t n)
{
	static uint8_t chain[IKE_MSG_MAX], out[IKE_MSG_MAX];
	const struct ike_counters *rc = ike_engine_counters(p->side[1].eng);
	uint64_t children = rc->children_established;
	struct ike_sa *sa = run_until(p, QM1);
	size_t hl = sa->keys.hash_len, len = 4 + hl + n - 1, olen;
	struct isakmp_chain c;
	uint8_t iv[IKE_BLOCK], mid[4] = {FZ_MSGID >> 24, FZ_MSGID >> 16 & 0xff,
					 FZ_MSGID >> 8 & 0xff, FZ_MSGID & 0xff};
	const uint8_t *after;
	size_t after_len;

	CHECK(sa->state == IKE_ESTABLISHED);
	chain[0] = d[0];
	chain[1] = 0;
	chain[2] = (uint8_t)((4 + hl) >> 8);
	chain[3] = (uint8_t)(4 + hl);
	memset(chain + 4, 0, hl);
	memcpy(chain + 4 + hl, d + 1, n - 1);
	/* HASH(1) = prf(SKEYID_a, M-ID | what follows the HASH payload), as the engine reads it */
	if (isakmp_chain_parse(ISAKMP_PL_HASH, chain, len, ISAKMP_HDR_LEN, ISAKMP_PARSE_PADDING, &c,
			       NULL) == ISAKMP_OK &&
	    isakmp_chain_after(&c, 0, &after, &after_len) == 0) {
		struct ike_chunk ch[] = {IKE_CHUNK(mid, 4), IKE_CHUNK(after, after_len)};
		CHECK(ike_prf_a(sa, ch, 2, chain + 4) == 0);
	}
	CHECK(ike_iv_phase2(sa->keys.hash, sa->p1_last, FZ_MSGID, iv) == 0);
	if (ike_seal(sa, ISAKMP_EXCH_QUICK, FZ_MSGID, ISAKMP_PL_HASH, chain, len, iv, out, &olen) <
	    0)
		return;
	to_responder(p, out, olen);
	CHECK(rc->children_established == children);
	ike_pair_pump(p);
	CHECK(rc->children_established == children);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level(LOG_LVL_ERR);
	pairs[0] = pair_setup(false);
	pairs[1] = pair_setup(true);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned mode, var;

	if (size < 2)
		return 0;
	if (size > FZ_MAX + 1)
		size = FZ_MAX + 1;
	mode = data[0] % 4;
	var = data[0] / 4;
	struct ike_pair *p = pairs[mode == 3 ? var & 1 : 0];
	switch (mode) {
	case 0:
		fuzz_raw(p, var, data + 1, size - 1);
		break;
	case 1:
		fuzz_msg3(p, var, data + 1, size - 1);
		break;
	case 2:
		fuzz_msg5(p, var, data + 1, size - 1);
		break;
	default:
		fuzz_qm1(p, data + 1, size - 1);
		break;
	}
	pair_clean(p);
	return 0;
}

#ifdef FUZZ_IKE_MAKE_SEEDS
static void seed(const char *dir, const char *name, uint8_t sel, uint8_t first, const uint8_t *p,
		 size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	CHECK(f != NULL);
	fputc(sel, f);
	if (sel % 4 != 0)
		fputc(first, f);
	CHECK(fwrite(p, 1, n, f) == n);
	fclose(f);
}

/* The plaintext chain of a held encrypted message, decrypted with the responder's view. */
static size_t open_held(struct ike_sa *sa, const uint8_t iv[IKE_BLOCK], uint8_t *pt)
{
	uint8_t next[IKE_BLOCK];

	memcpy(pt, held.data, held.len);
	CHECK(ike_open(sa, pt, held.len, iv, next) == 0);
	return held.len;
}

int main(int argc, char **argv)
{
	static uint8_t pt[IKE_MSG_MAX];
	struct isakmp_chain c;
	struct ike_sa *sa;
	uint8_t iv[IKE_BLOCK];
	size_t n;

	CHECK(argc == 2);
	LLVMFuzzerInitialize(&argc, &argv);
	struct ike_pair *p = pairs[0];

	/* mode 0: real messages 1 and 3 as datagrams, from each source */
	run_until(p, M1);
	seed(argv[1], "raw-msg1", 0x00, 0, held.data, held.len);
	seed(argv[1], "raw-msg1-4500", 0x01 << 2, 0, held.data, held.len);
	seed(argv[1], "raw-msg1-stranger", 0x04 << 2, 0, held.data, held.len);
	pair_clean(p);
	run_until(p, M3);
	seed(argv[1], "raw-msg3", 0x00, 0, held.data, held.len);
	/* mode 1: message 3's chain */
	seed(argv[1], "msg3", 0x01, held.data[16], held.data + ISAKMP_HDR_LEN,
	     held.len - ISAKMP_HDR_LEN);
	pair_clean(p);
	/* mode 2: message 5's plaintext, whole and after the HASH */
	sa = run_until(p, M5);
	n = open_held(sa, sa->iv, pt);
	seed(argv[1], "msg5", 0x02, held.data[16], pt + ISAKMP_HDR_LEN, n - ISAKMP_HDR_LEN);
	CHECK(isakmp_chain_parse(held.data[16], pt + ISAKMP_HDR_LEN, n - ISAKMP_HDR_LEN,
				 ISAKMP_HDR_LEN, ISAKMP_PARSE_PADDING, &c, NULL) == ISAKMP_OK);
	CHECK(c.n >= 3 && c.pl[1].type == ISAKMP_PL_HASH);
	seed(argv[1], "msg5-after-hash", 0x02 | 1 << 2, c.pl[1].next, c.pl[2].raw,
	     c.end - c.pl[2].offset);
	pair_clean(p);
	/* mode 3: Quick Mode 1 after its HASH, with and without PFS */
	for (int pfs = 0; pfs < 2; pfs++) {
		p = pairs[pfs];
		sa = run_until(p, QM1);
		uint32_t msgid = (uint32_t)held.data[20] << 24 | (uint32_t)held.data[21] << 16 |
				 (uint32_t)held.data[22] << 8 | held.data[23];
		CHECK(ike_iv_phase2(sa->keys.hash, sa->p1_last, msgid, iv) == 0);
		n = open_held(sa, iv, pt);
		CHECK(isakmp_chain_parse(ISAKMP_PL_HASH, pt + ISAKMP_HDR_LEN, n - ISAKMP_HDR_LEN,
					 ISAKMP_HDR_LEN, ISAKMP_PARSE_PADDING, &c,
					 NULL) == ISAKMP_OK);
		seed(argv[1], pfs ? "qm1-pfs" : "qm1", (uint8_t)(0x03 | pfs << 2), c.pl[0].next,
		     c.pl[1].raw, c.end - c.pl[1].offset);
		pair_clean(p);
	}
	for (int i = 0; i < 2; i++) {
		ike_pair_free(pairs[i]);
		free(pairs[i]);
	}
	return 0;
}
#endif
