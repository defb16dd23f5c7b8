/*
 * IKEv1 Quick Mode (RFC 2409 5.5), with or without PFS:
 *
 *   Initiator                               Responder
 *   HDR*, HASH(1), SA, Ni, [KE], IDci, IDcr ->
 *                          <- HDR*, HASH(2), SA, Nr, [KE], IDci, IDcr [, N(RESPONDER-LIFETIME)]
 *   HDR*, HASH(3)                           ->
 *
 *   HASH(1) = prf(SKEYID_a, M-ID | everything after HASH(1))
 *   HASH(2) = prf(SKEYID_a, M-ID | Ni_b | everything after HASH(2))
 *   HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b)
 *
 * Each exchange has its own IV: hash(last phase-1 block | M-ID), then the
 * last ciphertext block of the previous message of the same exchange.
 */
#include "ike_int.h"
#include "ip4.h"
#include "log.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

static void ike_qm_reap(struct ev_loop *loop, struct ev_timer *t, void *arg);
static void ike_qm_finish(struct ike_qm *qm, const char *why);

struct ike_qm *ike_qm_find(struct ike_sa *sa, uint32_t msgid)
{
	for (struct ike_qm *qm = sa->qms; qm != NULL; qm = qm->next)
		if (qm->msgid == msgid)
			return qm;
	return NULL;
}

void ike_qm_free(struct ike_qm *qm)
{
	struct ike_engine *eng = qm->sa->eng;

	ike_xmit_free(qm->sa, &qm->x);
	ev_timer_stop(eng->loop, &qm->reap);
	ike_dh_free(&qm->dh);
	/* An inbound SPI we allocated but never handed out as a child is free again. */
	if (qm->state != IKE_QM_DONE && qm->spi_in != 0)
		ike_spi_free(eng, qm->spi_in);
	OPENSSL_cleanse(qm, sizeof(*qm));
	free(qm);
}

static struct ike_qm *ike_qm_new(struct ike_sa *sa, uint32_t msgid, bool initiator)
{
	struct ike_qm *qm = calloc(1, sizeof(*qm));

	if (qm == NULL) {
		log_rl_err("Quick Mode %08x: out of memory", msgid);
		return NULL;
	}
	qm->sa = sa;
	qm->msgid = msgid;
	qm->initiator = initiator;
	/* ike_sa.c's retransmission callback finds the Quick Mode from the timer. */
	ike_xmit_init(sa, &qm->x);
	ev_timer_init(&qm->reap, ike_qm_reap, qm);
	ike_iv_phase2(sa->keys.hash, sa->p1_last, msgid, qm->iv);
	qm->next = sa->qms;
	sa->qms = qm;
	return qm;
}

static void ike_qm_unlink(struct ike_qm *qm)
{
	for (struct ike_qm **pp = &qm->sa->qms; *pp != NULL; pp = &(*pp)->next)
		if (*pp == qm) {
			*pp = qm->next;
			return;
		}
}

static void ike_qm_reap(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct ike_qm *qm = arg;

	ike_qm_unlink(qm);
	ike_qm_free(qm);
}

void ike_qm_give_up(struct ike_qm *qm)
{
	/*
	 * A responder that never had a valid HASH(3): the initiator installed
	 * its pair on HASH(2) (RFC 2409 5.5, no commit bit) and may be sending
	 * with it into nothing.  Ask it to delete that pair, named by our
	 * inbound SPI, as ike_child_delete() does.
	 */
	if (!qm->initiator && qm->state == IKE_QM_R2 && qm->spi_in != 0) {
		uint32_t spi = htonl(qm->spi_in);
		ike_delete_send(qm->sa, ISAKMP_PROTO_IPSEC_ESP, (const uint8_t *)&spi, 4);
	}
	/* No pair came of it: its inbound SPI is free again. */
	if (qm->spi_in != 0)
		ike_spi_free(qm->sa->eng, qm->spi_in);
	qm->spi_in = 0;
	ike_qm_finish(qm, "no answer, giving up");
}

static const char *ike_qm_state_name(enum ike_qm_state st)
{
	switch (st) {
	case IKE_QM_I1:
		return "QM-I1";
	case IKE_QM_R2:
		return "QM-R2";
	case IKE_QM_DONE:
		return "done";
	}
	return "?";
}

/* The one place a Quick Mode changes state. */
static void ike_qm_set_state(struct ike_qm *qm, enum ike_qm_state next, const char *why)
{
	log_info("Quick Mode %08x with %s: %s -> %s (%s)", qm->msgid, IP4_STR(qm->sa->peer),
		 ike_qm_state_name(qm->state), ike_qm_state_name(next), why);
	qm->state = next;
}

static void ike_qm_finish(struct ike_qm *qm, const char *why)
{
	ike_qm_set_state(qm, IKE_QM_DONE, why);
	ev_timer_start(qm->sa->eng->loop, &qm->reap, IKE_QM_KEEP_MS);
}

/* ---- proposals ---- */

static uint8_t ike_esp_id(enum esp_alg alg)
{
	return alg == ESP_ALG_AES_GCM_16 ? ISAKMP_ESP_AES_GCM_16 : ISAKMP_ESP_AES;
}

static uint16_t ike_esp_auth(enum esp_alg alg)
{
	switch (alg) {
	case ESP_ALG_AES_CBC_HMAC_SHA1_96:
		return ISAKMP_AUTH_HMAC_SHA1;
	case ESP_ALG_AES_CBC_HMAC_SHA256_128:
		return ISAKMP_AUTH_HMAC_SHA2_256;
	default:
		return 0;
	}
}

static size_t ike_esp_auth_len(enum esp_alg alg)
{
	switch (alg) {
	case ESP_ALG_AES_CBC_HMAC_SHA1_96:
		return 20;
	case ESP_ALG_AES_CBC_HMAC_SHA256_128:
		return 32;
	default:
		return 0;
	}
}

static uint16_t ike_qm_encap_mode(const struct ike_qm *qm)
{
	return qm->udp_encap ? ISAKMP_ENCAP_UDP_TUNNEL : ISAKMP_ENCAP_TUNNEL;
}

static void ike_p2_transform(const struct ike_qm *qm, const struct ike_p2_prop *p,
			     enum ike_group pfs, uint8_t num, struct isakmp_transform *t)
{
	uint16_t auth = ike_esp_auth(p->alg);

	memset(t, 0, sizeof(*t));
	t->num = num;
	t->id = ike_esp_id(p->alg);
	isakmp_attr_add(t, ISAKMP_IPSEC_LIFE_TYPE, ISAKMP_LIFE_SECONDS);
	isakmp_attr_add(t, ISAKMP_IPSEC_LIFE_DURATION, qm->lifetime_s);
	if (qm->lifetime_kb != 0) {
		isakmp_attr_add(t, ISAKMP_IPSEC_LIFE_TYPE, ISAKMP_LIFE_KILOBYTES);
		isakmp_attr_add(t, ISAKMP_IPSEC_LIFE_DURATION, qm->lifetime_kb);
	}
	if (pfs != 0)
		isakmp_attr_add(t, ISAKMP_IPSEC_GROUP, pfs);
	isakmp_attr_add(t, ISAKMP_IPSEC_ENCAP, qm->encap_mode);
	if (auth != 0)
		isakmp_attr_add(t, ISAKMP_IPSEC_AUTH, auth);
	isakmp_attr_add(t, ISAKMP_IPSEC_KEY_LEN, p->key_bits);
}

static int ike_qm_put_sa(struct ike_qm *qm, struct isakmp_builder *bld,
			 const struct ike_p2_prop *one, uint8_t one_num)
{
	const struct ike_config *cfg = &qm->sa->eng->cfg;
	struct isakmp_sa *s = calloc(1, sizeof(*s));
	uint32_t spi = htonl(qm->spi_in);
	int r;

	if (s == NULL)
		return -1;
	s->doi = ISAKMP_DOI_IPSEC;
	s->situation = ISAKMP_SIT_IDENTITY_ONLY;
	s->nprop = 1;
	s->prop[0].num = 1;
	s->prop[0].proto = ISAKMP_PROTO_IPSEC_ESP;
	s->prop[0].spi_size = 4;
	memcpy(s->prop[0].spi, &spi, 4);
	if (one != NULL) {
		s->prop[0].nxf = 1;
		ike_p2_transform(qm, one, qm->pfs ? cfg->pfs_group : 0, one_num, &s->prop[0].xf[0]);
	} else {
		s->prop[0].nxf = cfg->n_p2;
		for (size_t i = 0; i < cfg->n_p2; i++)
			ike_p2_transform(qm, &cfg->p2[i], cfg->pfs_group, (uint8_t)(i + 1),
					 &s->prop[0].xf[i]);
	}
	r = isakmp_put_sa(bld, s) == ISAKMP_OK ? 0 : -1;
	free(s);
	return r;
}

/* Life attributes come in (type, duration) pairs; take the seconds and kilobytes. */
static void ike_p2_lifetimes(const struct isakmp_transform *t, uint32_t *secs, uint32_t *kb)
{
	uint32_t type = ISAKMP_LIFE_SECONDS;

	*secs = 28800; /* RFC 2407 4.5: the default when none is given */
	*kb = 0;
	for (size_t i = 0; i < t->nattr; i++) {
		const struct isakmp_attr *a = &t->attr[i];
		if (a->type == ISAKMP_IPSEC_LIFE_TYPE && a->num)
			type = (uint32_t)a->u;
		else if (a->type == ISAKMP_IPSEC_LIFE_DURATION && a->num && a->u <= UINT32_MAX)
			*(type == ISAKMP_LIFE_KILOBYTES ? kb : secs) = (uint32_t)a->u;
	}
}

static int ike_p2_match(struct ike_qm *qm, const struct isakmp_transform *t)
{
	const struct ike_config *cfg = &qm->sa->eng->cfg;
	uint32_t auth = 0, bits = 128, group = 0, encap = ISAKMP_ENCAP_TUNNEL, secs, kb;

	isakmp_attr_get(t, ISAKMP_IPSEC_AUTH, &auth);
	isakmp_attr_get(t, ISAKMP_IPSEC_KEY_LEN, &bits);
	isakmp_attr_get(t, ISAKMP_IPSEC_GROUP, &group);
	isakmp_attr_get(t, ISAKMP_IPSEC_ENCAP, &encap);
	if (group != (uint32_t)cfg->pfs_group && !(qm->initiator && group == 0 && !qm->pfs))
		return -1;
	if (encap != ISAKMP_ENCAP_TUNNEL && encap != ISAKMP_ENCAP_UDP_TUNNEL &&
	    encap != ISAKMP_ENCAP_UDP_TUNNEL_DRAFT)
		return -1;
	for (size_t i = 0; i < cfg->n_p2; i++) {
		const struct ike_p2_prop *p = &cfg->p2[i];
		if (ike_esp_id(p->alg) == t->id && ike_esp_auth(p->alg) == auth &&
		    p->key_bits == bits) {
			qm->prop = *p;
			qm->udp_encap = encap != ISAKMP_ENCAP_TUNNEL;
			qm->encap_mode = (uint16_t)encap;
			ike_p2_lifetimes(t, &secs, &kb);
			qm->lifetime_s = secs < cfg->p2_lifetime_s ? secs : cfg->p2_lifetime_s;
			qm->lifetime_kb = kb;
			if (cfg->p2_lifetime_kb != 0 && (kb == 0 || kb > cfg->p2_lifetime_kb))
				qm->lifetime_kb = cfg->p2_lifetime_kb;
			qm->pfs = group != 0;
			return 0;
		}
	}
	return -1;
}

/* ---- identities (traffic selectors) ---- */

static void ike_ts_id(struct in_addr net, uint8_t plen, struct isakmp_id *id)
{
	memset(id, 0, sizeof(*id));
	if (plen == 32) {
		id->type = ISAKMP_ID_IPV4_ADDR;
		id->addr = net;
		return;
	}
	id->type = ISAKMP_ID_IPV4_ADDR_SUBNET;
	id->addr = net;
	id->mask.s_addr = plen == 0 ? 0 : htonl(~0u << (32 - plen));
}

static int ike_ts_take(const struct isakmp_pl *pl, struct in_addr *net, uint8_t *plen)
{
	struct isakmp_id id;
	int l;

	if (isakmp_id_parse(pl, &id, NULL) != ISAKMP_OK)
		return -1;
	if (id.type == ISAKMP_ID_IPV4_ADDR) {
		*net = id.addr;
		*plen = 32;
		return 0;
	}
	if (id.type != ISAKMP_ID_IPV4_ADDR_SUBNET || (l = isakmp_mask_plen(id.mask)) < 0)
		return -1;
	*net = id.addr;
	*plen = (uint8_t)l;
	return 0;
}

/* Is net/plen inside within/wplen? */
static bool ike_ts_within(struct in_addr net, uint8_t plen, struct in_addr within, uint8_t wplen)
{
	uint32_t m = wplen == 0 ? 0 : htonl(~0u << (32 - wplen));

	return plen >= wplen && (net.s_addr & m) == (within.s_addr & m);
}

/* ---- building and sending ---- */

/* Seal a Quick Mode message whose HASH payload (first) is filled by fill_hash. */
static int ike_qm_send(struct ike_qm *qm, uint8_t *chain, size_t len, uint8_t first, bool await)
{
	uint8_t out[IKE_MSG_MAX];
	size_t olen;

	if (ike_seal(qm->sa, ISAKMP_EXCH_QUICK, qm->msgid, first, chain, len, qm->iv, out, &olen) <
	    0)
		return -1;
	ike_send(qm->sa, &qm->x, out, olen, await);
	return 0;
}

/* HASH(1) or HASH(2) into the reserved HASH payload, over what follows it. */
static int ike_qm_hash12(struct ike_qm *qm, const uint8_t *after, size_t after_len, bool two,
			 uint8_t *out)
{
	uint8_t mid[4];
	uint32_t n = htonl(qm->msgid);

	memcpy(mid, &n, 4);
	struct ike_chunk c[] = {IKE_CHUNK(mid, 4), IKE_CHUNK(qm->ni, two ? qm->ni_len : 0),
				IKE_CHUNK(after, after_len)};
	return ike_prf_a(qm->sa, c, 3, out);
}

static int ike_qm_hash3(struct ike_qm *qm, uint8_t *out)
{
	uint8_t zero = 0, mid[4];
	uint32_t n = htonl(qm->msgid);

	memcpy(mid, &n, 4);
	struct ike_chunk c[] = {IKE_CHUNK(&zero, 1), IKE_CHUNK(mid, 4),
				IKE_CHUNK(qm->ni, qm->ni_len), IKE_CHUNK(qm->nr, qm->nr_len)};
	return ike_prf_a(qm->sa, c, 4, out);
}

/* Message 1 or 2: HASH, SA, nonce, [KE], IDci, IDcr [, RESPONDER-LIFETIME]. */
static int ike_qm_build(struct ike_qm *qm, uint8_t *chain, size_t cap, size_t *len, uint8_t *first,
			const struct ike_p2_prop *one, uint8_t one_num, uint32_t offered_life)
{
	struct ike_sa *sa = qm->sa;
	size_t hl = sa->keys.hash_len;
	struct isakmp_builder bld;
	struct isakmp_id idci, idcr;
	struct buf b;
	uint8_t *hash;
	bool two = !qm->initiator;

	buf_init_write(&b, chain, cap);
	isakmp_build_init(&bld, &b, NULL);
	isakmp_put_reserve(&bld, ISAKMP_PL_HASH, hl, &hash);
	size_t after = buf_used(&b);
	if (ike_qm_put_sa(qm, &bld, one, one_num) < 0)
		return -1;
	isakmp_put_data(&bld, ISAKMP_PL_NONCE, two ? qm->nr : qm->ni,
			two ? qm->nr_len : qm->ni_len);
	if (qm->pfs)
		isakmp_put_data(&bld, ISAKMP_PL_KE, qm->dh.pub, qm->dh.pub_len);
	/* IDci is the initiator's side, IDcr the responder's. */
	if (qm->initiator) {
		ike_ts_id(qm->local_net, qm->local_plen, &idci);
		ike_ts_id(qm->remote_net, qm->remote_plen, &idcr);
	} else {
		ike_ts_id(qm->remote_net, qm->remote_plen, &idci);
		ike_ts_id(qm->local_net, qm->local_plen, &idcr);
	}
	isakmp_put_id(&bld, &idci);
	isakmp_put_id(&bld, &idcr);
	if (two && offered_life > qm->lifetime_s) {
		/* RFC 2407 4.6.3.1: tell the initiator the lifetime we actually use. */
		struct isakmp_notify n = {.doi = ISAKMP_DOI_IPSEC,
					  .proto = ISAKMP_PROTO_IPSEC_ESP,
					  .spi_size = 4,
					  .type = ISAKMP_N_RESPONDER_LIFETIME};
		uint8_t data[16];
		struct buf bd;
		uint32_t spi = htonl(qm->spi_in);
		memcpy(n.spi, &spi, 4);
		buf_init_write(&bd, data, sizeof(data));
		buf_put_u16(&bd, 0x8000 | ISAKMP_IPSEC_LIFE_TYPE);
		buf_put_u16(&bd, ISAKMP_LIFE_SECONDS);
		buf_put_u16(&bd, ISAKMP_IPSEC_LIFE_DURATION);
		buf_put_u16(&bd, 4);
		buf_put_u32(&bd, qm->lifetime_s);
		n.data = data;
		n.data_len = buf_used(&bd);
		isakmp_put_notify(&bld, &n);
	}
	if (isakmp_build_finish(&bld, len) != ISAKMP_OK)
		return -1;
	*first = bld.first;
	return ike_qm_hash12(qm, chain + after, *len - after, two, hash);
}

void ike_qm_start(struct ike_sa *sa, struct ike_child *rekey_of)
{
	const struct ike_config *cfg = &sa->eng->cfg;
	const struct ike_peer *pc = sa->peer_cfg;
	uint8_t chain[IKE_MSG_MAX];
	uint32_t msgid;
	size_t len;
	uint8_t first;

	do {
		ike_random(&msgid, sizeof(msgid));
	} while (msgid == 0 || ike_qm_find(sa, msgid) != NULL);
	struct ike_qm *qm = ike_qm_new(sa, msgid, true);
	if (qm == NULL)
		return;
	qm->rekey_of = rekey_of;
	qm->spi_in = ike_spi_alloc(sa->eng);
	qm->lifetime_s = cfg->p2_lifetime_s;
	qm->lifetime_kb = cfg->p2_lifetime_kb;
	qm->udp_encap = sa->natt && (sa->nat_here || sa->nat_there);
	qm->encap_mode = ike_qm_encap_mode(qm);
	qm->local_net = pc->local_net;
	qm->local_plen = pc->local_plen;
	qm->remote_net = pc->remote_net;
	qm->remote_plen = pc->remote_plen;
	qm->ni_len = 32;
	ike_random(qm->ni, qm->ni_len);
	qm->pfs = cfg->pfs_group != 0;
	if ((qm->pfs && ike_dh_generate(&qm->dh, cfg->pfs_group) < 0) || qm->spi_in == 0 ||
	    ike_qm_build(qm, chain, sizeof(chain) - IKE_BLOCK, &len, &first, NULL, 0, 0) < 0 ||
	    ike_qm_send(qm, chain, len, first, true) < 0) {
		log_err("cannot start Quick Mode with %s", IP4_STR(sa->peer));
		ike_qm_unlink(qm);
		ike_qm_free(qm);
		return;
	}
	log_info("Quick Mode %08x with %s started%s", msgid, IP4_STR(sa->peer),
		 rekey_of ? " (rekey)" : "");
}

/* ---- children ---- */

int ike_child_rekey(struct ike_engine *eng, struct ike_child *c)
{
	struct ike_sa *sa = c->ike != NULL && c->ike->state == IKE_ESTABLISHED
				    ? c->ike
				    : ike_sa_find_peer(eng, c->peer);

	if (sa == NULL)
		return -1;
	if (c->rekeyed)
		return 0;
	eng->ctr.rekeys++;
	ike_qm_start(sa, c);
	return 0;
}

static void ike_child_on_rekey(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct ike_child *c = arg;

	ike_child_rekey(c->eng, c);
}

static void ike_child_on_expiry(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct ike_child *c = arg;

	ike_child_delete(c->eng, c, "lifetime ended");
}

void ike_child_schedule(struct ike_engine *eng, struct ike_child *c)
{
	uint32_t margin = eng->cfg.rekey_margin_s;

	ev_timer_init(&c->rekey, ike_child_on_rekey, c);
	ev_timer_init(&c->expiry, ike_child_on_expiry, c);
	ev_timer_start(eng->loop, &c->expiry, (uint64_t)c->lifetime_s * 1000);
	if (c->initiator && c->lifetime_s > margin)
		ev_timer_start(eng->loop, &c->rekey, (uint64_t)(c->lifetime_s - margin) * 1000);
}

/* KEYMAT for both directions (RFC 2409 5.5): each SA's keys come from its own SPI. */
static int ike_qm_child(struct ike_qm *qm)
{
	struct ike_sa *sa = qm->sa;
	struct ike_engine *eng = sa->eng;
	struct ike_child *c = calloc(1, sizeof(*c));
	uint8_t gxy[IKE_MAX_DH], km[2 * (ESP_MAX_KEY_LEN + ESP_GCM_SALT_LEN + ESP_MAX_AUTH_KEY)];
	size_t gxy_len = 0;

	if (c == NULL)
		return -1;
	c->alg = qm->prop.alg;
	c->enc_len = qm->prop.key_bits / 8 + (c->alg == ESP_ALG_AES_GCM_16 ? ESP_GCM_SALT_LEN : 0);
	c->auth_len = ike_esp_auth_len(c->alg);
	if ((qm->pfs && ike_dh_shared(&qm->dh, qm->peer_ke, qm->peer_ke_len, gxy, &gxy_len) < 0) ||
	    ike_keymat(&sa->keys, gxy, gxy_len, ISAKMP_PROTO_IPSEC_ESP, qm->spi_in, qm->ni,
		       qm->ni_len, qm->nr, qm->nr_len, km, c->enc_len + c->auth_len) < 0) {
		free(c);
		OPENSSL_cleanse(gxy, sizeof(gxy));
		return -1;
	}
	memcpy(c->enc_in, km, c->enc_len);
	memcpy(c->auth_in, km + c->enc_len, c->auth_len);
	if (ike_keymat(&sa->keys, gxy, gxy_len, ISAKMP_PROTO_IPSEC_ESP, qm->spi_out, qm->ni,
		       qm->ni_len, qm->nr, qm->nr_len, km, c->enc_len + c->auth_len) < 0) {
		OPENSSL_cleanse(c, sizeof(*c));
		free(c);
		OPENSSL_cleanse(gxy, sizeof(gxy));
		return -1;
	}
	memcpy(c->enc_out, km, c->enc_len);
	memcpy(c->auth_out, km + c->enc_len, c->auth_len);
	OPENSSL_cleanse(km, sizeof(km));
	OPENSSL_cleanse(gxy, sizeof(gxy));
	c->spi_in = qm->spi_in;
	c->spi_out = qm->spi_out;
	c->udp_encap = qm->udp_encap;
	c->local = sa->local;
	c->peer = sa->peer;
	c->local_port = sa->local_port;
	c->peer_port = sa->peer_port;
	c->local_net = qm->local_net;
	c->local_plen = qm->local_plen;
	c->remote_net = qm->remote_net;
	c->remote_plen = qm->remote_plen;
	c->lifetime_s = qm->lifetime_s;
	c->lifetime_kb = qm->lifetime_kb;
	c->up_ms = ev_loop_now_ms(eng->loop);
	c->initiator = qm->initiator;
	c->ike = sa;
	c->eng = eng;
	if (ike_child_link(eng, c) < 0) {
		OPENSSL_cleanse(c, sizeof(*c));
		free(c);
		return -1;
	}
	ike_child_schedule(eng, c);
	eng->ctr.children_established++;
	log_info("IPsec SA pair with %s up: %s %u, %s, lifetime %u s; peer=%s spi_in=%08x "
		 "spi_out=%08x",
		 IP4_STR(c->peer), esp_alg_name(c->alg), qm->prop.key_bits,
		 c->udp_encap ? "UDP-encapsulated" : "ESP", c->lifetime_s, IP4_STR(c->peer),
		 c->spi_in, c->spi_out);
	if (eng->ops.child_up)
		eng->ops.child_up(eng->ops.arg, c);
	if (qm->rekey_of != NULL) {
		/* The successor is up: the old pair goes, with a Delete to the peer. */
		for (struct ike_child *o = ike_child_first_of(eng, sa->peer); o != NULL;
		     o = o->peer_next)
			if (o == qm->rekey_of) {
				o->rekeyed = true;
				ike_child_delete(eng, o, "rekeyed");
				break;
			}
	}
	return 0;
}

/* ---- input ---- */

/* Decrypt with the exchange's IV, parse, check HASH(1)/(2); the chain on success. */
static int ike_qm_open(struct ike_qm *qm, uint8_t *msg, size_t len, struct isakmp_chain *c,
		       bool two)
{
	struct ike_sa *sa = qm->sa;
	uint8_t next_iv[IKE_BLOCK], want[IKE_MAX_HASH];
	struct isakmp_data h;
	const uint8_t *after;
	size_t after_len;

	if (ike_open_chain(sa, msg, len, qm->iv, next_iv, c) < 0)
		return -1;
	if (c->n < 1 || c->pl[0].type != ISAKMP_PL_HASH ||
	    isakmp_data_parse(&c->pl[0], &h, NULL) != ISAKMP_OK ||
	    isakmp_chain_after(c, 0, &after, &after_len) < 0) {
		sa->eng->ctr.drop_malformed++;
		return -1;
	}
	if (ike_qm_hash12(qm, after, after_len, two, want) < 0 || h.len != sa->keys.hash_len ||
	    CRYPTO_memcmp(h.p, want, h.len) != 0) {
		sa->eng->ctr.drop_bad_hash++;
		log_rl_notice("Quick Mode %08x from %s: HASH(%d) mismatch", qm->msgid,
			      IP4_STR(sa->peer), two ? 2 : 1);
		return -1;
	}
	memcpy(qm->iv, next_iv, IKE_BLOCK);
	ike_sa_float(sa);
	return 0;
}

/* The SA, nonce, KE and IDs of message 1 (responder) or 2 (initiator). */
static int ike_qm_take(struct ike_qm *qm, const struct isakmp_chain *c, uint8_t *chosen,
		       uint32_t *offered_life)
{
	struct isakmp_sa *s = calloc(1, sizeof(*s));
	struct isakmp_data n, ke;
	int r = -1;

	if (s == NULL)
		return -1;
	if (isakmp_sa_parse(isakmp_chain_find(c, ISAKMP_PL_SA, 0), s, NULL) != ISAKMP_OK ||
	    s->nprop < 1 || s->prop[0].proto != ISAKMP_PROTO_IPSEC_ESP ||
	    s->prop[0].spi_size != 4 ||
	    isakmp_data_parse(isakmp_chain_find(c, ISAKMP_PL_NONCE, 0), &n, NULL) != ISAKMP_OK ||
	    n.len > sizeof(qm->ni)) {
		qm->sa->eng->ctr.drop_malformed++;
		goto out;
	}
	qm->spi_out = isakmp_spi32(&s->prop[0]);
	/* A Transform # is an identifier: 0 is as good as any (RFC 2408 3.6). */
	const struct isakmp_transform *t = NULL;
	for (size_t i = 0; i < s->prop[0].nxf && t == NULL; i++)
		if (ike_p2_match(qm, &s->prop[0].xf[i]) == 0)
			t = &s->prop[0].xf[i];
	if (t == NULL || qm->spi_out < ESP_SPI_MIN) {
		qm->sa->eng->ctr.drop_no_proposal++;
		goto out;
	}
	uint32_t kb;
	*chosen = t->num;
	ike_p2_lifetimes(t, offered_life, &kb);
	if (qm->initiator) {
		memcpy(qm->nr, n.p, n.len);
		qm->nr_len = n.len;
	} else {
		memcpy(qm->ni, n.p, n.len);
		qm->ni_len = n.len;
	}
	if (qm->pfs) {
		if (isakmp_data_parse(isakmp_chain_find(c, ISAKMP_PL_KE, 0), &ke, NULL) !=
			    ISAKMP_OK ||
		    ke.len > sizeof(qm->peer_ke)) {
			qm->sa->eng->ctr.drop_malformed++;
			goto out;
		}
		memcpy(qm->peer_ke, ke.p, ke.len);
		qm->peer_ke_len = ke.len;
	}
	r = 0;
out:
	free(s);
	return r;
}

/* Responder: the traffic selectors must lie within what this peer may use. */
static int ike_qm_take_ts(struct ike_qm *qm, const struct isakmp_chain *c)
{
	const struct ike_peer *pc = qm->sa->peer_cfg;
	const struct isakmp_pl *ci = isakmp_chain_find(c, ISAKMP_PL_ID, 0);
	const struct isakmp_pl *cr = isakmp_chain_find(c, ISAKMP_PL_ID, 1);

	if (ci == NULL && cr == NULL) {
		/* RFC 2409 5.5: no IDs means the ISAKMP SA's own addresses. */
		qm->remote_net = qm->sa->peer;
		qm->remote_plen = 32;
		qm->local_net = qm->sa->local;
		qm->local_plen = 32;
	} else if (ci == NULL || cr == NULL ||
		   ike_ts_take(ci, &qm->remote_net, &qm->remote_plen) < 0 ||
		   ike_ts_take(cr, &qm->local_net, &qm->local_plen) < 0) {
		return -1;
	}
	if (!ike_ts_within(qm->remote_net, qm->remote_plen, pc->remote_net, pc->remote_plen) ||
	    !ike_ts_within(qm->local_net, qm->local_plen, pc->local_net, pc->local_plen)) {
		log_rl_notice("Quick Mode from %s: traffic selectors %s/%u === %s/%u not allowed",
			      IP4_STR(qm->sa->peer), IP4_STR(qm->remote_net), qm->remote_plen,
			      IP4_STR(qm->local_net), qm->local_plen);
		return -1;
	}
	return 0;
}

static void ike_qm_r1(struct ike_sa *sa, uint8_t *msg, size_t len, uint32_t msgid)
{
	const struct ike_config *cfg = &sa->eng->cfg;
	struct ike_qm *qm = ike_qm_new(sa, msgid, false);
	struct isakmp_chain c;
	uint8_t chain[IKE_MSG_MAX], first, chosen;
	uint32_t offered_life = 0;
	size_t clen;

	if (qm == NULL)
		return;
	qm->pfs = cfg->pfs_group != 0;
	if (ike_duplicate(sa, &qm->x, msg, len) || ike_qm_open(qm, msg, len, &c, false) < 0)
		goto fail;
	if (ike_qm_take(qm, &c, &chosen, &offered_life) < 0) {
		ike_notify_send(sa, ISAKMP_N_NO_PROPOSAL_CHOSEN, ISAKMP_PROTO_IPSEC_ESP, NULL, 0,
				NULL, 0);
		goto fail;
	}
	if (ike_qm_take_ts(qm, &c) < 0) {
		ike_notify_send(sa, ISAKMP_N_INVALID_ID_INFORMATION, ISAKMP_PROTO_IPSEC_ESP, NULL,
				0, NULL, 0);
		goto fail;
	}
	qm->spi_in = ike_spi_alloc(sa->eng);
	qm->nr_len = 32;
	ike_random(qm->nr, qm->nr_len);
	if (qm->spi_in == 0 || (qm->pfs && ike_dh_generate(&qm->dh, cfg->pfs_group) < 0) ||
	    ike_qm_build(qm, chain, sizeof(chain) - IKE_BLOCK, &clen, &first, &qm->prop, chosen,
			 offered_life) < 0 ||
	    ike_qm_send(qm, chain, clen, first, true) < 0)
		goto fail;
	ike_qm_set_state(qm, IKE_QM_R2, "proposal chosen");
	return;
fail:
	ike_qm_unlink(qm);
	ike_qm_free(qm);
}

/* RESPONDER-LIFETIME in message 2: adopt the shorter lifetime (RFC 2407 4.6.3.1). */
static void ike_qm_responder_lifetime(struct ike_qm *qm, const struct isakmp_chain *c)
{
	const struct isakmp_pl *pl;
	struct isakmp_notify n;

	for (size_t i = 0; (pl = isakmp_chain_find(c, ISAKMP_PL_N, i)) != NULL; i++) {
		struct buf b;
		uint16_t type, val;
		if (isakmp_notify_parse(pl, &n, NULL) != ISAKMP_OK ||
		    n.type != ISAKMP_N_RESPONDER_LIFETIME)
			continue;
		buf_init_read(&b, n.data, n.data_len);
		uint16_t life_type = ISAKMP_LIFE_SECONDS;
		while (buf_get_u16(&b, &type) == BUF_OK) {
			uint32_t v = 0;
			if (type & 0x8000) {
				if (buf_get_u16(&b, &val) != BUF_OK)
					break;
				v = val;
			} else {
				uint8_t bytes[8] = {0};
				if (buf_get_u16(&b, &val) != BUF_OK || val > 4 ||
				    buf_get_bytes(&b, bytes, val) != BUF_OK)
					break;
				for (unsigned k = 0; k < val; k++)
					v = v << 8 | bytes[k];
			}
			type &= 0x7fff;
			if (type == ISAKMP_IPSEC_LIFE_TYPE)
				life_type = (uint16_t)v;
			else if (type == ISAKMP_IPSEC_LIFE_DURATION &&
				 life_type == ISAKMP_LIFE_SECONDS && v != 0 && v < qm->lifetime_s)
				qm->lifetime_s = v;
			else if (type == ISAKMP_IPSEC_LIFE_DURATION &&
				 life_type == ISAKMP_LIFE_KILOBYTES && v != 0 &&
				 (qm->lifetime_kb == 0 || v < qm->lifetime_kb))
				qm->lifetime_kb = v;
		}
		log_info("Quick Mode %08x: responder lifetime %u s", qm->msgid, qm->lifetime_s);
	}
}

static void ike_qm_i2(struct ike_qm *qm, uint8_t *msg, size_t len)
{
	struct ike_sa *sa = qm->sa;
	struct isakmp_chain c;
	uint8_t chain[IKE_MSG_MAX], chosen, *hash;
	uint32_t offered;
	struct isakmp_builder bld;
	struct buf b;
	size_t clen;

	if (ike_duplicate(sa, &qm->x, msg, len))
		return;
	if (ike_qm_open(qm, msg, len, &c, true) < 0 || ike_qm_take(qm, &c, &chosen, &offered) < 0) {
		qm->x.have_in = false;
		return;
	}
	ike_qm_responder_lifetime(qm, &c);
	ike_xmit_done(sa, &qm->x);
	buf_init_write(&b, chain, sizeof(chain) - IKE_BLOCK);
	isakmp_build_init(&bld, &b, NULL);
	isakmp_put_reserve(&bld, ISAKMP_PL_HASH, sa->keys.hash_len, &hash);
	if (isakmp_build_finish(&bld, &clen) != ISAKMP_OK || ike_qm_hash3(qm, hash) < 0 ||
	    ike_qm_send(qm, chain, clen, ISAKMP_PL_HASH, false) < 0 || ike_qm_child(qm) < 0) {
		log_err("Quick Mode %08x with %s: cannot finish", qm->msgid, IP4_STR(sa->peer));
		return;
	}
	ike_qm_finish(qm, "HASH(3) sent, SAs up");
}

static void ike_qm_r3(struct ike_qm *qm, uint8_t *msg, size_t len)
{
	struct ike_sa *sa = qm->sa;
	uint8_t next_iv[IKE_BLOCK], want[IKE_MAX_HASH];
	struct isakmp_chain c;
	struct isakmp_data h;

	if (ike_duplicate(sa, &qm->x, msg, len))
		return;
	if (ike_open_chain(sa, msg, len, qm->iv, next_iv, &c) < 0) {
		qm->x.have_in = false;
		return;
	}
	if (c.n != 1 || c.pl[0].type != ISAKMP_PL_HASH ||
	    isakmp_data_parse(&c.pl[0], &h, NULL) != ISAKMP_OK) {
		sa->eng->ctr.drop_malformed++;
		qm->x.have_in = false;
		return;
	}
	if (ike_qm_hash3(qm, want) < 0 || h.len != sa->keys.hash_len ||
	    CRYPTO_memcmp(h.p, want, h.len) != 0) {
		sa->eng->ctr.drop_bad_hash++;
		qm->x.have_in = false;
		log_rl_notice("Quick Mode %08x from %s: bad HASH(3)", qm->msgid, IP4_STR(sa->peer));
		return;
	}
	memcpy(qm->iv, next_iv, IKE_BLOCK);
	ike_sa_float(sa);
	ike_xmit_done(sa, &qm->x);
	if (ike_qm_child(qm) < 0)
		log_err("Quick Mode %08x with %s: cannot derive keys", qm->msgid,
			IP4_STR(sa->peer));
	ike_qm_finish(qm, "HASH(3) checked, SAs up");
}

void ike_qm_input(struct ike_sa *sa, struct ike_qm *qm, uint8_t *msg, size_t len)
{
	uint32_t msgid = (uint32_t)msg[20] << 24 | (uint32_t)msg[21] << 16 |
			 (uint32_t)msg[22] << 8 | msg[23];

	if (qm == NULL) {
		ike_qm_r1(sa, msg, len, msgid);
		return;
	}
	switch (qm->state) {
	case IKE_QM_I1:
		ike_qm_i2(qm, msg, len);
		return;
	case IKE_QM_R2:
		ike_qm_r3(qm, msg, len);
		return;
	case IKE_QM_DONE:
		/* A retransmission of what we already answered: answer again. */
		ike_duplicate(sa, &qm->x, msg, len);
		return;
	}
}

int ike_quick_mode(struct ike_engine *eng, struct in_addr peer)
{
	struct ike_sa *sa = ike_sa_find_peer(eng, peer);

	if (sa == NULL)
		return -1;
	ike_qm_start(sa, NULL);
	return 0;
}
