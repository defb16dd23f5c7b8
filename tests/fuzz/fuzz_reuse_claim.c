/*
 * Fuzz the FAs' check of a node's claim on its SAs (common/reuse_claim.c):
 * the input is a registration request as a SAX_REQUEST carries it.  The
 * ISAKMP SA it is checked against has the cookies the request names (so
 * the proof is reached) and the SKEYID_a of doc/sa-transfer.md's vector,
 * whose registration is the seed: that one verifies.  A claim may pass
 * only when its authenticator is the SA's prf over what it covers, and
 * reuse_claim_serve passes exactly what check, names and fresh pass.
 */
#include "fuzzer.h"
#include "ike.h"
#include "ike_xfer.h"
#include "mip_msg.h"
#include "reuse_claim.h"

#include <arpa/inet.h>
#include <string.h>

#define NOW_NTP ((uint64_t)0xed003780 << 32)

static void fz_sa(struct sax_isakmp *sa, const struct mip_reuse_req *x, size_t auth_len)
{
	memset(sa, 0, sizeof(*sa));
	memcpy(sa->icookie, x->icookie, 8);
	memcpy(sa->rcookie, x->rcookie, 8);
	sa->hash = auth_len == 20 ? IKE_HASH_SHA1 : IKE_HASH_SHA2_256;
	sa->hash_len = auth_len == 20 ? 20 : 32;
	for (int i = 0; i < 32; i++)
		sa->skeyid_a[i] = (uint8_t)(0x40 + i);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mip_reg_request rq, got;
	const struct mip_reuse_req *x = &rq.ext.reuse;
	struct sax_isakmp sa;
	uint8_t mac[IKE_MAX_HASH];
	enum reuse_verdict v, serve;
	struct reuse_holder h;
	bool parsed = mip_request_parse(data, size, &rq) == MIP_PERR_OK && x->present;

	fz_sa(&sa, x, parsed ? x->auth_len : 32);
	v = reuse_claim_check(data, size, &sa, &got);
	CHECK(v >= REUSE_OK && v < REUSE_MAX);
	CHECK(reuse_verdict_name(v) != NULL);
	/* only a registration whose extension ends it gets past MALFORMED */
	CHECK((v == REUSE_MALFORMED) == (!parsed || x->covered_len + x->auth_len != size));
	if (v == REUSE_MALFORMED)
		return 0;
	CHECK(v == REUSE_OK || v == REUSE_PROOF);
	CHECK(ike_possession_mac(&sa, data, x->covered_len, mac) == 0);
	CHECK((v == REUSE_OK) == (memcmp(mac, x->auth, x->auth_len) == 0));
	/* the holder's decision: check, then names, then fresh */
	memset(&h, 0, sizeof(h));
	h.sa = &sa;
	h.home = rq.home_addr;
	h.id = (const char *)rq.ext.nai;
	h.id_len = rq.ext.nai_len;
	h.us = x->prev_coa;
	h.last_accepted = NOW_NTP - ((uint64_t)10 << 32);
	h.now_ntp = NOW_NTP;
	h.window_s = 30;
	serve = reuse_claim_serve(data, size, &h);
	if (v != REUSE_OK)
		CHECK(serve == v);
	else
		CHECK(serve == reuse_claim_fresh(rq.id, NOW_NTP, h.last_accepted, 30));
	/* another SA (one cookie bit) or another FA never passes */
	h.us.s_addr ^= htonl(1);
	CHECK(reuse_claim_serve(data, size, &h) == (v == REUSE_OK ? REUSE_OTHER_FA : v));
	sa.rcookie[0] ^= 1;
	CHECK(reuse_claim_check(data, size, &sa, &got) == REUSE_COOKIES);
	return 0;
}
