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
 * data binds the sealed part to the header fields a store keeps when it
 * hands a record on (Version, Expires, MN ID length and MN identity: see
 * sax_aad_len() and doc/sa-transfer.md), so a sealed part cannot be moved
 * to another node's message nor given a longer life.  Type, Timestamp,
 * Nonce and Sender are left out on purpose: the store answers a STORE_GET
 * with a RECORD of its own (new type, time, nonce and sender) around the
 * Sealed field an FA put, which it cannot re-seal; the HMAC covers them.
 * A message is fresh when its timestamp is within a window of the
 * receiver's clock and its (sender, nonce) has not been seen within that
 * window (struct sax_replay).
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
#define SAX_HDR_LEN      41 /* Version .. MN ID length */
#define SAX_SEALED_MIN   (SAX_GCM_IV_LEN + SAX_GCM_TAG_LEN)
/* The largest Sealed field: any message then fits in SAX_MSG_MAX. */
#define SAX_SEALED_MAX (SAX_MSG_MAX - SAX_HDR_LEN - SAX_ID_MAX - 2 - SAX_MAC_LEN)
#define SAX_AAD_MAX    (1 + 8 + 1 + SAX_ID_MAX)

/*
 * The TLVs inside the Sealed field (doc/sa-transfer.md has the table):
 * 16-bit type, 16-bit length, value.  The record's list holds the ISAKMP
 * SA's fields, the home address, the previous CoA and up to
 * SAX_MAX_CHILDREN CHILD TLVs, each of them a list of SAX_C_* TLVs.  Every
 * known TLV appears exactly once (CHILD 0..SAX_MAX_CHILDREN times), in any
 * order; an unknown type is skipped when it has SAX_TLV_OPTIONAL set and
 * refused otherwise.
 */
#define SAX_TLV_OPTIONAL 0x8000
enum sax_tlv {
	SAX_T_ICOOKIE = 1,
	SAX_T_RCOOKIE = 2,
	SAX_T_HASH = 3,
	SAX_T_KEY_BITS = 4,
	SAX_T_GROUP = 5,
	SAX_T_AUTH = 6,
	SAX_T_SKEYID_D = 7,
	SAX_T_SKEYID_A = 8,
	SAX_T_ENC_KEY = 9,
	SAX_T_P1_LAST = 10,
	SAX_T_EXPIRES = 11,
	SAX_T_DPD_SEQ = 12,
	SAX_T_PEER_ID_TYPE = 13,
	SAX_T_PEER_ID = 14,
	SAX_T_PEER = 15,
	SAX_T_LOCAL = 16,
	SAX_T_PEER_PORT = 17,
	SAX_T_LOCAL_PORT = 18,
	SAX_T_NAT = 19,
	SAX_T_HOME_ADDR = 20,
	SAX_T_PREV_COA = 21,
	SAX_T_CHILD = 22,
	SAX_T_MAX
};
enum sax_child_tlv {
	SAX_C_SPI_IN = 1,
	SAX_C_SPI_OUT = 2,
	SAX_C_ALG = 3,
	SAX_C_KEY_BITS = 4,
	SAX_C_ENC_IN = 5,
	SAX_C_ENC_OUT = 6,
	SAX_C_AUTH_IN = 7,
	SAX_C_AUTH_OUT = 8,
	SAX_C_EXPIRES = 9,
	SAX_C_LIFETIME_KB = 10,
	SAX_C_BYTES = 11,
	SAX_C_SEQ_OUT = 12,
	SAX_C_REPLAY_TOP = 13,
	SAX_C_UDP_ENCAP = 14,
	SAX_C_LOCAL_PORT = 15,
	SAX_C_PEER_PORT = 16,
	SAX_C_LOCAL_NET = 17,
	SAX_C_REMOTE_NET = 18,
	SAX_C_LOCAL_PLEN = 19,
	SAX_C_REMOTE_PLEN = 20,
	SAX_C_LOAN_CAP = 21, /* optional: absent when 0 */
	SAX_C_MAX
};

/* The TLVs inside a REQUEST's Sealed field (and a STORE_DEL's, a RELEASED's). */
enum sax_request_tlv {
	SAX_Q_REGISTRATION = 1,
	SAX_Q_SEQ_TOP = 2, /* optional: absent when 0 */
	SAX_Q_MAX
};

enum sax_type {
	SAX_REQUEST = 1,   /* new FA -> previous FA: the SAs of this node, please */
	SAX_RECORD = 2,    /* answer or store content: the SAs (sealed) */
	SAX_REFUSED = 3,   /* answer: none for you (reason in Flags) */
	SAX_STORE_PUT = 4, /* FA -> store: keep this record (sealed) */
	SAX_STORE_GET = 5, /* FA -> store: the record of this node */
	SAX_STORE_ACK = 6, /* store -> FA: written and synced (or refused: Flags) */
	SAX_STORE_DEL = 7, /* FA -> store: forget the node; new FA -> previous FA: taken over */
	SAX_RELEASED = 8,  /* previous FA -> new FA: we no longer send on the node's SAs */
	SAX_OFFER = 9,     /* holder -> members: the node's ISAKMP SA, ahead of a hand-over */
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
	SAX_R_PROOF = 6,       /* the node's proof of possession does not verify here */
	SAX_R_STALE_REG = 7,   /* the registration is not newer than one accepted here */
	SAX_R_RECLAIMED = 8,   /* not confirmed in time: the SAs went back to their holder */
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
	/*
	 * A record served directly lends the next FA the numbers above seq_out
	 * up to loan_cap until the previous FA answers its confirmation with
	 * SAX_RELEASED (0: no loan, as in a store's record).
	 */
	uint64_t loan_cap;
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

/*
 * What a REQUEST carries, sealed under K_SA: the node's Registration
 * Request from its first byte through the end of its SA reuse extension,
 * so the FA that holds the SAs checks the node's proof of possession and
 * the Identification's freshness itself before it lends them.  A STORE_DEL
 * from the new FA to the previous FA carries the same, so that the
 * previous FA can tell a confirmation of an earlier hand-over from one of
 * the latest (by the Identification).  reg_len 0: none.
 *
 * A RELEASED that answers a confirmation carries the registration of the
 * STORE_DEL back, and seq_top: the last outbound sequence number the
 * previous FA sent or gave away on any of the node's IPsec SAs (its own,
 * and the blocks of its offers).  An FA that took the SAs from an offer
 * lifts its cap only on a RELEASED that has it, and goes on above it.
 * seq_top needs the registration (a Sealed field without it is refused).
 */
#define SAX_REG_MAX 1024
struct sax_request {
	uint8_t reg[SAX_REG_MAX];
	uint16_t reg_len;
	uint64_t seq_top; /* 0: none */
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
	/*
	 * sealed part: present for RECORD and STORE_PUT (the record) and
	 * REQUEST, and for a STORE_DEL from the new FA to the previous FA
	 * (req: the registration whose hand-over it confirms)
	 */
	bool has_record;
	const uint8_t *sealed; /* parse: the Sealed field as received (for the store) */
	size_t sealed_len;
	struct sax_record rec;  /* parse: filled only when the receiver has K_SA */
	struct sax_request req; /* REQUEST: built from and parsed into (with K_SA) */
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
/* The same at a given time (ms since 1970): a library's loop clock, say. */
void sax_stamp_at(struct sax_msg *m, uint64_t wall_ms);

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
 * sax_parse with several keys (a key ring: the current keys, then the
 * previous ones during a rotation, common/sax_keyring.h).  The HMAC is
 * checked under the K_DB of ks[0], ks[1], ... in turn; the Sealed field is
 * opened under the K_SA of the keys whose K_DB verified, then of the
 * others.  Only SAX_E_MAC and SAX_E_SEALED move on to the next keys: a
 * message that authenticated is judged once (stale, replayed, bad
 * attribute).  match (may be NULL) tells the index of the keys that made
 * the HMAC and of those that opened the Sealed field (the same when there
 * is none).  All ks have K_SA, or none.
 */
struct sax_match {
	size_t mac, seal;
};
enum sax_err sax_parse_keys(const uint8_t *msg, size_t len, const struct sax_keys *const *ks,
			    size_t n, uint64_t now_ms, uint32_t window_ms, struct sax_replay *rc,
			    struct sax_msg *m, struct sax_match *match);

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

/*
 * The keys of messages between the FAs of a domain (REQUEST, RECORD,
 * REFUSED, STORE_DEL from FA to FA): K_SA, and in place of K_DB a key
 * derived from K_SA, HMAC-SHA-256(K_SA, "mipsa sax FA to FA
 * authentication").  The store holds K_DB, so K_DB alone must not let it
 * ask an FA for a node's SAs or make one drop them.  0, or -1 (out wiped).
 */
int sax_fa_keys(const uint8_t k_sa[SAX_KEY_LEN], struct sax_keys *out);

/* Wipe keys and records. */
void sax_record_wipe(struct sax_record *r);
void sax_keys_wipe(struct sax_keys *k);

/*
 * Notes on the functions above (doc/sa-transfer.md has the details):
 *
 * sax_build: m->version 0 means SAX_VERSION.  For RECORD and STORE_PUT,
 * with k->have_k_sa and m->has_record, m->rec is sealed afresh (m->sealed
 * is ignored); otherwise m->sealed (sealed_len bytes, SAX_SEALED_MIN ..
 * SAX_SEALED_MAX) is copied as it is.  A REQUEST seals m->req (K_SA
 * needed; reg_len 1..SAX_REG_MAX).  Other types must have neither.
 * Flags must be 0 except in REFUSED and STORE_ACK.  The builder refuses
 * (SAX_E_ATTR) every value the parser would refuse.  On failure b is as it
 * was (what had been written is wiped).
 *
 * sax_parse checks, in this order: the structure in wire order (VERSION,
 * TYPE, ATTR for a header value out of range, TRUNCATED, TRAILING); the
 * HMAC (MAC); the timestamp and Expires (STALE; with window_ms > 0 an
 * Expires that is given must also be in the future); the Sealed field
 * when k->have_k_sa (SEALED for the GCM tag or broken TLV framing, ATTR
 * for a TLV with a bad length or value, a duplicate, a missing one, an
 * unknown one without SAX_TLV_OPTIONAL or a fifth CHILD); last the replay
 * cache (REPLAY).  For RECORD and STORE_PUT has_record is true and
 * sealed / sealed_len point into msg whether or not rec could be filled;
 * a REQUEST's Sealed field opens into m->req.
 * On failure m->rec is wiped; on success the caller wipes it after use
 * (sax_record_wipe).  The replay cache's window must be at least window_ms.
 */

/* The GCM additional data of a message: Version, Expires, MN ID length, MN ID. */
size_t sax_aad_len(size_t mn_id_len);

/*
 * Test hooks, not for the agents.  sax_build_iv: sax_build with the GCM IV
 * given (the caller then owns its uniqueness), for known-answer vectors.
 * sax_build_raw: a RECORD, STORE_PUT or REQUEST whose Sealed field seals
 * pt[0..pt_len) as the TLV list, whatever it holds (m->rec and m->sealed
 * are not used; K_SA needed; iv may be NULL to draw one), so a test can
 * build authentic messages with malformed TLVs.
 */
enum sax_err sax_build_iv(struct buf *b, const struct sax_msg *m, const struct sax_keys *k,
			  const uint8_t iv[SAX_GCM_IV_LEN]);
enum sax_err sax_build_raw(struct buf *b, const struct sax_msg *m, const struct sax_keys *k,
			   const uint8_t *iv, const uint8_t *pt, size_t pt_len);
/* (sender, nonce) pairs the cache holds. */
size_t sax_replay_size(const struct sax_replay *rc);

#endif
