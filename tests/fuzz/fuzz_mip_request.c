/*
 * Fuzz the Registration Request parser.  A successful parse must satisfy
 * the extension invariants; the fixed part must rebuild to the same bytes;
 * and the message rebuilt with the same extensions must parse back to the
 * same values with valid authenticators.
 */
#include "buf.h"
#include "fuzzer.h"
#include "mip_auth.h"
#include "mip_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mip_reg_request rq, back;
	uint8_t out[24 + 257 + 3 * 22 + 2];
	enum mip_perr e;
	struct buf b;

	e = mip_request_parse(data, size, &rq);
	CHECK(e >= MIP_PERR_OK && e < MIP_PERR_MAX);
	CHECK(mip_perr_name(e) != NULL);
	if (e != MIP_PERR_OK)
		return 0;
	CHECK(size >= 24);
	CHECK(data[0] == MIP_TYPE_REG_REQUEST);
	fz_check_exts(&rq.ext, data, size, 24, false);
	fz_exercise_auth(data, &rq.ext.mn_ha);
	fz_exercise_auth(data, &rq.ext.mn_fa);
	fz_exercise_auth(data, &rq.ext.fa_ha);

	/* The fixed part rebuilds byte for byte. */
	buf_init_write(&b, out, sizeof(out));
	CHECK(mip_request_put(&b, &rq) == 0);
	CHECK(buf_used(&b) == 24);
	CHECK(memcmp(out, data, 24) == 0);

	/* Rebuilt with the same extensions, it parses back to the same message. */
	CHECK(fz_put_exts(&b, &rq.ext) == 0);
	e = mip_request_parse(out, buf_used(&b), &back);
	CHECK(e == MIP_PERR_OK);
	CHECK(back.flags == rq.flags);
	CHECK(back.lifetime == rq.lifetime);
	CHECK(back.home_addr.s_addr == rq.home_addr.s_addr);
	CHECK(back.home_agent.s_addr == rq.home_agent.s_addr);
	CHECK(back.coa.s_addr == rq.coa.s_addr);
	CHECK(back.id == rq.id);
	fz_check_exts(&back.ext, out, buf_used(&b), 24, false);
	fz_check_rebuilt(&rq.ext, &back.ext, out);

	/* Every prefix that ends inside the fixed part is refused. */
	for (size_t n = 0; n < 24; n++) {
		struct mip_reg_request cut;

		CHECK(mip_request_parse(data, n, &cut) == MIP_PERR_TRUNCATED);
	}
	return 0;
}
