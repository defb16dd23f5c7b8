/*
 * SA reuse between the foreign agents of a domain (mipsa-fa's side):
 * domain policy, fetching a node's SAs from the FA it left (direct) or
 * from the store, serving such requests, keeping the store's copy and its
 * sequence-number reservation current, and every fallback.
 */
#ifndef MIPSA_FA_REUSE_H
#define MIPSA_FA_REUSE_H

#include "conf.h"
#include "sax.h"
#include "sax_keyring.h"
#include "store.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

struct ctl_out;
struct mip_reg_request;

enum fa_reuse_mode {
	FA_REUSE_NONE = 0, /* full Main Mode + Quick Mode at every FA */
	FA_REUSE_PARTIAL,  /* the ISAKMP SA moves; Quick Mode only */
	FA_REUSE_FULL,     /* ISAKMP and IPsec SAs move; no IKE at all */
};

#define FA_MAX_MEMBERS 64
/*
 * After a hand-over's reply, its own work (the host route, the offers, the
 * confirmation to the previous FA) waits for the node's first datagram, or
 * this long when none comes.
 */
#define FA_AFTER_REPLY_MS 5

struct fa_domain {
	bool enabled;
	enum fa_reuse_mode reuse;
	bool direct, store; /* techniques; with both, the store is the fallback */
	bool offers;        /* partial reuse, direct: ISAKMP SAs offered ahead (fa_offer.h) */
	struct in_addr members[FA_MAX_MEMBERS];
	size_t n_members;
	struct in_addr member_net;
	uint8_t member_plen;     /* 0: no prefix */
	struct sax_keyring keys; /* K_SA, K_DB: the store's messages */
	/* K_SA and a key from it: FA to FA, which the store cannot forge */
	struct sax_keyring fa_keys;
	uint32_t key_overlap_ms; /* a rotation's overlap (sax_keyring.h) */
	uint32_t timeout_ms;     /* per technique */
	uint32_t window_ms;
	uint32_t lend_ms; /* a hand-over not confirmed by then is taken back */
	uint64_t seq_reserve;
	struct store_config store_cfg;
};

/* Reasons a reuse fell back to negotiation: each is logged and counted. */
#define FA_REUSE_COUNTERS(X)                                                                       \
	X(reuse_requests)                                                                          \
	X(reuse_full)                                                                              \
	X(reuse_partial)                                                                           \
	X(reuse_refused)                                                                           \
	X(reuse_reassociated)                                                                      \
	X(reuse_offered) /* reuse from the previous FA's offer, without asking it */               \
	X(offer_unused)  /* an offer kept for the node that did not serve its hand-over */         \
	X(offers_sent)                                                                             \
	X(offers_kept)                                                                             \
	X(offers_refused)                                                                          \
	X(fallback_policy)                                                                         \
	X(fallback_no_identity)                                                                    \
	X(transfer_resent) /* the previous FA asked again: no answer in half the timeout */        \
	X(fallback_prev_silent)                                                                    \
	X(fallback_prev_refused)                                                                   \
	X(fallback_not_member)                                                                     \
	X(fallback_store_down)                                                                     \
	X(fallback_store_miss)                                                                     \
	X(fallback_bad_record)                                                                     \
	X(fallback_possession)                                                                     \
	X(fallback_expired)                                                                        \
	X(fallback_local)                                                                          \
	X(served_records)                                                                          \
	X(served_refused)                                                                          \
	X(served_not_member)                                                                       \
	X(served_bad_proof)                                                                        \
	X(served_stale)                                                                            \
	X(served_released)                                                                         \
	X(served_reclaimed)                                                                        \
	X(served_late_confirm)                                                                     \
	X(taken_released)                                                                          \
	X(taken_reclaimed)                                                                         \
	X(taken_unconfirmed)                                                                       \
	X(taken_twice) /* another FA took the same offer, and its confirmation came first */       \
	X(taken_denied)                                                                            \
	X(stale_dropped) /* SAs of a node's earlier visit dropped: a refused reuse, accepted */    \
	X(sax_bad_messages)                                                                        \
	X(store_puts)                                                                              \
	X(store_put_failures)                                                                      \
	X(store_put_retries) /* copies written again after a failed write (the store was down) */  \
	X(key_rotations)     /* the domain's keys changed (from its key ring) */                   \
	X(rx_previous_key)   /* accepted under the previous keys of a rotation */                  \
	X(keys_dropped)      /* previous keys dropped by a rotation before they retired */

struct fa_reuse_counters {
#define FA_REUSE_FIELD(n) uint64_t n;
	FA_REUSE_COUNTERS(FA_REUSE_FIELD)
#undef FA_REUSE_FIELD
};

int fa_domain_load(struct conf *c, const config_setting_t *fa, struct fa_domain *dom);
/* What the domain group may hold, for conf_check. */
extern const struct conf_names fa_domain_names[];
void fa_domain_free(struct fa_domain *dom);
/*
 * Reload: fresh is a domain just loaded by fa_domain_load from the new
 * file.  Takes its key_overlap_ms, then rotates live's key rings (K_SA and
 * K_DB; FA to FA) to fresh's keys where they differ (sax_keyring.h: sent
 * under the old keys until now + overlap, accepted until now + 2 overlap).
 * now_ms: the loop's wall clock (ev_loop_wall_ms).  Returns the number of
 * rings rotated (0: same keys), or -1 when fresh cannot replace live's
 * keys in place (reuse turned on or off: K_SA appears or goes; logged,
 * nothing changed).  fresh is left as it was: fa_domain_free it after.
 */
int fa_domain_rotate(struct fa_domain *live, const struct fa_domain *fresh, uint64_t now_ms);
/* Wipe retired keys (the parse and send paths do it too): from a sweep timer. */
void fa_domain_sweep(struct fa_domain *dom, uint64_t now_ms);

/*
 * The SA transfer side of struct fa_sec (fa_sec.h), called from fa_ipsec.c:
 * fa_reuse_init / fa_reuse_free with the rest of it; fa_reuse_guard hooks
 * the registrations that ask for reuse, their replies and what may come in
 * the clear into the FA's guard (fa_guard in fa.h).
 */
struct fa_sec;
struct fa_guard;
int fa_reuse_init(struct fa_sec *s);
void fa_reuse_free(struct fa_sec *s);
void fa_reuse_guard(struct fa_sec *s, struct fa_guard *g);
/*
 * Our SAs with a node changed (pair up, inbound traffic): keep the store's
 * copy current, unless a hand-over of the node writes its first copy.
 */
void fa_reuse_note_pair(struct fa_sec *s, struct in_addr home);
/*
 * p reached half its limit: if offers with blocks above it are out (full
 * reuse), go on above them and offer new blocks above that, and true;
 * false when the limit is not our offers' (a store copy's).
 */
struct ipsec_pair;
bool fa_reuse_renew_offers(struct fa_sec *s, struct ipsec_pair *p);
/*
 * A hand-over of the node is taking its SAs in and has not counted yet
 * (the home agent has not accepted): its pairs get their host route when
 * it counts, after the reply (fa_sec_route_node), not on the reply's path.
 */
bool fa_reuse_importing(const struct fa_sec *s, struct in_addr home);
/* A datagram went to the node: a hand-over's own work after the reply may run now. */
void fa_reuse_data_out(struct fa_sec *s, struct in_addr home);
void fa_reuse_ctl(struct fa_sec *s, struct ctl_out *o);
/*
 * After fa_domain_rotate rotated s->dom's keys (returned > 0): once we send
 * under the new keys (rotation + key_overlap_ms), write our store copy of
 * every node whose SAs we hold again, so that copies do not outlive the
 * old keys (a copy is otherwise rewritten only at a take-over, a new IPsec
 * SA pair or a sequence-number reservation).  No store: nothing to do.
 */
void fa_reuse_keys_rotated(struct fa_sec *s);
/*
 * The store client connected (store_client_on_connect; arg: the fa_sec):
 * the copies it failed to keep are written again at once.
 */
void fa_reuse_store_connected(void *arg);

/* Shared with fa_offer.c. */
bool fa_member(const struct fa_domain *dom, struct in_addr a);
/*
 * Offers are sent and taken: domain.offers, the direct technique, and
 * partial reuse, or full reuse without a store (fa_offer.h).
 */
bool fa_offers_on(const struct fa_domain *dom);
/*
 * m, built once (stamped, under k: the keys of the message answered, or
 * NULL for one we originate), to each of to[0..n).  0 or -1.
 */
int fa_sax_send_many(struct fa_sec *s, const struct in_addr *to, size_t n, struct sax_msg *m,
		     const struct sax_keys *k);

/* A node that sent us nothing for this long is taken to have left: its store copy waits. */
#define FA_REUSE_ACTIVE_MS 10000
/* A copy the store did not take is written again after this, FA_STORE_RETRY_MAX at a time. */
#define FA_STORE_RETRY_MS  1000
#define FA_STORE_RETRY_MAX 64
/* The (sender, nonce) pairs an FA remembers against replayed transfer messages. */
#define FA_REPLAY_ENTRIES 65536

#endif
