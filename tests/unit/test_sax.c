/*
 * Unit tests for common/sax.c: the SA transfer messages between FAs and
 * their store (sax.h, doc/sa-transfer.md).
 *
 * The known-answer vectors were computed outside this code, from the
 * layout and the TLV tables in doc/sa-transfer.md, by short Python scripts
 * while writing these tests.
 *
 * The RECORD:
 *   - header, GCM additional data and TLV plaintext written out field by
 *     field in Python (struct.pack);
 *   - AES-256-GCM as AES-256-CTR from `openssl enc -aes-256-ctr` (counter
 *     IV || 00000002) for the ciphertext, and GHASH in Python over H and
 *     E_K(IV || 00000001) from `openssl enc -aes-256-ecb -nopad` for the
 *     tag; the script checked itself first on GCM test case 16 of the
 *     McGrew/Viega specification;
 *   - the HMAC-SHA-256 with `openssl dgst -sha256 -mac HMAC -macopt
 *     hexkey:606162...7f` over the message without its last 32 bytes.
 * When the child TLV LOAN_CAP came (optional, absent when 0), the script
 * that made the REQUEST below wrote the RECORD again the same way but with
 * AESGCM from Python's `cryptography` package: byte for byte the same 591
 * bytes.
 *
 * The REQUEST, once it carried the node's registration (sealed):
 *   - the Registration Request (RFC 5944 3.3) with struct.pack: type 1,
 *     flags 0x02 (T), lifetime 300, home address 10.0.1.5, home agent
 *     10.0.1.1, care-of address 198.18.2.2 (the new FA, the REQUEST's
 *     Sender), Identification ed003780 00002d5a (NTP seconds of the
 *     vector's timestamp, fraction 0 with random low bits); the NAI
 *     extension "mn1@example.net" (mipsa's node always sends it, before
 *     MN-HA); MN-HA (type 32, SPI 1001), its authenticator from `openssl
 *     dgst -md5 -mac HMAC -macopt hexkey:00112233445566778899aabbccddeeff`;
 *     the SA reuse NVSE (type 134, vendor 32473, NVSE type 1): flags 0,
 *     reserved 0, previous FA CoA 198.18.1.2, icookie 0102..08, rcookie
 *     1112..18, mn_sent 905, mn_received 998, and the proof of possession
 *     from `openssl dgst -sha256 -mac HMAC -macopt hexkey:4041..5f` (the
 *     record's SKEYID_a) over every byte before it: 143 bytes in all;
 *   - the TLV list 0001 008f || registration, sealed with
 *     cryptography's AESGCM(K_SA).encrypt(IV c0..cb, TLVs, additional
 *     data 01 || Expires 0 || 0f || "mn1@example.net");
 *   - the header with struct.pack, the HMAC with openssl dgst as above.
 * The tests open the Sealed fields with a separate, straightforward EVP
 * AES-256-GCM call (evp_gcm_open), not with sax.c, and check the
 * registration's authenticators with mipsa's own MIP and IKE code.
 */
#include "buf.h"
#include "check_main.h"
#include "ike.h"
#include "ike_xfer.h"
#include "log.h"
#include "mip_auth.h"
#include "mip_msg.h"
#include "sax.h"

#include <arpa/inet.h>
#include <check.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- helpers ---- */

struct hex {
	size_t n;
	uint8_t b[SAX_MSG_MAX];
};

/* Bytes from hex digits; spaces and newlines are ignored. */
static void hx(const char *s, struct hex *h)
{
	int hi = -1;

	h->n = 0;
	for (; *s != '\0'; s++) {
		int v;

		if (*s == ' ' || *s == '\n')
			continue;
		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			v = *s - 'a' + 10;
		else
			ck_abort_msg("bad hex digit '%c'", *s);
		if (hi < 0) {
			hi = v;
			continue;
		}
		ck_assert_uint_lt(h->n, sizeof(h->b));
		h->b[h->n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	ck_assert_int_eq(hi, -1);
}

static struct in_addr ip(const char *s)
{
	struct in_addr a;

	ck_assert_int_eq(inet_pton(AF_INET, s, &a), 1);
	return a;
}

/* The vector's keys: K_SA 40..5f, K_DB 60..7f. */
static void keys_init(struct sax_keys *k)
{
	memset(k, 0, sizeof(*k));
	for (int i = 0; i < SAX_KEY_LEN; i++) {
		k->k_sa[i] = (uint8_t)(0x40 + i);
		k->k_db[i] = (uint8_t)(0x60 + i);
	}
	k->have_k_sa = true;
}

#define TS      1767225600000ull /* 2026-01-01T00:00:00Z */
#define EXPIRES (TS + 3600000)
#define WINDOW  30000
#define MN_ID   "mn1@example.net"

/*
 * The lengths of the vector's messages (15-byte MN ID): one without a
 * Sealed field, the RECORD, and the REQUEST around its 143-byte
 * registration (Sealed: IV, REGISTRATION TLV header, registration, tag).
 */
#define PLAIN_LEN      90
#define REC_LEN        591
#define REG_LEN        143
#define REQ_SEALED     (SAX_GCM_IV_LEN + 4 + REG_LEN + SAX_GCM_TAG_LEN)
#define REQ_LEN        (58 + REQ_SEALED + SAX_MAC_LEN)
#define REQ_LEN_FOR(n) (58 + SAX_GCM_IV_LEN + 4 + (n) + SAX_GCM_TAG_LEN + SAX_MAC_LEN)

/*
 * The node's Registration Request through the end of its SA reuse
 * extension (the header comment says how it was made): fixed part, NAI,
 * MN-HA, SA reuse NVSE with the proof of possession under the vector
 * record's SKEYID_a.
 */
static const char vec_registration[] =
	"0102012c0a0001050a000101c6120202ed00378000002d5a830f6d6e31406578"
	"616d706c652e6e65742014000003e9dc5ba0281d5e01085e85ef2b91b95c8186"
	"4e000000007ed900010000c61201020102030405060708111213141516171800"
	"0000000000038900000000000003e63c2c7a2199c1f05203cad9c41f9f6094fd"
	"3482a60fe33c0187014a0653a6a008";

/* The vector's header: nonce a0..af, MN ID mn1@example.net; a REQUEST carries the registration. */
static void msg_init(struct sax_msg *m, uint8_t type)
{
	static struct hex reg;

	memset(m, 0, sizeof(*m));
	m->type = type;
	m->timestamp_ms = TS;
	for (int i = 0; i < SAX_NONCE_LEN; i++)
		m->nonce[i] = (uint8_t)(0xa0 + i);
	m->sender = ip(type == SAX_REQUEST ? "198.18.2.2" : "198.18.1.2");
	m->expires_ms =
		type == SAX_RECORD || type == SAX_STORE_PUT || type == SAX_OFFER ? EXPIRES : 0;
	memcpy(m->mn_id, MN_ID, strlen(MN_ID));
	m->mn_id_len = strlen(MN_ID);
	if (type == SAX_REQUEST) {
		hx(vec_registration, &reg);
		ck_assert_uint_eq(reg.n, REG_LEN);
		memcpy(m->req.reg, reg.b, reg.n);
		m->req.reg_len = (uint16_t)reg.n;
	}
}

static void fill(uint8_t *p, size_t n, uint8_t first)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(first + i);
}

/* The vector's record: one ISAKMP SA (PSK, SHA2-256, group 14, NAT) and one AES-GCM pair. */
static void vector_record(struct sax_record *r)
{
	struct sax_isakmp *x = &r->isakmp;
	struct sax_child *c = &r->children[0];

	memset(r, 0, sizeof(*r));
	fill(x->icookie, 8, 0x01);
	fill(x->rcookie, 8, 0x11);
	x->hash = 4;
	x->key_bits = 256;
	x->group = 14;
	x->auth = 1;
	fill(x->skeyid_d, 32, 0x20);
	fill(x->skeyid_a, 32, 0x40);
	fill(x->enc_key, 32, 0x60);
	x->hash_len = 32;
	x->enc_key_len = 32;
	fill(x->p1_last, 16, 0xe0);
	x->expires_ms = EXPIRES;
	x->dpd_seq = 7;
	x->peer_id_type = 1;
	memcpy(x->peer_id, "\x0a\x00\x01\x05", 4);
	x->peer_id_len = 4;
	x->peer = ip("10.0.1.5");
	x->local = ip("10.0.1.1");
	x->peer_port = 4500;
	x->local_port = 4500;
	x->nat = true;
	r->n_children = 1;
	c->spi_in = 0x00001001;
	c->spi_out = 0xc0000002;
	c->alg = 2;
	c->key_bits = 256;
	fill(c->enc_in, 36, 0x80);
	fill(c->enc_out, 36, 0xb0);
	c->enc_len = 36;
	c->auth_len = 0;
	c->expires_ms = TS + 1800000;
	c->lifetime_kb = 0;
	c->bytes = 123456;
	c->seq_out = 1000;
	c->replay_top = 900;
	c->udp_encap = true;
	c->local_port = 4500;
	c->peer_port = 4500;
	c->local_net = ip("0.0.0.0");
	c->remote_net = ip("10.0.1.5");
	c->local_plen = 0;
	c->remote_plen = 32;
	r->home_addr = ip("10.0.1.5");
	r->prev_coa = ip("198.18.1.2");
}

/*
 * Every field set, every byte of every field different from the bytes of
 * the other fields around it, every length at its maximum, four children.
 */
static void full_record(struct sax_record *r)
{
	uint8_t v = 1;

	memset(r, 0, sizeof(*r));
	fill(r->isakmp.icookie, 8, v);
	fill(r->isakmp.rcookie, 8, v += 8);
	r->isakmp.hash = 6;
	r->isakmp.key_bits = 192;
	r->isakmp.group = 63;
	r->isakmp.auth = 5;
	fill(r->isakmp.skeyid_d, 32, v += 8);
	fill(r->isakmp.skeyid_a, 32, v += 32);
	fill(r->isakmp.enc_key, 32, v += 32);
	r->isakmp.hash_len = 32;
	r->isakmp.enc_key_len = 32;
	fill(r->isakmp.p1_last, 16, v += 32);
	r->isakmp.expires_ms = 0x0102030405060708ull;
	r->isakmp.dpd_seq = 0x11121314;
	r->isakmp.peer_id_type = 12;
	fill(r->isakmp.peer_id, 255, 0x9a);
	r->isakmp.peer_id_len = 255;
	r->isakmp.peer.s_addr = htonl(0x21222324);
	r->isakmp.local.s_addr = htonl(0x31323334);
	r->isakmp.peer_port = 0x4142;
	r->isakmp.local_port = 0x5152;
	r->isakmp.nat = true;
	r->n_children = SAX_MAX_CHILDREN;
	for (uint32_t i = 0; i < SAX_MAX_CHILDREN; i++) {
		struct sax_child *c = &r->children[i];
		uint8_t b = (uint8_t)(0x10 * i);

		c->spi_in = 0x61626364 + i;
		c->spi_out = 0x71727374 + i;
		c->alg = (uint8_t)(i % 3);
		c->key_bits = (uint16_t)(128 + 64 * (i % 3));
		fill(c->enc_in, 36, (uint8_t)(b + 1));
		fill(c->enc_out, 36, (uint8_t)(b + 0x81));
		c->enc_len = 36;
		fill(c->auth_in, 32, (uint8_t)(b + 0x45));
		fill(c->auth_out, 32, (uint8_t)(b + 0xc5));
		c->auth_len = 32;
		c->expires_ms = 0x8182838485868788ull + i;
		c->lifetime_kb = 0x91929394 + i;
		c->bytes = 0xa1a2a3a4a5a6a7a8ull + i;
		c->seq_out = 0xb1b2b3b4b5b6b7b8ull + i;
		c->replay_top = 0xc1c2c3c4c5c6c7c8ull + i;
		c->loan_cap = 0xd1d2d3d4d5d6d7d8ull + i;
		c->udp_encap = i % 2 == 1;
		c->local_port = (uint16_t)(0xd1d2 + i);
		c->peer_port = (uint16_t)(0xe1e2 + i);
		c->local_net.s_addr = htonl(0xf1f2f3f4 + i);
		c->remote_net.s_addr = htonl(0x0a0b0c0d + i);
		c->local_plen = (uint8_t)(29 + i);
		c->remote_plen = (uint8_t)(20 + i);
	}
	r->home_addr.s_addr = htonl(0xaabbccdd);
	r->prev_coa.s_addr = htonl(0xc6120102);
}

static void child_eq(const struct sax_child *a, const struct sax_child *b)
{
	ck_assert_uint_eq(a->spi_in, b->spi_in);
	ck_assert_uint_eq(a->spi_out, b->spi_out);
	ck_assert_uint_eq(a->alg, b->alg);
	ck_assert_uint_eq(a->key_bits, b->key_bits);
	ck_assert_uint_eq(a->enc_len, b->enc_len);
	ck_assert_mem_eq(a->enc_in, b->enc_in, sizeof(a->enc_in));
	ck_assert_mem_eq(a->enc_out, b->enc_out, sizeof(a->enc_out));
	ck_assert_uint_eq(a->auth_len, b->auth_len);
	ck_assert_mem_eq(a->auth_in, b->auth_in, sizeof(a->auth_in));
	ck_assert_mem_eq(a->auth_out, b->auth_out, sizeof(a->auth_out));
	ck_assert_uint_eq(a->expires_ms, b->expires_ms);
	ck_assert_uint_eq(a->lifetime_kb, b->lifetime_kb);
	ck_assert_uint_eq(a->bytes, b->bytes);
	ck_assert_uint_eq(a->seq_out, b->seq_out);
	ck_assert_uint_eq(a->replay_top, b->replay_top);
	ck_assert_uint_eq(a->loan_cap, b->loan_cap);
	ck_assert_int_eq(a->udp_encap, b->udp_encap);
	ck_assert_uint_eq(a->local_port, b->local_port);
	ck_assert_uint_eq(a->peer_port, b->peer_port);
	ck_assert_uint_eq(a->local_net.s_addr, b->local_net.s_addr);
	ck_assert_uint_eq(a->remote_net.s_addr, b->remote_net.s_addr);
	ck_assert_uint_eq(a->local_plen, b->local_plen);
	ck_assert_uint_eq(a->remote_plen, b->remote_plen);
}

/* Every field of two records, the bytes past each length included. */
static void record_eq(const struct sax_record *a, const struct sax_record *b)
{
	const struct sax_isakmp *x = &a->isakmp, *y = &b->isakmp;

	ck_assert_mem_eq(x->icookie, y->icookie, 8);
	ck_assert_mem_eq(x->rcookie, y->rcookie, 8);
	ck_assert_uint_eq(x->hash, y->hash);
	ck_assert_uint_eq(x->key_bits, y->key_bits);
	ck_assert_uint_eq(x->group, y->group);
	ck_assert_uint_eq(x->auth, y->auth);
	ck_assert_uint_eq(x->hash_len, y->hash_len);
	ck_assert_mem_eq(x->skeyid_d, y->skeyid_d, 32);
	ck_assert_mem_eq(x->skeyid_a, y->skeyid_a, 32);
	ck_assert_uint_eq(x->enc_key_len, y->enc_key_len);
	ck_assert_mem_eq(x->enc_key, y->enc_key, 32);
	ck_assert_mem_eq(x->p1_last, y->p1_last, 16);
	ck_assert_uint_eq(x->expires_ms, y->expires_ms);
	ck_assert_uint_eq(x->dpd_seq, y->dpd_seq);
	ck_assert_uint_eq(x->peer_id_type, y->peer_id_type);
	ck_assert_uint_eq(x->peer_id_len, y->peer_id_len);
	ck_assert_mem_eq(x->peer_id, y->peer_id, 255);
	ck_assert_uint_eq(x->peer.s_addr, y->peer.s_addr);
	ck_assert_uint_eq(x->local.s_addr, y->local.s_addr);
	ck_assert_uint_eq(x->peer_port, y->peer_port);
	ck_assert_uint_eq(x->local_port, y->local_port);
	ck_assert_int_eq(x->nat, y->nat);
	ck_assert_uint_eq(a->n_children, b->n_children);
	for (size_t i = 0; i < SAX_MAX_CHILDREN; i++)
		child_eq(&a->children[i], &b->children[i]);
	ck_assert_uint_eq(a->home_addr.s_addr, b->home_addr.s_addr);
	ck_assert_uint_eq(a->prev_coa.s_addr, b->prev_coa.s_addr);
}

/* Two registrations, the bytes past the length included. */
static void request_eq(const struct sax_request *a, const struct sax_request *b)
{
	ck_assert_uint_eq(a->reg_len, b->reg_len);
	ck_assert_mem_eq(a->reg, b->reg, SAX_REG_MAX);
	ck_assert_uint_eq(a->seq_top, b->seq_top);
}

static void header_eq(const struct sax_msg *a, const struct sax_msg *b)
{
	ck_assert_uint_eq(b->version, SAX_VERSION);
	ck_assert_uint_eq(a->type, b->type);
	ck_assert_uint_eq(a->flags, b->flags);
	ck_assert_uint_eq(a->timestamp_ms, b->timestamp_ms);
	ck_assert_mem_eq(a->nonce, b->nonce, SAX_NONCE_LEN);
	ck_assert_uint_eq(a->sender.s_addr, b->sender.s_addr);
	ck_assert_uint_eq(a->expires_ms, b->expires_ms);
	ck_assert_uint_eq(a->mn_id_len, b->mn_id_len);
	ck_assert_mem_eq(a->mn_id, b->mn_id, a->mn_id_len);
	ck_assert_uint_eq((uint8_t)b->mn_id[b->mn_id_len], 0);
}

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

static const uint8_t iv_vec[SAX_GCM_IV_LEN] = {0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5,
					       0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xcb};

/* The store's keys beside an FA's k: K_DB only. */
static struct sax_keys store_keys(const struct sax_keys *k)
{
	struct sax_keys store = *k;

	memset(store.k_sa, 0, sizeof(store.k_sa));
	store.have_k_sa = false;
	return store;
}

/* Build m into out with the vector's IV; returns the length. */
static size_t build(const struct sax_msg *m, const struct sax_keys *k, uint8_t *out)
{
	struct buf b;

	buf_init_write(&b, out, SAX_MSG_MAX);
	ck_assert_int_eq(sax_build_iv(&b, m, k, iv_vec), SAX_E_OK);
	return buf_used(&b);
}

static enum sax_err parse(const uint8_t *msg, size_t len, const struct sax_keys *k,
			  struct sax_msg *m)
{
	return sax_parse(msg, len, k, TS, WINDOW, NULL, m);
}

/* ---- the known-answer vector ---- */

/* RECORD: 56-byte header, Sealed length 501, IV c0..cb, 473 bytes of ciphertext, tag, HMAC. */
static const char vec_record[] = "010200000000019b76daa800a0a1a2a3a4a5a6a7a8a9aaabacadaeafc6120102"
				 "0000019b771196800f6d6e31406578616d706c652e6e657401f5c0c1c2c3c4c5"
				 "c6c7c8c9cacb5f4530c67b983eef71bf233eaba1a2c58ee74d45cb383910fcb0"
				 "336d2c7a7e4686375387f4a617b2ea3672134a3d43334da469172258046e909b"
				 "565bc224cc7f209cee67a36043169731dd44af1fff1ae19f99afbf6d6a1024c7"
				 "9f623896b34ba2ff94e2582176d493deeb9bb059036b28443f3c80802315b40b"
				 "412af22c70ab6f0fc8734c9973c507e8928269ebca5e7154b26f7b549c65ff2c"
				 "4b7dfc5fda6f15c0e3797dbc129bfd26f83373ce77ac413c4b7a60dc4b081f3d"
				 "fb7ca3e99c95c8808e8c640081c6780cb1f891004e482246b973bc4a4a478fe8"
				 "7f0895251c3ece8e62e7d400d2e6eb590d295576dbc5fb4e62c9e0196f1c61cd"
				 "0b26442d354c13959de91448a40706aac52f609fb6e6e77c7c8888768e6f7120"
				 "45e39221d35d8317743c53d99b79571380619c2f379505ab3b485b6d8a234d03"
				 "a2fd788e6d60a397e8a1dde836fa05f957fef116978354eca3f039f08f7801c3"
				 "162db8de939a2053beb96457114ce93457486c2f462b2d778970c1fcb760ec93"
				 "45f4141b414c851e3dfae9405d190bc2c54049e403334ee7221fec566125deec"
				 "c7370461239363ff2d77f77de6b6ce4e8ab4fa5ac4c060c34a7b908e6dde3a52"
				 "f0242c1a8a880097fb333300536b450de5ca25829e75683546f3395162ddf22b"
				 "554201fa0b876b11983f730a95a7c74dcf57f0f7a084b82519a4b37551b1527e"
				 "65793dc9c008816ece6f65bbcf81c2";

/* The HMAC of vec_record, from openssl dgst -sha256 -mac HMAC -macopt hexkey:6061..7f. */
static const char vec_record_mac[] =
	"4dcf57f0f7a084b82519a4b37551b1527e65793dc9c008816ece6f65bbcf81c2";

/* The additional data: version 1, Expires, MN ID length 15, MN ID. */
static const char vec_aad[] = "010000019b771196800f6d6e31406578616d706c652e6e6574";

/* The TLV list inside, written from the table in doc/sa-transfer.md. */
static const char vec_plaintext[] =
	"0001000801020304050607080002000811121314151617180003000104000400"
	"020100000500010e000600010100070020202122232425262728292a2b2c2d2e"
	"2f303132333435363738393a3b3c3d3e3f00080020404142434445464748494a"
	"4b4c4d4e4f505152535455565758595a5b5c5d5e5f0009002060616263646566"
	"6768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f000a0010e0e1e2"
	"e3e4e5e6e7e8e9eaebecedeeef000b00080000019b77119680000c0004000000"
	"07000d000101000e00040a000105000f00040a000105001000040a0001010011"
	"000211940012000211940013000101001400040a00010500150004c612010200"
	"1600d6000100040000100100020004c000000200030001020004000201000005"
	"0024808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d"
	"9e9fa0a1a2a300060024b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5"
	"c6c7c8c9cacbcccdcecfd0d1d2d30007000000080000000900080000019b76f6"
	"1f40000a000400000000000b0008000000000001e240000c0008000000000000"
	"03e8000d00080000000000000384000e000101000f0002119400100002119400"
	"11000400000000001200040a00010500130001000014000120";

/*
 * REQUEST from 198.18.2.2, Expires 0, same timestamp and nonce: 58-byte
 * header, Sealed length 175, IV c0..cb, 147 bytes of ciphertext (the
 * REGISTRATION TLV), tag, HMAC.
 */
static const char vec_request[] = "010100000000019b76daa800a0a1a2a3a4a5a6a7a8a9aaabacadaeafc6120202"
				  "00000000000000000f6d6e31406578616d706c652e6e657400afc0c1c2c3c4c5"
				  "c6c7c8c9cacb5f4530417b983cc77eb92533a1a3a3cc59e75c53332e1988fcb3"
				  "1e36ab751728b57636ff90cb66d08f1e1c773f1d50336d87a1e95adc0955e9b2"
				  "772f6ce7cac0b6f05ed3de547620a0773d7e9523c2e2cc9e93ae9d2e2f576184"
				  "d2356dcdee14ffa4c1ac17712786c08937cde7015a31731b845ef3fa0b8c559b"
				  "724b5b91d1d2970735e41377b8a48ba4e2771bd5b97ba08cc342f3b87d5250a4"
				  "2201c333664af6d5520c34ef7293cf5317152c1e6be35817996d322bc791ed15"
				  "6706256baa80eed290";

/* Its HMAC, from openssl dgst as above. */
static const char vec_request_mac[] =
	"0c34ef7293cf5317152c1e6be35817996d322bc791ed156706256baa80eed290";

/* Its additional data: version 1, Expires 0, MN ID length 15, MN ID. */
static const char vec_request_aad[] = "0100000000000000000f6d6e31406578616d706c652e6e6574";

/* Open a Sealed field with one plain EVP AES-256-GCM call sequence, outside sax.c. */
static int evp_gcm_open(const uint8_t *key, const uint8_t *sealed, size_t len, const uint8_t *aad,
			size_t aad_len, uint8_t *out)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0, f = 0, ok;
	uint8_t tag[16];

	memcpy(tag, sealed + len - 16, 16);
	ok = c != NULL && EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, NULL) == 1 &&
	     EVP_DecryptInit_ex(c, NULL, NULL, key, sealed) == 1 &&
	     EVP_DecryptUpdate(c, NULL, &n, aad, (int)aad_len) == 1 &&
	     EVP_DecryptUpdate(c, out, &n, sealed + 12, (int)(len - 28)) == 1 &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tag) == 1 &&
	     EVP_DecryptFinal_ex(c, out + n, &f) == 1;
	EVP_CIPHER_CTX_free(c);
	return ok ? n + f : -1;
}

START_TEST(test_vector_record)
{
	static struct hex want, pt, aad, mac;
	static struct sax_msg m, got;
	static uint8_t out[SAX_MSG_MAX], opened[SAX_MSG_MAX];
	struct sax_keys k;
	size_t len;

	keys_init(&k);
	msg_init(&m, SAX_RECORD);
	m.has_record = true;
	vector_record(&m.rec);
	len = build(&m, &k, out);
	hx(vec_record, &want);
	hx(vec_plaintext, &pt);
	hx(vec_aad, &aad);
	hx(vec_record_mac, &mac);
	ck_assert_uint_eq(want.n, 591);
	ck_assert_uint_eq(len, 591);
	/* the header, field by field */
	ck_assert_uint_eq(out[0], 1);
	ck_assert_uint_eq(out[1], SAX_RECORD);
	ck_assert_uint_eq(out[40], 15);
	ck_assert_uint_eq(out[56] << 8 | out[57], 12 + 473 + 16);
	ck_assert_mem_eq(out + 58, iv_vec, 12);
	ck_assert_uint_eq(sax_aad_len(15), aad.n);
	/* the whole message */
	ck_assert_mem_eq(out, want.b, 591);
	ck_assert_mem_eq(out + 591 - 32, mac.b, 32);
	/* the Sealed field opened without sax.c gives the TLVs of the table */
	ck_assert_int_eq(evp_gcm_open(k.k_sa, out + 58, 501, aad.b, aad.n, opened), 473);
	ck_assert_uint_eq(pt.n, 473);
	ck_assert_mem_eq(opened, pt.b, 473);
	/* and it parses back */
	ck_assert_int_eq(parse(want.b, want.n, &k, &got), SAX_E_OK);
	header_eq(&m, &got);
	ck_assert_int_eq(got.has_record, true);
	ck_assert_ptr_eq(got.sealed, want.b + 58);
	ck_assert_uint_eq(got.sealed_len, 501);
	record_eq(&m.rec, &got.rec);
	/* the raw hook seals the same plaintext to the same bytes */
	{
		struct buf b;

		buf_init_write(&b, opened, sizeof(opened));
		ck_assert_int_eq(sax_build_raw(&b, &m, &k, iv_vec, pt.b, pt.n), SAX_E_OK);
		ck_assert_uint_eq(buf_used(&b), 591);
		ck_assert_mem_eq(opened, want.b, 591);
	}
}
END_TEST

START_TEST(test_vector_request)
{
	static struct hex want, reg, aad, mac;
	static struct sax_msg m, got;
	static struct sax_record rec;
	static uint8_t out[SAX_MSG_MAX], opened[SAX_MSG_MAX];
	struct mip_reg_request rq;
	uint8_t auth[32];
	struct sax_keys k;
	size_t len;

	keys_init(&k);
	msg_init(&m, SAX_REQUEST);
	len = build(&m, &k, out);
	hx(vec_request, &want);
	hx(vec_registration, &reg);
	hx(vec_request_aad, &aad);
	hx(vec_request_mac, &mac);
	ck_assert_uint_eq(want.n, 265);
	ck_assert_uint_eq(len, REQ_LEN);
	/* the header, field by field */
	ck_assert_uint_eq(out[1], SAX_REQUEST);
	ck_assert_mem_eq(out + 28, "\xc6\x12\x02\x02", 4);
	ck_assert(all_zero(out + 32, 8)); /* Expires not given */
	ck_assert_uint_eq(out[56] << 8 | out[57], 175);
	ck_assert_mem_eq(out + 58, iv_vec, 12);
	/* the whole message */
	ck_assert_mem_eq(out, want.b, REQ_LEN);
	ck_assert_mem_eq(out + REQ_LEN - 32, mac.b, 32);
	/* the Sealed field opened without sax.c: one REGISTRATION TLV, the registration */
	ck_assert_int_eq(evp_gcm_open(k.k_sa, out + 58, 175, aad.b, aad.n, opened), 4 + REG_LEN);
	ck_assert_mem_eq(opened, "\x00\x01\x00\x8f", 4);
	ck_assert_mem_eq(opened + 4, reg.b, REG_LEN);
	/* and it parses back into m.req */
	ck_assert_int_eq(parse(want.b, want.n, &k, &got), SAX_E_OK);
	header_eq(&m, &got);
	ck_assert_int_eq(got.has_record, false);
	ck_assert_ptr_eq(got.sealed, want.b + 58);
	ck_assert_uint_eq(got.sealed_len, 175);
	request_eq(&m.req, &got.req);
	ck_assert(all_zero(&got.rec, sizeof(got.rec)));
	/* the raw hook seals the same plaintext to the same bytes */
	{
		struct buf b;

		buf_init_write(&b, opened + 512, sizeof(opened) - 512);
		ck_assert_int_eq(sax_build_raw(&b, &m, &k, iv_vec, opened, 4 + REG_LEN), SAX_E_OK);
		ck_assert_uint_eq(buf_used(&b), REQ_LEN);
		ck_assert_mem_eq(opened + 512, want.b, REQ_LEN);
	}
	/*
	 * The registration is one a node sends: mipsa's parser takes it, its
	 * MN-HA authenticator is right under the node's key, and its proof of
	 * possession is the one the previous FA computes from the vector
	 * record's SKEYID_a.
	 */
	ck_assert_int_eq(mip_request_parse(reg.b, reg.n, &rq), MIP_PERR_OK);
	ck_assert_uint_eq(rq.home_addr.s_addr, ip("10.0.1.5").s_addr);
	ck_assert_uint_eq(rq.coa.s_addr, m.sender.s_addr);
	ck_assert_uint_eq(rq.id, 0xed00378000002d5aull);
	ck_assert_uint_eq(rq.ext.nai_len, strlen(MN_ID));
	ck_assert_mem_eq(rq.ext.nai, MN_ID, strlen(MN_ID));
	ck_assert(rq.ext.mn_ha.present);
	ck_assert_int_eq(mip_auth_hmac_md5((const uint8_t *)"\x00\x11\x22\x33\x44\x55\x66\x77"
							    "\x88\x99\xaa\xbb\xcc\xdd\xee\xff",
					   16, reg.b, rq.ext.mn_ha.covered_len, auth),
			 0);
	ck_assert_mem_eq(auth, rq.ext.mn_ha.auth, MIP_AUTH_LEN);
	ck_assert(rq.ext.reuse.present);
	ck_assert_uint_eq(rq.ext.reuse.prev_coa.s_addr, ip("198.18.1.2").s_addr);
	ck_assert_uint_eq(rq.ext.reuse.mn_sent, 905);
	ck_assert_uint_eq(rq.ext.reuse.mn_received, 998);
	ck_assert_uint_eq(rq.ext.reuse.covered_len + 32, REG_LEN);
	vector_record(&rec);
	ck_assert_mem_eq(rq.ext.reuse.icookie, rec.isakmp.icookie, 8);
	ck_assert_mem_eq(rq.ext.reuse.rcookie, rec.isakmp.rcookie, 8);
	ck_assert_int_eq(ike_possession_mac(&rec.isakmp, reg.b, rq.ext.reuse.covered_len, auth), 0);
	ck_assert_mem_eq(auth, rq.ext.reuse.auth, 32);
}
END_TEST

/* ---- round trips ---- */

START_TEST(test_round_trip_types)
{
	uint8_t type = (uint8_t)(_i + 1);
	bool record = type == SAX_RECORD || type == SAX_STORE_PUT || type == SAX_OFFER;
	bool request = type == SAX_REQUEST;
	bool reason = type == SAX_REFUSED || type == SAX_STORE_ACK;
	static struct sax_msg m, got;
	static uint8_t out[SAX_MSG_MAX];
	struct sax_keys k;
	struct buf b;
	size_t len;

	keys_init(&k);
	msg_init(&m, type);
	m.flags = reason ? SAX_R_NOT_MEMBER : 0;
	/* without a record: a REQUEST seals its registration, the other types carry nothing */
	buf_init_write(&b, out, sizeof(out));
	ck_assert_int_eq(sax_build(&b, &m, &k), record ? SAX_E_ATTR : SAX_E_OK);
	len = buf_used(&b);
	ck_assert_uint_eq(len, record ? 0 : request ? REQ_LEN : PLAIN_LEN);
	if (!record) {
		ck_assert_int_eq(sax_parse(out, len, &k, TS + 5, WINDOW, NULL, &got), SAX_E_OK);
		header_eq(&m, &got);
		ck_assert_int_eq(got.has_record, false);
		ck_assert_uint_eq(got.sealed_len, request ? REQ_SEALED : 0);
		ck_assert_ptr_eq(got.sealed, request ? out + 58 : NULL);
		request_eq(&m.req, &got.req); /* all zero but in a REQUEST */
	}
	/* with a record: only RECORD, STORE_PUT and OFFER carry one, a REQUEST neither */
	m.has_record = true;
	vector_record(&m.rec);
	buf_init_write(&b, out, sizeof(out));
	ck_assert_int_eq(sax_build(&b, &m, &k), record ? SAX_E_OK : SAX_E_ATTR);
	len = buf_used(&b);
	ck_assert_uint_eq(len, record ? REC_LEN : 0);
	if (record) {
		ck_assert_int_eq(sax_parse(out, len, &k, TS - 5, WINDOW, NULL, &got), SAX_E_OK);
		header_eq(&m, &got);
		ck_assert_int_eq(got.has_record, true);
		record_eq(&m.rec, &got.rec);
		ck_assert(all_zero(&got.req, sizeof(got.req)));
	}
}
END_TEST

START_TEST(test_round_trip_full_record)
{
	static struct sax_msg m, got;
	static uint8_t out[SAX_MSG_MAX];
	struct sax_keys k;
	size_t len;

	keys_init(&k);
	msg_init(&m, SAX_STORE_PUT);
	m.mn_id_len = SAX_ID_MAX;
	fill((uint8_t *)m.mn_id, SAX_ID_MAX, 1);
	m.has_record = true;
	full_record(&m.rec);
	len = build(&m, &k, out);
	/*
	 * 41 + 255 + 2 + IV 12 + TLVs (record: 21 TLV headers and 422 bytes of
	 * values; 4 children: CHILD header, 21 TLV headers and 206 bytes of
	 * values, LOAN_CAP included) + tag 16 + HMAC 32
	 */
	ck_assert_uint_eq(len, 41 + 255 + 2 + 12 + (84 + 422) + 4 * (4 + 84 + 206) + 16 + 32);
	ck_assert_int_eq(parse(out, len, &k, &got), SAX_E_OK);
	header_eq(&m, &got);
	record_eq(&m.rec, &got.rec);
	/* zero children, zero-length keys */
	m.rec.n_children = 0;
	m.rec.isakmp.hash_len = 0;
	m.rec.isakmp.enc_key_len = 0;
	m.rec.isakmp.peer_id_len = 0;
	memset(m.rec.isakmp.skeyid_d, 0, 32);
	memset(m.rec.isakmp.skeyid_a, 0, 32);
	memset(m.rec.isakmp.enc_key, 0, 32);
	memset(m.rec.isakmp.peer_id, 0, 255);
	memset(m.rec.children, 0, sizeof(m.rec.children));
	len = build(&m, &k, out);
	ck_assert_uint_eq(len, 41 + 255 + 2 + 12 + (84 + 422 - 96 - 255) + 16 + 32);
	ck_assert_int_eq(parse(out, len, &k, &got), SAX_E_OK);
	record_eq(&m.rec, &got.rec);
}
END_TEST

/* Two builds of the same message never share an IV. */
START_TEST(test_iv_fresh)
{
	static struct sax_msg m, got;
	static uint8_t a[SAX_MSG_MAX], c[SAX_MSG_MAX];
	struct sax_keys k;
	struct buf b1, b2;

	keys_init(&k);
	msg_init(&m, SAX_RECORD);
	m.has_record = true;
	vector_record(&m.rec);
	buf_init_write(&b1, a, sizeof(a));
	buf_init_write(&b2, c, sizeof(c));
	ck_assert_int_eq(sax_build(&b1, &m, &k), SAX_E_OK);
	ck_assert_int_eq(sax_build(&b2, &m, &k), SAX_E_OK);
	ck_assert_uint_eq(buf_used(&b1), 591);
	ck_assert_uint_eq(buf_used(&b2), 591);
	ck_assert_mem_eq(a, c, 58);
	ck_assert_mem_ne(a + 58, c + 58, 12);
	ck_assert_int_eq(parse(a, 591, &k, &got), SAX_E_OK);
	record_eq(&m.rec, &got.rec);
	ck_assert_int_eq(parse(c, 591, &k, &got), SAX_E_OK);
	record_eq(&m.rec, &got.rec);
}
END_TEST

/* The builder writes after what b already holds; the HMAC covers only the message. */
START_TEST(test_build_appends)
{
	static struct sax_msg m, got;
	static uint8_t out[SAX_MSG_MAX], alone[SAX_MSG_MAX];
	struct sax_keys k;
	struct buf b;

	keys_init(&k);
	msg_init(&m, SAX_REQUEST);
	buf_init_write(&b, out, sizeof(out));
	ck_assert_int_eq(buf_put_u32(&b, 0xdeadbeef), BUF_OK);
	ck_assert_int_eq(sax_build_iv(&b, &m, &k, iv_vec), SAX_E_OK);
	ck_assert_uint_eq(buf_used(&b), 4 + REQ_LEN);
	ck_assert_uint_eq(build(&m, &k, alone), REQ_LEN);
	ck_assert_mem_eq(out + 4, alone, REQ_LEN);
	ck_assert_int_eq(parse(out + 4, REQ_LEN, &k, &got), SAX_E_OK);
	request_eq(&m.req, &got.req);
}
END_TEST

/* ---- the store ---- */

START_TEST(test_store_role)
{
	static struct sax_msg m, put, got, ans;
	static uint8_t msg[SAX_MSG_MAX], out[SAX_MSG_MAX];
	struct sax_keys k, store;
	size_t len, len2;
	struct buf b;

	keys_init(&k);
	store = store_keys(&k);
	msg_init(&m, SAX_STORE_PUT);
	m.has_record = true;
	vector_record(&m.rec);
	len = build(&m, &k, msg);
	ck_assert_uint_eq(len, 591);

	/* the store checks the HMAC and keeps the Sealed field it cannot open */
	ck_assert_int_eq(parse(msg, len, &store, &put), SAX_E_OK);
	header_eq(&m, &put);
	ck_assert_int_eq(put.has_record, true);
	ck_assert_ptr_eq(put.sealed, msg + 58);
	ck_assert_uint_eq(put.sealed_len, 501);
	ck_assert_mem_eq(put.sealed, msg + 58, 501);
	ck_assert(all_zero(&put.rec, sizeof(put.rec)));

	/* later it answers a STORE_GET with a RECORD of its own around that field */
	ans = put;
	ans.type = SAX_RECORD;
	ans.timestamp_ms = TS + 60000;
	ans.nonce[0] ^= 0xff;
	ans.sender = ip("198.18.3.2");
	buf_init_write(&b, out, sizeof(out));
	ck_assert_int_eq(sax_build(&b, &ans, &store), SAX_E_OK);
	len2 = buf_used(&b);
	ck_assert_uint_eq(len2, 591);
	ck_assert_mem_eq(out + 58, msg + 58, 501);
	ck_assert_int_eq(sax_parse(out, len2, &k, TS + 60000, WINDOW, NULL, &got), SAX_E_OK);
	ck_assert_uint_eq(got.type, SAX_RECORD);
	ck_assert_uint_eq(got.sender.s_addr, ip("198.18.3.2").s_addr);
	record_eq(&m.rec, &got.rec);
	/* the same without has_record: the field alone */
	ans.has_record = false;
	buf_init_write(&b, out, sizeof(out));
	ck_assert_int_eq(sax_build(&b, &ans, &store), SAX_E_OK);
	ck_assert_int_eq(sax_parse(out, buf_used(&b), &k, TS + 60000, WINDOW, NULL, &got),
			 SAX_E_OK);
	record_eq(&m.rec, &got.rec);

	/* a store that moves the field to another node, or extends its life, is caught */
	ans.mn_id[0] = 'x';
	buf_init_write(&b, out, sizeof(out));
	ck_assert_int_eq(sax_build(&b, &ans, &store), SAX_E_OK);
	ck_assert_int_eq(sax_parse(out, buf_used(&b), &k, TS + 60000, WINDOW, NULL, &got),
			 SAX_E_SEALED);
	ck_assert(all_zero(&got.rec, sizeof(got.rec)));
	ans.mn_id[0] = 'm';
	ans.expires_ms += 1;
	buf_init_write(&b, out, sizeof(out));
	ck_assert_int_eq(sax_build(&b, &ans, &store), SAX_E_OK);
	ck_assert_int_eq(sax_parse(out, buf_used(&b), &k, TS + 60000, WINDOW, NULL, &got),
			 SAX_E_SEALED);

	/* a Sealed field of the wrong size cannot be copied */
	ans.expires_ms -= 1;
	ans.sealed_len = SAX_SEALED_MIN - 1;
	buf_init_write(&b, out, sizeof(out));
	ck_assert_int_eq(sax_build(&b, &ans, &store), SAX_E_ATTR);
	ck_assert_uint_eq(buf_used(&b), 0);
	ans.sealed_len = SAX_SEALED_MAX + 1;
	ck_assert_int_eq(sax_build(&b, &ans, &store), SAX_E_ATTR);
	/* nor can a store without K_SA seal a record */
	ans.sealed = NULL;
	ans.sealed_len = 0;
	ans.has_record = true;
	ck_assert_int_eq(sax_build(&b, &ans, &store), SAX_E_ATTR);
	ck_assert_int_eq(sax_build_raw(&b, &ans, &store, iv_vec, msg, 10), SAX_E_ATTR);
}
END_TEST

/*
 * A STORE_DEL between FAs carries the registration whose hand-over it
 * confirms, sealed as a REQUEST's; one to the store carries none (Sealed
 * length 0, as before).  Only a STORE_DEL (and the RELEASED that answers it:
 * test_released_top) may carry one, and only sealed
 * under K_SA; a Sealed length short of IV and tag is refused in any
 * STORE_DEL; the store authenticates one without opening it.
 */
START_TEST(test_store_del_registration)
{
	static const uint8_t others[] = {SAX_REFUSED, SAX_STORE_GET, SAX_STORE_ACK};
	static struct sax_msg m, got;
	static uint8_t msg[SAX_MSG_MAX], cut[SAX_MSG_MAX];
	struct sax_keys k, store;
	struct buf b;
	size_t len;

	keys_init(&k);
	store = store_keys(&k);
	msg_init(&m, SAX_REQUEST); /* its registration */
	m.type = SAX_STORE_DEL;
	len = build(&m, &k, msg);
	ck_assert_uint_eq(len, REQ_LEN);
	ck_assert_int_eq(parse(msg, len, &k, &got), SAX_E_OK);
	ck_assert_uint_eq(got.type, SAX_STORE_DEL);
	ck_assert_uint_eq(got.sealed_len, REQ_SEALED);
	request_eq(&m.req, &got.req);
	ck_assert_int_eq(got.has_record, false);
	/* the store: authenticated, left sealed */
	ck_assert_int_eq(parse(msg, len, &store, &got), SAX_E_OK);
	ck_assert_uint_eq(got.sealed_len, REQ_SEALED);
	ck_assert(all_zero(&got.req, sizeof(got.req)));

	/* none: as to the store */
	m.req.reg_len = 0;
	len = build(&m, &k, msg);
	ck_assert_uint_eq(len, PLAIN_LEN);
	ck_assert_int_eq(parse(msg, len, &k, &got), SAX_E_OK);
	ck_assert_uint_eq(got.sealed_len, 0);
	ck_assert_uint_eq(got.req.reg_len, 0);
	/* a Sealed length of 1..27 (short of IV and tag): refused before the HMAC */
	for (size_t n = 1; n < SAX_SEALED_MIN; n += 13) {
		memcpy(cut, msg, 56);
		cut[56] = 0;
		cut[57] = (uint8_t)n;
		memset(cut + 58, 0x5a, n + SAX_MAC_LEN);
		ck_assert_int_eq(parse(cut, 58 + n + SAX_MAC_LEN, &k, &got), SAX_E_ATTR);
	}

	/* a registration to seal: only K_SA can, only in a STORE_DEL (or a REQUEST) */
	msg_init(&m, SAX_REQUEST);
	m.type = SAX_STORE_DEL;
	buf_init_write(&b, msg, sizeof(msg));
	ck_assert_int_eq(sax_build(&b, &m, &store), SAX_E_ATTR);
	ck_assert_uint_eq(buf_used(&b), 0);
	for (size_t i = 0; i < sizeof(others); i++) {
		m.type = others[i];
		m.flags =
			others[i] == SAX_REFUSED || others[i] == SAX_STORE_ACK ? SAX_R_UNKNOWN : 0;
		buf_init_write(&b, msg, sizeof(msg));
		ck_assert_msg(sax_build(&b, &m, &k) == SAX_E_ATTR, "type %u", others[i]);
	}
}
END_TEST

/*
 * The RELEASED that answers a confirmation: the confirmation's
 * registration back and the previous FA's last sequence number (12 bytes
 * more: an optional TLV), sealed; without a top, the registration alone;
 * neither, as before.  A top without a registration is refused by the
 * builder, and a receiver without K_SA leaves it sealed.
 */
START_TEST(test_released_top)
{
	static struct sax_msg m, got;
	static uint8_t msg[SAX_MSG_MAX];
	struct sax_keys k, store;
	struct buf b;
	size_t len;

	keys_init(&k);
	store = store_keys(&k);
	msg_init(&m, SAX_REQUEST); /* its registration */
	m.type = SAX_RELEASED;
	m.req.seq_top = 0x123456789aULL;
	len = build(&m, &k, msg);
	ck_assert_uint_eq(len, REQ_LEN + 12);
	ck_assert_int_eq(parse(msg, len, &k, &got), SAX_E_OK);
	ck_assert_uint_eq(got.type, SAX_RELEASED);
	request_eq(&m.req, &got.req);
	ck_assert_int_eq(parse(msg, len, &store, &got), SAX_E_OK);
	ck_assert_uint_eq(got.req.seq_top, 0);
	/* the registration alone */
	m.req.seq_top = 0;
	len = build(&m, &k, msg);
	ck_assert_uint_eq(len, REQ_LEN);
	ck_assert_int_eq(parse(msg, len, &k, &got), SAX_E_OK);
	request_eq(&m.req, &got.req);
	/* neither */
	m.req.reg_len = 0;
	len = build(&m, &k, msg);
	ck_assert_uint_eq(len, PLAIN_LEN);
	ck_assert_int_eq(parse(msg, len, &k, &got), SAX_E_OK);
	ck_assert_uint_eq(got.req.seq_top, 0);
	/* a top needs the registration it answers */
	m.req.seq_top = 7;
	buf_init_write(&b, msg, sizeof(msg));
	ck_assert_int_eq(sax_build(&b, &m, &k), SAX_E_ATTR);
	ck_assert_uint_eq(buf_used(&b), 0);
	m.type = SAX_STORE_GET;
	ck_assert_int_eq(sax_build(&b, &m, &k), SAX_E_ATTR);
}
END_TEST

/*
 * A REQUEST to a receiver without K_SA: authenticated, its registration
 * left sealed.  A K_DB holder can pass the Sealed field on as it is, but
 * can neither change it nor move it to another node unnoticed by an FA.
 */
START_TEST(test_request_store_role)
{
	static struct sax_msg m, got, ans;
	static uint8_t msg[SAX_MSG_MAX], out[SAX_MSG_MAX], tampered[REQ_SEALED];
	struct sax_keys k, store;
	struct buf b;
	size_t len;

	keys_init(&k);
	store = store_keys(&k);
	msg_init(&m, SAX_REQUEST);
	len = build(&m, &k, msg);
	ck_assert_uint_eq(len, REQ_LEN);

	/* authenticated, not opened: the Sealed field points into the message */
	ck_assert_int_eq(parse(msg, len, &store, &got), SAX_E_OK);
	header_eq(&m, &got);
	ck_assert_int_eq(got.has_record, false);
	ck_assert_ptr_eq(got.sealed, msg + 58);
	ck_assert_uint_eq(got.sealed_len, REQ_SEALED);
	ck_assert(all_zero(&got.req, sizeof(got.req)));
	ck_assert(all_zero(&got.rec, sizeof(got.rec)));
	/* still under the HMAC: the IV, the ciphertext and the tag */
	for (size_t i = 58; i < len - SAX_MAC_LEN; i += 40) {
		msg[i] ^= 0x01;
		ck_assert_msg(parse(msg, len, &store, &got) == SAX_E_MAC, "byte %zu", i);
		msg[i] ^= 0x01;
	}

	/* passed on as it is (no K_SA, m->sealed copied): the same bytes, which open */
	ans = got;
	buf_init_write(&b, out, sizeof(out));
	ck_assert_int_eq(sax_build(&b, &ans, &store), SAX_E_OK);
	ck_assert_uint_eq(buf_used(&b), len);
	ck_assert_mem_eq(out, msg, len);
	ck_assert_int_eq(parse(out, len, &k, &got), SAX_E_OK);
	request_eq(&m.req, &got.req);

	/* changed, with a fresh HMAC under K_DB: GCM refuses it, nothing is given out */
	memcpy(tampered, msg + 58, REQ_SEALED);
	tampered[12 + 4 + 40] ^= 0x01; /* a byte of the registration */
	ans.sealed = tampered;
	buf_init_write(&b, out, sizeof(out));
	ck_assert_int_eq(sax_build(&b, &ans, &store), SAX_E_OK);
	ck_assert_int_eq(parse(out, buf_used(&b), &store, &got), SAX_E_OK);
	ck_assert_int_eq(parse(out, buf_used(&b), &k, &got), SAX_E_SEALED);
	ck_assert(all_zero(&got.req, sizeof(got.req)));
	/* moved to another node */
	ans.sealed = msg + 58;
	ans.mn_id[0] = 'x';
	buf_init_write(&b, out, sizeof(out));
	ck_assert_int_eq(sax_build(&b, &ans, &store), SAX_E_OK);
	ck_assert_int_eq(parse(out, buf_used(&b), &k, &got), SAX_E_SEALED);
	ck_assert(all_zero(&got.req, sizeof(got.req)));

	/* with K_SA the registration is sealed afresh: a Sealed field given is not copied */
	msg_init(&ans, SAX_REQUEST);
	ans.sealed = tampered;
	ans.sealed_len = sizeof(tampered);
	ck_assert_uint_eq(build(&ans, &k, out), REQ_LEN);
	ck_assert_mem_eq(out, msg, REQ_LEN);
	/* without K_SA and without a Sealed field to copy there is nothing to send */
	ans.sealed = NULL;
	ans.sealed_len = 0;
	buf_init_write(&b, out, sizeof(out));
	ck_assert_int_eq(sax_build(&b, &ans, &store), SAX_E_ATTR);
	ck_assert_int_eq(sax_build_raw(&b, &ans, &store, iv_vec, msg, 10), SAX_E_ATTR);
	/* nor can one of the wrong size be copied */
	ans.sealed = tampered;
	ans.sealed_len = SAX_SEALED_MIN - 1;
	ck_assert_int_eq(sax_build(&b, &ans, &store), SAX_E_ATTR);
	ans.sealed_len = SAX_SEALED_MAX + 1;
	ck_assert_int_eq(sax_build(&b, &ans, &store), SAX_E_ATTR);
	ck_assert_uint_eq(buf_used(&b), 0);
}
END_TEST

/* ---- corruption ---- */

/* The types with a Sealed field: the record's, or a REQUEST's registration. */
static bool has_sealed(uint8_t type)
{
	return type == SAX_REQUEST || type == SAX_RECORD || type == SAX_STORE_PUT ||
	       type == SAX_OFFER;
}

/* A type whose Sealed field may also be empty: STORE_DEL, RELEASED (test_released_top). */
static bool may_seal(uint8_t type)
{
	return has_sealed(type) || type == SAX_STORE_DEL || type == SAX_RELEASED;
}

static bool has_reason(uint8_t type)
{
	return type == SAX_REFUSED || type == SAX_STORE_ACK;
}

/*
 * The error a flip of byte i (xor mask) must give, from the check order in
 * doc/sa-transfer.md: structure (in wire order), then the HMAC.  msg is
 * the message as built (len bytes), type its type.
 */
static enum sax_err flip_expect(uint8_t type, uint16_t flags, size_t i, uint8_t mask,
				const uint8_t *msg, size_t len)
{
	uint8_t t2;
	size_t was, now;

	if (i == 0)
		return SAX_E_VERSION;
	if (i == 1) {
		t2 = type ^ mask;
		if (t2 == 0 || t2 >= SAX_TYPE_MAX)
			return SAX_E_TYPE;
		if (flags != 0 && !has_reason(t2))
			return SAX_E_ATTR; /* a reason where none belongs */
		if (((msg[56] | msg[57]) != 0) ? !may_seal(t2) : has_sealed(t2))
			return SAX_E_ATTR; /* the Sealed length is wrong for the new type */
		return SAX_E_MAC;
	}
	if (i == 2 || i == 3)
		return has_reason(type) ? SAX_E_MAC : SAX_E_ATTR;
	if (i == 40) {
		/* MN ID 14 bytes: the Sealed length is then 't' and the old length's high byte */
		ck_assert_uint_eq(mask, 0x01);
		ck_assert_uint_eq(msg[55], 't');
		return SAX_E_ATTR; /* 0x74xx: beyond SAX_SEALED_MAX, and not 0 */
	}
	if (i == 56 || i == 57) {
		was = (size_t)msg[56] << 8 | msg[57];
		now = was ^ (i == 56 ? (size_t)mask << 8 : mask);
		if (!may_seal(type) || now < SAX_SEALED_MIN || now > SAX_SEALED_MAX)
			return SAX_E_ATTR; /* not 0, or out of range */
		/* longer: the HMAC runs past the end; shorter: bytes left over */
		return 58 + now + SAX_MAC_LEN > len ? SAX_E_TRUNCATED : SAX_E_TRAILING;
	}
	return SAX_E_MAC;
}

START_TEST(test_flip_every_byte)
{
	static const uint8_t types[] = {SAX_REQUEST,   SAX_RECORD,   SAX_REFUSED, SAX_STORE_PUT,
					SAX_STORE_ACK, SAX_RELEASED, SAX_OFFER};
	static const uint8_t masks[] = {0x01, 0x80, 0xff};
	uint8_t type = types[_i];
	static struct sax_msg m, got;
	static uint8_t msg[SAX_MSG_MAX];
	struct sax_keys k;
	size_t len, n_mac = 0, n_trunc = 0, n_trail = 0;

	keys_init(&k);
	msg_init(&m, type);
	m.flags = has_reason(type) ? SAX_R_UNKNOWN : 0;
	m.has_record = type == SAX_RECORD || type == SAX_STORE_PUT || type == SAX_OFFER;
	vector_record(&m.rec);
	if (!m.has_record)
		memset(&m.rec, 0, sizeof(m.rec));
	len = build(&m, &k, msg);
	ck_assert_uint_eq(len, m.has_record ? REC_LEN : type == SAX_REQUEST ? REQ_LEN : PLAIN_LEN);
	for (size_t mi = 0; mi < sizeof(masks); mi++) {
		for (size_t i = 0; i < len; i++) {
			enum sax_err want;

			/* the MN ID length is checked with the mask the expectation knows */
			if (masks[mi] != 0x01 && i == 40)
				continue;
			want = flip_expect(type, m.flags, i, masks[mi], msg, len);
			msg[i] ^= masks[mi];
			ck_assert_msg(parse(msg, len, &k, &got) == want,
				      "type %u byte %zu mask %02x: %s, expected %s", type, i,
				      masks[mi], sax_err_name(parse(msg, len, &k, &got)),
				      sax_err_name(want));
			ck_assert(all_zero(&got.rec, sizeof(got.rec)));
			ck_assert(all_zero(&got.req, sizeof(got.req)));
			msg[i] ^= masks[mi];
			n_mac += want == SAX_E_MAC;
			n_trunc += want == SAX_E_TRUNCATED;
			n_trail += want == SAX_E_TRAILING;
		}
	}
	/*
	 * Every byte from the timestamp on but the three length bytes (and the
	 * flags of a reason) went to the HMAC check, with each of the three
	 * masks; one type flip did (OFFER ^ 0x01: a RELEASED, which may have a
	 * Sealed field), the others land on a check before it.
	 */
	ck_assert_uint_eq(n_mac,
			  3 * (len - 7) + (has_reason(type) ? 6 : 0) + (type == SAX_OFFER ? 1 : 0));
	/*
	 * A Sealed length made shorter leaves bytes over, a longer one runs
	 * past the end: the low byte's three flips (a record 501: 500, 373, 266;
	 * REQUEST 175: 174, 47, 80) and the high byte's 0x01 (RECORD: 245;
	 * REQUEST: 431).  A RELEASED without one (0) made 256, 128 or 255
	 * runs past the end.
	 */
	ck_assert_uint_eq(n_trail, m.has_record ? 4 : type == SAX_REQUEST ? 3 : 0);
	ck_assert_uint_eq(n_trunc, type == SAX_REQUEST ? 1 : type == SAX_RELEASED ? 3 : 0);
	ck_assert_int_eq(parse(msg, len, &k, &got), SAX_E_OK);
}
END_TEST

START_TEST(test_other_k_db)
{
	static struct sax_msg m, got;
	static uint8_t msg[SAX_MSG_MAX];
	struct sax_keys k, other;
	size_t len;

	keys_init(&k);
	other = k;
	other.k_db[31] ^= 0x01;
	msg_init(&m, SAX_RECORD);
	m.has_record = true;
	vector_record(&m.rec);
	len = build(&m, &other, msg);
	ck_assert_int_eq(parse(msg, len, &k, &got), SAX_E_MAC);
	ck_assert(all_zero(&got.rec, sizeof(got.rec)));
	ck_assert_int_eq(parse(msg, len, &other, &got), SAX_E_OK);
	msg_init(&m, SAX_STORE_DEL);
	len = build(&m, &other, msg);
	ck_assert_int_eq(parse(msg, len, &k, &got), SAX_E_MAC);
}
END_TEST

START_TEST(test_wrong_k_sa)
{
	static const uint8_t types[] = {SAX_RECORD, SAX_REQUEST};
	static struct sax_msg m, got;
	static uint8_t msg[SAX_MSG_MAX];
	struct sax_keys k, other;
	struct sax_replay *rc = sax_replay_new(16, WINDOW);
	size_t len;

	keys_init(&k);
	other = k;
	other.k_sa[0] ^= 0x80;
	for (size_t i = 0; i < sizeof(types); i++) {
		msg_init(&m, types[i]);
		m.has_record = types[i] == SAX_RECORD;
		if (m.has_record)
			vector_record(&m.rec);
		len = build(&m, &other, msg);
		ck_assert_int_eq(sax_parse(msg, len, &k, TS, WINDOW, rc, &got), SAX_E_SEALED);
		ck_assert(all_zero(&got.rec, sizeof(got.rec)));
		ck_assert(all_zero(&got.req, sizeof(got.req)));
		/* a message that did not open is not remembered */
		ck_assert_uint_eq(sax_replay_size(rc), i);
		ck_assert_int_eq(sax_parse(msg, len, &other, TS, WINDOW, rc, &got), SAX_E_OK);
		ck_assert_uint_eq(sax_replay_size(rc), i + 1);
		request_eq(&m.req, &got.req);
		sax_record_wipe(&got.rec);
	}
	sax_replay_free(rc);
}
END_TEST

/* ---- freshness ---- */

START_TEST(test_stale)
{
	static struct sax_msg m, got;
	static uint8_t msg[SAX_MSG_MAX], rec[SAX_MSG_MAX];
	struct sax_keys k;
	size_t len, rlen;

	keys_init(&k);
	msg_init(&m, SAX_REQUEST);
	len = build(&m, &k, msg);
	ck_assert_int_eq(sax_parse(msg, len, &k, TS, WINDOW, NULL, &got), SAX_E_OK);
	/* the receiver's clock ahead: the message is old */
	ck_assert_int_eq(sax_parse(msg, len, &k, TS + WINDOW, WINDOW, NULL, &got), SAX_E_OK);
	ck_assert_int_eq(sax_parse(msg, len, &k, TS + WINDOW + 1, WINDOW, NULL, &got), SAX_E_STALE);
	/* the receiver's clock behind: the message is from the future */
	ck_assert_int_eq(sax_parse(msg, len, &k, TS - WINDOW, WINDOW, NULL, &got), SAX_E_OK);
	ck_assert_int_eq(sax_parse(msg, len, &k, TS - WINDOW - 1, WINDOW, NULL, &got), SAX_E_STALE);
	/* a window of 1 ms */
	ck_assert_int_eq(sax_parse(msg, len, &k, TS + 1, 1, NULL, &got), SAX_E_OK);
	ck_assert_int_eq(sax_parse(msg, len, &k, TS + 2, 1, NULL, &got), SAX_E_STALE);
	ck_assert_int_eq(sax_parse(msg, len, &k, TS - 2, 1, NULL, &got), SAX_E_STALE);
	/* near the ends of the clock: no wrap-around */
	ck_assert_int_eq(sax_parse(msg, len, &k, 0, WINDOW, NULL, &got), SAX_E_STALE);
	ck_assert_int_eq(sax_parse(msg, len, &k, UINT64_MAX, WINDOW, NULL, &got), SAX_E_STALE);
	/* window 0: no timestamp check, but Expires must be ahead (a REQUEST has none) */
	ck_assert_int_eq(sax_parse(msg, len, &k, TS + 86400000, 0, NULL, &got), SAX_E_STALE);

	msg_init(&m, SAX_RECORD);
	m.has_record = true;
	vector_record(&m.rec);
	rlen = build(&m, &k, rec);
	ck_assert_int_eq(sax_parse(rec, rlen, &k, EXPIRES - 1, 0, NULL, &got), SAX_E_OK);
	record_eq(&m.rec, &got.rec);
	ck_assert_int_eq(sax_parse(rec, rlen, &k, EXPIRES, 0, NULL, &got), SAX_E_STALE);
	ck_assert_int_eq(sax_parse(rec, rlen, &k, 0, 0, NULL, &got), SAX_E_OK);
	/* with a window, a given Expires must be ahead as well */
	m.expires_ms = TS + 10;
	rlen = build(&m, &k, rec);
	ck_assert_int_eq(sax_parse(rec, rlen, &k, TS + 9, WINDOW, NULL, &got), SAX_E_OK);
	ck_assert_int_eq(sax_parse(rec, rlen, &k, TS + 10, WINDOW, NULL, &got), SAX_E_STALE);
	ck_assert(all_zero(&got.rec, sizeof(got.rec)));
	/* a forged timestamp is a MAC failure first */
	msg[11] ^= 1;
	ck_assert_int_eq(sax_parse(msg, len, &k, 0, WINDOW, NULL, &got), SAX_E_MAC);
}
END_TEST

/* ---- replay ---- */

START_TEST(test_replay_parse)
{
	static struct sax_msg m, got;
	static uint8_t msg[SAX_MSG_MAX], other[SAX_MSG_MAX], bad[SAX_MSG_MAX];
	struct sax_replay *rc = sax_replay_new(64, WINDOW);
	struct sax_keys k;
	size_t len, olen;

	keys_init(&k);
	msg_init(&m, SAX_RECORD);
	m.has_record = true;
	vector_record(&m.rec);
	len = build(&m, &k, msg);
	/* a copy with a bad HMAC, a stale one: neither enters the cache */
	memcpy(bad, msg, len);
	bad[len - 1] ^= 1;
	ck_assert_int_eq(sax_parse(bad, len, &k, TS, WINDOW, rc, &got), SAX_E_MAC);
	ck_assert_int_eq(sax_parse(msg, len, &k, TS + WINDOW + 1, WINDOW, rc, &got), SAX_E_STALE);
	ck_assert_uint_eq(sax_replay_size(rc), 0);
	/* first time fine, second time a replay */
	ck_assert_int_eq(sax_parse(msg, len, &k, TS, WINDOW, rc, &got), SAX_E_OK);
	record_eq(&m.rec, &got.rec);
	ck_assert_uint_eq(sax_replay_size(rc), 1);
	ck_assert_int_eq(sax_parse(msg, len, &k, TS + 1000, WINDOW, rc, &got), SAX_E_REPLAY);
	ck_assert(all_zero(&got.rec, sizeof(got.rec)));
	ck_assert_uint_eq(sax_replay_size(rc), 1);
	/* the same nonce from another sender is another message */
	m.sender = ip("198.18.1.3");
	olen = build(&m, &k, other);
	ck_assert_int_eq(sax_parse(other, olen, &k, TS, WINDOW, rc, &got), SAX_E_OK);
	ck_assert_uint_eq(sax_replay_size(rc), 2);
	ck_assert_int_eq(sax_parse(other, olen, &k, TS, WINDOW, rc, &got), SAX_E_REPLAY);
	/* once the window has passed the replay is stale, never accepted */
	ck_assert_int_eq(sax_parse(msg, len, &k, TS + WINDOW + 1, WINDOW, rc, &got), SAX_E_STALE);
	/* the store role checks replays too */
	k.have_k_sa = false;
	ck_assert_int_eq(sax_parse(msg, len, &k, TS, WINDOW, rc, &got), SAX_E_REPLAY);
	/* a REQUEST replayed: opened before the cache refused it, its registration is wiped */
	k.have_k_sa = true;
	msg_init(&m, SAX_REQUEST);
	len = build(&m, &k, msg);
	ck_assert_int_eq(sax_parse(msg, len, &k, TS, WINDOW, rc, &got), SAX_E_OK);
	request_eq(&m.req, &got.req);
	ck_assert_int_eq(sax_parse(msg, len, &k, TS, WINDOW, rc, &got), SAX_E_REPLAY);
	ck_assert(all_zero(&got.req, sizeof(got.req)));
	sax_record_wipe(&got.rec);
	sax_replay_free(rc);
}
END_TEST

static void nonce_n(uint8_t nonce[SAX_NONCE_LEN], uint32_t n)
{
	memset(nonce, 0x5a, SAX_NONCE_LEN);
	nonce[12] = (uint8_t)(n >> 24);
	nonce[13] = (uint8_t)(n >> 16);
	nonce[14] = (uint8_t)(n >> 8);
	nonce[15] = (uint8_t)n;
}

/*
 * A flood of authentic messages (a member's, or replays of them) within
 * the window: the cache holds max_entries at most, the oldest making way
 * (a ring), the newest still caught as replays.  Its memory is fixed at
 * sax_replay_new.
 */
START_TEST(test_replay_bounded)
{
	struct sax_replay *rc = sax_replay_new(4, WINDOW);
	struct in_addr s = ip("198.18.1.2");
	uint8_t n[SAX_NONCE_LEN];

	for (uint32_t i = 0; i < 100; i++) {
		nonce_n(n, i);
		ck_assert_int_eq(sax_replay_check(rc, s, n, TS, TS), SAX_E_OK);
		ck_assert_uint_le(sax_replay_size(rc), 4);
	}
	ck_assert_uint_eq(sax_replay_size(rc), 4);
	for (uint32_t i = 96; i < 100; i++) {
		nonce_n(n, i);
		ck_assert_int_eq(sax_replay_check(rc, s, n, TS, TS), SAX_E_REPLAY);
	}
	sax_replay_free(rc);
}
END_TEST

START_TEST(test_replay_age)
{
	struct sax_replay *rc = sax_replay_new(8, 1000);
	struct in_addr s = ip("198.18.1.2");
	uint8_t a[SAX_NONCE_LEN], b[SAX_NONCE_LEN];

	nonce_n(a, 1);
	nonce_n(b, 2);
	ck_assert_int_eq(sax_replay_check(rc, s, a, 1000, 1000), SAX_E_OK);
	ck_assert_int_eq(sax_replay_check(rc, s, a, 1000, 2000), SAX_E_REPLAY);
	ck_assert_uint_eq(sax_replay_size(rc), 1);
	/* 1001 ms after its timestamp the entry has gone (a message that old is stale) */
	ck_assert_int_eq(sax_replay_check(rc, s, b, 2001, 2001), SAX_E_OK);
	ck_assert_uint_eq(sax_replay_size(rc), 1);
	ck_assert_int_eq(sax_replay_check(rc, s, a, 1000, 2001), SAX_E_OK);
	ck_assert_uint_eq(sax_replay_size(rc), 2);

	/* an entry behind a younger one in the ring ages out all the same */
	sax_replay_free(rc);
	rc = sax_replay_new(8, 1000);
	ck_assert_int_eq(sax_replay_check(rc, s, a, 5000, 1000), SAX_E_OK); /* from the future */
	ck_assert_int_eq(sax_replay_check(rc, s, b, 1000, 1000), SAX_E_OK);
	ck_assert_int_eq(sax_replay_check(rc, s, b, 1000, 2000), SAX_E_REPLAY);
	ck_assert_int_eq(sax_replay_check(rc, s, b, 1000, 2001), SAX_E_OK);
	ck_assert_uint_eq(sax_replay_size(rc), 2);
	ck_assert_int_eq(sax_replay_check(rc, s, a, 5000, 6000), SAX_E_REPLAY);
	ck_assert_int_eq(sax_replay_check(rc, s, a, 5000, 6001), SAX_E_OK);
	ck_assert_uint_eq(sax_replay_size(rc), 1); /* b (ts 1000) has aged out meanwhile */
	/* everything ages out together */
	ck_assert_int_eq(sax_replay_check(rc, s, b, 9000, 9000), SAX_E_OK);
	ck_assert_uint_eq(sax_replay_size(rc), 1);
	sax_replay_free(rc);

	/* window 0: entries leave only when the cache is full */
	rc = sax_replay_new(2, 0);
	ck_assert_int_eq(sax_replay_check(rc, s, a, 0, 0), SAX_E_OK);
	ck_assert_int_eq(sax_replay_check(rc, s, a, 0, UINT64_MAX), SAX_E_REPLAY);
	sax_replay_free(rc);
}
END_TEST

START_TEST(test_replay_capacity)
{
	struct sax_replay *rc = sax_replay_new(4, 60000);
	struct in_addr s = ip("198.18.1.2");
	uint8_t n[SAX_NONCE_LEN];

	for (uint32_t i = 0; i < 5; i++) {
		nonce_n(n, i);
		ck_assert_int_eq(sax_replay_check(rc, s, n, 1000 + i, 1000 + i), SAX_E_OK);
		ck_assert_uint_eq(sax_replay_size(rc), i < 4 ? i + 1 : 4);
	}
	/* the oldest (0) went when the fifth came; 1..4 are remembered */
	for (uint32_t i = 1; i < 5; i++) {
		nonce_n(n, i);
		ck_assert_int_eq(sax_replay_check(rc, s, n, 1000 + i, 1010), SAX_E_REPLAY);
	}
	nonce_n(n, 0);
	ck_assert_int_eq(sax_replay_check(rc, s, n, 1000, 1010), SAX_E_OK); /* pushes out 1 */
	nonce_n(n, 1);
	ck_assert_int_eq(sax_replay_check(rc, s, n, 1001, 1010), SAX_E_OK);
	ck_assert_uint_eq(sax_replay_size(rc), 4);
	sax_replay_free(rc);

	ck_assert_ptr_null(sax_replay_new(0, 1000));
	ck_assert_ptr_null(sax_replay_new((size_t)1 << 30, 1000));
	sax_replay_free(NULL);
}
END_TEST

/* Many entries through a small cache: the last `cap` are remembered, the others not. */
START_TEST(test_replay_many)
{
	const uint32_t cap = 1000, total = 20000;
	struct sax_replay *rc = sax_replay_new(cap, 60000);
	struct in_addr s[3] = {ip("198.18.1.2"), ip("198.18.1.3"), ip("198.18.1.4")};
	uint8_t n[SAX_NONCE_LEN];
	uint32_t replays = 0;

	for (uint32_t i = 0; i < total; i++) {
		nonce_n(n, i / 3);
		ck_assert_int_eq(sax_replay_check(rc, s[i % 3], n, 1000, 1000), SAX_E_OK);
	}
	ck_assert_uint_eq(sax_replay_size(rc), cap);
	/* the check itself re-remembers: walk from the newest back */
	for (uint32_t i = total; i-- > total - cap;) {
		nonce_n(n, i / 3);
		replays += sax_replay_check(rc, s[i % 3], n, 1000, 1000) == SAX_E_REPLAY;
	}
	ck_assert_uint_eq(replays, cap);
	nonce_n(n, (total - cap - 1) / 3);
	ck_assert_int_eq(sax_replay_check(rc, s[(total - cap - 1) % 3], n, 1000, 1000), SAX_E_OK);
	sax_replay_free(rc);
}
END_TEST

/* ---- structure ---- */

START_TEST(test_truncated_every_length)
{
	static struct sax_msg m, got;
	static uint8_t msg[SAX_MSG_MAX];
	struct sax_keys k;
	size_t len;

	static const uint8_t types[] = {SAX_REQUEST, SAX_RECORD, SAX_RELEASED};

	keys_init(&k);
	for (size_t t = 0; t < sizeof(types); t++) {
		msg_init(&m, types[t]);
		m.has_record = types[t] == SAX_RECORD;
		if (m.has_record)
			vector_record(&m.rec);
		len = build(&m, &k, msg);
		for (size_t n = 0; n < len; n++)
			ck_assert_msg(parse(msg, n, &k, &got) == SAX_E_TRUNCATED, "length %zu: %s",
				      n, sax_err_name(parse(msg, n, &k, &got)));
		ck_assert_int_eq(parse(NULL, 0, &k, &got), SAX_E_TRUNCATED);
		ck_assert_int_eq(parse(msg, len, &k, &got), SAX_E_OK);
	}
}
END_TEST

START_TEST(test_trailing)
{
	static struct sax_msg m, got;
	static uint8_t msg[SAX_MSG_MAX];
	struct sax_keys k;
	size_t len;

	keys_init(&k);
	msg_init(&m, SAX_RECORD);
	m.has_record = true;
	vector_record(&m.rec);
	len = build(&m, &k, msg);
	msg[len] = 0;
	ck_assert_int_eq(parse(msg, len + 1, &k, &got), SAX_E_TRAILING);
	ck_assert_int_eq(parse(msg, len + 100, &k, &got), SAX_E_TRAILING);
	msg_init(&m, SAX_STORE_GET);
	len = build(&m, &k, msg);
	ck_assert_int_eq(parse(msg, len + 1, &k, &got), SAX_E_TRAILING);
	msg_init(&m, SAX_REQUEST);
	len = build(&m, &k, msg);
	ck_assert_int_eq(parse(msg, len + 1, &k, &got), SAX_E_TRAILING);
}
END_TEST

/* A message written out by hand from the layout, with a valid HMAC. */
static size_t hand(uint8_t *out, uint8_t version, uint8_t type, uint16_t flags, const uint8_t *id,
		   size_t id_len, size_t id_len_field, uint16_t sealed_len, size_t sealed_bytes,
		   const struct sax_keys *k)
{
	struct buf b;
	uint8_t *mac;
	size_t outl = 0;
	uint8_t zero[SAX_MSG_MAX] = {0};
	EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(hmac);
	OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
			       OSSL_PARAM_construct_end()};

	buf_init_write(&b, out, SAX_MSG_MAX + 64);
	ck_assert_int_eq(buf_put_u8(&b, version), BUF_OK);
	ck_assert_int_eq(buf_put_u8(&b, type), BUF_OK);
	ck_assert_int_eq(buf_put_u16(&b, flags), BUF_OK);
	ck_assert_int_eq(buf_put_u64(&b, TS), BUF_OK);
	ck_assert_int_eq(buf_put_zero(&b, SAX_NONCE_LEN + 4), BUF_OK);
	ck_assert_int_eq(buf_put_u64(&b, EXPIRES), BUF_OK);
	ck_assert_int_eq(buf_put_u8(&b, (uint8_t)id_len_field), BUF_OK);
	ck_assert_int_eq(buf_put_bytes(&b, id, id_len), BUF_OK);
	ck_assert_int_eq(buf_put_u16(&b, sealed_len), BUF_OK);
	ck_assert_int_eq(buf_put_bytes(&b, zero, sealed_bytes), BUF_OK);
	ck_assert_int_eq(buf_reserve(&b, SAX_MAC_LEN, &mac), BUF_OK);
	ck_assert_int_eq(EVP_MAC_init(ctx, k->k_db, SAX_KEY_LEN, params), 1);
	ck_assert_int_eq(EVP_MAC_update(ctx, out, buf_used(&b) - SAX_MAC_LEN), 1);
	ck_assert_int_eq(EVP_MAC_final(ctx, mac, &outl, SAX_MAC_LEN), 1);
	ck_assert_uint_eq(outl, SAX_MAC_LEN);
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(hmac);
	return buf_used(&b);
}

START_TEST(test_header_values)
{
	static uint8_t msg[SAX_MSG_MAX + 64];
	static struct sax_msg got;
	const uint8_t id[4] = {'a', 0, 'b', 'c'};
	struct sax_keys k;
	size_t len;

	keys_init(&k);
	/* the hand-made message is accepted as far as the structure goes */
	len = hand(msg, 1, SAX_STORE_GET, 0, (const uint8_t *)"abc", 3, 3, 0, 0, &k);
	ck_assert_uint_eq(len, 41 + 3 + 2 + 32);
	ck_assert_int_eq(parse(msg, len, &k, &got), SAX_E_OK);
	ck_assert_str_eq(got.mn_id, "abc");
	len = hand(msg, 1, SAX_RELEASED, 0, (const uint8_t *)"abc", 3, 3, 0, 0, &k);
	ck_assert_int_eq(parse(msg, len, &k, &got), SAX_E_OK);
	ck_assert_uint_eq(got.type, SAX_RELEASED);
	/* 28 zero bytes in a Sealed field: the store keeps them, an FA cannot open them */
	len = hand(msg, 1, SAX_STORE_PUT, 0, (const uint8_t *)"abc", 3, 3, 28, 28, &k);
	ck_assert_int_eq(parse(msg, len, &k, &got), SAX_E_SEALED);
	len = hand(msg, 1, SAX_REQUEST, 0, (const uint8_t *)"abc", 3, 3, 28, 28, &k);
	ck_assert_int_eq(parse(msg, len, &k, &got), SAX_E_SEALED);
	ck_assert(all_zero(&got.req, sizeof(got.req)));
	k.have_k_sa = false;
	ck_assert_int_eq(parse(msg, len, &k, &got), SAX_E_OK);
	ck_assert_ptr_eq(got.sealed, msg + 41 + 3 + 2);
	len = hand(msg, 1, SAX_STORE_PUT, 0, (const uint8_t *)"abc", 3, 3, 28, 28, &k);
	ck_assert_int_eq(parse(msg, len, &k, &got), SAX_E_OK);
	k.have_k_sa = true;
	/* versions and types */
	len = hand(msg, 0, SAX_STORE_GET, 0, (const uint8_t *)"abc", 3, 3, 0, 0, &k);
	ck_assert_int_eq(parse(msg, len, &k, &got), SAX_E_VERSION);
	len = hand(msg, 2, SAX_STORE_GET, 0, (const uint8_t *)"abc", 3, 3, 0, 0, &k);
	ck_assert_int_eq(parse(msg, len, &k, &got), SAX_E_VERSION);
	ck_assert_int_eq(parse(msg, 1, &k, &got), SAX_E_VERSION);
	len = hand(msg, 1, 0, 0, (const uint8_t *)"abc", 3, 3, 0, 0, &k);
	ck_assert_int_eq(parse(msg, len, &k, &got), SAX_E_TYPE);
	len = hand(msg, 1, SAX_TYPE_MAX, 0, (const uint8_t *)"abc", 3, 3, 0, 0, &k);
	ck_assert_int_eq(parse(msg, len, &k, &got), SAX_E_TYPE);
	ck_assert_int_eq(parse(msg, 2, &k, &got), SAX_E_TYPE);
	ck_assert_uint_eq(SAX_TYPE_MAX, SAX_OFFER + 1);
	/* flags: a reason in REFUSED and STORE_ACK, 0 elsewhere */
	len = hand(msg, 1, SAX_REFUSED, SAX_R_EXPIRED, (const uint8_t *)"abc", 3, 3, 0, 0, &k);
	ck_assert_int_eq(parse(msg, len, &k, &got), SAX_E_OK);
	ck_assert_uint_eq(got.flags, SAX_R_EXPIRED);
	len = hand(msg, 1, SAX_STORE_ACK, 0xffff, (const uint8_t *)"abc", 3, 3, 0, 0, &k);
	ck_assert_int_eq(parse(msg, len, &k, &got), SAX_E_OK);
	ck_assert_uint_eq(got.flags, 0xffff);
	len = hand(msg, 1, SAX_STORE_GET, 1, (const uint8_t *)"abc", 3, 3, 0, 0, &k);
	ck_assert_int_eq(parse(msg, len, &k, &got), SAX_E_ATTR);
	len = hand(msg, 1, SAX_RELEASED, SAX_R_RECLAIMED, (const uint8_t *)"abc", 3, 3, 0, 0, &k);
	ck_assert_int_eq(parse(msg, len, &k, &got), SAX_E_ATTR);
	len = hand(msg, 1, SAX_REQUEST, 0x8000, (const uint8_t *)"abc", 3, 3, 28, 28, &k);
	ck_assert_int_eq(parse(msg, len, &k, &got), SAX_E_ATTR);
	/* MN ID: 1..255 bytes, no NUL */
	len = hand(msg, 1, SAX_STORE_GET, 0, id, 0, 0, 0, 0, &k);
	ck_assert_int_eq(parse(msg, len, &k, &got), SAX_E_ATTR);
	len = hand(msg, 1, SAX_STORE_GET, 0, id, 4, 4, 0, 0, &k);
	ck_assert_int_eq(parse(msg, len, &k, &got), SAX_E_ATTR);
	len = hand(msg, 1, SAX_STORE_GET, 0, (const uint8_t *)"abc", 3, 200, 0, 0, &k);
	ck_assert_int_eq(parse(msg, len, &k, &got), SAX_E_TRUNCATED); /* ID beyond the message */
	/*
	 * Sealed length: 0 in the types without a Sealed field, SAX_SEALED_MIN..MAX
	 * in RECORD, STORE_PUT and REQUEST, within the message
	 */
	len = hand(msg, 1, SAX_STORE_GET, 0, (const uint8_t *)"abc", 3, 3, 28, 28, &k);
	ck_assert_int_eq(parse(msg, len, &k, &got), SAX_E_ATTR);
	len = hand(msg, 1, SAX_STORE_ACK, 0, (const uint8_t *)"abc", 3, 3, 28, 28, &k);
	ck_assert_int_eq(parse(msg, len, &k, &got), SAX_E_ATTR);
	len = hand(msg, 1, SAX_RECORD, 0, (const uint8_t *)"abc", 3, 3, 0, 0, &k);
	ck_assert_int_eq(parse(msg, len, &k, &got), SAX_E_ATTR);
	len = hand(msg, 1, SAX_REQUEST, 0, (const uint8_t *)"abc", 3, 3, 0, 0, &k);
	ck_assert_int_eq(parse(msg, len, &k, &got), SAX_E_ATTR);
	len = hand(msg, 1, SAX_REQUEST, 0, (const uint8_t *)"abc", 3, 3, 27, 27, &k);
	ck_assert_int_eq(parse(msg, len, &k, &got), SAX_E_ATTR);
	len = hand(msg, 1, SAX_REQUEST, 0, (const uint8_t *)"abc", 3, 3, SAX_SEALED_MAX + 1,
		   SAX_SEALED_MAX + 1, &k);
	ck_assert_int_eq(parse(msg, len, &k, &got), SAX_E_ATTR);
	len = hand(msg, 1, SAX_RECORD, 0, (const uint8_t *)"abc", 3, 3, 27, 27, &k);
	ck_assert_int_eq(parse(msg, len, &k, &got), SAX_E_ATTR);
	len = hand(msg, 1, SAX_RECORD, 0, (const uint8_t *)"abc", 3, 3, SAX_SEALED_MAX + 1,
		   SAX_SEALED_MAX + 1, &k);
	ck_assert_int_eq(parse(msg, len, &k, &got), SAX_E_ATTR);
	len = hand(msg, 1, SAX_RECORD, 0, (const uint8_t *)"abc", 3, 3, 100, 60, &k);
	ck_assert_int_eq(parse(msg, len, &k, &got), SAX_E_TRUNCATED); /* beyond the message */
	len = hand(msg, 1, SAX_RECORD, 0, (const uint8_t *)"abc", 3, 3, 28, 60, &k);
	ck_assert_int_eq(parse(msg, len, &k, &got), SAX_E_TRAILING);
	/* the largest message there can be */
	{
		uint8_t big[SAX_ID_MAX];

		memset(big, 'i', sizeof(big));
		len = hand(msg, 1, SAX_RECORD, 0, big, SAX_ID_MAX, SAX_ID_MAX, SAX_SEALED_MAX,
			   SAX_SEALED_MAX, &k);
		ck_assert_uint_eq(len, SAX_MSG_MAX);
		k.have_k_sa = false;
		ck_assert_int_eq(parse(msg, len, &k, &got), SAX_E_OK);
		ck_assert_uint_eq(got.sealed_len, SAX_SEALED_MAX);
		ck_assert_uint_eq(got.mn_id_len, SAX_ID_MAX);
	}
}
END_TEST

START_TEST(test_build_refuses)
{
	static struct sax_msg m;
	static uint8_t out[SAX_MSG_MAX];
	struct sax_keys k;
	struct buf b;

	keys_init(&k);
	buf_init_write(&b, out, sizeof(out));
	msg_init(&m, SAX_REQUEST);
	m.mn_id_len = SAX_ID_MAX + 1; /* oversized MN ID */
	ck_assert_int_eq(sax_build(&b, &m, &k), SAX_E_ATTR);
	m.mn_id_len = 0;
	ck_assert_int_eq(sax_build(&b, &m, &k), SAX_E_ATTR);
	m.mn_id_len = 3;
	m.mn_id[1] = '\0';
	ck_assert_int_eq(sax_build(&b, &m, &k), SAX_E_ATTR);
	msg_init(&m, SAX_REQUEST);
	m.version = 2;
	ck_assert_int_eq(sax_build(&b, &m, &k), SAX_E_VERSION);
	m.version = SAX_VERSION;
	m.type = 0;
	ck_assert_int_eq(sax_build(&b, &m, &k), SAX_E_TYPE);
	m.type = SAX_TYPE_MAX;
	ck_assert_int_eq(sax_build(&b, &m, &k), SAX_E_TYPE);
	m.type = SAX_STORE_DEL;
	m.flags = 1;
	ck_assert_int_eq(sax_build(&b, &m, &k), SAX_E_ATTR);
	m.type = SAX_RELEASED;
	ck_assert_int_eq(sax_build(&b, &m, &k), SAX_E_ATTR);
	m.type = SAX_REQUEST;
	ck_assert_int_eq(sax_build(&b, &m, &k), SAX_E_ATTR);
	/* no Sealed field in a STORE_GET (a STORE_DEL may have one: test_store_del_registration) */
	m.type = SAX_STORE_GET;
	m.flags = 0;
	m.sealed = out;
	m.sealed_len = 28;
	ck_assert_int_eq(sax_build(&b, &m, &k), SAX_E_ATTR);
	ck_assert_int_eq(sax_build_raw(&b, &m, &k, NULL, out, 4), SAX_E_ATTR);
	/* a record where none belongs: in a REQUEST and in the types without a Sealed field */
	msg_init(&m, SAX_REQUEST);
	m.has_record = true;
	vector_record(&m.rec);
	ck_assert_int_eq(sax_build(&b, &m, &k), SAX_E_ATTR);
	m.type = SAX_RELEASED;
	ck_assert_int_eq(sax_build(&b, &m, &k), SAX_E_ATTR);
	ck_assert_uint_eq(buf_used(&b), 0);

	/* record values the parser would refuse */
	msg_init(&m, SAX_RECORD);
	m.has_record = true;
	vector_record(&m.rec);
	m.rec.n_children = SAX_MAX_CHILDREN + 1;
	ck_assert_int_eq(sax_build(&b, &m, &k), SAX_E_ATTR);
	vector_record(&m.rec);
	m.rec.isakmp.hash = 0;
	ck_assert_int_eq(sax_build(&b, &m, &k), SAX_E_ATTR);
	vector_record(&m.rec);
	m.rec.isakmp.hash_len = 33;
	ck_assert_int_eq(sax_build(&b, &m, &k), SAX_E_ATTR);
	vector_record(&m.rec);
	m.rec.children[0].enc_len = 37;
	ck_assert_int_eq(sax_build(&b, &m, &k), SAX_E_ATTR);
	vector_record(&m.rec);
	m.rec.children[0].remote_plen = 33;
	ck_assert_int_eq(sax_build(&b, &m, &k), SAX_E_ATTR);
	vector_record(&m.rec);
	m.rec.children[0].spi_in = 255;
	ck_assert_int_eq(sax_build(&b, &m, &k), SAX_E_ATTR);
	vector_record(&m.rec);
	m.rec.isakmp.key_bits = 129;
	ck_assert_int_eq(sax_build(&b, &m, &k), SAX_E_ATTR);
	ck_assert_uint_eq(buf_used(&b), 0);
	ck_assert(all_zero(out, sizeof(out))); /* what was written is wiped */
	vector_record(&m.rec);
	ck_assert_int_eq(sax_build(&b, &m, &k), SAX_E_OK);
}
END_TEST

/* Every buffer size short of the message: SAX_E_NOSPACE, the buffer left as it was. */
START_TEST(test_nospace)
{
	static const uint8_t types[] = {SAX_RECORD, SAX_REQUEST};
	static struct sax_msg m, got;
	static uint8_t out[SAX_MSG_MAX + 8];
	struct sax_keys k;
	struct buf b;
	size_t len;

	keys_init(&k);
	for (size_t t = 0; t < sizeof(types); t++) {
		msg_init(&m, types[t]);
		m.has_record = types[t] == SAX_RECORD;
		if (m.has_record)
			vector_record(&m.rec);
		len = build(&m, &k, out);
		for (size_t cap = 0; cap < len; cap++) {
			memset(out, 0, sizeof(out));
			buf_init_write(&b, out, cap);
			ck_assert_int_eq(sax_build(&b, &m, &k), SAX_E_NOSPACE);
			ck_assert_uint_eq(buf_used(&b), 0);
			ck_assert(all_zero(out, sizeof(out)));
		}
		buf_init_write(&b, out, len);
		ck_assert_int_eq(sax_build(&b, &m, &k), SAX_E_OK);
		ck_assert_int_eq(parse(out, len, &k, &got), SAX_E_OK);
		request_eq(&m.req, &got.req);
		sax_record_wipe(&got.rec);
	}
}
END_TEST

/* ---- the TLVs inside, through the raw hook ---- */

struct tl {
	uint16_t type;
	uint16_t len;
	uint8_t v[600];
};

struct tlist {
	size_t n;
	struct tl t[32];
};

static void tl_add(struct tlist *l, uint16_t type, const void *v, size_t len)
{
	ck_assert_uint_lt(l->n, 32);
	ck_assert_uint_le(len, sizeof(l->t[0].v));
	l->t[l->n].type = type;
	l->t[l->n].len = (uint16_t)len;
	memcpy(l->t[l->n].v, v, len);
	l->n++;
}

static size_t tl_encode(const struct tlist *l, uint8_t *out)
{
	size_t n = 0;

	for (size_t i = 0; i < l->n; i++) {
		out[n++] = (uint8_t)(l->t[i].type >> 8);
		out[n++] = (uint8_t)l->t[i].type;
		out[n++] = (uint8_t)(l->t[i].len >> 8);
		out[n++] = (uint8_t)l->t[i].len;
		memcpy(out + n, l->t[i].v, l->t[i].len);
		n += l->t[i].len;
	}
	return n;
}

static struct tl *tl_find(struct tlist *l, uint16_t type)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->t[i].type == type)
			return &l->t[i];
	ck_abort_msg("no TLV %u", type);
	return NULL;
}

static void tl_del(struct tlist *l, uint16_t type)
{
	struct tl *t = tl_find(l, type);

	memmove(t, t + 1, (size_t)(&l->t[l->n] - (t + 1)) * sizeof(*t));
	l->n--;
}

/* The vector's TLVs as lists: the record's own (without CHILD) and the child's. */
static void vec_lists(struct tlist *rec, struct tlist *child)
{
	static struct hex pt;
	struct buf b, v;

	hx(vec_plaintext, &pt);
	memset(rec, 0, sizeof(*rec));
	memset(child, 0, sizeof(*child));
	buf_init_read(&b, pt.b, pt.n);
	while (buf_left(&b) > 0) {
		uint16_t type, len;

		ck_assert_int_eq(buf_get_u16(&b, &type), BUF_OK);
		ck_assert_int_eq(buf_get_u16(&b, &len), BUF_OK);
		ck_assert_int_eq(buf_get_child(&b, len, &v), BUF_OK);
		if (type != SAX_T_CHILD) {
			tl_add(rec, type, buf_rptr(&v), len);
			continue;
		}
		while (buf_left(&v) > 0) {
			struct buf w;

			ck_assert_int_eq(buf_get_u16(&v, &type), BUF_OK);
			ck_assert_int_eq(buf_get_u16(&v, &len), BUF_OK);
			ck_assert_int_eq(buf_get_child(&v, len, &w), BUF_OK);
			tl_add(child, type, buf_rptr(&w), len);
		}
	}
	ck_assert_uint_eq(rec->n, 21);
	ck_assert_uint_eq(child->n, 20);
}

/* A message of this type whose Sealed field holds pt[0..n) as its TLVs, parsed with K_SA. */
static enum sax_err try_raw(uint8_t type, const uint8_t *pt, size_t n, struct sax_msg *got)
{
	static uint8_t msg[SAX_MSG_MAX];
	static struct sax_msg m;
	struct sax_keys k;
	struct buf b;

	keys_init(&k);
	msg_init(&m, type);
	buf_init_write(&b, msg, sizeof(msg));
	ck_assert_int_eq(sax_build_raw(&b, &m, &k, NULL, pt, n), SAX_E_OK);
	return parse(msg, buf_used(&b), &k, got);
}

/* Seal rec + n_children copies of child (+ extra bytes) and parse it. */
static enum sax_err try_tlvs(const struct tlist *rec, const struct tlist *child, size_t n_children,
			     const uint8_t *extra, size_t extra_len, struct sax_msg *got)
{
	static uint8_t pt[SAX_MSG_MAX], c[SAX_MSG_MAX];
	size_t n = tl_encode(rec, pt), cn = tl_encode(child, c);

	for (size_t i = 0; i < n_children; i++) {
		pt[n++] = 0;
		pt[n++] = SAX_T_CHILD;
		pt[n++] = (uint8_t)(cn >> 8);
		pt[n++] = (uint8_t)cn;
		memcpy(pt + n, c, cn);
		n += cn;
	}
	if (extra_len > 0)
		memcpy(pt + n, extra, extra_len);
	n += extra_len;
	return try_raw(SAX_RECORD, pt, n, got);
}

/* One TLV of the record (child: false) or of the child set to a value v of len bytes. */
static enum sax_err try_value(bool in_child, uint16_t type, const void *v, size_t len)
{
	static struct tlist rec, child;
	static struct sax_msg got;
	struct tl *t;

	vec_lists(&rec, &child);
	t = tl_find(in_child ? &child : &rec, type);
	t->len = (uint16_t)len;
	memcpy(t->v, v, len);
	return try_tlvs(&rec, &child, 1, NULL, 0, &got);
}

START_TEST(test_tlv_canonical)
{
	static struct tlist rec, child;
	static struct sax_msg got;
	static struct sax_record want;

	vector_record(&want);
	vec_lists(&rec, &child);
	ck_assert_int_eq(try_tlvs(&rec, &child, 1, NULL, 0, &got), SAX_E_OK);
	record_eq(&want, &got.rec);
	/* any order will do */
	{
		struct tl t = rec.t[0];

		memmove(&rec.t[0], &rec.t[1], 20 * sizeof(t));
		rec.t[20] = t;
		t = child.t[19];
		memmove(&child.t[1], &child.t[0], 19 * sizeof(t));
		child.t[0] = t;
	}
	ck_assert_int_eq(try_tlvs(&rec, &child, 1, NULL, 0, &got), SAX_E_OK);
	record_eq(&want, &got.rec);
	/* no child at all, and the most there may be */
	want.n_children = 0;
	memset(want.children, 0, sizeof(want.children));
	ck_assert_int_eq(try_tlvs(&rec, &child, 0, NULL, 0, &got), SAX_E_OK);
	record_eq(&want, &got.rec);
	ck_assert_int_eq(try_tlvs(&rec, &child, SAX_MAX_CHILDREN, NULL, 0, &got), SAX_E_OK);
	ck_assert_uint_eq(got.rec.n_children, SAX_MAX_CHILDREN);
	ck_assert_uint_eq(got.rec.children[3].spi_out, 0xc0000002);
}
END_TEST

START_TEST(test_tlv_framing)
{
	static struct tlist rec, child;
	static struct sax_msg got;
	const uint8_t cut3[3] = {0x80, 0x01, 0x00};
	const uint8_t over[6] = {0x80, 0x01, 0x00, 0x03, 0xaa, 0xbb};
	const uint8_t empty_child[4] = {0x00, SAX_T_CHILD, 0x00, 0x00};
	const uint8_t child_cut[6] = {0x00, SAX_T_CHILD, 0x00, 0x02, 0x00, 0x01};
	const uint8_t child_over[10] = {0x00, SAX_T_CHILD, 0x00, 0x06, 0x00,
					0x01, 0x00,        0x09, 0x00, 0x00};

	vec_lists(&rec, &child);
	/* a TLV header cut short, a value beyond the list: framing, SAX_E_SEALED */
	ck_assert_int_eq(try_tlvs(&rec, &child, 1, cut3, 3, &got), SAX_E_SEALED);
	ck_assert_int_eq(try_tlvs(&rec, &child, 1, cut3, 1, &got), SAX_E_SEALED);
	ck_assert_int_eq(try_tlvs(&rec, &child, 1, over, 6, &got), SAX_E_SEALED);
	ck_assert(all_zero(&got.rec, sizeof(got.rec)));
	/* the same inside a child */
	ck_assert_int_eq(try_tlvs(&rec, &child, 1, child_cut, 6, &got), SAX_E_SEALED);
	ck_assert_int_eq(try_tlvs(&rec, &child, 1, child_over, 10, &got), SAX_E_SEALED);
	/* an empty child lacks every field */
	ck_assert_int_eq(try_tlvs(&rec, &child, 1, empty_child, 4, &got), SAX_E_ATTR);
	/* nothing at all: every field is missing */
	ck_assert_int_eq(try_tlvs(&(struct tlist){0}, &child, 0, NULL, 0, &got), SAX_E_ATTR);
}
END_TEST

START_TEST(test_tlv_types)
{
	static struct tlist rec, child;
	static struct sax_msg got;
	static struct sax_record want;
	const uint8_t opt[7] = {0x80, 0x01, 0x00, 0x03, 1, 2, 3};
	const uint8_t opt_max[4] = {0xff, 0xff, 0x00, 0x00};
	const uint8_t crit23[5] = {0x00, 23, 0x00, 0x01, 0};
	const uint8_t crit0[4] = {0x00, 0x00, 0x00, 0x00};
	const uint8_t crit7fff[4] = {0x7f, 0xff, 0x00, 0x00};

	vector_record(&want);
	vec_lists(&rec, &child);
	/* unknown optional TLVs are skipped, at both levels */
	ck_assert_int_eq(try_tlvs(&rec, &child, 1, opt, 7, &got), SAX_E_OK);
	ck_assert_int_eq(try_tlvs(&rec, &child, 1, opt_max, 4, &got), SAX_E_OK);
	record_eq(&want, &got.rec);
	tl_add(&child, 0x8000 | SAX_C_SPI_IN, "\x00\x00\x00\x01", 4);
	ck_assert_int_eq(try_tlvs(&rec, &child, 1, NULL, 0, &got), SAX_E_OK);
	record_eq(&want, &got.rec);
	/* unknown critical ones are refused, at both levels */
	ck_assert_int_eq(try_tlvs(&rec, &child, 1, crit23, 5, &got), SAX_E_ATTR);
	ck_assert_int_eq(try_tlvs(&rec, &child, 1, crit0, 4, &got), SAX_E_ATTR);
	ck_assert_int_eq(try_tlvs(&rec, &child, 1, crit7fff, 4, &got), SAX_E_ATTR);
	vec_lists(&rec, &child);
	tl_add(&child, SAX_C_MAX, "\x01", 1);
	ck_assert_int_eq(try_tlvs(&rec, &child, 1, NULL, 0, &got), SAX_E_ATTR);
	vec_lists(&rec, &child);
	tl_add(&child, 0, "", 0);
	ck_assert_int_eq(try_tlvs(&rec, &child, 1, NULL, 0, &got), SAX_E_ATTR);
	/* a CHILD inside a child is unknown there */
	vec_lists(&rec, &child);
	tl_add(&child, SAX_T_CHILD, "", 0);
	ck_assert_int_eq(try_tlvs(&rec, &child, 1, NULL, 0, &got), SAX_E_ATTR);
	/* too many children */
	vec_lists(&rec, &child);
	ck_assert_int_eq(try_tlvs(&rec, &child, SAX_MAX_CHILDREN + 1, NULL, 0, &got), SAX_E_ATTR);
	ck_assert(all_zero(&got.rec, sizeof(got.rec)));
	/* each field missing, each field twice */
	for (uint16_t t = 1; t < SAX_T_CHILD; t++) {
		vec_lists(&rec, &child);
		tl_del(&rec, t);
		ck_assert_msg(try_tlvs(&rec, &child, 1, NULL, 0, &got) == SAX_E_ATTR, "no %u", t);
		vec_lists(&rec, &child);
		tl_add(&rec, t, tl_find(&rec, t)->v, tl_find(&rec, t)->len);
		ck_assert_msg(try_tlvs(&rec, &child, 1, NULL, 0, &got) == SAX_E_ATTR, "%u twice",
			      t);
	}
	for (uint16_t t = 1; t < SAX_C_MAX; t++) {
		if (t == SAX_C_LOAN_CAP)
			continue; /* optional: test_tlv_loan_cap */
		vec_lists(&rec, &child);
		tl_del(&child, t);
		ck_assert_msg(try_tlvs(&rec, &child, 1, NULL, 0, &got) == SAX_E_ATTR, "child %u",
			      t);
		vec_lists(&rec, &child);
		tl_add(&child, t, tl_find(&child, t)->v, tl_find(&child, t)->len);
		ck_assert_msg(try_tlvs(&rec, &child, 1, NULL, 0, &got) == SAX_E_ATTR,
			      "child %u twice", t);
	}
}
END_TEST

START_TEST(test_tlv_lengths)
{
	static const uint8_t z[300];
	/* fixed-size fields: one byte short, one byte long */
	static const struct {
		bool child;
		uint16_t type;
		size_t size;
	} fixed[] = {
		{false, SAX_T_ICOOKIE, 8},    {false, SAX_T_RCOOKIE, 8},
		{false, SAX_T_HASH, 1},       {false, SAX_T_KEY_BITS, 2},
		{false, SAX_T_GROUP, 1},      {false, SAX_T_AUTH, 1},
		{false, SAX_T_P1_LAST, 16},   {false, SAX_T_EXPIRES, 8},
		{false, SAX_T_DPD_SEQ, 4},    {false, SAX_T_PEER_ID_TYPE, 1},
		{false, SAX_T_PEER, 4},       {false, SAX_T_LOCAL, 4},
		{false, SAX_T_PEER_PORT, 2},  {false, SAX_T_LOCAL_PORT, 2},
		{false, SAX_T_NAT, 1},        {false, SAX_T_HOME_ADDR, 4},
		{false, SAX_T_PREV_COA, 4},   {true, SAX_C_SPI_IN, 4},
		{true, SAX_C_SPI_OUT, 4},     {true, SAX_C_ALG, 1},
		{true, SAX_C_KEY_BITS, 2},    {true, SAX_C_EXPIRES, 8},
		{true, SAX_C_LIFETIME_KB, 4}, {true, SAX_C_BYTES, 8},
		{true, SAX_C_SEQ_OUT, 8},     {true, SAX_C_REPLAY_TOP, 8},
		{true, SAX_C_UDP_ENCAP, 1},   {true, SAX_C_LOCAL_PORT, 2},
		{true, SAX_C_PEER_PORT, 2},   {true, SAX_C_LOCAL_NET, 4},
		{true, SAX_C_REMOTE_NET, 4},  {true, SAX_C_LOCAL_PLEN, 1},
		{true, SAX_C_REMOTE_PLEN, 1},
	};
	static struct tlist rec, child;

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		vec_lists(&rec, &child);
		ck_assert_uint_eq(tl_find(fixed[i].child ? &child : &rec, fixed[i].type)->len,
				  fixed[i].size);
		ck_assert_msg(try_value(fixed[i].child, fixed[i].type, z, fixed[i].size - 1) ==
				      SAX_E_ATTR,
			      "%u short", fixed[i].type);
		ck_assert_msg(try_value(fixed[i].child, fixed[i].type, z, fixed[i].size + 1) ==
				      SAX_E_ATTR,
			      "%u long", fixed[i].type);
		ck_assert_uint_eq(try_value(fixed[i].child, fixed[i].type, z, 0), SAX_E_ATTR);
	}
	/* keys within their maxima */
	ck_assert_int_eq(try_value(false, SAX_T_ENC_KEY, z, 33), SAX_E_ATTR);
	ck_assert_int_eq(try_value(false, SAX_T_ENC_KEY, z, 16), SAX_E_OK);
	ck_assert_int_eq(try_value(false, SAX_T_PEER_ID, z, 256), SAX_E_ATTR);
	ck_assert_int_eq(try_value(false, SAX_T_PEER_ID, z, 255), SAX_E_OK);
	ck_assert_int_eq(try_value(false, SAX_T_PEER_ID, z, 0), SAX_E_OK);
	ck_assert_int_eq(try_value(true, SAX_C_AUTH_IN, z, 33), SAX_E_ATTR);
	/* keys that share a length must agree, whichever comes first */
	ck_assert_int_eq(try_value(false, SAX_T_SKEYID_D, z, 20), SAX_E_ATTR);
	ck_assert_int_eq(try_value(false, SAX_T_SKEYID_A, z, 20), SAX_E_ATTR);
	ck_assert_int_eq(try_value(false, SAX_T_SKEYID_D, z, 33), SAX_E_ATTR);
	ck_assert_int_eq(try_value(true, SAX_C_ENC_IN, z, 37), SAX_E_ATTR);
	ck_assert_int_eq(try_value(true, SAX_C_ENC_IN, z, 20), SAX_E_ATTR);
	ck_assert_int_eq(try_value(true, SAX_C_ENC_OUT, z, 20), SAX_E_ATTR);
	ck_assert_int_eq(try_value(true, SAX_C_AUTH_IN, z, 20), SAX_E_ATTR);
	{
		static struct sax_msg m;

		vec_lists(&rec, &child);
		tl_find(&rec, SAX_T_SKEYID_D)->len = 20;
		tl_find(&rec, SAX_T_SKEYID_A)->len = 20;
		tl_find(&child, SAX_C_AUTH_IN)->len = 32;
		tl_find(&child, SAX_C_AUTH_OUT)->len = 32;
		ck_assert_int_eq(try_tlvs(&rec, &child, 1, NULL, 0, &m), SAX_E_OK);
		ck_assert_uint_eq(m.rec.isakmp.hash_len, 20);
		ck_assert_uint_eq(m.rec.children[0].auth_len, 32);
		ck_assert_uint_eq(m.rec.children[0].auth_out[31], 0);
	}
}
END_TEST

START_TEST(test_tlv_values)
{
	static const struct {
		bool child;
		uint16_t type;
		size_t len;
		uint64_t v;
		enum sax_err want;
	} cases[] = {
		{false, SAX_T_HASH, 1, 0, SAX_E_ATTR},
		{false, SAX_T_HASH, 1, 1, SAX_E_OK},
		{false, SAX_T_HASH, 1, 6, SAX_E_OK},
		{false, SAX_T_HASH, 1, 7, SAX_E_ATTR},
		{false, SAX_T_KEY_BITS, 2, 0, SAX_E_ATTR},
		{false, SAX_T_KEY_BITS, 2, 128, SAX_E_OK},
		{false, SAX_T_KEY_BITS, 2, 192, SAX_E_OK},
		{false, SAX_T_KEY_BITS, 2, 200, SAX_E_ATTR},
		{false, SAX_T_KEY_BITS, 2, 320, SAX_E_ATTR},
		{false, SAX_T_GROUP, 1, 0, SAX_E_ATTR},
		{false, SAX_T_GROUP, 1, 63, SAX_E_OK},
		{false, SAX_T_GROUP, 1, 64, SAX_E_ATTR},
		{false, SAX_T_AUTH, 1, 0, SAX_E_ATTR},
		{false, SAX_T_AUTH, 1, 5, SAX_E_OK},
		{false, SAX_T_AUTH, 1, 6, SAX_E_ATTR},
		{false, SAX_T_PEER_ID_TYPE, 1, 0, SAX_E_OK},
		{false, SAX_T_PEER_ID_TYPE, 1, 12, SAX_E_OK},
		{false, SAX_T_PEER_ID_TYPE, 1, 13, SAX_E_ATTR},
		{false, SAX_T_NAT, 1, 0, SAX_E_OK},
		{false, SAX_T_NAT, 1, 2, SAX_E_ATTR},
		{false, SAX_T_NAT, 1, 0xff, SAX_E_ATTR},
		{false, SAX_T_EXPIRES, 8, UINT64_MAX, SAX_E_OK},
		{false, SAX_T_DPD_SEQ, 4, UINT32_MAX, SAX_E_OK},
		{true, SAX_C_SPI_IN, 4, 0, SAX_E_ATTR},
		{true, SAX_C_SPI_IN, 4, 255, SAX_E_ATTR},
		{true, SAX_C_SPI_IN, 4, 256, SAX_E_OK},
		{true, SAX_C_SPI_OUT, 4, 1, SAX_E_ATTR},
		{true, SAX_C_SPI_OUT, 4, UINT32_MAX, SAX_E_OK},
		{true, SAX_C_ALG, 1, 0, SAX_E_OK},
		{true, SAX_C_ALG, 1, 2, SAX_E_OK},
		{true, SAX_C_ALG, 1, 3, SAX_E_ATTR},
		{true, SAX_C_KEY_BITS, 2, 256, SAX_E_OK},
		{true, SAX_C_KEY_BITS, 2, 64, SAX_E_ATTR},
		{true, SAX_C_UDP_ENCAP, 1, 2, SAX_E_ATTR},
		{true, SAX_C_LOCAL_PLEN, 1, 32, SAX_E_OK},
		{true, SAX_C_LOCAL_PLEN, 1, 33, SAX_E_ATTR},
		{true, SAX_C_REMOTE_PLEN, 1, 255, SAX_E_ATTR},
		{true, SAX_C_LIFETIME_KB, 4, UINT32_MAX, SAX_E_OK},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t v[8];

		for (size_t j = 0; j < cases[i].len; j++)
			v[j] = (uint8_t)(cases[i].v >> (8 * (cases[i].len - 1 - j)));
		ck_assert_msg(try_value(cases[i].child, cases[i].type, v, cases[i].len) ==
				      cases[i].want,
			      "case %zu: type %u value %llu", i, cases[i].type,
			      (unsigned long long)cases[i].v);
	}
}
END_TEST

/*
 * LOAN_CAP, the child's one optional TLV: absent it reads as 0 (no loan);
 * present it holds a non-zero u64, once.
 */
START_TEST(test_tlv_loan_cap)
{
	static const struct {
		size_t n;      /* LOAN_CAP TLVs in the child */
		size_t len;    /* the length of each */
		uint64_t v[2]; /* their values, big-endian in the last bytes */
		enum sax_err want;
	} cases[] = {
		{0, 8, {0, 0}, SAX_E_OK}, /* absent: no loan */
		{1, 8, {1, 0}, SAX_E_OK},
		{1, 8, {0x0102030405060708ull, 0}, SAX_E_OK},
		{1, 8, {UINT64_MAX, 0}, SAX_E_OK},
		{1, 8, {0, 0}, SAX_E_ATTR},       /* present but 0: the builder leaves that out */
		{2, 8, {5000, 5000}, SAX_E_ATTR}, /* twice, even alike */
		{2, 8, {5000, 6000}, SAX_E_ATTR},
		{2, 8, {5000, 0}, SAX_E_ATTR},
		{1, 7, {5000, 0}, SAX_E_ATTR},
		{1, 9, {5000, 0}, SAX_E_ATTR},
		{1, 0, {0, 0}, SAX_E_ATTR},
	};
	static struct tlist rec, child;
	static struct sax_msg got;
	static struct sax_record want;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		vec_lists(&rec, &child);
		for (size_t j = 0; j < cases[i].n; j++) {
			uint8_t v[9] = {0};

			for (size_t b = 0; b < cases[i].len && b < 8; b++)
				v[cases[i].len - 1 - b] = (uint8_t)(cases[i].v[j] >> (8 * b));
			tl_add(&child, SAX_C_LOAN_CAP, v, cases[i].len);
		}
		ck_assert_msg(try_tlvs(&rec, &child, 1, NULL, 0, &got) == cases[i].want,
			      "case %zu: %s", i,
			      sax_err_name(try_tlvs(&rec, &child, 1, NULL, 0, &got)));
		vector_record(&want);
		if (cases[i].want == SAX_E_OK) {
			want.children[0].loan_cap = cases[i].v[0];
			record_eq(&want, &got.rec);
		} else {
			ck_assert(all_zero(&got.rec, sizeof(got.rec)));
		}
	}
}
END_TEST

/*
 * The builder leaves a loan_cap of 0 out (so the vector RECORD is the one
 * from before LOAN_CAP) and writes any other value in type order, last in
 * its child.
 */
START_TEST(test_build_loan_cap)
{
	static struct sax_msg m, got;
	static struct hex pt, aad;
	static uint8_t out[SAX_MSG_MAX], opened[SAX_MSG_MAX];
	struct sax_keys k;
	size_t len, child_at;

	keys_init(&k);
	msg_init(&m, SAX_RECORD);
	m.has_record = true;
	vector_record(&m.rec);
	m.rec.n_children = 2;
	m.rec.children[1] = m.rec.children[0];
	m.rec.children[0].loan_cap = 0x0102030405060708ull;
	len = build(&m, &k, out);
	hx(vec_plaintext, &pt);
	hx(vec_aad, &aad);
	/* the vector's one child is its last TLV, 214 bytes long */
	child_at = pt.n - 4 - 0xd6;
	ck_assert_mem_eq(pt.b + child_at, "\x00\x16\x00\xd6", 4);
	ck_assert_uint_eq(len, REC_LEN + 12 + 4 + 0xd6);
	ck_assert_int_eq(
		evp_gcm_open(k.k_sa, out + 58, len - 58 - SAX_MAC_LEN, aad.b, aad.n, opened),
		(int)(pt.n + 12 + 4 + 0xd6));
	/* the record's own TLVs as in the vector */
	ck_assert_mem_eq(opened, pt.b, child_at);
	/* the first child: 12 bytes longer, LOAN_CAP at its end */
	ck_assert_mem_eq(opened + child_at, "\x00\x16\x00\xe2", 4);
	ck_assert_mem_eq(opened + child_at + 4, pt.b + child_at + 4, 0xd6);
	ck_assert_mem_eq(opened + child_at + 4 + 0xd6,
			 "\x00\x15\x00\x08\x01\x02\x03\x04\x05\x06\x07\x08", 12);
	/* the second, without a loan: the vector's child as it was */
	ck_assert_mem_eq(opened + child_at + 4 + 0xe2, pt.b + child_at, 4 + 0xd6);
	ck_assert_int_eq(parse(out, len, &k, &got), SAX_E_OK);
	record_eq(&m.rec, &got.rec);
	sax_record_wipe(&got.rec);
}
END_TEST

/* ---- the REQUEST's registration ---- */

/*
 * The registration's length is 1..SAX_REG_MAX: the builder refuses the
 * others (SAX_E_ATTR, nothing written), and so does the parser when an FA
 * sealed one anyway (the raw hook).
 */
START_TEST(test_request_lengths)
{
	static const struct {
		uint16_t len;
		enum sax_err want;
	} cases[] = {
		{0, SAX_E_ATTR},
		{1, SAX_E_OK},
		{2, SAX_E_OK},
		{REG_LEN, SAX_E_OK},
		{255, SAX_E_OK},
		{256, SAX_E_OK},
		{SAX_REG_MAX - 1, SAX_E_OK},
		{SAX_REG_MAX, SAX_E_OK},
		{SAX_REG_MAX + 1, SAX_E_ATTR},
		{UINT16_MAX, SAX_E_ATTR},
	};
	static struct sax_msg m, got;
	static uint8_t out[SAX_MSG_MAX], pt[4 + SAX_REG_MAX + 1];
	struct sax_keys k;
	struct buf b;

	keys_init(&k);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint16_t n = cases[i].len;
		uint8_t first = (uint8_t)(0x31 + 16 * i);

		msg_init(&m, SAX_REQUEST);
		memset(m.req.reg, 0, sizeof(m.req.reg));
		fill(m.req.reg, n < SAX_REG_MAX ? n : SAX_REG_MAX, first);
		m.req.reg_len = n;
		memset(out, 0, sizeof(out));
		buf_init_write(&b, out, sizeof(out));
		ck_assert_msg(sax_build(&b, &m, &k) == cases[i].want, "build, length %u", n);
		if (cases[i].want == SAX_E_OK) {
			ck_assert_uint_eq(buf_used(&b), REQ_LEN_FOR(n));
			ck_assert_int_eq(parse(out, buf_used(&b), &k, &got), SAX_E_OK);
			request_eq(&m.req, &got.req);
		} else {
			ck_assert_uint_eq(buf_used(&b), 0);
			ck_assert(all_zero(out, sizeof(out)));
		}
		/* the same registration sealed by the raw hook, as a careless FA would */
		if (n > SAX_REG_MAX + 1)
			continue;
		pt[0] = 0;
		pt[1] = SAX_Q_REGISTRATION;
		pt[2] = (uint8_t)(n >> 8);
		pt[3] = (uint8_t)n;
		fill(pt + 4, n, first);
		ck_assert_msg(try_raw(SAX_REQUEST, pt, 4 + (size_t)n, &got) == cases[i].want,
			      "parse, length %u", n);
		if (cases[i].want == SAX_E_OK)
			request_eq(&m.req, &got.req);
		else
			ck_assert(all_zero(&got.req, sizeof(got.req)));
	}
}
END_TEST

/*
 * The TLVs of a REQUEST: REGISTRATION exactly once; unknown types skipped
 * with SAX_TLV_OPTIONAL, refused without; broken framing as in a record.
 */
START_TEST(test_request_tlvs)
{
	static const struct {
		const char *what;
		size_t n; /* TLVs, each len bytes of a pattern */
		uint16_t type[2], len[2];
		const char *tail;  /* hex appended as it is */
		enum sax_err want; /* on success the registration is the type-1 TLV's value */
	} cases[] = {
		{"the registration alone", 1, {1}, {REG_LEN}, "", SAX_E_OK},
		{"twice", 2, {1, 1}, {REG_LEN, REG_LEN}, "", SAX_E_ATTR},
		{"twice, the second of one byte", 2, {1, 1}, {REG_LEN, 1}, "", SAX_E_ATTR},
		{"missing", 0, {0}, {0}, "", SAX_E_ATTR},
		{"missing, an optional one instead", 1, {0x8001}, {4}, "", SAX_E_ATTR},
		{"an unknown optional one before", 2, {0x8001, 1}, {4, REG_LEN}, "", SAX_E_OK},
		{"an unknown optional one after", 2, {1, 0xffff}, {REG_LEN, 0}, "", SAX_E_OK},
		{"type 1 with the optional bit", 2, {1, 0x8001}, {REG_LEN, 3}, "", SAX_E_OK},
		{"unknown: the next type", 2, {1, SAX_Q_MAX}, {REG_LEN, 1}, "", SAX_E_ATTR},
		{"unknown: type 0", 2, {1, 0}, {REG_LEN, 0}, "", SAX_E_ATTR},
		{"unknown: type 0x7fff", 2, {0x7fff, 1}, {0, REG_LEN}, "", SAX_E_ATTR},
		{"a record's CHILD", 2, {1, SAX_T_CHILD}, {REG_LEN, 0}, "", SAX_E_ATTR},
		{"a header cut short", 1, {1}, {REG_LEN}, "800100", SAX_E_SEALED},
		{"a value beyond the list", 1, {1}, {REG_LEN}, "80010003aabb", SAX_E_SEALED},
		{"the registration beyond the list", 0, {0}, {0}, "00010005aabbcc", SAX_E_SEALED},
	};
	static struct sax_msg got;
	static struct sax_request want;
	static struct hex tail;
	static uint8_t pt[SAX_MSG_MAX];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = 0;

		memset(&want, 0, sizeof(want));
		for (size_t j = 0; j < cases[i].n; j++) {
			uint16_t t = cases[i].type[j], len = cases[i].len[j];
			uint8_t first = (uint8_t)(0x10 + 0x40 * j + i);

			pt[n++] = (uint8_t)(t >> 8);
			pt[n++] = (uint8_t)t;
			pt[n++] = (uint8_t)(len >> 8);
			pt[n++] = (uint8_t)len;
			fill(pt + n, len, first);
			n += len;
			if (t == SAX_Q_REGISTRATION && want.reg_len == 0) {
				fill(want.reg, len, first);
				want.reg_len = len;
			}
		}
		hx(cases[i].tail, &tail);
		memcpy(pt + n, tail.b, tail.n);
		n += tail.n;
		ck_assert_msg(try_raw(SAX_REQUEST, pt, n, &got) == cases[i].want, "%s: %s",
			      cases[i].what, sax_err_name(try_raw(SAX_REQUEST, pt, n, &got)));
		if (cases[i].want == SAX_E_OK)
			request_eq(&want, &got.req);
		else
			ck_assert_msg(all_zero(&got.req, sizeof(got.req)), "%s", cases[i].what);
		ck_assert(all_zero(&got.rec, sizeof(got.rec)));
	}
}
END_TEST

/*
 * The reasons are wire values (doc/sa-transfer.md): REFUSED and STORE_ACK
 * carry them in Flags as they are, and no other type carries one.
 */
START_TEST(test_reasons)
{
	static const struct {
		enum sax_reason r;
		uint16_t wire;
	} reasons[] = {
		{SAX_OK, 0},        {SAX_R_UNKNOWN, 1},     {SAX_R_NOT_MEMBER, 2},
		{SAX_R_EXPIRED, 3}, {SAX_R_BAD_MESSAGE, 4}, {SAX_R_STORE_ERROR, 5},
		{SAX_R_PROOF, 6},   {SAX_R_STALE_REG, 7},   {SAX_R_RECLAIMED, 8},
	};
	static const uint8_t types[] = {SAX_REFUSED, SAX_STORE_ACK, SAX_RELEASED, SAX_STORE_DEL,
					SAX_REQUEST};
	static struct sax_msg m, got;
	static uint8_t out[SAX_MSG_MAX];
	struct sax_keys k;
	struct buf b;

	keys_init(&k);
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		uint16_t w = reasons[i].wire;

		ck_assert_uint_eq(reasons[i].r, w);
		for (size_t t = 0; t < sizeof(types); t++) {
			bool ok = w == 0 || has_reason(types[t]);

			msg_init(&m, types[t]);
			m.flags = w;
			buf_init_write(&b, out, sizeof(out));
			ck_assert_msg(sax_build(&b, &m, &k) == (ok ? SAX_E_OK : SAX_E_ATTR),
				      "reason %u in a %s", w, sax_type_name(types[t]));
			if (!ok)
				continue;
			ck_assert_uint_eq(out[2] << 8 | out[3], w);
			ck_assert_int_eq(parse(out, buf_used(&b), &k, &got), SAX_E_OK);
			ck_assert_uint_eq(got.flags, w);
		}
	}
}
END_TEST

/* ---- odds and ends ---- */

/*
 * The FA-to-FA key: HMAC-SHA-256(K_SA, label), the value from
 *   printf '%s' "mipsa sax FA to FA authentication" |
 *     openssl dgst -sha256 -mac HMAC -macopt hexkey:000102...1f
 * and a message under it does not verify under K_DB, nor the other way.
 */
START_TEST(test_fa_keys)
{
	static const uint8_t want[SAX_KEY_LEN] = {0xb0, 0x9c, 0x3f, 0x3d, 0xe8, 0x4d, 0x55, 0x06,
						  0xad, 0xfa, 0x78, 0x2b, 0x97, 0xd0, 0x24, 0xf1,
						  0x92, 0x3e, 0xc7, 0x9e, 0x37, 0xec, 0x93, 0x70,
						  0xd1, 0x41, 0x4e, 0xc8, 0xdb, 0xfb, 0x03, 0xa1};
	struct sax_keys db = {.have_k_sa = true}, fa;
	struct sax_msg m, out;
	uint8_t msg[SAX_MSG_MAX];
	struct buf b;

	for (size_t i = 0; i < SAX_KEY_LEN; i++) {
		db.k_sa[i] = (uint8_t)i;
		db.k_db[i] = (uint8_t)(0xa0 + i);
	}
	ck_assert_int_eq(sax_fa_keys(db.k_sa, &fa), 0);
	ck_assert_mem_eq(fa.k_db, want, SAX_KEY_LEN);
	ck_assert_mem_eq(fa.k_sa, db.k_sa, SAX_KEY_LEN);
	ck_assert(fa.have_k_sa);

	memset(&m, 0, sizeof(m));
	m.type = SAX_STORE_DEL;
	m.sender.s_addr = htonl(0xc6120b02);
	m.mn_id_len = 3;
	memcpy(m.mn_id, "mn1", 3);
	sax_stamp(&m);
	buf_init_write(&b, msg, sizeof(msg));
	ck_assert_int_eq(sax_build(&b, &m, &db), SAX_E_OK);
	ck_assert_int_eq(sax_parse(msg, buf_used(&b), &fa, m.timestamp_ms, 1000, NULL, &out),
			 SAX_E_MAC);
	buf_init_write(&b, msg, sizeof(msg));
	ck_assert_int_eq(sax_build(&b, &m, &fa), SAX_E_OK);
	ck_assert_int_eq(sax_parse(msg, buf_used(&b), &db, m.timestamp_ms, 1000, NULL, &out),
			 SAX_E_MAC);
	ck_assert_int_eq(sax_parse(msg, buf_used(&b), &fa, m.timestamp_ms, 1000, NULL, &out),
			 SAX_E_OK);
	sax_keys_wipe(&fa);
}
END_TEST

START_TEST(test_wipe)
{
	static struct sax_record r;
	struct sax_keys k;

	full_record(&r);
	ck_assert(!all_zero(&r, sizeof(r)));
	sax_record_wipe(&r);
	ck_assert(all_zero(&r, sizeof(r)));
	keys_init(&k);
	ck_assert(!all_zero(&k, sizeof(k)));
	sax_keys_wipe(&k);
	ck_assert(all_zero(&k, sizeof(k)));
	ck_assert_int_eq(k.have_k_sa, false);
}
END_TEST

START_TEST(test_stamp)
{
	static struct sax_msg a, b;
	struct timespec ts;
	uint64_t now;

	sax_stamp(&a);
	sax_stamp(&b);
	clock_gettime(CLOCK_REALTIME, &ts);
	now = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	ck_assert_uint_le(a.timestamp_ms, b.timestamp_ms);
	ck_assert_uint_le(b.timestamp_ms, now);
	ck_assert_uint_ge(a.timestamp_ms + 1000, now);
	ck_assert_mem_ne(a.nonce, b.nonce, SAX_NONCE_LEN);
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(sax_err_name(SAX_E_OK), "ok");
	ck_assert_str_eq(sax_err_name(SAX_E_MAC), "bad HMAC");
	ck_assert_str_eq(sax_err_name(SAX_E_SEALED), "sealed part does not open");
	ck_assert_str_eq(sax_err_name(SAX_E_CRYPTO), "crypto failure");
	ck_assert_str_eq(sax_err_name(SAX_E_MAX), "unknown error");
	ck_assert_str_eq(sax_err_name((enum sax_err) - 1), "unknown error");
	for (int e = 0; e < SAX_E_MAX; e++)
		ck_assert_ptr_nonnull(sax_err_name((enum sax_err)e));
	ck_assert_str_eq(sax_type_name(0), "unknown");
	ck_assert_str_eq(sax_type_name(SAX_REQUEST), "request");
	ck_assert_str_eq(sax_type_name(SAX_RECORD), "record");
	ck_assert_str_eq(sax_type_name(SAX_REFUSED), "refused");
	ck_assert_str_eq(sax_type_name(SAX_STORE_PUT), "store-put");
	ck_assert_str_eq(sax_type_name(SAX_STORE_GET), "store-get");
	ck_assert_str_eq(sax_type_name(SAX_STORE_ACK), "store-ack");
	ck_assert_str_eq(sax_type_name(SAX_OFFER), "offer");
	ck_assert_str_eq(sax_type_name(SAX_STORE_DEL), "store-del");
	ck_assert_str_eq(sax_type_name(SAX_RELEASED), "released");
	ck_assert_uint_eq(SAX_RELEASED, 8);
	ck_assert_str_eq(sax_type_name(SAX_TYPE_MAX), "unknown");
	ck_assert_str_eq(sax_type_name(255), "unknown");
	ck_assert_uint_eq(SAX_SEALED_MAX, 7862);
	ck_assert_uint_eq(sax_aad_len(255), SAX_AAD_MAX);
}
END_TEST

static Suite *sax_suite(void)
{
	Suite *s = suite_create("sax");
	TCase *tc = tcase_create("vectors");

	tcase_add_test(tc, test_vector_record);
	tcase_add_test(tc, test_vector_request);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("round trips");
	tcase_add_loop_test(tc, test_round_trip_types, 0, SAX_TYPE_MAX - 1);
	tcase_add_test(tc, test_round_trip_full_record);
	tcase_add_test(tc, test_iv_fresh);
	tcase_add_test(tc, test_build_appends);
	tcase_add_test(tc, test_store_role);
	tcase_add_test(tc, test_request_store_role);
	tcase_add_test(tc, test_store_del_registration);
	tcase_add_test(tc, test_released_top);
	suite_add_tcase(s, tc);

	tc = tcase_create("authentication and freshness");
	tcase_add_loop_test(tc, test_flip_every_byte, 0, 7);
	tcase_add_test(tc, test_other_k_db);
	tcase_add_test(tc, test_wrong_k_sa);
	tcase_add_test(tc, test_stale);
	suite_add_tcase(s, tc);

	tc = tcase_create("replay");
	tcase_add_test(tc, test_replay_parse);
	tcase_add_test(tc, test_replay_age);
	tcase_add_test(tc, test_replay_bounded);
	tcase_add_test(tc, test_replay_capacity);
	tcase_add_test(tc, test_replay_many);
	suite_add_tcase(s, tc);

	tc = tcase_create("structure");
	tcase_add_test(tc, test_truncated_every_length);
	tcase_add_test(tc, test_trailing);
	tcase_add_test(tc, test_header_values);
	tcase_add_test(tc, test_build_refuses);
	tcase_add_test(tc, test_nospace);
	suite_add_tcase(s, tc);

	tc = tcase_create("sealed TLVs");
	tcase_add_test(tc, test_tlv_canonical);
	tcase_add_test(tc, test_tlv_framing);
	tcase_add_test(tc, test_tlv_types);
	tcase_add_test(tc, test_tlv_lengths);
	tcase_add_test(tc, test_tlv_values);
	tcase_add_test(tc, test_tlv_loan_cap);
	tcase_add_test(tc, test_build_loan_cap);
	suite_add_tcase(s, tc);

	tc = tcase_create("request");
	tcase_add_test(tc, test_request_lengths);
	tcase_add_test(tc, test_request_tlvs);
	tcase_add_test(tc, test_reasons);
	suite_add_tcase(s, tc);

	tc = tcase_create("wipe and stamp");
	tcase_add_test(tc, test_fa_keys);
	tcase_add_test(tc, test_wipe);
	tcase_add_test(tc, test_stamp);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_main(sax_suite());
}
