/*
 * IKEv1 cryptography (RFC 2409 section 5 and appendix B), all through
 * OpenSSL: the negotiated PRF (HMAC of the negotiated hash), Diffie-Hellman
 * over MODP 2048/3072 (RFC 3526, groups 14 and 15) and ECP 256 (RFC 5903,
 * group 19), the SKEYID family, phase-1 and phase-2 IVs, KEYMAT, and
 * AES-CBC for the encrypted payloads.  No state beyond what the caller
 * passes in; every secret buffer is the caller's to wipe.
 */
#ifndef MIPSA_IKE_CRYPTO_H
#define MIPSA_IKE_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IKE_MAX_HASH   32  /* SHA2-256 */
#define IKE_MAX_DH     384 /* MODP 3072 */
#define IKE_MAX_KEY    32  /* AES-256 */
#define IKE_BLOCK      16  /* AES */
#define IKE_NONCE_LEN  32
#define IKE_COOKIE_LEN 8

enum ike_hash {
	IKE_HASH_SHA1 = 2,     /* RFC 2409 attribute value */
	IKE_HASH_SHA2_256 = 4, /* RFC 4868 */
};

enum ike_group {
	IKE_GROUP_MODP2048 = 14,
	IKE_GROUP_MODP3072 = 15,
	IKE_GROUP_ECP256 = 19,
};

size_t ike_hash_len(enum ike_hash h);
bool ike_hash_supported(int h);
bool ike_group_supported(int g);
/* Bytes of a KE payload for the group (also the length of g^xy for MODP). */
size_t ike_group_ke_len(enum ike_group g);
const char *ike_hash_name(enum ike_hash h);
const char *ike_group_name(enum ike_group g);

/* A scatter list for PRF and hash input: the pieces are hashed in order. */
struct ike_chunk {
	const uint8_t *p;
	size_t len;
};
#define IKE_CHUNK(ptr, n) ((struct ike_chunk){.p = (const uint8_t *)(ptr), .len = (n)})

/* prf(key, c[0] | c[1] | ...) = HMAC-<hash>; out gets ike_hash_len(h) bytes. */
int ike_prf(enum ike_hash h, const uint8_t *key, size_t key_len, const struct ike_chunk *c,
	    size_t n, uint8_t *out);
/* The plain hash (for phase-1 and phase-2 IVs). */
int ike_hash(enum ike_hash h, const struct ike_chunk *c, size_t n, uint8_t *out);

/* A Diffie-Hellman key pair of one group. */
struct ike_dh {
	enum ike_group group;
	void *pkey; /* EVP_PKEY */
	uint8_t pub[IKE_MAX_DH];
	size_t pub_len;
};

int ike_dh_generate(struct ike_dh *dh, enum ike_group group);
/*
 * g^xy from our key and the peer's KE data: MODP values left-padded to the
 * modulus length, ECP the x coordinate (RFC 5903 7).
 */
int ike_dh_shared(const struct ike_dh *dh, const uint8_t *peer, size_t peer_len, uint8_t *out,
		  size_t *out_len);
void ike_dh_free(struct ike_dh *dh);

/* The phase-1 key material (RFC 2409 5, appendix B). */
struct ike_keys {
	enum ike_hash hash;
	size_t hash_len;
	uint8_t skeyid[IKE_MAX_HASH];
	uint8_t skeyid_d[IKE_MAX_HASH];
	uint8_t skeyid_a[IKE_MAX_HASH];
	uint8_t skeyid_e[IKE_MAX_HASH];
	uint8_t enc_key[IKE_MAX_KEY];
	size_t enc_key_len;
};

/* SKEYID for pre-shared keys: prf(psk, Ni_b | Nr_b). */
int ike_skeyid_psk(struct ike_keys *k, const uint8_t *psk, size_t psk_len, const uint8_t *ni,
		   size_t ni_len, const uint8_t *nr, size_t nr_len);
/* SKEYID for signatures: prf(Ni_b | Nr_b, g^xy). */
int ike_skeyid_sig(struct ike_keys *k, const uint8_t *ni, size_t ni_len, const uint8_t *nr,
		   size_t nr_len, const uint8_t *gxy, size_t gxy_len);
/* SKEYID_d, _a, _e and the encryption key of enc_key_len bytes (K1 | K2 ... when longer). */
int ike_skeyid_derive(struct ike_keys *k, const uint8_t *gxy, size_t gxy_len,
		      const uint8_t cky_i[IKE_COOKIE_LEN], const uint8_t cky_r[IKE_COOKIE_LEN],
		      size_t enc_key_len);

/* Phase-1 IV: hash(g^xi | g^xr), the first block. */
int ike_iv_phase1(enum ike_hash h, const uint8_t *gxi, size_t gxi_len, const uint8_t *gxr,
		  size_t gxr_len, uint8_t iv[IKE_BLOCK]);
/* Phase-2 and informational IV: hash(last phase-1 CBC block | M-ID), the first block. */
int ike_iv_phase2(enum ike_hash h, const uint8_t last_block[IKE_BLOCK], uint32_t msgid,
		  uint8_t iv[IKE_BLOCK]);

/*
 * KEYMAT for one direction (RFC 2409 5.5): prf(SKEYID_d, [g(qm)^xy |]
 * protocol | SPI | Ni_b | Nr_b), expanded K1 | K2 | ... to out_len bytes.
 */
int ike_keymat(const struct ike_keys *k, const uint8_t *gxy_qm, size_t gxy_qm_len, uint8_t protocol,
	       uint32_t spi, const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len,
	       uint8_t *out, size_t out_len);

/*
 * AES-CBC over whole blocks, no padding (the IKE layer pads); iv is updated
 * to the last ciphertext block, which chains the next message (RFC 2409 B).
 */
int ike_cbc_encrypt(const uint8_t *key, size_t key_len, uint8_t iv[IKE_BLOCK], uint8_t *data,
		    size_t len);
int ike_cbc_decrypt(const uint8_t *key, size_t key_len, uint8_t iv[IKE_BLOCK], uint8_t *data,
		    size_t len);

#endif
