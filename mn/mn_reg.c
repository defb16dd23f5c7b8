/*
 * Mobile node state machine.  Movement detection follows RFC 5944 2.4.2:
 * a new care-of address in an advertisement means a new agent, and so a
 * new registration; an advertisement lifetime running out means the agent
 * is gone.  Carrier returning on our link sends a solicitation at once.
 */
#include "ip4.h"
#include "log.h"
#include "mip_adv.h"
#include "mip_ident.h"
#include "mn.h"

#include <string.h>

#define MN_STOP_WAIT_MS 1000

static void mn_on_stop_timer(struct ev_loop *loop, struct ev_timer *t, void *arg);

const char *mn_state_name(enum mn_state s)
{
	static const char *const names[MN_STATE_MAX] = {
		[MN_LINK_DOWN] = "link-down",   [MN_SOLICITING] = "soliciting",
		[MN_SECURING] = "securing",     [MN_REGISTERING] = "registering",
		[MN_REGISTERED] = "registered", [MN_DEREGISTERING] = "deregistering",
		[MN_STOPPED] = "stopped",
	};
	return s < MN_STATE_MAX ? names[s] : "?";
}

static void mn_set_state(struct mn *mn, enum mn_state next, const char *why)
{
	if (mn->state == next)
		return;
	log_info("%s -> %s (%s)", mn_state_name(mn->state), mn_state_name(next), why);
	mn->state = next;
}

static void mn_send_solicitation(struct mn *mn)
{
	/* 224.0.0.11, all mobility agents (RFC 5944 2.4) */
	static const uint8_t agents_mac[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x0b};
	struct in_addr agents = {.s_addr = htonl(0xe000000b)};
	uint8_t icmp[8], pkt[64];
	struct buf bi, bp;

	buf_init_write(&bi, icmp, sizeof(icmp));
	buf_init_write(&bp, pkt, sizeof(pkt));
	if (mip_sol_put(&bi) < 0 ||
	    ip4_icmp_put(&bp, mn->cfg.home_addr, agents, 1, icmp, buf_used(&bi)) < 0)
		return;
	mn->ctr.solicitations_sent++;
	log_debug("agent solicitation sent");
	mn_to_link(mn, agents_mac, MN_OUT_SOLICIT, pkt, buf_used(&bp));
	ev_timer_start(mn->loop, &mn->solicit, mn->cfg.solicit_retry_ms);
}

static void mn_on_solicit_timer(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct mn *mn = arg;

	if (mn->state == MN_SOLICITING)
		mn_send_solicitation(mn);
}

/* Build and send a Registration Request for lifetime through the current agent. */
static int mn_send_request(struct mn *mn, uint16_t lifetime)
{
	struct mip_reg_request rq = {
		.flags = mn->cfg.reverse_tunnel ? MIP_RQ_T : 0,
		.lifetime = lifetime,
		.home_addr = mn->cfg.home_addr,
		.home_agent = mn->cfg.home_agent,
		.coa = mn->agent.coa,
		.id = mn->req_id,
	};
	uint8_t msg[512], pkt[600];
	struct buf bm, bp;
	size_t nai_len = strlen(mn->cfg.nai);

	buf_init_write(&bm, msg, sizeof(msg));
	buf_init_write(&bp, pkt, sizeof(pkt));
	/* RFC 5944 3.6.1.3 order: NAI, MN-HA, then what the FA reads (MN-FA). */
	if (mip_request_put(&bm, &rq) < 0 ||
	    (nai_len > 0 && mip_ext_put_nai(&bm, mn->cfg.nai, nai_len) < 0) ||
	    mip_ext_put_auth(&bm, MIP_EXT_MN_HA_AUTH, mn->cfg.ha_key.spi, mn->cfg.ha_key.key,
			     mn->cfg.ha_key.len) < 0 ||
	    (mn->guard.extend != NULL && mn->guard.extend(mn->guard.arg, &bm) < 0) ||
	    (mn->cfg.fa_key.len > 0 &&
	     mip_ext_put_auth(&bm, MIP_EXT_MN_FA_AUTH, mn->cfg.fa_key.spi, mn->cfg.fa_key.key,
			      mn->cfg.fa_key.len) < 0) ||
	    ip4_udp_put(&bp, mn->cfg.home_addr, mn->agent.addr, MIP_PORT, MIP_PORT, 64, msg,
			buf_used(&bm)) < 0) {
		log_err("cannot build a registration request");
		return -1;
	}
	mn->ctr.reg_sent++;
	mn->req_sent_ms = ev_loop_now_ms(mn->loop);
	mn_to_link(mn, mn->agent.mac, MN_OUT_REQUEST, pkt, buf_used(&bp));
	ev_timer_start(mn->loop, &mn->retx, mn->retry_ms);
	return 0;
}

/* Every request carries a later Identification than any before it (RFC 5944 5.7.1). */
static void mn_new_id(struct mn *mn)
{
	mn->req_id = mip_ident_next(ev_loop_wall_us(mn->loop), mn->last_id, mn->clock_offset_s);
	mn->last_id = mn->req_id;
}

/* A fresh registration (new Identification) with the current agent. */
static void mn_register(struct mn *mn, uint16_t lifetime, const char *why)
{
	mn_new_id(mn);
	mn->req_lifetime = lifetime;
	mn->retry_ms = mn->cfg.reg_retry_ms;
	ev_timer_stop(mn->loop, &mn->rereg);
	if (lifetime == 0)
		mn_set_state(mn, MN_DEREGISTERING, why);
	else
		mn_set_state(mn, MN_REGISTERING, why);
	mn_send_request(mn, lifetime);
}

static uint16_t mn_wanted_lifetime(const struct mn *mn)
{
	uint16_t l = mn->cfg.lifetime;

	return mn->agent.max_lifetime != 0 && mn->agent.max_lifetime < l ? mn->agent.max_lifetime
									 : l;
}

static void mn_on_retx(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct mn *mn = arg;

	if (mn->state != MN_REGISTERING && mn->state != MN_DEREGISTERING)
		return;
	/* Back off exponentially up to the ceiling (RFC 5944 3.6.3). */
	mn->retry_ms = mn->retry_ms * 2 > mn->cfg.reg_retry_max_ms ? mn->cfg.reg_retry_max_ms
								   : mn->retry_ms * 2;
	mn->ctr.reg_retransmits++;
	log_info("no reply to registration, retransmitting (next try in %u ms)", mn->retry_ms);
	/*
	 * A new Identification each time: if the home agent accepted the last
	 * one and only the reply was lost, the same one again would be a replay.
	 */
	mn_new_id(mn);
	mn_send_request(mn, mn->req_lifetime);
}

static void mn_on_rereg(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct mn *mn = arg;

	if (mn->state == MN_REGISTERED)
		mn_register(mn, mn_wanted_lifetime(mn), "lifetime running out");
}

static void mn_agent_lost(struct mn *mn, const char *why)
{
	mn->agent.valid = false;
	ev_timer_stop(mn->loop, &mn->retx);
	ev_timer_stop(mn->loop, &mn->rereg);
	ev_timer_stop(mn->loop, &mn->agent_expiry);
	if (mn->state == MN_LINK_DOWN || mn->state == MN_STOPPED)
		return;
	mn_set_state(mn, MN_SOLICITING, why);
	mn_send_solicitation(mn);
}

static void mn_on_agent_expiry(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct mn *mn = arg;

	mn->ctr.agent_lost++;
	mn_agent_lost(mn, "advertisement lifetime expired");
}

void mn_init(struct mn *mn, struct ev_loop *loop, const struct mn_config *cfg,
	     const struct mn_ops *ops, bool link_up)
{
	memset(mn, 0, sizeof(*mn));
	mn->cfg = *cfg;
	mn->ops = *ops;
	mn->loop = loop;
	mn->state = MN_LINK_DOWN;
	ev_timer_init(&mn->retx, mn_on_retx, mn);
	ev_timer_init(&mn->rereg, mn_on_rereg, mn);
	ev_timer_init(&mn->agent_expiry, mn_on_agent_expiry, mn);
	ev_timer_init(&mn->solicit, mn_on_solicit_timer, mn);
	ev_timer_init(&mn->stop_timer, mn_on_stop_timer, mn);
	if (link_up)
		mn_link_event(mn, true);
}

void mn_free(struct mn *mn)
{
	ev_timer_stop(mn->loop, &mn->retx);
	ev_timer_stop(mn->loop, &mn->rereg);
	ev_timer_stop(mn->loop, &mn->agent_expiry);
	ev_timer_stop(mn->loop, &mn->solicit);
	ev_timer_stop(mn->loop, &mn->stop_timer);
	mip_key_wipe(&mn->cfg.ha_key);
	mip_key_wipe(&mn->cfg.fa_key);
}

void mn_link_event(struct mn *mn, bool up)
{
	if (mn->state == MN_STOPPED || mn->state == MN_DEREGISTERING)
		return;
	if (!up) {
		if (mn->state == MN_LINK_DOWN)
			return;
		mn->ctr.link_down_events++;
		mn_set_state(mn, MN_LINK_DOWN, "carrier lost");
		mn->agent.valid = false;
		ev_timer_stop(mn->loop, &mn->retx);
		ev_timer_stop(mn->loop, &mn->rereg);
		ev_timer_stop(mn->loop, &mn->agent_expiry);
		ev_timer_stop(mn->loop, &mn->solicit);
		return;
	}
	if (mn->state != MN_LINK_DOWN)
		return;
	mn->ctr.link_up_events++;
	mn->link_up_us = ev_loop_now_us(mn->loop);
	mn_set_state(mn, MN_SOLICITING, "carrier up");
	/* Do not wait for the next periodic advertisement: ask now. */
	mn_send_solicitation(mn);
}

/* RFC 5944 2.4.2: has this advertisement moved us to another agent? */
static bool mn_agent_changed(const struct mn *mn, const struct mip_agent_adv *adv)
{
	if (!mn->agent.valid)
		return true;
	if (mn->agent.coa.s_addr != adv->coa[0].s_addr)
		return true;
	/* RFC 5944 2.3.1: a sequence number below 256 after a higher one is a reboot. */
	return adv->seq < 256 && adv->seq < mn->agent.seq;
}

/* Give up on this agent for now; its next advertisement (not a solicitation) retries. */
static void mn_agent_refused(struct mn *mn, const char *why)
{
	mn->ctr.secure_failures++;
	mn->agent.valid = false;
	ev_timer_stop(mn->loop, &mn->retx);
	ev_timer_stop(mn->loop, &mn->agent_expiry);
	mn_set_state(mn, MN_SOLICITING, why);
	ev_timer_start(mn->loop, &mn->solicit, mn->cfg.solicit_retry_ms);
}

/* A new (or re-heard) agent: secure the link to it if asked to, then register. */
static void mn_attach(struct mn *mn, bool changed)
{
	const char *why = changed ? "new care-of address" : "agent heard";
	int r = mn->guard.secure ? mn->guard.secure(mn->guard.arg, &mn->agent, changed) : 1;

	ev_timer_stop(mn->loop, &mn->retx);
	if (r > 0) {
		mn_register(mn, mn_wanted_lifetime(mn), why);
	} else if (r == 0) {
		mn_set_state(mn, MN_SECURING, why);
	} else {
		mn_agent_refused(mn, "agent refused by IPsec policy");
	}
}

void mn_secure_done(struct mn *mn, bool ok)
{
	if (mn->state != MN_SECURING)
		return;
	if (ok) {
		mn_register(mn, mn_wanted_lifetime(mn), "IPsec SAs up");
		return;
	}
	mn_agent_refused(mn, "IPsec negotiation failed");
}

static void mn_on_advertisement(struct mn *mn, const uint8_t mac[6], const struct ip4_hdr *ip,
				const struct mip_agent_adv *adv)
{
	bool changed = mn_agent_changed(mn, adv);

	log_debug("advertisement from %s, care-of address %s, sequence %u", IP4_STR(ip->src),
		  IP4_STR(adv->coa[0]), adv->seq);
	mn->ctr.advertisements++;
	mn->agent.valid = true;
	mn->agent.addr = adv->n_routers > 0 ? adv->routers[0].addr : ip->src;
	memcpy(mn->agent.mac, mac, 6);
	mn->agent.seq = adv->seq;
	mn->agent.max_lifetime = adv->reg_lifetime;
	mn->agent.flags = adv->flags;
	mn->agent.heard_ms = ev_loop_now_ms(mn->loop);
	ev_timer_start(mn->loop, &mn->agent_expiry, (uint64_t)adv->lifetime * 1000);
	ev_timer_stop(mn->loop, &mn->solicit);
	if (!changed && mn->state != MN_SOLICITING)
		return;
	mn->agent.coa = adv->coa[0];
	if (changed && mn->state != MN_SOLICITING)
		mn->ctr.agent_changes++;
	log_info("agent %s care-of address %s", IP4_STR(mn->agent.addr), IP4_STR(mn->agent.coa));
	mn->last_move_ms = ev_loop_now_ms(mn->loop);
	mn_attach(mn, changed);
}

void mn_from_link(struct mn *mn, const uint8_t mac[6], const uint8_t *pkt, size_t len)
{
	struct ip4_hdr ip;
	struct buf payload;
	struct mip_agent_adv adv;
	enum mip_adv_err e;

	if (mn->state == MN_LINK_DOWN || mn->state == MN_STOPPED || mn->state == MN_DEREGISTERING)
		return;
	if (ip4_parse(pkt, len, &ip, &payload) != IP4_OK || ip.proto != IP4_PROTO_ICMP) {
		mn->ctr.drop_malformed++;
		return;
	}
	e = mip_adv_parse(buf_rptr(&payload), buf_left(&payload), &adv);
	if (e != MIP_ADV_OK) {
		mn->ctr.drop_malformed++;
		log_rl_notice("advertisement from %s: %s", IP4_STR(ip.src), mip_adv_err_name(e));
		return;
	}
	/* Only a foreign agent with a care-of address is of use to us. */
	if (!(adv.flags & MIP_ADV_F) || adv.n_coa == 0 || ip.ttl != 1) {
		mn->ctr.drop_not_agent++;
		return;
	}
	mn_on_advertisement(mn, mac, &ip, &adv);
}

/* Is this reply from the home agent (MN-HA) or a foreign agent's own denial? */
static bool mn_reply_authentic(struct mn *mn, const uint8_t *msg, const struct mip_reg_reply *rp)
{
	enum mip_auth_result ar;

	if (rp->ext.mn_ha.present) {
		ar = mip_auth_check(msg, &rp->ext.mn_ha, &mn->cfg.ha_key);
	} else if (rp->code >= 64 && rp->code < 128) {
		/* An FA denial: RFC 5944 3.6.2.1 asks for MN-FA when we share a key. */
		if (mn->cfg.fa_key.len == 0)
			return true;
		ar = mip_auth_check(msg, &rp->ext.mn_fa, &mn->cfg.fa_key);
	} else {
		ar = MIP_AUTH_MISSING;
	}
	if (ar != MIP_AUTH_OK) {
		mn->ctr.drop_reply_auth++;
		log_rl_notice("reply code %u: %s", rp->code, mip_auth_result_name(ar));
		return false;
	}
	return true;
}

static void mn_accepted(struct mn *mn, const struct mip_reg_reply *rp)
{
	ev_timer_stop(mn->loop, &mn->retx);
	mn->ctr.reg_accepted++;
	if (mn->state == MN_DEREGISTERING) {
		ev_timer_stop(mn->loop, &mn->stop_timer);
		mn->ctr.deregistrations++;
		mn_set_state(mn, MN_STOPPED, "deregistered");
		if (mn->ops.stopped)
			mn->ops.stopped(mn->ops.arg);
		return;
	}
	mn->reg_coa = mn->agent.coa;
	mn->reg_lifetime = rp->lifetime;
	mn->reg_at_ms = ev_loop_now_ms(mn->loop);
	if (mn->link_up_us != 0) {
		mn->last_handover_us = ev_loop_now_us(mn->loop) - mn->link_up_us;
		mn->link_up_us = 0;
	}
	mn_set_state(mn, MN_REGISTERED, mip_code_name(rp->code));
	if (mn->guard.accepted != NULL)
		mn->guard.accepted(mn->guard.arg, rp);
	/* Re-register when 3/4 of the lifetime has passed (RFC 5944 3.6.1.1). */
	ev_timer_start(mn->loop, &mn->rereg, (uint64_t)rp->lifetime * 750);
}

void mn_from_reply(struct mn *mn, const uint8_t *msg, size_t len)
{
	struct mip_reg_reply rp;
	enum mip_perr pe = mip_reply_parse(msg, len, &rp);

	if (pe != MIP_PERR_OK) {
		mn->ctr.drop_malformed++;
		log_rl_notice("reply: %s", mip_perr_name(pe));
		return;
	}
	/* RFC 5944 3.6.2.2: the low 32 bits must be those of our request. */
	if ((mn->state != MN_REGISTERING && mn->state != MN_DEREGISTERING) ||
	    rp.home_addr.s_addr != mn->cfg.home_addr.s_addr ||
	    (uint32_t)rp.id != (uint32_t)mn->req_id) {
		mn->ctr.drop_reply_unmatched++;
		return;
	}
	if (!mn_reply_authentic(mn, msg, &rp))
		return;
	if (mip_code_accepted(rp.code)) {
		mn_accepted(mn, &rp);
		return;
	}
	if (rp.code == MIP_CODE_HA_ID_MISMATCH) {
		/* The home agent's clock is in the high 32 bits: adopt it and try again. */
		mn->ctr.reg_id_resync++;
		mn->clock_offset_s += mip_ident_offset(rp.id, mn->req_id);
		/*
		 * From now on our Identifications run on the agent's clock; when
		 * it is behind ours, staying above the refused one would repeat
		 * the mismatch for ever (RFC 5944 5.7.1: use the agent's time).
		 */
		mn->last_id = 0;
		log_notice("identification mismatch: clock offset to the home agent now %lld s",
			   (long long)mn->clock_offset_s);
		mn_register(mn, mn->req_lifetime, "identification resync");
		return;
	}
	mn->ctr.reg_denied++;
	log_warn("registration denied: %s (code %u)", mip_code_name(rp.code), rp.code);
	/* Keep retransmitting with back-off: a denial may be transient (resources, timeout). */
}

void mn_to_link(struct mn *mn, const uint8_t mac[6], enum mn_out kind, const uint8_t *pkt,
		size_t len)
{
	if (mn->guard.to_link != NULL)
		mn->guard.to_link(mn->guard.arg, mac, kind, pkt, len);
	else
		mn->ops.to_link(mn->ops.arg, mac, pkt, len);
}

void mn_from_stack(struct mn *mn, const uint8_t *pkt, size_t len)
{
	if (mn->state != MN_REGISTERED || !mn->agent.valid) {
		mn->ctr.drop_unregistered++;
		return;
	}
	mn->ctr.packets_out++;
	mn_to_link(mn, mn->agent.mac, MN_OUT_DATA, pkt, len);
}

int mn_reregister(struct mn *mn)
{
	if (!mn->agent.valid || (mn->state != MN_REGISTERED && mn->state != MN_REGISTERING))
		return -1;
	mn_register(mn, mn_wanted_lifetime(mn), "operator request");
	return 0;
}

static void mn_on_stop_timer(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct mn *mn = arg;

	log_warn("no reply to the deregistration; stopping anyway");
	mn_set_state(mn, MN_STOPPED, "deregistration timed out");
	if (mn->ops.stopped)
		mn->ops.stopped(mn->ops.arg);
}

void mn_shutdown(struct mn *mn)
{
	if (mn->state != MN_REGISTERED && mn->state != MN_REGISTERING) {
		mn_set_state(mn, MN_STOPPED, "shutdown");
		if (mn->ops.stopped)
			mn->ops.stopped(mn->ops.arg);
		return;
	}
	ev_timer_start(mn->loop, &mn->stop_timer, MN_STOP_WAIT_MS);
	mn_register(mn, 0, "shutdown");
}
