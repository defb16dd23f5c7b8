/*
 * The mobile node's IPsec side, without sockets: IKEv1 initiator towards
 * the agent's alias address (or a fixed gateway), ESP for everything the
 * node sends to it, SA reuse when it moves within a domain, through the
 * shared endpoint (common/ipsec_ep.c).  It sits beside the Mobile IP core
 * (struct mn, mn.h) and plugs into its guard.  Frames leave through
 * mn_sec_ops.to_link, opened packets and ICMP errors go into our stack
 * through to_stack; in gateway mode (no Mobile IP) the gateway's MAC is
 * asked for through arp_request.
 */
#ifndef MIPSA_MN_SEC_H
#define MIPSA_MN_SEC_H

#include "evloop.h"
#include "ipsec_conf.h"
#include "ipsec_ep.h"
#include "mn.h"
#include "pmtu.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ctl_out;

/* What the MN's IPsec side counts on top of the endpoint's (ipsec_ep.h). */
#define MN_SEC_COUNTERS(X)                                                                         \
	X(drop_no_gateway)                                                                         \
	X(drop_no_sa)                                                                              \
	X(reuse_full)                                                                              \
	X(reuse_partial)                                                                           \
	X(reuse_refused)

struct mn_sec_counters {
#define MN_SEC_FIELD(n) uint64_t n;
	MN_SEC_COUNTERS(MN_SEC_FIELD)
#undef MN_SEC_FIELD
};

#define MN_MAX_DOMAINS 8

struct mn_sec_ops {
	/* A whole IPv4 packet to a link-layer address on our link, as it is. */
	void (*to_link)(void *arg, const uint8_t mac[6], const uint8_t *pkt, size_t len);
	/* Into our stack: a packet ESP delivered, or an ICMP error about one of ours. */
	void (*to_stack)(void *arg, const uint8_t *pkt, size_t len);
	/* Gateway mode: ask the link for the gateway's MAC (ARP); mn_sec_gateway_mac answers. */
	void (*arp_request)(void *arg, struct in_addr target);
	void *arg;
};

struct mn_sec {
	struct mn *mn;
	struct ev_loop *loop;
	const struct ipsec_conf *ic;
	struct mn_sec_ops ops;
	struct in_addr home_addr;
	size_t link_mtu;
	size_t tunnel_mtu; /* the tunnel device's, which the daemon set (mn_sec_tunnel_mtu) */
	struct ipsec_ep ep;
	struct mn_sec_counters ctr;
	struct pmtu_path link_path; /* our stack's packets too big for the link once sealed */
	struct in_addr securing;    /* the agent address a negotiation runs with */
	/* gateway mode: IPsec to this address, no Mobile IP */
	struct in_addr gateway;
	uint8_t gateway_mac[6];
	bool gateway_mac_known;
	struct ev_timer arp_timer;
	/* SA reuse: carry our SAs to the next FA of the same domain */
	bool sa_reuse;
	bool reuse_pending;        /* the next registration asks the new FA to take them over */
	struct in_addr reuse_prev; /* the FA (care-of address) that has them */
	/* per alias, the care-of address we last registered through: a
	 * re-association names the FA of that domain, not the last one */
	struct {
		struct in_addr alias, coa;
	} last_coa[MN_MAX_DOMAINS];
};

/*
 * Set up s beside mn (initialised) and hook it into mn's guard; with ic
 * disabled, no IPsec.  gateway: 0, or the gateway of gateway mode.  0 or -1.
 */
int mn_sec_init(struct mn_sec *s, struct mn *mn, struct ev_loop *loop, const struct ipsec_conf *ic,
		struct in_addr home_addr, struct in_addr gateway, bool sa_reuse, size_t link_mtu,
		const struct mn_sec_ops *ops);
void mn_sec_free(struct mn_sec *s);

/*
 * Input.  mn_sec_ike_in: an IKE message for the home address (on 4500
 * without its marker).  mn_sec_esp_in: an ESP packet (from the SPI on).
 * Gateway mode: mn_sec_gateway_out, our stack's packet; mn_sec_gateway_link,
 * carrier came or went; mn_sec_gateway_mac, ARP answered for the gateway.
 */
void mn_sec_ike_in(struct mn_sec *s, struct in_addr local, uint16_t lport, struct in_addr peer,
		   uint16_t pport, const uint8_t *msg, size_t len);
void mn_sec_esp_in(struct mn_sec *s, const uint8_t *esp, size_t len);
void mn_sec_gateway_out(struct mn_sec *s, const uint8_t *pkt, size_t len);
void mn_sec_gateway_link(struct mn_sec *s, bool up);
void mn_sec_gateway_mac(struct mn_sec *s, const uint8_t mac[6]);

/* Why the old FA's SAs go when the new FA refused to take them over (the node negotiates). */
#define MN_SEC_WHY_REFUSED "the new FA did not take them over"

/* The tunnel device's MTU for this configuration on a link of link_mtu. */
size_t mn_sec_tunnel_mtu(const struct ipsec_conf *ic, bool reverse_tunnel, bool gateway,
			 size_t link_mtu);

/*
 * Control: what "sas" and "mtu" show, into the open answer (mn_ctl.c's
 * table runs them); and "keys", whose text answer is the bare table file,
 * so the daemon layer answers it before the table.
 */
void mn_sec_ctl_sas(struct mn_sec *s, struct ctl_out *o);
void mn_sec_ctl_mtu(struct mn_sec *s, struct ctl_out *o);
int mn_sec_ctl_keys(struct mn_sec *s, int argc, char **argv, struct ctl_out *o, char *err,
		    size_t errlen);

#endif
