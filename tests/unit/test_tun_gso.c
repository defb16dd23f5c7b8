/*
 * Unit tests for common/tun_gso.c: TCP super-packets from a TUN with TSO
 * cut into segments as the kernel's own TSO cuts them (lengths,
 * Identifications, sequence numbers, flags, both checksums), partial
 * checksums finished, plain packets passed on, and every malformed
 * virtio-net header or packet refused: truncated, bad lengths, bad header
 * checksum, fragments, GSO types we do not do, and giant inputs.
 */
#include "buf.h"
#include "check_main.h"
#include "ip4.h"
#include "tun_gso.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#define VNET_GSO_TCPV4    1
#define VNET_GSO_UDP      3
#define VNET_GSO_TCPV6    4
#define VNET_GSO_ECN      0x80
#define VNET_F_NEEDS_CSUM 1

static uint8_t frame[TUN_VNET_HDR_LEN + IP4_MAX_PACKET];
static uint8_t seg[IP4_MAX_PACKET];
static uint8_t joined[IP4_MAX_PACKET];

static void vnet(uint8_t *f, uint8_t flags, uint8_t type, uint16_t gso_size, uint16_t csum_start,
		 uint16_t csum_offset)
{
	memset(f, 0, TUN_VNET_HDR_LEN);
	f[0] = flags;
	f[1] = type;
	memcpy(f + 4, &gso_size, 2); /* host order: a legacy TUN's */
	memcpy(f + 6, &csum_start, 2);
	memcpy(f + 8, &csum_offset, 2);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * An IPv4 packet 10.0.0.1 -> 10.0.0.2 at p: protocol proto, a transport
 * header of thl bytes (TCP: sequence number 0xfffff000, so segments wrap,
 * and flags), then plen payload bytes, byte i being (uint8_t)(i * 7 + 3).
 * Returns its length.
 */
static size_t packet(uint8_t *p, uint8_t proto, size_t thl, uint8_t flags, size_t plen)
{
	size_t total = IP4_HDR_LEN + thl + plen;

	memset(p, 0, IP4_HDR_LEN + thl);
	p[0] = 0x45;
	put16(p + 2, (uint16_t)total);
	put16(p + 4, 0xfffe); /* the Identifications wrap too */
	put16(p + 6, IP4_DF);
	p[8] = 64;
	p[9] = proto;
	memcpy(p + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
	put16(p + 10, inet_cksum(p, IP4_HDR_LEN));
	uint8_t *t = p + IP4_HDR_LEN;
	put16(t, 40000);
	put16(t + 2, 5201);
	if (proto == 6) {
		memcpy(t + 4, "\xff\xff\xf0\x00", 4);
		t[12] = (uint8_t)((thl / 4) << 4);
		t[13] = flags;
		put16(t + 14, 512);
		for (size_t i = 20; i < thl; i++)
			t[i] = 1; /* NOP options */
	} else {
		put16(t + 4, (uint16_t)(thl + plen));
	}
	for (size_t i = 0; i < plen; i++)
		p[IP4_HDR_LEN + thl + i] = (uint8_t)(i * 7 + 3);
	return total;
}

static bool tcp_sum_ok(const uint8_t *p, size_t len)
{
	size_t iphl = (size_t)(p[0] & 0x0f) * 4;
	uint32_t sum = inet_cksum_add(0, p + 12, 8) + 6 + (uint32_t)(len - iphl);

	return inet_cksum_fold(inet_cksum_add(sum, p + iphl, len - iphl)) == 0;
}

/* Cut a TCP super-packet of plen bytes (TCP header thl) by mss, check every segment. */
static void check_tso(size_t thl, uint8_t flags, size_t plen, uint16_t mss, uint8_t type)
{
	size_t len = packet(frame + TUN_VNET_HDR_LEN, 6, thl, flags, plen), at = 0, want;
	struct tun_gso g;
	struct buf b;
	unsigned n = 0;
	int r;

	vnet(frame, VNET_F_NEEDS_CSUM, type, mss, IP4_HDR_LEN, 16);
	ck_assert_int_eq(tun_gso_init(&g, frame, TUN_VNET_HDR_LEN + len), TUN_GSO_OK);
	want = plen == 0 ? 1 : (plen + mss - 1) / mss;
	while (buf_init_write(&b, seg, sizeof(seg)), (r = tun_gso_next(&g, &b)) == 1) {
		struct ip4_hdr h;
		struct buf pl;
		size_t slen = buf_used(&b), dlen;
		const uint8_t *t = seg + IP4_HDR_LEN;
		bool last = n + 1 == want;

		ck_assert_int_eq(ip4_parse(seg, slen, &h, &pl), IP4_OK); /* header checksum too */
		ck_assert_uint_eq(h.total_len, slen);
		ck_assert_uint_eq(h.id, (uint16_t)(0xfffe + n));
		ck_assert_uint_eq(h.frag, IP4_DF);
		ck_assert(tcp_sum_ok(seg, slen));
		dlen = slen - IP4_HDR_LEN - thl;
		ck_assert_uint_eq(dlen, last ? plen - at : mss);
		ck_assert_uint_eq(get32(t + 4), (uint32_t)(0xfffff000u + at));
		ck_assert_uint_eq(t[13] & 0x09, last ? (flags & 0x09) : 0);   /* FIN, PSH */
		ck_assert_uint_eq(t[13] & 0x80, n == 0 ? (flags & 0x80) : 0); /* CWR */
		ck_assert_uint_eq(t[13] & 0x76, flags & 0x76);                /* the rest */
		ck_assert_mem_eq(t + 20, frame + TUN_VNET_HDR_LEN + IP4_HDR_LEN + 20, thl - 20);
		memcpy(joined + at, t + thl, dlen);
		at += dlen;
		n++;
	}
	ck_assert_int_eq(r, 0);
	ck_assert_uint_eq(n, want);
	ck_assert_uint_eq(at, plen);
	ck_assert_mem_eq(joined, frame + TUN_VNET_HDR_LEN + IP4_HDR_LEN + thl, plen);
	ck_assert_int_eq(tun_gso_next(&g, &b), 0);
}

START_TEST(test_tso_segments)
{
	check_tso(20, 0x18, 4000, 1400, VNET_GSO_TCPV4); /* PSH ACK: 1400, 1400, 1200 */
	check_tso(32, 0x19, 4200, 1400, VNET_GSO_TCPV4); /* options; FIN on the last only */
	check_tso(20, 0x90, 2 * 1388, 1388, VNET_GSO_TCPV4 | VNET_GSO_ECN); /* CWR first only */
	check_tso(20, 0x10, 100, 1400, VNET_GSO_TCPV4);                     /* one segment */
	check_tso(20, 0x10, 0, 1400, VNET_GSO_TCPV4); /* no payload: the packet as it is */
}
END_TEST

/* The largest super-packet, in 1-byte segments: 65495 of them, all right. */
START_TEST(test_tso_giant)
{
	check_tso(20, 0x18, IP4_MAX_PACKET - 40, 1448, VNET_GSO_TCPV4);
	check_tso(20, 0x18, IP4_MAX_PACKET - 40, 1, VNET_GSO_TCPV4);
	check_tso(60, 0x18, IP4_MAX_PACKET - 80, 65535, VNET_GSO_TCPV4);
}
END_TEST

START_TEST(test_plain_passes)
{
	size_t len = packet(frame + TUN_VNET_HDR_LEN, 17, 8, 0, 300);
	struct tun_gso g;
	struct buf b;

	vnet(frame, 0, 0, 0, 0, 0);
	ck_assert_int_eq(tun_gso_init(&g, frame, TUN_VNET_HDR_LEN + len), TUN_GSO_OK);
	buf_init_write(&b, seg, sizeof(seg));
	ck_assert_int_eq(tun_gso_next(&g, &b), 1);
	ck_assert_uint_eq(buf_used(&b), len);
	ck_assert_mem_eq(seg, frame + TUN_VNET_HDR_LEN, len);
	ck_assert_int_eq(tun_gso_next(&g, &b), 0);
	/* Not even IPv4: passed on as before, for the data plane's own checks to count. */
	vnet(frame, 0, 0, 0, 0, 0);
	memcpy(frame + TUN_VNET_HDR_LEN, "\x60garbage", 8);
	ck_assert_int_eq(tun_gso_init(&g, frame, TUN_VNET_HDR_LEN + 8), TUN_GSO_OK);
	buf_init_write(&b, seg, sizeof(seg));
	ck_assert_int_eq(tun_gso_next(&g, &b), 1);
	ck_assert_uint_eq(buf_used(&b), 8);
}
END_TEST

/* A UDP datagram whose checksum the stack left partial: the pseudo-header sum, finished here. */
START_TEST(test_partial_checksum)
{
	uint8_t *p = frame + TUN_VNET_HDR_LEN;
	size_t len = packet(p, 17, 8, 0, 301);
	uint32_t ps = inet_cksum_add(0, p + 12, 8) + 17 + 309;
	struct ip4_hdr h;
	uint16_t sp, dp;
	struct buf b, u;
	struct tun_gso g;

	while (ps >> 16)
		ps = (ps & 0xffff) + (ps >> 16);
	put16(p + IP4_HDR_LEN + 6, (uint16_t)ps); /* what CHECKSUM_PARTIAL leaves */
	ck_assert_int_ne(ip4_udp_parse(p, len, &h, &sp, &dp, &u), IP4_OK);
	vnet(frame, VNET_F_NEEDS_CSUM, 0, 0, IP4_HDR_LEN, 6);
	ck_assert_int_eq(tun_gso_init(&g, frame, TUN_VNET_HDR_LEN + len), TUN_GSO_OK);
	buf_init_write(&b, seg, sizeof(seg));
	ck_assert_int_eq(tun_gso_next(&g, &b), 1);
	ck_assert_int_eq(ip4_udp_parse(seg, buf_used(&b), &h, &sp, &dp, &u), IP4_OK);
	ck_assert_uint_eq(buf_left(&u), 301);
}
END_TEST

/* init refuses frame[0..len) with e. */
static void refused(size_t len, enum tun_gso_err e)
{
	struct tun_gso g;

	ck_assert_int_eq(tun_gso_init(&g, frame, len), e);
}

START_TEST(test_refused)
{
	uint8_t *p = frame + TUN_VNET_HDR_LEN;
	size_t len;

	refused(0, TUN_GSO_E_SHORT);
	refused(TUN_VNET_HDR_LEN, TUN_GSO_E_SHORT);
	/* virtio-net header: unknown flag, GSO kinds we do not do, ECN alone */
	len = packet(p, 6, 20, 0x10, 3000);
	vnet(frame, 0x04, VNET_GSO_TCPV4, 1400, 20, 16);
	refused(TUN_VNET_HDR_LEN + len, TUN_GSO_E_VNET);
	vnet(frame, 1, VNET_GSO_UDP, 1400, 20, 6);
	refused(TUN_VNET_HDR_LEN + len, TUN_GSO_E_VNET);
	vnet(frame, 1, VNET_GSO_TCPV6, 1400, 20, 16);
	refused(TUN_VNET_HDR_LEN + len, TUN_GSO_E_VNET);
	vnet(frame, 1, VNET_GSO_ECN, 1400, 20, 16);
	refused(TUN_VNET_HDR_LEN + len, TUN_GSO_E_VNET);
	/* gso_size 0 */
	vnet(frame, 1, VNET_GSO_TCPV4, 0, 20, 16);
	refused(TUN_VNET_HDR_LEN + len, TUN_GSO_E_SEGMENT);
	/* truncated: Total Length beyond what was read, and trailing bytes */
	vnet(frame, 1, VNET_GSO_TCPV4, 1400, 20, 16);
	refused(TUN_VNET_HDR_LEN + len - 1, TUN_GSO_E_IP);
	refused(TUN_VNET_HDR_LEN + len + 1, TUN_GSO_E_IP);
	refused(TUN_VNET_HDR_LEN + 19, TUN_GSO_E_IP);
	/* bad header checksum */
	p[8]--;
	refused(TUN_VNET_HDR_LEN + len, TUN_GSO_E_IP);
	p[8]++;
	refused(TUN_VNET_HDR_LEN + len, TUN_GSO_OK);
	/* not IPv4 */
	p[0] = 0x65;
	refused(TUN_VNET_HDR_LEN + len, TUN_GSO_E_IP);
	/* a fragment */
	len = packet(p, 6, 20, 0x10, 3000);
	put16(p + 6, IP4_MF);
	put16(p + 10, 0);
	put16(p + 10, inet_cksum(p, IP4_HDR_LEN));
	refused(TUN_VNET_HDR_LEN + len, TUN_GSO_E_IP);
	/* not TCP */
	len = packet(p, 17, 8, 0, 3000);
	refused(TUN_VNET_HDR_LEN + len, TUN_GSO_E_TCP);
	/* TCP header shorter than 20, or longer than the packet */
	len = packet(p, 6, 20, 0x10, 10);
	p[IP4_HDR_LEN + 12] = 4 << 4;
	refused(TUN_VNET_HDR_LEN + len, TUN_GSO_E_TCP);
	p[IP4_HDR_LEN + 12] = 15 << 4;
	refused(TUN_VNET_HDR_LEN + len, TUN_GSO_E_TCP);
	len = packet(p, 6, 20, 0x10, 0);
	refused(TUN_VNET_HDR_LEN + len - 1, TUN_GSO_E_IP);
	put16(p + 2, 39);
	put16(p + 10, 0);
	put16(p + 10, inet_cksum(p, IP4_HDR_LEN));
	refused(TUN_VNET_HDR_LEN + 39, TUN_GSO_E_TCP);
	/* a partial checksum placed outside the packet */
	len = packet(p, 17, 8, 0, 100);
	vnet(frame, 1, 0, 0, (uint16_t)len, 0);
	refused(TUN_VNET_HDR_LEN + len, TUN_GSO_E_VNET);
	vnet(frame, 1, 0, 0, 20, (uint16_t)(len - 21));
	refused(TUN_VNET_HDR_LEN + len, TUN_GSO_E_VNET);
	vnet(frame, 1, 0, 0, 20, 0xffff);
	refused(TUN_VNET_HDR_LEN + len, TUN_GSO_E_VNET);
	vnet(frame, 1, 0, 0, 20, (uint16_t)(len - 22));
	refused(TUN_VNET_HDR_LEN + len, TUN_GSO_OK);
}
END_TEST

/* No room for the next packet: an error, the buffer as it was, and the packet still to come. */
START_TEST(test_nospace)
{
	size_t len = packet(frame + TUN_VNET_HDR_LEN, 6, 20, 0x18, 3000);
	struct tun_gso g;
	struct buf b;

	vnet(frame, 1, VNET_GSO_TCPV4, 1400, 20, 16);
	ck_assert_int_eq(tun_gso_init(&g, frame, TUN_VNET_HDR_LEN + len), TUN_GSO_OK);
	buf_init_write(&b, seg, 1439);
	ck_assert_int_eq(tun_gso_next(&g, &b), -TUN_GSO_E_NOSPACE);
	ck_assert_uint_eq(buf_used(&b), 0);
	buf_init_write(&b, seg, 1440);
	ck_assert_int_eq(tun_gso_next(&g, &b), 1);
	ck_assert_uint_eq(get32(seg + 24), 0xfffff000u);
	ck_assert_str_eq(tun_gso_err_name(TUN_GSO_E_NOSPACE), "no room for the packet");
	ck_assert_str_eq(tun_gso_err_name(TUN_GSO_E_MAX), "?");
}
END_TEST

/* ---- GRO ---- */

static struct tun_gro gro;
static uint8_t segs[64][1600];
static size_t seglen[64];

/* Cut a super-packet of plen bytes (flags, mss) into segs[]; their number. */
static unsigned cut(uint8_t flags, size_t plen, uint16_t mss)
{
	size_t len = packet(frame + TUN_VNET_HDR_LEN, 6, 20, flags, plen);
	struct tun_gso g;
	struct buf b;
	unsigned n = 0;

	vnet(frame, VNET_F_NEEDS_CSUM, VNET_GSO_TCPV4, mss, 20, 16);
	ck_assert_int_eq(tun_gso_init(&g, frame, TUN_VNET_HDR_LEN + len), TUN_GSO_OK);
	while (buf_init_write(&b, segs[n], sizeof(segs[n])), tun_gso_next(&g, &b) == 1)
		seglen[n++] = buf_used(&b);
	return n;
}

/* Segments joined and cut again are the segments; the partial checksum is the stack's kind. */
START_TEST(test_gro_round_trip)
{
	unsigned n = cut(0x18, 5000, 1400), i;
	const uint8_t *f;
	size_t len, plen = 0;
	struct tun_gso g;
	struct buf b;
	uint16_t v;

	tun_gro_init(&gro);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(tun_gro_add(&gro, segs[i], seglen[i]), 1);
	f = tun_gro_take(&gro, &len);
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(len, TUN_VNET_HDR_LEN + 40 + 5000);
	ck_assert_uint_eq(f[0], VNET_F_NEEDS_CSUM);
	ck_assert_uint_eq(f[1], VNET_GSO_TCPV4);
	memcpy(&v, f + 2, 2);
	ck_assert_uint_eq(v, 40);
	memcpy(&v, f + 4, 2);
	ck_assert_uint_eq(v, 1400);
	/* finished as a device would, the checksum verifies */
	memcpy(seg, f + TUN_VNET_HDR_LEN, len - TUN_VNET_HDR_LEN);
	v = inet_cksum(seg + 20, len - TUN_VNET_HDR_LEN - 20);
	put16(seg + 36, v);
	ck_assert(tcp_sum_ok(seg, len - TUN_VNET_HDR_LEN));
	ck_assert_int_eq(inet_cksum(seg, 20), 0);
	/* and cut again, the same segments */
	ck_assert_int_eq(tun_gso_init(&g, f, len), TUN_GSO_OK);
	for (i = 0; buf_init_write(&b, seg, sizeof(seg)), tun_gso_next(&g, &b) == 1; i++) {
		ck_assert_uint_lt(i, n);
		ck_assert_uint_eq(buf_used(&b), seglen[i]);
		ck_assert_mem_eq(seg, segs[i], seglen[i]);
		plen += seglen[i] - 40;
	}
	ck_assert_uint_eq(i, n);
	ck_assert_uint_eq(plen, 5000);
	ck_assert_ptr_null(tun_gro_take(&gro, &len));
	ck_assert_uint_eq(len, 0);
}
END_TEST

/* One segment goes as it came, behind a header that asks for nothing. */
START_TEST(test_gro_single)
{
	const uint8_t *f;
	size_t len;

	cut(0x10, 1000, 1400);
	tun_gro_init(&gro);
	ck_assert_int_eq(tun_gro_add(&gro, segs[0], seglen[0]), 1);
	f = tun_gro_take(&gro, &len);
	ck_assert_uint_eq(len, TUN_VNET_HDR_LEN + seglen[0]);
	ck_assert_mem_eq(f, tun_vnet_hdr_none, TUN_VNET_HDR_LEN);
	ck_assert_mem_eq(f + TUN_VNET_HDR_LEN, segs[0], seglen[0]);
}
END_TEST

/* Fix the IP and TCP checksums of a segment changed by a test. */
static void resum(uint8_t *p, size_t len)
{
	uint32_t sum;

	put16(p + 10, 0);
	put16(p + 10, inet_cksum(p, 20));
	put16(p + 36, 0);
	sum = inet_cksum_add(0, p + 12, 8) + 6 + (uint32_t)(len - 20);
	put16(p + 36, inet_cksum_fold(inet_cksum_add(sum, p + 20, len - 20)));
}

START_TEST(test_gro_not_candidates)
{
	uint8_t p[1600];
	size_t len;

	tun_gro_init(&gro);
	len = packet(p, 17, 8, 0, 100); /* UDP */
	ck_assert_int_eq(tun_gro_add(&gro, p, len), -1);
	cut(0x10, 1000, 1400);
	len = seglen[0];
	memcpy(p, segs[0], len);
	p[37]++; /* bad TCP checksum */
	ck_assert_int_eq(tun_gro_add(&gro, p, len), -1);
	memcpy(p, segs[0], len);
	put16(p + 6, 0); /* DF clear */
	resum(p, len);
	ck_assert_int_eq(tun_gro_add(&gro, p, len), -1);
	memcpy(p, segs[0], len);
	p[33] = 0x12; /* SYN ACK */
	resum(p, len);
	ck_assert_int_eq(tun_gro_add(&gro, p, len), -1);
	memcpy(p, segs[0], len);
	p[33] = 0x11; /* FIN ACK */
	resum(p, len);
	ck_assert_int_eq(tun_gro_add(&gro, p, len), -1);
	memcpy(p, segs[0], 40); /* no payload: a bare ACK */
	put16(p + 2, 40);
	resum(p, 40);
	ck_assert_int_eq(tun_gro_add(&gro, p, 40), -1);
	memcpy(p, segs[0], len);
	ck_assert_int_eq(tun_gro_add(&gro, p, len - 1), -1); /* truncated */
	ck_assert_int_eq(tun_gro_add(&gro, p, 0), -1);
	ck_assert_ptr_null(tun_gro_take(&gro, &len));
}
END_TEST

/* Segments that do not continue the flow start the next super-packet instead. */
START_TEST(test_gro_not_following)
{
	unsigned n = cut(0x10, 4 * 1400, 1400);
	uint8_t p[1600];
	size_t len;

	ck_assert_uint_eq(n, 4);
	tun_gro_init(&gro);
	ck_assert_int_eq(tun_gro_add(&gro, segs[0], seglen[0]), 1);
	ck_assert_int_eq(tun_gro_add(&gro, segs[2], seglen[2]), 0); /* a gap */
	memcpy(p, segs[1], seglen[1]);
	p[23]++; /* another destination port */
	resum(p, seglen[1]);
	ck_assert_int_eq(tun_gro_add(&gro, p, seglen[1]), 0);
	memcpy(p, segs[1], seglen[1]);
	p[31]++; /* another acknowledgement */
	resum(p, seglen[1]);
	ck_assert_int_eq(tun_gro_add(&gro, p, seglen[1]), 0);
	memcpy(p, segs[1], seglen[1]);
	p[8]--; /* another TTL */
	resum(p, seglen[1]);
	ck_assert_int_eq(tun_gro_add(&gro, p, seglen[1]), 0);
	ck_assert_int_eq(tun_gro_add(&gro, segs[1], seglen[1]), 1);
	ck_assert_int_eq(tun_gro_add(&gro, segs[2], seglen[2]), 1);
	tun_gro_take(&gro, &len);
	ck_assert_uint_eq(len, TUN_VNET_HDR_LEN + 40 + 3 * 1400);
	/* larger than the first: no; a short one closes it */
	n = cut(0x10, 1000 + 1400 + 1400 + 700, 1000);
	ck_assert_int_eq(tun_gro_add(&gro, segs[0], seglen[0]), 1);
	cut(0x10, 1400, 1400);
	memcpy(p, segs[0], seglen[0]);
	memcpy(p + 4 + 20, "\xff\xff\xf3\xe8",
	       4); /* where the next would start: 0xfffff000 + 1000 */
	resum(p, seglen[0]);
	ck_assert_int_eq(tun_gro_add(&gro, p, seglen[0]), 0);
	n = cut(0x10, 1000 + 700 + 1000, 1000);
	ck_assert_uint_eq(n, 3);
	tun_gro_take(&gro, &len);
	ck_assert_int_eq(tun_gro_add(&gro, segs[0], seglen[0]), 1);
	ck_assert_int_eq(tun_gro_add(&gro, segs[1], seglen[1]), 1);
	ck_assert_int_eq(tun_gro_add(&gro, segs[2], seglen[2]), 1);
	tun_gro_take(&gro, &len);
	ck_assert_uint_eq(len, TUN_VNET_HDR_LEN + 40 + 2700);
	/* after PSH: closed */
	n = cut(0x18, 1400, 1400);
	ck_assert_int_eq(tun_gro_add(&gro, segs[0], seglen[0]), 1);
	memcpy(p, segs[0], seglen[0]);
	memcpy(p + 24, "\xff\xff\xf5\x78", 4); /* 0xfffff000 + 1400 */
	resum(p, seglen[0]);
	ck_assert_int_eq(tun_gro_add(&gro, p, seglen[0]), 0);
}
END_TEST

/* Never past 64 KiB: the segment that would not fit starts the next. */
START_TEST(test_gro_limit)
{
	size_t len, total = 0;
	unsigned njoined = 0;
	uint8_t p[1600];
	uint32_t seq = 0xfffff000u;

	cut(0x10, 1400, 1400);
	tun_gro_init(&gro);
	for (int r;;) {
		memcpy(p, segs[0], seglen[0]);
		p[24] = (uint8_t)(seq >> 24);
		p[25] = (uint8_t)(seq >> 16);
		p[26] = (uint8_t)(seq >> 8);
		p[27] = (uint8_t)seq;
		resum(p, seglen[0]);
		if ((r = tun_gro_add(&gro, p, seglen[0])) == 0)
			break;
		ck_assert_int_eq(r, 1);
		njoined++;
		seq += 1400;
	}
	ck_assert_ptr_nonnull(tun_gro_take(&gro, &len));
	total = len - TUN_VNET_HDR_LEN;
	ck_assert_uint_le(total, IP4_MAX_PACKET);
	ck_assert_uint_gt(total + 1400, IP4_MAX_PACKET);
	ck_assert_uint_eq(njoined, (IP4_MAX_PACKET - 40) / 1400);
}
END_TEST

static Suite *tun_gso_suite(void)
{
	Suite *s = suite_create("tun_gso");
	TCase *tc = tcase_create("tso");

	tcase_add_test(tc, test_tso_segments);
	tcase_add_test(tc, test_tso_giant);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	tc = tcase_create("other");
	tcase_add_test(tc, test_plain_passes);
	tcase_add_test(tc, test_partial_checksum);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_nospace);
	suite_add_tcase(s, tc);
	tc = tcase_create("gro");
	tcase_add_test(tc, test_gro_round_trip);
	tcase_add_test(tc, test_gro_single);
	tcase_add_test(tc, test_gro_not_candidates);
	tcase_add_test(tc, test_gro_not_following);
	tcase_add_test(tc, test_gro_limit);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_main(tun_gso_suite());
}
