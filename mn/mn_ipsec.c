/*
 * The mobile node's IPsec side (mn_sec.h): IKEv1 initiator towards the
 * agent's alias address (or a fixed gateway), ESP for everything the node
 * sends to it, through the shared endpoint (common/ipsec_ep.c).  IKE and
 * ESP go out by the agent's MAC like every other frame; they come back to
 * the home address, where the daemon's sockets hand them to us.  Opened
 * packets go into our stack, as if they had arrived.
 *
 * Gateway mode (mn.gateway set) is a plain IPsec client without Mobile IP:
 * on carrier it asks for the gateway's MAC (ARP) and negotiates.
 */
#include "ctl.h"
#include "ike.h"
#include "ike_xfer.h"
#include "ip4.h"
#include "isakmp.h"
#include "log.h"
#include "mip_msg.h"
#include "mn_sec.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#define MN_ARP_RETRY_MS 200

/* The MAC frames for addr go to: the gateway's, or the current agent's. */
static const uint8_t *mn_peer_mac(void *arg, struct in_addr addr)
{
	struct mn_sec *s = arg;

	if (s->gateway.s_addr != 0)
		return s->gateway_mac_known && addr.s_addr == s->gateway.s_addr ? s->gateway_mac
										: NULL;
	return s->mn->agent.valid ? s->mn->agent.mac : NULL;
}

static void mn_ep_to_link(void *arg, const uint8_t mac[6], const uint8_t *pkt, size_t len)
{
	struct mn_sec *s = arg;

	s->ops.to_link(s->ops.arg, mac, pkt, len);
}

static const struct ike_peer *mn_ike_peer(void *arg, struct in_addr addr)
{
	struct mn_sec *s = arg;

	return ipsec_conf_peer(s->ic, addr);
}

static void mn_ike_child_up(void *arg, struct ike_child *c)
{
	struct mn_sec *s = arg;

	if (ipsec_add(&s->ep.sas, c, c->peer.s_addr) == NULL)
		return;
	if (s->gateway.s_addr == 0 && c->peer.s_addr == s->securing.s_addr) {
		s->securing.s_addr = 0;
		mn_secure_done(s->mn, true);
	}
}

static void mn_ike_child_down(void *arg, struct ike_child *c, const char *why)
{
	struct mn_sec *s = arg;

	ipsec_del(&s->ep.sas, c->spi_in);
}

static void mn_ike_down(void *arg, struct ike_sa *sa, const char *why)
{
	struct mn_sec *s = arg;

	/* A negotiation we were waiting for failed. */
	if (s->securing.s_addr != 0 && ike_sa_find_peer(s->ep.ike, s->securing) == NULL &&
	    ipsec_find(&s->ep.sas, s->securing.s_addr) == NULL && !ike_sa_established(sa)) {
		s->securing.s_addr = 0;
		mn_secure_done(s->mn, false);
	}
}

/* The care-of address of our last registration through alias (0: none). */
static struct in_addr mn_last_coa(const struct mn_sec *s, struct in_addr alias)
{
	for (size_t i = 0; i < MN_MAX_DOMAINS; i++)
		if (s->last_coa[i].alias.s_addr == alias.s_addr)
			return s->last_coa[i].coa;
	return (struct in_addr){0};
}

/* Remember it; the oldest domain makes room. */
static void mn_note_coa(struct mn_sec *s, struct in_addr alias, struct in_addr coa)
{
	size_t i;

	for (i = 0; i < MN_MAX_DOMAINS - 1; i++)
		if (s->last_coa[i].alias.s_addr == alias.s_addr)
			break;
	memmove(&s->last_coa[1], &s->last_coa[0], i * sizeof(s->last_coa[0]));
	s->last_coa[0].alias = alias;
	s->last_coa[0].coa = coa;
}

static int mn_sec_secure(void *arg, const struct mn_agent *agent, bool moved)
{
	struct mn_sec *s = arg;
	const struct ike_peer *pc = ipsec_conf_peer(s->ic, agent->addr);
	struct in_addr prev;

	if (s->ep.ike == NULL || pc == NULL) {
		if (s->ep.ike != NULL)
			log_notice(
				"no IPsec peer configured for agent %s: registering in the clear",
				IP4_STR(agent->addr));
		return 1;
	}
	/*
	 * A move within the domain (same alias, new care-of address): with SA
	 * reuse we register at once, in the clear, asking the new FA to take
	 * our SAs over (mn_sec_extend); it cannot read ESP before it has them.
	 * Back at the FA we last used in the domain (after a visit to another
	 * one) we ask the same: it may still hold them, or may not.
	 */
	prev = mn_last_coa(s, agent->addr);
	if (moved && s->sa_reuse && ike_sa_find_peer(s->ep.ike, agent->addr) != NULL &&
	    prev.s_addr != 0) {
		s->reuse_pending = true;
		s->reuse_prev = prev;
		return 1;
	}
	/*
	 * Without SA reuse, SAs belong to the foreign agent that negotiated
	 * them, even though every agent of the domain answers at the alias:
	 * a new care-of address means new SAs.
	 */
	s->reuse_pending = false;
	/*
	 * A negotiation under way is abandoned, not failed: mn_ike_down must
	 * not report it (it would give up on the agent we are attaching to,
	 * forget its MAC, and the Main Mode started next could never leave;
	 * found by test_loss.sh, where a reordered advertisement looked like
	 * the agent's reboot while the node was securing).
	 */
	s->securing.s_addr = 0; /* abandoned, not failed */
	if (moved)
		ike_peer_delete(s->ep.ike, agent->addr, "moved to another foreign agent");
	if (ipsec_find(&s->ep.sas, agent->addr.s_addr) != NULL)
		return 1;
	s->securing = agent->addr;
	if (ike_initiate(s->ep.ike, pc, s->home_addr) == NULL)
		return -1;
	return 0;
}

/* ---- SA reuse ---- */

static int mn_sec_extend(void *arg, struct buf *b)
{
	struct mn_sec *s = arg;
	struct in_addr alias = s->mn->agent.addr;
	struct ipsec_pair *p = ipsec_find(&s->ep.sas, alias.s_addr);
	struct mip_reuse_req req = {.prev_coa = s->reuse_prev};
	struct sax_record *rec;
	struct esp_sa_state in, out;
	uint8_t *auth;
	size_t covered;
	int r = -1;

	if (!s->reuse_pending)
		return 0;
	rec = calloc(1, sizeof(*rec));
	if (rec == NULL || ike_export(s->ep.ike, alias, false, rec) < 0)
		goto out;
	memcpy(req.icookie, rec->isakmp.icookie, 8);
	memcpy(req.rcookie, rec->isakmp.rcookie, 8);
	/* Our counters: the new FA starts its windows from them (doc/sa-reuse.md). */
	if (p != NULL) {
		esp_sa_export_state(&p->out, &out);
		esp_sa_export_state(&p->in, &in);
		req.mn_sent = out.seq_out;
		req.mn_received = in.replay.top;
	}
	/* The proof of possession covers the whole request so far, Identification included. */
	if (mip_ext_put_reuse(b, &req, rec->isakmp.hash_len, &auth, &covered) == 0 &&
	    ike_possession_mac(&rec->isakmp, buf_data(b), covered, auth) == 0)
		r = 0;
out:
	if (rec != NULL) {
		sax_record_wipe(rec);
		free(rec);
	}
	return r;
}

static void mn_sec_accepted(void *arg, const struct mip_reg_reply *rp)
{
	struct mn_sec *s = arg;
	struct in_addr alias = s->mn->agent.addr;
	uint8_t status =
		rp->ext.reuse_status.present ? rp->ext.reuse_status.status : MIP_REUSE_REFUSED;
	const struct ike_peer *pc;

	mn_note_coa(s, alias, s->mn->reg_coa);
	if (!s->reuse_pending)
		return;
	s->reuse_pending = false;
	switch (status) {
	case MIP_REUSE_FULL:
		s->ctr.reuse_full++;
		log_info("SA reuse: the new FA has our ISAKMP and IPsec SAs");
		return;
	case MIP_REUSE_PARTIAL:
		s->ctr.reuse_partial++;
		log_info("SA reuse: the new FA has our ISAKMP SA; Quick Mode");
		for (struct ike_child *c = ike_children(s->ep.ike), *n; c != NULL; c = n) {
			n = c->next;
			if (c->peer.s_addr == alias.s_addr)
				ike_child_forget(s->ep.ike, c, "the new FA has no copy");
		}
		if (ike_quick_mode(s->ep.ike, alias) == 0)
			return;
		break;
	default:
		s->ctr.reuse_refused++;
		log_info("SA reuse refused by the new FA: negotiating");
		break;
	}
	ike_forget_peer(s->ep.ike, alias, MN_SEC_WHY_REFUSED);
	pc = ipsec_conf_peer(s->ic, alias);
	if (pc != NULL)
		ike_initiate(s->ep.ike, pc, s->home_addr);
}

/* ---- ESP ---- */

void mn_sec_ike_in(struct mn_sec *s, struct in_addr local, uint16_t lport, struct in_addr peer,
		   uint16_t pport, const uint8_t *msg, size_t len)
{
	ipsec_ep_ike_in(&s->ep, local, lport, peer, pport, msg, len);
}

void mn_sec_esp_in(struct mn_sec *s, const uint8_t *esp, size_t len)
{
	uint8_t inner[IP4_MAX_PACKET];
	struct ipsec_pair *p;
	struct ip4_pkt pkt;

	if (ipsec_ep_open(&s->ep, esp, len, inner, sizeof(inner), &pkt, &p) == 0)
		s->ops.to_stack(s->ops.arg, inner, pkt.h.total_len);
}

struct mn_piece {
	struct mn_sec *s;
	struct ipsec_pair *p; /* NULL: in the clear */
	const uint8_t *mac;
};

static void mn_out_piece(void *arg, const uint8_t *pkt, size_t len)
{
	struct mn_piece *o = arg;

	if (o->p != NULL)
		ipsec_ep_seal_send(&o->s->ep, o->p, o->mac, pkt, len);
	else
		o->s->ops.to_link(o->s->ops.arg, o->mac, pkt, len);
}

/* An ICMP error about our stack's packet goes back into our stack. */
static void mn_out_icmp(void *arg, const uint8_t *pkt, size_t len)
{
	struct mn_piece *o = arg;

	o->s->ops.to_stack(o->s->ops.arg, pkt, len);
}

/*
 * Send pkt to mac, sealed in p unless p is NULL, if it fits the link once
 * sealed: the tunnel device's MTU keeps our stack below that, unless
 * someone raised it.  ICMP errors come from peer, the end of our tunnel.
 */
static void mn_send(struct mn_sec *s, struct ipsec_pair *p, const uint8_t *mac, struct in_addr peer,
		    const uint8_t *pkt, size_t len)
{
	struct mn_piece o = {.s = s, .p = p, .mac = mac};

	s->link_path.icmp_src = peer;
	pmtu_send(&s->link_path, &o, pkt, len,
		  p != NULL ? pmtu_esp_inner(p->out.alg, p->udp_encap, s->link_mtu) : s->link_mtu);
}

static void mn_sec_to_link(void *arg, const uint8_t mac[6], enum mn_out kind, const uint8_t *pkt,
			   size_t len)
{
	struct mn_sec *s = arg;
	const struct mn *mn = s->mn;
	struct ipsec_pair *p = NULL;

	/* Unicast to the current agent goes through its SA; multicast never can. */
	if (s->ep.ike == NULL || !mn->agent.valid || kind == MN_OUT_SOLICIT || (mac[0] & 1) ||
	    ipsec_conf_peer(s->ic, mn->agent.addr) == NULL) {
		mn_send(s, NULL, mac, mn->agent.addr, pkt, len);
		return;
	}
	/* The registration that starts a reuse hand-over goes in the clear
	 * (doc/design.md#pitfalls). */
	if (s->reuse_pending && kind == MN_OUT_REQUEST) {
		s->ops.to_link(s->ops.arg, mac, pkt, len);
		return;
	}
	p = ipsec_find(&s->ep.sas, mn->agent.addr.s_addr);
	if (p == NULL) {
		/* IPsec is configured for this agent: nothing else leaves unprotected. */
		s->ctr.drop_no_sa++;
		return;
	}
	mn_send(s, p, mac, mn->agent.addr, pkt, len);
}

/* ---- gateway mode ---- */

static void mn_arp_ask(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct mn_sec *s = arg;

	if (s->gateway_mac_known)
		return;
	s->ops.arp_request(s->ops.arg, s->gateway);
	ev_timer_start(loop, t, MN_ARP_RETRY_MS);
}

void mn_sec_gateway_mac(struct mn_sec *s, const uint8_t mac[6])
{
	const struct ike_peer *pc;

	if (s->gateway_mac_known)
		return;
	memcpy(s->gateway_mac, mac, 6);
	s->gateway_mac_known = true;
	ev_timer_stop(s->loop, &s->arp_timer);
	pc = ipsec_conf_peer(s->ic, s->gateway);
	log_info("gateway %s is at %02x:%02x:%02x:%02x:%02x:%02x", IP4_STR(s->gateway), mac[0],
		 mac[1], mac[2], mac[3], mac[4], mac[5]);
	if (pc != NULL && s->ep.ike != NULL && ipsec_find(&s->ep.sas, s->gateway.s_addr) == NULL &&
	    ike_sa_find_peer(s->ep.ike, s->gateway) == NULL)
		ike_initiate(s->ep.ike, pc, s->home_addr);
}

void mn_sec_gateway_link(struct mn_sec *s, bool up)
{
	s->gateway_mac_known = false;
	if (up)
		mn_arp_ask(s->loop, &s->arp_timer, s);
	else
		ev_timer_stop(s->loop, &s->arp_timer);
}

void mn_sec_gateway_out(struct mn_sec *s, const uint8_t *pkt, size_t len)
{
	struct ipsec_pair *p = ipsec_find(&s->ep.sas, s->gateway.s_addr);

	if (p == NULL || !s->gateway_mac_known) {
		s->ctr.drop_no_gateway++;
		return;
	}
	mn_send(s, p, s->gateway_mac, s->gateway, pkt, len);
}

/* ---- setup ---- */

int mn_sec_init(struct mn_sec *s, struct mn *mn, struct ev_loop *loop, const struct ipsec_conf *ic,
		struct in_addr home_addr, struct in_addr gateway, bool sa_reuse, size_t link_mtu,
		const struct mn_sec_ops *ops)
{
	struct ike_ops owner = {.peer_lookup = mn_ike_peer,
				.child_up = mn_ike_child_up,
				.child_down = mn_ike_child_down,
				.ike_down = mn_ike_down,
				.arg = s};
	struct ipsec_ep_ops eops = {.to_link = mn_ep_to_link, .mac_of = mn_peer_mac, .arg = s};

	memset(s, 0, sizeof(*s));
	s->mn = mn;
	s->loop = loop;
	s->ic = ic;
	s->ops = *ops;
	s->home_addr = home_addr;
	s->gateway = gateway;
	s->sa_reuse = sa_reuse;
	s->link_mtu = link_mtu;
	ev_timer_init(&s->arp_timer, mn_arp_ask, s);
	s->link_path = (struct pmtu_path){
		.name = "our packets to the link", .send = mn_out_piece, .icmp = mn_out_icmp};
	if (ipsec_ep_init(&s->ep, loop, ic->enabled ? &ic->ike : NULL, &owner, &eops) < 0)
		return -1;
	mn->guard = (struct mn_guard){.to_link = mn_sec_to_link, .arg = s};
	/* Gateway mode has no Mobile IP to secure. */
	if (ic->enabled && gateway.s_addr == 0)
		mn->guard = (struct mn_guard){.to_link = mn_sec_to_link,
					      .secure = mn_sec_secure,
					      .extend = mn_sec_extend,
					      .accepted = mn_sec_accepted,
					      .arg = s};
	return 0;
}

void mn_sec_free(struct mn_sec *s)
{
	ev_timer_stop(s->loop, &s->arp_timer);
	if (s->mn != NULL)
		s->mn->guard = (struct mn_guard){0};
	ipsec_ep_free(&s->ep);
}

int mn_sec_ctl_keys(struct mn_sec *s, int argc, char **argv, struct ctl_out *o, char *err,
		    size_t errlen)
{
	return ipsec_ep_ctl_keys(&s->ep, argc, argv, o, err, errlen);
}

void mn_sec_ctl_sas(struct mn_sec *s, struct ctl_out *o)
{
	ipsec_ep_ctl(&s->ep, o);
#define MN_SEC_CTL(n) ctl_u64(o, #n, s->ctr.n);
	MN_SEC_COUNTERS(MN_SEC_CTL)
#undef MN_SEC_CTL
	ctl_obj_end(o);
}

size_t mn_sec_tunnel_mtu(const struct ipsec_conf *ic, bool reverse_tunnel, bool gateway,
			 size_t link_mtu)
{
	enum esp_alg algs[IKE_MAX_PROPS];
	size_t n = 0;

	for (size_t i = 0; ic->enabled && i < ic->ike.n_p2 && i < IKE_MAX_PROPS; i++)
		algs[n++] = ic->ike.p2[i].alg;
	/* Gateway mode has no Mobile IP, so no reverse tunnel either. */
	return pmtu_tunnel_mtu(link_mtu, algs, n, reverse_tunnel && !gateway);
}

void mn_sec_ctl_mtu(struct mn_sec *s, struct ctl_out *o)
{
	ctl_u64(o, "link_mtu", s->link_mtu);
	ctl_u64(o, "tunnel_mtu", s->tunnel_mtu);
	pmtu_ctl(o, "mtu_counters", &s->link_path.ctr);
}
