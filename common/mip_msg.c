#include "mip_msg.h"
#include "mip_auth.h"

#include <string.h>

const char *mip_perr_name(enum mip_perr e)
{
	static const char *const names[MIP_PERR_MAX] = {
		[MIP_PERR_OK] = "ok",
		[MIP_PERR_TRUNCATED] = "truncated",
		[MIP_PERR_TYPE] = "wrong message type",
		[MIP_PERR_UNKNOWN_EXT] = "unknown non-skippable extension",
		[MIP_PERR_BAD_EXT] = "malformed extension",
		[MIP_PERR_DUP_EXT] = "duplicate extension",
		[MIP_PERR_EXT_ORDER] = "extension out of order",
	};
	return e < MIP_PERR_MAX ? names[e] : "unknown error";
}

bool mip_code_accepted(uint8_t code)
{
	return code == MIP_CODE_ACCEPTED || code == MIP_CODE_ACCEPTED_NO_SIMUL;
}

const char *mip_code_name(uint8_t code)
{
	switch (code) {
	case MIP_CODE_ACCEPTED:
		return "accepted";
	case MIP_CODE_ACCEPTED_NO_SIMUL:
		return "accepted, no simultaneous bindings";
	case MIP_CODE_FA_UNSPECIFIED:
		return "FA: reason unspecified";
	case MIP_CODE_FA_PROHIBITED:
		return "FA: administratively prohibited";
	case MIP_CODE_FA_RESOURCES:
		return "FA: insufficient resources";
	case MIP_CODE_FA_MN_AUTH:
		return "FA: mobile node failed authentication";
	case MIP_CODE_FA_HA_AUTH:
		return "FA: home agent failed authentication";
	case MIP_CODE_FA_LIFETIME:
		return "FA: requested lifetime too long";
	case MIP_CODE_FA_BAD_REQUEST:
		return "FA: poorly formed request";
	case MIP_CODE_FA_BAD_REPLY:
		return "FA: poorly formed reply";
	case MIP_CODE_FA_ENCAP:
		return "FA: requested encapsulation unavailable";
	case MIP_CODE_FA_REVTUN_UNAVAIL:
		return "FA: requested reverse tunnel unavailable";
	case MIP_CODE_FA_REVTUN_MANDATORY:
		return "FA: reverse tunnel is mandatory and T bit not set";
	case MIP_CODE_FA_BAD_COA:
		return "FA: invalid care-of address";
	case MIP_CODE_FA_TIMEOUT:
		return "FA: registration timeout";
	case MIP_CODE_FA_DELIVERY_STYLE:
		return "FA: delivery style not supported";
	case MIP_CODE_FA_HA_NET_UNREACH:
		return "FA: home network unreachable";
	case MIP_CODE_FA_HA_HOST_UNREACH:
		return "FA: home agent host unreachable";
	case MIP_CODE_FA_HA_PORT_UNREACH:
		return "FA: home agent port unreachable";
	case MIP_CODE_FA_HA_UNREACH:
		return "FA: home agent unreachable";
	case MIP_CODE_FA_MISSING_NAI:
		return "FA: missing NAI";
	case MIP_CODE_FA_MISSING_HA:
		return "FA: missing home agent";
	case MIP_CODE_FA_MISSING_HOME_ADDR:
		return "FA: missing home address";
	case MIP_CODE_HA_UNSPECIFIED:
		return "HA: reason unspecified";
	case MIP_CODE_HA_PROHIBITED:
		return "HA: administratively prohibited";
	case MIP_CODE_HA_RESOURCES:
		return "HA: insufficient resources";
	case MIP_CODE_HA_MN_AUTH:
		return "HA: mobile node failed authentication";
	case MIP_CODE_HA_FA_AUTH:
		return "HA: foreign agent failed authentication";
	case MIP_CODE_HA_ID_MISMATCH:
		return "HA: registration identification mismatch";
	case MIP_CODE_HA_BAD_REQUEST:
		return "HA: poorly formed request";
	case MIP_CODE_HA_TOO_MANY:
		return "HA: too many simultaneous bindings";
	case MIP_CODE_HA_UNKNOWN_HA:
		return "HA: unknown home agent address";
	case MIP_CODE_HA_REVTUN_UNAVAIL:
		return "HA: requested reverse tunnel unavailable";
	case MIP_CODE_HA_REVTUN_MANDATORY:
		return "HA: reverse tunnel is mandatory and T bit not set";
	case MIP_CODE_HA_ENCAP:
		return "HA: requested encapsulation unavailable";
	default:
		return code < 64 ? "accepted (unknown code)" : "denied (unknown code)";
	}
}

static enum mip_perr mip_auth_ext_parse(struct buf *ext, size_t offset, size_t end,
					struct mip_auth_ext *a)
{
	if (a->present)
		return MIP_PERR_DUP_EXT;
	if (buf_get_u32(ext, &a->spi) != BUF_OK)
		return MIP_PERR_BAD_EXT; /* Length < 4: no room for the SPI */
	a->auth_len = buf_left(ext);
	if (buf_get_ptr(ext, &a->auth, a->auth_len) != BUF_OK)
		return MIP_PERR_BAD_EXT;
	a->present = true;
	a->offset = offset;
	a->covered_len = offset + 2 + 4; /* Type, Length, SPI */
	a->end = end;
	return MIP_PERR_OK;
}

/* Our SA reuse request: everything fixed-size, then the authenticator. */
static enum mip_perr mip_reuse_parse(struct buf *v, size_t body_offset, struct mip_reuse_req *r)
{
	uint8_t reserved;

	if (r->present)
		return MIP_PERR_DUP_EXT;
	if (buf_get_u8(v, &r->flags) || buf_get_u8(v, &reserved) ||
	    buf_get_bytes(v, &r->prev_coa.s_addr, 4) || buf_get_bytes(v, r->icookie, 8) ||
	    buf_get_bytes(v, r->rcookie, 8) || buf_get_u64(v, &r->mn_sent) ||
	    buf_get_u64(v, &r->mn_received))
		return MIP_PERR_BAD_EXT;
	/* v reads the extension's body, which starts after its Type and Length */
	r->covered_len = body_offset + buf_consumed(v);
	r->auth_len = buf_left(v);
	/* HMAC-SHA1 or HMAC-SHA-256, the ISAKMP SA's PRF */
	if ((r->auth_len != 20 && r->auth_len != 32) ||
	    buf_get_ptr(v, &r->auth, r->auth_len) != BUF_OK)
		return MIP_PERR_BAD_EXT;
	r->present = true;
	return MIP_PERR_OK;
}

/*
 * RFC 3115 NVSE: Reserved (2), Vendor ID (4), NVSE type (2), value.  Only
 * ours is read; anything else (another vendor's, or too short to say whose)
 * is skipped, as the type (134) allows.
 */
static enum mip_perr mip_nvse_parse(struct buf *ext, size_t offset, struct mip_exts *x)
{
	uint16_t reserved, type;
	uint32_t vendor;

	if (buf_get_u16(ext, &reserved) || buf_get_u32(ext, &vendor) || buf_get_u16(ext, &type) ||
	    vendor != MIP_NVSE_VENDOR) {
		x->skipped++;
		return MIP_PERR_OK;
	}
	if (type == MIP_NVSE_SA_REUSE)
		return mip_reuse_parse(ext, offset + 2, &x->reuse);
	if (type == MIP_NVSE_SA_REUSE_STATUS) {
		if (x->reuse_status.present)
			return MIP_PERR_DUP_EXT;
		if (buf_get_u8(ext, &x->reuse_status.status) ||
		    buf_get_u8(ext, &x->reuse_status.reason) || buf_expect_end(ext))
			return MIP_PERR_BAD_EXT;
		x->reuse_status.present = true;
		return MIP_PERR_OK;
	}
	x->skipped++;
	return MIP_PERR_OK;
}

/*
 * Walk the extensions after the fixed part.  Known ones are checked for
 * length, duplicates and the order of RFC 5944 3.6.1.3 / 3.7.2.2: the NAI
 * (RFC 2794) comes before the MN-HA authenticator; MN-FA and FA-HA come
 * after it.  Unknown types 0-127 make the whole message invalid; 128-255
 * are skipped (RFC 5944 1.9).
 */
static enum mip_perr mip_exts_parse(struct buf *b, bool reply, struct mip_exts *x)
{
	memset(x, 0, sizeof(*x));
	while (buf_left(b) > 0) {
		size_t offset = buf_consumed(b);
		uint8_t type, len;
		struct buf ext;
		enum mip_perr e = MIP_PERR_OK;

		if (buf_get_u8(b, &type) != BUF_OK || buf_get_u8(b, &len) != BUF_OK ||
		    buf_get_child(b, len, &ext) != BUF_OK)
			return MIP_PERR_TRUNCATED;
		size_t end = buf_consumed(b);
		switch (type) {
		case MIP_EXT_MN_HA_AUTH:
			/*
			 * MN-FA covers MN-HA, never the reverse: once a reply may
			 * carry MN-FA alone, an MN-HA after it must be refused.
			 */
			e = x->mn_fa.present && !x->mn_ha.present
				    ? MIP_PERR_EXT_ORDER
				    : mip_auth_ext_parse(&ext, offset, end, &x->mn_ha);
			break;
		case MIP_EXT_MN_FA_AUTH:
			/*
			 * A denial the FA makes itself has no MN-HA but may carry
			 * MN-FA (RFC 5944 3.7.2.3); in a request MN-FA follows MN-HA.
			 */
			e = x->mn_ha.present || reply
				    ? mip_auth_ext_parse(&ext, offset, end, &x->mn_fa)
				    : MIP_PERR_EXT_ORDER;
			break;
		case MIP_EXT_FA_HA_AUTH:
			e = x->mn_ha.present ? mip_auth_ext_parse(&ext, offset, end, &x->fa_ha)
					     : MIP_PERR_EXT_ORDER;
			break;
		case MIP_EXT_NAI:
			if (x->nai_len > 0)
				e = MIP_PERR_DUP_EXT;
			else if (x->mn_ha.present || x->mn_fa.present)
				e = MIP_PERR_EXT_ORDER; /* before every authenticator */
			else if (len == 0)
				e = MIP_PERR_BAD_EXT;
			else {
				x->nai_len = len;
				buf_get_ptr(&ext, &x->nai, len);
			}
			break;
		case MIP_EXT_NVSE:
			e = mip_nvse_parse(&ext, offset, x);
			break;
		case MIP_EXT_ENCAP_DELIVERY:
			if (x->encap_delivery)
				e = MIP_PERR_DUP_EXT;
			else if (len != 0)
				e = MIP_PERR_BAD_EXT;
			x->encap_delivery = true;
			break;
		default:
			if (type < 128)
				return MIP_PERR_UNKNOWN_EXT;
			x->skipped++;
			break;
		}
		if (e != MIP_PERR_OK)
			return e;
	}
	return MIP_PERR_OK;
}

static int mip_get_addr(struct buf *b, struct in_addr *a)
{
	return buf_get_bytes(b, &a->s_addr, 4);
}

enum mip_perr mip_request_parse(const uint8_t *msg, size_t len, struct mip_reg_request *rq)
{
	struct buf b;
	uint8_t type;

	memset(rq, 0, sizeof(*rq));
	buf_init_read(&b, msg, len);
	if (buf_get_u8(&b, &type) != BUF_OK)
		return MIP_PERR_TRUNCATED;
	if (type != MIP_TYPE_REG_REQUEST)
		return MIP_PERR_TYPE;
	if (buf_get_u8(&b, &rq->flags) != BUF_OK || buf_get_u16(&b, &rq->lifetime) != BUF_OK ||
	    mip_get_addr(&b, &rq->home_addr) != BUF_OK ||
	    mip_get_addr(&b, &rq->home_agent) != BUF_OK || mip_get_addr(&b, &rq->coa) != BUF_OK ||
	    buf_get_u64(&b, &rq->id) != BUF_OK)
		return MIP_PERR_TRUNCATED;
	return mip_exts_parse(&b, false, &rq->ext);
}

enum mip_perr mip_reply_parse(const uint8_t *msg, size_t len, struct mip_reg_reply *rp)
{
	struct buf b;
	uint8_t type;

	memset(rp, 0, sizeof(*rp));
	buf_init_read(&b, msg, len);
	if (buf_get_u8(&b, &type) != BUF_OK)
		return MIP_PERR_TRUNCATED;
	if (type != MIP_TYPE_REG_REPLY)
		return MIP_PERR_TYPE;
	if (buf_get_u8(&b, &rp->code) != BUF_OK || buf_get_u16(&b, &rp->lifetime) != BUF_OK ||
	    mip_get_addr(&b, &rp->home_addr) != BUF_OK ||
	    mip_get_addr(&b, &rp->home_agent) != BUF_OK || buf_get_u64(&b, &rp->id) != BUF_OK)
		return MIP_PERR_TRUNCATED;
	return mip_exts_parse(&b, true, &rp->ext);
}

static int mip_put_addr(struct buf *b, struct in_addr a)
{
	return buf_put_bytes(b, &a.s_addr, 4);
}

int mip_request_put(struct buf *b, const struct mip_reg_request *rq)
{
	if (buf_put_u8(b, MIP_TYPE_REG_REQUEST) != BUF_OK || buf_put_u8(b, rq->flags) != BUF_OK ||
	    buf_put_u16(b, rq->lifetime) != BUF_OK || mip_put_addr(b, rq->home_addr) != BUF_OK ||
	    mip_put_addr(b, rq->home_agent) != BUF_OK || mip_put_addr(b, rq->coa) != BUF_OK ||
	    buf_put_u64(b, rq->id) != BUF_OK)
		return -1;
	return 0;
}

int mip_reply_put(struct buf *b, const struct mip_reg_reply *rp)
{
	if (buf_put_u8(b, MIP_TYPE_REG_REPLY) != BUF_OK || buf_put_u8(b, rp->code) != BUF_OK ||
	    buf_put_u16(b, rp->lifetime) != BUF_OK || mip_put_addr(b, rp->home_addr) != BUF_OK ||
	    mip_put_addr(b, rp->home_agent) != BUF_OK || buf_put_u64(b, rp->id) != BUF_OK)
		return -1;
	return 0;
}

int mip_ext_put_nai(struct buf *b, const char *nai, size_t len)
{
	if (len == 0 || len > MIP_NAI_MAX)
		return -1;
	if (buf_put_u8(b, MIP_EXT_NAI) != BUF_OK || buf_put_u8(b, (uint8_t)len) != BUF_OK ||
	    buf_put_bytes(b, nai, len) != BUF_OK)
		return -1;
	return 0;
}

int mip_ext_put_encap_delivery(struct buf *b)
{
	if (buf_put_u8(b, MIP_EXT_ENCAP_DELIVERY) != BUF_OK || buf_put_u8(b, 0) != BUF_OK)
		return -1;
	return 0;
}

int mip_ext_put_auth(struct buf *b, uint8_t type, uint32_t spi, const uint8_t *key, size_t key_len)
{
	uint8_t *mac;

	if (buf_put_u8(b, type) != BUF_OK || buf_put_u8(b, 4 + MIP_AUTH_LEN) != BUF_OK ||
	    buf_put_u32(b, spi) != BUF_OK)
		return -1;
	/* The authenticator covers everything written so far, Type, Length and SPI included. */
	size_t covered = buf_used(b);
	if (buf_reserve(b, MIP_AUTH_LEN, &mac) != BUF_OK)
		return -1;
	return mip_auth_hmac_md5(key, key_len, buf_data(b), covered, mac);
}

static int mip_nvse_head(struct buf *b, uint8_t len, uint16_t type)
{
	if (buf_put_u8(b, MIP_EXT_NVSE) || buf_put_u8(b, len) || buf_put_u16(b, 0) ||
	    buf_put_u32(b, MIP_NVSE_VENDOR) || buf_put_u16(b, type))
		return -1;
	return 0;
}

int mip_ext_put_reuse(struct buf *b, const struct mip_reuse_req *r, size_t auth_len, uint8_t **auth,
		      size_t *covered)
{
	/* Reserved, vendor, type (8) and the fixed value (38) before the authenticator */
	if (auth_len > 32 || mip_nvse_head(b, (uint8_t)(8 + 38 + auth_len), MIP_NVSE_SA_REUSE) ||
	    buf_put_u8(b, r->flags) || buf_put_u8(b, 0) ||
	    buf_put_bytes(b, &r->prev_coa.s_addr, 4) || buf_put_bytes(b, r->icookie, 8) ||
	    buf_put_bytes(b, r->rcookie, 8) || buf_put_u64(b, r->mn_sent) ||
	    buf_put_u64(b, r->mn_received))
		return -1;
	*covered = buf_used(b);
	return buf_reserve(b, auth_len, auth) == BUF_OK ? 0 : -1;
}

int mip_ext_put_reuse_status(struct buf *b, uint8_t status, uint8_t reason)
{
	if (mip_nvse_head(b, 8 + 2, MIP_NVSE_SA_REUSE_STATUS) || buf_put_u8(b, status) ||
	    buf_put_u8(b, reason))
		return -1;
	return 0;
}
