#include "esp.h"
#include "log.h"

#include <inttypes.h>
#include <limits.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ESP_GCM_IV_LEN    8
#define ESP_GCM_NONCE_LEN 12
#define ESP_GCM_TAG_LEN   16
#define ESP_CBC_BLOCK     16
#define ESP_HMAC_MAX      32 /* a full SHA-256 HMAC, before truncation */

const char *esp_err_name(enum esp_err e)
{
	static const char *const names[ESP_E_MAX] = {
		[ESP_OK] = "ok",
		[ESP_E_INVAL] = "invalid argument",
		[ESP_E_NOSPACE] = "no room",
		[ESP_E_SEQ_OVERFLOW] = "sequence number overflow",
		[ESP_E_CRYPTO] = "crypto failure",
		[ESP_E_HEADER] = "bad header or length",
		[ESP_E_SPI] = "wrong SPI",
		[ESP_E_REPLAY] = "replayed or too old",
		[ESP_E_AUTH] = "ICV mismatch",
		[ESP_E_PAD] = "bad padding",
		[ESP_E_NEXT_HDR] = "next header not IPv4",
	};
	return (unsigned)e < ESP_E_MAX ? names[e] : "unknown error";
}

const char *esp_alg_name(enum esp_alg alg)
{
	switch (alg) {
	case ESP_ALG_AES_CBC_HMAC_SHA1_96:
		return "aes-cbc/hmac-sha1-96";
	case ESP_ALG_AES_CBC_HMAC_SHA256_128:
		return "aes-cbc/hmac-sha256-128";
	case ESP_ALG_AES_GCM_16:
		return "aes-gcm-16";
	case ESP_ALG_MAX:
		break;
	}
	return "?";
}

static bool esp_is_gcm(enum esp_alg alg)
{
	return alg == ESP_ALG_AES_GCM_16;
}

size_t esp_iv_len(enum esp_alg alg)
{
	return esp_is_gcm(alg) ? ESP_GCM_IV_LEN : ESP_CBC_BLOCK;
}

size_t esp_icv_len(enum esp_alg alg)
{
	return alg == ESP_ALG_AES_CBC_HMAC_SHA1_96 ? 12 : 16;
}

/* The ciphertext is a multiple of this: the cipher block, at least 4 (RFC 4303 2.4). */
static size_t esp_align(enum esp_alg alg)
{
	return esp_is_gcm(alg) ? 4 : ESP_CBC_BLOCK;
}

size_t esp_header_len(enum esp_alg alg)
{
	return ESP_HDR_LEN + esp_iv_len(alg);
}

/* Inner packet, padding and trailer, rounded up to the alignment. */
static size_t esp_padded_len(enum esp_alg alg, size_t inner_len)
{
	size_t a = esp_align(alg);

	return (inner_len + ESP_TRAILER_LEN + a - 1) / a * a;
}

size_t esp_encap_len(enum esp_alg alg, size_t inner_len)
{
	return esp_header_len(alg) + esp_padded_len(alg, inner_len) + esp_icv_len(alg);
}

size_t esp_overhead(enum esp_alg alg)
{
	return esp_header_len(alg) + esp_align(alg) - 1 + ESP_TRAILER_LEN + esp_icv_len(alg);
}

int esp_peek_spi(const uint8_t *esp, size_t len, uint32_t *spi)
{
	struct buf b;

	buf_init_read(&b, esp, len);
	if (len < ESP_HDR_LEN || buf_get_u32(&b, spi) != BUF_OK)
		return -1;
	return 0;
}

/* ---- anti-replay window (RFC 4303 3.4.3), a ring of words as in RFC 6479 ---- */

void esp_replay_init(struct esp_replay *w, uint64_t highest_seen)
{
	unsigned bit = (unsigned)(highest_seen % 64);

	memset(w, 0, sizeof(*w));
	w->top = highest_seen;
	if (highest_seen == 0)
		return;
	/*
	 * Everything up to highest_seen has been seen.  The bits above it in
	 * its own word stand for sequence numbers not yet received and must be
	 * clear: a later update in the same word does not clear them.
	 */
	memset(w->bitmap, 0xff, sizeof(w->bitmap));
	w->bitmap[highest_seen / 64 % ESP_REPLAY_WORDS] =
		bit == 63 ? UINT64_MAX : ((uint64_t)1 << (bit + 1)) - 1;
}

bool esp_replay_check(const struct esp_replay *w, uint64_t seq)
{
	uint64_t bit;

	if (seq == 0)
		return false;
	if (seq > w->top)
		return true;
	if (w->top - seq >= ESP_REPLAY_WINDOW)
		return false;
	bit = seq % ESP_REPLAY_BITS;
	return (w->bitmap[bit / 64] >> (bit % 64) & 1) == 0;
}

int esp_replay_update(struct esp_replay *w, uint64_t seq)
{
	uint64_t bit;

	if (!esp_replay_check(w, seq))
		return -1;
	if (seq > w->top) {
		/* Clear the words the window slides over: they held numbers now too old. */
		uint64_t cur = w->top / 64;
		uint64_t diff = seq / 64 - cur;

		if (diff > ESP_REPLAY_WORDS)
			diff = ESP_REPLAY_WORDS;
		for (uint64_t i = 1; i <= diff; i++)
			w->bitmap[(cur + i) % ESP_REPLAY_WORDS] = 0;
		w->top = seq;
	}
	bit = seq % ESP_REPLAY_BITS;
	w->bitmap[bit / 64] |= (uint64_t)1 << (bit % 64);
	return 0;
}

/* ---- SA set-up ---- */

static size_t esp_auth_key_len(enum esp_alg alg)
{
	switch (alg) {
	case ESP_ALG_AES_CBC_HMAC_SHA1_96:
		return 20; /* RFC 2404 3 */
	case ESP_ALG_AES_CBC_HMAC_SHA256_128:
		return 32; /* RFC 4868 2.1.1 */
	case ESP_ALG_AES_GCM_16:
	case ESP_ALG_MAX:
		break;
	}
	return 0;
}

/* ---- keyed contexts ---- */

#define ESP_N_CIPHERS 6 /* CBC and GCM, each with 128, 192 and 256-bit keys */

/* One set of keyed contexts, lent to one SA direction at a time. */
struct esp_keyed {
	struct esp_sa *owner; /* NULL: free */
	EVP_CIPHER_CTX *cipher;
	EVP_MAC_CTX *mac;     /* CBC only */
	uint8_t mac_alg;      /* the enum esp_alg mac was keyed for, + 1 (0: none) */
	uint8_t *iv_pool;     /* outbound CBC; kept allocated once made */
	uint16_t iv_pool_pos; /* while no SA holds the slot: its random bytes not used yet */
	bool used;            /* the clock's reference bit: a packet since the hand passed */
};

struct esp_cache {
	struct esp_keyed *slots;
	size_t n, hand, bound;
	EVP_CIPHER *ciphers[ESP_N_CIPHERS]; /* fetched once, on the first miss needing each */
	EVP_MAC *hmac;
	uint64_t hits, misses, evictions;
};

static size_t esp_cipher_idx(const struct esp_sa *sa)
{
	return (esp_is_gcm(sa->alg) ? 3 : 0) + (sa->enc_key_len - 16) / 8;
}

static EVP_CIPHER *esp_cipher_fetch(const struct esp_sa *sa)
{
	char name[16];

	snprintf(name, sizeof(name), "AES-%u-%s", sa->enc_key_len * 8u,
		 esp_is_gcm(sa->alg) ? "GCM" : "CBC");
	return EVP_CIPHER_fetch(NULL, name, NULL);
}

/* Key ctx (new, or keyed for another SA before) with sa's key for one direction. */
static int esp_key_cipher(const struct esp_sa *sa, EVP_CIPHER_CTX *ctx, const EVP_CIPHER *cipher,
			  bool enc)
{
	if (EVP_CipherInit_ex2(ctx, cipher, sa->enc_key, NULL, enc ? 1 : 0, NULL) != 1)
		return -1;
	/* ESP pads by its own rules (RFC 4303 2.4), not PKCS#7. */
	if (!esp_is_gcm(sa->alg) && EVP_CIPHER_CTX_set_padding(ctx, 0) != 1)
		return -1;
	return 0;
}

/* same_md: mac has sa's digest already (setting it by name fetches it: most of a re-key). */
static int esp_key_mac(const struct esp_sa *sa, EVP_MAC_CTX *mac, bool same_md)
{
	const char *md = sa->alg == ESP_ALG_AES_CBC_HMAC_SHA1_96 ? "SHA1" : "SHA256";
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)(uintptr_t)md, 0),
		OSSL_PARAM_construct_end()};

	return EVP_MAC_init(mac, sa->auth_key, sa->auth_key_len, same_md ? NULL : params) == 1 ? 0
											       : -1;
}

struct esp_cache *esp_cache_new(size_t slots)
{
	struct esp_cache *c;

	if (slots == 0 || slots > SIZE_MAX / sizeof(struct esp_keyed))
		return NULL;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->slots = calloc(slots, sizeof(*c->slots));
	if (c->slots == NULL) {
		free(c);
		return NULL;
	}
	c->n = slots;
	return c;
}

/* Take the slot from its SA, which keeps only its raw keys. */
static void esp_slot_release(struct esp_cache *c, struct esp_keyed *k)
{
	struct esp_sa *sa = k->owner;

	if (sa != NULL) {
		/*
		 * The pool's bytes not used yet are fresh random bytes, used by
		 * no one: the next outbound SA goes on with them (drawing a new
		 * pool per miss would cost more than keying).
		 */
		if (sa->iv_pool != NULL)
			k->iv_pool_pos = sa->iv_pool_pos;
		sa->enc = sa->dec = NULL;
		sa->mac = NULL;
		sa->iv_pool = NULL;
		sa->iv_pool_pos = ESP_IV_POOL;
		sa->slot = NULL;
		c->bound--;
	}
	k->owner = NULL;
	k->used = false;
}

/* Wipe the key schedules a free slot holds (the providers' free functions cleanse them). */
static void esp_slot_wipe(struct esp_keyed *k)
{
	if (k->cipher != NULL)
		EVP_CIPHER_CTX_reset(k->cipher);
	EVP_MAC_CTX_free(k->mac);
	k->mac = NULL;
	k->mac_alg = 0;
	if (k->iv_pool != NULL)
		OPENSSL_cleanse(k->iv_pool, ESP_IV_POOL);
	k->iv_pool_pos = ESP_IV_POOL;
}

void esp_cache_free(struct esp_cache *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n; i++) {
		struct esp_keyed *k = &c->slots[i];

		esp_slot_release(c, k);
		esp_slot_wipe(k);
		EVP_CIPHER_CTX_free(k->cipher);
		free(k->iv_pool);
	}
	for (size_t i = 0; i < ESP_N_CIPHERS; i++)
		EVP_CIPHER_free(c->ciphers[i]);
	EVP_MAC_free(c->hmac);
	free(c->slots);
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

void esp_cache_get_stats(const struct esp_cache *c, struct esp_cache_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (c == NULL)
		return;
	st->slots = c->n;
	st->bound = c->bound;
	st->hits = c->hits;
	st->misses = c->misses;
	st->evictions = c->evictions;
}

/* The clock algorithm: the first slot that is free or had no packet since the hand last passed. */
static struct esp_keyed *esp_cache_victim(struct esp_cache *c)
{
	for (;;) {
		struct esp_keyed *k = &c->slots[c->hand];

		c->hand = (c->hand + 1) % c->n;
		if (k->owner == NULL || !k->used)
			return k;
		k->used = false;
	}
}

/* Key slot k for sa; on failure the slot is left wiped and free. */
static int esp_slot_key(struct esp_cache *c, struct esp_keyed *k, const struct esp_sa *sa)
{
	bool out = sa->dir == ESP_DIR_OUT;
	size_t i = esp_cipher_idx(sa);

	if ((c->ciphers[i] == NULL && (c->ciphers[i] = esp_cipher_fetch(sa)) == NULL) ||
	    (k->cipher == NULL && (k->cipher = EVP_CIPHER_CTX_new()) == NULL) ||
	    esp_key_cipher(sa, k->cipher, c->ciphers[i], out) != 0)
		return -1;
	if (esp_is_gcm(sa->alg)) {
		/* An HMAC key an earlier SA left must not stay in memory unused. */
		EVP_MAC_CTX_free(k->mac);
		k->mac = NULL;
		k->mac_alg = 0;
		return 0;
	}
	if ((c->hmac == NULL && (c->hmac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL) ||
	    (k->mac == NULL && (k->mac = EVP_MAC_CTX_new(c->hmac)) == NULL) ||
	    esp_key_mac(sa, k->mac, k->mac_alg == sa->alg + 1) != 0) {
		k->mac_alg = 0;
		return -1;
	}
	k->mac_alg = (uint8_t)(sa->alg + 1);
	if (out && k->iv_pool == NULL) {
		if ((k->iv_pool = malloc(ESP_IV_POOL)) == NULL)
			return -1;
		k->iv_pool_pos = ESP_IV_POOL; /* empty: drawn on the first packet */
	}
	return 0;
}

/*
 * Give sa keyed contexts before a packet: a hit marks its slot used; a
 * miss keys the clock's victim, taking it from the SA that had it.
 */
static int esp_sa_bind(struct esp_sa *sa)
{
	struct esp_cache *c = sa->cache;
	struct esp_keyed *k = sa->slot;

	if (k != NULL) {
		k->used = true;
		c->hits++;
		return 0;
	}
	c->misses++;
	k = esp_cache_victim(c);
	if (k->owner != NULL) {
		c->evictions++;
		esp_slot_release(c, k);
	}
	if (esp_slot_key(c, k, sa) != 0) {
		esp_slot_wipe(k);
		log_rl_warn("SPI 0x%08" PRIx32 ": cannot key %s", sa->spi, esp_alg_name(sa->alg));
		return -1;
	}
	k->owner = sa;
	k->used = true;
	c->bound++;
	sa->slot = k;
	if (sa->dir == ESP_DIR_OUT)
		sa->enc = k->cipher;
	else
		sa->dec = k->cipher;
	sa->mac = k->mac;
	sa->iv_pool = sa->dir == ESP_DIR_OUT ? k->iv_pool : NULL;
	sa->iv_pool_pos = k->iv_pool_pos;
	return 0;
}

int esp_sa_prepare(struct esp_sa *sa)
{
	return sa->cache == NULL || sa->slot != NULL ? 0 : esp_sa_bind(sa);
}

void esp_sa_clear(struct esp_sa *sa)
{
	if (sa->slot != NULL) {
		struct esp_keyed *k = sa->slot;

		esp_slot_release(sa->cache, k);
		esp_slot_wipe(k);
	} else if (sa->cache == NULL) {
		/* The free functions wipe OpenSSL's copies of the key schedules. */
		EVP_CIPHER_CTX_free(sa->enc);
		EVP_CIPHER_CTX_free(sa->dec);
		EVP_MAC_CTX_free(sa->mac);
		free(sa->iv_pool);
	}
	OPENSSL_cleanse(sa, sizeof(*sa));
}

/* Key the SA's own cipher context(s) (and HMAC context) once for its life. */
static int esp_sa_key(struct esp_sa *sa)
{
	EVP_CIPHER *cipher = esp_cipher_fetch(sa);
	EVP_MAC *hmac = NULL;
	bool out = sa->dir != ESP_DIR_IN, in = sa->dir != ESP_DIR_OUT;
	int r = -1;

	if (cipher == NULL ||
	    (out && ((sa->enc = EVP_CIPHER_CTX_new()) == NULL ||
		     esp_key_cipher(sa, sa->enc, cipher, true) != 0)) ||
	    (in && ((sa->dec = EVP_CIPHER_CTX_new()) == NULL ||
		    esp_key_cipher(sa, sa->dec, cipher, false) != 0)))
		goto done;
	if (esp_is_gcm(sa->alg)) {
		r = 0;
		goto done;
	}
	if (out && (sa->iv_pool = malloc(ESP_IV_POOL)) == NULL)
		goto done;
	hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	sa->mac = hmac != NULL ? EVP_MAC_CTX_new(hmac) : NULL;
	if (sa->mac == NULL || esp_key_mac(sa, sa->mac, false) != 0)
		goto done;
	r = 0;
done:
	if (r != 0)
		log_err("SPI 0x%08" PRIx32 ": cannot set up %s", sa->spi, esp_alg_name(sa->alg));
	EVP_CIPHER_free(cipher); /* the contexts keep their own references */
	EVP_MAC_free(hmac);
	return r;
}

enum esp_err esp_sa_init(struct esp_sa *sa, uint32_t spi, enum esp_alg alg, const uint8_t *enc_key,
			 size_t enc_len, const uint8_t *auth_key, size_t auth_len)
{
	return esp_sa_init_dir(sa, ESP_DIR_BOTH, spi, alg, enc_key, enc_len, auth_key, auth_len);
}

/* Check the arguments and take the raw keys; nothing keyed yet. */
static enum esp_err esp_sa_setup(struct esp_sa *sa, enum esp_dir dir, uint32_t spi,
				 enum esp_alg alg, const uint8_t *enc_key, size_t enc_len,
				 const uint8_t *auth_key, size_t auth_len)
{
	size_t key_len = enc_len;

	memset(sa, 0, sizeof(*sa));
	if ((unsigned)alg >= ESP_ALG_MAX || spi < ESP_SPI_MIN || enc_key == NULL ||
	    (unsigned)dir > ESP_DIR_IN)
		return ESP_E_INVAL;
	if (esp_is_gcm(alg)) {
		/* RFC 4106 8.1: the key material is the AES key followed by a 4-byte salt. */
		if (enc_len < ESP_GCM_SALT_LEN || auth_key != NULL || auth_len != 0)
			return ESP_E_INVAL;
		key_len = enc_len - ESP_GCM_SALT_LEN;
	} else if (auth_key == NULL || auth_len != esp_auth_key_len(alg)) {
		return ESP_E_INVAL;
	}
	if (key_len != 16 && key_len != 24 && key_len != 32)
		return ESP_E_INVAL;

	sa->spi = spi;
	sa->alg = alg;
	sa->dir = (uint8_t)dir;
	memcpy(sa->enc_key, enc_key, key_len);
	sa->enc_key_len = (uint8_t)key_len;
	if (esp_is_gcm(alg)) {
		memcpy(sa->salt, enc_key + key_len, ESP_GCM_SALT_LEN);
	} else {
		memcpy(sa->auth_key, auth_key, auth_len);
		sa->auth_key_len = (uint8_t)auth_len;
	}
	sa->iv_len = (uint8_t)esp_iv_len(alg);
	sa->icv_len = (uint8_t)esp_icv_len(alg);
	sa->align = (uint8_t)esp_align(alg);
	sa->iv_pool_pos = ESP_IV_POOL; /* empty: filled on the first CBC packet */
	return ESP_OK;
}

enum esp_err esp_sa_init_dir(struct esp_sa *sa, enum esp_dir dir, uint32_t spi, enum esp_alg alg,
			     const uint8_t *enc_key, size_t enc_len, const uint8_t *auth_key,
			     size_t auth_len)
{
	enum esp_err r = esp_sa_setup(sa, dir, spi, alg, enc_key, enc_len, auth_key, auth_len);

	if (r != ESP_OK) {
		OPENSSL_cleanse(sa, sizeof(*sa));
		return r;
	}
	if (esp_sa_key(sa) != 0) {
		esp_sa_clear(sa);
		return ESP_E_CRYPTO;
	}
	return ESP_OK;
}

enum esp_err esp_sa_init_cached(struct esp_sa *sa, struct esp_cache *cache, enum esp_dir dir,
				uint32_t spi, enum esp_alg alg, const uint8_t *enc_key,
				size_t enc_len, const uint8_t *auth_key, size_t auth_len)
{
	enum esp_err r;

	if (cache == NULL)
		return esp_sa_init_dir(sa, dir, spi, alg, enc_key, enc_len, auth_key, auth_len);
	/* A slot keys one direction: an SA for both would need two. */
	if (dir != ESP_DIR_IN && dir != ESP_DIR_OUT) {
		memset(sa, 0, sizeof(*sa));
		return ESP_E_INVAL;
	}
	r = esp_sa_setup(sa, dir, spi, alg, enc_key, enc_len, auth_key, auth_len);
	if (r != ESP_OK) {
		OPENSSL_cleanse(sa, sizeof(*sa));
		return r;
	}
	sa->cache = cache;
	return ESP_OK;
}

void esp_sa_export_state(const struct esp_sa *sa, struct esp_sa_state *st)
{
	st->seq_out = sa->seq_out;
	st->replay = sa->replay;
}

enum esp_err esp_sa_import_state(struct esp_sa *sa, const struct esp_sa_state *st)
{
	if (st->seq_out < sa->seq_out || st->seq_out > ESP_SEQ_MAX || st->replay.top > ESP_SEQ_MAX)
		return ESP_E_INVAL;
	sa->seq_out = st->seq_out;
	sa->replay = st->replay;
	return ESP_OK;
}

uint64_t esp_sa_seq_left(const struct esp_sa *sa)
{
	return sa->seq_out < ESP_SEQ_MAX ? ESP_SEQ_MAX - sa->seq_out : 0;
}

/* ---- the crypto layers ---- */

/* The truncated HMAC of data, through the keyed context: no key derivation per packet. */
static int esp_hmac(struct esp_sa *sa, const uint8_t *data, size_t len, uint8_t *icv)
{
	uint8_t full[ESP_HMAC_MAX];
	size_t outl = 0;

	if (EVP_MAC_init(sa->mac, NULL, 0, NULL) != 1 || EVP_MAC_update(sa->mac, data, len) != 1 ||
	    EVP_MAC_final(sa->mac, full, &outl, sizeof(full)) != 1 || outl < sa->icv_len)
		return -1;
	memcpy(icv, full, sa->icv_len);
	return 0;
}

enum esp_err esp_icv_compute(struct esp_sa *sa, const uint8_t *data, size_t len, uint8_t *icv)
{
	if (sa->mac == NULL)
		return ESP_E_INVAL;
	return esp_hmac(sa, data, len, icv) == 0 ? ESP_OK : ESP_E_CRYPTO;
}

/* AES-CBC of len bytes (whole blocks) with the given IV; out may equal in. */
static int esp_cbc(struct esp_sa *sa, bool enc, const uint8_t *iv, const uint8_t *in, size_t len,
		   uint8_t *out)
{
	EVP_CIPHER_CTX *ctx = enc ? sa->enc : sa->dec;
	uint8_t fin[ESP_CBC_BLOCK];
	int outl = 0, finl = 0;

	if (len > INT_MAX || len % ESP_CBC_BLOCK != 0)
		return -1;
	/* A new IV on the keyed context: the key schedule is kept. */
	if (EVP_CipherInit_ex2(ctx, NULL, NULL, iv, enc ? 1 : 0, NULL) != 1 ||
	    EVP_CipherUpdate(ctx, out, &outl, in, (int)len) != 1 || (size_t)outl != len ||
	    EVP_CipherFinal_ex(ctx, fin, &finl) != 1 || finl != 0)
		return -1;
	return 0;
}

static void esp_gcm_nonce(const struct esp_sa *sa, const uint8_t iv8[ESP_GCM_IV_LEN],
			  uint8_t nonce[ESP_GCM_NONCE_LEN])
{
	memcpy(nonce, sa->salt, ESP_GCM_SALT_LEN);
	memcpy(nonce + ESP_GCM_SALT_LEN, iv8, ESP_GCM_IV_LEN);
}

enum esp_err esp_aead_seal(struct esp_sa *sa, const uint8_t iv8[8], const uint8_t *aad,
			   size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
			   uint8_t tag[16])
{
	uint8_t nonce[ESP_GCM_NONCE_LEN], fin[ESP_CBC_BLOCK];
	int outl = 0, finl = 0;

	if (!esp_is_gcm(sa->alg) || sa->enc == NULL || len > INT_MAX || aad_len > INT_MAX)
		return ESP_E_INVAL;
	esp_gcm_nonce(sa, iv8, nonce);
	if (EVP_EncryptInit_ex2(sa->enc, NULL, NULL, nonce, NULL) != 1 ||
	    (aad_len > 0 && EVP_EncryptUpdate(sa->enc, NULL, &outl, aad, (int)aad_len) != 1) ||
	    (len > 0 &&
	     (EVP_EncryptUpdate(sa->enc, out, &outl, in, (int)len) != 1 || (size_t)outl != len)) ||
	    EVP_EncryptFinal_ex(sa->enc, fin, &finl) != 1 || finl != 0 ||
	    EVP_CIPHER_CTX_ctrl(sa->enc, EVP_CTRL_AEAD_GET_TAG, ESP_GCM_TAG_LEN, tag) != 1)
		return ESP_E_CRYPTO;
	return ESP_OK;
}

enum esp_err esp_aead_open(struct esp_sa *sa, const uint8_t iv8[8], const uint8_t *aad,
			   size_t aad_len, const uint8_t *in, size_t len, const uint8_t tag[16],
			   uint8_t *out)
{
	uint8_t nonce[ESP_GCM_NONCE_LEN], fin[ESP_CBC_BLOCK];
	int outl = 0, finl = 0;

	if (!esp_is_gcm(sa->alg) || sa->dec == NULL || len > INT_MAX || aad_len > INT_MAX)
		return ESP_E_INVAL;
	esp_gcm_nonce(sa, iv8, nonce);
	if (EVP_DecryptInit_ex2(sa->dec, NULL, NULL, nonce, NULL) != 1 ||
	    (aad_len > 0 && EVP_DecryptUpdate(sa->dec, NULL, &outl, aad, (int)aad_len) != 1) ||
	    (len > 0 &&
	     (EVP_DecryptUpdate(sa->dec, out, &outl, in, (int)len) != 1 || (size_t)outl != len)) ||
	    EVP_CIPHER_CTX_ctrl(sa->dec, EVP_CTRL_AEAD_SET_TAG, ESP_GCM_TAG_LEN,
				(void *)(uintptr_t)tag) != 1) {
		if (len > 0)
			OPENSSL_cleanse(out, len);
		return ESP_E_CRYPTO;
	}
	if (EVP_DecryptFinal_ex(sa->dec, fin, &finl) != 1) {
		/* Never hand out plaintext whose tag did not verify. */
		if (len > 0)
			OPENSSL_cleanse(out, len);
		return ESP_E_AUTH;
	}
	return ESP_OK;
}

/* ---- outbound ---- */

/* The next random CBC IV, from a block of RAND output drawn ESP_IV_POOL bytes at a time. */
static int esp_cbc_iv(struct esp_sa *sa, uint8_t iv[ESP_CBC_BLOCK])
{
	if (sa->iv_pool == NULL)
		return -1;
	if (sa->iv_pool_pos > ESP_IV_POOL - ESP_CBC_BLOCK) {
		if (RAND_bytes(sa->iv_pool, ESP_IV_POOL) != 1)
			return -1;
		sa->iv_pool_pos = 0;
	}
	memcpy(iv, sa->iv_pool + sa->iv_pool_pos, ESP_CBC_BLOCK);
	sa->iv_pool_pos += ESP_CBC_BLOCK;
	return 0;
}

static void esp_put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

/*
 * Build SPI .. ICV at the end of out.  raw: data is the whole plaintext
 * (trailer included) as the caller made it; otherwise data is the inner
 * packet and the padding and trailer are added here.  iv_in NULL: a random
 * IV (CBC) or the sequence number (GCM).
 */
static enum esp_err esp_seal(struct esp_sa *sa, const uint8_t *iv_in, const uint8_t *data,
			     size_t len, bool raw, struct buf *out)
{
	uint8_t iv[ESP_MAX_IV_LEN];
	size_t hdr, ptlen, total, mark;
	uint8_t *p, *ct;
	struct buf h;
	uint64_t seq;

	if (sa->dir == ESP_DIR_IN || (sa->enc == NULL && sa->cache == NULL) ||
	    len > ESP_MAX_INNER || (data == NULL && len > 0) ||
	    (raw && (len < ESP_TRAILER_LEN || len % sa->align != 0))) {
		sa->stats.out_errors++;
		return ESP_E_INVAL;
	}
	if (sa->seq_out >= ESP_SEQ_MAX) {
		/* RFC 4303 3.3.3: never let the counter cycle; the caller rekeys. */
		sa->stats.out_seq_overflow++;
		log_rl_warn("SPI 0x%08" PRIx32 ": sequence numbers used up, rekey needed", sa->spi);
		return ESP_E_SEQ_OVERFLOW;
	}
	hdr = ESP_HDR_LEN + sa->iv_len;
	ptlen = raw ? len : esp_padded_len(sa->alg, len);
	total = hdr + ptlen + sa->icv_len;
	if (out->readonly || buf_room(out) < total) {
		sa->stats.out_errors++;
		return ESP_E_NOSPACE;
	}
	if ((sa->cache != NULL && esp_sa_bind(sa) != 0) || sa->enc == NULL) {
		sa->stats.out_errors++;
		return ESP_E_CRYPTO;
	}
	seq = sa->seq_out + 1;
	if (iv_in != NULL) {
		memcpy(iv, iv_in, sa->iv_len);
	} else if (esp_is_gcm(sa->alg)) {
		esp_put_be64(iv, seq); /* unique per key: the counter never repeats */
	} else if (esp_cbc_iv(sa, iv) != 0) {
		sa->stats.out_errors++;
		return ESP_E_CRYPTO;
	}

	mark = buf_used(out);
	if (buf_reserve(out, total, &p) != BUF_OK) {
		sa->stats.out_errors++;
		return ESP_E_NOSPACE;
	}
	ct = p + hdr;
	/* The payload first: data may overlap out's storage, header included. */
	if (len > 0)
		memmove(ct, data, len);
	if (!raw) {
		/* RFC 4303 2.4: padding bytes 1, 2, 3, ..., then Pad Length and Next Header. */
		size_t pad = ptlen - ESP_TRAILER_LEN - len;

		for (size_t i = 0; i < pad; i++)
			ct[len + i] = (uint8_t)(i + 1);
		ct[ptlen - 2] = (uint8_t)pad;
		ct[ptlen - 1] = ESP_NEXT_IPV4;
	}
	buf_init_write(&h, p, hdr);
	if (buf_put_u32(&h, sa->spi) != BUF_OK || buf_put_u32(&h, (uint32_t)seq) != BUF_OK ||
	    buf_put_bytes(&h, iv, sa->iv_len) != BUF_OK)
		goto fail;
	/* Used up from here on, whatever happens: a GCM nonce must never come back. */
	sa->seq_out = seq;
	if (esp_is_gcm(sa->alg)) {
		/* AAD: SPI and Sequence Number (RFC 4106 5, no ESN). */
		if (esp_aead_seal(sa, iv, p, ESP_HDR_LEN, ct, ptlen, ct, ct + ptlen) != ESP_OK)
			goto fail;
	} else if (esp_cbc(sa, true, iv, ct, ptlen, ct) != 0 ||
		   esp_hmac(sa, p, hdr + ptlen, ct + ptlen) != 0) {
		goto fail;
	}
	sa->stats.out_packets++;
	sa->stats.out_bytes += len;
	return ESP_OK;
fail:
	OPENSSL_cleanse(p, total);
	out->wpos = mark; /* a failed call leaves the buffer as it was */
	sa->stats.out_errors++;
	log_rl_warn("SPI 0x%08" PRIx32 ": encryption failed", sa->spi);
	return ESP_E_CRYPTO;
}

enum esp_err esp_encap(struct esp_sa *sa, const uint8_t *inner, size_t len, struct buf *out)
{
	return esp_seal(sa, NULL, inner, len, false, out);
}

enum esp_err esp_encap_iv(struct esp_sa *sa, const uint8_t *iv, const uint8_t *inner, size_t len,
			  struct buf *out)
{
	return esp_seal(sa, iv, inner, len, false, out);
}

enum esp_err esp_seal_raw(struct esp_sa *sa, const uint8_t *iv, const uint8_t *pt, size_t len,
			  struct buf *out)
{
	return esp_seal(sa, iv, pt, len, true, out);
}

/* ---- inbound ---- */

enum esp_err esp_decap(struct esp_sa *sa, const uint8_t *esp, size_t len, uint8_t *inner,
		       size_t cap, size_t *inner_len)
{
	uint8_t icv_calc[ESP_MAX_ICV_LEN];
	const uint8_t *iv, *ct, *icv;
	uint32_t spi, seq;
	size_t ctlen, pad;
	enum esp_err r;
	struct buf b;
	uint8_t nh;

	*inner_len = 0;
	if (sa->dir == ESP_DIR_OUT || (sa->dec == NULL && sa->cache == NULL)) {
		sa->stats.in_errors++;
		return ESP_E_INVAL;
	}
	buf_init_read(&b, esp, len);
	if (buf_get_u32(&b, &spi) != BUF_OK || buf_get_u32(&b, &seq) != BUF_OK ||
	    buf_get_ptr(&b, &iv, sa->iv_len) != BUF_OK || buf_left(&b) < sa->icv_len + sa->align) {
		sa->stats.in_drop_header++;
		log_rl_debug("SPI 0x%08" PRIx32 ": %zu-byte packet too short", sa->spi, len);
		return ESP_E_HEADER;
	}
	ctlen = buf_left(&b) - sa->icv_len;
	if (ctlen % sa->align != 0) {
		sa->stats.in_drop_header++;
		log_rl_debug("SPI 0x%08" PRIx32 ": ciphertext of %zu bytes is not whole blocks",
			     sa->spi, ctlen);
		return ESP_E_HEADER;
	}
	if (buf_get_ptr(&b, &ct, ctlen) != BUF_OK || buf_get_ptr(&b, &icv, sa->icv_len) != BUF_OK ||
	    buf_expect_end(&b) != BUF_OK) {
		sa->stats.in_drop_header++;
		return ESP_E_HEADER;
	}
	if (spi != sa->spi) {
		sa->stats.in_drop_spi++;
		log_rl_debug("SPI 0x%08" PRIx32 ": packet for SPI 0x%08" PRIx32, sa->spi, spi);
		return ESP_E_SPI;
	}
	/* RFC 4303 3.4.3: duplicates and old packets go before any crypto... */
	if (!esp_replay_check(&sa->replay, seq)) {
		sa->stats.in_drop_replay++;
		log_rl_debug("SPI 0x%08" PRIx32 ": sequence number %" PRIu32
			     " replayed or too old (highest %" PRIu64 ")",
			     sa->spi, seq, sa->replay.top);
		return ESP_E_REPLAY;
	}
	if (inner == NULL || cap < ctlen) {
		sa->stats.in_errors++;
		return ESP_E_NOSPACE;
	}
	/* Keyed contexts only for a packet that got this far: no garbage costs a miss. */
	if ((sa->cache != NULL && esp_sa_bind(sa) != 0) || sa->dec == NULL) {
		sa->stats.in_errors++;
		return ESP_E_CRYPTO;
	}
	if (esp_is_gcm(sa->alg)) {
		r = esp_aead_open(sa, iv, esp, ESP_HDR_LEN, ct, ctlen, icv, inner);
	} else if (esp_hmac(sa, esp, len - sa->icv_len, icv_calc) != 0) {
		r = ESP_E_CRYPTO;
	} else if (CRYPTO_memcmp(icv_calc, icv, sa->icv_len) != 0) {
		r = ESP_E_AUTH;
	} else {
		/* Encrypt-then-MAC: only an authentic ciphertext is decrypted. */
		r = esp_cbc(sa, false, iv, ct, ctlen, inner) == 0 ? ESP_OK : ESP_E_CRYPTO;
		if (r != ESP_OK)
			OPENSSL_cleanse(inner, ctlen);
	}
	if (r == ESP_E_AUTH) {
		sa->stats.in_drop_auth++;
		log_rl_info("SPI 0x%08" PRIx32 ": ICV mismatch, sequence number %" PRIu32, sa->spi,
			    seq);
		return r;
	}
	if (r != ESP_OK) {
		sa->stats.in_errors++;
		log_rl_warn("SPI 0x%08" PRIx32 ": decryption failed", sa->spi);
		return r;
	}
	/* ...and only a packet whose ICV verified moves the window. */
	(void)esp_replay_update(&sa->replay, seq);

	pad = inner[ctlen - 2];
	nh = inner[ctlen - 1];
	r = ESP_OK;
	if (pad > ctlen - ESP_TRAILER_LEN) {
		r = ESP_E_PAD;
	} else {
		const uint8_t *pp = inner + ctlen - ESP_TRAILER_LEN - pad;

		for (size_t i = 0; i < pad; i++)
			if (pp[i] != (uint8_t)(i + 1))
				r = ESP_E_PAD;
	}
	if (r == ESP_OK && nh != ESP_NEXT_IPV4)
		r = ESP_E_NEXT_HDR;
	if (r != ESP_OK) {
		OPENSSL_cleanse(inner, ctlen);
		if (r == ESP_E_PAD)
			sa->stats.in_drop_pad++;
		else
			sa->stats.in_drop_next_hdr++;
		log_rl_notice("SPI 0x%08" PRIx32 ": authentic packet %" PRIu32
			      " dropped: %s (pad length %zu, next header %u)",
			      sa->spi, seq, esp_err_name(r), pad, nh);
		return r;
	}
	*inner_len = ctlen - ESP_TRAILER_LEN - pad;
	sa->stats.in_packets++;
	sa->stats.in_bytes += *inner_len;
	return ESP_OK;
}
