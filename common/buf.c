#include "buf.h"

#include <string.h>

void buf_init_read(struct buf *b, const void *data, size_t len)
{
	/* The cast drops const; readonly guarantees we never write through it. */
	b->d = (uint8_t *)(uintptr_t)data;
	b->cap = len;
	b->rpos = 0;
	b->wpos = len;
	b->readonly = true;
}

void buf_init_write(struct buf *b, void *storage, size_t cap)
{
	b->d = storage;
	b->cap = cap;
	b->rpos = 0;
	b->wpos = 0;
	b->readonly = false;
}

/*
 * d + pos.  An empty buffer may have no storage at all (buf_init_read(b,
 * NULL, 0)), and NULL + 0 is undefined behaviour in C: hand back NULL.
 */
static uint8_t *buf_at(const struct buf *b, size_t pos)
{
	return b->d != NULL ? b->d + pos : NULL;
}

void buf_init_append(struct buf *b, void *storage, size_t cap, size_t used)
{
	buf_init_write(b, storage, cap);
	b->wpos = used <= cap ? used : cap;
}

size_t buf_left(const struct buf *b)
{
	return b->wpos - b->rpos;
}

size_t buf_used(const struct buf *b)
{
	return b->wpos;
}

size_t buf_room(const struct buf *b)
{
	return b->cap - b->wpos;
}

const uint8_t *buf_rptr(const struct buf *b)
{
	return buf_at(b, b->rpos);
}

const uint8_t *buf_data(const struct buf *b)
{
	return b->d;
}

size_t buf_consumed(const struct buf *b)
{
	return b->rpos;
}

/*
 * The single place where reads are bounds-checked: consume n bytes and
 * return where they were.  Written as "n > left" so no addition can wrap.
 */
static int buf_consume(struct buf *b, size_t n, const uint8_t **p)
{
	if (n > buf_left(b))
		return BUF_E_SHORT;
	*p = buf_at(b, b->rpos);
	b->rpos += n;
	return BUF_OK;
}

int buf_get_u8(struct buf *b, uint8_t *v)
{
	const uint8_t *p;
	int r = buf_consume(b, 1, &p);

	if (r == BUF_OK)
		*v = p[0];
	return r;
}

int buf_get_u16(struct buf *b, uint16_t *v)
{
	const uint8_t *p;
	int r = buf_consume(b, 2, &p);

	if (r == BUF_OK)
		*v = (uint16_t)((unsigned)p[0] << 8 | p[1]);
	return r;
}

int buf_get_u32(struct buf *b, uint32_t *v)
{
	const uint8_t *p;
	int r = buf_consume(b, 4, &p);

	if (r == BUF_OK)
		*v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	return r;
}

int buf_get_u64(struct buf *b, uint64_t *v)
{
	const uint8_t *p;
	int r = buf_consume(b, 8, &p);

	if (r != BUF_OK)
		return r;
	*v = 0;
	for (int i = 0; i < 8; i++)
		*v = *v << 8 | p[i];
	return BUF_OK;
}

int buf_get_bytes(struct buf *b, void *dst, size_t n)
{
	const uint8_t *p;
	int r = buf_consume(b, n, &p);

	if (r == BUF_OK && n > 0)
		memcpy(dst, p, n);
	return r;
}

int buf_get_ptr(struct buf *b, const uint8_t **p, size_t n)
{
	return buf_consume(b, n, p);
}

int buf_skip(struct buf *b, size_t n)
{
	const uint8_t *p;

	return buf_consume(b, n, &p);
}

int buf_get_child(struct buf *b, size_t n, struct buf *child)
{
	const uint8_t *p;
	int r = buf_consume(b, n, &p);

	if (r == BUF_OK)
		buf_init_read(child, p, n);
	return r;
}

int buf_peek_u8(const struct buf *b, uint8_t *v)
{
	if (buf_left(b) < 1)
		return BUF_E_SHORT;
	*v = b->d[b->rpos];
	return BUF_OK;
}

int buf_expect_end(const struct buf *b)
{
	return buf_left(b) == 0 ? BUF_OK : BUF_E_TRAILING;
}

/* The single place where writes are bounds-checked. */
int buf_reserve(struct buf *b, size_t n, uint8_t **p)
{
	if (b->readonly)
		return BUF_E_READONLY;
	if (n > buf_room(b))
		return BUF_E_NOSPACE;
	*p = buf_at(b, b->wpos);
	b->wpos += n;
	return BUF_OK;
}

int buf_put_u8(struct buf *b, uint8_t v)
{
	uint8_t *p;
	int r = buf_reserve(b, 1, &p);

	if (r == BUF_OK)
		p[0] = v;
	return r;
}

int buf_put_u16(struct buf *b, uint16_t v)
{
	uint8_t *p;
	int r = buf_reserve(b, 2, &p);

	if (r == BUF_OK) {
		p[0] = (uint8_t)(v >> 8);
		p[1] = (uint8_t)v;
	}
	return r;
}

int buf_put_u32(struct buf *b, uint32_t v)
{
	uint8_t *p;
	int r = buf_reserve(b, 4, &p);

	if (r == BUF_OK) {
		p[0] = (uint8_t)(v >> 24);
		p[1] = (uint8_t)(v >> 16);
		p[2] = (uint8_t)(v >> 8);
		p[3] = (uint8_t)v;
	}
	return r;
}

int buf_put_u64(struct buf *b, uint64_t v)
{
	uint8_t *p;
	int r = buf_reserve(b, 8, &p);

	if (r == BUF_OK)
		for (int i = 7; i >= 0; i--, v >>= 8)
			p[i] = (uint8_t)v;
	return r;
}

int buf_put_bytes(struct buf *b, const void *src, size_t n)
{
	uint8_t *p;
	int r = buf_reserve(b, n, &p);

	if (r == BUF_OK && n > 0)
		memcpy(p, src, n);
	return r;
}

int buf_put_zero(struct buf *b, size_t n)
{
	uint8_t *p;
	int r = buf_reserve(b, n, &p);

	if (r == BUF_OK && n > 0)
		memset(p, 0, n);
	return r;
}

int buf_wptr_at(struct buf *b, size_t pos, size_t n, uint8_t **p)
{
	if (b->readonly)
		return BUF_E_READONLY;
	if (pos > b->wpos || n > b->wpos - pos)
		return BUF_E_RANGE;
	*p = buf_at(b, pos);
	return BUF_OK;
}

int buf_set_u8_at(struct buf *b, size_t pos, uint8_t v)
{
	uint8_t *p;
	int r = buf_wptr_at(b, pos, 1, &p);

	if (r == BUF_OK)
		p[0] = v;
	return r;
}

int buf_set_u16_at(struct buf *b, size_t pos, uint16_t v)
{
	uint8_t *p;
	int r = buf_wptr_at(b, pos, 2, &p);

	if (r == BUF_OK) {
		p[0] = (uint8_t)(v >> 8);
		p[1] = (uint8_t)v;
	}
	return r;
}

const char *buf_strerror(int err)
{
	switch (err) {
	case BUF_OK:
		return "ok";
	case BUF_E_SHORT:
		return "truncated";
	case BUF_E_NOSPACE:
		return "no space";
	case BUF_E_TRAILING:
		return "trailing bytes";
	case BUF_E_READONLY:
		return "read-only buffer";
	case BUF_E_RANGE:
		return "position out of range";
	default:
		return "unknown buffer error";
	}
}
