/*
 * The node's claim on its SAs at a hand-over: see reuse_claim.h.
 */
#include "reuse_claim.h"
#include "ike.h"
#include "ike_xfer.h"
#include "mip_ident.h"

#include <openssl/crypto.h>
#include <string.h>

const char *reuse_verdict_name(enum reuse_verdict v)
{
	static const char *const names[REUSE_MAX] = {
		[REUSE_OK] = "ok",
		[REUSE_MALFORMED] = "not a registration with an SA reuse extension",
		[REUSE_OTHER_NODE] = "for another node",
		[REUSE_OTHER_FA] = "names another previous FA",
		[REUSE_COOKIES] = "names another ISAKMP SA",
		[REUSE_PROOF] = "the proof of possession does not verify",
		[REUSE_STALE] = "its Identification is outside the window of our clock",
		[REUSE_REPLAY] = "its Identification is not newer than the last one accepted",
	};
	return (unsigned)v < REUSE_MAX ? names[v] : "?";
}

enum reuse_verdict reuse_claim_check(const uint8_t *reg, size_t len, const struct sax_isakmp *sa,
				     struct mip_reg_request *rq)
{
	const struct mip_reuse_req *x = &rq->ext.reuse;
	uint8_t mac[IKE_MAX_HASH];
	bool ok;

	if (mip_request_parse(reg, len, rq) != MIP_PERR_OK || !x->present ||
	    x->covered_len + x->auth_len != len)
		return REUSE_MALFORMED;
	if (memcmp(x->icookie, sa->icookie, 8) != 0 || memcmp(x->rcookie, sa->rcookie, 8) != 0)
		return REUSE_COOKIES;
	/* The node keys the proof with the SA's own PRF: another length cannot be its. */
	if (x->auth_len != sa->hash_len || ike_possession_mac(sa, reg, x->covered_len, mac) < 0)
		return REUSE_PROOF;
	ok = CRYPTO_memcmp(mac, x->auth, x->auth_len) == 0;
	OPENSSL_cleanse(mac, sizeof(mac));
	return ok ? REUSE_OK : REUSE_PROOF;
}

enum reuse_verdict reuse_claim_names(const struct mip_reg_request *rq, struct in_addr home,
				     const char *id, size_t id_len, struct in_addr us)
{
	/* No NAI leaves a NULL pointer, which memcmp may not see even for 0 bytes. */
	if (rq->home_addr.s_addr != home.s_addr || rq->ext.nai_len != id_len ||
	    (id_len > 0 && memcmp(rq->ext.nai, id, id_len) != 0))
		return REUSE_OTHER_NODE;
	if (rq->ext.reuse.prev_coa.s_addr != us.s_addr)
		return REUSE_OTHER_FA;
	return REUSE_OK;
}

enum reuse_verdict reuse_claim_fresh(uint64_t id, uint64_t now_ntp, uint64_t last_accepted,
				     uint32_t window_s)
{
	if (last_accepted == 0)
		return REUSE_REPLAY;
	switch (mip_ident_check(id, now_ntp, last_accepted, window_s)) {
	case MIP_IDENT_OK:
		return REUSE_OK;
	case MIP_IDENT_STALE:
		return REUSE_STALE;
	case MIP_IDENT_REPLAY:
		break;
	}
	return REUSE_REPLAY;
}

enum reuse_verdict reuse_claim_serve(const uint8_t *reg, size_t len, const struct reuse_holder *h)
{
	struct mip_reg_request rq;
	enum reuse_verdict v = reuse_claim_check(reg, len, h->sa, &rq);

	if (v == REUSE_OK)
		v = reuse_claim_names(&rq, h->home, h->id, h->id_len, h->us);
	if (v == REUSE_OK && h->last_accepted == 0 && h->window_only)
		v = mip_ident_check(rq.id, h->now_ntp, 0, h->window_s) == MIP_IDENT_OK
			    ? REUSE_OK
			    : REUSE_STALE;
	else if (v == REUSE_OK)
		v = reuse_claim_fresh(rq.id, h->now_ntp, h->last_accepted, h->window_s);
	return v;
}
