/*
 * The store's log: data_dir/dbs.log, append-only.
 *
 *   header   "MIPSADBS" | u32 version (1) | u32 reserved (0)
 *   entries  u32 body length | u32 CRC-32 (IEEE) of the body | body
 *   body     u8 op (1 put, 2 del) | u64 timestamp | u64 expires |
 *            u32 writer | u8 id length | id | u16 sealed length | sealed
 *
 * (all big-endian).  A PUT or DEL is answered only after its entry has
 * been written and fdatasync'ed (with the other entries of its batch: one
 * sync for all of them, see dbs_batch_handle).  Loading replays the entries in order; a
 * crash in the middle of a write leaves a short or CRC-failing last entry,
 * which is cut off (ftruncate + fsync) so later appends follow the last
 * good entry.  Anything after a bad entry is lost with it: appends never
 * follow a bad entry, because a failed append is truncated away at once
 * (and when even that fails, the log is rewritten before the next one).
 *
 * Compaction writes the live records into dbs.log.tmp, fsyncs it, renames
 * it over dbs.log and fsyncs the directory: at every instant either the old
 * or the new log is complete on disk.  A new store starts the same way,
 * from an empty table.
 */
#include "buf.h"
#include "dbs_int.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define DBS_READ_CHUNK (256 * 1024)
#define DBS_BODY_MIN   (DBS_ENTRY_FIXED_LEN + 1) /* an id of one byte */

/* ---- CRC-32 (IEEE 802.3, reflected): zlib's, several bytes a step ---- */

uint32_t dbs_crc32(const uint8_t *p, size_t n)
{
	uint32_t c = 0;

	/* zlib takes a uInt length: a longer run goes in pieces (entries are far shorter) */
	while (n > 0) {
		uInt step = n > UINT_MAX ? UINT_MAX : (uInt)n;
		c = (uint32_t)crc32(c, p, step);
		p += step;
		n -= step;
	}
	return c;
}

/* ---- entries ---- */

size_t dbs_entry_encode(const struct dbs_entry *e, uint8_t *out, size_t cap)
{
	struct buf b;
	uint8_t *body;
	size_t blen = DBS_ENTRY_FIXED_LEN + e->mn_id_len + e->sealed_len;

	if (e->mn_id_len == 0 || e->mn_id_len > SAX_ID_MAX || e->sealed_len > UINT16_MAX)
		return 0;
	buf_init_write(&b, out, cap);
	if (buf_put_u32(&b, (uint32_t)blen) != BUF_OK || buf_put_u32(&b, 0) != BUF_OK ||
	    buf_put_u8(&b, e->op) != BUF_OK || buf_put_u64(&b, e->ts_ms) != BUF_OK ||
	    buf_put_u64(&b, e->expires_ms) != BUF_OK ||
	    buf_put_bytes(&b, &e->writer.s_addr, 4) != BUF_OK ||
	    buf_put_u8(&b, (uint8_t)e->mn_id_len) != BUF_OK ||
	    buf_put_bytes(&b, e->mn_id, e->mn_id_len) != BUF_OK ||
	    buf_put_u16(&b, (uint16_t)e->sealed_len) != BUF_OK ||
	    (e->sealed_len && buf_put_bytes(&b, e->sealed, e->sealed_len) != BUF_OK))
		return 0;
	if (buf_wptr_at(&b, DBS_ENTRY_HDR_LEN, blen, &body) != BUF_OK)
		return 0;
	uint32_t crc = dbs_crc32(body, blen);
	buf_set_u16_at(&b, 4, (uint16_t)(crc >> 16));
	buf_set_u16_at(&b, 6, (uint16_t)crc);
	return buf_used(&b);
}

static enum dbs_decode dbs_body_decode(struct buf *b, struct dbs_entry *e)
{
	uint8_t idlen;
	uint16_t slen;
	const uint8_t *id;

	memset(e, 0, sizeof(*e));
	if (buf_get_u8(b, &e->op) != BUF_OK || buf_get_u64(b, &e->ts_ms) != BUF_OK ||
	    buf_get_u64(b, &e->expires_ms) != BUF_OK ||
	    buf_get_bytes(b, &e->writer.s_addr, 4) != BUF_OK || buf_get_u8(b, &idlen) != BUF_OK ||
	    idlen == 0 || buf_get_ptr(b, &id, idlen) != BUF_OK || buf_get_u16(b, &slen) != BUF_OK ||
	    buf_get_ptr(b, &e->sealed, slen) != BUF_OK || buf_expect_end(b) != BUF_OK)
		return DBS_DEC_CORRUPT;
	e->mn_id = (const char *)id;
	e->mn_id_len = idlen;
	e->sealed_len = slen;
	/*
	 * A put carries a sealed record the size sax_parse lets through, a
	 * delete none, and a node's name has no NUL: anything else is no entry
	 * the store could have written.
	 */
	if (!((e->op == DBS_OP_PUT && slen >= SAX_SEALED_MIN && slen <= SAX_SEALED_MAX) ||
	      (e->op == DBS_OP_DEL && slen == 0)) ||
	    memchr(id, '\0', idlen) != NULL)
		return DBS_DEC_CORRUPT;
	return DBS_DEC_OK;
}

enum dbs_decode dbs_entry_decode(const uint8_t *p, size_t len, struct dbs_entry *e, size_t *used)
{
	struct buf b, body;
	uint32_t blen, crc;

	buf_init_read(&b, p, len);
	if (buf_get_u32(&b, &blen) != BUF_OK || buf_get_u32(&b, &crc) != BUF_OK)
		return DBS_DEC_SHORT;
	if (blen < DBS_BODY_MIN || blen > DBS_ENTRY_BODY_MAX)
		return DBS_DEC_CORRUPT;
	if (buf_get_child(&b, blen, &body) != BUF_OK)
		return DBS_DEC_SHORT;
	if (dbs_crc32(buf_rptr(&body), blen) != crc)
		return DBS_DEC_CORRUPT;
	enum dbs_decode r = dbs_body_decode(&body, e);
	if (r == DBS_DEC_OK)
		*used = DBS_ENTRY_HDR_LEN + blen;
	return r;
}

/* ---- file helpers ---- */

static int dbs_write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static size_t dbs_log_header(uint8_t out[DBS_LOG_HDR_LEN])
{
	struct buf b;

	buf_init_write(&b, out, DBS_LOG_HDR_LEN);
	buf_put_bytes(&b, DBS_LOG_MAGIC, 8);
	buf_put_u32(&b, DBS_LOG_VERSION);
	buf_put_u32(&b, 0);
	return buf_used(&b);
}

/* ---- compaction (and creation) ---- */

/*
 * A buffer for n bytes of log: one whole entry at least, DBS_READ_CHUNK at
 * most.  A small store's open and compaction then do not map and unmap
 * 256 KiB each time.
 */
static size_t dbs_chunk_for(uint64_t n)
{
	const size_t least = DBS_ENTRY_HDR_LEN + DBS_ENTRY_BODY_MAX;

	return n < least ? least : n > DBS_READ_CHUNK ? DBS_READ_CHUNK : (size_t)n;
}

/*
 * The buffers below hold sealed records and are wiped before they are
 * freed, but only as far as they were ever filled (touched): wiping all
 * 256 KiB of pages a small log never used made every open and compaction
 * fault them in, for nothing.
 */
struct dbs_writer {
	int fd;
	uint8_t *buf;
	size_t used, cap;
	size_t touched;
	uint64_t total;
	int err;
};

static void dbs_writer_flush(struct dbs_writer *w)
{
	if (w->used > w->touched)
		w->touched = w->used;
	if (w->err == 0 && w->used > 0 && dbs_write_all(w->fd, w->buf, w->used) < 0)
		w->err = errno ? errno : EIO;
	w->used = 0;
}

static void dbs_writer_rec(struct dbs_writer *w, const struct dbs_rec *r)
{
	struct dbs_entry e = {.op = DBS_OP_PUT,
			      .ts_ms = r->ts_ms,
			      .expires_ms = r->expires_ms,
			      .writer = r->writer,
			      .mn_id = r->mn_id,
			      .mn_id_len = r->id_len,
			      .sealed = r->sealed,
			      .sealed_len = r->sealed_len};

	if (w->cap - w->used < DBS_ENTRY_HDR_LEN + DBS_ENTRY_BODY_MAX)
		dbs_writer_flush(w);
	size_t n = dbs_entry_encode(&e, w->buf + w->used, w->cap - w->used);
	if (n == 0 && w->err == 0)
		w->err = EINVAL;
	w->used += n;
	w->total += n;
}

/* Write header and live records to fd; 0 or an errno. */
static int dbs_write_snapshot(struct dbs *d, int fd, uint64_t now_ms, uint64_t *size)
{
	struct dbs_writer w = {.fd = fd, .cap = dbs_chunk_for(DBS_LOG_HDR_LEN + d->t.live_bytes)};

	w.buf = malloc(w.cap);
	if (w.buf == NULL)
		return ENOMEM;
	w.used = w.total = dbs_log_header(w.buf);
	for (size_t i = 0; i < d->t.n_buckets; i++)
		for (const struct dbs_rec *r = d->t.buckets[i]; r != NULL; r = r->next)
			if (!r->tomb && r->expires_ms > now_ms)
				dbs_writer_rec(&w, r);
	dbs_writer_flush(&w);
	explicit_bzero(w.buf, w.touched);
	free(w.buf);
	if (w.err == 0 && fsync(fd) < 0)
		w.err = errno;
	*size = w.total;
	return w.err;
}

int dbs_log_compact(struct dbs *d, uint64_t now_ms)
{
	struct dbs_log *l = &d->log;
	uint64_t size = 0;
	/*
	 * Names relative to the directory opened at start: a daemon that has
	 * dropped root (sandbox.h) may no longer reach it by its path.
	 */
	int err, fd = openat(l->dir_fd, DBS_LOG_NAME ".tmp",
			     O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0) {
		log_err("%s: %s", l->tmp_path, strerror(errno));
		return -1;
	}
	err = dbs_write_snapshot(d, fd, now_ms, &size);
	if (close(fd) < 0 && err == 0)
		err = errno;
	if (err == 0 && renameat(l->dir_fd, DBS_LOG_NAME ".tmp", l->dir_fd, DBS_LOG_NAME) < 0)
		err = errno;
	if (err == 0 && fsync(l->dir_fd) < 0)
		err = errno;
	if (err != 0) {
		log_err("rewriting %s: %s; the old log stays", l->path, strerror(err));
		unlinkat(l->dir_fd, DBS_LOG_NAME ".tmp", 0);
		return -1;
	}
	fd = openat(l->dir_fd, DBS_LOG_NAME, O_RDWR | O_APPEND | O_CLOEXEC);
	if (fd < 0) {
		log_err("%s: %s", l->path, strerror(errno));
		return -1;
	}
	if (l->fd >= 0) {
		close(l->fd);
		log_info("log rewritten: %" PRIu64 " -> %" PRIu64 " bytes, %zu records", l->size,
			 size, d->t.n_live);
	} else {
		log_notice("new log %s", l->path);
	}
	l->fd = fd;
	l->size = l->synced_size = size;
	l->unsynced = 0;
	d->ctr.compactions++;
	/* The table, open batch included, is on disk now: nothing of it to undo. */
	dbs_batch_settle(d);
	return 0;
}

/* ---- appending ---- */

/* Tests: a write that stops half-way, as a full disk would. */
static int dbs_fault(struct dbs_log *l, const uint8_t *p, size_t n)
{
	l->fail_writes--;
	if (dbs_write_all(l->fd, p, n / 2) == 0)
		errno = ENOSPC;
	return -1;
}

/*
 * The sync that makes an entry durable.  Tests make it fail as a disk that
 * cannot flush would (EIO): the entry was written in full, yet must not be
 * acknowledged.
 */
static int dbs_sync(struct dbs_log *l)
{
	if (l->fail_syncs > 0) {
		l->fail_syncs--;
		errno = EIO;
		return -1;
	}
	return fdatasync(l->fd);
}

/* Nothing may follow a torn entry: cut the log back to size, or have it rewritten. */
static void dbs_log_cut(struct dbs_log *l, uint64_t size)
{
	l->size = size;
	if (ftruncate(l->fd, (off_t)size) < 0 || fdatasync(l->fd) < 0) {
		log_err("%s: cannot cut a failed write off (%s): the log will be rewritten",
			l->path, strerror(errno));
		close(l->fd);
		l->fd = -1;
	}
}

int dbs_log_append(struct dbs *d, const struct dbs_entry *e)
{
	static uint8_t ent[DBS_ENTRY_HDR_LEN + DBS_ENTRY_BODY_MAX];
	struct dbs_log *l = &d->log;
	size_t n = dbs_entry_encode(e, ent, sizeof(ent));
	int r;

	if (n == 0)
		return -1;
	if (l->fd < 0 && dbs_log_compact(d, 0) < 0)
		return -1;
	r = l->fail_writes ? dbs_fault(l, ent, n) : dbs_write_all(l->fd, ent, n);
	if (r == 0) {
		l->size += n;
		l->unsynced++;
		return 0;
	}
	log_rl_warn("%s: write: %s", l->path, strerror(errno));
	dbs_log_cut(l, l->size); /* the entries before it stay, for the sync to come */
	return -1;
}

int dbs_log_sync(struct dbs *d)
{
	struct dbs_log *l = &d->log;

	if (l->unsynced == 0)
		return 0;
	if (l->fd >= 0 && dbs_sync(l) == 0) {
		d->ctr.synced_writes += l->unsynced;
		d->ctr.syncs++;
		l->unsynced = 0;
		l->synced_size = l->size;
		return 0;
	}
	log_rl_warn("%s: sync: %s", l->path, l->fd < 0 ? "the log is closed" : strerror(errno));
	l->unsynced = 0;
	if (l->fd >= 0)
		dbs_log_cut(l, l->synced_size);
	return -1;
}

/* ---- loading ---- */

struct dbs_loader {
	uint8_t *buf;
	size_t len;     /* bytes in buf */
	size_t pos;     /* next entry in buf */
	size_t touched; /* the most bytes buf ever held */
	size_t cap;
	uint64_t off; /* file offset of buf[0] */
	bool eof;
};

static int dbs_load_fill(int fd, struct dbs_loader *ld)
{
	memmove(ld->buf, ld->buf + ld->pos, ld->len - ld->pos);
	ld->off += ld->pos;
	ld->len -= ld->pos;
	ld->pos = 0;
	while (!ld->eof && ld->len < ld->cap) {
		ssize_t n =
			pread(fd, ld->buf + ld->len, ld->cap - ld->len, (off_t)(ld->off + ld->len));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			ld->eof = true;
		ld->len += (size_t)n;
	}
	if (ld->len > ld->touched)
		ld->touched = ld->len;
	return 0;
}

/* Replay entries; the offset after the last good one. */
static int dbs_load_entries(struct dbs *d, int fd, uint64_t size, uint64_t now_ms, uint64_t *good)
{
	struct dbs_loader ld = {.off = DBS_LOG_HDR_LEN,
				.cap = dbs_chunk_for(size - DBS_LOG_HDR_LEN)};
	struct dbs_entry e;
	size_t used;
	int r = 0;

	ld.buf = malloc(ld.cap);
	if (ld.buf == NULL)
		return -1;
	for (;;) {
		if (ld.len - ld.pos < DBS_ENTRY_HDR_LEN + DBS_ENTRY_BODY_MAX && !ld.eof &&
		    dbs_load_fill(fd, &ld) < 0) {
			r = -1;
			break;
		}
		if (ld.pos == ld.len)
			break;
		if (dbs_entry_decode(ld.buf + ld.pos, ld.len - ld.pos, &e, &used) != DBS_DEC_OK)
			break; /* short at the end of the file, or corrupt: the tail goes */
		if (dbs_apply(d, &e, now_ms) == DBS_NO_MEM) {
			r = -1;
			break;
		}
		ld.pos += used;
	}
	*good = ld.off + ld.pos;
	explicit_bzero(ld.buf, ld.touched);
	free(ld.buf);
	return r;
}

/* 1: a valid header; 0: the start of one (a torn creation: start afresh); -1: not our file. */
static int dbs_check_header(int fd, uint64_t size)
{
	uint8_t want[DBS_LOG_HDR_LEN], got[DBS_LOG_HDR_LEN];
	size_t n = size < DBS_LOG_HDR_LEN ? (size_t)size : DBS_LOG_HDR_LEN;

	dbs_log_header(want);
	if (pread(fd, got, n, 0) != (ssize_t)n || memcmp(got, want, n) != 0)
		return -1;
	return n == DBS_LOG_HDR_LEN ? 1 : 0;
}

static int dbs_log_load(struct dbs *d, uint64_t now_ms)
{
	struct dbs_log *l = &d->log;
	struct stat st;
	uint64_t good;

	if (fstat(l->fd, &st) < 0)
		return -1;
	int h = dbs_check_header(l->fd, (uint64_t)st.st_size);
	if (h < 0) {
		log_err("%s is not a mipsa-dbs log (version %d); move it away", l->path,
			DBS_LOG_VERSION);
		return -1;
	}
	if (h == 0)
		return dbs_log_compact(d, now_ms); /* nothing in it yet */
	if (dbs_load_entries(d, l->fd, (uint64_t)st.st_size, now_ms, &good) < 0) {
		log_err("%s: %s", l->path, strerror(errno));
		return -1;
	}
	l->size = l->synced_size = good;
	if (good < (uint64_t)st.st_size) {
		d->ctr.log_dropped_bytes = (uint64_t)st.st_size - good;
		log_warn("%s: %" PRIu64 " bytes after offset %" PRIu64
			 " are a torn or corrupt write: dropped",
			 l->path, d->ctr.log_dropped_bytes, good);
		if (ftruncate(l->fd, (off_t)good) < 0 || fsync(l->fd) < 0) {
			log_err("%s: cannot cut the bad tail: %s", l->path, strerror(errno));
			return -1;
		}
	}
	return 0;
}

int dbs_log_open(struct dbs *d, uint64_t now_ms)
{
	struct dbs_log *l = &d->log;
	const char *dir = d->cfg.data_dir;

	snprintf(l->path, sizeof(l->path), "%s/%s", dir, DBS_LOG_NAME);
	snprintf(l->tmp_path, sizeof(l->tmp_path), "%s/%s.tmp", dir, DBS_LOG_NAME);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		log_err("%s: %s", dir, strerror(errno));
		return -1;
	}
	l->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (l->dir_fd < 0) {
		log_err("%s: %s", dir, strerror(errno));
		return -1;
	}
	l->fd = open(l->path, O_RDWR | O_APPEND | O_CLOEXEC);
	if (l->fd < 0 && errno == ENOENT)
		return dbs_log_compact(d, now_ms); /* a new store */
	if (l->fd < 0) {
		log_err("%s: %s", l->path, strerror(errno));
		return -1;
	}
	return dbs_log_load(d, now_ms);
}

int dbs_log_chown(struct dbs *d, uid_t uid, gid_t gid)
{
	struct dbs_log *l = &d->log;

	/* The log is rewritten, not edited: the directory matters as much as the file. */
	if (fchown(l->dir_fd, uid, gid) < 0 || fchown(l->fd, uid, gid) < 0) {
		log_err("%s: chown to %u:%u: %s", d->cfg.data_dir, (unsigned)uid, (unsigned)gid,
			strerror(errno));
		return -1;
	}
	return 0;
}

void dbs_log_close(struct dbs_log *l)
{
	if (l->fd >= 0)
		close(l->fd);
	if (l->dir_fd >= 0)
		close(l->dir_fd);
	l->fd = l->dir_fd = -1;
}
