/*
 * One IPsec endpoint on an access link, as both mobility agents run it: the
 * FA on the domain's alias towards each visitor, the MN towards its agent
 * (or a fixed gateway).  It holds the IKE engine and the ESP SA pairs its
 * Quick Modes made, and does for both what they do alike:
 *
 *  - ESP in: open a packet, with one counter for each reason it is
 *    dropped (unknown SPI, header, ICV, padding, Next Header, replay, inner
 *    packet, traffic selector, local failure);
 *  - seal and send: never past the numbers this endpoint may use (SA
 *    reuse), and a pair whose numbers run out is rekeyed by Quick Mode;
 *  - IKE out: each message as a UDP datagram in an IPv4 packet to the
 *    peer's link-layer address, since both send by MAC.
 *
 * No sockets: whole frames leave through ops.to_link, the owner finds a
 * peer's MAC (ops.mac_of).  The owner's IKE callbacks (child_up, ...) are
 * passed on unchanged.
 */
#ifndef MIPSA_IPSEC_EP_H
#define MIPSA_IPSEC_EP_H

#include "ike.h"
#include "ipsec.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IPSEC_EP_COUNTERS(X)                                                                       \
	X(esp_in)                                                                                  \
	X(esp_out)                                                                                 \
	X(esp_drop_spi)                                                                            \
	X(esp_drop_header)                                                                         \
	X(esp_drop_icv)                                                                            \
	X(esp_drop_padding)                                                                        \
	X(esp_drop_next_header)                                                                    \
	X(esp_drop_replay)                                                                         \
	X(esp_drop_inner)                                                                          \
	X(esp_drop_policy)                                                                         \
	X(esp_drop_local)                                                                          \
	X(esp_drop_seal)                                                                           \
	X(esp_drop_reserved)                                                                       \
	X(esp_rekey_overflow)                                                                      \
	X(ike_drop_no_mac)

struct ipsec_ep_counters {
#define IPSEC_EP_FIELD(n) uint64_t n;
	IPSEC_EP_COUNTERS(IPSEC_EP_FIELD)
#undef IPSEC_EP_FIELD
};

struct ipsec_ep_ops {
	/* A whole IPv4 packet to a link-layer address. */
	void (*to_link)(void *arg, const uint8_t mac[6], const uint8_t *pkt, size_t len);
	/* The link-layer address of an IKE or ESP peer; NULL when unknown. */
	const uint8_t *(*mac_of)(void *arg, struct in_addr peer);
	void *arg;
};

struct ipsec_ep {
	struct ike_engine *ike; /* NULL: IPsec not configured */
	struct ipsec sas;
	struct ipsec_ep_counters ctr;
	struct ipsec_ep_ops ops;
	struct ike_ops owner; /* the owner's IKE callbacks (its send is ours) */
};

/*
 * Set up ep; with cfg NULL there is no IKE engine (IPsec not configured),
 * the SA table is still there, empty.  owner: the owner's IKE callbacks,
 * send left out.  0 or -1.
 */
int ipsec_ep_init(struct ipsec_ep *ep, struct ev_loop *loop, const struct ike_config *cfg,
		  const struct ike_ops *owner, const struct ipsec_ep_ops *ops);
/* Sends Delete for what is up, calls child_down, frees the pairs. */
void ipsec_ep_free(struct ipsec_ep *ep);

/* An IKE message from the link (on 4500 without its non-ESP marker). */
void ipsec_ep_ike_in(struct ipsec_ep *ep, struct in_addr local, uint16_t lport, struct in_addr peer,
		     uint16_t pport, const uint8_t *msg, size_t len);

/*
 * An ESP packet (from the SPI on): the inner IPv4 packet into inner, parsed
 * into pkt, its pair into *pp, and 0; or -1, dropped and counted by reason.
 */
int ipsec_ep_open(struct ipsec_ep *ep, const uint8_t *esp, size_t len, uint8_t *inner, size_t cap,
		  struct ip4_pkt *pkt, struct ipsec_pair **pp);

/* Seal pkt in p and send it to mac: 0, or -1 (counted; a pair out of numbers is rekeyed). */
int ipsec_ep_seal_send(struct ipsec_ep *ep, struct ipsec_pair *p, const uint8_t mac[6],
		       const uint8_t *pkt, size_t len);

/* Control output: "ipsec", the engine's SAs and counters, then "esp_counters" (open object). */
struct ctl_out;
void ipsec_ep_ctl(struct ipsec_ep *ep, struct ctl_out *o);
/* The control command "keys [esp]". */
int ipsec_ep_ctl_keys(struct ipsec_ep *ep, int argc, char **argv, struct ctl_out *o, char *err,
		      size_t errlen);

#endif
