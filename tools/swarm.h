/*
 * mipsa-swarm's logic that needs no sockets (tools/swarm_logic.c), so the
 * unit tests can reach it: the command line, each node's keys (derived
 * from a seed, as ike-load derives its identities, so that the agents'
 * configurations, written from `mipsa-swarm -P`, and the swarm agree
 * without a file between them), the hand-over schedule, the set of (SPI,
 * sequence number) pairs seen, and the RESULT line.
 */
#ifndef MIPSA_SWARM_H
#define MIPSA_SWARM_H

#include "ike.h"
#include "ike_load.h"
#include "u32map.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SW_MAX_N        20000 /* the home agent's state file holds about 10,900 bindings */
#define SW_MAX_INFLIGHT 1024
#define SW_SEED_MAX     128
#define SW_IFNAME_MAX   16
#define SW_HA_KEY_HEX   IL_PSK_HEX /* 16 bytes of SHA-256(seed ":ha:" index), in hex */

enum sw_mode {
	SW_MODE_REUSE, /* full SA reuse: the next FA of the domain takes the SAs over */
	SW_MODE_IKE,   /* no reuse: new IKE with every FA */
};

struct sw_opts {
	char ifname[2][SW_IFNAME_MAX]; /* -1, -2: the interfaces in fa1's and fa2's cells */
	struct in_addr base;           /* -b: the first node's home address */
	struct in_addr home_agent;     /* -A */
	struct in_addr target;         /* -T: where the nodes' pings go */
	struct in_addr alias;          /* -a: the domain's alias address (the IKE peer) */
	char alias_id[IKE_ID_MAX];     /* -I: the identity the agents show */
	unsigned n;                    /* -n: nodes */
	unsigned duration_s;           /* -d: seconds of hand-overs (or of holding) */
	unsigned move_ms;              /* -m: each node hands over this often; 0: never */
	unsigned ping_ms;              /* -i: each node pings this often */
	unsigned inflight;             /* -c: first registrations in flight at most */
	unsigned timeout_s;            /* -t: one registration's deadline */
	unsigned lifetime_s;           /* -l: registration lifetime asked for */
	unsigned retry_ms;             /* -r: a registration's first retransmission */
	enum sw_mode mode;             /* -M reuse|ike */
	enum ike_group group;          /* -g */
	char seed[SW_SEED_MAX];        /* -k */
	bool print_nodes;              /* -P: print the nodes' keys and exit */
};

enum sw_parse {
	SW_PARSE_OK = 0,
	SW_PARSE_HELP = 1,
	SW_PARSE_ERROR = -1,
};

/* The command line into o (defaults first); err says what is wrong on SW_PARSE_ERROR. */
enum sw_parse sw_parse_args(int argc, char **argv, struct sw_opts *o, char *err, size_t errlen);
const char *sw_mode_name(enum sw_mode m);

/* Node i's MN-HA key (SW_HA_KEY_HEX hex digits): -1 on a short buffer. */
int sw_ha_key(const char *seed, unsigned i, char *hex, size_t len);

/*
 * When node i of n hands over next, in ms from the start of the hand-over
 * phase, strictly after after_ms: the nodes' moves are spread evenly over
 * one period (node i at i * period / n, and every period after that), so
 * that the agents see a steady rate, n / period, not a burst.
 */
uint64_t sw_next_move(unsigned i, unsigned n, uint32_t period_ms, uint64_t after_ms);

/*
 * The (SPI, sequence number) pairs seen in one direction.  An ESP
 * sequence number may never be used twice under one key (RFC 4303 3.3.3):
 * a pair seen twice is a duplicate, whichever foreign agent sent it.
 */
struct sw_seqset {
	struct u32map by_spi; /* SPI -> its numbers seen (swarm_logic.c) */
	uint64_t pairs;       /* distinct pairs seen */
	uint64_t dups;        /* pairs seen again */
};

void sw_seqset_init(struct sw_seqset *s);
void sw_seqset_free(struct sw_seqset *s);
/* 1: new; 0: a duplicate (counted); -1: out of memory.  Every 32-bit number is checked. */
int sw_seqset_add(struct sw_seqset *s, uint32_t spi, uint32_t seq);

/* What the swarm counts, for the RESULT line. */
#define SW_COUNTS(X)                                                                               \
	X(nodes)                                                                                   \
	X(registered)      /* nodes registered at the end */                                       \
	X(reg_ok)          /* registrations (first ones and hand-overs) accepted in time */        \
	X(reg_accepted)    /* accepted replies the nodes took (every one, late ones too) */        \
	X(reg_failed)      /* not accepted within the deadline, or still open at the end */        \
	X(reg_late)        /* moves skipped: the node's last registration still open */            \
	X(reg_retransmits) /* requests the nodes sent again for want of a reply */                 \
	X(reply_unmatched) /* replies the nodes dropped: not for their latest request */           \
	X(moves)           /* hand-overs started */                                                \
	X(sa_negotiated)   /* IPsec SA pairs from Quick Mode */                                    \
	X(sa_reused)       /* hand-overs the next FA answered with full reuse */                   \
	X(sa_partial)      /* ... with its ISAKMP SA only (Quick Mode followed) */                 \
	X(sa_refused)      /* ... refused (IKE followed) */                                        \
	X(sa_lost)         /* pairs taken down we did not ask for, and nodes left without one */   \
	X(esp_sent)        /* ESP packets the nodes sent */                                        \
	X(esp_received)    /* ESP packets for the nodes, on their current link */                  \
	X(esp_opened)      /* ... that opened */                                                   \
	X(esp_drops)       /* ... that did not (unknown SPI, ICV, replay, ...) */                  \
	X(esp_other_link)  /* frames for a node on the link it had left */                         \
	X(pings_sent)      /* echo requests the registered nodes sent */                           \
	X(pings_answered)  /* echo replies that came back to them through ESP */                   \
	X(dup_sent)        /* (SPI, seq) pairs the nodes sent twice */                             \
	X(dup_received)    /* (SPI, seq) pairs the agents sent twice */                            \
	X(send_errors)                                                                             \
	X(cpu_ms) /* this program's own CPU time, user and system */

struct sw_counts {
#define SW_COUNT_FIELD(n) uint64_t n;
	SW_COUNTS(SW_COUNT_FIELD)
#undef SW_COUNT_FIELD
};

/* "RESULT mode=... n=... key=value ..." (no newline); the length, as snprintf. */
int sw_result_line(const struct sw_opts *o, const struct sw_counts *c, double wall_s, char *out,
		   size_t len);

#endif
