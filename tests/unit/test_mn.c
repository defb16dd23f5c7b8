/*
 * In-process tests of the mobile node's state machine (mn/mn_reg.c): agent
 * discovery, registration through the agent an advertisement names,
 * movement detection (RFC 5944 2.4.2), retransmission with back-off and a
 * new Identification (3.6.3), resynchronisation on code 133 (5.7.1),
 * replies it must ignore, link loss and deregistration.  Advertisements
 * come from real struct fa instances; replies are built by hand, signed
 * with the node's key.  The node runs on a virtual loop: a test moves its
 * clock and knows to the millisecond when each timer fires.
 */
#include "agent_harness.h"
#include "check_main.h"
#include "fa.h"
#include "log.h"
#include "mip_adv.h"
#include "mip_ident.h"
#include "mn.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#define RETRY_MS     100
#define RETRY_MAX_MS 300
#define SOLICIT_MS   80

static const uint8_t FA1_MAC[6] = {0x02, 0, 0, 0, 0, 0xa1};
static const uint8_t FA2_MAC[6] = {0x02, 0, 0, 0, 0, 0xa2};

static struct mip_key k_alice, k_mnfa;
static struct ev_loop *loop;
static struct mn_config mcfg;
static struct mn mn;
static struct ah_cap cap, facap;
static struct fa fa1, fa2;

static void fa_start(struct fa *f, const char *alias, const char *coa, uint16_t max_lifetime)
{
	const struct fa_config c = {.alias = ah_ip(alias),
				    .alias_plen = 24,
				    .coa = ah_ip(coa),
				    .adv_lifetime = 9,
				    .max_lifetime = max_lifetime,
				    .pending_timeout_ms = 7000,
				    .max_visitors = 8,
				    .reverse_tunnel = true};
	const struct fa_ops ops = {.to_link = ah_on_link,
				   .to_ha = ah_on_ha,
				   .to_tunnel = ah_on_tunnel,
				   .to_forward = ah_on_forward,
				   .arg = &facap};

	ck_assert_int_eq(fa_init(f, &c, &ops), 0);
}

static void mn_start(void)
{
	const struct mn_ops ops = {.to_link = ah_on_link, .stopped = ah_on_stopped, .arg = &cap};

	ah_cap_reset(&cap);
	mn_init(&mn, loop, &mcfg, &ops, false);
}

static void setup(void)
{
	k_alice = ah_key(AH_SPI_ALICE, AH_SEED_ALICE);
	k_mnfa = ah_key(AH_SPI_MN_FA, AH_SEED_MN_FA);
	loop = ev_loop_new_virtual(AH_START_MS);
	ck_assert_ptr_nonnull(loop);
	ah_cap_reset(&facap);
	fa_start(&fa1, AH_ALIAS1, AH_COA1, 300);
	fa_start(&fa2, AH_ALIAS2, AH_COA2, 1800);
	mcfg = (struct mn_config){.home_addr = ah_ip(AH_ALICE),
				  .home_agent = ah_ip(AH_HA),
				  .ha_key = k_alice,
				  .lifetime = 600,
				  .reverse_tunnel = true,
				  .reg_retry_ms = RETRY_MS,
				  .reg_retry_max_ms = RETRY_MAX_MS,
				  .solicit_retry_ms = SOLICIT_MS};
	strcpy(mcfg.nai, AH_NAI_ALICE);
	mn_start();
}

static void teardown(void)
{
	mn_free(&mn);
	fa_free(&fa1);
	fa_free(&fa2);
	ev_loop_free(loop);
}

/* The node hears an advertisement from f, sent by mac. */
static void hear(struct fa *f, const uint8_t *mac)
{
	fa_advertise(f);
	const struct ah_pkt *p = ah_cap_last(&facap, AH_LINK);
	ck_assert_ptr_nonnull(p);
	mn_from_link(&mn, mac, p->d, p->len);
}

/* The node's last packet: a registration request to mac, from the home address to alias. */
static void last_request(const uint8_t *mac, const char *alias, struct mip_reg_request *rq,
			 const uint8_t **msg)
{
	struct ah_udp u;
	const struct ah_pkt *p = ah_cap_last(&cap, AH_LINK);

	ck_assert_ptr_nonnull(p);
	ck_assert_mem_eq(p->mac, mac, 6);
	ck_assert(ah_udp_unwrap(p->d, p->len, &u));
	ck_assert_uint_eq(u.ip.src.s_addr, ah_ip(AH_ALICE).s_addr);
	ck_assert_uint_eq(u.ip.dst.s_addr, ah_ip(alias).s_addr);
	ck_assert_uint_eq(u.sport, MIP_PORT);
	ck_assert_uint_eq(u.dport, MIP_PORT);
	ck_assert_int_eq(mip_request_parse(u.msg, u.len, rq), MIP_PERR_OK);
	*msg = u.msg;
}

/* Link up and register through fa1; returns the request's Identification. */
static uint64_t registering(void)
{
	struct mip_reg_request rq;
	const uint8_t *msg;

	mn_link_event(&mn, true);
	hear(&fa1, FA1_MAC);
	ck_assert_int_eq(mn.state, MN_REGISTERING);
	last_request(FA1_MAC, AH_ALIAS1, &rq, &msg);
	return rq.id;
}

/* A reply signed by the home agent, as a foreign agent relays it. */
static void reply(uint8_t code, uint16_t lifetime, uint64_t id)
{
	const struct ah_rep r = {.code = code,
				 .lifetime = lifetime,
				 .home_addr = ah_ip(AH_ALICE),
				 .home_agent = ah_ip(AH_HA),
				 .id = id,
				 .nai = AH_NAI_ALICE,
				 .mn_ha = &k_alice};
	uint8_t m[256];

	mn_from_reply(&mn, m, ah_build_reply(&r, m, sizeof(m)));
}

static void registered(void)
{
	uint64_t id = registering();

	reply(MIP_CODE_ACCEPTED, 300, id);
	ck_assert_int_eq(mn.state, MN_REGISTERED);
	ah_cap_reset(&cap);
}

/* id carries the loop's wall clock, offset_s seconds off (the home agent's clock). */
static void assert_id_now(uint64_t id, int64_t offset_s)
{
	int64_t want = (int64_t)(mip_ident_at(ev_loop_wall_us(loop)) >> 32) + offset_s;
	int64_t got = (int64_t)(id >> 32);

	ck_assert_msg(got == want, "Identification %lld s, want %lld s", (long long)got,
		      (long long)want);
}

START_TEST(test_link_up_solicits)
{
	static const uint8_t agents_mac[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x0b};
	struct ip4_hdr ip;
	struct buf icmp;

	ck_assert_int_eq(mn.state, MN_LINK_DOWN);
	mn_link_event(&mn, true);
	ck_assert_int_eq(mn.state, MN_SOLICITING);
	ck_assert_uint_eq(cap.n, 1);
	const struct ah_pkt *p = ah_cap_last(&cap, AH_LINK);
	ck_assert_mem_eq(p->mac, agents_mac, 6);
	ck_assert_int_eq(ip4_parse(p->d, p->len, &ip, &icmp), IP4_OK);
	ck_assert_uint_eq(ip.proto, IP4_PROTO_ICMP);
	ck_assert_uint_eq(ip.dst.s_addr, ah_ip("224.0.0.11").s_addr);
	ck_assert_uint_eq(ip.ttl, 1);
	ck_assert_uint_eq(buf_rptr(&icmp)[0], MIP_ICMP_SOL);
	ck_assert_int_eq(mip_sol_parse(buf_rptr(&icmp), buf_left(&icmp)), MIP_ADV_OK);
	ck_assert_uint_eq(mn.ctr.solicitations_sent, 1);
	ck_assert_uint_eq(mn.ctr.link_up_events, 1);
	/* No agent answers: ask again after solicit_retry_ms, not before. */
	ev_loop_advance(loop, SOLICIT_MS - 1);
	ck_assert_uint_eq(mn.ctr.solicitations_sent, 1);
	ev_loop_advance(loop, 1);
	ck_assert_uint_eq(mn.ctr.solicitations_sent, 2);
	ck_assert_uint_eq(cap.n, 2);
	/* A second "up" changes nothing. */
	mn_link_event(&mn, true);
	ck_assert_uint_eq(mn.ctr.link_up_events, 1);
}
END_TEST

START_TEST(test_adv_registers)
{
	for (int with_fa_key = 0; with_fa_key < 2; with_fa_key++) {
		struct mip_reg_request rq;
		const uint8_t *msg;

		mn_free(&mn);
		mcfg.fa_key = with_fa_key ? k_mnfa : (struct mip_key){0};
		mn_start();
		mn_link_event(&mn, true);
		hear(&fa1, FA1_MAC);
		ck_assert_int_eq(mn.state, MN_REGISTERING);
		ck_assert_uint_eq(mn.ctr.reg_sent, 1);
		ck_assert_uint_eq(mn.ctr.advertisements, 1);
		ck_assert(ev_timer_armed(&mn.retx));
		ck_assert(!ev_timer_armed(&mn.solicit));
		last_request(FA1_MAC, AH_ALIAS1, &rq, &msg);
		ck_assert_uint_eq(rq.flags, MIP_RQ_T);
		ck_assert_uint_eq(rq.lifetime, 300); /* the agent's 300, below our 600 */
		ck_assert_uint_eq(rq.home_addr.s_addr, ah_ip(AH_ALICE).s_addr);
		ck_assert_uint_eq(rq.home_agent.s_addr, ah_ip(AH_HA).s_addr);
		ck_assert_uint_eq(rq.coa.s_addr, ah_ip(AH_COA1).s_addr);
		assert_id_now(rq.id, 0);
		ck_assert_uint_eq(rq.ext.nai_len, strlen(AH_NAI_ALICE));
		ck_assert_mem_eq(rq.ext.nai, AH_NAI_ALICE, rq.ext.nai_len);
		ck_assert_uint_eq(rq.ext.mn_ha.spi, AH_SPI_ALICE);
		ck_assert_int_eq(mip_auth_check(msg, &rq.ext.mn_ha, &k_alice), MIP_AUTH_OK);
		ck_assert_int_eq(rq.ext.mn_fa.present, with_fa_key);
		if (with_fa_key)
			ck_assert_int_eq(mip_auth_check(msg, &rq.ext.mn_fa, &k_mnfa), MIP_AUTH_OK);
		ck_assert(!rq.ext.fa_ha.present);
		ck_assert_uint_eq(mn.agent.coa.s_addr, ah_ip(AH_COA1).s_addr);
		ck_assert_uint_eq(mn.agent.addr.s_addr, ah_ip(AH_ALIAS1).s_addr);
		ck_assert_mem_eq(mn.agent.mac, FA1_MAC, 6);
	}
}
END_TEST

START_TEST(test_accepted)
{
	uint64_t id = registering();

	reply(MIP_CODE_ACCEPTED, 300, id);
	ck_assert_int_eq(mn.state, MN_REGISTERED);
	ck_assert_uint_eq(mn.ctr.reg_accepted, 1);
	ck_assert_uint_eq(mn.reg_coa.s_addr, ah_ip(AH_COA1).s_addr);
	ck_assert_uint_eq(mn.reg_lifetime, 300);
	ck_assert(!ev_timer_armed(&mn.retx));
	ck_assert(ev_timer_armed(&mn.rereg));
	/* Renewal at 3/4 of the lifetime: 225 s. */
	ck_assert_uint_eq(mn.rereg.deadline_ms - ev_loop_now_ms(loop), 225000);
	/* The same advertisement again: nothing to do. */
	hear(&fa1, FA1_MAC);
	ck_assert_uint_eq(mn.ctr.reg_sent, 1);
	ck_assert_int_eq(mn.state, MN_REGISTERED);
}
END_TEST

START_TEST(test_renewal)
{
	mn_free(&mn);
	mcfg.reg_retry_ms = 1000; /* no retransmission while the test runs */
	mn_start();
	uint64_t id = registering();

	reply(MIP_CODE_ACCEPTED, 1, id); /* renewal after 750 ms */
	ck_assert_int_eq(mn.state, MN_REGISTERED);
	ev_loop_advance(loop, 749);
	ck_assert_uint_eq(mn.ctr.reg_sent, 1);
	ev_loop_advance(loop, 1);
	ck_assert_uint_eq(mn.ctr.reg_sent, 2);
	ck_assert_int_eq(mn.state, MN_REGISTERING);
	struct mip_reg_request rq;
	const uint8_t *msg;
	last_request(FA1_MAC, AH_ALIAS1, &rq, &msg);
	ck_assert_uint_gt(rq.id, id);
	ck_assert_uint_eq(rq.coa.s_addr, ah_ip(AH_COA1).s_addr);
}
END_TEST

START_TEST(test_movement)
{
	struct mip_reg_request rq;
	const uint8_t *msg;

	registered();
	uint64_t id1 = mn.req_id;
	hear(&fa2, FA2_MAC);
	ck_assert_int_eq(mn.state, MN_REGISTERING);
	ck_assert_uint_eq(mn.ctr.agent_changes, 1);
	ck_assert_uint_eq(mn.ctr.reg_sent, 2);
	last_request(FA2_MAC, AH_ALIAS2, &rq, &msg);
	ck_assert_uint_eq(rq.coa.s_addr, ah_ip(AH_COA2).s_addr);
	ck_assert_uint_eq(rq.lifetime, 600); /* fa2 allows 1800 */
	ck_assert_uint_gt(rq.id, id1);
	ck_assert_int_eq(mip_auth_check(msg, &rq.ext.mn_ha, &k_alice), MIP_AUTH_OK);
	/* fa2 again while waiting: the request is not repeated. */
	hear(&fa2, FA2_MAC);
	ck_assert_uint_eq(mn.ctr.reg_sent, 2);
	reply(MIP_CODE_ACCEPTED, 600, rq.id);
	ck_assert_int_eq(mn.state, MN_REGISTERED);
	ck_assert_uint_eq(mn.reg_coa.s_addr, ah_ip(AH_COA2).s_addr);
	/* An advertisement with TTL other than 1 is not from an agent on our link. */
	fa_advertise(&fa1);
	const struct ah_pkt *p = ah_cap_last(&facap, AH_LINK);
	uint8_t pkt[AH_PKT_MAX];
	memcpy(pkt, p->d, p->len);
	pkt[8] = 2;
	pkt[10] = pkt[11] = 0;
	uint16_t ck = inet_cksum(pkt, IP4_HDR_LEN);
	pkt[10] = (uint8_t)(ck >> 8);
	pkt[11] = (uint8_t)ck;
	mn_from_link(&mn, FA1_MAC, pkt, p->len);
	ck_assert_uint_eq(mn.ctr.drop_not_agent, 1);
	ck_assert_uint_eq(mn.ctr.agent_changes, 1);
	ck_assert_int_eq(mn.state, MN_REGISTERED);
}
END_TEST

START_TEST(test_agent_reboot_and_loss)
{
	registered();
	/* Sequence numbers wrap from 0xffff to 256: the same agent, not a reboot. */
	fa1.adv_seq = 0xffff;
	hear(&fa1, FA1_MAC);
	hear(&fa1, FA1_MAC);
	ck_assert_uint_eq(mn.agent.seq, 256);
	ck_assert_uint_eq(mn.ctr.reg_sent, 1);
	ck_assert_int_eq(mn.state, MN_REGISTERED);
	/* RFC 5944 2.3.1 / 2.4.2: a number below 256 after that is a reboot: register again. */
	fa_free(&fa1);
	fa_start(&fa1, AH_ALIAS1, AH_COA1, 300);
	hear(&fa1, FA1_MAC);
	ck_assert_uint_eq(mn.agent.seq, 0);
	ck_assert_uint_eq(mn.ctr.reg_sent, 2);
	ck_assert_int_eq(mn.state, MN_REGISTERING);
	reply(MIP_CODE_ACCEPTED, 300, mn.req_id);
	ck_assert_int_eq(mn.state, MN_REGISTERED);
	ah_cap_reset(&cap);
	/* An agent whose advertisements stop (lifetime 1 s) is gone: solicit. */
	fa1.cfg.adv_lifetime = 1;
	hear(&fa1, FA1_MAC);
	ev_loop_advance(loop, 999);
	ck_assert_int_eq(mn.state, MN_REGISTERED);
	ev_loop_advance(loop, 1);
	ck_assert_int_eq(mn.state, MN_SOLICITING);
	ck_assert_uint_eq(mn.ctr.agent_lost, 1);
	ck_assert(!mn.agent.valid);
	/* One at once, one more SOLICIT_MS later: all of them since the reset. */
	ev_loop_advance(loop, SOLICIT_MS);
	ck_assert_uint_eq(mn.ctr.solicitations_sent, 3);
	ck_assert_uint_eq(cap.n, 2);
	ck_assert_uint_eq(ah_cap_last(&cap, AH_LINK)->mac[5], 0x0b); /* 224.0.0.11 */
}
END_TEST

START_TEST(test_retransmit)
{
	struct mip_reg_request rq;
	const uint8_t *msg;
	uint64_t id0 = registering();

	ck_assert_uint_eq(mn.retry_ms, RETRY_MS);
	ev_loop_advance(loop, RETRY_MS + RETRY_MS / 2); /* next one due at 100 + 200 */
	ck_assert_uint_eq(mn.ctr.reg_retransmits, 1);
	ck_assert_uint_eq(mn.ctr.reg_sent, 2);
	ck_assert_uint_eq(mn.retry_ms, 2 * RETRY_MS);
	last_request(FA1_MAC, AH_ALIAS1, &rq, &msg);
	uint64_t id1 = rq.id;
	ck_assert_uint_gt(id1, id0);
	ck_assert_uint_ne((uint32_t)id1, (uint32_t)id0);
	ck_assert_uint_eq(mn.req_id, id1);
	ck_assert_int_eq(mip_auth_check(msg, &rq.ext.mn_ha, &k_alice), MIP_AUTH_OK);
	ck_assert_uint_eq(mn.retx.deadline_ms - ev_loop_now_ms(loop), 150);

	ev_loop_advance(loop, 2 * RETRY_MS); /* t = 350: the second one went at 300 */
	ck_assert_uint_eq(mn.ctr.reg_retransmits, 2);
	ck_assert_uint_eq(mn.retry_ms, RETRY_MAX_MS); /* not 400: held at the ceiling */
	last_request(FA1_MAC, AH_ALIAS1, &rq, &msg);
	ck_assert_uint_gt(rq.id, id1);
	ck_assert_uint_eq(cap.n, 4); /* solicitation and three requests */

	/* A late reply to the first request no longer matches. */
	reply(MIP_CODE_ACCEPTED, 300, id0);
	ck_assert_uint_eq(mn.ctr.drop_reply_unmatched, 1);
	ck_assert_int_eq(mn.state, MN_REGISTERING);
	reply(MIP_CODE_ACCEPTED, 300, rq.id);
	ck_assert_int_eq(mn.state, MN_REGISTERED);
}
END_TEST

static void id_mismatch(int64_t ha_ahead_s)
{
	struct mip_reg_request rq;
	const uint8_t *msg;
	uint64_t id0 = registering();
	uint64_t ha_id = (uint64_t)((int64_t)(id0 >> 32) + ha_ahead_s) << 32 | (uint32_t)id0;

	reply(MIP_CODE_HA_ID_MISMATCH, 0, ha_id);
	ck_assert_uint_eq(mn.ctr.reg_id_resync, 1);
	ck_assert_int_eq(mn.clock_offset_s, ha_ahead_s);
	ck_assert_uint_eq(mn.ctr.reg_sent, 2); /* at once, without waiting for the timer */
	ck_assert_uint_eq(mn.ctr.reg_retransmits, 0);
	ck_assert_int_eq(mn.state, MN_REGISTERING);
	last_request(FA1_MAC, AH_ALIAS1, &rq, &msg);
	ck_assert_int_eq(mip_auth_check(msg, &rq.ext.mn_ha, &k_alice), MIP_AUTH_OK);
	/* The new request carries the home agent's clock. */
	assert_id_now(rq.id, ha_ahead_s);
	ck_assert_uint_ne(rq.id, id0);
}

/*
 * The node's wall clock is stepped (NTP): an hour ahead, its Identifications
 * follow; an hour back, they still rise above the last one sent (RFC 5944
 * 5.7.1: the home agent would take a lower one for a replay).
 */
START_TEST(test_id_wall_clock_steps)
{
	struct mip_reg_request rq;
	const uint8_t *msg;
	uint64_t wall = ev_loop_wall_ms(loop);

	registered();
	uint64_t id0 = mn.req_id;
	ck_assert_int_eq(ev_loop_set_wall_ms(loop, wall + 3600 * 1000), 0);
	ck_assert_int_eq(mn_reregister(&mn), 0);
	last_request(FA1_MAC, AH_ALIAS1, &rq, &msg);
	assert_id_now(rq.id, 0);
	ck_assert_uint_eq((rq.id >> 32) - (id0 >> 32), 3600);
	reply(MIP_CODE_ACCEPTED, 300, rq.id);
	ck_assert_int_eq(mn.state, MN_REGISTERED);
	uint64_t id1 = rq.id;
	ck_assert_int_eq(ev_loop_set_wall_ms(loop, wall - 3600 * 1000), 0);
	ck_assert_int_eq(mn_reregister(&mn), 0);
	last_request(FA1_MAC, AH_ALIAS1, &rq, &msg);
	ck_assert_uint_eq(rq.id, id1 + 1);
}
END_TEST

START_TEST(test_id_mismatch_ha_ahead)
{
	id_mismatch(100);
}
END_TEST

/*
 * BUG: mn_new_id() (mn/mn_reg.c) takes mip_ident_next(now, last_id, offset), and
 * last_id is the Identification of the request the home agent has just
 * refused.  When the HA's clock is behind ours, now + offset is below that
 * refused value, so the node sends last_id + 1 -- our own clock again --
 * and the HA answers 133 once more, for ever.  RFC 5944 5.7.1 / C.1: on 133
 * the node uses the high-order 32 bits of the reply's Identification (the
 * HA's clock) for its next Identification.
 */
START_TEST(test_id_mismatch_ha_behind)
{
	id_mismatch(-100);
}
END_TEST

START_TEST(test_reply_ignored_table)
{
	const struct {
		const char *what;
		bool bad_auth, no_mn_ha;
		uint32_t spi, id_xor;
		const char *home;
		size_t ctr;
	} t[] = {
		{"bad MN-HA", true, false, 0, 0, AH_ALICE,
		 offsetof(struct mn_counters, drop_reply_auth)},
		{"unknown SPI", false, false, 0x4444, 0, AH_ALICE,
		 offsetof(struct mn_counters, drop_reply_auth)},
		{"no MN-HA", false, true, 0, 0, AH_ALICE,
		 offsetof(struct mn_counters, drop_reply_auth)},
		{"other Identification", false, false, 0, 1, AH_ALICE,
		 offsetof(struct mn_counters, drop_reply_unmatched)},
		{"other home address", false, false, 0, 0, AH_BOB,
		 offsetof(struct mn_counters, drop_reply_unmatched)},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint8_t m[256];
		uint64_t c;

		mn_free(&mn);
		mn_start();
		uint64_t id = registering();
		const struct ah_rep r = {.lifetime = 300,
					 .home_addr = ah_ip(t[i].home),
					 .home_agent = ah_ip(AH_HA),
					 .id = id ^ t[i].id_xor,
					 .mn_ha = t[i].no_mn_ha ? NULL : &k_alice,
					 .mn_ha_spi = t[i].spi,
					 .mn_ha_corrupt = t[i].bad_auth};
		mn_from_reply(&mn, m, ah_build_reply(&r, m, sizeof(m)));
		memcpy(&c, (const uint8_t *)&mn.ctr + t[i].ctr, sizeof(c));
		ck_assert_msg(c == 1, "%s: counter", t[i].what);
		ck_assert_msg(mn.state == MN_REGISTERING, "%s: state %s", t[i].what,
			      mn_state_name(mn.state));
		ck_assert_uint_eq(mn.ctr.reg_accepted, 0);
		ck_assert(ev_timer_armed(&mn.retx));
	}
}
END_TEST

START_TEST(test_fa_denial)
{
	uint64_t id = registering();
	const struct ah_rep r = {.code = MIP_CODE_FA_LIFETIME,
				 .home_addr = ah_ip(AH_ALICE),
				 .home_agent = ah_ip(AH_HA),
				 .id = id};
	uint8_t m[128];

	/* No MN-FA key: an FA's denial needs no authenticator. */
	mn_from_reply(&mn, m, ah_build_reply(&r, m, sizeof(m)));
	ck_assert_uint_eq(mn.ctr.reg_denied, 1);
	ck_assert_int_eq(mn.state, MN_REGISTERING);
	ck_assert(ev_timer_armed(&mn.retx));
	/* An HA code without MN-HA is not believed. */
	const struct ah_rep h = {.code = MIP_CODE_HA_PROHIBITED,
				 .home_addr = ah_ip(AH_ALICE),
				 .home_agent = ah_ip(AH_HA),
				 .id = id};
	mn_from_reply(&mn, m, ah_build_reply(&h, m, sizeof(m)));
	ck_assert_uint_eq(mn.ctr.drop_reply_auth, 1);
	ck_assert_uint_eq(mn.ctr.reg_denied, 1);
}
END_TEST

/*
 * BUG (common/mip_msg.c, see test_fa.c test_denial_parses): with an MN-FA key
 * the node must accept a foreign agent's denial that carries a valid MN-FA
 * (RFC 5944 3.6.2.1, 3.7.2.3), but mip_reply_parse() refuses MN-FA without
 * MN-HA, so mn_from_reply() counts it as malformed and never sees the code.
 */
START_TEST(test_fa_denial_with_mn_fa)
{
	uint8_t m[256];
	struct buf b;

	mn_free(&mn);
	mcfg.fa_key = k_mnfa;
	mn_start();
	uint64_t id = registering();
	const struct mip_reg_reply rp = {.code = MIP_CODE_FA_LIFETIME,
					 .lifetime = 300,
					 .home_addr = ah_ip(AH_ALICE),
					 .home_agent = ah_ip(AH_HA),
					 .id = id};
	buf_init_write(&b, m, sizeof(m));
	ck_assert_int_eq(mip_reply_put(&b, &rp), 0);
	ck_assert_int_eq(mip_ext_put_nai(&b, AH_NAI_ALICE, strlen(AH_NAI_ALICE)), 0);
	ck_assert_int_eq(mip_ext_put_auth(&b, MIP_EXT_MN_FA_AUTH, k_mnfa.spi, k_mnfa.key, 16), 0);
	mn_from_reply(&mn, m, buf_used(&b));
	ck_assert_msg(mn.ctr.drop_malformed == 0, "FA denial with MN-FA dropped as malformed");
	ck_assert_uint_eq(mn.ctr.reg_denied, 1);
}
END_TEST

/* With an MN-FA key, an FA denial whose MN-FA does not verify, or that has none, is not believed.
 */
START_TEST(test_fa_denial_bad_mn_fa)
{
	struct mip_key wrong;

	mn_free(&mn);
	mcfg.fa_key = k_mnfa;
	wrong = k_mnfa;
	wrong.key[0] ^= 1;
	mn_start();
	uint64_t id = registering();
	for (int with_ext = 0; with_ext < 2; with_ext++) {
		const struct mip_reg_reply rp = {.code = MIP_CODE_FA_LIFETIME,
						 .lifetime = 300,
						 .home_addr = ah_ip(AH_ALICE),
						 .home_agent = ah_ip(AH_HA),
						 .id = id};
		uint8_t m[256];
		struct buf b;

		buf_init_write(&b, m, sizeof(m));
		ck_assert_int_eq(mip_reply_put(&b, &rp), 0);
		ck_assert_int_eq(mip_ext_put_nai(&b, AH_NAI_ALICE, strlen(AH_NAI_ALICE)), 0);
		if (with_ext)
			ck_assert_int_eq(
				mip_ext_put_auth(&b, MIP_EXT_MN_FA_AUTH, wrong.spi, wrong.key, 16),
				0);
		mn_from_reply(&mn, m, buf_used(&b));
		ck_assert_uint_eq(mn.ctr.drop_reply_auth, (uint64_t)with_ext + 1);
		ck_assert_uint_eq(mn.ctr.reg_denied, 0);
		ck_assert_int_eq(mn.state, MN_REGISTERING);
	}
}
END_TEST

START_TEST(test_link_down)
{
	registered();
	mn_link_event(&mn, false);
	ck_assert_int_eq(mn.state, MN_LINK_DOWN);
	ck_assert_uint_eq(mn.ctr.link_down_events, 1);
	ck_assert(!mn.agent.valid);
	ck_assert(!ev_timer_armed(&mn.retx));
	ck_assert(!ev_timer_armed(&mn.rereg));
	ck_assert(!ev_timer_armed(&mn.agent_expiry));
	ck_assert(!ev_timer_armed(&mn.solicit));
	hear(&fa2, FA2_MAC);
	uint8_t pkt[64];
	size_t len =
		ah_data_packet(ah_ip(AH_ALICE), ah_ip(AH_CN), 0, 0, 64, 1, 10, pkt, sizeof(pkt));
	mn_from_stack(&mn, pkt, len);
	ev_loop_advance(loop, 2 * SOLICIT_MS);
	ck_assert_uint_eq(cap.n, 0);
	ck_assert_int_eq(mn.state, MN_LINK_DOWN);
	ck_assert_uint_eq(mn.ctr.advertisements, 1);
	ck_assert_uint_eq(mn.ctr.drop_unregistered, 1);
	/* Back up: a solicitation at once. */
	mn_link_event(&mn, true);
	ck_assert_int_eq(mn.state, MN_SOLICITING);
	ck_assert_uint_eq(cap.n, 1);
}
END_TEST

START_TEST(test_from_stack)
{
	uint8_t pkt[128];
	size_t len = ah_data_packet(ah_ip(AH_ALICE), ah_ip(AH_CN), 0, IP4_DF, 64, 7, 60, pkt,
				    sizeof(pkt));

	mn_link_event(&mn, true);
	ah_cap_reset(&cap);
	mn_from_stack(&mn, pkt, len); /* soliciting */
	ck_assert_uint_eq(mn.ctr.drop_unregistered, 1);
	hear(&fa1, FA1_MAC);
	ah_cap_reset(&cap);
	mn_from_stack(&mn, pkt, len); /* registering */
	ck_assert_uint_eq(mn.ctr.drop_unregistered, 2);
	ck_assert_uint_eq(cap.n, 0);
	reply(MIP_CODE_ACCEPTED, 300, mn.req_id);
	ck_assert_int_eq(mn.state, MN_REGISTERED);
	mn_from_stack(&mn, pkt, len);
	ck_assert_uint_eq(cap.n, 1);
	const struct ah_pkt *p = ah_cap_last(&cap, AH_LINK);
	ck_assert_mem_eq(p->mac, FA1_MAC, 6);
	ck_assert_uint_eq(p->len, len);
	ck_assert_mem_eq(p->d, pkt, len);
	ck_assert_uint_eq(mn.ctr.packets_out, 1);
}
END_TEST

START_TEST(test_shutdown_registered)
{
	struct mip_reg_request rq;
	const uint8_t *msg;

	registered();
	uint64_t id = mn.req_id;
	mn_shutdown(&mn);
	ck_assert_int_eq(mn.state, MN_DEREGISTERING);
	ck_assert_uint_eq(cap.stopped, 0);
	last_request(FA1_MAC, AH_ALIAS1, &rq, &msg);
	ck_assert_uint_eq(rq.lifetime, 0);
	ck_assert_uint_eq(rq.coa.s_addr, ah_ip(AH_COA1).s_addr);
	ck_assert_uint_gt(rq.id, id);
	ck_assert_int_eq(mip_auth_check(msg, &rq.ext.mn_ha, &k_alice), MIP_AUTH_OK);
	/* Carrier changes no longer matter. */
	mn_link_event(&mn, false);
	ck_assert_int_eq(mn.state, MN_DEREGISTERING);
	reply(MIP_CODE_ACCEPTED, 0, rq.id);
	ck_assert_int_eq(mn.state, MN_STOPPED);
	ck_assert_uint_eq(cap.stopped, 1);
	ck_assert_uint_eq(mn.ctr.deregistrations, 1);
	ck_assert(!ev_timer_armed(&mn.retx));
	/*
	 * BUG: mn_accepted() (mn/mn_reg.c) does not stop stop_timer, so
	 * mn_on_stop_timer() runs 1 s later and calls ops.stopped a second
	 * time ("no reply to the deregistration" although there was one).
	 */
	ev_loop_advance(loop, 1100);
	ck_assert_msg(cap.stopped == 1, "ops.stopped called %u times", cap.stopped);
	ck_assert_int_eq(mn.state, MN_STOPPED);
	ck_assert_uint_eq(cap.n, 1);
}
END_TEST

START_TEST(test_shutdown_unregistered)
{
	mn_link_event(&mn, true);
	ah_cap_reset(&cap);
	mn_shutdown(&mn);
	ck_assert_int_eq(mn.state, MN_STOPPED);
	ck_assert_uint_eq(cap.stopped, 1);
	ck_assert_uint_eq(cap.n, 0);
	/* And a deregistration nobody answers ends after 1 s. */
	mn_free(&mn);
	mn_start();
	registered();
	mn_shutdown(&mn);
	ck_assert_int_eq(mn.state, MN_DEREGISTERING);
	ev_loop_advance(loop, 999);
	ck_assert_int_eq(mn.state, MN_DEREGISTERING);
	/* retransmitted at 100, 300, 600 and 900 ms; given up at 1 s */
	ck_assert_uint_eq(mn.ctr.reg_retransmits, 4);
	ev_loop_advance(loop, 1);
	ck_assert_int_eq(mn.state, MN_STOPPED);
	ck_assert_uint_eq(cap.stopped, 1);
}
END_TEST

static Suite *mn_suite(void)
{
	Suite *s = suite_create("mn");
	TCase *tc = tcase_create("mn");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 10);
	tcase_add_test(tc, test_link_up_solicits);
	tcase_add_test(tc, test_adv_registers);
	tcase_add_test(tc, test_accepted);
	tcase_add_test(tc, test_renewal);
	tcase_add_test(tc, test_movement);
	tcase_add_test(tc, test_agent_reboot_and_loss);
	tcase_add_test(tc, test_retransmit);
	tcase_add_test(tc, test_id_wall_clock_steps);
	tcase_add_test(tc, test_id_mismatch_ha_ahead);
	tcase_add_test(tc, test_id_mismatch_ha_behind);
	tcase_add_test(tc, test_reply_ignored_table);
	tcase_add_test(tc, test_fa_denial);
	tcase_add_test(tc, test_fa_denial_with_mn_fa);
	tcase_add_test(tc, test_fa_denial_bad_mn_fa);
	tcase_add_test(tc, test_link_down);
	tcase_add_test(tc, test_from_stack);
	tcase_add_test(tc, test_shutdown_registered);
	tcase_add_test(tc, test_shutdown_unregistered);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_main(mn_suite());
}
