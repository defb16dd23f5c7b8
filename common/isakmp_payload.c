/*
 * ISAKMP payloads other than SA: KE, NONCE, HASH, SIG, VID, NAT-D (opaque
 * data), ID, CERT, CR, N, D and NAT-OA, parse and build; and the check of
 * every payload of a chain, which parses each body here or in isakmp_sa.c.
 * See isakmp.h.
 */
#include "isakmp.h"
#include "isakmp_int.h"

#include <arpa/inet.h>
#include <string.h>

/* ---- opaque payloads: KE, NONCE, HASH, SIG, VID, NAT-D ---- */

/* The data length range of an opaque payload type; false for other types. */
static bool isakmp_data_limits(uint8_t type, size_t *min, size_t *max)
{
	switch (type) {
	case ISAKMP_PL_KE:
	case ISAKMP_PL_HASH:
	case ISAKMP_PL_SIG:
	case ISAKMP_PL_VID:
	case ISAKMP_PL_NATD:
	case ISAKMP_PL_NATD_DRAFT:
		*min = 1;
		*max = ISAKMP_PL_MAX_LEN - ISAKMP_GEN_LEN;
		return true;
	case ISAKMP_PL_NONCE:
		*min = ISAKMP_NONCE_MIN;
		*max = ISAKMP_NONCE_MAX;
		return true;
	default:
		return false;
	}
}

static int isakmp_data_parse_pl(const struct isakmp_pl *pl, struct isakmp_data *d,
				struct isakmp_error *err)
{
	struct buf b = pl->body;
	size_t min, max, n = buf_left(&b);

	memset(d, 0, sizeof(*d));
	if (!isakmp_data_limits(pl->type, &min, &max))
		return isakmp_fail(err, ISAKMP_E_WRONG_TYPE, pl->type, pl->offset, pl->type, 0,
				   "not a KE, NONCE, HASH, SIG, VID or NAT-D payload");
	if (n < min)
		return isakmp_fail(err, ISAKMP_E_LENGTH_SHORT, pl->type, pl->offset,
				   n + ISAKMP_GEN_LEN, min + ISAKMP_GEN_LEN, "payload length");
	if (n > max)
		return isakmp_fail(err, ISAKMP_E_BAD_VALUE, pl->type, pl->offset, n, max,
				   "data length");
	d->len = n;
	if (buf_get_ptr(&b, &d->p, n) != BUF_OK)
		return isakmp_fail(err, ISAKMP_E_TRUNCATED, pl->type, pl->offset, n, 0, "data");
	return isakmp_ok(err);
}

int isakmp_data_parse(const struct isakmp_pl *pl, struct isakmp_data *d, struct isakmp_error *err)
{
	if (pl == NULL) {
		memset(d, 0, sizeof(*d));
		return isakmp_fail(err, ISAKMP_E_MISSING, 0, 0, 0, 0, "payload");
	}
	return isakmp_data_parse_pl(pl, d, err);
}

/* ---- ID ---- */

/* An identification type of RFC 2407 4.6.2.1. */
static bool isakmp_id_type_ok(uint8_t type)
{
	return type >= ISAKMP_ID_IPV4_ADDR && type <= ISAKMP_ID_KEY_ID;
}

/*
 * Whether len bytes of identification data fit the type; *expected gets the
 * exact length for the address types, 0 for "at least one byte".
 */
static bool isakmp_id_len_ok(uint8_t type, size_t len, size_t *expected)
{
	switch (type) {
	case ISAKMP_ID_IPV4_ADDR:
		*expected = 4;
		break;
	case ISAKMP_ID_IPV4_ADDR_SUBNET:
	case ISAKMP_ID_IPV4_ADDR_RANGE:
		*expected = 8;
		break;
	case ISAKMP_ID_IPV6_ADDR:
		*expected = 16;
		break;
	case ISAKMP_ID_IPV6_ADDR_SUBNET:
	case ISAKMP_ID_IPV6_ADDR_RANGE:
		*expected = 32;
		break;
	case ISAKMP_ID_FQDN:
	case ISAKMP_ID_USER_FQDN:
	case ISAKMP_ID_DER_ASN1_DN:
	case ISAKMP_ID_DER_ASN1_GN:
	case ISAKMP_ID_KEY_ID:
		*expected = 0;
		return len >= 1;
	default:
		*expected = 0;
		return false;
	}
	return len == *expected;
}

static int isakmp_id_parse_pl(const struct isakmp_pl *pl, struct isakmp_id *id,
			      struct isakmp_error *err)
{
	struct buf b = pl->body;
	size_t expected;

	memset(id, 0, sizeof(*id));
	if (pl->type != ISAKMP_PL_ID)
		return isakmp_fail(err, ISAKMP_E_WRONG_TYPE, pl->type, pl->offset, pl->type, 0,
				   "not an ID payload");
	id->body = buf_rptr(&b);
	id->body_len = buf_left(&b);
	if (buf_get_u8(&b, &id->type) != BUF_OK || buf_get_u8(&b, &id->proto) != BUF_OK ||
	    buf_get_u16(&b, &id->port) != BUF_OK)
		return isakmp_fail(err, ISAKMP_E_TRUNCATED, pl->type, pl->offset, 4, id->body_len,
				   "ID type, protocol and port");
	id->data_len = buf_left(&b);
	if (buf_get_ptr(&b, &id->data, id->data_len) != BUF_OK)
		return isakmp_fail(err, ISAKMP_E_TRUNCATED, pl->type, pl->offset, id->data_len, 0,
				   "identification data");
	/*
	 * The type first: an unknown type with no data used to be reported as
	 * "identification data length: 0, expected 1", which sends the reader
	 * after the wrong field.
	 */
	if (!isakmp_id_type_ok(id->type))
		return isakmp_fail(err, ISAKMP_E_ID, pl->type, pl->offset, id->type, 0, "ID type");
	if (!isakmp_id_len_ok(id->type, id->data_len, &expected))
		return isakmp_fail(err, ISAKMP_E_ID, pl->type, pl->offset, id->data_len,
				   expected != 0 ? expected : 1, "identification data length");
	switch (id->type) {
	case ISAKMP_ID_IPV4_ADDR:
		memcpy(&id->addr.s_addr, id->data, 4);
		id->mask.s_addr = 0xffffffff;
		break;
	case ISAKMP_ID_IPV4_ADDR_SUBNET:
		memcpy(&id->addr.s_addr, id->data, 4);
		memcpy(&id->mask.s_addr, id->data + 4, 4);
		break;
	case ISAKMP_ID_IPV4_ADDR_RANGE:
		memcpy(&id->addr.s_addr, id->data, 4);
		memcpy(&id->end.s_addr, id->data + 4, 4);
		break;
	default:
		break;
	}
	return isakmp_ok(err);
}

int isakmp_id_parse(const struct isakmp_pl *pl, struct isakmp_id *id, struct isakmp_error *err)
{
	if (pl == NULL) {
		memset(id, 0, sizeof(*id));
		return isakmp_fail(err, ISAKMP_E_MISSING, 0, 0, 0, 0, "payload");
	}
	return isakmp_id_parse_pl(pl, id, err);
}

/* The body length of id, or 0 and err when it cannot be encoded. */
static size_t isakmp_id_body_len(const struct isakmp_id *id, struct isakmp_error *err)
{
	size_t expected, n;

	if (id->data != NULL)
		n = id->data_len;
	else if (id->type == ISAKMP_ID_IPV4_ADDR)
		n = 4;
	else if (id->type == ISAKMP_ID_IPV4_ADDR_SUBNET || id->type == ISAKMP_ID_IPV4_ADDR_RANGE)
		n = 8;
	else
		n = 0;
	if (!isakmp_id_type_ok(id->type)) {
		isakmp_fail(err, ISAKMP_E_INVALID, ISAKMP_PL_ID, 0, id->type, 0, "ID type");
		return 0;
	}
	if (!isakmp_id_len_ok(id->type, n, &expected)) {
		isakmp_fail(err, ISAKMP_E_INVALID, ISAKMP_PL_ID, 0, n, expected != 0 ? expected : 1,
			    "identification data length for the ID type");
		return 0;
	}
	if (n > ISAKMP_PL_MAX_LEN - ISAKMP_GEN_LEN - 4) {
		isakmp_fail(err, ISAKMP_E_INVALID, ISAKMP_PL_ID, 0, n,
			    ISAKMP_PL_MAX_LEN - ISAKMP_GEN_LEN - 4, "identification data length");
		return 0;
	}
	return 4 + n;
}

/* Write the body; its length was checked by isakmp_id_body_len. */
static int isakmp_id_body_write(struct buf *b, const struct isakmp_id *id)
{
	int r = 0;

	r |= buf_put_u8(b, id->type);
	r |= buf_put_u8(b, id->proto);
	r |= buf_put_u16(b, id->port);
	if (id->data != NULL)
		r |= buf_put_bytes(b, id->data, id->data_len);
	else if (id->type == ISAKMP_ID_IPV4_ADDR)
		r |= buf_put_bytes(b, &id->addr.s_addr, 4);
	else if (id->type == ISAKMP_ID_IPV4_ADDR_SUBNET) {
		r |= buf_put_bytes(b, &id->addr.s_addr, 4);
		r |= buf_put_bytes(b, &id->mask.s_addr, 4);
	} else {
		r |= buf_put_bytes(b, &id->addr.s_addr, 4);
		r |= buf_put_bytes(b, &id->end.s_addr, 4);
	}
	return r == 0 ? ISAKMP_OK : ISAKMP_E_NOSPACE;
}

int isakmp_id_body_put(struct buf *b, const struct isakmp_id *id, struct isakmp_error *err)
{
	size_t n = isakmp_id_body_len(id, err);

	if (n == 0)
		return ISAKMP_E_INVALID;
	if (b->readonly || buf_room(b) < n)
		return isakmp_fail(err, ISAKMP_E_NOSPACE, ISAKMP_PL_ID, 0, n, buf_room(b),
				   "ID body");
	if (isakmp_id_body_write(b, id) != ISAKMP_OK)
		return isakmp_fail(err, ISAKMP_E_NOSPACE, ISAKMP_PL_ID, 0, n, buf_room(b),
				   "ID body");
	return isakmp_ok(err);
}

int isakmp_mask_plen(struct in_addr mask)
{
	uint32_t m = ntohl(mask.s_addr);
	int plen = 0;

	while (plen < 32 && (m & (0x80000000u >> plen)))
		plen++;
	if (plen < 32 && (m << plen) != 0)
		return -1; /* a one after the first zero */
	return plen;
}

/* ---- CERT, CR ---- */

static int isakmp_cert_parse_pl(const struct isakmp_pl *pl, struct isakmp_cert *c,
				struct isakmp_error *err)
{
	struct buf b = pl->body;

	memset(c, 0, sizeof(*c));
	if (pl->type != ISAKMP_PL_CERT && pl->type != ISAKMP_PL_CR)
		return isakmp_fail(err, ISAKMP_E_WRONG_TYPE, pl->type, pl->offset, pl->type, 0,
				   "not a CERT or CR payload");
	if (buf_get_u8(&b, &c->enc) != BUF_OK)
		return isakmp_fail(err, ISAKMP_E_TRUNCATED, pl->type, pl->offset, 1, 0,
				   "certificate encoding");
	c->len = buf_left(&b);
	if (buf_get_ptr(&b, &c->data, c->len) != BUF_OK)
		return isakmp_fail(err, ISAKMP_E_TRUNCATED, pl->type, pl->offset, c->len, 0,
				   "certificate data");
	if (pl->type == ISAKMP_PL_CERT && c->len == 0)
		return isakmp_fail(err, ISAKMP_E_LENGTH_SHORT, pl->type, pl->offset,
				   ISAKMP_GEN_LEN + 1, ISAKMP_GEN_LEN + 2, "payload length");
	return isakmp_ok(err);
}

int isakmp_cert_parse(const struct isakmp_pl *pl, struct isakmp_cert *c, struct isakmp_error *err)
{
	if (pl == NULL) {
		memset(c, 0, sizeof(*c));
		return isakmp_fail(err, ISAKMP_E_MISSING, 0, 0, 0, 0, "payload");
	}
	return isakmp_cert_parse_pl(pl, c, err);
}

/* ---- N ---- */

static int isakmp_notify_parse_pl(const struct isakmp_pl *pl, struct isakmp_notify *n,
				  struct isakmp_error *err)
{
	struct buf b = pl->body;
	size_t left = buf_left(&b);

	memset(n, 0, sizeof(*n));
	if (pl->type != ISAKMP_PL_N)
		return isakmp_fail(err, ISAKMP_E_WRONG_TYPE, pl->type, pl->offset, pl->type, 0,
				   "not a Notify payload");
	if (buf_get_u32(&b, &n->doi) != BUF_OK || buf_get_u8(&b, &n->proto) != BUF_OK ||
	    buf_get_u8(&b, &n->spi_size) != BUF_OK || buf_get_u16(&b, &n->type) != BUF_OK)
		return isakmp_fail(err, ISAKMP_E_TRUNCATED, pl->type, pl->offset, 8, left,
				   "DOI, protocol, SPI size and type");
	if (n->spi_size > ISAKMP_MAX_SPI)
		return isakmp_fail(err, ISAKMP_E_BAD_VALUE, pl->type, pl->offset, n->spi_size,
				   ISAKMP_MAX_SPI, "SPI size");
	if (buf_get_bytes(&b, n->spi, n->spi_size) != BUF_OK)
		return isakmp_fail(err, ISAKMP_E_TRUNCATED, pl->type, pl->offset, n->spi_size,
				   buf_left(&b), "SPI");
	n->data_len = buf_left(&b);
	if (buf_get_ptr(&b, &n->data, n->data_len) != BUF_OK)
		return isakmp_fail(err, ISAKMP_E_TRUNCATED, pl->type, pl->offset, n->data_len, 0,
				   "notification data");
	return isakmp_ok(err);
}

int isakmp_notify_parse(const struct isakmp_pl *pl, struct isakmp_notify *n,
			struct isakmp_error *err)
{
	if (pl == NULL) {
		memset(n, 0, sizeof(*n));
		return isakmp_fail(err, ISAKMP_E_MISSING, 0, 0, 0, 0, "payload");
	}
	return isakmp_notify_parse_pl(pl, n, err);
}

bool isakmp_dpd_seq(const struct isakmp_notify *n, uint32_t *seq)
{
	if ((n->type != ISAKMP_N_R_U_THERE && n->type != ISAKMP_N_R_U_THERE_ACK) ||
	    n->data_len != 4)
		return false;
	*seq = (uint32_t)n->data[0] << 24 | (uint32_t)n->data[1] << 16 | (uint32_t)n->data[2] << 8 |
	       n->data[3];
	return true;
}

/* ---- D ---- */

static int isakmp_delete_parse_pl(const struct isakmp_pl *pl, struct isakmp_delete *d,
				  struct isakmp_error *err)
{
	struct buf b = pl->body;
	size_t left = buf_left(&b), need;

	memset(d, 0, sizeof(*d));
	if (pl->type != ISAKMP_PL_D)
		return isakmp_fail(err, ISAKMP_E_WRONG_TYPE, pl->type, pl->offset, pl->type, 0,
				   "not a Delete payload");
	if (buf_get_u32(&b, &d->doi) != BUF_OK || buf_get_u8(&b, &d->proto) != BUF_OK ||
	    buf_get_u8(&b, &d->spi_size) != BUF_OK || buf_get_u16(&b, &d->nspi) != BUF_OK)
		return isakmp_fail(err, ISAKMP_E_TRUNCATED, pl->type, pl->offset, 8, left,
				   "DOI, protocol, SPI size and # of SPIs");
	if (d->spi_size == 0)
		return isakmp_fail(err, ISAKMP_E_BAD_VALUE, pl->type, pl->offset, 0, 0, "SPI size");
	if (d->nspi == 0)
		return isakmp_fail(err, ISAKMP_E_BAD_VALUE, pl->type, pl->offset, 0, 0,
				   "# of SPIs");
	need = (size_t)d->nspi * d->spi_size;
	left = buf_left(&b);
	if (left < need)
		return isakmp_fail(err, ISAKMP_E_TRUNCATED, pl->type, pl->offset, need, left,
				   "SPIs (# of SPIs times SPI size)");
	if (left > need)
		return isakmp_fail(err, ISAKMP_E_TRAILING, pl->type, pl->offset, left - need, 0,
				   "after the SPIs");
	if (buf_get_ptr(&b, &d->spis, need) != BUF_OK)
		return isakmp_fail(err, ISAKMP_E_TRUNCATED, pl->type, pl->offset, need, left,
				   "SPIs");
	return isakmp_ok(err);
}

int isakmp_delete_parse(const struct isakmp_pl *pl, struct isakmp_delete *d,
			struct isakmp_error *err)
{
	if (pl == NULL) {
		memset(d, 0, sizeof(*d));
		return isakmp_fail(err, ISAKMP_E_MISSING, 0, 0, 0, 0, "payload");
	}
	return isakmp_delete_parse_pl(pl, d, err);
}

const uint8_t *isakmp_delete_spi(const struct isakmp_delete *d, size_t i)
{
	if (i >= d->nspi || d->spis == NULL)
		return NULL;
	return d->spis + i * d->spi_size;
}

/* ---- NAT-OA ---- */

static int isakmp_natoa_parse_pl(const struct isakmp_pl *pl, struct isakmp_natoa *oa,
				 struct isakmp_error *err)
{
	struct buf b = pl->body;
	size_t left = buf_left(&b);
	uint8_t r1;
	uint16_t r2;

	memset(oa, 0, sizeof(*oa));
	if (pl->type != ISAKMP_PL_NATOA && pl->type != ISAKMP_PL_NATOA_DRAFT)
		return isakmp_fail(err, ISAKMP_E_WRONG_TYPE, pl->type, pl->offset, pl->type, 0,
				   "not a NAT-OA payload");
	if (buf_get_u8(&b, &oa->id_type) != BUF_OK || buf_get_u8(&b, &r1) != BUF_OK ||
	    buf_get_u16(&b, &r2) != BUF_OK)
		return isakmp_fail(err, ISAKMP_E_TRUNCATED, pl->type, pl->offset, 4, left,
				   "ID type and RESERVED");
	if (r1 != 0 || r2 != 0)
		return isakmp_fail(err, ISAKMP_E_RESERVED, pl->type, pl->offset,
				   (size_t)r1 << 16 | r2, 0, "NAT-OA RESERVED");
	if (oa->id_type == ISAKMP_ID_IPV4_ADDR)
		oa->addr_len = 4;
	else if (oa->id_type == ISAKMP_ID_IPV6_ADDR)
		oa->addr_len = 16;
	else
		return isakmp_fail(err, ISAKMP_E_BAD_VALUE, pl->type, pl->offset, oa->id_type, 0,
				   "NAT-OA ID type");
	left = buf_left(&b);
	if (left < oa->addr_len)
		return isakmp_fail(err, ISAKMP_E_TRUNCATED, pl->type, pl->offset, oa->addr_len,
				   left, "NAT-OA address");
	if (left > oa->addr_len)
		return isakmp_fail(err, ISAKMP_E_TRAILING, pl->type, pl->offset,
				   left - oa->addr_len, 0, "after the NAT-OA address");
	if (buf_get_bytes(&b, oa->addr, oa->addr_len) != BUF_OK)
		return isakmp_fail(err, ISAKMP_E_TRUNCATED, pl->type, pl->offset, oa->addr_len,
				   left, "NAT-OA address");
	if (oa->addr_len == 4)
		memcpy(&oa->in4.s_addr, oa->addr, 4);
	return isakmp_ok(err);
}

int isakmp_natoa_parse(const struct isakmp_pl *pl, struct isakmp_natoa *oa,
		       struct isakmp_error *err)
{
	if (pl == NULL) {
		memset(oa, 0, sizeof(*oa));
		return isakmp_fail(err, ISAKMP_E_MISSING, 0, 0, 0, 0, "payload");
	}
	return isakmp_natoa_parse_pl(pl, oa, err);
}

/* ---- build ---- */

int isakmp_put_data(struct isakmp_builder *bld, uint8_t type, const void *data, size_t len)
{
	size_t min, max;

	if (bld->err.code != ISAKMP_OK)
		return bld->err.code;
	if (!isakmp_data_limits(type, &min, &max))
		return isakmp_bld_fail(bld, ISAKMP_E_INVALID, type, type, 0,
				       "not a KE, NONCE, HASH, SIG, VID or NAT-D payload");
	if (len < min || len > max)
		return isakmp_bld_fail(bld, ISAKMP_E_INVALID, type, len, len < min ? min : max,
				       "data length");
	return isakmp_put_raw(bld, type, data, len);
}

int isakmp_put_id(struct isakmp_builder *bld, const struct isakmp_id *id)
{
	struct isakmp_error e;
	size_t n;
	int r;

	if (bld->err.code != ISAKMP_OK)
		return bld->err.code;
	n = isakmp_id_body_len(id, &e);
	if (n == 0)
		return isakmp_bld_fail(bld, e.code, ISAKMP_PL_ID, e.declared, e.limit, e.what);
	r = isakmp_bld_begin(bld, ISAKMP_PL_ID, n);
	if (r != ISAKMP_OK)
		return r;
	return isakmp_bld_body(bld, ISAKMP_PL_ID, isakmp_id_body_write(bld->b, id));
}

int isakmp_put_cert(struct isakmp_builder *bld, uint8_t type, const struct isakmp_cert *c)
{
	int r;

	if (bld->err.code != ISAKMP_OK)
		return bld->err.code;
	if (type != ISAKMP_PL_CERT && type != ISAKMP_PL_CR)
		return isakmp_bld_fail(bld, ISAKMP_E_INVALID, type, type, 0,
				       "not a CERT or CR payload");
	if (type == ISAKMP_PL_CERT && c->len == 0)
		return isakmp_bld_fail(bld, ISAKMP_E_INVALID, type, 0, 1, "certificate length");
	/*
	 * Checked here, not only by isakmp_bld_begin: 1 + c->len wraps for a
	 * huge length, which used to write a 4-byte payload header and then
	 * fail on the body, against "a put that fails writes nothing".
	 */
	if (c->len > ISAKMP_PL_MAX_LEN - ISAKMP_GEN_LEN - 1)
		return isakmp_bld_fail(bld, ISAKMP_E_INVALID, type, c->len,
				       ISAKMP_PL_MAX_LEN - ISAKMP_GEN_LEN - 1,
				       "certificate length");
	r = isakmp_bld_begin(bld, type, 1 + c->len);
	if (r != ISAKMP_OK)
		return r;
	r = buf_put_u8(bld->b, c->enc);
	if (r == BUF_OK && c->len > 0)
		r = buf_put_bytes(bld->b, c->data, c->len);
	return isakmp_bld_body(bld, type, r);
}

int isakmp_put_notify(struct isakmp_builder *bld, const struct isakmp_notify *n)
{
	struct buf *b = bld->b;
	int r = 0;

	if (bld->err.code != ISAKMP_OK)
		return bld->err.code;
	if (n->spi_size > ISAKMP_MAX_SPI)
		return isakmp_bld_fail(bld, ISAKMP_E_INVALID, ISAKMP_PL_N, n->spi_size,
				       ISAKMP_MAX_SPI, "SPI size");
	if (n->data_len > ISAKMP_PL_MAX_LEN)
		return isakmp_bld_fail(bld, ISAKMP_E_INVALID, ISAKMP_PL_N, n->data_len,
				       ISAKMP_PL_MAX_LEN, "notification data length");
	if (isakmp_bld_begin(bld, ISAKMP_PL_N, 8 + n->spi_size + n->data_len) != ISAKMP_OK)
		return bld->err.code;
	r |= buf_put_u32(b, n->doi);
	r |= buf_put_u8(b, n->proto);
	r |= buf_put_u8(b, n->spi_size);
	r |= buf_put_u16(b, n->type);
	r |= buf_put_bytes(b, n->spi, n->spi_size);
	if (n->data_len > 0)
		r |= buf_put_bytes(b, n->data, n->data_len);
	return isakmp_bld_body(bld, ISAKMP_PL_N, r);
}

int isakmp_put_delete(struct isakmp_builder *bld, const struct isakmp_delete *d)
{
	struct buf *b = bld->b;
	size_t n = (size_t)d->nspi * d->spi_size;
	int r = 0;

	if (bld->err.code != ISAKMP_OK)
		return bld->err.code;
	if (d->spi_size == 0 || d->nspi == 0 || d->spis == NULL)
		return isakmp_bld_fail(bld, ISAKMP_E_INVALID, ISAKMP_PL_D, n, 0,
				       "SPI size and # of SPIs");
	if (isakmp_bld_begin(bld, ISAKMP_PL_D, 8 + n) != ISAKMP_OK)
		return bld->err.code;
	r |= buf_put_u32(b, d->doi);
	r |= buf_put_u8(b, d->proto);
	r |= buf_put_u8(b, d->spi_size);
	r |= buf_put_u16(b, d->nspi);
	r |= buf_put_bytes(b, d->spis, n);
	return isakmp_bld_body(bld, ISAKMP_PL_D, r);
}

int isakmp_put_natoa(struct isakmp_builder *bld, uint8_t type, const struct isakmp_natoa *oa)
{
	struct buf *b = bld->b;
	size_t n;
	int r = 0;

	if (bld->err.code != ISAKMP_OK)
		return bld->err.code;
	if (type != ISAKMP_PL_NATOA && type != ISAKMP_PL_NATOA_DRAFT)
		return isakmp_bld_fail(bld, ISAKMP_E_INVALID, type, type, 0,
				       "not a NAT-OA payload");
	if (oa->id_type == ISAKMP_ID_IPV4_ADDR)
		n = 4;
	else if (oa->id_type == ISAKMP_ID_IPV6_ADDR)
		n = 16;
	else
		return isakmp_bld_fail(bld, ISAKMP_E_INVALID, type, oa->id_type, 0,
				       "NAT-OA ID type");
	if (isakmp_bld_begin(bld, type, 4 + n) != ISAKMP_OK)
		return bld->err.code;
	r |= buf_put_u8(b, oa->id_type);
	r |= buf_put_zero(b, 3);
	if (n == 4)
		r |= buf_put_bytes(b, &oa->in4.s_addr, 4);
	else
		r |= buf_put_bytes(b, oa->addr, 16);
	return isakmp_bld_body(bld, type, r);
}

/* ---- every payload of a chain ---- */

int isakmp_chain_check(const struct isakmp_chain *c, struct isakmp_error *err)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct isakmp_pl *pl = &c->pl[i];
		union {
			struct isakmp_data d;
			struct isakmp_id id;
			struct isakmp_cert cert;
			struct isakmp_notify n;
			struct isakmp_delete del;
			struct isakmp_natoa oa;
		} u;
		int r;

		switch (pl->type) {
		case ISAKMP_PL_SA: {
			struct isakmp_sa sa; /* about 50 KB */

			r = isakmp_sa_parse(pl, &sa, err);
			break;
		}
		case ISAKMP_PL_KE:
		case ISAKMP_PL_HASH:
		case ISAKMP_PL_SIG:
		case ISAKMP_PL_NONCE:
		case ISAKMP_PL_VID:
		case ISAKMP_PL_NATD:
		case ISAKMP_PL_NATD_DRAFT:
			r = isakmp_data_parse(pl, &u.d, err);
			break;
		case ISAKMP_PL_ID:
			r = isakmp_id_parse(pl, &u.id, err);
			break;
		case ISAKMP_PL_CERT:
		case ISAKMP_PL_CR:
			r = isakmp_cert_parse(pl, &u.cert, err);
			break;
		case ISAKMP_PL_N:
			r = isakmp_notify_parse(pl, &u.n, err);
			break;
		case ISAKMP_PL_D:
			r = isakmp_delete_parse(pl, &u.del, err);
			break;
		case ISAKMP_PL_NATOA:
		case ISAKMP_PL_NATOA_DRAFT:
			r = isakmp_natoa_parse(pl, &u.oa, err);
			break;
		default:
			r = ISAKMP_OK; /* private payloads the chain let through */
			break;
		}
		if (r != ISAKMP_OK)
			return r;
	}
	return isakmp_ok(err);
}
