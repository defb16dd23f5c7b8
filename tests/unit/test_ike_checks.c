/*
 * One test per security check of the IKEv1 engine (issue 9): each makes
 * the one case the check exists for, in a message that is otherwise
 * valid, and asserts the check's own drop counter (never a sum), so that
 * it fails when the check is removed or weakened.  tests/mutate/ike.tsv
 * names, for each check, the mutation that removes it and the test here
 * that then fails.
 *
 * A forged field must reach the check: a message that no longer decrypts
 * is refused before any hash is compared (drop_decrypt).  So the man in
 * the middle here has the keys (ike_pair_flip_sealed, white box): he
 * decrypts a message as its receiver will, changes one byte of the HASH or
 * SIG payload, and encrypts it again with the same IV.  Where the sender
 * retransmits, the intact copy that follows is accepted: the tampered byte
 * was the only reason for the refusal.
 */
#include "check_main.h"
#include "ike.h"
#include "ike_creds.h"
#include "ike_int.h"
#include "ike_pair.h"
#include "isakmp.h"

#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_CAP 64

static struct ike_pair_msg msglog[LOG_CAP];
static struct isakmp_sa sa_buf; /* about 50 KB: not on the stack */

/* ---- helpers ---- */

static struct ike_pair *pair_new(void)
{
	struct ike_pair *p = ike_pair_new(msglog, LOG_CAP);

	ck_assert_ptr_nonnull(p);
	return p;
}

static const struct ike_counters *ctr(struct ike_pair *p, int i)
{
	return ike_pair_ctr(p, i);
}

static struct ike_creds *creds(const char *name)
{
	struct ike_creds *cr = ike_pair_creds(name, "ca");

	ck_assert_msg(cr != NULL, "cannot load %s", name);
	return cr;
}

static void check_no_children(struct ike_pair *p)
{
	for (int i = 0; i < 2; i++) {
		ck_assert_uint_eq(p->side[i].n_up, 0);
		ck_assert_uint_eq(ike_pair_children(p, i), 0);
	}
}

/* The other refusals stay at 0: the check under test is the one that refused. */
static void check_only_hash(struct ike_pair *p, int i)
{
	ck_assert_uint_eq(ctr(p, i)->drop_decrypt, 0);
	ck_assert_uint_eq(ctr(p, i)->drop_malformed, 0);
	ck_assert_uint_eq(ctr(p, i)->drop_bad_auth, 0);
	ck_assert_uint_eq(ctr(p, i)->drop_unknown_sa, 0);
}

/*
 * Change chosen messages on the way: the nth, or (nth -1) every message of
 * `exchange` to side `to` from the one numbered `from` on.  In each: the
 * HASH or SIG payload, the responder cookie, message 1's offer or message
 * 2's answer, as set.
 */
struct tamper {
	long nth;
	size_t from; /* with nth -1: only from the message numbered this on */
	int exchange, to;
	uint8_t type;    /* payload whose last byte to flip; 0: none */
	int rcookie;     /* 1: flip a byte of the responder cookie, 2: zero it; 0: leave it */
	bool swap_offer; /* message 1: swap the first two transforms of the offer */
	bool answer_128; /* message 2: the answer's Key Length 256 made 128 */
	size_t done;     /* messages changed */
	bool drop_to_0;  /* and lose every message to the initiator */
};

static struct tamper tnone(void)
{
	return (struct tamper){.nth = -1, .exchange = -1, .to = -1};
}

/*
 * Message 1's SA payload with its first two transforms swapped (equal
 * sizes; each keeps its Transform #): the responder meets the second offer
 * first.  The transforms follow the proposal header and its SPI.
 */
static void swap_offer(struct ike_pair_msg *m)
{
	struct isakmp_msg msg;

	ck_assert_int_eq(isakmp_msg_parse(m->data, m->len, 0, &msg, NULL), ISAKMP_OK);
	const struct isakmp_pl *pl = isakmp_chain_find(&msg.chain, ISAKMP_PL_SA, 0);
	ck_assert_ptr_nonnull(pl);
	uint8_t *prop = m->data + pl->offset + ISAKMP_GEN_LEN + 8; /* after DOI, Situation */
	ck_assert_uint_ge(prop[7], 2);
	uint8_t *t0 = prop + 8 + prop[6], *t1;
	size_t l0 = (size_t)t0[2] << 8 | t0[3], l1;
	t1 = t0 + l0;
	l1 = (size_t)t1[2] << 8 | t1[3];
	ck_assert_uint_eq(l0, l1);
	for (size_t i = ISAKMP_GEN_LEN; i < l0; i++) {
		uint8_t b = t0[i];
		t0[i] = t1[i];
		t1[i] = b;
	}
}

/* Message 2's chosen transform says AES-128 where the responder chose AES-256. */
static void answer_128(struct ike_pair_msg *m)
{
	static const uint8_t k256[4] = {0x80, ISAKMP_P1_KEY_LEN, 0x01, 0x00};
	struct isakmp_msg msg;

	ck_assert_int_eq(isakmp_msg_parse(m->data, m->len, 0, &msg, NULL), ISAKMP_OK);
	const struct isakmp_pl *pl = isakmp_chain_find(&msg.chain, ISAKMP_PL_SA, 0);
	ck_assert_ptr_nonnull(pl);
	uint8_t *a = memmem(m->data + pl->offset, pl->len, k256, sizeof(k256));
	ck_assert_ptr_nonnull(a);
	a[2] = 0x00;
	a[3] = 0x80;
}

static bool tamper_filter(struct ike_pair *p, size_t nth, struct ike_pair_msg *m)
{
	struct tamper *t = p->filter_arg;
	size_t mk = m->dport == ISAKMP_NATT_PORT ? IKE_MARKER_LEN : 0;
	bool chosen = t->nth >= 0
			      ? nth == (size_t)t->nth
			      : nth >= t->from && m->to == t->to && m->len > mk + ISAKMP_HDR_LEN &&
					m->data[mk + 18] == t->exchange;

	if (chosen && t->swap_offer) {
		swap_offer(m);
		t->done++;
	}
	if (chosen && t->answer_128) {
		answer_128(m);
		t->done++;
	}
	if (chosen && t->type != 0) {
		ck_assert_msg(ike_pair_flip_sealed(p, m, t->type), "message %zu not changed", nth);
		t->done++;
	}
	if (chosen && t->rcookie != 0) {
		if (t->rcookie == 1)
			m->data[mk + 8 + 3] ^= 0x01;
		else
			memset(m->data + mk + 8, 0, ISAKMP_COOKIE_LEN);
		t->done++;
	}
	return t->drop_to_0 && m->to == 0;
}

static void set_tamper(struct ike_pair *p, struct tamper *t)
{
	p->filter = tamper_filter;
	p->filter_arg = t;
}

static bool d_both_children(struct ike_pair *p)
{
	return p->side[0].n_up >= 1 && p->side[1].n_up >= 1;
}

static bool d_initiator_failed(struct ike_pair *p)
{
	return ctr(p, 0)->ike_failed >= 1;
}

/* ---- Main Mode authentication ---- */

/*
 * RSA signatures (common/ike_cert.c, ike_cert_verify): message 5 (_i 0)
 * or 6 (_i 1) carries the sender's valid, trusted certificate and a SIG
 * that decrypts fine but is wrong in its last byte.  The receiver refuses
 * it as drop_bad_auth and has no ISAKMP SA; no IPsec SA anywhere.  (When
 * message 6 is refused the responder, which accepted message 5, holds an
 * ISAKMP SA the initiator does not: Main Mode has no message 7.)
 */
START_TEST(test_rsa_sig_wrong)
{
	struct ike_creds *mn = creds("mn"), *fa = creds("fa");
	struct ike_pair *p = pair_new();
	struct tamper t = tnone();
	int rx = _i == 0 ? 1 : 0;

	ike_pair_rsa(p, mn, fa);
	t.nth = _i == 0 ? M5 : M6;
	t.type = ISAKMP_PL_SIG;
	set_tamper(p, &t);
	ike_pair_start(p);
	ike_pair_establish(p);
	ck_assert_uint_eq(t.done, 1);
	ck_assert_uint_eq(ctr(p, rx)->drop_bad_auth, 1);
	ck_assert_uint_eq(ctr(p, rx)->drop_bad_cert + ctr(p, rx)->drop_bad_id, 0);
	ck_assert_uint_eq(ctr(p, rx)->drop_decrypt + ctr(p, rx)->drop_malformed, 0);
	ck_assert_uint_eq(ctr(p, rx)->ike_failed, 1);
	ck_assert_uint_eq(ctr(p, rx)->ike_established, 0);
	ck_assert_int_eq(p->side[rx].ike_up, 0);
	ck_assert_ptr_null(ike_sa_find_peer(p->side[rx].eng, p->side[1 - rx].addr));
	ck_assert_uint_eq(ctr(p, 0)->ike_established, 0);
	check_no_children(p);
	ike_pair_delete(p);
	ike_creds_free(mn);
	ike_creds_free(fa);
}
END_TEST

/*
 * Pre-shared key (common/ike_mm.c, ike_mm_verify): HASH_I in message 5
 * (_i 0) or HASH_R in message 6 (_i 1), wrong in its last byte, in a
 * message that decrypts: drop_bad_hash, not drop_decrypt.
 */
START_TEST(test_psk_hash_wrong)
{
	struct ike_pair *p = pair_new();
	struct tamper t = tnone();
	int rx = _i == 0 ? 1 : 0;

	t.nth = _i == 0 ? M5 : M6;
	t.type = ISAKMP_PL_HASH;
	set_tamper(p, &t);
	ike_pair_start(p);
	ike_pair_establish(p);
	ck_assert_uint_eq(t.done, 1);
	ck_assert_uint_eq(ctr(p, rx)->drop_bad_hash, 1);
	check_only_hash(p, rx);
	ck_assert_uint_eq(ctr(p, rx)->ike_failed, 1);
	ck_assert_uint_eq(ctr(p, rx)->ike_established, 0);
	ck_assert_ptr_null(ike_sa_find_peer(p->side[rx].eng, p->side[1 - rx].addr));
	ck_assert_uint_eq(ctr(p, 0)->ike_established, 0);
	check_no_children(p);
	ike_pair_delete(p);
}
END_TEST

/* The Key Length the responder chose in message 2. */
static uint32_t chosen_key_bits(struct ike_pair *p)
{
	struct isakmp_msg m;
	uint32_t v = 0;

	for (size_t i = 0; i < p->nlog; i++)
		if (p->log[i].nth == M2) {
			ck_assert_int_eq(
				isakmp_msg_parse(p->log[i].data, p->log[i].len, 0, &m, NULL),
				ISAKMP_OK);
			ck_assert_int_eq(
				isakmp_sa_parse(isakmp_chain_find(&m.chain, ISAKMP_PL_SA, 0),
						&sa_buf, NULL),
				ISAKMP_OK);
			ck_assert(isakmp_attr_get(&sa_buf.prop[0].xf[0], ISAKMP_P1_KEY_LEN, &v));
		}
	return v;
}

/*
 * A downgrade: the initiator offers AES-256/SHA-256 first, then
 * AES-128/SHA-1; both sides accept both.  On the way the offer is
 * reordered, and the responder, which takes the first it accepts, picks
 * AES-128.  Nothing in messages 1 to 4 is protected: HASH_I covers the SA
 * body the initiator sent (SAi_b, RFC 2409 5), and the responder, which
 * computes it over the body it received, refuses message 5.
 */
START_TEST(test_sa_downgrade)
{
	static const struct ike_p1_prop offer[] = {{256, IKE_HASH_SHA2_256, IKE_GROUP_MODP2048},
						   {128, IKE_HASH_SHA1, IKE_GROUP_MODP2048}};
	struct ike_pair *p = pair_new();
	struct tamper t = tnone();

	for (int i = 0; i < 2; i++) {
		memcpy(p->side[i].cfg.p1, offer, sizeof(offer));
		p->side[i].cfg.n_p1 = 2;
	}
	p->side[0].cfg.retrans_ms = 20;
	p->side[0].cfg.retrans_tries = 1;
	t.nth = M1;
	t.swap_offer = true;
	set_tamper(p, &t);
	ike_pair_start(p);
	ike_pair_establish(p);
	ck_assert_uint_eq(t.done, 1);
	ck_assert_uint_eq(chosen_key_bits(p), 128);
	ck_assert_uint_eq(ctr(p, 1)->drop_bad_hash, 1);
	check_only_hash(p, 1);
	ck_assert_uint_eq(ctr(p, 1)->ike_failed, 1);
	ck_assert_uint_eq(ctr(p, 1)->ike_established, 0);
	ck_assert(ike_pair_run_until(p, 1000, d_initiator_failed));
	ck_assert_uint_eq(ctr(p, 0)->ike_established, 0);
	check_no_children(p);
	ike_pair_delete(p);
}
END_TEST

/*
 * The other side of a downgrade: the initiator offers only AES-256, and
 * the responder's answer is changed on the way to AES-128.  The initiator
 * takes only a transform it offered (common/ike_mm.c, ike_mm_i2_sa):
 * drop_no_proposal, the negotiation fails.
 */
START_TEST(test_p1_answer_not_offered)
{
	static const struct ike_p1_prop strong = {256, IKE_HASH_SHA2_256, IKE_GROUP_MODP2048};
	struct ike_pair *p = pair_new();
	struct tamper t = tnone();

	for (int i = 0; i < 2; i++) {
		p->side[i].cfg.p1[0] = strong;
		p->side[i].cfg.n_p1 = 1;
	}
	t.nth = M2;
	t.answer_128 = true;
	set_tamper(p, &t);
	ike_pair_start(p);
	ike_pair_establish(p);
	ck_assert_uint_eq(t.done, 1);
	ck_assert_uint_eq(ctr(p, 0)->drop_no_proposal, 1);
	ck_assert_uint_eq(ctr(p, 0)->drop_malformed + ctr(p, 0)->drop_state, 0);
	ck_assert_uint_eq(ctr(p, 0)->ike_failed, 1);
	ck_assert_uint_eq(ctr(p, 0)->ike_established + ctr(p, 1)->ike_established, 0);
	ck_assert_int_eq(p->side[0].ike_up, 0);
	check_no_children(p);
	ike_pair_delete(p);
}
END_TEST

/* ---- Quick Mode ---- */

/*
 * HASH(1) (_i 0), HASH(2) (_i 1) or HASH(3) (_i 2) wrong in an otherwise
 * valid Quick Mode message (common/ike_qm.c): its receiver counts
 * drop_bad_hash and installs nothing.  HASH(3) is the last message: the
 * initiator installed its pair on HASH(2) (RFC 2409 5.5, no commit bit),
 * the responder has none.  Then the retransmitted intact message goes
 * through and both sides have their pair.
 */
START_TEST(test_qm_hash_wrong)
{
	static const long nth[] = {QM1, QM2, QM3};
	static const int rx[] = {1, 0, 1};
	struct ike_pair *p = pair_new();
	struct tamper t = tnone();
	int r = rx[_i];

	t.nth = nth[_i];
	t.type = ISAKMP_PL_HASH;
	set_tamper(p, &t);
	p->side[0].cfg.retrans_ms = 20;
	p->side[1].cfg.retrans_ms = 20;
	ike_pair_start(p);
	ike_pair_establish(p);
	ck_assert_uint_eq(t.done, 1);
	ck_assert_uint_eq(ctr(p, r)->drop_bad_hash, 1);
	check_only_hash(p, r);
	ck_assert_uint_eq(ctr(p, 1 - r)->drop_bad_hash, 0);
	ck_assert_uint_eq(p->side[1].n_up, 0);
	ck_assert_uint_eq(ike_pair_children(p, 1), 0);
	ck_assert_uint_eq(p->side[0].n_up, _i == 2 ? 1 : 0);
	ck_assert_uint_eq(ctr(p, 0)->ike_established, 1);
	ck_assert_uint_eq(ctr(p, 1)->ike_established, 1);
	ck_assert(ike_pair_run_until(p, 1000, d_both_children));
	ck_assert_uint_eq(ctr(p, r)->drop_bad_hash, 1);
	for (int i = 0; i < 2; i++)
		ck_assert_uint_eq(ike_pair_children(p, i), 1);
	ike_pair_delete(p);
}
END_TEST

static bool d_initiator_child_down(struct ike_pair *p)
{
	return p->side[0].n_down >= 1;
}

/*
 * Every HASH(3) wrong (every Quick Mode message to the responder after
 * message 1): the responder, which refuses each, gives up and asks the
 * initiator to delete the pair it installed on HASH(2).  In the end
 * neither side has an IPsec SA.
 */
START_TEST(test_qm_hash3_always_wrong)
{
	struct ike_pair *p = pair_new();
	struct tamper t = tnone();

	t.exchange = ISAKMP_EXCH_QUICK;
	t.to = 1;
	t.from = QM3;
	t.type = ISAKMP_PL_HASH;
	set_tamper(p, &t);
	p->side[1].cfg.retrans_ms = 20;
	p->side[1].cfg.retrans_tries = 2;
	ike_pair_start(p);
	ike_pair_establish(p);
	ck_assert_uint_eq(p->side[0].n_up, 1);
	ck_assert(ike_pair_run_until(p, 1000, d_initiator_child_down));
	/* the first HASH(3) and the two sent again as the responder retransmitted */
	ck_assert_uint_eq(t.done, 3);
	ck_assert_uint_eq(ctr(p, 1)->drop_bad_hash, 3);
	check_only_hash(p, 1);
	ck_assert_uint_eq(ctr(p, 1)->deletes_sent, 1);
	ck_assert_uint_eq(ctr(p, 0)->deletes_received, 1);
	ck_assert_uint_eq(p->side[0].down_spi_out[0], p->side[0].children[0].spi_out);
	ck_assert_uint_eq(p->side[1].n_up, 0);
	for (int i = 0; i < 2; i++)
		ck_assert_uint_eq(ike_pair_children(p, i), 0);
	ike_pair_delete(p);
}
END_TEST

/* ---- Informational ---- */

/*
 * After the exchange, the initiator sends a protected Delete of its pair
 * (notify false) or a protected Notify, an R-U-THERE (notify true), and t
 * changes it on the way to the responder.
 */
static void info_to_responder(struct ike_pair *p, struct tamper *t, bool notify)
{
	struct ike_sa *sa = ike_sa_find_peer(p->side[0].eng, p->side[1].addr);
	static const uint8_t seq[4] = {0, 0, 0, 7};
	uint8_t cookies[16];

	ck_assert_ptr_nonnull(sa);
	t->exchange = ISAKMP_EXCH_INFO;
	t->to = 1;
	set_tamper(p, t);
	if (notify) {
		memcpy(cookies, sa->icookie, 8);
		memcpy(cookies + 8, sa->rcookie, 8);
		ike_notify_send(sa, ISAKMP_N_R_U_THERE, ISAKMP_PROTO_ISAKMP, cookies, 16, seq, 4);
	} else {
		ike_child_delete(p->side[0].eng, ike_children(p->side[0].eng), "test");
	}
	ike_pair_pump(p);
	ck_assert_uint_eq(t->done, 1);
}

/* The message changed nothing at the responder: nothing read, nothing answered, all up. */
static void check_responder_untouched(struct ike_pair *p, uint64_t tx)
{
	ck_assert_uint_eq(ctr(p, 1)->deletes_received, 0);
	ck_assert_uint_eq(ctr(p, 1)->notify_received, 0);
	ck_assert_uint_eq(ctr(p, 1)->tx_messages, tx);
	ck_assert_uint_eq(ike_pair_children(p, 1), 1);
	ck_assert_uint_eq(p->side[1].n_down, 0);
	ck_assert_int_eq(p->side[1].ike_down, 0);
	struct ike_sa *sa = ike_sa_find_peer(p->side[1].eng, p->side[0].addr);
	ck_assert_ptr_nonnull(sa);
	ck_assert(ike_sa_established(sa));
}

/*
 * A protected Delete (_i 0) or Notify (an R-U-THERE, _i 1) whose HASH(1)
 * is wrong (common/ike_info.c): drop_bad_hash, and nothing else happens at
 * the responder.
 */
START_TEST(test_info_hash_wrong)
{
	struct ike_pair *p = pair_new();
	struct tamper t = tnone();

	ike_pair_start(p);
	ike_pair_establish(p);
	uint64_t tx = ctr(p, 1)->tx_messages;
	t.type = ISAKMP_PL_HASH;
	info_to_responder(p, &t, _i == 1);
	ck_assert_uint_eq(ctr(p, 1)->drop_bad_hash, 1);
	check_only_hash(p, 1);
	check_responder_untouched(p, tx);
	ike_pair_delete(p);
}
END_TEST

/* ---- cookies ---- */

/*
 * The right initiator cookie with a wrong (_i 0, 2) or all-zero (_i 1, 3)
 * responder cookie (common/ike_sa.c, ike_sa_lookup) on a protected Delete
 * (_i 0, 1) or Notify (_i 2, 3), valid in every other respect: it names no
 * ISAKMP SA and is dropped as drop_unknown_sa; the SA and its pair are
 * untouched.
 */
START_TEST(test_rcookie_wrong)
{
	struct ike_pair *p = pair_new();
	struct tamper t = tnone();

	ike_pair_start(p);
	ike_pair_establish(p);
	uint64_t tx = ctr(p, 1)->tx_messages;
	t.rcookie = _i % 2 == 0 ? 1 : 2;
	info_to_responder(p, &t, _i >= 2);
	ck_assert_uint_eq(ctr(p, 1)->drop_unknown_sa, 1);
	ck_assert_uint_eq(ctr(p, 1)->drop_bad_hash + ctr(p, 1)->drop_decrypt, 0);
	check_responder_untouched(p, tx);
	ike_pair_delete(p);
}
END_TEST

/* ---- DPD ---- */

static uint64_t want_dpd;

static bool d_dpd_sent(struct ike_pair *p)
{
	return ctr(p, 0)->dpd_sent >= want_dpd;
}

static bool d_dpd_acked(struct ike_pair *p)
{
	return ctr(p, 0)->dpd_acked >= 1;
}

/* The last Informational message the responder sent (the R-U-THERE-ACK). */
static struct ike_pair_msg last_info_to_0(struct ike_pair *p)
{
	for (size_t i = p->nlog; i-- > 0;)
		if (p->log[i].to == 0 && p->log[i].dport == ISAKMP_PORT &&
		    p->log[i].data[18] == ISAKMP_EXCH_INFO)
			return p->log[i];
	ck_abort_msg("no Informational message to the initiator");
	return p->log[0];
}

static void replay(struct ike_pair *p, const struct ike_pair_msg *m)
{
	ike_input(p->side[m->to].eng, m->dst, m->dport, m->src, m->sport, m->data, m->len);
}

/*
 * The R-U-THERE-ACK sequence number (common/ike_info.c, RFC 3706 5.3):
 * the first ACK, recorded, is replayed at once (nothing outstanding), then
 * after each R-U-THERE of a peer that went silent.  Every copy is
 * drop_dpd_seq; the peer is declared dead on schedule, at 5 s as in
 * test_ike's test_dpd.
 */
START_TEST(test_dpd_ack_replayed)
{
	struct ike_pair *p = pair_new();
	struct tamper t = tnone();

	set_tamper(p, &t);
	p->side[0].cfg.dpd_interval_s = 1;
	ike_pair_start(p);
	ike_pair_establish(p);
	uint64_t t0 = ev_loop_now_ms(p->loop);
	ck_assert(ike_pair_run_until(p, 2000, d_dpd_acked));
	struct ike_pair_msg ack = last_info_to_0(p);
	replay(p, &ack);
	ck_assert_uint_eq(ctr(p, 0)->drop_dpd_seq, 1);
	ck_assert_uint_eq(ctr(p, 0)->dpd_acked, 1);
	t.drop_to_0 = true;
	for (want_dpd = 2; want_dpd <= 4; want_dpd++) {
		ck_assert(ike_pair_run_until(p, 2000, d_dpd_sent));
		replay(p, &ack);
		ck_assert_uint_eq(ctr(p, 0)->drop_dpd_seq, want_dpd);
		ck_assert_uint_eq(ctr(p, 0)->dpd_acked, 1);
		ck_assert_uint_eq(ctr(p, 0)->drop_bad_hash + ctr(p, 0)->drop_decrypt, 0);
	}
	ck_assert(ike_pair_run_until(p, 5000, d_initiator_child_down));
	ck_assert_uint_eq(ev_loop_now_ms(p->loop) - t0, 5000);
	ck_assert_int_eq(p->side[0].ike_down, 1);
	ck_assert_uint_eq(ike_pair_children(p, 0), 0);
	ike_pair_delete(p);
}
END_TEST

/* ---- half-open bound (common/ike_sa.c, ike_halfopen_admit) ---- */

/* The responder's ISAKMP SAs: in all, and those from one address. */
static size_t responder_sas(struct ike_pair *p, const char *from)
{
	struct in_addr a = {0};
	struct ike_sa_info info;
	size_t n = 0;

	if (from != NULL)
		ck_assert_int_eq(inet_pton(AF_INET, from, &a), 1);
	for (const struct ike_sa *sa = NULL; (sa = ike_sa_next(p->side[1].eng, sa)) != NULL;) {
		ike_sa_get_info(sa, &info);
		n += from == NULL || info.peer.s_addr == a.s_addr;
	}
	return n;
}

/* Has the responder an SA with this initiator cookie? */
static bool responder_has_cookie(struct ike_pair *p, const uint8_t ck[ISAKMP_COOKIE_LEN])
{
	struct ike_sa_info info;

	for (const struct ike_sa *sa = NULL; (sa = ike_sa_next(p->side[1].eng, sa)) != NULL;) {
		ike_sa_get_info(sa, &info);
		if (memcmp(info.icookie, ck, ISAKMP_COOKIE_LEN) == 0)
			return true;
	}
	return false;
}

/* The initiator's first message 1, as the log has it. */
static struct ike_pair_msg first_mm1(struct ike_pair *p)
{
	for (size_t i = 0; i < p->nlog; i++)
		if (p->log[i].to == 1 && p->log[i].data[18] == ISAKMP_EXCH_MAIN)
			return p->log[i];
	ck_abort_msg("no message 1");
	return p->log[0];
}

/* Message 1 m again, from src, with initiator cookie n (a spoofer's). */
static void spoof_mm1(struct ike_pair *p, const struct ike_pair_msg *m, const char *src, uint32_t n)
{
	struct ike_pair_msg c = *m;

	ck_assert_int_eq(inet_pton(AF_INET, src, &c.src), 1);
	memset(c.data, 0xa5, ISAKMP_COOKIE_LEN);
	memcpy(c.data, &n, sizeof(n));
	replay(p, &c);
}

/*
 * Per source (halfopen_peer_max 2): message 1 from the initiator's
 * address with fresh cookies, its answers lost.  The third finds two
 * half-open SAs from there: drop_halfopen_peer, the oldest (the real
 * initiator's first) evicted, two left.  Then the real initiator still
 * negotiates through the full table, and both sides have their pair.
 */
START_TEST(test_halfopen_peer)
{
	struct ike_pair *p = pair_new();
	struct tamper t = tnone();

	p->side[1].cfg.halfopen_peer_max = 2;
	p->side[1].cfg.halfopen_max = 16;
	t.drop_to_0 = true;
	set_tamper(p, &t);
	ike_pair_start(p);
	ike_initiate(p->side[0].eng, &p->side[0].peer, p->side[0].addr);
	ike_pair_pump(p);
	struct ike_pair_msg m1 = first_mm1(p);
	spoof_mm1(p, &m1, "10.9.0.1", 1);
	ike_pair_pump(p);
	ck_assert_uint_eq(responder_sas(p, NULL), 2);
	ck_assert_uint_eq(ctr(p, 1)->drop_halfopen_peer, 0);
	spoof_mm1(p, &m1, "10.9.0.1", 2);
	ike_pair_pump(p);
	ck_assert_uint_eq(ctr(p, 1)->drop_halfopen_peer, 1);
	ck_assert_uint_eq(ctr(p, 1)->drop_halfopen_global, 0);
	ck_assert_uint_eq(responder_sas(p, "10.9.0.1"), 2);
	ck_assert(!responder_has_cookie(p, m1.data)); /* the oldest went */
	/* the real node, through the full table */
	t.drop_to_0 = false;
	ike_initiate(p->side[0].eng, &p->side[0].peer, p->side[0].addr);
	ck_assert(ike_pair_run_until(p, 1000, d_both_children));
	ck_assert_uint_ge(ctr(p, 1)->drop_halfopen_peer, 2);
	ike_pair_delete(p);
}
END_TEST

/*
 * In all (halfopen_max 16, 4 a source): 40 messages 1 from 40 spoofed
 * addresses (the responder takes any).  24 find the table full:
 * drop_halfopen_global, each evicting the oldest; 16 SAs left, the last
 * 16.  The real initiator then negotiates.
 */
START_TEST(test_halfopen_global)
{
	struct ike_pair *p = pair_new();
	struct tamper t = tnone();
	char src[32];

	p->side[1].cfg.halfopen_peer_max = 4;
	p->side[1].cfg.halfopen_max = 16;
	p->side[1].peer.addr.s_addr = 0;
	t.drop_to_0 = true;
	set_tamper(p, &t);
	ike_pair_start(p);
	ike_initiate(p->side[0].eng, &p->side[0].peer, p->side[0].addr);
	ike_pair_pump(p);
	struct ike_pair_msg m1 = first_mm1(p);
	for (uint32_t i = 1; i <= 40; i++) {
		snprintf(src, sizeof(src), "10.8.%u.%u", i / 200, 1 + i % 200);
		spoof_mm1(p, &m1, src, i);
		ike_pair_pump(p);
	}
	ck_assert_uint_eq(ctr(p, 1)->drop_halfopen_global, 25);
	ck_assert_uint_eq(ctr(p, 1)->drop_halfopen_peer, 0);
	ck_assert_uint_eq(responder_sas(p, NULL), 16);
	uint32_t last = 40;
	uint8_t ck[ISAKMP_COOKIE_LEN];
	memset(ck, 0xa5, sizeof(ck));
	memcpy(ck, &last, sizeof(last));
	ck_assert(responder_has_cookie(p, ck));
	t.drop_to_0 = false;
	ike_initiate(p->side[0].eng, &p->side[0].peer, p->side[0].addr);
	ck_assert(ike_pair_run_until(p, 1000, d_both_children));
	ck_assert_uint_ge(ctr(p, 1)->drop_halfopen_global, 26);
	ike_pair_delete(p);
}
END_TEST

static bool drop_m4(struct ike_pair *p, size_t nth, struct ike_pair_msg *m)
{
	(void)p;
	(void)m;
	return nth == M4;
}

static bool d_responder_r4(struct ike_pair *p)
{
	struct ike_sa_info info;
	const struct ike_sa *sa = ike_sa_next(p->side[1].eng, NULL);

	if (sa == NULL)
		return false;
	ike_sa_get_info(sa, &info);
	return strcmp(info.state, "MM-R4") == 0;
}

/*
 * A half-open SA that proved its address (MM-R4: message 3 named our
 * cookie) is never evicted: with halfopen_peer_max 1 and the initiator's
 * Main Mode stopped after message 4, a spoofed message 1 from its address
 * is dropped (drop_halfopen_peer), the MM-R4 SA stays, and the initiator's
 * message 5 then completes it.
 */
START_TEST(test_halfopen_proven_kept)
{
	struct ike_pair *p = pair_new();

	p->side[1].cfg.halfopen_peer_max = 1;
	p->side[1].cfg.halfopen_max = 16;
	ike_pair_start(p);
	p->filter = drop_m4;
	ike_initiate(p->side[0].eng, &p->side[0].peer, p->side[0].addr);
	ike_pair_pump(p);
	ck_assert(d_responder_r4(p));
	struct ike_pair_msg m1 = first_mm1(p);
	spoof_mm1(p, &m1, "10.9.0.1", 7);
	ike_pair_pump(p);
	ck_assert_uint_eq(ctr(p, 1)->drop_halfopen_peer, 1);
	ck_assert_uint_eq(responder_sas(p, NULL), 1);
	ck_assert(d_responder_r4(p));
	p->filter = NULL;
	ck_assert(ike_pair_run_until(p, 2000, d_both_children));
	ike_pair_delete(p);
}
END_TEST

static Suite *ike_checks_suite(void)
{
	Suite *s = suite_create("ike_checks");
	TCase *tc = tcase_create("checks");

	tcase_add_loop_test(tc, test_rsa_sig_wrong, 0, 2);
	tcase_add_loop_test(tc, test_psk_hash_wrong, 0, 2);
	tcase_add_test(tc, test_sa_downgrade);
	tcase_add_test(tc, test_p1_answer_not_offered);
	tcase_add_loop_test(tc, test_qm_hash_wrong, 0, 3);
	tcase_add_test(tc, test_qm_hash3_always_wrong);
	tcase_add_loop_test(tc, test_info_hash_wrong, 0, 2);
	tcase_add_loop_test(tc, test_rcookie_wrong, 0, 4);
	tcase_add_test(tc, test_dpd_ack_replayed);
	tcase_add_test(tc, test_halfopen_peer);
	tcase_add_test(tc, test_halfopen_global);
	tcase_add_test(tc, test_halfopen_proven_kept);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_main(ike_checks_suite());
}
