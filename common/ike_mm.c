/*
 * IKEv1 Main Mode (RFC 2409 5), both roles, with pre-shared keys or RSA
 * signatures, and NAT detection (RFC 3947 3):
 *
 *   Initiator                          Responder
 *   HDR, SA, VID(NAT-T), VID(DPD)  ->
 *                                  <-  HDR, SA, VID(NAT-T), VID(DPD)
 *   HDR, KE, Ni, NAT-D, NAT-D      ->
 *                                  <-  HDR, KE, Nr, NAT-D, NAT-D
 *   HDR*, IDii, HASH_I | CERT SIG_I ->        (port 4500 if a NAT was seen)
 *                                  <-  HDR*, IDir, HASH_R | CERT SIG_R
 */
#include "ike_int.h"
#include "ip4.h"
#include "log.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#define IKE_NONCE_SEND 32

/* ---- proposals ---- */

static void ike_p1_transform(const struct ike_config *cfg, const struct ike_p1_prop *p,
			     uint32_t lifetime, uint8_t num, struct isakmp_transform *t)
{
	memset(t, 0, sizeof(*t));
	t->num = num;
	t->id = ISAKMP_XF_KEY_IKE;
	isakmp_attr_add(t, ISAKMP_P1_ENC, ISAKMP_ENC_AES_CBC);
	isakmp_attr_add(t, ISAKMP_P1_KEY_LEN, p->key_bits);
	isakmp_attr_add(t, ISAKMP_P1_HASH, p->hash);
	isakmp_attr_add(t, ISAKMP_P1_AUTH, cfg->auth);
	isakmp_attr_add(t, ISAKMP_P1_GROUP, p->group);
	isakmp_attr_add(t, ISAKMP_P1_LIFE_TYPE, ISAKMP_LIFE_SECONDS);
	isakmp_attr_add(t, ISAKMP_P1_LIFE_DURATION, lifetime);
}

/* Put our SA payload (all our proposals, or only the chosen one) and keep its body. */
static int ike_mm_put_sa(struct ike_sa *sa, struct isakmp_builder *bld,
			 const struct ike_p1_prop *one, uint8_t one_num)
{
	const struct ike_config *cfg = &sa->eng->cfg;
	struct isakmp_sa *s = calloc(1, sizeof(*s));
	const uint8_t *body;
	size_t len;
	int r = -1;

	if (s == NULL)
		return -1;
	s->doi = ISAKMP_DOI_IPSEC;
	s->situation = ISAKMP_SIT_IDENTITY_ONLY;
	s->nprop = 1;
	s->prop[0].num = 1;
	s->prop[0].proto = ISAKMP_PROTO_ISAKMP;
	if (one != NULL) {
		s->prop[0].nxf = 1;
		ike_p1_transform(cfg, one, sa->lifetime_s, one_num, &s->prop[0].xf[0]);
	} else {
		s->prop[0].nxf = cfg->n_p1;
		for (size_t i = 0; i < cfg->n_p1; i++)
			ike_p1_transform(cfg, &cfg->p1[i], cfg->p1_lifetime_s, (uint8_t)(i + 1),
					 &s->prop[0].xf[i]);
	}
	if (isakmp_put_sa(bld, s) == ISAKMP_OK &&
	    isakmp_build_last(bld, &body, &len) == ISAKMP_OK &&
	    (one != NULL || len <= sizeof(sa->mm->sai_b))) {
		/* HASH_I and HASH_R cover the initiator's SA body: keep what we offered. */
		if (one == NULL) {
			memcpy(sa->mm->sai_b, body, len);
			sa->mm->sai_b_len = len;
		}
		r = 0;
	}
	free(s);
	return r;
}

/* Does one offered transform match one of our proposals?  0 and *out when it does. */
static int ike_p1_match(const struct ike_config *cfg, const struct isakmp_transform *t,
			struct ike_p1_prop *out, uint32_t *lifetime)
{
	uint32_t enc, bits = 0, hash, auth, group, ltype = ISAKMP_LIFE_SECONDS, life = 28800;

	if (t->id != ISAKMP_XF_KEY_IKE || !isakmp_attr_get(t, ISAKMP_P1_ENC, &enc) ||
	    !isakmp_attr_get(t, ISAKMP_P1_HASH, &hash) ||
	    !isakmp_attr_get(t, ISAKMP_P1_AUTH, &auth) ||
	    !isakmp_attr_get(t, ISAKMP_P1_GROUP, &group))
		return -1;
	isakmp_attr_get(t, ISAKMP_P1_KEY_LEN, &bits);
	isakmp_attr_get(t, ISAKMP_P1_LIFE_TYPE, &ltype);
	isakmp_attr_get(t, ISAKMP_P1_LIFE_DURATION, &life);
	if (enc != ISAKMP_ENC_AES_CBC || auth != (uint32_t)cfg->auth ||
	    ltype != ISAKMP_LIFE_SECONDS || life == 0)
		return -1;
	for (size_t i = 0; i < cfg->n_p1; i++) {
		const struct ike_p1_prop *p = &cfg->p1[i];
		if (p->key_bits == bits && (uint32_t)p->hash == hash &&
		    (uint32_t)p->group == group) {
			*out = *p;
			*lifetime = life < cfg->p1_lifetime_s ? life : cfg->p1_lifetime_s;
			return 0;
		}
	}
	return -1;
}

/* ---- NAT detection (RFC 3947 3.2) ---- */

static int ike_natd_hash(const struct ike_sa *sa, struct in_addr a, uint16_t port, uint8_t *out)
{
	uint8_t p[2] = {(uint8_t)(port >> 8), (uint8_t)port};
	struct ike_chunk c[] = {IKE_CHUNK(sa->icookie, ISAKMP_COOKIE_LEN),
				IKE_CHUNK(sa->rcookie, ISAKMP_COOKIE_LEN), IKE_CHUNK(&a.s_addr, 4),
				IKE_CHUNK(p, 2)};

	return ike_hash(sa->prop.hash, c, 4, out);
}

/* NAT-D for the peer's address, then ours (or a made-up one to force UDP encapsulation). */
static int ike_put_natd(struct ike_sa *sa, struct isakmp_builder *bld)
{
	uint8_t h[IKE_MAX_HASH];
	size_t hl = ike_hash_len(sa->prop.hash);

	if (ike_natd_hash(sa, sa->peer, sa->peer_port, h) < 0 ||
	    isakmp_put_data(bld, ISAKMP_PL_NATD, h, hl) != ISAKMP_OK)
		return -1;
	if (sa->eng->cfg.force_udp_encap)
		ike_random(h, hl);
	else if (ike_natd_hash(sa, sa->local, sa->local_port, h) < 0)
		return -1;
	return isakmp_put_data(bld, ISAKMP_PL_NATD, h, hl) == ISAKMP_OK ? 0 : -1;
}

static void ike_check_natd(struct ike_sa *sa, const struct isakmp_chain *c)
{
	uint8_t mine[IKE_MAX_HASH], theirs[IKE_MAX_HASH];
	size_t hl = ike_hash_len(sa->prop.hash), n = isakmp_chain_count(c, ISAKMP_PL_NATD);
	struct isakmp_data d;

	if (n < 2 || ike_natd_hash(sa, sa->local, sa->local_port, mine) < 0 ||
	    ike_natd_hash(sa, sa->peer, sa->peer_port, theirs) < 0)
		return;
	/* The first NAT-D is the peer's view of us; the others its own addresses. */
	if (isakmp_data_parse(isakmp_chain_find(c, ISAKMP_PL_NATD, 0), &d, NULL) == ISAKMP_OK)
		sa->nat_here = d.len != hl || CRYPTO_memcmp(d.p, mine, hl) != 0;
	sa->nat_there = true;
	for (size_t i = 1; i < n; i++)
		if (isakmp_data_parse(isakmp_chain_find(c, ISAKMP_PL_NATD, i), &d, NULL) ==
			    ISAKMP_OK &&
		    d.len == hl && CRYPTO_memcmp(d.p, theirs, hl) == 0)
			sa->nat_there = false;
	if (sa->eng->cfg.force_udp_encap)
		sa->nat_here = true;
	if (sa->nat_here || sa->nat_there)
		log_info("ISAKMP SA with %s: NAT %s", IP4_STR(sa->peer),
			 sa->nat_here ? "here" : "at the peer");
}

static void ike_note_vids(struct ike_sa *sa, const struct isakmp_chain *c)
{
	struct isakmp_data d;

	for (size_t i = 0; i < isakmp_chain_count(c, ISAKMP_PL_VID); i++) {
		if (isakmp_data_parse(isakmp_chain_find(c, ISAKMP_PL_VID, i), &d, NULL) !=
		    ISAKMP_OK)
			continue;
		switch (isakmp_vid_lookup(d.p, d.len)) {
		case ISAKMP_VID_RFC3947:
			sa->natt = true;
			break;
		case ISAKMP_VID_DPD:
			sa->dpd = true;
			break;
		default:
			break;
		}
	}
}

static int ike_put_vids(struct isakmp_builder *bld)
{
	size_t len;
	const uint8_t *v = isakmp_vid_bytes(ISAKMP_VID_RFC3947, &len);

	if (isakmp_put_data(bld, ISAKMP_PL_VID, v, len) != ISAKMP_OK)
		return -1;
	v = isakmp_vid_bytes(ISAKMP_VID_DPD, &len);
	return isakmp_put_data(bld, ISAKMP_PL_VID, v, len) == ISAKMP_OK ? 0 : -1;
}

/* ---- messages 1 and 2 ---- */

static void ike_hdr_init(struct ike_sa *sa, struct isakmp_hdr *h, uint8_t exchange)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->icookie, sa->icookie, ISAKMP_COOKIE_LEN);
	memcpy(h->rcookie, sa->rcookie, ISAKMP_COOKIE_LEN);
	h->exchange = exchange;
}

void ike_mm_start(struct ike_sa *sa)
{
	uint8_t out[IKE_MSG_MAX];
	struct isakmp_builder bld;
	struct isakmp_hdr h;
	struct buf b;
	size_t len;

	ike_hdr_init(sa, &h, ISAKMP_EXCH_MAIN);
	buf_init_write(&b, out, sizeof(out));
	isakmp_build_init(&bld, &b, &h);
	if (ike_mm_put_sa(sa, &bld, NULL, 0) < 0 || ike_put_vids(&bld) < 0 ||
	    isakmp_build_finish(&bld, &len) != ISAKMP_OK) {
		ike_sa_fail(sa, "cannot build Main Mode message 1");
		return;
	}
	log_info("Main Mode with %s started", IP4_STR(sa->peer));
	ike_send(sa, &sa->x, out, len, true);
}

/* Responder, message 1: choose a transform, answer with it. */
static void ike_mm_r1(struct ike_sa *sa, const struct isakmp_msg *m)
{
	const struct isakmp_pl *pl = isakmp_chain_find(&m->chain, ISAKMP_PL_SA, 0);
	struct isakmp_sa *s = calloc(1, sizeof(*s));
	struct isakmp_error err;
	int chosen = -1; /* a Transform # is an identifier: 0 is as good as any (RFC 2408 3.6) */

	if (s == NULL) {
		log_rl_err("SA payload from %s: out of memory", IP4_STR(sa->peer));
		return;
	}
	if (pl == NULL || isakmp_sa_parse(pl, s, &err) != ISAKMP_OK || s->nprop < 1 ||
	    s->prop[0].proto != ISAKMP_PROTO_ISAKMP) {
		free(s);
		sa->eng->ctr.drop_malformed++;
		ike_sa_fail(sa, "message 1 has no usable SA payload");
		return;
	}
	if (pl->len - ISAKMP_GEN_LEN > sizeof(sa->mm->sai_b)) {
		free(s);
		sa->eng->ctr.drop_malformed++;
		ike_sa_fail(sa, "SA payload too large");
		return;
	}
	memcpy(sa->mm->sai_b, s->body, s->body_len);
	sa->mm->sai_b_len = s->body_len;
	for (size_t i = 0; i < s->prop[0].nxf && chosen < 0; i++)
		if (ike_p1_match(&sa->eng->cfg, &s->prop[0].xf[i], &sa->prop, &sa->lifetime_s) == 0)
			chosen = s->prop[0].xf[i].num;
	free(s);
	if (chosen < 0) {
		sa->eng->ctr.drop_no_proposal++;
		log_rl_notice("Main Mode from %s: no acceptable proposal", IP4_STR(sa->peer));
		ike_notify_plain(sa->eng, &m->hdr, sa->local, sa->local_port, sa->peer,
				 sa->peer_port, ISAKMP_N_NO_PROPOSAL_CHOSEN);
		ike_sa_fail(sa, "no proposal chosen");
		return;
	}
	ike_note_vids(sa, &m->chain);
	uint8_t out[IKE_MSG_MAX];
	struct isakmp_builder bld;
	struct isakmp_hdr h;
	struct buf b;
	size_t len;
	ike_hdr_init(sa, &h, ISAKMP_EXCH_MAIN);
	buf_init_write(&b, out, sizeof(out));
	isakmp_build_init(&bld, &b, &h);
	if (ike_mm_put_sa(sa, &bld, &sa->prop, (uint8_t)chosen) < 0 || ike_put_vids(&bld) < 0 ||
	    isakmp_build_finish(&bld, &len) != ISAKMP_OK) {
		ike_sa_fail(sa, "cannot build Main Mode message 2");
		return;
	}
	ike_sa_set_state(sa, IKE_MM_R2, "proposal chosen");
	ike_send(sa, &sa->x, out, len, true);
}

/* Initiator, message 2: which of our transforms the responder took. */
static int ike_mm_i2_sa(struct ike_sa *sa, const struct isakmp_msg *m)
{
	const struct isakmp_pl *pl = isakmp_chain_find(&m->chain, ISAKMP_PL_SA, 0);
	struct isakmp_sa *s = calloc(1, sizeof(*s));
	int r = -1;

	if (s == NULL)
		return -1;
	/* Exactly one proposal with one transform, and one we offered. */
	if (pl != NULL && isakmp_sa_parse(pl, s, NULL) == ISAKMP_OK && s->nprop == 1 &&
	    s->prop[0].nxf == 1 &&
	    ike_p1_match(&sa->eng->cfg, &s->prop[0].xf[0], &sa->prop, &sa->lifetime_s) == 0)
		r = 0;
	free(s);
	return r;
}

/* ---- messages 3 and 4 ---- */

static int ike_mm_put_ke_nonce(struct ike_sa *sa, struct isakmp_builder *bld)
{
	uint8_t *nonce = sa->initiator ? sa->mm->ni : sa->mm->nr;

	if (ike_dh_generate(&sa->mm->dh, sa->prop.group) < 0)
		return -1;
	ike_random(nonce, IKE_NONCE_SEND);
	if (sa->initiator) {
		sa->mm->ni_len = IKE_NONCE_SEND;
		memcpy(sa->mm->gxi, sa->mm->dh.pub, sa->mm->dh.pub_len);
	} else {
		sa->mm->nr_len = IKE_NONCE_SEND;
		memcpy(sa->mm->gxr, sa->mm->dh.pub, sa->mm->dh.pub_len);
	}
	sa->mm->ke_len = sa->mm->dh.pub_len;
	if (isakmp_put_data(bld, ISAKMP_PL_KE, sa->mm->dh.pub, sa->mm->dh.pub_len) != ISAKMP_OK ||
	    isakmp_put_data(bld, ISAKMP_PL_NONCE, nonce, IKE_NONCE_SEND) != ISAKMP_OK)
		return -1;
	if (sa->eng->cfg.auth == IKE_AUTH_RSA_SIG) {
		/* Ask for the peer's certificate: strongSwan sends one only when asked. */
		struct isakmp_cert cr = {.enc = ISAKMP_CERT_X509_SIG};
		if (isakmp_put_cert(bld, ISAKMP_PL_CR, &cr) != ISAKMP_OK)
			return -1;
	}
	return sa->natt ? ike_put_natd(sa, bld) : 0;
}

static int ike_mm_send_ke(struct ike_sa *sa)
{
	uint8_t out[IKE_MSG_MAX];
	struct isakmp_builder bld;
	struct isakmp_hdr h;
	struct buf b;
	size_t len;

	ike_hdr_init(sa, &h, ISAKMP_EXCH_MAIN);
	buf_init_write(&b, out, sizeof(out));
	isakmp_build_init(&bld, &b, &h);
	if (ike_mm_put_ke_nonce(sa, &bld) < 0 || isakmp_build_finish(&bld, &len) != ISAKMP_OK)
		return -1;
	ike_send(sa, &sa->x, out, len, true);
	return 0;
}

/* Take the peer's KE and nonce. */
static int ike_mm_take_ke(struct ike_sa *sa, const struct isakmp_chain *c)
{
	struct isakmp_data ke, n;
	uint8_t *peer_ke = sa->initiator ? sa->mm->gxr : sa->mm->gxi;
	uint8_t *peer_n = sa->initiator ? sa->mm->nr : sa->mm->ni;
	size_t *peer_nlen = sa->initiator ? &sa->mm->nr_len : &sa->mm->ni_len;

	if (isakmp_data_parse(isakmp_chain_find(c, ISAKMP_PL_KE, 0), &ke, NULL) != ISAKMP_OK ||
	    isakmp_data_parse(isakmp_chain_find(c, ISAKMP_PL_NONCE, 0), &n, NULL) != ISAKMP_OK ||
	    ke.len != ike_group_ke_len(sa->prop.group) || n.len > sizeof(sa->mm->ni))
		return -1;
	memcpy(peer_ke, ke.p, ke.len);
	memcpy(peer_n, n.p, n.len);
	*peer_nlen = n.len;
	return 0;
}

/* g^xy, SKEYID and friends, the phase-1 IV. */
static int ike_mm_keys(struct ike_sa *sa)
{
	uint8_t gxy[IKE_MAX_DH];
	size_t gxy_len;
	const struct ike_peer *pc = sa->peer_cfg;
	int r = -1;

	sa->keys.hash = sa->prop.hash;
	if (ike_dh_shared(&sa->mm->dh, sa->initiator ? sa->mm->gxr : sa->mm->gxi, sa->mm->ke_len,
			  gxy, &gxy_len) < 0)
		return -1;
	if (sa->eng->cfg.auth == IKE_AUTH_PSK)
		r = ike_skeyid_psk(&sa->keys, pc->psk, pc->psk_len, sa->mm->ni, sa->mm->ni_len,
				   sa->mm->nr, sa->mm->nr_len);
	else
		r = ike_skeyid_sig(&sa->keys, sa->mm->ni, sa->mm->ni_len, sa->mm->nr,
				   sa->mm->nr_len, gxy, gxy_len);
	if (r == 0)
		r = ike_skeyid_derive(&sa->keys, gxy, gxy_len, sa->icookie, sa->rcookie,
				      sa->prop.key_bits / 8);
	if (r == 0)
		r = ike_iv_phase1(sa->prop.hash, sa->mm->gxi, sa->mm->ke_len, sa->mm->gxr,
				  sa->mm->ke_len, sa->iv);
	OPENSSL_cleanse(gxy, sizeof(gxy));
	sa->have_keys = r == 0;
	return r;
}

/* ---- messages 5 and 6 ---- */

static void ike_id_to_isakmp(const struct ike_id *id, struct isakmp_id *out)
{
	memset(out, 0, sizeof(*out));
	out->type = id->type;
	out->data = id->data;
	out->data_len = id->len;
}

/* HASH_I or HASH_R (RFC 2409 5): which depends on `for_initiator`. */
static int ike_mm_hash(struct ike_sa *sa, bool for_initiator, const uint8_t *id_b, size_t id_len,
		       uint8_t *out)
{
	const uint8_t *g1 = for_initiator ? sa->mm->gxi : sa->mm->gxr,
		      *g2 = for_initiator ? sa->mm->gxr : sa->mm->gxi;
	const uint8_t *c1 = for_initiator ? sa->icookie : sa->rcookie;
	const uint8_t *c2 = for_initiator ? sa->rcookie : sa->icookie;
	struct ike_chunk c[] = {IKE_CHUNK(g1, sa->mm->ke_len),
				IKE_CHUNK(g2, sa->mm->ke_len),
				IKE_CHUNK(c1, ISAKMP_COOKIE_LEN),
				IKE_CHUNK(c2, ISAKMP_COOKIE_LEN),
				IKE_CHUNK(sa->mm->sai_b, sa->mm->sai_b_len),
				IKE_CHUNK(id_b, id_len)};

	return ike_prf(sa->keys.hash, sa->keys.skeyid, sa->keys.hash_len, c, 6, out);
}

/* The ID payload and HASH (or CERT and SIG) of message 5 or 6, sealed. */
static int ike_mm_send_auth(struct ike_sa *sa)
{
	const struct ike_config *cfg = &sa->eng->cfg;
	uint8_t idb[IKE_ID_MAX + 8], hash[IKE_MAX_HASH], chain[IKE_MSG_MAX], out[IKE_MSG_MAX];
	struct isakmp_id id;
	struct isakmp_builder bld;
	struct buf bi, bc;
	size_t len;

	ike_id_to_isakmp(&cfg->local_id, &id);
	buf_init_write(&bi, idb, sizeof(idb));
	if (isakmp_id_body_put(&bi, &id, NULL) != ISAKMP_OK ||
	    ike_mm_hash(sa, sa->initiator, idb, buf_used(&bi), hash) < 0)
		return -1;
	buf_init_write(&bc, chain, sizeof(chain) - IKE_BLOCK);
	isakmp_build_init(&bld, &bc, NULL);
	isakmp_put_id(&bld, &id);
	if (cfg->auth == IKE_AUTH_PSK) {
		isakmp_put_data(&bld, ISAKMP_PL_HASH, hash, sa->keys.hash_len);
	} else {
		uint8_t sig[1024];
		size_t sig_len = sizeof(sig), der_len;
		const uint8_t *der = ike_cert_der(cfg->creds, &der_len);
		struct isakmp_cert cert = {
			.enc = ISAKMP_CERT_X509_SIG, .data = der, .len = der_len};
		if (der == NULL ||
		    ike_cert_sign(cfg->creds, hash, sa->keys.hash_len, sig, &sig_len) < 0)
			return -1;
		isakmp_put_cert(&bld, ISAKMP_PL_CERT, &cert);
		isakmp_put_data(&bld, ISAKMP_PL_SIG, sig, sig_len);
	}
	/* Not when this is a rekey: our own older SA with the peer must live on. */
	if (sa->initiator && cfg->initial_contact && ike_sa_find_peer(sa->eng, sa->peer) == NULL) {
		/* RFC 2407 4.6.3.3: forget whatever SAs an earlier incarnation of us left. */
		struct isakmp_notify n = {.doi = ISAKMP_DOI_IPSEC,
					  .proto = ISAKMP_PROTO_ISAKMP,
					  .spi_size = 16,
					  .type = ISAKMP_N_INITIAL_CONTACT};
		memcpy(n.spi, sa->icookie, 8);
		memcpy(n.spi + 8, sa->rcookie, 8);
		isakmp_put_notify(&bld, &n);
	}
	if (isakmp_build_finish(&bld, &len) != ISAKMP_OK ||
	    ike_seal(sa, ISAKMP_EXCH_MAIN, 0, bld.first, chain, len, sa->iv, out, &len) < 0)
		return -1;
	ike_send(sa, &sa->x, out, len, sa->initiator);
	return 0;
}

/* RFC 2407 4.6.3.3: the peer restarted; everything older we have with it is stale. */
static void ike_initial_contact(struct ike_sa *sa)
{
	struct ike_engine *eng = sa->eng;

	for (struct ike_child *c = ike_child_first_of(eng, sa->peer), *n; c != NULL; c = n) {
		n = c->peer_next;
		ike_child_forget(eng, c, "peer sent INITIAL-CONTACT");
	}
	for (struct ike_sa *o = ike_sa_first_of(eng, sa->peer), *n; o != NULL; o = n) {
		n = o->peer_next;
		if (o != sa)
			ike_sa_destroy(o, "peer sent INITIAL-CONTACT");
	}
}

/* Check the peer's ID and HASH (or certificate and signature); a Notify type on failure. */
static uint16_t ike_mm_verify(struct ike_sa *sa, const struct isakmp_chain *c)
{
	const struct ike_peer *pc = sa->peer_cfg;
	struct isakmp_id id;
	struct isakmp_data h;
	uint8_t want[IKE_MAX_HASH];

	if (isakmp_id_parse(isakmp_chain_find(c, ISAKMP_PL_ID, 0), &id, NULL) != ISAKMP_OK ||
	    id.data_len > IKE_ID_MAX) {
		sa->eng->ctr.drop_malformed++;
		return ISAKMP_N_INVALID_ID_INFORMATION;
	}
	sa->peer_id.type = id.type;
	sa->peer_id.len = id.data_len;
	memcpy(sa->peer_id.data, id.data, id.data_len);
	if (pc->id.type != 0 && !ike_id_equal(&pc->id, &sa->peer_id)) {
		char want_s[96], got_s[96];
		log_rl_notice("%s claims to be %s, we expect %s", IP4_STR(sa->peer),
			      ike_id_str(&sa->peer_id, got_s, sizeof(got_s)),
			      ike_id_str(&pc->id, want_s, sizeof(want_s)));
		sa->eng->ctr.drop_bad_id++;
		return ISAKMP_N_INVALID_ID_INFORMATION;
	}
	if (ike_mm_hash(sa, !sa->initiator, id.body, id.body_len, want) < 0)
		return ISAKMP_N_AUTHENTICATION_FAILED;
	if (sa->eng->cfg.auth == IKE_AUTH_PSK) {
		if (isakmp_data_parse(isakmp_chain_find(c, ISAKMP_PL_HASH, 0), &h, NULL) !=
		    ISAKMP_OK) {
			sa->eng->ctr.drop_malformed++;
			return ISAKMP_N_INVALID_HASH_INFORMATION;
		}
		if (h.len != sa->keys.hash_len || CRYPTO_memcmp(h.p, want, h.len) != 0) {
			sa->eng->ctr.drop_bad_hash++;
			return ISAKMP_N_INVALID_HASH_INFORMATION;
		}
		return 0;
	}
	struct isakmp_cert cert;
	struct isakmp_data sig;
	if (isakmp_cert_parse(isakmp_chain_find(c, ISAKMP_PL_CERT, 0), &cert, NULL) != ISAKMP_OK ||
	    cert.enc != ISAKMP_CERT_X509_SIG) {
		sa->eng->ctr.drop_bad_cert++;
		return ISAKMP_N_CERTIFICATE_UNAVAILABLE;
	}
	if (isakmp_data_parse(isakmp_chain_find(c, ISAKMP_PL_SIG, 0), &sig, NULL) != ISAKMP_OK) {
		sa->eng->ctr.drop_malformed++;
		return ISAKMP_N_INVALID_SIGNATURE;
	}
	int r = ike_cert_verify(sa->eng->cfg.creds, cert.data, cert.len, &sa->peer_id, want,
				sa->keys.hash_len, sig.p, sig.len);
	if (r == ISAKMP_N_INVALID_CERTIFICATE)
		sa->eng->ctr.drop_bad_cert++;
	else if (r == ISAKMP_N_INVALID_ID_INFORMATION)
		sa->eng->ctr.drop_bad_id++;
	else if (r != 0)
		sa->eng->ctr.drop_bad_auth++;
	return (uint16_t)r;
}

/*
 * Messages 5 (responder) and 6 (initiator): decrypt along the phase-1 IV
 * chain, parse, verify.  The IV moves on only when the message checks out.
 */
static void ike_mm_auth_input(struct ike_sa *sa, const struct isakmp_hdr *hdr, uint8_t *msg,
			      size_t len)
{
	uint8_t next_iv[IKE_BLOCK];
	struct isakmp_chain c;
	uint16_t notify;

	if (ike_open_chain(sa, msg, len, sa->iv, next_iv, &c) < 0) {
		/* A wrong pre-shared key decrypts to noise: this is where it shows. */
		sa->x.have_in = false;
		log_rl_notice("Main Mode from %s: cannot decrypt message %d (pre-shared key?)",
			      IP4_STR(sa->peer), sa->initiator ? 6 : 5);
		ike_notify_plain(sa->eng, hdr, sa->local, sa->local_port, sa->peer, sa->peer_port,
				 ISAKMP_N_PAYLOAD_MALFORMED);
		if (!sa->initiator)
			ike_sa_fail(sa, "message 5 undecipherable");
		return;
	}
	notify = ike_mm_verify(sa, &c);
	if (notify != 0) {
		log_rl_notice("Main Mode with %s: authentication failed (%s)", IP4_STR(sa->peer),
			      isakmp_notify_name(notify));
		ike_notify_plain(sa->eng, hdr, sa->local, sa->local_port, sa->peer, sa->peer_port,
				 notify);
		ike_sa_fail(sa, isakmp_notify_name(notify));
		return;
	}
	memcpy(sa->iv, next_iv, IKE_BLOCK);
	ike_sa_float(sa);
	if (!sa->initiator) {
		/* INITIAL-CONTACT: the peer restarted; its older SAs are stale. */
		const struct isakmp_pl *npl;
		struct isakmp_notify n;
		for (size_t i = 0; (npl = isakmp_chain_find(&c, ISAKMP_PL_N, i)) != NULL; i++)
			if (isakmp_notify_parse(npl, &n, NULL) == ISAKMP_OK &&
			    n.type == ISAKMP_N_INITIAL_CONTACT)
				ike_initial_contact(sa);
		if (ike_mm_send_auth(sa) < 0) {
			ike_sa_fail(sa, "cannot build Main Mode message 6");
			return;
		}
	} else {
		ike_xmit_done(sa, &sa->x);
	}
	/* Phase-2 IVs start from the last CBC block of phase 1. */
	memcpy(sa->p1_last, sa->iv, IKE_BLOCK);
	ike_sa_up(sa);
	/* A phase-1 rekey: the IPsec SA pairs we have stay; no new Quick Mode. */
	if (sa->initiator && !ike_peer_has_children(sa->eng, sa->peer))
		ike_qm_start(sa, NULL);
}

void ike_mm_input(struct ike_sa *sa, const struct isakmp_msg *m, const uint8_t *raw, size_t len)
{
	bool encrypted = (m->hdr.flags & ISAKMP_FLAG_E) != 0;

	if (sa->mm == NULL) {
		/* Main Mode is over for this SA: nothing to continue. */
		sa->eng->ctr.drop_state++;
		return;
	}
	switch (sa->state) {
	case IKE_MM_R0:
		if (!encrypted)
			ike_mm_r1(sa, m);
		return;
	case IKE_MM_I1:
		if (encrypted) {
			sa->eng->ctr.drop_state++;
			ike_sa_fail(sa, "message 2 encrypted");
			return;
		}
		if (ike_mm_i2_sa(sa, m) < 0) {
			sa->eng->ctr.drop_no_proposal++;
			ike_sa_fail(sa, "the responder chose no transform we offered");
			return;
		}
		memcpy(sa->rcookie, m->hdr.rcookie, ISAKMP_COOKIE_LEN);
		ike_note_vids(sa, &m->chain);
		if (ike_mm_send_ke(sa) < 0) {
			ike_sa_fail(sa, "cannot build Main Mode message 3");
			return;
		}
		ike_sa_set_state(sa, IKE_MM_I3, "proposal accepted");
		return;
	case IKE_MM_R2:
		if (encrypted || ike_mm_take_ke(sa, &m->chain) < 0) {
			sa->eng->ctr.drop_malformed++;
			ike_sa_fail(sa, "message 3 without a usable KE or nonce");
			return;
		}
		if (sa->natt)
			ike_check_natd(sa, &m->chain);
		if (ike_mm_send_ke(sa) < 0 || ike_mm_keys(sa) < 0) {
			ike_sa_fail(sa, "key exchange failed");
			return;
		}
		ike_sa_set_state(sa, IKE_MM_R4, "keys derived");
		return;
	case IKE_MM_I3:
		if (encrypted || ike_mm_take_ke(sa, &m->chain) < 0 || ike_mm_keys(sa) < 0) {
			sa->eng->ctr.drop_malformed++;
			ike_sa_fail(sa, "message 4 without a usable KE or nonce");
			return;
		}
		if (sa->natt)
			ike_check_natd(sa, &m->chain);
		if (sa->natt && (sa->nat_here || sa->nat_there)) {
			/* RFC 3947 4: from message 5 on, both sides use port 4500. */
			sa->local_port = ISAKMP_NATT_PORT;
			sa->peer_port = ISAKMP_NATT_PORT;
		}
		if (ike_mm_send_auth(sa) < 0) {
			ike_sa_fail(sa, "cannot build Main Mode message 5");
			return;
		}
		ike_sa_set_state(sa, IKE_MM_I5, "keys derived");
		return;
	case IKE_MM_R4:
	case IKE_MM_I5:
		if (!encrypted) {
			sa->eng->ctr.drop_state++;
			return;
		}
		ike_mm_auth_input(sa, &m->hdr, (uint8_t *)(uintptr_t)raw, len);
		return;
	default:
		sa->eng->ctr.drop_state++;
		log_rl_debug("Main Mode message from %s in state %s ignored", IP4_STR(sa->peer),
			     ike_state_name(sa->state));
	}
}
