/*
 * Unit tests for common/ip4.c: Internet checksum (RFC 1071), IPv4 header
 * parse/build (RFC 791), UDP (RFC 768), ICMP wrapping and IP-in-IP
 * encapsulation (RFC 2003).
 *
 * The packets below were written out by hand from the RFC 791 / RFC 768
 * field layouts; their checksums were computed offline with an independent
 * implementation (a few lines of Python), not with this code.
 */
#include "buf.h"
#include "check_main.h"
#include "ip4.h"

#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>

/*
 * IPv4/UDP, 36 bytes: 10.0.0.1 -> 10.0.0.2, id 0x1c46, DF, TTL 64, header
 * checksum 0x0a81; UDP 434 -> 434, length 16, checksum 0xe3a9, "RFC 768!".
 */
static const uint8_t udp_pkt[36] = {
	0x45, 0x00, 0x00, 0x24, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x11,
	0x0a, 0x81, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02, /* end of IPv4 header */
	0x01, 0xb2, 0x01, 0xb2, 0x00, 0x10, 0xe3, 0xa9,             /* UDP header */
	0x52, 0x46, 0x43, 0x20, 0x37, 0x36, 0x38, 0x21,             /* "RFC 768!" */
};

/*
 * IPv4 with IHL 6 (one option word: NOP NOP NOP EOL), ICMP, 28 bytes:
 * 192.0.2.1 -> 198.51.100.2, id 0xabcd, TTL 32, checksum 0xffdb.
 */
static const uint8_t opt_pkt[28] = {
	0x46, 0x00, 0x00, 0x1c, 0xab, 0xcd, 0x00, 0x00, 0x20, 0x01, 0xff, 0xdb, 0xc0, 0x00,
	0x02, 0x01, 0xc6, 0x33, 0x64, 0x02, 0x01, 0x01, 0x01, 0x00, 0xde, 0xad, 0xbe, 0xef,
};

/* The widely quoted example header (checksum 0xb861), 192.168.0.1 -> 192.168.0.199. */
static const uint8_t classic_hdr[20] = {
	0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
	0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
};

/* An independent reference checksum, used to repair headers after a mutation. */
static uint16_t ref_cksum(const uint8_t *p, size_t n)
{
	unsigned long s = 0;

	for (size_t i = 0; i < n; i++)
		s += (i % 2 == 0) ? (unsigned long)p[i] * 256 : p[i];
	while (s > 0xffff)
		s = (s >> 16) + (s & 0xffff);
	return (uint16_t)(0xffff - s);
}

/* Recompute the header checksum over the IHL (bounded to 20..len bytes). */
static void fix_ip_cksum(uint8_t *pkt, size_t len)
{
	size_t hlen = (size_t)(pkt[0] & 0x0f) * 4;

	if (hlen < 20 || hlen > len)
		hlen = 20;
	pkt[10] = pkt[11] = 0;
	uint16_t c = ref_cksum(pkt, hlen);
	pkt[10] = (uint8_t)(c >> 8);
	pkt[11] = (uint8_t)c;
}

static struct in_addr addr(uint32_t host_order)
{
	struct in_addr a = {.s_addr = htonl(host_order)};
	return a;
}

/* ---- checksum ---- */

START_TEST(test_cksum_rfc1071_example)
{
	/* RFC 1071 section 3: the sum of these words is 2ddf0, folded ddf2. */
	const uint8_t d[8] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};

	/* The partial sum may come folded (ip4.h); folded it is RFC 1071's. */
	ck_assert_uint_eq(inet_cksum_fold(inet_cksum_add(0, d, 8)), 0x220d);
	ck_assert_uint_eq(inet_cksum_fold(0x2ddf0), 0x220d);
	ck_assert_uint_eq(inet_cksum(d, 8), 0x220d);
	/* Split at an even boundary, the partial sums add up. */
	ck_assert_uint_eq(inet_cksum_fold(inet_cksum_add(inet_cksum_add(0, d, 4), d + 4, 4)),
			  0x220d);
}
END_TEST

/*
 * The word-at-a-time sum against the byte-by-byte reference: every length
 * up to a jumbo segment, at every alignment, split at even points, and the
 * carries of long runs of 0xff and of zeros.
 */
START_TEST(test_cksum_wide_matches_reference)
{
	static uint8_t big[IP4_MAX_PACKET + 8];
	unsigned seed = 12345;

	for (size_t i = 0; i < sizeof(big); i++) {
		seed = seed * 1103515245u + 12345u;
		big[i] = (uint8_t)(seed >> 16);
	}
	for (size_t off = 0; off < 8; off++)
		for (size_t n = 0; n <= 1600; n++) {
			const uint8_t *p = big + off;
			size_t split = (n / 3) & ~(size_t)1;

			ck_assert_uint_eq(inet_cksum(p, n), ref_cksum(p, n));
			ck_assert_uint_eq(
				inet_cksum_fold(inet_cksum_add(inet_cksum_add(0, p, split),
							       p + split, n - split)),
				ref_cksum(p, n));
		}
	ck_assert_uint_eq(inet_cksum(big + 3, IP4_MAX_PACKET), ref_cksum(big + 3, IP4_MAX_PACKET));
	memset(big, 0xff, sizeof(big));
	ck_assert_uint_eq(inet_cksum(big, IP4_MAX_PACKET), ref_cksum(big, IP4_MAX_PACKET));
	ck_assert_uint_eq(inet_cksum(big + 1, 65534), 0);
	memset(big, 0, sizeof(big));
	ck_assert_uint_eq(inet_cksum(big, IP4_MAX_PACKET), 0xffff);
}
END_TEST

START_TEST(test_cksum_edges)
{
	const uint8_t odd[1] = {0xab};
	const uint8_t ones[4] = {0xff, 0xff, 0xff, 0xff};
	const uint8_t odd3[3] = {0x12, 0x34, 0x56};

	ck_assert_uint_eq(inet_cksum(NULL, 0), 0xffff);
	ck_assert_uint_eq(inet_cksum(odd, 1), 0x54ff); /* odd byte padded with zero */
	ck_assert_uint_eq(inet_cksum(odd3, 3), (uint16_t) ~(0x1234 + 0x5600));
	ck_assert_uint_eq(inet_cksum(ones, 4), 0x0000);
	ck_assert_uint_eq(inet_cksum_fold(0xffffffffu), 0x0000);
	ck_assert_uint_eq(inet_cksum_fold(0x0001fffeu), 0x0000);
	ck_assert_uint_eq(inet_cksum_fold(0), 0xffff);
	/* A correct header checksums to zero. */
	ck_assert_uint_eq(inet_cksum(classic_hdr, 20), 0);
	ck_assert_uint_eq(inet_cksum(udp_pkt, 20), 0);
	ck_assert_uint_eq(inet_cksum(opt_pkt, 24), 0);
}
END_TEST

/* ---- ip4_parse ---- */

START_TEST(test_parse_udp_vector)
{
	struct ip4_hdr h;
	struct buf p;

	ck_assert_int_eq(ip4_parse(udp_pkt, sizeof(udp_pkt), &h, &p), IP4_OK);
	ck_assert_uint_eq(h.hlen, 20);
	ck_assert_uint_eq(h.tos, 0);
	ck_assert_uint_eq(h.total_len, 36);
	ck_assert_uint_eq(h.id, 0x1c46);
	ck_assert_uint_eq(h.frag, IP4_DF);
	ck_assert_uint_eq(h.ttl, 64);
	ck_assert_uint_eq(h.proto, IP4_PROTO_UDP);
	ck_assert_uint_eq(h.src.s_addr, htonl(0x0a000001));
	ck_assert_uint_eq(h.dst.s_addr, htonl(0x0a000002));
	ck_assert_ptr_eq(buf_rptr(&p), udp_pkt + 20);
	ck_assert_uint_eq(buf_left(&p), 16);
	ck_assert(p.readonly);
}
END_TEST

START_TEST(test_parse_options_vector)
{
	struct ip4_hdr h;
	struct buf p;

	ck_assert_int_eq(ip4_parse(opt_pkt, sizeof(opt_pkt), &h, &p), IP4_OK);
	ck_assert_uint_eq(h.hlen, 24);
	ck_assert_uint_eq(h.total_len, 28);
	ck_assert_uint_eq(h.id, 0xabcd);
	ck_assert_uint_eq(h.frag, 0);
	ck_assert_uint_eq(h.ttl, 32);
	ck_assert_uint_eq(h.proto, IP4_PROTO_ICMP);
	ck_assert_uint_eq(h.src.s_addr, htonl(0xc0000201));
	ck_assert_uint_eq(h.dst.s_addr, htonl(0xc6336402));
	ck_assert_ptr_eq(buf_rptr(&p), opt_pkt + 24);
	ck_assert_uint_eq(buf_left(&p), 4);
}
END_TEST

START_TEST(test_parse_classic_header)
{
	/* The classic header alone claims 115 bytes: it needs its payload. */
	uint8_t pkt[0x73] = {0};
	struct ip4_hdr h;
	struct buf p;

	memcpy(pkt, classic_hdr, 20);
	ck_assert_int_eq(ip4_parse(pkt, 20, &h, &p), IP4_E_LENGTH);
	ck_assert_int_eq(ip4_parse(pkt, sizeof(pkt), &h, &p), IP4_OK);
	ck_assert_uint_eq(h.src.s_addr, htonl(0xc0a80001));
	ck_assert_uint_eq(h.dst.s_addr, htonl(0xc0a800c7));
	ck_assert_uint_eq(buf_left(&p), 0x73 - 20);
}
END_TEST

START_TEST(test_parse_link_padding_ignored)
{
	uint8_t pkt[sizeof(udp_pkt) + 10];
	struct ip4_hdr h;
	struct buf p;

	memcpy(pkt, udp_pkt, sizeof(udp_pkt));
	memset(pkt + sizeof(udp_pkt), 0xee, 10);
	ck_assert_int_eq(ip4_parse(pkt, sizeof(pkt), &h, &p), IP4_OK);
	ck_assert_uint_eq(buf_left(&p), 16);
	ck_assert_uint_eq(h.total_len, 36);
}
END_TEST

/* Every proper prefix of a valid packet fails, with the error its length implies. */
START_TEST(test_parse_truncated_every_length)
{
	struct ip4_hdr h;
	struct buf p;

	for (size_t len = 0; len < sizeof(udp_pkt); len++) {
		uint8_t *copy = malloc(len ? len : 1); /* exact size, for memory checkers */
		memcpy(copy, udp_pkt, len);
		enum ip4_err e = ip4_parse(copy, len, &h, &p);
		enum ip4_err want = len < 20 ? IP4_E_TRUNCATED : IP4_E_LENGTH;
		ck_assert_msg(e == want, "len %zu: %d, want %d", len, e, want);
		uint16_t sp, dp;
		ck_assert_int_ne(ip4_udp_parse(copy, len, &h, &sp, &dp, &p), IP4_OK);
		free(copy);
	}
	for (size_t len = 0; len < sizeof(opt_pkt); len++) {
		enum ip4_err e = ip4_parse(opt_pkt, len, &h, &p);
		/* Below 24 bytes the header (with its option) itself is cut. */
		enum ip4_err want = len < 24 ? IP4_E_TRUNCATED : IP4_E_LENGTH;
		ck_assert_msg(e == want, "opt len %zu: %d, want %d", len, e, want);
	}
}
END_TEST

/* One field changed, header checksum repaired: the field itself must be refused. */
START_TEST(test_parse_bad_fields)
{
	const struct {
		const char *what;
		size_t off;
		uint8_t v0, v1; /* new bytes at off, off + 1 */
		bool two;
		enum ip4_err want;
	} t[] = {
		{"version 6", 0, 0x65, 0, false, IP4_E_VERSION},
		{"version 0", 0, 0x05, 0, false, IP4_E_VERSION},
		{"version 15", 0, 0xf5, 0, false, IP4_E_VERSION},
		{"IHL 0", 0, 0x40, 0, false, IP4_E_HLEN},
		{"IHL 4", 0, 0x44, 0, false, IP4_E_HLEN},
		{"IHL 15 beyond data", 0, 0x4f, 0, false, IP4_E_TRUNCATED},
		{"total 0", 2, 0x00, 0x00, true, IP4_E_LENGTH},
		{"total 19", 2, 0x00, 0x13, true, IP4_E_LENGTH},
		{"total 37 > data", 2, 0x00, 0x25, true, IP4_E_LENGTH},
		{"total 65535", 2, 0xff, 0xff, true, IP4_E_LENGTH},
		{"MF", 6, 0x20, 0x00, true, IP4_E_FRAGMENT},
		{"DF+MF", 6, 0x60, 0x00, true, IP4_E_FRAGMENT},
		{"offset 1", 6, 0x00, 0x01, true, IP4_E_FRAGMENT},
		{"DF+offset 1", 6, 0x40, 0x01, true, IP4_E_FRAGMENT},
		{"offset max", 6, 0x1f, 0xff, true, IP4_E_FRAGMENT},
		{"last fragment (offset 8)", 6, 0x00, 0x08, true, IP4_E_FRAGMENT},
		{"no DF", 6, 0x00, 0x00, true, IP4_OK},
		{"total 20 (empty payload)", 2, 0x00, 0x14, true, IP4_OK},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint8_t pkt[sizeof(udp_pkt)];
		struct ip4_hdr h;
		struct buf p;

		memcpy(pkt, udp_pkt, sizeof(pkt));
		pkt[t[i].off] = t[i].v0;
		if (t[i].two)
			pkt[t[i].off + 1] = t[i].v1;
		fix_ip_cksum(pkt, sizeof(pkt));
		enum ip4_err e = ip4_parse(pkt, sizeof(pkt), &h, &p);
		ck_assert_msg(e == t[i].want, "%s: %s, want %s", t[i].what, ip4_err_name(e),
			      ip4_err_name(t[i].want));
	}
}
END_TEST

START_TEST(test_parse_bad_checksum_every_bit)
{
	/* Flip each bit of the header, checksum not repaired. */
	for (size_t bit = 8; bit < 20 * 8; bit++) {
		uint8_t pkt[sizeof(udp_pkt)];
		struct ip4_hdr h;
		struct buf p;

		memcpy(pkt, udp_pkt, sizeof(pkt));
		pkt[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		enum ip4_err e = ip4_parse(pkt, sizeof(pkt), &h, &p);
		if (bit / 8 == 2 || bit / 8 == 3)
			/* Total Length is checked before the checksum. */
			ck_assert_msg(e == IP4_E_LENGTH || e == IP4_E_CHECKSUM, "bit %zu: %s", bit,
				      ip4_err_name(e));
		else
			ck_assert_msg(e == IP4_E_CHECKSUM, "bit %zu: %s", bit, ip4_err_name(e));
	}
}
END_TEST

/* ---- ip4_udp_parse ---- */

START_TEST(test_udp_parse_vector)
{
	struct ip4_hdr h;
	struct buf u;
	uint16_t sp = 0, dp = 0;

	ck_assert_int_eq(ip4_udp_parse(udp_pkt, sizeof(udp_pkt), &h, &sp, &dp, &u), IP4_OK);
	ck_assert_uint_eq(sp, 434);
	ck_assert_uint_eq(dp, 434);
	ck_assert_uint_eq(buf_left(&u), 8);
	ck_assert_ptr_eq(buf_rptr(&u), udp_pkt + 28);
	ck_assert_mem_eq(buf_rptr(&u), "RFC 768!", 8);
	ck_assert_uint_eq(h.proto, IP4_PROTO_UDP);
}
END_TEST

START_TEST(test_udp_bad_checksum_every_bit)
{
	for (size_t bit = 20 * 8; bit < sizeof(udp_pkt) * 8; bit++) {
		uint8_t pkt[sizeof(udp_pkt)];
		struct ip4_hdr h;
		struct buf u, p;
		uint16_t sp, dp;

		memcpy(pkt, udp_pkt, sizeof(pkt));
		pkt[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		/* The IP layer does not cover the payload... */
		ck_assert_int_eq(ip4_parse(pkt, sizeof(pkt), &h, &p), IP4_OK);
		/* ...but UDP does (and its length field is checked too). */
		enum ip4_err e = ip4_udp_parse(pkt, sizeof(pkt), &h, &sp, &dp, &u);
		ck_assert_msg(e == IP4_E_UDP, "bit %zu: %s", bit, ip4_err_name(e));
	}
}
END_TEST

START_TEST(test_udp_zero_checksum_not_checked)
{
	uint8_t pkt[sizeof(udp_pkt)];
	struct ip4_hdr h;
	struct buf u;
	uint16_t sp, dp;

	memcpy(pkt, udp_pkt, sizeof(pkt));
	pkt[26] = pkt[27] = 0;
	pkt[35] ^= 0xff; /* payload changed, but no checksum to catch it */
	ck_assert_int_eq(ip4_udp_parse(pkt, sizeof(pkt), &h, &sp, &dp, &u), IP4_OK);
	ck_assert_uint_eq(buf_left(&u), 8);
	ck_assert_uint_eq(buf_rptr(&u)[7], 0x21 ^ 0xff);
}
END_TEST

START_TEST(test_udp_length_field)
{
	/* UDP checksum zeroed (not checked) so only the length decides. */
	const struct {
		uint16_t ulen;
		enum ip4_err want;
		size_t payload;
	} t[] = {
		{0, IP4_E_UDP, 0}, {7, IP4_E_UDP, 0},  {8, IP4_OK, 0},         {12, IP4_OK, 4},
		{16, IP4_OK, 8},   {17, IP4_E_UDP, 0}, {0xffff, IP4_E_UDP, 0},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint8_t pkt[sizeof(udp_pkt)];
		struct ip4_hdr h;
		struct buf u;
		uint16_t sp, dp;

		memcpy(pkt, udp_pkt, sizeof(pkt));
		pkt[24] = (uint8_t)(t[i].ulen >> 8);
		pkt[25] = (uint8_t)t[i].ulen;
		pkt[26] = pkt[27] = 0;
		enum ip4_err e = ip4_udp_parse(pkt, sizeof(pkt), &h, &sp, &dp, &u);
		ck_assert_msg(e == t[i].want, "ulen %u: %s", t[i].ulen, ip4_err_name(e));
		if (e == IP4_OK) {
			ck_assert_uint_eq(buf_left(&u), t[i].payload);
			ck_assert_ptr_eq(buf_rptr(&u), pkt + 28);
		}
	}
}
END_TEST

START_TEST(test_udp_header_truncated_by_ip_length)
{
	/* IP Total Length leaves only 7 bytes of UDP header. */
	for (uint8_t total = 20; total < 28; total++) {
		uint8_t pkt[sizeof(udp_pkt)];
		struct ip4_hdr h;
		struct buf u;
		uint16_t sp, dp;

		memcpy(pkt, udp_pkt, sizeof(pkt));
		pkt[3] = total;
		fix_ip_cksum(pkt, sizeof(pkt));
		ck_assert_int_eq(ip4_udp_parse(pkt, sizeof(pkt), &h, &sp, &dp, &u), IP4_E_UDP);
	}
}
END_TEST

START_TEST(test_udp_wrong_protocol)
{
	struct ip4_hdr h;
	struct buf u;
	uint16_t sp, dp;

	ck_assert_int_eq(ip4_udp_parse(opt_pkt, sizeof(opt_pkt), &h, &sp, &dp, &u), IP4_E_PROTO);
	/* An IP error wins over the protocol. */
	ck_assert_int_eq(ip4_udp_parse(opt_pkt, 10, &h, &sp, &dp, &u), IP4_E_TRUNCATED);
}
END_TEST

/* ---- the descriptor: one parse on the way through ---- */

/* UDP length, IP flags and fragment offset: what ip4_pkt_parse makes of them. */
START_TEST(test_pkt_parse_table)
{
	const struct {
		const char *name;
		uint16_t ulen, frag;
		uint8_t proto;
		bool udp, fragment;
		size_t payload;
	} t[] = {
		/* 0 */ {"a whole UDP datagram", 12, 0, IP4_PROTO_UDP, true, false, 4},
		/* 1 */ {"DF set: still whole", 12, 0x4000, IP4_PROTO_UDP, true, false, 4},
		/* 2 */ {"first fragment (MF)", 12, IP4_MF, IP4_PROTO_UDP, false, true, 0},
		/* 3 */ {"a later fragment", 12, 5, IP4_PROTO_UDP, false, true, 0},
		/* 4 */ {"UDP length below its header", 7, 0, IP4_PROTO_UDP, false, false, 0},
		/* 5 */ {"UDP length beyond the packet", 17, 0, IP4_PROTO_UDP, false, false, 0},
		/* 6 */ {"UDP length 8: empty payload", 8, 0, IP4_PROTO_UDP, true, false, 0},
		/* 7 */ {"not UDP", 12, 0, IP4_PROTO_ICMP, false, false, 0},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint8_t pkt[sizeof(udp_pkt)];
		struct ip4_pkt p;

		memcpy(pkt, udp_pkt, sizeof(pkt));
		pkt[6] = (uint8_t)(t[i].frag >> 8);
		pkt[7] = (uint8_t)t[i].frag;
		pkt[9] = t[i].proto;
		pkt[24] = (uint8_t)(t[i].ulen >> 8);
		pkt[25] = (uint8_t)t[i].ulen;
		fix_ip_cksum(pkt, sizeof(pkt));
		ck_assert_msg(ip4_pkt_parse(pkt, sizeof(pkt), &p) == IP4_OK, "case %zu (%s)", i,
			      t[i].name);
		ck_assert_msg(p.udp == t[i].udp && p.fragment == t[i].fragment,
			      "case %zu (%s): udp %d fragment %d", i, t[i].name, p.udp, p.fragment);
		ck_assert_ptr_eq(p.data, pkt);
		ck_assert_uint_eq(p.h.proto, t[i].proto);
		ck_assert_ptr_eq(buf_rptr(&p.payload), pkt + 20);
		if (p.udp) {
			ck_assert_uint_eq(buf_left(&p.udp_payload), t[i].payload);
			ck_assert_ptr_eq(buf_rptr(&p.udp_payload), pkt + 28);
			ck_assert_uint_eq(p.sport, (uint16_t)(pkt[20] << 8 | pkt[21]));
			ck_assert_uint_eq(p.dport, (uint16_t)(pkt[22] << 8 | pkt[23]));
		}
	}
}
END_TEST

/* Its IP checks are ip4_parse_fwd's, at every length. */
START_TEST(test_pkt_parse_agrees)
{
	for (size_t n = 0; n <= sizeof(udp_pkt); n++) {
		struct ip4_hdr h;
		struct buf b;
		struct ip4_pkt p;

		ck_assert_int_eq(ip4_pkt_parse(udp_pkt, n, &p), ip4_parse_fwd(udp_pkt, n, &h, &b));
	}
	for (size_t n = 0; n <= sizeof(opt_pkt); n++) {
		struct ip4_hdr h;
		struct buf b;
		struct ip4_pkt p;

		ck_assert_int_eq(ip4_pkt_parse(opt_pkt, n, &p), ip4_parse_fwd(opt_pkt, n, &h, &b));
	}
}
END_TEST

/* ---- builders ---- */

START_TEST(test_put_header_known)
{
	const struct ip4_hdr classic = {.tos = 0,
					.total_len = 0x73,
					.id = 0,
					.frag = IP4_DF,
					.ttl = 64,
					.proto = IP4_PROTO_UDP,
					.src = addr(0xc0a80001),
					.dst = addr(0xc0a800c7)};
	const struct ip4_hdr ours = {.tos = 0,
				     .total_len = 36,
				     .id = 0x1c46,
				     .frag = IP4_DF,
				     .ttl = 64,
				     .proto = IP4_PROTO_UDP,
				     .src = addr(0x0a000001),
				     .dst = addr(0x0a000002)};
	uint8_t out[24];
	struct buf b;

	memset(out, 0xee, sizeof(out));
	buf_init_write(&b, out, sizeof(out));
	ck_assert_int_eq(buf_put_u8(&b, 0x77), BUF_OK); /* not at offset 0 */
	ck_assert_int_eq(ip4_put_header(&b, &classic), 0);
	ck_assert_uint_eq(buf_used(&b), 21);
	ck_assert_mem_eq(out + 1, classic_hdr, 20);

	buf_init_write(&b, out, sizeof(out));
	ck_assert_int_eq(ip4_put_header(&b, &ours), 0);
	ck_assert_mem_eq(out, udp_pkt, 20);

	/* One byte short of room. */
	buf_init_write(&b, out, 19);
	ck_assert_int_eq(ip4_put_header(&b, &ours), -1);
}
END_TEST

START_TEST(test_udp_put_matches_vector)
{
	uint8_t out[64];
	struct buf b;

	buf_init_write(&b, out, sizeof(out));
	ck_assert_int_eq(ip4_udp_put(&b, addr(0x0a000001), addr(0x0a000002), 434, 434, 64,
				     (const uint8_t *)"RFC 768!", 8),
			 0);
	ck_assert_uint_eq(buf_used(&b), 36);
	/* The UDP part is deterministic: the vector's, checksum included. */
	ck_assert_mem_eq(out + 20, udp_pkt + 20, 16);
	/* The IP header: same fields except the random id and no DF. */
	ck_assert_mem_eq(out, udp_pkt, 4);
	ck_assert_uint_eq(out[6], 0);
	ck_assert_uint_eq(out[7], 0);
	ck_assert_mem_eq(out + 8, udp_pkt + 8, 2);
	ck_assert_mem_eq(out + 12, udp_pkt + 12, 8);
	ck_assert_uint_eq(ref_cksum(out, 20), 0);
}
END_TEST

START_TEST(test_udp_put_roundtrip)
{
	uint8_t payload[300], out[400];
	struct ip4_hdr h;
	struct buf b, u;
	uint16_t sp, dp;

	for (size_t plen = 0; plen <= sizeof(payload); plen += 37) {
		for (size_t i = 0; i < plen; i++)
			payload[i] = (uint8_t)(i * 7 + plen);
		buf_init_write(&b, out, sizeof(out));
		ck_assert_int_eq(ip4_udp_put(&b, addr(0xc6120001), addr(0xc6130002), 49152, 434, 3,
					     payload, plen),
				 0);
		ck_assert_uint_eq(buf_used(&b), 28 + plen);
		ck_assert_int_eq(ip4_udp_parse(out, buf_used(&b), &h, &sp, &dp, &u), IP4_OK);
		ck_assert_uint_eq(sp, 49152);
		ck_assert_uint_eq(dp, 434);
		ck_assert_uint_eq(h.ttl, 3);
		ck_assert_uint_eq(h.frag, 0);
		ck_assert_uint_eq(h.tos, 0);
		ck_assert_uint_eq(h.total_len, 28 + plen);
		ck_assert_uint_eq(h.src.s_addr, htonl(0xc6120001));
		ck_assert_uint_eq(h.dst.s_addr, htonl(0xc6130002));
		ck_assert_uint_eq(buf_left(&u), plen);
		if (plen > 0)
			ck_assert_mem_eq(buf_rptr(&u), payload, plen);
	}
}
END_TEST

/* RFC 768: a computed checksum of zero is transmitted as all ones. */
START_TEST(test_udp_put_zero_checksum_as_ffff)
{
	uint8_t payload[4] = {0x11, 0x22, 0, 0};
	uint8_t out[64];
	struct ip4_hdr h;
	struct buf b, u;
	uint16_t sp, dp;

	buf_init_write(&b, out, sizeof(out));
	ck_assert_int_eq(ip4_udp_put(&b, addr(0x0a000001), addr(0x0a000002), 1, 2, 9, payload, 4),
			 0);
	uint16_t c = (uint16_t)(out[26] << 8 | out[27]);
	ck_assert_uint_ne(c, 0);
	/* Adding the checksum into the data makes the new sum all ones, the checksum zero. */
	payload[2] = (uint8_t)(c >> 8);
	payload[3] = (uint8_t)c;
	buf_init_write(&b, out, sizeof(out));
	ck_assert_int_eq(ip4_udp_put(&b, addr(0x0a000001), addr(0x0a000002), 1, 2, 9, payload, 4),
			 0);
	ck_assert_uint_eq(out[26], 0xff);
	ck_assert_uint_eq(out[27], 0xff);
	ck_assert_int_eq(ip4_udp_parse(out, buf_used(&b), &h, &sp, &dp, &u), IP4_OK);
}
END_TEST

START_TEST(test_udp_put_limits)
{
	const size_t max_plen = IP4_MAX_PACKET - IP4_HDR_LEN - UDP_HDR_LEN; /* 65507 */
	uint8_t *payload = calloc(1, max_plen + 1);
	uint8_t *out = malloc(IP4_MAX_PACKET + 16);
	uint8_t small[8] = {0};
	struct ip4_hdr h;
	struct buf b, u;
	uint16_t sp, dp;

	ck_assert_ptr_nonnull(payload);
	ck_assert_ptr_nonnull(out);
	buf_init_write(&b, out, IP4_MAX_PACKET + 16);
	ck_assert_int_eq(ip4_udp_put(&b, addr(1), addr(2), 3, 4, 5, payload, max_plen), 0);
	ck_assert_uint_eq(buf_used(&b), IP4_MAX_PACKET);
	ck_assert_int_eq(ip4_udp_parse(out, buf_used(&b), &h, &sp, &dp, &u), IP4_OK);
	ck_assert_uint_eq(buf_left(&u), max_plen);

	buf_init_write(&b, out, IP4_MAX_PACKET + 16);
	ck_assert_int_eq(ip4_udp_put(&b, addr(1), addr(2), 3, 4, 5, payload, max_plen + 1), -1);
	ck_assert_uint_eq(buf_used(&b), 0);

	/*
	 * Giant lengths must be refused before anything reads the payload:
	 * "8 + plen" wraps round for these.
	 */
	const size_t giants[] = {SIZE_MAX, SIZE_MAX - 7, SIZE_MAX - 8, SIZE_MAX - 27};
	for (size_t i = 0; i < sizeof(giants) / sizeof(giants[0]); i++) {
		buf_init_write(&b, out, IP4_MAX_PACKET + 16);
		ck_assert_int_eq(ip4_udp_put(&b, addr(1), addr(2), 3, 4, 5, small, giants[i]), -1);
		ck_assert_uint_eq(buf_used(&b), 0);
	}

	/* Not enough room in the buffer. */
	buf_init_write(&b, out, 28 + 7);
	ck_assert_int_eq(ip4_udp_put(&b, addr(1), addr(2), 3, 4, 5, small, 8), -1);
	buf_init_write(&b, out, 28 + 8);
	ck_assert_int_eq(ip4_udp_put(&b, addr(1), addr(2), 3, 4, 5, small, 8), 0);
	free(payload);
	free(out);
}
END_TEST

START_TEST(test_icmp_put)
{
	/* An ICMP echo request: type 8, code 0, checksum 0xf7fd, id 1, seq 1. */
	const uint8_t echo[8] = {0x08, 0x00, 0xf7, 0xfd, 0x00, 0x01, 0x00, 0x01};
	uint8_t out[64];
	struct ip4_hdr h;
	struct buf b, p;

	ck_assert_uint_eq(ref_cksum(echo, 8), 0);
	buf_init_write(&b, out, sizeof(out));
	ck_assert_int_eq(ip4_icmp_put(&b, addr(0xc0000201), addr(0xffffffff), 1, echo, 8), 0);
	ck_assert_uint_eq(buf_used(&b), 28);
	ck_assert_int_eq(ip4_parse(out, 28, &h, &p), IP4_OK);
	ck_assert_uint_eq(h.proto, IP4_PROTO_ICMP);
	ck_assert_uint_eq(h.ttl, 1);
	ck_assert_uint_eq(h.total_len, 28);
	ck_assert_uint_eq(h.dst.s_addr, 0xffffffffu);
	ck_assert_uint_eq(buf_left(&p), 8);
	ck_assert_mem_eq(buf_rptr(&p), echo, 8);

	buf_init_write(&b, out, 27);
	ck_assert_int_eq(ip4_icmp_put(&b, addr(1), addr(2), 1, echo, 8), -1);

	const size_t bad[] = {IP4_MAX_PACKET - IP4_HDR_LEN + 1, SIZE_MAX, SIZE_MAX - 19,
			      SIZE_MAX - 20};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf_init_write(&b, out, sizeof(out));
		ck_assert_int_eq(ip4_icmp_put(&b, addr(1), addr(2), 1, echo, bad[i]), -1);
		ck_assert_msg(buf_used(&b) == 0, "len %zu: %zu bytes written", bad[i],
			      buf_used(&b));
	}
}
END_TEST

/* ---- IP-in-IP ---- */

START_TEST(test_encap_copies_tos_and_df)
{
	uint8_t inner[sizeof(udp_pkt)], out[128];
	struct ip4_hdr oh, ih;
	struct buf b, p, ip;

	memcpy(inner, udp_pkt, sizeof(inner));
	inner[1] = 0xb8; /* DSCP EF */
	fix_ip_cksum(inner, sizeof(inner));
	buf_init_write(&b, out, sizeof(out));
	ck_assert_int_eq(ip4_encap(&b, addr(0xc6120001), addr(0xc6130001), 63, inner, 36), 0);
	ck_assert_uint_eq(buf_used(&b), 56);
	ck_assert_int_eq(ip4_parse(out, 56, &oh, &p), IP4_OK);
	ck_assert_uint_eq(oh.proto, IP4_PROTO_IPIP);
	ck_assert_uint_eq(oh.tos, 0xb8);
	ck_assert_uint_eq(oh.frag, IP4_DF);
	ck_assert_uint_eq(oh.ttl, 63);
	ck_assert_uint_eq(oh.total_len, 56);
	ck_assert_uint_eq(oh.src.s_addr, htonl(0xc6120001));
	ck_assert_uint_eq(oh.dst.s_addr, htonl(0xc6130001));
	ck_assert_uint_eq(buf_left(&p), 36);
	ck_assert_mem_eq(buf_rptr(&p), inner, 36);
	ck_assert_int_eq(ip4_parse(buf_rptr(&p), buf_left(&p), &ih, &ip), IP4_OK);
	ck_assert_uint_eq(ih.ttl, 64); /* the inner packet is not touched */
}
END_TEST

START_TEST(test_encap_flags)
{
	/* Only DF is copied (RFC 2003 3.1); MF and the offset are the inner packet's. */
	const struct {
		uint8_t f0, f1;
		uint16_t outer;
	} t[] = {
		{0x00, 0x00, 0},      {0x40, 0x00, IP4_DF}, {0x20, 0x00, 0},
		{0x60, 0x10, IP4_DF}, {0x1f, 0xff, 0},      {0x80, 0x00, 0},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint8_t inner[sizeof(opt_pkt)], out[64];
		struct ip4_hdr oh;
		struct buf b, p;

		memcpy(inner, opt_pkt, sizeof(inner));
		inner[6] = t[i].f0;
		inner[7] = t[i].f1;
		fix_ip_cksum(inner, sizeof(inner));
		buf_init_write(&b, out, sizeof(out));
		ck_assert_int_eq(ip4_encap(&b, addr(1), addr(2), 64, inner, sizeof(inner)), 0);
		ck_assert_int_eq(ip4_parse(out, buf_used(&b), &oh, &p), IP4_OK);
		ck_assert_msg(oh.frag == t[i].outer, "inner %02x%02x: outer %04x", t[i].f0, t[i].f1,
			      oh.frag);
		ck_assert_uint_eq(oh.tos, 0);
	}
}
END_TEST

START_TEST(test_encap_limits)
{
	uint8_t *inner = calloc(1, IP4_MAX_PACKET);
	uint8_t *out = malloc(IP4_MAX_PACKET + 64);
	struct buf b;

	ck_assert_ptr_nonnull(inner);
	ck_assert_ptr_nonnull(out);
	memcpy(inner, udp_pkt, sizeof(udp_pkt));
	const struct {
		size_t len;
		int want;
	} t[] = {
		{0, -1},
		{19, -1},
		{20, 0},
		{IP4_MAX_PACKET - IP4_HDR_LEN, 0},
		{IP4_MAX_PACKET - IP4_HDR_LEN + 1, -1},
		{SIZE_MAX, -1},
		{SIZE_MAX - 19, -1}, /* len + 20 wraps to 0 */
		{SIZE_MAX - 10, -1},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		buf_init_write(&b, out, IP4_MAX_PACKET + 64);
		ck_assert_msg(ip4_encap(&b, addr(1), addr(2), 64, inner, t[i].len) == t[i].want,
			      "len %zu", t[i].len);
		ck_assert_uint_eq(buf_used(&b), t[i].want == 0 ? t[i].len + 20 : 0);
	}
	buf_init_write(&b, out, 55);
	ck_assert_int_eq(ip4_encap(&b, addr(1), addr(2), 64, inner, 36), -1);
	free(inner);
	free(out);
}
END_TEST

START_TEST(test_err_names)
{
	ck_assert_str_eq(ip4_err_name(IP4_OK), "ok");
	ck_assert_str_eq(ip4_err_name(IP4_E_TRUNCATED), "truncated");
	ck_assert_str_eq(ip4_err_name(IP4_E_VERSION), "not IPv4");
	ck_assert_str_eq(ip4_err_name(IP4_E_HLEN), "bad header length");
	ck_assert_str_eq(ip4_err_name(IP4_E_LENGTH), "bad total length");
	ck_assert_str_eq(ip4_err_name(IP4_E_CHECKSUM), "bad header checksum");
	ck_assert_str_eq(ip4_err_name(IP4_E_FRAGMENT), "fragment");
	ck_assert_str_eq(ip4_err_name(IP4_E_PROTO), "unexpected protocol");
	ck_assert_str_eq(ip4_err_name(IP4_E_UDP), "bad UDP header");
	ck_assert_str_eq(ip4_err_name(IP4_E_MAX), "unknown error");
}
END_TEST

static Suite *ip4_suite(void)
{
	Suite *s = suite_create("ip4");
	TCase *tc;

	tc = tcase_create("checksum");
	tcase_add_test(tc, test_cksum_rfc1071_example);
	tcase_add_test(tc, test_cksum_edges);
	tcase_add_test(tc, test_cksum_wide_matches_reference);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse");
	tcase_add_test(tc, test_parse_udp_vector);
	tcase_add_test(tc, test_parse_options_vector);
	tcase_add_test(tc, test_parse_classic_header);
	tcase_add_test(tc, test_parse_link_padding_ignored);
	tcase_add_test(tc, test_parse_truncated_every_length);
	tcase_add_test(tc, test_parse_bad_fields);
	tcase_add_test(tc, test_parse_bad_checksum_every_bit);
	tcase_add_test(tc, test_err_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("udp");
	tcase_add_test(tc, test_udp_parse_vector);
	tcase_add_test(tc, test_udp_bad_checksum_every_bit);
	tcase_add_test(tc, test_udp_zero_checksum_not_checked);
	tcase_add_test(tc, test_udp_length_field);
	tcase_add_test(tc, test_udp_header_truncated_by_ip_length);
	tcase_add_test(tc, test_udp_wrong_protocol);
	tcase_add_test(tc, test_pkt_parse_table);
	tcase_add_test(tc, test_pkt_parse_agrees);
	suite_add_tcase(s, tc);

	tc = tcase_create("build");
	tcase_add_test(tc, test_put_header_known);
	tcase_add_test(tc, test_udp_put_matches_vector);
	tcase_add_test(tc, test_udp_put_roundtrip);
	tcase_add_test(tc, test_udp_put_zero_checksum_as_ffff);
	tcase_add_test(tc, test_udp_put_limits);
	tcase_add_test(tc, test_icmp_put);
	tcase_add_test(tc, test_encap_copies_tos_and_df);
	tcase_add_test(tc, test_encap_flags);
	tcase_add_test(tc, test_encap_limits);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_main(ip4_suite());
}
