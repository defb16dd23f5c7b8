/*
 * The mobile node's logic (RFC 5944 2.4 and 3.6): agent discovery and
 * movement detection, registration with retransmission and back-off,
 * re-registration before the lifetime ends, deregistration.  One explicit
 * state machine; mn_set_state() is the only place the state changes, and
 * it logs "old -> new".
 */
#ifndef MIPSA_MN_H
#define MIPSA_MN_H

#include "evloop.h"
#include "mip_auth.h"
#include "mip_msg.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "conf.h"
struct ctl_out;

#define MN_COUNTERS(X)                                                                             \
	X(link_up_events)                                                                          \
	X(link_down_events)                                                                        \
	X(solicitations_sent)                                                                      \
	X(advertisements)                                                                          \
	X(agent_changes)                                                                           \
	X(agent_lost)                                                                              \
	X(reg_sent)                                                                                \
	X(reg_retransmits)                                                                         \
	X(reg_accepted)                                                                            \
	X(reg_denied)                                                                              \
	X(reg_id_resync)                                                                           \
	X(deregistrations)                                                                         \
	X(packets_out)                                                                             \
	X(drop_malformed)                                                                          \
	X(drop_not_agent)                                                                          \
	X(drop_reply_unmatched)                                                                    \
	X(drop_reply_auth)                                                                         \
	X(drop_unregistered)                                                                       \
	X(secure_failures)

struct mn_counters {
#define MN_COUNTER_FIELD(n) uint64_t n;
	MN_COUNTERS(MN_COUNTER_FIELD)
#undef MN_COUNTER_FIELD
};

enum mn_state {
	MN_LINK_DOWN,     /* no carrier */
	MN_SOLICITING,    /* link up, no agent heard yet */
	MN_SECURING,      /* agent heard; IPsec SAs with it are being negotiated */
	MN_REGISTERING,   /* request sent to the current agent, waiting for the reply */
	MN_REGISTERED,    /* the home agent accepted our binding through the current agent */
	MN_DEREGISTERING, /* shutting down: lifetime 0 sent */
	MN_STOPPED,
	MN_STATE_MAX
};

const char *mn_state_name(enum mn_state s);

struct mn_config {
	char interface[16];
	char tunnel_device[16];
	char control_socket[108];
	struct in_addr home_addr;
	struct in_addr home_agent;
	char nai[MIP_NAI_MAX + 1];
	struct mip_key ha_key; /* MN-HA */
	struct mip_key fa_key; /* MN-FA, when fa_key.len > 0 */
	uint16_t lifetime;
	bool reverse_tunnel;
	uint32_t reg_retry_ms;     /* first retransmission */
	uint32_t reg_retry_max_ms; /* back-off ceiling */
	uint32_t solicit_retry_ms;
	int log_level;
};

/* The agent we are attached to, from its last advertisement. */
struct mn_agent {
	bool valid;
	struct in_addr addr; /* where registration requests go */
	struct in_addr coa;
	uint8_t mac[6];
	uint16_t seq;
	uint16_t max_lifetime;
	uint16_t flags;
	uint64_t heard_ms;
};

struct mn_ops {
	/* An IPv4 packet to a link-layer address on our interface. */
	void (*to_link)(void *arg, const uint8_t mac[6], const uint8_t *pkt, size_t len);
	/* Called when the node has finished deregistering and may exit. */
	void (*stopped)(void *arg);
	void *arg;
};

/*
 * Optional: the protection of the link to the agent (mn_sec.h installs it
 * in mn->guard), with its own argument.  Everything for the link leaves
 * through guard.to_link when it is set, which may seal it.
 */
/* What the node sends on its link, as it knows it, so the guard need not parse it. */
enum mn_out {
	MN_OUT_SOLICIT, /* an agent solicitation (to all routers) */
	MN_OUT_REQUEST, /* a registration request to the agent */
	MN_OUT_DATA,    /* our stack's packets */
};

struct mn_guard {
	void (*to_link)(void *arg, const uint8_t mac[6], enum mn_out kind, const uint8_t *pkt,
			size_t len);
	/*
	 * Before registering with an agent (moved: its care-of address is
	 * new), make sure traffic to it is protected.  1: go ahead; 0:
	 * negotiating, mn_secure_done() follows; -1: this agent is refused.
	 */
	int (*secure)(void *arg, const struct mn_agent *agent, bool moved);
	/* Append extensions for the agent after MN-HA (SA reuse); -1 on failure. */
	int (*extend)(void *arg, struct buf *b);
	/* An accepted reply (the agent's extensions in rp->ext). */
	void (*accepted)(void *arg, const struct mip_reg_reply *rp);
	void *arg;
};

struct mn {
	struct mn_config cfg;
	struct mn_ops ops;
	struct mn_guard guard; /* all NULL: no protection */
	struct ev_loop *loop;
	enum mn_state state;
	struct mn_agent agent;
	struct mn_counters ctr;
	/* registration in flight */
	uint64_t req_id;
	uint64_t req_sent_ms;
	uint16_t req_lifetime;
	uint32_t retry_ms;
	/* registration in force */
	struct in_addr reg_coa;
	uint16_t reg_lifetime;
	uint64_t reg_at_ms;
	uint64_t last_id;
	int64_t clock_offset_s; /* agent clock minus ours, learnt from code 133 */
	uint64_t last_move_ms;
	uint64_t last_handover_us; /* link up to registration accepted */
	uint64_t link_up_us;
	struct ev_timer retx, rereg, agent_expiry, solicit, stop_timer;
};

/* What mn_config_load reads of the mn group, for conf_check. */
extern const struct conf_names mn_conf_names[];
/* The whole file, for conf_check (and mipsa-confnames, which man_check.sh reads). */
extern const struct conf_names mn_root_names[];
int mn_config_load(struct conf *c, struct mn_config *cfg);
void mn_config_free(struct mn_config *cfg);

void mn_init(struct mn *mn, struct ev_loop *loop, const struct mn_config *cfg,
	     const struct mn_ops *ops, bool link_up);
void mn_free(struct mn *mn);

void mn_link_event(struct mn *mn, bool up);
/* An IPv4 packet of a kind to a link-layer address on our link: through the guard when set. */
void mn_to_link(struct mn *mn, const uint8_t mac[6], enum mn_out kind, const uint8_t *pkt,
		size_t len);
/* An ICMP message (IPv4 packet) captured on our link, with the sender's MAC. */
void mn_from_link(struct mn *mn, const uint8_t mac[6], const uint8_t *pkt, size_t len);
/* A registration reply (UDP payload). */
void mn_from_reply(struct mn *mn, const uint8_t *msg, size_t len);
/* A packet our stack sends (read from the TUN). */
void mn_from_stack(struct mn *mn, const uint8_t *pkt, size_t len);
/* The negotiation that secure() started has finished (ok) or failed. */
void mn_secure_done(struct mn *mn, bool ok);
/* Register again now (operator request). */
int mn_reregister(struct mn *mn);
/* Deregister and stop; ops.stopped runs when done (at once when not registered). */
void mn_shutdown(struct mn *mn);

/* A control socket command, from the table of mn_ctl.c ("help" lists it). */
/* The control commands (mn_ctl.c's table); sec: the node's IPsec side, or NULL. */
struct mn_sec;
int mn_ctl(struct mn *mn, struct mn_sec *sec, int argc, char **argv, struct ctl_out *o, char *err,
	   size_t errlen);

#endif
