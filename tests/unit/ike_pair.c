#include "ike_pair.h"
#include "ike_creds.h"
#include "ike_crypto.h"
#include "ike_int.h"
#include "isakmp.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef IKE_DATA_DIR
#define IKE_DATA_DIR "tests/data/ike"
#endif

static struct ike_pair_side *side_of(void *arg)
{
	return arg;
}

static struct ike_pair *pair_of(struct ike_pair_side *s)
{
	/* side[0] or side[1] of a pair: step back to the pair. */
	return s->addr.s_addr == htonl(0x0a090001)
		       ? (struct ike_pair *)(void *)((char *)s - offsetof(struct ike_pair, side))
		       : (struct ike_pair *)(void *)((char *)(s - 1) -
						     offsetof(struct ike_pair, side));
}

static void pair_send(void *arg, struct in_addr local, uint16_t lport, struct in_addr peer,
		      uint16_t pport, const uint8_t *msg, size_t len)
{
	struct ike_pair_side *s = side_of(arg);
	struct ike_pair *p = pair_of(s);
	struct ike_pair_msg *m;
	size_t nth = p->sent++;
	bool drop;

	if (p->qlen == IKE_PAIR_QUEUE || len > sizeof(m->data))
		return;
	m = &p->q[p->qlen];
	memset(m, 0, offsetof(struct ike_pair_msg, data));
	m->to = s == &p->side[0] ? 1 : 0;
	m->src = local;
	m->dst = peer;
	m->sport = lport;
	m->dport = pport;
	memcpy(m->data, msg, len);
	m->len = len;
	m->nth = nth;
	drop = p->filter != NULL && p->filter(p, nth, m);
	if (p->log != NULL && p->nlog < p->log_cap) {
		p->log[p->nlog] = *m;
		p->log[p->nlog++].dropped = drop;
	}
	if (drop)
		return;
	p->qlen++;
	/* The link has no delay: delivered at this very moment, once the loop runs. */
	if (p->loop != NULL && !ev_timer_armed(&p->deliver))
		ev_timer_start(p->loop, &p->deliver, 0);
}

static const struct ike_peer *pair_lookup(void *arg, struct in_addr addr)
{
	struct ike_pair_side *s = side_of(arg);
	const struct ike_peer *p = s->peer_now != NULL ? s->peer_now : &s->peer;

	if (s->peer_gone)
		return NULL;
	return p->addr.s_addr == addr.s_addr || p->addr.s_addr == 0 ? p : NULL;
}

static void pair_child_up(void *arg, struct ike_child *c)
{
	struct ike_pair_side *s = side_of(arg);

	if (s->n_up < IKE_PAIR_MAX_CHILDREN)
		s->children[s->n_up] = *c;
	s->n_up++;
}

static void pair_child_down(void *arg, struct ike_child *c, const char *why)
{
	struct ike_pair_side *s = side_of(arg);

	if (s->n_down < IKE_PAIR_MAX_CHILDREN) {
		s->down_spi[s->n_down] = c->spi_in;
		s->down_spi_out[s->n_down] = c->spi_out;
		snprintf(s->down_why[s->n_down], IKE_PAIR_WHY_LEN, "%s", why ? why : "");
	}
	s->n_down++;
}

static void pair_ike_up(void *arg, struct ike_sa *sa)
{
	(void)sa;
	side_of(arg)->ike_up++;
}

static void pair_ike_down(void *arg, struct ike_sa *sa, const char *why)
{
	(void)sa;
	(void)why;
	side_of(arg)->ike_down++;
}

void ike_pair_init(struct ike_pair *p)
{
	memset(p, 0, sizeof(*p));
	for (int i = 0; i < 2; i++) {
		struct ike_pair_side *s = &p->side[i];
		ike_config_defaults(&s->cfg);
		s->cfg.retrans_ms = 100;
		s->addr.s_addr = htonl(0x0a090001 + (uint32_t)i);
		s->peer.addr.s_addr = htonl(0x0a090002 - (uint32_t)i);
		snprintf(s->peer.name, sizeof(s->peer.name), "%s", i == 0 ? "fa" : "mn");
		memcpy(s->peer.psk, "secret", 6);
		s->peer.psk_len = 6;
	}
	ike_id_parse("mn@test", &p->side[0].cfg.local_id);
	ike_id_parse("fa.test", &p->side[1].cfg.local_id);
	ike_id_parse("fa.test", &p->side[0].peer.id);
	ike_id_parse("mn@test", &p->side[1].peer.id);
	inet_pton(AF_INET, "10.7.0.10", &p->side[0].peer.local_net);
	p->side[0].peer.local_plen = 32;
	inet_pton(AF_INET, "10.7.0.10", &p->side[1].peer.remote_net);
	p->side[1].peer.remote_plen = 32;
}

static void side_start(struct ike_pair *p, int i)
{
	struct ike_pair_side *s = &p->side[i];
	struct ike_ops ops = {.send = pair_send,
			      .peer_lookup = pair_lookup,
			      .child_up = pair_child_up,
			      .child_down = pair_child_down,
			      .ike_up = pair_ike_up,
			      .ike_down = pair_ike_down,
			      .arg = s};

	s->eng = ike_engine_new(p->loop, &s->cfg, &ops);
}

static void pair_deliver(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	(void)loop;
	(void)t;
	ike_pair_pump(arg);
}

void ike_pair_start(struct ike_pair *p)
{
	p->loop = ev_loop_new_virtual(IKE_PAIR_START_MS);
	/*
	 * Records the engines export meet code that still reads the system's
	 * wall clock (sax_stamp, test_reuse's checks): start the wall clock there.
	 */
	ev_loop_set_wall_ms(p->loop, ev_wall_ms());
	ev_timer_init(&p->deliver, pair_deliver, p);
	for (int i = 0; i < 2; i++)
		side_start(p, i);
}

static bool drop_all(struct ike_pair *p, size_t nth, struct ike_pair_msg *m)
{
	(void)p;
	(void)nth;
	(void)m;
	return true;
}

void ike_pair_restart(struct ike_pair *p, int i)
{
	bool (*filter)(struct ike_pair *, size_t, struct ike_pair_msg *) = p->filter;
	struct ike_pair_msg *log = p->log;

	/* A crash: whatever the old engine would say on its way out is lost. */
	p->filter = drop_all;
	p->log = NULL;
	ike_engine_free(p->side[i].eng);
	p->filter = filter;
	p->log = log;
	side_start(p, i);
}

void ike_pair_free(struct ike_pair *p)
{
	/* What the engines send while shutting down goes nowhere. */
	p->filter = NULL;
	p->log = NULL;
	for (int i = 0; i < 2; i++) {
		ike_engine_free(p->side[i].eng);
		p->side[i].eng = NULL;
	}
	if (p->loop != NULL)
		ev_timer_stop(p->loop, &p->deliver);
	ev_loop_free(p->loop);
	p->loop = NULL;
	p->qlen = 0;
}

void ike_pair_pump(struct ike_pair *p)
{
	for (int rounds = 0; p->qlen > 0 && rounds < 1000; rounds++) {
		struct ike_pair_msg m = p->q[0];
		memmove(&p->q[0], &p->q[1], (p->qlen - 1) * sizeof(p->q[0]));
		p->qlen--;
		const uint8_t *data = m.data;
		size_t len = m.len;
		if (m.dport == 4500) {
			/* what the daemons do: strip the non-ESP marker (a shorter datagram is not
			 * IKE) */
			if (len < 4)
				continue;
			data += 4;
			len -= 4;
		}
		p->delivered++;
		ike_input(p->side[m.to].eng, m.dst, m.dport, m.src, m.sport, data, len);
	}
}

static bool pair_done(void *arg)
{
	struct ike_pair *p = arg;

	return p->done(p);
}

void ike_pair_run(struct ike_pair *p, uint64_t ms)
{
	ev_loop_advance(p->loop, ms);
}

bool ike_pair_run_until(struct ike_pair *p, uint64_t max_ms, bool (*done)(struct ike_pair *p))
{
	bool met;

	p->done = done;
	met = ev_loop_run_until(p->loop, max_ms, pair_done, p);
	p->done = NULL;
	return met;
}

void ike_pair_establish(struct ike_pair *p)
{
	ike_initiate(p->side[0].eng, &p->side[0].peer, p->side[0].addr);
	ike_pair_pump(p);
}

void ike_pair_flush(struct ike_pair *p)
{
	p->qlen = 0;
}

const struct ike_counters *ike_pair_ctr(struct ike_pair *p, int i)
{
	return ike_engine_counters(p->side[i].eng);
}

size_t ike_pair_children(struct ike_pair *p, int i)
{
	size_t n = 0;

	for (struct ike_child *c = ike_children(p->side[i].eng); c != NULL; c = c->next)
		n++;
	return n;
}

struct ike_creds *ike_pair_creds(const char *name, const char *ca)
{
	char c[512], k[512], a[512];

	snprintf(c, sizeof(c), "%s/%s.pem", IKE_DATA_DIR, name);
	snprintf(k, sizeof(k), "%s/%s.key", IKE_DATA_DIR, name);
	snprintf(a, sizeof(a), "%s/%s.pem", IKE_DATA_DIR, ca);
	return ike_creds_load(c, k, a);
}

void ike_pair_rsa(struct ike_pair *p, struct ike_creds *mn, struct ike_creds *fa)
{
	p->side[0].cfg.auth = IKE_AUTH_RSA_SIG;
	p->side[0].cfg.creds = mn;
	p->side[1].cfg.auth = IKE_AUTH_RSA_SIG;
	p->side[1].cfg.creds = fa;
	memset(p->side[0].peer.psk, 0, sizeof(p->side[0].peer.psk));
	memset(p->side[1].peer.psk, 0, sizeof(p->side[1].peer.psk));
	p->side[0].peer.psk_len = p->side[1].peer.psk_len = 0;
}

/* The receiver's ISAKMP SA of a message: its cookies, keys in hand. */
static struct ike_sa *rx_sa(struct ike_pair *p, const struct ike_pair_msg *m, const uint8_t *d)
{
	for (struct ike_sa *sa = p->side[m->to].eng->sas; sa != NULL; sa = sa->next)
		if (sa->have_keys && memcmp(sa->icookie, d, ISAKMP_COOKIE_LEN) == 0 &&
		    memcmp(sa->rcookie, d + ISAKMP_COOKIE_LEN, ISAKMP_COOKIE_LEN) == 0)
			return sa;
	return NULL;
}

/*
 * The IV the receiver decrypts with (RFC 2409 appendix B): Main Mode's
 * chain, an ongoing Quick Mode's, or a new exchange's from the last
 * phase-1 block and the Message ID.
 */
static int rx_iv(struct ike_sa *sa, const uint8_t *d, uint8_t iv[IKE_BLOCK])
{
	uint32_t msgid =
		(uint32_t)d[20] << 24 | (uint32_t)d[21] << 16 | (uint32_t)d[22] << 8 | d[23];
	struct ike_qm *qm;

	if (d[18] == ISAKMP_EXCH_MAIN) {
		memcpy(iv, sa->iv, IKE_BLOCK);
		return 0;
	}
	if (d[18] == ISAKMP_EXCH_QUICK && (qm = ike_qm_find(sa, msgid)) != NULL) {
		memcpy(iv, qm->iv, IKE_BLOCK);
		return 0;
	}
	return ike_iv_phase2(sa->keys.hash, sa->p1_last, msgid, iv);
}

bool ike_pair_flip_sealed(struct ike_pair *p, struct ike_pair_msg *m, uint8_t type)
{
	size_t mk = m->dport == ISAKMP_NATT_PORT ? IKE_MARKER_LEN : 0;
	uint8_t *d = m->data + mk, pt[IKE_MSG_MAX], iv[IKE_BLOCK], v[IKE_BLOCK];
	size_t len = m->len - mk;
	struct isakmp_chain c;
	struct ike_sa *sa;

	if (m->len <= mk + ISAKMP_HDR_LEN || !(d[19] & ISAKMP_FLAG_E) || len > sizeof(pt) ||
	    (sa = rx_sa(p, m, d)) == NULL || rx_iv(sa, d, iv) < 0)
		return false;
	memcpy(pt, d, len);
	memcpy(v, iv, IKE_BLOCK);
	if (ike_cbc_decrypt(sa->keys.enc_key, sa->keys.enc_key_len, v, pt + ISAKMP_HDR_LEN,
			    len - ISAKMP_HDR_LEN) < 0 ||
	    isakmp_chain_parse(pt[16], pt + ISAKMP_HDR_LEN, len - ISAKMP_HDR_LEN, ISAKMP_HDR_LEN,
			       ISAKMP_PARSE_PADDING, &c, NULL) != ISAKMP_OK)
		return false;
	const struct isakmp_pl *pl = isakmp_chain_find(&c, type, 0);
	if (pl == NULL || pl->len <= ISAKMP_GEN_LEN)
		return false;
	pt[pl->offset + pl->len - 1] ^= 0x01;
	memcpy(v, iv, IKE_BLOCK);
	if (ike_cbc_encrypt(sa->keys.enc_key, sa->keys.enc_key_len, v, pt + ISAKMP_HDR_LEN,
			    len - ISAKMP_HDR_LEN) < 0)
		return false;
	memcpy(d + ISAKMP_HDR_LEN, pt + ISAKMP_HDR_LEN, len - ISAKMP_HDR_LEN);
	return true;
}

struct ike_pair *ike_pair_new(struct ike_pair_msg *log, size_t log_cap)
{
	struct ike_pair *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	ike_pair_init(p);
	p->log = log;
	p->log_cap = log_cap;
	return p;
}

void ike_pair_delete(struct ike_pair *p)
{
	ike_pair_free(p);
	free(p);
}
