/*
 * IKEv1 Informational exchanges (RFC 2409 5.7): Notify and Delete, under
 * HASH(1) = prf(SKEYID_a, M-ID | N/D) once phase 1 has keys, in the clear
 * before; Dead Peer Detection (RFC 3706) with R-U-THERE / R-U-THERE-ACK;
 * deleting IPsec SA pairs.
 */
#include "ike_int.h"
#include "ip4.h"
#include "log.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#define IKE_DPD_MAX_MISSED 3

/* HDR*, HASH(1), N or D: one payload after the hash, built by the caller's function. */
static void ike_info_send(struct ike_sa *sa, const struct isakmp_notify *n,
			  const struct isakmp_delete *d)
{
	uint8_t chain[IKE_MSG_MAX], out[IKE_MSG_MAX], iv[IKE_BLOCK], mid[4], *hash;
	struct isakmp_builder bld;
	struct buf b;
	uint32_t msgid;
	size_t len, olen;

	ike_random(&msgid, sizeof(msgid));
	msgid |= 1; /* never 0: that is phase 1 */
	buf_init_write(&b, chain, sizeof(chain) - IKE_BLOCK);
	isakmp_build_init(&bld, &b, NULL);
	isakmp_put_reserve(&bld, ISAKMP_PL_HASH, sa->keys.hash_len, &hash);
	size_t after = buf_used(&b);
	if (n != NULL)
		isakmp_put_notify(&bld, n);
	else
		isakmp_put_delete(&bld, d);
	if (isakmp_build_finish(&bld, &len) != ISAKMP_OK)
		return;
	uint32_t nm = htonl(msgid);
	memcpy(mid, &nm, 4);
	struct ike_chunk c[] = {IKE_CHUNK(mid, 4), IKE_CHUNK(chain + after, len - after)};
	if (ike_prf_a(sa, c, 2, hash) < 0 ||
	    ike_iv_phase2(sa->keys.hash, sa->p1_last, msgid, iv) < 0 ||
	    ike_seal(sa, ISAKMP_EXCH_INFO, msgid, ISAKMP_PL_HASH, chain, len, iv, out, &olen) < 0)
		return;
	/* Informational exchanges are not acknowledged: send once, keep nothing. */
	struct ike_xmit tmp;
	memset(&tmp, 0, sizeof(tmp));
	ike_xmit_init(sa, &tmp);
	ike_send(sa, &tmp, out, olen, false);
	ike_xmit_free(sa, &tmp);
}

void ike_notify_send(struct ike_sa *sa, uint16_t type, uint8_t proto, const uint8_t *spi,
		     size_t spi_len, const uint8_t *data, size_t data_len)
{
	struct isakmp_notify n = {.doi = ISAKMP_DOI_IPSEC,
				  .proto = proto,
				  .type = type,
				  .data = data,
				  .data_len = data_len};

	if (spi_len > sizeof(n.spi))
		return;
	n.spi_size = (uint8_t)spi_len;
	if (spi_len > 0)
		memcpy(n.spi, spi, spi_len);
	sa->eng->ctr.notify_sent++;
	if (!sa->have_keys || sa->state != IKE_ESTABLISHED) {
		struct isakmp_hdr h = {.exchange = ISAKMP_EXCH_INFO};
		memcpy(h.icookie, sa->icookie, 8);
		memcpy(h.rcookie, sa->rcookie, 8);
		ike_notify_plain(sa->eng, &h, sa->local, sa->local_port, sa->peer, sa->peer_port,
				 type);
		return;
	}
	ike_info_send(sa, &n, NULL);
}

void ike_notify_plain(struct ike_engine *eng, const struct isakmp_hdr *rh, struct in_addr local,
		      uint16_t lport, struct in_addr peer, uint16_t pport, uint16_t type)
{
	struct isakmp_hdr h = {.exchange = ISAKMP_EXCH_INFO};
	struct isakmp_notify n = {
		.doi = ISAKMP_DOI_IPSEC, .proto = ISAKMP_PROTO_ISAKMP, .type = type};
	uint8_t out[256 + IKE_MARKER_LEN];
	struct isakmp_builder bld;
	struct buf b;
	size_t len, off = lport == ISAKMP_NATT_PORT ? IKE_MARKER_LEN : 0;

	/* Never become an amplifier for forged sources: a few a second at most. */
	if (!log_ratelimit_take(&eng->notify_budget))
		return;
	memcpy(h.icookie, rh->icookie, 8);
	memcpy(h.rcookie, rh->rcookie, 8);
	memset(out, 0, off);
	buf_init_write(&b, out + off, sizeof(out) - off);
	isakmp_build_init(&bld, &b, &h);
	isakmp_put_notify(&bld, &n);
	if (isakmp_build_finish(&bld, &len) != ISAKMP_OK)
		return;
	eng->ctr.notify_sent++;
	eng->ctr.tx_messages++;
	eng->ops.send(eng->ops.arg, local, lport, peer, pport, out, len + off);
}

void ike_delete_send(struct ike_sa *sa, uint8_t proto, const uint8_t *spi, size_t spi_len)
{
	uint8_t cookies[16];
	struct isakmp_delete d = {.doi = ISAKMP_DOI_IPSEC, .proto = proto, .nspi = 1};

	if (!sa->have_keys || sa->state != IKE_ESTABLISHED)
		return;
	if (proto == ISAKMP_PROTO_ISAKMP) {
		memcpy(cookies, sa->icookie, 8);
		memcpy(cookies + 8, sa->rcookie, 8);
		spi = cookies;
		spi_len = 16;
	}
	d.spi_size = (uint8_t)spi_len;
	d.spis = spi;
	sa->eng->ctr.deletes_sent++;
	ike_info_send(sa, NULL, &d);
}

/* ---- IPsec SA pairs ---- */

bool ike_peer_has_children(struct ike_engine *eng, struct in_addr peer)
{
	for (struct ike_child *c = ike_child_first_of(eng, peer); c != NULL; c = c->peer_next)
		if (!c->rekeyed)
			return true;
	return false;
}

static void ike_child_remove(struct ike_engine *eng, struct ike_child *c, const char *why)
{
	ike_child_unlink(eng, c);
	ev_timer_stop(eng->loop, &c->rekey);
	ev_timer_stop(eng->loop, &c->expiry);
	ike_spi_free(eng, c->spi_in);
	eng->ctr.children_deleted++;
	log_info("IPsec SA pair with %s down: %s; peer=%s spi_in=%08x spi_out=%08x",
		 IP4_STR(c->peer), why, IP4_STR(c->peer), c->spi_in, c->spi_out);
	if (eng->ops.child_down)
		eng->ops.child_down(eng->ops.arg, c, why);
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

void ike_child_forget(struct ike_engine *eng, struct ike_child *c, const char *why)
{
	ike_child_remove(eng, c, why);
}

void ike_child_delete(struct ike_engine *eng, struct ike_child *c, const char *why)
{
	struct ike_sa *sa = c->ike != NULL && c->ike->state == IKE_ESTABLISHED
				    ? c->ike
				    : ike_sa_find_peer(eng, c->peer);
	uint32_t spi = htonl(c->spi_in);

	/* RFC 2408 3.15: we name the SPI the peer sends with, our inbound one. */
	if (sa != NULL)
		ike_delete_send(sa, ISAKMP_PROTO_IPSEC_ESP, (const uint8_t *)&spi, 4);
	ike_child_remove(eng, c, why);
}

void ike_child_bytes(struct ike_engine *eng, struct ike_child *c, uint64_t bytes)
{
	c->bytes += bytes;
	if (c->lifetime_kb == 0 || c->bytes / 1024 < c->lifetime_kb)
		return;
	if (c->initiator && !c->rekeyed) {
		struct ike_sa *sa = ike_sa_find_peer(eng, c->peer);
		if (sa != NULL) {
			c->rekeyed = true;
			eng->ctr.rekeys++;
			ike_qm_start(sa, c);
			return;
		}
	}
	if (c->bytes / 1024 >= c->lifetime_kb + c->lifetime_kb / 10)
		ike_child_delete(eng, c, "volume lifetime ended");
}

/* ---- input ---- */

static void ike_info_delete(struct ike_sa *sa, const struct isakmp_delete *d)
{
	struct ike_engine *eng = sa->eng;

	eng->ctr.deletes_received++;
	if (d->proto == ISAKMP_PROTO_ISAKMP) {
		/* The SPI is the cookie pair of the SA to delete: this one, or another. */
		for (size_t i = 0; i < d->nspi && d->spi_size == 16; i++) {
			const uint8_t *ck = isakmp_delete_spi(d, i);
			for (struct ike_sa *o = ike_sa_first_of(eng, sa->peer); o != NULL;
			     o = o->peer_next)
				if (memcmp(ck, o->icookie, 8) == 0 &&
				    memcmp(ck + 8, o->rcookie, 8) == 0) {
					log_info("ISAKMP SA with %s deleted by the peer",
						 IP4_STR(sa->peer));
					ike_sa_destroy(o, "deleted by the peer");
					break;
				}
		}
		return;
	}
	if (d->proto != ISAKMP_PROTO_IPSEC_ESP || d->spi_size != 4)
		return;
	for (size_t i = 0; i < d->nspi; i++) {
		uint32_t spi;
		memcpy(&spi, isakmp_delete_spi(d, i), 4);
		spi = ntohl(spi);
		/* The peer names its inbound SPI: our outbound one. */
		for (struct ike_child *c = ike_child_first_of(eng, sa->peer); c != NULL;
		     c = c->peer_next)
			if (c->spi_out == spi) {
				ike_child_remove(eng, c, "deleted by the peer");
				break;
			}
	}
}

static void ike_info_notify(struct ike_sa *sa, const struct isakmp_notify *n, bool protected)
{
	struct ike_engine *eng = sa->eng;
	uint32_t seq;

	eng->ctr.notify_received++;
	if (protected && n->type == ISAKMP_N_R_U_THERE && isakmp_dpd_seq(n, &seq)) {
		uint8_t data[4] = {(uint8_t)(seq >> 24), (uint8_t)(seq >> 16), (uint8_t)(seq >> 8),
				   (uint8_t)seq};
		uint8_t cookies[16];
		memcpy(cookies, sa->icookie, 8);
		memcpy(cookies + 8, sa->rcookie, 8);
		ike_notify_send(sa, ISAKMP_N_R_U_THERE_ACK, ISAKMP_PROTO_ISAKMP, cookies, 16, data,
				4);
		return;
	}
	if (protected && n->type == ISAKMP_N_R_U_THERE_ACK && isakmp_dpd_seq(n, &seq)) {
		/* Only the answer to the last R-U-THERE: a replayed old one proves nothing. */
		if (seq != sa->dpd_seq || sa->dpd_outstanding == 0) {
			eng->ctr.drop_dpd_seq++;
			return;
		}
		eng->ctr.dpd_acked++;
		sa->dpd_outstanding = 0;
		return;
	}
	log_rl_notice("%s notify %s from %s", protected ? "protected" : "unprotected",
		      isakmp_notify_name(n->type), IP4_STR(sa->peer));
	/*
	 * An unprotected error can be forged by anyone on the path: it may end
	 * a negotiation only before there are keys that could have protected it.
	 */
	if (isakmp_notify_is_error(n->type) && sa->state != IKE_ESTABLISHED &&
	    (protected || !sa->have_keys))
		ike_sa_fail(sa, isakmp_notify_name(n->type));
}

void ike_info_input(struct ike_sa *sa, uint8_t *msg, size_t len)
{
	struct ike_engine *eng = sa->eng;
	bool protected = (msg[19] & ISAKMP_FLAG_E) != 0;
	uint32_t msgid = (uint32_t)msg[20] << 24 | (uint32_t)msg[21] << 16 |
			 (uint32_t)msg[22] << 8 | msg[23];
	uint8_t iv[IKE_BLOCK], next_iv[IKE_BLOCK], want[IKE_MAX_HASH], mid[4];
	struct isakmp_chain c;
	struct isakmp_data h;
	const uint8_t *after;
	size_t after_len;

	if (!protected) {
		if (isakmp_chain_parse(msg[16], msg + ISAKMP_HDR_LEN, len - ISAKMP_HDR_LEN,
				       ISAKMP_HDR_LEN, 0, &c, NULL) != ISAKMP_OK) {
			eng->ctr.drop_malformed++;
			return;
		}
	} else if (ike_iv_phase2(sa->keys.hash, sa->p1_last, msgid, iv) < 0 ||
		   ike_open_chain(sa, msg, len, iv, next_iv, &c) < 0) {
		log_rl_notice("Informational from %s: cannot decrypt", IP4_STR(sa->peer));
		return;
	} else if (c.n < 2 || c.pl[0].type != ISAKMP_PL_HASH ||
		   isakmp_data_parse(&c.pl[0], &h, NULL) != ISAKMP_OK ||
		   isakmp_chain_after(&c, 0, &after, &after_len) < 0) {
		eng->ctr.drop_malformed++;
		log_rl_notice("Informational from %s: no HASH(1) first", IP4_STR(sa->peer));
		return;
	} else {
		uint32_t nm = htonl(msgid);
		memcpy(mid, &nm, 4);
		struct ike_chunk ch[] = {IKE_CHUNK(mid, 4), IKE_CHUNK(after, after_len)};
		if (ike_prf_a(sa, ch, 2, want) < 0 || h.len != sa->keys.hash_len ||
		    CRYPTO_memcmp(h.p, want, h.len) != 0) {
			eng->ctr.drop_bad_hash++;
			log_rl_notice("Informational from %s: bad HASH(1)", IP4_STR(sa->peer));
			return;
		}
		ike_sa_float(sa);
	}
	for (size_t i = 0; i < c.n; i++) {
		struct isakmp_notify n;
		struct isakmp_delete d;
		if (c.pl[i].type == ISAKMP_PL_N &&
		    isakmp_notify_parse(&c.pl[i], &n, NULL) == ISAKMP_OK)
			ike_info_notify(sa, &n, protected);
		else if (protected && c.pl[i].type == ISAKMP_PL_D &&
			 isakmp_delete_parse(&c.pl[i], &d, NULL) == ISAKMP_OK) {
			ike_info_delete(sa, &d);
			return; /* sa may be gone */
		}
	}
}

/* ---- DPD ---- */

static void ike_on_dpd(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct ike_sa *sa = arg;
	struct ike_engine *eng = sa->eng;
	uint8_t cookies[16], data[4];

	if (sa->state != IKE_ESTABLISHED)
		return;
	if (sa->dpd_outstanding >= IKE_DPD_MAX_MISSED) {
		log_notice("peer %s is dead: %u R-U-THERE unanswered", IP4_STR(sa->peer),
			   sa->dpd_outstanding);
		ike_peer_delete(eng, sa->peer, "dead peer");
		return;
	}
	sa->dpd_seq++;
	sa->dpd_outstanding++;
	data[0] = (uint8_t)(sa->dpd_seq >> 24);
	data[1] = (uint8_t)(sa->dpd_seq >> 16);
	data[2] = (uint8_t)(sa->dpd_seq >> 8);
	data[3] = (uint8_t)sa->dpd_seq;
	memcpy(cookies, sa->icookie, 8);
	memcpy(cookies + 8, sa->rcookie, 8);
	eng->ctr.dpd_sent++;
	ike_notify_send(sa, ISAKMP_N_R_U_THERE, ISAKMP_PROTO_ISAKMP, cookies, 16, data, 4);
	ev_timer_start(loop, t, (uint64_t)eng->cfg.dpd_interval_s * 1000);
}

void ike_dpd_start(struct ike_sa *sa)
{
	if (sa->eng->cfg.dpd_interval_s == 0 || !sa->dpd)
		return;
	ike_random(&sa->dpd_seq, sizeof(sa->dpd_seq));
	sa->dpd_seq &= 0x7fffffff;
	sa->dpd_timer.cb = ike_on_dpd;
	sa->dpd_timer.arg = sa;
	ev_timer_start(sa->eng->loop, &sa->dpd_timer, (uint64_t)sa->eng->cfg.dpd_interval_s * 1000);
}
