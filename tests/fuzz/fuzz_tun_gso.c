/*
 * Fuzz common/tun_gso.c with hostile TUN reads: a virtio-net header and a
 * packet (for a GSO header, the packet's IPv4 header checksum is repaired
 * when the first input byte's top bit is set, so the fuzzer gets past it).
 * Whatever init accepts comes out as packets that fit 64 KiB; a TCP
 * super-packet as at most one segment per payload byte (one if it has
 * none), each a valid IPv4 TCP segment with both checksums right, no
 * larger than the headers and gso_size, whose payloads put together are
 * the original's; a plain packet as one packet of the same length.  And
 * back: every packet cut is offered to GRO, and every frame GRO gives is
 * one tun_gso_init takes, whose segments carry the bytes that were joined.
 */
#include "buf.h"
#include "fuzzer.h"
#include "ip4.h"
#include "tun_gso.h"

static uint8_t frame[TUN_VNET_HDR_LEN + IP4_MAX_PACKET + 1];
static uint8_t seg[IP4_MAX_PACKET];
static uint8_t joined[IP4_MAX_PACKET];

static bool fz_tcp_sum_ok(const uint8_t *p, size_t len, size_t iphl)
{
	uint32_t sum = inet_cksum_add(0, p + 12, 8) + 6 + (uint32_t)(len - iphl);

	return inet_cksum_fold(inet_cksum_add(sum, p + iphl, len - iphl)) == 0;
}
static uint8_t reseg[IP4_MAX_PACKET];
static struct tun_gro gro;
static size_t gro_payload; /* TCP payload bytes joined into gro so far */

/* A frame GRO gave: it parses, and its segments carry gro_payload bytes. */
static void fz_gro_check(void)
{
	size_t len, got = 0;
	const uint8_t *f = tun_gro_take(&gro, &len);
	struct tun_gso g;
	struct buf b;
	int r;

	if (f == NULL) {
		CHECK(gro_payload == 0);
		return;
	}
	CHECK(tun_gso_init(&g, f, len) == TUN_GSO_OK);
	while (buf_init_write(&b, reseg, sizeof(reseg)), (r = tun_gso_next(&g, &b)) == 1) {
		size_t thl = (size_t)(reseg[IP4_HDR_LEN + 12] >> 4) * 4;
		CHECK(buf_used(&b) >= IP4_HDR_LEN + thl);
		CHECK(fz_tcp_sum_ok(reseg, buf_used(&b), IP4_HDR_LEN));
		got += buf_used(&b) - IP4_HDR_LEN - thl;
	}
	CHECK(r == 0 && got == gro_payload);
	gro_payload = 0;
}

/* Offer a packet to GRO as the daemons do. */
static void fz_gro_add(const uint8_t *pkt, size_t len)
{
	int r = tun_gro_add(&gro, pkt, len);

	if (r != 1) {
		fz_gro_check();
		if (r == -1 || tun_gro_add(&gro, pkt, len) != 1) {
			CHECK(r == -1);
			return;
		}
	}
	gro_payload += len - IP4_HDR_LEN - (size_t)(pkt[IP4_HDR_LEN + 12] >> 4) * 4;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tun_gso g;
	struct buf b;
	size_t at = 0, iphl, mss;
	unsigned n = 0;
	int r;

	if (size > sizeof(frame))
		return 0;
	memcpy(frame, data, size);
	if (size >= TUN_VNET_HDR_LEN + IP4_HDR_LEN && (frame[1] & 0x7f) == 1 && (frame[0] & 0x80)) {
		uint8_t *p = frame + TUN_VNET_HDR_LEN;
		size_t hl = (size_t)(p[0] & 0x0f) * 4;

		frame[0] &= 0x7f;
		if (hl >= IP4_HDR_LEN && hl <= size - TUN_VNET_HDR_LEN) {
			p[10] = p[11] = 0;
			uint16_t s = inet_cksum(p, hl);
			p[10] = (uint8_t)(s >> 8);
			p[11] = (uint8_t)s;
		}
	}
	if (tun_gso_init(&g, frame, size) != TUN_GSO_OK)
		return 0;
	iphl = (size_t)(g.pkt[0] & 0x0f) * 4;
	mss = g.mss;
	for (;;) {
		buf_init_write(&b, seg, sizeof(seg));
		r = tun_gso_next(&g, &b);
		if (r == 0)
			break;
		CHECK(r == 1);
		size_t len = buf_used(&b);
		CHECK(len <= IP4_MAX_PACKET);
		n++;
		fz_gro_add(seg, len);
		if (!g.gso) {
			CHECK(len == size - TUN_VNET_HDR_LEN);
			continue;
		}
		struct ip4_hdr h;
		struct buf pl;
		CHECK(ip4_parse(seg, len, &h, &pl) == IP4_OK && h.total_len == len);
		CHECK(h.proto == 6 && h.hlen == iphl && len >= g.hdr_len);
		CHECK(len - g.hdr_len <= mss);
		CHECK(fz_tcp_sum_ok(seg, len, iphl));
		memcpy(joined + at, seg + g.hdr_len, len - g.hdr_len);
		at += len - g.hdr_len;
		CHECK(n <= g.len - g.hdr_len || n == 1);
	}
	CHECK(n >= 1);
	fz_gro_check();
	if (g.gso) {
		CHECK(at == g.len - g.hdr_len);
		CHECK(memcmp(joined, g.pkt + g.hdr_len, at) == 0);
	}
	return 0;
}
