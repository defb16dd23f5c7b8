#include "agent_harness.h"
#include "ha.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct in_addr ah_ip(const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1) {
		fprintf(stderr, "agent_harness: bad address %s\n", s);
		abort();
	}
	return a;
}

struct mip_key ah_key(uint32_t spi, uint8_t seed)
{
	struct mip_key k = {.spi = spi, .len = 16};

	for (size_t i = 0; i < k.len; i++)
		k.key[i] = (uint8_t)(seed + i);
	return k;
}

void ah_ha_nodes(struct ha_mn *mns)
{
	const char *nai[] = {AH_NAI_ALICE, NULL, AH_NAI_CAROL};
	const char *home[] = {AH_ALICE, AH_BOB, AH_CAROL};
	const uint32_t spi[] = {AH_SPI_ALICE, AH_SPI_BOB, AH_SPI_CAROL};
	const uint8_t seed[] = {AH_SEED_ALICE, AH_SEED_BOB, AH_SEED_CAROL};

	memset(mns, 0, 3 * sizeof(*mns));
	for (size_t i = 0; i < 3; i++) {
		if (nai[i] != NULL) {
			strcpy(mns[i].nai, nai[i]);
			mns[i].nai_len = strlen(nai[i]);
		}
		mns[i].home_addr = ah_ip(home[i]);
		mns[i].key = ah_key(spi[i], seed[i]);
	}
}

static int ah_put_auth(struct buf *b, uint8_t type, const struct mip_key *k, uint32_t spi,
		       bool corrupt)
{
	if (mip_ext_put_auth(b, type, spi != 0 ? spi : k->spi, k->key, k->len) < 0)
		return -1;
	if (corrupt) {
		uint8_t *p;
		if (buf_wptr_at(b, buf_used(b) - 1, 1, &p) != BUF_OK)
			return -1;
		*p ^= 0x01;
	}
	return 0;
}

/* A two-byte extension of type t (for the unknown-extension tests). */
static int ah_put_ext(struct buf *b, uint8_t t)
{
	return buf_put_u8(b, t) || buf_put_u8(b, 2) || buf_put_u8(b, 0xab) || buf_put_u8(b, 0xcd)
		       ? -1
		       : 0;
}

static int ah_put_nai(struct buf *b, const char *nai)
{
	return mip_ext_put_nai(b, nai, strlen(nai));
}

size_t ah_build_request(const struct ah_req *r, uint8_t *out, size_t cap)
{
	struct mip_reg_request rq = {.flags = r->flags,
				     .lifetime = r->lifetime,
				     .home_addr = r->home_addr,
				     .home_agent = r->home_agent,
				     .coa = r->coa,
				     .id = r->id};
	struct buf b;

	buf_init_write(&b, out, cap);
	if (mip_request_put(&b, &rq) < 0 ||
	    (r->nai != NULL && !r->nai_after_mn_ha && ah_put_nai(&b, r->nai) < 0) ||
	    (r->pre_ext != 0 && ah_put_ext(&b, r->pre_ext) < 0) ||
	    (r->mn_ha != NULL &&
	     ah_put_auth(&b, MIP_EXT_MN_HA_AUTH, r->mn_ha, r->mn_ha_spi, r->mn_ha_corrupt) < 0) ||
	    (r->nai != NULL && r->nai_after_mn_ha && ah_put_nai(&b, r->nai) < 0) ||
	    (r->encap_delivery && mip_ext_put_encap_delivery(&b) < 0) ||
	    (r->mn_fa != NULL &&
	     ah_put_auth(&b, MIP_EXT_MN_FA_AUTH, r->mn_fa, 0, r->mn_fa_corrupt) < 0) ||
	    (r->post_ext != 0 && ah_put_ext(&b, r->post_ext) < 0) ||
	    (r->fa_ha != NULL &&
	     ah_put_auth(&b, MIP_EXT_FA_HA_AUTH, r->fa_ha, r->fa_ha_spi, r->fa_ha_corrupt) < 0)) {
		fprintf(stderr, "agent_harness: request does not fit\n");
		abort();
	}
	return buf_used(&b);
}

size_t ah_build_reply(const struct ah_rep *r, uint8_t *out, size_t cap)
{
	struct mip_reg_reply rp = {.code = r->code,
				   .lifetime = r->lifetime,
				   .home_addr = r->home_addr,
				   .home_agent = r->home_agent,
				   .id = r->id};
	struct buf b;

	buf_init_write(&b, out, cap);
	if (mip_reply_put(&b, &rp) < 0 || (r->nai != NULL && ah_put_nai(&b, r->nai) < 0) ||
	    (r->mn_ha != NULL &&
	     ah_put_auth(&b, MIP_EXT_MN_HA_AUTH, r->mn_ha, r->mn_ha_spi, r->mn_ha_corrupt) < 0) ||
	    (r->fa_ha != NULL &&
	     ah_put_auth(&b, MIP_EXT_FA_HA_AUTH, r->fa_ha, r->fa_ha_spi, r->fa_ha_corrupt) < 0) ||
	    (r->bad_ext &&
	     (buf_put_u8(&b, MIP_EXT_ENCAP_DELIVERY) || buf_put_u8(&b, 1) || buf_put_u8(&b, 0)))) {
		fprintf(stderr, "agent_harness: reply does not fit\n");
		abort();
	}
	return buf_used(&b);
}

#define AH_REPLY_FIXED 20

enum mip_perr ah_reply_parse_any_order(const uint8_t *msg, size_t len, struct mip_reg_reply *rp)
{
	enum mip_perr e = mip_reply_parse(msg, len, rp);
	size_t off = AH_REPLY_FIXED;

	if (e != MIP_PERR_EXT_ORDER)
		return e;
	if (mip_reply_parse(msg, AH_REPLY_FIXED, rp) != MIP_PERR_OK)
		return e;
	while (off < len) {
		struct mip_auth_ext *a = NULL;
		size_t l, end;

		if (len - off < 2)
			return MIP_PERR_TRUNCATED;
		l = msg[off + 1];
		end = off + 2 + l;
		if (end > len)
			return MIP_PERR_TRUNCATED;
		switch (msg[off]) {
		case MIP_EXT_MN_HA_AUTH:
			a = &rp->ext.mn_ha;
			break;
		case MIP_EXT_MN_FA_AUTH:
			a = &rp->ext.mn_fa;
			break;
		case MIP_EXT_FA_HA_AUTH:
			a = &rp->ext.fa_ha;
			break;
		case MIP_EXT_NAI:
			rp->ext.nai = msg + off + 2;
			rp->ext.nai_len = l;
			break;
		default:
			break;
		}
		if (a != NULL) {
			if (l < 4 || a->present)
				return MIP_PERR_BAD_EXT;
			a->present = true;
			a->spi = (uint32_t)msg[off + 2] << 24 | (uint32_t)msg[off + 3] << 16 |
				 (uint32_t)msg[off + 4] << 8 | msg[off + 5];
			a->auth = msg + off + 6;
			a->auth_len = l - 4;
			a->offset = off;
			a->covered_len = off + 6;
			a->end = end;
		}
		off = end;
	}
	return MIP_PERR_OK;
}

void ah_cap_reset(struct ah_cap *c)
{
	c->n = 0;
	c->lost = 0;
	c->stopped = 0;
}

static void ah_cap_add(struct ah_cap *c, enum ah_kind k, const uint8_t *mac, struct in_addr to,
		       const uint8_t *d, size_t len)
{
	if (c->n >= AH_CAP_MAX || len > AH_PKT_MAX) {
		c->lost++;
		return;
	}
	struct ah_pkt *p = &c->p[c->n++];
	p->kind = k;
	memset(p->mac, 0, sizeof(p->mac));
	if (mac != NULL)
		memcpy(p->mac, mac, 6);
	p->to = to;
	p->len = len;
	memcpy(p->d, d, len);
}

size_t ah_cap_count(const struct ah_cap *c, enum ah_kind k)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n; i++)
		n += c->p[i].kind == k;
	return n;
}

const struct ah_pkt *ah_cap_nth(const struct ah_cap *c, enum ah_kind k, size_t i)
{
	for (size_t j = 0; j < c->n; j++)
		if (c->p[j].kind == k && i-- == 0)
			return &c->p[j];
	return NULL;
}

const struct ah_pkt *ah_cap_last(const struct ah_cap *c, enum ah_kind k)
{
	for (size_t j = c->n; j > 0; j--)
		if (c->p[j - 1].kind == k)
			return &c->p[j - 1];
	return NULL;
}

void ah_on_link(void *arg, const uint8_t mac[6], const uint8_t *pkt, size_t len)
{
	ah_cap_add(arg, AH_LINK, mac, (struct in_addr){0}, pkt, len);
}

void ah_on_ha(void *arg, struct in_addr ha, const uint8_t *msg, size_t len)
{
	ah_cap_add(arg, AH_HA_MSG, NULL, ha, msg, len);
}

void ah_on_tunnel(void *arg, const uint8_t *pkt, size_t len)
{
	ah_cap_add(arg, AH_TUNNEL, NULL, (struct in_addr){0}, pkt, len);
}

void ah_on_forward(void *arg, const uint8_t *pkt, size_t len)
{
	ah_cap_add(arg, AH_FORWARD, NULL, (struct in_addr){0}, pkt, len);
}

void ah_on_stopped(void *arg)
{
	struct ah_cap *c = arg;

	c->stopped++;
}

size_t ah_udp_wrap(struct in_addr src, struct in_addr dst, uint16_t sport, uint16_t dport,
		   const uint8_t *msg, size_t len, uint8_t *out, size_t cap)
{
	struct buf b;

	buf_init_write(&b, out, cap);
	if (ip4_udp_put(&b, src, dst, sport, dport, 64, msg, len) < 0) {
		fprintf(stderr, "agent_harness: UDP packet does not fit\n");
		abort();
	}
	return buf_used(&b);
}

bool ah_udp_unwrap(const uint8_t *pkt, size_t len, struct ah_udp *u)
{
	struct buf p;

	if (ip4_udp_parse(pkt, len, &u->ip, &u->sport, &u->dport, &p) != IP4_OK)
		return false;
	u->msg = buf_rptr(&p);
	u->len = buf_left(&p);
	return true;
}

size_t ah_data_packet(struct in_addr src, struct in_addr dst, uint8_t tos, uint16_t frag,
		      uint8_t ttl, uint16_t ip_id, size_t plen, uint8_t *out, size_t cap)
{
	struct ip4_hdr h = {.tos = tos,
			    .total_len = (uint16_t)(IP4_HDR_LEN + plen),
			    .id = ip_id,
			    .frag = frag,
			    .ttl = ttl,
			    .proto = 253,
			    .src = src,
			    .dst = dst};
	struct buf b;

	buf_init_write(&b, out, cap);
	if (ip4_put_header(&b, &h) < 0) {
		fprintf(stderr, "agent_harness: data packet does not fit\n");
		abort();
	}
	for (size_t i = 0; i < plen; i++)
		if (buf_put_u8(&b, (uint8_t)(i * 7 + 3)) != BUF_OK)
			abort();
	return buf_used(&b);
}

bool ah_frag_needed(const uint8_t *pkt, size_t len, struct ah_frag_needed *f)
{
	struct ip4_hdr h;
	struct buf icmp;
	const uint8_t *m;

	if (ip4_parse(pkt, len, &h, &icmp) != IP4_OK || h.proto != IP4_PROTO_ICMP ||
	    buf_left(&icmp) < 8)
		return false;
	m = buf_rptr(&icmp);
	if (m[0] != 3 || m[1] != 4 || inet_cksum(m, buf_left(&icmp)) != 0)
		return false;
	f->src = h.src;
	f->dst = h.dst;
	f->mtu = (uint16_t)(m[6] << 8 | m[7]);
	f->quote = m + 8;
	f->quote_len = buf_left(&icmp) - 8;
	return true;
}

uint64_t ah_sum_u64(const void *counters, size_t size)
{
	const uint64_t *c = counters;
	uint64_t s = 0;

	for (size_t i = 0; i < size / sizeof(uint64_t); i++)
		s += c[i];
	return s;
}
