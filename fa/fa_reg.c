/*
 * Foreign agent registration relay, RFC 5944 3.7: check a visitor's
 * request, relay it to the home agent, keep it pending, and relay the
 * home agent's reply back to the visitor's link-layer address.
 */
#include "fa.h"
#include "ip4.h"
#include "log.h"
#include "mip_adv.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#define FA_REPLY_TTL 64
/* The largest registration message the FA sends to a visitor (a reply, with its extensions). */
#define FA_TO_MN_MAX 1024
/* Solicited advertisements go out at once, but no closer together than this. */
#define FA_SOLICITED_ADV_GAP_MS 10

static const struct mip_key *fa_peer_key(const struct fa_peer_key *keys, size_t n,
					 struct in_addr addr)
{
	for (size_t i = 0; i < n; i++)
		if (keys[i].addr.s_addr == addr.s_addr)
			return &keys[i].key;
	return NULL;
}

void fa_to_link(struct fa *fa, const uint8_t mac[6], struct in_addr dst, enum fa_out kind,
		const uint8_t *pkt, size_t len)
{
	if (fa->guard.to_link != NULL)
		fa->guard.to_link(fa->guard.arg, mac, dst, kind, pkt, len);
	else
		fa->ops.to_link(fa->ops.arg, mac, pkt, len);
}

struct fa_visitor *fa_find_visitor(struct fa *fa, struct in_addr home_addr)
{
	return u32map_get(&fa->visitors, home_addr.s_addr);
}

void fa_reconfigure(struct fa *fa, const struct fa_config *cfg)
{
	fa->cfg = *cfg;
	if (fa->cfg.max_pending_relays == 0)
		fa->cfg.max_pending_relays = FA_MAX_PENDING_RELAYS;
}

int fa_init(struct fa *fa, const struct fa_config *cfg, const struct fa_ops *ops)
{
	memset(fa, 0, sizeof(*fa));
	fa_reconfigure(fa, cfg);
	fa->ops = *ops;
	u32map_init(&fa->visitors);
	fa_data_init(fa);
	return 0;
}

void fa_free(struct fa *fa)
{
	size_t it = 0;
	uint32_t k;
	void *v;

	while (u32map_next(&fa->visitors, &it, &k, &v))
		free(v);
	u32map_free(&fa->visitors);
}

/*
 * ---- newcomers' pending relays ----
 *
 * A registration request from a home address we do not know costs its
 * sender one datagram (any source address, any home address, any home
 * agent) and costs us a visitor record and a relay to the home agent, kept
 * until the home agent answers or pending_timeout_ms passes.  Aimed at a
 * home agent that never answers, 10,000 such requests a second would fill
 * max_visitors in a second and turn every real newcomer away (deny
 * resources) for as long as the flood lasts.  So the newcomers' pending
 * relays are a list, oldest first, of at most max_pending_relays: the
 * next one evicts the oldest (drop_pending_evicted).  A real node's
 * request then waits max_pending_relays / rate seconds for its home
 * agent's answer (0.4 s at 10,000/s with the default 4096, a visitor
 * record of about 0.6 KB each: 2.5 MB), ample for a round trip even on a
 * loaded machine; refusing the newest instead would lock it out for
 * pending_timeout_ms.  Registered visitors are not on the list: their
 * re-registrations never make way for anyone's.
 */
static void fa_pending_unlink(struct fa *fa, struct fa_visitor *v)
{
	if (!v->pend_linked)
		return;
	if (v->pend_prev != NULL)
		v->pend_prev->pend_next = v->pend_next;
	else
		fa->pend_first = v->pend_next;
	if (v->pend_next != NULL)
		v->pend_next->pend_prev = v->pend_prev;
	else
		fa->pend_last = v->pend_prev;
	v->pend_next = v->pend_prev = NULL;
	v->pend_linked = false;
	fa->n_pend--;
}

/* A newcomer's request is pending: at the list's end (a newer one from it moves it there). */
static void fa_pending_link(struct fa *fa, struct fa_visitor *v)
{
	fa_pending_unlink(fa, v);
	if (v->active)
		return;
	v->pend_prev = fa->pend_last;
	if (fa->pend_last != NULL)
		fa->pend_last->pend_next = v;
	else
		fa->pend_first = v;
	fa->pend_last = v;
	v->pend_linked = true;
	fa->n_pend++;
}

/* The request is answered, refused or given up. */
static void fa_pending_end(struct fa *fa, struct fa_visitor *v)
{
	v->pending.active = false;
	fa_pending_unlink(fa, v);
}

static void fa_visitor_free(struct fa *fa, struct fa_visitor *v, const char *why)
{
	/* A visitor that never registered may be anyone's forgery: rate-limited. */
	if (v->accepted_id == 0)
		log_rl_info("visitor %s removed: %s", IP4_STR(v->home_addr), why);
	else
		log_info("visitor %s removed: %s", IP4_STR(v->home_addr), why);
	fa_pending_unlink(fa, v);
	u32map_del(&fa->visitors, v->home_addr.s_addr);
	free(v);
}

/*
 * Room for a request from home: a newcomer's, with max_pending_relays of
 * them unanswered, evicts the oldest (which goes with its visitor record).
 */
static void fa_pending_room(struct fa *fa, struct in_addr home)
{
	struct fa_visitor *v = fa_find_visitor(fa, home), *old = fa->pend_first;

	if ((v != NULL && (v->active || v->pend_linked)) ||
	    fa->n_pend < fa->cfg.max_pending_relays || old == NULL)
		return;
	fa->ctr.drop_pending_evicted++;
	log_rl_notice("%zu requests of new visitors pending: the oldest, of %s, given up for %s's",
		      fa->n_pend, IP4_STR(old->home_addr), IP4_STR(home));
	fa_pending_end(fa, old);
	fa_visitor_free(fa, old, "pending request evicted");
}

/* Send a registration message to a visitor: UDP from port 434 to its port, by its MAC. */
static void fa_send_to_mn(struct fa *fa, const uint8_t mac[6], struct in_addr src,
			  struct in_addr home_addr, uint16_t port, const uint8_t *msg, size_t len)
{
	uint8_t pkt[IP4_HDR_LEN + UDP_HDR_LEN + FA_TO_MN_MAX];
	struct buf b;

	buf_init_write(&b, pkt, sizeof(pkt));
	if (ip4_udp_put(&b, src, home_addr, MIP_PORT, port, FA_REPLY_TTL, msg, len) < 0) {
		log_err("reply for %s does not fit", IP4_STR(home_addr));
		return;
	}
	fa_to_link(fa, mac, home_addr, FA_OUT_REPLY, pkt, buf_used(&b));
}

/* A denial the FA itself makes (RFC 5944 3.7.2.3): no MN-HA, MN-FA where we share a key. */
static void fa_deny(struct fa *fa, const uint8_t mac[6], struct in_addr dst, uint16_t port,
		    const struct mip_reg_request *rq, uint8_t code)
{
	/* RFC 5944 3.7.2.3: with code 69 the Lifetime says what we would accept. */
	struct mip_reg_reply rp = {.code = code,
				   .lifetime =
					   code == MIP_CODE_FA_LIFETIME ? fa->cfg.max_lifetime : 0,
				   .home_addr = rq->home_addr,
				   .home_agent = rq->home_agent,
				   .id = rq->id};
	const struct mip_key *k = fa_peer_key(fa->cfg.mns, fa->cfg.n_mns, rq->home_addr);
	uint8_t msg[512];
	struct buf b;

	buf_init_write(&b, msg, sizeof(msg));
	if (mip_reply_put(&b, &rp) < 0 ||
	    (rq->ext.nai_len > 0 &&
	     mip_ext_put_nai(&b, (const char *)rq->ext.nai, rq->ext.nai_len) < 0) ||
	    (k != NULL && mip_ext_put_auth(&b, MIP_EXT_MN_FA_AUTH, k->spi, k->key, k->len) < 0))
		return;
	fa->ctr.reg_denied_by_fa++;
	log_rl_info("request from %s denied: %s", IP4_STR(rq->home_addr), mip_code_name(code));
	fa_send_to_mn(fa, mac, dst, rq->home_addr, port, msg, buf_used(&b));
}

/* RFC 5944 3.7.2.1 and RFC 3024: the checks a foreign agent makes; 0 when all pass. */
static uint8_t fa_check_request(struct fa *fa, const uint8_t *msg, const struct mip_reg_request *rq)
{
	const struct mip_key *k = fa_peer_key(fa->cfg.mns, fa->cfg.n_mns, rq->home_addr);

	if (fa->cfg.require_mn_auth || rq->ext.mn_fa.present) {
		enum mip_auth_result ar = mip_auth_check(msg, &rq->ext.mn_fa, k);
		if (ar != MIP_AUTH_OK) {
			log_rl_notice("request from %s: MN-FA %s", IP4_STR(rq->home_addr),
				      mip_auth_result_name(ar));
			fa->ctr.deny_mn_auth++;
			return MIP_CODE_FA_MN_AUTH;
		}
	}
	if (rq->home_agent.s_addr == 0) {
		fa->ctr.deny_missing++;
		return MIP_CODE_FA_MISSING_HA;
	}
	if (rq->home_addr.s_addr == 0) {
		fa->ctr.deny_missing++;
		return MIP_CODE_FA_MISSING_HOME_ADDR;
	}
	if (rq->coa.s_addr != fa->cfg.coa.s_addr && rq->lifetime != 0) {
		fa->ctr.deny_bad_coa++;
		return MIP_CODE_FA_BAD_COA;
	}
	if (rq->lifetime > fa->cfg.max_lifetime) {
		fa->ctr.deny_lifetime++;
		return MIP_CODE_FA_LIFETIME;
	}
	if (rq->flags & (MIP_RQ_M | MIP_RQ_G)) {
		fa->ctr.deny_encapsulation++;
		return MIP_CODE_FA_ENCAP;
	}
	if ((rq->flags & MIP_RQ_T) && !fa->cfg.reverse_tunnel) {
		fa->ctr.deny_reverse_tunnel++;
		return MIP_CODE_FA_REVTUN_UNAVAIL;
	}
	if (!(rq->flags & MIP_RQ_T) && fa->cfg.require_reverse_tunnel) {
		fa->ctr.deny_reverse_tunnel++;
		return MIP_CODE_FA_REVTUN_MANDATORY;
	}
	if (rq->ext.encap_delivery) {
		/* Only the Direct Delivery Style of RFC 3024 is offered. */
		fa->ctr.deny_delivery_style++;
		return MIP_CODE_FA_DELIVERY_STYLE;
	}
	return MIP_CODE_ACCEPTED;
}

static struct fa_visitor *fa_visitor_get(struct fa *fa, struct in_addr home_addr)
{
	struct fa_visitor *v = fa_find_visitor(fa, home_addr);

	if (v != NULL)
		return v;
	if (u32map_len(&fa->visitors) >= fa->cfg.max_visitors)
		return NULL;
	v = calloc(1, sizeof(*v));
	if (v == NULL)
		return NULL;
	v->home_addr = home_addr;
	if (u32map_put(&fa->visitors, home_addr.s_addr, v) < 0) {
		free(v);
		return NULL;
	}
	return v;
}

static uint64_t fa_now_us(const struct fa *fa)
{
	return fa->ops.now_us != NULL ? fa->ops.now_us(fa->ops.arg) : 0;
}

/*
 * Relay to the home agent: the request up to the end of the MN-HA
 * extension (what follows is for us, RFC 5944 3.7.2.2), then FA-HA where we
 * share a key with that home agent.
 */
static void fa_relay_request(struct fa *fa, const uint8_t *msg, const struct mip_reg_request *rq)
{
	const struct mip_key *k = fa_peer_key(fa->cfg.has, fa->cfg.n_has, rq->home_agent);
	uint8_t out[1024];
	struct buf b;
	size_t keep = rq->ext.mn_ha.end;

	buf_init_write(&b, out, sizeof(out));
	if (buf_put_bytes(&b, msg, keep) != BUF_OK ||
	    (k != NULL && mip_ext_put_auth(&b, MIP_EXT_FA_HA_AUTH, k->spi, k->key, k->len) < 0)) {
		log_err("relayed request for %s does not fit", IP4_STR(rq->home_addr));
		return;
	}
	fa->ctr.reg_relayed++;
	fa->ops.to_ha(fa->ops.arg, rq->home_agent, out, buf_used(&b));
}

static void fa_on_request(struct fa *fa, const uint8_t mac[6], const struct ip4_hdr *ip,
			  uint16_t sport, const uint8_t *msg, size_t len, uint64_t now_ms)
{
	struct mip_reg_request rq;
	enum mip_perr pe = mip_request_parse(msg, len, &rq);
	uint8_t code;

	fa->ctr.reg_requests++;
	if (pe == MIP_PERR_UNKNOWN_EXT || pe == MIP_PERR_TRUNCATED || pe == MIP_PERR_TYPE) {
		if (pe == MIP_PERR_UNKNOWN_EXT)
			fa->ctr.drop_unknown_extension++;
		else
			fa->ctr.drop_malformed++;
		log_rl_notice("request from %s: %s, discarded", IP4_STR(ip->src),
			      mip_perr_name(pe));
		return;
	}
	if (pe != MIP_PERR_OK || !rq.ext.mn_ha.present) {
		fa->ctr.deny_poorly_formed++;
		fa_deny(fa, mac, ip->dst, sport, &rq, MIP_CODE_FA_BAD_REQUEST);
		return;
	}
	code = fa_check_request(fa, msg, &rq);
	if (code != MIP_CODE_ACCEPTED) {
		fa_deny(fa, mac, ip->dst, sport, &rq, code);
		return;
	}
	fa_pending_room(fa, rq.home_addr);
	struct fa_visitor *v = fa_visitor_get(fa, rq.home_addr);
	if (v == NULL) {
		fa->ctr.deny_resources++;
		fa_deny(fa, mac, ip->dst, sport, &rq, MIP_CODE_FA_RESOURCES);
		return;
	}
	v->pending = (struct fa_pending){.active = true,
					 .id = rq.id,
					 .home_agent = rq.home_agent,
					 .dst = ip->dst,
					 .mn_port = sport,
					 .lifetime = rq.lifetime,
					 .flags = rq.flags,
					 .expires_ms = now_ms + fa->cfg.pending_timeout_ms,
					 .received_us = fa_now_us(fa)};
	fa_pending_link(fa, v);
	v->ho = (struct fa_ho_note){0};
	memcpy(v->pending.mac, mac, 6);
	if (rq.ext.nai_len > 0) {
		memcpy(v->nai, rq.ext.nai, rq.ext.nai_len);
		v->nai[rq.ext.nai_len] = '\0';
	}
	log_debug("request from %s relayed to %s", IP4_STR(rq.home_addr), IP4_STR(rq.home_agent));
	/*
	 * SA reuse: fetch the node's SAs while the home agent answers (in
	 * parallel).  The home agent first: its answer is the longer way, and
	 * on a shared machine whoever is woken first runs first.
	 */
	fa_relay_request(fa, msg, &rq);
	if (rq.ext.reuse.present && fa->guard.reuse_request != NULL)
		fa->guard.reuse_request(fa->guard.arg, mac, msg, len, &rq);
}

static void fa_on_solicitation(struct fa *fa, const uint8_t *icmp, size_t len, uint64_t now_ms)
{
	enum mip_adv_err e = mip_sol_parse(icmp, len);

	if (e != MIP_ADV_OK) {
		fa->ctr.drop_malformed++;
		log_rl_notice("solicitation: %s", mip_adv_err_name(e));
		return;
	}
	fa->ctr.solicitations++;
	/* Answer at once, the hand-over waits on it; but not faster than the gap allows. */
	if (fa->last_solicited_adv_ms != 0 &&
	    now_ms - fa->last_solicited_adv_ms < FA_SOLICITED_ADV_GAP_MS) {
		fa->ctr.drop_solicitation_rate++;
		return;
	}
	fa->last_solicited_adv_ms = now_ms;
	log_debug("agent solicitation: advertising");
	fa_advertise(fa);
}

static bool fa_secured(struct fa *fa, struct in_addr home_addr)
{
	return fa->guard.secured != NULL && fa->guard.secured(fa->guard.arg, home_addr);
}

/* A registration request or solicitation, cleartext or out of ESP, parsed once. */
static void fa_link_packet(struct fa *fa, const uint8_t mac[6], const struct ip4_pkt *p,
			   uint64_t now_ms, bool protected)
{
	const struct ip4_hdr *ip = &p->h;

	if (p->fragment) {
		fa->ctr.drop_malformed++;
		log_rl_notice("packet on the access link: %s", ip4_err_name(IP4_E_FRAGMENT));
		return;
	}
	if (ip->proto == IP4_PROTO_ICMP && !protected) {
		fa_on_solicitation(fa, buf_rptr(&p->payload), buf_left(&p->payload), now_ms);
		return;
	}
	if (!p->udp) {
		fa->ctr.drop_malformed++;
		log_rl_notice("packet on the access link: %s",
			      ip4_err_name(ip->proto == IP4_PROTO_UDP ? IP4_E_UDP : IP4_E_PROTO));
		return;
	}
	if (p->dport != MIP_PORT || ip->dst.s_addr != fa->cfg.alias.s_addr) {
		fa->ctr.drop_not_for_us++;
		return;
	}
	/* A node with IPsec SAs registers under them, never in the clear (but see cleartext_ok). */
	if (!protected && fa_secured(fa, ip->src) &&
	    (fa->guard.cleartext_ok == NULL ||
	     !fa->guard.cleartext_ok(fa->guard.arg, ip->src, buf_rptr(&p->udp_payload),
				     buf_left(&p->udp_payload)))) {
		fa->ctr.drop_cleartext++;
		log_rl_notice("cleartext registration from %s, which has IPsec SAs: dropped",
			      IP4_STR(ip->src));
		return;
	}
	fa_on_request(fa, mac, ip, p->sport, buf_rptr(&p->udp_payload), buf_left(&p->udp_payload),
		      now_ms);
}

void fa_from_link(struct fa *fa, const uint8_t mac[6], const uint8_t *pkt, size_t len,
		  uint64_t now_ms)
{
	struct ip4_pkt p;
	enum ip4_err e = ip4_pkt_parse(pkt, len, &p);

	if (e != IP4_OK) {
		fa->ctr.drop_malformed++;
		log_rl_notice("packet on the access link: %s", ip4_err_name(e));
		return;
	}
	fa_link_packet(fa, mac, &p, now_ms, false);
}

void fa_from_esp(struct fa *fa, const uint8_t mac[6], const struct ip4_pkt *p, uint64_t now_ms)
{
	struct in_addr dst = p->h.dst;

	fa->ctr.esp_packets++;
	if (dst.s_addr == fa->cfg.alias.s_addr && p->h.proto == IP4_PROTO_UDP)
		fa_link_packet(fa, mac, p, now_ms, true);
	else if (dst.s_addr == fa->cfg.alias.s_addr || dst.s_addr == fa->cfg.coa.s_addr)
		fa->ops.to_forward(fa->ops.arg, p->data,
				   p->h.total_len); /* for us: to the kernel */
	else
		fa_visitor_packet(fa, p, true);
}

/* What to relay to the mobile node: the reply up to its MN-HA extension (3.7.3.2). */
static size_t fa_reply_keep(const struct mip_reg_reply *rp, size_t len)
{
	if (rp->ext.mn_ha.present)
		return rp->ext.mn_ha.end;
	if (rp->ext.fa_ha.present)
		return rp->ext.fa_ha.offset;
	return len;
}

static void fa_apply_reply(struct fa *fa, struct fa_visitor *v, const struct mip_reg_reply *rp,
			   uint64_t now_ms)
{
	struct fa_pending *p = &v->pending;

	if (!mip_code_accepted(rp->code)) {
		fa->ctr.reg_denied_by_ha++;
		log_rl_info("registration of %s denied by %s: %s", IP4_STR(v->home_addr),
			    IP4_STR(p->home_agent), mip_code_name(rp->code));
		return;
	}
	fa->ctr.reg_accepted++;
	v->accepted_id = p->id;
	if (rp->lifetime == 0) {
		fa->ctr.deregistrations++;
		v->active = false;
		return;
	}
	if (!v->active)
		v->since_ms = now_ms;
	v->active = true;
	memcpy(v->mac, p->mac, 6);
	v->home_agent = p->home_agent;
	v->mn_port = p->mn_port;
	v->reverse_tunnel = (p->flags & MIP_RQ_T) != 0;
	/* What fits through the reverse tunnel: asked per registration, not per packet. */
	v->tunnel_mtu = v->reverse_tunnel && fa->ops.path_mtu != NULL
				? pmtu_ipip_inner(fa->ops.path_mtu(fa->ops.arg, v->home_agent))
				: 0;
	v->lifetime = rp->lifetime < p->lifetime ? rp->lifetime : p->lifetime;
	v->expires_ms = now_ms + (uint64_t)v->lifetime * 1000;
}

void fa_note_handover(struct fa *fa, struct in_addr home, const struct fa_ho_note *n)
{
	struct fa_visitor *v = fa_find_visitor(fa, home);

	if (v != NULL)
		v->ho = *n;
}

/*
 * One line per accepted registration, as it goes to the node, in key=value
 * fields an operator can grep: the node, its home agent, where its SAs came
 * from (sas=negotiation: the node negotiates or has negotiated them with
 * us; none: no IPsec), the domain's technique when SAs were transferred,
 * and how long the registration took here, request in
 * to reply out (time_us), of which the reply waited for the SAs held_us.
 */
static void fa_log_registration(struct fa *fa, struct fa_visitor *v)
{
	const struct fa_ho_note *n = &v->ho;
	bool ipsec = fa->guard.secured != NULL && fa->guard.secured(fa->guard.arg, v->home_addr);
	uint64_t now = fa_now_us(fa), in = v->pending.received_us;
	char prev[INET_ADDRSTRLEN] = "-";

	if (n->prev.s_addr != 0)
		inet_ntop(AF_INET, &n->prev, prev, sizeof(prev));
	char fa_coa[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &fa->cfg.coa, fa_coa, sizeof(fa_coa));
	log_info("registration node=%s fa=%s ha=%s lifetime=%u tunnel=%s reuse=%s sas=%s prev=%s "
		 "technique=%s time_us=%llu xfer_us=%llu held_us=%llu",
		 IP4_STR(v->home_addr), fa_coa, IP4_STR(v->home_agent), v->lifetime,
		 v->reverse_tunnel ? "reverse" : "forward", n->reuse != NULL ? n->reuse : "-",
		 n->sas != NULL ? n->sas
		 : ipsec        ? "negotiation"
				: "none",
		 prev, n->technique != NULL ? n->technique : "-",
		 (unsigned long long)(in != 0 && now >= in ? now - in : 0),
		 (unsigned long long)n->xfer_us, (unsigned long long)n->held_us);
	v->ho = (struct fa_ho_note){0};
}

/* Append MN-FA where we share a key with the node (it covers all before it) and send. */
static void fa_finish_reply(struct fa *fa, struct in_addr home, const uint8_t mac[6],
			    struct in_addr src, uint16_t port, uint8_t *msg, size_t len, size_t cap)
{
	const struct mip_key *mk = fa_peer_key(fa->cfg.mns, fa->cfg.n_mns, home);
	struct buf b;

	buf_init_append(&b, msg, cap, len);
	if (mk != NULL && mip_ext_put_auth(&b, MIP_EXT_MN_FA_AUTH, mk->spi, mk->key, mk->len) < 0)
		return;
	fa_send_to_mn(fa, mac, src, home, port, msg, buf_used(&b));
}

bool fa_send_reply(struct fa *fa, struct in_addr home, uint8_t *msg, size_t len, size_t cap)
{
	struct fa_visitor *v = fa_find_visitor(fa, home);

	if (v == NULL || !v->active)
		return false;
	fa_finish_reply(fa, home, v->mac, fa->cfg.alias, v->mn_port, msg, len, cap);
	fa_log_registration(fa, v);
	return true;
}

/* The FA rejects a reply: tell the node, and forget a visitor that has nothing left. */
static void fa_pending_fail(struct fa *fa, struct fa_visitor *v, const struct mip_reg_request *rq,
			    uint8_t code)
{
	struct fa_pending p = v->pending;

	fa_pending_end(fa, v);
	fa_deny(fa, p.mac, p.dst, p.mn_port, rq, code);
	if (!v->active)
		fa_visitor_free(fa, v, "reply refused");
}

void fa_from_ha(struct fa *fa, struct in_addr src, const uint8_t *msg, size_t len, uint64_t now_ms)
{
	struct mip_reg_reply rp;
	enum mip_perr pe = mip_reply_parse(msg, len, &rp);
	struct fa_visitor *v;

	fa->ctr.reg_replies++;
	if (pe == MIP_PERR_TRUNCATED || pe == MIP_PERR_TYPE || pe == MIP_PERR_UNKNOWN_EXT) {
		fa->ctr.drop_malformed++;
		log_rl_notice("reply from %s: %s, discarded", IP4_STR(src), mip_perr_name(pe));
		return;
	}
	v = fa_find_visitor(fa, rp.home_addr);
	/* RFC 5944 3.7.3.1: match on home address and the low 32 bits of Identification. */
	if (v == NULL || !v->pending.active || v->pending.home_agent.s_addr != src.s_addr ||
	    (uint32_t)v->pending.id != (uint32_t)rp.id) {
		fa->ctr.drop_reply_no_pending++;
		log_rl_notice("reply from %s for %s matches no pending request", IP4_STR(src),
			      IP4_STR(rp.home_addr));
		return;
	}
	struct fa_pending p = v->pending;
	struct mip_reg_request rq = {
		.home_addr = v->home_addr, .home_agent = p.home_agent, .id = p.id};
	if (pe != MIP_PERR_OK) {
		fa_pending_fail(fa, v, &rq, MIP_CODE_FA_BAD_REPLY);
		return;
	}
	const struct mip_key *hk = fa_peer_key(fa->cfg.has, fa->cfg.n_has, src);
	if (fa->cfg.require_ha_auth || rp.ext.fa_ha.present) {
		enum mip_auth_result ar = mip_auth_check(msg, &rp.ext.fa_ha, hk);
		if (ar != MIP_AUTH_OK) {
			fa->ctr.deny_ha_auth++;
			log_rl_notice("reply from %s: FA-HA %s", IP4_STR(src),
				      mip_auth_result_name(ar));
			fa_pending_fail(fa, v, &rq, MIP_CODE_FA_HA_AUTH);
			return;
		}
	}
	fa_pending_end(fa, v);
	fa_apply_reply(fa, v, &rp, now_ms);

	uint8_t out[1024];
	size_t olen;
	struct buf b;
	buf_init_write(&b, out, sizeof(out));
	if (buf_put_bytes(&b, msg, fa_reply_keep(&rp, len)) != BUF_OK)
		return;
	olen = buf_used(&b);
	/*
	 * The daemon may add extensions for the node, or hold an accepted reply
	 * a moment (SA reuse); it sees denials too, to drop what it took in.
	 */
	if (fa->guard.reply_filter != NULL &&
	    fa->guard.reply_filter(fa->guard.arg, v->home_addr, out, &olen, sizeof(out)) == 1 &&
	    v->active)
		return;
	fa_finish_reply(fa, v->home_addr, p.mac, p.dst, p.mn_port, out, olen, sizeof(out));
	if (v->active && mip_code_accepted(rp.code))
		fa_log_registration(fa, v);
	if (!v->active)
		fa_visitor_free(fa, v, mip_code_accepted(rp.code) ? "deregistered" : "denied");
}

void fa_expire(struct fa *fa, uint64_t now_ms)
{
	struct fa_visitor **gone = NULL;
	size_t n_gone = 0, it = 0;
	uint32_t k;
	void *val;

	/* Collect first: deleting from the map while walking it would skip entries. */
	while (u32map_next(&fa->visitors, &it, &k, &val)) {
		struct fa_visitor *v = val;
		if (v->pending.active && v->pending.expires_ms <= now_ms) {
			fa->ctr.pending_expired++;
			fa_pending_end(fa, v);
		}
		if (v->active && v->expires_ms <= now_ms) {
			fa->ctr.visitors_expired++;
			v->active = false;
		}
		if (v->active || v->pending.active)
			continue;
		if (gone == NULL)
			gone = malloc(u32map_len(&fa->visitors) * sizeof(*gone));
		if (gone == NULL)
			return; /* try again at the next sweep */
		gone[n_gone++] = v;
	}
	for (size_t i = 0; i < n_gone; i++)
		fa_visitor_free(fa, gone[i], "lifetime expired");
	free(gone);
}

void fa_advertise(struct fa *fa)
{
	static const uint8_t all_nodes_mac[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};
	struct in_addr all_nodes = {.s_addr = htonl(0xe0000001)};
	struct mip_agent_adv adv = {
		.code = MIP_ADV_CODE_ROUTE,
		.lifetime = fa->cfg.adv_lifetime,
		.n_routers = 1,
		.routers = {{.addr = fa->cfg.alias, .pref = 0}},
		.seq = fa->adv_seq,
		.reg_lifetime = fa->cfg.max_lifetime,
		.flags = MIP_ADV_R | MIP_ADV_F | (fa->cfg.reverse_tunnel ? MIP_ADV_T : 0) |
			 (u32map_len(&fa->visitors) >= fa->cfg.max_visitors ? MIP_ADV_B : 0),
		.n_coa = 1,
		.coa = {fa->cfg.coa},
		.n_prefix_len = 1,
		.prefix_len = {fa->cfg.alias_plen},
	};
	uint8_t icmp[128], pkt[256];
	struct buf bi, bp;

	buf_init_write(&bi, icmp, sizeof(icmp));
	buf_init_write(&bp, pkt, sizeof(pkt));
	/* RFC 5944 2.3.1: advertisements go with TTL 1. */
	if (mip_adv_put(&bi, &adv) < 0 ||
	    ip4_icmp_put(&bp, fa->cfg.alias, all_nodes, 1, icmp, buf_used(&bi)) < 0) {
		log_err("cannot build an advertisement");
		return;
	}
	/* RFC 5944 2.3.1: after 0xffff the sequence number wraps to 256, not 0. */
	fa->adv_seq = fa->adv_seq == 0xffff ? 256 : fa->adv_seq + 1;
	fa->ctr.advertisements++;
	fa_to_link(fa, all_nodes_mac, all_nodes, FA_OUT_ADVERT, pkt, buf_used(&bp));
}
