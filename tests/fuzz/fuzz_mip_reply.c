/*
 * Fuzz the Registration Reply parser.  A successful parse must satisfy
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
	struct mip_reg_reply rp, back;
	uint8_t out[20 + 257 + 3 * 22 + 2];
	enum mip_perr e;
	struct buf b;

	e = mip_reply_parse(data, size, &rp);
	CHECK(e >= MIP_PERR_OK && e < MIP_PERR_MAX);
	CHECK(mip_perr_name(e) != NULL);
	if (e != MIP_PERR_OK)
		return 0;
	CHECK(size >= 20);
	CHECK(data[0] == MIP_TYPE_REG_REPLY);
	fz_check_exts(&rp.ext, data, size, 20, true);
	fz_exercise_auth(data, &rp.ext.mn_ha);
	fz_exercise_auth(data, &rp.ext.mn_fa);
	fz_exercise_auth(data, &rp.ext.fa_ha);

	/* The fixed part rebuilds byte for byte. */
	buf_init_write(&b, out, sizeof(out));
	CHECK(mip_reply_put(&b, &rp) == 0);
	CHECK(buf_used(&b) == 20);
	CHECK(memcmp(out, data, 20) == 0);

	/* Rebuilt with the same extensions, it parses back to the same message. */
	CHECK(fz_put_exts(&b, &rp.ext) == 0);
	e = mip_reply_parse(out, buf_used(&b), &back);
	CHECK(e == MIP_PERR_OK);
	CHECK(back.code == rp.code);
	CHECK(back.lifetime == rp.lifetime);
	CHECK(back.home_addr.s_addr == rp.home_addr.s_addr);
	CHECK(back.home_agent.s_addr == rp.home_agent.s_addr);
	CHECK(back.id == rp.id);
	fz_check_exts(&back.ext, out, buf_used(&b), 20, true);
	fz_check_rebuilt(&rp.ext, &back.ext, out);

	/* Every prefix that ends inside the fixed part is refused. */
	for (size_t n = 0; n < 20; n++) {
		struct mip_reg_reply cut;

		CHECK(mip_reply_parse(data, n, &cut) == MIP_PERR_TRUNCATED);
	}
	return 0;
}
