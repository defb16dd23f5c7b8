#include "ike_crypto.h"
#include "log.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/dh.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <string.h>

size_t ike_hash_len(enum ike_hash h)
{
	return h == IKE_HASH_SHA2_256 ? 32 : 20;
}

bool ike_hash_supported(int h)
{
	return h == IKE_HASH_SHA1 || h == IKE_HASH_SHA2_256;
}

bool ike_group_supported(int g)
{
	return g == IKE_GROUP_MODP2048 || g == IKE_GROUP_MODP3072 || g == IKE_GROUP_ECP256;
}

size_t ike_group_ke_len(enum ike_group g)
{
	switch (g) {
	case IKE_GROUP_MODP2048:
		return 256;
	case IKE_GROUP_MODP3072:
		return 384;
	case IKE_GROUP_ECP256:
		return 64;
	}
	return 0;
}

const char *ike_hash_name(enum ike_hash h)
{
	return h == IKE_HASH_SHA2_256 ? "sha256" : "sha1";
}

const char *ike_group_name(enum ike_group g)
{
	switch (g) {
	case IKE_GROUP_MODP2048:
		return "modp2048";
	case IKE_GROUP_MODP3072:
		return "modp3072";
	case IKE_GROUP_ECP256:
		return "ecp256";
	}
	return "?";
}

static const char *ike_md_name(enum ike_hash h)
{
	return h == IKE_HASH_SHA2_256 ? "SHA256" : "SHA1";
}

/*
 * HMAC, fetched from the provider once for the process: a fetch takes a
 * lock and a name lookup, most of what one prf over a short message costs
 * (the MN's whole SA-reuse step is a single prf).  Read-only once set.
 */
static EVP_MAC *ike_hmac(void)
{
	static EVP_MAC *mac;

	if (mac == NULL)
		mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	return mac;
}

int ike_prf(enum ike_hash h, const uint8_t *key, size_t key_len, const struct ike_chunk *c,
	    size_t n, uint8_t *out)
{
	OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(
				       OSSL_MAC_PARAM_DIGEST, (char *)(uintptr_t)ike_md_name(h), 0),
			       OSSL_PARAM_construct_end()};
	EVP_MAC *mac = ike_hmac();
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	size_t outl = 0;
	int r = -1;

	if (ctx == NULL || EVP_MAC_init(ctx, key, key_len, params) != 1)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (c[i].len > 0 && EVP_MAC_update(ctx, c[i].p, c[i].len) != 1)
			goto out;
	if (EVP_MAC_final(ctx, out, &outl, IKE_MAX_HASH) != 1 || outl != ike_hash_len(h))
		goto out;
	r = 0;
out:
	if (r < 0)
		log_err("HMAC-%s failed", ike_md_name(h));
	EVP_MAC_CTX_free(ctx);
	return r;
}

int ike_hash(enum ike_hash h, const struct ike_chunk *c, size_t n, uint8_t *out)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned outl = 0;
	int r = -1;

	if (ctx == NULL ||
	    EVP_DigestInit_ex(ctx, h == IKE_HASH_SHA2_256 ? EVP_sha256() : EVP_sha1(), NULL) != 1)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (c[i].len > 0 && EVP_DigestUpdate(ctx, c[i].p, c[i].len) != 1)
			goto out;
	if (EVP_DigestFinal_ex(ctx, out, &outl) != 1)
		goto out;
	r = 0;
out:
	EVP_MD_CTX_free(ctx);
	return r;
}

/* ---- Diffie-Hellman ---- */

static const char *ike_dh_ossl_group(enum ike_group g)
{
	switch (g) {
	case IKE_GROUP_MODP2048:
		return "modp_2048";
	case IKE_GROUP_MODP3072:
		return "modp_3072";
	case IKE_GROUP_ECP256:
		return "P-256";
	}
	return NULL;
}

static int ike_dh_export_pub(struct ike_dh *dh)
{
	EVP_PKEY *pkey = dh->pkey;
	size_t len = ike_group_ke_len(dh->group);

	if (dh->group == IKE_GROUP_ECP256) {
		/* RFC 5903: the KE data is x | y, without the 0x04 point prefix. */
		uint8_t enc[1 + IKE_MAX_DH];
		size_t enc_len = 0;
		if (EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, enc,
						    sizeof(enc), &enc_len) != 1 ||
		    enc_len != len + 1 || enc[0] != 0x04)
			return -1;
		memcpy(dh->pub, enc + 1, len);
	} else {
		BIGNUM *y = NULL;
		if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, &y) != 1)
			return -1;
		int r = BN_bn2binpad(y, dh->pub, (int)len);
		BN_free(y);
		if (r != (int)len)
			return -1;
	}
	dh->pub_len = len;
	return 0;
}

int ike_dh_generate(struct ike_dh *dh, enum ike_group group)
{
	const char *name = ike_dh_ossl_group(group);
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *pkey = NULL;

	memset(dh, 0, sizeof(*dh));
	dh->group = group;
	if (name == NULL)
		return -1;
	ctx = EVP_PKEY_CTX_new_from_name(NULL, group == IKE_GROUP_ECP256 ? "EC" : "DH", NULL);
	OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
								(char *)(uintptr_t)name, 0),
			       OSSL_PARAM_construct_end()};
	if (ctx == NULL || EVP_PKEY_keygen_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_params(ctx, params) != 1 || EVP_PKEY_generate(ctx, &pkey) != 1) {
		log_err("cannot generate a %s key", ike_group_name(group));
		EVP_PKEY_CTX_free(ctx);
		return -1;
	}
	EVP_PKEY_CTX_free(ctx);
	dh->pkey = pkey;
	if (ike_dh_export_pub(dh) < 0) {
		log_err("cannot export the %s public value", ike_group_name(group));
		ike_dh_free(dh);
		return -1;
	}
	return 0;
}

/* The peer's public value as an EVP_PKEY of our group. */
static EVP_PKEY *ike_dh_peer(enum ike_group group, const uint8_t *peer, size_t len)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	BIGNUM *y = NULL;
	uint8_t enc[1 + IKE_MAX_DH];

	if (bld == NULL || len != ike_group_ke_len(group) ||
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
					    ike_dh_ossl_group(group), 0) != 1)
		goto out;
	if (group == IKE_GROUP_ECP256) {
		enc[0] = 0x04;
		memcpy(enc + 1, peer, len);
		if (OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, enc, len + 1) !=
		    1)
			goto out;
	} else {
		y = BN_bin2bn(peer, (int)len, NULL);
		if (y == NULL || OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PUB_KEY, y) != 1)
			goto out;
	}
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, group == IKE_GROUP_ECP256 ? "EC" : "DH", NULL);
	if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pkey = NULL;
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(y);
	return pkey;
}

int ike_dh_shared(const struct ike_dh *dh, const uint8_t *peer, size_t peer_len, uint8_t *out,
		  size_t *out_len)
{
	EVP_PKEY *pk = ike_dh_peer(dh->group, peer, peer_len);
	EVP_PKEY_CTX *ctx = pk ? EVP_PKEY_CTX_new_from_pkey(NULL, dh->pkey, NULL) : NULL;
	size_t len = IKE_MAX_DH;
	int r = -1;

	/*
	 * derive_set_peer checks the peer's value (range for MODP, on the
	 * curve for ECP): a bad KE payload fails here, not later.  MODP
	 * results are padded to the modulus length as IKEv1 hashes them.
	 */
	if (ctx == NULL || EVP_PKEY_derive_init(ctx) != 1 ||
	    (dh->group != IKE_GROUP_ECP256 && EVP_PKEY_CTX_set_dh_pad(ctx, 1) != 1) ||
	    EVP_PKEY_derive_set_peer_ex(ctx, pk, 1) != 1 || EVP_PKEY_derive(ctx, out, &len) != 1) {
		log_rl_notice("%s: the peer's public value is not acceptable",
			      ike_group_name(dh->group));
		goto out;
	}
	*out_len = len;
	r = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(pk);
	return r;
}

void ike_dh_free(struct ike_dh *dh)
{
	EVP_PKEY_free(dh->pkey);
	dh->pkey = NULL;
}

/* ---- SKEYID and friends ---- */

int ike_skeyid_psk(struct ike_keys *k, const uint8_t *psk, size_t psk_len, const uint8_t *ni,
		   size_t ni_len, const uint8_t *nr, size_t nr_len)
{
	struct ike_chunk c[] = {IKE_CHUNK(ni, ni_len), IKE_CHUNK(nr, nr_len)};

	k->hash_len = ike_hash_len(k->hash);
	return ike_prf(k->hash, psk, psk_len, c, 2, k->skeyid);
}

int ike_skeyid_sig(struct ike_keys *k, const uint8_t *ni, size_t ni_len, const uint8_t *nr,
		   size_t nr_len, const uint8_t *gxy, size_t gxy_len)
{
	uint8_t key[2 * 256];
	struct ike_chunk c[] = {IKE_CHUNK(gxy, gxy_len)};
	int r;

	if (ni_len + nr_len > sizeof(key))
		return -1;
	memcpy(key, ni, ni_len);
	memcpy(key + ni_len, nr, nr_len);
	k->hash_len = ike_hash_len(k->hash);
	r = ike_prf(k->hash, key, ni_len + nr_len, c, 1, k->skeyid);
	OPENSSL_cleanse(key, sizeof(key));
	return r;
}

int ike_skeyid_derive(struct ike_keys *k, const uint8_t *gxy, size_t gxy_len,
		      const uint8_t cky_i[IKE_COOKIE_LEN], const uint8_t cky_r[IKE_COOKIE_LEN],
		      size_t enc_key_len)
{
	const uint8_t n0 = 0, n1 = 1, n2 = 2, zero = 0;
	size_t hl = k->hash_len;
	struct ike_chunk cd[] = {IKE_CHUNK(gxy, gxy_len), IKE_CHUNK(cky_i, IKE_COOKIE_LEN),
				 IKE_CHUNK(cky_r, IKE_COOKIE_LEN), IKE_CHUNK(&n0, 1)};
	struct ike_chunk ca[] = {IKE_CHUNK(k->skeyid_d, hl), IKE_CHUNK(gxy, gxy_len),
				 IKE_CHUNK(cky_i, IKE_COOKIE_LEN), IKE_CHUNK(cky_r, IKE_COOKIE_LEN),
				 IKE_CHUNK(&n1, 1)};
	struct ike_chunk ce[] = {IKE_CHUNK(k->skeyid_a, hl), IKE_CHUNK(gxy, gxy_len),
				 IKE_CHUNK(cky_i, IKE_COOKIE_LEN), IKE_CHUNK(cky_r, IKE_COOKIE_LEN),
				 IKE_CHUNK(&n2, 1)};

	if (enc_key_len > IKE_MAX_KEY)
		return -1;
	if (ike_prf(k->hash, k->skeyid, hl, cd, 4, k->skeyid_d) < 0 ||
	    ike_prf(k->hash, k->skeyid, hl, ca, 5, k->skeyid_a) < 0 ||
	    ike_prf(k->hash, k->skeyid, hl, ce, 5, k->skeyid_e) < 0)
		return -1;
	k->enc_key_len = enc_key_len;
	if (enc_key_len <= hl) {
		memcpy(k->enc_key, k->skeyid_e, enc_key_len);
		return 0;
	}
	/* Appendix B: Ka = K1 | K2 | ..., K1 = prf(SKEYID_e, 0), Kn = prf(SKEYID_e, Kn-1). */
	uint8_t kx[2 * IKE_MAX_HASH + IKE_MAX_KEY];
	struct ike_chunk c0[] = {IKE_CHUNK(&zero, 1)};
	if (ike_prf(k->hash, k->skeyid_e, hl, c0, 1, kx) < 0)
		return -1;
	for (size_t have = hl; have < enc_key_len; have += hl) {
		struct ike_chunk cn[] = {IKE_CHUNK(kx + have - hl, hl)};
		if (ike_prf(k->hash, k->skeyid_e, hl, cn, 1, kx + have) < 0)
			return -1;
	}
	memcpy(k->enc_key, kx, enc_key_len);
	OPENSSL_cleanse(kx, sizeof(kx));
	return 0;
}

int ike_iv_phase1(enum ike_hash h, const uint8_t *gxi, size_t gxi_len, const uint8_t *gxr,
		  size_t gxr_len, uint8_t iv[IKE_BLOCK])
{
	uint8_t d[IKE_MAX_HASH];
	struct ike_chunk c[] = {IKE_CHUNK(gxi, gxi_len), IKE_CHUNK(gxr, gxr_len)};

	if (ike_hash(h, c, 2, d) < 0)
		return -1;
	memcpy(iv, d, IKE_BLOCK);
	return 0;
}

int ike_iv_phase2(enum ike_hash h, const uint8_t last_block[IKE_BLOCK], uint32_t msgid,
		  uint8_t iv[IKE_BLOCK])
{
	uint8_t d[IKE_MAX_HASH];
	uint8_t mid[4] = {(uint8_t)(msgid >> 24), (uint8_t)(msgid >> 16), (uint8_t)(msgid >> 8),
			  (uint8_t)msgid};
	struct ike_chunk c[] = {IKE_CHUNK(last_block, IKE_BLOCK), IKE_CHUNK(mid, 4)};

	if (ike_hash(h, c, 2, d) < 0)
		return -1;
	memcpy(iv, d, IKE_BLOCK);
	return 0;
}

int ike_keymat(const struct ike_keys *k, const uint8_t *gxy_qm, size_t gxy_qm_len, uint8_t protocol,
	       uint32_t spi, const uint8_t *ni, size_t ni_len, const uint8_t *nr, size_t nr_len,
	       uint8_t *out, size_t out_len)
{
	uint8_t spib[4] = {(uint8_t)(spi >> 24), (uint8_t)(spi >> 16), (uint8_t)(spi >> 8),
			   (uint8_t)spi};
	uint8_t block[IKE_MAX_HASH];
	size_t hl = k->hash_len, have = 0;
	/* Kn = prf(SKEYID_d, Kn-1 | [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b); K0 empty */
	struct ike_chunk c[] = {IKE_CHUNK(block, 0),     IKE_CHUNK(gxy_qm, gxy_qm_len),
				IKE_CHUNK(&protocol, 1), IKE_CHUNK(spib, 4),
				IKE_CHUNK(ni, ni_len),   IKE_CHUNK(nr, nr_len)};

	while (have < out_len) {
		if (ike_prf(k->hash, k->skeyid_d, hl, c, 6, block) < 0) {
			OPENSSL_cleanse(block, sizeof(block));
			return -1;
		}
		size_t n = out_len - have < hl ? out_len - have : hl;
		memcpy(out + have, block, n);
		have += n;
		c[0].len = hl;
	}
	OPENSSL_cleanse(block, sizeof(block));
	return 0;
}

static const EVP_CIPHER *ike_aes_cbc(size_t key_len)
{
	switch (key_len) {
	case 16:
		return EVP_aes_128_cbc();
	case 24:
		return EVP_aes_192_cbc();
	case 32:
		return EVP_aes_256_cbc();
	}
	return NULL;
}

static int ike_cbc(bool enc, const uint8_t *key, size_t key_len, uint8_t iv[IKE_BLOCK],
		   uint8_t *data, size_t len)
{
	const EVP_CIPHER *c = ike_aes_cbc(key_len);
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	uint8_t next_iv[IKE_BLOCK];
	int outl = 0, r = -1;

	if (c == NULL || ctx == NULL || len == 0 || len % IKE_BLOCK != 0)
		goto out;
	/* The last ciphertext block is the next IV, whichever way we go. */
	if (!enc)
		memcpy(next_iv, data + len - IKE_BLOCK, IKE_BLOCK);
	if (EVP_CipherInit_ex(ctx, c, NULL, key, iv, enc ? 1 : 0) != 1 ||
	    EVP_CIPHER_CTX_set_padding(ctx, 0) != 1 ||
	    EVP_CipherUpdate(ctx, data, &outl, data, (int)len) != 1 || outl != (int)len)
		goto out;
	if (enc)
		memcpy(next_iv, data + len - IKE_BLOCK, IKE_BLOCK);
	memcpy(iv, next_iv, IKE_BLOCK);
	r = 0;
out:
	EVP_CIPHER_CTX_free(ctx);
	return r;
}

int ike_cbc_encrypt(const uint8_t *key, size_t key_len, uint8_t iv[IKE_BLOCK], uint8_t *data,
		    size_t len)
{
	return ike_cbc(true, key, key_len, iv, data, len);
}

int ike_cbc_decrypt(const uint8_t *key, size_t key_len, uint8_t iv[IKE_BLOCK], uint8_t *data,
		    size_t len)
{
	return ike_cbc(false, key, key_len, iv, data, len);
}
