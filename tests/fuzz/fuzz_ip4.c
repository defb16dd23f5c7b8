/*
 * Fuzz ip4_parse, ip4_udp_parse and the descriptor (ip4_pkt_parse).  A parsed header must be
 * consistent with the bytes; a 20-byte header rebuilds to the same bytes; the packet survives
 * IP-in-IP encapsulation; a parsed UDP datagram rebuilds with ip4_udp_put to a packet that parses
 * back to the same ports and payload, and to the same UDP bytes when the input carried a checksum.
 * The Internet checksum matches a byte-by-byte reference over every input.
 */
#include "buf.h"
#include "fuzzer.h"
#include "ip4.h"

static uint8_t out[IP4_MAX_PACKET + IP4_HDR_LEN];

static void fuzz_parse(const uint8_t *data, size_t size)
{
	struct ip4_hdr h, oh;
	struct buf p, op;
	struct buf b;
	enum ip4_err e = ip4_parse(data, size, &h, &p);

	CHECK(e >= IP4_OK && e < IP4_E_MAX);
	CHECK(ip4_err_name(e) != NULL);
	if (e != IP4_OK)
		return;
	CHECK(data[0] >> 4 == 4);
	CHECK(h.hlen == (data[0] & 0x0f) * 4);
	CHECK(h.hlen >= IP4_HDR_LEN && h.hlen <= size);
	CHECK(h.total_len >= h.hlen && h.total_len <= size);
	CHECK((h.frag & (IP4_MF | IP4_OFFMASK)) == 0);
	CHECK(inet_cksum(data, h.hlen) == 0);
	CHECK(buf_rptr(&p) == data + h.hlen);
	CHECK(buf_left(&p) == (size_t)h.total_len - h.hlen);
	CHECK(p.readonly);

	if (h.hlen == IP4_HDR_LEN) {
		/* Same header bytes; the checksum may differ only as 0x0000 vs 0xffff. */
		buf_init_write(&b, out, sizeof(out));
		CHECK(ip4_put_header(&b, &h) == 0);
		CHECK(memcmp(out, data, 10) == 0);
		CHECK(memcmp(out + 12, data + 12, 8) == 0);
		CHECK(inet_cksum(out, IP4_HDR_LEN) == 0);
	}

	/* Tunnelled, the packet comes out whole with TOS and DF copied. */
	buf_init_write(&b, out, sizeof(out));
	int r = ip4_encap(&b, h.src, h.dst, 64, data, h.total_len);
	if (h.total_len > IP4_MAX_PACKET - IP4_HDR_LEN) {
		CHECK(r == -1);
		return;
	}
	CHECK(r == 0);
	CHECK(ip4_parse(out, buf_used(&b), &oh, &op) == IP4_OK);
	CHECK(oh.proto == IP4_PROTO_IPIP);
	CHECK(oh.tos == h.tos);
	CHECK(oh.frag == (h.frag & IP4_DF));
	CHECK(oh.total_len == h.total_len + IP4_HDR_LEN);
	CHECK(buf_left(&op) == h.total_len);
	CHECK(memcmp(buf_rptr(&op), data, h.total_len) == 0);
}

static void fuzz_udp(const uint8_t *data, size_t size)
{
	struct ip4_hdr h, h2;
	struct buf u, u2, b;
	uint16_t sp, dp, sp2, dp2;
	enum ip4_err e = ip4_udp_parse(data, size, &h, &sp, &dp, &u);

	CHECK(e >= IP4_OK && e < IP4_E_MAX);
	if (e != IP4_OK)
		return;
	CHECK(h.proto == IP4_PROTO_UDP);
	const uint8_t *seg = data + h.hlen;
	size_t ulen = (size_t)(seg[4] << 8 | seg[5]);
	CHECK(ulen >= UDP_HDR_LEN && ulen <= (size_t)h.total_len - h.hlen);
	CHECK(buf_rptr(&u) == seg + UDP_HDR_LEN);
	CHECK(buf_left(&u) == ulen - UDP_HDR_LEN);
	CHECK(sp == (seg[0] << 8 | seg[1]) && dp == (seg[2] << 8 | seg[3]));

	buf_init_write(&b, out, sizeof(out));
	CHECK(ip4_udp_put(&b, h.src, h.dst, sp, dp, h.ttl, buf_rptr(&u), buf_left(&u)) == 0);
	CHECK(buf_used(&b) == IP4_HDR_LEN + ulen);
	CHECK(ip4_udp_parse(out, buf_used(&b), &h2, &sp2, &dp2, &u2) == IP4_OK);
	CHECK(sp2 == sp && dp2 == dp);
	CHECK(h2.src.s_addr == h.src.s_addr && h2.dst.s_addr == h.dst.s_addr);
	CHECK(h2.ttl == h.ttl);
	CHECK(buf_left(&u2) == buf_left(&u));
	CHECK(memcmp(buf_rptr(&u2), buf_rptr(&u), buf_left(&u)) == 0);
	if (seg[6] != 0 || seg[7] != 0)
		CHECK(memcmp(out + IP4_HDR_LEN, seg, ulen) == 0);
}

/*
 * The input with its IPv4 header checksum (and UDP checksum, when the
 * lengths allow) recomputed, so the fuzzer also gets past the checksums
 * and explores the structure behind them.
 */
static uint8_t *fixed_copy(const uint8_t *data, size_t size)
{
	uint8_t *m = malloc(size ? size : 1);
	size_t hlen;

	CHECK(m != NULL);
	memcpy(m, data, size);
	if (size < IP4_HDR_LEN)
		return m;
	hlen = (size_t)(m[0] & 0x0f) * 4;
	if (hlen < IP4_HDR_LEN || hlen > size)
		return m;
	size_t total = (size_t)(m[2] << 8 | m[3]);
	if (m[9] == IP4_PROTO_UDP && total <= size && total >= hlen + UDP_HDR_LEN) {
		uint8_t *seg = m + hlen;
		size_t ulen = (size_t)(seg[4] << 8 | seg[5]);
		if (ulen >= UDP_HDR_LEN && ulen <= total - hlen && (seg[6] | seg[7]) != 0) {
			uint32_t sum = inet_cksum_add(0, m + 12, 8);
			seg[6] = seg[7] = 0;
			sum += IP4_PROTO_UDP + (uint32_t)ulen;
			uint16_t c = inet_cksum_fold(inet_cksum_add(sum, seg, ulen));
			c = c ? c : 0xffff;
			seg[6] = (uint8_t)(c >> 8);
			seg[7] = (uint8_t)c;
		}
	}
	m[10] = m[11] = 0;
	uint16_t c = inet_cksum(m, hlen);
	m[10] = (uint8_t)(c >> 8);
	m[11] = (uint8_t)c;
	return m;
}

/* The descriptor agrees with the parsers it stands for. */
static void fuzz_pkt(const uint8_t *data, size_t size)
{
	struct ip4_pkt p;
	struct ip4_hdr h;
	struct buf b;
	uint16_t sp, dp;
	enum ip4_err e = ip4_pkt_parse(data, size, &p);

	CHECK(e == ip4_parse_fwd(data, size, &h, &b));
	if (e != IP4_OK)
		return;
	CHECK(p.data == data && p.h.total_len == h.total_len);
	CHECK(p.fragment == ((h.frag & (IP4_MF | IP4_OFFMASK)) != 0));
	CHECK(buf_rptr(&p.payload) == buf_rptr(&b) && buf_left(&p.payload) == buf_left(&b));
	CHECK(p.udp == (ip4_udp_parse_captured(data, size, &h, &sp, &dp, &b) == IP4_OK));
	if (!p.udp)
		return;
	CHECK(p.sport == sp && p.dport == dp);
	CHECK(buf_rptr(&p.udp_payload) == buf_rptr(&b) && buf_left(&p.udp_payload) == buf_left(&b));
}

/* The word-at-a-time checksum against RFC 1071's byte pairs, whole and split at an even point. */
static void fuzz_cksum(const uint8_t *data, size_t size)
{
	uint64_t ref = 0;
	size_t split = size > 0 ? (size_t)(data[0] % (size + 1)) & ~(size_t)1 : 0;

	for (size_t i = 0; i < size; i++)
		ref += i % 2 == 0 ? (uint64_t)data[i] << 8 : data[i];
	while (ref > 0xffff)
		ref = (ref & 0xffff) + (ref >> 16);
	CHECK(inet_cksum(data, size) == (uint16_t)~ref);
	CHECK(inet_cksum_fold(inet_cksum_add(inet_cksum_add(0, data, split), data + split,
					     size - split)) == (uint16_t)~ref);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *fixed = fixed_copy(data, size);

	fuzz_cksum(data, size);

	fuzz_pkt(data, size);
	fuzz_pkt(fixed, size);

	fuzz_parse(data, size);
	fuzz_udp(data, size);
	fuzz_parse(fixed, size);
	fuzz_udp(fixed, size);
	free(fixed);
	return 0;
}
