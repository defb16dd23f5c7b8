/*
 * Two IKEv1 engines in one process, talking through an in-memory queue:
 * an initiator at 10.9.0.1 and a responder at 10.9.0.2.  Messages can be
 * dropped or tampered with on the way.  The engines run on a virtual loop
 * (its clock starts at IKE_PAIR_START_MS, its wall clock at the system's):
 * retransmissions, DPD, rekeying and lifetimes take no real time, and a
 * message sent is delivered at the same virtual moment once the loop runs.
 */
#ifndef MIPSA_IKE_PAIR_H
#define MIPSA_IKE_PAIR_H

#include "evloop.h"
#include "ike.h"

#define IKE_PAIR_START_MS     1000000
#define IKE_PAIR_QUEUE        64
#define IKE_PAIR_MAX_CHILDREN 8
#define IKE_PAIR_WHY_LEN      48

struct ike_pair_msg {
	int to; /* 0 initiator, 1 responder */
	struct in_addr src, dst;
	uint16_t sport, dport;
	uint8_t data[4096];
	size_t len;
	bool dropped; /* in the log: the filter dropped it */
	size_t nth;   /* in the log: its number as the filter saw it */
};

struct ike_pair_side {
	struct ike_engine *eng;
	struct ike_config cfg;
	struct ike_peer peer;
	/* A reload: the peer entry lookups answer with instead (NULL: peer), or none at all. */
	const struct ike_peer *peer_now;
	bool peer_gone;
	struct in_addr addr;
	struct ike_child children[IKE_PAIR_MAX_CHILDREN]; /* copies made in child_up */
	size_t n_up, n_down;
	uint32_t down_spi[IKE_PAIR_MAX_CHILDREN];     /* spi_in of each pair taken down */
	uint32_t down_spi_out[IKE_PAIR_MAX_CHILDREN]; /* and its spi_out */
	char down_why[IKE_PAIR_MAX_CHILDREN][IKE_PAIR_WHY_LEN];
	int ike_up, ike_down;
};

struct ike_pair {
	struct ev_loop *loop;
	struct ike_pair_side side[2];
	struct ike_pair_msg q[IKE_PAIR_QUEUE];
	size_t qlen;
	size_t delivered;
	/* return true to drop the nth message (counted from 0); it may change *m */
	bool (*filter)(struct ike_pair *p, size_t nth, struct ike_pair_msg *m);
	void *filter_arg;
	size_t sent;
	/* optional: every message sent (after the filter) is copied here while there is room */
	struct ike_pair_msg *log;
	size_t log_cap, nlog;
	bool (*done)(struct ike_pair *p); /* ike_pair_run_until's condition */
	struct ev_timer deliver;          /* delivers what is queued */
};

/* The filter's numbers of the messages of an undisturbed exchange: Main Mode, then Quick Mode. */
enum { M1, M2, M3, M4, M5, M6, QM1, QM2, QM3 };

/*
 * A pair as ike_pair_init() makes it, on the heap, which logs every message
 * sent in log (log_cap of them); NULL when out of memory.  Freed, engines
 * and all, by ike_pair_delete().
 */
struct ike_pair *ike_pair_new(struct ike_pair_msg *log, size_t log_cap);
void ike_pair_delete(struct ike_pair *p);

/* Both sides: PSK "secret", initiator ID mn@test, responder ID fa.test, TS 10.7.0.10/32 <-> 0/0. */
void ike_pair_init(struct ike_pair *p);
/* Create the engines (after the caller changed side[i].cfg / peer). */
void ike_pair_start(struct ike_pair *p);
void ike_pair_free(struct ike_pair *p);
/*
 * Side i restarts as if it had crashed: its engine goes without a message
 * on the wire (the callbacks still count what it takes down), a new one
 * with side[i].cfg takes its place.
 */
void ike_pair_restart(struct ike_pair *p, int i);
/* Deliver queued messages until none is left (or max rounds). */
void ike_pair_pump(struct ike_pair *p);
/* Run the event loop (timers, retransmissions, deliveries) for ms of virtual time. */
void ike_pair_run(struct ike_pair *p, uint64_t ms);
/*
 * The same, but stop as soon as done(p) holds (after any timer or
 * delivery), the clock at that moment; true when it did, false when max_ms
 * passed first.
 */
bool ike_pair_run_until(struct ike_pair *p, uint64_t max_ms, bool (*done)(struct ike_pair *p));
/* The initiator starts Main Mode with the responder, then the queue is pumped. */
void ike_pair_establish(struct ike_pair *p);
/* Forget whatever is queued. */
void ike_pair_flush(struct ike_pair *p);

/* Side i's counters; its IPsec SA pairs in the engine now. */
const struct ike_counters *ike_pair_ctr(struct ike_pair *p, int i);
size_t ike_pair_children(struct ike_pair *p, int i);

/*
 * Certificate tests/data/ike/<name>.pem, its key <name>.key, trusting
 * <ca>.pem; NULL when they cannot be loaded.
 */
struct ike_creds *ike_pair_creds(const char *name, const char *ca);
/* Both sides authenticate with RSA signatures, mn's credentials and fa's; no PSK. */
void ike_pair_rsa(struct ike_pair *p, struct ike_creds *mn, struct ike_creds *fa);

/*
 * A man in the middle who has the keys (white box): decrypt the encrypted
 * message m as its receiver will (its keys, the IV it holds for it), flip
 * the last byte of the first payload of this type, encrypt it again with
 * the same IV.  The message still decrypts to a valid chain: only the
 * payload's content is wrong.  For a filter, before the receiver sees m.
 * False when m is not encrypted, has no such payload, or its receiver has
 * no keys for it.
 */
bool ike_pair_flip_sealed(struct ike_pair *p, struct ike_pair_msg *m, uint8_t type);

#endif
