/*
 * Unit tests for common/mip_adv.c: Agent Advertisement (ICMP type 9 with the
 * Mobility Agent Advertisement extension 16, Prefix-Lengths 19 and One-byte
 * Padding 0, RFC 5944 2.1) and Agent Solicitation (ICMP type 10, RFC 1256).
 * The vectors were written by hand from the RFC layouts; their ICMP
 * checksums were computed offline with an independent implementation.
 */
#include "buf.h"
#include "check_main.h"
#include "mip_adv.h"

#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>

/*
 * Advertisement, 32 bytes: code 0, 1 router (192.168.1.1, preference 0),
 * lifetime 1800; MA extension: seq 1, registration lifetime 300, flags R F,
 * care-of 192.168.1.1; Prefix-Lengths 24; one byte of padding.  Checksum 0x9f69.
 */
static const uint8_t adv_vec[32] = {
	0x09, 0x00, 0x9f, 0x69, 0x01, 0x02, 0x07, 0x08, /* ICMP router advertisement */
	0xc0, 0xa8, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, /* router 0 */
	0x10, 0x0a, 0x00, 0x01, 0x01, 0x2c, 0x90, 0x00, 0xc0, 0xa8, 0x01, 0x01, /* MA ext */
	0x13, 0x01, 0x18,                                                       /* prefix lengths */
	0x00,                                                                   /* padding */
};

/*
 * Advertisement, 24 bytes: code 16 (mobility agent only), no router
 * addresses, lifetime 65535; MA extension: seq 65535, registration lifetime
 * 65535, flags H F T, care-of 198.18.0.1 and 198.18.0.2.  Checksum 0x29b7.
 */
static const uint8_t adv_vec2[24] = {
	0x09, 0x10, 0x29, 0xb7, 0x00, 0x02, 0xff, 0xff, 0x10, 0x0e, 0xff, 0xff,
	0xff, 0xff, 0x31, 0x00, 0xc6, 0x12, 0x00, 0x01, 0xc6, 0x12, 0x00, 0x02,
};

/* Solicitation: type 10, code 0, checksum 0xf5ff, reserved. */
static const uint8_t sol_vec[8] = {0x0a, 0x00, 0xf5, 0xff, 0x00, 0x00, 0x00, 0x00};

/* Independent reference checksum, to repair a message after a change. */
static void fix_cksum(uint8_t *m, size_t len)
{
	unsigned long s = 0;

	m[2] = m[3] = 0;
	for (size_t i = 0; i < len; i++)
		s += (i % 2 == 0) ? (unsigned long)m[i] * 256 : m[i];
	while (s > 0xffff)
		s = (s >> 16) + (s & 0xffff);
	s = 0xffff - s;
	m[2] = (uint8_t)(s >> 8);
	m[3] = (uint8_t)s;
}

static void check_vec1(const struct mip_agent_adv *a)
{
	ck_assert_uint_eq(a->code, MIP_ADV_CODE_ROUTE);
	ck_assert_uint_eq(a->lifetime, 1800);
	ck_assert_uint_eq(a->n_routers, 1);
	ck_assert_uint_eq(a->routers[0].addr.s_addr, htonl(0xc0a80101));
	ck_assert_int_eq(a->routers[0].pref, 0);
	ck_assert_uint_eq(a->seq, 1);
	ck_assert_uint_eq(a->reg_lifetime, 300);
	ck_assert_uint_eq(a->flags, MIP_ADV_R | MIP_ADV_F);
	ck_assert_uint_eq(a->n_coa, 1);
	ck_assert_uint_eq(a->coa[0].s_addr, htonl(0xc0a80101));
	ck_assert_uint_eq(a->n_prefix_len, 1);
	ck_assert_uint_eq(a->prefix_len[0], 24);
}

START_TEST(test_adv_vector)
{
	struct mip_agent_adv a;

	ck_assert_int_eq(mip_adv_parse(adv_vec, sizeof(adv_vec), &a), MIP_ADV_OK);
	check_vec1(&a);
	ck_assert_uint_eq(a.skipped, 0);
}
END_TEST

START_TEST(test_adv_vector2)
{
	struct mip_agent_adv a;

	ck_assert_int_eq(mip_adv_parse(adv_vec2, sizeof(adv_vec2), &a), MIP_ADV_OK);
	ck_assert_uint_eq(a.code, MIP_ADV_CODE_MOBILE_ONLY);
	ck_assert_uint_eq(a.lifetime, 0xffff);
	ck_assert_uint_eq(a.n_routers, 0);
	ck_assert_uint_eq(a.seq, 0xffff);
	ck_assert_uint_eq(a.reg_lifetime, 0xffff);
	ck_assert_uint_eq(a.flags, MIP_ADV_H | MIP_ADV_F | MIP_ADV_T);
	ck_assert_uint_eq(a.n_coa, 2);
	ck_assert_uint_eq(a.coa[0].s_addr, htonl(0xc6120001));
	ck_assert_uint_eq(a.coa[1].s_addr, htonl(0xc6120002));
	ck_assert_uint_eq(a.n_prefix_len, 0);
}
END_TEST

/* Cut without repairing the checksum: everything fails but dropping the zero pad byte. */
START_TEST(test_adv_truncated_raw)
{
	for (size_t len = 0; len < sizeof(adv_vec); len++) {
		uint8_t *copy = malloc(len ? len : 1);
		struct mip_agent_adv a;

		memcpy(copy, adv_vec, len);
		enum mip_adv_err e = mip_adv_parse(copy, len, &a);
		enum mip_adv_err want = len < 8     ? MIP_ADV_TRUNCATED
					: len == 31 ? MIP_ADV_OK /* a zero byte adds nothing */
						    : MIP_ADV_CHECKSUM;
		ck_assert_msg(e == want, "len %zu: %s", len, mip_adv_err_name(e));
		free(copy);
	}
}
END_TEST

/* Cut with the checksum repaired: the structure itself must be judged. */
START_TEST(test_adv_truncated_fixed_checksum)
{
	for (size_t len = 8; len < sizeof(adv_vec); len++) {
		uint8_t *copy = malloc(len);
		struct mip_agent_adv a;
		enum mip_adv_err want;

		memcpy(copy, adv_vec, len);
		fix_cksum(copy, len);
		if (len < 16)
			want = MIP_ADV_TRUNCATED; /* router entry cut */
		else if (len == 16)
			want = MIP_ADV_NO_MA_EXT;
		else if (len < 28)
			want = MIP_ADV_TRUNCATED; /* MA extension cut */
		else if (len == 28 || len == 31)
			want = MIP_ADV_OK;
		else
			want = MIP_ADV_TRUNCATED; /* prefix-lengths cut */
		enum mip_adv_err e = mip_adv_parse(copy, len, &a);
		ck_assert_msg(e == want, "len %zu: %s, want %s", len, mip_adv_err_name(e),
			      mip_adv_err_name(want));
		if (len == 28)
			ck_assert_uint_eq(a.n_prefix_len, 0);
		free(copy);
	}
}
END_TEST

START_TEST(test_adv_bad_checksum_every_bit)
{
	for (size_t bit = 0; bit < sizeof(adv_vec) * 8; bit++) {
		uint8_t m[sizeof(adv_vec)];
		struct mip_agent_adv a;
		enum mip_adv_err want = MIP_ADV_CHECKSUM;

		memcpy(m, adv_vec, sizeof(m));
		m[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		/* Type and code are judged before the checksum; code 16 is valid. */
		if (bit / 8 == 0 || (bit / 8 == 1 && m[1] != MIP_ADV_CODE_MOBILE_ONLY))
			want = MIP_ADV_NOT_ADV;
		enum mip_adv_err e = mip_adv_parse(m, sizeof(m), &a);
		ck_assert_msg(e == want, "bit %zu: %s", bit, mip_adv_err_name(e));
	}
}
END_TEST

START_TEST(test_adv_bad_header_fields)
{
	const struct {
		const char *what;
		size_t off;
		uint8_t v;
		enum mip_adv_err want;
	} t[] = {
		{"type 10", 0, 10, MIP_ADV_NOT_ADV},
		{"type 8", 0, 8, MIP_ADV_NOT_ADV},
		{"code 1", 1, 1, MIP_ADV_NOT_ADV},
		{"code 255", 1, 255, MIP_ADV_NOT_ADV},
		{"code 16", 1, 16, MIP_ADV_OK},
		{"entry size 0", 5, 0, MIP_ADV_BAD_FIELD},
		{"entry size 1", 5, 1, MIP_ADV_BAD_FIELD},
		{"entry size 3", 5, 3, MIP_ADV_BAD_FIELD},
		{"17 routers", 4, 17, MIP_ADV_BAD_FIELD},
		{"255 routers", 4, 255, MIP_ADV_BAD_FIELD},
		{"2 routers, 1 present", 4, 2, MIP_ADV_TRUNCATED},
		{"16 routers, 1 present", 4, 16, MIP_ADV_TRUNCATED},
		{"lifetime 0", 6, 0, MIP_ADV_OK},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint8_t m[sizeof(adv_vec)];
		struct mip_agent_adv a;

		memcpy(m, adv_vec, sizeof(m));
		m[t[i].off] = t[i].v;
		fix_cksum(m, sizeof(m));
		enum mip_adv_err e = mip_adv_parse(m, sizeof(m), &a);
		ck_assert_msg(e == t[i].want, "%s: %s", t[i].what, mip_adv_err_name(e));
	}
}
END_TEST

/* ---- extensions ---- */

struct piece {
	const uint8_t *p;
	size_t n;
};

#define P(a)                                                                                       \
	{                                                                                          \
		a, sizeof(a)                                                                       \
	}

/* The ICMP part and router entry of adv_vec, then the pieces, checksum repaired. */
static enum mip_adv_err parse_with(const struct piece *parts, size_t nparts,
				   struct mip_agent_adv *a)
{
	uint8_t m[512];
	size_t len = 16;

	memcpy(m, adv_vec, 16);
	for (size_t k = 0; k < nparts && parts[k].p != NULL; k++) {
		ck_assert_uint_le(len + parts[k].n, sizeof(m));
		memcpy(m + len, parts[k].p, parts[k].n);
		len += parts[k].n;
	}
	fix_cksum(m, len);
	return mip_adv_parse(m, len, a);
}

static const uint8_t ma[] = {0x10, 0x0a, 0x00, 0x01, 0x01, 0x2c,
			     0x90, 0x00, 0xc0, 0xa8, 0x01, 0x01};
static const uint8_t pfx[] = {0x13, 0x01, 0x18};
static const uint8_t pad[] = {0x00};

START_TEST(test_adv_extensions)
{
	static const uint8_t ma_len0[] = {0x10, 0x00};
	static const uint8_t ma_len5[] = {0x10, 0x05, 0, 1, 0, 2, 0};
	static const uint8_t ma_len7[] = {0x10, 0x07, 0, 1, 0, 2, 0, 0, 9};
	static const uint8_t ma_len8[] = {0x10, 0x08, 0, 1, 0, 2, 0, 0, 9, 9};
	static const uint8_t ma_len6[] = {0x10, 0x06, 0, 1, 0, 2, 0x20, 0};
	static const uint8_t ma_over[] = {0x10, 0x0e, 0, 1, 0, 2, 0, 0, 1, 2, 3, 4};
	static const uint8_t pfx_len2[] = {0x13, 0x02, 0x18, 0x18};
	static const uint8_t pfx_len0[] = {0x13, 0x00};
	static const uint8_t pfx_33[] = {0x13, 0x01, 0x21};
	static const uint8_t pfx_32[] = {0x13, 0x01, 0x20};
	static const uint8_t pfx_0[] = {0x13, 0x01, 0x00};
	static const uint8_t unk3[] = {0x03, 0x00};
	static const uint8_t unk127[] = {0x7f, 0x01, 0x00};
	static const uint8_t skip128[] = {0x80, 0x00};
	static const uint8_t skip255[] = {0xff, 0x03, 1, 2, 3};
	static const uint8_t skip_over[] = {0xff, 0x04, 1, 2, 3};
	static const uint8_t type_only[] = {0x10};
	const struct {
		const char *what;
		struct piece parts[5];
		enum mip_adv_err want;
		unsigned skipped;
	} t[] = {
		{"MA only", {P(ma)}, MIP_ADV_OK, 0},
		{"MA length 0", {P(ma_len0)}, MIP_ADV_BAD_EXT, 0},
		{"MA length 5", {P(ma_len5)}, MIP_ADV_BAD_EXT, 0},
		{"MA length 7", {P(ma_len7)}, MIP_ADV_BAD_EXT, 0},
		{"MA length 8", {P(ma_len8)}, MIP_ADV_BAD_EXT, 0},
		{"MA without care-of addresses", {P(ma_len6)}, MIP_ADV_OK, 0},
		{"MA length beyond the end", {P(ma_over)}, MIP_ADV_TRUNCATED, 0},
		{"MA twice", {P(ma), P(ma)}, MIP_ADV_BAD_EXT, 0},
		{"prefix before MA", {P(pfx), P(ma)}, MIP_ADV_BAD_EXT, 0},
		{"prefix count != routers", {P(ma), P(pfx_len2)}, MIP_ADV_BAD_EXT, 0},
		{"prefix length 0 ext", {P(ma), P(pfx_len0)}, MIP_ADV_BAD_EXT, 0},
		{"prefix 33", {P(ma), P(pfx_33)}, MIP_ADV_BAD_EXT, 0},
		{"prefix 32", {P(ma), P(pfx_32)}, MIP_ADV_OK, 0},
		{"prefix 0", {P(ma), P(pfx_0)}, MIP_ADV_OK, 0},
		{"prefix twice", {P(ma), P(pfx), P(pfx)}, MIP_ADV_BAD_EXT, 0},
		{"unknown 3", {P(ma), P(unk3)}, MIP_ADV_UNKNOWN_EXT, 0},
		{"unknown 127 before MA", {P(unk127), P(ma)}, MIP_ADV_UNKNOWN_EXT, 0},
		{"skippable 128", {P(skip128), P(ma)}, MIP_ADV_OK, 1},
		{"skippable 255 twice", {P(ma), P(skip255), P(pfx), P(skip255)}, MIP_ADV_OK, 2},
		{"skippable beyond the end", {P(ma), P(skip_over)}, MIP_ADV_TRUNCATED, 0},
		{"padding everywhere", {P(pad), P(ma), P(pad), P(pfx), P(pad)}, MIP_ADV_OK, 0},
		{"padding only", {P(pad), P(pad)}, MIP_ADV_NO_MA_EXT, 0},
		{"skippable only", {P(skip128)}, MIP_ADV_NO_MA_EXT, 0},
		{"nothing", {{NULL, 0}}, MIP_ADV_NO_MA_EXT, 0},
		{"type byte without length", {P(ma), P(type_only)}, MIP_ADV_TRUNCATED, 0},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct mip_agent_adv a;
		enum mip_adv_err e = parse_with(t[i].parts, 5, &a);

		ck_assert_msg(e == t[i].want, "%s: %s, want %s", t[i].what, mip_adv_err_name(e),
			      mip_adv_err_name(t[i].want));
		if (e == MIP_ADV_OK)
			ck_assert_msg(a.skipped == t[i].skipped, "%s: skipped %u", t[i].what,
				      a.skipped);
	}
}
END_TEST

/* Every extension type with length 0, after a valid MA extension. */
START_TEST(test_adv_every_type)
{
	for (unsigned type = 0; type < 256; type++) {
		const uint8_t ext[2] = {(uint8_t)type, 0};
		const struct piece parts[2] = {P(ma), P(ext)};
		struct mip_agent_adv a;
		enum mip_adv_err want;

		if (type == MIP_ADV_EXT_PAD)
			want = MIP_ADV_OK; /* two padding bytes */
		else if (type == MIP_ADV_EXT_MA || type == MIP_ADV_EXT_PREFIX)
			want = MIP_ADV_BAD_EXT;
		else if (type < 128)
			want = MIP_ADV_UNKNOWN_EXT;
		else
			want = MIP_ADV_OK;
		enum mip_adv_err e = parse_with(parts, 2, &a);
		ck_assert_msg(e == want, "type %u: %s", type, mip_adv_err_name(e));
		if (e == MIP_ADV_OK)
			ck_assert_uint_eq(a.skipped, type >= 128 ? 1 : 0);
	}
}
END_TEST

START_TEST(test_adv_max_counts)
{
	/* 16 routers with preferences, 16 care-of addresses, 16 prefix lengths. */
	uint8_t m[8 + 16 * 8 + 2 + 6 + 16 * 4 + 2 + 16];
	struct mip_agent_adv a;
	size_t n = 0;

	const uint8_t hdr[8] = {0x09, 0x00, 0, 0, 16, 2, 0x00, 0x1e};
	memcpy(m, hdr, 8);
	n = 8;
	for (int i = 0; i < 16; i++) {
		const uint8_t r[8] = {10, 0, 0, (uint8_t)i, 0x80, 0x00, 0x00, (uint8_t)i};
		memcpy(m + n, r, 8);
		n += 8;
	}
	const uint8_t mah[8] = {0x10, 6 + 64, 0x12, 0x34, 0x00, 0x3c, 0x10, 0x00};
	memcpy(m + n, mah, 8);
	n += 8;
	for (int i = 0; i < 16; i++) {
		const uint8_t c[4] = {198, 18, 1, (uint8_t)i};
		memcpy(m + n, c, 4);
		n += 4;
	}
	m[n++] = 0x13;
	m[n++] = 16;
	for (int i = 0; i < 16; i++)
		m[n++] = (uint8_t)(16 + i);
	ck_assert_uint_eq(n, sizeof(m));
	fix_cksum(m, n);
	ck_assert_int_eq(mip_adv_parse(m, n, &a), MIP_ADV_OK);
	ck_assert_uint_eq(a.n_routers, 16);
	ck_assert_uint_eq(a.n_coa, 16);
	ck_assert_uint_eq(a.n_prefix_len, 16);
	ck_assert_uint_eq(a.lifetime, 30);
	ck_assert_uint_eq(a.seq, 0x1234);
	ck_assert_uint_eq(a.reg_lifetime, 60);
	for (int i = 0; i < 16; i++) {
		ck_assert_uint_eq(a.routers[i].addr.s_addr, htonl(0x0a000000u | (uint32_t)i));
		ck_assert_int_eq(a.routers[i].pref, (int32_t)(0x80000000u | (uint32_t)i));
		ck_assert_uint_eq(a.coa[i].s_addr, htonl(0xc6120100u | (uint32_t)i));
		ck_assert_uint_eq(a.prefix_len[i], 16 + i);
	}

	/* The builder writes the same bytes back. */
	uint8_t out[sizeof(m)];
	struct buf b;
	buf_init_write(&b, out, sizeof(out));
	ck_assert_int_eq(mip_adv_put(&b, &a), 0);
	ck_assert_uint_eq(buf_used(&b), sizeof(m));
	ck_assert_mem_eq(out, m, sizeof(m));

	/* 17 care-of addresses (length 74) are one too many. */
	uint8_t m17[8 + 2 + 6 + 17 * 4];
	const uint8_t h17[8] = {0x09, 0x00, 0, 0, 0, 2, 0, 30};
	memcpy(m17, h17, 8);
	m17[8] = 0x10;
	m17[9] = 6 + 68;
	memset(m17 + 10, 1, sizeof(m17) - 10);
	fix_cksum(m17, sizeof(m17));
	ck_assert_int_eq(mip_adv_parse(m17, sizeof(m17), &a), MIP_ADV_BAD_EXT);
}
END_TEST

/* ---- builder ---- */

static struct mip_agent_adv vec1_struct(void)
{
	struct mip_agent_adv a;

	memset(&a, 0, sizeof(a));
	a.code = 0;
	a.lifetime = 1800;
	a.n_routers = 1;
	a.routers[0].addr.s_addr = htonl(0xc0a80101);
	a.routers[0].pref = 0;
	a.seq = 1;
	a.reg_lifetime = 300;
	a.flags = MIP_ADV_R | MIP_ADV_F;
	a.n_coa = 1;
	a.coa[0].s_addr = htonl(0xc0a80101);
	a.n_prefix_len = 1;
	a.prefix_len[0] = 24;
	return a;
}

START_TEST(test_adv_put_matches_vectors)
{
	struct mip_agent_adv a = vec1_struct();
	uint8_t out[64];
	struct buf b;

	/* After 3 unrelated bytes: the checksum covers only the message. */
	buf_init_write(&b, out, sizeof(out));
	ck_assert_int_eq(buf_put_zero(&b, 3), BUF_OK);
	ck_assert_int_eq(mip_adv_put(&b, &a), 0);
	ck_assert_uint_eq(buf_used(&b), 3 + 31);
	/* adv_vec without its padding byte (a trailing zero leaves the checksum alone). */
	ck_assert_mem_eq(out + 3, adv_vec, 31);

	memset(&a, 0, sizeof(a));
	a.code = MIP_ADV_CODE_MOBILE_ONLY;
	a.lifetime = 0xffff;
	a.seq = 0xffff;
	a.reg_lifetime = 0xffff;
	a.flags = MIP_ADV_H | MIP_ADV_F | MIP_ADV_T;
	a.n_coa = 2;
	a.coa[0].s_addr = htonl(0xc6120001);
	a.coa[1].s_addr = htonl(0xc6120002);
	buf_init_write(&b, out, sizeof(out));
	ck_assert_int_eq(mip_adv_put(&b, &a), 0);
	ck_assert_uint_eq(buf_used(&b), sizeof(adv_vec2));
	ck_assert_mem_eq(out, adv_vec2, sizeof(adv_vec2));
}
END_TEST

START_TEST(test_adv_put_roundtrip)
{
	struct mip_agent_adv a = vec1_struct(), back;
	uint8_t out[64];
	struct buf b;

	a.flags = MIP_ADV_B | MIP_ADV_H | MIP_ADV_F | MIP_ADV_T | MIP_ADV_U | MIP_ADV_X | MIP_ADV_I;
	a.routers[0].pref = -1;
	buf_init_write(&b, out, sizeof(out));
	ck_assert_int_eq(mip_adv_put(&b, &a), 0);
	ck_assert_int_eq(mip_adv_parse(out, buf_used(&b), &back), MIP_ADV_OK);
	ck_assert_uint_eq(back.flags, a.flags);
	ck_assert_int_eq(back.routers[0].pref, -1);
	ck_assert_uint_eq(back.n_prefix_len, 1);
	ck_assert_uint_eq(back.prefix_len[0], 24);
	ck_assert_uint_eq(back.coa[0].s_addr, a.coa[0].s_addr);
}
END_TEST

START_TEST(test_adv_put_limits)
{
	struct mip_agent_adv a = vec1_struct();
	uint8_t out[64];
	struct buf b;

	for (size_t cap = 0; cap < 31; cap++) {
		buf_init_write(&b, out, cap);
		ck_assert_msg(mip_adv_put(&b, &a) == -1, "cap %zu", cap);
	}
	a.n_routers = MIP_ADV_MAX_ROUTERS + 1;
	a.n_prefix_len = 0;
	buf_init_write(&b, out, sizeof(out));
	ck_assert_int_eq(mip_adv_put(&b, &a), -1);
	ck_assert_uint_eq(buf_used(&b), 0);
	a = vec1_struct();
	a.n_coa = MIP_ADV_MAX_COA + 1;
	ck_assert_int_eq(mip_adv_put(&b, &a), -1);
	a = vec1_struct();
	a.n_prefix_len = 2; /* one router */
	ck_assert_int_eq(mip_adv_put(&b, &a), -1);
	ck_assert_uint_eq(buf_used(&b), 0);
}
END_TEST

/* ---- solicitation ---- */

START_TEST(test_sol)
{
	uint8_t m[12];
	uint8_t out[16];
	struct buf b;

	ck_assert_int_eq(mip_sol_parse(sol_vec, 8), MIP_ADV_OK);
	for (size_t len = 0; len < 8; len++)
		ck_assert_int_eq(mip_sol_parse(sol_vec, len), MIP_ADV_TRUNCATED);

	/* Trailing zero bytes keep the checksum right but are refused. */
	memset(m, 0, sizeof(m));
	memcpy(m, sol_vec, 8);
	ck_assert_int_eq(mip_sol_parse(m, 9), MIP_ADV_BAD_FIELD);
	ck_assert_int_eq(mip_sol_parse(m, 12), MIP_ADV_BAD_FIELD);

	/* Reserved bytes are ignored on receipt (RFC 1256) once the checksum is right. */
	memcpy(m, sol_vec, 8);
	m[4] = 0xde;
	m[7] = 0xad;
	ck_assert_int_eq(mip_sol_parse(m, 8), MIP_ADV_CHECKSUM);
	fix_cksum(m, 8);
	ck_assert_int_eq(mip_sol_parse(m, 8), MIP_ADV_OK);

	for (size_t bit = 16; bit < 64; bit++) {
		memcpy(m, sol_vec, 8);
		m[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		ck_assert_int_eq(mip_sol_parse(m, 8), MIP_ADV_CHECKSUM);
	}
	const struct {
		uint8_t type, code;
	} bad[] = {{9, 0}, {10, 1}, {10, 16}, {0, 0}, {8, 0}};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(m, sol_vec, 8);
		m[0] = bad[i].type;
		m[1] = bad[i].code;
		fix_cksum(m, 8);
		ck_assert_int_eq(mip_sol_parse(m, 8), MIP_ADV_NOT_ADV);
	}

	/* The builder: the vector, at any offset. */
	buf_init_write(&b, out, sizeof(out));
	ck_assert_int_eq(buf_put_u8(&b, 0xff), BUF_OK);
	ck_assert_int_eq(mip_sol_put(&b), 0);
	ck_assert_uint_eq(buf_used(&b), 9);
	ck_assert_mem_eq(out + 1, sol_vec, 8);
	for (size_t cap = 0; cap < 8; cap++) {
		buf_init_write(&b, out, cap);
		ck_assert_int_eq(mip_sol_put(&b), -1);
	}
	/* Neither parser accepts the other message. */
	struct mip_agent_adv a;
	ck_assert_int_eq(mip_adv_parse(sol_vec, 8, &a), MIP_ADV_NOT_ADV);
	ck_assert_int_eq(mip_sol_parse(adv_vec, sizeof(adv_vec)), MIP_ADV_NOT_ADV);
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(mip_adv_err_name(MIP_ADV_OK), "ok");
	ck_assert_str_eq(mip_adv_err_name(MIP_ADV_TRUNCATED), "truncated");
	ck_assert_str_eq(mip_adv_err_name(MIP_ADV_CHECKSUM), "bad ICMP checksum");
	ck_assert_str_eq(mip_adv_err_name(MIP_ADV_NOT_ADV), "not an agent advertisement");
	ck_assert_str_eq(mip_adv_err_name(MIP_ADV_BAD_FIELD), "bad field value");
	ck_assert_str_eq(mip_adv_err_name(MIP_ADV_NO_MA_EXT), "no mobility agent extension");
	ck_assert_str_eq(mip_adv_err_name(MIP_ADV_BAD_EXT), "malformed extension");
	ck_assert_str_eq(mip_adv_err_name(MIP_ADV_UNKNOWN_EXT), "unknown non-skippable extension");
	ck_assert_str_eq(mip_adv_err_name(MIP_ADV_ERR_MAX), "unknown error");
}
END_TEST

static Suite *mip_adv_suite(void)
{
	Suite *s = suite_create("mip_adv");
	TCase *tc;

	tc = tcase_create("parse");
	tcase_add_test(tc, test_adv_vector);
	tcase_add_test(tc, test_adv_vector2);
	tcase_add_test(tc, test_adv_truncated_raw);
	tcase_add_test(tc, test_adv_truncated_fixed_checksum);
	tcase_add_test(tc, test_adv_bad_checksum_every_bit);
	tcase_add_test(tc, test_adv_bad_header_fields);
	tcase_add_test(tc, test_adv_extensions);
	tcase_add_test(tc, test_adv_every_type);
	tcase_add_test(tc, test_adv_max_counts);
	suite_add_tcase(s, tc);

	tc = tcase_create("build");
	tcase_add_test(tc, test_adv_put_matches_vectors);
	tcase_add_test(tc, test_adv_put_roundtrip);
	tcase_add_test(tc, test_adv_put_limits);
	tcase_add_test(tc, test_sol);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_main(mip_adv_suite());
}
