/*
 * A mobile node's claim on its SAs at a hand-over (doc/design.md, SA reuse and pitfalls).
 *
 * Moving to another FA of the domain, the node registers in the clear with
 * the SA reuse extension: the FA it leaves, the ISAKMP SA's cookies, its
 * ESP counters, and prf(SKEYID_a, every byte of the request before the
 * authenticator), Identification and MN-HA authenticator included
 * (mn_ipsec_extend).  Anyone on the access link can copy or replay that
 * request, so both FAs check it before anything moves:
 *
 *  - the new FA against the record it fetched (reuse_claim_check), before
 *    it installs the SAs;
 *  - the FA that holds the SAs against its own ISAKMP SA, before it lends
 *    them (reuse_claim_check), and it also wants the Identification newer
 *    than the last registration of the node it saw the home agent accept
 *    (reuse_claim_fresh): a replayed request then moves nothing.
 *
 * Pure functions: no sockets, no clock, no globals.
 */
#ifndef MIPSA_REUSE_CLAIM_H
#define MIPSA_REUSE_CLAIM_H

#include "mip_msg.h"
#include "sax.h"

#include <stddef.h>
#include <stdint.h>

enum reuse_verdict {
	REUSE_OK = 0,
	REUSE_MALFORMED,  /* not a registration request ending with our extension */
	REUSE_OTHER_NODE, /* another home address or NAI than the node's */
	REUSE_OTHER_FA,   /* it names another FA as the one the node leaves */
	REUSE_COOKIES,    /* it names another ISAKMP SA */
	REUSE_PROOF,      /* the authenticator does not verify */
	REUSE_STALE,      /* the Identification is outside the window of our clock */
	REUSE_REPLAY,     /* the Identification is not newer than one accepted here */
	REUSE_MAX
};

const char *reuse_verdict_name(enum reuse_verdict v);

/*
 * reg[0..len): a Registration Request from its first byte through the end
 * of its SA reuse extension, which must end exactly at len (what a
 * SAX_REQUEST carries).  Checks that it parses, that it names sa by its
 * cookies, and that its authenticator is prf(SKEYID_a) of sa over all
 * before it, compared in constant time.  rq gets the parsed request (its
 * pointers point into reg).
 */
enum reuse_verdict reuse_claim_check(const uint8_t *reg, size_t len, const struct sax_isakmp *sa,
				     struct mip_reg_request *rq);

/*
 * The claim as the FA that holds the node's SAs must see it: for the node
 * with home address home and identity id[0..id_len) (its NAI), naming us
 * (our care-of address) as the FA it leaves.
 */
enum reuse_verdict reuse_claim_names(const struct mip_reg_request *rq, struct in_addr home,
				     const char *id, size_t id_len, struct in_addr us);

/*
 * The Identification (RFC 5944 timestamp, NTP format) is within window_s
 * of now_ntp and later than last_accepted, the Identification of the
 * node's last registration the home agent accepted through us (0: none, and
 * then the claim is refused as a replay: we have nothing to judge it by).
 */
enum reuse_verdict reuse_claim_fresh(uint64_t id, uint64_t now_ntp, uint64_t last_accepted,
				     uint32_t window_s);

/*
 * All of the above, as the FA that holds the node's SAs decides on a
 * request (fa_serve_request): reuse_claim_check against its own ISAKMP SA,
 * reuse_claim_names, then reuse_claim_fresh with the Identification of the
 * node's last registration accepted through it.
 */
struct reuse_holder {
	const struct sax_isakmp *sa; /* our ISAKMP SA with the node */
	struct in_addr home;         /* the node's home address */
	const char *id;              /* and identity */
	size_t id_len;
	struct in_addr us;      /* our care-of address */
	uint64_t last_accepted; /* Identification, 0: none (refused, unless window_only) */
	bool window_only;       /* with no last registration, the window alone decides */
	uint64_t now_ntp;       /* our clock as an Identification */
	uint32_t window_s;
};
enum reuse_verdict reuse_claim_serve(const uint8_t *reg, size_t len, const struct reuse_holder *h);

#endif
