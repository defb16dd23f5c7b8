/*
 * Fuzz mipsa-dbs (dbs/libdbs.a): its on-disk log and its handling of a
 * datagram.  The first input byte picks a mode (byte % 4) and options (the
 * other bits), the second is a parameter:
 *
 *   0    One log entry: dbs_entry_decode of the rest (bit 2: the CRC of the
 *        entry's body written in first).  The result must be the one an
 *        independent decoder here gives (OK, SHORT or CORRUPT); an accepted
 *        entry must carry a CRC that this file's own CRC-32 confirms, lie
 *        inside the input, encode back to the same bytes, and be refused
 *        once any one bit of its CRC or body is flipped or its last byte cut.
 *        Bit 3: the rest is the fields of an entry instead (op, timestamp,
 *        expires, writer, id length, id, sealed) for dbs_entry_encode, with a
 *        capacity from the parameter; what it writes must decode to them.
 *   1, 3 A whole log: the log file is the header, optionally 33..40 large
 *        filler records (bit 4: so that the entries of the input straddle
 *        the loader's 256 KiB read chunk), then the input from its third
 *        byte on, with the CRC of every entry written in (unless bit 3).
 *        Bit 2: no header: the input is the whole file.  The third byte
 *        moves the clock.  dbs_open must refuse exactly what is not a log,
 *        and otherwise load what an independent replay here loads (the last
 *        entry for a node wins, a DEL leaves a tombstone for one freshness window,
 *        the expired are dropped), cut the file after the last good entry
 *        and count the bytes dropped.  Every record kept must be one the
 *        store could have written (an id of 1..255 bytes without NUL, a
 *        Sealed field of SAX_SEALED_MIN..SAX_SEALED_MAX bytes).  Then the
 *        log is rebuilt from what was loaded (dbs_compact): it must hold
 *        exactly the live records, parse back here without a bad byte, and
 *        reopen to the same records.
 *   2    The engine: a log as in mode 1 (a u16 length, then entries), then
 *        datagrams for dbs_handle, each as u8 flags, u8 clock step, u16
 *        length, bytes.  The HMAC (K_DB) of a datagram is written in unless
 *        flag 1; it comes from its Sender unless flag 2; flag 4 runs
 *        dbs_tick first (expiry, compaction), flag 8 makes the next log
 *        write fail half-way, flag 16 restarts the store.  The clock follows
 *        the datagrams' timestamps (the clock byte moves it), never back.
 *        Each answer is checked against what was stored before: a dropped
 *        datagram is one sax_parse refuses (or a replay), and is counted
 *        under its reason; an answer is authentic, from the store, about the
 *        same node, and says what the table holds (PUT: stored, superseded,
 *        expired, full or a write error; GET: the record as it was put;
 *        DEL: a tombstone).  At each restart and at the end the store is
 *        opened a second time from its log: every live record acknowledged
 *        must be there, and nothing else.
 *
 * Findings, fixed since (the regress-* seeds keep them fixed):
 *   - dbs_entry_decode accepted, with a good CRC, entries the store never
 *     writes: an id with a NUL byte, a Sealed field shorter than
 *     SAX_SEALED_MIN or longer than SAX_SEALED_MAX; a GET for such a record
 *     was never answered.  Such an entry is now corrupt: the tail goes.
 *   - A PUT acknowledged after the store forgot a record or tombstone
 *     (expired) whose timestamp was not older was lost at the next start:
 *     the replay compared timestamps.  It now replays in log order.
 *
 * Environment: FUZZ_DBS_LOG=1 shows the store's log lines; FUZZ_DBS_LAX=1
 * skips the checks those findings fail (records loaded could have been
 * written by the store, a GET for one is answered, an acknowledged record
 * is there after a restart), to look past them for others.  The log files
 * live in a temporary directory under /dev/shm (else $TMPDIR or /tmp),
 * removed at exit.
 *
 * The seed corpus in tests/fuzz/corpus/fuzz_dbs_log/ is written by this file
 * built as a program, after make:
 *   cc -std=c11 -D_GNU_SOURCE -DFUZZ_DBS_MAKE_SEEDS -Icommon -Idbs \
 *      tests/fuzz/fuzz_dbs_log.c dbs/libdbs.a common/libmipsa.a \
 *      -lcrypto -lconfig -lhiredis -lpcap -lz -o /tmp/mkseeds
 *   /tmp/mkseeds tests/fuzz/corpus/fuzz_dbs_log
 */
#include "buf.h"
#include "dbs_int.h"
#include "log.h"
#include "sax.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static _Noreturn void fz_fail(const char *file, int line, const char *cond);

/* A failed check removes the temporary directory first (libFuzzer then exits without atexit). */
#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			fz_fail(__FILE__, __LINE__, #cond);                                        \
	} while (0)

#define FZ_NOW       1767225600000ull /* 2026-01-01T00:00:00Z */
#define FZ_WINDOW    30000u
#define FZ_IN_MAX    65536 /* longer inputs are cut */
#define FZ_BODY_MIN  25 /* op, timestamp, expires, writer, id length, one id byte, sealed length */
#define FZ_FILL_MAX  40
#define FZ_FILL_ID   6 /* "fillNN" */
#define FZ_FILE_MAX  (DBS_LOG_HDR_LEN + FZ_FILL_MAX * 8400 + FZ_IN_MAX)
#define FZ_MODEL_MAX (FZ_FILE_MAX / (DBS_ENTRY_HDR_LEN + FZ_BODY_MIN) + 1)
#define FZ_STORE_IP  "198.18.3.2"
#define FZ_FA1       "198.18.11.2"
#define FZ_FA2       "198.18.12.2"
#define FZ_PREFIX    "198.18.16.0" /* /24, members when the parameter says so */
#define FZ_OUTSIDER  "198.18.99.9"

/* mode 2 datagram flags */
#define FZ_F_NO_MAC  1
#define FZ_F_SPOOF   2
#define FZ_F_TICK    4
#define FZ_F_WERR    8
#define FZ_F_RESTART 16

static char fz_base[128], fz_data[160], fz_path[200];
static struct dbs_config fz_cfg;
static struct sax_keys fz_keys; /* K_DB only, as the store has it */
static bool fz_lax;

/* ---- small helpers ---- */

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const uint8_t *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static struct in_addr fz_ip(const char *s)
{
	struct in_addr a;

	CHECK(inet_pton(AF_INET, s, &a) == 1);
	return a;
}

/*
 * CRC-32 (IEEE, reflected), from the polynomial here: not zlib's, which
 * dbs_log.c calls.  A byte a step through a table made at start (bit by
 * bit it took a tenth of the run over the filler records).  Not
 * instrumented for coverage: it is the checker, not the code under test.
 */
static uint32_t fz_crc_table[256];

static void fz_crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
		fz_crc_table[i] = c;
	}
}

__attribute__((no_sanitize("coverage"))) static uint32_t fz_crc32(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	for (size_t i = 0; i < n; i++)
		c = fz_crc_table[(c ^ p[i]) & 0xff] ^ (c >> 8);
	return ~c;
}

static long fz_file_size(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

static void fz_write_file(const char *p, const uint8_t *d, size_t n)
{
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	CHECK(fd >= 0);
	while (n > 0) {
		ssize_t w = write(fd, d, n);
		CHECK(w > 0);
		d += w;
		n -= (size_t)w;
	}
	CHECK(close(fd) == 0);
}

static size_t fz_read_file(const char *p, uint8_t *d, size_t cap)
{
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	size_t n = 0;
	ssize_t r;

	CHECK(fd >= 0);
	while (n < cap && (r = read(fd, d + n, cap - n)) > 0)
		n += (size_t)r;
	close(fd);
	return n;
}

static void fz_clean(void)
{
	char p[260];

	unlink(fz_path);
	snprintf(p, sizeof(p), "%s.tmp", fz_path);
	unlink(p);
}

static void fz_cleanup_at_exit(void)
{
	fz_clean();
	rmdir(fz_data);
	rmdir(fz_base);
}

static _Noreturn void fz_fail(const char *file, int line, const char *cond)
{
	fprintf(stderr, "%s:%d: CHECK failed: %s\n", file, line, cond);
	fz_cleanup_at_exit();
	abort();
}

/* ---- the log format, decoded here independently of dbs_log.c ---- */

enum { FZ_OK, FZ_SHORT, FZ_CORRUPT };

struct fz_ent {
	uint8_t op;
	uint64_t ts, exp;
	const uint8_t *writer; /* 4 bytes, network order */
	const uint8_t *id;
	size_t id_len;
	const uint8_t *sealed;
	size_t sealed_len;
	size_t used;
};

static int fz_entry(const uint8_t *p, size_t n, struct fz_ent *e)
{
	size_t blen;
	const uint8_t *b = p + DBS_ENTRY_HDR_LEN;

	if (n < DBS_ENTRY_HDR_LEN)
		return FZ_SHORT;
	blen = be32(p);
	if (blen < FZ_BODY_MIN || blen > DBS_ENTRY_BODY_MAX)
		return FZ_CORRUPT;
	if (n - DBS_ENTRY_HDR_LEN < blen)
		return FZ_SHORT;
	if (fz_crc32(b, blen) != be32(p + 4))
		return FZ_CORRUPT;
	e->op = b[0];
	e->ts = be64(b + 1);
	e->exp = be64(b + 9);
	e->writer = b + 17;
	e->id_len = b[21];
	e->id = b + 22;
	if (e->id_len == 0 || 22 + e->id_len + 2 > blen)
		return FZ_CORRUPT;
	e->sealed_len = be16(b + 22 + e->id_len);
	e->sealed = b + 24 + e->id_len;
	if (24 + e->id_len + e->sealed_len != blen)
		return FZ_CORRUPT;
	if (!(e->op == DBS_OP_PUT && e->sealed_len >= SAX_SEALED_MIN &&
	      e->sealed_len <= SAX_SEALED_MAX) &&
	    !(e->op == DBS_OP_DEL && e->sealed_len == 0))
		return FZ_CORRUPT;
	for (size_t i = 0; i < e->id_len; i++)
		if (e->id[i] == 0)
			return FZ_CORRUPT;
	e->used = DBS_ENTRY_HDR_LEN + blen;
	return FZ_OK;
}

/* Write the CRC of each entry from p on; stops at the first that is cut short or too long. */
static void fz_fix_crcs(uint8_t *p, size_t n)
{
	size_t pos = 0;

	while (n - pos >= DBS_ENTRY_HDR_LEN) {
		size_t blen = be32(p + pos);
		if (blen < FZ_BODY_MIN || blen > DBS_ENTRY_BODY_MAX ||
		    n - pos - DBS_ENTRY_HDR_LEN < blen)
			break;
		put_be32(p + pos + 4, fz_crc32(p + pos + DBS_ENTRY_HDR_LEN, blen));
		pos += DBS_ENTRY_HDR_LEN + blen;
	}
}

static void fz_log_header(uint8_t *p)
{
	memcpy(p, DBS_LOG_MAGIC, 8);
	put_be32(p + 8, DBS_LOG_VERSION);
	put_be32(p + 12, 0);
}

/* ---- the replay model ---- */

struct fz_rec {
	const uint8_t *id;
	size_t id_len;
	uint64_t ts, exp;
	const uint8_t *writer;
	bool tomb;
	const uint8_t *sealed;
	size_t sealed_len;
};

static struct fz_rec model[FZ_MODEL_MAX];
static size_t n_model;

static struct fz_rec *fz_model_find(const uint8_t *id, size_t len)
{
	for (size_t i = 0; i < n_model; i++)
		if (model[i].id_len == len && memcmp(model[i].id, id, len) == 0)
			return &model[i];
	return NULL;
}

static void fz_model_apply(const struct fz_ent *e)
{
	struct fz_rec *r = fz_model_find(e->id, e->id_len);

	/* every entry in the log was accepted when it was written: the last one wins */
	if (r == NULL) {
		CHECK(n_model < FZ_MODEL_MAX);
		r = &model[n_model++];
	}
	r->id = e->id;
	r->id_len = e->id_len;
	r->ts = e->ts;
	r->writer = e->writer;
	r->tomb = e->op == DBS_OP_DEL;
	r->exp = r->tomb ? e->ts + fz_cfg.freshness_window_ms : e->exp;
	r->sealed = r->tomb ? NULL : e->sealed;
	r->sealed_len = r->tomb ? 0 : e->sealed_len;
}

static void fz_model_expire(uint64_t now)
{
	size_t j = 0;

	for (size_t i = 0; i < n_model; i++)
		if (model[i].exp > now)
			model[j++] = model[i];
	n_model = j;
}

/* Replay the entries of p[0..n) into the model; the length of the good ones. */
static size_t fz_model_load(const uint8_t *p, size_t n)
{
	struct fz_ent e;
	size_t pos = 0;

	while (pos < n && fz_entry(p + pos, n - pos, &e) == FZ_OK) {
		fz_model_apply(&e);
		pos += e.used;
	}
	return pos;
}

static size_t fz_model_live(void)
{
	size_t n = 0;

	for (size_t i = 0; i < n_model; i++)
		n += !model[i].tomb;
	return n;
}

/* ---- what the store holds ---- */

/* A record the store could have written: what sax_parse lets through a PUT. */
static bool fz_wellformed(const struct dbs_rec *r)
{
	return memchr(r->mn_id, '\0', r->id_len) == NULL &&
	       (r->tomb || (r->sealed_len >= SAX_SEALED_MIN && r->sealed_len <= SAX_SEALED_MAX));
}

static void fz_check_wellformed(const struct dbs_rec *r)
{
	if (fz_lax)
		return;
	CHECK(memchr(r->mn_id, '\0', r->id_len) == NULL);
	if (!r->tomb)
		CHECK(r->sealed_len >= SAX_SEALED_MIN && r->sealed_len <= SAX_SEALED_MAX);
}

/*
 * The table's own bookkeeping, the records' shape, and dbs_foreach.  After
 * an open, nothing expired is left.
 */
static void fz_check_table(const struct dbs *d, uint64_t now, bool opened)
{
	size_t live = 0, tomb = 0;
	uint64_t bytes = 0;

	for (size_t i = 0; i < d->t.n_buckets; i++)
		for (const struct dbs_rec *r = d->t.buckets[i]; r != NULL; r = r->next) {
			CHECK(dbs_table_find(&d->t, r->mn_id, r->id_len) == r);
			CHECK(r->id_len >= 1 && r->id_len <= SAX_ID_MAX &&
			      r->mn_id[r->id_len] == '\0');
			if (r->tomb) {
				CHECK(r->sealed_len == 0);
				tomb++;
			} else {
				live++;
				bytes += dbs_rec_log_bytes(r);
			}
			CHECK(dbs_rec_log_bytes(r) ==
			      DBS_ENTRY_HDR_LEN + FZ_BODY_MIN - 1 + r->id_len + r->sealed_len);
			fz_check_wellformed(r);
			if (opened)
				CHECK(r->expires_ms > now);
		}
	CHECK(live == d->t.n_live && live == dbs_n_records(d));
	CHECK(tomb == d->t.n_tomb && tomb == dbs_n_tombstones(d));
	CHECK(bytes == d->t.live_bytes);
}

static size_t fz_visited;

static void fz_count_info(void *arg, const struct dbs_record_info *info)
{
	const struct dbs *d = arg;
	const struct dbs_rec *r =
		(const struct dbs_rec *)(const void *)(info->mn_id -
						       offsetof(struct dbs_rec, mn_id));

	CHECK(dbs_table_find(&d->t, r->mn_id, r->id_len) == r && !r->tomb);
	CHECK(info->writer.s_addr == r->writer.s_addr && info->timestamp_ms == r->ts_ms &&
	      info->expires_ms == r->expires_ms && info->sealed_len == r->sealed_len);
	if (!fz_lax)
		CHECK(strlen(info->mn_id) == r->id_len); /* the outside view names it whole */
	fz_visited++;
}

static void fz_check_foreach(const struct dbs *d)
{
	fz_visited = 0;
	dbs_foreach(d, fz_count_info, (void *)(uintptr_t)d);
	CHECK(fz_visited == d->t.n_live);
}

/* The table holds exactly the model's records (tombstones too, unless live_only). */
static void fz_check_vs_model(const struct dbs *d, bool live_only)
{
	size_t seen = 0;

	for (size_t i = 0; i < d->t.n_buckets; i++)
		for (const struct dbs_rec *r = d->t.buckets[i]; r != NULL; r = r->next) {
			const struct fz_rec *m =
				fz_model_find((const uint8_t *)r->mn_id, r->id_len);
			CHECK(m != NULL);
			CHECK(m->tomb == r->tomb && m->ts == r->ts_ms && m->exp == r->expires_ms);
			CHECK(memcmp(m->writer, &r->writer.s_addr, 4) == 0);
			CHECK(m->sealed_len == r->sealed_len);
			CHECK(r->sealed_len == 0 ||
			      memcmp(m->sealed, r->sealed, r->sealed_len) == 0);
			seen++;
		}
	CHECK(seen == (live_only ? fz_model_live() : n_model));
}

/* Both stores hold the same live records (a's with an Expires after now). */
static void fz_check_same_live(const struct dbs *a, const struct dbs *b, uint64_t now)
{
	size_t n = 0;

	for (size_t i = 0; i < a->t.n_buckets; i++)
		for (const struct dbs_rec *r = a->t.buckets[i]; r != NULL; r = r->next) {
			if (r->tomb || r->expires_ms <= now)
				continue;
			const struct dbs_rec *s = dbs_table_find(&b->t, r->mn_id, r->id_len);
			if (s == NULL && fz_lax)
				continue; /* the known finding: see the top of this file */
			CHECK(s != NULL); /* a record acknowledged is a record kept */
			CHECK(!s->tomb && s->ts_ms == r->ts_ms && s->expires_ms == r->expires_ms &&
			      s->writer.s_addr == r->writer.s_addr);
			CHECK(s->sealed_len == r->sealed_len &&
			      memcmp(s->sealed, r->sealed, r->sealed_len) == 0);
			n++;
		}
	CHECK(n == b->t.n_live);
}

static void fz_check_log_size(const struct dbs *d)
{
	CHECK(d->log.fd >= 0);
	CHECK(fz_file_size(fz_path) == (long)dbs_log_bytes(d));
}

/* ---- mode 0: one entry ---- */

static void fz_entry_mode(const uint8_t *in, size_t n, uint8_t sel, uint8_t param)
{
	static uint8_t work[FZ_IN_MAX], again[DBS_ENTRY_HDR_LEN + DBS_ENTRY_BODY_MAX];
	struct dbs_entry e;
	struct fz_ent m;
	size_t used = 0, again_n;
	enum dbs_decode r;
	int want;

	memcpy(work, in, n);
	if (sel & 4)
		fz_fix_crcs(work, n);
	r = dbs_entry_decode(work, n, &e, &used);
	want = fz_entry(work, n, &m);
	CHECK(r == DBS_DEC_OK || r == DBS_DEC_SHORT || r == DBS_DEC_CORRUPT);
	CHECK((int)r == want); /* OK, SHORT and CORRUPT as the format says */
	if (r != DBS_DEC_OK)
		return;
	/* never an entry whose CRC fails */
	CHECK(used == m.used && used <= n);
	CHECK(fz_crc32(work + DBS_ENTRY_HDR_LEN, used - DBS_ENTRY_HDR_LEN) == be32(work + 4));
	CHECK(e.op == m.op && e.ts_ms == m.ts && e.expires_ms == m.exp);
	CHECK(memcmp(&e.writer.s_addr, m.writer, 4) == 0);
	CHECK((const uint8_t *)e.mn_id == m.id && e.mn_id_len == m.id_len);
	CHECK(e.sealed_len == m.sealed_len && (e.sealed_len == 0 || e.sealed == m.sealed));
	CHECK(e.mn_id_len >= 1 && e.mn_id_len <= SAX_ID_MAX);
	/* encoded again: the same bytes, and nothing in a buffer one byte short */
	again_n = dbs_entry_encode(&e, again, sizeof(again));
	CHECK(again_n == used && memcmp(again, work, used) == 0);
	CHECK(dbs_entry_encode(&e, again, used - 1) == 0);
	/* torn: the last byte missing */
	CHECK(dbs_entry_decode(work, used - 1, &e, &again_n) == DBS_DEC_SHORT);
	/* one bit of the CRC or of the body flipped: CRC-32 sees every one */
	size_t bit = 32 + (size_t)(param | (size_t)work[used - 1] << 8) % ((used - 4) * 8);
	work[bit / 8] ^= (uint8_t)(1u << bit % 8);
	CHECK(dbs_entry_decode(work, used, &e, &again_n) == DBS_DEC_CORRUPT);
}

/* The input as the fields of an entry, for the encoder. */
static void fz_encode_mode(const uint8_t *in, size_t n, uint8_t param)
{
	static uint8_t out[DBS_ENTRY_HDR_LEN + 65536 + 512];
	struct dbs_entry e, d;
	struct fz_ent m;
	size_t len, cap, used = 0, need;
	enum dbs_decode r;

	if (n < 22)
		return;
	memset(&e, 0, sizeof(e));
	e.op = in[0];
	e.ts_ms = be64(in + 1);
	e.expires_ms = be64(in + 9);
	memcpy(&e.writer.s_addr, in + 17, 4);
	e.mn_id_len = in[21];
	if (n - 22 < e.mn_id_len)
		return;
	e.mn_id = (const char *)in + 22;
	e.sealed = in + 22 + e.mn_id_len;
	e.sealed_len = n - 22 - e.mn_id_len;
	need = DBS_ENTRY_HDR_LEN + FZ_BODY_MIN - 1 + e.mn_id_len + e.sealed_len;
	/* the parameter takes up to 255 bytes off the room there is */
	cap = need + 128 > param ? need + 128 - param : 0;
	len = dbs_entry_encode(&e, out, cap);
	if (e.mn_id_len == 0 || cap < need) {
		CHECK(len == 0);
		return;
	}
	CHECK(len == need);
	CHECK(be32(out) == need - DBS_ENTRY_HDR_LEN);
	CHECK(be32(out + 4) == fz_crc32(out + DBS_ENTRY_HDR_LEN, need - DBS_ENTRY_HDR_LEN));
	r = dbs_entry_decode(out, len, &d, &used);
	CHECK((int)r == fz_entry(out, len, &m));
	if (r != DBS_DEC_OK) {
		/* only an op, a length or an id the store never writes */
		CHECK(r == DBS_DEC_CORRUPT);
		CHECK(!((e.op == DBS_OP_PUT && e.sealed_len >= SAX_SEALED_MIN &&
			 e.sealed_len <= SAX_SEALED_MAX) ||
			(e.op == DBS_OP_DEL && e.sealed_len == 0)) ||
		      memchr(e.mn_id, '\0', e.mn_id_len) != NULL ||
		      need - DBS_ENTRY_HDR_LEN > DBS_ENTRY_BODY_MAX);
		return;
	}
	CHECK(used == len && d.op == e.op && d.ts_ms == e.ts_ms && d.expires_ms == e.expires_ms);
	CHECK(d.writer.s_addr == e.writer.s_addr && d.mn_id_len == e.mn_id_len &&
	      memcmp(d.mn_id, e.mn_id, e.mn_id_len) == 0);
	CHECK(d.sealed_len == e.sealed_len &&
	      (e.sealed_len == 0 || memcmp(d.sealed, e.sealed, e.sealed_len) == 0));
}

/* ---- mode 1: a log file ---- */

static uint8_t file[FZ_FILE_MAX], back[FZ_FILE_MAX];

/* 33..40 records of 7000..8147 sealed bytes, so that what follows crosses 256 KiB. */
static size_t fz_filler(uint8_t *p, uint8_t param)
{
	static uint8_t sealed[8192];
	size_t count = 33 + (param & 7), slen = 7000 + (size_t)(param >> 3) * 37, pos = 0;

	memset(sealed, 0xf1, sizeof(sealed));
	for (size_t i = 0; i < count; i++) {
		char id[24];
		struct dbs_entry e = {.op = DBS_OP_PUT,
				      .ts_ms = FZ_NOW - 1000,
				      .expires_ms = FZ_NOW + 86400000,
				      .writer = fz_ip(FZ_FA1),
				      .mn_id = id,
				      .mn_id_len = FZ_FILL_ID,
				      .sealed = sealed,
				      .sealed_len = slen};
		snprintf(id, sizeof(id), "fill%02u", (unsigned)i % 100);
		size_t n = dbs_entry_encode(&e, p + pos, 8400);
		CHECK(n > 0);
		pos += n;
	}
	return pos;
}

/* Open a store on the log file there is; checks it against the model loaded from file[0..n). */
static struct dbs *fz_open_checked(const uint8_t *f, size_t n, uint64_t now)
{
	static const uint8_t hdr[DBS_LOG_HDR_LEN] = {'M', 'I', 'P', 'S', 'A', 'D', 'B', 'S',
						     0,   0,   0,   1,   0,   0,   0,   0};
	size_t good = DBS_LOG_HDR_LEN;
	bool ours;
	struct dbs *d;

	n_model = 0;
	if (n < DBS_LOG_HDR_LEN) {
		ours = memcmp(f, hdr, n) == 0; /* a torn creation: starts afresh */
	} else {
		ours = memcmp(f, hdr, DBS_LOG_HDR_LEN) == 0;
		if (ours)
			good += fz_model_load(f + DBS_LOG_HDR_LEN, n - DBS_LOG_HDR_LEN);
	}
	fz_model_expire(now);
	d = dbs_open(&fz_cfg, now);
	if (!ours) {
		CHECK(d == NULL); /* not our file: refused, and left alone */
		CHECK(fz_file_size(fz_path) == (long)n);
		return NULL;
	}
	CHECK(d != NULL);
	fz_check_table(d, now, true);
	fz_check_foreach(d);
	fz_check_vs_model(d, false);
	CHECK(dbs_counters(d)->loaded == fz_model_live());
	CHECK(dbs_counters(d)->log_dropped_bytes == (n < DBS_LOG_HDR_LEN ? 0 : n - good));
	CHECK(dbs_log_bytes(d) == good);
	fz_check_log_size(d);
	return d;
}

static void fz_log_mode(const uint8_t *in, size_t n, uint8_t sel, uint8_t param)
{
	uint64_t now;
	size_t len = 0, start;
	struct dbs *d;

	if (n < 1)
		return;
	now = FZ_NOW + (uint64_t)((int64_t)(int8_t)in[0] * 1000);
	in++;
	n--;
	if (!(sel & 4)) {
		fz_log_header(file);
		len = DBS_LOG_HDR_LEN;
		if (sel & 16)
			len += fz_filler(file + len, param);
	}
	start = len;
	memcpy(file + len, in, n);
	len += n;
	if (!(sel & 8) && len > DBS_LOG_HDR_LEN)
		fz_fix_crcs(file + (start > DBS_LOG_HDR_LEN ? start : DBS_LOG_HDR_LEN),
			    len - (start > DBS_LOG_HDR_LEN ? start : DBS_LOG_HDR_LEN));
	fz_clean();
	fz_write_file(fz_path, file, len);
	d = fz_open_checked(file, len, now);
	if (d == NULL)
		return;

	/* The log rebuilt from what was loaded: the live records, each once, nothing else. */
	CHECK(dbs_compact(d, now) == 0);
	fz_check_table(d, now, true);
	CHECK(dbs_log_bytes(d) == DBS_LOG_HDR_LEN + d->t.live_bytes);
	fz_check_log_size(d);
	size_t got = fz_read_file(fz_path, back, sizeof(back));
	CHECK(got == dbs_log_bytes(d));
	fz_log_header(file);
	CHECK(memcmp(back, file, DBS_LOG_HDR_LEN) == 0);
	{
		struct fz_ent e;
		size_t pos = DBS_LOG_HDR_LEN, count = 0;

		while (pos < got) {
			CHECK(fz_entry(back + pos, got - pos, &e) == FZ_OK);
			CHECK(e.op == DBS_OP_PUT);
			const struct fz_rec *m = fz_model_find(e.id, e.id_len);
			CHECK(m != NULL && !m->tomb && m->ts == e.ts && m->exp == e.exp);
			CHECK(memcmp(m->writer, e.writer, 4) == 0 &&
			      m->sealed_len == e.sealed_len &&
			      memcmp(m->sealed, e.sealed, e.sealed_len) == 0);
			pos += e.used;
			count++;
		}
		CHECK(count == fz_model_live());
	}
	dbs_close(d);
	/* and reopens to the same records */
	d = dbs_open(&fz_cfg, now);
	CHECK(d != NULL);
	fz_check_table(d, now, true);
	fz_check_vs_model(d, true);
	CHECK(d->t.n_tomb == 0 && dbs_counters(d)->log_dropped_bytes == 0);
	CHECK(dbs_counters(d)->loaded == fz_model_live());
	dbs_close(d);
}

/* ---- mode 2: datagrams ---- */

struct fz_before {
	bool have, tomb;
	uint64_t ts, exp;
	struct in_addr writer;
	size_t sealed_len;
	uint8_t sealed[SAX_SEALED_MAX];
};

static void fz_snapshot(const struct dbs *d, const char *id, size_t len, struct fz_before *b)
{
	const struct dbs_rec *r = dbs_table_find(&d->t, id, len);

	b->have = r != NULL;
	if (r == NULL)
		return;
	b->tomb = r->tomb;
	b->ts = r->ts_ms;
	b->exp = r->expires_ms;
	b->writer = r->writer;
	CHECK(r->sealed_len <= sizeof(b->sealed));
	b->sealed_len = r->sealed_len;
	memcpy(b->sealed, r->sealed, r->sealed_len);
}

static bool fz_same(const struct fz_before *a, const struct fz_before *b)
{
	if (a->have != b->have)
		return false;
	return !a->have ||
	       (a->tomb == b->tomb && a->ts == b->ts && a->exp == b->exp &&
		a->writer.s_addr == b->writer.s_addr && a->sealed_len == b->sealed_len &&
		memcmp(a->sealed, b->sealed, a->sealed_len) == 0);
}

static bool fz_member(struct in_addr a)
{
	if (a.s_addr == fz_ip(FZ_FA1).s_addr || a.s_addr == fz_ip(FZ_FA2).s_addr)
		return true;
	return fz_cfg.have_prefix &&
	       (ntohl(a.s_addr) & 0xffffff00u) == ntohl(fz_ip(FZ_PREFIX).s_addr);
}

/* Open the store a second time from its log: the live records must all be there. */
static struct dbs *fz_restart(struct dbs *d, uint64_t now)
{
	struct dbs *d2 = dbs_open(&fz_cfg, now);

	CHECK(d2 != NULL);
	CHECK(dbs_counters(d2)->log_dropped_bytes == 0); /* nothing torn was left behind */
	fz_check_table(d2, now, true);
	fz_check_same_live(d, d2, now);
	dbs_close(d);
	fz_check_log_size(d2);
	return d2;
}

#define FZ_DELTA(f) (c1.f - c0.f)

static void fz_datagram(struct dbs *d, uint8_t *msg, size_t len, unsigned flags, uint64_t now)
{
	static uint8_t out[SAX_MSG_MAX];
	static struct sax_msg req, ans;
	static struct fz_before bef, aft;
	struct dbs_counters c0 = *dbs_counters(d), c1;
	struct in_addr src;
	unsigned fail_writes = d->log.fail_writes;
	enum sax_err e;
	size_t n;

	if (!(flags & FZ_F_NO_MAC) && len >= SAX_MAC_LEN) {
		unsigned ml = 0;
		CHECK(HMAC(EVP_sha256(), fz_keys.k_db, SAX_KEY_LEN, msg, len - SAX_MAC_LEN,
			   msg + len - SAX_MAC_LEN, &ml) != NULL);
	}
	src.s_addr = 0;
	if (len >= 32)
		memcpy(&src.s_addr, msg + 28, 4);
	if (flags & FZ_F_SPOOF)
		src = fz_ip(FZ_OUTSIDER);

	e = sax_parse(msg, len, &fz_keys, now, fz_cfg.freshness_window_ms, NULL, &req);
	if (e == SAX_E_OK)
		fz_snapshot(d, req.mn_id, req.mn_id_len, &bef);
	n = dbs_handle(d, msg, len, src, now, out, sizeof(out));
	c1 = *dbs_counters(d);
	fz_check_table(d, now, false);
	fz_check_log_size(d);

	uint64_t refused = FZ_DELTA(refused_mac) + FZ_DELTA(refused_stale) +
			   FZ_DELTA(refused_replay) + FZ_DELTA(refused_malformed);
	if (e != SAX_E_OK) {
		/* dropped, counted under its reason */
		CHECK(n == 0 && refused == 1);
		CHECK(FZ_DELTA(refused_mac) == (e == SAX_E_MAC));
		CHECK(FZ_DELTA(refused_stale) == (e == SAX_E_STALE));
		CHECK(FZ_DELTA(refused_malformed) == (e != SAX_E_MAC && e != SAX_E_STALE));
		return;
	}
	if (req.type != SAX_STORE_PUT && req.type != SAX_STORE_GET && req.type != SAX_STORE_DEL) {
		/* not a request for a store (the replay cache has seen it first, though) */
		CHECK(n == 0 && refused == 1 &&
		      FZ_DELTA(refused_malformed) + FZ_DELTA(refused_replay) == 1);
		return;
	}
	if (n == 0) {
		const struct dbs_rec *r = dbs_table_find(&d->t, req.mn_id, req.mn_id_len);
		if (fz_lax && req.type == SAX_STORE_GET && r != NULL && !fz_wellformed(r))
			return; /* a record loaded that no answer can carry: the known finding */
		/* an authentic, fresh request is answered unless it is a replay */
		CHECK(refused == 1 && FZ_DELTA(refused_replay) == 1);
		return;
	}
	CHECK(refused == 0);

	/* the answer: authentic, fresh, from the store, about the same node */
	CHECK(sax_parse(out, n, &fz_keys, now, fz_cfg.freshness_window_ms, NULL, &ans) == SAX_E_OK);
	CHECK(ans.sender.s_addr == fz_cfg.address.s_addr && ans.timestamp_ms == now);
	CHECK(ans.mn_id_len == req.mn_id_len && memcmp(ans.mn_id, req.mn_id, req.mn_id_len) == 0);
	CHECK(req.type == SAX_STORE_GET ? ans.type == SAX_RECORD || ans.type == SAX_REFUSED
					: ans.type == SAX_STORE_ACK);
	fz_snapshot(d, req.mn_id, req.mn_id_len, &aft);

	if (!fz_member(req.sender) || req.sender.s_addr != src.s_addr) {
		CHECK(FZ_DELTA(refused_not_member) == 1);
		CHECK(ans.type != SAX_RECORD && ans.flags == SAX_R_NOT_MEMBER);
		CHECK(fz_same(&bef, &aft));
		return;
	}
	CHECK(FZ_DELTA(refused_not_member) == 0);

	switch (req.type) {
	case SAX_STORE_PUT:
		CHECK(FZ_DELTA(puts) == 1);
		if (req.expires_ms <= now) {
			CHECK(ans.flags == SAX_R_EXPIRED && FZ_DELTA(put_expired) == 1);
			CHECK(fz_same(&bef, &aft));
		} else if (bef.have && bef.ts >= req.timestamp_ms) {
			CHECK(ans.flags == SAX_OK && FZ_DELTA(superseded) == 1);
			CHECK(fz_same(&bef, &aft));
		} else if (ans.flags == SAX_OK) {
			CHECK(FZ_DELTA(stored) == 1 && FZ_DELTA(synced_writes) == 1);
			CHECK(aft.have && !aft.tomb && aft.ts == req.timestamp_ms &&
			      aft.exp == req.expires_ms && aft.writer.s_addr == req.sender.s_addr);
			CHECK(aft.sealed_len == req.sealed_len &&
			      memcmp(aft.sealed, req.sealed, req.sealed_len) == 0);
		} else {
			CHECK(ans.flags == SAX_R_STORE_ERROR && FZ_DELTA(stored) == 0);
			/* the store is full, or the write failed (only when told to) */
			CHECK((FZ_DELTA(refused_full) == 1 && d->t.n_live >= fz_cfg.max_records &&
			       (!bef.have || bef.tomb)) ||
			      (FZ_DELTA(store_errors) == 1 && fail_writes > 0));
			if (bef.have && !bef.tomb)
				CHECK(fz_same(&bef, &aft));
			else
				CHECK(!aft.have || aft.tomb);
		}
		break;
	case SAX_STORE_GET:
		CHECK(FZ_DELTA(gets) == 1);
		if (!bef.have || bef.tomb) {
			CHECK(ans.type == SAX_REFUSED && ans.flags == SAX_R_UNKNOWN);
		} else if (bef.exp <= now) {
			CHECK(ans.type == SAX_REFUSED && ans.flags == SAX_R_EXPIRED && !aft.have);
		} else {
			/* the record as it was put */
			CHECK(ans.type == SAX_RECORD && ans.flags == 0 && FZ_DELTA(hits) == 1);
			CHECK(ans.expires_ms == bef.exp && ans.sealed_len == bef.sealed_len &&
			      memcmp(ans.sealed, bef.sealed, bef.sealed_len) == 0);
			CHECK(fz_same(&bef, &aft));
		}
		break;
	default: /* DEL */
		CHECK(FZ_DELTA(dels) == 1);
		if (bef.have && bef.ts >= req.timestamp_ms) {
			CHECK(ans.flags == SAX_OK && FZ_DELTA(superseded) == 1);
			CHECK(fz_same(&bef, &aft));
		} else if (!bef.have || bef.tomb) {
			CHECK(ans.flags == SAX_OK && FZ_DELTA(synced_writes) == 0);
			CHECK(!aft.have || aft.tomb);
		} else if (ans.flags == SAX_OK) {
			CHECK(FZ_DELTA(synced_writes) == 1);
			CHECK(aft.have && aft.tomb && aft.ts == req.timestamp_ms);
		} else {
			CHECK(ans.flags == SAX_R_STORE_ERROR && FZ_DELTA(store_errors) == 1 &&
			      fail_writes > 0);
			CHECK(fz_same(&bef, &aft));
		}
		break;
	}
}

static void fz_handle_mode(const uint8_t *in, size_t n, uint8_t sel, uint8_t param)
{
	static uint8_t msg[FZ_IN_MAX];
	uint64_t now = FZ_NOW;
	size_t loglen, pos;
	struct dbs *d;

	if (n < 2)
		return;
	loglen = be16(in);
	if (loglen > n - 2)
		loglen = n - 2;
	fz_cfg.max_records = 1 + (param & 7);
	fz_cfg.compact_min_bytes = param & 8 ? 0 : DBS_DEFAULT_COMPACT;
	fz_cfg.have_prefix = (param & 16) != 0;
	fz_log_header(file);
	memcpy(file + DBS_LOG_HDR_LEN, in + 2, loglen);
	if (!(sel & 8))
		fz_fix_crcs(file + DBS_LOG_HDR_LEN, loglen);
	fz_clean();
	fz_write_file(fz_path, file, DBS_LOG_HDR_LEN + loglen);
	d = fz_open_checked(file, DBS_LOG_HDR_LEN + loglen, now);
	CHECK(d != NULL);

	for (pos = 2 + loglen; n - pos >= 4;) {
		unsigned flags = in[pos];
		int8_t step = (int8_t)in[pos + 1];
		size_t len = be16(in + pos + 2);

		pos += 4;
		if (len > n - pos)
			len = n - pos;
		memcpy(msg, in + pos, len);
		pos += len;
		/* the clock: the datagram's timestamp, moved by up to +-32 s, never back */
		if (len >= 12) {
			uint64_t ts = be64(msg + 4), t = ts + (uint64_t)((int64_t)step * 250);
			if (step < 0 ? t > ts : t < ts)
				t = step < 0 ? 0 : UINT64_MAX; /* no wrapping round */
			if (t > now)
				now = t;
		}
		if (flags & FZ_F_RESTART)
			d = fz_restart(d, now);
		if (flags & FZ_F_TICK) {
			dbs_tick(d, now);
			fz_check_table(d, now, false);
			fz_check_log_size(d);
		}
		if (flags & FZ_F_WERR)
			dbs_inject_write_errors(d, 1);
		fz_datagram(d, msg, len, flags, now);
	}
	d = fz_restart(d, now);
	dbs_close(d);
}

/* ---- entry points ---- */

static void fz_setup(void)
{
	const char *tmp = getenv("TMPDIR");

	if (access("/dev/shm", W_OK) == 0)
		tmp = "/dev/shm";
	else if (tmp == NULL || strlen(tmp) > 60)
		tmp = "/tmp";
	fz_crc_init();
	snprintf(fz_base, sizeof(fz_base), "%s/fuzz_dbs_log.XXXXXX", tmp);
	CHECK(mkdtemp(fz_base) != NULL);
	snprintf(fz_data, sizeof(fz_data), "%s/data", fz_base);
	snprintf(fz_path, sizeof(fz_path), "%s/%s", fz_data, DBS_LOG_NAME);
	CHECK(mkdir(fz_data, 0700) == 0);
	atexit(fz_cleanup_at_exit);

	dbs_config_defaults(&fz_cfg);
	fz_cfg.address = fz_ip(FZ_STORE_IP);
	snprintf(fz_cfg.data_dir, sizeof(fz_cfg.data_dir), "%s", fz_data);
	fz_cfg.members[0] = fz_ip(FZ_FA1);
	fz_cfg.members[1] = fz_ip(FZ_FA2);
	fz_cfg.n_members = 2;
	fz_cfg.member_prefix = fz_ip(FZ_PREFIX);
	fz_cfg.member_plen = 24;
	fz_cfg.freshness_window_ms = FZ_WINDOW;
	fz_cfg.max_records = 64;
	/*
	 * More than an input can carry (FZ_IN_MAX / (4 + SAX_HDR_LEN) datagrams),
	 * so nothing is evicted and the store behaves as with the default; the
	 * default's 65,536 entries, made at every open and restart, cost 90 % of
	 * the time.
	 */
	fz_cfg.replay_entries = FZ_IN_MAX / (4 + SAX_HDR_LEN) + 1;
	for (int i = 0; i < SAX_KEY_LEN; i++)
		fz_cfg.k_db[i] = (uint8_t)(0x42 + i);
	memset(&fz_keys, 0, sizeof(fz_keys));
	memcpy(fz_keys.k_db, fz_cfg.k_db, SAX_KEY_LEN);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_set_level(getenv("FUZZ_DBS_LOG") != NULL ? LOG_LVL_DEBUG : LOG_LVL_ERR);
	fz_lax = getenv("FUZZ_DBS_LAX") != NULL;
	fz_setup();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t sel, param;

	if (size < 2)
		return 0;
	sel = data[0];
	param = data[1];
	data += 2;
	size -= 2;
	if (size > FZ_IN_MAX)
		size = FZ_IN_MAX;
	fz_cfg.max_records = 64;
	fz_cfg.compact_min_bytes = DBS_DEFAULT_COMPACT;
	fz_cfg.have_prefix = false;
	switch (sel % 4) {
	case 0:
		if (sel & 8)
			fz_encode_mode(data, size, param);
		else
			fz_entry_mode(data, size, sel, param);
		break;
	case 2:
		fz_handle_mode(data, size, sel, param);
		break;
	default:
		fz_log_mode(data, size, sel, param);
		break;
	}
	return 0;
}

#ifdef FUZZ_DBS_MAKE_SEEDS
/* ---- the seed corpus ---- */

static const char *seed_dir;

static void seed(const char *name, const uint8_t *d, size_t n)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", seed_dir, name);
	fz_write_file(path, d, n);
}

/* An entry for the log, its CRC right; an id with a NUL byte is "a\0b". */
static size_t seed_entry(uint8_t *p, uint8_t op, const char *id, uint64_t ts, uint64_t exp,
			 const char *writer, size_t sealed_len)
{
	static uint8_t sealed[8192];
	struct dbs_entry e = {.op = op,
			      .ts_ms = ts,
			      .expires_ms = exp,
			      .writer = fz_ip(writer),
			      .mn_id = id,
			      .mn_id_len = strlen(id) == 1 && id[0] == 'a' ? 3 : strlen(id),
			      .sealed = sealed,
			      .sealed_len = sealed_len};

	for (size_t i = 0; i < sizeof(sealed); i++)
		sealed[i] = (uint8_t)(i * 7 + 3);
	size_t n = dbs_entry_encode(&e, p, DBS_ENTRY_HDR_LEN + DBS_ENTRY_BODY_MAX);
	CHECK(n > 0);
	return n;
}

/* A datagram for mode 2: flags, clock step, length, a message built as an FA would. */
static size_t seed_msg(uint8_t *p, unsigned flags, uint8_t type, const char *id, uint64_t ts,
		       uint64_t exp, const char *sender, size_t sealed_len)
{
	static uint8_t sealed[SAX_SEALED_MAX];
	static unsigned nonce;
	struct sax_msg m;
	struct buf b;

	memset(&m, 0, sizeof(m));
	m.version = SAX_VERSION;
	m.type = type;
	m.timestamp_ms = ts;
	nonce++;
	memcpy(m.nonce, &nonce, sizeof(nonce));
	m.sender = fz_ip(sender);
	m.expires_ms = exp;
	m.mn_id_len = strlen(id);
	memcpy(m.mn_id, id, m.mn_id_len);
	if (sealed_len > 0) {
		for (size_t i = 0; i < sealed_len; i++)
			sealed[i] = (uint8_t)(i * 13 + type);
		m.sealed = sealed;
		m.sealed_len = sealed_len;
	}
	buf_init_write(&b, p + 4, SAX_MSG_MAX);
	CHECK(sax_build(&b, &m, &fz_keys) == SAX_E_OK);
	p[0] = (uint8_t)flags;
	p[1] = 0;
	p[2] = (uint8_t)(buf_used(&b) >> 8);
	p[3] = (uint8_t)buf_used(&b);
	return 4 + buf_used(&b);
}

int main(int argc, char **argv)
{
	static uint8_t s[65536];
	const uint64_t T = FZ_NOW, HOUR = 3600000;
	size_t n, m;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	seed_dir = argv[1];
	fz_setup();

	/* mode 0: one entry */
	s[0] = 4; /* CRC written in */
	s[1] = 0;
	n = 2 + seed_entry(s + 2, DBS_OP_PUT, "mn1@example.net", T, T + HOUR, FZ_FA1, 200);
	seed("entry-put", s, n);
	s[0] = 0;
	seed("entry-put-crc", s, n);
	s[6] ^= 1; /* a CRC that fails */
	seed("entry-bad-crc", s, n);
	seed("entry-torn", s, n - 9);
	s[0] = 0;
	n = 2 + seed_entry(s + 2, DBS_OP_DEL, "mn2@example.net", T, 0, FZ_FA2, 0);
	seed("entry-del", s, n);
	s[0] = 4;
	n = 2 + seed_entry(s + 2, DBS_OP_PUT, "x", 0, 0, "0.0.0.0", 1); /* the smallest put */
	seed("entry-put-min", s, n);
	s[0] = 8; /* the encoder */
	s[1] = 128;
	memcpy(s + 2,
	       "\x01\x00\x00\x01\x9b\x64\x1b\x00\x00\x00\x00\x01\x9b\x64\x1b\x00\x00\xc6\x12"
	       "\x0b\x02\x03mn3",
	       25);
	memset(s + 27, 0x5c, 40);
	seed("encode-put", s, 67);

	/* mode 1: logs */
	s[0] = 1;
	s[1] = 0;
	s[2] = 0; /* clock */
	n = 3;
	seed("log-empty", s, n);
	n += seed_entry(s + n, DBS_OP_PUT, "mn1@example.net", T - 5000, T + HOUR, FZ_FA1, 300);
	n += seed_entry(s + n, DBS_OP_PUT, "mn2@example.net", T - 4000, T + HOUR, FZ_FA2, 120);
	n += seed_entry(s + n, DBS_OP_PUT, "mn1@example.net", T - 3000, T + 2 * HOUR, FZ_FA2, 250);
	n += seed_entry(s + n, DBS_OP_PUT, "mn1@example.net", T - 4500, T + HOUR, FZ_FA1, 99);
	n += seed_entry(s + n, DBS_OP_DEL, "mn2@example.net", T - 2000, 0, FZ_FA1, 0);
	n += seed_entry(s + n, DBS_OP_PUT, "mn3@example.net", T - 9000, T - 1000, FZ_FA1, 60);
	n += seed_entry(s + n, DBS_OP_DEL, "mn4@example.net", T - 60000, 0, FZ_FA2, 0);
	seed("log-history", s, n);
	m = n;
	n += seed_entry(s + n, DBS_OP_PUT, "mn5@example.net", T, T + HOUR, FZ_FA1, 80);
	seed("log-torn", s, n - 20);
	s[0] = 1 | 8; /* CRCs as they are */
	s[n - 30] ^= 0x40;
	n += seed_entry(s + n, DBS_OP_PUT, "mn6@example.net", T, T + HOUR, FZ_FA1, 80);
	seed("log-corrupt-middle", s, n);
	s[0] = 3 | 16; /* filler first */
	s[1] = 0x5b;
	s[2] = 10;
	seed("log-filler", s, m);
	s[0] = 1 | 4; /* the whole file */
	s[1] = 0;
	memcpy(s + 3, "MIPSAD", 6);
	seed("file-torn-header", s, 9);
	memcpy(s + 3, "MIPSADBS\0\0\0\2\0\0\0\0", 16);
	seed("file-version-2", s, 19);
	memcpy(s + 3, "# not a log\n", 12);
	seed("file-not-ours", s, 15);

	/* mode 2: datagrams */
	s[0] = 2;
	s[1] = 3 | 8; /* 4 records at most, compaction whenever it pays */
	n = 4;
	n += seed_entry(s + n, DBS_OP_PUT, "mn9@example.net", T - 5000, T + HOUR, FZ_FA1, 64);
	s[2] = (uint8_t)((n - 4) >> 8);
	s[3] = (uint8_t)(n - 4);
	n += seed_msg(s + n, 0, SAX_STORE_PUT, "mn1@example.net", T, T + HOUR, FZ_FA1, 100);
	n += seed_msg(s + n, 0, SAX_STORE_GET, "mn1@example.net", T + 10, 0, FZ_FA2, 0);
	n += seed_msg(s + n, 0, SAX_STORE_GET, "mn9@example.net", T + 20, 0, FZ_FA2, 0);
	n += seed_msg(s + n, 0, SAX_STORE_PUT, "mn1@example.net", T - 100, T + HOUR, FZ_FA2, 90);
	n += seed_msg(s + n, 0, SAX_STORE_DEL, "mn1@example.net", T + 30, 0, FZ_FA2, 0);
	n += seed_msg(s + n, 0, SAX_STORE_GET, "mn1@example.net", T + 40, 0, FZ_FA1, 0);
	n += seed_msg(s + n, FZ_F_RESTART, SAX_STORE_GET, "mn9@example.net", T + 50, 0, FZ_FA1, 0);
	seed("handle-put-get-del", s, n);

	s[1] = 1; /* 2 records at most */
	n = 4;
	s[2] = s[3] = 0;
	n += seed_msg(s + n, 0, SAX_STORE_PUT, "mn1@example.net", T, T + 5000, FZ_FA1, 40);
	n += seed_msg(s + n, FZ_F_WERR, SAX_STORE_PUT, "mn2@example.net", T, T + HOUR, FZ_FA1, 40);
	n += seed_msg(s + n, FZ_F_TICK, SAX_STORE_PUT, "mn2@example.net", T + 1000, T + HOUR,
		      FZ_FA1, 40);
	n += seed_msg(s + n, 0, SAX_STORE_PUT, "mn3@example.net", T + 1000, T + HOUR, FZ_FA2, 40);
	n += seed_msg(s + n, FZ_F_WERR, SAX_STORE_DEL, "mn2@example.net", T + 2000, 0, FZ_FA1, 0);
	n += seed_msg(s + n, FZ_F_TICK | FZ_F_RESTART, SAX_STORE_GET, "mn1@example.net", T + 9000,
		      0, FZ_FA1, 0);
	n += seed_msg(s + n, 0, SAX_STORE_PUT, "mn3@example.net", T + 9000, T + HOUR, FZ_FA2, 40);
	seed("handle-full-werr-expiry", s, n);

	s[1] = 16; /* the /24 prefix is a member too */
	n = 4;
	n += seed_msg(s + n, 0, SAX_STORE_PUT, "mn1@example.net", T, T + HOUR, "198.18.16.7", 28);
	n += seed_msg(s + n, FZ_F_SPOOF, SAX_STORE_GET, "mn1@example.net", T + 1, 0, "198.18.16.7",
		      0);
	n += seed_msg(s + n, 0, SAX_STORE_DEL, "mn1@example.net", T + 2, 0, FZ_OUTSIDER, 0);
	m = n;
	n += seed_msg(s + n, 0, SAX_STORE_GET, "mn1@example.net", T + 3, 0, FZ_FA1, 0);
	memcpy(s + n, s + m, n - m); /* the same GET again: a replay */
	n += n - m;
	n += seed_msg(s + n, FZ_F_NO_MAC, SAX_STORE_GET, "mn1@example.net", T + 4, 0, FZ_FA1, 0);
	s[n - 1] ^= 1; /* a bad HMAC */
	n += seed_msg(s + n, 0, SAX_STORE_GET, "mn1@example.net", T - 60000, 0, FZ_FA1, 0);
	n += seed_msg(s + n, 0, SAX_REFUSED, "mn1@example.net", T + 5, 0, FZ_FA1, 0);
	seed("handle-refusals", s, n);

	/* regressions: the findings at the top of this file, which fail until they are fixed */
	s[0] = 1;
	s[1] = s[2] = 0;
	n = 3 + seed_entry(s + 3, DBS_OP_PUT, "a\0b", T, T + HOUR, FZ_FA1, 40);
	seed("regress-log-nul-id", s, n);
	n = 3 + seed_entry(s + 3, DBS_OP_PUT, "mn1@example.net", T, T + HOUR, FZ_FA1, 1);
	seed("regress-log-sealed-1-byte", s, n);
	n = 3 + seed_entry(s + 3, DBS_OP_PUT, "mn1@example.net", T, T + HOUR, FZ_FA1, 8000);
	seed("regress-log-sealed-8000", s, n);
	s[0] = 2;
	n = 4 + seed_entry(s + 4, DBS_OP_PUT, "mn1@example.net", T, T + HOUR, FZ_FA1, 1);
	s[2] = (uint8_t)((n - 4) >> 8);
	s[3] = (uint8_t)(n - 4);
	n += seed_msg(s + n, 0, SAX_STORE_GET, "mn1@example.net", T + 10, 0, FZ_FA2, 0);
	seed("regress-get-unanswerable", s, n); /* loaded, then never answered */
	s[1] = 0;
	s[2] = s[3] = 0;
	n = 4;
	/* a record expires; a PUT not newer than it is acknowledged, and lost at restart */
	n += seed_msg(s + n, 0, SAX_STORE_PUT, "mn1@example.net", T, T + 1000, FZ_FA1, 40);
	n += seed_msg(s + n, 0, SAX_STORE_GET, "mn1@example.net", T + 2000, 0, FZ_FA1, 0);
	n += seed_msg(s + n, 0, SAX_STORE_PUT, "mn1@example.net", T, T + HOUR, FZ_FA2, 40);
	seed("regress-expired-then-older-put", s, n);
	/* a tombstone goes after one window; a PUT with the DEL's timestamp at that instant */
	n = 4;
	n += seed_msg(s + n, 0, SAX_STORE_PUT, "mn1@example.net", T - 1000, T + HOUR, FZ_FA1, 40);
	n += seed_msg(s + n, 0, SAX_STORE_DEL, "mn1@example.net", T, 0, FZ_FA1, 0);
	m = n;
	n += seed_msg(s + n, FZ_F_TICK, SAX_STORE_PUT, "mn1@example.net", T, T + HOUR, FZ_FA2, 40);
	s[m + 1] = 120; /* the clock at T + 30 s */
	seed("regress-tomb-boundary-put", s, n);
	fz_cleanup_at_exit();
	return 0;
}
#endif
