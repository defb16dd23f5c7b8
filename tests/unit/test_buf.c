/*
 * Unit tests for common/buf.c: every accessor at exact fit, short by one,
 * limited capacity, giant lengths that would wrap a naive "pos + n", and on
 * read-only buffers; child buffers; buf_expect_end.  A failed accessor must
 * leave the buffer (struct and storage) exactly as it was.
 */
#include "buf.h"
#include "check_main.h"

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define POISON 0xa5
#define MEMSZ  64

/* A copy of a buffer and of its storage, to prove a failed call changed nothing. */
struct snap {
	struct buf b;
	uint8_t mem[MEMSZ + 8];
	size_t memlen;
};

static void snap_take(struct snap *s, const struct buf *b, size_t memlen)
{
	ck_assert_uint_le(memlen, sizeof(s->mem));
	s->b = *b;
	s->memlen = memlen;
	memcpy(s->mem, b->d, memlen);
}

static void snap_check(const struct snap *s, const struct buf *b, const char *what)
{
	ck_assert_msg(b->d == s->b.d, "%s: storage pointer moved", what);
	ck_assert_msg(b->cap == s->b.cap, "%s: cap %zu -> %zu", what, s->b.cap, b->cap);
	ck_assert_msg(b->rpos == s->b.rpos, "%s: rpos %zu -> %zu", what, s->b.rpos, b->rpos);
	ck_assert_msg(b->wpos == s->b.wpos, "%s: wpos %zu -> %zu", what, s->b.wpos, b->wpos);
	ck_assert_msg(b->readonly == s->b.readonly, "%s: readonly changed", what);
	ck_assert_msg(memcmp(b->d, s->mem, s->memlen) == 0, "%s: storage changed", what);
}

static void fill_pattern(uint8_t *p, size_t n, uint8_t start)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(start + i);
}

static bool all_poison(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != POISON)
			return false;
	return true;
}

/* ---- init and simple accessors ---- */

START_TEST(test_init_read)
{
	const uint8_t d[5] = {1, 2, 3, 4, 5};
	struct buf b;

	buf_init_read(&b, d, sizeof(d));
	ck_assert_ptr_eq(b.d, d);
	ck_assert_uint_eq(b.cap, 5);
	ck_assert_uint_eq(b.rpos, 0);
	ck_assert_uint_eq(b.wpos, 5);
	ck_assert(b.readonly);
	ck_assert_uint_eq(buf_left(&b), 5);
	ck_assert_uint_eq(buf_used(&b), 5);
	ck_assert_uint_eq(buf_room(&b), 0);
	ck_assert_uint_eq(buf_consumed(&b), 0);
	ck_assert_ptr_eq(buf_rptr(&b), d);
	ck_assert_ptr_eq(buf_data(&b), d);
	ck_assert_int_eq(buf_skip(&b, 2), BUF_OK);
	ck_assert_uint_eq(buf_left(&b), 3);
	ck_assert_uint_eq(buf_consumed(&b), 2);
	ck_assert_ptr_eq(buf_rptr(&b), d + 2);
	ck_assert_ptr_eq(buf_data(&b), d);
}
END_TEST

START_TEST(test_init_write)
{
	uint8_t s[7];
	struct buf b;

	buf_init_write(&b, s, sizeof(s));
	ck_assert_ptr_eq(b.d, s);
	ck_assert_uint_eq(b.cap, 7);
	ck_assert_uint_eq(b.rpos, 0);
	ck_assert_uint_eq(b.wpos, 0);
	ck_assert(!b.readonly);
	ck_assert_uint_eq(buf_left(&b), 0);
	ck_assert_uint_eq(buf_used(&b), 0);
	ck_assert_uint_eq(buf_room(&b), 7);
	ck_assert_int_eq(buf_put_u16(&b, 0x1234), BUF_OK);
	ck_assert_uint_eq(buf_left(&b), 2);
	ck_assert_uint_eq(buf_used(&b), 2);
	ck_assert_uint_eq(buf_room(&b), 5);
	ck_assert_ptr_eq(buf_rptr(&b), s);
}
END_TEST

START_TEST(test_empty_read_buffer)
{
	struct buf b;
	uint8_t v = POISON;

	buf_init_read(&b, NULL, 0);
	ck_assert_uint_eq(buf_left(&b), 0);
	ck_assert_int_eq(buf_expect_end(&b), BUF_OK);
	ck_assert_int_eq(buf_get_u8(&b, &v), BUF_E_SHORT);
	ck_assert_int_eq(buf_peek_u8(&b, &v), BUF_E_SHORT);
	ck_assert_uint_eq(v, POISON);
	ck_assert_int_eq(buf_skip(&b, 0), BUF_OK);
	ck_assert_int_eq(buf_get_bytes(&b, NULL, 0), BUF_OK);
	ck_assert_uint_eq(b.rpos, 0);

	/* No storage at all: zero-length accesses give NULL, never NULL + 0. */
	const uint8_t *p = (const uint8_t *)&b;
	struct buf c;
	ck_assert_ptr_null(buf_rptr(&b));
	ck_assert_int_eq(buf_get_ptr(&b, &p, 0), BUF_OK);
	ck_assert_ptr_null(p);
	ck_assert_int_eq(buf_get_child(&b, 0, &c), BUF_OK);
	ck_assert_ptr_null(c.d);
	ck_assert_uint_eq(c.cap, 0);

	uint8_t *w = (uint8_t *)&b;
	buf_init_write(&b, NULL, 0);
	ck_assert_int_eq(buf_reserve(&b, 0, &w), BUF_OK);
	ck_assert_ptr_null(w);
	ck_assert_int_eq(buf_reserve(&b, 1, &w), BUF_E_NOSPACE);
	ck_assert_int_eq(buf_wptr_at(&b, 0, 0, &w), BUF_OK);
	ck_assert_ptr_null(w);
}
END_TEST

/* ---- reads, table-driven ---- */

/*
 * Each read op consumes n bytes (fixed width, or n for the variable ones)
 * and copies what it read into out; on failure out must stay POISON.
 */
typedef int (*read_fn)(struct buf *b, size_t n, uint8_t *out);

static int rd_u8(struct buf *b, size_t n, uint8_t *out)
{
	uint8_t v = POISON;
	int r = buf_get_u8(b, &v);

	out[0] = v;
	return r;
}

static int rd_u16(struct buf *b, size_t n, uint8_t *out)
{
	uint16_t v = 0xa5a5;
	int r = buf_get_u16(b, &v);

	out[0] = (uint8_t)(v >> 8);
	out[1] = (uint8_t)v;
	return r;
}

static int rd_u32(struct buf *b, size_t n, uint8_t *out)
{
	uint32_t v = 0xa5a5a5a5;
	int r = buf_get_u32(b, &v);

	for (int i = 0; i < 4; i++)
		out[i] = (uint8_t)(v >> (24 - 8 * i));
	return r;
}

static int rd_u64(struct buf *b, size_t n, uint8_t *out)
{
	uint64_t v = 0xa5a5a5a5a5a5a5a5ULL;
	int r = buf_get_u64(b, &v);

	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(v >> (56 - 8 * i));
	return r;
}

static int rd_bytes(struct buf *b, size_t n, uint8_t *out)
{
	return buf_get_bytes(b, out, n);
}

/*
 * Where position pos of b is, computed only once a call has succeeded: the
 * buffers near SIZE_MAX below are made up (one byte of storage), and the
 * address of a position past their storage would be undefined behaviour.
 */
static const uint8_t *at_pos(const struct buf *b, size_t pos)
{
	return buf_data(b) != NULL ? buf_data(b) + pos : NULL;
}

static int rd_ptr(struct buf *b, size_t n, uint8_t *out)
{
	size_t before = buf_consumed(b);
	const uint8_t *p = NULL;
	int r = buf_get_ptr(b, &p, n);

	if (r == BUF_OK) {
		ck_assert_ptr_eq(p, at_pos(b, before));
		if (n > 0)
			memcpy(out, p, n);
	} else {
		ck_assert_ptr_null(p); /* *p untouched on failure */
	}
	return r;
}

static int rd_skip(struct buf *b, size_t n, uint8_t *out)
{
	size_t before = buf_consumed(b);
	int r = buf_skip(b, n);

	if (r == BUF_OK && n > 0)
		memcpy(out, at_pos(b, before), n); /* what was skipped, for the common check */
	return r;
}

static int rd_child(struct buf *b, size_t n, uint8_t *out)
{
	size_t before = buf_consumed(b);
	struct buf child, poison;
	int r;

	memset(&child, POISON, sizeof(child));
	memset(&poison, POISON, sizeof(poison));
	r = buf_get_child(b, n, &child);
	if (r != BUF_OK) {
		ck_assert_msg(memcmp(&child, &poison, sizeof(child)) == 0,
			      "child written on failure");
		return r;
	}
	ck_assert_ptr_eq(child.d, at_pos(b, before));
	ck_assert_uint_eq(child.cap, n);
	ck_assert_uint_eq(child.rpos, 0);
	ck_assert_uint_eq(child.wpos, n);
	ck_assert(child.readonly);
	ck_assert_int_eq(buf_get_bytes(&child, out, n), BUF_OK);
	ck_assert_int_eq(buf_expect_end(&child), BUF_OK);
	return r;
}

struct read_op {
	const char *name;
	size_t width; /* 0: variable length */
	read_fn fn;
};

static const struct read_op read_ops[] = {
	{"get_u8", 1, rd_u8},   {"get_u16", 2, rd_u16},     {"get_u32", 4, rd_u32},
	{"get_u64", 8, rd_u64}, {"get_bytes", 0, rd_bytes}, {"get_ptr", 0, rd_ptr},
	{"skip", 0, rd_skip},   {"get_child", 0, rd_child},
};
#define N_READ_OPS     ((int)(sizeof(read_ops) / sizeof(read_ops[0])))
#define FIRST_VAR_READ 4 /* read_ops[4..] take a length */

/* Lengths tried for the variable-length reads. */
static const size_t var_lens[] = {1, 2, 3, 7, 8, 9, 31};
#define N_VAR_LENS (sizeof(var_lens) / sizeof(var_lens[0]))

/* Run fn over a read buffer of 1 + avail bytes after consuming 1 byte. */
static int read_after_one(const struct read_op *op, size_t n, size_t avail, uint8_t *out,
			  struct snap *sn, struct buf *b, uint8_t *data)
{
	uint8_t first;

	fill_pattern(data, 1 + avail, 0x10);
	buf_init_read(b, data, 1 + avail);
	ck_assert_int_eq(buf_get_u8(b, &first), BUF_OK);
	ck_assert_uint_eq(first, 0x10);
	memset(out, POISON, MEMSZ);
	snap_take(sn, b, 1 + avail);
	return op->fn(b, n, out);
}

START_TEST(test_read_exact_and_short)
{
	const struct read_op *op = &read_ops[_i];
	uint8_t data[MEMSZ], out[MEMSZ];
	struct snap sn;
	struct buf b;
	size_t nlens = op->width ? 1 : N_VAR_LENS;

	for (size_t k = 0; k < nlens; k++) {
		size_t w = op->width ? op->width : var_lens[k];
		int r;

		/* Exact fit: consumes everything and reads the right bytes. */
		r = read_after_one(op, w, w, out, &sn, &b, data);
		ck_assert_msg(r == BUF_OK, "%s n=%zu exact: %d", op->name, w, r);
		ck_assert_uint_eq(b.rpos, 1 + w);
		ck_assert_uint_eq(b.wpos, 1 + w);
		ck_assert_uint_eq(buf_left(&b), 0);
		ck_assert_mem_eq(out, data + 1, w);
		ck_assert_int_eq(buf_expect_end(&b), BUF_OK);

		/* One byte short: error, nothing changed, nothing written out. */
		r = read_after_one(op, w, w - 1, out, &sn, &b, data);
		ck_assert_msg(r == BUF_E_SHORT, "%s n=%zu short: %d", op->name, w, r);
		snap_check(&sn, &b, op->name);
		ck_assert_msg(all_poison(out, w), "%s wrote output on failure", op->name);

		/* With room to spare: consumes exactly w and leaves the rest. */
		r = read_after_one(op, w, w + 3, out, &sn, &b, data);
		ck_assert_int_eq(r, BUF_OK);
		ck_assert_uint_eq(b.rpos, 1 + w);
		ck_assert_uint_eq(buf_left(&b), 3);
		ck_assert_mem_eq(out, data + 1, w);
		ck_assert_int_eq(buf_expect_end(&b), BUF_E_TRAILING);
	}
}
END_TEST

/* Reads are bounded by what was written (wpos), not by the capacity. */
START_TEST(test_read_bounded_by_written)
{
	const struct read_op *op = &read_ops[_i];
	size_t w = op->width ? op->width : 5;
	uint8_t storage[MEMSZ], out[MEMSZ];
	struct snap sn;
	struct buf b;
	int r;

	memset(storage, POISON, sizeof(storage));
	buf_init_write(&b, storage, sizeof(storage));
	for (size_t i = 0; i < w - 1; i++)
		ck_assert_int_eq(buf_put_u8(&b, (uint8_t)(0x40 + i)), BUF_OK);
	memset(out, POISON, sizeof(out));
	snap_take(&sn, &b, sizeof(storage));
	r = op->fn(&b, w, out);
	ck_assert_msg(r == BUF_E_SHORT, "%s: read past wpos: %d", op->name, r);
	snap_check(&sn, &b, op->name);
	ck_assert(all_poison(out, w));

	ck_assert_int_eq(buf_put_u8(&b, (uint8_t)(0x40 + w - 1)), BUF_OK);
	r = op->fn(&b, w, out);
	ck_assert_int_eq(r, BUF_OK);
	ck_assert_uint_eq(b.rpos, w);
	ck_assert_mem_eq(out, storage, w);
	ck_assert_int_eq(buf_expect_end(&b), BUF_OK);
}
END_TEST

/* Giant lengths: none of rpos + n may wrap round to something that fits. */
START_TEST(test_read_giant)
{
	const struct read_op *op = &read_ops[_i];
	const size_t giants[] = {SIZE_MAX, SIZE_MAX - 1, SIZE_MAX - 2, (SIZE_MAX >> 1) + 1};
	uint8_t data[MEMSZ], out[MEMSZ];
	struct snap sn;
	struct buf b;

	ck_assert_uint_eq(op->width, 0);
	for (size_t g = 0; g < sizeof(giants) / sizeof(giants[0]); g++) {
		/* rpos is 1 and 3 bytes are left: SIZE_MAX + 1 wraps to 0. */
		int r = read_after_one(op, giants[g], 3, out, &sn, &b, data);

		ck_assert_msg(r == BUF_E_SHORT, "%s n=%zu: %d", op->name, giants[g], r);
		snap_check(&sn, &b, op->name);
		ck_assert(all_poison(out, 4));
	}
}
END_TEST

/*
 * Positions near SIZE_MAX (a fabricated header, never dereferenced on
 * failure): with w - 1 bytes left, "rpos + w" wraps to 0, so a naive
 * "rpos + w > wpos" check would let the read through.
 */
START_TEST(test_read_near_size_max)
{
	const struct read_op *op = &read_ops[_i];
	size_t w = op->width ? op->width : 3;
	uint8_t dummy[1], out[MEMSZ];
	struct snap sn;
	struct buf b = {.d = dummy,
			.cap = SIZE_MAX,
			.rpos = SIZE_MAX - (w - 1),
			.wpos = SIZE_MAX,
			.readonly = true};

	memset(out, POISON, sizeof(out));
	snap_take(&sn, &b, 0);
	ck_assert_int_eq(op->fn(&b, w, out), BUF_E_SHORT);
	snap_check(&sn, &b, op->name);
	ck_assert(all_poison(out, w));
}
END_TEST

/* Zero-length variable reads always succeed and change nothing. */
START_TEST(test_read_zero_len)
{
	const struct read_op *op = &read_ops[_i];
	uint8_t data[MEMSZ], out[MEMSZ];
	struct snap sn;
	struct buf b;
	int r;

	ck_assert_uint_eq(op->width, 0);
	r = read_after_one(op, 0, 0, out, &sn, &b, data);
	ck_assert_int_eq(r, BUF_OK);
	snap_check(&sn, &b, op->name);
	r = read_after_one(op, 0, 4, out, &sn, &b, data);
	ck_assert_int_eq(r, BUF_OK);
	snap_check(&sn, &b, op->name);
}
END_TEST

/* Byte order and the whole value range of the fixed-width reads. */
START_TEST(test_read_values)
{
	const uint8_t d[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0xff, 0xff, 0xff,
			     0xff, 0xff, 0xff, 0xff, 0xff, 0x80, 0x00, 0x00, 0x00, 0xfe, 0xdc};
	struct buf b;
	uint64_t v64;
	uint32_t v32;
	uint16_t v16;
	uint8_t v8;

	buf_init_read(&b, d, sizeof(d));
	ck_assert_int_eq(buf_get_u64(&b, &v64), BUF_OK);
	ck_assert_uint_eq(v64, 0x0102030405060708ULL);
	ck_assert_int_eq(buf_get_u64(&b, &v64), BUF_OK);
	ck_assert_uint_eq(v64, UINT64_MAX);
	ck_assert_int_eq(buf_get_u32(&b, &v32), BUF_OK);
	ck_assert_uint_eq(v32, 0x80000000u);
	ck_assert_int_eq(buf_peek_u8(&b, &v8), BUF_OK);
	ck_assert_uint_eq(v8, 0xfe);
	ck_assert_uint_eq(b.rpos, 20); /* peek does not consume */
	ck_assert_int_eq(buf_get_u16(&b, &v16), BUF_OK);
	ck_assert_uint_eq(v16, 0xfedc);
	ck_assert_int_eq(buf_expect_end(&b), BUF_OK);
	ck_assert_int_eq(buf_peek_u8(&b, &v8), BUF_E_SHORT);
	ck_assert_uint_eq(v8, 0xfe);
}
END_TEST

/* ---- writes, table-driven ---- */

/* Each write op appends n bytes equal to src (zeros for put_zero). */
typedef int (*write_fn)(struct buf *b, size_t n, const uint8_t *src);

static int wr_u8(struct buf *b, size_t n, const uint8_t *src)
{
	return buf_put_u8(b, src[0]);
}

static int wr_u16(struct buf *b, size_t n, const uint8_t *src)
{
	return buf_put_u16(b, (uint16_t)(src[0] << 8 | src[1]));
}

static int wr_u32(struct buf *b, size_t n, const uint8_t *src)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++)
		v = v << 8 | src[i];
	return buf_put_u32(b, v);
}

static int wr_u64(struct buf *b, size_t n, const uint8_t *src)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | src[i];
	return buf_put_u64(b, v);
}

static int wr_bytes(struct buf *b, size_t n, const uint8_t *src)
{
	return buf_put_bytes(b, src, n);
}

static int wr_zero(struct buf *b, size_t n, const uint8_t *src)
{
	return buf_put_zero(b, n);
}

static int wr_reserve(struct buf *b, size_t n, const uint8_t *src)
{
	size_t before = buf_used(b);
	uint8_t *p = NULL;
	int r = buf_reserve(b, n, &p);

	if (r == BUF_OK) {
		ck_assert_ptr_eq(p, at_pos(b, before));
		if (n > 0)
			memcpy(p, src, n);
	} else {
		ck_assert_ptr_null(p);
	}
	return r;
}

struct write_op {
	const char *name;
	size_t width; /* 0: variable length */
	write_fn fn;
	bool zero; /* writes zeros whatever src holds */
};

static const struct write_op write_ops[] = {
	{"put_u8", 1, wr_u8, false},       {"put_u16", 2, wr_u16, false},
	{"put_u32", 4, wr_u32, false},     {"put_u64", 8, wr_u64, false},
	{"put_bytes", 0, wr_bytes, false}, {"put_zero", 0, wr_zero, true},
	{"reserve", 0, wr_reserve, false},
};
#define N_WRITE_OPS     ((int)(sizeof(write_ops) / sizeof(write_ops[0])))
#define FIRST_VAR_WRITE 4 /* write_ops[4..] take a length */

/* A writable buffer of capacity 1 + room over POISON storage, one byte already written. */
static void write_setup(struct buf *b, uint8_t *storage, size_t room)
{
	memset(storage, POISON, MEMSZ + 8);
	buf_init_write(b, storage, 1 + room);
	ck_assert_int_eq(buf_put_u8(b, 0x99), BUF_OK);
}

START_TEST(test_write_exact_and_short)
{
	const struct write_op *op = &write_ops[_i];
	uint8_t storage[MEMSZ + 8], src[MEMSZ], expect[MEMSZ];
	struct snap sn;
	struct buf b;
	size_t nlens = op->width ? 1 : N_VAR_LENS;

	fill_pattern(src, sizeof(src), 0x61);
	for (size_t k = 0; k < nlens; k++) {
		size_t w = op->width ? op->width : var_lens[k];
		int r;

		if (op->zero)
			memset(expect, 0, w);
		else
			memcpy(expect, src, w);

		/* Exact fit. */
		write_setup(&b, storage, w);
		r = op->fn(&b, w, src);
		ck_assert_msg(r == BUF_OK, "%s n=%zu exact: %d", op->name, w, r);
		ck_assert_uint_eq(b.wpos, 1 + w);
		ck_assert_uint_eq(b.rpos, 0);
		ck_assert_uint_eq(buf_room(&b), 0);
		ck_assert_uint_eq(storage[0], 0x99);
		ck_assert_mem_eq(storage + 1, expect, w);
		ck_assert_msg(all_poison(storage + 1 + w, 8), "%s wrote past its bytes", op->name);

		/* One byte short of room: error, nothing changed. */
		write_setup(&b, storage, w - 1);
		snap_take(&sn, &b, MEMSZ + 8);
		r = op->fn(&b, w, src);
		ck_assert_msg(r == BUF_E_NOSPACE, "%s n=%zu short: %d", op->name, w, r);
		snap_check(&sn, &b, op->name);

		/* Plenty of room: exactly w bytes appended. */
		write_setup(&b, storage, MEMSZ - 1);
		r = op->fn(&b, w, src);
		ck_assert_int_eq(r, BUF_OK);
		ck_assert_uint_eq(b.wpos, 1 + w);
		ck_assert_uint_eq(buf_room(&b), MEMSZ - 1 - w);
		ck_assert_mem_eq(storage + 1, expect, w);
		ck_assert(all_poison(storage + 1 + w, MEMSZ - 1 - w));
	}
}
END_TEST

START_TEST(test_write_giant)
{
	const struct write_op *op = &write_ops[_i];
	const size_t giants[] = {SIZE_MAX, SIZE_MAX - 1, SIZE_MAX - 2, (SIZE_MAX >> 1) + 1};
	uint8_t storage[MEMSZ + 8], src[MEMSZ];
	struct snap sn;
	struct buf b;

	ck_assert_uint_eq(op->width, 0);
	fill_pattern(src, sizeof(src), 1);
	for (size_t g = 0; g < sizeof(giants) / sizeof(giants[0]); g++) {
		/* wpos is 1, 4 bytes of room: wpos + SIZE_MAX wraps to 0. */
		write_setup(&b, storage, 4);
		snap_take(&sn, &b, MEMSZ + 8);
		int r = op->fn(&b, giants[g], src);
		ck_assert_msg(r == BUF_E_NOSPACE, "%s n=%zu: %d", op->name, giants[g], r);
		snap_check(&sn, &b, op->name);
	}
}
END_TEST

/* As test_read_near_size_max, for "wpos + w > cap". */
START_TEST(test_write_near_size_max)
{
	const struct write_op *op = &write_ops[_i];
	size_t w = op->width ? op->width : 3;
	uint8_t dummy[1], src[8] = {0};
	struct snap sn;
	struct buf b = {.d = dummy, .cap = SIZE_MAX, .rpos = 0, .wpos = SIZE_MAX - (w - 1)};

	snap_take(&sn, &b, 0);
	ck_assert_int_eq(op->fn(&b, w, src), BUF_E_NOSPACE);
	snap_check(&sn, &b, op->name);
}
END_TEST

START_TEST(test_write_readonly)
{
	const struct write_op *op = &write_ops[_i];
	size_t w = op->width ? op->width : 3;
	uint8_t data[MEMSZ], src[MEMSZ];
	struct buf parent, child, *targets[2] = {&parent, &child};
	struct snap sn;

	fill_pattern(src, sizeof(src), 0x30);
	for (int t = 0; t < 2; t++) {
		/* A read buffer, and a child handed out by a writable parent. */
		uint8_t storage[MEMSZ + 8];
		struct buf wb;

		fill_pattern(data, sizeof(data), 0);
		buf_init_read(&parent, data, sizeof(data));
		memset(storage, 0, sizeof(storage));
		buf_init_write(&wb, storage, sizeof(storage));
		ck_assert_int_eq(buf_put_zero(&wb, 20), BUF_OK);
		ck_assert_int_eq(buf_get_child(&wb, 20, &child), BUF_OK);
		ck_assert(child.readonly);

		struct buf *b = targets[t];
		snap_take(&sn, b, t == 0 ? sizeof(data) : 20);
		int r = op->fn(b, w, src);
		ck_assert_msg(r == BUF_E_READONLY, "%s on read-only: %d", op->name, r);
		snap_check(&sn, b, op->name);
		/* Even a zero-length write is refused. */
		if (op->width == 0) {
			r = op->fn(b, 0, src);
			ck_assert_int_eq(r, BUF_E_READONLY);
			snap_check(&sn, b, op->name);
		}
	}
}
END_TEST

START_TEST(test_write_zero_len)
{
	const struct write_op *op = &write_ops[_i];
	uint8_t storage[MEMSZ + 8];
	struct snap sn;
	struct buf b;

	ck_assert_uint_eq(op->width, 0);
	/* Even with no room at all, appending nothing is fine. */
	write_setup(&b, storage, 0);
	snap_take(&sn, &b, MEMSZ + 8);
	ck_assert_int_eq(op->fn(&b, 0, NULL), BUF_OK);
	snap_check(&sn, &b, op->name);
}
END_TEST

START_TEST(test_write_values)
{
	const uint8_t expect[] = {0xab, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03,
				  0x04, 0x05, 0x06, 0x07, 0x08, 0x00, 0x00, 0xff, 0xff};
	uint8_t s[sizeof(expect)];
	struct buf b;

	buf_init_write(&b, s, sizeof(s));
	ck_assert_int_eq(buf_put_u8(&b, 0xab), BUF_OK);
	ck_assert_int_eq(buf_put_u16(&b, 0x1234), BUF_OK);
	ck_assert_int_eq(buf_put_u32(&b, 0xdeadbeef), BUF_OK);
	ck_assert_int_eq(buf_put_u64(&b, 0x0102030405060708ULL), BUF_OK);
	ck_assert_int_eq(buf_put_zero(&b, 2), BUF_OK);
	ck_assert_int_eq(buf_put_u16(&b, 0xffff), BUF_OK);
	ck_assert_uint_eq(buf_used(&b), sizeof(expect));
	ck_assert_mem_eq(s, expect, sizeof(expect));
	ck_assert_int_eq(buf_put_u8(&b, 0), BUF_E_NOSPACE);

	/* What was written reads back. */
	uint8_t v8;
	uint16_t v16;
	uint32_t v32;
	uint64_t v64;
	ck_assert_int_eq(buf_get_u8(&b, &v8), BUF_OK);
	ck_assert_uint_eq(v8, 0xab);
	ck_assert_int_eq(buf_get_u16(&b, &v16), BUF_OK);
	ck_assert_uint_eq(v16, 0x1234);
	ck_assert_int_eq(buf_get_u32(&b, &v32), BUF_OK);
	ck_assert_uint_eq(v32, 0xdeadbeef);
	ck_assert_int_eq(buf_get_u64(&b, &v64), BUF_OK);
	ck_assert_uint_eq(v64, 0x0102030405060708ULL);
	ck_assert_uint_eq(buf_left(&b), 4);
}
END_TEST

/* ---- overwrite at a position: set_u8_at, set_u16_at, wptr_at ---- */

struct at_op {
	const char *name;
	size_t width; /* 0: wptr_at with an explicit n */
};

static const struct at_op at_ops[] = {{"set_u8_at", 1}, {"set_u16_at", 2}, {"wptr_at", 0}};
#define N_AT_OPS ((int)(sizeof(at_ops) / sizeof(at_ops[0])))

/* Apply the op; for wptr_at write 0xc0.. through the pointer on success. */
static int at_apply(const struct at_op *op, struct buf *b, size_t pos, size_t n)
{
	uint8_t *p = NULL;
	int r;

	switch (op->width) {
	case 1:
		return buf_set_u8_at(b, pos, 0xc1);
	case 2:
		return buf_set_u16_at(b, pos, 0xc1c2);
	default:
		r = buf_wptr_at(b, pos, n, &p);
		if (r == BUF_OK) {
			ck_assert_ptr_eq(p, b->d + pos);
			for (size_t i = 0; i < n; i++)
				p[i] = (uint8_t)(0xc1 + i);
		} else {
			ck_assert_ptr_null(p);
		}
		return r;
	}
}

START_TEST(test_at_ranges)
{
	const struct at_op *op = &at_ops[_i];
	size_t w = op->width ? op->width : 3;
	uint8_t storage[32], expect[32];
	struct snap sn;
	struct buf b;
	int r;

	/* 6 bytes written in a 32-byte buffer, 2 already read. */
	memset(storage, POISON, sizeof(storage));
	buf_init_write(&b, storage, sizeof(storage));
	for (int i = 0; i < 6; i++)
		ck_assert_int_eq(buf_put_u8(&b, (uint8_t)i), BUF_OK);
	ck_assert_int_eq(buf_skip(&b, 2), BUF_OK);

	/* The last w written bytes: allowed, and only they change. */
	memcpy(expect, storage, sizeof(storage));
	for (size_t i = 0; i < w; i++)
		expect[6 - w + i] = (uint8_t)(0xc1 + i);
	r = at_apply(op, &b, 6 - w, w);
	ck_assert_int_eq(r, BUF_OK);
	ck_assert_mem_eq(storage, expect, sizeof(storage));
	ck_assert_uint_eq(b.wpos, 6);
	ck_assert_uint_eq(b.rpos, 2);

	/* Position 0 (before rpos) is allowed too: it is written data. */
	r = at_apply(op, &b, 0, w);
	ck_assert_int_eq(r, BUF_OK);
	ck_assert_uint_eq(storage[0], 0xc1);

	/* Reaching one byte past what was written: refused, even with room. */
	const size_t bad_pos[] = {6 - w + 1, 6, 7, 31, 32, SIZE_MAX, SIZE_MAX - 1, SIZE_MAX - 5};
	for (size_t k = 0; k < sizeof(bad_pos) / sizeof(bad_pos[0]); k++) {
		snap_take(&sn, &b, sizeof(storage));
		r = at_apply(op, &b, bad_pos[k], w);
		ck_assert_msg(r == BUF_E_RANGE, "%s pos=%zu: %d", op->name, bad_pos[k], r);
		snap_check(&sn, &b, op->name);
	}
}
END_TEST

/* wpos at SIZE_MAX: "pos + w" wraps for the last w - 1 positions. */
START_TEST(test_at_near_size_max)
{
	const struct at_op *op = &at_ops[_i];
	size_t w = op->width ? op->width : 3;
	uint8_t dummy[1];
	struct snap sn;
	struct buf b = {.d = dummy, .cap = SIZE_MAX, .rpos = 0, .wpos = SIZE_MAX};

	snap_take(&sn, &b, 0);
	for (size_t k = 1; k < w; k++) {
		ck_assert_int_eq(at_apply(op, &b, SIZE_MAX - (w - 1) + k, w), BUF_E_RANGE);
		snap_check(&sn, &b, op->name);
	}
	ck_assert_int_eq(at_apply(op, &b, SIZE_MAX, w), BUF_E_RANGE);
	snap_check(&sn, &b, op->name);
}
END_TEST

START_TEST(test_wptr_at_lengths)
{
	uint8_t storage[32];
	uint8_t *p = NULL;
	struct buf b;

	memset(storage, 0, sizeof(storage));
	buf_init_write(&b, storage, sizeof(storage));
	ck_assert_int_eq(buf_put_zero(&b, 10), BUF_OK);
	/* Table: pos, n, expected. */
	const struct {
		size_t pos, n;
		int r;
	} t[] = {
		{0, 10, BUF_OK},
		{0, 11, BUF_E_RANGE},
		{10, 0, BUF_OK},
		{11, 0, BUF_E_RANGE},
		{9, 1, BUF_OK},
		{9, 2, BUF_E_RANGE},
		{1, SIZE_MAX, BUF_E_RANGE},     /* 1 + SIZE_MAX wraps to 0 */
		{2, SIZE_MAX - 1, BUF_E_RANGE}, /* 2 + SIZE_MAX - 1 wraps to 0 */
		{0, SIZE_MAX, BUF_E_RANGE},
		{SIZE_MAX, 1, BUF_E_RANGE}, /* SIZE_MAX + 1 wraps to 0 */
		{SIZE_MAX, SIZE_MAX, BUF_E_RANGE},
		{SIZE_MAX - 1, 2, BUF_E_RANGE},
		{20, 0, BUF_E_RANGE}, /* inside cap, beyond wpos */
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		p = NULL;
		int r = buf_wptr_at(&b, t[i].pos, t[i].n, &p);
		ck_assert_msg(r == t[i].r, "wptr_at(%zu, %zu) = %d, want %d", t[i].pos, t[i].n, r,
			      t[i].r);
		if (r == BUF_OK)
			ck_assert_ptr_eq(p, storage + t[i].pos);
		else
			ck_assert_ptr_null(p);
		ck_assert_uint_eq(b.wpos, 10);
	}
}
END_TEST

START_TEST(test_at_readonly)
{
	const struct at_op *op = &at_ops[_i];
	uint8_t data[8] = {1, 2, 3, 4, 5, 6, 7, 8};
	struct snap sn;
	struct buf b;

	buf_init_read(&b, data, sizeof(data));
	snap_take(&sn, &b, sizeof(data));
	ck_assert_int_eq(at_apply(op, &b, 0, op->width ? op->width : 2), BUF_E_READONLY);
	snap_check(&sn, &b, op->name);
	ck_assert_int_eq(at_apply(op, &b, 100, 1), BUF_E_READONLY);
	snap_check(&sn, &b, op->name);
}
END_TEST

START_TEST(test_set_values)
{
	uint8_t s[6];
	struct buf b;

	buf_init_write(&b, s, sizeof(s));
	ck_assert_int_eq(buf_put_zero(&b, 4), BUF_OK);
	ck_assert_int_eq(buf_set_u16_at(&b, 1, 0xbeef), BUF_OK);
	ck_assert_int_eq(buf_set_u8_at(&b, 3, 0x7f), BUF_OK);
	const uint8_t expect[4] = {0x00, 0xbe, 0xef, 0x7f};
	ck_assert_mem_eq(s, expect, 4);
	ck_assert_uint_eq(buf_used(&b), 4);
	/* A u16 straddling the end of written data is refused. */
	ck_assert_int_eq(buf_set_u16_at(&b, 3, 0x1111), BUF_E_RANGE);
	ck_assert_uint_eq(s[3], 0x7f);
}
END_TEST

/* ---- child buffers ---- */

START_TEST(test_child_confined)
{
	const uint8_t d[8] = {0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17};
	struct buf p, c, gc;
	uint8_t v8, out[8];
	uint16_t v16;
	uint32_t v32 = 0;

	buf_init_read(&p, d, sizeof(d));
	ck_assert_int_eq(buf_get_u8(&p, &v8), BUF_OK);
	ck_assert_int_eq(buf_get_child(&p, 3, &c), BUF_OK);
	ck_assert_uint_eq(buf_consumed(&p), 4);
	ck_assert_uint_eq(buf_left(&c), 3);
	ck_assert_ptr_eq(buf_data(&c), d + 1);

	/* The child cannot read the parent's byte after its field. */
	ck_assert_int_eq(buf_get_u32(&c, &v32), BUF_E_SHORT);
	ck_assert_uint_eq(v32, 0);
	ck_assert_int_eq(buf_get_bytes(&c, out, 4), BUF_E_SHORT);
	ck_assert_int_eq(buf_skip(&c, 4), BUF_E_SHORT);
	ck_assert_int_eq(buf_get_child(&c, 4, &gc), BUF_E_SHORT);
	ck_assert_uint_eq(c.rpos, 0);

	/* A grandchild of 2 bytes inside the child. */
	ck_assert_int_eq(buf_get_child(&c, 2, &gc), BUF_OK);
	ck_assert_int_eq(buf_get_u16(&gc, &v16), BUF_OK);
	ck_assert_uint_eq(v16, 0x1112);
	ck_assert_int_eq(buf_get_u8(&gc, &v8), BUF_E_SHORT);
	ck_assert_int_eq(buf_expect_end(&gc), BUF_OK);

	ck_assert_int_eq(buf_expect_end(&c), BUF_E_TRAILING);
	ck_assert_int_eq(buf_get_u8(&c, &v8), BUF_OK);
	ck_assert_uint_eq(v8, 0x13);
	ck_assert_int_eq(buf_get_u8(&c, &v8), BUF_E_SHORT);
	ck_assert_int_eq(buf_peek_u8(&c, &v8), BUF_E_SHORT);
	ck_assert_int_eq(buf_expect_end(&c), BUF_OK);

	/* The parent carries on after the field. */
	ck_assert_int_eq(buf_get_u8(&p, &v8), BUF_OK);
	ck_assert_uint_eq(v8, 0x14);

	/* A zero-length child is empty and complete. */
	ck_assert_int_eq(buf_get_child(&p, 0, &c), BUF_OK);
	ck_assert_uint_eq(buf_left(&c), 0);
	ck_assert_int_eq(buf_expect_end(&c), BUF_OK);
	ck_assert_int_eq(buf_get_u8(&c, &v8), BUF_E_SHORT);

	/* The rest of the parent as a child, then nothing is left. */
	ck_assert_int_eq(buf_get_child(&p, 3, &c), BUF_OK);
	ck_assert_int_eq(buf_get_child(&p, 1, &gc), BUF_E_SHORT);
	ck_assert_int_eq(buf_expect_end(&p), BUF_OK);
}
END_TEST

START_TEST(test_child_of_writable_is_readonly)
{
	uint8_t s[8] = {0};
	struct buf w, c;
	uint8_t *p = NULL;

	buf_init_write(&w, s, sizeof(s));
	ck_assert_int_eq(buf_put_u32(&w, 0x01020304), BUF_OK);
	ck_assert_int_eq(buf_get_child(&w, 2, &c), BUF_OK);
	ck_assert(c.readonly);
	ck_assert_int_eq(buf_put_u8(&c, 0xff), BUF_E_READONLY);
	ck_assert_int_eq(buf_set_u8_at(&c, 0, 0xff), BUF_E_READONLY);
	ck_assert_int_eq(buf_set_u16_at(&c, 0, 0xffff), BUF_E_READONLY);
	ck_assert_int_eq(buf_wptr_at(&c, 0, 1, &p), BUF_E_READONLY);
	ck_assert_ptr_null(p);
	ck_assert_uint_eq(s[0], 0x01);
	ck_assert_uint_eq(s[1], 0x02);
	/* The parent can still append after the child was taken. */
	ck_assert_int_eq(buf_put_u8(&w, 0x05), BUF_OK);
	ck_assert_uint_eq(buf_left(&w), 3);
}
END_TEST

/* ---- expect_end ---- */

START_TEST(test_expect_end_table)
{
	const uint8_t d[6] = {0};
	const struct {
		size_t len, consume;
		int r;
	} t[] = {
		{0, 0, BUF_OK},         {1, 0, BUF_E_TRAILING}, {1, 1, BUF_OK},
		{6, 5, BUF_E_TRAILING}, {6, 6, BUF_OK},         {6, 0, BUF_E_TRAILING},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct buf b;

		buf_init_read(&b, d, t[i].len);
		ck_assert_int_eq(buf_skip(&b, t[i].consume), BUF_OK);
		ck_assert_msg(buf_expect_end(&b) == t[i].r, "len %zu consumed %zu", t[i].len,
			      t[i].consume);
	}
}
END_TEST

START_TEST(test_strerror)
{
	ck_assert_str_eq(buf_strerror(BUF_OK), "ok");
	ck_assert_str_eq(buf_strerror(BUF_E_SHORT), "truncated");
	ck_assert_str_eq(buf_strerror(BUF_E_NOSPACE), "no space");
	ck_assert_str_eq(buf_strerror(BUF_E_TRAILING), "trailing bytes");
	ck_assert_str_eq(buf_strerror(BUF_E_READONLY), "read-only buffer");
	ck_assert_str_eq(buf_strerror(BUF_E_RANGE), "position out of range");
	ck_assert_str_eq(buf_strerror(-6), "unknown buffer error");
	ck_assert_str_eq(buf_strerror(1), "unknown buffer error");
}
END_TEST

static Suite *buf_suite(void)
{
	Suite *s = suite_create("buf");
	TCase *tc;

	tc = tcase_create("basics");
	tcase_add_test(tc, test_init_read);
	tcase_add_test(tc, test_init_write);
	tcase_add_test(tc, test_empty_read_buffer);
	tcase_add_test(tc, test_strerror);
	tcase_add_test(tc, test_expect_end_table);
	suite_add_tcase(s, tc);

	tc = tcase_create("read");
	tcase_add_loop_test(tc, test_read_exact_and_short, 0, N_READ_OPS);
	tcase_add_loop_test(tc, test_read_bounded_by_written, 0, N_READ_OPS);
	tcase_add_loop_test(tc, test_read_giant, FIRST_VAR_READ, N_READ_OPS);
	tcase_add_loop_test(tc, test_read_zero_len, FIRST_VAR_READ, N_READ_OPS);
	tcase_add_loop_test(tc, test_read_near_size_max, 0, N_READ_OPS);
	tcase_add_test(tc, test_read_values);
	suite_add_tcase(s, tc);

	tc = tcase_create("write");
	tcase_add_loop_test(tc, test_write_exact_and_short, 0, N_WRITE_OPS);
	tcase_add_loop_test(tc, test_write_giant, FIRST_VAR_WRITE, N_WRITE_OPS);
	tcase_add_loop_test(tc, test_write_readonly, 0, N_WRITE_OPS);
	tcase_add_loop_test(tc, test_write_zero_len, FIRST_VAR_WRITE, N_WRITE_OPS);
	tcase_add_loop_test(tc, test_write_near_size_max, 0, N_WRITE_OPS);
	tcase_add_test(tc, test_write_values);
	suite_add_tcase(s, tc);

	tc = tcase_create("at");
	tcase_add_loop_test(tc, test_at_ranges, 0, N_AT_OPS);
	tcase_add_loop_test(tc, test_at_readonly, 0, N_AT_OPS);
	tcase_add_loop_test(tc, test_at_near_size_max, 0, N_AT_OPS);
	tcase_add_test(tc, test_wptr_at_lengths);
	tcase_add_test(tc, test_set_values);
	suite_add_tcase(s, tc);

	tc = tcase_create("child");
	tcase_add_test(tc, test_child_confined);
	tcase_add_test(tc, test_child_of_writable_is_readonly);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_main(buf_suite());
}
