/*
 * TUN offload: see tun_gso.h.
 */
#include "tun_gso.h"
#include "ip4.h"

#include <string.h>

/* struct virtio_net_hdr (linux/virtio_net.h), spelled out: it is our input format. */
#define VNET_F_NEEDS_CSUM 0x01 /* finish the checksum at csum_start + csum_offset */
#define VNET_F_DATA_VALID 0x02 /* checksum known good: nothing to do */
#define VNET_GSO_NONE     0
#define VNET_GSO_TCPV4    1
#define VNET_GSO_ECN      0x80 /* with TCPV4: the CWR flag goes on the first segment only */

#define TCP_HDR_MIN   20
#define TCP_SEQ_OFF   4
#define TCP_FLAG_OFF  13
#define TCP_SUM_OFF   16
#define TCP_FIN       0x01
#define TCP_PSH       0x08
#define TCP_CWR       0x80
#define IP4_ID_OFF    4
#define IP4_LEN_OFF   2
#define IP4_SUM_OFF   10
#define IP4_PROTO_TCP 6

const uint8_t tun_vnet_hdr_none[TUN_VNET_HDR_LEN] = {0};

const char *tun_gso_err_name(enum tun_gso_err e)
{
	static const char *const names[TUN_GSO_E_MAX] = {
		[TUN_GSO_OK] = "ok",
		[TUN_GSO_E_SHORT] = "shorter than its headers",
		[TUN_GSO_E_VNET] = "virtio-net header not understood",
		[TUN_GSO_E_IP] = "not a whole IPv4 packet",
		[TUN_GSO_E_TCP] = "GSO packet not a TCP segment",
		[TUN_GSO_E_SEGMENT] = "bad segment size",
		[TUN_GSO_E_NOSPACE] = "no room for the packet",
	};
	return (unsigned)e < TUN_GSO_E_MAX ? names[e] : "?";
}

/* A 16-bit field of the virtio-net header, in the host's order (legacy TUN). */
static size_t tun_vnet_u16(const uint8_t *h, size_t off)
{
	uint16_t v;

	memcpy(&v, h + off, sizeof(v));
	return v;
}

static void tun_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t tun_get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* A TCP super-packet: one whole, unfragmented IPv4 TCP segment with room for its headers. */
static enum tun_gso_err tun_gso_tcp(struct tun_gso *g)
{
	struct ip4_hdr h;
	struct buf payload;
	size_t thl;

	if (ip4_parse(g->pkt, g->len, &h, &payload) != IP4_OK || h.total_len != g->len)
		return TUN_GSO_E_IP;
	if (h.proto != IP4_PROTO_TCP || buf_left(&payload) < TCP_HDR_MIN)
		return TUN_GSO_E_TCP;
	thl = (size_t)(g->pkt[h.hlen + 12] >> 4) * 4;
	if (thl < TCP_HDR_MIN || thl > buf_left(&payload))
		return TUN_GSO_E_TCP;
	g->hdr_len = h.hlen + thl;
	if (g->mss == 0)
		return TUN_GSO_E_SEGMENT;
	g->gso = true;
	return TUN_GSO_OK;
}

enum tun_gso_err tun_gso_init(struct tun_gso *g, const uint8_t *frame, size_t len)
{
	uint8_t flags, type;

	memset(g, 0, sizeof(*g));
	if (len < TUN_VNET_HDR_LEN + 1)
		return TUN_GSO_E_SHORT;
	flags = frame[0];
	type = frame[1];
	g->mss = tun_vnet_u16(frame, 4);
	g->csum_start = tun_vnet_u16(frame, 6);
	g->csum_offset = tun_vnet_u16(frame, 8);
	g->pkt = frame + TUN_VNET_HDR_LEN;
	g->len = len - TUN_VNET_HDR_LEN;
	if ((flags & ~(VNET_F_NEEDS_CSUM | VNET_F_DATA_VALID)) != 0)
		return TUN_GSO_E_VNET;
	switch (type & ~VNET_GSO_ECN) {
	case VNET_GSO_TCPV4:
		/* Both checksums are computed again for every segment: csum_* do not matter. */
		return tun_gso_tcp(g);
	case VNET_GSO_NONE:
		if (type != VNET_GSO_NONE)
			return TUN_GSO_E_VNET;
		break;
	default:
		return TUN_GSO_E_VNET;
	}
	if (flags & VNET_F_NEEDS_CSUM) {
		/* The field and the data it covers lie inside the packet (no sum can wrap: 64 KiB).
		 */
		if (g->csum_start >= g->len || g->csum_offset > g->len - g->csum_start ||
		    g->len - g->csum_start - g->csum_offset < 2)
			return TUN_GSO_E_VNET;
		g->csum = true;
	}
	return TUN_GSO_OK;
}

/* One TCP segment of the super-packet: mss payload bytes (fewer for the last) behind its headers.
 */
static int tun_gso_segment(struct tun_gso *g, struct buf *out)
{
	size_t iphl = (size_t)(g->pkt[0] & 0x0f) * 4, seglen = g->len - g->hdr_len - g->at;
	uint8_t *p, *tcp;
	uint32_t seq, sum;
	bool last;

	if (seglen > g->mss)
		seglen = g->mss;
	last = g->at + seglen == g->len - g->hdr_len;
	if (buf_reserve(out, g->hdr_len + seglen, &p) != BUF_OK)
		return -TUN_GSO_E_NOSPACE;
	memcpy(p, g->pkt, g->hdr_len);
	memcpy(p + g->hdr_len, g->pkt + g->hdr_len + g->at, seglen);
	/* IP: this segment's length, the next Identification (as the kernel's TSO), a new checksum.
	 */
	tun_put_be16(p + IP4_LEN_OFF, (uint16_t)(g->hdr_len + seglen));
	tun_put_be16(p + IP4_ID_OFF, (uint16_t)(tun_get_be16(g->pkt + IP4_ID_OFF) + g->n));
	tun_put_be16(p + IP4_SUM_OFF, 0);
	tun_put_be16(p + IP4_SUM_OFF, inet_cksum(p, iphl));
	/* TCP: the sequence number of its first byte; FIN and PSH on the last, CWR on the first. */
	tcp = p + iphl;
	seq = (uint32_t)tcp[TCP_SEQ_OFF] << 24 | (uint32_t)tcp[TCP_SEQ_OFF + 1] << 16 |
	      (uint32_t)tcp[TCP_SEQ_OFF + 2] << 8 | tcp[TCP_SEQ_OFF + 3];
	seq += (uint32_t)g->at;
	tcp[TCP_SEQ_OFF] = (uint8_t)(seq >> 24);
	tcp[TCP_SEQ_OFF + 1] = (uint8_t)(seq >> 16);
	tcp[TCP_SEQ_OFF + 2] = (uint8_t)(seq >> 8);
	tcp[TCP_SEQ_OFF + 3] = (uint8_t)seq;
	if (!last)
		tcp[TCP_FLAG_OFF] &= (uint8_t) ~(TCP_FIN | TCP_PSH);
	if (g->n > 0)
		tcp[TCP_FLAG_OFF] &= (uint8_t)~TCP_CWR;
	tun_put_be16(tcp + TCP_SUM_OFF, 0);
	sum = inet_cksum_add(0, p + 12, 8); /* pseudo-header: source and destination */
	sum += IP4_PROTO_TCP + (uint32_t)(g->hdr_len - iphl + seglen);
	tun_put_be16(tcp + TCP_SUM_OFF,
		     inet_cksum_fold(inet_cksum_add(sum, tcp, g->hdr_len - iphl + seglen)));
	g->at += seglen;
	g->n++;
	g->done = last;
	return 1;
}

int tun_gso_next(struct tun_gso *g, struct buf *out)
{
	uint8_t *p;
	uint16_t sum;

	if (g->done)
		return 0;
	if (g->gso)
		return tun_gso_segment(g, out);
	if (buf_reserve(out, g->len, &p) != BUF_OK)
		return -TUN_GSO_E_NOSPACE;
	memcpy(p, g->pkt, g->len);
	if (g->csum) {
		/* The field holds the pseudo-header sum; the sum over it all, complemented, is the
		 * checksum. */
		sum = inet_cksum(p + g->csum_start, g->len - g->csum_start);
		/* A computed 0 goes as all ones (RFC 768; the same value to TCP), as the kernel
		 * does. */
		tun_put_be16(p + g->csum_start + g->csum_offset, sum == 0 ? 0xffff : sum);
	}
	g->n++;
	g->done = true;
	return 1;
}

/* ---- the other way: joining segments (GRO) ---- */

#define TCP_ACK 0x10

static uint32_t tun_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void tun_gro_init(struct tun_gro *g)
{
	g->len = 0;
	g->segs = 0;
	g->closed = false;
}

/* pkt is a TCP segment GRO may join (see tun_gso.h): its headers' length in *hdr_len. */
static bool tun_gro_candidate(const uint8_t *pkt, size_t len, size_t *hdr_len)
{
	struct ip4_hdr h;
	struct buf pl;
	size_t thl;
	uint32_t sum;

	if (ip4_parse(pkt, len, &h, &pl) != IP4_OK || h.total_len != len || h.hlen != IP4_HDR_LEN ||
	    h.proto != IP4_PROTO_TCP || (h.frag & IP4_DF) == 0 || buf_left(&pl) < TCP_HDR_MIN)
		return false;
	thl = (size_t)(pkt[IP4_HDR_LEN + 12] >> 4) * 4;
	if (thl < TCP_HDR_MIN || thl >= buf_left(&pl) ||
	    (pkt[IP4_HDR_LEN + TCP_FLAG_OFF] & ~TCP_PSH) != TCP_ACK)
		return false;
	/* The kernel trusts a joined packet's checksum: only correct segments are joined. */
	sum = inet_cksum_add(0, pkt + 12, 8) + IP4_PROTO_TCP + (uint32_t)(len - IP4_HDR_LEN);
	if (inet_cksum_fold(inet_cksum_add(sum, pkt + IP4_HDR_LEN, len - IP4_HDR_LEN)) != 0)
		return false;
	*hdr_len = IP4_HDR_LEN + thl;
	return true;
}

/* pkt (a candidate) continues the super-packet in g. */
static bool tun_gro_follows(const struct tun_gro *g, const uint8_t *pkt, size_t len, size_t hdr_len)
{
	const uint8_t *s = g->frame + TUN_VNET_HDR_LEN, *t = pkt + IP4_HDR_LEN,
		      *u = s + IP4_HDR_LEN;
	size_t plen = len - hdr_len;

	if (g->closed || hdr_len != g->hdr_len || plen > g->mss || plen > IP4_MAX_PACKET - g->len)
		return false;
	/* IP: TOS, TTL, addresses; TCP: ports, acknowledgement, offset, window, options. */
	return pkt[1] == s[1] && pkt[8] == s[8] && memcmp(pkt + 12, s + 12, 8) == 0 &&
	       memcmp(t, u, 4) == 0 && memcmp(t + 8, u + 8, 5) == 0 &&
	       memcmp(t + 14, u + 14, 2) == 0 &&
	       memcmp(t + TCP_HDR_MIN, u + TCP_HDR_MIN, hdr_len - IP4_HDR_LEN - TCP_HDR_MIN) == 0 &&
	       tun_get_be32(t + TCP_SEQ_OFF) == g->next_seq;
}

int tun_gro_add(struct tun_gro *g, const uint8_t *pkt, size_t len)
{
	uint8_t *s = g->frame + TUN_VNET_HDR_LEN;
	bool psh = false;
	size_t hl, plen;

	if (!tun_gro_candidate(pkt, len, &hl))
		return -1;
	plen = len - hl;
	psh = (pkt[IP4_HDR_LEN + TCP_FLAG_OFF] & TCP_PSH) != 0;
	if (g->len == 0) {
		memcpy(s, pkt, len);
		g->len = len;
		g->hdr_len = hl;
		g->mss = plen;
		g->segs = 1;
		g->next_seq = tun_get_be32(pkt + IP4_HDR_LEN + TCP_SEQ_OFF) + (uint32_t)plen;
		g->closed = psh;
		return 1;
	}
	if (!tun_gro_follows(g, pkt, len, hl))
		return 0;
	memcpy(s + g->len, pkt + hl, plen);
	g->len += plen;
	g->segs++;
	g->next_seq += (uint32_t)plen;
	if (psh)
		s[IP4_HDR_LEN + TCP_FLAG_OFF] |=
			TCP_PSH; /* the kernel puts it on the last segment */
	g->closed = psh || plen < g->mss;
	return 1;
}

static void tun_put_host16(uint8_t *p, size_t v)
{
	uint16_t h = (uint16_t)v;

	memcpy(p, &h, sizeof(h));
}

const uint8_t *tun_gro_take(struct tun_gro *g, size_t *len)
{
	uint8_t *v = g->frame, *p = v + TUN_VNET_HDR_LEN;
	uint32_t sum;

	if (g->len == 0) {
		*len = 0;
		return NULL;
	}
	memset(v, 0, TUN_VNET_HDR_LEN);
	if (g->segs > 1) {
		tun_put_be16(p + IP4_LEN_OFF, (uint16_t)g->len);
		tun_put_be16(p + IP4_SUM_OFF, 0);
		tun_put_be16(p + IP4_SUM_OFF, inet_cksum(p, IP4_HDR_LEN));
		/* A partial checksum, as the stack leaves one: the folded pseudo-header sum. */
		sum = inet_cksum_add(0, p + 12, 8) + IP4_PROTO_TCP +
		      (uint32_t)(g->len - IP4_HDR_LEN);
		tun_put_be16(p + IP4_HDR_LEN + TCP_SUM_OFF, (uint16_t)~inet_cksum_fold(sum));
		v[0] = VNET_F_NEEDS_CSUM;
		v[1] = VNET_GSO_TCPV4;
		tun_put_host16(v + 2, g->hdr_len);
		tun_put_host16(v + 4, g->mss);
		tun_put_host16(v + 6, IP4_HDR_LEN);
		tun_put_host16(v + 8, TCP_SUM_OFF);
	}
	*len = TUN_VNET_HDR_LEN + g->len;
	tun_gro_init(g);
	return v;
}
