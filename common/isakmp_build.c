/*
 * ISAKMP builder: the header, then payloads appended with their generic
 * headers and chained through Next Payload.  It uses the base (isakmp.c:
 * errors) and nothing above it; the puts of the payload bodies
 * (isakmp_payload.c, isakmp_sa.c) use it.  See isakmp.h.
 */
#include "isakmp.h"
#include "isakmp_int.h"

#include <string.h>

/* ---- header ---- */

int isakmp_hdr_put(struct buf *b, const struct isakmp_hdr *h)
{
	if (b->readonly || buf_room(b) < ISAKMP_HDR_LEN)
		return ISAKMP_E_NOSPACE;
	if (buf_put_bytes(b, h->icookie, ISAKMP_COOKIE_LEN) != BUF_OK ||
	    buf_put_bytes(b, h->rcookie, ISAKMP_COOKIE_LEN) != BUF_OK ||
	    buf_put_u8(b, h->next) != BUF_OK || buf_put_u8(b, ISAKMP_VERSION) != BUF_OK ||
	    buf_put_u8(b, h->exchange) != BUF_OK || buf_put_u8(b, h->flags) != BUF_OK ||
	    buf_put_u32(b, h->msgid) != BUF_OK || buf_put_u32(b, h->length) != BUF_OK)
		return ISAKMP_E_NOSPACE; /* not reached: the room was checked */
	return ISAKMP_OK;
}

/* ---- builder ---- */

int isakmp_bld_fail(struct isakmp_builder *bld, enum isakmp_err code, uint8_t payload,
		    size_t declared, size_t limit, const char *what)
{
	if (bld->err.code == ISAKMP_OK)
		isakmp_fail(&bld->err, code, payload, buf_used(bld->b), declared, limit, what);
	return bld->err.code;
}

int isakmp_build_init(struct isakmp_builder *bld, struct buf *b, const struct isakmp_hdr *h)
{
	memset(bld, 0, sizeof(*bld));
	bld->b = b;
	bld->start = buf_used(b);
	if (h != NULL) {
		struct isakmp_hdr t = *h;

		t.next = ISAKMP_PL_NONE;
		t.length = ISAKMP_HDR_LEN;
		if (isakmp_hdr_put(b, &t) != ISAKMP_OK)
			return isakmp_bld_fail(bld, ISAKMP_E_NOSPACE, ISAKMP_PL_NONE,
					       ISAKMP_HDR_LEN, buf_room(b), "ISAKMP header");
		bld->has_hdr = true;
		bld->have_np = true;
		bld->np_pos = bld->start + 2 * ISAKMP_COOKIE_LEN;
	}
	return ISAKMP_OK;
}

int isakmp_bld_begin(struct isakmp_builder *bld, uint8_t type, size_t body_len)
{
	struct buf *b = bld->b;
	size_t pos = buf_used(b);

	if (bld->err.code != ISAKMP_OK)
		return bld->err.code;
	if (type == ISAKMP_PL_NONE)
		return isakmp_bld_fail(bld, ISAKMP_E_INVALID, type, type, 0, "payload type");
	if (body_len > ISAKMP_PL_MAX_LEN - ISAKMP_GEN_LEN)
		return isakmp_bld_fail(bld, ISAKMP_E_INVALID, type, body_len + ISAKMP_GEN_LEN,
				       ISAKMP_PL_MAX_LEN, "payload length");
	if (b->readonly || buf_room(b) < ISAKMP_GEN_LEN + body_len)
		return isakmp_bld_fail(bld, ISAKMP_E_NOSPACE, type, ISAKMP_GEN_LEN + body_len,
				       buf_room(b), "payload");
	if (buf_put_u8(b, ISAKMP_PL_NONE) != BUF_OK || buf_put_u8(b, 0) != BUF_OK ||
	    buf_put_u16(b, (uint16_t)(ISAKMP_GEN_LEN + body_len)) != BUF_OK)
		return isakmp_bld_fail(bld, ISAKMP_E_NOSPACE, type, ISAKMP_GEN_LEN + body_len,
				       buf_room(b), "payload"); /* not reached */
	if (bld->have_np) {
		if (buf_set_u8_at(b, bld->np_pos, type) != BUF_OK)
			return isakmp_bld_fail(bld, ISAKMP_E_INVALID, type, bld->np_pos, 0,
					       "Next Payload position");
	} else {
		bld->first = type;
	}
	bld->have_np = true;
	bld->np_pos = pos;
	bld->last_pos = pos;
	bld->n++;
	return ISAKMP_OK;
}

int isakmp_bld_body(struct isakmp_builder *bld, uint8_t type, int r)
{
	if (r != 0)
		return isakmp_bld_fail(bld, ISAKMP_E_NOSPACE, type, 0, buf_room(bld->b),
				       "payload body");
	return ISAKMP_OK;
}

int isakmp_put_raw(struct isakmp_builder *bld, uint8_t type, const void *body, size_t len)
{
	int r = isakmp_bld_begin(bld, type, len);

	if (r != ISAKMP_OK)
		return r;
	return isakmp_bld_body(bld, type, len > 0 ? buf_put_bytes(bld->b, body, len) : BUF_OK);
}

int isakmp_put_reserve(struct isakmp_builder *bld, uint8_t type, size_t len, uint8_t **p)
{
	int r = isakmp_bld_begin(bld, type, len);

	if (r != ISAKMP_OK)
		return r;
	r = buf_reserve(bld->b, len, p);
	if (r == BUF_OK && len > 0)
		memset(*p, 0, len);
	return isakmp_bld_body(bld, type, r);
}

int isakmp_build_last(const struct isakmp_builder *bld, const uint8_t **p, size_t *len)
{
	const uint8_t *d = buf_data(bld->b);

	if (bld->n == 0)
		return -1;
	*p = d + bld->last_pos + ISAKMP_GEN_LEN;
	*len = ((size_t)d[bld->last_pos + 2] << 8 | d[bld->last_pos + 3]) - ISAKMP_GEN_LEN;
	return 0;
}

int isakmp_build_finish(struct isakmp_builder *bld, size_t *len)
{
	size_t total = buf_used(bld->b) - bld->start;
	uint8_t *p;

	if (bld->err.code != ISAKMP_OK)
		return bld->err.code;
	if (bld->has_hdr) {
		if (total > UINT32_MAX || buf_wptr_at(bld->b, bld->start + 24, 4, &p) != BUF_OK)
			return isakmp_bld_fail(bld, ISAKMP_E_INVALID, ISAKMP_PL_NONE, total,
					       UINT32_MAX, "message length");
		p[0] = (uint8_t)(total >> 24);
		p[1] = (uint8_t)(total >> 16);
		p[2] = (uint8_t)(total >> 8);
		p[3] = (uint8_t)total;
	}
	if (len != NULL)
		*len = total;
	return ISAKMP_OK;
}
