/*
 * The foreign agent's IPsec side (fa_sec.h): IKEv1 responder on the alias
 * address, and ESP between the alias and each visitor, through the shared
 * endpoint (common/ipsec_ep.c).  IKE arrives through the access-link
 * capture (so we learn the sender's MAC, as for registrations); ESP from
 * the daemon's UDP 4500 or raw protocol-50 socket.  What we send to a
 * visitor leaves by its MAC, sealed when it has SAs.
 */
#include "ctl.h"
#include "fa_sec.h"
#include "fa_hold.h"
#include "ike.h"
#include "ip4.h"
#include "isakmp.h"
#include "log.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define FA_MAX_MACS 65536

struct fa_mac {
	uint8_t mac[6];
};

static void fa_learn_mac(struct fa_sec *s, struct in_addr addr, const uint8_t mac[6])
{
	struct fa_mac *m = u32map_get(&s->macs, addr.s_addr);

	if (m == NULL) {
		if (u32map_len(&s->macs) >= FA_MAX_MACS || (m = malloc(sizeof(*m))) == NULL) {
			log_rl_warn("no room to learn the MAC of %s", IP4_STR(addr));
			return;
		}
		if (u32map_put(&s->macs, addr.s_addr, m) < 0) {
			free(m);
			return;
		}
	}
	memcpy(m->mac, mac, 6);
}

static const uint8_t *fa_mac_of(void *arg, struct in_addr addr)
{
	struct fa_sec *s = arg;
	struct fa_mac *m = u32map_get(&s->macs, addr.s_addr);
	struct fa_visitor *v;

	if (m != NULL)
		return m->mac;
	v = fa_find_visitor(s->fa, addr);
	return v != NULL && v->active ? v->mac : NULL;
}

static void fa_ep_to_link(void *arg, const uint8_t mac[6], const uint8_t *pkt, size_t len)
{
	struct fa_sec *s = arg;

	s->ops.to_link(s->ops.arg, mac, pkt, len);
}

/* ---- IKE ---- */

static const struct ike_peer *fa_ike_peer(void *arg, struct in_addr addr)
{
	struct fa_sec *s = arg;

	return ipsec_conf_peer(s->ic, addr);
}

static void fa_ike_child_up(void *arg, struct ike_child *c)
{
	struct fa_sec *s = arg;
	struct ipsec_pair *p = ipsec_add(&s->ep.sas, c, c->remote_net.s_addr);

	if (p == NULL)
		return;
	p->last_in_ms = ev_loop_now_ms(s->loop);
	/* Our own packets to the node (ICMP errors, pings to the alias) go through its SA. */
	if (c->remote_plen == 32 && s->ops.route != NULL && !fa_reuse_importing(s, c->peer))
		s->ops.route(s->ops.arg, c->remote_net, true);
	/* Not the pairs a transfer installs: fa_reuse stores them once their numbers are set. */
	fa_reuse_note_pair(s, c->remote_net);
	/* nor sends on them: their numbers are not set yet, and nothing was held for them */
	if (!fa_reuse_importing(s, c->peer))
		fa_hold_flush(s, c->remote_net);
}

void fa_sec_route_node(struct fa_sec *s, struct in_addr home)
{
	for (struct ike_child *c = ike_children(s->ep.ike); c != NULL; c = c->next)
		if (c->peer.s_addr == home.s_addr && c->remote_plen == 32 && s->ops.route != NULL &&
		    ipsec_find_spi(&s->ep.sas, c->spi_in) != NULL)
			s->ops.route(s->ops.arg, c->remote_net, true);
}

static void fa_ike_child_down(void *arg, struct ike_child *c, const char *why)
{
	struct fa_sec *s = arg;

	ipsec_del(&s->ep.sas, c->spi_in);
	if (c->remote_plen == 32 && s->ops.route != NULL &&
	    ipsec_find(&s->ep.sas, c->remote_net.s_addr) == NULL)
		s->ops.route(s->ops.arg, c->remote_net, false);
}

static bool fa_sec_secured(void *arg, struct in_addr home_addr)
{
	struct fa_sec *s = arg;

	return ipsec_find(&s->ep.sas, home_addr.s_addr) != NULL;
}

/*
 * IKE to any address but the alias, the care-of address say, or from
 * anywhere but the access link: the daemon's sockets listen on every
 * address, but the visitors' SAs are with the alias, and only the access
 * link tells us a sender's MAC to answer to.
 */
void fa_sec_not_alias(struct fa_sec *s, struct in_addr src, struct in_addr dst, uint16_t port)
{
	s->ctr.ike_drop_not_alias++;
	log_rl_notice("IKE from %s to %s:%u dropped: IKE is on the alias %s from the access link "
		      "only",
		      IP4_STR(src), IP4_STR(dst), port, IP4_STR(s->fa->cfg.alias));
}

int fa_sec_frame(struct fa_sec *s, const uint8_t mac[6], const uint8_t *pkt, size_t len)
{
	struct ip4_hdr ip;
	struct buf udp;
	uint16_t sport, dport;
	const uint8_t *m;
	size_t mlen;

	if (s->ep.ike == NULL ||
	    ip4_udp_parse_captured(pkt, len, &ip, &sport, &dport, &udp) != IP4_OK ||
	    (dport != ISAKMP_PORT && dport != ISAKMP_NATT_PORT))
		return 0;
	if (ip.dst.s_addr != s->fa->cfg.alias.s_addr) {
		fa_sec_not_alias(s, ip.src, ip.dst, dport);
		return 1;
	}
	m = buf_rptr(&udp);
	mlen = buf_left(&udp);
	if (dport == ISAKMP_NATT_PORT) {
		/* RFC 3948 2.2: a zero non-ESP marker says IKE; the filter let only those in. */
		if (mlen < ISAKMP_NON_ESP_MARKER_LEN ||
		    memcmp(m, "\0\0\0\0", ISAKMP_NON_ESP_MARKER_LEN) != 0)
			return 1;
		m += ISAKMP_NON_ESP_MARKER_LEN;
		mlen -= ISAKMP_NON_ESP_MARKER_LEN;
	}
	fa_learn_mac(s, ip.src, mac);
	ipsec_ep_ike_in(&s->ep, ip.dst, dport, ip.src, sport, m, mlen);
	return 1;
}

/* ---- ESP ---- */

void fa_sec_esp_in(struct fa_sec *s, const uint8_t *esp, size_t len)
{
	uint8_t inner[IP4_MAX_PACKET];
	struct ipsec_pair *p;
	struct ip4_pkt pkt;
	const uint8_t *mac;

	if (ipsec_ep_open(&s->ep, esp, len, inner, sizeof(inner), &pkt, &p) < 0)
		return;
	p->last_in_ms = ev_loop_now_ms(s->loop);
	mac = fa_mac_of(s, p->peer);
	if (mac == NULL) {
		s->ep.ctr.ike_drop_no_mac++;
		return;
	}
	fa_from_esp(s->fa, mac, &pkt, ev_loop_now_ms(s->loop));
}

static void fa_seal_send(struct fa_sec *s, struct ipsec_pair *p, const uint8_t *mac,
			 const uint8_t *pkt, size_t len)
{
	if (ipsec_ep_seal_send(&s->ep, p, mac, pkt, len) < 0)
		return;
	/*
	 * The store's copy, or the blocks of our offers, limit our outbound
	 * numbers to reserved_seq: renew half-way while the SAs are still
	 * ours.  A store copy one write at a time, and only while the node is
	 * still with us (it sent lately): a copy written after it left would
	 * replace the new FA's.  Offers whatever the node sends: a node that
	 * only receives must not run into the limit, and numbers given after
	 * it left are above what the FA it went to goes on from only once we
	 * released the SAs, with a top that counts them.
	 */
	if (p->seq_limited && !p->handed_over && p->reserve_pending == 0 &&
	    p->out.seq_out + s->dom->seq_reserve / 2 > p->reserved_seq &&
	    !fa_reuse_renew_offers(s, p) &&
	    ev_loop_now_ms(s->loop) - p->last_in_ms < FA_REUSE_ACTIVE_MS)
		fa_reuse_note_pair(s, p->remote_net);
}

bool fa_sec_to_node(struct fa_sec *s, const uint8_t mac[6], struct in_addr dst, const uint8_t *pkt,
		    size_t len)
{
	struct ipsec_pair *p = ipsec_find(&s->ep.sas, dst.s_addr);

	if (p == NULL)
		return false;
	fa_seal_send(s, p, mac, pkt, len);
	return true;
}

/*
 * What the Mobile IP core sends on the access link, protected as the
 * visitor's SAs say: advertisements go as they are; to a visitor with SAs
 * through them (a reply to a hand-over's cleartext registration may go
 * before the SAs taken over may carry anything: our store copy is on its
 * way); a node we must protect but have no SAs with yet (negotiating, or
 * Quick Mode after a partial hand-over) gets only our registration reply
 * in the clear, never its data.
 */
static void fa_guard_to_link(void *arg, const uint8_t mac[6], struct in_addr dst, enum fa_out kind,
			     const uint8_t *pkt, size_t len)
{
	struct fa_sec *s = arg;
	struct ipsec_pair *p;

	if (kind == FA_OUT_ADVERT || (mac[0] & 1)) {
		s->ops.to_link(s->ops.arg, mac, pkt, len);
		return;
	}
	/* a hand-over taking the node's SAs in: its data waits until it counts (fa_hold.h) */
	if (kind != FA_OUT_REPLY && s->xfers.len > 0 && fa_reuse_importing(s, dst)) {
		if (!fa_hold(s, mac, dst, pkt, len))
			s->ctr.drop_no_sa++;
		return;
	}
	p = ipsec_find(&s->ep.sas, dst.s_addr);
	if (p != NULL && (ipsec_may_send(p) || kind != FA_OUT_REPLY)) {
		fa_seal_send(s, p, mac, pkt, len);
		if (kind != FA_OUT_REPLY && s->xfers.len > 0)
			fa_reuse_data_out(s, dst);
		return;
	}
	if (s->ep.ike != NULL && ipsec_conf_peer(s->ic, dst) != NULL && kind != FA_OUT_REPLY) {
		/* an ISAKMP SA and no pair: a Quick Mode is under way, held rather than lost */
		if (ike_sa_find_peer(s->ep.ike, dst) == NULL || !fa_hold(s, mac, dst, pkt, len))
			s->ctr.drop_no_sa++;
		return;
	}
	s->ops.to_link(s->ops.arg, mac, pkt, len);
}

static size_t fa_sec_visitor_mtu(void *arg, struct in_addr home_addr)
{
	struct fa_sec *s = arg;
	struct ipsec_pair *p = ipsec_find(&s->ep.sas, home_addr.s_addr);

	return p != NULL ? pmtu_esp_inner(p->out.alg, p->udp_encap, s->access_mtu) : s->access_mtu;
}

struct fa_local {
	struct fa_sec *s;
	struct ipsec_pair *p;
	const uint8_t *mac;
};

static void fa_local_piece(void *arg, const uint8_t *pkt, size_t len)
{
	struct fa_local *l = arg;

	fa_seal_send(l->s, l->p, l->mac, pkt, len);
}

/* An ICMP error about our own packet goes back to our own stack. */
static void fa_local_icmp(void *arg, const uint8_t *pkt, size_t len)
{
	struct fa_local *l = arg;

	l->s->ops.to_stack(l->s->ops.arg, pkt, len);
}

int fa_sec_from_stack(struct fa_sec *s, const uint8_t *pkt, size_t len)
{
	struct ip4_pkt ip;
	struct in_addr dst;
	struct fa_local l = {.s = s};

	if (ip4_pkt_parse(pkt, len, &ip) != IP4_OK)
		return 0;
	dst = ip.h.dst;
	len = ip.h.total_len;
	l.p = ipsec_find(&s->ep.sas, dst.s_addr);
	if (l.p == NULL)
		return 0;
	l.mac = fa_mac_of(s, l.p->peer);
	if (l.mac == NULL)
		return 1;
	/* Our stack sees an error from the visitor's address: ours would be a martian there. */
	s->local_path.icmp_src = dst;
	pmtu_send(&s->local_path, &l, pkt, len,
		  pmtu_esp_inner(l.p->out.alg, l.p->udp_encap, s->access_mtu));
	return 1;
}

/* ---- setup ---- */

int fa_sec_init(struct fa_sec *s, struct fa *fa, struct ev_loop *loop, const struct ipsec_conf *ic,
		struct fa_domain *dom, const struct fa_store *store, size_t access_mtu,
		const struct fa_sec_ops *ops)
{
	struct ike_ops owner = {.peer_lookup = fa_ike_peer,
				.child_up = fa_ike_child_up,
				.child_down = fa_ike_child_down,
				.arg = s};
	struct ipsec_ep_ops eops = {.to_link = fa_ep_to_link, .mac_of = fa_mac_of, .arg = s};

	memset(s, 0, sizeof(*s));
	s->fa = fa;
	s->loop = loop;
	s->ic = ic;
	s->dom = dom;
	s->ops = *ops;
	s->access_mtu = access_mtu;
	u32map_init(&s->macs);
	u32map_init(&s->held);
	s->local_path = (struct pmtu_path){.name = "our own packets to a visitor",
					   .send = fa_local_piece,
					   .icmp = fa_local_icmp};
	if (store != NULL)
		s->store = *store;
	if (ipsec_ep_init(&s->ep, loop, ic->enabled ? &ic->ike : NULL, &owner, &eops) < 0 ||
	    fa_reuse_init(s) < 0)
		return -1;
	if (!ic->enabled)
		return 0;
	/* Thousands of visitors, few busy at once: keyed contexts only for those (esp.h). */
	if (ipsec_use_cache(&s->ep.sas, ic->esp_cache_pairs) < 0) {
		log_err("IPsec: no memory for a cache of %" PRIu32 " SA pairs",
			ic->esp_cache_pairs);
		return -1;
	}
	fa->guard = (struct fa_guard){.to_link = fa_guard_to_link,
				      .visitor_mtu = fa_sec_visitor_mtu,
				      .secured = fa_sec_secured,
				      .arg = s};
	fa_reuse_guard(s, &fa->guard);
	log_notice("IPsec: IKEv1 responder on %s for %zu peers", IP4_STR(fa->cfg.alias),
		   ic->n_peers);
	return 0;
}

void fa_sec_free(struct fa_sec *s)
{
	size_t it = 0;
	uint32_t k;
	void *v;

	if (s->fa != NULL)
		s->fa->guard = (struct fa_guard){0};
	fa_reuse_free(s);
	fa_hold_free_all(s);
	ipsec_ep_free(&s->ep); /* sends Delete for what is up, calls child_down */
	while (u32map_next(&s->macs, &it, &k, &v))
		free(v);
	u32map_free(&s->macs);
}

int fa_sec_ctl_keys(struct fa_sec *s, int argc, char **argv, struct ctl_out *o, char *err,
		    size_t errlen)
{
	return ipsec_ep_ctl_keys(&s->ep, argc, argv, o, err, errlen);
}

/* The keyed-context cache of the pairs (esp.h): how often a packet found its contexts keyed. */
static void fa_sec_ctl_cache(struct fa_sec *s, struct ctl_out *o)
{
	struct esp_cache_stats cs;

	esp_cache_get_stats(s->ep.sas.cache, &cs);
	ctl_obj_begin(o, "esp_cache_counters");
	ctl_u64(o, "slots", cs.slots);
	ctl_u64(o, "bound", cs.bound);
	ctl_u64(o, "hits", cs.hits);
	ctl_u64(o, "misses", cs.misses);
	ctl_u64(o, "evictions", cs.evictions);
	ctl_obj_end(o);
}

void fa_sec_ctl_sas(struct fa_sec *s, struct ctl_out *o)
{
	ipsec_ep_ctl(&s->ep, o);
#define FA_SEC_CTL(n) ctl_u64(o, #n, s->ctr.n);
	FA_SEC_COUNTERS(FA_SEC_CTL)
#undef FA_SEC_CTL
	ctl_obj_end(o);
	fa_sec_ctl_cache(s, o);
	pmtu_ctl(o, "local_mtu_counters", &s->local_path.ctr);
	fa_reuse_ctl(s, o);
}
