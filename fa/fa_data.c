/*
 * Foreign agent data plane: packets from home agents' tunnels are
 * decapsulated (RFC 2003) and delivered to the visitor by its link-layer
 * address; visitors' packets are reverse-tunnelled to their home agent
 * (RFC 3024) or forwarded as they are.
 */
#include "fa.h"
#include "ip4.h"
#include "log.h"

#include <string.h>

#define FA_TUNNEL_TTL 64

/* Decrement the TTL as a router does, patching the checksum (RFC 1624). */
static bool fa_ttl_decrement(uint8_t *ip)
{
	if (ip[8] <= 1)
		return false;
	ip[8]--;
	uint32_t sum = (uint32_t)(ip[10] << 8 | ip[11]) + 0x0100;
	sum = (sum & 0xffff) + (sum >> 16);
	ip[10] = (uint8_t)(sum >> 8);
	ip[11] = (uint8_t)sum;
	return true;
}

struct fa_piece {
	struct fa *fa;
	struct fa_visitor *v;
};

static void fa_deliver_piece(void *arg, const uint8_t *pkt, size_t len)
{
	struct fa_piece *p = arg;

	fa_to_link(p->fa, p->v->mac, p->v->home_addr, FA_OUT_DATA, pkt, len);
}

/* An ICMP error about a packet from a correspondent: routed as it is. */
static void fa_icmp_out(void *arg, const uint8_t *pkt, size_t len)
{
	struct fa_piece *p = arg;

	p->fa->ops.to_tunnel(p->fa->ops.arg, pkt, len);
}

static void fa_reverse_piece(void *arg, const uint8_t *pkt, size_t len)
{
	struct fa_piece *p = arg;
	uint8_t out[IP4_MAX_PACKET];
	struct buf b;

	buf_init_write(&b, out, sizeof(out));
	if (ip4_encap(&b, p->fa->cfg.coa, p->v->home_agent, FA_TUNNEL_TTL, pkt, len) < 0) {
		p->fa->ctr.drop_malformed++;
		return;
	}
	p->v->reverse_packets++;
	p->fa->ctr.reverse_tunnelled_packets++;
	p->fa->ops.to_tunnel(p->fa->ops.arg, out, buf_used(&b));
}

void fa_data_init(struct fa *fa)
{
	/* ICMP errors come from the address the sender knows us by. */
	fa->deliver_path = (struct pmtu_path){.name = "delivery to visitor",
					      .send = fa_deliver_piece,
					      .icmp = fa_icmp_out,
					      .icmp_src = fa->cfg.coa};
	fa->reverse_path = (struct pmtu_path){.name = "reverse tunnel",
					      .send = fa_reverse_piece,
					      .icmp = fa_deliver_piece,
					      .icmp_src = fa->cfg.alias};
}

void fa_from_tunnel(struct fa *fa, uint8_t *pkt, size_t len)
{
	struct ip4_hdr outer, inner;
	struct buf payload, ip;
	struct fa_visitor *v;

	if (ip4_parse(pkt, len, &outer, &payload) != IP4_OK || outer.proto != IP4_PROTO_IPIP ||
	    outer.dst.s_addr != fa->cfg.coa.s_addr) {
		fa->ctr.drop_malformed++;
		return;
	}
	uint8_t *in = pkt + outer.hlen;
	if (ip4_parse_fwd(in, buf_left(&payload), &inner, &ip) != IP4_OK) {
		fa->ctr.drop_malformed++;
		return;
	}
	v = fa_find_visitor(fa, inner.dst);
	if (v == NULL || !v->active) {
		fa->ctr.drop_not_visitor++;
		return;
	}
	/* Only the visitor's own home agent may tunnel to it. */
	if (outer.src.s_addr != v->home_agent.s_addr) {
		fa->ctr.drop_tunnel_source++;
		log_rl_notice("tunnel from %s for %s, whose home agent is %s", IP4_STR(outer.src),
			      IP4_STR(inner.dst), IP4_STR(v->home_agent));
		return;
	}
	if (!fa_ttl_decrement(in)) {
		fa->ctr.drop_ttl++;
		return;
	}
	v->delivered_packets++;
	fa->ctr.delivered_packets++;
	if (fa->cfg.deliver_routed) {
		/* The kernel routes it, and fragments it for whatever link it takes. */
		fa->ops.to_forward(fa->ops.arg, in, inner.total_len);
		return;
	}
	struct fa_piece piece = {.fa = fa, .v = v};
	pmtu_send(&fa->deliver_path, &piece, in, inner.total_len,
		  fa->guard.visitor_mtu ? fa->guard.visitor_mtu(fa->guard.arg, v->home_addr) : 0);
}

void fa_from_visitor(struct fa *fa, const uint8_t *pkt, size_t len)
{
	struct ip4_pkt p;

	if (ip4_pkt_parse(pkt, len, &p) != IP4_OK) {
		fa->ctr.drop_malformed++;
		return;
	}
	fa_visitor_packet(fa, &p, false);
}

void fa_visitor_packet(struct fa *fa, const struct ip4_pkt *p, bool protected)
{
	const struct ip4_hdr *h = &p->h;
	struct fa_visitor *v;

	if (!protected && fa->guard.secured != NULL && fa->guard.secured(fa->guard.arg, h->src)) {
		/* Its SAs exist: everything it sends must come through them. */
		fa->ctr.drop_cleartext++;
		return;
	}
	v = fa_find_visitor(fa, h->src);
	if (v == NULL || !v->active) {
		fa->ctr.drop_not_visitor++;
		log_rl_debug("packet from %s, not a registered visitor", IP4_STR(h->src));
		return;
	}
	if (!v->reverse_tunnel) {
		fa->ctr.forwarded_packets++;
		fa->ops.to_forward(fa->ops.arg, p->data, h->total_len);
		return;
	}
	struct fa_piece piece = {.fa = fa, .v = v};
	pmtu_send(&fa->reverse_path, &piece, p->data, h->total_len, v->tunnel_mtu);
}
