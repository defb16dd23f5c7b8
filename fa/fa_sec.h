/*
 * The foreign agent's IPsec side and SA reuse, without sockets: the IKE
 * responder and ESP on the alias towards each visitor (fa_ipsec.c), and
 * the SA transfer within the domain (fa_reuse.c).  It sits beside the
 * Mobile IP core (struct fa, fa.h) and plugs into its fa_ops: which
 * visitors are protected, what may come in the clear, the registrations
 * that ask for SA reuse and the replies to them, the room a visitor's SA
 * leaves.  Everything it sends leaves through struct fa_sec_ops, the
 * store's answers come back through callbacks, and time comes from the
 * event loop, so tests run several FAs in one process.
 */
#ifndef MIPSA_FA_SEC_H
#define MIPSA_FA_SEC_H

#include "evloop.h"
#include "fa.h"
#include "fa_reuse.h"
#include "ipsec_conf.h"
#include "ipsec_ep.h"
#include "pmtu.h"
#include "store.h"
#include "u32map.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ctl_out;

/* What the FA's IPsec side counts on top of the endpoint's (ipsec_ep.h). */
#define FA_SEC_COUNTERS(X)                                                                         \
	X(drop_no_sa)                                                                              \
	X(held)         /* packets held for a node's Quick Mode (fa_hold.h) */                     \
	X(held_sent)    /* of those, sent through its new pair */                                  \
	X(held_dropped) /* of those, dropped: not done within FA_HOLD_MS, or no pair */            \
	X(ike_drop_not_alias)

struct fa_sec_counters {
#define FA_SEC_FIELD(n) uint64_t n;
	FA_SEC_COUNTERS(FA_SEC_FIELD)
#undef FA_SEC_FIELD
};

/* The store the domain keeps (mipsa-dbs or Redis, or one in memory): store.h's calls. */
struct fa_store {
	int (*get)(void *ctx, const char *mn_id, uint32_t timeout_ms, store_cb cb, void *arg);
	int (*put)(void *ctx, const char *mn_id, uint64_t expires_ms, const uint8_t *msg,
		   size_t len, uint32_t timeout_ms, store_cb cb, void *arg);
	void *ctx;
};

struct fa_sec_ops {
	/* A whole IPv4 packet to a link-layer address on the access link, as it is. */
	void (*to_link)(void *arg, const uint8_t mac[6], const uint8_t *pkt, size_t len);
	/* Into our own stack: an ICMP error about a packet of ours. */
	void (*to_stack)(void *arg, const uint8_t *pkt, size_t len);
	/* Optional: a host route to a visitor through us, so our own packets reach its SA. */
	void (*route)(void *arg, struct in_addr addr, bool add);
	/* An SA transfer message to another FA (its care-of address, UDP SAX_PORT). */
	void (*sax_send)(void *arg, struct in_addr to, const uint8_t *msg, size_t len);
	void *arg;
};

struct fa_sec {
	struct fa *fa;
	struct ev_loop *loop;
	const struct ipsec_conf *ic;
	struct fa_domain *dom; /* its key rings change (rotation, retired keys wiped) */
	struct fa_sec_ops ops;
	size_t access_mtu; /* what one frame to a visitor carries */
	/* IPsec on the access link */
	struct ipsec_ep ep;
	struct u32map macs; /* peer address -> learned MAC */
	struct u32map held; /* home address -> packets held for its Quick Mode (fa_hold.c) */
	struct fa_sec_counters ctr;
	struct pmtu_path local_path; /* our own packets to a visitor, too big for its SA */
	/* SA reuse within the domain (fa_reuse.c) */
	struct fa_reuse_counters reuse;
	struct sax_replay *replay;
	struct fa_store store;  /* get NULL: no store */
	struct u32map xfers;    /* home address -> transfer in progress */
	struct u32map handed;   /* home address -> the FA we lent its SAs to */
	struct u32map took;     /* home address -> the FA we took its SAs from */
	struct u32map offers;   /* home address -> the SAs another member offered */
	struct u32map released; /* home address -> whom we released its SAs to, our top */
	struct fa_put *puts;    /* store writes awaiting their answer */
	/* The keys of the FA-to-FA message being handled: its answer goes under them. */
	enum sax_ring_slot rx_slot;
	struct ev_timer rekey_timer;   /* after a key rotation: our store copies, written again */
	struct u32map unsaved;         /* home address -> 1: our last store copy failed */
	struct ev_timer unsaved_timer; /* writes those copies again (fa_store_retry) */
};

/*
 * Set up s beside fa (already initialised) and hook it into fa's ops: with
 * ic disabled, no IPsec (visitors are plain Mobile IP); with dom disabled
 * or reuse none, no SA transfer.  store: the domain's store, or NULL.
 * 0 or -1.
 */
int fa_sec_init(struct fa_sec *s, struct fa *fa, struct ev_loop *loop, const struct ipsec_conf *ic,
		struct fa_domain *dom, const struct fa_store *store, size_t access_mtu,
		const struct fa_sec_ops *ops);
/* Free the store client first: its pending answers must not come back to s. */
void fa_sec_free(struct fa_sec *s);

/*
 * Input.  fa_sec_frame: a frame the access-link capture saw; IKE (UDP 500,
 * or 4500 with the zero marker) is handled, 1, else 0.  fa_sec_esp_in: an
 * ESP packet (from the SPI on) for the alias.  fa_sec_not_alias: IKE that
 * reached a socket from off the access link.  fa_sec_from_stack: our own
 * packet (from the TUN) to a visitor with SAs, 1, else 0.  fa_sec_sax_in:
 * an SA transfer datagram (fa_reuse.c).
 */
int fa_sec_frame(struct fa_sec *s, const uint8_t mac[6], const uint8_t *pkt, size_t len);
void fa_sec_esp_in(struct fa_sec *s, const uint8_t *esp, size_t len);
void fa_sec_not_alias(struct fa_sec *s, struct in_addr src, struct in_addr dst, uint16_t port);
int fa_sec_from_stack(struct fa_sec *s, const uint8_t *pkt, size_t len);
void fa_sec_sax_in(struct fa_sec *s, struct in_addr from, const uint8_t *msg, size_t len);
/* A packet for dst through its IPsec SA pair: false when it has none. */
bool fa_sec_to_node(struct fa_sec *s, const uint8_t mac[6], struct in_addr dst, const uint8_t *pkt,
		    size_t len);
/* The host route to home through us for its pairs (a transfer's, once it counts). */
void fa_sec_route_node(struct fa_sec *s, struct in_addr home);

/*
 * Control: what "sas" shows, into the open answer (fa_ctl.c's table runs
 * it); and "keys", whose text answer is the bare table file, so the daemon
 * layer answers it before the table.
 */
void fa_sec_ctl_sas(struct fa_sec *s, struct ctl_out *o);
int fa_sec_ctl_keys(struct fa_sec *s, int argc, char **argv, struct ctl_out *o, char *err,
		    size_t errlen);

#endif
