#include "mip_adv.h"
#include "ip4.h"

#include <string.h>

const char *mip_adv_err_name(enum mip_adv_err e)
{
	static const char *const names[MIP_ADV_ERR_MAX] = {
		[MIP_ADV_OK] = "ok",
		[MIP_ADV_TRUNCATED] = "truncated",
		[MIP_ADV_CHECKSUM] = "bad ICMP checksum",
		[MIP_ADV_NOT_ADV] = "not an agent advertisement",
		[MIP_ADV_BAD_FIELD] = "bad field value",
		[MIP_ADV_NO_MA_EXT] = "no mobility agent extension",
		[MIP_ADV_BAD_EXT] = "malformed extension",
		[MIP_ADV_UNKNOWN_EXT] = "unknown non-skippable extension",
	};
	return e < MIP_ADV_ERR_MAX ? names[e] : "unknown error";
}

static enum mip_adv_err mip_adv_ma_parse(struct buf *ext, uint8_t len, struct mip_agent_adv *adv)
{
	/* Length = 6 + 4 * (number of care-of addresses), RFC 5944 2.1.1. */
	if (len < 6 || (len - 6) % 4 != 0 || (len - 6) / 4 > MIP_ADV_MAX_COA)
		return MIP_ADV_BAD_EXT;
	buf_get_u16(ext, &adv->seq);
	buf_get_u16(ext, &adv->reg_lifetime);
	buf_get_u16(ext, &adv->flags);
	adv->n_coa = (uint8_t)((len - 6) / 4);
	for (uint8_t i = 0; i < adv->n_coa; i++)
		buf_get_bytes(ext, &adv->coa[i].s_addr, 4);
	return MIP_ADV_OK;
}

/* The extensions that follow the ICMP router advertisement proper. */
static enum mip_adv_err mip_adv_exts_parse(struct buf *b, struct mip_agent_adv *adv)
{
	bool have_ma = false;

	while (buf_left(b) > 0) {
		uint8_t type, len;
		struct buf ext;
		enum mip_adv_err e = MIP_ADV_OK;

		buf_get_u8(b, &type);
		if (type == MIP_ADV_EXT_PAD)
			continue; /* One-byte Padding has no Length */
		if (buf_get_u8(b, &len) != BUF_OK || buf_get_child(b, len, &ext) != BUF_OK)
			return MIP_ADV_TRUNCATED;
		switch (type) {
		case MIP_ADV_EXT_MA:
			e = have_ma ? MIP_ADV_BAD_EXT : mip_adv_ma_parse(&ext, len, adv);
			have_ma = true;
			break;
		case MIP_ADV_EXT_PREFIX:
			/* One prefix length per router address (RFC 5944 2.1.2). */
			if (!have_ma || adv->n_prefix_len > 0 || len != adv->n_routers || len == 0)
				return MIP_ADV_BAD_EXT;
			adv->n_prefix_len = len;
			buf_get_bytes(&ext, adv->prefix_len, len);
			for (uint8_t i = 0; i < len; i++)
				if (adv->prefix_len[i] > 32)
					return MIP_ADV_BAD_EXT;
			break;
		default:
			if (type < 128)
				return MIP_ADV_UNKNOWN_EXT;
			adv->skipped++;
			break;
		}
		if (e != MIP_ADV_OK)
			return e;
	}
	return have_ma ? MIP_ADV_OK : MIP_ADV_NO_MA_EXT;
}

enum mip_adv_err mip_adv_parse(const uint8_t *icmp, size_t len, struct mip_agent_adv *adv)
{
	struct buf b;
	uint8_t type, entry_size;
	uint16_t cksum;

	memset(adv, 0, sizeof(*adv));
	buf_init_read(&b, icmp, len);
	if (buf_get_u8(&b, &type) != BUF_OK || buf_get_u8(&b, &adv->code) != BUF_OK ||
	    buf_get_u16(&b, &cksum) != BUF_OK || buf_get_u8(&b, &adv->n_routers) != BUF_OK ||
	    buf_get_u8(&b, &entry_size) != BUF_OK || buf_get_u16(&b, &adv->lifetime) != BUF_OK)
		return MIP_ADV_TRUNCATED;
	if (type != MIP_ICMP_ADV ||
	    (adv->code != MIP_ADV_CODE_ROUTE && adv->code != MIP_ADV_CODE_MOBILE_ONLY))
		return MIP_ADV_NOT_ADV;
	if (inet_cksum(icmp, len) != 0)
		return MIP_ADV_CHECKSUM;
	/* RFC 1256: Address Entry Size is 2 (32-bit words per entry). */
	if (entry_size != 2 || adv->n_routers > MIP_ADV_MAX_ROUTERS)
		return MIP_ADV_BAD_FIELD;
	for (uint8_t i = 0; i < adv->n_routers; i++) {
		uint32_t pref;
		if (buf_get_bytes(&b, &adv->routers[i].addr.s_addr, 4) != BUF_OK ||
		    buf_get_u32(&b, &pref) != BUF_OK)
			return MIP_ADV_TRUNCATED;
		adv->routers[i].pref = (int32_t)pref;
	}
	return mip_adv_exts_parse(&b, adv);
}

int mip_adv_put(struct buf *b, const struct mip_agent_adv *adv)
{
	size_t start = buf_used(b);
	uint8_t *msg;

	if (adv->n_routers > MIP_ADV_MAX_ROUTERS || adv->n_coa > MIP_ADV_MAX_COA ||
	    (adv->n_prefix_len != 0 && adv->n_prefix_len != adv->n_routers))
		return -1;
	if (buf_put_u8(b, MIP_ICMP_ADV) || buf_put_u8(b, adv->code) || buf_put_u16(b, 0) ||
	    buf_put_u8(b, adv->n_routers) || buf_put_u8(b, 2) || buf_put_u16(b, adv->lifetime))
		return -1;
	for (uint8_t i = 0; i < adv->n_routers; i++)
		if (buf_put_bytes(b, &adv->routers[i].addr.s_addr, 4) ||
		    buf_put_u32(b, (uint32_t)adv->routers[i].pref))
			return -1;
	if (buf_put_u8(b, MIP_ADV_EXT_MA) || buf_put_u8(b, (uint8_t)(6 + 4 * adv->n_coa)) ||
	    buf_put_u16(b, adv->seq) || buf_put_u16(b, adv->reg_lifetime) ||
	    buf_put_u16(b, adv->flags))
		return -1;
	for (uint8_t i = 0; i < adv->n_coa; i++)
		if (buf_put_bytes(b, &adv->coa[i].s_addr, 4))
			return -1;
	if (adv->n_prefix_len > 0 &&
	    (buf_put_u8(b, MIP_ADV_EXT_PREFIX) || buf_put_u8(b, adv->n_prefix_len) ||
	     buf_put_bytes(b, adv->prefix_len, adv->n_prefix_len)))
		return -1;
	if (buf_wptr_at(b, start, buf_used(b) - start, &msg) != BUF_OK)
		return -1;
	return buf_set_u16_at(b, start + 2, inet_cksum(msg, buf_used(b) - start)) ? -1 : 0;
}

enum mip_adv_err mip_sol_parse(const uint8_t *icmp, size_t len)
{
	struct buf b;
	uint8_t type, code;

	buf_init_read(&b, icmp, len);
	/* RFC 1256: 8 octets; longer ones are accepted there, we take only what it defines. */
	if (buf_get_u8(&b, &type) != BUF_OK || buf_get_u8(&b, &code) != BUF_OK ||
	    buf_skip(&b, 6) != BUF_OK)
		return MIP_ADV_TRUNCATED;
	if (type != MIP_ICMP_SOL || code != 0)
		return MIP_ADV_NOT_ADV;
	if (inet_cksum(icmp, len) != 0)
		return MIP_ADV_CHECKSUM;
	return buf_expect_end(&b) == BUF_OK ? MIP_ADV_OK : MIP_ADV_BAD_FIELD;
}

int mip_sol_put(struct buf *b)
{
	size_t start = buf_used(b);
	uint8_t *msg;

	if (buf_put_u8(b, MIP_ICMP_SOL) || buf_put_u8(b, 0) || buf_put_u16(b, 0) ||
	    buf_put_u32(b, 0))
		return -1;
	if (buf_wptr_at(b, start, 8, &msg) != BUF_OK)
		return -1;
	return buf_set_u16_at(b, start + 2, inet_cksum(msg, 8)) ? -1 : 0;
}
