/*
 * The key ring of the SA transfer messages: see sax_keyring.h for the
 * scheme (send under the old keys for one overlap, accept them for two).
 */
#include "sax_keyring.h"
#include "log.h"

#include <openssl/crypto.h>
#include <string.h>

void sax_ring_init(struct sax_keyring *r, const struct sax_keys *k)
{
	memset(r, 0, sizeof(*r));
	r->cur = *k;
}

static bool sax_keys_same(const struct sax_keys *a, const struct sax_keys *b)
{
	return a->have_k_sa == b->have_k_sa && CRYPTO_memcmp(a->k_db, b->k_db, SAX_KEY_LEN) == 0 &&
	       (!a->have_k_sa || CRYPTO_memcmp(a->k_sa, b->k_sa, SAX_KEY_LEN) == 0);
}

static void sax_ring_drop(struct sax_keyring *r)
{
	sax_keys_wipe(&r->prev);
	r->have_prev = false;
}

bool sax_ring_has_prev(const struct sax_keyring *r, uint64_t now_ms)
{
	return r->have_prev && now_ms < r->retire_ms;
}

void sax_ring_sweep(struct sax_keyring *r, uint64_t now_ms)
{
	if (r->have_prev && !sax_ring_has_prev(r, now_ms))
		sax_ring_drop(r);
}

int sax_ring_rotate(struct sax_keyring *r, const struct sax_keys *fresh, uint64_t now_ms,
		    uint32_t overlap_ms)
{
	sax_ring_sweep(r, now_ms);
	if (sax_keys_same(&r->cur, fresh))
		return 0;
	if (r->have_prev) {
		/* Two generations at most: peers still on the oldest are refused from now on. */
		log_warn("key rotation before the previous one ended: the keys before the current "
			 "ones are dropped now, not in %llu ms",
			 (unsigned long long)(r->retire_ms - now_ms));
		r->dropped++;
		sax_ring_drop(r);
	}
	r->prev = r->cur;
	r->cur = *fresh;
	r->have_prev = overlap_ms > 0;
	r->switch_ms = now_ms + overlap_ms;
	r->retire_ms = now_ms + 2 * (uint64_t)overlap_ms;
	if (!r->have_prev)
		sax_keys_wipe(&r->prev);
	r->rotations++;
	return 1;
}

const struct sax_keys *sax_ring_send(struct sax_keyring *r, uint64_t now_ms)
{
	sax_ring_sweep(r, now_ms);
	return r->have_prev && now_ms < r->switch_ms ? &r->prev : &r->cur;
}

const struct sax_keys *sax_ring_keys(const struct sax_keyring *r, enum sax_ring_slot slot)
{
	return slot == SAX_RING_PREV && r->have_prev ? &r->prev : &r->cur;
}

enum sax_err sax_ring_parse(struct sax_keyring *r, const uint8_t *msg, size_t len, uint64_t now_ms,
			    uint32_t window_ms, struct sax_replay *rc, struct sax_msg *m,
			    enum sax_ring_slot *slot)
{
	const struct sax_keys *ks[2] = {&r->cur, &r->prev};
	struct sax_match match;
	enum sax_err e;

	sax_ring_sweep(r, now_ms);
	e = sax_parse_keys(msg, len, ks, r->have_prev ? 2 : 1, now_ms, window_ms, rc, m, &match);
	if (slot != NULL)
		*slot = match.mac == 0 ? SAX_RING_CUR : SAX_RING_PREV;
	if (e == SAX_E_OK && (match.mac != 0 || match.seal != 0))
		r->rx_previous++;
	return e;
}

void sax_ring_wipe(struct sax_keyring *r)
{
	OPENSSL_cleanse(r, sizeof(*r));
}
