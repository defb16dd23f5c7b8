/*
 * Fuzz the ISAKMP codec.  The input is a datagram:
 *
 *  - the header and the whole message (isakmp_msg_parse), with and without
 *    ISAKMP_PARSE_PADDING | ISAKMP_PARSE_PRIVATE;
 *  - the bytes after the header as a payload chain whatever the header says
 *    (so that E-flag messages reach the chain parser too), both ways;
 *  - the bytes after the first generic header as the body of every payload
 *    type the codec knows.
 *
 * Every parse must fail with a consistent error report or give structures
 * that keep their promises (offsets, lengths, pointers inside the input).
 * What parses is rebuilt with the builder: the encoding is canonical, so the
 * bytes must be the input's, and the rebuilt bytes must parse back to the
 * same structures.
 */
#include "buf.h"
#include "fuzzer.h"
#include "isakmp.h"

#include <stdio.h>
#include <string.h>

/* Every body a payload type can be parsed into. */
struct parsed {
	struct isakmp_sa sa; /* about 50 KB: static instances only */
	struct isakmp_data d;
	struct isakmp_id id;
	struct isakmp_cert cert;
	struct isakmp_notify n;
	struct isakmp_delete del;
	struct isakmp_natoa oa;
};

static struct parsed pa, pb;
static struct isakmp_chain ca, cb;
static struct isakmp_msg msg_a, msg_b;
static uint8_t out[ISAKMP_HDR_LEN + 2 * ISAKMP_PL_MAX_LEN];

static const uint8_t known_types[] = {
	ISAKMP_PL_SA,    ISAKMP_PL_KE,         ISAKMP_PL_ID,          ISAKMP_PL_CERT,
	ISAKMP_PL_CR,    ISAKMP_PL_HASH,       ISAKMP_PL_SIG,         ISAKMP_PL_NONCE,
	ISAKMP_PL_N,     ISAKMP_PL_D,          ISAKMP_PL_VID,         ISAKMP_PL_NATD,
	ISAKMP_PL_NATOA, ISAKMP_PL_NATD_DRAFT, ISAKMP_PL_NATOA_DRAFT,
};

/* An error report agrees with the return value and stays inside the input. */
static void check_error(int r, const struct isakmp_error *e, size_t end)
{
	char s[256];

	CHECK(r > ISAKMP_OK && r < ISAKMP_E_MAX);
	CHECK(e->code == (enum isakmp_err)r);
	CHECK(e->what != NULL);
	CHECK(e->offset <= end);
	CHECK(e->notify == 0 || isakmp_notify_is_error(e->notify));
	CHECK(strcmp(isakmp_err_name(e->code), "unknown error") != 0);
	for (size_t n = 1; n <= sizeof(s); n *= 4) {
		isakmp_error_str(e, s, n);
		CHECK(strlen(s) < n);
	}
	CHECK(strlen(s) > 0);
}

/* ---- one payload body ---- */

static int parse_body(const struct isakmp_pl *pl, struct parsed *p, struct isakmp_error *e)
{
	switch (pl->type) {
	case ISAKMP_PL_SA:
		return isakmp_sa_parse(pl, &p->sa, e);
	case ISAKMP_PL_KE:
	case ISAKMP_PL_HASH:
	case ISAKMP_PL_SIG:
	case ISAKMP_PL_NONCE:
	case ISAKMP_PL_VID:
	case ISAKMP_PL_NATD:
	case ISAKMP_PL_NATD_DRAFT:
		return isakmp_data_parse(pl, &p->d, e);
	case ISAKMP_PL_ID:
		return isakmp_id_parse(pl, &p->id, e);
	case ISAKMP_PL_CERT:
	case ISAKMP_PL_CR:
		return isakmp_cert_parse(pl, &p->cert, e);
	case ISAKMP_PL_N:
		return isakmp_notify_parse(pl, &p->n, e);
	case ISAKMP_PL_D:
		return isakmp_delete_parse(pl, &p->del, e);
	case ISAKMP_PL_NATOA:
	case ISAKMP_PL_NATOA_DRAFT:
		return isakmp_natoa_parse(pl, &p->oa, e);
	default:
		return ISAKMP_E_WRONG_TYPE;
	}
}

static int put_body(struct isakmp_builder *bld, uint8_t type, const struct parsed *p)
{
	switch (type) {
	case ISAKMP_PL_SA:
		return isakmp_put_sa(bld, &p->sa);
	case ISAKMP_PL_KE:
	case ISAKMP_PL_HASH:
	case ISAKMP_PL_SIG:
	case ISAKMP_PL_NONCE:
	case ISAKMP_PL_VID:
	case ISAKMP_PL_NATD:
	case ISAKMP_PL_NATD_DRAFT:
		return isakmp_put_data(bld, type, p->d.p, p->d.len);
	case ISAKMP_PL_ID:
		return isakmp_put_id(bld, &p->id);
	case ISAKMP_PL_CERT:
	case ISAKMP_PL_CR:
		return isakmp_put_cert(bld, type, &p->cert);
	case ISAKMP_PL_N:
		return isakmp_put_notify(bld, &p->n);
	case ISAKMP_PL_D:
		return isakmp_put_delete(bld, &p->del);
	default:
		return isakmp_put_natoa(bld, type, &p->oa);
	}
}

static void same_mem(const void *a, const void *b, size_t n)
{
	CHECK(n == 0 || memcmp(a, b, n) == 0);
}

static void same_sa(const struct isakmp_sa *a, const struct isakmp_sa *b)
{
	CHECK(a->doi == b->doi && a->situation == b->situation);
	CHECK(a->body_len == b->body_len);
	same_mem(a->body, b->body, a->body_len);
	CHECK(a->nprop == b->nprop);
	for (size_t i = 0; i < a->nprop; i++) {
		const struct isakmp_proposal *p = &a->prop[i], *q = &b->prop[i];

		CHECK(p->num == q->num && p->proto == q->proto && p->spi_size == q->spi_size);
		same_mem(p->spi, q->spi, p->spi_size);
		CHECK(p->nxf == q->nxf);
		for (size_t j = 0; j < p->nxf; j++) {
			const struct isakmp_transform *t = &p->xf[j], *u = &q->xf[j];

			CHECK(t->num == u->num && t->id == u->id && t->nattr == u->nattr);
			for (size_t k = 0; k < t->nattr; k++) {
				const struct isakmp_attr *x = &t->attr[k], *y = &u->attr[k];

				CHECK(x->type == y->type && x->tv == y->tv && x->num == y->num);
				CHECK(x->len == y->len && x->u == y->u);
				same_mem(x->val, y->val, x->len);
			}
		}
	}
}

static void same_body(uint8_t type, const struct parsed *a, const struct parsed *b)
{
	switch (type) {
	case ISAKMP_PL_SA:
		same_sa(&a->sa, &b->sa);
		break;
	case ISAKMP_PL_ID:
		CHECK(a->id.type == b->id.type && a->id.proto == b->id.proto);
		CHECK(a->id.port == b->id.port && a->id.data_len == b->id.data_len);
		same_mem(a->id.data, b->id.data, a->id.data_len);
		CHECK(a->id.addr.s_addr == b->id.addr.s_addr);
		CHECK(a->id.mask.s_addr == b->id.mask.s_addr);
		CHECK(a->id.end.s_addr == b->id.end.s_addr);
		CHECK(a->id.body_len == b->id.body_len);
		same_mem(a->id.body, b->id.body, a->id.body_len);
		break;
	case ISAKMP_PL_CERT:
	case ISAKMP_PL_CR:
		CHECK(a->cert.enc == b->cert.enc && a->cert.len == b->cert.len);
		same_mem(a->cert.data, b->cert.data, a->cert.len);
		break;
	case ISAKMP_PL_N:
		CHECK(a->n.doi == b->n.doi && a->n.proto == b->n.proto);
		CHECK(a->n.spi_size == b->n.spi_size && a->n.type == b->n.type);
		same_mem(a->n.spi, b->n.spi, a->n.spi_size);
		CHECK(a->n.data_len == b->n.data_len);
		same_mem(a->n.data, b->n.data, a->n.data_len);
		break;
	case ISAKMP_PL_D:
		CHECK(a->del.doi == b->del.doi && a->del.proto == b->del.proto);
		CHECK(a->del.spi_size == b->del.spi_size && a->del.nspi == b->del.nspi);
		same_mem(a->del.spis, b->del.spis, (size_t)a->del.nspi * a->del.spi_size);
		break;
	case ISAKMP_PL_NATOA:
	case ISAKMP_PL_NATOA_DRAFT:
		CHECK(a->oa.id_type == b->oa.id_type && a->oa.addr_len == b->oa.addr_len);
		same_mem(a->oa.addr, b->oa.addr, a->oa.addr_len);
		CHECK(a->oa.in4.s_addr == b->oa.in4.s_addr);
		break;
	default:
		CHECK(a->d.len == b->d.len);
		same_mem(a->d.p, b->d.p, a->d.len);
		break;
	}
}

/* What a parsed body promises; and the names of its values must be safe to look up. */
static void check_body(const struct isakmp_pl *pl, const struct parsed *p)
{
	size_t blen = pl->len - ISAKMP_GEN_LEN, n;
	const uint8_t *body = buf_rptr(&pl->body);
	uint32_t v;

	CHECK(isakmp_payload_name(pl->type) != NULL);
	switch (pl->type) {
	case ISAKMP_PL_SA:
		CHECK(p->sa.body == body && p->sa.body_len == blen);
		CHECK(p->sa.doi == ISAKMP_DOI_IPSEC);
		CHECK(p->sa.situation == ISAKMP_SIT_IDENTITY_ONLY);
		CHECK(p->sa.nprop >= 1 && p->sa.nprop <= ISAKMP_MAX_PROPOSALS);
		for (size_t i = 0; i < p->sa.nprop; i++) {
			const struct isakmp_proposal *pr = &p->sa.prop[i];

			CHECK(i == 0 || pr->num >= p->sa.prop[i - 1].num);
			CHECK(pr->spi_size <= ISAKMP_MAX_SPI);
			CHECK(pr->nxf >= 1 && pr->nxf <= ISAKMP_MAX_TRANSFORMS);
			CHECK(isakmp_proto_name(pr->proto) != NULL);
			CHECK((isakmp_spi32(pr) != 0) <= (pr->spi_size == 4));
			for (size_t j = 0; j < pr->nxf; j++) {
				const struct isakmp_transform *t = &pr->xf[j];

				CHECK(t->nattr <= ISAKMP_MAX_ATTRS);
				CHECK(isakmp_xf_name(pr->proto, t->id) != NULL);
				for (size_t k = 0; k < t->nattr; k++) {
					const struct isakmp_attr *a = &t->attr[k];

					CHECK(a->type < 0x8000);
					CHECK(a->val >= body && a->val + a->len <= body + blen);
					CHECK(!a->tv || (a->len == 2 && a->num && a->u <= 0xffff));
					CHECK(a->num == (a->tv || (a->len >= 1 && a->len <= 8)));
					CHECK(isakmp_attr_name(pr->proto, a->type) != NULL);
					CHECK(isakmp_attr_value_name(pr->proto, a->type, a->u) !=
					      NULL);
					CHECK(isakmp_attr_find(t, a->type) <= a);
					CHECK(isakmp_attr_get(t, a->type, &v) ==
					      (isakmp_attr_find(t, a->type)->num &&
					       isakmp_attr_find(t, a->type)->u <= 0xffffffff));
				}
			}
		}
		break;
	case ISAKMP_PL_ID:
		CHECK(p->id.body == body && p->id.body_len == blen);
		CHECK(p->id.data == body + 4 && p->id.data_len == blen - 4);
		CHECK(strcmp(isakmp_id_type_name(p->id.type), "unknown") != 0);
		if (p->id.type == ISAKMP_ID_IPV4_ADDR_SUBNET)
			CHECK(isakmp_mask_plen(p->id.mask) >= -1);
		break;
	case ISAKMP_PL_CERT:
	case ISAKMP_PL_CR:
		CHECK(p->cert.data == body + 1 && p->cert.len == blen - 1);
		CHECK(pl->type == ISAKMP_PL_CR || p->cert.len > 0);
		CHECK(isakmp_cert_enc_name(p->cert.enc) != NULL);
		break;
	case ISAKMP_PL_N:
		CHECK(p->n.spi_size <= ISAKMP_MAX_SPI);
		CHECK(p->n.data == body + 8 + p->n.spi_size);
		CHECK(8 + p->n.spi_size + p->n.data_len == blen);
		CHECK(isakmp_notify_name(p->n.type) != NULL);
		CHECK(isakmp_dpd_seq(&p->n, &v) ==
		      ((p->n.type == ISAKMP_N_R_U_THERE || p->n.type == ISAKMP_N_R_U_THERE_ACK) &&
		       p->n.data_len == 4));
		break;
	case ISAKMP_PL_D:
		CHECK(p->del.spi_size > 0 && p->del.nspi > 0);
		CHECK(p->del.spis == body + 8);
		CHECK(8 + (size_t)p->del.nspi * p->del.spi_size == blen);
		CHECK(isakmp_delete_spi(&p->del, p->del.nspi - 1) ==
		      body + 8 + (size_t)(p->del.nspi - 1) * p->del.spi_size);
		CHECK(isakmp_delete_spi(&p->del, p->del.nspi) == NULL);
		break;
	case ISAKMP_PL_NATOA:
	case ISAKMP_PL_NATOA_DRAFT:
		CHECK(p->oa.addr_len == (p->oa.id_type == ISAKMP_ID_IPV4_ADDR ? 4u : 16u));
		CHECK(4 + p->oa.addr_len == blen);
		break;
	default:
		CHECK(p->d.p == body && p->d.len == blen);
		CHECK(p->d.len >= 1);
		CHECK(pl->type != ISAKMP_PL_NONCE ||
		      (p->d.len >= ISAKMP_NONCE_MIN && p->d.len <= ISAKMP_NONCE_MAX));
		if (pl->type == ISAKMP_PL_VID) {
			enum isakmp_vid id = isakmp_vid_lookup(p->d.p, p->d.len);
			const uint8_t *vb = isakmp_vid_bytes(id, &n);

			CHECK(isakmp_vid_name(id) != NULL);
			CHECK(id == ISAKMP_VID_UNKNOWN ||
			      (vb != NULL && n == p->d.len && memcmp(vb, p->d.p, n) == 0));
		}
		break;
	}
}

/*
 * A body that parsed: rebuilt alone it gives the same bytes (the generic
 * header aside, whose Next is none), which parse back to the same values.
 */
static void rebuild_one(const struct isakmp_pl *pl)
{
	struct isakmp_builder bld;
	struct isakmp_error e;
	const uint8_t *p;
	struct buf b;
	size_t n;

	buf_init_write(&b, out, sizeof(out));
	CHECK(isakmp_build_init(&bld, &b, NULL) == ISAKMP_OK);
	CHECK(put_body(&bld, pl->type, &pa) == ISAKMP_OK);
	CHECK(isakmp_build_finish(&bld, &n) == ISAKMP_OK);
	CHECK(bld.first == pl->type && bld.n == 1);
	CHECK(n == pl->len);
	CHECK(out[0] == ISAKMP_PL_NONE && out[1] == 0);
	CHECK(((size_t)out[2] << 8 | out[3]) == pl->len);
	CHECK(memcmp(out + 4, buf_rptr(&pl->body), n - 4) == 0);
	CHECK(isakmp_build_last(&bld, &p, &n) == 0);
	CHECK(p == out + 4 && n == pl->len - 4);

	CHECK(isakmp_chain_parse(pl->type, out, pl->len, pl->offset, 0, &cb, &e) == ISAKMP_OK);
	CHECK(cb.n == 1);
	CHECK(parse_body(&cb.pl[0], &pb, &e) == ISAKMP_OK);
	same_body(pl->type, &pa, &pb);
}

/* Each known body parser over body[0..len), as a payload at offset 28. */
static void fuzz_bodies(const uint8_t *body, size_t len)
{
	struct isakmp_error e;
	struct isakmp_pl pl;

	if (len > ISAKMP_PL_MAX_LEN - ISAKMP_GEN_LEN)
		return;
	for (size_t i = 0; i < sizeof(known_types); i++) {
		int r;

		memset(&pl, 0, sizeof(pl));
		pl.type = known_types[i];
		pl.known = true;
		pl.offset = ISAKMP_HDR_LEN;
		pl.len = len + ISAKMP_GEN_LEN;
		pl.raw = body - ISAKMP_GEN_LEN;
		buf_init_read(&pl.body, body, len);
		r = parse_body(&pl, &pa, &e);
		if (r != ISAKMP_OK) {
			check_error(r, &e, pl.offset + pl.len);
			CHECK(e.payload == pl.type || e.payload == ISAKMP_PL_P ||
			      e.payload == ISAKMP_PL_T);
			continue;
		}
		CHECK(e.code == ISAKMP_OK);
		check_body(&pl, &pa);
		rebuild_one(&pl);
	}
}

/* ---- chains ---- */

/* What a chain parse promises, for a result that filled the whole chain. */
static void check_chain(const struct isakmp_chain *c, const uint8_t *data, size_t len, size_t base,
			unsigned flags)
{
	size_t off = base, count = 0;
	const uint8_t *p;
	size_t n;

	CHECK(c->n <= ISAKMP_MAX_PAYLOADS);
	CHECK(c->data == data && c->base == base);
	for (size_t i = 0; i < c->n; i++) {
		const struct isakmp_pl *pl = &c->pl[i];

		CHECK(pl->offset == off);
		CHECK(pl->raw == data + (off - base));
		CHECK(pl->len >= isakmp_payload_min_len(pl->type) && pl->len >= ISAKMP_GEN_LEN);
		CHECK(pl->raw[0] == pl->next && pl->raw[1] == 0);
		CHECK(((size_t)pl->raw[2] << 8 | pl->raw[3]) == pl->len);
		CHECK(buf_rptr(&pl->body) == pl->raw + 4 || pl->len == 4);
		CHECK(buf_left(&pl->body) == pl->len - 4);
		CHECK(pl->type != ISAKMP_PL_NONE);
		CHECK(i + 1 < c->n ? c->pl[i + 1].type == pl->next : pl->next == ISAKMP_PL_NONE);
		CHECK(pl->known == isakmp_payload_known(pl->type));
		CHECK(isakmp_chain_after(c, i, &p, &n) == 0);
		CHECK(p == pl->raw + pl->len && n == c->end - (off + pl->len));
		off += pl->len;
	}
	CHECK(isakmp_chain_after(c, c->n, &p, &n) == -1);
	CHECK(c->end == off);
	CHECK(c->end + c->trailing == base + len);
	CHECK(c->trailing == 0 || (flags & ISAKMP_PARSE_PADDING));
	for (size_t t = 0; t < 256; t++)
		count += isakmp_chain_count(c, (uint8_t)t);
	CHECK(count == c->n);
	if (c->n > 0)
		CHECK(isakmp_chain_find(c, c->pl[c->n - 1].type, 0) != NULL);
}

/*
 * Rebuild chain c (typed puts where the body parses, raw ones otherwise),
 * after header h when not NULL: the bytes must be the input's up to the end
 * of the last payload, and parse back to the same chain and bodies.
 */
static void rebuild_chain(const struct isakmp_chain *c, const struct isakmp_hdr *h,
			  const uint8_t *msg, unsigned flags, int result)
{
	struct isakmp_builder bld;
	struct isakmp_error e;
	size_t hl = h != NULL ? ISAKMP_HDR_LEN : 0, n;
	struct buf b;
	int r;

	buf_init_write(&b, out, sizeof(out));
	CHECK(isakmp_build_init(&bld, &b, h) == ISAKMP_OK);
	for (size_t i = 0; i < c->n; i++) {
		const struct isakmp_pl *pl = &c->pl[i];

		if (pl->known && parse_body(pl, &pa, &e) == ISAKMP_OK)
			r = put_body(&bld, pl->type, &pa);
		else
			r = isakmp_put_raw(&bld, pl->type, buf_rptr(&pl->body), pl->len - 4);
		CHECK(r == ISAKMP_OK);
	}
	CHECK(isakmp_build_finish(&bld, &n) == ISAKMP_OK);
	CHECK(n == hl + c->end - c->base);
	CHECK(bld.n == c->n);
	if (h != NULL) {
		/* the header as received, but for its Length when there was padding */
		CHECK(memcmp(out, msg, 24) == 0);
		CHECK(c->trailing > 0 || memcmp(out + 24, msg + 24, 4) == 0);
	} else {
		CHECK(bld.first == (c->n > 0 ? c->pl[0].type : ISAKMP_PL_NONE));
	}
	CHECK(memcmp(out + hl, c->data, c->end - c->base) == 0);

	if (h != NULL) {
		r = isakmp_msg_parse(out, n, flags, &msg_b, &e);
		CHECK(r == result);
		CHECK(msg_b.chain.trailing == 0);
		CHECK(msg_b.chain.n == c->n);
		memcpy(&cb, &msg_b.chain, sizeof(cb));
	} else {
		r = isakmp_chain_parse(bld.first, out, n, c->base, flags, &cb, &e);
		CHECK(r == result);
	}
	CHECK(cb.n == c->n);
	for (size_t i = 0; i < c->n; i++) {
		CHECK(cb.pl[i].type == c->pl[i].type && cb.pl[i].len == c->pl[i].len);
		CHECK(cb.pl[i].offset == c->pl[i].offset);
		if (!c->pl[i].known || parse_body(&c->pl[i], &pa, &e) != ISAKMP_OK)
			continue;
		CHECK(parse_body(&cb.pl[i], &pb, &e) == ISAKMP_OK);
		same_body(c->pl[i].type, &pa, &pb);
	}
}

/* The parse's outcome for a chain over data[0..len) at base, first payload of type first. */
static void after_chain_parse(int r, const struct isakmp_error *e, const struct isakmp_chain *c,
			      const struct isakmp_hdr *h, const uint8_t *msg, uint8_t first,
			      const uint8_t *data, size_t len, size_t base, unsigned flags)
{
	struct isakmp_error ce, fe = {0};
	size_t at = base;
	int cr, fr = ISAKMP_OK;

	for (size_t i = 0; i < c->n && i < ISAKMP_MAX_PAYLOADS; i++)
		at += c->pl[i].len;
	if (r != ISAKMP_OK) {
		check_error(r, e, base + len);
		CHECK(c->n <= ISAKMP_MAX_PAYLOADS);
		if (r != ISAKMP_E_PAYLOAD_TYPE && r != ISAKMP_E_TRAILING) {
			/* the payload at fault is the one after those accepted */
			CHECK(e->offset == at);
			CHECK(e->payload == (c->n == 0 ? first : c->pl[c->n - 1].next));
		}
		if (r == ISAKMP_E_TRAILING)
			CHECK(e->offset == at && e->declared == base + len - at);
		if (r != ISAKMP_E_PAYLOAD_TYPE)
			return;
		/* an unknown type does not stop the walk: the chain is whole */
		CHECK(e->notify == ISAKMP_N_INVALID_PAYLOAD_TYPE);
		CHECK(!isakmp_payload_known(e->payload));
		for (size_t i = 0; i < c->n; i++) {
			if (c->pl[i].known || ((flags & ISAKMP_PARSE_PRIVATE) &&
					       c->pl[i].type >= ISAKMP_PL_PRIVATE_MIN))
				continue;
			CHECK(e->offset == c->pl[i].offset && e->payload == c->pl[i].type);
			break;
		}
	} else {
		CHECK(e->code == ISAKMP_OK);
		for (size_t i = 0; i < c->n; i++)
			CHECK(c->pl[i].known || ((flags & ISAKMP_PARSE_PRIVATE) &&
						 c->pl[i].type >= ISAKMP_PL_PRIVATE_MIN));
	}
	check_chain(c, data, len, base, flags);
	for (size_t i = 0; i < c->n; i++) {
		const struct isakmp_pl *pl = &c->pl[i];
		struct isakmp_error be;
		int br;

		if (!pl->known)
			continue;
		br = parse_body(pl, &pa, &be);
		if (br != ISAKMP_OK) {
			check_error(br, &be, pl->offset + pl->len);
			CHECK(be.offset >= pl->offset);
			if (fr == ISAKMP_OK) {
				fr = br;
				fe = be;
			}
			continue;
		}
		check_body(pl, &pa);
	}
	/* isakmp_chain_check reports the first body that does not parse */
	cr = isakmp_chain_check(c, &ce);
	CHECK(cr == fr);
	if (cr != ISAKMP_OK) {
		check_error(cr, &ce, c->end);
		CHECK(ce.offset == fe.offset && ce.payload == fe.payload);
		CHECK(ce.declared == fe.declared && ce.limit == fe.limit);
	}
	rebuild_chain(c, h, msg, flags, r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned flag_sets[] = {0, ISAKMP_PARSE_PADDING | ISAKMP_PARSE_PRIVATE};
	struct isakmp_error e;
	struct isakmp_hdr h;
	int r, rh;

	rh = isakmp_hdr_parse(data, size, &h, &e);
	if (rh == ISAKMP_OK) {
		CHECK(size >= ISAKMP_HDR_LEN && h.length == size && h.raw == data);
		CHECK(h.version == ISAKMP_VERSION);
		CHECK((h.flags & ~(ISAKMP_FLAG_E | ISAKMP_FLAG_C | ISAKMP_FLAG_A)) == 0);
		CHECK(isakmp_exchange_name(h.exchange) != NULL);
	} else {
		check_error(rh, &e, size);
		CHECK(e.payload == ISAKMP_PL_NONE);
	}

	for (size_t k = 0; k < sizeof(flag_sets) / sizeof(flag_sets[0]); k++) {
		unsigned fl = flag_sets[k];

		r = isakmp_msg_parse(data, size, fl, &msg_a, &e);
		if (rh != ISAKMP_OK) {
			CHECK(r == rh);
			check_error(r, &e, size);
		} else if (h.flags & ISAKMP_FLAG_E) {
			/* the header is filled in for the caller to decrypt the rest */
			CHECK(r == ISAKMP_E_ENCRYPTED);
			check_error(r, &e, size);
			CHECK(memcmp(msg_a.hdr.icookie, h.icookie, 8) == 0);
			CHECK(memcmp(msg_a.hdr.rcookie, h.rcookie, 8) == 0);
			CHECK(msg_a.hdr.next == h.next && msg_a.hdr.exchange == h.exchange);
			CHECK(msg_a.hdr.flags == h.flags && msg_a.hdr.msgid == h.msgid);
			CHECK(msg_a.hdr.length == size && msg_a.hdr.raw == data);
			CHECK(msg_a.chain.n == 0);
		} else {
			after_chain_parse(r, &e, &msg_a.chain, &msg_a.hdr, data, h.next,
					  data + ISAKMP_HDR_LEN, size - ISAKMP_HDR_LEN,
					  ISAKMP_HDR_LEN, fl);
		}
		if (size < ISAKMP_HDR_LEN)
			continue;
		/* the bytes after the header, whatever the header says, as if decrypted */
		r = isakmp_chain_parse(data[16], data + ISAKMP_HDR_LEN, size - ISAKMP_HDR_LEN,
				       ISAKMP_HDR_LEN, fl, &ca, &e);
		after_chain_parse(r, &e, &ca, NULL, data, data[16], data + ISAKMP_HDR_LEN,
				  size - ISAKMP_HDR_LEN, ISAKMP_HDR_LEN, fl);
	}
	if (size >= ISAKMP_HDR_LEN + ISAKMP_GEN_LEN)
		fuzz_bodies(data + ISAKMP_HDR_LEN + ISAKMP_GEN_LEN,
			    size - ISAKMP_HDR_LEN - ISAKMP_GEN_LEN);
	return 0;
}
