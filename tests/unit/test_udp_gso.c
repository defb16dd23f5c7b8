/*
 * Unit tests for common/udp_gso.c: which queued IPv4/UDP packets make one
 * UDP GSO frame, and that the kernel's cut of that frame (every segment
 * gso_size bytes of payload, the last what is left, the headers copied
 * with their lengths fixed) gives back exactly their payloads, in order.
 * udp_gro_next cuts what a UDP_GRO socket reads back into the datagrams.
 * Only ESP in UDP as ipsec_seal writes it; runs end at a different flow or
 * header field, a longer packet, after a shorter one, and at 64 KiB.
 */
#include "buf.h"
#include "check_main.h"
#include "ip4.h"
#include "udp_gso.h"

#include <arpa/inet.h>
#include <check.h>
#include <string.h>

#define NPKT 64
static uint8_t pkts[NPKT][1600];
static struct udp_gso_pkt pk[NPKT];

/* Packet i: ESP in UDP 4500 -> 4500 from src to dst, plen bytes of payload that name it. */
static void mk(size_t i, const char *src, const char *dst, size_t plen)
{
	struct in_addr s, d;
	uint8_t payload[1600];
	struct buf b;

	for (size_t j = 0; j < plen; j++)
		payload[j] = (uint8_t)(i * 31 + j);
	inet_pton(AF_INET, src, &s);
	inet_pton(AF_INET, dst, &d);
	buf_init_write(&b, pkts[i], sizeof(pkts[i]));
	ck_assert_int_eq(ip4_udp_put(&b, s, d, 4500, 4500, 64, payload, plen), 0);
	/* As ipsec_seal writes ESP in UDP: checksum zero, a nonzero SPI. */
	pkts[i][26] = pkts[i][27] = 0;
	pkts[i][28] = 1;
	pk[i] = (struct udp_gso_pkt){.data = pkts[i], .len = buf_used(&b)};
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The run's frame cut as the kernel cuts it: each segment's payload is its packet's. */
static void check_cut(size_t k, const uint8_t *vnet, const uint8_t *hdrs, size_t link_len)
{
	size_t seg = le16(vnet + 4), total = 0, off = 0;
	uint32_t sum;

	ck_assert_uint_eq(vnet[0], 1);
	ck_assert_uint_eq(vnet[1], 5);
	ck_assert_uint_eq(le16(vnet + 2), link_len + 28);
	ck_assert_uint_eq(le16(vnet + 6), link_len + 20);
	ck_assert_uint_eq(le16(vnet + 8), 6);
	for (size_t i = 0; i < k; i++)
		total += pk[i].len - 28;
	ck_assert_uint_eq(be16(hdrs + 2), 28 + total);
	ck_assert_uint_eq(be16(hdrs + 24), 8 + total);
	ck_assert_uint_eq(inet_cksum(hdrs, 20), 0);
	ck_assert_mem_eq(hdrs + 12, pkts[0] + 12, 12);
	/* The partial checksum: the folded pseudo-header sum for the whole length. */
	sum = inet_cksum_add(0, hdrs + 12, 8) + 17 + (uint32_t)(8 + total);
	ck_assert_uint_eq(be16(hdrs + 26), (uint16_t)~inet_cksum_fold(sum));
	for (size_t i = 0; i < k; i++) {
		size_t len = total - off < seg ? total - off : seg;

		ck_assert_uint_eq(len, pk[i].len - 28);
		off += len;
	}
	ck_assert_uint_eq(off, total);
}

START_TEST(test_run_of_equal_and_short_last)
{
	uint8_t vnet[UDP_GSO_VNET_LEN], hdrs[UDP_GSO_HDRS];

	for (size_t i = 0; i < 5; i++)
		mk(i, "198.18.100.10", "198.19.0.1", 1400);
	mk(5, "198.18.100.10", "198.19.0.1", 300);
	mk(6, "198.18.100.10", "198.19.0.1", 1400);
	ck_assert_uint_eq(udp_gso_run(pk, 7, 14, vnet, hdrs), 6);
	ck_assert_uint_eq(le16(vnet + 4), 1400);
	check_cut(6, vnet, hdrs, 14);
	/* From the short one on: it heads a run of two (1400 is longer than 300: no). */
	ck_assert_uint_eq(udp_gso_run(pk + 5, 2, 14, vnet, hdrs), 1);
	ck_assert_uint_eq(udp_gso_run(pk, 1, 14, vnet, hdrs), 1);
	ck_assert_uint_eq(udp_gso_run(pk, 0, 14, vnet, hdrs), 1);
}
END_TEST

START_TEST(test_run_ends_at_other_flow)
{
	uint8_t vnet[UDP_GSO_VNET_LEN], hdrs[UDP_GSO_HDRS];

	mk(0, "198.18.100.10", "198.19.0.1", 1000);
	mk(1, "198.18.100.10", "198.19.0.1", 1000);
	mk(2, "198.18.100.10", "198.19.0.2", 1000);
	ck_assert_uint_eq(udp_gso_run(pk, 3, 0, vnet, hdrs), 2);
	check_cut(2, vnet, hdrs, 0);
	/* Another port, TTL, TOS or DF: alone. */
	for (int field = 0; field < 4; field++) {
		mk(1, "198.18.100.10", "198.19.0.1", 1000);
		switch (field) {
		case 0:
			pkts[1][21] ^= 1; /* source port */
			break;
		case 1:
			pkts[1][8]--; /* TTL */
			break;
		case 2:
			pkts[1][1] = 0x10; /* TOS */
			break;
		case 3:
			pkts[1][6] |= 0x40; /* DF */
			break;
		}
		pkts[1][10] = pkts[1][11] = 0;
		ck_assert_uint_eq(udp_gso_run(pk, 2, 14, vnet, hdrs), 1);
	}
}
END_TEST

START_TEST(test_run_ends_at_longer)
{
	uint8_t vnet[UDP_GSO_VNET_LEN], hdrs[UDP_GSO_HDRS];

	mk(0, "10.0.0.1", "10.0.0.2", 500);
	mk(1, "10.0.0.1", "10.0.0.2", 500);
	mk(2, "10.0.0.1", "10.0.0.2", 501);
	ck_assert_uint_eq(udp_gso_run(pk, 3, 14, vnet, hdrs), 2);
	check_cut(2, vnet, hdrs, 14);
}
END_TEST

START_TEST(test_not_runnable)
{
	uint8_t vnet[UDP_GSO_VNET_LEN], hdrs[UDP_GSO_HDRS];

	for (int c = 0; c < 9; c++) {
		mk(0, "10.0.0.1", "10.0.0.2", 100);
		mk(1, "10.0.0.1", "10.0.0.2", 100);
		switch (c) {
		case 0:
			pkts[0][9] = 50; /* not UDP */
			break;
		case 1:
			pkts[0][0] = 0x46; /* options */
			break;
		case 2:
			pkts[0][6] |= 0x20; /* more fragments */
			break;
		case 3:
			pkts[0][3]++; /* IP length not the packet's */
			break;
		case 4:
			pkts[0][25]--; /* UDP length not the IP's */
			break;
		case 5:
			pk[0].len = 31; /* no room for the headers and an SPI */
			break;
		case 6:
			pkts[0][27] = 1; /* a UDP checksum: not sealed by us */
			break;
		case 7:
			pkts[0][23]++; /* not to port 4500 */
			break;
		case 8:
			memset(pkts[0] + 28, 0, 4); /* the non-ESP marker: IKE */
			break;
		}
		ck_assert_uint_eq(udp_gso_run(pk, 2, 14, vnet, hdrs), 1);
		/* ...and the same packet later ends a run. */
		memcpy(pkts[2], pkts[0], sizeof(pkts[0]));
		pk[2] = (struct udp_gso_pkt){.data = pkts[2], .len = pk[0].len};
		mk(0, "10.0.0.1", "10.0.0.2", 100);
		ck_assert_uint_eq(udp_gso_run(pk, 3, 14, vnet, hdrs), 2);
	}
}
END_TEST

START_TEST(test_run_within_64k)
{
	uint8_t vnet[UDP_GSO_VNET_LEN], hdrs[UDP_GSO_HDRS];
	size_t k;

	for (size_t i = 0; i < NPKT; i++)
		mk(i, "10.0.0.1", "10.0.0.2", 1472);
	k = udp_gso_run(pk, NPKT, 14, vnet, hdrs);
	ck_assert_uint_eq(k, (65535 - 28) / 1472);
	check_cut(k, vnet, hdrs, 14);
	for (size_t i = 0; i < NPKT; i++)
		mk(i, "10.0.0.1", "10.0.0.2", 100);
	/* At most 64 segments a frame, as the kernel's UDP_MAX_SEGMENTS. */
	ck_assert_uint_eq(udp_gso_run(pk, NPKT, 14, vnet, hdrs), 64);
}
END_TEST

START_TEST(test_gro_cut)
{
	size_t off = 0;

	/* 3000 bytes joined from 1400-byte datagrams: 1400, 1400, 200. */
	ck_assert_uint_eq(udp_gro_next(3000, 1400, &off), 1400);
	ck_assert_uint_eq(udp_gro_next(3000, 1400, &off), 1400);
	ck_assert_uint_eq(udp_gro_next(3000, 1400, &off), 200);
	ck_assert_uint_eq(udp_gro_next(3000, 1400, &off), 0);
	ck_assert_uint_eq(off, 3000);
	/* Nothing joined (no segment size), or one datagram no larger than it: whole. */
	off = 0;
	ck_assert_uint_eq(udp_gro_next(900, 0, &off), 900);
	ck_assert_uint_eq(udp_gro_next(900, 0, &off), 0);
	off = 0;
	ck_assert_uint_eq(udp_gro_next(900, 1400, &off), 900);
	/* An exact multiple: no empty piece at the end. */
	off = 0;
	ck_assert_uint_eq(udp_gro_next(2800, 1400, &off), 1400);
	ck_assert_uint_eq(udp_gro_next(2800, 1400, &off), 1400);
	ck_assert_uint_eq(udp_gro_next(2800, 1400, &off), 0);
	/* An offset past the end (a caller's mistake) gives nothing. */
	off = 5000;
	ck_assert_uint_eq(udp_gro_next(3000, 1400, &off), 0);
}
END_TEST

static Suite *udp_gso_suite(void)
{
	Suite *s = suite_create("udp_gso");
	TCase *tc = tcase_create("run");

	tcase_add_test(tc, test_run_of_equal_and_short_last);
	tcase_add_test(tc, test_run_ends_at_other_flow);
	tcase_add_test(tc, test_run_ends_at_longer);
	tcase_add_test(tc, test_not_runnable);
	tcase_add_test(tc, test_run_within_64k);
	tcase_add_test(tc, test_gro_cut);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_main(udp_gso_suite());
}
