/*
 * The home agent's logic, without sockets: registration processing with
 * RFC 5944 reply codes, the mobility binding table, and the two tunnel
 * directions (IP-in-IP to the care-of address, RFC 2003; reverse-tunnel
 * decapsulation, RFC 3024).  The daemon (ha_main.c) feeds it bytes and
 * carries out what it returns; tests drive it the same way in-process.
 */
#ifndef MIPSA_HA_H
#define MIPSA_HA_H

#include "buf.h"
#include "mip_auth.h"
#include "mip_msg.h"
#include "pmtu.h"
#include "u32map.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "conf.h"
struct ctl_out;

/* Every counter the HA keeps; drop_* are dropped packets by reason. */
#define HA_COUNTERS(X)                                                                             \
	X(reg_requests)                                                                            \
	X(reg_accepted)                                                                            \
	X(reg_denied)                                                                              \
	X(deregistrations)                                                                         \
	X(bindings_expired)                                                                        \
	X(tunnel_out_packets)                                                                      \
	X(tunnel_in_packets)                                                                       \
	X(drop_malformed)                                                                          \
	X(drop_unknown_extension)                                                                  \
	X(drop_unknown_mn)                                                                         \
	X(drop_mn_auth)                                                                            \
	X(drop_no_binding)                                                                         \
	X(drop_tunnel_source)                                                                      \
	X(drop_tunnel_inner)                                                                       \
	X(deny_mn_auth)                                                                            \
	X(deny_fa_auth)                                                                            \
	X(deny_identification)                                                                     \
	X(deny_poorly_formed)                                                                      \
	X(deny_unknown_ha)                                                                         \
	X(deny_encapsulation)                                                                      \
	X(deny_prohibited)                                                                         \
	X(deny_reverse_tunnel)                                                                     \
	X(state_saves)                                                                             \
	X(state_save_failures)

struct ha_counters {
#define HA_COUNTER_FIELD(n) uint64_t n;
	HA_COUNTERS(HA_COUNTER_FIELD)
#undef HA_COUNTER_FIELD
};

struct ha_binding {
	bool active;
	struct in_addr coa;
	struct in_addr reg_src; /* who sent the registration: the FA, or the MN itself */
	uint16_t lifetime;      /* granted */
	uint64_t expires_ms;
	uint64_t since_ms;
	bool reverse_tunnel;
	size_t tunnel_mtu; /* the largest packet the tunnel to coa carries; 0: not known */
	uint64_t registrations;
	uint64_t tunnel_out_packets, tunnel_in_packets;
};

/* A mobile node this home agent serves, with its mobility security association. */
struct ha_mn {
	char nai[MIP_NAI_MAX + 1];
	size_t nai_len;
	struct in_addr home_addr;
	struct mip_key key;
	uint64_t last_id; /* last accepted Identification: replay protection */
	struct ha_binding b;
};

struct ha_fa_key {
	struct in_addr addr;
	struct mip_key key;
};

struct ha_config {
	struct in_addr address; /* the home agent address */
	struct in_addr home_prefix;
	uint8_t home_plen;
	char tunnel_device[16];
	char control_socket[108];
	char state_file[256]; /* bindings and Identifications across restarts; "": none */
	uint16_t max_lifetime;
	uint32_t tolerance_s;
	bool require_fa_auth;
	bool reverse_tunnel; /* offered */
	int log_level;
	struct ha_mn *mns;
	size_t n_mns;
	struct ha_fa_key *fas;
	size_t n_fas;
};

/* What the daemon must do to the system when bindings come and go. */
struct ha_ops {
	void (*binding_up)(void *arg, const struct ha_mn *mn);
	void (*binding_down)(void *arg, const struct ha_mn *mn);
	/*
	 * Optional, both or neither: the MTU of the path to dst (asked once
	 * per care-of address), and a whole IPv4 packet to send as it is
	 * (tunnelled fragments, ICMP errors).  Without them nothing is checked
	 * against the path MTU.
	 */
	size_t (*path_mtu)(void *arg, struct in_addr dst);
	void (*send)(void *arg, const uint8_t *pkt, size_t len);
	void *arg;
};

struct ha {
	struct ha_config cfg;
	struct u32map by_home; /* home address -> struct ha_mn */
	struct ha_ops ops;
	struct ha_counters ctr;
	size_t active_bindings;
	bool state_dirty; /* bindings or Identifications changed since the state file was written */
	struct pmtu_path tunnel_path; /* packets too big for a binding's tunnel */
};

/* What the ha group may hold, for conf_check. */
extern const struct conf_names ha_conf_names[];
/* The whole file, for conf_check (and mipsa-confnames, which man_check.sh reads). */
extern const struct conf_names ha_root_names[];
int ha_config_load(struct conf *c, struct ha_config *cfg);
void ha_config_free(struct ha_config *cfg);

/*
 * Reload: cfg (already checked) becomes ha's configuration.  Bindings and
 * Identifications of the nodes that stay carry over, by home address; a
 * node no longer configured loses its binding.  cfg is left holding the
 * old configuration for the caller to free.  The bindings removed, or -1
 * (no memory; nothing changed).  ha_mns_differ: the nodes' configured
 * part (identity, home address, key) differs.
 */
int ha_reconfigure(struct ha *ha, struct ha_config *cfg);
bool ha_mns_differ(const struct ha_config *a, const struct ha_config *b);
int ha_init(struct ha *ha, const struct ha_config *cfg, const struct ha_ops *ops);
void ha_free(struct ha *ha);

/*
 * Process one Registration Request received from src (UDP payload msg).
 * now_ms is the monotonic clock, now_ntp the wall clock as an
 * Identification.  Returns the reply length written to reply (sent back to
 * src), or 0 when the request is silently discarded.
 */
size_t ha_process_request(struct ha *ha, const uint8_t *msg, size_t len, struct in_addr src,
			  uint64_t now_ms, uint64_t now_ntp, uint8_t *reply, size_t cap);

/* Expire bindings whose lifetime has ended. */
void ha_expire(struct ha *ha, uint64_t now_ms);

/*
 * A packet captured for a home address: encapsulate it to the care-of
 * address into out and return its length.  A packet too big for the
 * binding's tunnel leaves through ops.send instead, as fragments (DF clear)
 * or as an ICMP fragmentation needed to its source (DF set), and 0 is
 * returned, as for a packet dropped.
 */
size_t ha_tunnel_out(struct ha *ha, const uint8_t *pkt, size_t len, uint8_t *out, size_t cap);
/*
 * A reverse-tunnelled packet (outer IPv4 header included): check the outer
 * source is the care-of address of the inner source's binding and return
 * the inner packet in *inner.
 */
int ha_tunnel_in(struct ha *ha, const uint8_t *pkt, size_t len, const uint8_t **inner,
		 size_t *inner_len);

struct ha_mn *ha_find_mn(struct ha *ha, struct in_addr home_addr);
/* A binding read back from the state file at start, expiring at expires_ms. */
void ha_binding_restore(struct ha *ha, struct ha_mn *mn, struct in_addr coa, struct in_addr reg_src,
			uint16_t lifetime, bool reverse, uint64_t expires_ms, uint64_t now_ms);

/* A control socket command, from the table of ha_ctl.c ("help" lists it). */
int ha_ctl(struct ha *ha, int argc, char **argv, struct ctl_out *o, char *err, size_t errlen,
	   uint64_t now_ms);

#endif
