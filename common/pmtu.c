#include "pmtu.h"
#include "ip4.h"

#include <arpa/inet.h>
#include <string.h>

/* ICMP types (RFC 792), and the code of Destination Unreachable we send */
#define ICMP_UNREACH           3
#define ICMP_UNREACH_NEEDFRAG  4 /* code: fragmentation needed and DF set */
#define ICMP_SOURCE_QUENCH     4
#define ICMP_REDIRECT          5
#define ICMP_TIME_EXCEEDED     11
#define ICMP_PARAMETER_PROBLEM 12
#define ICMP_HDR_LEN           8
#define ICMP_TTL               64
#define IP4_OPT_EOL            0
#define IP4_OPT_NOP            1
#define IP4_OPT_COPIED         0x80

size_t pmtu_ipip_inner(size_t path_mtu)
{
	return path_mtu > PMTU_IPIP_OVERHEAD ? path_mtu - PMTU_IPIP_OVERHEAD : 0;
}

size_t pmtu_esp_inner(enum esp_alg alg, bool udp_encap, size_t path_mtu)
{
	size_t outer = IP4_HDR_LEN + (udp_encap ? UDP_HDR_LEN : 0);
	size_t room, inner;

	if (alg >= ESP_ALG_MAX || path_mtu < outer + esp_encap_len(alg, 0))
		return 0;
	room = path_mtu - outer;
	/* Without padding it would fit this much; padding to the block takes up to a block less. */
	inner = room - esp_header_len(alg) - esp_icv_len(alg) - ESP_TRAILER_LEN;
	while (inner > 0 && esp_encap_len(alg, inner) > room)
		inner--;
	return inner;
}

size_t pmtu_tunnel_mtu(size_t link_mtu, const enum esp_alg *algs, size_t n_algs,
		       bool reverse_tunnel)
{
	size_t mtu = link_mtu;

	for (size_t i = 0; i < n_algs; i++) {
		size_t m = pmtu_esp_inner(algs[i], true, link_mtu);
		if (m < mtu)
			mtu = m;
	}
	if (reverse_tunnel && pmtu_ipip_inner(link_mtu) < mtu)
		mtu = pmtu_ipip_inner(link_mtu);
	return mtu < PMTU_MIN ? PMTU_MIN : mtu;
}

/* An address that names no single host: 0/8, 127/8, multicast, class E and broadcast. */
static bool pmtu_not_a_host(struct in_addr a)
{
	uint32_t h = ntohl(a.s_addr);

	return (h >> 24) == 0 || (h >> 24) == 127 || (h >> 28) >= 0xe;
}

/* ICMP messages that are errors, never answered with another (RFC 792, RFC 1122 3.2.2). */
static bool pmtu_is_icmp_error(uint8_t type)
{
	return type == ICMP_UNREACH || type == ICMP_SOURCE_QUENCH || type == ICMP_REDIRECT ||
	       type == ICMP_TIME_EXCEEDED || type == ICMP_PARAMETER_PROBLEM;
}

bool pmtu_may_answer(const uint8_t *pkt, size_t len)
{
	struct ip4_hdr h;
	struct buf payload;
	uint8_t type;

	if (ip4_parse_fwd(pkt, len, &h, &payload) != IP4_OK)
		return false;
	if ((h.frag & IP4_OFFMASK) != 0)
		return false;
	if (pmtu_not_a_host(h.src) || (ntohl(h.dst.s_addr) >> 28) >= 0xe)
		return false;
	if (h.proto == IP4_PROTO_ICMP &&
	    (buf_get_u8(&payload, &type) != BUF_OK || pmtu_is_icmp_error(type)))
		return false;
	return true;
}

int pmtu_icmp_frag_needed(struct buf *b, struct in_addr src, const uint8_t *pkt, size_t len,
			  uint16_t mtu)
{
	struct ip4_hdr h;
	struct buf payload;
	uint8_t icmp[ICMP_HDR_LEN + IP4_HDR_MAX + PMTU_QUOTE_DATA];
	size_t quote;
	uint16_t sum;

	if (!pmtu_may_answer(pkt, len) || ip4_parse_fwd(pkt, len, &h, &payload) != IP4_OK)
		return -1;
	quote = h.hlen +
		(buf_left(&payload) < PMTU_QUOTE_DATA ? buf_left(&payload) : PMTU_QUOTE_DATA);
	memset(icmp, 0, ICMP_HDR_LEN);
	icmp[0] = ICMP_UNREACH;
	icmp[1] = ICMP_UNREACH_NEEDFRAG;
	icmp[6] = (uint8_t)(mtu >> 8); /* RFC 1191 4: the next-hop MTU in the low 16 bits */
	icmp[7] = (uint8_t)mtu;
	memcpy(icmp + ICMP_HDR_LEN, pkt, quote);
	sum = inet_cksum(icmp, ICMP_HDR_LEN + quote);
	icmp[2] = (uint8_t)(sum >> 8);
	icmp[3] = (uint8_t)sum;
	if (buf_room(b) < IP4_HDR_LEN + ICMP_HDR_LEN + quote)
		return -1;
	return ip4_icmp_put(b, src, h.src, ICMP_TTL, icmp, ICMP_HDR_LEN + quote);
}

/*
 * The options of the fragments after the first (RFC 791 3.1): those with
 * the copied flag as they are, the others overwritten with NOPs so every
 * fragment keeps the header length.  -1 if an option runs past the header.
 */
static int pmtu_later_options(const uint8_t *opt, size_t len, uint8_t *out)
{
	size_t i = 0;

	memcpy(out, opt, len);
	while (i < len) {
		uint8_t type = opt[i];
		size_t olen;
		if (type == IP4_OPT_EOL)
			break;
		if (type == IP4_OPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= len || opt[i + 1] < 2 || opt[i + 1] > len - i)
			return -1;
		olen = opt[i + 1];
		if (!(type & IP4_OPT_COPIED))
			memset(out + i, IP4_OPT_NOP, olen);
		i += olen;
	}
	return 0;
}

int pmtu_frag_init(struct pmtu_frag *f, const uint8_t *pkt, size_t len, size_t mtu)
{
	struct ip4_hdr h;
	struct buf payload;

	memset(f, 0, sizeof(*f));
	if (ip4_parse_fwd(pkt, len, &h, &payload) != IP4_OK || (h.frag & IP4_DF))
		return -1;
	if (mtu > IP4_MAX_PACKET)
		mtu = IP4_MAX_PACKET;
	if (mtu < PMTU_MIN || mtu < (size_t)h.hlen + 8)
		return -1;
	f->pkt = pkt;
	f->hlen = h.hlen;
	f->plen = buf_left(&payload);
	f->frag = h.frag;
	f->chunk = (mtu - h.hlen) & ~(size_t)7;
	/* The last byte must still have an offset that the 13-bit field can say. */
	if ((size_t)(h.frag & IP4_OFFMASK) * 8 + f->plen > IP4_MAX_PACKET)
		return -1;
	if (pmtu_later_options(pkt + IP4_HDR_LEN, h.hlen - IP4_HDR_LEN, f->later_opts) < 0)
		return -1;
	return 0;
}

int pmtu_frag_next(struct pmtu_frag *f, struct buf *b)
{
	size_t n;
	uint16_t frag, total, sum;
	uint8_t *p;

	if (f->pkt == NULL || f->done)
		return 0;
	n = f->plen - f->off < f->chunk ? f->plen - f->off : f->chunk;
	if (buf_reserve(b, f->hlen + n, &p) != BUF_OK)
		return -1;
	frag = (uint16_t)((f->frag & ~(IP4_MF | IP4_OFFMASK)) |
			  ((f->frag & IP4_OFFMASK) + f->off / 8));
	f->done = f->off + n >= f->plen;
	if (!f->done || (f->frag & IP4_MF))
		frag |= IP4_MF;
	total = (uint16_t)(f->hlen + n);
	/* The original header, with the options this fragment carries. */
	memcpy(p, f->pkt, IP4_HDR_LEN);
	memcpy(p + IP4_HDR_LEN, f->off == 0 ? f->pkt + IP4_HDR_LEN : f->later_opts,
	       f->hlen - IP4_HDR_LEN);
	memcpy(p + f->hlen, f->pkt + f->hlen + f->off, n);
	p[2] = (uint8_t)(total >> 8);
	p[3] = (uint8_t)total;
	p[6] = (uint8_t)(frag >> 8);
	p[7] = (uint8_t)frag;
	p[10] = p[11] = 0;
	sum = inet_cksum(p, f->hlen);
	p[10] = (uint8_t)(sum >> 8);
	p[11] = (uint8_t)sum;
	f->off += n;
	return 1;
}

/* Each fragment of pkt through path->send; false if none could be made. */
static bool pmtu_fragment(struct pmtu_path *path, void *arg, const uint8_t *pkt, size_t len,
			  size_t mtu)
{
	uint8_t piece[IP4_MAX_PACKET];
	struct pmtu_frag f;
	struct buf b;

	if (pmtu_frag_init(&f, pkt, len, mtu) < 0)
		return false;
	path->ctr.fragmented++;
	for (;;) {
		buf_init_write(&b, piece, sizeof(piece));
		if (pmtu_frag_next(&f, &b) != 1)
			break;
		path->ctr.fragments++;
		path->send(arg, piece, buf_used(&b));
	}
	return true;
}

/* Drop pkt and tell its source the MTU, if it may be told and the budget allows. */
static enum pmtu_verdict pmtu_refuse(struct pmtu_path *path, void *arg, const uint8_t *pkt,
				     size_t len, size_t mtu)
{
	uint8_t out[IP4_HDR_LEN + ICMP_HDR_LEN + IP4_HDR_MAX + PMTU_QUOTE_DATA];
	struct buf b;

	if (!pmtu_may_answer(pkt, len)) {
		path->ctr.icmp_not_allowed++;
		return PMTU_DROPPED;
	}
	if (!log_ratelimit_take(&path->rl)) {
		path->ctr.icmp_rate_limited++;
		return PMTU_DROPPED;
	}
	buf_init_write(&b, out, sizeof(out));
	if (pmtu_icmp_frag_needed(&b, path->icmp_src, pkt, len,
				  (uint16_t)(mtu > UINT16_MAX ? UINT16_MAX : mtu)) < 0) {
		path->ctr.icmp_not_allowed++;
		return PMTU_DROPPED;
	}
	path->ctr.icmp_frag_needed++;
	path->icmp(arg, out, buf_used(&b));
	return PMTU_ICMP;
}

enum pmtu_verdict pmtu_send(struct pmtu_path *path, void *arg, const uint8_t *pkt, size_t len,
			    size_t mtu)
{
	struct ip4_hdr h;
	struct buf payload;
	enum pmtu_verdict v;

	if (mtu == 0 || len <= mtu) {
		path->send(arg, pkt, len);
		return PMTU_SENT;
	}
	if (ip4_parse_fwd(pkt, len, &h, &payload) != IP4_OK) {
		path->ctr.too_big++;
		path->ctr.drop_unfragmentable++;
		return PMTU_DROPPED;
	}
	/* Link-layer padding after Total Length is not the packet's. */
	if (h.total_len <= mtu) {
		path->send(arg, pkt, h.total_len);
		return PMTU_SENT;
	}
	path->ctr.too_big++;
	if (h.frag & IP4_DF) {
		v = pmtu_refuse(path, arg, pkt, len, mtu);
		log_rl_debug("%s: %u bytes from %s to %s, DF set, path MTU %zu: %s", path->name,
			     h.total_len, IP4_STR(h.src), IP4_STR(h.dst), mtu,
			     v == PMTU_ICMP ? "fragmentation needed sent" : "dropped");
		return v;
	}
	if (!pmtu_fragment(path, arg, pkt, h.total_len, mtu)) {
		path->ctr.drop_unfragmentable++;
		log_rl_notice("%s: %u bytes from %s to %s cannot be fragmented for MTU %zu",
			      path->name, h.total_len, IP4_STR(h.src), IP4_STR(h.dst), mtu);
		return PMTU_DROPPED;
	}
	return PMTU_FRAGMENTED;
}
