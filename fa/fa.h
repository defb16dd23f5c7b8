/*
 * The foreign agent's logic, without sockets (RFC 5944 3.7, RFC 3024):
 * agent advertisements, the visitor list with pending registrations, relay
 * of requests to the home agent and of replies to the mobile node, and the
 * data plane between the home agent's tunnel and the visitors' link.
 *
 * Output goes through struct fa_ops so the daemon sends real packets and
 * tests capture them in memory.
 */
#ifndef MIPSA_FA_H
#define MIPSA_FA_H

#include "ip4.h"
#include "mip_auth.h"
#include "mip_msg.h"
#include "pmtu.h"
#include "u32map.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "conf.h"
struct ctl_out;

#define FA_COUNTERS(X)                                                                             \
	X(solicitations)                                                                           \
	X(advertisements)                                                                          \
	X(reg_requests)                                                                            \
	X(reg_relayed)                                                                             \
	X(reg_replies)                                                                             \
	X(reg_accepted)                                                                            \
	X(reg_denied_by_ha)                                                                        \
	X(reg_denied_by_fa)                                                                        \
	X(deregistrations)                                                                         \
	X(visitors_expired)                                                                        \
	X(pending_expired)                                                                         \
	X(drop_pending_evicted)                                                                    \
	X(delivered_packets)                                                                       \
	X(reverse_tunnelled_packets)                                                               \
	X(forwarded_packets)                                                                       \
	X(drop_malformed)                                                                          \
	X(drop_unknown_extension)                                                                  \
	X(drop_not_for_us)                                                                         \
	X(drop_reply_no_pending)                                                                   \
	X(drop_not_visitor)                                                                        \
	X(drop_tunnel_source)                                                                      \
	X(drop_ttl)                                                                                \
	X(drop_solicitation_rate)                                                                  \
	X(drop_cleartext)                                                                          \
	X(esp_packets)                                                                             \
	X(deny_poorly_formed)                                                                      \
	X(deny_mn_auth)                                                                            \
	X(deny_ha_auth)                                                                            \
	X(deny_lifetime)                                                                           \
	X(deny_bad_coa)                                                                            \
	X(deny_encapsulation)                                                                      \
	X(deny_reverse_tunnel)                                                                     \
	X(deny_delivery_style)                                                                     \
	X(deny_missing)                                                                            \
	X(deny_resources)

struct fa_counters {
#define FA_COUNTER_FIELD(n) uint64_t n;
	FA_COUNTERS(FA_COUNTER_FIELD)
#undef FA_COUNTER_FIELD
};

/* A registration relayed to the home agent and not yet answered (RFC 5944 3.7.1). */
struct fa_pending {
	bool active;
	uint64_t id;
	uint8_t mac[6];
	struct in_addr home_agent;
	struct in_addr dst; /* the address the MN sent its request to */
	uint16_t mn_port;
	uint16_t lifetime; /* requested */
	uint8_t flags;
	uint64_t expires_ms;
	uint64_t received_us; /* when the request came in (fa_ops.now_us; 0: no clock) */
};

/*
 * How the SAs of a registration's node came to be here, as the SA reuse
 * module noted them (fa_note_handover) for the registration's log line.
 * All zero: nobody asked to reuse anything.
 */
struct fa_ho_note {
	const char *reuse;     /* "full", "partial", "refused" */
	const char *sas;       /* "previous-fa", "store", "own", "negotiation" */
	const char *technique; /* the domain's: "direct", "store", "both" */
	struct in_addr prev;   /* the previous FA the node named */
	uint64_t xfer_us;      /* request in .. the transfer's outcome */
	uint64_t held_us;      /* the home agent's reply waited this long for it */
};

struct fa_visitor {
	struct in_addr home_addr;
	struct in_addr home_agent;
	uint8_t mac[6];
	uint16_t mn_port;
	char nai[MIP_NAI_MAX + 1];
	bool active; /* a registration the home agent accepted */
	bool reverse_tunnel;
	size_t tunnel_mtu; /* the largest packet the reverse tunnel carries; 0: not known */
	uint16_t lifetime;
	uint64_t expires_ms;
	uint64_t since_ms;
	/* The Identification of the last registration the home agent accepted (SA reuse). */
	uint64_t accepted_id;
	struct fa_pending pending;
	/* a newcomer's pending relay: the FA's list of them, oldest first (fa_pending_link) */
	bool pend_linked;
	struct fa_visitor *pend_next, *pend_prev;
	struct fa_ho_note ho;
	uint64_t delivered_packets, reverse_packets;
};

/* fa_config.max_pending_relays when the configuration does not say. */
#define FA_MAX_PENDING_RELAYS 4096

struct fa_peer_key {
	struct in_addr addr;
	struct mip_key key;
};

struct fa_config {
	char access_interface[16];
	char tunnel_device[16];
	char control_socket[108];
	struct in_addr alias; /* the domain's address on the access link */
	uint8_t alias_plen;
	struct in_addr coa;   /* this FA's care-of address */
	uint32_t route_table; /* policy table that sends visitors' traffic to the TUN */
	uint32_t adv_interval_ms;
	uint16_t adv_lifetime; /* seconds */
	uint16_t max_lifetime;
	uint32_t pending_timeout_ms;
	uint32_t max_visitors;
	uint32_t max_pending_relays; /* newcomers' relayed requests unanswered; 0: the default */
	bool reverse_tunnel;         /* offered */
	bool require_reverse_tunnel;
	bool require_mn_auth;
	bool require_ha_auth;
	/*
	 * Decapsulated packets for visitors go to the TUN for the kernel to
	 * route (visitor_delivery = "route"), not to the visitor's MAC: an
	 * IPsec gateway beside us (strongSwan's charon) then takes them by
	 * its routes.
	 */
	bool deliver_routed;
	int log_level;
	struct fa_peer_key *has; /* FA-HA keys, by home agent */
	size_t n_has;
	struct fa_peer_key *mns; /* MN-FA keys, by home address */
	size_t n_mns;
};

struct fa_ops {
	/* An IPv4 packet to a visitor's (or the all-nodes) link-layer address. */
	void (*to_link)(void *arg, const uint8_t mac[6], const uint8_t *pkt, size_t len);
	/* A registration message (UDP payload) to a home agent, from the care-of address. */
	void (*to_ha)(void *arg, struct in_addr ha, const uint8_t *msg, size_t len);
	/* A whole IPv4 packet to send as it is: IP-in-IP, or an ICMP error to a correspondent. */
	void (*to_tunnel)(void *arg, const uint8_t *pkt, size_t len);
	/* A visitor's packet to route normally (no reverse tunnel). */
	void (*to_forward)(void *arg, const uint8_t *pkt, size_t len);
	/*
	 * Optional: the MTU of the path to dst (a home agent, asked at each
	 * registration with a reverse tunnel); 0: not known, nothing is checked.
	 */
	size_t (*path_mtu)(void *arg, struct in_addr dst);
	/* Optional: a monotonic clock in microseconds, for the registration's log line. */
	uint64_t (*now_us)(void *arg);
	void *arg;
};

/*
 * Optional: the protection of the access link (fa_sec.h installs it in
 * fa->guard), with its own argument.  Everything for a visitor leaves
 * through guard.to_link when it is set, which may seal it.
 */
/* What the FA sends on the access link, as it knows it, so the guard need not parse it. */
enum fa_out {
	FA_OUT_ADVERT, /* an agent advertisement (to all nodes) */
	FA_OUT_REPLY,  /* a registration reply to a visitor */
	FA_OUT_DATA,   /* anything else for a visitor: its data, our ICMP errors */
};

struct fa_guard {
	void (*to_link)(void *arg, const uint8_t mac[6], struct in_addr dst, enum fa_out kind,
			const uint8_t *pkt, size_t len);
	/* The largest packet that reaches a visitor (ESP costs some); 0: not known. */
	size_t (*visitor_mtu)(void *arg, struct in_addr home_addr);
	/* Does this home address have IPsec SAs with us (so cleartext is refused)? */
	bool (*secured)(void *arg, struct in_addr home_addr);
	/*
	 * Optional: a cleartext registration (msg, len: the UDP payload) from a
	 * node with IPsec SAs may pass after all (SA reuse: the node's
	 * retransmission while a hand-over is under way, or its return to us).
	 */
	bool (*cleartext_ok)(void *arg, struct in_addr home_addr, const uint8_t *msg, size_t len);
	/* Optional: a registration (msg, len) asks to reuse the node's SAs (SA reuse extension). */
	void (*reuse_request)(void *arg, const uint8_t mac[6], const uint8_t *msg, size_t len,
			      const struct mip_reg_request *rq);
	/*
	 * Optional: the home agent's reply (up to its MN-HA extension) is about
	 * to go to the node.  Append extensions within cap and return 0 to send
	 * now, or, for an accepted one only, return 1 when it was sent with
	 * fa_send_reply() already (so that work of its own follows the reply)
	 * or will be later.  A denial must not be held: the visitor goes with it.
	 */
	int (*reply_filter)(void *arg, struct in_addr home_addr, uint8_t *msg, size_t *len,
			    size_t cap);
	void *arg;
};

struct fa {
	struct fa_config cfg;
	struct fa_ops ops;
	struct fa_guard guard;  /* all NULL: no protection */
	struct u32map visitors; /* home address -> struct fa_visitor */
	/* pending relays of visitors not (yet) registered, oldest first */
	struct fa_visitor *pend_first, *pend_last;
	size_t n_pend;
	struct fa_counters ctr;
	uint16_t adv_seq;
	uint64_t last_solicited_adv_ms;
	/* packets too big for the visitor's link (ESP), and for the reverse tunnel */
	struct pmtu_path deliver_path, reverse_path;
};

/* What fa_config_load reads of the fa group, for conf_check. */
extern const struct conf_names fa_conf_names[];
/* The whole file, for conf_check (and mipsa-confnames, which man_check.sh reads). */
extern const struct conf_names fa_root_names[];
int fa_config_load(struct conf *c, struct fa_config *cfg);
void fa_config_free(struct fa_config *cfg);

/*
 * A reloaded configuration (fa_reload.c checked that only what may change
 * live did): visitors stay; new limits and keys apply from the next
 * message.  cfg's arrays become fa's, the old ones are the caller's.
 */
void fa_reconfigure(struct fa *fa, const struct fa_config *cfg);
int fa_init(struct fa *fa, const struct fa_config *cfg, const struct fa_ops *ops);
void fa_free(struct fa *fa);

/* An IPv4 packet from the access link with its sender's MAC (registration or solicitation). */
void fa_from_link(struct fa *fa, const uint8_t mac[6], const uint8_t *pkt, size_t len,
		  uint64_t now_ms);
/* An IPv4 packet that came out of a visitor's ESP SA (registration or data), parsed there. */
void fa_from_esp(struct fa *fa, const uint8_t mac[6], const struct ip4_pkt *p, uint64_t now_ms);
/* A registration reply (UDP payload) from src. */
void fa_from_ha(struct fa *fa, struct in_addr src, const uint8_t *msg, size_t len, uint64_t now_ms);
/*
 * A reply a reply_filter held, or sends itself (returning 1): finish
 * (MN-FA) and send it to the registered visitor.  False: no such visitor.
 */
bool fa_send_reply(struct fa *fa, struct in_addr home_addr, uint8_t *msg, size_t len, size_t cap);
/* What the SA reuse module did for a pending registration, logged with its reply. */
void fa_note_handover(struct fa *fa, struct in_addr home_addr, const struct fa_ho_note *n);
/* Send an agent advertisement now. */
void fa_advertise(struct fa *fa);
/* Expire visitors and pending registrations. */
void fa_expire(struct fa *fa, uint64_t now_ms);

/* Set up the data plane's paths (fa_init does). */
void fa_data_init(struct fa *fa);
/* IP-in-IP from a home agent (outer header included): deliver to the visitor. */
void fa_from_tunnel(struct fa *fa, uint8_t *pkt, size_t len);
/* A visitor's packet captured by the TUN: reverse-tunnel or forward it. */
void fa_from_visitor(struct fa *fa, const uint8_t *pkt, size_t len);
/* The same, parsed, saying whether it came through IPsec. */
void fa_visitor_packet(struct fa *fa, const struct ip4_pkt *p, bool protected);

struct fa_visitor *fa_find_visitor(struct fa *fa, struct in_addr home_addr);
/*
 * An IPv4 packet to a link-layer address on the access link, to dst, of a
 * kind the guard acts on: through the guard when set.
 */
void fa_to_link(struct fa *fa, const uint8_t mac[6], struct in_addr dst, enum fa_out kind,
		const uint8_t *pkt, size_t len);

/* A control socket command, from the table of fa_ctl.c ("help" lists it). */
/* The control commands (fa_ctl.c's table); sec: the FA's IPsec side, or NULL. */
struct fa_sec;
int fa_ctl(struct fa *fa, struct fa_sec *sec, int argc, char **argv, struct ctl_out *o, char *err,
	   size_t errlen, uint64_t now_ms);

#endif
