/*
 * buf: the one buffer type for every parse and build in mipsa.
 *
 * A buffer is a window over caller-owned memory with a read cursor and a
 * write cursor.  Reads take bytes from [rpos, wpos); writes append at wpos
 * up to the capacity.  Every accessor checks the length it needs against
 * what is left *before* it touches memory, and a failed accessor leaves the
 * buffer exactly as it was.  A get consumes the bytes first and then reads
 * them from the position it just passed, so a parser can never read a byte
 * twice by accident or read beyond what it has accounted for.
 *
 * Nested fields are parsed through a child buffer: buf_get_child() consumes
 * the field from the parent and hands back a read-only buffer over exactly
 * those bytes, so the nested parser cannot read past its own field.
 * buf_expect_end() turns trailing bytes into an error.
 */
#ifndef MIPSA_BUF_H
#define MIPSA_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum buf_err {
	BUF_OK = 0,
	BUF_E_SHORT = -1,    /* a read wanted more bytes than are left */
	BUF_E_NOSPACE = -2,  /* a write wanted more room than is left */
	BUF_E_TRAILING = -3, /* bytes left over after a complete parse */
	BUF_E_READONLY = -4, /* a write into a read-only buffer */
	BUF_E_RANGE = -5,    /* a position or length outside the data */
};

struct buf {
	uint8_t *d;  /* storage; never written through when readonly */
	size_t cap;  /* bytes of storage */
	size_t rpos; /* next byte to read */
	size_t wpos; /* end of valid data, next byte to write */
	bool readonly;
};

/* A read-only buffer over len bytes of data. */
void buf_init_read(struct buf *b, const void *data, size_t len);
/* An empty writable buffer over cap bytes of storage. */
void buf_init_write(struct buf *b, void *storage, size_t cap);
/* A writable buffer whose first used bytes are already written (used <= cap). */
void buf_init_append(struct buf *b, void *storage, size_t cap, size_t used);

/* Bytes left to read. */
size_t buf_left(const struct buf *b);
/* Bytes written so far (the length of a built message). */
size_t buf_used(const struct buf *b);
/* Room left to write. */
size_t buf_room(const struct buf *b);
/* The next unread byte (valid for buf_left() bytes). */
const uint8_t *buf_rptr(const struct buf *b);
/* The start of the data (valid for buf_used() bytes). */
const uint8_t *buf_data(const struct buf *b);
/* Bytes consumed by reads so far. */
size_t buf_consumed(const struct buf *b);

int buf_get_u8(struct buf *b, uint8_t *v);
int buf_get_u16(struct buf *b, uint16_t *v); /* network byte order */
int buf_get_u32(struct buf *b, uint32_t *v); /* network byte order */
int buf_get_u64(struct buf *b, uint64_t *v); /* network byte order */
int buf_get_bytes(struct buf *b, void *dst, size_t n);
/* Consume n bytes and point *p at them, without copying. */
int buf_get_ptr(struct buf *b, const uint8_t **p, size_t n);
int buf_skip(struct buf *b, size_t n);
/* Consume n bytes and make child a read-only buffer over exactly them. */
int buf_get_child(struct buf *b, size_t n, struct buf *child);
/* Read without consuming. */
int buf_peek_u8(const struct buf *b, uint8_t *v);
/* BUF_OK when everything was read, BUF_E_TRAILING otherwise. */
int buf_expect_end(const struct buf *b);

int buf_put_u8(struct buf *b, uint8_t v);
int buf_put_u16(struct buf *b, uint16_t v);
int buf_put_u32(struct buf *b, uint32_t v);
int buf_put_u64(struct buf *b, uint64_t v);
int buf_put_bytes(struct buf *b, const void *src, size_t n);
int buf_put_zero(struct buf *b, size_t n);
/* Append n bytes and point *p at them, for the caller to fill. */
int buf_reserve(struct buf *b, size_t n, uint8_t **p);
/* Overwrite already written bytes, e.g. a length field known only later. */
int buf_set_u8_at(struct buf *b, size_t pos, uint8_t v);
int buf_set_u16_at(struct buf *b, size_t pos, uint16_t v);
/* Write pointer at an already written position (pos + n <= buf_used). */
int buf_wptr_at(struct buf *b, size_t pos, size_t n, uint8_t **p);

const char *buf_strerror(int err);

#endif
