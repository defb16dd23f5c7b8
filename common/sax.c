/*
 * SA transfer messages: the codec, the sealing of the record (AES-256-GCM
 * under K_SA), the HMAC-SHA-256 under K_DB, the freshness checks and the
 * replay cache.  See sax.h and doc/sa-transfer.md (the TLV table, the order
 * of the checks, a test vector).
 *
 * The TLVs of a record are described by two tables (record level and
 * child level); one generic encoder and one generic decoder walk them, so
 * what is built and what is accepted cannot drift apart.
 */
#include "sax.h"
#include "esp.h"
#include "evloop.h"
#include "log.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

/* ---- names ---- */

const char *sax_err_name(enum sax_err e)
{
	static const char *const names[SAX_E_MAX] = {
		[SAX_E_OK] = "ok",
		[SAX_E_TRUNCATED] = "truncated",
		[SAX_E_VERSION] = "unsupported version",
		[SAX_E_TYPE] = "unknown type",
		[SAX_E_TRAILING] = "trailing bytes",
		[SAX_E_MAC] = "bad HMAC",
		[SAX_E_STALE] = "stale",
		[SAX_E_REPLAY] = "replayed",
		[SAX_E_SEALED] = "sealed part does not open",
		[SAX_E_ATTR] = "bad attribute",
		[SAX_E_NOSPACE] = "no space",
		[SAX_E_CRYPTO] = "crypto failure",
	};
	return (unsigned)e < SAX_E_MAX ? names[e] : "unknown error";
}

const char *sax_type_name(uint8_t t)
{
	static const char *const names[SAX_TYPE_MAX] = {
		[SAX_REQUEST] = "request",     [SAX_RECORD] = "record",
		[SAX_REFUSED] = "refused",     [SAX_STORE_PUT] = "store-put",
		[SAX_STORE_GET] = "store-get", [SAX_STORE_ACK] = "store-ack",
		[SAX_STORE_DEL] = "store-del", [SAX_RELEASED] = "released",
		[SAX_OFFER] = "offer",
	};
	return t > 0 && t < SAX_TYPE_MAX ? names[t] : "unknown";
}

/* RECORD, STORE_PUT and OFFER carry a record in their Sealed field. */
static bool sax_type_record(uint8_t t)
{
	return t == SAX_RECORD || t == SAX_STORE_PUT || t == SAX_OFFER;
}

/* Those and REQUEST (the node's registration) carry a Sealed field; most others an empty one. */
static bool sax_type_sealed(uint8_t t)
{
	return sax_type_record(t) || t == SAX_REQUEST;
}

/*
 * STORE_DEL may carry one too: from the new FA to the previous FA, the
 * node's registration whose hand-over it confirms (under K_SA, as a
 * REQUEST's); to the store, none.  So may the RELEASED that answers it:
 * the same registration and the previous FA's last sequence number.
 */
static bool sax_type_may_seal(uint8_t t)
{
	return sax_type_sealed(t) || t == SAX_STORE_DEL || t == SAX_RELEASED;
}

/* REFUSED and STORE_ACK carry a reason in Flags; the others 0. */
static bool sax_type_reason(uint8_t t)
{
	return t == SAX_REFUSED || t == SAX_STORE_ACK;
}

/* ---- the TLV tables ---- */

enum sax_kind {
	SAX_K_U8,
	SAX_K_U16,
	SAX_K_U32,
	SAX_K_U64,
	SAX_K_BOOL,  /* one byte, 0 or 1 */
	SAX_K_ADDR,  /* struct in_addr, four bytes in network order */
	SAX_K_BYTES, /* exactly size bytes */
	SAX_K_VAR,   /* 0..size bytes; the length in the uint8_t at len_off */
	SAX_K_VAR16, /* 1..size bytes; the length in the uint16_t at len_off */
};

struct sax_field {
	uint16_t type;
	uint8_t kind;
	uint16_t off;            /* of the value in the struct */
	uint16_t len_off;        /* SAX_K_VAR: of its length */
	uint16_t size;           /* SAX_K_BYTES: the length; SAX_K_VAR: the maximum */
	uint16_t pair;           /* SAX_K_VAR: the TLV that shares the length (0: none) */
	uint32_t min, max, step; /* integers: min <= v <= max, (v - min) % step == 0 */
	bool opt;                /* an integer that may be absent: 0, and not sent */
};

#define R_OFF(f) ((uint16_t)offsetof(struct sax_record, f))
#define C_OFF(f) ((uint16_t)offsetof(struct sax_child, f))
#define Q_OFF(f) ((uint16_t)offsetof(struct sax_request, f))
#define INT(t, k, o, lo, hi)                                                                       \
	{                                                                                          \
		.type = (t), .kind = (k), .off = (o), .min = (lo), .max = (hi), .step = 1          \
	}
#define BITS(t, o)                                                                                 \
	{                                                                                          \
		.type = (t), .kind = SAX_K_U16, .off = (o), .min = 128, .max = 256, .step = 64     \
	}
#define FIX(t, k, o, n)                                                                            \
	{                                                                                          \
		.type = (t), .kind = (k), .off = (o), .size = (n)                                  \
	}
#define VAR(t, o, lo, n, p)                                                                        \
	{                                                                                          \
		.type = (t), .kind = SAX_K_VAR, .off = (o), .len_off = (lo), .size = (n),          \
		.pair = (p)                                                                        \
	}

/* Indexed by type - 1.  CHILD is handled by the decoder itself. */
static const struct sax_field sax_rec_fields[] = {
	FIX(SAX_T_ICOOKIE, SAX_K_BYTES, R_OFF(isakmp.icookie), 8),
	FIX(SAX_T_RCOOKIE, SAX_K_BYTES, R_OFF(isakmp.rcookie), 8),
	INT(SAX_T_HASH, SAX_K_U8, R_OFF(isakmp.hash), 1, 6),
	BITS(SAX_T_KEY_BITS, R_OFF(isakmp.key_bits)),
	INT(SAX_T_GROUP, SAX_K_U8, R_OFF(isakmp.group), 1, 63),
	INT(SAX_T_AUTH, SAX_K_U8, R_OFF(isakmp.auth), 1, 5),
	VAR(SAX_T_SKEYID_D, R_OFF(isakmp.skeyid_d), R_OFF(isakmp.hash_len), 32, SAX_T_SKEYID_A),
	VAR(SAX_T_SKEYID_A, R_OFF(isakmp.skeyid_a), R_OFF(isakmp.hash_len), 32, SAX_T_SKEYID_D),
	VAR(SAX_T_ENC_KEY, R_OFF(isakmp.enc_key), R_OFF(isakmp.enc_key_len), 32, 0),
	FIX(SAX_T_P1_LAST, SAX_K_BYTES, R_OFF(isakmp.p1_last), 16),
	INT(SAX_T_EXPIRES, SAX_K_U64, R_OFF(isakmp.expires_ms), 0, 0),
	INT(SAX_T_DPD_SEQ, SAX_K_U32, R_OFF(isakmp.dpd_seq), 0, UINT32_MAX),
	INT(SAX_T_PEER_ID_TYPE, SAX_K_U8, R_OFF(isakmp.peer_id_type), 0, 12),
	VAR(SAX_T_PEER_ID, R_OFF(isakmp.peer_id), R_OFF(isakmp.peer_id_len), 255, 0),
	FIX(SAX_T_PEER, SAX_K_ADDR, R_OFF(isakmp.peer), 4),
	FIX(SAX_T_LOCAL, SAX_K_ADDR, R_OFF(isakmp.local), 4),
	INT(SAX_T_PEER_PORT, SAX_K_U16, R_OFF(isakmp.peer_port), 0, UINT16_MAX),
	INT(SAX_T_LOCAL_PORT, SAX_K_U16, R_OFF(isakmp.local_port), 0, UINT16_MAX),
	INT(SAX_T_NAT, SAX_K_BOOL, R_OFF(isakmp.nat), 0, 1),
	FIX(SAX_T_HOME_ADDR, SAX_K_ADDR, R_OFF(home_addr), 4),
	FIX(SAX_T_PREV_COA, SAX_K_ADDR, R_OFF(prev_coa), 4),
};

static const struct sax_field sax_child_fields[] = {
	INT(SAX_C_SPI_IN, SAX_K_U32, C_OFF(spi_in), ESP_SPI_MIN, UINT32_MAX),
	INT(SAX_C_SPI_OUT, SAX_K_U32, C_OFF(spi_out), ESP_SPI_MIN, UINT32_MAX),
	INT(SAX_C_ALG, SAX_K_U8, C_OFF(alg), 0, ESP_ALG_MAX - 1),
	BITS(SAX_C_KEY_BITS, C_OFF(key_bits)),
	VAR(SAX_C_ENC_IN, C_OFF(enc_in), C_OFF(enc_len), 36, SAX_C_ENC_OUT),
	VAR(SAX_C_ENC_OUT, C_OFF(enc_out), C_OFF(enc_len), 36, SAX_C_ENC_IN),
	VAR(SAX_C_AUTH_IN, C_OFF(auth_in), C_OFF(auth_len), 32, SAX_C_AUTH_OUT),
	VAR(SAX_C_AUTH_OUT, C_OFF(auth_out), C_OFF(auth_len), 32, SAX_C_AUTH_IN),
	INT(SAX_C_EXPIRES, SAX_K_U64, C_OFF(expires_ms), 0, 0),
	INT(SAX_C_LIFETIME_KB, SAX_K_U32, C_OFF(lifetime_kb), 0, UINT32_MAX),
	INT(SAX_C_BYTES, SAX_K_U64, C_OFF(bytes), 0, 0),
	INT(SAX_C_SEQ_OUT, SAX_K_U64, C_OFF(seq_out), 0, 0),
	INT(SAX_C_REPLAY_TOP, SAX_K_U64, C_OFF(replay_top), 0, 0),
	INT(SAX_C_UDP_ENCAP, SAX_K_BOOL, C_OFF(udp_encap), 0, 1),
	INT(SAX_C_LOCAL_PORT, SAX_K_U16, C_OFF(local_port), 0, UINT16_MAX),
	INT(SAX_C_PEER_PORT, SAX_K_U16, C_OFF(peer_port), 0, UINT16_MAX),
	FIX(SAX_C_LOCAL_NET, SAX_K_ADDR, C_OFF(local_net), 4),
	FIX(SAX_C_REMOTE_NET, SAX_K_ADDR, C_OFF(remote_net), 4),
	INT(SAX_C_LOCAL_PLEN, SAX_K_U8, C_OFF(local_plen), 0, 32),
	INT(SAX_C_REMOTE_PLEN, SAX_K_U8, C_OFF(remote_plen), 0, 32),
	{.type = SAX_C_LOAN_CAP, .kind = SAX_K_U64, .off = C_OFF(loan_cap), .opt = true},
};

static const struct sax_field sax_req_fields[] = {
	{.type = SAX_Q_REGISTRATION,
	 .kind = SAX_K_VAR16,
	 .off = Q_OFF(reg),
	 .len_off = Q_OFF(reg_len),
	 .size = SAX_REG_MAX},
	{.type = SAX_Q_SEQ_TOP, .kind = SAX_K_U64, .off = Q_OFF(seq_top), .opt = true},
};

#define N_REC_FIELDS   (sizeof(sax_rec_fields) / sizeof(sax_rec_fields[0]))
#define N_CHILD_FIELDS (sizeof(sax_child_fields) / sizeof(sax_child_fields[0]))
#define N_REQ_FIELDS   (sizeof(sax_req_fields) / sizeof(sax_req_fields[0]))

_Static_assert(N_REC_FIELDS == SAX_T_CHILD - 1, "one record field per TLV type but CHILD");
_Static_assert(N_CHILD_FIELDS == SAX_C_MAX - 1, "one child field per TLV type");
_Static_assert(N_REQ_FIELDS == SAX_Q_MAX - 1, "one request field per TLV type");
_Static_assert(sizeof(struct in_addr) == 4, "struct in_addr is four bytes");

/* Whether v is in f's range (a u64 with max 0 takes any value). */
static bool sax_int_ok(const struct sax_field *f, uint64_t v)
{
	if (f->kind == SAX_K_U64)
		return true;
	return v >= f->min && v <= f->max && (v - f->min) % f->step == 0;
}

static size_t sax_int_size(uint8_t kind)
{
	switch (kind) {
	case SAX_K_U16:
		return 2;
	case SAX_K_U32:
		return 4;
	case SAX_K_U64:
		return 8;
	default: /* U8, BOOL */
		return 1;
	}
}

/* The integer at base + f->off, whatever its width. */
static uint64_t sax_int_load(const struct sax_field *f, const uint8_t *base)
{
	const uint8_t *p = base + f->off;
	uint16_t v16;
	uint32_t v32;
	uint64_t v64;
	bool vb;

	switch (f->kind) {
	case SAX_K_U16:
		memcpy(&v16, p, 2);
		return v16;
	case SAX_K_U32:
		memcpy(&v32, p, 4);
		return v32;
	case SAX_K_U64:
		memcpy(&v64, p, 8);
		return v64;
	case SAX_K_BOOL:
		memcpy(&vb, p, sizeof(vb));
		return vb ? 1 : 0;
	default:
		return p[0];
	}
}

static void sax_int_store(const struct sax_field *f, uint8_t *base, uint64_t v)
{
	uint8_t *p = base + f->off;
	uint16_t v16 = (uint16_t)v;
	uint32_t v32 = (uint32_t)v;
	bool vb = v != 0;

	switch (f->kind) {
	case SAX_K_U16:
		memcpy(p, &v16, 2);
		break;
	case SAX_K_U32:
		memcpy(p, &v32, 4);
		break;
	case SAX_K_U64:
		memcpy(p, &v, 8);
		break;
	case SAX_K_BOOL:
		memcpy(p, &vb, sizeof(vb));
		break;
	default:
		p[0] = (uint8_t)v;
		break;
	}
}

static enum sax_err sax_buf_err(int r)
{
	return r == BUF_OK ? SAX_E_OK : SAX_E_NOSPACE;
}

/* One TLV from the struct at base.  SAX_E_ATTR for a value the decoder would refuse. */
static enum sax_err sax_field_put(struct buf *b, const struct sax_field *f, const uint8_t *base)
{
	size_t n;
	uint64_t v;
	int r;

	switch (f->kind) {
	case SAX_K_ADDR:
	case SAX_K_BYTES:
		n = f->size;
		break;
	case SAX_K_VAR:
		n = base[f->len_off];
		if (n > f->size)
			return SAX_E_ATTR;
		break;
	case SAX_K_VAR16: {
		uint16_t n16;

		memcpy(&n16, base + f->len_off, sizeof(n16));
		n = n16;
		if (n == 0 || n > f->size)
			return SAX_E_ATTR;
		break;
	}
	default:
		v = sax_int_load(f, base);
		if (!sax_int_ok(f, v))
			return SAX_E_ATTR;
		if (f->opt && v == 0)
			return SAX_E_OK;
		n = sax_int_size(f->kind);
		r = buf_put_u16(b, f->type);
		if (r == BUF_OK)
			r = buf_put_u16(b, (uint16_t)n);
		if (r == BUF_OK && n == 1)
			r = buf_put_u8(b, (uint8_t)v);
		else if (r == BUF_OK && n == 2)
			r = buf_put_u16(b, (uint16_t)v);
		else if (r == BUF_OK && n == 4)
			r = buf_put_u32(b, (uint32_t)v);
		else if (r == BUF_OK)
			r = buf_put_u64(b, v);
		return sax_buf_err(r);
	}
	r = buf_put_u16(b, f->type);
	if (r == BUF_OK)
		r = buf_put_u16(b, (uint16_t)n);
	if (r == BUF_OK)
		r = buf_put_bytes(b, base + f->off, n);
	return sax_buf_err(r);
}

static enum sax_err sax_list_put(struct buf *b, const struct sax_field *fields, size_t n,
				 const uint8_t *base)
{
	for (size_t i = 0; i < n; i++) {
		enum sax_err e = sax_field_put(b, &fields[i], base);

		if (e != SAX_E_OK)
			return e;
	}
	return SAX_E_OK;
}

/* The record's TLV list: its own fields in type order, then the children. */
static enum sax_err sax_record_put(struct buf *b, const struct sax_record *rec)
{
	enum sax_err e;

	if (rec->n_children > SAX_MAX_CHILDREN)
		return SAX_E_ATTR;
	e = sax_list_put(b, sax_rec_fields, N_REC_FIELDS, (const uint8_t *)rec);
	for (size_t i = 0; e == SAX_E_OK && i < rec->n_children; i++) {
		size_t len_pos, start;

		if (buf_put_u16(b, SAX_T_CHILD) != BUF_OK)
			return SAX_E_NOSPACE;
		len_pos = buf_used(b);
		if (buf_put_u16(b, 0) != BUF_OK)
			return SAX_E_NOSPACE;
		start = buf_used(b);
		e = sax_list_put(b, sax_child_fields, N_CHILD_FIELDS,
				 (const uint8_t *)&rec->children[i]);
		if (e == SAX_E_OK &&
		    buf_set_u16_at(b, len_pos, (uint16_t)(buf_used(b) - start)) != BUF_OK)
			e = SAX_E_NOSPACE;
	}
	return e;
}

/* One TLV's value v into the struct at base; seen: the types met so far in this list. */
static enum sax_err sax_field_get(const struct sax_field *f, struct buf *v, uint8_t *base,
				  uint32_t seen)
{
	size_t n = buf_left(v);
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	uint64_t u64;

	switch (f->kind) {
	case SAX_K_ADDR:
	case SAX_K_BYTES:
		if (n != f->size)
			return SAX_E_ATTR;
		buf_get_bytes(v, base + f->off, n);
		return SAX_E_OK;
	case SAX_K_VAR:
		if (n > f->size)
			return SAX_E_ATTR;
		/* two TLVs sharing a length (SKEYID_d/a, keys in/out) must agree */
		if (f->pair != 0 && (seen & 1u << f->pair) != 0 && base[f->len_off] != n)
			return SAX_E_ATTR;
		base[f->len_off] = (uint8_t)n;
		buf_get_bytes(v, base + f->off, n);
		return SAX_E_OK;
	case SAX_K_VAR16: {
		uint16_t n16 = (uint16_t)n;

		if (n == 0 || n > f->size)
			return SAX_E_ATTR;
		memcpy(base + f->len_off, &n16, sizeof(n16));
		buf_get_bytes(v, base + f->off, n);
		return SAX_E_OK;
	}
	default:
		break;
	}
	if (n != sax_int_size(f->kind))
		return SAX_E_ATTR;
	switch (n) {
	case 1:
		buf_get_u8(v, &u8);
		u64 = u8;
		break;
	case 2:
		buf_get_u16(v, &u16);
		u64 = u16;
		break;
	case 4:
		buf_get_u32(v, &u32);
		u64 = u32;
		break;
	default:
		buf_get_u64(v, &u64);
		break;
	}
	/* an optional integer is sent only when not 0 */
	if (!sax_int_ok(f, u64) || (f->opt && u64 == 0))
		return SAX_E_ATTR;
	sax_int_store(f, base, u64);
	return SAX_E_OK;
}

/* The types of a list that must appear, as bits 1 << type. */
static uint32_t sax_required(const struct sax_field *fields, size_t n)
{
	uint32_t all = 0;

	for (size_t i = 0; i < n; i++)
		if (!fields[i].opt)
			all |= 1u << fields[i].type;
	return all;
}

/*
 * A TLV list into the struct at base.  rec is the record when this is the
 * record's list (CHILD TLVs allowed), NULL otherwise.  Broken framing is
 * SAX_E_SEALED; a well-framed TLV that is wrong is SAX_E_ATTR.
 */
static enum sax_err sax_list_get(struct buf *list, const struct sax_field *fields, size_t n,
				 uint8_t *base, struct sax_record *rec)
{
	uint32_t seen = 0, all = sax_required(fields, n);

	while (buf_left(list) > 0) {
		uint16_t type, len;
		struct buf v;
		enum sax_err e;

		if (buf_get_u16(list, &type) != BUF_OK || buf_get_u16(list, &len) != BUF_OK ||
		    buf_get_child(list, len, &v) != BUF_OK)
			return SAX_E_SEALED;
		if (rec != NULL && type == SAX_T_CHILD) {
			struct sax_child *c;

			if (rec->n_children >= SAX_MAX_CHILDREN)
				return SAX_E_ATTR;
			c = &rec->children[rec->n_children++];
			e = sax_list_get(&v, sax_child_fields, N_CHILD_FIELDS, (uint8_t *)c, NULL);
			if (e != SAX_E_OK)
				return e;
			continue;
		}
		if (type == 0 || type > n) {
			if (type & SAX_TLV_OPTIONAL)
				continue;
			return SAX_E_ATTR;
		}
		if (seen & 1u << type)
			return SAX_E_ATTR; /* twice */
		e = sax_field_get(&fields[type - 1], &v, base, seen);
		if (e != SAX_E_OK)
			return e;
		seen |= 1u << type;
	}
	return (seen & all) == all ? SAX_E_OK : SAX_E_ATTR;
}

/* ---- crypto ---- */

size_t sax_aad_len(size_t mn_id_len)
{
	return 1 + 8 + 1 + mn_id_len;
}

/* The GCM additional data: Version, Expires, MN ID length, MN ID (as on the wire). */
static size_t sax_aad(uint8_t aad[SAX_AAD_MAX], uint64_t expires_ms, const char *id, size_t id_len)
{
	struct buf b;

	buf_init_write(&b, aad, SAX_AAD_MAX);
	buf_put_u8(&b, SAX_VERSION);
	buf_put_u64(&b, expires_ms);
	buf_put_u8(&b, (uint8_t)id_len);
	buf_put_bytes(&b, id, id_len);
	return buf_used(&b);
}

static enum sax_err sax_hmac(const uint8_t key[SAX_KEY_LEN], const uint8_t *data, size_t len,
			     uint8_t out[SAX_MAC_LEN])
{
	OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
								(char *)(uintptr_t) "SHA256", 0),
			       OSSL_PARAM_construct_end()};
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
	size_t outl = 0;
	enum sax_err r = SAX_E_CRYPTO;

	if (ctx != NULL && EVP_MAC_init(ctx, key, SAX_KEY_LEN, params) == 1 &&
	    EVP_MAC_update(ctx, data, len) == 1 &&
	    EVP_MAC_final(ctx, out, &outl, SAX_MAC_LEN) == 1 && outl == SAX_MAC_LEN)
		r = SAX_E_OK;
	else
		log_err("HMAC-SHA-256 failed");
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return r;
}

/*
 * AES-256-GCM of in[0..len) into out (which may be in).  Sealing writes the
 * tag; opening checks it (SAX_E_SEALED, out wiped, when it does not match).
 */
static enum sax_err sax_gcm(bool seal, const uint8_t key[SAX_KEY_LEN],
			    const uint8_t iv[SAX_GCM_IV_LEN], const uint8_t *aad, size_t aad_len,
			    const uint8_t *in, size_t len, uint8_t *out,
			    uint8_t tag[SAX_GCM_TAG_LEN])
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	enum sax_err r = SAX_E_CRYPTO;
	int aadl = 0, outl = 0, fin = 0;

	if (c == NULL || len > SAX_SEALED_MAX ||
	    EVP_CipherInit_ex2(c, EVP_aes_256_gcm(), key, iv, seal ? 1 : 0, NULL) != 1 ||
	    EVP_CipherUpdate(c, NULL, &aadl, aad, (int)aad_len) != 1 ||
	    (len > 0 && EVP_CipherUpdate(c, out, &outl, in, (int)len) != 1) ||
	    (!seal && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, SAX_GCM_TAG_LEN, tag) != 1))
		goto out;
	if (EVP_CipherFinal_ex(c, out + outl, &fin) != 1) {
		r = seal ? SAX_E_CRYPTO : SAX_E_SEALED;
		goto out;
	}
	if (seal && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, SAX_GCM_TAG_LEN, tag) != 1)
		goto out;
	r = SAX_E_OK;
out:
	if (r == SAX_E_CRYPTO)
		log_err("AES-256-GCM failed");
	if (r != SAX_E_OK)
		OPENSSL_cleanse(out, len);
	EVP_CIPHER_CTX_free(c);
	return r;
}

/* ---- build ---- */

static enum sax_err sax_header_check(const struct sax_msg *m)
{
	if (m->version != 0 && m->version != SAX_VERSION)
		return SAX_E_VERSION;
	if (m->type == 0 || m->type >= SAX_TYPE_MAX)
		return SAX_E_TYPE;
	if (m->flags != 0 && !sax_type_reason(m->type))
		return SAX_E_ATTR;
	if (m->mn_id_len == 0 || m->mn_id_len > SAX_ID_MAX ||
	    memchr(m->mn_id, 0, m->mn_id_len) != NULL)
		return SAX_E_ATTR;
	return SAX_E_OK;
}

/*
 * The Sealed field: IV, the TLVs (pt, or m->rec when pt is NULL) encrypted
 * in place, tag.  The plaintext exists only in b, and is wiped there on
 * failure by the caller.
 */
static enum sax_err sax_seal(struct buf *b, const struct sax_msg *m, const struct sax_keys *k,
			     const uint8_t *iv_given, const uint8_t *pt, size_t pt_len)
{
	uint8_t aad[SAX_AAD_MAX], *iv, *p, *tag;
	size_t aad_len = sax_aad(aad, m->expires_ms, m->mn_id, m->mn_id_len), pos;
	enum sax_err e;

	if (buf_reserve(b, SAX_GCM_IV_LEN, &iv) != BUF_OK)
		return SAX_E_NOSPACE;
	if (iv_given != NULL) {
		memcpy(iv, iv_given, SAX_GCM_IV_LEN);
	} else if (RAND_bytes(iv, SAX_GCM_IV_LEN) != 1) {
		log_err("RAND_bytes failed");
		return SAX_E_CRYPTO;
	}
	pos = buf_used(b);
	if (pt != NULL)
		e = sax_buf_err(buf_put_bytes(b, pt, pt_len));
	else if (sax_type_record(m->type))
		e = sax_record_put(b, &m->rec);
	else
		e = sax_list_put(b, sax_req_fields, N_REQ_FIELDS, (const uint8_t *)&m->req);
	if (e != SAX_E_OK)
		return e;
	pt_len = buf_used(b) - pos;
	if (SAX_SEALED_MIN + pt_len > SAX_SEALED_MAX)
		return SAX_E_NOSPACE;
	if (buf_reserve(b, SAX_GCM_TAG_LEN, &tag) != BUF_OK ||
	    buf_wptr_at(b, pos, pt_len, &p) != BUF_OK)
		return SAX_E_NOSPACE;
	return sax_gcm(true, k->k_sa, iv, aad, aad_len, p, pt_len, p, tag);
}

static enum sax_err sax_build_body(struct buf *b, const struct sax_msg *m, const struct sax_keys *k,
				   const uint8_t *iv, const uint8_t *pt, size_t pt_len, bool raw)
{
	size_t start = buf_used(b), len_pos;
	bool seal = false, copy = false;
	enum sax_err e = sax_header_check(m);
	uint8_t *mac;
	int r;

	if (e != SAX_E_OK)
		return e;
	if (m->has_record && !sax_type_record(m->type))
		return SAX_E_ATTR; /* this type carries no record */
	if (m->req.seq_top != 0 && m->req.reg_len == 0)
		return SAX_E_ATTR; /* a top goes with the registration it answers */
	if (sax_type_sealed(m->type) ||
	    (sax_type_may_seal(m->type) && (raw || m->sealed != NULL || m->req.reg_len > 0))) {
		/* a REQUEST always has its registration to seal; a STORE_DEL when given one */
		seal = k->have_k_sa &&
		       (raw || m->has_record || m->type == SAX_REQUEST || m->req.reg_len > 0);
		copy = !seal && !raw && m->sealed != NULL;
		if (!seal && !copy)
			return SAX_E_ATTR; /* nothing to seal or to copy */
		if (copy && (m->sealed_len < SAX_SEALED_MIN || m->sealed_len > SAX_SEALED_MAX))
			return SAX_E_ATTR;
	} else if (raw || m->sealed != NULL || m->req.reg_len > 0) {
		return SAX_E_ATTR; /* this type carries no Sealed field */
	}

	r = buf_put_u8(b, SAX_VERSION);
	if (r == BUF_OK)
		r = buf_put_u8(b, m->type);
	if (r == BUF_OK)
		r = buf_put_u16(b, m->flags);
	if (r == BUF_OK)
		r = buf_put_u64(b, m->timestamp_ms);
	if (r == BUF_OK)
		r = buf_put_bytes(b, m->nonce, SAX_NONCE_LEN);
	if (r == BUF_OK)
		r = buf_put_bytes(b, &m->sender.s_addr, 4);
	if (r == BUF_OK)
		r = buf_put_u64(b, m->expires_ms);
	if (r == BUF_OK)
		r = buf_put_u8(b, (uint8_t)m->mn_id_len);
	if (r == BUF_OK)
		r = buf_put_bytes(b, m->mn_id, m->mn_id_len);
	len_pos = buf_used(b);
	if (r == BUF_OK)
		r = buf_put_u16(b, 0);
	if (r != BUF_OK)
		return SAX_E_NOSPACE;

	if (seal)
		e = sax_seal(b, m, k, iv, raw ? pt : NULL, pt_len);
	else if (copy)
		e = sax_buf_err(buf_put_bytes(b, m->sealed, m->sealed_len));
	if (e != SAX_E_OK)
		return e;
	if (buf_set_u16_at(b, len_pos, (uint16_t)(buf_used(b) - len_pos - 2)) != BUF_OK ||
	    buf_reserve(b, SAX_MAC_LEN, &mac) != BUF_OK)
		return SAX_E_NOSPACE;
	return sax_hmac(k->k_db, buf_data(b) + start, buf_used(b) - start - SAX_MAC_LEN, mac);
}

/* Build, and on failure leave b as it was, with whatever was written wiped. */
static enum sax_err sax_build_with(struct buf *b, const struct sax_msg *m, const struct sax_keys *k,
				   const uint8_t *iv, const uint8_t *pt, size_t pt_len, bool raw)
{
	size_t start = buf_used(b);
	enum sax_err e = sax_build_body(b, m, k, iv, pt, pt_len, raw);
	uint8_t *p;

	if (e != SAX_E_OK && buf_used(b) > start) {
		if (buf_wptr_at(b, start, buf_used(b) - start, &p) == BUF_OK)
			OPENSSL_cleanse(p, buf_used(b) - start);
		b->wpos = start; /* buf has no truncate: the builder owns what it wrote */
	}
	return e;
}

enum sax_err sax_build(struct buf *b, const struct sax_msg *m, const struct sax_keys *k)
{
	return sax_build_with(b, m, k, NULL, NULL, 0, false);
}

enum sax_err sax_build_iv(struct buf *b, const struct sax_msg *m, const struct sax_keys *k,
			  const uint8_t iv[SAX_GCM_IV_LEN])
{
	return sax_build_with(b, m, k, iv, NULL, 0, false);
}

enum sax_err sax_build_raw(struct buf *b, const struct sax_msg *m, const struct sax_keys *k,
			   const uint8_t *iv, const uint8_t *pt, size_t pt_len)
{
	static const uint8_t none[1];

	return sax_build_with(b, m, k, iv, pt != NULL ? pt : none, pt != NULL ? pt_len : 0, true);
}

void sax_stamp(struct sax_msg *m)
{
	sax_stamp_at(m, ev_wall_ms());
}

void sax_stamp_at(struct sax_msg *m, uint64_t wall_ms)
{
	m->timestamp_ms = wall_ms;
	if (RAND_bytes(m->nonce, SAX_NONCE_LEN) != 1 &&
	    getrandom(m->nonce, SAX_NONCE_LEN, 0) != SAX_NONCE_LEN) {
		/* a repeated nonce makes receivers refuse the message: fails closed */
		log_err("no random bytes for the nonce");
		memset(m->nonce, 0, SAX_NONCE_LEN);
	}
}

/* ---- parse ---- */

/* The structure, in wire order; fills m's header and points at the MAC. */
static enum sax_err sax_parse_structure(struct buf *b, struct sax_msg *m, const uint8_t **mac)
{
	uint8_t id_len;
	uint16_t sealed_len;

	if (buf_get_u8(b, &m->version) != BUF_OK)
		return SAX_E_TRUNCATED;
	if (m->version != SAX_VERSION)
		return SAX_E_VERSION;
	if (buf_get_u8(b, &m->type) != BUF_OK)
		return SAX_E_TRUNCATED;
	if (m->type == 0 || m->type >= SAX_TYPE_MAX)
		return SAX_E_TYPE;
	if (buf_get_u16(b, &m->flags) != BUF_OK)
		return SAX_E_TRUNCATED;
	if (m->flags != 0 && !sax_type_reason(m->type))
		return SAX_E_ATTR;
	if (buf_get_u64(b, &m->timestamp_ms) != BUF_OK ||
	    buf_get_bytes(b, m->nonce, SAX_NONCE_LEN) != BUF_OK ||
	    buf_get_bytes(b, &m->sender.s_addr, 4) != BUF_OK ||
	    buf_get_u64(b, &m->expires_ms) != BUF_OK || buf_get_u8(b, &id_len) != BUF_OK)
		return SAX_E_TRUNCATED;
	if (id_len == 0)
		return SAX_E_ATTR;
	if (buf_get_bytes(b, m->mn_id, id_len) != BUF_OK)
		return SAX_E_TRUNCATED;
	m->mn_id_len = id_len;
	if (memchr(m->mn_id, 0, id_len) != NULL)
		return SAX_E_ATTR;
	if (buf_get_u16(b, &sealed_len) != BUF_OK)
		return SAX_E_TRUNCATED;
	if (sealed_len != 0 && !sax_type_may_seal(m->type))
		return SAX_E_ATTR;
	if ((sealed_len != 0 || sax_type_sealed(m->type)) &&
	    (sealed_len < SAX_SEALED_MIN || sealed_len > SAX_SEALED_MAX))
		return SAX_E_ATTR;
	if (buf_get_ptr(b, &m->sealed, sealed_len) != BUF_OK ||
	    buf_get_ptr(b, mac, SAX_MAC_LEN) != BUF_OK)
		return SAX_E_TRUNCATED;
	if (buf_expect_end(b) != BUF_OK)
		return SAX_E_TRAILING;
	m->sealed_len = sealed_len;
	if (sealed_len == 0)
		m->sealed = NULL;
	m->has_record = sax_type_record(m->type);
	return SAX_E_OK;
}

static enum sax_err sax_fresh(const struct sax_msg *m, uint64_t now_ms, uint32_t window_ms)
{
	uint64_t ts = m->timestamp_ms;

	if (window_ms == 0)
		return m->expires_ms > now_ms ? SAX_E_OK : SAX_E_STALE;
	if ((ts < now_ms && now_ms - ts > window_ms) || (ts > now_ms && ts - now_ms > window_ms))
		return SAX_E_STALE;
	if (m->expires_ms != 0 && m->expires_ms <= now_ms)
		return SAX_E_STALE;
	return SAX_E_OK;
}

/* Open the Sealed field into m->rec, or for a REQUEST or STORE_DEL into m->req. */
static enum sax_err sax_open(struct sax_msg *m, const struct sax_keys *k)
{
	uint8_t aad[SAX_AAD_MAX], pt[SAX_SEALED_MAX];
	size_t aad_len = sax_aad(aad, m->expires_ms, m->mn_id, m->mn_id_len);
	const uint8_t *iv, *ct, *tag;
	size_t ct_len = m->sealed_len - SAX_SEALED_MIN;
	struct buf s, list;
	enum sax_err e;

	buf_init_read(&s, m->sealed, m->sealed_len);
	if (buf_get_ptr(&s, &iv, SAX_GCM_IV_LEN) != BUF_OK ||
	    buf_get_ptr(&s, &ct, ct_len) != BUF_OK ||
	    buf_get_ptr(&s, &tag, SAX_GCM_TAG_LEN) != BUF_OK || buf_expect_end(&s) != BUF_OK)
		return SAX_E_SEALED; /* cannot happen after sax_parse_structure */
	e = sax_gcm(false, k->k_sa, iv, aad, aad_len, ct, ct_len, pt, (uint8_t *)(uintptr_t)tag);
	if (e == SAX_E_OK) {
		buf_init_read(&list, pt, ct_len);
		if (m->has_record)
			e = sax_list_get(&list, sax_rec_fields, N_REC_FIELDS, (uint8_t *)&m->rec,
					 &m->rec);
		else
			e = sax_list_get(&list, sax_req_fields, N_REQ_FIELDS, (uint8_t *)&m->req,
					 NULL);
	}
	OPENSSL_cleanse(pt, ct_len);
	return e;
}

/* The first of ks[0..n) whose K_DB makes the HMAC, *at its index; else SAX_E_MAC. */
static enum sax_err sax_mac_which(const uint8_t *msg, size_t len, const uint8_t *mac,
				  const struct sax_keys *const *ks, size_t n, size_t *at)
{
	uint8_t want[SAX_MAC_LEN];
	enum sax_err e = SAX_E_MAC;

	for (size_t i = 0; i < n && e == SAX_E_MAC; i++) {
		e = sax_hmac(ks[i]->k_db, msg, len, want);
		if (e == SAX_E_OK && CRYPTO_memcmp(want, mac, SAX_MAC_LEN) != 0)
			e = SAX_E_MAC;
		*at = i;
	}
	OPENSSL_cleanse(want, sizeof(want));
	return e;
}

/*
 * Open the Sealed field with the K_SA of ks[first], then of the others in
 * turn, as long as the tag does not verify (SAX_E_SEALED): a record the
 * store hands back may be sealed under another K_SA than its HMAC's K_DB
 * goes with.  Any other outcome is final: the tag verified.
 */
static enum sax_err sax_open_which(struct sax_msg *m, const struct sax_keys *const *ks, size_t n,
				   size_t first, size_t *at)
{
	enum sax_err e = SAX_E_SEALED;

	for (size_t t = 0; t < n && e == SAX_E_SEALED; t++) {
		size_t i = t == 0 ? first : t <= first ? t - 1 : t;
		sax_record_wipe(&m->rec);
		OPENSSL_cleanse(&m->req, sizeof(m->req));
		e = sax_open(m, ks[i]);
		*at = i;
	}
	return e;
}

enum sax_err sax_parse_keys(const uint8_t *msg, size_t len, const struct sax_keys *const *ks,
			    size_t n, uint64_t now_ms, uint32_t window_ms, struct sax_replay *rc,
			    struct sax_msg *m, struct sax_match *match)
{
	const uint8_t *mac = NULL;
	struct sax_match dummy;
	struct buf b;
	enum sax_err e;

	if (match == NULL)
		match = &dummy;
	memset(match, 0, sizeof(*match));
	memset(m, 0, sizeof(*m));
	if (n == 0)
		return SAX_E_MAC;
	buf_init_read(&b, msg, len);
	e = sax_parse_structure(&b, m, &mac);
	if (e == SAX_E_OK)
		e = sax_mac_which(msg, len - SAX_MAC_LEN, mac, ks, n, &match->mac);
	match->seal = match->mac;
	if (e == SAX_E_OK)
		e = sax_fresh(m, now_ms, window_ms);
	if (e == SAX_E_OK && m->sealed != NULL && ks[0]->have_k_sa)
		e = sax_open_which(m, ks, n, match->mac, &match->seal);
	if (e == SAX_E_OK && rc != NULL)
		e = sax_replay_check(rc, m->sender, m->nonce, m->timestamp_ms, now_ms);
	if (e != SAX_E_OK) {
		sax_record_wipe(&m->rec);
		OPENSSL_cleanse(&m->req, sizeof(m->req));
	}
	return e;
}

enum sax_err sax_parse(const uint8_t *msg, size_t len, const struct sax_keys *k, uint64_t now_ms,
		       uint32_t window_ms, struct sax_replay *rc, struct sax_msg *m)
{
	return sax_parse_keys(msg, len, &k, 1, now_ms, window_ms, rc, m, NULL);
}

/* ---- the replay cache ---- */

#define SAX_NIL        UINT32_MAX
#define SAX_REPLAY_MAX (1u << 24)
_Static_assert(SAX_NIL == UINT32_MAX, "an empty bucket is all one bits (sax_replay_new)");

struct sax_replay_ent {
	uint64_t ts_ms;
	uint32_t sender;
	uint32_t next; /* in its bucket's chain */
	uint8_t nonce[SAX_NONCE_LEN];
	bool live; /* false: dropped from its chain, waiting to leave the ring */
};

/*
 * A ring of entries in the order they came (the oldest at head), and a
 * chained hash table over them.  Entries leave from the head: when they
 * have aged out of the window, or when the ring is full.
 */
struct sax_replay {
	struct sax_replay_ent *ent;
	uint32_t *bucket;
	size_t max, head, count, live, mask;
	uint32_t window_ms;
};

struct sax_replay *sax_replay_new(size_t max_entries, uint32_t window_ms)
{
	struct sax_replay *rc;
	size_t nb = 1;

	if (max_entries == 0 || max_entries > SAX_REPLAY_MAX)
		return NULL;
	while (nb < 2 * max_entries)
		nb <<= 1;
	rc = calloc(1, sizeof(*rc));
	if (rc == NULL)
		return NULL;
	rc->ent = calloc(max_entries, sizeof(*rc->ent));
	rc->bucket = malloc(nb * sizeof(*rc->bucket));
	if (rc->ent == NULL || rc->bucket == NULL) {
		sax_replay_free(rc);
		return NULL;
	}
	/* Every bucket empty in one memset (fuzz_dbs_log makes a cache at each of its restarts). */
	memset(rc->bucket, 0xff, nb * sizeof(*rc->bucket));
	rc->max = max_entries;
	rc->mask = nb - 1;
	rc->window_ms = window_ms;
	return rc;
}

void sax_replay_free(struct sax_replay *rc)
{
	if (rc == NULL)
		return;
	free(rc->ent);
	free(rc->bucket);
	free(rc);
}

size_t sax_replay_size(const struct sax_replay *rc)
{
	return rc->live;
}

static size_t sax_replay_hash(const struct sax_replay *rc, uint32_t sender, const uint8_t *nonce)
{
	uint64_t a, c, h;

	memcpy(&a, nonce, 8);
	memcpy(&c, nonce + 8, 8);
	h = a ^ (c * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)sender << 29 | sender);
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 32;
	return (size_t)h & rc->mask;
}

/* Aged out: a message with this timestamp is refused as stale now. */
static bool sax_replay_aged(const struct sax_replay *rc, const struct sax_replay_ent *e,
			    uint64_t now_ms)
{
	return rc->window_ms != 0 && now_ms > e->ts_ms && now_ms - e->ts_ms > rc->window_ms;
}

static void sax_replay_unlink(struct sax_replay *rc, uint32_t i)
{
	struct sax_replay_ent *e = &rc->ent[i];
	uint32_t *p = &rc->bucket[sax_replay_hash(rc, e->sender, e->nonce)];

	while (*p != i)
		p = &rc->ent[*p].next;
	*p = e->next;
	e->live = false;
	rc->live--;
}

static void sax_replay_pop(struct sax_replay *rc)
{
	if (rc->ent[rc->head].live)
		sax_replay_unlink(rc, (uint32_t)rc->head);
	rc->head = (rc->head + 1) % rc->max;
	rc->count--;
}

enum sax_err sax_replay_check(struct sax_replay *rc, struct in_addr sender,
			      const uint8_t nonce[SAX_NONCE_LEN], uint64_t ts_ms, uint64_t now_ms)
{
	size_t h = sax_replay_hash(rc, sender.s_addr, nonce), slot;
	struct sax_replay_ent *e;

	while (rc->count > 0 &&
	       (!rc->ent[rc->head].live || sax_replay_aged(rc, &rc->ent[rc->head], now_ms)))
		sax_replay_pop(rc);
	for (uint32_t i = rc->bucket[h]; i != SAX_NIL; i = rc->ent[i].next) {
		e = &rc->ent[i];
		if (e->sender != sender.s_addr || memcmp(e->nonce, nonce, SAX_NONCE_LEN) != 0)
			continue;
		if (!sax_replay_aged(rc, e, now_ms))
			return SAX_E_REPLAY;
		sax_replay_unlink(rc, i); /* aged out, not yet at the head: remember anew */
		break;
	}
	if (rc->count == rc->max)
		sax_replay_pop(rc); /* full: the oldest goes */
	slot = (rc->head + rc->count) % rc->max;
	e = &rc->ent[slot];
	e->ts_ms = ts_ms;
	e->sender = sender.s_addr;
	memcpy(e->nonce, nonce, SAX_NONCE_LEN);
	e->live = true;
	e->next = rc->bucket[h];
	rc->bucket[h] = (uint32_t)slot;
	rc->count++;
	rc->live++;
	return SAX_E_OK;
}

/* ---- wiping ---- */

int sax_fa_keys(const uint8_t k_sa[SAX_KEY_LEN], struct sax_keys *out)
{
	static const char label[] = "mipsa sax FA to FA authentication";
	unsigned int len = 0;

	memcpy(out->k_sa, k_sa, SAX_KEY_LEN);
	out->have_k_sa = true;
	if (HMAC(EVP_sha256(), k_sa, SAX_KEY_LEN, (const uint8_t *)label, sizeof(label) - 1,
		 out->k_db, &len) == NULL ||
	    len != SAX_KEY_LEN) {
		sax_keys_wipe(out);
		return -1;
	}
	return 0;
}

void sax_record_wipe(struct sax_record *r)
{
	OPENSSL_cleanse(r, sizeof(*r));
}

void sax_keys_wipe(struct sax_keys *k)
{
	OPENSSL_cleanse(k, sizeof(*k));
}
