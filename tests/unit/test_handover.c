/*
 * The real hand-over in one process (tests/unit/net_harness.h): one node,
 * fa1 and fa2 in domain A (one alias and MAC, an in-memory store), fa3 in
 * domain B, a home agent, all as library instances running the actual SA
 * transfer code (fa/fa_reuse.c, common/reuse_claim.c).  The tests drive
 * the node's moves, traffic and the attacks of tests/testbed/
 * test_forged_reg.sh and test_reuse_hostile.sh, and assert on what the
 * libraries count and hold; nothing here decides what they decide.
 * One case per item (CK_RUN_CASE picks one):
 *
 *  register       registration and IKE at fa1, traffic both ways through ESP;
 *  handover       fa1 -> fa2, full and partial reuse, direct, store and both;
 *  dying          fa1 freed or cut off mid hand-over, before or after it
 *                 served; fa1 missing the confirmation, the node back at it;
 *                 the store down or without the node's record;
 *  reassociation  fa1 -> fa3 -> fa2 (store), fa2 -> fa3 -> fa2, replays;
 *  forged_reg     the node's registration replayed, behind a new
 *                 Identification, with a wrong MN-HA authenticator;
 *  hostile_sax    transfer messages from non-members, under the wrong keys,
 *                 replayed, stale, without the node's registration;
 *  claim          the holder's checks of a claim, one at a time;
 *  membership     a previous FA outside the new FA's domain;
 *  forged_record  records in the store that are no good;
 *  race           a member racing for a loan, a replay while confirming, an
 *                 answer from a member not asked, a forged denial beside;
 *  loss           lost messages: a transfer request or its answer (asked
 *                 again), the home agent's reply, a confirmation;
 *  loan           a loan not confirmed in time: reclaimed, the late
 *                 confirmation refused, new IPsec SAs by Quick Mode;
 *  offers         partial reuse from the ISAKMP SA fa1 offered fa2 ahead,
 *                 and each check of an offer and of the claim against it;
 *  full_offers    full reuse from the SAs fa1 offered fa2 ahead with a
 *                 block of numbers; the same offer taken twice; renewal
 *                 above the blocks; an offer without a block; a taker on
 *                 its loan, lending only back to its lender, and telling
 *                 no top;
 *  hold           data for the node held at fa2 during its Quick Mode, or
 *                 while it takes the SAs over, sent through the pair; the
 *                 hold's bounds.
 *
 * Every test checks, whenever traffic flows, that no FA sent an ESP (SPI,
 * sequence number) twice and that the node never took data in the clear.
 * Each builds its own network and frees it in the teardown, so the program
 * runs the same without fork (CK_FORK=no, as under valgrind); NH_DEBUG=1
 * shows the libraries' log.
 */
#include "check_main.h"
#include "fa_hold.h"
#include "ike_xfer.h"
#include "isakmp.h"
#include "mip_ident.h"
#include "net_harness.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define WAIT_MS 3000 /* the most any step may take: a failure, not a wait */

static struct nh *n;

#define RC(i)  (n->fa[(i)].sec.reuse)
#define EP(i)  (n->fa[(i)].sec.ep.ctr)
#define MNC    (n->mn.sec.ctr)
#define MNEP   (n->mn.sec.ep.ctr)
#define IKE(i) (ike_engine_counters(n->fa[(i)].sec.ep.ike))

static void teardown(void)
{
	if (n != NULL)
		nh_free(n);
	n = NULL;
}

static bool registered_at(struct nh *net, void *arg)
{
	int fa = (int)(intptr_t)arg;

	return net->mn.mn.state == MN_REGISTERED &&
	       net->mn.mn.reg_coa.s_addr == net->fa[fa].fa.cfg.coa.s_addr;
}

/* A reuse counter of an FA, for nh_run: reached while it is not 0. */
struct counter {
	int fa;
	size_t off; /* in struct fa_reuse_counters */
};
#define REACHED(fa, name) (&(struct counter){(fa), offsetof(struct fa_reuse_counters, name)})

static uint64_t counter_of(struct nh *net, const struct counter *c)
{
	const char *base = (const char *)&net->fa[c->fa].sec.reuse;

	return *(const uint64_t *)(const void *)(base + c->off);
}

static bool reached(struct nh *net, void *arg)
{
	return counter_of(net, arg) > 0;
}

/* Traffic both ways, no ESP number sent twice, nothing taken in the clear. */
static void assert_flows(const char *where)
{
	char why[128];

	ck_assert_msg(nh_cn_send(n), "%s: correspondent -> node", where);
	ck_assert_msg(nh_mn_send(n), "%s: node -> correspondent", where);
	ck_assert_msg(nh_esp_unique(n, why, sizeof(why)), "%s: %s", where, why);
	ck_assert_uint_eq(n->mn_clear_rx, 0);
	ck_assert_uint_eq(n->tunnel_refused, 0);
	ck_assert_uint_eq(MNEP.esp_drop_replay, 0);
}

static void move_to(int fa)
{
	nh_move(n, fa);
	ck_assert_msg(nh_run(n, WAIT_MS, registered_at, (void *)(intptr_t)fa),
		      "not registered through fa%d", fa + 1);
}

static void net(const struct nh_conf *c)
{
	if (getenv("NH_DEBUG") != NULL)
		log_set_level(LOG_LVL_DEBUG);
	n = nh_new(c);
}

/* A network as c says, the node registered through fa1 with SAs (item 1). */
static void start(const struct nh_conf *c)
{
	net(c);
	move_to(NH_FA1);
	assert_flows("at fa1");
}

static struct nh_conf conf(enum fa_reuse_mode reuse, bool direct, bool store)
{
	return (struct nh_conf){.reuse = reuse, .direct = direct, .store = store};
}

/*
 * The node moves to fa2, which refuses to take its SAs over for the reason
 * why counts, and for no other: the node negotiates (Main Mode and Quick
 * Mode) and traffic flows.
 */
static void refused_at_fa2(const struct counter *why)
{
	const struct fa_reuse_counters *r = &RC(NH_FA2);
	size_t mark = nh_mark(n);

	move_to(NH_FA2);
	nh_settle(n);
	ck_assert_uint_eq(counter_of(n, why), 1);
	/* asking a silent previous FA again is no reason */
	ck_assert_uint_eq(ah_sum_u64(r, sizeof(*r)) - r->reuse_requests - r->reuse_refused -
				  r->store_puts - r->store_put_failures - r->transfer_resent,
			  1);
	ck_assert_uint_eq(r->reuse_refused, 1);
	ck_assert_uint_eq(MNC.reuse_refused, 1);
	ck_assert_uint_eq(nh_ike_since(n, NH_FA2, mark), 9);
	assert_flows("at fa2, negotiated");
}

/* ---- 1. registration and IKE at fa1, traffic both ways ---- */

START_TEST(test_register_ike_traffic)
{
	struct nh_conf c = conf(FA_REUSE_FULL, true, true);
	size_t mark;

	net(&c);
	mark = nh_mark(n);
	move_to(NH_FA1);
	/* Main Mode (6) and Quick Mode (3), then the registration under ESP */
	ck_assert_uint_eq(nh_ike_since(n, NH_FA1, mark), 9);
	ck_assert_uint_eq(IKE(NH_FA1)->ike_established, 1);
	ck_assert_uint_eq(IKE(NH_FA1)->children_established, 1);
	ck_assert_uint_eq(n->fa[NH_FA1].fa.ctr.reg_accepted, 1);
	ck_assert_uint_eq(n->ha.ctr.reg_accepted, 1);
	ck_assert_uint_eq(n->mn.mn.ctr.reg_accepted, 1);
	ck_assert_uint_eq(n->fa[NH_FA1].fa.ctr.drop_cleartext, 0);
	/* the request came through ESP, the reply left through it */
	ck_assert_uint_eq(EP(NH_FA1).esp_in, 1);
	ck_assert_uint_eq(EP(NH_FA1).esp_out, 1);
	/* fa1's copy in the store, written when the pair came up */
	ck_assert_uint_eq(RC(NH_FA1).store_puts, 1);
	ck_assert_ptr_nonnull(nh_store_get(n, &(size_t){0}));

	ck_assert(nh_cn_send(n));
	ck_assert(nh_mn_send(n));
	ck_assert_uint_eq(EP(NH_FA1).esp_in, 2);
	ck_assert_uint_eq(EP(NH_FA1).esp_out, 2);
	ck_assert_uint_eq(MNEP.esp_in, 2);
	ck_assert_uint_eq(MNEP.esp_out, 2);
	ck_assert_uint_eq(n->fa[NH_FA1].fa.ctr.delivered_packets, 1);
	ck_assert_uint_eq(n->fa[NH_FA1].fa.ctr.reverse_tunnelled_packets, 1);
	ck_assert_uint_eq(n->ha.ctr.tunnel_out_packets, 1);
	ck_assert_uint_eq(n->ha.ctr.tunnel_in_packets, 1);
	ck_assert_uint_eq(n->mn_rx, 1);
	ck_assert_uint_eq(n->cn_rx, 1);
	ck_assert_uint_eq(nh_esp_sent(n, NH_FA1), 2);
	ck_assert_uint_eq(nh_esp_sent(n, NH_MN), 2);
	assert_flows("at fa1");
}
END_TEST

/* ---- 2. fa1 -> fa2: full and partial, direct, store and both ---- */

/*
 * The node moves from fa1 to fa2; a packet the home agent tunnelled to fa1
 * before the binding moved reaches fa1 while fa2 is taking the SAs over.
 */
static size_t handover_fa1_fa2(void)
{
	uint8_t late[300];
	size_t late_len = nh_tunnel_now(n, late, sizeof(late));
	size_t mark = nh_mark(n);

	ck_assert_uint_gt(late_len, 0);
	ck_assert(nh_move_until(n, NH_FA2, WAIT_MS, reached, REACHED(NH_FA2, reuse_requests)));
	nh_tunnel_late(n, late, late_len);
	ck_assert(nh_run(n, WAIT_MS, registered_at, (void *)(intptr_t)NH_FA2));
	nh_settle(n);
	return mark;
}

/*
 * Frames fa sent to one station (unicast) but IKE, in [from, to): the reply,
 * in the clear or (SAs it may send on already) through ESP, and data.
 */
static size_t unicast_from(const struct nh *net, int fa, size_t from, size_t to)
{
	size_t c = 0;

	for (size_t i = from; i < to && i < net->n_frames; i++) {
		const struct nh_frame *f = &net->frames[i];
		c += f->from == fa && !f->ike && (f->dst[0] & 1) == 0;
	}
	return c;
}

START_TEST(test_handover)
{
	bool full = _i < 3, direct = _i % 3 != 1, store = _i % 3 != 0;
	struct nh_conf c = conf(full ? FA_REUSE_FULL : FA_REUSE_PARTIAL, direct, store);
	size_t mark, fa1_esp, fa2_esp;
	uint64_t fa2_puts;

	start(&c);
	fa1_esp = nh_esp_sent(n, NH_FA1);
	fa2_puts = RC(NH_FA2).store_puts;
	mark = handover_fa1_fa2();
	/* full: not one IKE message; partial: Quick Mode */
	ck_assert_uint_eq(nh_ike_since(n, NH_FA2, mark), full ? 0 : 3);
	ck_assert_uint_eq(RC(NH_FA2).reuse_requests, 1);
	ck_assert_uint_eq(RC(NH_FA2).reuse_full, full);
	ck_assert_uint_eq(RC(NH_FA2).reuse_partial, !full);
	ck_assert_uint_eq(RC(NH_FA2).reuse_refused, 0);
	ck_assert_uint_eq(MNC.reuse_full, full);
	ck_assert_uint_eq(MNC.reuse_partial, !full);
	/* direct and both ask fa1, which lends; store reads fa1's copy */
	ck_assert_uint_eq(RC(NH_FA1).served_records, direct);
	ck_assert_uint_eq(RC(NH_FA1).served_refused + RC(NH_FA1).served_bad_proof, 0);
	ck_assert_uint_eq(RC(NH_FA2).fallback_prev_silent + RC(NH_FA2).fallback_store_miss, 0);
	/* the confirmation: fa1 forgets and answers RELEASED (a loan's cap goes: full, direct) */
	ck_assert_uint_eq(RC(NH_FA1).served_released, 1);
	ck_assert_uint_eq(RC(NH_FA2).taken_released, 1);
	ck_assert_uint_eq(RC(NH_FA2).taken_unconfirmed + RC(NH_FA2).taken_denied, 0);
	ck_assert(!nh_fa_holds(&n->fa[NH_FA1]));
	ck_assert(nh_fa_holds(&n->fa[NH_FA2]));
	/*
	 * The host route moved with the SAs, and fa2 added its own only after
	 * the reply (a netlink round trip off the reply's path), the one
	 * thing fa2 sent the node before it.
	 */
	ck_assert(!n->fa[NH_FA1].routed);
	ck_assert(n->fa[NH_FA2].routed);
	ck_assert_uint_eq(unicast_from(n, NH_FA2, mark, n->fa[NH_FA2].route_frame), 1);
	/* with a store, fa2's own copy replaced fa1's */
	ck_assert_uint_eq(RC(NH_FA2).store_puts > fa2_puts, store);
	ck_assert_uint_eq(RC(NH_FA2).store_put_failures, 0);
	/* the late packet: fa1 sealed it within what it kept for itself */
	ck_assert_uint_eq(nh_esp_sent(n, NH_FA1), fa1_esp + 1);
	fa2_esp = EP(NH_FA2).esp_out;
	assert_flows("at fa2");
	ck_assert_uint_gt(EP(NH_FA2).esp_out, fa2_esp);
	ck_assert_uint_eq(nh_esp_sent(n, NH_FA1), fa1_esp + 1);
	ck_assert_uint_eq(EP(NH_FA2).esp_drop_reserved, 0);
}
END_TEST

/* ---- 3. the previous FA dying mid hand-over ---- */

/*
 * The node moves to fa2; once when is reached, fa1 goes: freed (a crash) or
 * cut off; then until the node is registered through fa2 and nothing more
 * is due (with a store, fa2 sends once its copy is kept).  The mark before.
 */
static size_t move_while_fa1_dies(const struct counter *when, bool freed)
{
	size_t mark = nh_mark(n);

	ck_assert(nh_move_until(n, NH_FA2, WAIT_MS, reached, (void *)when));
	if (freed)
		nh_kill_fa(n, NH_FA1);
	else
		nh_silence_fa(n, NH_FA1, true);
	ck_assert(nh_run(n, WAIT_MS, registered_at, (void *)(intptr_t)NH_FA2));
	nh_settle(n);
	return mark;
}

/*
 * fa1 lends the SAs, then goes before fa2's confirmation reaches it: the
 * hand-over completes all the same (full reuse, no IKE).  Freed, fa1 never
 * answers, and fa2, after its tries, stays below the loan's cap
 * (taken_unconfirmed); cut off for a while, fa1 hears one of fa2's
 * repeated confirmations once it is back and releases the SAs.  _i: 0
 * both, freed; 1 both, cut off; 2 direct, freed; 3 direct, cut off.
 */
START_TEST(test_prev_dies_after_serving)
{
	bool freed = _i % 2 == 0;
	struct nh_conf c = conf(FA_REUSE_FULL, true, _i < 2);
	size_t mark;

	start(&c);
	mark = move_while_fa1_dies(REACHED(NH_FA1, served_records), freed);
	ck_assert_uint_eq(RC(NH_FA2).reuse_full, 1);
	ck_assert_uint_eq(MNC.reuse_full, 1);
	ck_assert_uint_eq(nh_ike_since(n, NH_FA2, mark), 0);
	assert_flows("at fa2, fa1 gone");
	if (freed) {
		ck_assert(nh_run(n, WAIT_MS, reached, REACHED(NH_FA2, taken_unconfirmed)));
		ck_assert_uint_eq(RC(NH_FA2).taken_released, 0);
	} else {
		nh_run(n, 250, NULL, NULL);
		ck_assert_uint_eq(RC(NH_FA1).served_released, 0);
		nh_silence_fa(n, NH_FA1, false);
		ck_assert(nh_run(n, WAIT_MS, reached, REACHED(NH_FA2, taken_released)));
		ck_assert_uint_eq(RC(NH_FA1).served_released, 1);
		ck_assert_uint_eq(RC(NH_FA2).taken_unconfirmed, 0);
		ck_assert(!nh_fa_holds(&n->fa[NH_FA1]));
	}
	ck_assert_uint_eq(RC(NH_FA2).taken_reclaimed, 0);
	assert_flows("at fa2, confirmed or not");
	ck_assert_uint_eq(EP(NH_FA2).esp_drop_reserved, 0);
}
END_TEST

/*
 * Partial reuse with a store, fa1 cut off once it has served: fa2's
 * confirmation goes unanswered while the node's Quick Mode with fa2 ends,
 * and the new pair's copy must reach the store all the same (a hand-over
 * waiting for RELEASED writes no first copy of its own in partial reuse).
 */
START_TEST(test_partial_copy_while_confirming)
{
	struct nh_conf c = conf(FA_REUSE_PARTIAL, true, true);
	uint64_t fa2_puts;
	size_t mark;

	start(&c);
	fa2_puts = RC(NH_FA2).store_puts;
	mark = move_while_fa1_dies(REACHED(NH_FA1, served_records), false);
	ck_assert_uint_eq(RC(NH_FA2).reuse_partial, 1);
	ck_assert_uint_eq(nh_ike_since(n, NH_FA2, mark), 3);
	ck_assert_uint_eq(RC(NH_FA2).taken_released + RC(NH_FA2).taken_unconfirmed, 0);
	ck_assert_uint_gt(RC(NH_FA2).store_puts, fa2_puts);
	ck_assert_uint_eq(RC(NH_FA2).store_put_failures, 0);
	assert_flows("at fa2, fa1 cut off");
}
END_TEST

/*
 * fa1 dies before it answers fa2's request.  With the store (both), fa2
 * reads fa1's copy there once transfer_timeout_ms passed: full reuse still.
 * Direct only, fa2 gives up (fallback_prev_silent) and the node negotiates.
 * _i: 0 both, freed; 1 both, cut off; 2 direct, freed; 3 direct, cut off.
 */
START_TEST(test_prev_dies_before_answering)
{
	bool freed = _i % 2 == 0, store = _i < 2;
	struct nh_conf c = conf(FA_REUSE_FULL, true, store);
	size_t mark;

	start(&c);
	mark = move_while_fa1_dies(REACHED(NH_FA2, reuse_requests), freed);
	ck_assert_uint_eq(RC(NH_FA2).reuse_full, store);
	ck_assert_uint_eq(RC(NH_FA2).reuse_refused, !store);
	ck_assert_uint_eq(RC(NH_FA2).fallback_prev_silent, !store);
	ck_assert_uint_eq(MNC.reuse_full, store);
	ck_assert_uint_eq(MNC.reuse_refused, !store);
	/* with the store no IKE at all; without, Main Mode and Quick Mode */
	ck_assert_uint_eq(nh_ike_since(n, NH_FA2, mark), store ? 0 : 9);
	assert_flows("at fa2, fa1 gone");
}
END_TEST

/*
 * fa1 is cut off while the node moves to fa2 (both: fa2 falls back to the
 * store), so fa2's confirmation never reaches it; back, fa1 still holds its
 * old copy of the SAs.  When the node returns to fa1, naming fa2, fa1 lets
 * its registration in the clear (the claim checks out against its ISAKMP
 * SA) and takes the SAs from fa2.  Found by this test: fa1 dropped every
 * such registration as cleartext from a node with SAs, so the node could
 * not register there until those SAs ended.  _i: 0 full, 1 partial.
 */
START_TEST(test_prev_missed_confirmation)
{
	bool full = _i == 0;
	struct nh_conf c = conf(full ? FA_REUSE_FULL : FA_REUSE_PARTIAL, true, true);
	size_t mark;

	start(&c);
	nh_silence_fa(n, NH_FA1, true);
	move_to(NH_FA2);
	nh_settle(n);
	ck_assert_uint_eq(full ? RC(NH_FA2).reuse_full : RC(NH_FA2).reuse_partial, 1);
	assert_flows("at fa2");
	nh_silence_fa(n, NH_FA1, false);
	ck_assert(nh_fa_holds(&n->fa[NH_FA1]));
	mark = nh_mark(n);
	move_to(NH_FA1);
	nh_settle(n);
	ck_assert_uint_eq(n->fa[NH_FA1].fa.ctr.drop_cleartext, 0);
	ck_assert_uint_eq(RC(NH_FA2).served_records, 1);
	ck_assert_uint_eq(full ? RC(NH_FA1).reuse_full : RC(NH_FA1).reuse_partial, 1);
	ck_assert_uint_eq(nh_ike_since(n, NH_FA1, mark), full ? 0 : 3);
	ck_assert(!nh_fa_holds(&n->fa[NH_FA2]));
	assert_flows("back at fa1");
}
END_TEST

/*
 * No loan (technique store: fa1 lent nothing), and fa2's first STORE_DEL
 * to fa1 is lost: fa2 sends it again, fa1 forgets its copy and answers
 * RELEASED, so no stale copy is left at fa1.  Without the retry fa1 kept
 * the SAs.  _i: 0 full, 1 partial.
 */
static bool drop_first_del_to_fa1(struct nh *net, const struct nh_ev *e, void *arg)
{
	unsigned *dropped = arg;

	(void)net;
	if (e->kind != NH_EV_SAX || e->to.s_addr != ah_ip(AH_COA1).s_addr || e->len < 2 ||
	    e->d[1] != SAX_STORE_DEL || *dropped > 0)
		return false;
	(*dropped)++;
	return true;
}

START_TEST(test_confirmation_retried)
{
	bool full = _i == 0;
	struct nh_conf c = conf(full ? FA_REUSE_FULL : FA_REUSE_PARTIAL, false, true);
	unsigned dropped = 0;

	start(&c);
	n->filter = drop_first_del_to_fa1;
	n->filter_arg = &dropped;
	move_to(NH_FA2);
	nh_run(n, 1000, NULL, NULL); /* the retries come transfer_timeout_ms apart */
	n->filter = NULL;
	ck_assert_uint_eq(dropped, 1);
	ck_assert_uint_eq(RC(NH_FA1).served_records, 0);
	ck_assert_uint_eq(RC(NH_FA1).served_released, 1);
	ck_assert_uint_eq(RC(NH_FA2).taken_released, 1);
	ck_assert_uint_eq(RC(NH_FA2).taken_unconfirmed, 0);
	ck_assert(!nh_fa_holds(&n->fa[NH_FA1]));
	assert_flows("at fa2");
}
END_TEST

/*
 * Direct only: the first SA request from fa2 to fa1 (_i 0, 1) or fa1's
 * first answer (_i 2, 3) is lost.  fa2 asks again at half of
 * transfer_timeout_ms and the hand-over is still a reuse, with no IKE.
 * Without the second request it fell back (fallback_prev_silent) and the
 * node negotiated.  _i even: full, odd: partial.
 */
struct lost_sax {
	unsigned type, dropped;
	struct in_addr to;
};

static bool drop_first_sax(struct nh *net, const struct nh_ev *e, void *arg)
{
	struct lost_sax *l = arg;

	(void)net;
	if (e->kind != NH_EV_SAX || e->to.s_addr != l->to.s_addr || e->len < 2 ||
	    e->d[1] != l->type || l->dropped > 0)
		return false;
	l->dropped++;
	return true;
}

START_TEST(test_transfer_request_resent)
{
	bool full = _i % 2 == 0, answer = _i >= 2;
	struct nh_conf c = conf(full ? FA_REUSE_FULL : FA_REUSE_PARTIAL, true, false);
	struct lost_sax l = {.type = answer ? SAX_RECORD : SAX_REQUEST,
			     .to = ah_ip(answer ? AH_COA2 : AH_COA1)};
	size_t mark;

	start(&c);
	n->filter = drop_first_sax;
	n->filter_arg = &l;
	mark = nh_mark(n);
	move_to(NH_FA2);
	nh_settle(n);
	n->filter = NULL;
	ck_assert_uint_eq(l.dropped, 1);
	ck_assert_uint_eq(RC(NH_FA2).transfer_resent, 1);
	ck_assert_uint_eq(RC(NH_FA2).fallback_prev_silent, 0);
	ck_assert_uint_eq(RC(NH_FA2).reuse_refused, 0);
	ck_assert_uint_eq(full ? RC(NH_FA2).reuse_full : RC(NH_FA2).reuse_partial, 1);
	/* asked twice, fa1 served twice: the same numbers lent both times */
	ck_assert_uint_eq(RC(NH_FA1).served_records, answer ? 2 : 1);
	/* full: no IKE at all; partial: Quick Mode only (three messages) */
	ck_assert_uint_eq(nh_ike_since(n, NH_FA2, mark), full ? 0 : 3);
	assert_flows("at fa2 after a lost transfer message");
	ck_assert_uint_eq(EP(NH_FA2).esp_drop_reserved, 0);
}
END_TEST

/*
 * A registration request with an SA reuse extension for the node's ISAKMP
 * SA with domain A: by default the node's own claim on fa1 as it would make
 * it now (NAI, MN-HA, the extension naming fa1 and the SA's cookies, the
 * proof computed with the node's copy of SKEYID_a), or with one thing
 * changed.  A forged proof is what a requester without the node's
 * registration can send; the others reach the checks behind the proof.
 */
struct claim {
	const char *home, *nai, *prev; /* NULL: the node's, the node's, fa1 */
	int64_t id_offset_s;           /* the Identification this far from now */
	bool old_id;                   /* the node's last Identification, not a new one */
	size_t proof_len;              /* 0: the SA's PRF's length */
	bool forged_proof;             /* a proof nobody computed */
	bool trailing;                 /* an extension (skippable) after ours */
};

static size_t claim_reg(const struct claim *c, uint8_t *out, size_t cap)
{
	struct sax_record rec;
	struct mip_key k = ah_key(AH_SPI_ALICE, AH_SEED_ALICE);
	struct ah_req r = {.flags = MIP_RQ_T,
			   .lifetime = 300,
			   .home_addr = ah_ip(c->home != NULL ? c->home : AH_ALICE),
			   .home_agent = ah_ip(AH_HA),
			   .coa = ah_ip(AH_COA2),
			   .id = c->old_id ? n->mn.mn.last_id
					   : mip_ident_next(ev_loop_wall_us(n->loop),
							    n->mn.mn.last_id, c->id_offset_s),
			   .nai = c->nai != NULL ? c->nai : AH_NAI_ALICE,
			   .mn_ha = &k};
	struct mip_reuse_req q = {.prev_coa = ah_ip(c->prev != NULL ? c->prev : AH_COA1)};
	size_t len = ah_build_request(&r, out, cap), covered, proof_len;
	uint8_t mac[IKE_MAX_HASH], *auth;
	struct buf b;

	ck_assert_int_eq(ike_export(n->mn.sec.ep.ike, ah_ip(NH_ALIAS_A), false, &rec), 0);
	proof_len = c->proof_len != 0 ? c->proof_len : rec.isakmp.hash_len;
	memcpy(q.icookie, rec.isakmp.icookie, 8);
	memcpy(q.rcookie, rec.isakmp.rcookie, 8);
	buf_init_append(&b, out, cap, len);
	ck_assert_int_eq(mip_ext_put_reuse(&b, &q, proof_len, &auth, &covered), 0);
	ck_assert_int_eq(ike_possession_mac(&rec.isakmp, out, covered, mac), 0);
	memcpy(auth, mac, proof_len);
	if (c->forged_proof)
		memset(auth, 0x5a, proof_len);
	if (c->trailing)
		ck_assert(buf_put_u8(&b, 200) == BUF_OK && buf_put_u8(&b, 2) == BUF_OK &&
			  buf_put_u16(&b, 0xabcd) == BUF_OK);
	sax_record_wipe(&rec);
	return buf_used(&b);
}

/*
 * The store cannot help (technique store): it is down (silent: fa2 waits
 * transfer_timeout_ms, fallback_store_down), or it has no record of the
 * node (fallback_store_miss).  The node negotiates with fa2.  _i: 0 down,
 * 1 no record.
 */
START_TEST(test_store_unavailable)
{
	struct nh_conf c = conf(FA_REUSE_FULL, false, true);

	start(&c);
	if (_i == 0)
		n->store.down = true;
	else
		nh_store_forget(n);
	refused_at_fa2(_i == 0 ? REACHED(NH_FA2, fallback_store_down)
			       : REACHED(NH_FA2, fallback_store_miss));
}
END_TEST

/*
 * A hand-over while the store is down (technique store): fa2 falls back,
 * the node negotiates, and fa2's first copy of the new SAs fails.  Once the
 * store is back fa2 writes the copy again (store_put_retries), so the next
 * hand-over, back to fa1, which still holds the old SAs, is a full reuse
 * from the store with no IKE.  Without the retry the store held only fa1's
 * old copy, the node's claim did not match it, and it negotiated again.
 */
START_TEST(test_store_outage_copy_retried)
{
	struct nh_conf c = conf(FA_REUSE_FULL, false, true);
	size_t mark;

	start(&c);
	n->store.down = true;
	refused_at_fa2(REACHED(NH_FA2, fallback_store_down));
	ck_assert(nh_run(n, WAIT_MS, reached, REACHED(NH_FA2, store_put_failures)));
	ck_assert_uint_eq(RC(NH_FA2).store_put_retries, 0);
	n->store.down = false;
	ck_assert(nh_run(n, WAIT_MS, reached, REACHED(NH_FA2, store_put_retries)));
	nh_settle(n);
	ck_assert_uint_eq(RC(NH_FA2).store_put_retries, 1);
	mark = nh_mark(n);
	move_to(NH_FA1);
	nh_settle(n);
	ck_assert_uint_eq(RC(NH_FA1).reuse_full, 1);
	ck_assert_uint_eq(RC(NH_FA1).reuse_refused, 0);
	ck_assert_uint_eq(nh_ike_since(n, NH_FA1, mark), 0);
	assert_flows("back at fa1, from fa2's copy written again");
}
END_TEST

/*
 * The store down for two hand-overs (technique store): fa1 -> fa2, where
 * the node negotiates, then back to fa1, which still holds the SAs of the
 * node's first visit.  fa1 cannot reach the store either and refuses the
 * reuse; once the home agent accepted the registration, fa1 must drop its
 * old SAs so that the reply goes in the clear and the node negotiates.
 * Found by test_sentinel: fa1 sent the reply through SAs the node no longer
 * had, and the node retransmitted until they expired.
 */
static void set_ident(uint8_t *reg, uint64_t id);
static void flip_mn_ha(uint8_t *reg, size_t len);

START_TEST(test_store_outage_back_to_old_fa)
{
	struct nh_conf c = conf(FA_REUSE_FULL, false, true);
	size_t mark;

	start(&c);
	n->store.down = true;
	refused_at_fa2(REACHED(NH_FA2, fallback_store_down));
	mark = nh_mark(n);
	move_to(NH_FA1);
	nh_settle(n);
	ck_assert_uint_eq(RC(NH_FA1).fallback_store_down, 1);
	ck_assert_uint_eq(RC(NH_FA1).reuse_refused, 1);
	ck_assert_uint_eq(RC(NH_FA1).stale_dropped, 1);
	ck_assert_uint_eq(MNC.reuse_refused, 2);
	ck_assert_uint_eq(nh_ike_since(n, NH_FA1, mark), 9);
	assert_flows("back at fa1 during the store outage, negotiated");

	/*
	 * Only a registration the home agent accepts drops SAs: the node's
	 * cleartext registration naming fa2, replayed or with a new
	 * Identification and a wrong MN-HA authenticator, from a host on fa1's
	 * link, is refused the same way, and fa1 keeps the SAs the node uses.
	 */
	uint8_t r0[1024], reg[1024];
	size_t len = nh_reuse_reg(n, NH_FA1, n->fa[NH_FA2].fa.cfg.coa, r0, sizeof(r0));

	ck_assert_uint_gt(len, 0);
	for (int forged = 0; forged < 2; forged++) {
		uint64_t ha_deny = n->ha.ctr.deny_identification + n->ha.ctr.deny_mn_auth;

		/* the last transfer forgotten, so the injected request starts one */
		nh_run(n, 6000, NULL, NULL);
		assert_flows("at fa1, before the forged registration");

		memcpy(reg, r0, len);
		if (forged) {
			set_ident(reg,
				  mip_ident_next(ev_loop_wall_us(n->loop), n->mn.mn.last_id, 0));
			flip_mn_ha(reg, len);
		}
		nh_inject_reg(n, NH_FA1, reg, len);
		nh_run(n, 500, NULL, NULL); /* past the store's timeout */
		ck_assert_uint_eq(n->ha.ctr.deny_identification + n->ha.ctr.deny_mn_auth,
				  ha_deny + 1);
		ck_assert_uint_eq(RC(NH_FA1).reuse_refused, 2 + forged);
		ck_assert_uint_eq(RC(NH_FA1).stale_dropped, 1);
		ck_assert(nh_fa_holds(&n->fa[NH_FA1]));
		ck_assert(registered_at(n, (void *)(intptr_t)NH_FA1));
		assert_flows("at fa1 after a registration the home agent denied");
	}
}
END_TEST

/* ---- 4. re-association ---- */

/*
 * fa1 -> fa3 (domain B: the node negotiates there) -> fa2, which reads the
 * copy fa1 wrote to the store: full reuse, no IKE.  Then fa2 -> fa3 -> fa2:
 * fa2 still holds the SAs and takes the node back at once
 * (reuse_reassociated); on the way fa3, too, takes it back.  A replay of
 * the node's re-association registration at fa2 while it is away gets
 * nowhere.
 */
START_TEST(test_reassociation)
{
	struct nh_conf c = conf(FA_REUSE_FULL, false, true);
	uint8_t reg[1024];
	size_t mark, len;

	start(&c);
	mark = nh_mark(n);
	move_to(NH_FA3);
	ck_assert_uint_eq(nh_ike_since(n, NH_FA3, mark), 9);
	ck_assert_uint_eq(RC(NH_FA3).reuse_requests, 0);
	assert_flows("at fa3");
	ck_assert(nh_fa_holds(&n->fa[NH_FA1])); /* nobody asked for them */

	mark = nh_mark(n);
	move_to(NH_FA2);
	nh_settle(n);
	ck_assert_uint_eq(nh_ike_since(n, NH_FA2, mark), 0);
	ck_assert_uint_eq(RC(NH_FA2).reuse_full, 1);
	ck_assert_uint_eq(RC(NH_FA1).served_records, 0); /* the store, not fa1 */
	ck_assert_uint_eq(RC(NH_FA1).served_released, 1);
	ck_assert(!nh_fa_holds(&n->fa[NH_FA1]));
	assert_flows("at fa2");

	move_to(NH_FA3);
	ck_assert_uint_eq(RC(NH_FA3).reuse_reassociated, 1);
	assert_flows("back at fa3");
	ck_assert(nh_fa_holds(&n->fa[NH_FA2]));

	mark = nh_mark(n);
	move_to(NH_FA2);
	nh_settle(n);
	ck_assert_uint_eq(nh_ike_since(n, NH_FA2, mark), 0);
	ck_assert_uint_eq(RC(NH_FA2).reuse_reassociated, 1);
	ck_assert_uint_eq(RC(NH_FA2).reuse_full, 2);
	ck_assert_uint_eq(MNC.reuse_full, 3);
	ck_assert_uint_eq(RC(NH_FA2).served_records + RC(NH_FA1).served_records, 0);
	assert_flows("back at fa2");

	/* the node's re-association registration, replayed at fa2 while it is at fa3 */
	len = nh_reuse_reg(n, NH_FA2, n->fa[NH_FA2].fa.cfg.coa, reg, sizeof(reg));
	ck_assert_uint_gt(len, 0);
	move_to(NH_FA3);
	nh_inject_reg(n, NH_FA2, reg, len);
	nh_settle(n);
	ck_assert_uint_eq(n->fa[NH_FA2].fa.ctr.drop_cleartext, 1);
	ck_assert_uint_eq(RC(NH_FA2).reuse_reassociated, 1);
	ck_assert_uint_eq(RC(NH_FA2).reuse_requests, 2);
	ck_assert(nh_fa_holds(&n->fa[NH_FA2]));
	assert_flows("at fa3 after the replay");
	move_to(NH_FA2);
	ck_assert_uint_eq(RC(NH_FA2).reuse_reassociated, 2);
	assert_flows("back at fa2 after the replay");

	/* fa2 forgets the node's registration while it is away: the window alone judges */
	move_to(NH_FA3);
	fa_expire(&n->fa[NH_FA2].fa, nh_now_ms(n) + 3600000);
	ck_assert_ptr_null(fa_find_visitor(&n->fa[NH_FA2].fa, ah_ip(AH_ALICE)));
	/* (a claim on fa2 with an Identification a minute ahead is not let in) */
	len = claim_reg(&(struct claim){.prev = AH_COA2, .id_offset_s = 60}, reg, sizeof(reg));
	nh_inject_reg(n, NH_FA2, reg, len);
	nh_settle(n);
	ck_assert_uint_eq(n->fa[NH_FA2].fa.ctr.drop_cleartext, 2);
	move_to(NH_FA2);
	ck_assert_uint_eq(RC(NH_FA2).reuse_reassociated, 3);
	ck_assert_uint_eq(n->fa[NH_FA2].fa.ctr.drop_cleartext, 2);
	assert_flows("back at fa2, which had forgotten the registration");
}
END_TEST

/* ---- 5. attacks ---- */

/* The registration request with its Identification replaced (offset 16, RFC 5944 3.3). */
static void set_ident(uint8_t *reg, uint64_t id)
{
	for (int i = 0; i < 8; i++)
		reg[16 + i] = (uint8_t)(id >> (56 - 8 * i));
}

/* Flip the first byte of the MN-HA authenticator. */
static void flip_mn_ha(uint8_t *reg, size_t len)
{
	struct mip_reg_request rq;

	ck_assert_int_eq(mip_request_parse(reg, len, &rq), MIP_PERR_OK);
	ck_assert(rq.ext.mn_ha.present);
	reg[rq.ext.mn_ha.auth - reg] ^= 0xff;
}

/*
 * test_forged_reg.sh: the node moves fa1 -> fa2 -> fa1 -> fa2 while fa1's
 * link is watched, so the attacker holds R, its cleartext reuse
 * registration naming fa2.  With the node at fa2, from a host on fa1's
 * link: R replayed; R's extension behind a new Identification; the same
 * with a wrong MN-HA authenticator; R with only MN-HA changed.  fa2, which
 * holds the SAs, lends nothing (served_stale, served_bad_proof); fa1 takes
 * the store's copy and drops it when the home agent denies the replay
 * (taken_denied), or refuses the copy for the proof (fallback_possession).
 */
struct forged {
	const char *what;
	bool new_ident, bad_mn_ha;
};

static const struct forged forged[] = {
	{"replayed as it was", false, false},
	{"extension behind a new Identification", true, false},
	{"new Identification, wrong MN-HA authenticator", true, true},
	{"wrong MN-HA authenticator", false, true},
};

START_TEST(test_forged_registrations)
{
	struct nh_conf c = conf(FA_REUSE_FULL, true, true);
	uint8_t r0[1024];
	size_t len;
	uint64_t served0, puts0;

	start(&c);
	move_to(NH_FA2);
	move_to(NH_FA1);
	len = nh_reuse_reg(n, NH_FA1, n->fa[NH_FA2].fa.cfg.coa, r0, sizeof(r0));
	ck_assert_uint_gt(len, 0);
	move_to(NH_FA2);
	assert_flows("at fa2");
	served0 = RC(NH_FA2).served_records;
	puts0 = RC(NH_FA1).store_puts;
	ck_assert_uint_eq(served0, 1);

	for (size_t k = 0; k < sizeof(forged) / sizeof(forged[0]); k++) {
		const struct forged *f = &forged[k];
		uint8_t reg[1024];
		uint64_t stale = RC(NH_FA2).served_stale, proof = RC(NH_FA2).served_bad_proof;
		uint64_t denied = RC(NH_FA1).taken_denied, poss = RC(NH_FA1).fallback_possession;
		uint64_t ha_deny = n->ha.ctr.deny_identification + n->ha.ctr.deny_mn_auth;
		bool replay = !f->new_ident && !f->bad_mn_ha;

		memcpy(reg, r0, len);
		if (f->new_ident)
			set_ident(reg,
				  mip_ident_next(ev_loop_wall_us(n->loop), n->mn.mn.last_id, 0));
		if (f->bad_mn_ha)
			flip_mn_ha(reg, len);
		nh_inject_reg(n, NH_FA1, reg, len);
		nh_settle(n);
		ck_assert_msg(RC(NH_FA2).served_stale == stale + replay, "%s: served_stale",
			      f->what);
		ck_assert_msg(RC(NH_FA2).served_bad_proof == proof + !replay,
			      "%s: served_bad_proof", f->what);
		ck_assert_msg(RC(NH_FA1).taken_denied == denied + replay, "%s: taken_denied",
			      f->what);
		ck_assert_msg(RC(NH_FA1).fallback_possession == poss + !replay,
			      "%s: fallback_possession", f->what);
		ck_assert_msg(n->ha.ctr.deny_identification + n->ha.ctr.deny_mn_auth == ha_deny + 1,
			      "%s: the home agent's denial", f->what);
		ck_assert_msg(RC(NH_FA2).served_records == served0, "%s: served", f->what);
		ck_assert_uint_eq(RC(NH_FA2).served_reclaimed, 0);
		ck_assert_msg(nh_fa_holds(&n->fa[NH_FA2]), "%s: fa2 lost the SAs", f->what);
		ck_assert_msg(!nh_fa_holds(&n->fa[NH_FA1]), "%s: fa1 kept SAs", f->what);
		ck_assert(registered_at(n, (void *)(intptr_t)NH_FA2));
		assert_flows(f->what);
	}
	/* the store still has fa2's copy: fa1 wrote nothing */
	ck_assert_uint_eq(RC(NH_FA1).store_puts, puts0);
	/* and the node still hands over: fa2 lends, fa1 takes the SAs */
	move_to(NH_FA1);
	ck_assert_uint_eq(RC(NH_FA2).served_records, served0 + 1);
	ck_assert_uint_eq(RC(NH_FA1).reuse_full, 2 + 1); /* its own two, and the replay's */
	assert_flows("back at fa1");
}
END_TEST

/* A transfer message for the node built by a test: what a hostile sender can make. */
static size_t sax_msg(uint8_t *out, size_t cap, uint8_t type, const char *sender,
		      const struct sax_keys *k, const uint8_t *reg, size_t reg_len, uint64_t age_ms)
{
	struct sax_msg *m = calloc(1, sizeof(*m));
	struct buf b;

	ck_assert_ptr_nonnull(m);
	m->version = SAX_VERSION;
	m->type = type;
	m->sender = ah_ip(sender);
	m->mn_id_len = strlen(AH_NAI_ALICE);
	memcpy(m->mn_id, AH_NAI_ALICE, m->mn_id_len);
	if (reg != NULL) {
		memcpy(m->req.reg, reg, reg_len);
		m->req.reg_len = (uint16_t)reg_len;
	}
	sax_stamp_at(m, ev_loop_wall_ms(n->loop));
	m->timestamp_ms -= age_ms;
	buf_init_write(&b, out, cap);
	ck_assert_int_eq(sax_build(&b, m, k), SAX_E_OK);
	free(m);
	return buf_used(&b);
}

static uint8_t sax_flags(const struct nh_sax *s, const struct sax_keys *k)
{
	struct sax_msg *m = calloc(1, sizeof(*m));
	uint8_t f;

	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(sax_parse(s->d, s->len, k, ev_loop_wall_ms(n->loop), 30000, NULL, m),
			 SAX_E_OK);
	ck_assert_uint_eq(m->type, SAX_REFUSED);
	f = (uint8_t)m->flags;
	sax_record_wipe(&m->rec);
	free(m);
	return f;
}

/* A hostile transfer message to fa1: its type, source, Sender field, keys and age. */
struct hostile {
	const char *what;
	uint8_t type;
	const char *src, *sender;
	const struct sax_keys *(*keys)(void);
	uint64_t age_ms;
};

/* Send msg to fa1 from src and settle: fa1's answer to src, or NULL. */
static const struct nh_sax *to_fa1(const char *src, const uint8_t *msg, size_t len)
{
	size_t first = n->n_saxs;

	nh_inject_sax(n, ah_ip(src), NH_FA1, msg, len);
	nh_settle(n);
	return nh_sax_last(n, SAX_REFUSED, ah_ip(src), first);
}

static size_t hostile_msg(const struct hostile *h, uint8_t *msg, const uint8_t *reg, size_t len)
{
	return sax_msg(msg, SAX_MSG_MAX, h->type, h->sender, h->keys(),
		       h->type == SAX_REQUEST ? reg : NULL, len, h->age_ms);
}

/* Each is counted as bad and gets no answer (the replay of a good one, too). */
static const struct hostile unauthentic[] = {
	{"under K_DB alone (the store's key), as fa2", SAX_REQUEST, AH_COA2, AH_COA2, nh_keys_a, 0},
	{"under domain B's keys, from fa3", SAX_REQUEST, NH_COA3, NH_COA3, nh_fa_keys_b, 0},
	{"a member's Sender from another source", SAX_REQUEST, NH_OUTSIDER, NH_COA4, nh_fa_keys_a,
	 0},
	{"stamped a minute ago (the window is 30 s)", SAX_REQUEST, NH_COA4, NH_COA4, nh_fa_keys_a,
	 60000},
	{"STORE_DEL under K_DB, as fa2", SAX_STORE_DEL, AH_COA2, AH_COA2, nh_keys_a, 0},
};

static const struct hostile outsider = {"from a non-member, the right keys",
					SAX_REQUEST,
					NH_OUTSIDER,
					NH_OUTSIDER,
					nh_fa_keys_a,
					0};
static const struct hostile member = {"from a member, without the node's registration",
				      SAX_REQUEST,
				      NH_COA4,
				      NH_COA4,
				      nh_fa_keys_a,
				      0};
static const struct hostile outsider_del = {"STORE_DEL from a non-member, the right keys",
					    SAX_STORE_DEL,
					    NH_OUTSIDER,
					    NH_OUTSIDER,
					    nh_fa_keys_a,
					    0};

/*
 * test_reuse_hostile.sh 1-5 and 8, against fa1, which holds the node's
 * SAs: a REQUEST under the domain's FA-to-FA keys from a non-member
 * (REFUSED not_member), then the same bytes again (a replay); one under
 * K_DB alone, the store's key; one under domain B's keys; one from a member
 * whose Sender is not its source; one stamped a minute ago; a member asking
 * without the node's registration (the control: it gets past every check
 * but the proof); a STORE_DEL forged under K_DB as fa2, and one under the
 * right keys from a non-member.  fa1 lends nothing, keeps the SAs, and
 * traffic flows.
 */
START_TEST(test_hostile_transfer_messages)
{
	uint8_t msg[SAX_MSG_MAX], reg[600];
	size_t len, reg_len;
	const struct nh_sax *ans;
	struct nh_conf c = conf(FA_REUSE_FULL, true, true);

	start(&c);
	reg_len = claim_reg(&(struct claim){.forged_proof = true}, reg, sizeof(reg));

	len = hostile_msg(&outsider, msg, reg, reg_len);
	ans = to_fa1(outsider.src, msg, len);
	ck_assert_ptr_nonnull(ans);
	ck_assert_uint_eq(sax_flags(ans, nh_fa_keys_a()), SAX_R_NOT_MEMBER);
	ck_assert_uint_eq(RC(NH_FA1).served_not_member, 1);
	ck_assert_ptr_null(to_fa1(outsider.src, msg, len)); /* replayed */
	ck_assert_uint_eq(RC(NH_FA1).served_not_member, 1);
	ck_assert_uint_eq(RC(NH_FA1).sax_bad_messages, 1);

	for (size_t k = 0; k < sizeof(unauthentic) / sizeof(unauthentic[0]); k++) {
		const struct hostile *h = &unauthentic[k];
		len = hostile_msg(h, msg, reg, reg_len);
		ck_assert_msg(to_fa1(h->src, msg, len) == NULL, "%s: answered", h->what);
		ck_assert_msg(RC(NH_FA1).sax_bad_messages == k + 2, "%s: not counted", h->what);
	}

	len = hostile_msg(&member, msg, reg, reg_len);
	ans = to_fa1(member.src, msg, len);
	ck_assert_ptr_nonnull(ans);
	ck_assert_uint_eq(sax_flags(ans, nh_fa_keys_a()), SAX_R_PROOF);
	ck_assert_uint_eq(RC(NH_FA1).served_bad_proof, 1);

	len = hostile_msg(&outsider_del, msg, reg, reg_len);
	ck_assert_ptr_null(to_fa1(outsider_del.src, msg, len));
	ck_assert_ptr_null(nh_sax_last(n, SAX_RELEASED, ah_ip(NH_OUTSIDER), 0));

	ck_assert_uint_eq(RC(NH_FA1).sax_bad_messages, 6);
	ck_assert_uint_eq(RC(NH_FA1).served_released + RC(NH_FA1).served_late_confirm, 0);
	ck_assert_uint_eq(RC(NH_FA1).served_records + RC(NH_FA1).served_refused, 0);
	ck_assert_uint_eq(RC(NH_FA1).served_stale, 0);
	ck_assert(nh_fa_holds(&n->fa[NH_FA1]));
	assert_flows("at fa1 after the hostile messages");
	/* and the node's own hand-over still works */
	move_to(NH_FA2);
	ck_assert_uint_eq(RC(NH_FA1).served_records, 1);
	ck_assert_uint_eq(RC(NH_FA2).reuse_full, 1);
	assert_flows("at fa2");
}
END_TEST

/*
 * The holder's checks of a claim one at a time: member fa4 asks fa1, which
 * holds the node's SAs, with the node's claim on fa1 as the node would
 * make it now, but for one thing; each is refused for the proof or as
 * stale.  The claim as it is then gets the SAs (the control).  Once fa1 has
 * forgotten the node's last registration (its lifetime ended), not even
 * that: nothing tells fa1 the claim is newer.
 */
static const struct {
	const char *what;
	struct claim c;
	bool stale;
} refused_claims[] = {
	{"a forged proof", {.forged_proof = true}, false},
	{"a proof of another length", {.proof_len = 20}, false},
	{"an extension after ours", {.trailing = true}, false},
	{"another home address", {.home = AH_CAROL}, false},
	{"another NAI", {.nai = AH_NAI_CAROL}, false},
	{"another previous FA", {.prev = AH_COA2}, false},
	{"the Identification fa1 accepted last", {.old_id = true}, true},
	{"an Identification a minute ahead", {.id_offset_s = 60}, true},
};

/* fa4 asks fa with the claim: its answer, a RECORD or REFUSED (flags in *why). */
static uint8_t fa4_asks_at(int fa, const struct claim *cl, uint8_t *why)
{
	uint8_t msg[SAX_MSG_MAX], reg[600];
	size_t first = n->n_saxs, len = claim_reg(cl, reg, sizeof(reg));
	const struct nh_sax *ans;

	len = sax_msg(msg, sizeof(msg), SAX_REQUEST, NH_COA4, nh_fa_keys_a(), reg, len, 0);
	nh_inject_sax(n, ah_ip(NH_COA4), fa, msg, len);
	nh_settle(n);
	if ((ans = nh_sax_last(n, SAX_RECORD, ah_ip(NH_COA4), first)) != NULL)
		return SAX_RECORD;
	ans = nh_sax_last(n, SAX_REFUSED, ah_ip(NH_COA4), first);
	ck_assert_ptr_nonnull(ans);
	*why = sax_flags(ans, nh_fa_keys_a());
	return SAX_REFUSED;
}

static uint8_t fa4_asks(const struct claim *cl, uint8_t *why)
{
	return fa4_asks_at(NH_FA1, cl, why);
}

START_TEST(test_holder_claim_checks)
{
	struct nh_conf c = conf(FA_REUSE_FULL, true, false);
	uint8_t why = 0, reg[600];
	size_t len;

	start(&c);
	for (size_t k = 0; k < sizeof(refused_claims) / sizeof(refused_claims[0]); k++) {
		uint64_t proof = RC(NH_FA1).served_bad_proof, stale = RC(NH_FA1).served_stale;
		bool st = refused_claims[k].stale;
		ck_assert_msg(fa4_asks(&refused_claims[k].c, &why) == SAX_REFUSED, "%s: lent",
			      refused_claims[k].what);
		ck_assert_msg(why == (st ? SAX_R_STALE_REG : SAX_R_PROOF), "%s: reason %u",
			      refused_claims[k].what, why);
		ck_assert_msg(RC(NH_FA1).served_bad_proof == proof + !st &&
				      RC(NH_FA1).served_stale == stale + st,
			      "%s: counters", refused_claims[k].what);
	}
	ck_assert_uint_eq(RC(NH_FA1).served_records, 0);
	ck_assert_uint_eq(RC(NH_FA1).sax_bad_messages, 0);
	assert_flows("at fa1, nothing lent");

	ck_assert_uint_eq(fa4_asks(&(struct claim){0}, &why), SAX_RECORD);
	ck_assert_uint_eq(RC(NH_FA1).served_records, 1);

	fa_expire(&n->fa[NH_FA1].fa, nh_now_ms(n) + 3600000);
	ck_assert_ptr_null(fa_find_visitor(&n->fa[NH_FA1].fa, ah_ip(AH_ALICE)));
	ck_assert_uint_eq(fa4_asks(&(struct claim){0}, &why), SAX_REFUSED);
	ck_assert_uint_eq(why, SAX_R_STALE_REG);
	ck_assert_uint_eq(RC(NH_FA1).served_records, 1);

	/* in the clear at fa1, which holds SAs, a claim naming no FA of the domain stays out */
	len = claim_reg(&(struct claim){.prev = NH_OUTSIDER}, reg, sizeof(reg));
	nh_inject_reg(n, NH_FA1, reg, len);
	nh_settle(n);
	ck_assert_uint_eq(n->fa[NH_FA1].fa.ctr.drop_cleartext, 1);
	ck_assert_uint_eq(RC(NH_FA1).reuse_requests, 0);
}
END_TEST

/*
 * fa2 does not count fa1 as a member of its domain (fa1 is outside it, or
 * the list says so).  Direct only, fa2 does not ask it
 * (fallback_not_member); with the store too, it refuses the copy fa1 wrote
 * there (fallback_bad_record: written by a non-member).  The node
 * negotiates.  _i: 0 direct, 1 both.
 */
START_TEST(test_prev_not_member)
{
	struct nh_conf c = conf(FA_REUSE_FULL, true, _i == 1);

	start(&c);
	ck_assert_uint_eq(n->fa[NH_FA2].dom.members[0].s_addr, ah_ip(AH_COA1).s_addr);
	n->fa[NH_FA2].dom.members[0] = ah_ip(NH_OUTSIDER);
	refused_at_fa2(_i == 0 ? REACHED(NH_FA2, fallback_not_member)
			       : REACHED(NH_FA2, fallback_bad_record));
	ck_assert_uint_eq(RC(NH_FA1).served_records + RC(NH_FA1).served_not_member, 0);
}
END_TEST

/* ---- forged records in the store ---- */

enum forgery {
	F_COOKIES,    /* right keys, random cookies, no pairs (test_reuse_hostile.sh 6) */
	F_OTHER_K_SA, /* sealed under another K_SA (test_reuse_hostile.sh 7) */
	F_FLIPPED,    /* one byte of the Sealed field changed: the HMAC fails */
	F_OTHER_HOME, /* the node's own record, for another home address */
	F_NON_MEMBER, /* the node's own record, written by a non-member */
	F_SAME_KEYS,  /* the node's own keys under other cookies */
	F_EXPIRED,    /* the node's own record, ended a second ago */
	F_FORGERIES
};

static void forge_record(enum forgery f)
{
	struct sax_msg *m = calloc(1, sizeof(*m));
	struct sax_keys k = *nh_keys_a();
	uint8_t out[SAX_MSG_MAX], forged_msg[SAX_MSG_MAX];
	const uint8_t *cur;
	size_t len;
	struct buf b;

	ck_assert_ptr_nonnull(m);
	cur = nh_store_get(n, &len);
	ck_assert_ptr_nonnull(cur);
	memcpy(out, cur, len);
	if (f == F_FLIPPED) {
		out[len - SAX_MAC_LEN - 20] ^= 0x01;
		nh_store_set(n, out, len);
		free(m);
		return;
	}
	ck_assert_int_eq(sax_parse(out, len, &k, ev_loop_wall_ms(n->loop), 0, NULL, m), SAX_E_OK);
	switch (f) {
	case F_COOKIES:
		for (int i = 0; i < 8; i++) {
			m->rec.isakmp.icookie[i] = (uint8_t)(0x11 * i + 1);
			m->rec.isakmp.rcookie[i] = (uint8_t)(0x13 * i + 7);
		}
		memset(m->rec.isakmp.skeyid_a, 0x77, sizeof(m->rec.isakmp.skeyid_a));
		m->rec.n_children = 0;
		break;
	case F_OTHER_K_SA:
		memcpy(k.k_sa, nh_fa_keys_b()->k_sa, SAX_KEY_LEN);
		break;
	case F_OTHER_HOME:
		m->rec.home_addr = ah_ip(AH_CAROL);
		break;
	case F_NON_MEMBER:
		m->rec.prev_coa = ah_ip(NH_OUTSIDER);
		break;
	case F_SAME_KEYS:
		m->rec.isakmp.icookie[0] ^= 0xff;
		break;
	case F_EXPIRED:
		m->expires_ms = ev_loop_wall_ms(n->loop) - 1000;
		break;
	default:
		break;
	}
	m->has_record = true;
	sax_stamp_at(m, ev_loop_wall_ms(n->loop));
	buf_init_write(&b, forged_msg, sizeof(forged_msg));
	ck_assert_int_eq(sax_build(&b, m, &k), SAX_E_OK);
	nh_store_set(n, forged_msg, buf_used(&b));
	sax_record_wipe(&m->rec);
	free(m);
}

/*
 * A record in the store that is no good, fa1 cut off so the direct request
 * goes unanswered: fa2 falls back to the store, refuses the record with
 * the counter for its fault, and the node negotiates; traffic flows.
 */
START_TEST(test_forged_store_record)
{
	/* the counter for each forgery, as enum forgery orders them */
	const struct counter *why[F_FORGERIES] = {
		REACHED(NH_FA2, fallback_possession), REACHED(NH_FA2, fallback_bad_record),
		REACHED(NH_FA2, fallback_bad_record), REACHED(NH_FA2, fallback_bad_record),
		REACHED(NH_FA2, fallback_bad_record), REACHED(NH_FA2, fallback_possession),
		REACHED(NH_FA2, fallback_expired),
	};
	struct nh_conf c = conf(FA_REUSE_FULL, true, true);

	start(&c);
	nh_silence_fa(n, NH_FA1, true);
	forge_record((enum forgery)_i);
	refused_at_fa2(why[_i]);
}
END_TEST

/*
 * A member racing for a loan (test_reuse_hostile.sh's requester, with the
 * node's own fresh registration): fa1 has lent the SAs to fa2, whose
 * confirmation waits for the home agent.  A REQUEST from member fa4 with
 * that registration is refused (lent to another FA), and its STORE_DEL
 * too (served_late_confirm); fa2's own confirmation then counts.
 */
static bool drop_ha_to_fa2(struct nh *net, const struct nh_ev *e, void *arg)
{
	(void)net;
	(void)arg;
	return e->kind == NH_EV_FROM_HA && e->to.s_addr == ah_ip(AH_COA2).s_addr;
}

START_TEST(test_member_races_for_loan)
{
	struct nh_conf c = conf(FA_REUSE_FULL, true, false);
	const struct nh_sax *ans;
	uint8_t msg[SAX_MSG_MAX], reg[1024];
	size_t len, reg_len, first;

	start(&c);
	n->filter = drop_ha_to_fa2;
	nh_move(n, NH_FA2);
	ck_assert_uint_eq(RC(NH_FA1).served_records, 1);
	reg_len = nh_reuse_reg(n, NH_FA2, n->fa[NH_FA1].fa.cfg.coa, reg, sizeof(reg));
	ck_assert_uint_gt(reg_len, 0);

	first = n->n_saxs;
	len = sax_msg(msg, sizeof(msg), SAX_REQUEST, NH_COA4, nh_fa_keys_a(), reg, reg_len, 0);
	nh_inject_sax(n, ah_ip(NH_COA4), NH_FA1, msg, len);
	nh_settle(n);
	ck_assert_uint_eq(RC(NH_FA1).served_refused, 1);
	ck_assert_uint_eq(RC(NH_FA1).served_records, 1);
	ans = nh_sax_last(n, SAX_REFUSED, ah_ip(NH_COA4), first);
	ck_assert_ptr_nonnull(ans);
	ck_assert_uint_eq(sax_flags(ans, nh_fa_keys_a()), SAX_R_UNKNOWN);

	len = sax_msg(msg, sizeof(msg), SAX_STORE_DEL, NH_COA4, nh_fa_keys_a(), NULL, 0, 0);
	nh_inject_sax(n, ah_ip(NH_COA4), NH_FA1, msg, len);
	nh_settle(n);
	ck_assert_uint_eq(RC(NH_FA1).served_late_confirm, 1);
	ck_assert_uint_eq(RC(NH_FA1).served_released, 0);
	ck_assert(nh_fa_holds(&n->fa[NH_FA1]));

	n->filter = NULL;
	ck_assert(nh_run(n, WAIT_MS, registered_at, (void *)(intptr_t)NH_FA2));
	nh_settle(n);
	ck_assert_uint_eq(RC(NH_FA1).served_released, 1);
	ck_assert_uint_eq(RC(NH_FA2).taken_released, 1);
	ck_assert_uint_eq(RC(NH_FA2).reuse_full, 1);
	ck_assert(!nh_fa_holds(&n->fa[NH_FA1]));
	assert_flows("at fa2");
}
END_TEST

/*
 * While fa2 waits for fa1's RELEASED (its loan not yet confirmed), the
 * node's own registration, replayed in the clear on fa2's link, stays out:
 * the SAs fa2 took in count now, and the node registers under them.
 */
static bool drop_released_to_fa2(struct nh *net, const struct nh_ev *e, void *arg)
{
	(void)net;
	(void)arg;
	return e->kind == NH_EV_SAX && e->to.s_addr == ah_ip(AH_COA2).s_addr && e->len > 1 &&
	       e->d[1] == SAX_RELEASED;
}

START_TEST(test_replay_while_confirming)
{
	struct nh_conf c = conf(FA_REUSE_FULL, true, false);
	uint8_t reg[1024];
	size_t len;
	uint64_t requests;

	start(&c);
	n->filter = drop_released_to_fa2;
	move_to(NH_FA2);
	nh_settle(n);
	ck_assert_uint_eq(RC(NH_FA1).served_released, 1);
	ck_assert_uint_eq(RC(NH_FA2).taken_released, 0);
	len = nh_reuse_reg(n, NH_FA2, n->fa[NH_FA1].fa.cfg.coa, reg, sizeof(reg));
	ck_assert_uint_gt(len, 0);
	requests = n->ha.ctr.reg_requests;
	nh_inject_reg(n, NH_FA2, reg, len);
	nh_settle(n);
	ck_assert_uint_eq(n->fa[NH_FA2].fa.ctr.drop_cleartext, 1);
	ck_assert_uint_eq(n->ha.ctr.reg_requests, requests);
	n->filter = NULL;
	ck_assert(nh_run(n, WAIT_MS, reached, REACHED(NH_FA2, taken_released)));
	assert_flows("at fa2");
}
END_TEST

/*
 * An answer about the node from another member (fa4) than the FA fa2 asked
 * is none of fa2's business: fa2 takes fa1's RECORD all the same.
 */
START_TEST(test_answer_from_another_member)
{
	struct nh_conf c = conf(FA_REUSE_FULL, true, false);
	uint8_t msg[SAX_MSG_MAX];
	size_t len;

	start(&c);
	ck_assert(nh_move_until(n, NH_FA2, WAIT_MS, reached, REACHED(NH_FA2, reuse_requests)));
	len = sax_msg(msg, sizeof(msg), SAX_REFUSED, NH_COA4, nh_fa_keys_a(), NULL, 0, 0);
	nh_inject_sax(n, ah_ip(NH_COA4), NH_FA2, msg, len);
	ck_assert(nh_run(n, WAIT_MS, registered_at, (void *)(intptr_t)NH_FA2));
	nh_settle(n);
	ck_assert_uint_eq(RC(NH_FA2).reuse_full, 1);
	ck_assert_uint_eq(RC(NH_FA2).fallback_prev_refused + RC(NH_FA2).reuse_refused, 0);
	ck_assert_uint_eq(RC(NH_FA2).sax_bad_messages, 0);
	assert_flows("at fa2");
}
END_TEST

/*
 * The home agent's reply to fa2 for the node's registration is lost, and a
 * forged registration (the node's, behind a new Identification and with a
 * wrong MN-HA authenticator) reaches fa2 meanwhile: its denial is no
 * reason to drop the SAs fa2 is taking over.  The node's retransmission
 * completes the hand-over.
 */
static bool drop_first_reply_to_fa2(struct nh *net, const struct nh_ev *e, void *arg)
{
	unsigned *dropped = arg;

	(void)net;
	if (e->kind != NH_EV_FROM_HA || e->to.s_addr != ah_ip(AH_COA2).s_addr || *dropped > 0)
		return false;
	++*dropped;
	return true;
}

START_TEST(test_forged_denial_beside)
{
	struct nh_conf c = conf(FA_REUSE_FULL, true, false);
	unsigned dropped = 0;
	uint8_t reg[1024];
	size_t len;

	start(&c);
	n->filter = drop_first_reply_to_fa2;
	n->filter_arg = &dropped;
	nh_move(n, NH_FA2);
	ck_assert_uint_eq(dropped, 1);
	ck_assert_uint_eq(RC(NH_FA2).reuse_full, 1);
	len = nh_reuse_reg(n, NH_FA2, n->fa[NH_FA1].fa.cfg.coa, reg, sizeof(reg));
	ck_assert_uint_gt(len, 0);
	set_ident(reg, mip_ident_next(ev_loop_wall_us(n->loop), n->mn.mn.last_id, 0));
	flip_mn_ha(reg, len);
	nh_inject_reg(n, NH_FA2, reg, len);
	nh_settle(n);
	ck_assert_uint_eq(n->ha.ctr.deny_mn_auth, 1);
	ck_assert_uint_eq(RC(NH_FA2).taken_denied, 0);
	ck_assert(nh_fa_holds(&n->fa[NH_FA2]));
	ck_assert(nh_run(n, WAIT_MS, registered_at, (void *)(intptr_t)NH_FA2));
	nh_settle(n);
	ck_assert_uint_eq(RC(NH_FA2).reuse_full, 1);
	ck_assert_uint_eq(RC(NH_FA2).taken_denied, 0);
	ck_assert_uint_eq(RC(NH_FA2).taken_released, 1);
	assert_flows("at fa2");
}
END_TEST

/*
 * The home agent's reply comes after the transfer ended (here: the first
 * is lost, the node's retransmission brings the second): fa2 sends it to
 * the node before its own messages, the confirmation to fa1 and its store
 * copy, which are none of the node's business.  Each is a message sealed
 * and sent, and sending it first put it on every such hand-over's path.
 * The filter sees the queue in the order things were sent.  _i: 0 full,
 * 1 partial (direct and store both).
 */
struct reply_order {
	unsigned dropped;
	unsigned seq, reply_at, sax_at;
};

/* A frame fa2 sent on its access link that is a registration reply (from UDP 434). */
static bool is_reply_from_fa2(const struct nh_ev *e)
{
	struct ip4_hdr ip;
	struct buf udp;
	uint16_t sport, dport;

	return e->kind == NH_EV_LINK && e->from_station == NH_FA2 &&
	       ip4_udp_parse_captured(e->d, e->len, &ip, &sport, &dport, &udp) == IP4_OK &&
	       sport == MIP_PORT;
}

static bool order_after_lost_reply(struct nh *net, const struct nh_ev *e, void *arg)
{
	struct reply_order *o = arg;

	(void)net;
	if (o->dropped == 0) {
		if (e->kind != NH_EV_FROM_HA || e->to.s_addr != ah_ip(AH_COA2).s_addr)
			return false;
		o->dropped = 1;
		return true;
	}
	o->seq++;
	if (o->reply_at == 0 && is_reply_from_fa2(e))
		o->reply_at = o->seq;
	if (o->sax_at == 0 && e->kind == NH_EV_SAX && e->from.s_addr == ah_ip(AH_COA2).s_addr)
		o->sax_at = o->seq;
	return false;
}

START_TEST(test_reply_before_own_messages)
{
	bool full = _i == 0;
	struct nh_conf c = conf(full ? FA_REUSE_FULL : FA_REUSE_PARTIAL, true, true);
	struct reply_order o = {0};

	start(&c);
	n->filter = order_after_lost_reply;
	n->filter_arg = &o;
	nh_move(n, NH_FA2);
	ck_assert_uint_eq(o.dropped, 1);
	ck_assert(nh_run(n, WAIT_MS, registered_at, (void *)(intptr_t)NH_FA2));
	nh_settle(n);
	n->filter = NULL;
	ck_assert_uint_eq(full ? RC(NH_FA2).reuse_full : RC(NH_FA2).reuse_partial, 1);
	/* the transfer had ended when the reply came: nothing was held */
	ck_assert_uint_gt(o.reply_at, 0);
	ck_assert_uint_gt(o.sax_at, 0);
	ck_assert_uint_lt(o.reply_at, o.sax_at);
	ck_assert_uint_eq(RC(NH_FA2).taken_released, 1);
	assert_flows("at fa2");
}
END_TEST

/*
 * fa1 -> fa2 with fa2's first confirmation to fa1 lost, and the node back
 * at fa1 before fa2 sent it again: fa1 takes the SAs back from fa2, which
 * lends them and forgets them at fa1's confirmation.  fa2 then stops
 * confirming the first hand-over (fa1 dropped its old copy taking the SAs
 * back).  fa2's first confirmation, delayed on the way, reaches fa1 while
 * it waits for the home agent's reply (the first one lost), its transfer
 * done: it is of the older hand-over, and fa1 keeps what it took in.  By
 * the store fa2 does not hear of fa1's take and repeats its confirmation
 * after; fa1 ignores those too.  Each used to end with neither FA holding
 * the SAs.  _i: 0 full, 1 partial (direct); 2 full, 3 partial (store).
 */
struct kept_del {
	unsigned dropped;
	uint8_t d[SAX_MSG_MAX];
	size_t len;
};

static bool drop_first_reply_to_fa1(struct nh *net, const struct nh_ev *e, void *arg)
{
	unsigned *lost = arg;

	(void)net;
	if (e->kind != NH_EV_FROM_HA || e->to.s_addr != ah_ip(AH_COA1).s_addr || *lost > 0)
		return false;
	(*lost)++;
	return true;
}

static bool keep_first_del_to_fa1(struct nh *net, const struct nh_ev *e, void *arg)
{
	struct kept_del *k = arg;

	if (!drop_first_del_to_fa1(net, e, &k->dropped))
		return false;
	ck_assert_uint_le(e->len, sizeof(k->d));
	memcpy(k->d, e->d, e->len);
	k->len = e->len;
	return true;
}

START_TEST(test_back_before_confirmation)
{
	bool full = _i % 2 == 0, direct = _i < 2;
	struct nh_conf c = conf(full ? FA_REUSE_FULL : FA_REUSE_PARTIAL, direct, !direct);
	struct kept_del k = {0};
	unsigned lost = 0;

	start(&c);
	n->filter = keep_first_del_to_fa1;
	n->filter_arg = &k;
	move_to(NH_FA2);
	nh_settle(n);
	n->filter = NULL;
	ck_assert_uint_eq(k.dropped, 1);
	ck_assert_uint_eq(RC(NH_FA2).taken_released, 0);
	n->filter = drop_first_reply_to_fa1;
	n->filter_arg = &lost;
	nh_move(n, NH_FA1);
	ck_assert(nh_run(n, WAIT_MS, reached,
			 full ? REACHED(NH_FA1, reuse_full) : REACHED(NH_FA1, reuse_partial)));
	nh_settle(n);
	ck_assert_uint_eq(lost, 1);
	nh_inject_sax(n, ah_ip(AH_COA2), NH_FA1, k.d, k.len);
	nh_settle(n);
	ck_assert_uint_eq(RC(NH_FA1).served_late_confirm, 1);
	ck_assert(nh_run(n, WAIT_MS, registered_at, (void *)(intptr_t)NH_FA1));
	nh_settle(n);
	n->filter = NULL;
	ck_assert(nh_fa_holds(&n->fa[NH_FA1]));
	ck_assert(!nh_fa_holds(&n->fa[NH_FA2]));
	assert_flows("back at fa1");

	nh_run(n, 1000, NULL, NULL); /* longer than fa2 would repeat its confirmation */
	/* direct: fa2 lent the SAs back and stopped; store: its 7 repeats, ignored */
	ck_assert_uint_eq(RC(NH_FA1).served_late_confirm, (direct ? 1 : 8));
	ck_assert_uint_eq(RC(NH_FA2).taken_unconfirmed, !direct);
	ck_assert_uint_eq(RC(NH_FA1).served_reclaimed, 0);
	ck_assert(nh_fa_holds(&n->fa[NH_FA1]));
	ck_assert(!nh_fa_holds(&n->fa[NH_FA2]));
	assert_flows("back at fa1, a second later");
}
END_TEST

/*
 * The node leaves fa2 before fa2's reply reaches it and registers at fa1
 * again, which still holds the SAs it lent fa2 (back with us: nothing
 * moves).  fa2's hand-over counted at the home agent before fa1's, so fa2
 * confirms it to fa1 (the first confirmation delayed on the way here, then
 * its repeats): older than fa1's own registration, ignored; fa1 keeps the
 * SAs for the node that is there, and when its loan is not confirmed in
 * time it takes the lent numbers back.  It used to forget them at fa2's
 * confirmation.  _i: 0 full, 1 partial (direct).
 */
START_TEST(test_back_before_reply)
{
	bool full = _i == 0;
	struct nh_conf c = conf(full ? FA_REUSE_FULL : FA_REUSE_PARTIAL, true, false);
	struct kept_del k = {0};

	start(&c);
	n->filter = keep_first_del_to_fa1;
	n->filter_arg = &k;
	ck_assert(nh_move_until(n, NH_FA2, WAIT_MS, reached, REACHED(NH_FA2, reuse_requests)));
	nh_move(n, NH_FA1);
	ck_assert(nh_run(n, WAIT_MS, registered_at, (void *)(intptr_t)NH_FA1));
	nh_settle(n);
	n->filter = NULL;
	ck_assert_uint_eq(k.dropped, 1);
	ck_assert_uint_eq(RC(NH_FA1).reuse_reassociated, 1);
	ck_assert(nh_fa_holds(&n->fa[NH_FA1]));
	nh_inject_sax(n, ah_ip(AH_COA2), NH_FA1, k.d, k.len);
	nh_settle(n);
	ck_assert_uint_eq(RC(NH_FA1).served_late_confirm, 1);
	ck_assert(nh_fa_holds(&n->fa[NH_FA1]));
	assert_flows("back at fa1 before fa2's reply");
	nh_run(n, 1500, NULL, NULL); /* fa2's repeats, and fa1's loan timing out */
	ck_assert_uint_eq(RC(NH_FA1).served_late_confirm, 8);
	ck_assert_uint_eq(RC(NH_FA1).served_reclaimed, 1);
	ck_assert(nh_fa_holds(&n->fa[NH_FA1]));
	assert_flows("back at fa1, fa1's loan timed out");
}
END_TEST

/*
 * Without reuse, the node is securing at fa2 (Main Mode under way, fa2's
 * answers lost) when fa2's sequence numbers start again: an agent reboot
 * to the node (RFC 5944 2.3.1), or a reordered advertisement.  The node
 * starts Main Mode anew and registers.  It used to take the abandoned Main
 * Mode for a failed one, give up on the agent it was attaching to and
 * forget its MAC, so the new Main Mode never left, and every advertisement
 * after that did the same again (found by test_loss.sh at 10 % reordering).
 */
static bool drop_fa2_ike(struct nh *net, const struct nh_ev *e, void *arg)
{
	(void)net;
	(void)arg;
	/* While the node secures the link, all fa2 sends it over UDP is IKE. */
	return e->kind == NH_EV_LINK && e->from_station == NH_FA2 && e->len > 9 &&
	       e->d[9] == IP4_PROTO_UDP;
}

static bool mn_securing(struct nh *net, void *arg)
{
	(void)arg;
	return net->mn.mn.state == MN_SECURING;
}

static bool heard_reboot(struct nh *net, void *arg)
{
	(void)arg;
	return net->mn.mn.agent.seq < 200;
}

START_TEST(test_agent_reboot_while_securing)
{
	struct nh_conf c = conf(FA_REUSE_NONE, true, false);

	start(&c);
	n->mn.sec.sa_reuse = false; /* the node does not ask for reuse either */
	n->fa[NH_FA2].fa.adv_seq = 200;
	n->filter = drop_fa2_ike;
	ck_assert(nh_move_until(n, NH_FA2, WAIT_MS, mn_securing, NULL));
	ck_assert_uint_ge(n->mn.mn.agent.seq, 200);
	/* fa2's next advertisements count from 0 again, while Main Mode is stuck */
	n->fa[NH_FA2].fa.adv_seq = 0;
	fa_advertise(&n->fa[NH_FA2].fa); /* as mipsa-fa's timer does */
	ck_assert(nh_run(n, WAIT_MS, heard_reboot, NULL));
	n->filter = NULL;
	/* and on, one a second (the agent's next ones; the node is not soliciting) */
	for (int i = 0; i < 20 && !registered_at(n, (void *)(intptr_t)NH_FA2); i++) {
		fa_advertise(&n->fa[NH_FA2].fa);
		nh_run(n, 1000, registered_at, (void *)(intptr_t)NH_FA2);
	}
	ck_assert_msg(registered_at(n, (void *)(intptr_t)NH_FA2),
		      "not registered through fa2 in 20 s of its advertisements after they "
		      "restarted from 0");
	ck_assert_uint_eq(n->mn.mn.ctr.secure_failures, 0);
	nh_settle(n);
	assert_flows("at fa2, after the agent's reboot");
}
END_TEST

/*
 * fa2 took the node's SAs over from fa1 and fa1 released them, but fa2's
 * accepted reply to the node is lost: the node asks again, naming fa1,
 * whose SAs fa2 already holds.  Found by tests/testbed/test_loss.sh: fa2
 * asked fa1 again, fa1 had nothing left, the reuse was refused and the node
 * negotiated; had it moved on before Main Mode finished, fa2 kept the SAs it
 * had taken over, established, with no one using them.  Now fa2 sees the
 * node's claim check out against its own ISAKMP SA, lent to no one: a full
 * reuse of what it holds, nothing fetched and no IKE; partial: the one
 * Quick Mode the lost reply asked for, not a Main Mode.  Found the same
 * way: fa2 said full with no IPsec SAs.  _i: full, partial x direct, both.
 */
static bool drop_fa2_link_until_released(struct nh *net, const struct nh_ev *e, void *arg)
{
	unsigned *dropped = arg;
	const struct fa_reuse_counters *rc = &net->fa[NH_FA2].sec.reuse;

	if (e->kind != NH_EV_LINK || e->from_station != NH_FA2 ||
	    rc->reuse_full + rc->reuse_partial == 0 || rc->taken_released > 0)
		return false;
	++*dropped;
	return true;
}

START_TEST(test_reply_lost_after_take_over)
{
	bool full = _i < 2;
	struct nh_conf c = conf(full ? FA_REUSE_FULL : FA_REUSE_PARTIAL, true, _i % 2 == 1);
	unsigned dropped = 0;
	size_t mark;

	start(&c);
	mark = nh_mark(n);
	n->filter = drop_fa2_link_until_released;
	n->filter_arg = &dropped;
	move_to(NH_FA2);
	nh_settle(n);
	n->filter = NULL;
	ck_assert_uint_gt(dropped, 0);
	ck_assert_uint_eq(MNC.reuse_refused, 0);
	ck_assert_uint_eq(RC(NH_FA2).reuse_refused, 0);
	ck_assert_uint_eq((full ? RC(NH_FA2).reuse_full : RC(NH_FA2).reuse_partial), 2);
	ck_assert_uint_eq(RC(NH_FA2).reuse_reassociated, 1);
	ck_assert_uint_eq(RC(NH_FA2).taken_released, 1);
	ck_assert_uint_eq(RC(NH_FA1).served_records, 1);
	ck_assert_uint_eq(RC(NH_FA1).served_refused, 0);
	ck_assert_uint_eq(nh_ike_since(n, NH_FA2, mark), full ? 0 : 3);
	ck_assert(nh_fa_holds(&n->fa[NH_FA2]));
	ck_assert(!nh_fa_holds(&n->fa[NH_FA1]));
	assert_flows("at fa2, after the lost reply");
}
END_TEST

/*
 * fa2 took the node's SAs over from fa1; back at fa1, fa2 is silent, so
 * fa1 refuses the reuse and the node negotiates new SAs with fa1, while
 * fa2 keeps its copy of the old ones (nobody told it).  At fa2 again, the
 * node registers in the clear naming fa1, its claim on the new ISAKMP SA.
 * Found by tests/testbed/test_loss.sh at 10 % loss: fa2 dropped every such
 * registration (a node with SAs here must use them), so the node could not
 * register through fa2 until the old SAs ended.  fa2 took its copy from the
 * very FA the node names: it lets the registration in, and the transfer
 * from fa1 (which checks the claim) replaces the old copy.  _i: full,
 * partial.
 */
START_TEST(test_stale_copy_after_fallback)
{
	bool full = _i == 0;
	struct nh_conf c = conf(full ? FA_REUSE_FULL : FA_REUSE_PARTIAL, true, false);

	start(&c);
	move_to(NH_FA2);
	nh_settle(n);
	nh_silence_fa(n, NH_FA2, true);
	move_to(NH_FA1);
	nh_settle(n);
	nh_silence_fa(n, NH_FA2, false);
	ck_assert_uint_eq(RC(NH_FA1).fallback_prev_silent, 1);
	ck_assert(nh_fa_holds(&n->fa[NH_FA2]));
	move_to(NH_FA2);
	nh_settle(n);
	ck_assert_uint_eq((full ? RC(NH_FA2).reuse_full : RC(NH_FA2).reuse_partial), 2);
	ck_assert_uint_eq(RC(NH_FA2).reuse_refused, 0);
	ck_assert_uint_eq(RC(NH_FA1).served_records, 2); /* to fa2, twice */
	ck_assert(!nh_fa_holds(&n->fa[NH_FA1]));
	assert_flows("at fa2, its old copy replaced");
}
END_TEST

/*
 * The same with the SAs the old FA negotiated itself (its own, not a
 * copy): fa2's transfer from a silent fa1 fails, the node negotiates with
 * fa2, and back at fa1 registers in the clear naming fa2, its claim on the
 * ISAKMP SA it made there.  fa1 still holds the SAs it negotiated, lent to
 * no one: it lets the registration in and asks fa2, which checks the
 * claim.  Found by test_loss.sh in CI (partial reuse, the transfer lost):
 * fa1 dropped every such registration until its own SAs ended.  _i: full,
 * partial.
 */
START_TEST(test_own_sas_after_fallback)
{
	bool full = _i == 0;
	struct nh_conf c = conf(full ? FA_REUSE_FULL : FA_REUSE_PARTIAL, true, false);

	start(&c);
	nh_silence_fa(n, NH_FA1, true);
	move_to(NH_FA2);
	nh_settle(n);
	nh_silence_fa(n, NH_FA1, false);
	ck_assert_uint_eq(RC(NH_FA2).fallback_prev_silent, 1);
	ck_assert(nh_fa_holds(&n->fa[NH_FA1])); /* its own, never lent */
	move_to(NH_FA1);
	nh_settle(n);
	ck_assert_uint_eq(n->fa[NH_FA1].fa.ctr.drop_cleartext, 0);
	ck_assert_uint_eq((full ? RC(NH_FA1).reuse_full : RC(NH_FA1).reuse_partial), 1);
	ck_assert_uint_eq(RC(NH_FA1).reuse_refused, 0);
	ck_assert_uint_eq(RC(NH_FA2).served_records, 1);
	ck_assert(!nh_fa_holds(&n->fa[NH_FA2]));
	assert_flows("at fa1, the SAs negotiated at fa2 taken over");
}
END_TEST

/* ---- 6. a loan not confirmed in time ---- */

static bool fa2_rekeyed(struct nh *net, void *arg)
{
	(void)arg;
	return net->fa[NH_FA2].sec.reuse.taken_reclaimed > 0 &&
	       registered_at(net, (void *)(intptr_t)NH_FA2) && nh_fa_pair(&net->fa[NH_FA2]) != NULL;
}

/*
 * test_forged_reg.sh's second part: the home agent's replies to fa2 are
 * dropped while the node moves fa1 -> fa2 (direct), so fa2 cannot confirm
 * its loan; after lend_timeout_ms fa1 takes the SAs back and goes on above
 * the cap (a late packet to fa1 shows it).  Once the replies pass, fa2
 * confirms late, fa1 refuses, and fa2 makes new IPsec SAs with the node by
 * Quick Mode.
 */
START_TEST(test_loan_reclaimed)
{
	struct nh_conf c = conf(FA_REUSE_FULL, true, false);
	uint8_t late[300];
	size_t late_len, fa1_esp, mark;
	uint32_t old_spi;
	uint64_t children;

	start(&c);
	old_spi = nh_fa_pair(&n->fa[NH_FA1])->out.spi;
	late_len = nh_tunnel_now(n, late, sizeof(late));
	ck_assert_uint_gt(late_len, 0);
	n->filter = drop_ha_to_fa2;
	mark = nh_mark(n);
	nh_move(n, NH_FA2);
	ck_assert_uint_eq(RC(NH_FA1).served_records, 1);
	ck_assert_uint_eq(RC(NH_FA2).reuse_full, 1);
	ck_assert(nh_run(n, WAIT_MS, reached, REACHED(NH_FA1, served_reclaimed)));
	ck_assert_uint_eq(RC(NH_FA1).served_released, 0);
	/* fa1 sends on: above the numbers it lent */
	fa1_esp = nh_esp_sent(n, NH_FA1);
	nh_tunnel_late(n, late, late_len);
	ck_assert_uint_eq(nh_esp_sent(n, NH_FA1), fa1_esp + 1);

	children = IKE(NH_FA2)->children_established;
	n->filter = NULL;
	ck_assert(nh_run(n, WAIT_MS, fa2_rekeyed, NULL));
	nh_settle(n);
	ck_assert_uint_eq(RC(NH_FA1).served_late_confirm, 1);
	ck_assert_uint_eq(RC(NH_FA2).taken_reclaimed, 1);
	ck_assert_uint_eq(RC(NH_FA2).taken_released, 0);
	ck_assert_uint_ne(nh_fa_pair(&n->fa[NH_FA2])->out.spi, old_spi);
	/* Quick Mode, and the Delete of the pair fa1 took back */
	ck_assert_uint_ge(nh_ike_since(n, NH_FA2, mark), 3);
	ck_assert_uint_eq(IKE(NH_FA2)->children_established, children + 1);
	assert_flows("at fa2 with new IPsec SAs");
}
END_TEST

/* ---- 9. key rotation: fa1 and fa2 reloaded one after the other ---- */

#define ROT_OVERLAP_MS 10000u
#define ROT_GAP_MS     3000u /* fa2 reloaded this long after fa1 */
#define RING(i)        (n->fa[(i)].dom.fa_keys)

/* The domain's next keys, and the FA-to-FA keys derived from them. */
static void new_keys(struct sax_keys *k, struct sax_keys *fk)
{
	memset(k, 0, sizeof(*k));
	memset(k->k_sa, 0xc3, SAX_KEY_LEN);
	memset(k->k_db, 0xd4, SAX_KEY_LEN);
	k->have_k_sa = true;
	ck_assert_int_eq(sax_fa_keys(k->k_sa, fk), 0);
}

/* A reload of fa with the new keys: what fa_main.c's reload does (fa_domain_rotate). */
static void rotate_fa(int fa)
{
	struct fa_domain fresh = n->fa[fa].dom;
	struct sax_keys k, fk;

	new_keys(&k, &fk);
	sax_ring_init(&fresh.keys, &k);
	sax_ring_init(&fresh.fa_keys, &fk);
	fresh.key_overlap_ms = ROT_OVERLAP_MS;
	ck_assert_int_eq(fa_domain_rotate(&n->fa[fa].dom, &fresh, ev_loop_wall_ms(n->loop)), 2);
	/* a second reload of the same file changes nothing */
	ck_assert_int_eq(fa_domain_rotate(&n->fa[fa].dom, &fresh, ev_loop_wall_ms(n->loop)), 0);
	sax_ring_wipe(&fresh.keys);
	sax_ring_wipe(&fresh.fa_keys);
	sax_keys_wipe(&k);
	sax_keys_wipe(&fk);
}

/* Whether fa sends under the new keys now. */
static bool sends_new(int fa)
{
	struct sax_keys k, fk;
	bool r;

	new_keys(&k, &fk);
	r = memcmp(sax_ring_send(&RING(fa), ev_loop_wall_ms(n->loop)), &fk, sizeof(fk)) == 0;
	sax_keys_wipe(&k);
	sax_keys_wipe(&fk);
	return r;
}

/* The node, at fa1, moves to fa2 and back: both transfers reuse the SAs (no IKE). */
static void round_trip(const char *where)
{
	uint64_t f1 = RC(NH_FA1).reuse_full, f2 = RC(NH_FA2).reuse_full;
	size_t mark = nh_mark(n);

	move_to(NH_FA2);
	nh_settle(n);
	ck_assert_msg(RC(NH_FA2).reuse_full == f2 + 1, "%s: fa1 -> fa2 not reused", where);
	move_to(NH_FA1);
	nh_settle(n);
	ck_assert_msg(RC(NH_FA1).reuse_full == f1 + 1, "%s: fa2 -> fa1 not reused", where);
	ck_assert_uint_eq(nh_ike_since(n, NH_FA1, mark) + nh_ike_since(n, NH_FA2, mark), 0);
	ck_assert_uint_eq(RC(NH_FA1).sax_bad_messages + RC(NH_FA2).sax_bad_messages, 0);
	ck_assert_uint_eq(RC(NH_FA1).fallback_bad_record + RC(NH_FA2).fallback_bad_record, 0);
	assert_flows(where);
}

/* The clock moves to ms after t (wall), the parties running. */
static void until(uint64_t t, uint64_t ms)
{
	uint64_t now = ev_loop_wall_ms(n->loop);

	ck_assert_uint_le(now, t + ms);
	nh_run(n, t + ms - now, NULL, NULL);
}

static uint64_t rx_previous(void)
{
	return n->fa[NH_FA1].dom.keys.rx_previous + RING(NH_FA1).rx_previous +
	       n->fa[NH_FA2].dom.keys.rx_previous + RING(NH_FA2).rx_previous;
}

/*
 * A member's request to fa1 (no valid proof: the control that gets past
 * authentication) under k: fa1's REFUSED answer parsed under answer_keys
 * (the keys it came under), or, with answer_keys NULL, no answer and the
 * message counted bad, as a forgery is.
 */
static void member_request(const struct sax_keys *k, const struct sax_keys *answer_keys)
{
	uint8_t msg[SAX_MSG_MAX], reg[600];
	size_t reg_len = claim_reg(&(struct claim){.forged_proof = true}, reg, sizeof(reg));
	size_t len = sax_msg(msg, sizeof(msg), SAX_REQUEST, NH_COA4, k, reg, reg_len, 0);
	uint64_t bad = RC(NH_FA1).sax_bad_messages;
	const struct nh_sax *ans = to_fa1(NH_COA4, msg, len);

	if (answer_keys == NULL) {
		ck_assert_ptr_null(ans);
		ck_assert_uint_eq(RC(NH_FA1).sax_bad_messages, bad + 1);
		return;
	}
	ck_assert_ptr_nonnull(ans);
	ck_assert_uint_eq(sax_flags(ans, answer_keys), SAX_R_PROOF);
	ck_assert_uint_eq(RC(NH_FA1).sax_bad_messages, bad);
}

/*
 * K_SA and K_DB rotated at fa1, then at fa2 3 s later, within the overlap (10 s): the
 * node moves fa1 -> fa2 -> fa1 with its SAs (full reuse, no IKE) before,
 * with fa1 alone rotated, with both sending under the old keys, with fa1
 * on the new and fa2 still on the old, with both on the new while the old
 * is still taken, and after the old retired.  A request under the old keys
 * is answered under them during the overlap and refused as a forgery
 * after.  _i: 0 direct, 1 store (the store's records carry the writer's
 * keys: K_DB's HMAC and K_SA's seal).
 */
START_TEST(test_key_rotation)
{
	struct nh_conf c = conf(FA_REUSE_FULL, _i == 0, _i == 1);
	struct sax_keys k, fk;
	uint64_t t1, t2, prev;

	new_keys(&k, &fk);
	start(&c);
	round_trip("before the rotation");

	t1 = ev_loop_wall_ms(n->loop);
	rotate_fa(NH_FA1);
	ck_assert(!sends_new(NH_FA1));
	round_trip("fa1 rotated, fa2 not");
	member_request(nh_fa_keys_a(), nh_fa_keys_a());
	member_request(&fk, &fk);

	until(t1, ROT_GAP_MS);
	t2 = ev_loop_wall_ms(n->loop);
	rotate_fa(NH_FA2);
	round_trip("both rotated, both still sending the old keys");

	until(t1, ROT_OVERLAP_MS + 100);
	ck_assert(sends_new(NH_FA1));
	ck_assert(!sends_new(NH_FA2));
	round_trip("fa1 sending the new keys, fa2 the old");

	until(t2, ROT_OVERLAP_MS + 100);
	ck_assert(sends_new(NH_FA1) && sends_new(NH_FA2));
	round_trip("both sending the new keys, the old still taken");
	member_request(nh_fa_keys_a(), nh_fa_keys_a());
	ck_assert_uint_gt(rx_previous(), 0);

	until(t2, 2 * ROT_OVERLAP_MS + 100);
	prev = rx_previous();
	round_trip("the old keys retired");
	ck_assert_uint_eq(rx_previous(), prev);
	member_request(nh_fa_keys_a(), NULL);
	member_request(&fk, &fk);
	/* retired keys are wiped: on the paths that use the ring, or by the sweep */
	ck_assert(!RING(NH_FA1).have_prev);
	fa_domain_sweep(&n->fa[NH_FA1].dom, ev_loop_wall_ms(n->loop));
	ck_assert(!n->fa[NH_FA1].dom.keys.have_prev);
	sax_keys_wipe(&k);
	sax_keys_wipe(&fk);
}
END_TEST

/*
 * A store record written under keys since retired (the node's copy from
 * before the rotation, put back as a store would keep it): its HMAC and
 * seal do not verify, and fa2 falls back to negotiation through the
 * counted path (fallback_bad_record), as for a forged record.
 */
START_TEST(test_key_rotation_stale_record)
{
	struct nh_conf c = conf(FA_REUSE_FULL, false, true);
	uint8_t old[SAX_MSG_MAX];
	const uint8_t *rec;
	size_t len;
	uint64_t t1;

	start(&c);
	rec = nh_store_get(n, &len);
	ck_assert_ptr_nonnull(rec);
	ck_assert_uint_le(len, sizeof(old));
	memcpy(old, rec, len);
	t1 = ev_loop_wall_ms(n->loop);
	rotate_fa(NH_FA1);
	rotate_fa(NH_FA2);
	until(t1, 2 * ROT_OVERLAP_MS);
	nh_store_set(n, old, len);
	nh_silence_fa(n, NH_FA1, true);
	refused_at_fa2(REACHED(NH_FA2, fallback_bad_record));
}
END_TEST

/*
 * The node stays at fa1 (technique store) while both FAs rotate; its store
 * copy was written before.  _i 0: the reload path calls
 * fa_reuse_keys_rotated, fa1 writes the copy again once it sends under the
 * new keys, and after the old keys retired fa2 still takes the SAs from
 * the store (fa1 cut off).  _i 1, without: the copy is under retired keys
 * and fa2 falls back (fallback_bad_record), the node negotiates.
 */
START_TEST(test_key_rotation_rewrites_copies)
{
	struct nh_conf c = conf(FA_REUSE_FULL, false, true);
	uint64_t t1, puts;

	start(&c);
	t1 = ev_loop_wall_ms(n->loop);
	rotate_fa(NH_FA1);
	rotate_fa(NH_FA2);
	puts = RC(NH_FA1).store_puts;
	if (_i == 0) {
		fa_reuse_keys_rotated(&n->fa[NH_FA1].sec);
		fa_reuse_keys_rotated(&n->fa[NH_FA2].sec);
	}
	until(t1, ROT_OVERLAP_MS - 1);
	ck_assert_uint_eq(RC(NH_FA1).store_puts, puts);
	until(t1, 2 * ROT_OVERLAP_MS + 100);
	ck_assert_uint_eq(RC(NH_FA1).store_puts, puts + (_i == 0));
	nh_silence_fa(n, NH_FA1, true);
	if (_i == 1) {
		refused_at_fa2(REACHED(NH_FA2, fallback_bad_record));
		return;
	}
	move_to(NH_FA2);
	nh_settle(n);
	ck_assert_uint_eq(RC(NH_FA2).reuse_full, 1);
	ck_assert_uint_eq(RC(NH_FA2).fallback_bad_record, 0);
}
END_TEST

/* ---- offers: partial reuse with the ISAKMP SA offered ahead (fa_offer.h) ---- */

static struct nh_conf offer_conf(bool store)
{
	struct nh_conf c = conf(FA_REUSE_PARTIAL, true, store);

	c.offers = true;
	return c;
}

/*
 * The node registers through fa1, which offers fa2 its ISAKMP SA; moving
 * to fa2 it runs Quick Mode at once: fa2 asks fa1 for nothing, and still
 * confirms (fa1 forgets and answers RELEASED).  fa2 then offers the SA on
 * in turn, and the way back to fa1 takes it the same way.  _i: without,
 * with the store as the fallback technique (both).
 */
START_TEST(test_offer_handover)
{
	struct nh_conf c = offer_conf(_i == 1);
	size_t mark;

	start(&c);
	ck_assert_uint_ge(RC(NH_FA1).offers_sent, 1);
	ck_assert_uint_ge(RC(NH_FA2).offers_kept, 1);
	mark = nh_mark(n);
	move_to(NH_FA2);
	nh_settle(n);
	ck_assert_uint_eq(nh_ike_since(n, NH_FA2, mark), 3); /* Quick Mode */
	ck_assert_uint_eq(RC(NH_FA2).reuse_offered, 1);
	ck_assert_uint_eq(RC(NH_FA2).reuse_partial, 1);
	ck_assert_uint_eq(RC(NH_FA2).offer_unused, 0);
	ck_assert_uint_eq(MNC.reuse_partial, 1);
	ck_assert_uint_eq(RC(NH_FA1).served_records + RC(NH_FA1).served_refused, 0);
	ck_assert_uint_eq(RC(NH_FA1).served_released, 1);
	ck_assert_uint_eq(RC(NH_FA2).taken_released, 1);
	ck_assert(!nh_fa_holds(&n->fa[NH_FA1]));
	ck_assert(nh_fa_holds(&n->fa[NH_FA2]));
	assert_flows("at fa2");
	ck_assert_uint_ge(RC(NH_FA1).offers_kept, 1);
	move_to(NH_FA1);
	nh_settle(n);
	ck_assert_uint_eq(RC(NH_FA1).reuse_offered, 1);
	ck_assert_uint_eq(RC(NH_FA2).served_records + RC(NH_FA2).served_refused, 0);
	ck_assert_uint_eq(RC(NH_FA2).served_released, 1);
	ck_assert_uint_eq(RC(NH_FA1).offers_refused + RC(NH_FA2).offers_refused, 0);
	assert_flows("back at fa1");
}
END_TEST

enum offer_forgery {
	OF_NONE,
	OF_COOKIES,
	OF_SKEYID_A,
	OF_WRITER,
	OF_CHILD,    /* the IPsec SA pairs too, each with a block of numbers */
	OF_NO_BLOCK, /* the IPsec SA pairs too, without a block */
	OF_NODE,
	OF_OLDER
};

/* An OFFER of the node's ISAKMP SA at fa1 to fa2 from src, under domain A's FA keys, but for f. */
static void offer_to_fa2(const char *src, enum offer_forgery f)
{
	struct sax_msg *m = calloc(1, sizeof(*m));
	const char *nai = f == OF_NODE ? AH_NAI_CAROL : AH_NAI_ALICE;
	uint8_t out[SAX_MSG_MAX];
	struct buf b;

	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(ike_export(n->fa[NH_FA1].sec.ep.ike, ah_ip(AH_ALICE),
				    f == OF_CHILD || f == OF_NO_BLOCK, &m->rec),
			 0);
	for (size_t i = 0; f == OF_CHILD && i < m->rec.n_children; i++)
		m->rec.children[i].loan_cap = m->rec.children[i].seq_out + 1000;
	m->version = SAX_VERSION;
	m->type = SAX_OFFER;
	m->has_record = true;
	m->sender = ah_ip(src);
	m->rec.home_addr = ah_ip(AH_ALICE);
	m->rec.prev_coa = ah_ip(f == OF_WRITER ? NH_COA4 : src);
	m->rec.isakmp.icookie[0] ^= f == OF_COOKIES || f == OF_OLDER;
	m->rec.isakmp.skeyid_a[0] ^= f == OF_SKEYID_A;
	m->expires_ms = m->rec.isakmp.expires_ms;
	m->mn_id_len = strlen(nai);
	memcpy(m->mn_id, nai, m->mn_id_len);
	sax_stamp_at(m, ev_loop_wall_ms(n->loop));
	m->timestamp_ms -= f == OF_OLDER ? 5000 : 0; /* before fa1's own, within the window */
	buf_init_write(&b, out, sizeof(out));
	ck_assert_int_eq(sax_build(&b, m, nh_fa_keys_a()), SAX_E_OK);
	sax_record_wipe(&m->rec);
	free(m);
	nh_inject_sax(n, ah_ip(src), NH_FA2, out, buf_used(&b));
	nh_settle(n);
}

/*
 * What fa2 does with an offer, one check at a time: after fa1's own offer
 * (the node registered through it), one more comes in; fa2 keeps it
 * (replacing fa1's) or refuses it (counted), or, older than fa1's, leaves
 * fa1's in place.  The node then moves to fa2 naming fa1: an offer that
 * does not serve (another ISAKMP SA, a proof that does not verify, from
 * another FA than the node names) is dropped, counted, and fa2 asks fa1 as
 * without offers.  Every hand-over is a partial reuse, and traffic flows.
 */
static const struct {
	const char *what;
	const char *src; /* the source and Sender */
	enum offer_forgery f;
	bool kept, refused, used;
} offer_cases[] = {
	{"fa1's own again (the control)", AH_COA1, OF_NONE, true, false, true},
	{"another ISAKMP SA (cookies)", AH_COA1, OF_COOKIES, true, false, false},
	{"another SKEYID_a: the node's proof fails", AH_COA1, OF_SKEYID_A, true, false, false},
	{"from fa4, which the node does not name", NH_COA4, OF_NONE, true, false, false},
	{"written by another member than its sender", AH_COA1, OF_WRITER, false, true, true},
	{"from a non-member, under the right keys", NH_OUTSIDER, OF_NONE, false, true, true},
	{"with an IPsec SA pair", AH_COA1, OF_CHILD, false, true, true},
	{"for another node's identity", AH_COA1, OF_NODE, false, true, true},
	{"older than fa1's own", AH_COA1, OF_OLDER, false, false, true},
};

START_TEST(test_offer_checks)
{
	struct nh_conf c = offer_conf(false);
	const char *what = offer_cases[_i].what;
	uint64_t kept, refused;

	start(&c);
	kept = RC(NH_FA2).offers_kept;
	ck_assert_uint_ge(kept, 1);
	offer_to_fa2(offer_cases[_i].src, offer_cases[_i].f);
	ck_assert_msg(RC(NH_FA2).offers_kept == kept + offer_cases[_i].kept, "%s: kept", what);
	refused = RC(NH_FA2).offers_refused;
	ck_assert_msg(refused == offer_cases[_i].refused, "%s: refused", what);
	move_to(NH_FA2);
	nh_settle(n);
	ck_assert_msg(RC(NH_FA2).reuse_offered == offer_cases[_i].used, "%s: used", what);
	ck_assert_msg(RC(NH_FA2).offer_unused == !offer_cases[_i].used, "%s: unused", what);
	ck_assert_msg(RC(NH_FA1).served_records == !offer_cases[_i].used, "%s: asked", what);
	ck_assert_uint_eq(RC(NH_FA2).reuse_partial, 1);
	ck_assert_uint_eq(RC(NH_FA1).served_released, 1);
	assert_flows(what);
}
END_TEST

/*
 * The claim against an offer: fa2 checks the Identification's age itself
 * (and the proof, above), and leaves the rest of what the holder would
 * judge to the home agent.  A registration naming fa1 is injected at fa2
 * while the node is at fa1: a minute ahead of the clock, fa2 does not take
 * the offer and asks fa1, which refuses it as stale; with the node's last
 * Identification (a replay within the window), fa2 takes the offer, the
 * home agent denies the registration and fa2 drops what it took in.  The
 * node stays at fa1 either way.
 */
static const struct {
	const char *what;
	struct claim c;
	bool used;
} offer_claims[] = {
	{"an Identification a minute ahead", {.id_offset_s = 60}, false},
	{"the Identification fa1 accepted last", {.old_id = true}, true},
};

START_TEST(test_offer_claim)
{
	struct nh_conf c = offer_conf(false);
	bool used = offer_claims[_i].used;
	uint8_t reg[600];
	size_t len;

	start(&c);
	len = claim_reg(&offer_claims[_i].c, reg, sizeof(reg));
	nh_inject_reg(n, NH_FA2, reg, len);
	nh_settle(n);
	ck_assert_uint_eq(RC(NH_FA2).reuse_offered, used);
	ck_assert_uint_eq(RC(NH_FA2).offer_unused, !used);
	ck_assert_uint_eq(RC(NH_FA2).taken_denied, used);
	ck_assert_uint_eq(RC(NH_FA1).served_records, 0);
	ck_assert_uint_eq(RC(NH_FA1).served_stale, !used);
	ck_assert(nh_fa_holds(&n->fa[NH_FA1]));
	ck_assert(!nh_fa_holds(&n->fa[NH_FA2]));
	assert_flows(offer_claims[_i].what);
}
END_TEST

/* ---- full offers: the IPsec SAs offered ahead, each member with a block of numbers ---- */

static struct nh_conf full_offer_conf(uint64_t seq_reserve)
{
	struct nh_conf c = conf(FA_REUSE_FULL, true, false);

	c.offers = true;
	c.seq_reserve = seq_reserve;
	return c;
}

static struct ipsec_pair *pair_at(int fa)
{
	return ipsec_find(&n->fa[fa].sec.ep.sas, ah_ip(AH_ALICE).s_addr);
}

/* The seq_top of a RELEASED fa1 sent to `to` since first (opened under domain A's FA keys). */
static uint64_t released_top(const char *to, size_t first)
{
	const struct nh_sax *r = nh_sax_last(n, SAX_RELEASED, ah_ip(to), first);
	struct sax_msg *m = calloc(1, sizeof(*m));
	uint64_t top;

	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(
		sax_parse(r->d, r->len, nh_fa_keys_a(), ev_loop_wall_ms(n->loop), 30000, NULL, m),
		SAX_E_OK);
	top = m->req.seq_top;
	free(m);
	return top;
}

/*
 * The node moves from `from` to `to`, which takes its SAs from from's
 * offer: no IKE, nothing asked, the hand-over confirmed and released.
 */
static void offered_move(int to, int from)
{
	size_t mark = nh_mark(n);

	move_to(to);
	nh_settle(n);
	ck_assert_uint_eq(nh_ike_since(n, to, mark), 0);
	ck_assert_uint_eq(RC(to).reuse_offered, 1);
	ck_assert_uint_eq(RC(to).reuse_full, 1);
	ck_assert_uint_eq(RC(from).served_records + RC(from).served_refused, 0);
	ck_assert_uint_eq(RC(from).served_released, 1);
	ck_assert_uint_eq(RC(to).taken_released, 1);
}

/*
 * Full reuse with offers: fa1 offers fa2 (and fa4) the node's SAs with a
 * block of outbound numbers each; moving to fa2, the node runs no IKE and
 * fa2 asks fa1 for nothing.  fa2 sends in its block until fa1 answers its
 * confirmation with its top, then above that top, and offers on.  The way
 * back to fa1 takes fa2's offer the same way.
 */
START_TEST(test_full_offer_handover)
{
	struct nh_conf c = full_offer_conf(0);
	uint64_t fa1_top;
	size_t first;

	start(&c);
	ck_assert_uint_eq(RC(NH_FA1).offers_sent, 2);
	ck_assert_uint_eq(RC(NH_FA2).offers_kept, 1);
	fa1_top = pair_at(NH_FA1)->offer_top;
	ck_assert_uint_gt(fa1_top, 0);
	first = n->n_saxs;
	offered_move(NH_FA2, NH_FA1);
	ck_assert_uint_eq(MNC.reuse_full, 1);
	ck_assert_uint_eq(RC(NH_FA2).taken_released, 1);
	ck_assert_uint_ge(released_top(AH_COA2, first), fa1_top);
	ck_assert(!nh_fa_holds(&n->fa[NH_FA1]));
	ck_assert_uint_eq(pair_at(NH_FA2)->loan_cap, 0);
	assert_flows("at fa2");
	/* above everything fa1 sent or gave away, and offering on */
	ck_assert_uint_gt(pair_at(NH_FA2)->out.seq_out, fa1_top);
	ck_assert_uint_eq(RC(NH_FA2).offers_sent, 2);
	ck_assert_uint_eq(RC(NH_FA1).offers_kept, 1);
	offered_move(NH_FA1, NH_FA2);
	ck_assert_uint_eq(RC(NH_FA1).offers_refused + RC(NH_FA2).offers_refused, 0);
	assert_flows("back at fa1");
}
END_TEST

/*
 * Two members took one offer of fa1 (the node's reply from the first was
 * lost, and it named fa1 again at the second): fa4's confirmation reaches
 * fa1 before fa2's (whose first is lost).  fa1 releases the SAs to fa4
 * with its top, and to fa2's confirmation, later, answers RELEASED without
 * one: fa2 makes new IPsec SAs by Quick Mode (taken_twice), and never went
 * above its block meanwhile.  Without the check both would have gone on
 * above fa1's top.
 */
START_TEST(test_full_offer_taken_twice)
{
	struct nh_conf c = full_offer_conf(0);
	uint8_t reg[600], msg[SAX_MSG_MAX];
	size_t mark, first, len;
	unsigned dropped = 0;

	start(&c);
	n->filter = drop_first_del_to_fa1;
	n->filter_arg = &dropped;
	move_to(NH_FA2);
	nh_settle(n); /* fa2's first confirmation, lost */
	ck_assert_uint_eq(dropped, 1);
	ck_assert_uint_eq(RC(NH_FA2).reuse_offered, 1);
	ck_assert_uint_ne(pair_at(NH_FA2)->loan_cap, 0);
	/* fa4 took its block of the same offer, and confirms first */
	len = claim_reg(&(struct claim){0}, reg, sizeof(reg));
	len = sax_msg(msg, sizeof(msg), SAX_STORE_DEL, NH_COA4, nh_fa_keys_a(), reg, len, 0);
	first = n->n_saxs;
	nh_inject_sax(n, ah_ip(NH_COA4), NH_FA1, msg, len);
	mark = nh_mark(n);
	nh_run(n, 1000, NULL, NULL); /* fa2's confirmation is retried transfer_timeout_ms later */
	n->filter = NULL;
	ck_assert_uint_eq(dropped, 1);
	ck_assert_uint_ne(released_top(NH_COA4, first), 0);
	ck_assert_uint_eq(released_top(AH_COA2, first), 0);
	ck_assert_uint_eq(RC(NH_FA1).served_released, 2);
	ck_assert_uint_eq(RC(NH_FA2).taken_twice, 1);
	ck_assert_uint_eq(RC(NH_FA2).taken_released, 0);
	/* the Delete of the pair in fa4's place, and Quick Mode */
	ck_assert_uint_eq(nh_ike_since(n, NH_FA2, mark), 4);
	assert_flows("at fa2, new IPsec SAs");
}
END_TEST

/*
 * After the reply the new FA's own work (the node's host route, its offers,
 * the confirmation to the previous FA) waits for the node's first datagram,
 * or FA_AFTER_REPLY_MS when none comes: the route alone holds the FA's
 * thread a few hundred microseconds, and data the home agent tunnelled
 * meanwhile waited behind it.  _i: 0 a datagram for the node right after
 * the reply, 1 none.
 */
START_TEST(test_full_offer_data_first)
{
	struct nh_conf c = full_offer_conf(0);
	const struct nh_fa *f;
	uint64_t at;
	size_t mark;

	start(&c);
	f = &n->fa[NH_FA2];
	move_to(NH_FA2);
	ck_assert_uint_eq(RC(NH_FA2).reuse_offered, 1);
	at = nh_now_ms(n);
	mark = n->n_frames;
	ck_assert(!f->routed);
	ck_assert_uint_eq(RC(NH_FA1).served_released, 0);
	if (_i == 0) {
		ck_assert(nh_cn_send(n));
		ck_assert(f->routed);
		ck_assert_uint_eq(f->route_ms, at);
		ck_assert_uint_gt(f->route_frame, mark); /* the datagram went first */
	} else {
		nh_run(n, FA_AFTER_REPLY_MS - 1, NULL, NULL);
		ck_assert(!f->routed);
		ck_assert_uint_eq(RC(NH_FA1).served_released, 0);
		nh_run(n, 1, NULL, NULL);
		ck_assert(f->routed);
		ck_assert_uint_eq(f->route_ms, at + FA_AFTER_REPLY_MS);
	}
	ck_assert_uint_eq(RC(NH_FA1).served_released, 1);
	ck_assert_uint_eq(RC(NH_FA2).taken_released, 1);
	assert_flows("at fa2");
}
END_TEST

/*
 * The pairs taken from an offer are keyed while the home agent answers,
 * not at the reply, their first packet out: with the home agent's first
 * reply lost, fa2 holds keyed contexts for both directions already.
 */
START_TEST(test_full_offer_keyed_ahead)
{
	struct nh_conf c = full_offer_conf(0);
	struct reply_order o = {0};
	const struct ipsec_pair *p;

	start(&c);
	n->filter = order_after_lost_reply;
	n->filter_arg = &o;
	nh_move(n, NH_FA2);
	ck_assert_uint_eq(o.dropped, 1);
	ck_assert_uint_eq(RC(NH_FA2).reuse_offered, 1);
	ck_assert_uint_eq(o.reply_at, 0);
	p = pair_at(NH_FA2);
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(p->out.slot);
	ck_assert_ptr_nonnull(p->in.slot);
	n->filter = NULL;
	ck_assert(nh_run(n, WAIT_MS, registered_at, (void *)(intptr_t)NH_FA2));
	nh_settle(n);
	assert_flows("at fa2");
}
END_TEST

/* Every confirmation fa2 sends to fa1 is lost: fa2 stays on its loan. */
static bool drop_del_to_fa1(struct nh *net, const struct nh_ev *e, void *arg)
{
	(void)net;
	(void)arg;
	return e->kind == NH_EV_SAX && e->to.s_addr == ah_ip(AH_COA1).s_addr && e->len >= 2 &&
	       e->d[1] == SAX_STORE_DEL;
}

/*
 * fa2 took the SAs from fa1's offer and is not released (its confirmations
 * are lost): the numbers above its block are fa1's and fa4's.  fa4 asking
 * fa2 for them is refused (served_refused); the node going back to fa1
 * (naming fa2) gets them lent back, and fa1 sends above every block it
 * offered.  Without the refusal fa2 lent fa4 numbers of another block;
 * without the skip fa1 sent in fa4's block.
 */
START_TEST(test_full_offer_on_loan)
{
	struct nh_conf c = full_offer_conf(0);
	uint8_t why = 0;
	uint64_t top;

	start(&c);
	top = pair_at(NH_FA1)->offer_top;
	n->filter = drop_del_to_fa1;
	move_to(NH_FA2);
	nh_settle(n);
	ck_assert_uint_eq(RC(NH_FA2).reuse_offered, 1);
	ck_assert_uint_ne(pair_at(NH_FA2)->loan_cap, 0);
	ck_assert_uint_eq(fa4_asks_at(NH_FA2, &(struct claim){.prev = AH_COA2}, &why), SAX_REFUSED);
	ck_assert_uint_eq(why, SAX_R_UNKNOWN);
	ck_assert_uint_eq(RC(NH_FA2).served_refused, 1);
	assert_flows("at fa2, on its loan");
	move_to(NH_FA1);
	nh_settle(n);
	n->filter = NULL;
	ck_assert_uint_eq(RC(NH_FA2).served_records, 1);
	ck_assert_uint_eq(RC(NH_FA1).reuse_full, 1);
	assert_flows("back at fa1");
	ck_assert_uint_gt(pair_at(NH_FA1)->out.seq_out, top);
}
END_TEST

/* Every confirmation between fa1 and fa2 is lost: each taker stays on its loan. */
static bool drop_every_del(struct nh *net, const struct nh_ev *e, void *arg)
{
	(void)net;
	(void)arg;
	return e->kind == NH_EV_SAX && e->len >= 2 && e->d[1] == SAX_STORE_DEL &&
	       e->from.s_addr != ah_ip(NH_COA4).s_addr;
}

/*
 * A holder on a loan tells no top: fa1 offered, fa2 took the offer, the
 * node went back to fa1, which took the SAs back from fa2 on a loan of
 * fa2's (no confirmation gets through).  A confirmation from fa4 (it took
 * fa1's offer too) then gets a RELEASED without SEQ_TOP: the numbers
 * above fa1's cap are fa2's to give, not fa1's.
 */
START_TEST(test_full_offer_holder_on_loan)
{
	struct nh_conf c = full_offer_conf(0);
	uint8_t reg[600], msg[SAX_MSG_MAX];
	size_t first, len;
	uint64_t released;

	start(&c);
	n->filter = drop_every_del;
	move_to(NH_FA2);
	nh_settle(n);
	move_to(NH_FA1);
	nh_settle(n);
	ck_assert_uint_eq(RC(NH_FA2).served_records, 1);
	ck_assert_uint_ne(pair_at(NH_FA1)->loan_cap, 0);
	released = RC(NH_FA1).served_released;
	len = claim_reg(&(struct claim){0}, reg, sizeof(reg));
	len = sax_msg(msg, sizeof(msg), SAX_STORE_DEL, NH_COA4, nh_fa_keys_a(), reg, len, 0);
	first = n->n_saxs;
	nh_inject_sax(n, ah_ip(NH_COA4), NH_FA1, msg, len);
	nh_settle(n);
	n->filter = NULL;
	ck_assert_uint_eq(RC(NH_FA1).served_released, released + 1);
	ck_assert_uint_eq(released_top(NH_COA4, first), 0);
}
END_TEST

/*
 * Our limit reached with offers out (a small seq_reserve): fa1 goes on
 * above every block it gave and offers new blocks above that, dropping
 * nothing, also for a node that has sent nothing for longer than
 * FA_REUSE_ACTIVE_MS (it only receives); the node moving to fa2 then
 * takes the newest offer.
 */
START_TEST(test_full_offer_renewed)
{
	struct nh_conf c = full_offer_conf(16);
	uint64_t sent, top;

	start(&c);
	nh_run(n, FA_REUSE_ACTIVE_MS + 1000, NULL, NULL); /* the node sends nothing meanwhile */
	sent = RC(NH_FA1).offers_sent;
	top = pair_at(NH_FA1)->offer_top;
	for (int i = 0; i < 40; i++)
		ck_assert_msg(nh_cn_send(n), "packet %d", i);
	ck_assert_uint_eq(EP(NH_FA1).esp_drop_reserved, 0);
	ck_assert_uint_gt(RC(NH_FA1).offers_sent, sent);
	ck_assert_uint_gt(pair_at(NH_FA1)->offer_top, top);
	move_to(NH_FA2);
	nh_settle(n);
	ck_assert_uint_eq(RC(NH_FA2).reuse_offered, 1);
	ck_assert_uint_eq(RC(NH_FA2).reuse_full, 1);
	ck_assert_uint_eq(RC(NH_FA2).taken_released, 1);
	assert_flows("at fa2");
}
END_TEST

/*
 * An offer whose pair has no block of its own (no loan cap above its
 * number) is refused; fa1's own stays and serves the hand-over.
 */
START_TEST(test_full_offer_without_block)
{
	struct nh_conf c = full_offer_conf(0);

	start(&c);
	offer_to_fa2(AH_COA1, OF_NO_BLOCK);
	ck_assert_uint_eq(RC(NH_FA2).offers_refused, 1);
	move_to(NH_FA2);
	nh_settle(n);
	ck_assert_uint_eq(RC(NH_FA2).reuse_offered, 1);
	ck_assert_uint_eq(RC(NH_FA2).reuse_full, 1);
	assert_flows("at fa2");
}
END_TEST

/* ---- packets held while a Quick Mode is under way (fa/fa_hold.h) ---- */

/* fa2's IKE to the node (UDP from port 500 or 4500): its Quick Mode answers. */
static bool drop_fa2_quick_mode(struct nh *net, const struct nh_ev *e, void *arg)
{
	unsigned sport;

	(void)net;
	(void)arg;
	if (e->kind != NH_EV_LINK || e->from_station != NH_FA2 || e->len < 28 ||
	    e->d[9] != IP4_PROTO_UDP)
		return false;
	sport = (unsigned)e->d[20] << 8 | e->d[21];
	return sport == ISAKMP_PORT || sport == ISAKMP_NATT_PORT;
}

static bool quick_mode_done(struct nh *net, void *arg)
{
	(void)arg;
	return nh_fa_pair(&net->fa[NH_FA2]) != NULL;
}

/* The node is registered through fa2, which has its ISAKMP SA and no pair yet. */
static bool quick_mode_due(struct nh *net, void *arg)
{
	return registered_at(net, arg) && nh_fa_holds(&net->fa[NH_FA2]) &&
	       nh_fa_pair(&net->fa[NH_FA2]) == NULL;
}

/*
 * A partial hand-over to fa2: the correspondent's packet that reaches fa2
 * between the reply and the Quick Mode's end is held and goes through the
 * new pair (_i 0).  With fa2's Quick Mode answers lost (_i 1), fa2 holds
 * FA_HOLD_PACKETS and drops the next, and after FA_HOLD_MS drops what it
 * held; the Quick Mode then ends and traffic flows.  With a packet held, a
 * registration naming fa4 starts a transfer at fa2 that fails (_i 2: fa4
 * never answers), which drops it: the node would negotiate from scratch.
 */
START_TEST(test_hold_quick_mode)
{
	struct nh_conf c = conf(FA_REUSE_PARTIAL, true, false);
	const struct fa_sec_counters *k;
	uint64_t no_sa;

	start(&c);
	k = &n->fa[NH_FA2].sec.ctr;
	n->filter = _i >= 1 ? drop_fa2_quick_mode : NULL;
	ck_assert(nh_move_until(n, NH_FA2, WAIT_MS, quick_mode_due, (void *)(intptr_t)NH_FA2));
	no_sa = k->drop_no_sa;
	if (_i == 0) {
		ck_assert_msg(nh_cn_send(n), "the held packet did not reach the node");
		ck_assert_uint_eq(k->held, 1);
		ck_assert_uint_eq(k->held_sent, 1);
		ck_assert_uint_eq(k->held_dropped + k->drop_no_sa - no_sa, 0);
	} else if (_i == 1) {
		static uint8_t big[9000];
		struct in_addr home = ah_ip(AH_ALICE);
		static const uint8_t mac[6] = {0x02, 0, 0, 0, 0, 0x10};

		for (int i = 0; i <= FA_HOLD_PACKETS; i++)
			ck_assert(!nh_cn_send(n));
		ck_assert_uint_eq(k->held, FA_HOLD_PACKETS);
		ck_assert_uint_eq(k->drop_no_sa, no_sa + 1);
		/* and at most FA_HOLD_BYTES: a node with room for packets, not for bytes */
		for (int i = 0; (i + 1) * sizeof(big) <= FA_HOLD_BYTES; i++)
			ck_assert(fa_hold(&n->fa[NH_FA1].sec, mac, home, big, sizeof(big)));
		ck_assert(!fa_hold(&n->fa[NH_FA1].sec, mac, home, big, sizeof(big)));
		fa_hold_drop(&n->fa[NH_FA1].sec, home);
		/* and for at most FA_HOLD_NODES nodes at once */
		for (uint32_t i = 0; i <= FA_HOLD_NODES; i++) {
			struct in_addr a = {htonl(0x0a010000 + i)};
			bool room = i < FA_HOLD_NODES;

			ck_assert(fa_hold(&n->fa[NH_FA1].sec, mac, a, big, 100) == room);
		}
		nh_run(n, FA_HOLD_MS + 10, NULL, NULL);
		ck_assert_uint_eq(k->held_dropped, FA_HOLD_PACKETS);
		ck_assert_uint_eq(k->held_sent, 0);
		n->filter = NULL;
		ck_assert(nh_run(n, 30000, quick_mode_done, NULL));
	} else {
		/* a hand-over of the node starts at fa2: nothing held goes on its pairs */
		uint8_t reg[600];
		size_t len = claim_reg(&(struct claim){.prev = NH_COA4}, reg, sizeof(reg));

		ck_assert(!nh_cn_send(n));
		ck_assert_uint_eq(k->held, 1);
		nh_inject_reg(n, NH_FA2, reg, len);
		/* fa4 never answers: refused after transfer_timeout_ms, within FA_HOLD_MS */
		nh_run(n, 150, NULL, NULL);
		ck_assert_uint_eq(RC(NH_FA2).fallback_prev_silent, 1);
		ck_assert_uint_eq(k->held_dropped, 1);
		ck_assert_uint_eq(k->held_sent, 0);
		return; /* the claim, as good as the node's, took its SAs elsewhere */
	}
	nh_settle(n);
	assert_flows("at fa2 after its Quick Mode");
}
END_TEST

struct accepted_lost {
	uint64_t accepted; /* the home agent's count before */
	const struct lost_sax *l;
};

/* The home agent accepted the registration, and fa1's answer to fa2 was lost. */
static bool accepted_answer_lost(struct nh *net, void *arg)
{
	const struct accepted_lost *a = arg;

	return net->ha.ctr.reg_accepted > a->accepted && a->l->dropped == 1;
}

/*
 * Full reuse, fa1's first answer to fa2 lost: the home agent accepts the
 * registration and tunnels to fa2 while fa2 still waits for the SAs.  The
 * correspondent's packet then waits at fa2 and goes, after the reply,
 * through the pair taken over, once the hand-over counts.  _i 1: with the
 * store, once fa2's copy is there.
 */
START_TEST(test_hold_transfer)
{
	struct nh_conf c = conf(FA_REUSE_FULL, true, _i == 1);
	struct lost_sax l = {.type = SAX_RECORD, .to = ah_ip(AH_COA2)};
	const struct fa_sec_counters *k;
	struct accepted_lost a = {.l = &l};
	uint64_t rx;

	start(&c);
	k = &n->fa[NH_FA2].sec.ctr;
	a.accepted = n->ha.ctr.reg_accepted;
	n->filter = drop_first_sax;
	n->filter_arg = &l;
	ck_assert(nh_move_until(n, NH_FA2, WAIT_MS, accepted_answer_lost, &a));
	rx = n->mn_rx;
	ck_assert(!nh_cn_send(n));
	ck_assert_uint_eq(k->held, 1);
	ck_assert(nh_run(n, WAIT_MS, registered_at, (void *)(intptr_t)NH_FA2));
	nh_settle(n);
	n->filter = NULL;
	ck_assert_uint_eq(RC(NH_FA2).reuse_full, 1);
	ck_assert_uint_eq(k->held_sent, 1);
	ck_assert_uint_eq(k->held_dropped + k->drop_no_sa, 0);
	ck_assert_uint_eq(n->mn_rx, rx + 1);
	ck_assert_uint_eq(EP(NH_FA2).esp_drop_reserved, 0);
	assert_flows("at fa2 after the held packet");
}
END_TEST

/* One case per item, so CK_RUN_CASE picks one (e.g. CK_RUN_CASE=dying). */
static void add_case(Suite *s, const char *name, const TTest *t, int loops)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, t, 0, loops);
	suite_add_tcase(s, tc);
}

static Suite *handover_suite(void)
{
	Suite *s = suite_create("handover");

	add_case(s, "register", test_register_ike_traffic, 1);
	add_case(s, "handover", test_handover, 6);
	add_case(s, "dying", test_prev_dies_after_serving, 4);
	add_case(s, "partial-copy", test_partial_copy_while_confirming, 1);
	add_case(s, "dying", test_prev_dies_before_answering, 4);
	add_case(s, "dying", test_prev_missed_confirmation, 2);
	add_case(s, "dying", test_confirmation_retried, 2);
	add_case(s, "loss", test_back_before_confirmation, 4);
	add_case(s, "loss", test_back_before_reply, 2);
	add_case(s, "loss", test_transfer_request_resent, 4);
	add_case(s, "dying", test_store_unavailable, 2);
	add_case(s, "dying", test_store_outage_copy_retried, 1);
	add_case(s, "dying", test_store_outage_back_to_old_fa, 1);
	add_case(s, "reassociation", test_reassociation, 1);
	add_case(s, "forged_reg", test_forged_registrations, 1);
	add_case(s, "hostile_sax", test_hostile_transfer_messages, 1);
	add_case(s, "claim", test_holder_claim_checks, 1);
	add_case(s, "membership", test_prev_not_member, 2);
	add_case(s, "forged_record", test_forged_store_record, F_FORGERIES);
	add_case(s, "race", test_member_races_for_loan, 1);
	add_case(s, "race", test_replay_while_confirming, 1);
	add_case(s, "race", test_answer_from_another_member, 1);
	add_case(s, "race", test_forged_denial_beside, 1);
	add_case(s, "order", test_reply_before_own_messages, 2);
	add_case(s, "loss", test_reply_lost_after_take_over, 4);
	add_case(s, "reboot", test_agent_reboot_while_securing, 1);
	add_case(s, "own-after-fallback", test_own_sas_after_fallback, 2);
	add_case(s, "loss", test_stale_copy_after_fallback, 2);
	add_case(s, "loan", test_loan_reclaimed, 1);
	add_case(s, "key_rotation", test_key_rotation, 2);
	add_case(s, "key_rotation", test_key_rotation_stale_record, 1);
	add_case(s, "key_rotation", test_key_rotation_rewrites_copies, 2);
	add_case(s, "offers", test_offer_handover, 2);
	add_case(s, "offers", test_offer_checks, sizeof(offer_cases) / sizeof(offer_cases[0]));
	add_case(s, "offers", test_offer_claim, 2);
	add_case(s, "full_offers", test_full_offer_handover, 1);
	add_case(s, "full_offers", test_full_offer_taken_twice, 1);
	add_case(s, "full_offers", test_full_offer_renewed, 1);
	add_case(s, "full_offers", test_full_offer_without_block, 1);
	add_case(s, "full_offers", test_full_offer_on_loan, 1);
	add_case(s, "full_offers", test_full_offer_holder_on_loan, 1);
	add_case(s, "full_offers", test_full_offer_data_first, 2);
	add_case(s, "full_offers", test_full_offer_keyed_ahead, 1);
	add_case(s, "hold", test_hold_quick_mode, 3);
	add_case(s, "hold", test_hold_transfer, 2);
	return s;
}

int main(void)
{
	return check_main(handover_suite());
}
