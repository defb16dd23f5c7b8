/*
 * Internals of the IKEv1 engine, shared by ike_sa.c (SA table, input,
 * encryption, retransmission, timers), ike_mm.c (Main Mode), ike_qm.c
 * (Quick Mode), ike_info.c (Informational, DPD) and ike_cert.c.
 */
#ifndef MIPSA_IKE_INT_H
#define MIPSA_IKE_INT_H

#include "ike.h"
#include "isakmp.h"
#include "log.h"
#include "u32map.h"

#define IKE_MSG_MAX    4096
#define IKE_MARKER_LEN 4     /* non-ESP marker on port 4500 */
#define IKE_QM_KEEP_MS 30000 /* a finished Quick Mode answers duplicates this long */

enum ike_state {
	IKE_MM_I1, /* initiator: sent SA, waiting for the responder's SA */
	IKE_MM_I3, /* initiator: sent KE/Ni, waiting for KE/Nr */
	IKE_MM_I5, /* initiator: sent ID/auth, waiting for the responder's */
	IKE_MM_R0, /* responder: nothing received yet */
	IKE_MM_R2, /* responder: sent SA, waiting for KE/Ni */
	IKE_MM_R4, /* responder: sent KE/Nr, waiting for ID/auth */
	IKE_ESTABLISHED,
	IKE_DEAD,
	IKE_STATE_MAX
};

enum ike_qm_state {
	IKE_QM_I1,   /* initiator: sent HASH(1) SA Ni ..., waiting for HASH(2) */
	IKE_QM_R2,   /* responder: sent HASH(2) ..., waiting for HASH(3) */
	IKE_QM_DONE, /* finished; kept a while to answer a retransmitted message */
};

/* A message we may have to send again, and what we last received. */
struct ike_xmit {
	uint8_t *out; /* the last message sent, for retransmission (heap, its size) */
	size_t out_len;
	bool awaiting; /* a reply is due: retransmit on timeout */
	unsigned tries;
	uint32_t next_ms;
	uint8_t in_hash[IKE_MAX_HASH]; /* SHA-256 of the last message received */
	bool have_in;
	/*
	 * out is our answer to that message: only then does a copy of it get
	 * out again.  After the last message of an exchange (HASH(3), message
	 * 6) out is older than it; resending it would draw the peer's own
	 * resend, and a duplicate would bounce between the two for ever.
	 */
	bool out_answers_in;
	struct ev_timer timer;
};

struct ike_qm {
	struct ike_sa *sa;
	uint32_t msgid;
	bool initiator;
	enum ike_qm_state state;
	uint8_t iv[IKE_BLOCK];
	uint8_t ni[256], nr[256];
	size_t ni_len, nr_len;
	struct ike_dh dh; /* PFS */
	bool pfs;
	uint8_t peer_ke[IKE_MAX_DH];
	size_t peer_ke_len;
	uint32_t spi_in, spi_out;
	struct ike_p2_prop prop;
	uint32_t lifetime_s, lifetime_kb;
	bool udp_encap;
	uint16_t encap_mode; /* as sent/received, echoed by the responder */
	struct in_addr local_net, remote_net;
	uint8_t local_plen, remote_plen;
	struct ike_child *rekey_of;
	struct ike_xmit x;
	struct ev_timer reap;
	struct ike_qm *next;
};

/* Main Mode's working material: gone once the SA is up (it is 3 KB of 3.5). */
struct ike_mm_data {
	struct ike_dh dh;
	uint8_t gxi[IKE_MAX_DH], gxr[IKE_MAX_DH];
	size_t ke_len;
	uint8_t ni[256], nr[256];
	size_t ni_len, nr_len;
	uint8_t sai_b[1024]; /* the initiator's SA body, for HASH_I/HASH_R */
	size_t sai_b_len;
};

struct ike_sa {
	struct ike_engine *eng;
	bool initiator;
	enum ike_state state;
	uint8_t icookie[ISAKMP_COOKIE_LEN], rcookie[ISAKMP_COOKIE_LEN];
	struct in_addr local, peer;
	uint16_t local_port, peer_port;
	struct in_addr rx_peer;      /* where the message being handled came from ... */
	uint16_t rx_lport, rx_pport; /* ... ports taken only once it authenticates */
	const struct ike_peer *peer_cfg;
	struct ike_id peer_id;
	/* what was negotiated */
	struct ike_p1_prop prop;
	uint32_t lifetime_s;
	bool natt;              /* both sent the RFC 3947 vendor ID */
	bool dpd;               /* the peer sent the DPD vendor ID */
	bool nat_here;          /* NAT-D says we are behind a NAT (or we pretend) */
	bool nat_there;         /* NAT-D says the peer is */
	struct ike_mm_data *mm; /* while Main Mode runs */
	struct ike_keys keys;
	bool have_keys;
	uint8_t iv[IKE_BLOCK];      /* phase 1 CBC chain */
	uint8_t p1_last[IKE_BLOCK]; /* last CBC block of phase 1: seeds phase-2 IVs */
	struct ike_xmit x;
	struct ike_qm *qms;
	uint32_t dpd_seq;
	uint32_t dpd_outstanding; /* unanswered R-U-THEREs */
	uint64_t up_ms;
	bool rekeyed;
	struct ev_timer expiry, rekey, dpd_timer;
	struct ike_sa *next, *prev;
	void *peer_next, *cookie_next; /* chains of the engine's indexes */
	/* responder before authentication: the engine's half-open list, oldest first */
	bool halfopen;
	uint64_t ho_seq; /* its place in that order */
	struct ike_sa *ho_next, *ho_prev;
};

struct ike_engine {
	struct ev_loop *loop;
	struct ike_config cfg;
	struct ike_ops ops;
	struct ike_sa *sas;
	struct ike_child *children;
	struct u32map spis; /* our inbound SPIs in use */
	/*
	 * Indexes, so that nothing walks every SA with 10,000 nodes: SAs by
	 * peer address and by the first four bytes of the initiator cookie,
	 * pairs by peer address (each a chain through the items' links).
	 */
	struct u32map sa_by_peer, sa_by_cookie, child_by_peer;
	struct ike_counters ctr;
	struct log_ratelimit notify_budget; /* unprotected notifies to strangers */
	struct ike_sa *ho_first, *ho_last;  /* half-open responder SAs, oldest first */
	size_t n_halfopen;
	uint64_t ho_seq; /* the last half-open SA's number */
};

/* ike_sa.c */
const char *ike_state_name(enum ike_state s);
/* A responder that has seen message 1 only: no proof yet that the peer reads its address. */
bool ike_sa_unproven(const struct ike_sa *sa);
void ike_sa_set_state(struct ike_sa *sa, enum ike_state next, const char *why);
/* icookie NULL: a fresh random one (we initiate). */
struct ike_sa *ike_sa_new(struct ike_engine *eng, bool initiator, struct in_addr local,
			  uint16_t lport, struct in_addr peer, uint16_t pport,
			  const uint8_t icookie[ISAKMP_COOKIE_LEN]);
/* The first SA / pair with peer; the next ones follow ->peer_next. */
struct ike_sa *ike_sa_first_of(struct ike_engine *eng, struct in_addr peer);
struct ike_child *ike_child_first_of(struct ike_engine *eng, struct in_addr peer);
/* Enter a new pair in the engine's list and index (-1: out of memory); take it out. */
int ike_child_link(struct ike_engine *eng, struct ike_child *c);
void ike_child_unlink(struct ike_engine *eng, struct ike_child *c);
void ike_sa_fail(struct ike_sa *sa, const char *why);
/* The message being handled authenticated: adopt the ports it came on (RFC 3947). */
void ike_sa_float(struct ike_sa *sa);
void ike_sa_up(struct ike_sa *sa);
void ike_sa_destroy(struct ike_sa *sa, const char *why);
/* Send a message as built (marker added on 4500); remember it for retransmission. */
void ike_send(struct ike_sa *sa, struct ike_xmit *x, const uint8_t *msg, size_t len,
	      bool await_reply);
void ike_xmit_init(struct ike_sa *sa, struct ike_xmit *x);
/* Stop its timer and free what it keeps. */
void ike_xmit_free(struct ike_sa *sa, struct ike_xmit *x);
void ike_xmit_done(struct ike_sa *sa, struct ike_xmit *x);
/* Has this exact message been received before? Re-sends our answer if so. */
bool ike_duplicate(struct ike_sa *sa, struct ike_xmit *x, const uint8_t *msg, size_t len);
/*
 * An encrypted message: header fields from sa and msgid, payloads from
 * chain (a bare chain of plen bytes, first payload first), padded and
 * encrypted with iv, which is advanced to the last ciphertext block.
 */
int ike_seal(struct ike_sa *sa, uint8_t exchange, uint32_t msgid, uint8_t first, uint8_t *chain,
	     size_t plen, uint8_t iv[IKE_BLOCK], uint8_t *out, size_t *out_len);
/* Decrypt in place after the header; iv_next gets the last ciphertext block. */
int ike_open(struct ike_sa *sa, uint8_t *msg, size_t len, const uint8_t iv[IKE_BLOCK],
	     uint8_t iv_next[IKE_BLOCK]);
/*
 * ike_open, then the payload chain (padding after it) into c; -1, counted
 * in drop_decrypt, when either fails.
 */
int ike_open_chain(struct ike_sa *sa, uint8_t *msg, size_t len, const uint8_t iv[IKE_BLOCK],
		   uint8_t iv_next[IKE_BLOCK], struct isakmp_chain *c);
uint32_t ike_spi_alloc(struct ike_engine *eng);
void ike_spi_free(struct ike_engine *eng, uint32_t spi);
void ike_random(void *p, size_t n);
/* prf(SKEYID_a, ...) of the negotiated hash. */
int ike_prf_a(struct ike_sa *sa, const struct ike_chunk *c, size_t n, uint8_t *out);

/* ike_mm.c */
void ike_mm_start(struct ike_sa *sa);
void ike_mm_input(struct ike_sa *sa, const struct isakmp_msg *m, const uint8_t *raw, size_t len);

/* ike_qm.c */
struct ike_qm *ike_qm_find(struct ike_sa *sa, uint32_t msgid);
void ike_qm_start(struct ike_sa *sa, struct ike_child *rekey_of);
void ike_qm_input(struct ike_sa *sa, struct ike_qm *qm, uint8_t *msg, size_t len);
void ike_qm_free(struct ike_qm *qm);
void ike_qm_give_up(struct ike_qm *qm);
void ike_child_schedule(struct ike_engine *eng, struct ike_child *c);

/* ike_info.c */
void ike_info_input(struct ike_sa *sa, uint8_t *msg, size_t len);
/* An Informational exchange with one Notify (protected when the SA has keys). */
void ike_notify_send(struct ike_sa *sa, uint16_t type, uint8_t proto, const uint8_t *spi,
		     size_t spi_len, const uint8_t *data, size_t data_len);
/* An unprotected Notify to a peer we have no usable SA with. */
void ike_notify_plain(struct ike_engine *eng, const struct isakmp_hdr *h, struct in_addr local,
		      uint16_t lport, struct in_addr peer, uint16_t pport, uint16_t type);
void ike_delete_send(struct ike_sa *sa, uint8_t proto, const uint8_t *spi, size_t spi_len);
void ike_dpd_start(struct ike_sa *sa);
bool ike_peer_has_children(struct ike_engine *eng, struct in_addr peer);

/* ike_cert.c */
int ike_cert_sign(const struct ike_creds *cr, const uint8_t *hash, size_t hlen, uint8_t *sig,
		  size_t *sig_len);
/* Verify a peer's certificate (DER) against our CA and its signature over hash. */
int ike_cert_verify(const struct ike_creds *cr, const uint8_t *der, size_t der_len,
		    const struct ike_id *id, const uint8_t *hash, size_t hlen, const uint8_t *sig,
		    size_t sig_len);
/* Our certificate (DER) for the CERT payload. */
const uint8_t *ike_cert_der(const struct ike_creds *cr, size_t *len);

#endif
