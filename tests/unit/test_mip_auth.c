/*
 * Unit tests for common/mip_auth.c: HMAC-MD5 (RFC 2104) against the RFC 2202
 * test vectors, and the checking of MN-HA / MN-FA / FA-HA authenticators in
 * registration messages (RFC 5944 3.5).
 */
#include "buf.h"
#include "check_main.h"
#include "mip_auth.h"
#include "mip_msg.h"

#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>

/* ---- RFC 2202 section 2: HMAC-MD5 test cases 1-7 ---- */

#define X8(b)  b, b, b, b, b, b, b, b
#define X10(b) X8(b), b, b
#define X50(b) X10(b), X10(b), X10(b), X10(b), X10(b)
#define X80(b) X10(b), X10(b), X10(b), X10(b), X10(b), X10(b), X10(b), X10(b)

static const uint8_t k1[16] = {X8(0x0b), X8(0x0b)};
static const uint8_t d1[] = {'H', 'i', ' ', 'T', 'h', 'e', 'r', 'e'};
static const uint8_t m1[16] = {0x92, 0x94, 0x72, 0x7a, 0x36, 0x38, 0xbb, 0x1c,
			       0x13, 0xf4, 0x8e, 0xf8, 0x15, 0x8b, 0xfc, 0x9d};
static const uint8_t k2[4] = {'J', 'e', 'f', 'e'};
static const uint8_t d2[] = "what do ya want for nothing?";
static const uint8_t m2[16] = {0x75, 0x0c, 0x78, 0x3e, 0x6a, 0xb0, 0xb5, 0x03,
			       0xea, 0xa8, 0x6e, 0x31, 0x0a, 0x5d, 0xb7, 0x38};
static const uint8_t k3[16] = {X8(0xaa), X8(0xaa)};
static const uint8_t d3[50] = {X50(0xdd)};
static const uint8_t m3[16] = {0x56, 0xbe, 0x34, 0x52, 0x1d, 0x14, 0x4c, 0x88,
			       0xdb, 0xb8, 0xc7, 0x33, 0xf0, 0xe8, 0xb3, 0xf6};
static const uint8_t k4[25] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09,
			       0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12,
			       0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19};
static const uint8_t d4[50] = {X50(0xcd)};
static const uint8_t m4[16] = {0x69, 0x7e, 0xaf, 0x0a, 0xca, 0x3a, 0x3a, 0xea,
			       0x3a, 0x75, 0x16, 0x47, 0x46, 0xff, 0xaa, 0x79};
static const uint8_t k5[16] = {X8(0x0c), X8(0x0c)};
static const uint8_t d5[] = "Test With Truncation";
static const uint8_t m5[16] = {0x56, 0x46, 0x1e, 0xf2, 0x34, 0x2e, 0xdc, 0x00,
			       0xf9, 0xba, 0xb9, 0x95, 0x69, 0x0e, 0xfd, 0x4c};
static const uint8_t k6[80] = {X80(0xaa)};
static const uint8_t d6[] = "Test Using Larger Than Block-Size Key - Hash Key First";
static const uint8_t m6[16] = {0x6b, 0x1a, 0xb7, 0xfe, 0x4b, 0xd7, 0xbf, 0x8f,
			       0x0b, 0x62, 0xe6, 0xce, 0x61, 0xb9, 0xd0, 0xcd};
static const uint8_t d7[] =
	"Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data";
static const uint8_t m7[16] = {0x6f, 0x63, 0x0f, 0xad, 0x67, 0xcd, 0xa0, 0xee,
			       0x1f, 0xb1, 0xf5, 0x62, 0xdb, 0x3a, 0xa5, 0x3e};

static const struct {
	const uint8_t *key;
	size_t key_len;
	const uint8_t *data;
	size_t data_len;
	const uint8_t *mac;
} rfc2202[] = {
	{k1, sizeof(k1), d1, sizeof(d1), m1},     {k2, sizeof(k2), d2, sizeof(d2) - 1, m2},
	{k3, sizeof(k3), d3, sizeof(d3), m3},     {k4, sizeof(k4), d4, sizeof(d4), m4},
	{k5, sizeof(k5), d5, sizeof(d5) - 1, m5}, {k6, sizeof(k6), d6, sizeof(d6) - 1, m6},
	{k6, sizeof(k6), d7, sizeof(d7) - 1, m7},
};

START_TEST(test_hmac_md5_rfc2202)
{
	uint8_t mac[MIP_AUTH_LEN];

	memset(mac, 0, sizeof(mac));
	ck_assert_int_eq(mip_auth_hmac_md5(rfc2202[_i].key, rfc2202[_i].key_len, rfc2202[_i].data,
					   rfc2202[_i].data_len, mac),
			 0);
	ck_assert_mem_eq(mac, rfc2202[_i].mac, MIP_AUTH_LEN);
}
END_TEST

/* ---- a registration request with a known authenticator ---- */

/* The key "mipsa-test-key-1", SPI 256. */
static const struct mip_key key1 = {
	.spi = 256,
	.key = {'m', 'i', 'p', 's', 'a', '-', 't', 'e', 's', 't', '-', 'k', 'e', 'y', '-', '1'},
	.len = 16,
};

/*
 * A request (fixed part, NAI "mn1@example.org", MN-HA SPI 256) whose
 * authenticator was computed independently, offline, over bytes 0..46 with
 *   openssl dgst -md5 -mac HMAC -macopt hexkey:6d697073612d746573742d6b65792d31
 * giving bce00e0deb1b46a662b815edf7a4755f.
 */
/* clang-format off */
static const uint8_t signed_req[63] = {
	0x01, 0x02, 0x01, 0x2c, 0x0a, 0x00, 0x00, 0x05, 0x0a, 0x00, 0x00, 0x01, 0xc0, 0xa8, 0x01,
	0x01, 0xe8, 0x00, 0x00, 0x00, 0x12, 0x34, 0x56, 0x78, 0x83, 0x0f, 'm', 'n', '1', '@', 'e',
	'x', 'a', 'm', 'p', 'l', 'e', '.', 'o', 'r', 'g', 0x20, 0x14, 0x00, 0x00, 0x01, 0x00,
	/* 47: the authenticator */
	0xbc, 0xe0, 0x0e, 0x0d, 0xeb, 0x1b, 0x46, 0xa6, 0x62, 0xb8, 0x15, 0xed, 0xf7, 0xa4, 0x75,
	0x5f,
};
/* clang-format on */

/*
 * The matching reply (code 0, same NAI and key); its authenticator, computed
 * the same way over bytes 0..42: a9274bdec20f196b1dc499f0c84aed41.
 */
/* clang-format off */
static const uint8_t signed_rep[59] = {
	0x03, 0x00, 0x01, 0x2c, 0x0a, 0x00, 0x00, 0x05, 0x0a, 0x00, 0x00, 0x01, 0xe8, 0x00, 0x00,
	0x00, 0x12, 0x34, 0x56, 0x78, 0x83, 0x0f, 'm', 'n', '1', '@', 'e', 'x', 'a', 'm', 'p', 'l',
	'e', '.', 'o', 'r', 'g', 0x20, 0x14, 0x00, 0x00, 0x01, 0x00,
	/* 43: the authenticator */
	0xa9, 0x27, 0x4b, 0xde, 0xc2, 0x0f, 0x19, 0x6b, 0x1d, 0xc4, 0x99, 0xf0, 0xc8, 0x4a, 0xed,
	0x41,
};
/* clang-format on */

START_TEST(test_known_answer_request)
{
	struct mip_reg_request rq;

	ck_assert_int_eq(mip_request_parse(signed_req, sizeof(signed_req), &rq), MIP_PERR_OK);
	ck_assert_uint_eq(rq.ext.mn_ha.covered_len, 47);
	ck_assert_int_eq(mip_auth_check(signed_req, &rq.ext.mn_ha, &key1), MIP_AUTH_OK);
	ck_assert_int_eq(mip_auth_check(signed_req, &rq.ext.mn_fa, &key1), MIP_AUTH_MISSING);
	ck_assert_int_eq(mip_auth_check(signed_req, &rq.ext.fa_ha, &key1), MIP_AUTH_MISSING);
}
END_TEST

START_TEST(test_known_answer_reply)
{
	struct mip_reg_reply rp;

	ck_assert_int_eq(mip_reply_parse(signed_rep, sizeof(signed_rep), &rp), MIP_PERR_OK);
	ck_assert_int_eq(mip_auth_check(signed_rep, &rp.ext.mn_ha, &key1), MIP_AUTH_OK);
}
END_TEST

/* The builder produces exactly the independently computed message. */
START_TEST(test_builder_matches_known_answer)
{
	struct mip_reg_request rq;
	uint8_t out[80];
	struct buf b;

	memset(&rq, 0, sizeof(rq));
	rq.flags = MIP_RQ_T;
	rq.lifetime = 300;
	rq.home_addr.s_addr = htonl(0x0a000005);
	rq.home_agent.s_addr = htonl(0x0a000001);
	rq.coa.s_addr = htonl(0xc0a80101);
	rq.id = 0xe800000012345678ULL;
	buf_init_write(&b, out, sizeof(out));
	ck_assert_int_eq(mip_request_put(&b, &rq), 0);
	ck_assert_int_eq(mip_ext_put_nai(&b, "mn1@example.org", 15), 0);
	ck_assert_int_eq(mip_ext_put_auth(&b, MIP_EXT_MN_HA_AUTH, key1.spi, key1.key, key1.len), 0);
	ck_assert_uint_eq(buf_used(&b), sizeof(signed_req));
	ck_assert_mem_eq(out, signed_req, sizeof(signed_req));
}
END_TEST

/* A request with all three authenticators, each under its own key. */
START_TEST(test_built_chain_verifies)
{
	const struct mip_key kfa = {.spi = 0x1000, .key = {0xfa}, .len = 1};
	const struct mip_key kha = {.spi = 0xffffffffu, .key = {X8(0x42), X8(0x43)}, .len = 64};
	struct mip_reg_request rq;
	uint8_t out[200];
	struct buf b;

	memset(&rq, 0, sizeof(rq));
	rq.id = 1;
	buf_init_write(&b, out, sizeof(out));
	ck_assert_int_eq(mip_request_put(&b, &rq), 0);
	ck_assert_int_eq(mip_ext_put_nai(&b, "a@b", 3), 0);
	ck_assert_int_eq(mip_ext_put_auth(&b, MIP_EXT_MN_HA_AUTH, key1.spi, key1.key, key1.len), 0);
	ck_assert_int_eq(mip_ext_put_encap_delivery(&b), 0);
	ck_assert_int_eq(mip_ext_put_auth(&b, MIP_EXT_MN_FA_AUTH, kfa.spi, kfa.key, kfa.len), 0);
	ck_assert_int_eq(mip_ext_put_auth(&b, MIP_EXT_FA_HA_AUTH, kha.spi, kha.key, kha.len), 0);
	ck_assert_int_eq(mip_request_parse(out, buf_used(&b), &rq), MIP_PERR_OK);
	ck_assert_int_eq(mip_auth_check(out, &rq.ext.mn_ha, &key1), MIP_AUTH_OK);
	ck_assert_int_eq(mip_auth_check(out, &rq.ext.mn_fa, &kfa), MIP_AUTH_OK);
	ck_assert_int_eq(mip_auth_check(out, &rq.ext.fa_ha, &kha), MIP_AUTH_OK);
	/* Each key checks only its own extension. */
	ck_assert_int_eq(mip_auth_check(out, &rq.ext.mn_fa, &key1), MIP_AUTH_BAD_SPI);

	/* MN-HA does not cover what follows it: changing the MN-FA leaves it valid. */
	out[rq.ext.mn_fa.offset + 10] ^= 0x01;
	ck_assert_int_eq(mip_auth_check(out, &rq.ext.mn_ha, &key1), MIP_AUTH_OK);
	ck_assert_int_eq(mip_auth_check(out, &rq.ext.mn_fa, &kfa), MIP_AUTH_MISMATCH);
	/* ...but FA-HA covers everything before it, MN-FA included. */
	ck_assert_int_eq(mip_auth_check(out, &rq.ext.fa_ha, &kha), MIP_AUTH_MISMATCH);
}
END_TEST

/* Flip each bit of the covered bytes and of the authenticator. */
START_TEST(test_every_bit_flip_mismatch)
{
	struct mip_reg_request orig;
	const size_t n = sizeof(signed_req);

	ck_assert_int_eq(mip_request_parse(signed_req, n, &orig), MIP_PERR_OK);
	for (size_t bit = 0; bit < n * 8; bit++) {
		uint8_t m[sizeof(signed_req)];
		struct mip_auth_ext ext = orig.ext.mn_ha;
		struct mip_reg_request rq;

		memcpy(m, signed_req, n);
		m[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		/* The extension as first found, over the changed bytes. */
		ext.auth = m + (orig.ext.mn_ha.auth - signed_req);
		ck_assert_msg(mip_auth_check(m, &ext, &key1) == MIP_AUTH_MISMATCH, "bit %zu", bit);
		/* Parsed afresh, the message is refused one way or another. */
		enum mip_perr e = mip_request_parse(m, n, &rq);
		if (e == MIP_PERR_OK)
			ck_assert_msg(mip_auth_check(m, &rq.ext.mn_ha, &key1) != MIP_AUTH_OK,
				      "bit %zu accepted", bit);
	}
}
END_TEST

START_TEST(test_wrong_spi)
{
	struct mip_reg_request rq;
	struct mip_key k = key1;

	ck_assert_int_eq(mip_request_parse(signed_req, sizeof(signed_req), &rq), MIP_PERR_OK);
	k.spi = 257;
	ck_assert_int_eq(mip_auth_check(signed_req, &rq.ext.mn_ha, &k), MIP_AUTH_BAD_SPI);
	k.spi = 0;
	ck_assert_int_eq(mip_auth_check(signed_req, &rq.ext.mn_ha, &k), MIP_AUTH_BAD_SPI);
	ck_assert_int_eq(mip_auth_check(signed_req, &rq.ext.mn_ha, NULL), MIP_AUTH_BAD_SPI);

	/* The message's SPI changed (authenticator recomputed) with the key's unchanged. */
	uint8_t m[sizeof(signed_req)];
	memcpy(m, signed_req, sizeof(m));
	m[46] = 0x01; /* SPI 257 */
	ck_assert_int_eq(mip_auth_hmac_md5(key1.key, key1.len, m, 47, m + 47), 0);
	ck_assert_int_eq(mip_request_parse(m, sizeof(m), &rq), MIP_PERR_OK);
	ck_assert_int_eq(mip_auth_check(m, &rq.ext.mn_ha, &key1), MIP_AUTH_BAD_SPI);
	k = key1;
	k.spi = 257;
	ck_assert_int_eq(mip_auth_check(m, &rq.ext.mn_ha, &k), MIP_AUTH_OK);
}
END_TEST

/* SPIs 0-255 are reserved (RFC 5944 3.5.1): refused even with a matching key. */
START_TEST(test_reserved_spi)
{
	const uint32_t spis[] = {0, 1, 255};
	uint8_t out[80];
	struct buf b;

	for (size_t i = 0; i < sizeof(spis) / sizeof(spis[0]); i++) {
		struct mip_key k = key1;
		struct mip_reg_request rq;

		memset(&rq, 0, sizeof(rq));
		k.spi = spis[i];
		buf_init_write(&b, out, sizeof(out));
		ck_assert_int_eq(mip_request_put(&b, &rq), 0);
		ck_assert_int_eq(mip_ext_put_auth(&b, MIP_EXT_MN_HA_AUTH, k.spi, k.key, k.len), 0);
		ck_assert_int_eq(mip_request_parse(out, buf_used(&b), &rq), MIP_PERR_OK);
		ck_assert_msg(mip_auth_check(out, &rq.ext.mn_ha, &k) == MIP_AUTH_BAD_SPI, "SPI %u",
			      spis[i]);
	}
}
END_TEST

START_TEST(test_wrong_auth_len)
{
	const size_t lens[] = {0, 1, 15, 17, 32, 251};

	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		uint8_t m[47 + 251];
		struct mip_reg_request rq;

		/* The signed request with its authenticator cut or extended. */
		memcpy(m, signed_req, 47);
		memset(m + 47, 0, lens[i]);
		memcpy(m + 47, signed_req + 47, lens[i] < 16 ? lens[i] : 16);
		m[42] = (uint8_t)(4 + lens[i]);
		ck_assert_int_eq(mip_request_parse(m, 47 + lens[i], &rq), MIP_PERR_OK);
		ck_assert_uint_eq(rq.ext.mn_ha.auth_len, lens[i]);
		ck_assert_msg(mip_auth_check(m, &rq.ext.mn_ha, &key1) == MIP_AUTH_BAD_LEN,
			      "length %zu", lens[i]);
	}
}
END_TEST

START_TEST(test_missing)
{
	struct mip_reg_request rq;
	struct mip_reg_reply rp;

	/* Fixed part and NAI only. */
	ck_assert_int_eq(mip_request_parse(signed_req, 41, &rq), MIP_PERR_OK);
	ck_assert_int_eq(mip_auth_check(signed_req, &rq.ext.mn_ha, &key1), MIP_AUTH_MISSING);
	ck_assert_int_eq(mip_auth_check(signed_req, &rq.ext.mn_ha, NULL), MIP_AUTH_MISSING);
	ck_assert_int_eq(mip_reply_parse(signed_rep, 20, &rp), MIP_PERR_OK);
	ck_assert_int_eq(mip_auth_check(signed_rep, &rp.ext.mn_ha, &key1), MIP_AUTH_MISSING);
}
END_TEST

START_TEST(test_wrong_key)
{
	struct mip_reg_request rq;
	struct mip_key k = key1;

	ck_assert_int_eq(mip_request_parse(signed_req, sizeof(signed_req), &rq), MIP_PERR_OK);
	k.key[15] ^= 0x80;
	ck_assert_int_eq(mip_auth_check(signed_req, &rq.ext.mn_ha, &k), MIP_AUTH_MISMATCH);
	k = key1;
	k.len = 15; /* a prefix of the right key */
	ck_assert_int_eq(mip_auth_check(signed_req, &rq.ext.mn_ha, &k), MIP_AUTH_MISMATCH);
	k.len = 0;
	ck_assert_int_eq(mip_auth_check(signed_req, &rq.ext.mn_ha, &k), MIP_AUTH_MISMATCH);
}
END_TEST

START_TEST(test_key_wipe_and_names)
{
	struct mip_key k = key1;
	const struct mip_key zero = {0};

	mip_key_wipe(&k);
	ck_assert_mem_eq(&k, &zero, sizeof(k));

	ck_assert_str_eq(mip_auth_result_name(MIP_AUTH_OK), "ok");
	ck_assert_str_eq(mip_auth_result_name(MIP_AUTH_MISSING),
			 "missing authentication extension");
	ck_assert_str_eq(mip_auth_result_name(MIP_AUTH_BAD_SPI), "unknown SPI");
	ck_assert_str_eq(mip_auth_result_name(MIP_AUTH_BAD_LEN), "wrong authenticator length");
	ck_assert_str_eq(mip_auth_result_name(MIP_AUTH_MISMATCH), "authenticator mismatch");
	ck_assert_str_eq(mip_auth_result_name((enum mip_auth_result)99), "?");
}
END_TEST

static Suite *mip_auth_suite(void)
{
	Suite *s = suite_create("mip_auth");
	TCase *tc;

	tc = tcase_create("hmac");
	tcase_add_loop_test(tc, test_hmac_md5_rfc2202, 0,
			    (int)(sizeof(rfc2202) / sizeof(rfc2202[0])));
	suite_add_tcase(s, tc);

	tc = tcase_create("check");
	tcase_add_test(tc, test_known_answer_request);
	tcase_add_test(tc, test_known_answer_reply);
	tcase_add_test(tc, test_builder_matches_known_answer);
	tcase_add_test(tc, test_built_chain_verifies);
	tcase_add_test(tc, test_every_bit_flip_mismatch);
	tcase_add_test(tc, test_wrong_spi);
	tcase_add_test(tc, test_reserved_spi);
	tcase_add_test(tc, test_wrong_auth_len);
	tcase_add_test(tc, test_missing);
	tcase_add_test(tc, test_wrong_key);
	tcase_add_test(tc, test_key_wipe_and_names);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_main(mip_auth_suite());
}
