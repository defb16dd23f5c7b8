/*
 * Unit tests for common/pmtu.c: what ESP and IP-in-IP cost, the tunnel
 * device MTU of a mobile node, ICMP fragmentation needed (RFC 792, RFC
 * 1191) and when it may be sent (RFC 1812 4.3.2.7), fragmentation (RFC
 * 791) and the decision of pmtu_send.
 *
 * The expected ESP figures are worked out by hand from RFC 4303 2 and the
 * algorithms' sizes: AES-CBC has a 16-byte IV and pads to 16 bytes, the
 * ICV is 12 bytes (HMAC-SHA1-96) or 16 (HMAC-SHA-256-128); AES-GCM has an
 * 8-byte IV, pads to 4 bytes and has a 16-byte ICV.
 */
#include "buf.h"
#include "check_main.h"
#include "ip4.h"
#include "pmtu.h"

#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>

static struct in_addr ip(const char *s)
{
	struct in_addr a;

	ck_assert_int_eq(inet_pton(AF_INET, s, &a), 1);
	return a;
}

/*
 * An IPv4 packet of total bytes from src to dst: protocol proto, flags and
 * offset frag, options opt (olen, a multiple of 4), and a payload whose
 * byte i is (uint8_t)(i * 7 + 3).
 */
static size_t packet(uint8_t *out, size_t total, const char *src, const char *dst, uint8_t proto,
		     uint16_t frag, const uint8_t *opt, size_t olen)
{
	size_t hlen = IP4_HDR_LEN + olen;
	uint16_t sum;

	ck_assert_uint_ge(total, hlen);
	memset(out, 0, hlen);
	out[0] = (uint8_t)(0x40 | hlen / 4);
	out[2] = (uint8_t)(total >> 8);
	out[3] = (uint8_t)total;
	out[4] = 0x12;
	out[5] = 0x34;
	out[6] = (uint8_t)(frag >> 8);
	out[7] = (uint8_t)frag;
	out[8] = 63;
	out[9] = proto;
	struct in_addr s = ip(src), d = ip(dst);
	memcpy(out + 12, &s.s_addr, 4);
	memcpy(out + 16, &d.s_addr, 4);
	if (olen > 0)
		memcpy(out + IP4_HDR_LEN, opt, olen);
	for (size_t i = hlen; i < total; i++)
		out[i] = (uint8_t)((i - hlen) * 7 + 3);
	sum = inet_cksum(out, hlen);
	out[10] = (uint8_t)(sum >> 8);
	out[11] = (uint8_t)sum;
	return total;
}

#define CN   "203.0.113.5"
#define MN   "10.0.0.10"
#define TCP  6
#define UDP  17
#define ICMP 1

static uint8_t pkt[IP4_MAX_PACKET];

/* ---- overheads ---- */

START_TEST(test_ipip_inner)
{
	ck_assert_uint_eq(pmtu_ipip_inner(1500), 1480);
	ck_assert_uint_eq(pmtu_ipip_inner(21), 1);
	ck_assert_uint_eq(pmtu_ipip_inner(20), 0);
	ck_assert_uint_eq(pmtu_ipip_inner(0), 0);
}
END_TEST

START_TEST(test_esp_inner_known)
{
	/* CBC, SHA1-96, UDP: 1500 - 20 - 8 - 8 - 16 - 12 = 1436 for the padded part, 1424 - 2. */
	ck_assert_uint_eq(pmtu_esp_inner(ESP_ALG_AES_CBC_HMAC_SHA1_96, true, 1500), 1422);
	/* without UDP: 1444 -> 1440 padded -> 1438 */
	ck_assert_uint_eq(pmtu_esp_inner(ESP_ALG_AES_CBC_HMAC_SHA1_96, false, 1500), 1438);
	/* SHA-256-128: 1432 -> 1424 -> 1422; without UDP 1440 -> 1438 */
	ck_assert_uint_eq(pmtu_esp_inner(ESP_ALG_AES_CBC_HMAC_SHA256_128, true, 1500), 1422);
	ck_assert_uint_eq(pmtu_esp_inner(ESP_ALG_AES_CBC_HMAC_SHA256_128, false, 1500), 1438);
	/* GCM: 1500 - 28 - 8 - 8 - 16 = 1440 padded to 4 -> 1438; without UDP 1448 -> 1446 */
	ck_assert_uint_eq(pmtu_esp_inner(ESP_ALG_AES_GCM_16, true, 1500), 1438);
	ck_assert_uint_eq(pmtu_esp_inner(ESP_ALG_AES_GCM_16, false, 1500), 1446);
	/* no room at all, and an unknown algorithm */
	ck_assert_uint_eq(pmtu_esp_inner(ESP_ALG_AES_GCM_16, true, 40), 0);
	ck_assert_uint_eq(pmtu_esp_inner(ESP_ALG_MAX, false, 1500), 0);
}
END_TEST

/* For every algorithm and path MTU: the answer fits, and one byte more does not. */
START_TEST(test_esp_inner_tight)
{
	for (int a = 0; a < ESP_ALG_MAX; a++)
		for (int udp = 0; udp < 2; udp++)
			for (size_t mtu = 0; mtu <= 2000; mtu++) {
				size_t outer = IP4_HDR_LEN + (udp ? UDP_HDR_LEN : 0);
				size_t in = pmtu_esp_inner((enum esp_alg)a, udp, mtu);
				if (in == 0) {
					ck_assert_uint_gt(outer + esp_encap_len(a, 1), mtu);
					continue;
				}
				ck_assert_uint_le(outer + esp_encap_len(a, in), mtu);
				ck_assert_uint_gt(outer + esp_encap_len(a, in + 1), mtu);
			}
}
END_TEST

START_TEST(test_tunnel_mtu)
{
	const enum esp_alg cbc[] = {ESP_ALG_AES_CBC_HMAC_SHA1_96};
	const enum esp_alg gcm[] = {ESP_ALG_AES_GCM_16};
	const enum esp_alg both[] = {ESP_ALG_AES_GCM_16, ESP_ALG_AES_CBC_HMAC_SHA256_128};

	/* plain Mobile IP: the reverse tunnel's 20 bytes, or nothing */
	ck_assert_uint_eq(pmtu_tunnel_mtu(1500, NULL, 0, true), 1480);
	ck_assert_uint_eq(pmtu_tunnel_mtu(1500, NULL, 0, false), 1500);
	/* ESP is counted with UDP encapsulation, whatever the configuration says */
	ck_assert_uint_eq(pmtu_tunnel_mtu(1500, cbc, 1, true), 1422);
	ck_assert_uint_eq(pmtu_tunnel_mtu(1500, gcm, 1, true), 1438);
	ck_assert_uint_eq(pmtu_tunnel_mtu(1500, gcm, 1, false), 1438);
	/* the worst of the proposals */
	ck_assert_uint_eq(pmtu_tunnel_mtu(1500, both, 2, false), 1422);
	/* a smaller link, and one too small for anything: never below 68 */
	ck_assert_uint_eq(pmtu_tunnel_mtu(1280, cbc, 1, true), 1214);
	ck_assert_uint_eq(pmtu_tunnel_mtu(60, cbc, 1, true), PMTU_MIN);
}
END_TEST

/* ---- ICMP ---- */

START_TEST(test_may_answer)
{
	static const uint8_t echo_req[1] = {8}, unreach[1] = {3};
	size_t n;

	n = packet(pkt, 100, CN, MN, TCP, IP4_DF, NULL, 0);
	ck_assert(pmtu_may_answer(pkt, n));
	/* a later fragment, and a first fragment */
	packet(pkt, 100, CN, MN, TCP, 10, NULL, 0);
	ck_assert(!pmtu_may_answer(pkt, n));
	packet(pkt, 100, CN, MN, TCP, IP4_MF, NULL, 0);
	ck_assert(pmtu_may_answer(pkt, n));
	/* sources that name no host, destinations that are not one */
	const char *bad_src[] = {"0.0.0.0",   "0.1.2.3",   "127.0.0.1",
				 "224.0.0.1", "240.0.0.1", "255.255.255.255"};
	for (size_t i = 0; i < sizeof(bad_src) / sizeof(bad_src[0]); i++) {
		packet(pkt, 100, bad_src[i], MN, TCP, IP4_DF, NULL, 0);
		ck_assert_msg(!pmtu_may_answer(pkt, n), "%s", bad_src[i]);
	}
	packet(pkt, 100, CN, "239.1.2.3", UDP, IP4_DF, NULL, 0);
	ck_assert(!pmtu_may_answer(pkt, n));
	packet(pkt, 100, CN, "255.255.255.255", UDP, IP4_DF, NULL, 0);
	ck_assert(!pmtu_may_answer(pkt, n));
	/* an ICMP query may be answered, an ICMP error never */
	packet(pkt, 100, CN, MN, ICMP, IP4_DF, NULL, 0);
	pkt[IP4_HDR_LEN] = echo_req[0];
	ck_assert(pmtu_may_answer(pkt, n));
	pkt[IP4_HDR_LEN] = unreach[0];
	ck_assert(!pmtu_may_answer(pkt, n));
	for (uint8_t t = 0; t < 20; t++) {
		pkt[IP4_HDR_LEN] = t;
		bool err = t == 3 || t == 4 || t == 5 || t == 11 || t == 12;
		ck_assert_int_eq(pmtu_may_answer(pkt, n), !err);
	}
	/* ICMP without even a type byte, and a packet that does not parse */
	n = packet(pkt, IP4_HDR_LEN, CN, MN, ICMP, 0, NULL, 0);
	ck_assert(!pmtu_may_answer(pkt, n));
	n = packet(pkt, 100, CN, MN, TCP, IP4_DF, NULL, 0);
	pkt[10] ^= 1;
	ck_assert(!pmtu_may_answer(pkt, n));
	ck_assert(!pmtu_may_answer(pkt, 10));
}
END_TEST

/* Check an ICMP fragmentation needed from src about orig (olen bytes), quoting quote bytes. */
static void check_icmp(const uint8_t *icmp, size_t len, const char *src, const uint8_t *orig,
		       size_t quote, uint16_t mtu)
{
	struct ip4_hdr h, oh;
	struct buf payload, op;

	ck_assert_int_eq(ip4_parse(icmp, len, &h, &payload), IP4_OK);
	ck_assert_int_eq(ip4_parse_fwd(orig, IP4_MAX_PACKET, &oh, &op), IP4_OK);
	ck_assert_uint_eq(h.proto, IP4_PROTO_ICMP);
	ck_assert_uint_eq(h.src.s_addr, ip(src).s_addr);
	ck_assert_uint_eq(h.dst.s_addr, oh.src.s_addr);
	ck_assert_uint_eq(h.frag & IP4_DF, 0);
	ck_assert_uint_eq(buf_left(&payload), 8 + quote);
	const uint8_t *m = buf_rptr(&payload);
	ck_assert_uint_eq(m[0], 3);
	ck_assert_uint_eq(m[1], 4);
	ck_assert_uint_eq(inet_cksum(m, 8 + quote), 0);
	ck_assert_uint_eq(m[4] << 8 | m[5], 0);
	ck_assert_uint_eq(m[6] << 8 | m[7], mtu);
	ck_assert_mem_eq(m + 8, orig, quote);
}

START_TEST(test_icmp_frag_needed)
{
	static const uint8_t opts[8] = {0x94, 0x04, 0x00, 0x00, 0x01, 0x01, 0x01, 0x00};
	uint8_t out[200];
	struct buf b;
	size_t n;

	/* the header and 8 bytes: the TCP ports and sequence number */
	n = packet(pkt, 1500, CN, MN, TCP, IP4_DF, NULL, 0);
	buf_init_write(&b, out, sizeof(out));
	ck_assert_int_eq(pmtu_icmp_frag_needed(&b, ip("198.18.100.1"), pkt, n, 1480), 0);
	ck_assert_uint_eq(buf_used(&b), 20 + 8 + 28);
	check_icmp(out, buf_used(&b), "198.18.100.1", pkt, 28, 1480);
	/* options are part of the header quoted */
	n = packet(pkt, 1500, CN, MN, TCP, IP4_DF, opts, sizeof(opts));
	buf_init_write(&b, out, sizeof(out));
	ck_assert_int_eq(pmtu_icmp_frag_needed(&b, ip("192.0.2.1"), pkt, n, 1438), 0);
	check_icmp(out, buf_used(&b), "192.0.2.1", pkt, 36, 1438);
	/* a payload shorter than 8 bytes is quoted whole */
	n = packet(pkt, 23, CN, MN, UDP, IP4_DF, NULL, 0);
	buf_init_write(&b, out, sizeof(out));
	ck_assert_int_eq(pmtu_icmp_frag_needed(&b, ip("192.0.2.1"), pkt, n, 1000), 0);
	check_icmp(out, buf_used(&b), "192.0.2.1", pkt, 23, 1000);
	/* not for an ICMP error; no room: nothing written */
	n = packet(pkt, 1500, CN, MN, ICMP, IP4_DF, NULL, 0);
	pkt[IP4_HDR_LEN] = 11;
	buf_init_write(&b, out, sizeof(out));
	ck_assert_int_eq(pmtu_icmp_frag_needed(&b, ip("192.0.2.1"), pkt, n, 1000), -1);
	ck_assert_uint_eq(buf_used(&b), 0);
	n = packet(pkt, 1500, CN, MN, TCP, IP4_DF, NULL, 0);
	buf_init_write(&b, out, 55);
	ck_assert_int_eq(pmtu_icmp_frag_needed(&b, ip("192.0.2.1"), pkt, n, 1000), -1);
	ck_assert_uint_eq(buf_used(&b), 0);
}
END_TEST

/* ---- fragmentation ---- */

struct frags {
	size_t n;
	size_t len[256];
	uint8_t d[256][1600];
};

static void fragment_all(const uint8_t *p, size_t len, size_t mtu, struct frags *fr)
{
	struct pmtu_frag f;
	struct buf b;
	int r;

	fr->n = 0;
	ck_assert_int_eq(pmtu_frag_init(&f, p, len, mtu), 0);
	for (;;) {
		ck_assert_uint_lt(fr->n, 256);
		buf_init_write(&b, fr->d[fr->n], sizeof(fr->d[0]));
		r = pmtu_frag_next(&f, &b);
		if (r == 0)
			break;
		ck_assert_int_eq(r, 1);
		fr->len[fr->n++] = buf_used(&b);
	}
	ck_assert_int_eq(pmtu_frag_next(&f, &b), 0);
}

/* Fragments must cover orig's payload exactly, in order, each within mtu. */
static void check_frags(const struct frags *fr, const uint8_t *orig, size_t mtu)
{
	struct ip4_hdr oh, h;
	struct buf op, p;
	size_t at = 0;

	ck_assert_int_eq(ip4_parse_fwd(orig, IP4_MAX_PACKET, &oh, &op), IP4_OK);
	size_t base = (size_t)(oh.frag & IP4_OFFMASK) * 8;
	for (size_t i = 0; i < fr->n; i++) {
		ck_assert_uint_le(fr->len[i], mtu);
		ck_assert_int_eq(ip4_parse_fwd(fr->d[i], fr->len[i], &h, &p), IP4_OK);
		ck_assert_uint_eq(h.hlen, oh.hlen);
		ck_assert_uint_eq(h.id, oh.id);
		ck_assert_uint_eq(h.proto, oh.proto);
		ck_assert_uint_eq(h.ttl, oh.ttl);
		ck_assert_uint_eq(h.src.s_addr, oh.src.s_addr);
		ck_assert_uint_eq(h.dst.s_addr, oh.dst.s_addr);
		ck_assert_uint_eq(h.frag & IP4_DF, 0);
		ck_assert_uint_eq((size_t)(h.frag & IP4_OFFMASK) * 8, base + at);
		bool last = i + 1 == fr->n;
		ck_assert_int_eq((h.frag & IP4_MF) != 0, !last || (oh.frag & IP4_MF));
		if (!last)
			ck_assert_uint_eq(buf_left(&p) % 8, 0);
		ck_assert_mem_eq(buf_rptr(&p), buf_rptr(&op) + at, buf_left(&p));
		at += buf_left(&p);
	}
	ck_assert_uint_eq(at, buf_left(&op));
}

static struct frags fr;

START_TEST(test_frag_two)
{
	size_t n = packet(pkt, 1500, CN, MN, UDP, 0, NULL, 0);

	/* 1480 - 20 = 1460, down to 1456: fragments of 1476 and 20 + 24 */
	fragment_all(pkt, n, 1480, &fr);
	ck_assert_uint_eq(fr.n, 2);
	ck_assert_uint_eq(fr.len[0], 1476);
	ck_assert_uint_eq(fr.len[1], 44);
	ck_assert_uint_eq(fr.d[1][6] << 8 | fr.d[1][7], 1456 / 8);
	check_frags(&fr, pkt, 1480);
}
END_TEST

START_TEST(test_frag_many_sizes)
{
	for (size_t total = 100; total <= 9000; total += 97)
		for (size_t mtu = 68; mtu < 1600; mtu += 131) {
			size_t n = packet(pkt, total, CN, MN, UDP, 0, NULL, 0);
			fragment_all(pkt, n, mtu, &fr);
			ck_assert_uint_eq(fr.n, (total - 20 + ((mtu - 20) & ~7u) - 1) /
							((mtu - 20) & ~7u));
			check_frags(&fr, pkt, mtu);
		}
}
END_TEST

/* A fragment fragmented again: offsets go on from its own, and its MF stays. */
START_TEST(test_frag_of_fragment)
{
	size_t n = packet(pkt, 1500, CN, MN, UDP, IP4_MF | 185, NULL, 0);

	fragment_all(pkt, n, 600, &fr);
	ck_assert_uint_eq(fr.n, 3);
	check_frags(&fr, pkt, 600);
	ck_assert_uint_eq(fr.d[0][6] << 8 | fr.d[0][7], IP4_MF | 185);
	ck_assert_uint_ne(fr.d[2][6] & (IP4_MF >> 8), 0);
	/* the last fragment of a datagram: MF only on the new ones */
	n = packet(pkt, 1500, CN, MN, UDP, 185, NULL, 0);
	fragment_all(pkt, n, 600, &fr);
	check_frags(&fr, pkt, 600);
	ck_assert_uint_eq(fr.d[2][6] & (IP4_MF >> 8), 0);
}
END_TEST

START_TEST(test_frag_options)
{
	/* Security (130, copied, 4 bytes) and Record Route (7, not copied, 7 bytes), NOP */
	static const uint8_t opts[12] = {0x82, 0x04, 0xaa, 0xbb, 0x07, 0x07,
					 0x04, 0,    0,    0,    0,    0x01};
	size_t n = packet(pkt, 1000, CN, MN, UDP, 0, opts, sizeof(opts));

	fragment_all(pkt, n, 400, &fr);
	ck_assert_uint_eq(fr.n, 3);
	check_frags(&fr, pkt, 400);
	ck_assert_mem_eq(fr.d[0] + 20, opts, 12);
	for (size_t i = 1; i < fr.n; i++) {
		static const uint8_t later[12] = {0x82, 0x04, 0xaa, 0xbb, 1, 1, 1, 1, 1, 1, 1, 1};
		ck_assert_mem_eq(fr.d[i] + 20, later, 12);
	}
}
END_TEST

START_TEST(test_frag_refused)
{
	static const uint8_t bad_len[4] = {0x07, 0x09, 0x00, 0x00};
	static const uint8_t zero_len[4] = {0x07, 0x00, 0x00, 0x00};
	static const uint8_t no_len[4] = {0x01, 0x01, 0x01, 0x07};
	static const uint8_t eol[4] = {0x00, 0x07, 0x09, 0x09}; /* nothing read after EOL */
	struct pmtu_frag f;
	size_t n;

	n = packet(pkt, 1500, CN, MN, UDP, IP4_DF, NULL, 0);
	ck_assert_int_eq(pmtu_frag_init(&f, pkt, n, 1000), -1);
	n = packet(pkt, 1500, CN, MN, UDP, 0, NULL, 0);
	ck_assert_int_eq(pmtu_frag_init(&f, pkt, n, 67), -1);
	ck_assert_int_eq(pmtu_frag_init(&f, pkt, n, 68), 0);
	ck_assert_int_eq(pmtu_frag_init(&f, pkt, n - 1, 1000), -1); /* truncated */
	n = packet(pkt, 1500, CN, MN, UDP, 0, bad_len, 4);
	ck_assert_int_eq(pmtu_frag_init(&f, pkt, n, 1000), -1);
	n = packet(pkt, 1500, CN, MN, UDP, 0, zero_len, 4);
	ck_assert_int_eq(pmtu_frag_init(&f, pkt, n, 1000), -1);
	n = packet(pkt, 1500, CN, MN, UDP, 0, no_len, 4);
	ck_assert_int_eq(pmtu_frag_init(&f, pkt, n, 1000), -1);
	n = packet(pkt, 1500, CN, MN, UDP, 0, eol, 4);
	ck_assert_int_eq(pmtu_frag_init(&f, pkt, n, 1000), 0);
	/* a fragment whose last byte would lie beyond offset 65535 */
	n = packet(pkt, 1500, CN, MN, UDP, IP4_OFFMASK - 10, NULL, 0);
	ck_assert_int_eq(pmtu_frag_init(&f, pkt, n, 1000), -1);
	n = packet(pkt, 100, CN, MN, UDP, (65535 - 80) / 8, NULL, 0);
	ck_assert_int_eq(pmtu_frag_init(&f, pkt, n, 60 + 8), 0);
	/* no room in the output: -1 and nothing written, then it goes on */
	uint8_t small[100];
	struct buf b;
	n = packet(pkt, 1500, CN, MN, UDP, 0, NULL, 0);
	ck_assert_int_eq(pmtu_frag_init(&f, pkt, n, 1000), 0);
	buf_init_write(&b, small, sizeof(small));
	ck_assert_int_eq(pmtu_frag_next(&f, &b), -1);
	ck_assert_uint_eq(buf_used(&b), 0);
}
END_TEST

/* ---- pmtu_send ---- */

struct sent {
	size_t n_send, n_icmp;
	size_t last_len;
	uint8_t last_icmp[200];
	size_t icmp_len;
};

static struct sent sent;

static void on_send(void *arg, const uint8_t *p, size_t len)
{
	struct sent *s = arg;

	s->n_send++;
	s->last_len = len;
	(void)p;
}

static void on_icmp(void *arg, const uint8_t *p, size_t len)
{
	struct sent *s = arg;

	s->n_icmp++;
	ck_assert_uint_le(len, sizeof(s->last_icmp));
	memcpy(s->last_icmp, p, len);
	s->icmp_len = len;
}

static struct pmtu_path path(void)
{
	memset(&sent, 0, sizeof(sent));
	return (struct pmtu_path){
		.name = "test", .send = on_send, .icmp = on_icmp, .icmp_src = ip("192.0.2.1")};
}

START_TEST(test_send_fits)
{
	struct pmtu_path p = path();
	size_t n = packet(pkt, 1480, CN, MN, TCP, IP4_DF, NULL, 0);

	ck_assert_int_eq(pmtu_send(&p, &sent, pkt, n, 1480), PMTU_SENT);
	ck_assert_int_eq(pmtu_send(&p, &sent, pkt, n, 0), PMTU_SENT);
	/* link-layer padding beyond Total Length is not sent */
	ck_assert_int_eq(pmtu_send(&p, &sent, pkt, n + 10, 1480), PMTU_SENT);
	ck_assert_uint_eq(sent.n_send, 3);
	ck_assert_uint_eq(sent.last_len, 1480);
	ck_assert_uint_eq(sent.n_icmp, 0);
	ck_assert_uint_eq(p.ctr.too_big, 0);
}
END_TEST

START_TEST(test_send_df_icmp)
{
	struct pmtu_path p = path();
	size_t n = packet(pkt, 1500, CN, MN, TCP, IP4_DF, NULL, 0);

	ck_assert_int_eq(pmtu_send(&p, &sent, pkt, n, 1438), PMTU_ICMP);
	ck_assert_uint_eq(sent.n_send, 0);
	ck_assert_uint_eq(sent.n_icmp, 1);
	check_icmp(sent.last_icmp, sent.icmp_len, "192.0.2.1", pkt, 28, 1438);
	ck_assert_uint_eq(p.ctr.too_big, 1);
	ck_assert_uint_eq(p.ctr.icmp_frag_needed, 1);
}
END_TEST

/* Bursts of 10, then nothing until the bucket refills (5 a second). */
START_TEST(test_send_rate_limited)
{
	struct pmtu_path p = path();
	size_t n = packet(pkt, 1500, CN, MN, TCP, IP4_DF, NULL, 0);

	for (int i = 0; i < 30; i++)
		ck_assert_int_ne(pmtu_send(&p, &sent, pkt, n, 1480), PMTU_SENT);
	ck_assert_uint_eq(p.ctr.too_big, 30);
	ck_assert_uint_le(p.ctr.icmp_frag_needed, 11);
	ck_assert_uint_ge(p.ctr.icmp_frag_needed, 10);
	ck_assert_uint_eq(p.ctr.icmp_frag_needed + p.ctr.icmp_rate_limited, 30);
	ck_assert_uint_eq(sent.n_icmp, p.ctr.icmp_frag_needed);
	ck_assert_uint_eq(sent.n_send, 0);
}
END_TEST

START_TEST(test_send_fragments)
{
	struct pmtu_path p = path();
	size_t n = packet(pkt, 3000, CN, MN, UDP, 0, NULL, 0);

	ck_assert_int_eq(pmtu_send(&p, &sent, pkt, n, 1480), PMTU_FRAGMENTED);
	ck_assert_uint_eq(sent.n_send, 3);
	ck_assert_uint_eq(sent.last_len, 20 + 2980 - 2 * 1456);
	ck_assert_uint_eq(sent.n_icmp, 0);
	ck_assert_uint_eq(p.ctr.too_big, 1);
	ck_assert_uint_eq(p.ctr.fragmented, 1);
	ck_assert_uint_eq(p.ctr.fragments, 3);
}
END_TEST

START_TEST(test_send_dropped)
{
	struct pmtu_path p = path();
	size_t n = packet(pkt, 1500, CN, MN, ICMP, IP4_DF, NULL, 0);

	/* an ICMP error too big: dropped, never answered */
	pkt[IP4_HDR_LEN] = 3;
	ck_assert_int_eq(pmtu_send(&p, &sent, pkt, n, 1480), PMTU_DROPPED);
	ck_assert_uint_eq(p.ctr.icmp_not_allowed, 1);
	/* garbage too big, and DF clear with an MTU no fragment fits */
	memset(pkt, 0xee, 1500);
	ck_assert_int_eq(pmtu_send(&p, &sent, pkt, 1500, 1480), PMTU_DROPPED);
	n = packet(pkt, 1500, CN, MN, UDP, 0, NULL, 0);
	ck_assert_int_eq(pmtu_send(&p, &sent, pkt, n, 40), PMTU_DROPPED);
	ck_assert_uint_eq(p.ctr.drop_unfragmentable, 2);
	ck_assert_uint_eq(p.ctr.too_big, 3);
	ck_assert_uint_eq(sent.n_send + sent.n_icmp, 0);
}
END_TEST

static Suite *pmtu_suite(void)
{
	Suite *s = suite_create("pmtu");
	TCase *tc = tcase_create("overhead");

	tcase_add_test(tc, test_ipip_inner);
	tcase_add_test(tc, test_esp_inner_known);
	tcase_add_test(tc, test_esp_inner_tight);
	tcase_add_test(tc, test_tunnel_mtu);
	suite_add_tcase(s, tc);

	tc = tcase_create("icmp");
	tcase_add_test(tc, test_may_answer);
	tcase_add_test(tc, test_icmp_frag_needed);
	suite_add_tcase(s, tc);

	tc = tcase_create("fragment");
	tcase_add_test(tc, test_frag_two);
	tcase_add_test(tc, test_frag_many_sizes);
	tcase_add_test(tc, test_frag_of_fragment);
	tcase_add_test(tc, test_frag_options);
	tcase_add_test(tc, test_frag_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("send");
	tcase_add_test(tc, test_send_fits);
	tcase_add_test(tc, test_send_df_icmp);
	tcase_add_test(tc, test_send_rate_limited);
	tcase_add_test(tc, test_send_fragments);
	tcase_add_test(tc, test_send_dropped);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_main(pmtu_suite());
}
