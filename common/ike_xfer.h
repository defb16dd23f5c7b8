/*
 * SA transfer between foreign agents, the IKE engine's side
 * (common/ike_xfer.c): the transfer layer above the engine, so the engine
 * itself knows nothing of the transfer's wire format (sax.h).
 *
 * ike_export fills rec with the newest established ISAKMP SA with peer
 * and, when children is set, its IPsec SA pairs (keys, SPIs, lifetimes;
 * the caller adds sequence-number state).  ike_import installs them as
 * established (the pairs through ops.child_up), replacing whatever we had
 * with that peer; NULL when the record has ended or is unusable.
 * ike_possession_mac is the node's proof that it holds an ISAKMP SA:
 * prf(SKEYID_a, data) with the SA's hash.
 */
#ifndef MIPSA_IKE_XFER_H
#define MIPSA_IKE_XFER_H

#include "ike.h"
#include "sax.h"

int ike_export(struct ike_engine *eng, struct in_addr peer, bool children, struct sax_record *rec);
struct ike_sa *ike_import(struct ike_engine *eng, const struct sax_record *rec,
			  const struct ike_peer *pc, bool children);
int ike_possession_mac(const struct sax_isakmp *x, const uint8_t *data, size_t len, uint8_t *out);

#endif
