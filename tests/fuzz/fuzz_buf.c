/*
 * Fuzz the buffer accessors with a tiny interpreter: the input picks a
 * capacity and a mode (writable, or read-only over input bytes), then a
 * sequence of operations with lengths (including giant ones near SIZE_MAX)
 * on the buffer and on a child buffer taken from it.  After every operation:
 * rpos <= wpos <= cap; a failed call changed nothing (header and storage);
 * a successful one moved exactly one cursor by exactly n and read or wrote
 * exactly the bytes expected; the result agrees with a simple model of
 * what must fit.  The storage is allocated to its exact size, so ASan
 * catches any access beyond it.
 */
#include "buf.h"
#include "fuzzer.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAXCAP 96

struct input {
	const uint8_t *d;
	size_t n, pos;
};

static uint8_t in_u8(struct input *in)
{
	return in->pos < in->n ? in->d[in->pos++] : 0;
}

/* A length: usually small, sometimes giant so that "pos + n" would wrap. */
static size_t in_len(struct input *in)
{
	uint8_t v = in_u8(in);

	if (v >= 0xf8)
		return SIZE_MAX - (size_t)(v - 0xf8); /* SIZE_MAX .. SIZE_MAX-7 */
	if (v >= 0xf0)
		return (SIZE_MAX >> 1) + (size_t)(v - 0xf0);
	return v % (MAXCAP + 8);
}

static uint64_t be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static void check_invariants(const struct buf *b)
{
	CHECK(b->rpos <= b->wpos);
	CHECK(b->wpos <= b->cap);
	CHECK(buf_left(b) == b->wpos - b->rpos);
	CHECK(buf_room(b) == b->cap - b->wpos);
	CHECK(buf_used(b) == b->wpos);
	CHECK(buf_consumed(b) == b->rpos);
	CHECK(buf_expect_end(b) == (b->rpos == b->wpos ? BUF_OK : BUF_E_TRAILING));
}

enum op {
	OP_GET_U8,
	OP_GET_U16,
	OP_GET_U32,
	OP_GET_U64,
	OP_GET_BYTES,
	OP_GET_PTR,
	OP_SKIP,
	OP_GET_CHILD,
	OP_PEEK,
	OP_PUT_U8,
	OP_PUT_U16,
	OP_PUT_U32,
	OP_PUT_U64,
	OP_PUT_BYTES,
	OP_PUT_ZERO,
	OP_RESERVE,
	OP_SET_U8_AT,
	OP_SET_U16_AT,
	OP_WPTR_AT,
	OP_MAX
};

static int read_width(enum op op)
{
	switch (op) {
	case OP_GET_U8:
		return 1;
	case OP_GET_U16:
		return 2;
	case OP_GET_U32:
		return 4;
	case OP_GET_U64:
		return 8;
	default:
		return 0;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {data, size, 0};
	uint8_t mode = in_u8(&in);
	size_t cap = mode % (MAXCAP + 1);
	bool readonly = (mode & 0x80) != 0;
	uint8_t *store = malloc(cap ? cap : 1);
	uint8_t before[MAXCAP + 1], tmp[MAXCAP + 8];
	struct buf bufs[2];

	CHECK(store != NULL);
	if (readonly) {
		/* A read buffer over the next cap input bytes (zeros past the end). */
		for (size_t i = 0; i < cap; i++)
			store[i] = in_u8(&in);
		buf_init_read(&bufs[0], store, cap);
	} else {
		memset(store, 0xa5, cap);
		buf_init_write(&bufs[0], store, cap);
	}
	buf_init_read(&bufs[1], NULL, 0);

	for (int steps = 0; in.pos < in.n && steps < 256; steps++) {
		uint8_t opb = in_u8(&in);
		struct buf *b = &bufs[opb & 1];
		enum op op = (enum op)((opb >> 1) % OP_MAX);
		struct buf old = *b;
		size_t n = 0, pos = 0;
		int r = BUF_OK;
		bool fits;
		uint8_t v8 = 0x5a;
		uint16_t v16 = 0x5a5a;
		uint32_t v32 = 0x5a5a5a5a;
		uint64_t v64 = 0x5a5a5a5a5a5a5a5aULL;
		const uint8_t *cp = NULL;
		uint8_t *wp = NULL, src[8];
		struct buf child;

		memcpy(before, store, cap);
		memset(tmp, 0x3c, sizeof(tmp));
		memset(&child, 0x3c, sizeof(child));
		switch (op) {
		case OP_GET_U8:
			r = buf_get_u8(b, &v8);
			break;
		case OP_GET_U16:
			r = buf_get_u16(b, &v16);
			break;
		case OP_GET_U32:
			r = buf_get_u32(b, &v32);
			break;
		case OP_GET_U64:
			r = buf_get_u64(b, &v64);
			break;
		case OP_GET_BYTES:
			n = in_len(&in);
			/* tmp holds at most MAXCAP + 8: only lengths that cannot fit go beyond. */
			r = buf_get_bytes(b, n <= sizeof(tmp) ? tmp : NULL, n);
			break;
		case OP_GET_PTR:
			n = in_len(&in);
			r = buf_get_ptr(b, &cp, n);
			break;
		case OP_SKIP:
			n = in_len(&in);
			r = buf_skip(b, n);
			break;
		case OP_GET_CHILD:
			n = in_len(&in);
			r = buf_get_child(b, n, &child);
			break;
		case OP_PEEK:
			r = buf_peek_u8(b, &v8);
			break;
		case OP_PUT_U8:
		case OP_PUT_U16:
		case OP_PUT_U32:
		case OP_PUT_U64:
			for (int i = 0; i < 8; i++)
				src[i] = in_u8(&in);
			if (op == OP_PUT_U8)
				r = buf_put_u8(b, src[0]);
			else if (op == OP_PUT_U16)
				r = buf_put_u16(b, (uint16_t)be(src, 2));
			else if (op == OP_PUT_U32)
				r = buf_put_u32(b, (uint32_t)be(src, 4));
			else
				r = buf_put_u64(b, be(src, 8));
			break;
		case OP_PUT_BYTES:
			n = in_len(&in);
			for (size_t i = 0; i < sizeof(tmp); i++)
				tmp[i] = (uint8_t)(i * 31 + n);
			r = buf_put_bytes(b, n <= sizeof(tmp) ? tmp : NULL, n);
			break;
		case OP_PUT_ZERO:
			n = in_len(&in);
			r = buf_put_zero(b, n);
			break;
		case OP_RESERVE:
			n = in_len(&in);
			r = buf_reserve(b, n, &wp);
			break;
		case OP_SET_U8_AT:
			pos = in_len(&in);
			v8 = in_u8(&in);
			r = buf_set_u8_at(b, pos, v8);
			break;
		case OP_SET_U16_AT:
			pos = in_len(&in);
			v16 = (uint16_t)(in_u8(&in) << 8 | in_u8(&in));
			r = buf_set_u16_at(b, pos, v16);
			break;
		case OP_WPTR_AT:
			pos = in_len(&in);
			n = in_len(&in);
			r = buf_wptr_at(b, pos, n, &wp);
			break;
		case OP_MAX:
			abort();
		}

		check_invariants(&bufs[0]);
		check_invariants(&bufs[1]);
		CHECK(buf_strerror(r) != NULL);

		int w = read_width(op);
		bool is_read = op <= OP_PEEK;
		bool is_put = op >= OP_PUT_U8 && op <= OP_RESERVE;
		size_t want_n = w ? (size_t)w : op == OP_PEEK ? 1 : n;
		if (op == OP_PUT_U8)
			want_n = 1;
		else if (op == OP_PUT_U16)
			want_n = 2;
		else if (op == OP_PUT_U32)
			want_n = 4;
		else if (op == OP_PUT_U64)
			want_n = 8;

		/* The model: what must succeed, and with which error otherwise. */
		int want_r;
		if (is_read)
			want_r = want_n <= old.wpos - old.rpos ? BUF_OK : BUF_E_SHORT;
		else if (old.readonly)
			want_r = BUF_E_READONLY;
		else if (is_put)
			want_r = want_n <= old.cap - old.wpos ? BUF_OK : BUF_E_NOSPACE;
		else {
			size_t an = op == OP_SET_U8_AT ? 1 : op == OP_SET_U16_AT ? 2 : n;
			fits = pos <= old.wpos && an <= old.wpos - pos;
			want_r = fits ? BUF_OK : BUF_E_RANGE;
		}
		CHECK(r == want_r);

		if (r != BUF_OK) {
			/* Nothing changed: header, storage, outputs. */
			CHECK(memcmp(b, &old, sizeof(old)) == 0);
			CHECK(memcmp(store, before, cap) == 0);
			CHECK(v8 == 0x5a || op == OP_SET_U8_AT);
			CHECK(v16 == 0x5a5a || op == OP_SET_U16_AT);
			CHECK(v32 == 0x5a5a5a5a && v64 == 0x5a5a5a5a5a5a5a5aULL);
			CHECK(cp == NULL && wp == NULL);
			CHECK(tmp[0] == 0x3c || op == OP_PUT_BYTES);
			continue;
		}

		CHECK(b->d == old.d && b->cap == old.cap && b->readonly == old.readonly);
		if (is_read) {
			/* Reads move rpos only (peek not even that) and never write. */
			/* (An empty buffer may have no storage: no NULL + 0 here either.) */
			const uint8_t *at = old.d != NULL ? old.d + old.rpos : NULL;
			CHECK(b->wpos == old.wpos);
			CHECK(b->rpos == old.rpos + (op == OP_PEEK ? 0 : want_n));
			CHECK(memcmp(store, before, cap) == 0);
			if (op == OP_GET_U8 || op == OP_PEEK)
				CHECK(v8 == at[0]);
			if (op == OP_GET_U16)
				CHECK(v16 == be(at, 2));
			if (op == OP_GET_U32)
				CHECK(v32 == be(at, 4));
			if (op == OP_GET_U64)
				CHECK(v64 == be(at, 8));
			if (op == OP_GET_BYTES && n > 0)
				CHECK(memcmp(tmp, at, n) == 0);
			if (op == OP_GET_PTR)
				CHECK(cp == at);
			if (op == OP_GET_CHILD) {
				/* The child sees exactly the field, read-only. */
				CHECK(child.d == at && child.cap == n && child.rpos == 0);
				CHECK(child.wpos == n && child.readonly);
				bufs[1] = child;
			}
			continue;
		}
		if (is_put) {
			/* Appends move wpos only and write exactly the new bytes. */
			CHECK(b->rpos == old.rpos);
			CHECK(b->wpos == old.wpos + want_n);
			size_t off = (size_t)(old.d - store) + old.wpos;
			CHECK(memcmp(store, before, off) == 0);
			CHECK(memcmp(store + off + want_n, before + off + want_n,
				     cap - off - want_n) == 0);
			if (op == OP_PUT_U8 || op == OP_PUT_U16 || op == OP_PUT_U32 ||
			    op == OP_PUT_U64)
				CHECK(memcmp(store + off, src, want_n) == 0); /* big-endian */
			if (op == OP_PUT_BYTES && n > 0)
				CHECK(memcmp(store + off, tmp, n) == 0);
			if (op == OP_PUT_ZERO)
				for (size_t i = 0; i < n; i++)
					CHECK(store[off + i] == 0);
			if (op == OP_RESERVE) {
				CHECK(wp == store + off);
				for (size_t i = 0; i < n; i++)
					wp[i] = (uint8_t)~i;
			}
			continue;
		}
		/* set_*_at and wptr_at: no cursor moves, only the named bytes change. */
		CHECK(b->rpos == old.rpos && b->wpos == old.wpos);
		size_t off = (size_t)(old.d - store) + pos;
		size_t an = op == OP_SET_U8_AT ? 1 : op == OP_SET_U16_AT ? 2 : n;
		CHECK(memcmp(store, before, off) == 0);
		CHECK(memcmp(store + off + an, before + off + an, cap - off - an) == 0);
		if (op == OP_SET_U8_AT)
			CHECK(store[off] == v8);
		if (op == OP_SET_U16_AT)
			CHECK(be(store + off, 2) == v16);
		if (op == OP_WPTR_AT) {
			CHECK(wp == store + off);
			for (size_t i = 0; i < n; i++)
				wp[i] ^= 0xff;
		}
	}
	free(store);
	return 0;
}
