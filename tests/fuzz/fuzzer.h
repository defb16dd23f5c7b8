/*
 * Shared helpers for the libFuzzer targets: a CHECK that aborts (so the
 * fuzzer records a crash with the failed condition), and the invariants of a
 * parsed set of registration extensions.
 */
#ifndef MIPSA_FUZZER_H
#define MIPSA_FUZZER_H

#include "mip_auth.h"
#include "mip_msg.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

static inline uint32_t fz_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* One authentication extension as parsed from msg[0..len). */
static inline void fz_check_auth(const struct mip_auth_ext *a, uint8_t type, const uint8_t *msg,
				 size_t len, size_t fixed)
{
	if (!a->present)
		return;
	CHECK(a->offset >= fixed);
	CHECK(a->covered_len == a->offset + 6);
	CHECK(a->end <= len);
	CHECK(a->end == a->covered_len + a->auth_len);
	CHECK(msg[a->offset] == type);
	CHECK(msg[a->offset + 1] == a->end - a->offset - 2);
	CHECK(a->spi == fz_be32(msg + a->offset + 2));
	CHECK(a->auth == msg + a->covered_len);
}

/* Everything a successful parse promises about its extensions. */
static inline void fz_check_exts(const struct mip_exts *x, const uint8_t *msg, size_t len,
				 size_t fixed, bool reply)
{
	if (x->nai_len == 0) {
		CHECK(x->nai == NULL);
	} else {
		CHECK(x->nai >= msg + fixed + 2);
		CHECK(x->nai + x->nai_len <= msg + len);
		CHECK(x->nai[-2] == MIP_EXT_NAI);
		CHECK(x->nai[-1] == x->nai_len);
	}
	fz_check_auth(&x->mn_ha, MIP_EXT_MN_HA_AUTH, msg, len, fixed);
	fz_check_auth(&x->mn_fa, MIP_EXT_MN_FA_AUTH, msg, len, fixed);
	fz_check_auth(&x->fa_ha, MIP_EXT_FA_HA_AUTH, msg, len, fixed);
	/*
	 * Order: the NAI before every authenticator; MN-FA and FA-HA after
	 * MN-HA, except that a reply (a denial by the FA) may carry MN-FA alone.
	 */
	if (x->fa_ha.present)
		CHECK(x->mn_ha.present && x->fa_ha.offset >= x->mn_ha.end);
	if (x->mn_fa.present && !reply)
		CHECK(x->mn_ha.present);
	if (x->mn_fa.present && x->mn_ha.present)
		CHECK(x->mn_fa.offset >= x->mn_ha.end);
	if (x->nai_len > 0 && x->mn_ha.present)
		CHECK(x->nai + x->nai_len <= msg + x->mn_ha.offset);
	if (x->nai_len > 0 && x->mn_fa.present)
		CHECK(x->nai + x->nai_len <= msg + x->mn_fa.offset);
	/* Each extension takes at least 2 bytes. */
	CHECK(fixed + 2 * (size_t)x->skipped <= len);
}

static const struct mip_key fz_keys[3] = {
	{.spi = 0x100, .key = {'f', 'u', 'z', 'z', '-', 'm', 'n', '-', 'h', 'a'}, .len = 10},
	{.spi = 0x101, .key = {'m', 'n', 'f', 'a'}, .len = 4},
	{.spi = 0x102, .key = {0}, .len = 64},
};

/* Calling the checker on whatever was parsed must be safe and give a known result. */
static inline void fz_exercise_auth(const uint8_t *msg, const struct mip_auth_ext *a)
{
	struct mip_key k = fz_keys[0];
	enum mip_auth_result r;

	k.spi = a->spi;
	r = mip_auth_check(msg, a, &k);
	CHECK(r == MIP_AUTH_OK || r == MIP_AUTH_MISSING || r == MIP_AUTH_BAD_SPI ||
	      r == MIP_AUTH_BAD_LEN || r == MIP_AUTH_MISMATCH);
	if (!a->present)
		CHECK(r == MIP_AUTH_MISSING);
	else if (a->spi < MIP_SPI_MIN)
		CHECK(r == MIP_AUTH_BAD_SPI);
	else if (a->auth_len != MIP_AUTH_LEN)
		CHECK(r == MIP_AUTH_BAD_LEN);
	else
		CHECK(r == MIP_AUTH_OK || r == MIP_AUTH_MISMATCH);
	CHECK(mip_auth_check(msg, a, NULL) == (a->present ? MIP_AUTH_BAD_SPI : MIP_AUTH_MISSING));
}

/*
 * Append to b the extensions x had, in an order the parser accepts, with
 * authenticators computed under fz_keys; returns 0 or -1.
 */
static inline int fz_put_exts(struct buf *b, const struct mip_exts *x)
{
	if (x->nai_len > 0 && mip_ext_put_nai(b, (const char *)x->nai, x->nai_len) != 0)
		return -1;
	if (x->mn_ha.present && mip_ext_put_auth(b, MIP_EXT_MN_HA_AUTH, fz_keys[0].spi,
						 fz_keys[0].key, fz_keys[0].len) != 0)
		return -1;
	if (x->encap_delivery && mip_ext_put_encap_delivery(b) != 0)
		return -1;
	if (x->mn_fa.present && mip_ext_put_auth(b, MIP_EXT_MN_FA_AUTH, fz_keys[1].spi,
						 fz_keys[1].key, fz_keys[1].len) != 0)
		return -1;
	if (x->fa_ha.present && mip_ext_put_auth(b, MIP_EXT_FA_HA_AUTH, fz_keys[2].spi,
						 fz_keys[2].key, fz_keys[2].len) != 0)
		return -1;
	return 0;
}

/* The re-parsed extensions of a message built by fz_put_exts from x. */
static inline void fz_check_rebuilt(const struct mip_exts *x, const struct mip_exts *y,
				    const uint8_t *msg)
{
	CHECK(y->nai_len == x->nai_len);
	if (x->nai_len > 0)
		CHECK(memcmp(y->nai, x->nai, x->nai_len) == 0);
	CHECK(y->encap_delivery == x->encap_delivery);
	CHECK(y->mn_ha.present == x->mn_ha.present);
	CHECK(y->mn_fa.present == x->mn_fa.present);
	CHECK(y->fa_ha.present == x->fa_ha.present);
	CHECK(y->skipped == 0);
	if (y->mn_ha.present)
		CHECK(mip_auth_check(msg, &y->mn_ha, &fz_keys[0]) == MIP_AUTH_OK);
	if (y->mn_fa.present)
		CHECK(mip_auth_check(msg, &y->mn_fa, &fz_keys[1]) == MIP_AUTH_OK);
	if (y->fa_ha.present)
		CHECK(mip_auth_check(msg, &y->fa_ha, &fz_keys[2]) == MIP_AUTH_OK);
}

#endif
