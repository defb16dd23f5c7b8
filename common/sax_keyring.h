/*
 * Key rotation for the SA transfer messages (common/sax.h): a ring of the
 * current keys (K_SA, K_DB) and, for a while after a rotation, the
 * previous ones, so the FAs of a domain and its store can take new keys
 * one at a time without refusing each other.
 *
 * At a rotation at time t with overlap o:
 *
 *   t        the new keys are accepted at once; what we originate is
 *            still sent under the previous keys (peers not yet rotated
 *            know only those);
 *   t + o    what we originate goes under the new keys;
 *   t + 2o   the previous keys are refused and wiped.
 *
 * So two peers rotated at t1 <= t2 with t2 - t1 <= o never refuse each
 * other: until t1 + o both send under the old keys, which both accept until
 * t1 + 2o; from t2 + o on both send under the new keys, which the first
 * accepts since t1.  Between t1 + o and t2 the first sends under the new
 * keys, which the second does not know yet when t2 > t1 + o: hence the
 * condition that every member is rotated within o of the others.
 *
 * A reply answers under the keys that authenticated the message it
 * answers (sax_ring_keys with the slot sax_ring_parse reported).
 *
 * Rotating to the keys already current is no change.  Rotating while
 * previous keys are still held drops them (wiped, logged, counted in
 * dropped): the ring keeps two generations, and peers still on the
 * dropped keys are refused until they rotate.
 *
 * Times are the wall clock in ms since 1970, the clock sax timestamps use
 * (ev_loop_wall_ms), so one instant means the same to every caller.
 */
#ifndef MIPSA_SAX_KEYRING_H
#define MIPSA_SAX_KEYRING_H

#include "sax.h"

#include <stdbool.h>
#include <stdint.h>

enum sax_ring_slot {
	SAX_RING_CUR = 0,
	SAX_RING_PREV = 1,
};

/* At most a day of overlap (key_overlap_ms). */
#define SAX_RING_OVERLAP_MAX 86400000u
/* The default overlap: ten minutes to reload every member of a domain. */
#define SAX_RING_OVERLAP_DEFAULT 600000u

struct sax_keyring {
	struct sax_keys cur, prev;
	bool have_prev;
	uint64_t switch_ms; /* from then on we send under cur */
	uint64_t retire_ms; /* from then on prev is refused (and wiped) */
	/* counters */
	uint64_t rotations;   /* rotations that changed the keys */
	uint64_t rx_previous; /* messages accepted under the previous keys */
	uint64_t dropped;     /* previous keys dropped by a rotation before they retired */
};

/* The ring holds k alone. */
void sax_ring_init(struct sax_keyring *r, const struct sax_keys *k);
/*
 * Rotate to fresh at now_ms: 1, or 0 when fresh are the current keys
 * (nothing changes, not even the instants of a rotation under way).
 */
int sax_ring_rotate(struct sax_keyring *r, const struct sax_keys *fresh, uint64_t now_ms,
		    uint32_t overlap_ms);
/* The keys to originate a message under at now_ms. */
const struct sax_keys *sax_ring_send(struct sax_keyring *r, uint64_t now_ms);
/* The keys of a slot sax_ring_parse reported (the current ones if prev is gone). */
const struct sax_keys *sax_ring_keys(const struct sax_keyring *r, enum sax_ring_slot slot);
/* Wipe the previous keys once retired; the send and parse paths call it too. */
void sax_ring_sweep(struct sax_keyring *r, uint64_t now_ms);
/* Previous keys held and not retired at now_ms. */
bool sax_ring_has_prev(const struct sax_keyring *r, uint64_t now_ms);
/*
 * sax_parse under the current keys, then (held, not retired) the previous
 * ones (sax_parse_keys: only a bad HMAC or a Sealed field that does not
 * open moves on).  *slot (may be NULL): the keys that made the HMAC, for
 * the reply.  Counts rx_previous when either the HMAC or the Sealed field
 * needed the previous keys.
 */
enum sax_err sax_ring_parse(struct sax_keyring *r, const uint8_t *msg, size_t len, uint64_t now_ms,
			    uint32_t window_ms, struct sax_replay *rc, struct sax_msg *m,
			    enum sax_ring_slot *slot);
void sax_ring_wipe(struct sax_keyring *r);

#endif
