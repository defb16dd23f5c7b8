/*
 * Packets for a node whose IPsec SAs are about to come up, rather than
 * dropped meanwhile: a Quick Mode is under way (it has an ISAKMP SA with
 * us and no IPsec SA pair: a partial hand-over, a rekey), or a hand-over
 * is taking its SAs in and has not counted yet (the home agent moved its
 * binding to us before the transfer ended).  A few packets per node wait
 * and go through the pair, in order, once it may carry them: as it comes
 * up from a Quick Mode, or as a hand-over counts (full reuse; with a
 * store, once our copy is there).  What waited FA_HOLD_MS goes, and so
 * does everything held for a hand-over that did not count.  Private to
 * mipsa-fa's IPsec side.
 */
#ifndef MIPSA_FA_HOLD_H
#define MIPSA_FA_HOLD_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fa_sec;

#define FA_HOLD_PACKETS 16    /* per node; beyond, new ones are dropped */
#define FA_HOLD_BYTES   65536 /* per node (a GSO packet from the TUN may be 64 KiB) */
#define FA_HOLD_MS      200   /* a Quick Mode not done by then: the held packets go */
#define FA_HOLD_NODES   256   /* nodes with packets held at once */

/* Hold a packet for dst (true), or not (false: the caller drops it). */
bool fa_hold(struct fa_sec *s, const uint8_t mac[6], struct in_addr dst, const uint8_t *pkt,
	     size_t len);
/* A hand-over of dst did not count: what we held for it goes. */
void fa_hold_drop(struct fa_sec *s, struct in_addr dst);
/* dst's pair is up, or may send now: what we held for it goes through it (how many). */
size_t fa_hold_flush(struct fa_sec *s, struct in_addr dst);
void fa_hold_free_all(struct fa_sec *s);

#endif
