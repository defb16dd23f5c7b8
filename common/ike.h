/*
 * IKEv1 (RFC 2409) over ISAKMP (RFC 2408): Main Mode with pre-shared keys
 * or RSA signatures, Quick Mode with or without PFS, Informational
 * exchanges (Delete, Notify), DPD (RFC 3706) and NAT traversal (RFC 3947).
 * Aggressive Mode is refused.
 *
 * The engine has no sockets: datagrams come in through ike_input() and go
 * out through ops.send; established IPsec SA pairs are handed to the owner
 * through ops.child_up and taken back through ops.child_down.  Two engines
 * can therefore be run against each other in one process.
 */
#ifndef MIPSA_IKE_H
#define MIPSA_IKE_H

#include "esp.h"
#include "evloop.h"
#include "ike_crypto.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ike_engine;
struct ike_sa;
struct ike_creds;
struct ctl_out;

enum ike_auth_method {
	IKE_AUTH_PSK = 1, /* RFC 2409 attribute value */
	IKE_AUTH_RSA_SIG = 3,
};

#define IKE_ID_MAX    256
#define IKE_PSK_MAX   128
#define IKE_MAX_PROPS 8

/* An identity: ISAKMP ID type (IPV4_ADDR 1, FQDN 2, USER_FQDN 3, DER_ASN1_DN 9) and data. */
struct ike_id {
	uint8_t type;
	uint8_t data[IKE_ID_MAX];
	size_t len;
};

/* "user@host", "host.example", "1.2.3.4" or a DN "C=CH, O=..., CN=..." (needs creds). */
int ike_id_parse(const char *s, struct ike_id *id);
/* A printable form for logs (a DN is shown as a hex prefix). */
const char *ike_id_str(const struct ike_id *id, char *buf, size_t n);
bool ike_id_equal(const struct ike_id *a, const struct ike_id *b);

struct ike_p1_prop {
	uint16_t key_bits; /* AES-CBC key: 128 or 256 */
	enum ike_hash hash;
	enum ike_group group;
};

struct ike_p2_prop {
	enum esp_alg alg;
	uint16_t key_bits; /* 128 or 256 */
};

/* A peer we talk to, and how it proves who it is. */
struct ike_peer {
	char name[64];
	struct in_addr addr;      /* its address; 0.0.0.0 matches any (responder) */
	struct ike_id id;         /* the identity it must show; type 0 accepts any */
	uint8_t psk[IKE_PSK_MAX]; /* used when psk_len > 0 and auth is PSK */
	size_t psk_len;
	struct in_addr local_net; /* phase-2 traffic selectors, our side ... */
	uint8_t local_plen;
	struct in_addr remote_net; /* ... and the peer's */
	uint8_t remote_plen;
};

struct ike_config {
	struct ike_id local_id;
	enum ike_auth_method auth;
	struct ike_creds *creds; /* our certificate, key and trusted CA (RSA signatures) */
	struct ike_p1_prop p1[IKE_MAX_PROPS];
	size_t n_p1;
	struct ike_p2_prop p2[IKE_MAX_PROPS];
	size_t n_p2;
	enum ike_group pfs_group; /* 0: Quick Mode without PFS */
	uint32_t p1_lifetime_s;
	uint32_t p2_lifetime_s;
	uint32_t p2_lifetime_kb; /* 0: no volume limit */
	uint32_t rekey_margin_s; /* rekey this long before a lifetime ends */
	uint32_t retrans_ms;     /* first retransmission, doubling ... */
	uint32_t retrans_tries;  /* ... this many times, then the exchange fails */
	uint32_t dpd_interval_s; /* 0: no DPD probes of our own */
	bool force_udp_encap;    /* claim a NAT so ESP goes in UDP (strongSwan's encap=yes) */
	bool initial_contact;
	/*
	 * Responder: half-open ISAKMP SAs (message 1 taken, message 5 not yet
	 * authenticated) at most, in all and from one source address
	 * (ike_sa.c, "half-open bound").
	 */
	uint32_t halfopen_max;
	uint32_t halfopen_peer_max;
};

#define IKE_HALFOPEN_MAX      1024 /* defaults: about 4.5 KB each, so 4.5 MB in all */
#define IKE_HALFOPEN_PEER_MAX 4

void ike_config_defaults(struct ike_config *cfg);

/* An IPsec SA pair established by Quick Mode. */
struct ike_child {
	uint32_t spi_in;  /* ours: the peer sends with it */
	uint32_t spi_out; /* the peer's: we send with it */
	enum esp_alg alg;
	uint8_t enc_in[ESP_MAX_KEY_LEN + ESP_GCM_SALT_LEN],
		enc_out[ESP_MAX_KEY_LEN + ESP_GCM_SALT_LEN];
	size_t enc_len; /* GCM: key and 4-byte salt */
	uint8_t auth_in[ESP_MAX_AUTH_KEY], auth_out[ESP_MAX_AUTH_KEY];
	size_t auth_len;
	bool udp_encap;
	struct in_addr local, peer;
	uint16_t local_port, peer_port; /* 4500 when udp_encap */
	struct in_addr local_net, remote_net;
	uint8_t local_plen, remote_plen;
	uint32_t lifetime_s;
	uint32_t lifetime_kb;
	uint64_t up_ms;
	bool initiator;     /* we ran Quick Mode as initiator (and so rekey it) */
	bool rekeyed;       /* a successor exists */
	uint64_t bytes;     /* carried, for the volume lifetime */
	struct ike_sa *ike; /* the ISAKMP SA that made it (NULL once that is gone) */
	struct ike_engine *eng;
	struct ev_timer rekey, expiry;
	void *owner; /* for the engine's user */
	struct ike_child *next;
	/* the engine's: the list's back link, the chain of the same peer's pairs */
	struct ike_child *prev;
	void *peer_next;
};

#define IKE_COUNTERS(X)                                                                            \
	X(rx_messages)          /* datagrams given to ike_input() */                               \
	X(tx_messages)          /* datagrams sent, retransmissions included */                     \
	X(retransmits)          /* messages sent again for want of an answer */                    \
	X(ike_established)      /* ISAKMP SAs authenticated (Main Mode done) */                    \
	X(ike_failed)           /* negotiations abandoned */                                       \
	X(children_established) /* IPsec SA pairs up */                                            \
	X(children_deleted)     /* IPsec SA pairs gone (Delete, expiry, peer dead, transfer) */    \
	X(rekeys)               /* rekeys started, phase 1 or 2 */                                 \
	X(dpd_sent)             /* R-U-THERE sent */                                               \
	X(dpd_acked)            /* R-U-THERE-ACK for the R-U-THERE outstanding */                  \
	X(notify_sent)          /* Notify payloads sent, protected or not */                       \
	X(notify_received)      /* Notify payloads read (a protected one once its HASH checked) */ \
	X(deletes_sent)         /* Delete payloads sent */                                         \
	X(deletes_received)     /* protected Delete payloads read (once their HASH checked) */     \
	X(drop_malformed)       /* does not parse, or lacks a payload the exchange requires */     \
	X(drop_unknown_sa)      /* cookies of no ISAKMP SA (wrong responder cookie included) */    \
	X(drop_duplicate)       /* the last message again: answered with ours again */             \
	X(drop_decrypt)         /* encrypted, does not decrypt to a payload chain (wrong key) */   \
	X(drop_bad_hash)        /* HASH_I/HASH_R, Quick Mode or Informational HASH wrong */        \
	X(drop_bad_auth)        /* RSA signature does not verify */                                \
	X(drop_bad_id)          /* identity not the one the peer must show, or not in its cert */  \
	X(drop_bad_cert)        /* certificate missing, unparsable or not from our CA */           \
	X(drop_no_proposal)     /* no proposal we accept, or an answer we did not offer */         \
	X(drop_exchange_type)   /* an exchange type the engine does not do */                      \
	X(drop_aggressive)      /* Aggressive Mode, refused */                                     \
	X(drop_state)           /* not expected in the SA's state (or Quick Mode unprotected) */   \
	X(drop_peer_unknown)    /* Main Mode from an address with no configured peer */            \
	X(drop_halfopen_global) /* message 1 at halfopen_max: the oldest unproven evicted */       \
	X(drop_halfopen_peer)   /* the same at halfopen_peer_max from its source address */        \
	X(drop_dpd_seq)         /* R-U-THERE-ACK of no outstanding R-U-THERE (late, replayed) */

struct ike_counters {
#define IKE_COUNTER_FIELD(n) uint64_t n;
	IKE_COUNTERS(IKE_COUNTER_FIELD)
#undef IKE_COUNTER_FIELD
};

struct ike_ops {
	/*
	 * Send a UDP payload from local:lport to peer:pport.  On port 4500 the
	 * engine has already put the four-byte non-ESP marker in front.
	 */
	void (*send)(void *arg, struct in_addr local, uint16_t lport, struct in_addr peer,
		     uint16_t pport, const uint8_t *msg, size_t len);
	/* Responder: the configured peer for a source address (NULL: refuse). */
	const struct ike_peer *(*peer_lookup)(void *arg, struct in_addr addr);
	/* An IPsec SA pair is ready; its keys are in c (the engine keeps them for export). */
	void (*child_up)(void *arg, struct ike_child *c);
	/* The pair is gone (Delete, expiry, or its ISAKMP SA failed). */
	void (*child_down)(void *arg, struct ike_child *c, const char *why);
	/* An ISAKMP SA came up or went away (optional). */
	void (*ike_up)(void *arg, struct ike_sa *sa);
	void (*ike_down)(void *arg, struct ike_sa *sa, const char *why);
	void *arg;
};

struct ike_engine *ike_engine_new(struct ev_loop *loop, const struct ike_config *cfg,
				  const struct ike_ops *ops);
void ike_engine_free(struct ike_engine *eng);
const struct ike_counters *ike_engine_counters(const struct ike_engine *eng);
/* The loop the engine runs on, and takes its time from. */
struct ev_loop *ike_engine_loop(const struct ike_engine *eng);

/*
 * A datagram for us: an IKE message as received on local:lport from
 * peer:pport (on 4500 without the non-ESP marker).
 */
void ike_input(struct ike_engine *eng, struct in_addr local, uint16_t lport, struct in_addr peer,
	       uint16_t pport, const uint8_t *msg, size_t len);

/* Start Main Mode with peer from local; Quick Mode follows on its own. */
struct ike_sa *ike_initiate(struct ike_engine *eng, const struct ike_peer *peer,
			    struct in_addr local);
/* Delete an IPsec SA pair (sends Delete when the ISAKMP SA is up). */
void ike_child_delete(struct ike_engine *eng, struct ike_child *c, const char *why);
/* Delete every SA with a peer address (sends Delete). */
void ike_peer_delete(struct ike_engine *eng, struct in_addr peer, const char *why);
/* A new Quick Mode under the newest established ISAKMP SA with peer; -1 when there is none. */
int ike_quick_mode(struct ike_engine *eng, struct in_addr peer);
/* New IPsec SAs in place of c by Quick Mode (as its rekey timer would); -1 without an ISAKMP SA. */
int ike_child_rekey(struct ike_engine *eng, struct ike_child *c);
/* Take an IPsec SA pair away without a Delete (it lives on elsewhere, or never will again). */
void ike_child_forget(struct ike_engine *eng, struct ike_child *c, const char *why);

/*
 * Drop every SA with a peer without telling it (the SAs moved on to
 * another FA: SA transfer, common/ike_xfer.h).
 */
void ike_forget_peer(struct ike_engine *eng, struct in_addr peer, const char *why);

/*
 * Reload (common/ike_reload.c).  ike_engine_reconfigure: cfg for what
 * starts from now on (proposals, lifetimes, limits, credentials: the
 * caller keeps the old credentials until then).  ike_engine_repeer: once
 * peer_lookup answers from the new configuration, every SA takes its
 * peer's new entry, and a peer no longer configured loses its SAs (with
 * Delete); how many peers did.
 */
void ike_engine_reconfigure(struct ike_engine *eng, const struct ike_config *cfg);
size_t ike_engine_repeer(struct ike_engine *eng);

/* Count the kilobytes an SA carried, for volume lifetimes. */
void ike_child_bytes(struct ike_engine *eng, struct ike_child *c, uint64_t bytes);

/* Introspection for control sockets, tests and key export. */
bool ike_sa_established(const struct ike_sa *sa);
struct ike_sa *ike_sa_find_peer(struct ike_engine *eng, struct in_addr peer);
struct ike_child *ike_children(struct ike_engine *eng);

/* What may be shown of an ISAKMP SA (keys are not). */
struct ike_sa_info {
	struct in_addr peer;
	uint16_t peer_port;
	bool initiator;
	const char *state; /* "MM-I1", ..., "established", "dead" */
	uint8_t icookie[IKE_COOKIE_LEN], rcookie[IKE_COOKIE_LEN];
	struct ike_p1_prop prop;
	const struct ike_id *peer_id; /* the SA's: valid while it lives */
	bool nat;                     /* NAT-D found a NAT on the way (or we claim one) */
	uint64_t up_ms;               /* when it was established; 0 before */
};

/* The engine's ISAKMP SAs: the first for NULL, then the one after sa; NULL at the end. */
const struct ike_sa *ike_sa_next(const struct ike_engine *eng, const struct ike_sa *sa);
void ike_sa_get_info(const struct ike_sa *sa, struct ike_sa_info *info);

/*
 * The "isakmp_sas", "ipsec_sas" and "ike_counters" members of a control
 * answer (common/ike_ctl.c, which reads the engine through the functions
 * above).
 */
void ike_ctl_sas(struct ike_engine *eng, struct ctl_out *o);
/*
 * Wireshark's IKEv1 decryption table line for every ISAKMP SA: initiator
 * cookie and encryption key, hex, comma-separated ("ikev1_decryption_table").
 */
int ike_export_ikev1_keys(struct ike_engine *eng, char *out, size_t cap);

#endif
