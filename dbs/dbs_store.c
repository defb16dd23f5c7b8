/*
 * The store engine: the record table, the three requests, expiry.  No
 * sockets and no clock of its own: the caller passes the wall clock, so
 * tests can run an hour of expiry in a microsecond.
 */
#include "buf.h"
#include "dbs_int.h"
#include "ip4.h"
#include "log.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* The record table's buckets: a power of two, from this ... */
#define DBS_BUCKETS_MIN 64
/* ... up to max_records, but not beyond this (16 M buckets, 128 MiB of pointers). */
#define DBS_BUCKETS_MAX ((size_t)1 << 24)

/* ---- the table: chained hashing on mn_id (FNV-1a) ---- */

static size_t dbs_hash(const char *id, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)id[i]) * 16777619u;
	return h;
}

static struct dbs_rec **dbs_slot(const struct dbs_table *t, const char *id, size_t id_len)
{
	struct dbs_rec **p = &t->buckets[dbs_hash(id, id_len) & (t->n_buckets - 1)];

	while (*p != NULL && !((*p)->id_len == id_len && memcmp((*p)->mn_id, id, id_len) == 0))
		p = &(*p)->next;
	return p;
}

struct dbs_rec *dbs_table_find(const struct dbs_table *t, const char *id, size_t id_len)
{
	return *dbs_slot(t, id, id_len);
}

size_t dbs_rec_log_bytes(const struct dbs_rec *r)
{
	return DBS_ENTRY_HDR_LEN + DBS_ENTRY_FIXED_LEN + r->id_len + r->sealed_len;
}

static void dbs_table_account(struct dbs_table *t, const struct dbs_rec *r, int sign)
{
	if (r->tomb) {
		t->n_tomb += (size_t)sign;
		return;
	}
	t->n_live += (size_t)sign;
	t->live_bytes += (uint64_t)((int64_t)sign * (int64_t)dbs_rec_log_bytes(r));
}

void dbs_rec_free(struct dbs_rec *r)
{
	if (r == NULL)
		return;
	explicit_bzero(r->sealed, r->sealed_len);
	free(r);
}

struct dbs_rec *dbs_table_swap(struct dbs_table *t, struct dbs_rec *r)
{
	struct dbs_rec **p = dbs_slot(t, r->mn_id, r->id_len);
	struct dbs_rec *old = *p;

	r->next = old != NULL ? old->next : NULL;
	if (old != NULL) {
		dbs_table_account(t, old, -1);
		old->next = NULL;
	}
	*p = r;
	dbs_table_account(t, r, 1);
	return old;
}

void dbs_table_set(struct dbs_table *t, struct dbs_rec *r)
{
	dbs_rec_free(dbs_table_swap(t, r));
}

static void dbs_unlink(struct dbs_table *t, struct dbs_rec **p)
{
	struct dbs_rec *r = *p;

	*p = r->next;
	dbs_table_account(t, r, -1);
	dbs_rec_free(r);
}

void dbs_table_remove(struct dbs_table *t, const char *id, size_t id_len)
{
	struct dbs_rec **p = dbs_slot(t, id, id_len);

	if (*p != NULL)
		dbs_unlink(t, p);
}

static int dbs_table_init(struct dbs_table *t, size_t max_records)
{
	size_t n = DBS_BUCKETS_MIN;

	while (n < max_records && n < DBS_BUCKETS_MAX)
		n <<= 1;
	memset(t, 0, sizeof(*t));
	t->buckets = calloc(n, sizeof(*t->buckets));
	t->n_buckets = n;
	return t->buckets == NULL ? -1 : 0;
}

static void dbs_table_free(struct dbs_table *t)
{
	for (size_t i = 0; t->buckets != NULL && i < t->n_buckets; i++)
		while (t->buckets[i] != NULL)
			dbs_unlink(t, &t->buckets[i]);
	free(t->buckets);
	t->buckets = NULL;
}

/* A record (PUT) or a tombstone (DEL) for entry e; NULL when out of memory. */
struct dbs_rec *dbs_rec_new(const struct dbs_entry *e)
{
	size_t sealed = e->op == DBS_OP_PUT ? e->sealed_len : 0;
	struct dbs_rec *r = calloc(1, sizeof(*r) + sealed);

	if (r == NULL)
		return NULL;
	r->ts_ms = e->ts_ms;
	r->expires_ms = e->expires_ms;
	r->writer = e->writer;
	r->tomb = e->op == DBS_OP_DEL;
	r->id_len = e->mn_id_len;
	memcpy(r->mn_id, e->mn_id, e->mn_id_len);
	r->sealed_len = sealed;
	if (sealed)
		memcpy(r->sealed, e->sealed, sealed);
	return r;
}

/* A tombstone lasts one freshness window: any PUT older than the DEL is stale by then. */
static void dbs_entry_tomb_expiry(const struct dbs *d, struct dbs_entry *e)
{
	if (e->op == DBS_OP_DEL)
		e->expires_ms = e->ts_ms + d->cfg.freshness_window_ms;
}

static bool dbs_is_older(const struct dbs *d, const char *id, size_t id_len, uint64_t ts_ms)
{
	const struct dbs_rec *cur = dbs_table_find(&d->t, id, id_len);

	return cur != NULL && cur->ts_ms >= ts_ms;
}

enum dbs_apply dbs_apply(struct dbs *d, const struct dbs_entry *in, uint64_t now_ms)
{
	struct dbs_entry e = *in;
	struct dbs_rec *r;

	/*
	 * No timestamp comparison here: the store appended the entry because it
	 * accepted it, perhaps after forgetting an expired record or tombstone
	 * with a later timestamp that is still in the log.  In log order, the
	 * last entry is what was acknowledged last.
	 */
	dbs_entry_tomb_expiry(d, &e);
	r = dbs_rec_new(&e);
	if (r == NULL)
		return DBS_NO_MEM;
	dbs_table_set(&d->t, r);
	return DBS_APPLIED;
}

/* Drop records whose Expires has passed and tombstones past their window. */
static void dbs_expire(struct dbs *d, uint64_t now_ms)
{
	for (size_t i = 0; i < d->t.n_buckets; i++) {
		struct dbs_rec **p = &d->t.buckets[i];
		while (*p != NULL) {
			if ((*p)->expires_ms > now_ms) {
				p = &(*p)->next;
				continue;
			}
			if (!(*p)->tomb) {
				d->ctr.expired++;
				log_debug("record of %s expired", (*p)->mn_id);
			}
			dbs_unlink(&d->t, p);
		}
	}
}

/* ---- membership ---- */

bool dbs_is_member(const struct dbs_config *cfg, struct in_addr a)
{
	for (size_t i = 0; i < cfg->n_members; i++)
		if (cfg->members[i].s_addr == a.s_addr)
			return true;
	if (!cfg->have_prefix)
		return false;
	uint32_t mask = cfg->member_plen == 0 ? 0 : htonl(~0u << (32 - cfg->member_plen));
	return a.s_addr != INADDR_ANY && (a.s_addr & mask) == (cfg->member_prefix.s_addr & mask);
}

/* ---- answers ---- */

/* An answer about req's node, stamped and MACed by us; rec: its Sealed field and Expires. */
static size_t dbs_answer(struct dbs *d, const struct sax_msg *req, uint8_t type, uint16_t flags,
			 const struct dbs_rec *rec, uint64_t now_ms, uint8_t *out, size_t cap)
{
	struct sax_msg a;
	struct buf b;

	memset(&a, 0, sizeof(a));
	a.version = SAX_VERSION;
	a.type = type;
	a.flags = flags;
	sax_stamp(&a);
	a.timestamp_ms = now_ms; /* the caller's clock, which may be a test's */
	a.sender = d->cfg.address;
	memcpy(a.mn_id, req->mn_id, req->mn_id_len);
	a.mn_id_len = req->mn_id_len;
	if (rec != NULL) {
		a.expires_ms = rec->expires_ms;
		a.sealed = rec->sealed;
		a.sealed_len = rec->sealed_len;
	} else if (req->type == SAX_STORE_PUT) {
		a.expires_ms = req->expires_ms;
	}
	buf_init_write(&b, out, cap);
	enum sax_err e = sax_build(&b, &a, sax_ring_keys(&d->keys, d->rx_slot));
	if (e != SAX_E_OK) {
		log_rl_warn("cannot build %s: %s", sax_type_name(type), sax_err_name(e));
		return 0;
	}
	return buf_used(&b);
}

static size_t dbs_ack(struct dbs *d, const struct sax_msg *req, enum sax_reason why,
		      uint64_t now_ms, uint8_t *out, size_t cap)
{
	return dbs_answer(d, req, SAX_STORE_ACK, (uint16_t)why, NULL, now_ms, out, cap);
}

/* ---- the open batch: changes to undo, answers to rewrite ---- */

/* r in the table, remembering what it replaced until the batch is durable. */
static void dbs_change(struct dbs *d, struct dbs_rec *r)
{
	struct dbs_batch *b = &d->batch;
	struct dbs_undo *u = &b->undo[b->n_undo++];

	u->old = dbs_table_swap(&d->t, r);
	u->id_len = r->id_len;
	memcpy(u->mn_id, r->mn_id, r->id_len);
}

void dbs_batch_settle(struct dbs *d)
{
	struct dbs_batch *b = &d->batch;

	for (size_t i = 0; i < b->n_undo; i++)
		dbs_rec_free(b->undo[i].old);
	b->n_undo = 0;
	for (size_t i = 0; i < b->n; i++)
		b->req[i].tainted = false;
}

/* The sync failed: the table as the last durable state had it, newest change undone first. */
static void dbs_batch_undo(struct dbs *d)
{
	struct dbs_batch *b = &d->batch;

	while (b->n_undo > 0) {
		struct dbs_undo *u = &b->undo[--b->n_undo];
		if (u->old != NULL)
			dbs_table_set(&d->t, u->old);
		else
			dbs_table_remove(&d->t, u->mn_id, u->id_len);
	}
}

/* ---- the three requests ---- */

static bool dbs_make_room(struct dbs *d, const struct sax_msg *m, uint64_t now_ms)
{
	const struct dbs_rec *cur = dbs_table_find(&d->t, m->mn_id, m->mn_id_len);

	if ((cur != NULL && !cur->tomb) || d->t.n_live < d->cfg.max_records)
		return true;
	dbs_expire(d, now_ms);
	return d->t.n_live < d->cfg.max_records;
}

static size_t dbs_put(struct dbs *d, const struct sax_msg *m, uint64_t now_ms, uint8_t *out,
		      size_t cap)
{
	struct dbs_entry e = {.op = DBS_OP_PUT,
			      .ts_ms = m->timestamp_ms,
			      .expires_ms = m->expires_ms,
			      .writer = m->sender,
			      .mn_id = m->mn_id,
			      .mn_id_len = m->mn_id_len,
			      .sealed = m->sealed,
			      .sealed_len = m->sealed_len};

	d->ctr.puts++;
	if (m->expires_ms <= now_ms) {
		d->ctr.put_expired++;
		return dbs_ack(d, m, SAX_R_EXPIRED, now_ms, out, cap);
	}
	if (dbs_is_older(d, m->mn_id, m->mn_id_len, m->timestamp_ms)) {
		/* We hold something newer: the writer's state is superseded, not lost. */
		d->ctr.superseded++;
		return dbs_ack(d, m, SAX_OK, now_ms, out, cap);
	}
	if (!dbs_make_room(d, m, now_ms)) {
		d->ctr.refused_full++;
		log_rl_warn("store full (%u records): record of %s refused", d->cfg.max_records,
			    m->mn_id);
		return dbs_ack(d, m, SAX_R_STORE_ERROR, now_ms, out, cap);
	}
	struct dbs_rec *r = dbs_rec_new(&e);
	if (r == NULL || dbs_log_append(d, &e) < 0) {
		free(r);
		d->ctr.store_errors++;
		return dbs_ack(d, m, SAX_R_STORE_ERROR, now_ms, out, cap);
	}
	dbs_change(d, r);
	d->ctr.stored++;
	log_debug("record of %s from %s kept until +%" PRIu64 " s", m->mn_id, IP4_STR(m->sender),
		  (m->expires_ms - now_ms) / 1000);
	return dbs_ack(d, m, SAX_OK, now_ms, out, cap);
}

static size_t dbs_get(struct dbs *d, const struct sax_msg *m, uint64_t now_ms, uint8_t *out,
		      size_t cap)
{
	const struct dbs_rec *r = dbs_table_find(&d->t, m->mn_id, m->mn_id_len);

	d->ctr.gets++;
	if (r == NULL || r->tomb) {
		d->ctr.misses++;
		return dbs_answer(d, m, SAX_REFUSED, SAX_R_UNKNOWN, NULL, now_ms, out, cap);
	}
	if (r->expires_ms <= now_ms) {
		d->ctr.misses++;
		d->ctr.expired++;
		dbs_table_remove(&d->t, m->mn_id, m->mn_id_len);
		return dbs_answer(d, m, SAX_REFUSED, SAX_R_EXPIRED, NULL, now_ms, out, cap);
	}
	d->ctr.hits++;
	return dbs_answer(d, m, SAX_RECORD, SAX_OK, r, now_ms, out, cap);
}

static size_t dbs_del(struct dbs *d, const struct sax_msg *m, uint64_t now_ms, uint8_t *out,
		      size_t cap)
{
	const struct dbs_rec *cur = dbs_table_find(&d->t, m->mn_id, m->mn_id_len);
	struct dbs_entry e = {.op = DBS_OP_DEL,
			      .ts_ms = m->timestamp_ms,
			      .writer = m->sender,
			      .mn_id = m->mn_id,
			      .mn_id_len = m->mn_id_len};

	d->ctr.dels++;
	if (cur != NULL && cur->ts_ms >= m->timestamp_ms) {
		d->ctr.superseded++;
		return dbs_ack(d, m, SAX_OK, now_ms, out, cap);
	}
	dbs_entry_tomb_expiry(d, &e);
	if (cur == NULL || cur->tomb) {
		/* Nothing on disk to undo: a tombstone in memory is enough, if there is room. */
		struct dbs_rec *t = d->t.n_tomb < d->cfg.max_records ? dbs_rec_new(&e) : NULL;
		if (t != NULL)
			dbs_change(d, t);
		return dbs_ack(d, m, SAX_OK, now_ms, out, cap);
	}
	struct dbs_rec *t = dbs_rec_new(&e);
	if (t == NULL || dbs_log_append(d, &e) < 0) {
		free(t);
		d->ctr.store_errors++;
		return dbs_ack(d, m, SAX_R_STORE_ERROR, now_ms, out, cap);
	}
	dbs_change(d, t);
	log_debug("record of %s deleted by %s", m->mn_id, IP4_STR(m->sender));
	return dbs_ack(d, m, SAX_OK, now_ms, out, cap);
}

/* ---- a datagram ---- */

static void dbs_count_refusal(struct dbs *d, enum sax_err e, struct in_addr src)
{
	switch (e) {
	case SAX_E_MAC:
		d->ctr.refused_mac++;
		break;
	case SAX_E_STALE:
		d->ctr.refused_stale++;
		break;
	case SAX_E_REPLAY:
		d->ctr.refused_replay++;
		break;
	default:
		d->ctr.refused_malformed++;
		break;
	}
	log_rl_info("message from %s dropped: %s", IP4_STR(src), sax_err_name(e));
}

/* One request: its answer into out (its length, 0 for none); p notes what was served. */
static size_t dbs_serve(struct dbs *d, const uint8_t *msg, size_t len, struct in_addr src,
			uint64_t now_ms, uint8_t *out, size_t cap, struct dbs_pending *p)
{
	struct sax_msg m;
	enum sax_err e = sax_ring_parse(&d->keys, msg, len, now_ms, d->cfg.freshness_window_ms,
					d->replay, &m, &d->rx_slot);

	d->ctr.rx_previous_key = d->keys.rx_previous;
	p->slot = d->rx_slot;

	if (e == SAX_E_OK && m.type == SAX_STORE_PUT && (m.sealed == NULL || m.sealed_len == 0))
		e = SAX_E_ATTR;
	if (e == SAX_E_OK && m.type != SAX_STORE_PUT && m.type != SAX_STORE_GET &&
	    m.type != SAX_STORE_DEL)
		e = SAX_E_TYPE;
	if (e != SAX_E_OK) {
		dbs_count_refusal(d, e, src);
		return 0;
	}
	/* K_DB is shared by the domain: also insist the datagram comes from the named sender. */
	if (!dbs_is_member(&d->cfg, m.sender) || m.sender.s_addr != src.s_addr) {
		d->ctr.refused_not_member++;
		log_rl_notice("%s from %s (sender %s) refused: not a member of the domain",
			      sax_type_name(m.type), IP4_STR(src), IP4_STR(m.sender));
		if (m.type == SAX_STORE_GET)
			return dbs_answer(d, &m, SAX_REFUSED, SAX_R_NOT_MEMBER, NULL, now_ms, out,
					  cap);
		return dbs_ack(d, &m, SAX_R_NOT_MEMBER, now_ms, out, cap);
	}
	p->type = m.type;
	p->expires_ms = m.expires_ms;
	p->id_len = m.mn_id_len;
	memcpy(p->mn_id, m.mn_id, m.mn_id_len);
	if (m.type == SAX_STORE_PUT)
		return dbs_put(d, &m, now_ms, out, cap);
	if (m.type == SAX_STORE_GET)
		return dbs_get(d, &m, now_ms, out, cap);
	return dbs_del(d, &m, now_ms, out, cap);
}

void dbs_batch_handle(struct dbs *d, const uint8_t *msg, size_t len, struct in_addr src,
		      uint64_t now_ms, uint8_t *out, size_t cap, size_t *out_len)
{
	struct dbs_batch *b = &d->batch;
	uint64_t stored = d->ctr.stored, errors = d->ctr.store_errors;

	*out_len = 0;
	if (b->n >= DBS_BATCH_MAX) {
		log_rl_warn("more than %d requests in one batch: dropped", DBS_BATCH_MAX);
		return;
	}
	struct dbs_pending *p = &b->req[b->n++];
	p->type = 0;
	p->out = out;
	p->cap = cap;
	p->len = out_len;
	*out_len = dbs_serve(d, msg, len, src, now_ms, out, cap, p);
	d->rx_slot = SAX_RING_CUR;
	p->stored = d->ctr.stored > stored;
	p->failed = d->ctr.store_errors > errors;
	/* From the batch's first change on, an answer may tell of what the sync has to keep. */
	p->tainted = b->n_undo > 0;
}

/* The batch's sync failed: its answers from the first change on become STORE_ERROR. */
static void dbs_batch_fail(struct dbs *d, uint64_t now_ms)
{
	struct dbs_batch *b = &d->batch;
	struct sax_msg m;

	for (size_t i = 0; i < b->n; i++) {
		struct dbs_pending *p = &b->req[i];
		if (!p->tainted || p->type == 0 || p->failed)
			continue;
		memset(&m, 0, sizeof(m));
		m.type = p->type;
		m.expires_ms = p->expires_ms;
		m.mn_id_len = p->id_len;
		memcpy(m.mn_id, p->mn_id, p->id_len);
		d->rx_slot = p->slot;
		*p->len = p->type == SAX_STORE_GET
				  ? dbs_answer(d, &m, SAX_REFUSED, SAX_R_STORE_ERROR, NULL, now_ms,
					       p->out, p->cap)
				  : dbs_ack(d, &m, SAX_R_STORE_ERROR, now_ms, p->out, p->cap);
		d->ctr.store_errors++;
		d->ctr.stored -= p->stored ? 1 : 0;
	}
	d->rx_slot = SAX_RING_CUR;
}

int dbs_batch_commit(struct dbs *d, uint64_t now_ms)
{
	int r = 0;

	if (dbs_log_sync(d) < 0) {
		dbs_batch_undo(d);
		dbs_batch_fail(d, now_ms);
		r = -1;
	}
	dbs_batch_settle(d);
	d->batch.n = 0;
	return r;
}

size_t dbs_handle(struct dbs *d, const uint8_t *msg, size_t len, struct in_addr src,
		  uint64_t now_ms, uint8_t *out, size_t cap)
{
	size_t n;

	dbs_batch_handle(d, msg, len, src, now_ms, out, cap, &n);
	dbs_batch_commit(d, now_ms);
	return n;
}

/* ---- life cycle ---- */

struct dbs *dbs_open(const struct dbs_config *cfg, uint64_t now_ms)
{
	struct dbs *d = malloc(sizeof(*d));

	if (d == NULL)
		return NULL;
	/*
	 * The batch's slots (37 of the 40 KB) are each written before they are
	 * read (batch.n, batch.n_undo count them): left unzeroed, an open touches
	 * one page instead of ten, which the fuzz target, opening the store again
	 * and again, spent most of its time on.
	 */
	memset(d, 0, offsetof(struct dbs, batch));
	d->batch.n = 0;
	d->batch.n_undo = 0;
	d->cfg = *cfg;
	d->log.fd = -1;
	d->log.dir_fd = -1;
	struct sax_keys k = {.have_k_sa = false};
	memcpy(k.k_db, cfg->k_db, SAX_KEY_LEN);
	sax_ring_init(&d->keys, &k);
	sax_keys_wipe(&k);
	d->replay = sax_replay_new(cfg->replay_entries, cfg->freshness_window_ms);
	if (d->replay == NULL || dbs_table_init(&d->t, cfg->max_records) < 0 ||
	    dbs_log_open(d, now_ms) < 0) {
		dbs_close(d);
		return NULL;
	}
	dbs_expire(d, now_ms);
	d->ctr.expired = 0;     /* dropped at load: not news */
	d->ctr.compactions = 0; /* creating a new log is not one */
	d->ctr.loaded = d->t.n_live;
	return d;
}

void dbs_close(struct dbs *d)
{
	if (d == NULL)
		return;
	dbs_batch_settle(d); /* a batch left open: free what it kept to undo */
	dbs_log_close(&d->log);
	dbs_table_free(&d->t);
	sax_replay_free(d->replay);
	sax_ring_wipe(&d->keys);
	dbs_config_wipe(&d->cfg);
	free(d);
}

int dbs_rotate(struct dbs *d, const struct dbs_config *fresh, uint64_t now_ms)
{
	struct sax_keys k = {.have_k_sa = false};
	int r;

	d->cfg.key_overlap_ms = fresh->key_overlap_ms;
	memcpy(d->cfg.k_db, fresh->k_db, SAX_KEY_LEN);
	memcpy(k.k_db, fresh->k_db, SAX_KEY_LEN);
	r = sax_ring_rotate(&d->keys, &k, now_ms, d->cfg.key_overlap_ms);
	sax_keys_wipe(&k);
	d->ctr.key_rotations = d->keys.rotations;
	if (r > 0)
		log_notice("K_DB rotated: the old key is accepted for %llu ms more",
			   2 * (unsigned long long)d->cfg.key_overlap_ms);
	return r;
}

int dbs_compact(struct dbs *d, uint64_t now_ms)
{
	dbs_expire(d, now_ms);
	return dbs_log_compact(d, now_ms);
}

void dbs_tick(struct dbs *d, uint64_t now_ms)
{
	dbs_expire(d, now_ms);
	sax_ring_sweep(&d->keys, now_ms); /* a retired K_DB is wiped, not only refused */
	/* Amortised: rewrite once the dead entries outweigh the live ones. */
	if (d->log.size > d->cfg.compact_min_bytes &&
	    d->log.size > 2 * (DBS_LOG_HDR_LEN + d->t.live_bytes))
		dbs_log_compact(d, now_ms);
}

const struct dbs_counters *dbs_counters(const struct dbs *d)
{
	return &d->ctr;
}

size_t dbs_n_records(const struct dbs *d)
{
	return d->t.n_live;
}

size_t dbs_n_tombstones(const struct dbs *d)
{
	return d->t.n_tomb;
}

uint64_t dbs_log_bytes(const struct dbs *d)
{
	return d->log.size;
}

void dbs_foreach(const struct dbs *d, void (*fn)(void *arg, const struct dbs_record_info *r),
		 void *arg)
{
	for (size_t i = 0; i < d->t.n_buckets; i++)
		for (const struct dbs_rec *r = d->t.buckets[i]; r != NULL; r = r->next) {
			if (r->tomb)
				continue;
			struct dbs_record_info info = {.mn_id = r->mn_id,
						       .writer = r->writer,
						       .timestamp_ms = r->ts_ms,
						       .expires_ms = r->expires_ms,
						       .sealed_len = r->sealed_len};
			fn(arg, &info);
		}
}

void dbs_inject_write_errors(struct dbs *d, unsigned n)
{
	d->log.fail_writes = n;
}

void dbs_inject_sync_errors(struct dbs *d, unsigned n)
{
	d->log.fail_syncs = n;
}
