/*
 * Mobility security associations (RFC 5944 3.5): an SPI-indexed key shared
 * with one peer, used to compute HMAC-MD5 authenticators (RFC 2104) over
 * registration messages.  SPIs 0-255 are reserved by RFC 5944 and refused.
 */
#ifndef MIPSA_MIP_AUTH_H
#define MIPSA_MIP_AUTH_H

#include "mip_msg.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MIP_AUTH_LEN 16 /* HMAC-MD5 */
#define MIP_KEY_MAX  64
#define MIP_SPI_MIN  256

struct mip_key {
	uint32_t spi;
	uint8_t key[MIP_KEY_MAX];
	size_t len;
};

int mip_auth_hmac_md5(const uint8_t *key, size_t key_len, const uint8_t *data, size_t len,
		      uint8_t out[MIP_AUTH_LEN]);

enum mip_auth_result {
	MIP_AUTH_OK = 0,
	MIP_AUTH_MISSING,  /* no such extension */
	MIP_AUTH_BAD_SPI,  /* SPI unknown for this peer */
	MIP_AUTH_BAD_LEN,  /* authenticator not 16 bytes */
	MIP_AUTH_MISMATCH, /* wrong authenticator */
};

const char *mip_auth_result_name(enum mip_auth_result r);

/*
 * Check the authentication extension ext of message msg against key (which
 * may be NULL when the SPI is unknown).  Constant-time comparison.
 */
enum mip_auth_result mip_auth_check(const uint8_t *msg, const struct mip_auth_ext *ext,
				    const struct mip_key *key);

/* Wipe a key on every exit path that held one. */
void mip_key_wipe(struct mip_key *k);

#endif
