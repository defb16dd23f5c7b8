/*
 * ESP (RFC 4303) in tunnel mode, in userspace: the kernel has no ESP module
 * here, so the IPsec data plane on the access link is this file.
 *
 * Algorithms:
 *   ESP_ALG_AES_CBC_HMAC_SHA1_96    AES-CBC (RFC 3602), 128/192/256-bit keys,
 *                                   with HMAC-SHA1-96 (RFC 2404, 160-bit key)
 *   ESP_ALG_AES_CBC_HMAC_SHA256_128 AES-CBC with HMAC-SHA-256-128 (RFC 4868,
 *                                   256-bit key)
 *   ESP_ALG_AES_GCM_16              AES-GCM with a 16-byte ICV (RFC 4106);
 *                                   key material is key || 4-byte salt
 * The AES key size follows from the length of the key material.
 *
 * Tunnel mode only: the payload is a whole inner IPv4 packet and the Next
 * Header field is 4.  No extended sequence numbers: the wire carries the low
 * 32 bits of a 64-bit counter, and an SA refuses to send once the next
 * number would pass 2^32 - 1 (ESP_E_SEQ_OVERFLOW: rekey).
 *
 * Packet layout (what esp_encap writes and esp_decap reads; the outer IPv4
 * header is the caller's):
 *
 *   SPI (4) | Sequence Number (4) | IV (16 CBC, 8 GCM) |
 *   encrypted: inner packet | padding 1, 2, 3, ... | Pad Length | Next Header |
 *   ICV (12 SHA1-96, 16 SHA-256-128, 16 GCM)
 *
 * CBC IVs are random (RFC 3602 3), drawn from OpenSSL's RAND in blocks of
 * ESP_IV_POOL bytes.  The GCM explicit IV is the 64-bit sequence counter,
 * unique per key (RFC 4106 3.1, 8.1); the AAD is SPI || Sequence Number.
 *
 * Inbound order (RFC 4303 3.4): SPI, then the anti-replay window is *checked*
 * (cheap rejection of duplicates and old packets), then the ICV, and only a
 * packet whose ICV verified updates the window; then padding and Next Header.
 *
 * Everything here is pure: no sockets, no global state (apart from the
 * rate limiters of the log lines a peer can trigger).  An esp_sa is not
 * thread-safe; one thread owns it.
 */
#ifndef MIPSA_ESP_H
#define MIPSA_ESP_H

#include "buf.h"

#include <openssl/types.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ESP_HDR_LEN      8          /* SPI and Sequence Number */
#define ESP_TRAILER_LEN  2          /* Pad Length and Next Header */
#define ESP_NEXT_IPV4    4          /* Next Header of a tunnel-mode packet */
#define ESP_SPI_MIN      256        /* 0 is local, 1-255 reserved by IANA (RFC 4303 2.1) */
#define ESP_SEQ_MAX      UINT32_MAX /* the last sequence number an SA may send */
#define ESP_GCM_SALT_LEN 4
#define ESP_MAX_KEY_LEN  32 /* AES-256 */
#define ESP_MAX_AUTH_KEY 32 /* HMAC-SHA-256 */
#define ESP_MAX_IV_LEN   16
#define ESP_MAX_ICV_LEN  16
#define ESP_MAX_INNER    65535 /* an inner IPv4 packet */
#define ESP_IV_POOL      256   /* random bytes drawn at once for CBC IVs: 16 packets */

/* The anti-replay window: a ring of 64-bit words (RFC 6479). */
#define ESP_REPLAY_WORDS 17 /* a window of 1024 */
#define ESP_REPLAY_BITS  (ESP_REPLAY_WORDS * 64)
/* Packets tracked behind the highest one seen: one word less than the ring. */
#define ESP_REPLAY_WINDOW (ESP_REPLAY_BITS - 64)

enum esp_alg {
	ESP_ALG_AES_CBC_HMAC_SHA1_96 = 0,
	ESP_ALG_AES_CBC_HMAC_SHA256_128,
	ESP_ALG_AES_GCM_16,
	ESP_ALG_MAX
};

enum esp_err {
	ESP_OK = 0,
	ESP_E_INVAL,        /* bad argument: algorithm, key length, SPI, state (local) */
	ESP_E_NOSPACE,      /* the output buffer is too small (local) */
	ESP_E_SEQ_OVERFLOW, /* the outbound counter is used up: rekey */
	ESP_E_CRYPTO,       /* OpenSSL failed (local) */
	ESP_E_HEADER,       /* truncated, or the ciphertext is not whole blocks */
	ESP_E_SPI,          /* not this SA's SPI */
	ESP_E_REPLAY,       /* sequence number 0, already seen, or left of the window */
	ESP_E_AUTH,         /* ICV mismatch */
	ESP_E_PAD,          /* pad length beyond the payload, or padding not 1, 2, 3, ... */
	ESP_E_NEXT_HDR,     /* authentic, but Next Header is not 4 (IPv4) */
	ESP_E_MAX
};

const char *esp_err_name(enum esp_err e);
const char *esp_alg_name(enum esp_alg alg);

/* Anti-replay window over 64-bit sequence numbers. */
struct esp_replay {
	uint64_t top; /* highest sequence number accepted; 0: none yet */
	uint64_t bitmap[ESP_REPLAY_WORDS];
};

/*
 * Start a window whose highest sequence number seen is highest_seen.
 * Everything at or below it counts as already received (the conservative
 * reading of a counter reported by the peer); 0 gives an empty window.
 */
void esp_replay_init(struct esp_replay *w, uint64_t highest_seen);
/*
 * Whether seq may be accepted: not 0, not seen, and either above the highest
 * seen or less than ESP_REPLAY_WINDOW behind it.  Changes nothing.
 */
bool esp_replay_check(const struct esp_replay *w, uint64_t seq);
/* Record seq as received, sliding the window; -1 (and no change) if esp_replay_check refuses it. */
int esp_replay_update(struct esp_replay *w, uint64_t seq);

/* What the data plane counts per SA.  Bytes are inner-packet bytes. */
struct esp_stats {
	uint64_t out_packets;
	uint64_t out_bytes;
	uint64_t out_seq_overflow; /* encaps refused: counter used up */
	uint64_t out_errors;       /* encaps refused: no room, bad argument, crypto */
	uint64_t in_packets;
	uint64_t in_bytes;
	uint64_t in_drop_header;   /* truncated or misaligned */
	uint64_t in_drop_spi;      /* not this SA's SPI */
	uint64_t in_drop_replay;   /* duplicate, too old, or sequence number 0 */
	uint64_t in_drop_auth;     /* ICV mismatch */
	uint64_t in_drop_pad;      /* bad padding (after a good ICV) */
	uint64_t in_drop_next_hdr; /* Next Header not 4 (after a good ICV) */
	uint64_t in_errors;        /* no room for the inner packet, crypto failure */
};

struct esp_sa {
	uint32_t spi;
	enum esp_alg alg;
	uint8_t dir;          /* enum esp_dir: what the SA may be used for */
	uint8_t enc_key_len;  /* 16, 24 or 32 */
	uint8_t auth_key_len; /* 20 or 32; 0 for GCM */
	uint8_t iv_len;       /* 16 CBC, 8 GCM */
	uint8_t icv_len;      /* 12, 16, 16 */
	uint8_t align;        /* the ciphertext is a multiple of this: 16 CBC, 4 GCM */
	uint16_t iv_pool_pos;
	uint8_t salt[ESP_GCM_SALT_LEN];
	uint8_t enc_key[ESP_MAX_KEY_LEN];
	uint8_t auth_key[ESP_MAX_AUTH_KEY];
	uint64_t seq_out; /* the last sequence number sent; 0 before the first */
	struct esp_replay replay;
	struct esp_stats stats;
	EVP_CIPHER_CTX *enc; /* keyed once; a packet only sets its IV (NULL: inbound only) */
	EVP_CIPHER_CTX *dec; /* NULL: outbound only */
	EVP_MAC_CTX *mac;    /* keyed HMAC; re-initialised per packet without re-keying */
	uint8_t *iv_pool;    /* ESP_IV_POOL random bytes for CBC IVs; outbound CBC only */
	/*
	 * With a cache (esp_sa_init_cached), enc, dec, mac and iv_pool are
	 * borrowed from slot while the SA holds one, and NULL otherwise.
	 */
	struct esp_cache *cache;
	struct esp_keyed *slot;
};

/*
 * What an SA is for: a pair's inbound and outbound SAs each key only their
 * own direction's cipher context and keep only what it needs (a few KB per
 * mobile node at an FA with thousands of them).  BOTH is for tests and tools.
 */
enum esp_dir {
	ESP_DIR_BOTH = 0,
	ESP_DIR_OUT,
	ESP_DIR_IN,
};

/*
 * Set up sa (any previous contents are overwritten, not freed: clear first).
 * enc_key is the AES key, or key || salt for GCM; auth_key is the HMAC key
 * (NULL, 0 for GCM).  ESP_E_INVAL for a wrong length, an SPI below
 * ESP_SPI_MIN or an unknown algorithm, ESP_E_CRYPTO if OpenSSL fails; on
 * any failure sa is left cleared.
 */
enum esp_err esp_sa_init(struct esp_sa *sa, uint32_t spi, enum esp_alg alg, const uint8_t *enc_key,
			 size_t enc_len, const uint8_t *auth_key, size_t auth_len);
/* The same for one direction: esp_encap on an inbound SA (or esp_decap on an outbound one) is
 * ESP_E_INVAL. */
enum esp_err esp_sa_init_dir(struct esp_sa *sa, enum esp_dir dir, uint32_t spi, enum esp_alg alg,
			     const uint8_t *enc_key, size_t enc_len, const uint8_t *auth_key,
			     size_t auth_len);
/* Free the OpenSSL contexts and wipe the whole struct (keys included).  Safe twice. */
void esp_sa_clear(struct esp_sa *sa);

/*
 * Keyed contexts for many SAs, few of them busy (an FA with thousands of
 * mobile nodes).  A keyed OpenSSL context costs 650 B (AES-CBC) to 1.2 KB
 * (AES-GCM), an HMAC one 860 B; an SA made with esp_sa_init_cached keeps
 * only its raw keys and borrows keyed contexts from a bounded set of
 * slots when it carries a packet.  A hit costs one store; a miss keys a
 * slot (the least recently used, by the clock algorithm), taking it from
 * the SA that had it.  A slot given up (esp_sa_clear) wipes the key
 * schedule it held.  Not thread-safe: one thread owns the cache and its SAs.
 */
struct esp_cache;
struct esp_keyed;

struct esp_cache_stats {
	size_t slots;       /* the bound */
	size_t bound;       /* slots held by an SA now */
	uint64_t hits;      /* packets whose SA held a slot */
	uint64_t misses;    /* slots keyed: for a packet, or ahead of one (esp_sa_prepare) */
	uint64_t evictions; /* misses that took a slot from another SA */
};

/* A cache of slots keyed contexts (one per SA direction); NULL if slots is 0 or on no memory. */
struct esp_cache *esp_cache_new(size_t slots);
/* Free the cache.  Clear its SAs first: one used after this reads freed memory. */
void esp_cache_free(struct esp_cache *c);
void esp_cache_get_stats(const struct esp_cache *c, struct esp_cache_stats *st);
/*
 * esp_sa_init_dir, keying nothing yet: the first packet binds a slot of
 * cache (NULL cache: exactly esp_sa_init_dir).  dir must be ESP_DIR_IN or
 * ESP_DIR_OUT with a cache.
 */
enum esp_err esp_sa_init_cached(struct esp_sa *sa, struct esp_cache *cache, enum esp_dir dir,
				uint32_t spi, enum esp_alg alg, const uint8_t *enc_key,
				size_t enc_len, const uint8_t *auth_key, size_t auth_len);
/*
 * Key sa's contexts now instead of at its first packet (0; -1 when they
 * cannot be keyed): an SA that will carry a packet soon, when there is
 * time now (a hand-over's pair, while the home agent answers).  Nothing
 * to do without a cache or when sa holds a slot already.
 */
int esp_sa_prepare(struct esp_sa *sa);

/* IV bytes on the wire: 16 for CBC, 8 for GCM. */
size_t esp_iv_len(enum esp_alg alg);
/* ICV bytes on the wire. */
size_t esp_icv_len(enum esp_alg alg);
/* SPI, Sequence Number and IV: where the ciphertext starts. */
size_t esp_header_len(enum esp_alg alg);
/* The exact length esp_encap writes for an inner packet of inner_len bytes. */
size_t esp_encap_len(enum esp_alg alg, size_t inner_len);
/* The most esp_encap adds to any inner packet, for callers reserving room. */
size_t esp_overhead(enum esp_alg alg);

/* The SPI of an ESP packet, for the caller's SA lookup; -1 if shorter than the header. */
int esp_peek_spi(const uint8_t *esp, size_t len, uint32_t *spi);

/*
 * Append to out the ESP packet (SPI .. ICV) carrying the inner IPv4 packet
 * inner[0..len).  inner may overlap out's storage.  On any failure out and
 * the sequence counter are unchanged (except that a crypto failure uses up
 * a sequence number, so a GCM nonce is never used twice).
 */
enum esp_err esp_encap(struct esp_sa *sa, const uint8_t *inner, size_t len, struct buf *out);

/*
 * Verify and decrypt the ESP packet esp[0..len) into inner[0..cap); the inner
 * packet's length goes to *inner_len.  cap >= len is always enough.  inner
 * may be esp + esp_header_len(alg) to decrypt in place; no other overlap.
 * On failure *inner_len is 0 and inner holds no plaintext.
 */
enum esp_err esp_decap(struct esp_sa *sa, const uint8_t *esp, size_t len, uint8_t *inner,
		       size_t cap, size_t *inner_len);

/*
 * The state that outlives a rekey or a hand-over: the outbound counter and
 * the inbound window.  Plain data, to save and restore.
 */
struct esp_sa_state {
	uint64_t seq_out; /* the last sequence number sent */
	struct esp_replay replay;
};

void esp_sa_export_state(const struct esp_sa *sa, struct esp_sa_state *st);
/*
 * Restore st into sa.  ESP_E_INVAL (sa unchanged) if st->seq_out is below
 * the counter the SA already has -- a counter never goes back, or GCM would
 * reuse nonces -- or either counter is beyond ESP_SEQ_MAX.
 */
enum esp_err esp_sa_import_state(struct esp_sa *sa, const struct esp_sa_state *st);
/* Sequence numbers the SA may still send (0: rekey now). */
uint64_t esp_sa_seq_left(const struct esp_sa *sa);

/*
 * The layers below the framing, exposed for the known-answer tests.
 *
 * esp_icv_compute: the truncated HMAC (icv_len bytes) of data under sa's
 * authentication key.  CBC algorithms only.
 */
enum esp_err esp_icv_compute(struct esp_sa *sa, const uint8_t *data, size_t len, uint8_t *icv);
/*
 * AES-GCM under sa's key with nonce salt || iv8 and any AAD: esp_aead_seal
 * writes len bytes to out and a 16-byte tag; esp_aead_open checks the tag
 * (ESP_E_AUTH, out wiped, on mismatch).  out may equal in.  GCM only.
 */
enum esp_err esp_aead_seal(struct esp_sa *sa, const uint8_t iv8[8], const uint8_t *aad,
			   size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
			   uint8_t tag[16]);
enum esp_err esp_aead_open(struct esp_sa *sa, const uint8_t iv8[8], const uint8_t *aad,
			   size_t aad_len, const uint8_t *in, size_t len, const uint8_t tag[16],
			   uint8_t *out);

/*
 * Test hooks, not for the data plane: they let a test fix what is normally
 * chosen inside.  Both take the next sequence number like esp_encap.
 *
 * esp_encap_iv: esp_encap with the IV given (iv_len bytes; for GCM the
 * caller then owns nonce uniqueness).
 * esp_seal_raw: encrypt and authenticate pt[0..len) as the whole ESP
 * plaintext -- payload, padding, Pad Length and Next Header all chosen by
 * the caller -- so a test can build authentic packets with bad padding or
 * another Next Header.  len must be a multiple of the cipher's alignment.
 * iv may be NULL to draw it as esp_encap does.
 */
enum esp_err esp_encap_iv(struct esp_sa *sa, const uint8_t *iv, const uint8_t *inner, size_t len,
			  struct buf *out);
enum esp_err esp_seal_raw(struct esp_sa *sa, const uint8_t *iv, const uint8_t *pt, size_t len,
			  struct buf *out);

#endif
