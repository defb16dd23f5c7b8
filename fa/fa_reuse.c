/*
 * SA reuse, mipsa-fa's side (doc/design.md#sa-reuse, doc/sa-reuse.md).
 *
 * New FA: a visitor without SAs here registers in the clear with the SA
 * reuse extension (previous FA, ISAKMP cookies, its ESP counters, a proof
 * of possession keyed from the ISAKMP SA).  While the registration goes on
 * to the home agent, we fetch the SAs: a SAX_REQUEST carrying the node's
 * registration to the previous FA (direct) and/or a STORE_GET (store),
 * each with a bounded wait.  The record installs only when the node's
 * proof checks out against it, and nothing goes out on it yet; the home
 * agent's reply waits for the outcome and tells the node: full reuse,
 * partial (run Quick Mode), or refused (negotiate).  Only once the home
 * agent accepted does the take-over count: we write our copy to the store
 * (and send on the SAs when the store has it), and tell the previous FA,
 * which answers RELEASED; until then the SAs are a loan capped at the
 * numbers the previous FA lent us.  A denied or unanswered registration
 * drops what we took in.  Every fallback has a reason, a log line and a
 * counter.
 *
 * Previous FA: a SAX_REQUEST from a member of the domain gets the record
 * only when the node's registration inside it proves possession of our
 * ISAKMP SA, names us and the node, and carries an Identification newer
 * than the node's last registration the home agent accepted through us.
 * We then lend the SAs: we send up to the record's numbers, the next FA
 * above them up to a cap, until its confirmation (STORE_DEL) makes us
 * forget them; without one within lend_timeout_ms we take them back and go
 * on above the cap.  With the store, we keep a copy there whose outbound
 * sequence numbers are reserved ahead, so whoever takes the SAs next
 * starts above anything we may send.
 */
#include "fa_reuse.h"
#include "ctl.h"
#include "fa_hold.h"
#include "fa_offer.h"
#include "fa_sec.h"
#include "ike.h"
#include "ike_xfer.h"
#include "ip4.h"
#include "isakmp.h"
#include "log.h"
#include "mip_conf.h"
#include "mip_ident.h"
#include "mip_msg.h"
#include "reuse_claim.h"

#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#define FA_XFER_KEEP_MS  5000 /* a finished transfer waits this long for the HA's reply */
#define FA_REPLY_MAX     1024
#define FA_CONFIRM_TRIES 8 /* confirmations sent to the previous FA before we give up */

enum fa_xfer_state {
	FA_XF_DIRECT,  /* asking the previous FA */
	FA_XF_STORE,   /* reading the store */
	FA_XF_DONE,    /* the outcome is known: waiting for the home agent's reply */
	FA_XF_CONFIRM, /* accepted: our store copy and the previous FA's RELEASED to come */
};

/* One hand-over in progress at the new FA. */
struct fa_xfer {
	struct fa_sec *s;
	struct in_addr home;
	char mn_id[SAX_ID_MAX + 1];
	struct mip_reuse_req req;
	uint64_t id;              /* the request's Identification */
	uint8_t reg[SAX_REG_MAX]; /* the request through its SA reuse extension */
	size_t reg_len;
	enum fa_xfer_state state;
	uint8_t status, reason;
	bool denied;       /* the home agent said no before the transfer ended */
	bool own;          /* the node came back to us with SAs we still hold */
	bool offered;      /* the SAs came from the previous FA's offer */
	bool after_reply;  /* the commit's own work waits for the node's first datagram */
	bool loan;         /* the previous FA lent the pairs: RELEASED lifts their cap */
	bool confirming;   /* our STORE_DEL waits for the previous FA's RELEASED */
	bool storing;      /* our first store copy is being written */
	bool asked_again;  /* the previous FA was asked a second time (fa_xfer_timeout) */
	unsigned confirms; /* confirmations sent */
	bool reply_held;
	uint8_t reply[FA_REPLY_MAX];
	size_t reply_len;
	uint64_t started_us;
	uint64_t held_at_us; /* the home agent's reply came in first, then */
	struct ev_timer timer;
};

/* A store write in flight: the reservations it carries apply when the store has it. */
struct fa_put {
	struct fa_sec *s;
	struct fa_put *next;
	struct fa_xfer *x; /* the hand-over whose first copy this is */
	struct in_addr home;
	size_t n;
	uint32_t spi[SAX_MAX_CHILDREN];
	uint64_t seq[SAX_MAX_CHILDREN];
};

/*
 * The previous FA: whom it lent a node's SAs to, until that FA confirms or
 * the loan ends (then reclaimed: a late confirmation is refused), or a
 * transfer of the node back to us counts (fa_xfer_commit).
 */
struct fa_handed {
	struct fa_sec *s;
	struct in_addr home, to;
	bool reclaimed;
	struct ev_timer timer;
};

/*
 * Whom we took a node's SAs from (a hand-over that counted; ourselves when
 * the node came back to SAs that never left us), and the Identification
 * of the registration it counted with, until we lend them on.
 */
struct fa_took {
	struct in_addr from;
	uint64_t id;
};

static void fa_xfer_stored(struct fa_xfer *x, bool kept);
static void fa_handed_free(struct fa_handed *h);

static void fa_took_forget(struct fa_sec *s, struct in_addr home)
{
	free(u32map_del(&s->took, home.s_addr));
}

static void fa_note_took(struct fa_sec *s, struct in_addr home, struct in_addr from, uint64_t id)
{
	struct fa_took *t = u32map_get(&s->took, home.s_addr);

	if (t == NULL) {
		t = calloc(1, sizeof(*t));
		if (t == NULL || u32map_put(&s->took, home.s_addr, t) < 0) {
			free(t);
			log_rl_warn("no memory to note whom %s's SAs came from", IP4_STR(home));
			return;
		}
	}
	t->from = from;
	t->id = id;
}

/* ---- configuration ---- */

const struct conf_names fa_domain_names[] = {
	{"reuse", NULL},
	{"technique", NULL},
	{"members", NULL},
	{"member_prefix", NULL},
	{"k_db_file", NULL},
	{"k_sa_file", NULL},
	{"transfer_timeout_ms", NULL},
	{"freshness_window_ms", NULL},
	{"seq_reserve", NULL},
	{"lend_timeout_ms", NULL},
	{"key_overlap_ms", NULL},
	{"offers", NULL},
	{"store", store_conf_names},
	{NULL, NULL},
};

static int fa_domain_keys(struct conf *c, const config_setting_t *g, struct fa_domain *dom)
{
	struct sax_keys k, fk;
	const char *f;
	char err[160];
	int r = -1;

	memset(&k, 0, sizeof(k));
	memset(&fk, 0, sizeof(fk));
	if (conf_str(c, g, "k_db_file", true, &f) != 0)
		goto out;
	if (store_read_key_file(f, k.k_db, err, sizeof(err)) < 0) {
		conf_fail(c, config_setting_get_member(g, "k_db_file"), NULL, "%s", err);
		goto out;
	}
	if (dom->reuse != FA_REUSE_NONE) {
		if (conf_str(c, g, "k_sa_file", true, &f) != 0)
			goto out;
		if (store_read_key_file(f, k.k_sa, err, sizeof(err)) < 0) {
			conf_fail(c, config_setting_get_member(g, "k_sa_file"), NULL, "%s", err);
			goto out;
		}
		k.have_k_sa = true;
		/* Between FAs, not K_DB: the store holds that (sax_fa_keys). */
		if (sax_fa_keys(k.k_sa, &fk) < 0) {
			conf_fail(c, g, "k_sa_file", "key derivation failed");
			goto out;
		}
	}
	sax_ring_init(&dom->keys, &k);
	sax_ring_init(&dom->fa_keys, &fk);
	r = 0;
out:
	sax_keys_wipe(&k);
	sax_keys_wipe(&fk);
	return r;
}

static int fa_domain_members(struct conf *c, const config_setting_t *g, struct fa_domain *dom)
{
	const config_setting_t *list = config_setting_get_member(g, "members");
	int r;

	if (list != NULL) {
		int n = config_setting_length(list);
		if (n > FA_MAX_MEMBERS)
			return conf_fail(c, list, NULL, "at most %d members", FA_MAX_MEMBERS);
		for (int i = 0; i < n; i++) {
			const char *s = config_setting_get_string_elem(list, (unsigned)i);
			if (s == NULL || inet_pton(AF_INET, s, &dom->members[i]) != 1)
				return conf_fail(c, config_setting_get_elem(list, (unsigned)i),
						 NULL, "not an IPv4 address");
		}
		dom->n_members = (size_t)n;
	}
	r = conf_prefix(c, g, "member_prefix", false, &dom->member_net, &dom->member_plen);
	if (r < 0)
		return -1;
	if (r == 0 && dom->member_plen == 0)
		return conf_fail(c, config_setting_get_member(g, "member_prefix"), NULL,
				 "a /0 prefix would make every address a member");
	if (dom->n_members == 0 && r == 1)
		return conf_fail(c, g, "members",
				 "name the domain's FAs (members or member_prefix)");
	return 0;
}

int fa_domain_load(struct conf *c, const config_setting_t *fa, struct fa_domain *dom)
{
	const config_setting_t *g;
	const char *reuse = "none", *tech = "direct";
	uint32_t reserve = 1u << 20;

	memset(dom, 0, sizeof(*dom));
	dom->timeout_ms = 100;
	dom->window_ms = 30000;
	dom->lend_ms = 10000;
	dom->key_overlap_ms = SAX_RING_OVERLAP_DEFAULT;
	dom->offers = true;
	g = conf_group(c, fa, "domain", false);
	if (g == NULL)
		return c->err[0] ? -1 : 0;
	dom->enabled = true;
	if (conf_str(c, g, "reuse", false, &reuse) < 0 ||
	    conf_str(c, g, "technique", false, &tech) < 0)
		return -1;
	if (strcmp(reuse, "none") == 0)
		dom->reuse = FA_REUSE_NONE;
	else if (strcmp(reuse, "partial") == 0)
		dom->reuse = FA_REUSE_PARTIAL;
	else if (strcmp(reuse, "full") == 0)
		dom->reuse = FA_REUSE_FULL;
	else
		return conf_fail(c, config_setting_get_member(g, "reuse"), NULL,
				 "'%s' is not none, partial or full", reuse);
	dom->direct = strcmp(tech, "direct") == 0 || strcmp(tech, "both") == 0;
	dom->store = strcmp(tech, "store") == 0 || strcmp(tech, "both") == 0;
	if (!dom->direct && !dom->store)
		return conf_fail(c, config_setting_get_member(g, "technique"), NULL,
				 "'%s' is not direct, store or both", tech);
	if (fa_domain_members(c, g, dom) < 0 || fa_domain_keys(c, g, dom) < 0 ||
	    conf_uint(c, g, "transfer_timeout_ms", 1, 10000, &dom->timeout_ms) < 0 ||
	    conf_uint(c, g, "freshness_window_ms", 100, 3600000, &dom->window_ms) < 0 ||
	    conf_uint(c, g, "seq_reserve", 1024, 1u << 30, &reserve) < 0 ||
	    conf_uint(c, g, "lend_timeout_ms", 1000, 600000, &dom->lend_ms) < 0 ||
	    conf_uint(c, g, "key_overlap_ms", 0, SAX_RING_OVERLAP_MAX, &dom->key_overlap_ms) < 0 ||
	    conf_bool(c, g, "offers", false, &dom->offers) < 0)
		return -1;
	dom->seq_reserve = reserve;
	if (dom->store && store_conf_load(c, conf_group(c, g, "store", true), &dom->store_cfg) < 0)
		return -1;
	return 0;
}

void fa_domain_free(struct fa_domain *dom)
{
	sax_ring_wipe(&dom->keys);
	sax_ring_wipe(&dom->fa_keys);
	store_config_wipe(&dom->store_cfg);
}

int fa_domain_rotate(struct fa_domain *live, const struct fa_domain *fresh, uint64_t now_ms)
{
	int n;

	if (live->keys.cur.have_k_sa != fresh->keys.cur.have_k_sa) {
		log_err("key rotation: K_SA %s by the new configuration; reuse must be turned "
			"%s by a restart",
			fresh->keys.cur.have_k_sa ? "appears" : "goes",
			fresh->keys.cur.have_k_sa ? "on" : "off");
		return -1;
	}
	live->key_overlap_ms = fresh->key_overlap_ms;
	n = sax_ring_rotate(&live->keys, &fresh->keys.cur, now_ms, live->key_overlap_ms);
	if (live->keys.cur.have_k_sa)
		n += sax_ring_rotate(&live->fa_keys, &fresh->fa_keys.cur, now_ms,
				     live->key_overlap_ms);
	if (n > 0)
		log_notice("domain keys rotated: sent under the old ones for %u ms more, "
			   "accepted for %u ms",
			   live->key_overlap_ms, 2 * live->key_overlap_ms);
	return n;
}

void fa_domain_sweep(struct fa_domain *dom, uint64_t now_ms)
{
	sax_ring_sweep(&dom->keys, now_ms);
	sax_ring_sweep(&dom->fa_keys, now_ms);
}

bool fa_member(const struct fa_domain *dom, struct in_addr a)
{
	uint32_t m = dom->member_plen == 0 ? 0 : htonl(~0u << (32 - dom->member_plen));

	for (size_t i = 0; i < dom->n_members; i++)
		if (dom->members[i].s_addr == a.s_addr)
			return true;
	return dom->member_plen != 0 && (a.s_addr & m) == (dom->member_net.s_addr & m);
}

/* ---- sending sax messages ---- */

int fa_sax_send_many(struct fa_sec *s, const struct in_addr *to, size_t n, struct sax_msg *m,
		     const struct sax_keys *k)
{
	uint8_t out[SAX_MSG_MAX];
	struct buf b;
	enum sax_err e;

	m->version = SAX_VERSION;
	m->sender = s->fa->cfg.coa;
	sax_stamp_at(m, ev_loop_wall_ms(s->loop));
	if (k == NULL)
		k = sax_ring_send(&s->dom->fa_keys, ev_loop_wall_ms(s->loop));
	buf_init_write(&b, out, sizeof(out));
	e = sax_build(&b, m, k);
	if (e != SAX_E_OK) {
		log_err("cannot build a %s: %s", sax_type_name(m->type), sax_err_name(e));
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		s->ops.sax_send(s->ops.arg, to[i], out, buf_used(&b));
	OPENSSL_cleanse(out, sizeof(out));
	return 0;
}

/* k: the keys of the message answered, or NULL for a message we originate. */
static int fa_sax_send(struct fa_sec *s, struct in_addr to, struct sax_msg *m,
		       const struct sax_keys *k)
{
	return fa_sax_send_many(s, &to, 1, m, k);
}

bool fa_offers_on(const struct fa_domain *dom)
{
	/* full reuse: a store copy would promise numbers the offers gave away */
	return dom->direct && dom->offers &&
	       (dom->reuse == FA_REUSE_PARTIAL || (dom->reuse == FA_REUSE_FULL && !dom->store));
}

/* ---- the store's copy ---- */

/*
 * The sequence-number state of each exported pair (ipsec_next_seq): into
 * put, a store write, or, when lend is set, the record for the next FA,
 * which may use the numbers above seq_out up to loan_cap until it confirms.
 */
static void fa_record_seq(struct fa_sec *s, struct sax_record *rec, uint64_t reserve, bool lend,
			  struct fa_put *put)
{
	for (size_t i = 0; i < rec->n_children; i++) {
		struct sax_child *c = &rec->children[i];
		struct ipsec_pair *p = ipsec_find_spi(&s->ep.sas, c->spi_in);
		struct esp_sa_state in;
		if (p == NULL)
			continue;
		esp_sa_export_state(&p->in, &in);
		c->replay_top = in.replay.top;
		c->seq_out = ipsec_next_seq(p, reserve);
		if (lend) {
			c->loan_cap = ipsec_lend(p, c->seq_out, s->dom->seq_reserve);
		} else if (put != NULL && put->n < SAX_MAX_CHILDREN) {
			ipsec_reserve(p, c->seq_out);
			put->spi[put->n] = p->in.spi;
			put->seq[put->n++] = c->seq_out;
		}
	}
}

static void fa_put_unlink(struct fa_put *pp)
{
	for (struct fa_put **q = &pp->s->puts; *q != NULL; q = &(*q)->next)
		if (*q == pp) {
			*q = pp->next;
			return;
		}
}

/*
 * Our copy of a node's SAs did not reach the store (down, failing over):
 * write it again later, or the node's next hand-over finds an older copy,
 * or none, and negotiates.
 */
static void fa_store_unsaved(struct fa_sec *s, struct in_addr home, bool saved)
{
	if (saved) {
		u32map_del(&s->unsaved, home.s_addr);
		return;
	}
	if (u32map_put(&s->unsaved, home.s_addr, (void *)(uintptr_t)1) < 0)
		log_rl_warn("no memory to remember that %s's store copy failed", IP4_STR(home));
	else if (!ev_timer_armed(&s->unsaved_timer))
		ev_timer_start(s->loop, &s->unsaved_timer, FA_STORE_RETRY_MS);
}

static void fa_store_put_done(void *arg, const struct store_result *r)
{
	struct fa_put *pp = arg;
	struct fa_sec *s = pp->s;

	fa_put_unlink(pp);
	fa_store_unsaved(s, pp->home, r->status == STORE_OK);
	for (size_t i = 0; i < pp->n; i++) {
		struct ipsec_pair *p = ipsec_find_spi(&s->ep.sas, pp->spi[i]);
		if (p != NULL)
			ipsec_reserve_done(p, pp->seq[i], r->status == STORE_OK);
	}
	if (r->status != STORE_OK) {
		s->reuse.store_put_failures++;
		log_rl_warn("store kept no copy of %s's SAs: %s", r->mn_id,
			    store_status_name(r->status));
	}
	if (pp->x != NULL)
		fa_xfer_stored(pp->x, r->status == STORE_OK);
	free(pp);
}

/* A write that never left: nothing pending (the limits it set stay: they are safe). */
static void fa_put_abandon(struct fa_sec *s, struct fa_put *pp)
{
	s->reuse.store_put_failures++;
	for (size_t i = 0; i < pp->n; i++) {
		struct ipsec_pair *p = ipsec_find_spi(&s->ep.sas, pp->spi[i]);
		if (p != NULL)
			ipsec_reserve_done(p, pp->seq[i], false);
	}
	pp->n = 0;
}

static const struct ike_peer *fa_peer_of(struct fa_sec *s, struct in_addr home)
{
	return ipsec_conf_peer(s->ic, home);
}

/*
 * Write our copy of a node's SAs to the store.  0: under way, its
 * callback follows (and tells x, a hand-over waiting for it, if any).
 */
static int fa_store_write(struct fa_sec *s, struct in_addr home, struct fa_xfer *x,
			  uint32_t timeout_ms)
{
	const struct ike_peer *pc = fa_peer_of(s, home);
	struct fa_put *pp;
	struct sax_msg *m;
	uint8_t out[SAX_MSG_MAX];
	struct buf b;
	int r = -1;

	if (pc == NULL || pc->id.len == 0 || pc->id.len > SAX_ID_MAX)
		return -1;
	m = calloc(1, sizeof(*m));
	pp = calloc(1, sizeof(*pp));
	if (m == NULL || pp == NULL || ike_export(s->ep.ike, home, true, &m->rec) < 0)
		goto out;
	pp->s = s;
	pp->x = x;
	pp->home = home;
	m->type = SAX_STORE_PUT;
	m->has_record = true;
	memcpy(m->mn_id, pc->id.data, pc->id.len);
	m->mn_id_len = pc->id.len;
	fa_record_seq(s, &m->rec, s->dom->seq_reserve, false, pp);
	m->rec.home_addr = home;
	m->rec.prev_coa = s->fa->cfg.coa;
	m->expires_ms = m->rec.isakmp.expires_ms;
	m->version = SAX_VERSION;
	m->sender = s->fa->cfg.coa;
	sax_stamp_at(m, ev_loop_wall_ms(s->loop));
	buf_init_write(&b, out, sizeof(out));
	if (sax_build(&b, m, sax_ring_send(&s->dom->keys, ev_loop_wall_ms(s->loop))) == SAX_E_OK &&
	    s->store.put(s->store.ctx, m->mn_id, m->expires_ms, out, buf_used(&b), timeout_ms,
			 fa_store_put_done, pp) == 0) {
		s->reuse.store_puts++;
		pp->next = s->puts;
		s->puts = pp;
		pp = NULL;
		r = 0;
	} else {
		fa_put_abandon(s, pp);
		fa_store_unsaved(s, home, false);
	}
	OPENSSL_cleanse(out, sizeof(out));
out:
	free(pp);
	if (m != NULL)
		sax_record_wipe(&m->rec);
	free(m);
	return r;
}

static bool fa_uses_store(const struct fa_sec *s)
{
	return s->dom->enabled && s->dom->store && s->store.get != NULL &&
	       s->dom->reuse != FA_REUSE_NONE;
}

static bool fa_first_copy_pending(const struct fa_sec *s, struct in_addr home)
{
	const struct fa_xfer *x = u32map_get(&s->xfers, home.s_addr);

	/*
	 * Until the hand-over counts, and while full reuse writes its first
	 * copy; not while the previous FA's RELEASED is awaited: a partial
	 * reuse's Quick Mode may end first, and its pair needs the copy.
	 */
	return x != NULL && (x->state != FA_XF_CONFIRM || x->storing);
}

/* A transfer of the node that has not counted yet (x: its xfer, or NULL). */
static bool fa_xfer_importing(const struct fa_xfer *x)
{
	return x != NULL && x->state != FA_XF_CONFIRM;
}

bool fa_reuse_importing(const struct fa_sec *s, struct in_addr home)
{
	return fa_xfer_importing(u32map_get(&s->xfers, home.s_addr));
}

void fa_reuse_data_out(struct fa_sec *s, struct in_addr home)
{
	struct fa_xfer *x = u32map_get(&s->xfers, home.s_addr);

	/* due now: it runs once the loop has sent what it queued (fa_xfer_commit) */
	if (x != NULL && x->after_reply)
		ev_timer_start(s->loop, &x->timer, 0);
}

void fa_reuse_note_pair(struct fa_sec *s, struct in_addr home)
{
	if (fa_uses_store(s) && !fa_first_copy_pending(s, home))
		fa_store_write(s, home, NULL, 1000);
}

bool fa_reuse_renew_offers(struct fa_sec *s, struct ipsec_pair *p)
{
	enum esp_err e;

	if (!fa_offers_on(s->dom) || p->offer_top == 0)
		return false;
	e = ipsec_offer_renew(p, s->dom->seq_reserve);
	if (e != ESP_OK)
		log_rl_notice("pair 0x%08x of %s: no numbers above our offers (%s)", p->in.spi,
			      IP4_STR(p->remote_net), esp_err_name(e));
	else
		fa_offer_push(s, p->remote_net);
	return true;
}

/* New IPsec SAs with the node in place of ones we cannot send on (Quick Mode, as responder too). */
static void fa_rekey_node(struct fa_sec *s, struct in_addr home, const char *why)
{
	for (struct ike_child *c = ike_children(s->ep.ike), *n; c != NULL; c = n) {
		n = c->next;
		if (c->peer.s_addr == home.s_addr)
			ike_child_delete(s->ep.ike, c, why);
	}
	if (ike_quick_mode(s->ep.ike, home) < 0)
		log_notice("no ISAKMP SA with %s for new IPsec SAs: it negotiates", IP4_STR(home));
}

/* ---- the new FA: finishing a transfer ---- */

static void fa_xfer_free(struct fa_xfer *x)
{
	ev_timer_stop(x->s->loop, &x->timer);
	u32map_del(&x->s->xfers, x->home.s_addr);
	OPENSSL_cleanse(x, sizeof(*x));
	free(x);
}

/* Drop what a hand-over that never counted took in. */
static void fa_xfer_undo(struct fa_xfer *x, const char *why)
{
	struct fa_sec *s = x->s;

	if (x->status == MIP_REUSE_REFUSED || x->own)
		return;
	s->reuse.taken_denied++;
	log_info("SA reuse for %s: %s: dropping the SAs taken over", IP4_STR(x->home), why);
	fa_hold_drop(s, x->home);
	ike_forget_peer(s->ep.ike, x->home, why);
	x->status = MIP_REUSE_REFUSED;
}

/* The home agent's reply never came: the registration did not count. */
static void fa_xfer_reap(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct fa_xfer *x = arg;

	fa_xfer_undo(x, "no answer from the home agent");
	fa_xfer_free(x);
}

/* Append the status for the node; 0 when it fits. */
static int fa_xfer_status_ext(struct fa_xfer *x, uint8_t *msg, size_t *len, size_t cap)
{
	struct buf b;

	buf_init_append(&b, msg, cap, *len);
	if (mip_ext_put_reuse_status(&b, x->status, x->reason) < 0)
		return -1;
	*len = buf_used(&b);
	return 0;
}

static bool fa_xfer_has_prev(const struct fa_xfer *x)
{
	const struct fa_sec *s = x->s;

	return fa_member(s->dom, x->req.prev_coa) &&
	       x->req.prev_coa.s_addr != s->fa->cfg.coa.s_addr;
}

/*
 * A message of type about the node to the previous FA, with the node's
 * registration (sealed): a REQUEST, so that it checks the claim itself; a
 * STORE_DEL, so that it can tell which hand-over we confirm (it may have
 * taken the node back since).  NULL when out of memory (logged).
 */
static struct sax_msg *fa_xfer_msg(const struct fa_xfer *x, uint8_t type)
{
	struct sax_msg *m = calloc(1, sizeof(*m));

	if (m == NULL) {
		log_rl_err("SA reuse for %s: out of memory for a %s", IP4_STR(x->home),
			   sax_type_name(type));
		return NULL;
	}
	m->type = type;
	m->mn_id_len = strlen(x->mn_id);
	memcpy(m->mn_id, x->mn_id, m->mn_id_len);
	memcpy(m->req.reg, x->reg, x->reg_len);
	m->req.reg_len = (uint16_t)x->reg_len;
	return m;
}

/* Send m (fa_xfer_msg) to the previous FA, and free it. */
static int fa_xfer_send_msg(struct fa_xfer *x, struct sax_msg *m)
{
	int r = fa_sax_send(x->s, x->req.prev_coa, m, NULL);

	OPENSSL_cleanse(m, sizeof(*m));
	free(m);
	return r;
}

/* Tell the previous FA the SAs are ours now (STORE_DEL); it answers RELEASED. */
static void fa_xfer_confirm(struct fa_xfer *x)
{
	struct sax_msg *m = fa_xfer_msg(x, SAX_STORE_DEL);

	if (m == NULL)
		return;
	x->confirms++;
	fa_xfer_send_msg(x, m);
}

/* Nothing more to wait for: the store has our copy (or none is kept), the previous FA answered. */
static void fa_xfer_settled(struct fa_xfer *x)
{
	if (x->state == FA_XF_CONFIRM && !x->storing && !x->confirming && !x->after_reply)
		fa_xfer_free(x);
}

static bool fa_offers_out(const struct fa_sec *s, struct in_addr home);

/*
 * What a hand-over that counted does once the node's data already queued
 * has gone (fa_xfer_commit): the host route to the node (a netlink
 * request: a few hundred microseconds of this thread), our offers, the
 * first confirmation.
 */
static void fa_xfer_after_reply(struct fa_xfer *x)
{
	struct fa_sec *s = x->s;

	x->after_reply = false;
	if (x->status == MIP_REUSE_FULL)
		fa_sec_route_node(s, x->home);
	if (fa_offers_out(s, x->home))
		fa_offer_push(s, x->home);
	if (x->confirming)
		fa_xfer_confirm(x);
}

static void fa_xfer_confirm_timer(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct fa_xfer *x = arg;
	struct fa_sec *s = x->s;

	(void)t;
	if (x->after_reply) {
		fa_xfer_after_reply(x);
		if (x->confirming) {
			ev_timer_start(loop, &x->timer, s->dom->timeout_ms);
			return;
		}
	}

	/*
	 * Retried, loan or not: a previous FA that missed it would keep a stale
	 * copy of the SAs (and, with a loan, we would stay below its cap).
	 */
	if (x->confirming && x->confirms < FA_CONFIRM_TRIES) {
		fa_xfer_confirm(x);
		ev_timer_start(loop, &x->timer, s->dom->timeout_ms);
		return;
	}
	if (x->confirming) {
		/* Safe as it is: on a loan we stay below the numbers the previous FA lent. */
		s->reuse.taken_unconfirmed++;
		log_rl_notice("SA reuse for %s: %s never answered our confirmation%s",
			      IP4_STR(x->home), IP4_STR(x->req.prev_coa),
			      x->loan ? "; sending stays below the numbers it lent" : "");
		x->confirming = false;
		x->loan = false;
	}
	if (x->storing)
		return; /* the store client's own timeout ends the write */
	fa_xfer_free(x);
}

/* A registration of the node accepted through us renews the other members' offers (fa_offer.c). */
static bool fa_offers_out(const struct fa_sec *s, struct in_addr home)
{
	return fa_offers_on(s->dom) && s->ep.ike != NULL &&
	       ike_sa_find_peer(s->ep.ike, home) != NULL;
}

/*
 * A transfer of the node to us counted while SAs we had lent it were not
 * confirmed: the FA we lent them to has lent them on (back to us, or to an
 * FA that did), and the SAs we hold now are no loan of ours.
 */
static void fa_handed_taken_back(struct fa_sec *s, struct in_addr home)
{
	struct fa_handed *h = u32map_get(&s->handed, home.s_addr);

	if (h != NULL)
		fa_handed_free(h);
}

/*
 * The home agent's reply goes to the node: the moment the hand-over counts.
 * Accepted, the SAs are ours: our copy goes to the store (we send once it
 * is there) and the previous FA forgets them; refused (a replayed or
 * forged registration, say), what we took in goes again.
 */
static void fa_xfer_commit(struct fa_xfer *x, const uint8_t *reply, size_t len)
{
	struct fa_sec *s = x->s;
	bool full = x->status == MIP_REUSE_FULL;
	struct in_addr home = x->home;

	if (x->status == MIP_REUSE_REFUSED) {
		fa_hold_drop(s, home); /* the node negotiates from scratch */
		fa_xfer_free(x);
		return;
	}
	if (len < 2 || !mip_code_accepted(reply[1])) {
		fa_xfer_undo(x, "registration refused");
		fa_xfer_free(x);
		return;
	}
	ev_timer_stop(s->loop, &x->timer);
	/*
	 * What we hold counts from this registration on, also when it never
	 * left us: a confirmation of an older hand-over is stale (fa_confirm_stale).
	 */
	fa_note_took(s, x->home, x->req.prev_coa, x->id);
	if (x->own) {
		/* a loan of ours stays: only its timeout lifts the numbers we lent */
		fa_xfer_free(x);
		fa_hold_flush(s, home);
		if (fa_offers_out(s, home))
			fa_offer_push(s, home);
		return;
	}
	fa_handed_taken_back(s, x->home);
	x->state = FA_XF_CONFIRM;
	x->confirming = fa_xfer_has_prev(x);
	x->loan = x->loan && full && x->confirming;
	/*
	 * The node's data first: the route, the offers and the confirmation
	 * (fa_xfer_after_reply) wait until a datagram has gone to the node,
	 * what we held or the first the home agent tunnels to us now, or
	 * FA_AFTER_REPLY_MS when none comes.  A timer due now would run before
	 * the loop reads the data that reached us while we sent the reply, and
	 * the route alone holds this thread a few hundred microseconds.
	 */
	x->after_reply = true;
	ev_timer_init(&x->timer, fa_xfer_confirm_timer, x);
	ev_timer_start(s->loop, &x->timer, FA_AFTER_REPLY_MS);
	/* after the reply: our data waited for the hand-over */
	if (full && fa_hold_flush(s, x->home) > 0)
		ev_timer_start(s->loop, &x->timer, 0);
	if (full && fa_uses_store(s)) {
		x->storing = fa_store_write(s, x->home, x, s->dom->timeout_ms) == 0;
		if (!x->storing) {
			fa_xfer_stored(x, false); /* may free x */
			return;
		}
	}
	fa_xfer_settled(x);
}

/* Our first copy is in the store, or could not be written: new IPsec SAs then. */
static void fa_xfer_stored(struct fa_xfer *x, bool kept)
{
	x->storing = false;
	if (!kept)
		fa_rekey_node(x->s, x->home, "the store kept no copy: new IPsec SAs instead");
	else
		fa_hold_flush(x->s, x->home);
	fa_xfer_settled(x);
}

/* For the registration's log line: where the SAs came from, and what waited for them. */
static void fa_xfer_note(struct fa_xfer *x, uint8_t status, uint64_t now_us)
{
	struct fa_ho_note n = {.prev = x->req.prev_coa,
			       .xfer_us = now_us - x->started_us,
			       .held_us = x->reply_held ? now_us - x->held_at_us : 0};

	n.reuse = status == MIP_REUSE_FULL      ? "full"
		  : status == MIP_REUSE_PARTIAL ? "partial"
						: "refused";
	n.sas = status == MIP_REUSE_REFUSED ? "negotiation"
		: x->own                    ? "own"
		: x->offered                ? "offer"
		: x->state == FA_XF_STORE   ? "store"
					    : "previous-fa";
	n.technique = x->s->dom->direct && x->s->dom->store ? "both"
		      : x->s->dom->direct                   ? "direct"
							    : "store";
	fa_note_handover(x->s->fa, x->home, &n);
}

/*
 * A refused reuse whose registration the home agent accepted (so the node
 * itself asked: MN-HA authenticator and Identification checked there;
 * the callers pass only an accepted reply),
 * from a node that comes from another FA while we still hold SAs of its
 * earlier visit: it left them behind when it moved on, and a reply through
 * them would never open (the node would retransmit until they expired).
 * They go, so the reply goes in the clear and the node negotiates.  A
 * forged or replayed registration is denied and changes nothing.
 */
static void fa_xfer_drop_stale(struct fa_xfer *x)
{
	struct fa_sec *s = x->s;

	if (x->status != MIP_REUSE_REFUSED || x->own ||
	    x->req.prev_coa.s_addr == s->fa->cfg.coa.s_addr ||
	    ike_sa_find_peer(s->ep.ike, x->home) == NULL)
		return;
	s->reuse.stale_dropped++;
	ike_forget_peer(s->ep.ike, x->home, "the node left them behind and negotiates anew");
}

static void fa_xfer_finish(struct fa_xfer *x, uint8_t status, uint8_t reason, const char *why)
{
	struct fa_sec *s = x->s;
	uint64_t now_us = ev_loop_now_us(s->loop);

	fa_xfer_note(x, status, now_us);
	x->state = FA_XF_DONE;
	x->status = status;
	x->reason = reason;
	if (status == MIP_REUSE_FULL)
		s->reuse.reuse_full++;
	else if (status == MIP_REUSE_PARTIAL)
		s->reuse.reuse_partial++;
	else
		s->reuse.reuse_refused++;
	log_info("SA reuse for %s: %s (%s, %llu us)", IP4_STR(x->home),
		 status == MIP_REUSE_FULL      ? "full"
		 : status == MIP_REUSE_PARTIAL ? "partial: Quick Mode follows"
					       : "refused: negotiation follows",
		 why, (unsigned long long)(now_us - x->started_us));
	ev_timer_stop(s->loop, &x->timer);
	if (x->denied) {
		fa_xfer_undo(x, "registration refused");
		fa_xfer_free(x);
		return;
	}
	if (x->reply_held) {
		x->reply_held = false;
		fa_xfer_drop_stale(x);
		if (fa_xfer_status_ext(x, x->reply, &x->reply_len, sizeof(x->reply)) == 0)
			fa_send_reply(s->fa, x->home, x->reply, x->reply_len, sizeof(x->reply));
		fa_xfer_commit(x, x->reply, x->reply_len);
		return;
	}
	ev_timer_init(&x->timer, fa_xfer_reap, x);
	ev_timer_start(s->loop, &x->timer, FA_XFER_KEEP_MS);
}

/* The name of one of s's reuse counters, for the reason= field of a log line. */
static const char *fa_reuse_counter_name(const struct fa_sec *s, const uint64_t *c)
{
#define FA_REUSE_NAME(n)                                                                           \
	if (c == &s->reuse.n)                                                                      \
		return #n;
	FA_REUSE_COUNTERS(FA_REUSE_NAME)
#undef FA_REUSE_NAME
	return "-";
}

static void fa_xfer_fail(struct fa_xfer *x, uint64_t *counter, const char *why)
{
	char prev[INET_ADDRSTRLEN];

	(*counter)++;
	inet_ntop(AF_INET, &x->req.prev_coa, prev, sizeof(prev));
	/* The words for the reader, then key=value fields to grep: reason= is the counter. */
	log_rl_notice("SA reuse for %s falls back to negotiation: %s; node=%s prev=%s reason=%s",
		      IP4_STR(x->home), why, IP4_STR(x->home), prev,
		      fa_reuse_counter_name(x->s, counter));
	fa_xfer_finish(x, MIP_REUSE_REFUSED, 0, why);
}

/* What the node's pairs say of their outbound numbers, all of them at once (fa_node_seq). */
struct fa_node_seq {
	uint64_t top;       /* the last number sent or given away on any (ipsec_top) */
	uint64_t offer_top; /* the last of the blocks we offered on any (0: none) */
	bool on_loan;       /* one is on a loan: taken over, its lender has not released it */
};

static struct fa_node_seq fa_node_seq(struct fa_sec *s, struct in_addr home)
{
	struct fa_node_seq q = {0};

	for (struct ike_child *c = ike_children(s->ep.ike); c != NULL; c = c->next) {
		struct ipsec_pair *p = ipsec_find_spi(&s->ep.sas, c->spi_in);
		uint64_t top;

		if (c->peer.s_addr != home.s_addr || p == NULL)
			continue;
		top = ipsec_top(p);
		q.top = top > q.top ? top : q.top;
		q.offer_top = p->offer_top > q.offer_top ? p->offer_top : q.offer_top;
		q.on_loan = q.on_loan || p->loan_cap != 0;
	}
	return q;
}

/*
 * Sequence numbers and replay windows of the pairs taken over
 * (ipsec_take_over): nothing goes out until the take-over counts, with a
 * store until our copy is there, and on a loan below its cap; above the
 * blocks we offered ourselves before (offer_top: SAs coming back to us
 * are imported as new pairs, so the caller reads it from the old ones
 * first, fa_node_seq).
 */
static size_t fa_xfer_seq(struct fa_xfer *x, const struct sax_record *rec, uint64_t offer_top)
{
	struct fa_sec *s = x->s;
	size_t n = 0;

	for (size_t i = 0; i < rec->n_children; i++) {
		const struct sax_child *c = &rec->children[i];
		struct ipsec_pair *p = ipsec_find_spi(&s->ep.sas, c->spi_in);
		if (p == NULL)
			continue;
		if (p->offer_top < offer_top)
			p->offer_top = offer_top;
		if (ipsec_take_over(p, c->seq_out, c->replay_top, x->req.mn_sent,
				    x->req.mn_received, fa_uses_store(s), c->loan_cap) == ESP_OK) {
			n++;
			x->loan = x->loan || c->loan_cap != 0;
			/*
			 * Keyed now, while the home agent answers, not at the
			 * reply, the first packet out on it (esp logs a failure;
			 * the first packet then tries again, and is dropped).
			 */
			(void)esp_sa_prepare(&p->out);
			(void)esp_sa_prepare(&p->in);
		} else if (p->child != NULL) {
			ike_child_forget(s->ep.ike, p->child,
					 "its sequence numbers cannot be taken over");
		}
	}
	return n;
}

static void fa_xfer_install(struct fa_xfer *x, const struct sax_msg *m)
{
	struct fa_sec *s = x->s;
	const struct sax_record *rec = &m->rec;
	const struct ike_peer *pc = fa_peer_of(s, x->home);
	bool full = s->dom->reuse == FA_REUSE_FULL && rec->n_children > 0;
	struct mip_reg_request rq;
	enum reuse_verdict v;
	uint64_t offer_top;

	if (!m->has_record || rec->home_addr.s_addr != x->home.s_addr || pc == NULL) {
		fa_xfer_fail(x, &s->reuse.fallback_bad_record, "record for another node");
		return;
	}
	v = reuse_claim_check(x->reg, x->reg_len, &rec->isakmp, &rq);
	if (v != REUSE_OK) {
		fa_xfer_fail(x, &s->reuse.fallback_possession, reuse_verdict_name(v));
		return;
	}
	offer_top = fa_node_seq(s, x->home).offer_top;
	if (ike_import(s->ep.ike, rec, pc, full) == NULL) {
		fa_xfer_fail(x, &s->reuse.fallback_expired, "the ISAKMP SA has ended");
		return;
	}
	if (full && fa_xfer_seq(x, rec, offer_top) == 0) {
		/* Every pair had ended: Quick Mode under the ISAKMP SA. */
		full = false;
		s->reuse.fallback_expired++;
		log_rl_notice("SA reuse for %s: the IPsec SAs have ended; partial instead",
			      IP4_STR(x->home));
	}
	fa_xfer_finish(x, full ? MIP_REUSE_FULL : MIP_REUSE_PARTIAL, 0,
		       full ? "ISAKMP and IPsec SAs taken over" : "ISAKMP SA taken over");
}

/*
 * The node comes back to us, whose SAs it still holds (it visited another
 * domain meanwhile): its claim must check out against our own ISAKMP SA,
 * name us and the node, and be fresh.  Nothing moves: the SAs never left.
 * With any_member, the FA it names may also be another of the domain: it
 * left us for that one, whose confirmation never reached us, so what we
 * hold is an old copy and the registration (in the clear) fetches theirs.
 */
static bool fa_own_claim(struct fa_sec *s, struct in_addr home, const uint8_t *msg, size_t len,
			 bool any_member)
{
	const struct ike_peer *pc = fa_peer_of(s, home);
	const struct fa_visitor *v = fa_find_visitor(s->fa, home);
	struct mip_reg_request rq;
	struct sax_record *rec;
	enum reuse_verdict r = REUSE_MALFORMED;

	if (s->ep.ike == NULL || pc == NULL || mip_request_parse(msg, len, &rq) != MIP_PERR_OK ||
	    !rq.ext.reuse.present ||
	    (rq.ext.reuse.prev_coa.s_addr != s->fa->cfg.coa.s_addr &&
	     !(any_member && fa_member(s->dom, rq.ext.reuse.prev_coa))) ||
	    (rec = calloc(1, sizeof(*rec))) == NULL)
		return false;
	if (ike_export(s->ep.ike, home, false, rec) == 0) {
		struct reuse_holder h = {.sa = &rec->isakmp,
					 .home = home,
					 .id = (const char *)pc->id.data,
					 .id_len = pc->id.len,
					 .us = rq.ext.reuse.prev_coa,
					 .last_accepted = v != NULL ? v->accepted_id : 0,
					 .window_only = true,
					 .now_ntp = mip_ident_at(ev_loop_wall_us(s->loop)),
					 .window_s = s->dom->window_ms / 1000};
		r = reuse_claim_serve(msg, rq.ext.reuse.covered_len + rq.ext.reuse.auth_len, &h);
	}
	sax_record_wipe(rec);
	free(rec);
	if (r != REUSE_OK)
		log_rl_notice("cleartext registration from %s, which has IPsec SAs here: %s",
			      IP4_STR(home), reuse_verdict_name(r));
	return r == REUSE_OK;
}

/*
 * The node names another FA of the domain, with a claim on another ISAKMP
 * SA: it came back to us after that FA's transfer from us failed (we were
 * cut off, or its datagrams or the store's were lost), and it negotiated
 * anew there; nobody told us.  Whether our SAs are our own or a copy we
 * took from that FA, dropping its registrations would lock it out until
 * they end.  Let it in: the transfer from that FA, which checks the claim,
 * replaces what we hold, and the home agent checks the registration
 * itself.  SAs we lent on are not ours to judge.
 */
static bool fa_superseded(struct fa_sec *s, struct in_addr home, const uint8_t *msg, size_t len)
{
	struct mip_reg_request rq;

	/* SAs we lent on are the new holder's to give back: its own transfer does that. */
	if (u32map_get(&s->handed, home.s_addr) != NULL)
		return false;
	if (mip_request_parse(msg, len, &rq) != MIP_PERR_OK || !rq.ext.reuse.present ||
	    rq.ext.reuse.prev_coa.s_addr == s->fa->cfg.coa.s_addr ||
	    !fa_member(s->dom, rq.ext.reuse.prev_coa))
		return false;
	log_rl_notice("cleartext registration from %s names %s, which negotiated anew with it: "
		      "asking it for its SAs",
		      IP4_STR(home), IP4_STR(rq.ext.reuse.prev_coa));
	return true;
}

static bool fa_reuse_cleartext_ok(void *arg, struct in_addr home, const uint8_t *msg, size_t len)
{
	struct fa_sec *s = arg;
	const struct fa_xfer *x = s->xfers.len == 0 ? NULL : u32map_get(&s->xfers, home.s_addr);

	/* SAs a hand-over took in count once the home agent accepted: until then it retransmits. */
	if (x != NULL)
		return x->state != FA_XF_CONFIRM;
	if (s->dom->reuse == FA_REUSE_NONE)
		return false;
	return fa_own_claim(s, home, msg, len, true) || fa_superseded(s, home, msg, len);
}

/* ---- the new FA: fetching ---- */

static void fa_xfer_store_done(void *arg, const struct store_result *r);

static void fa_xfer_try_store(struct fa_xfer *x, const char *after)
{
	struct fa_sec *s = x->s;

	if (!s->dom->store || s->store.get == NULL) {
		fa_xfer_fail(x, &s->reuse.fallback_prev_silent, after);
		return;
	}
	x->state = FA_XF_STORE;
	if (s->store.get(s->store.ctx, x->mn_id, s->dom->timeout_ms, fa_xfer_store_done, x) < 0)
		fa_xfer_fail(x, &s->reuse.fallback_store_down, "store request refused locally");
}

static int fa_xfer_send_ask(struct fa_xfer *x);

/* The request's first try: half the technique's timeout, the second the rest. */
static uint32_t fa_xfer_first_try_ms(const struct fa_domain *dom)
{
	return dom->timeout_ms - dom->timeout_ms / 2;
}

/*
 * No answer from the previous FA in half the time: ask once more before
 * the store.  Over a lossy link one lost datagram, either way, would
 * otherwise cost the reuse.  Asking again is safe: a new message (nonce,
 * timestamp) for the replay caches, and the previous FA lends the same
 * numbers again to the same FA (ipsec_next_seq while handed over).
 */
static void fa_xfer_timeout(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct fa_xfer *x = arg;
	struct fa_sec *s = x->s;

	if (x->state != FA_XF_DIRECT)
		return;
	if (!x->asked_again && fa_xfer_send_ask(x) == 0) {
		x->asked_again = true;
		s->reuse.transfer_resent++;
		log_rl_info("SA reuse for %s: no answer from %s in %u ms, asking again",
			    IP4_STR(x->home), IP4_STR(x->req.prev_coa),
			    fa_xfer_first_try_ms(s->dom));
		ev_timer_start(loop, t, s->dom->timeout_ms - fa_xfer_first_try_ms(s->dom));
		return;
	}
	fa_xfer_try_store(x, "the previous FA did not answer in time");
}

static void fa_xfer_store_done(void *arg, const struct store_result *r)
{
	struct fa_xfer *x = arg;
	struct fa_sec *s = x->s;
	struct sax_msg *m;

	if (x->state != FA_XF_STORE)
		return;
	if (r->status == STORE_NOT_FOUND) {
		fa_xfer_fail(x, &s->reuse.fallback_store_miss, "the store has no record");
		return;
	}
	if (r->status != STORE_OK) {
		fa_xfer_fail(x, &s->reuse.fallback_store_down, store_status_name(r->status));
		return;
	}
	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		fa_xfer_fail(x, &s->reuse.fallback_local, "out of memory");
		return;
	}
	/* A record read back is old by nature: no window, its Expires must lie ahead. */
	/* Sealed under a K_SA older than the ring holds: SEALED, a bad record, negotiation. */
	enum sax_err e = sax_ring_parse(&s->dom->keys, r->msg, r->len, ev_loop_wall_ms(s->loop), 0,
					NULL, m, NULL);
	/* The store is the Sender of its answers: the writer is named inside, under K_SA. */
	if (e == SAX_E_STALE)
		fa_xfer_fail(x, &s->reuse.fallback_expired, "the store's record has expired");
	else if (e != SAX_E_OK || !fa_member(s->dom, m->rec.prev_coa))
		fa_xfer_fail(x, &s->reuse.fallback_bad_record,
			     e != SAX_E_OK ? sax_err_name(e) : "written by a non-member");
	else
		fa_xfer_install(x, m);
	sax_record_wipe(&m->rec);
	free(m);
}

/* Ask the previous FA, with the node's registration so it can check the claim itself. */
static int fa_xfer_send_ask(struct fa_xfer *x)
{
	struct sax_msg *m = fa_xfer_msg(x, SAX_REQUEST);

	return m != NULL ? fa_xfer_send_msg(x, m) : -1;
}

static void fa_xfer_ask(struct fa_xfer *x)
{
	struct fa_sec *s = x->s;

	x->state = FA_XF_DIRECT;
	if (fa_xfer_send_ask(x) == 0)
		ev_timer_start(s->loop, &x->timer, fa_xfer_first_try_ms(s->dom));
	else
		fa_xfer_try_store(x, "cannot ask the previous FA");
}

/*
 * Reuse from the copy of the SAs the FA the node names offered us
 * (fa_offer.c): the node's claim must check out against it, name that FA
 * and the node, and be within the window of our clock.  What the previous
 * FA would check beyond (newer than the node's last accepted registration
 * there) the home agent checks: nothing we take in counts before it
 * accepts.  With full reuse the pairs come with our block of numbers: a
 * loan until the previous FA answers our confirmation with its top.
 * False: no usable offer, ask as without one.
 */
static bool fa_xfer_offered(struct fa_xfer *x)
{
	struct fa_sec *s = x->s;
	const struct ike_peer *pc = fa_peer_of(s, x->home);
	const char *why = "it is from another FA";
	enum fa_offer_found f;
	struct sax_record *rec;
	bool full = false;

	if (!fa_offers_on(s->dom) || pc == NULL || (rec = calloc(1, sizeof(*rec))) == NULL)
		return false;
	f = fa_offer_take(s, x->home, x->req.prev_coa, rec);
	if (f == FA_OFFER_OK) {
		struct reuse_holder h = {.sa = &rec->isakmp,
					 .home = x->home,
					 .id = (const char *)pc->id.data,
					 .id_len = pc->id.len,
					 .us = x->req.prev_coa,
					 .window_only = true,
					 .now_ntp = mip_ident_at(ev_loop_wall_us(s->loop)),
					 .window_s = s->dom->window_ms / 1000};
		enum reuse_verdict v = reuse_claim_serve(x->reg, x->reg_len, &h);

		uint64_t top = fa_node_seq(s, x->home).offer_top;

		rec->home_addr = x->home;
		rec->prev_coa = x->req.prev_coa;
		full = s->dom->reuse == FA_REUSE_FULL && rec->n_children > 0;
		why = v != REUSE_OK                                  ? reuse_verdict_name(v)
		      : ike_import(s->ep.ike, rec, pc, full) == NULL ? "its ISAKMP SA has ended"
								     : NULL;
		/* every pair ended (or none could go on): Quick Mode under the ISAKMP SA */
		full = why == NULL && full && fa_xfer_seq(x, rec, top) > 0;
	}
	sax_record_wipe(rec);
	free(rec);
	if (f == FA_OFFER_NONE)
		return false;
	if (why != NULL) {
		s->reuse.offer_unused++;
		log_rl_notice("SA reuse for %s: the offer from %s does not serve: %s; asking it",
			      IP4_STR(x->home), IP4_STR(x->req.prev_coa), why);
		return false;
	}
	x->offered = true;
	s->reuse.reuse_offered++;
	fa_xfer_finish(x, full ? MIP_REUSE_FULL : MIP_REUSE_PARTIAL, 0,
		       full ? "ISAKMP and IPsec SAs from the previous FA's offer"
			    : "ISAKMP SA from the previous FA's offer");
	return true;
}

/*
 * We took the node's SAs over from `from` and lent them to no one since,
 * but the node names `from` again: our accepted reply never reached it.
 * That FA released them and would refuse, the node would negotiate, and
 * the SAs we hold would stay behind if it moved on before Main Mode ended.
 * Its claim checking out against our ISAKMP SA says they are the ones it
 * uses.
 */
static bool fa_took_from(struct fa_sec *s, struct in_addr home, struct in_addr from,
			 const uint8_t *msg, size_t len)
{
	const struct fa_took *t = u32map_get(&s->took, home.s_addr);

	if (t == NULL || t->from.s_addr != from.s_addr)
		return false;
	if (u32map_get(&s->handed, home.s_addr) != NULL || !ike_sa_find_peer(s->ep.ike, home)) {
		fa_took_forget(s, home);
		return false;
	}
	return fa_own_claim(s, home, msg, len, true);
}

static void fa_reuse_request(void *arg, const uint8_t mac[6], const uint8_t *msg, size_t len,
			     const struct mip_reg_request *rq)
{
	struct fa_sec *s = arg;
	size_t reg_len = rq->ext.reuse.covered_len + rq->ext.reuse.auth_len;
	struct fa_xfer *x;
	bool member;

	(void)mac;
	if (u32map_get(&s->xfers, rq->home_addr.s_addr) != NULL)
		return; /* a retransmission: the transfer is under way */
	x = calloc(1, sizeof(*x));
	if (x == NULL || u32map_put(&s->xfers, rq->home_addr.s_addr, x) < 0) {
		free(x);
		return;
	}
	s->reuse.reuse_requests++;
	x->s = s;
	x->home = rq->home_addr;
	x->req = rq->ext.reuse;
	x->req.auth = NULL;
	x->id = rq->id;
	x->started_us = ev_loop_now_us(s->loop);
	ev_timer_init(&x->timer, fa_xfer_timeout, x);
	if (reg_len > sizeof(x->reg) || reg_len > len) {
		fa_xfer_fail(x, &s->reuse.fallback_possession, "request too large");
		return;
	}
	memcpy(x->reg, msg, reg_len);
	x->reg_len = reg_len;
	if (!s->dom->enabled || s->dom->reuse == FA_REUSE_NONE || s->ep.ike == NULL) {
		fa_xfer_fail(x, &s->reuse.fallback_policy, "the domain does not reuse SAs");
		return;
	}
	if (rq->ext.nai_len == 0 || rq->ext.nai_len > SAX_ID_MAX) {
		fa_xfer_fail(x, &s->reuse.fallback_no_identity, "no NAI to name the node");
		return;
	}
	memcpy(x->mn_id, rq->ext.nai, rq->ext.nai_len);
	member = fa_member(s->dom, x->req.prev_coa);
	if (!member && !s->dom->store) {
		fa_xfer_fail(x, &s->reuse.fallback_not_member,
			     "the previous FA is not a member of the domain");
		return;
	}
	/* Back with us, and we still hold the SAs: nothing to fetch. */
	if (x->req.prev_coa.s_addr == s->fa->cfg.coa.s_addr &&
	    ike_sa_find_peer(s->ep.ike, x->home) && fa_own_claim(s, x->home, msg, len, false)) {
		x->own = true;
		s->reuse.reuse_reassociated++;
		fa_xfer_finish(x, MIP_REUSE_FULL, 0, "back with us, who still hold its SAs");
		return;
	}
	/* Ours already: the reply that said so was lost (fa_took_from). */
	if (member && fa_took_from(s, x->home, x->req.prev_coa, msg, len)) {
		/* a partial reuse: the node never ran its Quick Mode, it still has to */
		bool full = s->dom->reuse == FA_REUSE_FULL &&
			    ipsec_find(&s->ep.sas, x->home.s_addr) != NULL;

		x->own = true;
		s->reuse.reuse_reassociated++;
		fa_xfer_finish(x, full ? MIP_REUSE_FULL : MIP_REUSE_PARTIAL, 0,
			       full ? "its SAs are ours already: our reply was lost"
				    : "its ISAKMP SA is ours already: our reply was lost");
		return;
	}
	/* Outside the domain, the store may still hold what a member wrote (re-association). */
	if (!s->dom->direct || !member || x->req.prev_coa.s_addr == s->fa->cfg.coa.s_addr) {
		fa_xfer_try_store(x, "no previous FA to ask");
		return;
	}
	if (fa_xfer_offered(x))
		return;
	fa_xfer_ask(x);
}

/* A registration reply's Identification (RFC 5944 3.4: after Type, Code, Lifetime, two addresses).
 */
static uint64_t fa_reply_id(const uint8_t *msg, size_t len)
{
	struct buf b;
	uint64_t id = 0;

	buf_init_read(&b, msg, len);
	if (buf_skip(&b, 12) != BUF_OK || buf_get_u64(&b, &id) != BUF_OK)
		return 0;
	return id;
}

static int fa_reuse_reply_filter(void *arg, struct in_addr home, uint8_t *msg, size_t *len,
				 size_t cap)
{
	struct fa_sec *s = arg;
	struct fa_xfer *x = u32map_get(&s->xfers, home.s_addr);

	if (x == NULL && *len >= 2 && mip_code_accepted(msg[1]) && fa_offers_out(s, home)) {
		/* the node's reply first: the offers are work of our own */
		bool sent = fa_send_reply(s->fa, home, msg, *len, cap);

		if (sent)
			fa_offer_push(s, home);
		return sent ? 1 : 0;
	}
	if (x == NULL || x->state == FA_XF_CONFIRM)
		return 0;
	if (*len < 2 || !mip_code_accepted(msg[1])) {
		/*
		 * Nothing we take in may outlive a denial of the registration
		 * that asked for it (a forged one beside it is no reason to
		 * drop the node's SAs); the node hears it now.
		 */
		if ((uint32_t)fa_reply_id(msg, *len) != (uint32_t)x->id)
			return 0;
		if (x->state == FA_XF_DONE) {
			fa_xfer_commit(x, msg, *len);
		} else {
			x->denied = true;
			x->reply_held = false;
		}
		return 0;
	}
	if (x->state == FA_XF_DONE) {
		bool sent;

		fa_xfer_drop_stale(x);
		fa_xfer_status_ext(x, msg, len, cap);
		/*
		 * The node's reply first, as for a held one: the confirmation to
		 * the previous FA and our store copy are each a message built,
		 * sealed and sent, and none of it is on the node's way.
		 */
		sent = fa_send_reply(s->fa, home, msg, *len, cap);
		fa_xfer_commit(x, msg, *len);
		return sent ? 1 : 0;
	}
	/* The home agent was faster than the transfer: the reply waits for its outcome. */
	if (*len > sizeof(x->reply))
		return 0;
	memcpy(x->reply, msg, *len);
	x->reply_len = *len;
	x->reply_held = true;
	x->held_at_us = ev_loop_now_us(s->loop);
	return 1;
}

/* ---- the previous FA: serving ---- */

static bool fa_home_of(struct fa_sec *s, const struct sax_msg *m, struct in_addr *home)
{
	for (size_t i = 0; i < s->ic->n_peers; i++) {
		const struct ike_peer *p = &s->ic->peers[i];
		if (p->id.len == m->mn_id_len && memcmp(p->id.data, m->mn_id, m->mn_id_len) == 0) {
			*home = p->addr;
			return true;
		}
	}
	return false;
}

/*
 * On a loan, the numbers above our cap are the lender's (and, from an
 * offer, other members' blocks): only the lender may have the SAs from us
 * (the node went back to it); anyone else is refused and falls back.
 */
static bool fa_loan_not_ours(struct fa_sec *s, struct in_addr home, struct in_addr asker)
{
	const struct fa_took *t = u32map_get(&s->took, home.s_addr);

	return fa_node_seq(s, home).on_loan && (t == NULL || t->from.s_addr != asker.s_addr);
}

static void fa_handed_free(struct fa_handed *h)
{
	ev_timer_stop(h->s->loop, &h->timer);
	u32map_del(&h->s->handed, h->home.s_addr);
	free(h);
}

/*
 * A node's SAs went to an FA that has not confirmed taking them: only that
 * FA may have them (again); entries go with the SAs.
 */
static bool fa_handed_elsewhere(struct fa_sec *s, struct in_addr home, struct in_addr asker)
{
	struct fa_handed *h = u32map_get(&s->handed, home.s_addr);

	if (h == NULL)
		return false;
	if (ike_sa_find_peer(s->ep.ike, home) == NULL) {
		fa_handed_free(h);
		return false;
	}
	return !h->reclaimed && h->to.s_addr != asker.s_addr;
}

/*
 * The loan was not confirmed in time: the SAs are ours again.  Sending goes
 * on above the numbers we lent (with a store, once our copy there promises
 * more); a pair with nothing left above them is dropped.
 */
static void fa_reclaim(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct fa_handed *h = arg;
	struct fa_sec *s = h->s;
	bool held = fa_uses_store(s);
	size_t n = 0;

	for (struct ike_child *c = ike_children(s->ep.ike), *nx; c != NULL; c = nx) {
		struct ipsec_pair *p = ipsec_find_spi(&s->ep.sas, c->spi_in);
		nx = c->next;
		if (c->peer.s_addr != h->home.s_addr || p == NULL || !p->handed_over)
			continue;
		if (ipsec_reclaim(p, held) == ESP_OK)
			n++;
		else
			ike_child_delete(s->ep.ike, c, "nothing left above the numbers it lent");
	}
	h->reclaimed = true;
	s->reuse.served_reclaimed++;
	log_notice("SAs of %s lent to %s: not confirmed within %u ms, taken back (%zu pairs)",
		   IP4_STR(h->home), IP4_STR(h->to), s->dom->lend_ms, n);
	if (held && n > 0)
		fa_store_write(s, h->home, NULL, 1000);
}

static void fa_note_handed(struct fa_sec *s, struct in_addr home, struct in_addr to)
{
	struct fa_handed *h = u32map_get(&s->handed, home.s_addr);

	if (h == NULL) {
		h = calloc(1, sizeof(*h));
		if (h == NULL || u32map_put(&s->handed, home.s_addr, h) < 0) {
			free(h);
			return;
		}
		h->s = s;
		h->home = home;
		ev_timer_init(&h->timer, fa_reclaim, h);
	}
	h->to = to;
	h->reclaimed = false;
	ev_timer_stop(s->loop, &h->timer);
	ev_timer_start(s->loop, &h->timer, s->dom->lend_ms);
}

/*
 * The node's claim, as the request carries it: it proves possession of our
 * ISAKMP SA, names the node and us, and its Identification is newer than
 * the node's last registration the home agent accepted through us.
 * SAX_OK, or the reason for a REFUSED (counted and logged).
 */
static uint16_t fa_serve_claim(struct fa_sec *s, const struct sax_msg *req,
			       const struct sax_record *rec, struct in_addr home)
{
	const struct fa_visitor *v = fa_find_visitor(s->fa, home);
	struct reuse_holder h = {.sa = &rec->isakmp,
				 .home = home,
				 .id = req->mn_id,
				 .id_len = req->mn_id_len,
				 .us = s->fa->cfg.coa,
				 .last_accepted = v != NULL ? v->accepted_id : 0,
				 .now_ntp = mip_ident_at(ev_loop_wall_us(s->loop)),
				 .window_s = s->dom->window_ms / 1000};
	enum reuse_verdict r = reuse_claim_serve(req->req.reg, req->req.reg_len, &h);
	bool stale = r == REUSE_STALE || r == REUSE_REPLAY;

	if (r == REUSE_OK)
		return SAX_OK;
	if (stale)
		s->reuse.served_stale++;
	else
		s->reuse.served_bad_proof++;
	log_rl_notice("SA request from %s for %s: %s", IP4_STR(req->sender), IP4_STR(home),
		      reuse_verdict_name(r));
	return stale ? SAX_R_STALE_REG : SAX_R_PROOF;
}

/*
 * We lend a node's SAs back to the FA we took them from, which has not
 * answered our confirmation yet: it takes them back and drops its old copy
 * itself, and ignores our confirmation of that old hand-over now
 * (fa_confirm_stale).  No more of them.
 */
static void fa_xfer_lent_back(struct fa_sec *s, struct in_addr home, struct in_addr to)
{
	struct fa_xfer *x = u32map_get(&s->xfers, home.s_addr);

	if (x == NULL || x->state != FA_XF_CONFIRM || !x->confirming ||
	    x->req.prev_coa.s_addr != to.s_addr)
		return;
	log_info("SA reuse for %s: %s takes the SAs back before it answered our confirmation",
		 IP4_STR(home), IP4_STR(to));
	x->confirming = false;
	x->loan = false;
	fa_xfer_settled(x);
}

/*
 * The record goes out with exact replay state and our outbound numbers
 * reserved ahead: we may still send up to them (a packet the home agent
 * tunnelled before the binding moved) and the new FA starts above, below a
 * cap until it confirms.  We keep the SAs until then (SAX_STORE_DEL,
 * fa_taken), and take them back if no confirmation comes.  Nothing changes
 * here for a request that fails a check.
 */
static void fa_serve_request(struct fa_sec *s, const struct sax_msg *req)
{
	struct sax_msg *m = calloc(1, sizeof(*m));
	struct in_addr home;

	if (m == NULL) {
		log_rl_err("SA request from %s: out of memory for the answer",
			   IP4_STR(req->sender));
		return;
	}
	memcpy(m->mn_id, req->mn_id, req->mn_id_len);
	m->mn_id_len = req->mn_id_len;
	m->type = SAX_REFUSED;
	if (!fa_member(s->dom, req->sender)) {
		s->reuse.served_not_member++;
		log_rl_notice("SA request from %s, not a member of the domain: refused",
			      IP4_STR(req->sender));
		m->flags = SAX_R_NOT_MEMBER;
	} else if (s->ep.ike == NULL || !fa_home_of(s, req, &home) ||
		   fa_handed_elsewhere(s, home, req->sender) ||
		   fa_loan_not_ours(s, home, req->sender) ||
		   ike_export(s->ep.ike, home, s->dom->reuse == FA_REUSE_FULL, &m->rec) < 0) {
		s->reuse.served_refused++;
		log_rl_info("SA request from %s for %.*s: none to give", IP4_STR(req->sender),
			    (int)req->mn_id_len, req->mn_id);
		m->flags = SAX_R_UNKNOWN;
	} else if ((m->flags = fa_serve_claim(s, req, &m->rec, home)) == SAX_OK) {
		fa_record_seq(s, &m->rec, s->dom->seq_reserve, true, NULL);
		m->rec.home_addr = home;
		m->rec.prev_coa = s->fa->cfg.coa;
		m->expires_ms = m->rec.isakmp.expires_ms;
		m->type = SAX_RECORD;
		m->has_record = true;
		fa_note_handed(s, home, req->sender);
		fa_took_forget(s, home);
		fa_xfer_lent_back(s, home, req->sender);
		s->reuse.served_records++;
		log_info("SAs of %s lent to %s until it confirms", IP4_STR(home),
			 IP4_STR(req->sender));
	}
	if (m->type == SAX_REFUSED)
		sax_record_wipe(&m->rec);
	fa_sax_send(s, req->sender, m, sax_ring_keys(&s->dom->fa_keys, s->rx_slot));
	sax_record_wipe(&m->rec);
	free(m);
}

/*
 * Answer a confirmation: RELEASED, or REFUSED with why.  A RELEASED with a
 * top (ours, or the one we told its sender before) carries it and the
 * confirmation's registration back: an FA that took the SAs from our
 * offer goes on above it (fa_confirm_answer).
 */
static void fa_taken_answer(struct fa_sec *s, const struct sax_msg *del, uint16_t refused,
			    uint64_t top)
{
	struct sax_msg *m = calloc(1, sizeof(*m));

	if (m == NULL) {
		log_rl_err("confirmation from %s: out of memory for the answer",
			   IP4_STR(del->sender));
		return;
	}
	memcpy(m->mn_id, del->mn_id, del->mn_id_len);
	m->mn_id_len = del->mn_id_len;
	m->type = refused != SAX_OK ? SAX_REFUSED : SAX_RELEASED;
	m->flags = refused;
	if (m->type == SAX_RELEASED && top != 0 && del->req.reg_len > 0) {
		m->req = del->req;
		m->req.seq_top = top;
	}
	fa_sax_send(s, del->sender, m, sax_ring_keys(&s->dom->fa_keys, s->rx_slot));
	OPENSSL_cleanse(m, sizeof(*m));
	free(m);
}

/*
 * m confirms a hand-over from us older than our own latest take of the
 * node, or than the one under way: by the Identifications of the
 * registrations they came with (m's is in its Sealed field).  Its sender
 * sent it before it lent the SAs on, or repeats it since (through the
 * store it never hears of ours); what we hold came after.  A confirmation
 * without a registration (or with another node's) is taken as before.
 */
static bool fa_confirm_stale(const struct fa_sec *s, struct in_addr home, const struct sax_msg *m)
{
	const struct fa_took *t = u32map_get(&s->took, home.s_addr);
	const struct fa_xfer *x = u32map_get(&s->xfers, home.s_addr);
	struct mip_reg_request rq;

	if (m->req.reg_len == 0 ||
	    mip_request_parse(m->req.reg, m->req.reg_len, &rq) != MIP_PERR_OK ||
	    rq.home_addr.s_addr != home.s_addr)
		return false;
	return (t != NULL && t->id > rq.id) || (fa_xfer_importing(x) && x->id > rq.id);
}

/*
 * The new FA has the node (possession proved, registration accepted): the
 * SAs are its alone, unless we took a loan to it back, or lent them to
 * another FA meanwhile.  Without SAs for the node we have nothing to send
 * on, and say so (RELEASED) however often it asks.  While we take the
 * node's SAs ourselves, or took them lately, a confirmation is about the
 * hand-over before ours (fa_confirm_stale): ignored.
 */
static void fa_taken(struct fa_sec *s, const struct sax_msg *m)
{
	struct fa_handed *h;
	struct in_addr home;
	uint64_t top;

	if (!fa_member(s->dom, m->sender) || s->ep.ike == NULL || !fa_home_of(s, m, &home))
		return;
	if (fa_confirm_stale(s, home, m)) {
		s->reuse.served_late_confirm++;
		log_rl_notice("%s confirms taking the SAs of %s, which we have taken back since: "
			      "ignored",
			      IP4_STR(m->sender), IP4_STR(home));
		return;
	}
	h = u32map_get(&s->handed, home.s_addr);
	if (ike_sa_find_peer(s->ep.ike, home) != NULL && h != NULL &&
	    (h->reclaimed || h->to.s_addr != m->sender.s_addr)) {
		s->reuse.served_late_confirm++;
		log_rl_notice("%s confirms taking the SAs of %s, %s", IP4_STR(m->sender),
			      IP4_STR(home),
			      h->reclaimed ? "but we took them back" : "lent to another FA");
		fa_taken_answer(s, m, h->reclaimed ? SAX_R_RECLAIMED : SAX_R_UNKNOWN, 0);
		return;
	}
	if (h != NULL)
		fa_handed_free(h);
	if (ike_sa_find_peer(s->ep.ike, home) != NULL) {
		struct fa_node_seq q = fa_node_seq(s, home);

		/* none to tell while on a loan of ours: numbers above its cap are not ours to give
		 */
		top = q.on_loan ? 0 : q.top;
		fa_offer_released(s, home, m->sender, top);
		ike_forget_peer(s->ep.ike, home, "taken over by the next foreign agent");
		log_info("SAs of %s now with %s", IP4_STR(home), IP4_STR(m->sender));
	} else {
		/* released before: the same top to the same FA; to another, none */
		top = fa_offer_released_top(s, home, m->sender);
	}
	s->reuse.served_released++;
	fa_taken_answer(s, m, SAX_OK, top);
}

/* A transfer at this FA that an answer from sender for the node m names belongs to. */
static struct fa_xfer *fa_xfer_for(struct fa_sec *s, const struct sax_msg *m,
				   enum fa_xfer_state state)
{
	size_t it = 0;
	uint32_t k;
	void *v;

	while (u32map_next(&s->xfers, &it, &k, &v)) {
		struct fa_xfer *c = v;
		if (c->state == state && strlen(c->mn_id) == m->mn_id_len &&
		    memcmp(c->mn_id, m->mn_id, m->mn_id_len) == 0 &&
		    c->req.prev_coa.s_addr == m->sender.s_addr)
			return c;
	}
	return NULL;
}

/*
 * Our pairs with the node after the previous FA released them: no cap, and
 * (taken from its offer) above its top.  A pair that cannot go on above it
 * goes; false when none is left.
 */
static bool fa_xfer_released(struct fa_xfer *x, uint64_t top)
{
	struct fa_sec *s = x->s;
	size_t n = 0;

	for (struct ike_child *c = ike_children(s->ep.ike), *nx; c != NULL; c = nx) {
		struct ipsec_pair *p = ipsec_find_spi(&s->ep.sas, c->spi_in);
		nx = c->next;
		if (c->peer.s_addr != x->home.s_addr || p == NULL)
			continue;
		if (ipsec_released(p, top) == ESP_OK)
			n++;
		else
			ike_child_delete(s->ep.ike, c, "no numbers left above the previous FA's");
	}
	return n > 0;
}

/*
 * The previous FA's answer to our confirmation.  RELEASED: the SAs are ours
 * alone (a loan's cap goes); REFUSED: it took them back or lent them to
 * another FA meanwhile, so new IPsec SAs.  Taken from its offer, a
 * RELEASED without its top is no release: another member took the same
 * offer (the node's reply from it was lost) and confirmed first, so new
 * IPsec SAs too, staying in our block meanwhile.
 */
static void fa_confirm_answer(struct fa_sec *s, struct fa_xfer *x, const struct sax_msg *m)
{
	bool offered = x->offered && x->loan;

	if (!x->confirming)
		return;
	x->confirming = false;
	if (m->type == SAX_RELEASED && (!offered || m->req.seq_top != 0)) {
		bool left = !x->loan || fa_xfer_released(x, offered ? m->req.seq_top : 0);

		x->loan = false;
		s->reuse.taken_released++;
		log_info("SA reuse for %s: %s released the SAs%s", IP4_STR(x->home),
			 IP4_STR(m->sender), offered ? "; we go on above its numbers" : "");
		if (offered && left && fa_offers_out(s, x->home))
			fa_offer_push(s, x->home); /* blocks above its numbers now */
		else if (!left)
			fa_rekey_node(s, x->home, "no numbers left above the previous FA's");
	} else if (m->type == SAX_RELEASED) {
		x->loan = false;
		s->reuse.taken_twice++;
		log_notice("SA reuse for %s: %s released the SAs without its numbers (to another "
			   "FA that took the same offer): new IPsec SAs",
			   IP4_STR(x->home), IP4_STR(m->sender));
		fa_rekey_node(s, x->home, "another FA took the same offer");
	} else {
		x->loan = false;
		s->reuse.taken_reclaimed++;
		log_notice("SA reuse for %s: %s kept the SAs (%s)", IP4_STR(x->home),
			   IP4_STR(m->sender), store_reason_name((enum sax_reason)m->flags));
		fa_rekey_node(s, x->home, "the previous FA took them back");
	}
	fa_xfer_settled(x);
}

static void fa_take_answer(struct fa_sec *s, const struct sax_msg *m)
{
	struct fa_xfer *x = fa_xfer_for(s, m, FA_XF_DIRECT);

	if (x == NULL && (x = fa_xfer_for(s, m, FA_XF_CONFIRM)) != NULL && m->type != SAX_RECORD) {
		fa_confirm_answer(s, x, m);
		return;
	}
	if (x == NULL || x->state != FA_XF_DIRECT || m->type == SAX_RELEASED) {
		log_rl_debug("late or unexpected %s from %s", sax_type_name(m->type),
			     IP4_STR(m->sender));
		return;
	}
	ev_timer_stop(s->loop, &x->timer);
	if (m->type == SAX_REFUSED) {
		s->reuse.fallback_prev_refused++;
		log_rl_notice("SA reuse for %s: %s refused (%s)", IP4_STR(x->home),
			      IP4_STR(m->sender), store_reason_name((enum sax_reason)m->flags));
		fa_xfer_try_store(x, "the previous FA has no SAs for the node");
		return;
	}
	fa_xfer_install(x, m);
}

void fa_sec_sax_in(struct fa_sec *s, struct in_addr from, const uint8_t *msg, size_t len)
{
	struct sax_msg *m;
	enum sax_err e;

	if (s->replay == NULL)
		return; /* no reuse: nothing to serve, nothing asked */
	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		log_rl_warn("out of memory for an SA transfer message from %s", IP4_STR(from));
		return;
	}
	e = sax_ring_parse(&s->dom->fa_keys, msg, len, ev_loop_wall_ms(s->loop), s->dom->window_ms,
			   s->replay, m, &s->rx_slot);
	if (e != SAX_E_OK || m->sender.s_addr != from.s_addr) {
		s->reuse.sax_bad_messages++;
		log_rl_notice("SA transfer message from %s: %s", IP4_STR(from),
			      e != SAX_E_OK ? sax_err_name(e) : "sender is not the source");
	} else if (m->type == SAX_REQUEST) {
		fa_serve_request(s, m);
	} else if (m->type == SAX_RECORD || m->type == SAX_REFUSED || m->type == SAX_RELEASED) {
		fa_take_answer(s, m);
	} else if (m->type == SAX_STORE_DEL) {
		fa_taken(s, m);
	} else if (m->type == SAX_OFFER) {
		fa_offer_in(s, m);
	}
	s->rx_slot = SAX_RING_CUR;
	sax_record_wipe(&m->rec);
	OPENSSL_cleanse(m, sizeof(*m));
	free(m);
}

/* ---- key rotation ---- */

/* Our copy of every node whose SAs we hold (and have not lent), written again. */
static void fa_rewrite_copies(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct fa_sec *s = arg;
	struct u32map seen;
	size_t it = 0, n = 0;
	uint32_t k;
	void *v;

	(void)loop;
	(void)t;
	if (!fa_uses_store(s))
		return;
	u32map_init(&seen);
	while (u32map_next(&s->ep.sas.by_spi, &it, &k, &v)) {
		const struct ipsec_pair *p = v;
		struct in_addr home = p->remote_net;
		/* a node with several pairs is written once; a hand-over writes its own */
		if (p->handed_over || u32map_get(&seen, home.s_addr) != NULL ||
		    u32map_get(&s->xfers, home.s_addr) != NULL)
			continue;
		if (u32map_put(&seen, home.s_addr, (void *)(uintptr_t)1) < 0) {
			log_warn("no memory to write every store copy again after a key rotation");
			break;
		}
		n += fa_store_write(s, home, NULL, 1000) == 0;
	}
	u32map_free(&seen);
	log_info("key rotation: %zu store copies written again under the new keys", n);
}

/*
 * The copies the store did not take, written again while they are still
 * ours to write: we hold the node's SAs, have not lent them, no hand-over
 * of it is under way here, and it sent lately (a node gone quiet has
 * likely moved on, and its next FA's copy is the one that counts).  A
 * write that fails again puts the node back on the list.
 */
static void fa_store_retry(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct fa_sec *s = arg;
	size_t it = 0, n = 0;
	uint32_t k;
	void *v;

	(void)t;
	while (n < FA_STORE_RETRY_MAX && u32map_next(&s->unsaved, &it, &k, &v)) {
		struct in_addr home = {.s_addr = k};
		const struct ipsec_pair *p = ipsec_find(&s->ep.sas, k);

		u32map_del(&s->unsaved, k);
		/* the deletion shifted a later entry into this slot (u32map_del): look again */
		it--;
		if (!fa_uses_store(s) || p == NULL || p->handed_over ||
		    u32map_get(&s->xfers, k) != NULL || u32map_get(&s->handed, k) != NULL ||
		    ev_loop_now_ms(loop) - p->last_in_ms >= FA_REUSE_ACTIVE_MS)
			continue;
		s->reuse.store_put_retries++;
		n++;
		(void)fa_store_write(s, home, NULL, 1000); /* a failure puts it back on the list */
	}
	if (s->unsaved.len > 0)
		ev_timer_start(loop, &s->unsaved_timer, FA_STORE_RETRY_MS);
}

void fa_reuse_store_connected(void *arg)
{
	struct fa_sec *s = arg;

	/* the store is back (a failover, say): what it could not keep goes now, not in a second */
	if (s->unsaved.len > 0)
		ev_timer_start(s->loop, &s->unsaved_timer, 0);
}

void fa_reuse_keys_rotated(struct fa_sec *s)
{
	const struct sax_keyring *r = &s->dom->keys;
	uint64_t now = ev_loop_wall_ms(s->loop);

	if (!fa_uses_store(s))
		return;
	ev_timer_start(s->loop, &s->rekey_timer,
		       r->have_prev && r->switch_ms > now ? r->switch_ms - now : 0);
}

/* ---- setup ---- */

int fa_reuse_init(struct fa_sec *s)
{
	ev_timer_init(&s->rekey_timer, fa_rewrite_copies, s);
	ev_timer_init(&s->unsaved_timer, fa_store_retry, s);
	u32map_init(&s->unsaved);
	u32map_init(&s->xfers);
	u32map_init(&s->handed);
	u32map_init(&s->took);
	u32map_init(&s->offers);
	s->puts = NULL;
	/* Without reuse there is no K_SA, and nothing to serve. */
	if (!s->dom->enabled || s->ep.ike == NULL || s->dom->reuse == FA_REUSE_NONE)
		return 0;
	s->replay = sax_replay_new(FA_REPLAY_ENTRIES, s->dom->window_ms);
	if (s->replay == NULL)
		return -1;
	log_notice("SA reuse: %s, %s%s%s",
		   s->dom->reuse == FA_REUSE_FULL      ? "full"
		   : s->dom->reuse == FA_REUSE_PARTIAL ? "partial"
						       : "none",
		   s->dom->direct ? "direct" : "", s->dom->direct && s->dom->store ? " then " : "",
		   s->dom->store ? "store" : "");
	return 0;
}

void fa_reuse_guard(struct fa_sec *s, struct fa_guard *g)
{
	if (s->replay == NULL)
		return;
	g->cleartext_ok = fa_reuse_cleartext_ok;
	g->reuse_request = fa_reuse_request;
	g->reply_filter = fa_reuse_reply_filter;
}

void fa_reuse_free(struct fa_sec *s)
{
	size_t it = 0;
	uint32_t k;
	void *v;

	while (u32map_next(&s->xfers, &it, &k, &v)) {
		struct fa_xfer *x = v;
		ev_timer_stop(s->loop, &x->timer);
		OPENSSL_cleanse(x, sizeof(*x));
		free(x);
	}
	u32map_free(&s->xfers);
	it = 0;
	while (u32map_next(&s->handed, &it, &k, &v)) {
		struct fa_handed *h = v;
		ev_timer_stop(s->loop, &h->timer);
		free(h);
	}
	u32map_free(&s->handed);
	it = 0;
	while (u32map_next(&s->took, &it, &k, &v))
		free(v);
	u32map_free(&s->took);
	fa_offer_free_all(s);
	if (s->rekey_timer.cb != NULL) { /* fa_sec_init may have failed before fa_reuse_init */
		ev_timer_stop(s->loop, &s->rekey_timer);
		ev_timer_stop(s->loop, &s->unsaved_timer);
	}
	u32map_free(&s->unsaved);
	/* The store client, freed first, dropped pending writes without their callbacks. */
	while (s->puts != NULL) {
		struct fa_put *pp = s->puts;
		s->puts = pp->next;
		free(pp);
	}
	sax_replay_free(s->replay);
	s->replay = NULL;
}

void fa_reuse_ctl(struct fa_sec *s, struct ctl_out *o)
{
	/* The domain's key rings count these: shown with the reuse counters. */
	s->reuse.key_rotations = s->dom->keys.rotations;
	s->reuse.rx_previous_key = s->dom->keys.rx_previous + s->dom->fa_keys.rx_previous;
	s->reuse.keys_dropped = s->dom->keys.dropped;
	ctl_obj_begin(o, "reuse_counters");
#define FA_REUSE_CTL(n) ctl_u64(o, #n, s->reuse.n);
	FA_REUSE_COUNTERS(FA_REUSE_CTL)
#undef FA_REUSE_CTL
	ctl_obj_end(o);
}
