/*
 * ISAKMP codec, the base the rest stands on: errors, and parsing the
 * header and the payload chain.  The payload bodies are parsed and built in
 * isakmp_payload.c and isakmp_sa.c, the builder is isakmp_build.c; nothing
 * here calls either.  See isakmp.h.
 */
#include "isakmp.h"
#include "isakmp_int.h"

#include <stdio.h>
#include <string.h>

/* ---- errors ---- */

const char *isakmp_err_name(enum isakmp_err e)
{
	static const char *const names[ISAKMP_E_MAX] = {
		[ISAKMP_OK] = "ok",
		[ISAKMP_E_TRUNCATED] = "truncated",
		[ISAKMP_E_LENGTH_SHORT] = "length below the minimum",
		[ISAKMP_E_LENGTH_OVERRUN] = "length beyond the data",
		[ISAKMP_E_MSG_LENGTH] = "message length mismatch",
		[ISAKMP_E_VERSION] = "unsupported version",
		[ISAKMP_E_FLAGS] = "undefined flags",
		[ISAKMP_E_RESERVED] = "reserved field not zero",
		[ISAKMP_E_PAYLOAD_TYPE] = "invalid payload type",
		[ISAKMP_E_TOO_MANY] = "too many",
		[ISAKMP_E_TRAILING] = "trailing bytes",
		[ISAKMP_E_COUNT] = "count mismatch",
		[ISAKMP_E_BAD_VALUE] = "bad value",
		[ISAKMP_E_DOI] = "DOI not supported",
		[ISAKMP_E_SITUATION] = "situation not supported",
		[ISAKMP_E_ID] = "invalid identification",
		[ISAKMP_E_ENCRYPTED] = "encrypted",
		[ISAKMP_E_WRONG_TYPE] = "wrong payload type",
		[ISAKMP_E_NOSPACE] = "no space",
		[ISAKMP_E_INVALID] = "cannot be encoded",
		[ISAKMP_E_MISSING] = "payload missing",
	};
	return (unsigned)e < ISAKMP_E_MAX ? names[e] : "unknown error";
}

/* The Notify message type RFC 2408 5 (and isakmpd) would send for an error. */
static uint16_t isakmp_default_notify(enum isakmp_err code, uint8_t payload)
{
	bool prop = payload == ISAKMP_PL_P || payload == ISAKMP_PL_T;

	switch (code) {
	case ISAKMP_E_TRUNCATED:
		if (payload == ISAKMP_PL_NONE)
			return 0; /* not even a header: drop silently */
		return prop ? ISAKMP_N_BAD_PROPOSAL_SYNTAX : ISAKMP_N_PAYLOAD_MALFORMED;
	case ISAKMP_E_LENGTH_SHORT:
	case ISAKMP_E_LENGTH_OVERRUN:
		if (payload == ISAKMP_PL_NONE)
			return ISAKMP_N_UNEQUAL_PAYLOAD_LENGTHS;
		return prop ? ISAKMP_N_BAD_PROPOSAL_SYNTAX : ISAKMP_N_PAYLOAD_MALFORMED;
	case ISAKMP_E_RESERVED:
	case ISAKMP_E_TRAILING:
	case ISAKMP_E_COUNT:
	case ISAKMP_E_BAD_VALUE:
		return prop ? ISAKMP_N_BAD_PROPOSAL_SYNTAX : ISAKMP_N_PAYLOAD_MALFORMED;
	case ISAKMP_E_MSG_LENGTH:
		return ISAKMP_N_UNEQUAL_PAYLOAD_LENGTHS;
	case ISAKMP_E_VERSION:
		return ISAKMP_N_INVALID_MAJOR_VERSION;
	case ISAKMP_E_FLAGS:
		return ISAKMP_N_INVALID_FLAGS;
	case ISAKMP_E_PAYLOAD_TYPE:
		return ISAKMP_N_INVALID_PAYLOAD_TYPE;
	case ISAKMP_E_TOO_MANY:
		/* more proposals than we can weigh: none of them is chosen */
		return prop ? ISAKMP_N_NO_PROPOSAL_CHOSEN : ISAKMP_N_PAYLOAD_MALFORMED;
	case ISAKMP_E_DOI:
		return ISAKMP_N_DOI_NOT_SUPPORTED;
	case ISAKMP_E_SITUATION:
		return ISAKMP_N_SITUATION_NOT_SUPPORTED;
	case ISAKMP_E_ID:
		return ISAKMP_N_INVALID_ID_INFORMATION;
	default:
		return 0;
	}
}

int isakmp_fail(struct isakmp_error *err, enum isakmp_err code, uint8_t payload, size_t offset,
		size_t declared, size_t limit, const char *what)
{
	if (err != NULL) {
		memset(err, 0, sizeof(*err));
		err->code = code;
		err->notify = isakmp_default_notify(code, payload);
		err->payload = payload;
		err->offset = offset;
		err->declared = declared;
		err->limit = limit;
		err->what = what;
	}
	return code;
}

int isakmp_fail_attr(struct isakmp_error *err, enum isakmp_err code, uint16_t attr_type,
		     size_t offset, size_t declared, size_t limit, const char *what)
{
	isakmp_fail(err, code, ISAKMP_PL_T, offset, declared, limit, what);
	if (err != NULL) {
		err->in_attr = true;
		err->attr_type = attr_type;
		if (code == ISAKMP_E_TOO_MANY)
			err->notify = ISAKMP_N_ATTRIBUTES_NOT_SUPPORTED;
	}
	return code;
}

int isakmp_ok(struct isakmp_error *err)
{
	if (err != NULL)
		memset(err, 0, sizeof(*err));
	return ISAKMP_OK;
}

char *isakmp_error_str(const struct isakmp_error *e, char *buf, size_t n)
{
	char place[64];
	const char *what;

	if (n == 0)
		return buf;
	if (e->code == ISAKMP_OK) {
		snprintf(buf, n, "ok");
		return buf;
	}
	if (e->in_attr)
		snprintf(place, sizeof(place), "attribute %u", (unsigned)e->attr_type);
	else if (e->payload == ISAKMP_PL_NONE)
		snprintf(place, sizeof(place), "message");
	else
		snprintf(place, sizeof(place), "%s payload", isakmp_payload_name(e->payload));
	what = e->what != NULL ? e->what : isakmp_err_name(e->code);

	switch (e->code) {
	case ISAKMP_E_TRUNCATED:
		snprintf(buf, n, "%s at offset %zu: %s: needs %zu bytes, %zu left", place,
			 e->offset, what, e->declared, e->limit);
		break;
	case ISAKMP_E_LENGTH_SHORT:
		snprintf(buf, n, "%s at offset %zu: %s: declared %zu, minimum %zu", place,
			 e->offset, what, e->declared, e->limit);
		break;
	case ISAKMP_E_LENGTH_OVERRUN:
		snprintf(buf, n, "%s at offset %zu: %s: declared %zu, %zu left", place, e->offset,
			 what, e->declared, e->limit);
		break;
	case ISAKMP_E_MSG_LENGTH:
		snprintf(buf, n, "%s at offset %zu: %s: declared %zu, datagram %zu", place,
			 e->offset, what, e->declared, e->limit);
		break;
	case ISAKMP_E_VERSION:
		snprintf(buf, n, "%s at offset %zu: %s: version %zu.%zu", place, e->offset, what,
			 e->declared >> 4, e->declared & 0xf);
		break;
	case ISAKMP_E_FLAGS:
	case ISAKMP_E_ENCRYPTED:
		snprintf(buf, n, "%s at offset %zu: %s: flags 0x%02zx", place, e->offset, what,
			 e->declared);
		break;
	case ISAKMP_E_RESERVED:
		snprintf(buf, n, "%s at offset %zu: %s: 0x%zx, must be 0", place, e->offset, what,
			 e->declared);
		break;
	case ISAKMP_E_PAYLOAD_TYPE:
	case ISAKMP_E_WRONG_TYPE:
		snprintf(buf, n, "%s at offset %zu: %s: type %zu (%s)", place, e->offset, what,
			 e->declared, isakmp_payload_name((uint8_t)e->declared));
		break;
	case ISAKMP_E_TOO_MANY:
		snprintf(buf, n, "%s at offset %zu: %s: more than %zu", place, e->offset, what,
			 e->limit);
		break;
	case ISAKMP_E_TRAILING:
		snprintf(buf, n, "%s at offset %zu: %s: %zu bytes left over", place, e->offset,
			 what, e->declared);
		break;
	case ISAKMP_E_COUNT:
		snprintf(buf, n, "%s at offset %zu: %s: declared %zu, found %zu", place, e->offset,
			 what, e->declared, e->limit);
		break;
	case ISAKMP_E_ID:
		/* a length has an expected value; an unknown ID type (limit 0) has none */
		if (e->limit != 0)
			snprintf(buf, n, "%s at offset %zu: %s: %zu, expected %zu", place,
				 e->offset, what, e->declared, e->limit);
		else
			snprintf(buf, n, "%s at offset %zu: %s: %zu", place, e->offset, what,
				 e->declared);
		break;
	case ISAKMP_E_NOSPACE:
		snprintf(buf, n, "%s: %s: needs %zu bytes, %zu room", place, what, e->declared,
			 e->limit);
		break;
	default: /* BAD_VALUE, DOI, SITUATION, INVALID */
		if (e->limit != 0)
			snprintf(buf, n, "%s at offset %zu: %s: %zu, limit %zu", place, e->offset,
				 what, e->declared, e->limit);
		else
			snprintf(buf, n, "%s at offset %zu: %s: %zu", place, e->offset, what,
				 e->declared);
		break;
	}
	return buf;
}

/* ---- header ---- */

int isakmp_hdr_parse(const uint8_t *msg, size_t len, struct isakmp_hdr *h, struct isakmp_error *err)
{
	struct buf b;

	memset(h, 0, sizeof(*h));
	if (len < ISAKMP_HDR_LEN)
		return isakmp_fail(err, ISAKMP_E_TRUNCATED, ISAKMP_PL_NONE, 0, ISAKMP_HDR_LEN, len,
				   "ISAKMP header");
	buf_init_read(&b, msg, len);
	/* 28 bytes are there: none of these reads can fail. */
	if (buf_get_bytes(&b, h->icookie, ISAKMP_COOKIE_LEN) != BUF_OK ||
	    buf_get_bytes(&b, h->rcookie, ISAKMP_COOKIE_LEN) != BUF_OK ||
	    buf_get_u8(&b, &h->next) != BUF_OK || buf_get_u8(&b, &h->version) != BUF_OK ||
	    buf_get_u8(&b, &h->exchange) != BUF_OK || buf_get_u8(&b, &h->flags) != BUF_OK ||
	    buf_get_u32(&b, &h->msgid) != BUF_OK || buf_get_u32(&b, &h->length) != BUF_OK)
		return isakmp_fail(err, ISAKMP_E_TRUNCATED, ISAKMP_PL_NONE, 0, ISAKMP_HDR_LEN, len,
				   "ISAKMP header");
	h->raw = msg;

	if (h->version >> 4 != 1)
		return isakmp_fail(err, ISAKMP_E_VERSION, ISAKMP_PL_NONE, 17, h->version, 0,
				   "major version");
	if ((h->version & 0x0f) != 0) {
		isakmp_fail(err, ISAKMP_E_VERSION, ISAKMP_PL_NONE, 17, h->version, 0,
			    "minor version");
		if (err != NULL)
			err->notify = ISAKMP_N_INVALID_MINOR_VERSION;
		return ISAKMP_E_VERSION;
	}
	if (h->flags & ~(ISAKMP_FLAG_E | ISAKMP_FLAG_C | ISAKMP_FLAG_A))
		return isakmp_fail(err, ISAKMP_E_FLAGS, ISAKMP_PL_NONE, 19, h->flags, 0, "flags");
	if (h->length < ISAKMP_HDR_LEN)
		return isakmp_fail(err, ISAKMP_E_LENGTH_SHORT, ISAKMP_PL_NONE, 24, h->length,
				   ISAKMP_HDR_LEN, "header Length");
	if (h->length != len)
		return isakmp_fail(err, ISAKMP_E_MSG_LENGTH, ISAKMP_PL_NONE, 24, h->length, len,
				   "header Length");
	return isakmp_ok(err);
}

/* ---- payload chain ---- */

size_t isakmp_payload_min_len(uint8_t type)
{
	switch (type) {
	case ISAKMP_PL_SA:
		return 12; /* DOI, situation; proposals are checked by isakmp_sa_parse */
	case ISAKMP_PL_P:
	case ISAKMP_PL_T:
	case ISAKMP_PL_ID:
		return 8;
	case ISAKMP_PL_KE:
	case ISAKMP_PL_CERT:
	case ISAKMP_PL_CR:
	case ISAKMP_PL_HASH:
	case ISAKMP_PL_SIG:
	case ISAKMP_PL_VID:
	case ISAKMP_PL_NATD:
	case ISAKMP_PL_NATD_DRAFT:
		return 5; /* no empty data */
	case ISAKMP_PL_NONCE:
		return ISAKMP_GEN_LEN + ISAKMP_NONCE_MIN;
	case ISAKMP_PL_N:
	case ISAKMP_PL_D:
	case ISAKMP_PL_NATOA:
	case ISAKMP_PL_NATOA_DRAFT:
		return 12;
	default:
		return ISAKMP_GEN_LEN;
	}
}

bool isakmp_payload_known(uint8_t type)
{
	switch (type) {
	case ISAKMP_PL_SA:
	case ISAKMP_PL_KE:
	case ISAKMP_PL_ID:
	case ISAKMP_PL_CERT:
	case ISAKMP_PL_CR:
	case ISAKMP_PL_HASH:
	case ISAKMP_PL_SIG:
	case ISAKMP_PL_NONCE:
	case ISAKMP_PL_N:
	case ISAKMP_PL_D:
	case ISAKMP_PL_VID:
	case ISAKMP_PL_NATD:
	case ISAKMP_PL_NATOA:
	case ISAKMP_PL_NATD_DRAFT:
	case ISAKMP_PL_NATOA_DRAFT:
		return true;
	default:
		return false;
	}
}

int isakmp_chain_parse(uint8_t first, const uint8_t *data, size_t len, size_t base, unsigned flags,
		       struct isakmp_chain *c, struct isakmp_error *err)
{
	size_t bad = ISAKMP_MAX_PAYLOADS;
	uint8_t type = first;
	struct buf b;

	memset(c, 0, sizeof(*c));
	c->data = data;
	c->base = base;
	buf_init_read(&b, data, len);
	while (type != ISAKMP_PL_NONE) {
		size_t off = base + buf_consumed(&b), left = buf_left(&b), min;
		struct isakmp_pl *pl;
		uint8_t np, res;
		uint16_t plen;

		if (c->n == ISAKMP_MAX_PAYLOADS)
			return isakmp_fail(err, ISAKMP_E_TOO_MANY, type, off,
					   ISAKMP_MAX_PAYLOADS + 1, ISAKMP_MAX_PAYLOADS,
					   "payloads in a message");
		pl = &c->pl[c->n];
		if (left < ISAKMP_GEN_LEN)
			return isakmp_fail(err, ISAKMP_E_TRUNCATED, type, off, ISAKMP_GEN_LEN, left,
					   "generic payload header");
		pl->raw = buf_rptr(&b);
		if (buf_get_u8(&b, &np) != BUF_OK || buf_get_u8(&b, &res) != BUF_OK ||
		    buf_get_u16(&b, &plen) != BUF_OK)
			return isakmp_fail(err, ISAKMP_E_TRUNCATED, type, off, ISAKMP_GEN_LEN, left,
					   "generic payload header");
		if (res != 0)
			return isakmp_fail(err, ISAKMP_E_RESERVED, type, off, res, 0,
					   "generic header RESERVED");
		min = isakmp_payload_min_len(type);
		if (plen < min)
			return isakmp_fail(err, ISAKMP_E_LENGTH_SHORT, type, off, plen, min,
					   "payload length");
		if (plen > left)
			return isakmp_fail(err, ISAKMP_E_LENGTH_OVERRUN, type, off, plen, left,
					   "payload length");
		if (buf_get_child(&b, plen - ISAKMP_GEN_LEN, &pl->body) != BUF_OK)
			return isakmp_fail(err, ISAKMP_E_LENGTH_OVERRUN, type, off, plen, left,
					   "payload length");
		pl->type = type;
		pl->next = np;
		pl->offset = off;
		pl->len = plen;
		pl->known = isakmp_payload_known(type);
		if (!pl->known && bad == ISAKMP_MAX_PAYLOADS &&
		    !((flags & ISAKMP_PARSE_PRIVATE) && type >= ISAKMP_PL_PRIVATE_MIN))
			bad = c->n;
		c->n++;
		type = np;
	}
	c->end = base + buf_consumed(&b);
	c->trailing = buf_left(&b);
	if (c->trailing > 0 && !(flags & ISAKMP_PARSE_PADDING))
		return isakmp_fail(err, ISAKMP_E_TRAILING, ISAKMP_PL_NONE, c->end, c->trailing, 0,
				   "after the last payload");
	if (bad < ISAKMP_MAX_PAYLOADS)
		return isakmp_fail(err, ISAKMP_E_PAYLOAD_TYPE, c->pl[bad].type, c->pl[bad].offset,
				   c->pl[bad].type, 0, "payload type");
	return isakmp_ok(err);
}

int isakmp_msg_parse(const uint8_t *msg, size_t len, unsigned flags, struct isakmp_msg *m,
		     struct isakmp_error *err)
{
	int r;

	m->chain.n = 0;
	r = isakmp_hdr_parse(msg, len, &m->hdr, err);
	if (r != ISAKMP_OK)
		return r;
	if (m->hdr.flags & ISAKMP_FLAG_E)
		return isakmp_fail(err, ISAKMP_E_ENCRYPTED, ISAKMP_PL_NONE, 19, m->hdr.flags, 0,
				   "encrypted: decrypt, then parse the chain");
	return isakmp_chain_parse(m->hdr.next, msg + ISAKMP_HDR_LEN, len - ISAKMP_HDR_LEN,
				  ISAKMP_HDR_LEN, flags, &m->chain, err);
}

size_t isakmp_chain_count(const struct isakmp_chain *c, uint8_t type)
{
	size_t k = 0;

	for (size_t i = 0; i < c->n; i++)
		if (c->pl[i].type == type)
			k++;
	return k;
}

const struct isakmp_pl *isakmp_chain_find(const struct isakmp_chain *c, uint8_t type, size_t nth)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->pl[i].type == type && nth-- == 0)
			return &c->pl[i];
	return NULL;
}

int isakmp_chain_after(const struct isakmp_chain *c, size_t i, const uint8_t **p, size_t *len)
{
	if (i >= c->n)
		return -1;
	*p = c->pl[i].raw + c->pl[i].len;
	*len = c->end - (c->pl[i].offset + c->pl[i].len);
	return 0;
}
