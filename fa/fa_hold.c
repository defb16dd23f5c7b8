/*
 * The hold queue (fa_hold.h).  Held packets are the node's data from the
 * home agent's tunnel and our own packets to it: nothing here is sent
 * except through the node's SAs (fa_sec_to_node), and nothing is kept
 * longer than FA_HOLD_MS or beyond FA_HOLD_PACKETS and FA_HOLD_BYTES per
 * node and FA_HOLD_NODES nodes (16 MiB in all), so a node that never
 * finishes its Quick Mode, or a flood towards it, costs a bounded amount.
 */
#include "fa_hold.h"
#include "fa_sec.h"
#include "ip4.h"
#include "log.h"

#include <stdlib.h>
#include <string.h>

struct fa_held {
	uint8_t mac[6];
	size_t len;
	uint8_t *pkt;
};

struct fa_hold_q {
	struct fa_sec *s;
	struct in_addr dst;
	size_t n, bytes;
	struct fa_held p[FA_HOLD_PACKETS];
	struct ev_timer timer;
};

/* q, unhooked from s->held already. */
static void fa_hold_q_free(struct fa_hold_q *q)
{
	ev_timer_stop(q->s->loop, &q->timer);
	for (size_t i = 0; i < q->n; i++)
		free(q->p[i].pkt);
	free(q);
}

/* The Quick Mode took too long: what we held goes. */
static void fa_hold_expired(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct fa_hold_q *q = arg;

	(void)loop;
	(void)t;
	q->s->ctr.held_dropped += q->n;
	log_rl_info("%zu packets held for %s dropped: no IPsec SA within %u ms", q->n,
		    IP4_STR(q->dst), FA_HOLD_MS);
	u32map_del(&q->s->held, q->dst.s_addr);
	fa_hold_q_free(q);
}

static struct fa_hold_q *fa_hold_q_new(struct fa_sec *s, struct in_addr dst)
{
	struct fa_hold_q *q;

	if (u32map_len(&s->held) >= FA_HOLD_NODES || (q = calloc(1, sizeof(*q))) == NULL)
		return NULL;
	if (u32map_put(&s->held, dst.s_addr, q) < 0) {
		free(q);
		return NULL;
	}
	q->s = s;
	q->dst = dst;
	ev_timer_init(&q->timer, fa_hold_expired, q);
	ev_timer_start(s->loop, &q->timer, FA_HOLD_MS);
	return q;
}

bool fa_hold(struct fa_sec *s, const uint8_t mac[6], struct in_addr dst, const uint8_t *pkt,
	     size_t len)
{
	struct fa_hold_q *q = u32map_get(&s->held, dst.s_addr);
	struct fa_held *h;

	if (q == NULL)
		q = fa_hold_q_new(s, dst);
	if (q == NULL || q->n == FA_HOLD_PACKETS || len > FA_HOLD_BYTES - q->bytes)
		return false;
	h = &q->p[q->n];
	h->pkt = malloc(len);
	if (h->pkt == NULL)
		return false;
	memcpy(h->pkt, pkt, len);
	memcpy(h->mac, mac, sizeof(h->mac));
	h->len = len;
	q->bytes += len;
	q->n++;
	s->ctr.held++;
	return true;
}

void fa_hold_drop(struct fa_sec *s, struct in_addr dst)
{
	struct fa_hold_q *q = s->held.len == 0 ? NULL : u32map_del(&s->held, dst.s_addr);

	if (q == NULL)
		return;
	s->ctr.held_dropped += q->n;
	fa_hold_q_free(q);
}

size_t fa_hold_flush(struct fa_sec *s, struct in_addr dst)
{
	struct fa_hold_q *q = s->held.len == 0 ? NULL : u32map_get(&s->held, dst.s_addr);
	struct ipsec_pair *p = q == NULL ? NULL : ipsec_find(&s->ep.sas, dst.s_addr);
	size_t sent = 0;

	/* a pair taken over may not send yet (our store copy first): they wait for that */
	if (p == NULL || !ipsec_may_send(p))
		return 0;
	/* unhooked first: a packet sent here cannot come back to this queue */
	u32map_del(&s->held, dst.s_addr);
	for (size_t i = 0; i < q->n; i++)
		if (fa_sec_to_node(s, q->p[i].mac, dst, q->p[i].pkt, q->p[i].len))
			sent++;
		else
			s->ctr.held_dropped++;
	s->ctr.held_sent += sent;
	fa_hold_q_free(q);
	return sent;
}

void fa_hold_free_all(struct fa_sec *s)
{
	size_t it = 0;
	uint32_t k;
	void *v;

	while (u32map_next(&s->held, &it, &k, &v))
		fa_hold_q_free(v);
	u32map_free(&s->held);
}
