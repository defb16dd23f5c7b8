/*
 * Fuzz common/pmtu.c with hostile packets: the first two bytes are the path
 * MTU, the rest a packet (its header checksum also repaired, so the fuzzer
 * gets past it).  Every fragment parses, fits the MTU, starts where the
 * previous one ended, carries a multiple of 8 bytes unless it is the last,
 * and together they are the packet's payload; an ICMP error parses, goes to
 * the packet's source and quotes its header and at most 8 bytes more; the
 * ESP and IP-in-IP figures fit and are tight.
 */
#include "buf.h"
#include "fuzzer.h"
#include "ip4.h"
#include "pmtu.h"

static uint8_t piece[IP4_MAX_PACKET];

static void fuzz_fragments(const uint8_t *pkt, size_t len, size_t mtu)
{
	struct pmtu_frag f;
	struct ip4_hdr oh, h;
	struct buf op, p, b;
	size_t at = 0, n = 0;
	int r;

	if (pmtu_frag_init(&f, pkt, len, mtu) < 0)
		return;
	CHECK(ip4_parse_fwd(pkt, len, &oh, &op) == IP4_OK);
	CHECK((oh.frag & IP4_DF) == 0);
	for (;;) {
		buf_init_write(&b, piece, sizeof(piece));
		r = pmtu_frag_next(&f, &b);
		if (r == 0)
			break;
		CHECK(r == 1);
		CHECK(++n <= IP4_MAX_PACKET / 8 + 1);
		CHECK(buf_used(&b) <= mtu || mtu > IP4_MAX_PACKET);
		CHECK(ip4_parse_fwd(piece, buf_used(&b), &h, &p) == IP4_OK);
		CHECK(h.hlen == oh.hlen && h.id == oh.id && h.proto == oh.proto);
		CHECK((size_t)(h.frag & IP4_OFFMASK) * 8 ==
		      (size_t)(oh.frag & IP4_OFFMASK) * 8 + at);
		CHECK(memcmp(buf_rptr(&p), buf_rptr(&op) + at, buf_left(&p)) == 0);
		at += buf_left(&p);
		if (at < buf_left(&op))
			CHECK(buf_left(&p) % 8 == 0 && (h.frag & IP4_MF));
	}
	CHECK(at == buf_left(&op));
}

static void fuzz_icmp(const uint8_t *pkt, size_t len, uint16_t mtu)
{
	uint8_t out[256];
	struct ip4_hdr oh, h;
	struct buf op, p, b;
	bool may = pmtu_may_answer(pkt, len);

	buf_init_write(&b, out, sizeof(out));
	int r = pmtu_icmp_frag_needed(&b, (struct in_addr){htonl(0xc0000201)}, pkt, len, mtu);
	CHECK(r == (may ? 0 : -1));
	if (r < 0) {
		CHECK(buf_used(&b) == 0);
		return;
	}
	CHECK(ip4_parse_fwd(pkt, len, &oh, &op) == IP4_OK);
	CHECK(ip4_parse(out, buf_used(&b), &h, &p) == IP4_OK);
	CHECK(h.proto == IP4_PROTO_ICMP && h.dst.s_addr == oh.src.s_addr);
	CHECK(buf_left(&p) >= 8 + oh.hlen && buf_left(&p) <= 8 + (size_t)oh.hlen + 8);
	CHECK(inet_cksum(buf_rptr(&p), buf_left(&p)) == 0);
	CHECK(memcmp(buf_rptr(&p) + 8, pkt, buf_left(&p) - 8) == 0);
}

static void fuzz_overheads(size_t mtu)
{
	for (int a = 0; a < ESP_ALG_MAX; a++) {
		size_t in = pmtu_esp_inner((enum esp_alg)a, mtu & 1, mtu);
		size_t outer = IP4_HDR_LEN + ((mtu & 1) ? UDP_HDR_LEN : 0);
		if (in > 0) {
			CHECK(outer + esp_encap_len((enum esp_alg)a, in) <= mtu);
			CHECK(outer + esp_encap_len((enum esp_alg)a, in + 1) > mtu);
		}
	}
	CHECK(pmtu_ipip_inner(mtu) + (mtu >= 20 ? 20 : mtu) == mtu);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	size_t mtu = (size_t)(data[0] << 8 | data[1]);
	const uint8_t *pkt = data + 2;
	size_t len = size - 2;
	uint8_t *fixed = malloc(len ? len : 1);

	CHECK(fixed != NULL);
	memcpy(fixed, pkt, len);
	if (len >= IP4_HDR_LEN) {
		size_t hlen = (size_t)(fixed[0] & 0x0f) * 4;
		if (hlen >= IP4_HDR_LEN && hlen <= len) {
			fixed[10] = fixed[11] = 0;
			uint16_t c = inet_cksum(fixed, hlen);
			fixed[10] = (uint8_t)(c >> 8);
			fixed[11] = (uint8_t)c;
		}
	}
	fuzz_overheads(mtu);
	fuzz_fragments(pkt, len, mtu);
	fuzz_fragments(fixed, len, mtu);
	fuzz_icmp(fixed, len, (uint16_t)mtu);
	fuzz_icmp(pkt, len, (uint16_t)mtu);
	free(fixed);
	return 0;
}
