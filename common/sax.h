/*
 * SA transfer messages ("sax") between the foreign agents of a domain and
 * their store: how a mobile node's ISAKMP and IPsec SAs move from the FA
 * it leaves to the FA it joins (directly, or through mipsa-dbs / Redis).
 *
 * Every message:
 *
 *    0                   1                   2                   3
 *    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |  Version (1)  |     Type      |            Flags              |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                    Timestamp (ms since 1970, 64 bits)         |
 *   |                                                               |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                         Nonce (16 bytes)                      |
 *   ~                                                               ~
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                    Sender (IPv4 address)                      |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |          Expires (ms since 1970, 64 bits; 0: not given)       |
 *   |          (how long a store keeps a record: the SA lifetime)   |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |  MN ID length |   MN identity (NAI, 1..255 bytes) ...         ~
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |     Sealed length (16 bits)   |  Sealed: 12-byte IV, AES-256- ~
 *   ~  GCM(K_SA) ciphertext of the TLV attributes, 16-byte tag      ~
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |              HMAC-SHA-256(K_DB) over all of the above         |
 *   ~                          (32 bytes)                           ~
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * K_SA is known to the domain's FAs only: the store keeps records it
 * cannot read.  K_DB is shared by the FAs and the store: anyone may check
 * who wrote a message, nobody outside can forge one.  The GCM additional
 * data is every byte before the Sealed field, so header and sealed part
 * cannot be mixed between messages.  A message is fresh when its timestamp
 * is within a window of the receiver's clock and its (sender, nonce) has
 * not been seen within that window (struct sax_replay).
 *
 * Pure functions: no sockets, no globals; the parser can be fuzzed alone.
 */
#ifndef MIPSA_SAX_H
#define MIPSA_SAX_H

#include "buf.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SAX_VERSION      1
#define SAX_PORT         4434 /* UDP, between FAs and to mipsa-dbs */
#define SAX_NONCE_LEN    16
#define SAX_KEY_LEN      32
#define SAX_MAC_LEN      32
#define SAX_GCM_IV_LEN   12
#define SAX_GCM_TAG_LEN  16
#define SAX_ID_MAX       255
#define SAX_MSG_MAX      8192
#define SAX_MAX_CHILDREN 4

enum sax_type {
	SAX_REQUEST = 1,   /* new FA -> previous FA: the SAs of this node, please */
	SAX_RECORD = 2,    /* answer or store content: the SAs (sealed) */
	SAX_REFUSED = 3,   /* answer: none for you (reason in Flags) */
	SAX_STORE_PUT = 4, /* FA -> store: keep this record (sealed) */
	SAX_STORE_GET = 5, /* FA -> store: the record of this node */
	SAX_STORE_ACK = 6, /* store -> FA: written and synced (or refused: Flags) */
	SAX_STORE_DEL = 7, /* FA -> store: forget this node's record */
	SAX_TYPE_MAX
};

/* Reasons in the Flags of SAX_REFUSED and SAX_STORE_ACK (0: ok). */
enum sax_reason {
	SAX_OK = 0,
	SAX_R_UNKNOWN = 1,     /* no SAs for that node */
	SAX_R_NOT_MEMBER = 2,  /* requester outside the domain */
	SAX_R_EXPIRED = 3,     /* the SAs have ended */
	SAX_R_BAD_MESSAGE = 4, /* failed authentication or freshness */
	SAX_R_STORE_ERROR = 5, /* the store could not keep it */
};

struct sax_keys {
	uint8_t k_sa[SAX_KEY_LEN];
	uint8_t k_db[SAX_KEY_LEN];
	bool have_k_sa; /* the store has only K_DB */
};

/* An IPsec SA pair as moved between FAs (the FA side: in = from the node). */
struct sax_child {
	uint32_t spi_in, spi_out;
	uint8_t alg; /* enum esp_alg */
	uint16_t key_bits;
	uint8_t enc_in[36], enc_out[36]; /* key (+ 4-byte GCM salt) */
	uint8_t enc_len;
	uint8_t auth_in[32], auth_out[32];
	uint8_t auth_len;
	uint64_t expires_ms;  /* wall clock, ms since 1970 */
	uint32_t lifetime_kb; /* 0: none */
	uint64_t bytes;
	uint64_t seq_out;    /* the last sequence number this FA sent (or reserved) */
	uint64_t replay_top; /* the highest sequence number received */
	bool udp_encap;
	uint16_t local_port, peer_port;
	struct in_addr local_net, remote_net;
	uint8_t local_plen, remote_plen;
};

/* The ISAKMP SA as moved between FAs. */
struct sax_isakmp {
	uint8_t icookie[8], rcookie[8];
	uint8_t hash;      /* enum ike_hash */
	uint16_t key_bits; /* AES-CBC */
	uint8_t group;     /* enum ike_group */
	uint8_t auth;      /* enum ike_auth_method */
	uint8_t skeyid_d[32], skeyid_a[32], enc_key[32];
	uint8_t hash_len, enc_key_len;
	uint8_t p1_last[16]; /* last phase-1 CBC block: seeds phase-2 IVs */
	uint64_t expires_ms;
	uint32_t dpd_seq;
	uint8_t peer_id_type;
	uint8_t peer_id[255];
	uint8_t peer_id_len;
	struct in_addr peer, local;
	uint16_t peer_port, local_port;
	bool nat;
};

/* What a SAX_RECORD / SAX_STORE_PUT carries, sealed under K_SA. */
struct sax_record {
	struct sax_isakmp isakmp;
	size_t n_children;
	struct sax_child children[SAX_MAX_CHILDREN];
	struct in_addr home_addr;
	struct in_addr prev_coa; /* the FA that wrote it */
};

struct sax_msg {
	uint8_t version;
	uint8_t type;
	uint16_t flags;
	uint64_t timestamp_ms;
	uint8_t nonce[SAX_NONCE_LEN];
	struct in_addr sender;
	uint64_t expires_ms;
	char mn_id[SAX_ID_MAX + 1];
	size_t mn_id_len;
	/* sealed part: present for RECORD and STORE_PUT */
	bool has_record;
	const uint8_t *sealed; /* parse: the Sealed field as received (for the store) */
	size_t sealed_len;
	struct sax_record rec; /* parse: filled only when the receiver has K_SA */
};

enum sax_err {
	SAX_E_OK = 0,
	SAX_E_TRUNCATED,
	SAX_E_VERSION,
	SAX_E_TYPE,
	SAX_E_TRAILING,
	SAX_E_MAC,     /* HMAC-SHA-256 (K_DB) does not verify */
	SAX_E_STALE,   /* timestamp outside the window */
	SAX_E_REPLAY,  /* (sender, nonce) seen before */
	SAX_E_SEALED,  /* GCM open failed, or the TLVs inside are malformed */
	SAX_E_ATTR,    /* an attribute with a bad length or value */
	SAX_E_NOSPACE, /* builder: buffer too small */
	SAX_E_CRYPTO,  /* OpenSSL failed (local) */
	SAX_E_MAX
};

const char *sax_err_name(enum sax_err e);
const char *sax_type_name(uint8_t t);

/*
 * Build a message: header fields from m (timestamp and nonce as given: the
 * caller fills them with sax_stamp()), the record sealed under k->k_sa when
 * m->has_record, then the HMAC under k->k_db.  A store re-sending what it
 * keeps passes m->sealed (the stored Sealed field) instead of a record.
 */
enum sax_err sax_build(struct buf *b, const struct sax_msg *m, const struct sax_keys *k);
/* Fresh timestamp and random nonce. */
void sax_stamp(struct sax_msg *m);

/*
 * Parse and authenticate: length checks, HMAC (K_DB, constant time),
 * freshness against now_ms +- window_ms (window_ms 0: no freshness check,
 * for a record read back from Redis, which Redis itself expires; Expires
 * must then still be in the future); then, when k->have_k_sa and the
 * message has a Sealed field, open it into m->rec.  The replay cache is
 * checked and updated last, only for messages that authenticated (pass
 * NULL to skip it, e.g. for a record the store gives back).
 */
struct sax_replay;
enum sax_err sax_parse(const uint8_t *msg, size_t len, const struct sax_keys *k, uint64_t now_ms,
		       uint32_t window_ms, struct sax_replay *rc, struct sax_msg *m);

/*
 * Replay cache: (sender, nonce) pairs seen within the window, bounded in
 * size; the oldest entries go first.  A nonce older than the window is
 * refused as stale before it reaches the cache, so forgetting it is safe.
 */
struct sax_replay *sax_replay_new(size_t max_entries, uint32_t window_ms);
void sax_replay_free(struct sax_replay *rc);
/* SAX_E_OK and remembered, or SAX_E_REPLAY. */
enum sax_err sax_replay_check(struct sax_replay *rc, struct in_addr sender,
			      const uint8_t nonce[SAX_NONCE_LEN], uint64_t ts_ms, uint64_t now_ms);

/* Wipe keys and records. */
void sax_record_wipe(struct sax_record *r);
void sax_keys_wipe(struct sax_keys *k);

#endif
