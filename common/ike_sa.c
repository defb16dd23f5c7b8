/*
 * The IKEv1 engine: ISAKMP SA table, input dispatch, message protection
 * (RFC 2409 appendix B: AES-CBC with IVs chained per exchange),
 * retransmission, lifetimes.  The exchanges themselves are in ike_mm.c,
 * ike_qm.c and ike_info.c.
 */
#include "ike_int.h"
#include "ip4.h"
#include "log.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *ike_state_name(enum ike_state s)
{
	static const char *const names[IKE_STATE_MAX] = {
		[IKE_MM_I1] = "MM-I1",
		[IKE_MM_I3] = "MM-I3",
		[IKE_MM_I5] = "MM-I5",
		[IKE_MM_R0] = "MM-R0",
		[IKE_MM_R2] = "MM-R2",
		[IKE_MM_R4] = "MM-R4",
		[IKE_ESTABLISHED] = "established",
		[IKE_DEAD] = "dead",
	};
	return s < IKE_STATE_MAX ? names[s] : "?";
}

bool ike_sa_unproven(const struct ike_sa *sa)
{
	return !sa->initiator && (sa->state == IKE_MM_R0 || sa->state == IKE_MM_R2);
}

void ike_sa_set_state(struct ike_sa *sa, enum ike_state next, const char *why)
{
	if (sa->state == next)
		return;
	/*
	 * A responder before message 3 has only a message 1 behind it, which
	 * anyone can send from any address at any rate: its steps are debug.
	 */
	if (ike_sa_unproven(sa))
		log_debug("ISAKMP SA with %s: %s -> %s (%s)", IP4_STR(sa->peer),
			  ike_state_name(sa->state), ike_state_name(next), why);
	else
		log_info("ISAKMP SA with %s: %s -> %s (%s)", IP4_STR(sa->peer),
			 ike_state_name(sa->state), ike_state_name(next), why);
	sa->state = next;
}

void ike_random(void *p, size_t n)
{
	if (RAND_bytes(p, (int)n) != 1) {
		/* Never run on without randomness: cookies, nonces and SPIs depend on it. */
		log_err("RAND_bytes failed");
		abort();
	}
}

void ike_config_defaults(struct ike_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->auth = IKE_AUTH_PSK;
	static const struct ike_p1_prop p1[] = {
		{128, IKE_HASH_SHA1, IKE_GROUP_MODP2048},
		{128, IKE_HASH_SHA2_256, IKE_GROUP_MODP2048},
		{256, IKE_HASH_SHA2_256, IKE_GROUP_MODP2048},
		{128, IKE_HASH_SHA2_256, IKE_GROUP_ECP256},
		{256, IKE_HASH_SHA2_256, IKE_GROUP_ECP256},
		{256, IKE_HASH_SHA2_256, IKE_GROUP_MODP3072},
		{128, IKE_HASH_SHA1, IKE_GROUP_ECP256},
		{256, IKE_HASH_SHA1, IKE_GROUP_MODP2048},
	};
	memcpy(cfg->p1, p1, sizeof(p1));
	cfg->n_p1 = sizeof(p1) / sizeof(p1[0]);
	cfg->p2[0] = (struct ike_p2_prop){ESP_ALG_AES_CBC_HMAC_SHA1_96, 128};
	cfg->p2[1] = (struct ike_p2_prop){ESP_ALG_AES_CBC_HMAC_SHA256_128, 128};
	cfg->p2[2] = (struct ike_p2_prop){ESP_ALG_AES_GCM_16, 128};
	cfg->p2[3] = (struct ike_p2_prop){ESP_ALG_AES_CBC_HMAC_SHA1_96, 256};
	cfg->p2[4] = (struct ike_p2_prop){ESP_ALG_AES_CBC_HMAC_SHA256_128, 256};
	cfg->p2[5] = (struct ike_p2_prop){ESP_ALG_AES_GCM_16, 256};
	cfg->n_p2 = 6;
	cfg->p1_lifetime_s = 10800;
	cfg->p2_lifetime_s = 3600;
	cfg->rekey_margin_s = 60;
	cfg->retrans_ms = 500;
	cfg->retrans_tries = 5;
	cfg->initial_contact = true;
	cfg->halfopen_max = IKE_HALFOPEN_MAX;
	cfg->halfopen_peer_max = IKE_HALFOPEN_PEER_MAX;
}

struct ike_engine *ike_engine_new(struct ev_loop *loop, const struct ike_config *cfg,
				  const struct ike_ops *ops)
{
	struct ike_engine *eng = calloc(1, sizeof(*eng));

	if (eng == NULL)
		return NULL;
	eng->loop = loop;
	eng->cfg = *cfg;
	eng->ops = *ops;
	u32map_init(&eng->spis);
	u32map_init(&eng->sa_by_peer);
	u32map_init(&eng->sa_by_cookie);
	u32map_init(&eng->child_by_peer);
	return eng;
}

void ike_engine_free(struct ike_engine *eng)
{
	if (eng == NULL)
		return;
	while (eng->children != NULL)
		ike_child_delete(eng, eng->children, "shutdown");
	while (eng->sas != NULL)
		ike_sa_destroy(eng->sas, "shutdown");
	u32map_free(&eng->spis);
	u32map_free(&eng->sa_by_peer);
	u32map_free(&eng->sa_by_cookie);
	u32map_free(&eng->child_by_peer);
	free(eng);
}

struct ev_loop *ike_engine_loop(const struct ike_engine *eng)
{
	return eng->loop;
}

const struct ike_counters *ike_engine_counters(const struct ike_engine *eng)
{
	return &eng->ctr;
}

uint32_t ike_spi_alloc(struct ike_engine *eng)
{
	uint32_t spi;

	do {
		ike_random(&spi, sizeof(spi));
	} while (spi < ESP_SPI_MIN || u32map_get(&eng->spis, spi) != NULL);
	if (u32map_put(&eng->spis, spi, eng) < 0)
		return 0;
	return spi;
}

void ike_spi_free(struct ike_engine *eng, uint32_t spi)
{
	u32map_del(&eng->spis, spi);
}

int ike_prf_a(struct ike_sa *sa, const struct ike_chunk *c, size_t n, uint8_t *out)
{
	return ike_prf(sa->keys.hash, sa->keys.skeyid_a, sa->keys.hash_len, c, n, out);
}

/* ---- timers ---- */

static void ike_on_retx(struct ev_loop *loop, struct ev_timer *t, void *arg);

void ike_xmit_init(struct ike_sa *sa, struct ike_xmit *x)
{
	memset(x, 0, sizeof(*x));
	ev_timer_init(&x->timer, ike_on_retx, sa);
}

void ike_xmit_free(struct ike_sa *sa, struct ike_xmit *x)
{
	ev_timer_stop(sa->eng->loop, &x->timer);
	free(x->out);
	x->out = NULL;
	x->out_len = 0;
}

/* Main Mode's material goes once the SA is up or gone: the DH private key with it. */
static void ike_mm_data_free(struct ike_sa *sa)
{
	if (sa->mm == NULL)
		return;
	ike_dh_free(&sa->mm->dh);
	OPENSSL_cleanse(sa->mm, sizeof(*sa->mm));
	free(sa->mm);
	sa->mm = NULL;
}

static void ike_on_expiry(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct ike_sa *sa = arg;

	log_info("ISAKMP SA with %s: lifetime ended", IP4_STR(sa->peer));
	if (sa->state == IKE_ESTABLISHED)
		ike_delete_send(sa, ISAKMP_PROTO_ISAKMP, NULL, 0);
	ike_sa_destroy(sa, sa->state == IKE_ESTABLISHED ? "lifetime ended" : "negotiation timeout");
}

static void ike_on_rekey(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct ike_sa *sa = arg;

	if (sa->state != IKE_ESTABLISHED || sa->rekeyed || !sa->initiator)
		return;
	log_info("ISAKMP SA with %s: rekeying before its lifetime ends", IP4_STR(sa->peer));
	sa->rekeyed = true;
	sa->eng->ctr.rekeys++;
	/* IKEv1 has no rekey exchange: a new Main Mode, the old SA expires on its own. */
	ike_initiate(sa->eng, sa->peer_cfg, sa->local);
}

/* ---- indexes: a chain per key, the map holding its first item ---- */

/* The link of an item: a void * member at offset off (peer_next, cookie_next). */
static void **ike_chain_link(void *item, size_t off)
{
	return (void **)(void *)((char *)item + off);
}

static int ike_chain_add(struct u32map *m, uint32_t key, void *item, size_t off)
{
	*ike_chain_link(item, off) = u32map_get(m, key);
	return u32map_put(m, key, item);
}

static void ike_chain_del(struct u32map *m, uint32_t key, void *item, size_t off)
{
	void *first = u32map_get(m, key);

	if (first == item) {
		void *next = *ike_chain_link(item, off);
		if (next != NULL)
			u32map_put(m, key,
				   next); /* the key is there: a replacement, no allocation */
		else
			u32map_del(m, key);
		return;
	}
	for (void *p = first; p != NULL; p = *ike_chain_link(p, off)) {
		void **link = ike_chain_link(p, off);
		if (*link == item) {
			*link = *ike_chain_link(item, off);
			return;
		}
	}
}

static uint32_t ike_cookie_key(const uint8_t cookie[ISAKMP_COOKIE_LEN])
{
	uint32_t k;

	memcpy(&k, cookie, sizeof(k));
	return k;
}

struct ike_sa *ike_sa_first_of(struct ike_engine *eng, struct in_addr peer)
{
	return u32map_get(&eng->sa_by_peer, peer.s_addr);
}

struct ike_child *ike_child_first_of(struct ike_engine *eng, struct in_addr peer)
{
	return u32map_get(&eng->child_by_peer, peer.s_addr);
}

int ike_child_link(struct ike_engine *eng, struct ike_child *c)
{
	if (ike_chain_add(&eng->child_by_peer, c->peer.s_addr, c,
			  offsetof(struct ike_child, peer_next)) < 0)
		return -1;
	c->prev = NULL;
	c->next = eng->children;
	if (c->next != NULL)
		c->next->prev = c;
	eng->children = c;
	return 0;
}

void ike_child_unlink(struct ike_engine *eng, struct ike_child *c)
{
	ike_chain_del(&eng->child_by_peer, c->peer.s_addr, c,
		      offsetof(struct ike_child, peer_next));
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		eng->children = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->next = c->prev = NULL;
}

static int ike_sa_link(struct ike_engine *eng, struct ike_sa *sa)
{
	if (ike_chain_add(&eng->sa_by_peer, sa->peer.s_addr, sa,
			  offsetof(struct ike_sa, peer_next)) < 0)
		return -1;
	if (ike_chain_add(&eng->sa_by_cookie, ike_cookie_key(sa->icookie), sa,
			  offsetof(struct ike_sa, cookie_next)) < 0) {
		ike_chain_del(&eng->sa_by_peer, sa->peer.s_addr, sa,
			      offsetof(struct ike_sa, peer_next));
		return -1;
	}
	sa->next = eng->sas;
	if (sa->next != NULL)
		sa->next->prev = sa;
	eng->sas = sa;
	return 0;
}

static void ike_sa_unlink(struct ike_engine *eng, struct ike_sa *sa)
{
	ike_chain_del(&eng->sa_by_peer, sa->peer.s_addr, sa, offsetof(struct ike_sa, peer_next));
	ike_chain_del(&eng->sa_by_cookie, ike_cookie_key(sa->icookie), sa,
		      offsetof(struct ike_sa, cookie_next));
	if (sa->prev != NULL)
		sa->prev->next = sa->next;
	else
		eng->sas = sa->next;
	if (sa->next != NULL)
		sa->next->prev = sa->prev;
}

/*
 * ---- half-open bound ----
 *
 * Message 1 of Main Mode costs its sender one datagram from any address
 * (a configured peer's, spoofed) and costs us an SA with 3 KB of Main Mode
 * material until the negotiation ends or times out.  An IKEv1 responder
 * cannot answer it without keeping state: HASH_I and HASH_R cover the
 * initiator's SA payload, which only message 1 carries (IKEv2's COOKIE
 * notify has no IKEv1 counterpart).  What RFC 2408 2.5.3's anti-clogging
 * cookies give is return routability: message 3 names our responder
 * cookie, which went to the claimed source address only, so an SA that
 * reached MM-R4 has a peer that reads that address.  Hence:
 *
 *  - at most halfopen_max responder SAs before authentication in all, and
 *    halfopen_peer_max from one source address;
 *  - a message 1 that finds its source, or the table, at its limit evicts
 *    the oldest unproven SA (MM-R2) of that source, or of all; proven ones
 *    (MM-R4) are never evicted, and when there is no unproven one the new
 *    message 1 is dropped.  Either way it is counted (drop_halfopen_peer,
 *    drop_halfopen_global).
 *
 * Evicting the oldest rather than refusing the newest is what lets the
 * real node through: a spoofed flood at r messages a second keeps an
 * unproven SA for halfopen_max / r seconds (0.1 s at 10,000/s with the
 * default 1024), far longer than a node's message 2 -> message 3 round
 * trip, whereas refusing new ones would lock every node out for the
 * negotiation timeout (60 s) once the table filled.  The per-source limit
 * confines a flood from one address (or spoofing one) to that address: a
 * flood spoofing a node's own address faster than halfopen_peer_max per
 * round trip can still deny that node its Main Mode, as for any IKEv1
 * responder, but no one else's.
 */
static void ike_halfopen_add(struct ike_engine *eng, struct ike_sa *sa)
{
	sa->halfopen = true;
	sa->ho_seq = ++eng->ho_seq;
	sa->ho_next = NULL;
	sa->ho_prev = eng->ho_last;
	if (eng->ho_last != NULL)
		eng->ho_last->ho_next = sa;
	else
		eng->ho_first = sa;
	eng->ho_last = sa;
	eng->n_halfopen++;
}

static void ike_halfopen_del(struct ike_engine *eng, struct ike_sa *sa)
{
	if (!sa->halfopen)
		return;
	if (sa->ho_prev != NULL)
		sa->ho_prev->ho_next = sa->ho_next;
	else
		eng->ho_first = sa->ho_next;
	if (sa->ho_next != NULL)
		sa->ho_next->ho_prev = sa->ho_prev;
	else
		eng->ho_last = sa->ho_prev;
	sa->ho_next = sa->ho_prev = NULL;
	sa->halfopen = false;
	eng->n_halfopen--;
}

/* The oldest unproven half-open SA of all; NULL: none (the walk passes proven ones only). */
static struct ike_sa *ike_halfopen_oldest(struct ike_engine *eng)
{
	for (struct ike_sa *sa = eng->ho_first; sa != NULL; sa = sa->ho_next)
		if (ike_sa_unproven(sa))
			return sa;
	return NULL;
}

/*
 * The same of one source, through its own chain: as long as its
 * half-open SAs (halfopen_peer_max) and established ones, not the list.
 */
static struct ike_sa *ike_halfopen_oldest_of(struct ike_engine *eng, struct in_addr peer)
{
	struct ike_sa *old = NULL;

	for (struct ike_sa *sa = ike_sa_first_of(eng, peer); sa != NULL; sa = sa->peer_next) {
		if (!sa->halfopen || !ike_sa_unproven(sa))
			continue;
		if (old == NULL || sa->ho_seq < old->ho_seq)
			old = sa;
	}
	return old;
}

static size_t ike_halfopen_of(struct ike_engine *eng, struct in_addr peer)
{
	size_t n = 0;

	for (struct ike_sa *sa = ike_sa_first_of(eng, peer); sa != NULL; sa = sa->peer_next)
		n += sa->halfopen;
	return n;
}

/*
 * Room for one more half-open SA from peer: true, once the oldest
 * unproven one made way if a limit was reached; false to drop message 1.
 */
static bool ike_halfopen_admit(struct ike_engine *eng, struct in_addr peer)
{
	struct ike_sa *victim;
	const char *why;

	if (ike_halfopen_of(eng, peer) >= eng->cfg.halfopen_peer_max) {
		eng->ctr.drop_halfopen_peer++;
		victim = ike_halfopen_oldest_of(eng, peer);
		why = "half-open limit of its source address";
	} else if (eng->n_halfopen >= eng->cfg.halfopen_max) {
		eng->ctr.drop_halfopen_global++;
		victim = ike_halfopen_oldest(eng);
		why = "half-open table full";
	} else {
		return true;
	}
	if (victim == NULL) {
		log_rl_notice("Main Mode from %s dropped: %s, none unproven to evict",
			      IP4_STR(peer), why);
		return false;
	}
	log_rl_notice("Main Mode from %s: %s, the oldest unproven (%s) evicted", IP4_STR(peer), why,
		      IP4_STR(victim->peer));
	ike_sa_destroy(victim, why);
	return true;
}

struct ike_sa *ike_sa_new(struct ike_engine *eng, bool initiator, struct in_addr local,
			  uint16_t lport, struct in_addr peer, uint16_t pport,
			  const uint8_t icookie[ISAKMP_COOKIE_LEN])
{
	struct ike_sa *sa = calloc(1, sizeof(*sa));

	if (sa == NULL || (sa->mm = calloc(1, sizeof(*sa->mm))) == NULL) {
		log_rl_err("ISAKMP SA with %s: out of memory", IP4_STR(peer));
		free(sa);
		return NULL;
	}
	if (icookie != NULL)
		memcpy(sa->icookie, icookie, ISAKMP_COOKIE_LEN);
	else
		ike_random(sa->icookie, ISAKMP_COOKIE_LEN);
	sa->peer = peer;
	if (ike_sa_link(eng, sa) < 0) {
		free(sa->mm);
		free(sa);
		return NULL;
	}
	sa->eng = eng;
	sa->initiator = initiator;
	sa->state = initiator ? IKE_MM_I1 : IKE_MM_R0;
	sa->local = local;
	sa->peer = peer;
	sa->local_port = lport;
	sa->peer_port = pport;
	ike_xmit_init(sa, &sa->x);
	ev_timer_init(&sa->expiry, ike_on_expiry, sa);
	ev_timer_init(&sa->rekey, ike_on_rekey, sa);
	ev_timer_init(&sa->dpd_timer, NULL, sa);
	/* A negotiation that does not finish within a minute is abandoned. */
	ev_timer_start(eng->loop, &sa->expiry, 60000);
	return sa;
}

void ike_sa_up(struct ike_sa *sa)
{
	struct ike_engine *eng = sa->eng;
	uint32_t life = sa->lifetime_s;

	ike_halfopen_del(eng, sa);
	ike_sa_set_state(sa, IKE_ESTABLISHED, "authenticated");
	sa->up_ms = ev_loop_now_ms(eng->loop);
	eng->ctr.ike_established++;
	ike_mm_data_free(sa);
	ev_timer_start(eng->loop, &sa->expiry, (uint64_t)life * 1000);
	if (sa->initiator && life > eng->cfg.rekey_margin_s)
		ev_timer_start(eng->loop, &sa->rekey,
			       (uint64_t)(life - eng->cfg.rekey_margin_s) * 1000);
	if (eng->ops.ike_up)
		eng->ops.ike_up(eng->ops.arg, sa);
	ike_dpd_start(sa);
}

void ike_sa_destroy(struct ike_sa *sa, const char *why)
{
	struct ike_engine *eng = sa->eng;

	ike_sa_unlink(eng, sa);
	ike_sa_set_state(sa, IKE_DEAD, why);
	ike_halfopen_del(eng, sa);
	if (eng->ops.ike_down)
		eng->ops.ike_down(eng->ops.arg, sa, why);
	/* Children outlive their ISAKMP SA in IKEv1; they just lose their parent. */
	for (struct ike_child *c = ike_child_first_of(eng, sa->peer); c != NULL; c = c->peer_next)
		if (c->ike == sa)
			c->ike = NULL;
	while (sa->qms != NULL) {
		struct ike_qm *qm = sa->qms;
		sa->qms = qm->next;
		ike_qm_free(qm);
	}
	ike_xmit_free(sa, &sa->x);
	ev_timer_stop(eng->loop, &sa->expiry);
	ev_timer_stop(eng->loop, &sa->rekey);
	ev_timer_stop(eng->loop, &sa->dpd_timer);
	ike_mm_data_free(sa);
	OPENSSL_cleanse(sa, sizeof(*sa));
	free(sa);
}

void ike_sa_fail(struct ike_sa *sa, const char *why)
{
	/* An unproven responder's failures are a spoofer's to cause: rate-limited. */
	if (ike_sa_unproven(sa))
		log_rl_notice("ISAKMP SA with %s failed: %s", IP4_STR(sa->peer), why);
	else
		log_notice("ISAKMP SA with %s failed: %s", IP4_STR(sa->peer), why);
	sa->eng->ctr.ike_failed++;
	ike_sa_destroy(sa, why);
}

/* ---- sending and retransmission ---- */

static void ike_send_raw(struct ike_sa *sa, const uint8_t *msg, size_t len)
{
	uint8_t buf[IKE_MARKER_LEN + IKE_MSG_MAX];
	struct ike_engine *eng = sa->eng;

	eng->ctr.tx_messages++;
	if (sa->local_port == ISAKMP_NATT_PORT) {
		/* RFC 3948 2.2: IKE on port 4500 starts with four zero bytes. */
		memset(buf, 0, IKE_MARKER_LEN);
		memcpy(buf + IKE_MARKER_LEN, msg, len);
		eng->ops.send(eng->ops.arg, sa->local, sa->local_port, sa->peer, sa->peer_port, buf,
			      len + IKE_MARKER_LEN);
		return;
	}
	eng->ops.send(eng->ops.arg, sa->local, sa->local_port, sa->peer, sa->peer_port, msg, len);
}

void ike_send(struct ike_sa *sa, struct ike_xmit *x, const uint8_t *msg, size_t len,
	      bool await_reply)
{
	uint8_t *keep;

	if (len > IKE_MSG_MAX) {
		log_err("message of %zu bytes too large", len);
		return;
	}
	keep = realloc(x->out, len);
	if (keep == NULL) {
		log_err("no memory to keep a message for retransmission");
		return;
	}
	memcpy(keep, msg, len);
	x->out = keep;
	x->out_len = len;
	x->out_answers_in = x->have_in;
	x->awaiting = await_reply;
	x->tries = 0;
	x->next_ms = sa->eng->cfg.retrans_ms;
	ike_send_raw(sa, msg, len);
	if (await_reply)
		ev_timer_start(sa->eng->loop, &x->timer, x->next_ms);
	else
		ev_timer_stop(sa->eng->loop, &x->timer);
}

void ike_xmit_done(struct ike_sa *sa, struct ike_xmit *x)
{
	x->awaiting = false;
	ev_timer_stop(sa->eng->loop, &x->timer);
}

/* Find which xmit a timer belongs to: the SA's own or one of its Quick Modes. */
static void ike_on_retx(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct ike_sa *sa = arg;
	struct ike_xmit *x =
		(struct ike_xmit *)(void *)((char *)t - offsetof(struct ike_xmit, timer));

	if (!x->awaiting)
		return;
	if (++x->tries > sa->eng->cfg.retrans_tries) {
		if (x == &sa->x) {
			ike_sa_fail(sa, "no answer from the peer");
			return;
		}
		x->awaiting = false;
		ike_qm_give_up((struct ike_qm *)(void *)((char *)x - offsetof(struct ike_qm, x)));
		return;
	}
	sa->eng->ctr.retransmits++;
	x->next_ms *= 2;
	log_rl_info("retransmitting to %s (try %u)", IP4_STR(sa->peer), x->tries);
	ike_send_raw(sa, x->out, x->out_len);
	ev_timer_start(loop, t, x->next_ms);
}

bool ike_duplicate(struct ike_sa *sa, struct ike_xmit *x, const uint8_t *msg, size_t len)
{
	uint8_t h[IKE_MAX_HASH];
	struct ike_chunk c[] = {IKE_CHUNK(msg, len)};

	if (ike_hash(IKE_HASH_SHA2_256, c, 1, h) < 0)
		return false;
	if (x->have_in && memcmp(h, x->in_hash, 32) == 0) {
		sa->eng->ctr.drop_duplicate++;
		/*
		 * The same message again: our answer to it (or, for an initiator,
		 * our next request) was lost.  Send it again, but only an answer
		 * to this very message: the last message of an exchange has none.
		 */
		if (x->out_len > 0 && x->out_answers_in)
			ike_send_raw(sa, x->out, x->out_len);
		return true;
	}
	memcpy(x->in_hash, h, 32);
	x->have_in = true;
	x->out_answers_in = false;
	return false;
}

/* ---- protection ---- */

int ike_seal(struct ike_sa *sa, uint8_t exchange, uint32_t msgid, uint8_t first, uint8_t *chain,
	     size_t plen, uint8_t iv[IKE_BLOCK], uint8_t *out, size_t *out_len)
{
	struct isakmp_hdr h = {
		.next = first, .exchange = exchange, .flags = ISAKMP_FLAG_E, .msgid = msgid};
	size_t padded = (plen + IKE_BLOCK) / IKE_BLOCK * IKE_BLOCK;
	struct buf b;

	/* RFC 2409 appendix B: pad to the block size; the last byte counts the padding. */
	if (ISAKMP_HDR_LEN + padded > IKE_MSG_MAX)
		return -1;
	memset(chain + plen, 0, padded - plen);
	chain[padded - 1] = (uint8_t)(padded - plen - 1);
	memcpy(h.icookie, sa->icookie, ISAKMP_COOKIE_LEN);
	memcpy(h.rcookie, sa->rcookie, ISAKMP_COOKIE_LEN);
	h.length = (uint32_t)(ISAKMP_HDR_LEN + padded);
	if (ike_cbc_encrypt(sa->keys.enc_key, sa->keys.enc_key_len, iv, chain, padded) < 0)
		return -1;
	buf_init_write(&b, out, IKE_MSG_MAX);
	if (isakmp_hdr_put(&b, &h) != ISAKMP_OK || buf_put_bytes(&b, chain, padded) != BUF_OK)
		return -1;
	*out_len = buf_used(&b);
	return 0;
}

int ike_open(struct ike_sa *sa, uint8_t *msg, size_t len, const uint8_t iv[IKE_BLOCK],
	     uint8_t iv_next[IKE_BLOCK])
{
	uint8_t v[IKE_BLOCK];

	if (!sa->have_keys || len <= ISAKMP_HDR_LEN || (len - ISAKMP_HDR_LEN) % IKE_BLOCK != 0)
		return -1;
	memcpy(v, iv, IKE_BLOCK);
	if (ike_cbc_decrypt(sa->keys.enc_key, sa->keys.enc_key_len, v, msg + ISAKMP_HDR_LEN,
			    len - ISAKMP_HDR_LEN) < 0)
		return -1;
	memcpy(iv_next, v, IKE_BLOCK);
	return 0;
}

/*
 * CBC has no integrity of its own: a wrong key or a damaged ciphertext
 * shows as a plaintext that is no payload chain.  That is told apart from
 * a wrong HASH (drop_bad_hash), which only a message that decrypts can
 * carry.
 */
int ike_open_chain(struct ike_sa *sa, uint8_t *msg, size_t len, const uint8_t iv[IKE_BLOCK],
		   uint8_t iv_next[IKE_BLOCK], struct isakmp_chain *c)
{
	if (ike_open(sa, msg, len, iv, iv_next) == 0 &&
	    isakmp_chain_parse(msg[16], msg + ISAKMP_HDR_LEN, len - ISAKMP_HDR_LEN, ISAKMP_HDR_LEN,
			       ISAKMP_PARSE_PADDING, c, NULL) == ISAKMP_OK)
		return 0;
	sa->eng->ctr.drop_decrypt++;
	return -1;
}

/* ---- input ---- */

static struct ike_sa *ike_sa_lookup(struct ike_engine *eng, const struct isakmp_hdr *h)
{
	static const uint8_t zero[ISAKMP_COOKIE_LEN];

	for (struct ike_sa *sa = u32map_get(&eng->sa_by_cookie, ike_cookie_key(h->icookie));
	     sa != NULL; sa = sa->cookie_next) {
		if (memcmp(sa->icookie, h->icookie, ISAKMP_COOKIE_LEN) != 0)
			continue;
		/*
		 * An initiator learns the responder cookie from the first answer;
		 * a retransmitted message 1 has none yet, and may reach only a
		 * responder still in Main Mode: an SA that is up has both cookies.
		 */
		if (memcmp(sa->rcookie, h->rcookie, ISAKMP_COOKIE_LEN) == 0 ||
		    (sa->initiator && sa->state == IKE_MM_I1 &&
		     memcmp(sa->rcookie, zero, ISAKMP_COOKIE_LEN) == 0) ||
		    (!sa->initiator && (sa->state == IKE_MM_R2 || sa->state == IKE_MM_R4) &&
		     memcmp(h->rcookie, zero, ISAKMP_COOKIE_LEN) == 0))
			return sa;
	}
	return NULL;
}

static void ike_input_new(struct ike_engine *eng, const struct isakmp_hdr *h, struct in_addr local,
			  uint16_t lport, struct in_addr peer, uint16_t pport, const uint8_t *msg,
			  size_t len)
{
	static const uint8_t zero[ISAKMP_COOKIE_LEN];
	struct isakmp_msg m;
	struct isakmp_error err;
	const struct ike_peer *pc;
	struct ike_sa *sa;

	if (h->exchange != ISAKMP_EXCH_MAIN || memcmp(h->rcookie, zero, ISAKMP_COOKIE_LEN) != 0 ||
	    h->msgid != 0 || (h->flags & ISAKMP_FLAG_E)) {
		eng->ctr.drop_unknown_sa++;
		log_rl_notice("%s from %s for no ISAKMP SA we know, dropped",
			      isakmp_exchange_name(h->exchange), IP4_STR(peer));
		return;
	}
	pc = eng->ops.peer_lookup ? eng->ops.peer_lookup(eng->ops.arg, peer) : NULL;
	if (pc == NULL) {
		eng->ctr.drop_peer_unknown++;
		log_rl_notice("Main Mode from %s: no peer configured for that address",
			      IP4_STR(peer));
		ike_notify_plain(eng, h, local, lport, peer, pport, ISAKMP_N_NO_PROPOSAL_CHOSEN);
		return;
	}
	if (isakmp_msg_parse(msg, len, 0, &m, &err) != ISAKMP_OK) {
		char e[160];
		eng->ctr.drop_malformed++;
		log_rl_notice("Main Mode from %s: %s", IP4_STR(peer),
			      isakmp_error_str(&err, e, sizeof(e)));
		if (err.notify)
			ike_notify_plain(eng, h, local, lport, peer, pport, err.notify);
		return;
	}
	if (!ike_halfopen_admit(eng, peer))
		return;
	sa = ike_sa_new(eng, false, local, lport, peer, pport, h->icookie);
	if (sa == NULL)
		return;
	ike_halfopen_add(eng, sa);
	sa->peer_cfg = pc;
	ike_random(sa->rcookie, ISAKMP_COOKIE_LEN);
	if (ike_duplicate(sa, &sa->x, msg, len))
		return;
	ike_mm_input(sa, &m, msg, len);
}

/* A message under an existing ISAKMP SA: Main Mode, Quick Mode or Informational. */
static void ike_input_sa(struct ike_sa *sa, const struct isakmp_hdr *h, uint8_t *msg, size_t len)
{
	struct ike_engine *eng = sa->eng;

	switch (h->exchange) {
	case ISAKMP_EXCH_MAIN: {
		struct isakmp_msg m;
		struct isakmp_error err;
		if (h->msgid != 0) {
			eng->ctr.drop_malformed++;
			return;
		}
		if (ike_duplicate(sa, &sa->x, msg, len))
			return;
		if (!(h->flags & ISAKMP_FLAG_E)) {
			if (isakmp_msg_parse(msg, len, 0, &m, &err) != ISAKMP_OK) {
				char e[160];
				eng->ctr.drop_malformed++;
				sa->x.have_in = false;
				log_rl_notice("Main Mode from %s: %s", IP4_STR(sa->peer),
					      isakmp_error_str(&err, e, sizeof(e)));
				return;
			}
			ike_mm_input(sa, &m, msg, len);
			return;
		}
		/* Messages 5 and 6: ike_mm_input decrypts along the phase-1 IV chain. */
		memset(&m, 0, sizeof(m));
		m.hdr = *h;
		ike_mm_input(sa, &m, msg, len);
		return;
	}
	case ISAKMP_EXCH_QUICK:
		if (sa->state != IKE_ESTABLISHED || !(h->flags & ISAKMP_FLAG_E) || h->msgid == 0) {
			eng->ctr.drop_state++;
			log_rl_notice("Quick Mode from %s before phase 1 completed, or unprotected",
				      IP4_STR(sa->peer));
			return;
		}
		ike_qm_input(sa, ike_qm_find(sa, h->msgid), msg, len);
		return;
	case ISAKMP_EXCH_INFO:
		ike_info_input(sa, msg, len);
		return;
	default:
		eng->ctr.drop_exchange_type++;
		log_rl_notice("%s exchange from %s not supported",
			      isakmp_exchange_name(h->exchange), IP4_STR(sa->peer));
		ike_notify_send(sa, ISAKMP_N_INVALID_EXCHANGE_TYPE, ISAKMP_PROTO_ISAKMP, NULL, 0,
				NULL, 0);
	}
}

void ike_input(struct ike_engine *eng, struct in_addr local, uint16_t lport, struct in_addr peer,
	       uint16_t pport, const uint8_t *msg, size_t len)
{
	struct isakmp_hdr h;
	struct isakmp_error err;
	uint8_t copy[IKE_MSG_MAX];
	struct ike_sa *sa;

	eng->ctr.rx_messages++;
	if (len > sizeof(copy) || isakmp_hdr_parse(msg, len, &h, &err) != ISAKMP_OK) {
		char e[160];
		eng->ctr.drop_malformed++;
		log_rl_notice("from %s: %s", IP4_STR(peer),
			      len > sizeof(copy) ? "message too large"
						 : isakmp_error_str(&err, e, sizeof(e)));
		return;
	}
	if (h.exchange == ISAKMP_EXCH_AGGRESSIVE) {
		/* A PSK in Aggressive Mode can be brute-forced offline from one exchange. */
		eng->ctr.drop_aggressive++;
		log_rl_notice("Aggressive Mode from %s refused: only Main Mode is accepted",
			      IP4_STR(peer));
		ike_notify_plain(eng, &h, local, lport, peer, pport,
				 ISAKMP_N_INVALID_EXCHANGE_TYPE);
		return;
	}
	memcpy(copy, msg, len);
	sa = ike_sa_lookup(eng, &h);
	if (sa == NULL) {
		ike_input_new(eng, &h, local, lport, peer, pport, copy, len);
		return;
	}
	/*
	 * RFC 3947: the peer may move to port 4500 (or its NAT may change
	 * ports), but only a message that authenticates may move us: see
	 * ike_sa_float().
	 */
	sa->rx_lport = lport;
	sa->rx_pport = pport;
	sa->rx_peer = peer;
	ike_input_sa(sa, &h, copy, len);
}

void ike_sa_float(struct ike_sa *sa)
{
	if (sa->rx_peer.s_addr != sa->peer.s_addr ||
	    (sa->rx_pport == sa->peer_port && sa->rx_lport == sa->local_port))
		return;
	/* RFC 3947 7: the host behind a NAT does not follow the peer to new ports. */
	if (sa->nat_here && sa->local_port == ISAKMP_NATT_PORT)
		return;
	log_info("ISAKMP SA with %s: ports now %u -> %u", IP4_STR(sa->peer), sa->rx_lport,
		 sa->rx_pport);
	sa->peer_port = sa->rx_pport;
	sa->local_port = sa->rx_lport;
}

/* ---- initiating and introspection ---- */

struct ike_sa *ike_initiate(struct ike_engine *eng, const struct ike_peer *peer,
			    struct in_addr local)
{
	struct ike_sa *sa =
		ike_sa_new(eng, true, local, ISAKMP_PORT, peer->addr, ISAKMP_PORT, NULL);

	if (sa == NULL)
		return NULL;
	sa->peer_cfg = peer;
	ike_mm_start(sa);
	return sa;
}

bool ike_sa_established(const struct ike_sa *sa)
{
	return sa->state == IKE_ESTABLISHED;
}

struct ike_sa *ike_sa_find_peer(struct ike_engine *eng, struct in_addr peer)
{
	struct ike_sa *best = NULL;

	for (struct ike_sa *sa = ike_sa_first_of(eng, peer); sa != NULL; sa = sa->peer_next)
		if (sa->state == IKE_ESTABLISHED && (best == NULL || sa->up_ms > best->up_ms))
			best = sa;
	return best;
}

struct ike_child *ike_children(struct ike_engine *eng)
{
	return eng->children;
}

const struct ike_sa *ike_sa_next(const struct ike_engine *eng, const struct ike_sa *sa)
{
	return sa == NULL ? eng->sas : sa->next;
}

void ike_sa_get_info(const struct ike_sa *sa, struct ike_sa_info *info)
{
	info->peer = sa->peer;
	info->peer_port = sa->peer_port;
	info->initiator = sa->initiator;
	info->state = ike_state_name(sa->state);
	memcpy(info->icookie, sa->icookie, sizeof(info->icookie));
	memcpy(info->rcookie, sa->rcookie, sizeof(info->rcookie));
	info->prop = sa->prop;
	info->peer_id = &sa->peer_id;
	info->nat = sa->nat_here || sa->nat_there;
	info->up_ms = sa->up_ms;
}

void ike_peer_delete(struct ike_engine *eng, struct in_addr peer, const char *why)
{
	struct ike_child *c, *next;

	for (c = ike_child_first_of(eng, peer); c != NULL; c = next) {
		next = c->peer_next;
		ike_child_delete(eng, c, why);
	}
	for (struct ike_sa *sa = ike_sa_first_of(eng, peer), *n; sa != NULL; sa = n) {
		n = sa->peer_next;
		if (sa->state == IKE_ESTABLISHED)
			ike_delete_send(sa, ISAKMP_PROTO_ISAKMP, NULL, 0);
		ike_sa_destroy(sa, why);
	}
}

int ike_export_ikev1_keys(struct ike_engine *eng, char *out, size_t cap)
{
	size_t n = 0;

	out[0] = '\0';
	for (struct ike_sa *sa = eng->sas; sa != NULL; sa = sa->next) {
		if (!sa->have_keys)
			continue;
		char line[3 * IKE_MAX_KEY + 64];
		size_t l = 0;
		for (int i = 0; i < ISAKMP_COOKIE_LEN; i++)
			l += (size_t)snprintf(line + l, sizeof(line) - l, "%02x", sa->icookie[i]);
		l += (size_t)snprintf(line + l, sizeof(line) - l, ",");
		for (size_t i = 0; i < sa->keys.enc_key_len; i++)
			l += (size_t)snprintf(line + l, sizeof(line) - l, "%02x",
					      sa->keys.enc_key[i]);
		if (n + l + 2 > cap)
			return -1;
		n += (size_t)snprintf(out + n, cap - n, "%s\n", line);
		OPENSSL_cleanse(line, sizeof(line));
	}
	return (int)n;
}
