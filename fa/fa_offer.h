/*
 * Offers (doc/sa-reuse.md, "Offers"): the FA that holds a node's SAs sends
 * a sealed copy of them to the other members of the domain after every
 * registration the home agent accepts through it (SAX_OFFER): the ISAKMP
 * SA with partial reuse; with full reuse (direct technique alone) the
 * IPsec SA pairs too, each member with its own block of outbound sequence
 * numbers (ipsec_offer).  A member keeps the latest copy per node; when
 * the node registers there naming that FA, the new FA checks the node's
 * claim against the copy and answers at once instead of asking the
 * previous FA (fa_reuse.c).  Private to mipsa-fa's SA reuse.
 */
#ifndef MIPSA_FA_OFFER_H
#define MIPSA_FA_OFFER_H

#include "sax.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

struct fa_sec;

/* Offers one FA keeps at most; beyond, expired ones go, then new ones are refused. */
#define FA_OFFERS_MAX 16384
/*
 * How long the holder remembers whom it released a node's SAs to (its
 * confirmation's answer may be lost, and the next try must get the same
 * top), and the most nodes it remembers.
 */
#define FA_RELEASED_KEEP_MS 30000
#define FA_RELEASED_MAX     16384

enum fa_offer_found {
	FA_OFFER_NONE,  /* none kept for the node */
	FA_OFFER_STALE, /* one from another FA than the node names: dropped */
	FA_OFFER_OK,    /* *out holds it; dropped here (a copy is used at most once) */
};

/*
 * We hold the node's SAs and the home agent accepted its registration (or,
 * with full reuse, we went on above the blocks of our last offers).
 */
void fa_offer_push(struct fa_sec *s, struct in_addr home);
/* An authenticated SAX_OFFER (fa_sec_sax_in): kept, or refused and counted. */
void fa_offer_in(struct fa_sec *s, const struct sax_msg *m);
/* The copy from the FA the node names, for a hand-over (fa_reuse_request). */
enum fa_offer_found fa_offer_take(struct fa_sec *s, struct in_addr home, struct in_addr from,
				  struct sax_record *out);
/*
 * The holder released the node's SAs to `to` (fa_taken), top the last
 * number it sent or gave away (ipsec_top; 0: none to tell): remembered for
 * a repeated confirmation from the same FA.
 */
void fa_offer_released(struct fa_sec *s, struct in_addr home, struct in_addr to, uint64_t top);
/* The top we told `to` when we released the node's SAs to it; 0: another FA, or forgotten. */
uint64_t fa_offer_released_top(struct fa_sec *s, struct in_addr home, struct in_addr to);
void fa_offer_free_all(struct fa_sec *s);

#endif
