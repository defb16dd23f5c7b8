/*
 * Packets for a node whose IPsec SAs are about to come up: it has an
 * ISAKMP SA with us and no IPsec SA pair, so a Quick Mode is under way (a
 * partial hand-over, a rekey after a failed copy).  Rather than drop what
 * arrives meanwhile (a millisecond or two), we hold a few packets per node
 * and send them through the pair as it comes up, in order; what is not
 * sent within FA_HOLD_MS goes.  Private to mipsa-fa's IPsec side.
 */
#ifndef MIPSA_FA_HOLD_H
#define MIPSA_FA_HOLD_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fa_sec;

#define FA_HOLD_PACKETS 16  /* per node; beyond, new ones are dropped */
#define FA_HOLD_MS      200 /* a Quick Mode not done by then: the held packets go */
#define FA_HOLD_NODES   256 /* nodes with packets held at once */

/* Hold a packet for dst (true), or not (false: the caller drops it). */
bool fa_hold(struct fa_sec *s, const uint8_t mac[6], struct in_addr dst, const uint8_t *pkt,
	     size_t len);
/*
 * A hand-over of dst starts taking SAs in: what we held goes, and nothing
 * is held until it ends (pairs a transfer installs send nothing before
 * their sequence numbers are set).
 */
void fa_hold_drop(struct fa_sec *s, struct in_addr dst);
/* dst's first pair is up: what we held for it goes through it now. */
void fa_hold_flush(struct fa_sec *s, struct in_addr dst);
void fa_hold_free_all(struct fa_sec *s);

#endif
