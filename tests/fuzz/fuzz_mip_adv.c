/*
 * Fuzz the Agent Advertisement and Agent Solicitation parsers.  A parsed
 * advertisement must respect its limits, rebuild to a message that parses
 * back to the same values, and, when the input had no padding or skipped
 * extensions, to the same bytes (the checksum aside: 0x0000 and 0xffff are
 * both valid for a sum of zero).
 */
#include "buf.h"
#include "fuzzer.h"
#include "ip4.h"
#include "mip_adv.h"

static void check_same(const struct mip_agent_adv *a, const struct mip_agent_adv *b)
{
	CHECK(a->code == b->code);
	CHECK(a->lifetime == b->lifetime);
	CHECK(a->n_routers == b->n_routers);
	for (int i = 0; i < a->n_routers; i++) {
		CHECK(a->routers[i].addr.s_addr == b->routers[i].addr.s_addr);
		CHECK(a->routers[i].pref == b->routers[i].pref);
	}
	CHECK(a->seq == b->seq);
	CHECK(a->reg_lifetime == b->reg_lifetime);
	CHECK(a->flags == b->flags);
	CHECK(a->n_coa == b->n_coa);
	for (int i = 0; i < a->n_coa; i++)
		CHECK(a->coa[i].s_addr == b->coa[i].s_addr);
	CHECK(a->n_prefix_len == b->n_prefix_len);
	CHECK(memcmp(a->prefix_len, b->prefix_len, a->n_prefix_len) == 0);
}

static void fuzz_adv(const uint8_t *data, size_t size)
{
	struct mip_agent_adv a, back;
	uint8_t out[8 + 16 * 8 + 2 + 6 + 16 * 4 + 2 + 16];
	struct buf b;
	enum mip_adv_err e = mip_adv_parse(data, size, &a);

	CHECK(e >= MIP_ADV_OK && e < MIP_ADV_ERR_MAX);
	CHECK(mip_adv_err_name(e) != NULL);
	if (e != MIP_ADV_OK)
		return;
	CHECK(data[0] == MIP_ICMP_ADV);
	CHECK(a.code == MIP_ADV_CODE_ROUTE || a.code == MIP_ADV_CODE_MOBILE_ONLY);
	CHECK(a.n_routers <= MIP_ADV_MAX_ROUTERS);
	CHECK(a.n_coa <= MIP_ADV_MAX_COA);
	CHECK(a.n_prefix_len == 0 || a.n_prefix_len == a.n_routers);
	for (int i = 0; i < a.n_prefix_len; i++)
		CHECK(a.prefix_len[i] <= 32);
	CHECK(inet_cksum(data, size) == 0);
	size_t want = 8 + 8 * (size_t)a.n_routers + 8 + 4 * (size_t)a.n_coa +
		      (a.n_prefix_len ? 2 + (size_t)a.n_prefix_len : 0);
	CHECK(size >= want + 2 * (size_t)a.skipped);

	buf_init_write(&b, out, sizeof(out));
	CHECK(mip_adv_put(&b, &a) == 0);
	CHECK(buf_used(&b) == want);
	CHECK(inet_cksum(out, want) == 0);
	CHECK(mip_adv_parse(out, want, &back) == MIP_ADV_OK);
	check_same(&a, &back);
	CHECK(back.skipped == 0);
	if (size == want && a.skipped == 0) {
		CHECK(memcmp(out, data, 2) == 0);
		CHECK(memcmp(out + 4, data + 4, want - 4) == 0);
	}
}

static void fuzz_sol(const uint8_t *data, size_t size)
{
	uint8_t out[8];
	struct buf b;
	enum mip_adv_err e = mip_sol_parse(data, size);

	CHECK(e >= MIP_ADV_OK && e < MIP_ADV_ERR_MAX);
	if (e != MIP_ADV_OK)
		return;
	CHECK(size == 8);
	CHECK(data[0] == MIP_ICMP_SOL && data[1] == 0);
	CHECK(inet_cksum(data, 8) == 0);
	buf_init_write(&b, out, sizeof(out));
	CHECK(mip_sol_put(&b) == 0);
	CHECK(mip_sol_parse(out, 8) == MIP_ADV_OK);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Each parser checks the type itself: give both every input. */
	fuzz_adv(data, size);
	fuzz_sol(data, size);

	/* And a copy with the ICMP checksum made right, to explore past it. */
	if (size >= 4) {
		uint8_t *m = malloc(size);
		CHECK(m != NULL);
		memcpy(m, data, size);
		m[2] = m[3] = 0;
		uint16_t c = inet_cksum(m, size);
		m[2] = (uint8_t)(c >> 8);
		m[3] = (uint8_t)c;
		fuzz_adv(m, size);
		fuzz_sol(m, size);
		free(m);
	}
	return 0;
}
