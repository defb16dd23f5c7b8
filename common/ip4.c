#include "ip4.h"

#include <arpa/inet.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

/* The RFC 1071 sum of len bytes, 16-bit words in network order, an odd byte padded with zero. */
static uint32_t inet_cksum_bytes(uint32_t sum, const uint8_t *p, size_t len)
{
	while (len > 1) {
		sum += (uint32_t)p[0] << 8 | p[1];
		p += 2;
		len -= 2;
	}
	if (len == 1)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

/*
 * Every data-path byte is summed (TCP segments cut and joined, tun_gso.c),
 * so the bulk goes 32 bits at a time in host order into 64 bits, which no
 * carry overflows below 2^30 words each: the one's complement sum does not
 * depend on byte order (RFC 1071 2(B)), so the folded host-order sum is
 * swapped once into network order.  A folded nonzero sum stays nonzero,
 * so the result is 0 exactly when the old word-by-word sum was.
 */
uint32_t inet_cksum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t words = len / 4, i = 0;
	uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, acc;
	uint16_t w;

	if (len == 0)
		return sum; /* data may be NULL: no pointer arithmetic on it */

	/* Four independent sums, so the additions do not wait on each other. */
	for (; i + 4 <= words; i += 4) {
		uint32_t v[4];
		memcpy(v, p + 4 * i, sizeof(v));
		a0 += v[0];
		a1 += v[1];
		a2 += v[2];
		a3 += v[3];
	}
	for (; i < words; i++) {
		uint32_t v;
		memcpy(&v, p + 4 * i, sizeof(v));
		a0 += v;
	}
	/* Each is below 2^62: their sum does not overflow. */
	acc = a0 + a1 + a2 + a3;
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffff) + (acc >> 16);
	acc = (acc & 0xffff) + (acc >> 16);
	acc = (acc & 0xffff) + (acc >> 16);
	w = (uint16_t)acc;
	sum += ntohs(w);
	return inet_cksum_bytes(sum, p + 4 * words, len % 4);
}

uint16_t inet_cksum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint16_t inet_cksum(const void *data, size_t len)
{
	return inet_cksum_fold(inet_cksum_add(0, data, len));
}

const char *ip4_err_name(enum ip4_err e)
{
	static const char *const names[IP4_E_MAX] = {
		[IP4_OK] = "ok",
		[IP4_E_TRUNCATED] = "truncated",
		[IP4_E_VERSION] = "not IPv4",
		[IP4_E_HLEN] = "bad header length",
		[IP4_E_LENGTH] = "bad total length",
		[IP4_E_CHECKSUM] = "bad header checksum",
		[IP4_E_FRAGMENT] = "fragment",
		[IP4_E_PROTO] = "unexpected protocol",
		[IP4_E_UDP] = "bad UDP header",
	};
	return e < IP4_E_MAX ? names[e] : "unknown error";
}

enum ip4_err ip4_parse_fwd(const uint8_t *pkt, size_t len, struct ip4_hdr *h, struct buf *payload)
{
	struct buf b;
	uint8_t vhl;
	uint16_t cksum;

	buf_init_read(&b, pkt, len);
	if (buf_get_u8(&b, &vhl) != BUF_OK)
		return IP4_E_TRUNCATED;
	if (vhl >> 4 != 4)
		return IP4_E_VERSION;
	h->hlen = (uint8_t)((vhl & 0x0f) * 4);
	if (h->hlen < IP4_HDR_LEN)
		return IP4_E_HLEN;
	if (buf_get_u8(&b, &h->tos) || buf_get_u16(&b, &h->total_len) || buf_get_u16(&b, &h->id) ||
	    buf_get_u16(&b, &h->frag) || buf_get_u8(&b, &h->ttl) || buf_get_u8(&b, &h->proto) ||
	    buf_get_u16(&b, &cksum) || buf_get_bytes(&b, &h->src.s_addr, 4) ||
	    buf_get_bytes(&b, &h->dst.s_addr, 4))
		return IP4_E_TRUNCATED;
	if (h->hlen > len)
		return IP4_E_TRUNCATED;
	if (h->total_len < h->hlen || h->total_len > len)
		return IP4_E_LENGTH;
	if (inet_cksum(pkt, h->hlen) != 0)
		return IP4_E_CHECKSUM;
	buf_init_read(payload, pkt + h->hlen, (size_t)h->total_len - h->hlen);
	return IP4_OK;
}

enum ip4_err ip4_parse(const uint8_t *pkt, size_t len, struct ip4_hdr *h, struct buf *payload)
{
	enum ip4_err e = ip4_parse_fwd(pkt, len, h, payload);

	if (e == IP4_OK && (h->frag & (IP4_MF | IP4_OFFMASK)) != 0)
		return IP4_E_FRAGMENT;
	return e;
}

static uint32_t ip4_pseudo_sum(struct in_addr src, struct in_addr dst, uint8_t proto, size_t len)
{
	uint32_t sum = inet_cksum_add(0, &src.s_addr, 4);

	sum = inet_cksum_add(sum, &dst.s_addr, 4);
	return sum + proto + (uint32_t)len;
}

static enum ip4_err ip4_udp_parse_csum(const uint8_t *pkt, size_t len, struct ip4_hdr *h,
				       uint16_t *sport, uint16_t *dport, struct buf *udp,
				       bool check_sum)
{
	struct buf p;
	uint16_t ulen, cksum;
	enum ip4_err e = ip4_parse(pkt, len, h, &p);

	if (e != IP4_OK)
		return e;
	if (h->proto != IP4_PROTO_UDP)
		return IP4_E_PROTO;
	const uint8_t *seg = buf_rptr(&p);
	size_t seglen = buf_left(&p);
	if (buf_get_u16(&p, sport) || buf_get_u16(&p, dport) || buf_get_u16(&p, &ulen) ||
	    buf_get_u16(&p, &cksum))
		return IP4_E_UDP;
	if (ulen < UDP_HDR_LEN || ulen > seglen)
		return IP4_E_UDP;
	if (check_sum && cksum != 0 &&
	    inet_cksum_fold(inet_cksum_add(ip4_pseudo_sum(h->src, h->dst, IP4_PROTO_UDP, ulen), seg,
					   ulen)) != 0)
		return IP4_E_UDP;
	buf_init_read(udp, seg + UDP_HDR_LEN, (size_t)ulen - UDP_HDR_LEN);
	return IP4_OK;
}

enum ip4_err ip4_pkt_parse(const uint8_t *pkt, size_t len, struct ip4_pkt *p)
{
	enum ip4_err e = ip4_parse_fwd(pkt, len, &p->h, &p->payload);
	struct buf u;
	uint16_t ulen, cksum;

	p->data = pkt;
	p->udp = false;
	if (e != IP4_OK)
		return e;
	p->fragment = (p->h.frag & (IP4_MF | IP4_OFFMASK)) != 0;
	if (p->fragment || p->h.proto != IP4_PROTO_UDP)
		return IP4_OK;
	u = p->payload;
	if (buf_get_u16(&u, &p->sport) || buf_get_u16(&u, &p->dport) || buf_get_u16(&u, &ulen) ||
	    buf_get_u16(&u, &cksum) || ulen < UDP_HDR_LEN || ulen > buf_left(&p->payload))
		return IP4_OK; /* not a UDP datagram we could read: the IP part stands */
	buf_init_read(&p->udp_payload, buf_rptr(&p->payload) + UDP_HDR_LEN,
		      (size_t)ulen - UDP_HDR_LEN);
	p->udp = true;
	return IP4_OK;
}

enum ip4_err ip4_udp_parse(const uint8_t *pkt, size_t len, struct ip4_hdr *h, uint16_t *sport,
			   uint16_t *dport, struct buf *udp)
{
	return ip4_udp_parse_csum(pkt, len, h, sport, dport, udp, true);
}

enum ip4_err ip4_udp_parse_captured(const uint8_t *pkt, size_t len, struct ip4_hdr *h,
				    uint16_t *sport, uint16_t *dport, struct buf *udp)
{
	return ip4_udp_parse_csum(pkt, len, h, sport, dport, udp, false);
}

int ip4_put_header(struct buf *b, const struct ip4_hdr *h)
{
	size_t start = buf_used(b);
	uint8_t *hdr;

	if (buf_put_u8(b, 0x45) || buf_put_u8(b, h->tos) || buf_put_u16(b, h->total_len) ||
	    buf_put_u16(b, h->id) || buf_put_u16(b, h->frag) || buf_put_u8(b, h->ttl) ||
	    buf_put_u8(b, h->proto) || buf_put_u16(b, 0) || buf_put_bytes(b, &h->src.s_addr, 4) ||
	    buf_put_bytes(b, &h->dst.s_addr, 4))
		return -1;
	if (buf_wptr_at(b, start, IP4_HDR_LEN, &hdr) != BUF_OK)
		return -1;
	return buf_set_u16_at(b, start + 10, inet_cksum(hdr, IP4_HDR_LEN)) ? -1 : 0;
}

/* Random Identifications drawn this many at a time (see ip4_new_id). */
#define IP4_ID_POOL 128

/*
 * A random Identification (RFC 6864: unique enough for reassembly, and
 * not a counter an observer could read traffic volumes from).  Drawn from
 * a pool that one RAND_bytes call fills: RAND_bytes checks for a fork on
 * every call (a getpid system call), which on the tunnel's data path was
 * one extra system call per packet.  Thread-local, so no lock either.
 */
uint16_t ip4_new_id(void)
{
	static _Thread_local uint16_t pool[IP4_ID_POOL];
	static _Thread_local size_t left;

	if (left == 0) {
		if (RAND_bytes((unsigned char *)pool, sizeof(pool)) != 1)
			return 0; /* as before: RAND failure gave id 0 */
		left = IP4_ID_POOL;
	}
	return pool[--left];
}

int ip4_udp_put(struct buf *b, struct in_addr src, struct in_addr dst, uint16_t sport,
		uint16_t dport, uint8_t ttl, const uint8_t *payload, size_t plen)
{
	struct ip4_hdr h = {.tos = 0,
			    .id = ip4_new_id(),
			    .frag = 0,
			    .ttl = ttl,
			    .proto = IP4_PROTO_UDP,
			    .src = src,
			    .dst = dst};
	size_t ulen;
	uint8_t hdr[UDP_HDR_LEN];
	uint32_t sum;
	uint16_t cksum;

	/*
	 * Compare plen itself: "UDP_HDR_LEN + plen" wraps for a giant plen and
	 * the checksum below would then read far beyond the payload.
	 */
	if (plen > IP4_MAX_PACKET - IP4_HDR_LEN - UDP_HDR_LEN)
		return -1;
	ulen = UDP_HDR_LEN + plen;
	h.total_len = (uint16_t)(IP4_HDR_LEN + ulen);
	hdr[0] = (uint8_t)(sport >> 8);
	hdr[1] = (uint8_t)sport;
	hdr[2] = (uint8_t)(dport >> 8);
	hdr[3] = (uint8_t)dport;
	hdr[4] = (uint8_t)(ulen >> 8);
	hdr[5] = (uint8_t)ulen;
	hdr[6] = hdr[7] = 0;
	sum = ip4_pseudo_sum(src, dst, IP4_PROTO_UDP, ulen);
	sum = inet_cksum_add(sum, hdr, UDP_HDR_LEN);
	cksum = inet_cksum_fold(inet_cksum_add(sum, payload, plen));
	if (cksum == 0)
		cksum = 0xffff; /* RFC 768: a computed zero is sent as all ones */
	hdr[6] = (uint8_t)(cksum >> 8);
	hdr[7] = (uint8_t)cksum;
	if (ip4_put_header(b, &h) || buf_put_bytes(b, hdr, UDP_HDR_LEN) ||
	    buf_put_bytes(b, payload, plen))
		return -1;
	return 0;
}

int ip4_icmp_put(struct buf *b, struct in_addr src, struct in_addr dst, uint8_t ttl,
		 const uint8_t *icmp, size_t len)
{
	struct ip4_hdr h = {.tos = 0,
			    .id = ip4_new_id(),
			    .frag = 0,
			    .ttl = ttl,
			    .proto = IP4_PROTO_ICMP,
			    .src = src,
			    .dst = dst};

	/* Not "len + IP4_HDR_LEN > max": that wraps for a giant len. */
	if (len > IP4_MAX_PACKET - IP4_HDR_LEN)
		return -1;
	h.total_len = (uint16_t)(IP4_HDR_LEN + len);
	if (ip4_put_header(b, &h) || buf_put_bytes(b, icmp, len))
		return -1;
	return 0;
}

int ip4_encap(struct buf *b, struct in_addr src, struct in_addr dst, uint8_t ttl,
	      const uint8_t *inner, size_t len)
{
	struct ip4_hdr h = {
		.id = ip4_new_id(), .ttl = ttl, .proto = IP4_PROTO_IPIP, .src = src, .dst = dst};

	/* Not "len + IP4_HDR_LEN > max": that wraps for a giant len. */
	if (len < IP4_HDR_LEN || len > IP4_MAX_PACKET - IP4_HDR_LEN)
		return -1;
	h.tos = inner[1];
	h.frag = (uint16_t)(((unsigned)inner[6] << 8 | inner[7]) & IP4_DF);
	h.total_len = (uint16_t)(IP4_HDR_LEN + len);
	if (ip4_put_header(b, &h) || buf_put_bytes(b, inner, len))
		return -1;
	return 0;
}

const char *ip4_ntop(struct in_addr a, char *buf)
{
	const uint8_t *p = (const uint8_t *)&a.s_addr;

	snprintf(buf, 16, "%u.%u.%u.%u", p[0], p[1], p[2], p[3]);
	return buf;
}
