/*
 * SA reuse, mipsa-fa's side (design brief section 3, doc/sa-reuse.md).
 *
 * New FA: a visitor without SAs here registers in the clear with the SA
 * reuse extension (previous FA, ISAKMP cookies, its ESP counters, a proof
 * of possession keyed from the ISAKMP SA).  While the registration goes on
 * to the home agent, we fetch the SAs: a SAX_REQUEST to the previous FA
 * (direct) and/or a STORE_GET (store), each with a bounded wait.  The
 * record installs only when the node's proof checks out against it; the
 * home agent's reply waits for the outcome and tells the node: full reuse,
 * partial (run Quick Mode), or refused (negotiate).  Every fallback has a
 * reason, a log line and a counter.
 *
 * Previous FA: a SAX_REQUEST from a member of the domain gets the record
 * (exact sequence numbers) and we stop using the SAs at once.  With the
 * store, we keep a copy there whose outbound sequence numbers are reserved
 * ahead, so whoever takes the SAs next starts above anything we may send.
 */
#include "fa_reuse.h"
#include "ctl.h"
#include "fa_daemon.h"
#include "ike.h"
#include "ip4.h"
#include "isakmp.h"
#include "log.h"
#include "mip_conf.h"
#include "mip_msg.h"
#include "netio.h"

#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define FA_XFER_KEEP_MS 5000 /* a finished transfer waits this long for the HA's reply */
#define FA_REPLY_MAX    1024

enum fa_xfer_state {
	FA_XF_DIRECT, /* asking the previous FA */
	FA_XF_STORE,  /* reading the store */
	FA_XF_PUT,    /* full reuse: writing our copy before we send on the SAs */
	FA_XF_DONE,
};

/* One hand-over in progress at the new FA. */
struct fa_xfer {
	struct fa_daemon *d;
	struct in_addr home;
	char mn_id[SAX_ID_MAX + 1];
	struct mip_reuse_req req;
	uint8_t covered[FA_REPLY_MAX];
	size_t covered_len;
	uint8_t auth[32];
	enum fa_xfer_state state;
	uint8_t status, reason;
	bool reply_held;
	uint8_t reply[FA_REPLY_MAX];
	size_t reply_len;
	uint64_t started_us;
	struct ev_timer timer;
};

/* A store write in flight: the reservations it carries apply when the store has it. */
struct fa_put {
	struct fa_daemon *d;
	struct fa_put *next;
	struct fa_xfer *x; /* a hand-over that completes with this write */
	size_t n;
	uint32_t spi[SAX_MAX_CHILDREN];
	uint64_t seq[SAX_MAX_CHILDREN];
};

/* The previous FA: whom it handed a node's SAs to, until that FA confirms. */
struct fa_handed {
	struct in_addr to;
};

static void fa_xfer_stored(struct fa_xfer *x, bool kept);

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
	{"store", store_conf_names},
	{NULL, NULL},
};

static int fa_domain_keys(struct conf *c, const config_setting_t *g, struct fa_domain *dom)
{
	const char *f;
	char err[160];

	if (conf_str(c, g, "k_db_file", true, &f) != 0)
		return -1;
	if (store_read_key_file(f, dom->keys.k_db, err, sizeof(err)) < 0)
		return conf_fail(c, config_setting_get_member(g, "k_db_file"), NULL, "%s", err);
	if (dom->reuse == FA_REUSE_NONE)
		return 0;
	if (conf_str(c, g, "k_sa_file", true, &f) != 0)
		return -1;
	if (store_read_key_file(f, dom->keys.k_sa, err, sizeof(err)) < 0)
		return conf_fail(c, config_setting_get_member(g, "k_sa_file"), NULL, "%s", err);
	dom->keys.have_k_sa = true;
	/* Between FAs, not K_DB: the store holds that (sax_fa_keys). */
	if (sax_fa_keys(dom->keys.k_sa, &dom->fa_keys) < 0)
		return conf_fail(c, g, "k_sa_file", "key derivation failed");
	return 0;
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
	    mip_conf_uint(c, g, "transfer_timeout_ms", 1, 10000, &dom->timeout_ms) < 0 ||
	    mip_conf_uint(c, g, "freshness_window_ms", 100, 3600000, &dom->window_ms) < 0 ||
	    mip_conf_uint(c, g, "seq_reserve", 1024, 1u << 30, &reserve) < 0)
		return -1;
	dom->seq_reserve = reserve;
	if (dom->store && store_conf_load(c, conf_group(c, g, "store", true), &dom->store_cfg) < 0)
		return -1;
	return 0;
}

void fa_domain_free(struct fa_domain *dom)
{
	sax_keys_wipe(&dom->keys);
	sax_keys_wipe(&dom->fa_keys);
	store_config_wipe(&dom->store_cfg);
}

static bool fa_member(const struct fa_domain *dom, struct in_addr a)
{
	uint32_t m = dom->member_plen == 0 ? 0 : htonl(~0u << (32 - dom->member_plen));

	for (size_t i = 0; i < dom->n_members; i++)
		if (dom->members[i].s_addr == a.s_addr)
			return true;
	return dom->member_plen != 0 && (a.s_addr & m) == (dom->member_net.s_addr & m);
}

/* ---- sending sax messages ---- */

static int fa_sax_send(struct fa_daemon *d, struct in_addr to, struct sax_msg *m)
{
	uint8_t out[SAX_MSG_MAX];
	struct buf b;
	enum sax_err e;

	m->version = SAX_VERSION;
	m->sender = d->fa.cfg.coa;
	sax_stamp(m);
	buf_init_write(&b, out, sizeof(out));
	e = sax_build(&b, m, &d->dom.fa_keys);
	if (e != SAX_E_OK) {
		log_err("cannot build a %s: %s", sax_type_name(m->type), sax_err_name(e));
		return -1;
	}
	netio_udp_send(d->sax_fd, d->fa.cfg.coa, to, SAX_PORT, out, buf_used(&b));
	OPENSSL_cleanse(out, sizeof(out));
	return 0;
}

/* ---- the store's copy ---- */

/*
 * The sequence-number state of each exported pair (ipsec_next_seq): into
 * put, a store write, or, when hand is set, the record for the next FA.
 */
static void fa_record_seq(struct fa_daemon *d, struct sax_record *rec, uint64_t reserve, bool hand,
			  struct fa_put *put)
{
	for (size_t i = 0; i < rec->n_children; i++) {
		struct sax_child *c = &rec->children[i];
		struct ipsec_pair *p = ipsec_find_spi(&d->ipsec, c->spi_in);
		struct esp_sa_state in;
		if (p == NULL)
			continue;
		esp_sa_export_state(&p->in, &in);
		c->replay_top = in.replay.top;
		c->seq_out = ipsec_next_seq(p, reserve);
		if (hand) {
			ipsec_hand_over(p, c->seq_out);
		} else if (put != NULL && put->n < SAX_MAX_CHILDREN) {
			ipsec_reserve(p, c->seq_out);
			put->spi[put->n] = p->in.spi;
			put->seq[put->n++] = c->seq_out;
		}
	}
}

static void fa_put_unlink(struct fa_put *pp)
{
	for (struct fa_put **q = &pp->d->puts; *q != NULL; q = &(*q)->next)
		if (*q == pp) {
			*q = pp->next;
			return;
		}
}

static void fa_store_put_done(void *arg, const struct store_result *r)
{
	struct fa_put *pp = arg;
	struct fa_daemon *d = pp->d;

	fa_put_unlink(pp);
	for (size_t i = 0; i < pp->n; i++) {
		struct ipsec_pair *p = ipsec_find_spi(&d->ipsec, pp->spi[i]);
		if (p != NULL)
			ipsec_reserve_done(p, pp->seq[i], r->status == STORE_OK);
	}
	if (r->status != STORE_OK) {
		d->reuse.store_put_failures++;
		log_rl_warn("store kept no copy of %s's SAs: %s", r->mn_id,
			    store_status_name(r->status));
	}
	if (pp->x != NULL)
		fa_xfer_stored(pp->x, r->status == STORE_OK);
	free(pp);
}

/* A write that never left: nothing pending (the limits it set stay: they are safe). */
static void fa_put_abandon(struct fa_daemon *d, struct fa_put *pp)
{
	d->reuse.store_put_failures++;
	for (size_t i = 0; i < pp->n; i++) {
		struct ipsec_pair *p = ipsec_find_spi(&d->ipsec, pp->spi[i]);
		if (p != NULL)
			ipsec_reserve_done(p, pp->seq[i], false);
	}
	pp->n = 0;
}

static const struct ike_peer *fa_peer_of(struct fa_daemon *d, struct in_addr home)
{
	return ipsec_conf_peer(&d->ic, home);
}

/*
 * Write our copy of a node's SAs to the store.  0: under way, its
 * callback follows (and finishes x, a hand-over waiting for it, if any).
 */
static int fa_store_write(struct fa_daemon *d, struct in_addr home, struct fa_xfer *x,
			  uint32_t timeout_ms)
{
	const struct ike_peer *pc = fa_peer_of(d, home);
	struct fa_put *pp;
	struct sax_msg *m;
	uint8_t out[SAX_MSG_MAX];
	struct buf b;
	int r = -1;

	if (pc == NULL || pc->id.len == 0 || pc->id.len > SAX_ID_MAX)
		return -1;
	m = calloc(1, sizeof(*m));
	pp = calloc(1, sizeof(*pp));
	if (m == NULL || pp == NULL || ike_export(d->ike, home, true, &m->rec) < 0)
		goto out;
	pp->d = d;
	pp->x = x;
	m->type = SAX_STORE_PUT;
	m->has_record = true;
	memcpy(m->mn_id, pc->id.data, pc->id.len);
	m->mn_id_len = pc->id.len;
	fa_record_seq(d, &m->rec, d->dom.seq_reserve, false, pp);
	m->rec.home_addr = home;
	m->rec.prev_coa = d->fa.cfg.coa;
	m->expires_ms = m->rec.isakmp.expires_ms;
	m->version = SAX_VERSION;
	m->sender = d->fa.cfg.coa;
	sax_stamp(m);
	buf_init_write(&b, out, sizeof(out));
	if (sax_build(&b, m, &d->dom.keys) == SAX_E_OK &&
	    store_put(d->store, m->mn_id, m->expires_ms, out, buf_used(&b), timeout_ms,
		      fa_store_put_done, pp) == 0) {
		d->reuse.store_puts++;
		pp->next = d->puts;
		d->puts = pp;
		pp = NULL;
		r = 0;
	} else {
		fa_put_abandon(d, pp);
	}
	OPENSSL_cleanse(out, sizeof(out));
out:
	free(pp);
	if (m != NULL)
		sax_record_wipe(&m->rec);
	free(m);
	return r;
}

void fa_reuse_note_pair(struct fa_daemon *d, struct in_addr home)
{
	if (d->dom.enabled && d->dom.store && d->store != NULL && d->dom.reuse != FA_REUSE_NONE)
		fa_store_write(d, home, NULL, 1000);
}

/* ---- the new FA: finishing a transfer ---- */

static void fa_xfer_free(struct fa_xfer *x)
{
	ev_timer_stop(x->d->loop, &x->timer);
	u32map_del(&x->d->xfers, x->home.s_addr);
	OPENSSL_cleanse(x, sizeof(*x));
	free(x);
}

static void fa_xfer_reap(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	fa_xfer_free(arg);
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

/*
 * The home agent's reply goes to the node: the moment the hand-over counts.
 * Accepted, the SAs are ours and the FA that had them forgets them;
 * refused (a replayed registration, say), what we took in goes again.
 */
static void fa_xfer_commit(struct fa_xfer *x, const uint8_t *reply, size_t len)
{
	struct fa_daemon *d = x->d;
	struct sax_msg *m;

	if (x->status == MIP_REUSE_REFUSED)
		return;
	if (len < 2 || reply[1] > 1) {
		log_info("registration of %s refused (code %u): dropping the SAs taken over",
			 IP4_STR(x->home), len < 2 ? 0 : reply[1]);
		ike_forget_peer(d->ike, x->home, "registration refused");
		return;
	}
	if (!fa_member(&d->dom, x->req.prev_coa) || x->req.prev_coa.s_addr == d->fa.cfg.coa.s_addr)
		return;
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return;
	m->type = SAX_STORE_DEL;
	memcpy(m->mn_id, x->mn_id, strlen(x->mn_id));
	m->mn_id_len = strlen(x->mn_id);
	fa_sax_send(d, x->req.prev_coa, m);
	free(m);
}

static void fa_xfer_finish(struct fa_xfer *x, uint8_t status, uint8_t reason, const char *why)
{
	struct fa_daemon *d = x->d;

	x->state = FA_XF_DONE;
	x->status = status;
	x->reason = reason;
	if (status == MIP_REUSE_FULL)
		d->reuse.reuse_full++;
	else if (status == MIP_REUSE_PARTIAL)
		d->reuse.reuse_partial++;
	else
		d->reuse.reuse_refused++;
	log_info("SA reuse for %s: %s (%s, %llu us)", IP4_STR(x->home),
		 status == MIP_REUSE_FULL      ? "full"
		 : status == MIP_REUSE_PARTIAL ? "partial: Quick Mode follows"
					       : "refused: negotiation follows",
		 why, (unsigned long long)(ev_now_us() - x->started_us));
	if (x->reply_held) {
		x->reply_held = false;
		fa_xfer_commit(x, x->reply, x->reply_len);
		if (fa_xfer_status_ext(x, x->reply, &x->reply_len, sizeof(x->reply)) == 0)
			fa_send_reply(&d->fa, x->home, x->reply, x->reply_len, sizeof(x->reply));
		fa_xfer_free(x);
		return;
	}
	ev_timer_init(&x->timer, fa_xfer_reap, x);
	ev_timer_start(d->loop, &x->timer, FA_XFER_KEEP_MS);
}

static void fa_xfer_fail(struct fa_xfer *x, uint64_t *counter, const char *why)
{
	(*counter)++;
	log_rl_notice("SA reuse for %s falls back to negotiation: %s", IP4_STR(x->home), why);
	fa_xfer_finish(x, MIP_REUSE_REFUSED, 0, why);
}

/* The node proves it holds the ISAKMP SA the record carries. */
static bool fa_xfer_possession(struct fa_xfer *x, const struct sax_record *rec)
{
	uint8_t mac[IKE_MAX_HASH];
	bool ok;

	if (memcmp(rec->isakmp.icookie, x->req.icookie, 8) != 0 ||
	    memcmp(rec->isakmp.rcookie, x->req.rcookie, 8) != 0 ||
	    x->req.auth_len != rec->isakmp.hash_len ||
	    ike_possession_mac(&rec->isakmp, x->covered, x->covered_len, mac) < 0)
		return false;
	ok = CRYPTO_memcmp(mac, x->auth, x->req.auth_len) == 0;
	OPENSSL_cleanse(mac, sizeof(mac));
	return ok;
}

/* Sequence numbers and replay windows of the pairs taken over (ipsec_take_over). */
static size_t fa_xfer_seq(struct fa_xfer *x, const struct sax_record *rec)
{
	struct fa_daemon *d = x->d;
	bool hold = d->dom.store && d->store != NULL;
	size_t n = 0;

	for (size_t i = 0; i < rec->n_children; i++) {
		const struct sax_child *c = &rec->children[i];
		struct ipsec_pair *p = ipsec_find_spi(&d->ipsec, c->spi_in);
		if (p == NULL)
			continue;
		if (ipsec_take_over(p, c->seq_out, c->replay_top, x->req.mn_sent,
				    x->req.mn_received, hold) == ESP_OK)
			n++;
		else if (p->child != NULL)
			ike_child_forget(d->ike, p->child,
					 "its sequence numbers cannot be taken over");
	}
	return n;
}

static void fa_xfer_install(struct fa_xfer *x, const struct sax_msg *m)
{
	struct fa_daemon *d = x->d;
	const struct sax_record *rec = &m->rec;
	const struct ike_peer *pc = fa_peer_of(d, x->home);
	bool full = d->dom.reuse == FA_REUSE_FULL && rec->n_children > 0;

	if (!m->has_record || rec->home_addr.s_addr != x->home.s_addr || pc == NULL) {
		fa_xfer_fail(x, &d->reuse.fallback_bad_record, "record for another node");
		return;
	}
	if (!fa_xfer_possession(x, rec)) {
		fa_xfer_fail(x, &d->reuse.fallback_possession,
			     "the node's proof of possession does not verify");
		return;
	}
	if (ike_import(d->ike, rec, pc, full) == NULL) {
		fa_xfer_fail(x, &d->reuse.fallback_expired, "the ISAKMP SA has ended");
		return;
	}
	if (full && fa_xfer_seq(x, rec) == 0) {
		/* Every pair had ended: Quick Mode under the ISAKMP SA. */
		full = false;
		d->reuse.fallback_expired++;
		log_rl_notice("SA reuse for %s: the IPsec SAs have ended; partial instead",
			      IP4_STR(x->home));
	}
	/*
	 * With a store, the previous FA's copy there starts its reader where we
	 * start: ours must replace it before we send anything (fa_xfer_stored).
	 */
	if (full && d->dom.store && d->store != NULL) {
		x->state = FA_XF_PUT;
		if (fa_store_write(d, x->home, x, d->dom.timeout_ms) == 0)
			return;
		fa_xfer_stored(x, false);
		return;
	}
	fa_xfer_finish(x, full ? MIP_REUSE_FULL : MIP_REUSE_PARTIAL, 0,
		       full ? "ISAKMP and IPsec SAs taken over" : "ISAKMP SA taken over");
}

/* Our copy of a full hand-over is in the store, or could not be written: Quick Mode then. */
static void fa_xfer_stored(struct fa_xfer *x, bool kept)
{
	struct fa_daemon *d = x->d;

	if (x->state != FA_XF_PUT)
		return;
	if (kept) {
		fa_xfer_finish(x, MIP_REUSE_FULL, 0,
			       "ISAKMP and IPsec SAs taken over, store updated");
		return;
	}
	for (struct ike_child *c = ike_children(d->ike), *n; c != NULL; c = n) {
		n = c->next;
		if (c->peer.s_addr == x->home.s_addr)
			ike_child_forget(d->ike, c,
					 "the store kept no copy: new IPsec SAs instead");
	}
	fa_xfer_finish(x, MIP_REUSE_PARTIAL, 0, "ISAKMP SA taken over; the store kept no copy");
}

/* ---- the new FA: fetching ---- */

static void fa_xfer_store_done(void *arg, const struct store_result *r);

static void fa_xfer_try_store(struct fa_xfer *x, const char *after)
{
	struct fa_daemon *d = x->d;

	if (!d->dom.store || d->store == NULL) {
		fa_xfer_fail(x, &d->reuse.fallback_prev_silent, after);
		return;
	}
	x->state = FA_XF_STORE;
	if (store_get(d->store, x->mn_id, d->dom.timeout_ms, fa_xfer_store_done, x) < 0)
		fa_xfer_fail(x, &d->reuse.fallback_store_down, "store request refused locally");
}

static void fa_xfer_timeout(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct fa_xfer *x = arg;

	if (x->state == FA_XF_DIRECT)
		fa_xfer_try_store(x, "the previous FA did not answer in time");
}

static void fa_xfer_store_done(void *arg, const struct store_result *r)
{
	struct fa_xfer *x = arg;
	struct fa_daemon *d = x->d;
	struct sax_msg *m;

	if (x->state != FA_XF_STORE)
		return;
	if (r->status == STORE_NOT_FOUND) {
		fa_xfer_fail(x, &d->reuse.fallback_store_miss, "the store has no record");
		return;
	}
	if (r->status != STORE_OK) {
		fa_xfer_fail(x, &d->reuse.fallback_store_down, store_status_name(r->status));
		return;
	}
	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		fa_xfer_fail(x, &d->reuse.fallback_local, "out of memory");
		return;
	}
	/* A record read back is old by nature: no window, its Expires must lie ahead. */
	enum sax_err e = sax_parse(r->msg, r->len, &d->dom.keys, store_wall_ms(), 0, NULL, m);
	/* The store is the Sender of its answers: the writer is named inside, under K_SA. */
	if (e == SAX_E_STALE)
		fa_xfer_fail(x, &d->reuse.fallback_expired, "the store's record has expired");
	else if (e != SAX_E_OK || !fa_member(&d->dom, m->rec.prev_coa))
		fa_xfer_fail(x, &d->reuse.fallback_bad_record,
			     e != SAX_E_OK ? sax_err_name(e) : "written by a non-member");
	else
		fa_xfer_install(x, m);
	sax_record_wipe(&m->rec);
	free(m);
}

void fa_reuse_request(void *arg, const uint8_t mac[6], const uint8_t *msg, size_t len,
		      const struct mip_reg_request *rq)
{
	struct fa_daemon *d = arg;
	struct fa_xfer *x;
	bool member;

	(void)mac;
	if (u32map_get(&d->xfers, rq->home_addr.s_addr) != NULL)
		return; /* a retransmission: the transfer is under way */
	x = calloc(1, sizeof(*x));
	if (x == NULL || u32map_put(&d->xfers, rq->home_addr.s_addr, x) < 0) {
		free(x);
		return;
	}
	d->reuse.reuse_requests++;
	x->d = d;
	x->home = rq->home_addr;
	x->req = rq->ext.reuse;
	x->req.auth = NULL;
	x->started_us = ev_now_us();
	ev_timer_init(&x->timer, fa_xfer_timeout, x);
	if (rq->ext.reuse.covered_len > sizeof(x->covered)) {
		fa_xfer_fail(x, &d->reuse.fallback_possession, "request too large");
		return;
	}
	memcpy(x->covered, msg, rq->ext.reuse.covered_len);
	x->covered_len = rq->ext.reuse.covered_len;
	memcpy(x->auth, rq->ext.reuse.auth, rq->ext.reuse.auth_len);
	if (!d->dom.enabled || d->dom.reuse == FA_REUSE_NONE || d->ike == NULL) {
		fa_xfer_fail(x, &d->reuse.fallback_policy, "the domain does not reuse SAs");
		return;
	}
	if (rq->ext.nai_len == 0 || rq->ext.nai_len > SAX_ID_MAX) {
		fa_xfer_fail(x, &d->reuse.fallback_no_identity, "no NAI to name the node");
		return;
	}
	memcpy(x->mn_id, rq->ext.nai, rq->ext.nai_len);
	member = fa_member(&d->dom, x->req.prev_coa);
	if (!member && !d->dom.store) {
		fa_xfer_fail(x, &d->reuse.fallback_not_member,
			     "the previous FA is not a member of the domain");
		return;
	}
	/* Outside the domain, the store may still hold what a member wrote (re-association). */
	if (!d->dom.direct || !member || x->req.prev_coa.s_addr == d->fa.cfg.coa.s_addr) {
		fa_xfer_try_store(x, "no previous FA to ask");
		return;
	}
	struct sax_msg *m = calloc(1, sizeof(*m));
	if (m == NULL) {
		fa_xfer_fail(x, &d->reuse.fallback_local, "out of memory");
		return;
	}
	m->type = SAX_REQUEST;
	memcpy(m->mn_id, x->mn_id, rq->ext.nai_len);
	m->mn_id_len = rq->ext.nai_len;
	x->state = FA_XF_DIRECT;
	if (fa_sax_send(d, x->req.prev_coa, m) == 0)
		ev_timer_start(d->loop, &x->timer, d->dom.timeout_ms);
	else
		fa_xfer_try_store(x, "cannot ask the previous FA");
	free(m);
}

int fa_reuse_reply_filter(void *arg, struct in_addr home, uint8_t *msg, size_t *len, size_t cap)
{
	struct fa_daemon *d = arg;
	struct fa_xfer *x = u32map_get(&d->xfers, home.s_addr);

	if (x == NULL)
		return 0;
	if (x->state == FA_XF_DONE) {
		fa_xfer_commit(x, msg, *len);
		fa_xfer_status_ext(x, msg, len, cap);
		fa_xfer_free(x);
		return 0;
	}
	/* The home agent was faster than the transfer: the reply waits for its outcome. */
	if (*len > sizeof(x->reply))
		return 0;
	memcpy(x->reply, msg, *len);
	x->reply_len = *len;
	x->reply_held = true;
	return 1;
}

/* ---- the previous FA: serving ---- */

static bool fa_home_of(struct fa_daemon *d, const struct sax_msg *m, struct in_addr *home)
{
	for (size_t i = 0; i < d->ic.n_peers; i++) {
		const struct ike_peer *p = &d->ic.peers[i];
		if (p->id.len == m->mn_id_len && memcmp(p->id.data, m->mn_id, m->mn_id_len) == 0) {
			*home = p->addr;
			return true;
		}
	}
	return false;
}

/*
 * A node's SAs went to an FA that has not confirmed taking them: only that
 * FA may have them (again); entries go with the SAs.
 */
static bool fa_handed_elsewhere(struct fa_daemon *d, struct in_addr home, struct in_addr asker)
{
	struct fa_handed *h = u32map_get(&d->handed, home.s_addr);

	if (h == NULL)
		return false;
	if (ike_sa_find_peer(d->ike, home) == NULL) {
		free(u32map_del(&d->handed, home.s_addr));
		return false;
	}
	return h->to.s_addr != asker.s_addr;
}

static void fa_note_handed(struct fa_daemon *d, struct in_addr home, struct in_addr to)
{
	struct fa_handed *h = u32map_get(&d->handed, home.s_addr);

	if (h == NULL) {
		h = calloc(1, sizeof(*h));
		if (h == NULL || u32map_put(&d->handed, home.s_addr, h) < 0) {
			free(h);
			return;
		}
	}
	h->to = to;
}

/*
 * The record goes out with exact replay state and our outbound numbers
 * reserved ahead: we may still send up to them (a packet the home agent
 * tunnelled before the binding moved) and the new FA starts above.  We keep
 * the SAs until the new FA confirms (SAX_STORE_DEL, fa_taken): if the node
 * could not prove possession there, it is still ours.
 */
static void fa_serve_request(struct fa_daemon *d, const struct sax_msg *req)
{
	struct sax_msg *m = calloc(1, sizeof(*m));
	struct in_addr home;

	if (m == NULL)
		return;
	memcpy(m->mn_id, req->mn_id, req->mn_id_len);
	m->mn_id_len = req->mn_id_len;
	m->type = SAX_REFUSED;
	if (!fa_member(&d->dom, req->sender)) {
		d->reuse.served_not_member++;
		log_rl_notice("SA request from %s, not a member of the domain: refused",
			      IP4_STR(req->sender));
		m->flags = SAX_R_NOT_MEMBER;
	} else if (d->ike == NULL || !fa_home_of(d, req, &home) ||
		   fa_handed_elsewhere(d, home, req->sender) ||
		   ike_export(d->ike, home, d->dom.reuse == FA_REUSE_FULL, &m->rec) < 0) {
		d->reuse.served_refused++;
		log_rl_info("SA request from %s for %.*s: none to give", IP4_STR(req->sender),
			    (int)req->mn_id_len, req->mn_id);
		m->flags = SAX_R_UNKNOWN;
	} else {
		fa_record_seq(d, &m->rec, d->dom.seq_reserve, true, NULL);
		m->rec.home_addr = home;
		m->rec.prev_coa = d->fa.cfg.coa;
		m->expires_ms = m->rec.isakmp.expires_ms;
		m->type = SAX_RECORD;
		m->has_record = true;
		fa_note_handed(d, home, req->sender);
		d->reuse.served_records++;
		log_info("SAs of %s handed to %s", IP4_STR(home), IP4_STR(req->sender));
	}
	fa_sax_send(d, req->sender, m);
	sax_record_wipe(&m->rec);
	free(m);
}

/* The new FA has the node (possession proved, registration accepted): the SAs are its alone. */
static void fa_taken(struct fa_daemon *d, const struct sax_msg *m)
{
	struct in_addr home;

	if (!fa_member(&d->dom, m->sender) || d->ike == NULL || !fa_home_of(d, m, &home) ||
	    ike_sa_find_peer(d->ike, home) == NULL)
		return;
	free(u32map_del(&d->handed, home.s_addr));
	ike_forget_peer(d->ike, home, "taken over by the next foreign agent");
	log_info("SAs of %s now with %s", IP4_STR(home), IP4_STR(m->sender));
}

static void fa_take_answer(struct fa_daemon *d, const struct sax_msg *m)
{
	struct fa_xfer *x = NULL;
	size_t it = 0;
	uint32_t k;
	void *v;

	while (u32map_next(&d->xfers, &it, &k, &v)) {
		struct fa_xfer *c = v;
		if (c->state == FA_XF_DIRECT && strlen(c->mn_id) == m->mn_id_len &&
		    memcmp(c->mn_id, m->mn_id, m->mn_id_len) == 0 &&
		    c->req.prev_coa.s_addr == m->sender.s_addr)
			x = c;
	}
	if (x == NULL) {
		log_rl_debug("late or unexpected %s from %s", sax_type_name(m->type),
			     IP4_STR(m->sender));
		return;
	}
	ev_timer_stop(d->loop, &x->timer);
	if (m->type == SAX_REFUSED) {
		d->reuse.fallback_prev_refused++;
		fa_xfer_try_store(x, "the previous FA has no SAs for the node");
		return;
	}
	fa_xfer_install(x, m);
}

static void fa_on_sax(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct fa_daemon *d = arg;
	uint8_t buf[SAX_MSG_MAX];
	struct netio_udp_meta meta;
	struct sax_msg *m = calloc(1, sizeof(*m));
	ssize_t n;

	if (m == NULL)
		return;
	while ((n = netio_udp_recv(fd, buf, sizeof(buf), &meta)) >= 0) {
		d->rcvbuf.sax = meta.dropped;
		enum sax_err e = sax_parse(buf, (size_t)n, &d->dom.fa_keys, store_wall_ms(),
					   d->dom.window_ms, d->replay, m);
		if (e != SAX_E_OK || m->sender.s_addr != meta.from.sin_addr.s_addr) {
			d->reuse.sax_bad_messages++;
			log_rl_notice("SA transfer message from %s: %s",
				      IP4_STR(meta.from.sin_addr),
				      e != SAX_E_OK ? sax_err_name(e) : "sender is not the source");
		} else if (m->type == SAX_REQUEST) {
			fa_serve_request(d, m);
		} else if (m->type == SAX_RECORD || m->type == SAX_REFUSED) {
			fa_take_answer(d, m);
		} else if (m->type == SAX_STORE_DEL) {
			fa_taken(d, m);
		}
		sax_record_wipe(&m->rec);
	}
	OPENSSL_cleanse(buf, sizeof(buf));
	free(m);
}

/* ---- setup ---- */

int fa_reuse_open(struct fa_daemon *d)
{
	u32map_init(&d->xfers);
	u32map_init(&d->handed);
	d->puts = NULL;
	d->sax_fd = -1;
	/* Without reuse there is no K_SA, and nothing to serve. */
	if (!d->dom.enabled || d->ike == NULL || d->dom.reuse == FA_REUSE_NONE)
		return 0;
	d->replay = sax_replay_new(65536, d->dom.window_ms);
	d->sax_fd = netio_udp_open(d->fa.cfg.coa, SAX_PORT);
	if (d->replay == NULL || d->sax_fd < 0 ||
	    ev_io_add(d->loop, d->sax_fd, EPOLLIN, fa_on_sax, d) < 0)
		return -1;
	if (d->dom.store) {
		d->dom.store_cfg.local = d->fa.cfg.coa;
		d->store = store_client_new(d->loop, &d->dom.store_cfg);
		if (d->store == NULL)
			return -1;
	}
	log_notice("SA reuse: %s, %s%s%s",
		   d->dom.reuse == FA_REUSE_FULL      ? "full"
		   : d->dom.reuse == FA_REUSE_PARTIAL ? "partial"
						      : "none",
		   d->dom.direct ? "direct" : "", d->dom.direct && d->dom.store ? " then " : "",
		   d->dom.store ? "store" : "");
	return 0;
}

void fa_reuse_close(struct fa_daemon *d)
{
	size_t it = 0;
	uint32_t k;
	void *v;

	while (u32map_next(&d->xfers, &it, &k, &v)) {
		struct fa_xfer *x = v;
		ev_timer_stop(d->loop, &x->timer);
		OPENSSL_cleanse(x, sizeof(*x));
		free(x);
	}
	u32map_free(&d->xfers);
	it = 0;
	while (u32map_next(&d->handed, &it, &k, &v))
		free(v);
	u32map_free(&d->handed);
	/* The client drops pending writes without their callbacks. */
	store_client_free(d->store);
	while (d->puts != NULL) {
		struct fa_put *pp = d->puts;
		d->puts = pp->next;
		free(pp);
	}
	d->store = NULL;
	sax_replay_free(d->replay);
	d->replay = NULL;
	if (d->sax_fd >= 0)
		close(d->sax_fd);
}

void fa_reuse_ctl(struct fa_daemon *d, struct ctl_out *o)
{
	ctl_obj_begin(o, "reuse_counters");
#define FA_REUSE_CTL(n) ctl_u64(o, #n, d->reuse.n);
	FA_REUSE_COUNTERS(FA_REUSE_CTL)
#undef FA_REUSE_CTL
	ctl_obj_end(o);
}
