/*
 * End-to-end, in one process: a mobile node, two foreign agents and a home
 * agent wired together in memory, one message at a time, like strongSwan's
 * two-peer tests.  After every message the test checks what each party
 * holds: the HA's binding, both FAs' visitor lists, the node's state.
 *
 *   MN to_link      -> fa_from_link (the FA of the link the node is on)
 *   FA to_ha        -> ha_process_request -> fa_from_ha
 *   FA to_link      -> mn_from_link (ICMP) or mn_from_reply (UDP payload)
 *   CN -> MN data   -> ha_tunnel_out -> fa_from_tunnel -> the node's MAC
 *   MN -> CN data   -> mn_from_stack -> fa_from_visitor -> ha_tunnel_in
 */
#include "agent_harness.h"
#include "check_main.h"
#include "fa.h"
#include "ha.h"
#include "log.h"
#include "mip_ident.h"
#include "mn.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t MN_MAC[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t FA1_MAC[6] = {0x02, 0, 0, 0, 0, 0xa1};
static const uint8_t FA2_MAC[6] = {0x02, 0, 0, 0, 0, 0xa2};

enum vstate { V_NONE, V_PENDING, V_ACTIVE, V_ACTIVE_PENDING };

static struct mip_key k_alice, k_fa1, k_fa2, k_mnfa;
static struct ev_loop *loop;
static struct ha ha;
static struct ha_mn ha_mns[1];
static struct ha_fa_key ha_fas[2];
static struct fa fa1, fa2;
static struct fa_peer_key fa1_has[1], fa2_has[1], fa_mns[1];
static struct mn mn;
static struct ah_cap mncap, fa1cap, fa2cap;
static unsigned ups, downs;
static uint8_t ha_reply[512]; /* the HA's reply on its way to an FA */
static size_t ha_reply_len;
static struct ah_pkt msg; /* the message being delivered */

static void on_up(void *arg, const struct ha_mn *m)
{
	(void)arg;
	(void)m;
	ups++;
}

static void on_down(void *arg, const struct ha_mn *m)
{
	(void)arg;
	(void)m;
	downs++;
}

static void fa_start(struct fa *f, struct ah_cap *c, const char *alias, const char *coa,
		     struct fa_peer_key *has)
{
	const struct fa_config cfg = {.alias = ah_ip(alias),
				      .alias_plen = 24,
				      .coa = ah_ip(coa),
				      .adv_lifetime = 9,
				      .max_lifetime = 300,
				      .pending_timeout_ms = 7000,
				      .max_visitors = 8,
				      .reverse_tunnel = true,
				      .require_mn_auth = true,
				      .require_ha_auth = true,
				      .has = has,
				      .n_has = 1,
				      .mns = fa_mns,
				      .n_mns = 1};
	const struct fa_ops ops = {.to_link = ah_on_link,
				   .to_ha = ah_on_ha,
				   .to_tunnel = ah_on_tunnel,
				   .to_forward = ah_on_forward,
				   .arg = c};

	ah_cap_reset(c);
	ck_assert_int_eq(fa_init(f, &cfg, &ops), 0);
}

static void setup(void)
{
	k_alice = ah_key(AH_SPI_ALICE, AH_SEED_ALICE);
	k_fa1 = ah_key(AH_SPI_FA_HA, AH_SEED_FA_HA);
	k_fa2 = ah_key(AH_SPI_FA_HA + 1, 0x66);
	k_mnfa = ah_key(AH_SPI_MN_FA, AH_SEED_MN_FA);
	loop = ev_loop_new_virtual(AH_START_MS);
	ck_assert_ptr_nonnull(loop);

	memset(ha_mns, 0, sizeof(ha_mns));
	strcpy(ha_mns[0].nai, AH_NAI_ALICE);
	ha_mns[0].nai_len = strlen(AH_NAI_ALICE);
	ha_mns[0].home_addr = ah_ip(AH_ALICE);
	ha_mns[0].key = k_alice;
	ha_fas[0] = (struct ha_fa_key){.addr = ah_ip(AH_COA1), .key = k_fa1};
	ha_fas[1] = (struct ha_fa_key){.addr = ah_ip(AH_COA2), .key = k_fa2};
	const struct ha_config hc = {.address = ah_ip(AH_HA),
				     .max_lifetime = 1800,
				     .tolerance_s = MIP_IDENT_TOLERANCE,
				     .require_fa_auth = true,
				     .reverse_tunnel = true,
				     .mns = ha_mns,
				     .n_mns = 1,
				     .fas = ha_fas,
				     .n_fas = 2};
	const struct ha_ops hops = {.binding_up = on_up, .binding_down = on_down};
	ups = downs = 0;
	ck_assert_int_eq(ha_init(&ha, &hc, &hops), 0);

	fa1_has[0] = (struct fa_peer_key){.addr = ah_ip(AH_HA), .key = k_fa1};
	fa2_has[0] = (struct fa_peer_key){.addr = ah_ip(AH_HA), .key = k_fa2};
	fa_mns[0] = (struct fa_peer_key){.addr = ah_ip(AH_ALICE), .key = k_mnfa};
	fa_start(&fa1, &fa1cap, AH_ALIAS1, AH_COA1, fa1_has);
	fa_start(&fa2, &fa2cap, AH_ALIAS2, AH_COA2, fa2_has);

	struct mn_config mc = {.home_addr = ah_ip(AH_ALICE),
			       .home_agent = ah_ip(AH_HA),
			       .ha_key = k_alice,
			       .fa_key = k_mnfa,
			       .lifetime = 600,
			       .reverse_tunnel = true,
			       .reg_retry_ms = 100,
			       .reg_retry_max_ms = 800,
			       .solicit_retry_ms = 1000};
	strcpy(mc.nai, AH_NAI_ALICE);
	const struct mn_ops mops = {.to_link = ah_on_link, .stopped = ah_on_stopped, .arg = &mncap};
	ah_cap_reset(&mncap);
	mn_init(&mn, loop, &mc, &mops, false);
	ha_reply_len = 0;
}

static void teardown(void)
{
	mn_free(&mn);
	fa_free(&fa1);
	fa_free(&fa2);
	ha_free(&ha);
	ev_loop_free(loop);
}

/* Take the one packet c holds (of kind k) into msg. */
static void take(struct ah_cap *c, enum ah_kind k)
{
	ck_assert_uint_eq(c->n, 1);
	ck_assert_int_eq(c->p[0].kind, k);
	msg = c->p[0];
	ah_cap_reset(c);
}

static void mn_to_fa(struct fa *f)
{
	take(&mncap, AH_LINK);
	fa_from_link(f, MN_MAC, msg.d, msg.len, ev_loop_now_ms(loop));
}

static void fa_to_ha(struct fa *f, struct ah_cap *c)
{
	take(c, AH_HA_MSG);
	ck_assert_uint_eq(msg.to.s_addr, ah_ip(AH_HA).s_addr);
	/* The agents' clocks are the node's: one loop. */
	ha_reply_len =
		ha_process_request(&ha, msg.d, msg.len, f->cfg.coa, ev_loop_now_ms(loop),
				   mip_ident_at(ev_loop_wall_us(loop)), ha_reply, sizeof(ha_reply));
	ck_assert_uint_gt(ha_reply_len, 0);
}

static void ha_to_fa(struct fa *f)
{
	ck_assert_uint_gt(ha_reply_len, 0);
	fa_from_ha(f, ah_ip(AH_HA), ha_reply, ha_reply_len, ev_loop_now_ms(loop));
	ha_reply_len = 0;
}

static void fa_to_mn(struct ah_cap *c, const uint8_t *fa_mac)
{
	struct ah_udp u;

	take(c, AH_LINK);
	if (msg.len > 9 && msg.d[9] == IP4_PROTO_ICMP) {
		mn_from_link(&mn, fa_mac, msg.d, msg.len);
		return;
	}
	ck_assert_mem_eq(msg.mac, MN_MAC, 6);
	ck_assert(ah_udp_unwrap(msg.d, msg.len, &u));
	ck_assert_uint_eq(u.ip.dst.s_addr, ah_ip(AH_ALICE).s_addr);
	ck_assert_uint_eq(u.sport, MIP_PORT);
	ck_assert_uint_eq(u.dport, MIP_PORT);
	mn_from_reply(&mn, u.msg, u.len);
}

static enum vstate visitor(struct fa *f)
{
	struct fa_visitor *v = fa_find_visitor(f, ah_ip(AH_ALICE));

	if (v == NULL)
		return V_NONE;
	if (v->active)
		return v->pending.active ? V_ACTIVE_PENDING : V_ACTIVE;
	ck_assert(v->pending.active);
	return V_PENDING;
}

/* What every party holds now; ha_coa NULL for no binding. */
static void expect(int step, enum mn_state ms, const char *ha_coa, enum vstate v1, enum vstate v2)
{
	ck_assert_msg(mn.state == ms, "step %d: node %s, want %s", step, mn_state_name(mn.state),
		      mn_state_name(ms));
	ck_assert_msg(ha_mns[0].b.active == (ha_coa != NULL), "step %d: binding", step);
	if (ha_coa != NULL)
		ck_assert_msg(ha_mns[0].b.coa.s_addr == ah_ip(ha_coa).s_addr,
			      "step %d: binding to %s, want %s", step, IP4_STR(ha_mns[0].b.coa),
			      ha_coa);
	ck_assert_msg(visitor(&fa1) == v1, "step %d: fa1 visitor %d, want %d", step, visitor(&fa1),
		      v1);
	ck_assert_msg(visitor(&fa2) == v2, "step %d: fa2 visitor %d, want %d", step, visitor(&fa2),
		      v2);
}

/* Link up on fa1's link, and register there, checking every message. */
static void register_via_fa1(void)
{
	expect(0, MN_LINK_DOWN, NULL, V_NONE, V_NONE);
	mn_link_event(&mn, true); /* solicitation */
	expect(1, MN_SOLICITING, NULL, V_NONE, V_NONE);
	mn_to_fa(&fa1); /* advertisement */
	ck_assert_uint_eq(fa1.ctr.solicitations, 1);
	expect(2, MN_SOLICITING, NULL, V_NONE, V_NONE);
	fa_to_mn(&fa1cap, FA1_MAC); /* request */
	expect(3, MN_REGISTERING, NULL, V_NONE, V_NONE);
	ck_assert_uint_eq(mn.agent.coa.s_addr, ah_ip(AH_COA1).s_addr);
	mn_to_fa(&fa1); /* relayed */
	expect(4, MN_REGISTERING, NULL, V_PENDING, V_NONE);
	fa_to_ha(&fa1, &fa1cap); /* reply */
	expect(5, MN_REGISTERING, AH_COA1, V_PENDING, V_NONE);
	ck_assert_uint_eq(ups, 1);
	ck_assert(ha_mns[0].b.reverse_tunnel);
	ha_to_fa(&fa1); /* relayed reply */
	expect(6, MN_REGISTERING, AH_COA1, V_ACTIVE, V_NONE);
	fa_to_mn(&fa1cap, FA1_MAC);
	expect(7, MN_REGISTERED, AH_COA1, V_ACTIVE, V_NONE);
	ck_assert_uint_eq(mn.reg_coa.s_addr, ah_ip(AH_COA1).s_addr);
	ck_assert_uint_eq(mn.reg_lifetime, 300);
	ck_assert_uint_eq(fa_find_visitor(&fa1, ah_ip(AH_ALICE))->lifetime, 300);
	ck_assert_uint_eq(ha_mns[0].b.lifetime, 300);
	ck_assert_uint_eq(mncap.n + fa1cap.n + fa2cap.n, 0);
}

/* CN -> MN through the HA's tunnel and the FA with care-of address coa. */
static void data_down(struct fa *f, struct ah_cap *c, const char *coa)
{
	uint8_t pkt[200], tun[300];
	struct ip4_hdr o;
	struct buf in;
	size_t len = ah_data_packet(ah_ip(AH_CN), ah_ip(AH_ALICE), 0, IP4_DF, 60, 42, 80, pkt,
				    sizeof(pkt));
	size_t tl = ha_tunnel_out(&ha, pkt, len, tun, sizeof(tun));

	ck_assert_uint_eq(tl, len + IP4_HDR_LEN);
	ck_assert_int_eq(ip4_parse(tun, tl, &o, &in), IP4_OK);
	ck_assert_uint_eq(o.dst.s_addr, ah_ip(coa).s_addr);
	fa_from_tunnel(f, tun, tl);
	take(c, AH_LINK);
	ck_assert_mem_eq(msg.mac, MN_MAC, 6);
	ck_assert_uint_eq(msg.len, len);
	ck_assert_uint_eq(msg.d[8], 59);
	ck_assert_uint_eq(inet_cksum(msg.d, IP4_HDR_LEN), 0);
	ck_assert_mem_eq(msg.d + IP4_HDR_LEN, pkt + IP4_HDR_LEN, len - IP4_HDR_LEN);
}

/* MN -> CN through the node's agent f, reverse-tunnelled to the HA. */
static void data_up(struct fa *f, struct ah_cap *c, const uint8_t *fa_mac)
{
	uint8_t pkt[200];
	const uint8_t *inner;
	size_t inner_len;
	size_t len =
		ah_data_packet(ah_ip(AH_ALICE), ah_ip(AH_CN), 0, 0, 64, 43, 70, pkt, sizeof(pkt));

	mn_from_stack(&mn, pkt, len);
	take(&mncap, AH_LINK);
	ck_assert_mem_eq(msg.mac, fa_mac, 6);
	fa_from_visitor(f, msg.d, msg.len);
	take(c, AH_TUNNEL);
	ck_assert_int_eq(ha_tunnel_in(&ha, msg.d, msg.len, &inner, &inner_len), 0);
	ck_assert_uint_eq(inner_len, len);
	ck_assert_mem_eq(inner, pkt, len);
}

START_TEST(test_register_handover_deregister)
{
	register_via_fa1();
	data_down(&fa1, &fa1cap, AH_COA1);
	data_up(&fa1, &fa1cap, FA1_MAC);
	ck_assert_uint_eq(ha.ctr.tunnel_out_packets, 1);
	ck_assert_uint_eq(ha.ctr.tunnel_in_packets, 1);

	/* The node hears fa2: a new care-of address, so a new registration. */
	fa_advertise(&fa2);
	fa_to_mn(&fa2cap, FA2_MAC);
	expect(8, MN_REGISTERING, AH_COA1, V_ACTIVE, V_NONE);
	ck_assert_uint_eq(mn.ctr.agent_changes, 1);
	ck_assert_uint_eq(mn.agent.coa.s_addr, ah_ip(AH_COA2).s_addr);
	mn_to_fa(&fa2);
	expect(9, MN_REGISTERING, AH_COA1, V_ACTIVE, V_PENDING);
	fa_to_ha(&fa2, &fa2cap);
	expect(10, MN_REGISTERING, AH_COA2, V_ACTIVE, V_PENDING);
	ck_assert_uint_eq(ups, 1); /* moved, not a new binding */
	ck_assert_uint_eq(ha_mns[0].b.registrations, 2);
	ck_assert_uint_eq(ha_mns[0].b.reg_src.s_addr, ah_ip(AH_COA2).s_addr);
	ha_to_fa(&fa2);
	expect(11, MN_REGISTERING, AH_COA2, V_ACTIVE, V_ACTIVE);
	fa_to_mn(&fa2cap, FA2_MAC);
	expect(12, MN_REGISTERED, AH_COA2, V_ACTIVE, V_ACTIVE);
	ck_assert_uint_eq(mn.reg_coa.s_addr, ah_ip(AH_COA2).s_addr);

	/* Data now flows through fa2; fa1's stale tunnel gets nothing home. */
	data_down(&fa2, &fa2cap, AH_COA2);
	data_up(&fa2, &fa2cap, FA2_MAC);
	uint8_t pkt[100];
	const uint8_t *inner;
	size_t inner_len;
	size_t len =
		ah_data_packet(ah_ip(AH_ALICE), ah_ip(AH_CN), 0, 0, 64, 44, 30, pkt, sizeof(pkt));
	fa_from_visitor(&fa1, pkt, len); /* fa1 still thinks the node is there */
	take(&fa1cap, AH_TUNNEL);
	ck_assert_int_eq(ha_tunnel_in(&ha, msg.d, msg.len, &inner, &inner_len), -1);
	ck_assert_uint_eq(ha.ctr.drop_tunnel_source, 1);

	/* fa1 forgets the node when its registration runs out. */
	fa_expire(&fa1, ev_loop_now_ms(loop) + 301000);
	expect(13, MN_REGISTERED, AH_COA2, V_NONE, V_ACTIVE);
	ck_assert_uint_eq(fa1.ctr.visitors_expired, 1);

	/* Deregistration through fa2. */
	mn_shutdown(&mn);
	expect(14, MN_DEREGISTERING, AH_COA2, V_NONE, V_ACTIVE);
	mn_to_fa(&fa2);
	expect(15, MN_DEREGISTERING, AH_COA2, V_NONE, V_ACTIVE_PENDING);
	fa_to_ha(&fa2, &fa2cap);
	expect(16, MN_DEREGISTERING, NULL, V_NONE, V_ACTIVE_PENDING);
	ck_assert_uint_eq(downs, 1);
	ha_to_fa(&fa2);
	expect(17, MN_DEREGISTERING, NULL, V_NONE, V_NONE);
	fa_to_mn(&fa2cap, FA2_MAC);
	expect(18, MN_STOPPED, NULL, V_NONE, V_NONE);
	ck_assert_uint_eq(mncap.stopped, 1);
	ck_assert_uint_eq(ha.ctr.deregistrations, 1);
	ck_assert_uint_eq(fa2.ctr.deregistrations, 1);
	/* Nothing left to tunnel to. */
	uint8_t tun[200];
	len = ah_data_packet(ah_ip(AH_CN), ah_ip(AH_ALICE), 0, 0, 64, 45, 30, pkt, sizeof(pkt));
	ck_assert_uint_eq(ha_tunnel_out(&ha, pkt, len, tun, sizeof(tun)), 0);
}
END_TEST

START_TEST(test_lost_reply_retransmitted)
{
	expect(0, MN_LINK_DOWN, NULL, V_NONE, V_NONE);
	mn_link_event(&mn, true);
	mn_to_fa(&fa1);
	fa_to_mn(&fa1cap, FA1_MAC);
	uint64_t id0 = mn.req_id;
	mn_to_fa(&fa1);
	fa_to_ha(&fa1, &fa1cap);
	expect(1, MN_REGISTERING, AH_COA1, V_PENDING, V_NONE);
	/* The HA's reply is lost; keep it to deliver late. */
	uint8_t late[512];
	size_t late_len = ha_reply_len;
	memcpy(late, ha_reply, late_len);
	ha_reply_len = 0;

	ev_loop_advance(loop, 150); /* the retransmission, with a new Identification */
	ck_assert_uint_eq(mn.ctr.reg_retransmits, 1);
	ck_assert_uint_gt(mn.req_id, id0);
	mn_to_fa(&fa1);
	expect(2, MN_REGISTERING, AH_COA1, V_PENDING, V_NONE);
	ck_assert_uint_eq(fa_find_visitor(&fa1, ah_ip(AH_ALICE))->pending.id, mn.req_id);
	fa_to_ha(&fa1, &fa1cap); /* not a replay: accepted again */
	ck_assert_uint_eq(ha.ctr.reg_accepted, 2);
	ck_assert_uint_eq(ha.ctr.deny_identification, 0);
	ck_assert_uint_eq(ha_mns[0].last_id, mn.req_id);

	/* The late reply matches nothing at the FA any more. */
	fa_from_ha(&fa1, ah_ip(AH_HA), late, late_len, ev_loop_now_ms(loop));
	ck_assert_uint_eq(fa1.ctr.drop_reply_no_pending, 1);
	ck_assert_uint_eq(fa1cap.n, 0);

	ha_to_fa(&fa1);
	expect(3, MN_REGISTERING, AH_COA1, V_ACTIVE, V_NONE);
	fa_to_mn(&fa1cap, FA1_MAC);
	expect(4, MN_REGISTERED, AH_COA1, V_ACTIVE, V_NONE);
	ck_assert_uint_eq(ups, 1);
}
END_TEST

START_TEST(test_link_flap_reregisters)
{
	register_via_fa1();
	/* The node loses its link and comes back on fa2's. */
	mn_link_event(&mn, false);
	expect(1, MN_LINK_DOWN, AH_COA1, V_ACTIVE, V_NONE);
	ck_assert_uint_eq(mncap.n, 0);
	mn_link_event(&mn, true);
	mn_to_fa(&fa2);
	fa_to_mn(&fa2cap, FA2_MAC);
	expect(2, MN_REGISTERING, AH_COA1, V_ACTIVE, V_NONE);
	mn_to_fa(&fa2);
	fa_to_ha(&fa2, &fa2cap);
	ha_to_fa(&fa2);
	fa_to_mn(&fa2cap, FA2_MAC);
	expect(3, MN_REGISTERED, AH_COA2, V_ACTIVE, V_ACTIVE);
	data_down(&fa2, &fa2cap, AH_COA2);
	data_up(&fa2, &fa2cap, FA2_MAC);
}
END_TEST

static Suite *e2e_suite(void)
{
	Suite *s = suite_create("mip_e2e");
	TCase *tc = tcase_create("e2e");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_register_handover_deregister);
	tcase_add_test(tc, test_lost_reply_retransmitted);
	tcase_add_test(tc, test_link_flap_reregisters);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_main(e2e_suite());
}
