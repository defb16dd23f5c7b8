/*
 * Packets too big for the next encapsulation.  Every tunnel endpoint of the
 * data plane is in userspace (TUN, raw and packet sockets), so nothing in
 * the kernel answers for a packet that grows past the link MTU when we wrap
 * it in ESP or IP-in-IP: the kernel just refuses the send (EMSGSIZE) and
 * TCP with full-size segments stalls.  This module has the pure parts:
 *
 *  - what each encapsulation costs: the largest inner packet that still
 *    fits a path once wrapped in IP-in-IP (RFC 2003) or ESP (RFC 4303,
 *    with UDP encapsulation, RFC 3948, or without), and the MTU of a mobile
 *    node's tunnel device for the worst of what its configuration allows;
 *  - ICMP "fragmentation needed and DF set" (type 3 code 4, RFC 792) with
 *    the next-hop MTU (RFC 1191), quoting the packet's header and 8 bytes,
 *    only where RFC 1812 4.3.2.7 allows an ICMP error at all;
 *  - fragmentation (RFC 791) of a packet whose DF bit is clear, options
 *    not to be copied turned into NOPs in the later fragments, as Linux does;
 *  - pmtu_send, the decision for one packet: as it is, in fragments, or
 *    dropped with an ICMP error to its source, counted either way.
 *
 * Fragments are made of the inner packet, before encapsulation (RFC 4459
 * 3.1, "pre-fragmentation"): each fragment travels in its own tunnel packet
 * and the destination host reassembles, so no tunnel endpoint of ours ever
 * has to reassemble.  No sockets here; the clock is only the rate limiter's.
 */
#ifndef MIPSA_PMTU_H
#define MIPSA_PMTU_H

#include "buf.h"
#include "ctl.h"
#include "esp.h"
#include "log.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PMTU_IPIP_OVERHEAD 20 /* IP-in-IP: one outer IPv4 header */
#define PMTU_MIN           68 /* every IPv4 link carries 68 bytes whole (RFC 791) */
#define PMTU_QUOTE_DATA    8  /* payload bytes an ICMP error quotes after the header */

/* The largest inner packet an IP-in-IP packet of at most path_mtu bytes carries; 0 if none. */
size_t pmtu_ipip_inner(size_t path_mtu);
/*
 * The largest inner packet an ESP packet of at most path_mtu bytes carries:
 * outer IPv4 header, UDP header when udp_encap, SPI, sequence number, IV,
 * the padding that inner length needs, trailer and ICV.  0 if none.
 */
size_t pmtu_esp_inner(enum esp_alg alg, bool udp_encap, size_t path_mtu);
/*
 * The MTU for a mobile node's tunnel device on a link of link_mtu, which
 * every packet of the node's stack must fit through whatever path it takes:
 * ESP with any of the n_algs algorithms the node may negotiate (none: no
 * IPsec), always counted with UDP encapsulation, which NAT detection may
 * choose at any negotiation; and the foreign agent's IP-in-IP reverse tunnel
 * when the node asks for one.  Never below PMTU_MIN.
 */
size_t pmtu_tunnel_mtu(size_t link_mtu, const enum esp_alg *algs, size_t n_algs,
		       bool reverse_tunnel);

/*
 * Whether an ICMP error may answer pkt (RFC 1812 4.3.2.7, RFC 1122
 * 3.2.2): not for an ICMP error, not for a fragment other than the first,
 * not to a source that names no single host (0/8, 127/8, multicast,
 * class E, broadcast), not for a packet sent to multicast or broadcast.
 */
bool pmtu_may_answer(const uint8_t *pkt, size_t len);
/*
 * Append a whole IPv4 packet from src to pkt's source: ICMP destination
 * unreachable, fragmentation needed, next-hop MTU mtu, quoting pkt's
 * header and the first PMTU_QUOTE_DATA bytes of its payload.  -1 (b
 * unchanged) when pkt is not a valid IPv4 packet, may not be answered, or
 * b has no room.
 */
int pmtu_icmp_frag_needed(struct buf *b, struct in_addr src, const uint8_t *pkt, size_t len,
			  uint16_t mtu);

/*
 * Fragmentation of one packet, a fragment at a time:
 *
 *   struct pmtu_frag f;
 *   if (pmtu_frag_init(&f, pkt, len, mtu) == 0)
 *       while ((r = pmtu_frag_next(&f, &b)) == 1) ... b holds a fragment ...
 *
 * Every fragment is at most mtu bytes; all but the last carry a multiple of
 * 8 payload bytes and MF; offsets continue those of pkt when pkt is itself
 * a fragment, and the last keeps pkt's own MF.  pkt must stay valid.
 */
struct pmtu_frag {
	const uint8_t *pkt;
	size_t hlen;            /* header length, options included (the same in every fragment) */
	size_t plen;            /* payload bytes */
	size_t off;             /* payload bytes already sent */
	size_t chunk;           /* payload bytes per fragment but the last */
	uint16_t frag;          /* pkt's flags and offset */
	bool done;              /* the last fragment went */
	uint8_t later_opts[40]; /* options of every fragment after the first */
};

/* -1 when pkt is not a valid IPv4 packet, has DF set, mtu leaves no room or the offsets overflow.
 */
int pmtu_frag_init(struct pmtu_frag *f, const uint8_t *pkt, size_t len, size_t mtu);
/* Append the next fragment to b: 1 written, 0 none left, -1 no room (b unchanged). */
int pmtu_frag_next(struct pmtu_frag *f, struct buf *b);

/* What pmtu_send counts; each packet larger than its path counts once in too_big. */
#define PMTU_COUNTERS(X)                                                                           \
	X(too_big)                                                                                 \
	X(icmp_frag_needed)                                                                        \
	X(icmp_rate_limited)                                                                       \
	X(icmp_not_allowed)                                                                        \
	X(fragmented)                                                                              \
	X(fragments)                                                                               \
	X(drop_unfragmentable)

struct pmtu_counters {
#define PMTU_COUNTER_FIELD(n) uint64_t n;
	PMTU_COUNTERS(PMTU_COUNTER_FIELD)
#undef PMTU_COUNTER_FIELD
};

/*
 * One way out of a daemon: where its packets go, where ICMP errors about
 * them go, the ICMP budget and the counters.  The callbacks get the arg
 * given to pmtu_send.
 */
struct pmtu_path {
	const char *name;                                        /* for log lines */
	void (*send)(void *arg, const uint8_t *pkt, size_t len); /* the packet or a fragment */
	void (*icmp)(void *arg, const uint8_t *pkt, size_t len); /* an ICMP error to the source */
	struct in_addr icmp_src;
	struct log_ratelimit rl; /* ICMP errors: bursts of 10, 5 a second (log_ratelimit_take) */
	struct pmtu_counters ctr;
};

enum pmtu_verdict {
	PMTU_SENT,       /* fitted: sent as it is */
	PMTU_FRAGMENTED, /* DF clear: sent in fragments */
	PMTU_ICMP,       /* DF set: dropped, ICMP fragmentation needed sent */
	PMTU_DROPPED,    /* dropped without ICMP (rate limit, RFC 1812, malformed) */
};

/*
 * Send pkt on a path whose next encapsulation takes at most mtu bytes of
 * it (0: no limit known, always send); arg goes to the callbacks.
 */
enum pmtu_verdict pmtu_send(struct pmtu_path *path, void *arg, const uint8_t *pkt, size_t len,
			    size_t mtu);

/* The counters as an object of a control answer (inline: no link to ctl.c for pmtu's users). */
static inline void pmtu_ctl(struct ctl_out *o, const char *name, const struct pmtu_counters *c)
{
	ctl_obj_begin(o, name);
#define PMTU_CTL_COUNTER(n) ctl_u64(o, #n, c->n);
	PMTU_COUNTERS(PMTU_CTL_COUNTER)
#undef PMTU_CTL_COUNTER
	ctl_obj_end(o);
}

#endif
