/*
 * SA reuse in one process: a mobile node, three foreign agents and a home
 * agent as library instances (struct mn with mn_sec, struct fa with
 * fa_sec, struct ha), wired the way their daemons wire them to sockets
 * (fa/fa_main.c, mn/mn_main.c, ha/ha_main.c), but to each other in memory:
 *
 *  - three access links, one per FA; fa1 and fa2 (domain A) share the
 *    alias address and its MAC, fa3 (domain B) has its own.  The node is
 *    on one link at a time, or on none.  A frame reaches every other
 *    station of its link it is addressed to (its MAC, or multicast); at an
 *    FA it goes where the kernel and the daemon's capture would send it
 *    (fa_sec_frame / fa_from_link, fa_sec_esp_in, fa_from_visitor), at the
 *    node likewise (mn_from_link, mn_from_reply, mn_sec_ike_in,
 *    mn_sec_esp_in, or its stack in the clear);
 *  - registrations between each FA's care-of address and the home agent
 *    (ha_process_request), the home agent's tunnel both ways
 *    (ha_tunnel_out, ha_tunnel_in) to and from a correspondent;
 *  - SA transfer datagrams between care-of addresses (fa_sec_sax_in);
 *  - the domain's store in memory (struct fa_store), which can be made
 *    silent and whose records a test may rewrite.
 *
 * Whatever a party sends is queued; nh_run delivers the queue in order and
 * runs the event loop, and a filter may drop any delivery.  Every frame
 * on a link and every transfer datagram is logged, so the tests count IKE
 * messages and check that no FA ever sent an ESP (SPI, sequence number)
 * twice.  None of this decides anything a library decides: the tests
 * assert on the libraries' own state and counters.
 *
 * Time: read and driven in nh_now_ms, nh_now_ntp and nh_clock_step only
 * (net_harness.c), on a virtual loop (ev_loop_new_virtual): every party
 * takes its time from it, so the timeouts the tests wait for (transfer,
 * loan, retransmissions) pass at once.
 */
#ifndef MIPSA_NET_HARNESS_H
#define MIPSA_NET_HARNESS_H

#include "agent_harness.h"
#include "evloop.h"
#include "fa.h"
#include "fa_sec.h"
#include "ha.h"
#include "ipsec_conf.h"
#include "mn.h"
#include "mn_sec.h"
#include "sax.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Stations: the three FAs by index, the node, and anyone else (a test playing an attacker). */
enum { NH_FA1 = 0, NH_FA2, NH_FA3, NH_N_FAS, NH_MN = NH_N_FAS, NH_OTHER };

/* Addresses beyond agent_harness.h's (AH_HA, AH_ALICE, AH_COA1, AH_COA2, AH_CN). */
#define NH_COA3     "192.0.2.3"
#define NH_COA4     "192.0.2.4"  /* a member of domain A that only a test plays */
#define NH_OUTSIDER "192.0.2.99" /* no member of any domain */
#define NH_ALIAS_A  AH_ALIAS1    /* fa1 and fa2 */
#define NH_ALIAS_B  AH_ALIAS2    /* fa3 */

extern const uint8_t NH_MN_MAC[6], NH_MAC_A[6], NH_MAC_B[6], NH_ATTACKER_MAC[6];

struct nh;

/* The domain's store, in memory; its client for an FA is that FA (nh_fa). */
#define NH_STORE_RECS 4
struct nh_store_req;
struct nh_store {
	bool down; /* every request goes unanswered until its timeout */
	struct {
		char mn_id[SAX_ID_MAX + 1];
		uint8_t *msg; /* the STORE_PUT as the FA built it (kept as Redis keeps it) */
		size_t len;
	} rec[NH_STORE_RECS];
	size_t n_rec;
	uint64_t puts, gets;
	struct nh_store_req *pending;
};

struct nh_fa {
	struct nh *n;
	int idx;
	bool alive;  /* false once killed: nothing reaches it, nothing leaves */
	bool silent; /* cut off: nothing reaches it, what it sends is lost */
	struct fa fa;
	struct fa_sec sec;
	struct ipsec_conf ic;
	struct ike_peer peer; /* the node */
	struct fa_domain dom;
	bool has_store;
	/* the host route to the node through this FA (fa_sec_ops.route) */
	bool routed;
	size_t route_frame; /* n_frames when it was added: what had been sent by then */
	uint64_t route_ms;  /* and the loop's clock then */
};

struct nh_mn {
	struct mn mn;
	struct mn_sec sec;
	struct ipsec_conf ic;
	struct ike_peer peers[2]; /* alias A, alias B */
	int link;                 /* the FA whose link it is on; -1: none */
};

/* One frame on an access link, as sent (logged whether or not it arrived). */
struct nh_frame {
	int link;
	int from; /* station */
	uint8_t dst[6];
	bool lost; /* its sender was cut off or dead */
	bool ike;  /* UDP 500, or 4500 with the non-ESP marker */
	bool esp;  /* ESP, raw or in UDP 4500: spi and seq are its header's */
	uint32_t spi, seq;
	size_t len;
	uint8_t *d;
};

/* One SA transfer datagram, as sent. */
struct nh_sax {
	struct in_addr from, to;
	uint8_t type;
	size_t len;
	uint8_t *d;
};

/* What the queue delivers. */
enum nh_ev_kind {
	NH_EV_LINK,      /* a frame on link (station from, dst MAC) */
	NH_EV_TO_HA,     /* a registration message from care-of address `from` to the HA */
	NH_EV_FROM_HA,   /* the HA's reply to care-of address `to` */
	NH_EV_TUNNEL_IN, /* an FA's reverse tunnel (or ICMP error) towards the HA / a CN */
	NH_EV_TUNNEL,    /* the HA's IP-in-IP to a care-of address */
	NH_EV_SAX,       /* a transfer datagram from `from` to `to` */
};

struct nh_ev {
	struct nh_ev *next;
	enum nh_ev_kind kind;
	int link, from_station;
	uint8_t src_mac[6], dst_mac[6];
	struct in_addr from, to;
	size_t len;
	uint8_t d[];
};

/* Return true to drop e instead of delivering it. */
typedef bool (*nh_filter)(struct nh *n, const struct nh_ev *e, void *arg);
typedef bool (*nh_cond)(struct nh *n, void *arg);

/* How the domains are set up (fa1, fa2: domain A; fa3: domain B, direct, no store). */
struct nh_conf {
	enum fa_reuse_mode reuse; /* both domains */
	bool direct, store;       /* domain A's technique */
	uint32_t lend_ms;         /* domain A; 0: 1000 */
	bool offers;              /* domain A: offers (fa_offer.h) */
	uint64_t seq_reserve;     /* domain A; 0: 2^20 */
};

struct nh {
	struct ev_loop *loop;
	struct nh_conf conf;
	struct ha ha;
	struct ha_mn ha_mns[1];
	struct nh_fa fa[NH_N_FAS];
	struct nh_mn mn;
	struct nh_store store;
	bool closing;
	/* the queue */
	struct nh_ev *head, *tail;
	nh_filter filter;
	void *filter_arg;
	/* what was sent */
	struct nh_frame *frames;
	size_t n_frames, cap_frames;
	struct nh_sax *saxs;
	size_t n_saxs, cap_saxs;
	/* what arrived at the ends */
	uint64_t cn_rx;          /* out of the HA's reverse tunnel, to a correspondent */
	uint16_t cn_last_id;     /* its IP identification */
	uint64_t mn_rx;          /* into the node's stack through ESP */
	uint16_t mn_last_id;     /* its IP identification */
	uint64_t mn_clear_rx;    /* data for the home address the node took in the clear */
	uint64_t tunnel_refused; /* reverse-tunnelled packets the HA refused */
	uint16_t next_ip_id;
};

/* Domain A full reuse, technique both; or as c says (NULL: that). */
struct nh *nh_new(const struct nh_conf *c);
void nh_free(struct nh *n);

/* The clock the loop runs on, in ms, and as a registration Identification (NTP). */
uint64_t nh_now_ms(const struct nh *n);
uint64_t nh_now_ntp(const struct nh *n);

/*
 * Deliver the queue and run the loop until cond holds (true), or max_ms
 * passed (then false; true when cond is NULL), and nothing more is due
 * now.  nh_settle: max_ms FA_AFTER_REPLY_MS and no cond, i.e. until
 * everything that follows now from what was sent has happened, with the
 * work a hand-over leaves until after the node's data.
 */
bool nh_run(struct nh *n, uint64_t max_ms, nh_cond cond, void *arg);
void nh_settle(struct nh *n);

/*
 * The node's carrier goes down (if it was on a link), 15 ms pass, and it
 * comes up on fa's link; then nh_settle (nh_move), or nh_run until cond.
 */
void nh_move(struct nh *n, int fa);
bool nh_move_until(struct nh *n, int fa, uint64_t max_ms, nh_cond cond, void *arg);
/* The node's link goes down. */
void nh_detach(struct nh *n);

/* fa crashes: freed, and nothing it says on its way out leaves. */
void nh_kill_fa(struct nh *n, int fa);
/* fa is cut off (or back): nothing reaches it, what it sends is lost. */
void nh_silence_fa(struct nh *n, int fa, bool silent);

/*
 * A correspondent's packet to the node through the home agent's tunnel
 * (nh_cn_send), or the node's to the correspondent (nh_mn_send), then
 * nh_settle; true when it came through, as the next IP identification.
 */
bool nh_cn_send(struct nh *n);
bool nh_mn_send(struct nh *n);
/*
 * The HA's IP-in-IP of a correspondent's packet to the node, made now and
 * delivered later to the care-of address of the binding then (an FA the
 * node may since have left): nh_tunnel_late.
 */
size_t nh_tunnel_now(struct nh *n, uint8_t *out, size_t cap);
void nh_tunnel_late(struct nh *n, const uint8_t *pkt, size_t len);

/* Frames logged so far: a mark for nh_ike_since. */
size_t nh_mark(const struct nh *n);
/* IKE messages on fa's link (both ways) since mark. */
size_t nh_ike_since(const struct nh *n, int fa, size_t mark);
/*
 * Every ESP (SPI, sequence number) the FAs sent, and every one the node
 * sent, appears once: true, or false with the first repeated one in why.
 */
bool nh_esp_unique(const struct nh *n, char *why, size_t cap);
/* ESP frames station `from` sent (all, not only those that arrived). */
size_t nh_esp_sent(const struct nh *n, int from);

/* fa holds an ISAKMP SA or an IPsec SA pair with the node. */
bool nh_fa_holds(struct nh_fa *f);
/* The IPsec SA pair fa would send to the node on (NULL: none). */
struct ipsec_pair *nh_fa_pair(struct nh_fa *f);

/*
 * The node's last cleartext reuse registration on fa's link naming prev
 * (its UDP payload), copied to out: its length, 0 when there is none.
 */
size_t nh_reuse_reg(const struct nh *n, int fa, struct in_addr prev, uint8_t *out, size_t cap);

/* A frame from a host on fa's link (MAC NH_ATTACKER_MAC) to the FA's MAC. */
void nh_inject_frame(struct nh *n, int fa, const uint8_t *pkt, size_t len);
/* A registration request (UDP payload) from the node's home address, so injected. */
void nh_inject_reg(struct nh *n, int fa, const uint8_t *msg, size_t len);
/* A transfer datagram from address from to fa's care-of address. */
void nh_inject_sax(struct nh *n, struct in_addr from, int fa, const uint8_t *msg, size_t len);
/* The last transfer datagram of type sent to `to` since saxs[first] (NULL: none). */
const struct nh_sax *nh_sax_last(const struct nh *n, uint8_t type, struct in_addr to, size_t first);

/* Domain A's keys (K_SA, K_DB), its FA-to-FA keys, domain B's. */
const struct sax_keys *nh_keys_a(void);
const struct sax_keys *nh_fa_keys_a(void);
const struct sax_keys *nh_fa_keys_b(void);

/*
 * The node's record in the store (NULL: none); a test may rewrite it
 * (nh_store_set) or drop it (nh_store_forget).  store.down makes the store silent.
 */
const uint8_t *nh_store_get(struct nh *n, size_t *len);
void nh_store_set(struct nh *n, const uint8_t *msg, size_t len);
void nh_store_forget(struct nh *n);

#endif
