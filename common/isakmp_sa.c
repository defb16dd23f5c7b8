/*
 * ISAKMP SA payload: proposals, transforms and data attributes (RFC 2408
 * 3.3-3.6, RFC 2407 4.2 and 4.5), parse and build.  See isakmp.h.
 */
#include "isakmp.h"
#include "isakmp_int.h"

#include <string.h>

#define ISAKMP_AF_TV 0x8000 /* Attribute Format bit: TV (basic) */

/* One data attribute at off (offset in the message) from tb. */
static int isakmp_attr_parse(struct buf *tb, size_t off, struct isakmp_attr *a,
			     struct isakmp_error *err)
{
	size_t left = buf_left(tb);
	uint16_t t, l;

	memset(a, 0, sizeof(*a));
	if (left < 4)
		return isakmp_fail_attr(err, ISAKMP_E_TRUNCATED, 0, off, 4, left,
					"attribute type and length/value");
	if (buf_get_u16(tb, &t) != BUF_OK)
		return isakmp_fail_attr(err, ISAKMP_E_TRUNCATED, 0, off, 4, left, "attribute type");
	a->type = t & (uint16_t)~ISAKMP_AF_TV;
	if (t & ISAKMP_AF_TV) {
		/* TV: the value is the two bytes where TLV has its length */
		if (buf_get_ptr(tb, &a->val, 2) != BUF_OK)
			return isakmp_fail_attr(err, ISAKMP_E_TRUNCATED, a->type, off, 4, left,
						"attribute value");
		a->tv = true;
		a->num = true;
		a->len = 2;
		a->u = (uint64_t)a->val[0] << 8 | a->val[1];
		return ISAKMP_OK;
	}
	if (buf_get_u16(tb, &l) != BUF_OK)
		return isakmp_fail_attr(err, ISAKMP_E_TRUNCATED, a->type, off, 4, left,
					"attribute length");
	if (l > buf_left(tb))
		return isakmp_fail_attr(err, ISAKMP_E_LENGTH_OVERRUN, a->type, off, l, buf_left(tb),
					"attribute value length");
	if (buf_get_ptr(tb, &a->val, l) != BUF_OK)
		return isakmp_fail_attr(err, ISAKMP_E_LENGTH_OVERRUN, a->type, off, l, buf_left(tb),
					"attribute value length");
	a->len = l;
	if (l >= 1 && l <= 8) {
		a->num = true;
		for (size_t i = 0; i < l; i++)
			a->u = a->u << 8 | a->val[i];
	}
	return ISAKMP_OK;
}

/*
 * The generic header of a proposal or transform at off: RESERVED zero, Next
 * Payload 0 or the type itself, Payload Length >= 8 and within what is left.
 * Makes child the rest of the substructure.
 */
static int isakmp_sub_header(struct buf *b, uint8_t type, size_t off, uint8_t *next,
			     struct buf *child, struct isakmp_error *err)
{
	size_t left = buf_left(b);
	uint8_t res;
	uint16_t len;

	if (left < ISAKMP_GEN_LEN)
		return isakmp_fail(err, ISAKMP_E_TRUNCATED, type, off, ISAKMP_GEN_LEN, left,
				   "generic payload header");
	if (buf_get_u8(b, next) != BUF_OK || buf_get_u8(b, &res) != BUF_OK ||
	    buf_get_u16(b, &len) != BUF_OK)
		return isakmp_fail(err, ISAKMP_E_TRUNCATED, type, off, ISAKMP_GEN_LEN, left,
				   "generic payload header");
	if (res != 0)
		return isakmp_fail(err, ISAKMP_E_RESERVED, type, off, res, 0,
				   "generic header RESERVED");
	if (*next != ISAKMP_PL_NONE && *next != type) {
		isakmp_fail(err, ISAKMP_E_PAYLOAD_TYPE, type, off, *next, 0,
			    type == ISAKMP_PL_P ? "Next Payload of a proposal"
						: "Next Payload of a transform");
		if (err != NULL)
			err->notify = ISAKMP_N_BAD_PROPOSAL_SYNTAX;
		return ISAKMP_E_PAYLOAD_TYPE;
	}
	if (len < isakmp_payload_min_len(type))
		return isakmp_fail(err, ISAKMP_E_LENGTH_SHORT, type, off, len,
				   isakmp_payload_min_len(type), "payload length");
	if (len > left)
		return isakmp_fail(err, ISAKMP_E_LENGTH_OVERRUN, type, off, len, left,
				   "payload length");
	if (buf_get_child(b, len - ISAKMP_GEN_LEN, child) != BUF_OK)
		return isakmp_fail(err, ISAKMP_E_LENGTH_OVERRUN, type, off, len, left,
				   "payload length");
	return ISAKMP_OK;
}

static int isakmp_xf_parse(struct buf *pb, size_t off, struct isakmp_transform *t, uint8_t *next,
			   struct isakmp_error *err)
{
	struct buf tb;
	uint16_t res;
	int r;

	r = isakmp_sub_header(pb, ISAKMP_PL_T, off, next, &tb, err);
	if (r != ISAKMP_OK)
		return r;
	/* the minimum length (8) guarantees these four bytes */
	if (buf_get_u8(&tb, &t->num) != BUF_OK || buf_get_u8(&tb, &t->id) != BUF_OK ||
	    buf_get_u16(&tb, &res) != BUF_OK)
		return isakmp_fail(err, ISAKMP_E_TRUNCATED, ISAKMP_PL_T, off, 4, 0,
				   "transform number and ID");
	if (res != 0)
		return isakmp_fail(err, ISAKMP_E_RESERVED, ISAKMP_PL_T, off, res, 0,
				   "transform RESERVED2");
	t->nattr = 0;
	while (buf_left(&tb) > 0) {
		size_t aoff = off + ISAKMP_GEN_LEN + buf_consumed(&tb);

		if (t->nattr == ISAKMP_MAX_ATTRS)
			return isakmp_fail_attr(err, ISAKMP_E_TOO_MANY, 0, aoff,
						ISAKMP_MAX_ATTRS + 1, ISAKMP_MAX_ATTRS,
						"attributes in a transform");
		r = isakmp_attr_parse(&tb, aoff, &t->attr[t->nattr], err);
		if (r != ISAKMP_OK)
			return r;
		t->nattr++;
	}
	return ISAKMP_OK;
}

static int isakmp_prop_parse(struct buf *sb, size_t off, struct isakmp_proposal *p, uint8_t *next,
			     struct isakmp_error *err)
{
	uint8_t nxf, tnext;
	struct buf pb;
	int r;

	r = isakmp_sub_header(sb, ISAKMP_PL_P, off, next, &pb, err);
	if (r != ISAKMP_OK)
		return r;
	if (buf_get_u8(&pb, &p->num) != BUF_OK || buf_get_u8(&pb, &p->proto) != BUF_OK ||
	    buf_get_u8(&pb, &p->spi_size) != BUF_OK || buf_get_u8(&pb, &nxf) != BUF_OK)
		return isakmp_fail(err, ISAKMP_E_TRUNCATED, ISAKMP_PL_P, off, 4, 0,
				   "proposal number, protocol, SPI size, # of transforms");
	if (p->spi_size > ISAKMP_MAX_SPI)
		return isakmp_fail(err, ISAKMP_E_BAD_VALUE, ISAKMP_PL_P, off, p->spi_size,
				   ISAKMP_MAX_SPI, "SPI size");
	if (buf_get_bytes(&pb, p->spi, p->spi_size) != BUF_OK)
		return isakmp_fail(err, ISAKMP_E_TRUNCATED, ISAKMP_PL_P, off, p->spi_size,
				   buf_left(&pb), "SPI");
	p->nxf = 0;
	do {
		size_t toff = off + ISAKMP_GEN_LEN + buf_consumed(&pb);
		struct isakmp_transform *t;

		if (p->nxf == ISAKMP_MAX_TRANSFORMS)
			return isakmp_fail(err, ISAKMP_E_TOO_MANY, ISAKMP_PL_T, toff,
					   ISAKMP_MAX_TRANSFORMS + 1, ISAKMP_MAX_TRANSFORMS,
					   "transforms in a proposal");
		t = &p->xf[p->nxf];
		r = isakmp_xf_parse(&pb, toff, t, &tnext, err);
		if (r != ISAKMP_OK)
			return r;
		/* RFC 2408 3.6: each transform of a proposal has its own number */
		for (size_t i = 0; i < p->nxf; i++)
			if (p->xf[i].num == t->num)
				return isakmp_fail(err, ISAKMP_E_BAD_VALUE, ISAKMP_PL_T, toff,
						   t->num, 0, "transform number repeated");
		p->nxf++;
	} while (tnext == ISAKMP_PL_T);
	if (buf_left(&pb) > 0)
		return isakmp_fail(err, ISAKMP_E_TRAILING, ISAKMP_PL_P, off, buf_left(&pb), 0,
				   "after the last transform");
	if (nxf != p->nxf)
		return isakmp_fail(err, ISAKMP_E_COUNT, ISAKMP_PL_P, off, nxf, p->nxf,
				   "# of transforms");
	return ISAKMP_OK;
}

static int isakmp_sa_parse_pl(const struct isakmp_pl *pl, struct isakmp_sa *sa,
			      struct isakmp_error *err)
{
	struct buf b = pl->body;
	size_t base = pl->offset + ISAKMP_GEN_LEN;
	uint8_t next;
	int r;

	memset(sa, 0, sizeof(*sa));
	if (pl->type != ISAKMP_PL_SA)
		return isakmp_fail(err, ISAKMP_E_WRONG_TYPE, pl->type, pl->offset, pl->type, 0,
				   "not an SA payload");
	sa->body = buf_rptr(&b);
	sa->body_len = buf_left(&b);
	if (buf_get_u32(&b, &sa->doi) != BUF_OK || buf_get_u32(&b, &sa->situation) != BUF_OK)
		return isakmp_fail(err, ISAKMP_E_TRUNCATED, ISAKMP_PL_SA, pl->offset, 8,
				   sa->body_len, "DOI and situation");
	if (sa->doi != ISAKMP_DOI_IPSEC)
		return isakmp_fail(err, ISAKMP_E_DOI, ISAKMP_PL_SA, pl->offset, sa->doi, 0, "DOI");
	/* other situations add fields (RFC 2407 4.2) that IKE between us never uses */
	if (sa->situation != ISAKMP_SIT_IDENTITY_ONLY)
		return isakmp_fail(err, ISAKMP_E_SITUATION, ISAKMP_PL_SA, pl->offset, sa->situation,
				   0, "situation");
	do {
		size_t off = base + buf_consumed(&b);
		struct isakmp_proposal *p;

		if (sa->nprop == ISAKMP_MAX_PROPOSALS)
			return isakmp_fail(err, ISAKMP_E_TOO_MANY, ISAKMP_PL_P, off,
					   ISAKMP_MAX_PROPOSALS + 1, ISAKMP_MAX_PROPOSALS,
					   "proposals in an SA");
		p = &sa->prop[sa->nprop];
		r = isakmp_prop_parse(&b, off, p, &next, err);
		if (r != ISAKMP_OK)
			return r;
		/* RFC 2408 4.2: proposal numbers increase; equal numbers form one suite */
		if (sa->nprop > 0 && p->num < sa->prop[sa->nprop - 1].num)
			return isakmp_fail(err, ISAKMP_E_BAD_VALUE, ISAKMP_PL_P, off, p->num,
					   sa->prop[sa->nprop - 1].num,
					   "proposal number below the previous one");
		sa->nprop++;
	} while (next == ISAKMP_PL_P);
	if (buf_left(&b) > 0)
		return isakmp_fail(err, ISAKMP_E_TRAILING, ISAKMP_PL_SA, pl->offset, buf_left(&b),
				   0, "after the last proposal");
	if (err != NULL)
		memset(err, 0, sizeof(*err));
	return ISAKMP_OK;
}

int isakmp_sa_parse(const struct isakmp_pl *pl, struct isakmp_sa *sa, struct isakmp_error *err)
{
	if (pl == NULL) {
		memset(sa, 0, sizeof(*sa));
		return isakmp_fail(err, ISAKMP_E_MISSING, 0, 0, 0, 0, "payload");
	}
	return isakmp_sa_parse_pl(pl, sa, err);
}

/* ---- build ---- */

/* The encoded length of an attribute, 0 when it cannot be encoded. */
static size_t isakmp_attr_enc_len(const struct isakmp_attr *a)
{
	if (a->type & ISAKMP_AF_TV)
		return 0;
	if (a->tv)
		return a->u <= 0xffff ? 4 : 0;
	if (a->val != NULL)
		return 4 + (size_t)a->len;
	if (a->u <= 0xffff)
		return 4;
	return a->u <= 0xffffffff ? 8 : 12;
}

size_t isakmp_sa_body_len(const struct isakmp_sa *sa, struct isakmp_error *err)
{
	size_t total = 8;

	if (sa->nprop == 0 || sa->nprop > ISAKMP_MAX_PROPOSALS) {
		isakmp_fail(err, ISAKMP_E_INVALID, ISAKMP_PL_SA, 0, sa->nprop, ISAKMP_MAX_PROPOSALS,
			    "number of proposals");
		return 0;
	}
	for (size_t i = 0; i < sa->nprop; i++) {
		const struct isakmp_proposal *p = &sa->prop[i];
		size_t plen = 8 + (size_t)p->spi_size;

		if (p->spi_size > ISAKMP_MAX_SPI || p->nxf == 0 || p->nxf > ISAKMP_MAX_TRANSFORMS) {
			isakmp_fail(err, ISAKMP_E_INVALID, ISAKMP_PL_P, 0,
				    p->spi_size > ISAKMP_MAX_SPI ? p->spi_size : p->nxf,
				    p->spi_size > ISAKMP_MAX_SPI ? ISAKMP_MAX_SPI
								 : ISAKMP_MAX_TRANSFORMS,
				    p->spi_size > ISAKMP_MAX_SPI ? "SPI size"
								 : "number of transforms");
			return 0;
		}
		for (size_t j = 0; j < p->nxf; j++) {
			const struct isakmp_transform *t = &p->xf[j];
			size_t tlen = 8;

			if (t->nattr > ISAKMP_MAX_ATTRS) {
				isakmp_fail(err, ISAKMP_E_INVALID, ISAKMP_PL_T, 0, t->nattr,
					    ISAKMP_MAX_ATTRS, "number of attributes");
				return 0;
			}
			for (size_t k = 0; k < t->nattr; k++) {
				size_t alen = isakmp_attr_enc_len(&t->attr[k]);

				if (alen == 0) {
					isakmp_fail_attr(err, ISAKMP_E_INVALID, t->attr[k].type, 0,
							 t->attr[k].u, 0xffff,
							 "attribute type or TV value");
					return 0;
				}
				tlen += alen;
			}
			if (tlen > ISAKMP_PL_MAX_LEN) {
				isakmp_fail(err, ISAKMP_E_INVALID, ISAKMP_PL_T, 0, tlen,
					    ISAKMP_PL_MAX_LEN, "transform length");
				return 0;
			}
			plen += tlen;
		}
		if (plen > ISAKMP_PL_MAX_LEN) {
			isakmp_fail(err, ISAKMP_E_INVALID, ISAKMP_PL_P, 0, plen, ISAKMP_PL_MAX_LEN,
				    "proposal length");
			return 0;
		}
		total += plen;
	}
	if (total > ISAKMP_PL_MAX_LEN - ISAKMP_GEN_LEN) {
		isakmp_fail(err, ISAKMP_E_INVALID, ISAKMP_PL_SA, 0, total + ISAKMP_GEN_LEN,
			    ISAKMP_PL_MAX_LEN, "SA payload length");
		return 0;
	}
	return total;
}

static int isakmp_attr_write(struct buf *b, const struct isakmp_attr *a)
{
	int r = 0;

	if (a->tv || (a->val == NULL && a->u <= 0xffff)) {
		r |= buf_put_u16(b, (uint16_t)(ISAKMP_AF_TV | a->type));
		r |= buf_put_u16(b, (uint16_t)a->u);
	} else if (a->val != NULL) {
		r |= buf_put_u16(b, a->type);
		r |= buf_put_u16(b, a->len);
		if (a->len > 0)
			r |= buf_put_bytes(b, a->val, a->len);
	} else if (a->u <= 0xffffffff) {
		r |= buf_put_u16(b, a->type);
		r |= buf_put_u16(b, 4);
		r |= buf_put_u32(b, (uint32_t)a->u);
	} else {
		r |= buf_put_u16(b, a->type);
		r |= buf_put_u16(b, 8);
		r |= buf_put_u64(b, a->u);
	}
	return r;
}

/* The transform's encoded length; valid after isakmp_sa_body_len succeeded. */
static size_t isakmp_xf_len(const struct isakmp_transform *t)
{
	size_t n = 8;

	for (size_t k = 0; k < t->nattr; k++)
		n += isakmp_attr_enc_len(&t->attr[k]);
	return n;
}

/* Write the SA body; isakmp_sa_body_len checked every length and the room. */
static int isakmp_sa_body_write(struct buf *b, const struct isakmp_sa *sa)
{
	int r = 0;

	r |= buf_put_u32(b, sa->doi);
	r |= buf_put_u32(b, sa->situation);
	for (size_t i = 0; i < sa->nprop; i++) {
		const struct isakmp_proposal *p = &sa->prop[i];
		size_t plen = 8 + (size_t)p->spi_size;

		for (size_t j = 0; j < p->nxf; j++)
			plen += isakmp_xf_len(&p->xf[j]);
		r |= buf_put_u8(b, i + 1 < sa->nprop ? ISAKMP_PL_P : ISAKMP_PL_NONE);
		r |= buf_put_u8(b, 0);
		r |= buf_put_u16(b, (uint16_t)plen);
		r |= buf_put_u8(b, p->num);
		r |= buf_put_u8(b, p->proto);
		r |= buf_put_u8(b, p->spi_size);
		r |= buf_put_u8(b, (uint8_t)p->nxf);
		r |= buf_put_bytes(b, p->spi, p->spi_size);
		for (size_t j = 0; j < p->nxf; j++) {
			const struct isakmp_transform *t = &p->xf[j];

			r |= buf_put_u8(b, j + 1 < p->nxf ? ISAKMP_PL_T : ISAKMP_PL_NONE);
			r |= buf_put_u8(b, 0);
			r |= buf_put_u16(b, (uint16_t)isakmp_xf_len(t));
			r |= buf_put_u8(b, t->num);
			r |= buf_put_u8(b, t->id);
			r |= buf_put_u16(b, 0);
			for (size_t k = 0; k < t->nattr; k++)
				r |= isakmp_attr_write(b, &t->attr[k]);
		}
	}
	return r;
}

int isakmp_sa_body_put(struct buf *b, const struct isakmp_sa *sa, struct isakmp_error *err)
{
	size_t n = isakmp_sa_body_len(sa, err);

	if (n == 0)
		return ISAKMP_E_INVALID;
	if (b->readonly || buf_room(b) < n)
		return isakmp_fail(err, ISAKMP_E_NOSPACE, ISAKMP_PL_SA, 0, n, buf_room(b),
				   "SA body");
	if (isakmp_sa_body_write(b, sa) != 0)
		return isakmp_fail(err, ISAKMP_E_NOSPACE, ISAKMP_PL_SA, 0, n, buf_room(b),
				   "SA body");
	if (err != NULL)
		memset(err, 0, sizeof(*err));
	return ISAKMP_OK;
}

int isakmp_put_sa(struct isakmp_builder *bld, const struct isakmp_sa *sa)
{
	struct isakmp_error e;
	size_t n;
	int r;

	if (bld->err.code != ISAKMP_OK)
		return bld->err.code;
	n = isakmp_sa_body_len(sa, &e);
	if (n == 0)
		return isakmp_bld_fail(bld, e.code, e.payload, e.declared, e.limit, e.what);
	r = isakmp_bld_begin(bld, ISAKMP_PL_SA, n);
	if (r != ISAKMP_OK)
		return r;
	if (isakmp_sa_body_write(bld->b, sa) != 0)
		return isakmp_bld_fail(bld, ISAKMP_E_NOSPACE, ISAKMP_PL_SA, n, buf_room(bld->b),
				       "SA body");
	return ISAKMP_OK;
}

/* ---- helpers ---- */

const struct isakmp_attr *isakmp_attr_find(const struct isakmp_transform *t, uint16_t type)
{
	for (size_t k = 0; k < t->nattr && k < ISAKMP_MAX_ATTRS; k++)
		if (t->attr[k].type == type)
			return &t->attr[k];
	return NULL;
}

bool isakmp_attr_get(const struct isakmp_transform *t, uint16_t type, uint32_t *v)
{
	const struct isakmp_attr *a = isakmp_attr_find(t, type);

	if (a == NULL || !a->num || a->u > 0xffffffff)
		return false;
	*v = (uint32_t)a->u;
	return true;
}

int isakmp_attr_add(struct isakmp_transform *t, uint16_t type, uint64_t v)
{
	if (t->nattr >= ISAKMP_MAX_ATTRS || (type & ISAKMP_AF_TV))
		return -1;
	memset(&t->attr[t->nattr], 0, sizeof(t->attr[0]));
	t->attr[t->nattr].type = type;
	t->attr[t->nattr].u = v;
	t->attr[t->nattr].num = true;
	t->nattr++;
	return 0;
}

uint32_t isakmp_spi32(const struct isakmp_proposal *p)
{
	if (p->spi_size != 4)
		return 0;
	return (uint32_t)p->spi[0] << 24 | (uint32_t)p->spi[1] << 16 | (uint32_t)p->spi[2] << 8 |
	       p->spi[3];
}
