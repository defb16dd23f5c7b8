#include "mip_auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

int mip_auth_hmac_md5(const uint8_t *key, size_t key_len, const uint8_t *data, size_t len,
		      uint8_t out[MIP_AUTH_LEN])
{
	unsigned int outlen = 0;

	if (HMAC(EVP_md5(), key, (int)key_len, data, len, out, &outlen) == NULL ||
	    outlen != MIP_AUTH_LEN)
		return -1;
	return 0;
}

const char *mip_auth_result_name(enum mip_auth_result r)
{
	switch (r) {
	case MIP_AUTH_OK:
		return "ok";
	case MIP_AUTH_MISSING:
		return "missing authentication extension";
	case MIP_AUTH_BAD_SPI:
		return "unknown SPI";
	case MIP_AUTH_BAD_LEN:
		return "wrong authenticator length";
	case MIP_AUTH_MISMATCH:
		return "authenticator mismatch";
	}
	return "?";
}

enum mip_auth_result mip_auth_check(const uint8_t *msg, const struct mip_auth_ext *ext,
				    const struct mip_key *key)
{
	uint8_t mac[MIP_AUTH_LEN];
	enum mip_auth_result r;

	if (!ext->present)
		return MIP_AUTH_MISSING;
	/*
	 * SPIs 0-255 are reserved (RFC 5944 3.5.1) and no security association
	 * may use them: refuse them here rather than trust every key store.
	 */
	if (key == NULL || ext->spi < MIP_SPI_MIN || key->spi != ext->spi)
		return MIP_AUTH_BAD_SPI;
	if (ext->auth_len != MIP_AUTH_LEN)
		return MIP_AUTH_BAD_LEN;
	if (mip_auth_hmac_md5(key->key, key->len, msg, ext->covered_len, mac) < 0)
		r = MIP_AUTH_MISMATCH;
	else
		r = CRYPTO_memcmp(mac, ext->auth, MIP_AUTH_LEN) == 0 ? MIP_AUTH_OK
								     : MIP_AUTH_MISMATCH;
	OPENSSL_cleanse(mac, sizeof(mac));
	return r;
}

void mip_key_wipe(struct mip_key *k)
{
	OPENSSL_cleanse(k, sizeof(*k));
}
