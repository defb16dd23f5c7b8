/*
 * Offers: the SAs a member holds, at the other members ahead of a
 * hand-over (fa_offer.h, doc/sa-reuse.md "Offers").
 *
 * An ISAKMP SA carries no sequence numbers: two FAs holding one for a
 * while send nothing twice under a key.  An IPsec SA pair does: each
 * member gets its own block of outbound numbers, above anything we may
 * send, and uses it at most once (the offer goes when taken); we never
 * send within a block we gave, and the one member whose confirmation we
 * answer with our top goes on above it (fa_reuse.c, fa_taken).  What a
 * copy can be is stale: the node negotiated anew since (its claim names
 * other cookies), or moved on to another FA (it names that one).  Either
 * way the claim does not check out against the copy, and the new FA asks
 * the FA the node names, as without offers.  Nothing here changes what a
 * hand-over counts as: the home agent accepts the registration, and the
 * new FA confirms to the previous one, as after a transfer.
 */
#include "fa_offer.h"
#include "fa_reuse.h"
#include "fa_sec.h"
#include "ike_xfer.h"
#include "ip4.h"
#include "log.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

struct fa_offer {
	struct in_addr from; /* the member that holds the node's SAs */
	uint64_t sent_ms;    /* its timestamp: a later offer replaces an earlier one */
	struct sax_record rec;
};

/* Whom the holder released a node's SAs to (fa_offer_released). */
struct fa_released {
	struct in_addr to;
	uint64_t top;
	uint64_t at_ms;
};

/* void *: it is also fa_map_room's drop() */
static void fa_offer_drop(void *o)
{
	OPENSSL_cleanse(o, sizeof(struct fa_offer));
	free(o);
}

/*
 * Full reuse: a block of outbound numbers for each member, in the offer
 * to it alone (each is sealed on its own).  No offer at all when a pair
 * cannot give blocks (lent, on a loan of ours, out of numbers): the
 * members then ask, as without offers, and the pair's answer is exact.
 */
static void fa_offer_send_blocks(struct fa_sec *s, struct sax_msg *m, const struct in_addr *to,
				 size_t n)
{
	uint64_t first[SAX_MAX_CHILDREN], block = s->dom->seq_reserve;

	for (size_t c = 0; c < m->rec.n_children; c++) {
		struct sax_child *ch = &m->rec.children[c];
		struct ipsec_pair *p = ipsec_find_spi(&s->ep.sas, ch->spi_in);
		struct esp_sa_state in;

		first[c] = p != NULL ? ipsec_offer(p, block, n) : 0;
		if (first[c] == 0) {
			log_rl_debug("no offer of %s's IPsec SAs: pair 0x%08x gives no numbers",
				     IP4_STR(m->rec.home_addr), ch->spi_in);
			return;
		}
		esp_sa_export_state(&p->in, &in);
		ch->replay_top = in.replay.top;
	}
	for (size_t i = 0; i < n; i++) {
		for (size_t c = 0; c < m->rec.n_children; c++) {
			m->rec.children[c].seq_out = first[c] + i * block;
			m->rec.children[c].loan_cap = first[c] + (i + 1) * block;
		}
		if (fa_sax_send_many(s, &to[i], 1, m, NULL) == 0)
			s->reuse.offers_sent++;
	}
}

void fa_offer_push(struct fa_sec *s, struct in_addr home)
{
	const struct ike_peer *pc = ipsec_conf_peer(s->ic, home);
	bool full = s->dom->reuse == FA_REUSE_FULL;
	struct in_addr to[FA_MAX_MEMBERS];
	struct sax_msg *m;
	size_t n = 0;

	if (!fa_offers_on(s->dom) || s->ep.ike == NULL || pc == NULL || pc->id.len == 0 ||
	    pc->id.len > SAX_ID_MAX || u32map_get(&s->handed, home.s_addr) != NULL)
		return;
	/* every member listed; a member_prefix alone names none to send to */
	for (size_t i = 0; i < s->dom->n_members; i++)
		if (s->dom->members[i].s_addr != s->fa->cfg.coa.s_addr)
			to[n++] = s->dom->members[i];
	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		log_rl_err("offer of %s's ISAKMP SA: out of memory", IP4_STR(home));
		return;
	}
	if (n > 0 && ike_export(s->ep.ike, home, full, &m->rec) == 0) {
		m->type = SAX_OFFER;
		m->has_record = true;
		m->rec.home_addr = home;
		m->rec.prev_coa = s->fa->cfg.coa;
		m->expires_ms = m->rec.isakmp.expires_ms;
		m->mn_id_len = pc->id.len;
		memcpy(m->mn_id, pc->id.data, pc->id.len);
		if (m->rec.n_children > 0)
			fa_offer_send_blocks(s, m, to, n);
		else if (fa_sax_send_many(s, to, n, m, NULL) == 0)
			s->reuse.offers_sent += n; /* the same bytes for all: sealed once */
	}
	sax_record_wipe(&m->rec);
	OPENSSL_cleanse(m, sizeof(*m));
	free(m);
}

/* Why m cannot be kept, or NULL. */
static const char *fa_offer_refusal(const struct fa_sec *s, const struct sax_msg *m)
{
	const struct ike_peer *pc;

	if (!fa_offers_on(s->dom))
		return "this FA takes no offers (domain.offers, partial reuse, direct)";
	if (!fa_member(s->dom, m->sender))
		return "not a member of the domain";
	/* An FA offers what it holds itself: the record names it as its writer. */
	if (m->rec.prev_coa.s_addr != m->sender.s_addr)
		return "the record names another FA as its writer";
	if (m->rec.n_children != 0 && s->dom->reuse != FA_REUSE_FULL)
		return "an offer carries the ISAKMP SA alone with partial reuse";
	for (size_t i = 0; i < m->rec.n_children; i++)
		if (m->rec.children[i].loan_cap <= m->rec.children[i].seq_out)
			return "an IPsec SA pair without a block of numbers of its own";
	pc = ipsec_conf_peer(s->ic, m->rec.home_addr);
	if (pc == NULL || pc->id.len != m->mn_id_len ||
	    memcmp(pc->id.data, m->mn_id, m->mn_id_len) != 0)
		return "not a node of ours by that home address and identity";
	return NULL;
}

/*
 * Room for one more in m, which holds at most max: up to 64 of those that
 * gone() says have ended leave first, through drop().  False: full.
 */
static bool fa_map_room(struct u32map *m, size_t max, bool (*gone)(const void *v, uint64_t now_ms),
			void (*drop)(void *v), uint64_t now_ms)
{
	uint32_t keys[64];
	size_t it = 0, n = 0;
	uint32_t k;
	void *v;

	if (u32map_len(m) < max)
		return true;
	while (n < sizeof(keys) / sizeof(keys[0]) && u32map_next(m, &it, &k, &v))
		if (gone(v, now_ms))
			keys[n++] = k;
	for (size_t i = 0; i < n; i++)
		drop(u32map_del(m, keys[i]));
	return n > 0;
}

/* An offer whose SA has ended. */
static bool fa_offer_ended(const void *v, uint64_t now_ms)
{
	return ((const struct fa_offer *)v)->rec.isakmp.expires_ms <= now_ms;
}

void fa_offer_in(struct fa_sec *s, const struct sax_msg *m)
{
	const char *why = fa_offer_refusal(s, m);
	struct in_addr home = m->rec.home_addr;
	struct fa_offer *o = why == NULL ? u32map_get(&s->offers, home.s_addr) : NULL;

	if (why == NULL && o != NULL && o->sent_ms > m->timestamp_ms)
		return; /* overtaken on the way by a later one */
	if (why == NULL && o == NULL) {
		o = fa_map_room(&s->offers, FA_OFFERS_MAX, fa_offer_ended, fa_offer_drop,
				ev_loop_wall_ms(s->loop))
			    ? calloc(1, sizeof(*o))
			    : NULL;
		if (o == NULL || u32map_put(&s->offers, home.s_addr, o) < 0) {
			free(o);
			o = NULL;
			why = "no room for more offers";
		}
	}
	if (why != NULL) {
		s->reuse.offers_refused++;
		log_rl_notice("offer from %s for %.*s: %s", IP4_STR(m->sender), (int)m->mn_id_len,
			      m->mn_id, why);
		return;
	}
	o->from = m->sender;
	o->sent_ms = m->timestamp_ms;
	o->rec = m->rec;
	s->reuse.offers_kept++;
	log_debug("offer from %s for %s kept", IP4_STR(m->sender), IP4_STR(home));
}

enum fa_offer_found fa_offer_take(struct fa_sec *s, struct in_addr home, struct in_addr from,
				  struct sax_record *out)
{
	struct fa_offer *o = u32map_del(&s->offers, home.s_addr);
	enum fa_offer_found r;

	if (o == NULL)
		return FA_OFFER_NONE;
	/* one that has ended is ike_import's to refuse */
	r = o->from.s_addr == from.s_addr ? FA_OFFER_OK : FA_OFFER_STALE;
	if (r == FA_OFFER_OK)
		*out = o->rec;
	fa_offer_drop(o);
	return r;
}

/* Whom we released a node's SAs to, longer ago than a repeated confirmation comes. */
static bool fa_released_old(const void *v, uint64_t now_ms)
{
	return now_ms - ((const struct fa_released *)v)->at_ms > FA_RELEASED_KEEP_MS;
}

void fa_offer_released(struct fa_sec *s, struct in_addr home, struct in_addr to, uint64_t top)
{
	uint64_t now_ms = ev_loop_now_ms(s->loop);
	struct fa_released *r = u32map_get(&s->released, home.s_addr);

	if (r == NULL) {
		r = fa_map_room(&s->released, FA_RELEASED_MAX, fa_released_old, free, now_ms)
			    ? calloc(1, sizeof(*r))
			    : NULL;
		if (r == NULL || u32map_put(&s->released, home.s_addr, r) < 0) {
			/* forgotten, a repeated confirmation gets no top: its sender renegotiates
			 */
			log_rl_warn("no room to remember whom %s's SAs went to", IP4_STR(home));
			free(r);
			return;
		}
	}
	*r = (struct fa_released){.to = to, .top = top, .at_ms = now_ms};
}

uint64_t fa_offer_released_top(struct fa_sec *s, struct in_addr home, struct in_addr to)
{
	struct fa_released *r = u32map_get(&s->released, home.s_addr);

	if (r == NULL)
		return 0;
	if (ev_loop_now_ms(s->loop) - r->at_ms > FA_RELEASED_KEEP_MS) {
		free(u32map_del(&s->released, home.s_addr));
		return 0;
	}
	return r->to.s_addr == to.s_addr ? r->top : 0;
}

void fa_offer_free_all(struct fa_sec *s)
{
	size_t it = 0;
	uint32_t k;
	void *v;

	while (u32map_next(&s->offers, &it, &k, &v))
		fa_offer_drop(v);
	u32map_free(&s->offers);
	it = 0;
	while (u32map_next(&s->released, &it, &k, &v))
		free(v);
	u32map_free(&s->released);
}
