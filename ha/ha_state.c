#include "ha_state.h"
#include "ip4.h"
#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define HA_STATE_FIELDS 8

const char *ha_state_err_name(enum ha_state_err e)
{
	switch (e) {
	case HA_STATE_OK:
		return "ok";
	case HA_STATE_HEADER:
		return "not a mipsa-ha state file (version 2)";
	case HA_STATE_CHECKSUM:
		return "cut short or torn: the lines are not those its CRC-32 names";
	case HA_STATE_SYNTAX:
		return "not eight fields as mipsa-ha writes them";
	case HA_STATE_TOO_LONG:
		return "longer than mipsa-ha writes";
	}
	return "?";
}

/* Digits only, in base 10 or 16, at most max: no sign, no space, no 0x, no leading 0 in base 10. */
static bool ha_state_num(const char *s, unsigned base, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (*s == '\0' || (base == 10 && s[0] == '0' && s[1] != '\0'))
		return false;
	for (; *s != '\0'; s++) {
		unsigned d;
		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a') + 10;
		else
			return false;
		if (v > (max - d) / base)
			return false;
		v = v * base + d;
	}
	*out = v;
	return true;
}

static bool ha_state_flag(const char *s, bool *out)
{
	if (strcmp(s, "0") != 0 && strcmp(s, "1") != 0)
		return false;
	*out = s[0] == '1';
	return true;
}

/* One line (NUL-terminated, no newline) into e. */
static bool ha_state_line(char *line, struct ha_state_entry *e)
{
	char *f[HA_STATE_FIELDS], *rest = line, *tok;
	size_t n = 0;
	uint64_t lifetime;

	/* One space between fields, as we write them: an empty field is an error. */
	while ((tok = strsep(&rest, " ")) != NULL) {
		if (n == HA_STATE_FIELDS || *tok == '\0')
			return false;
		f[n++] = tok;
	}
	memset(e, 0, sizeof(*e));
	return n == HA_STATE_FIELDS && inet_pton(AF_INET, f[0], &e->home) == 1 &&
	       inet_pton(AF_INET, f[1], &e->coa) == 1 &&
	       inet_pton(AF_INET, f[2], &e->reg_src) == 1 &&
	       ha_state_num(f[3], 10, UINT16_MAX, &lifetime) &&
	       ha_state_num(f[4], 10, UINT64_MAX, &e->expires_wall_ms) &&
	       ha_state_flag(f[5], &e->reverse) && ha_state_flag(f[6], &e->active) &&
	       strlen(f[7]) == 16 && ha_state_num(f[7], 16, UINT64_MAX, &e->last_id) &&
	       (e->lifetime = (uint16_t)lifetime, true);
}

/* The generation (8 bytes, big-endian) and the lines under the header. */
static uint32_t ha_state_crc(uint64_t gen, const char *body, size_t len)
{
	uint8_t g[8];

	for (size_t i = 0; i < sizeof(g); i++)
		g[i] = (uint8_t)(gen >> (56 - 8 * i));
	/* len <= HA_STATE_FILE_MAX: one call of zlib's uInt length */
	return (uint32_t)crc32(crc32(0L, g, sizeof(g)), (const Bytef *)body, (uInt)len);
}

size_t ha_state_header(char out[HA_STATE_HDR_MAX], uint64_t gen, const char *body, size_t len)
{
	return (size_t)snprintf(out, HA_STATE_HDR_MAX, "%s %llu %08x\n", HA_STATE_MAGIC,
				(unsigned long long)gen, (unsigned)ha_state_crc(gen, body, len));
}

/* "mipsa-ha-state 2 <generation> <crc-32>" (NUL-terminated, no newline). */
static bool ha_state_header_line(char *line, uint64_t *gen, uint32_t *crc)
{
	size_t m = strlen(HA_STATE_MAGIC);
	char *rest, *g, *c;
	uint64_t v;

	if (strncmp(line, HA_STATE_MAGIC " ", m + 1) != 0)
		return false;
	rest = line + m + 1;
	g = strsep(&rest, " ");
	c = strsep(&rest, " ");
	if (c == NULL || rest != NULL || strlen(c) != 8 || !ha_state_num(g, 10, UINT64_MAX, gen) ||
	    !ha_state_num(c, 16, UINT32_MAX, &v))
		return false;
	*crc = (uint32_t)v;
	return true;
}

/* The header line: its generation, and the checksum of all that follows it. */
static enum ha_state_err ha_state_check(const char *text, size_t len, uint64_t *gen, size_t *body)
{
	char buf[HA_STATE_HDR_MAX];
	const char *nl = memchr(text, '\n', len < sizeof(buf) ? len : sizeof(buf));
	size_t n = nl != NULL ? (size_t)(nl - text) : 0;
	uint32_t crc;

	if (nl == NULL || memchr(text, '\0', n) != NULL)
		return HA_STATE_HEADER;
	memcpy(buf, text, n);
	buf[n] = '\0';
	if (!ha_state_header_line(buf, gen, &crc))
		return HA_STATE_HEADER;
	*body = n + 1;
	return ha_state_crc(*gen, text + *body, len - *body) == crc ? HA_STATE_OK
								    : HA_STATE_CHECKSUM;
}

enum ha_state_err ha_state_parse(const char *text, size_t len,
				 void (*each)(void *arg, const struct ha_state_entry *e), void *arg,
				 size_t *line, uint64_t *gen)
{
	char buf[HA_STATE_LINE_MAX + 1];
	size_t at = 0;
	enum ha_state_err err;

	*line = 1;
	if (len > HA_STATE_FILE_MAX)
		return HA_STATE_TOO_LONG;
	err = ha_state_check(text, len, gen, &at);
	if (err != HA_STATE_OK)
		return err;
	while (at < len) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t n = nl != NULL ? (size_t)(nl - (text + at)) : len - at;
		struct ha_state_entry e;

		++*line;
		if (n > HA_STATE_LINE_MAX)
			return HA_STATE_TOO_LONG;
		if (memchr(text + at, '\0', n) != NULL)
			return HA_STATE_SYNTAX;
		memcpy(buf, text + at, n);
		buf[n] = '\0';
		at += n + (nl != NULL);
		if (!ha_state_line(buf, &e))
			return HA_STATE_SYNTAX;
		each(arg, &e);
	}
	return HA_STATE_OK;
}

/* ---- the daemon's side ---- */

/* One node's line, as ha_state_parse reads it back; its length (< HA_STATE_LINE_MAX + 1). */
static int ha_state_line_put(char *out, size_t cap, const struct ha_mn *mn, uint64_t now_ms,
			     uint64_t wall_ms)
{
	const struct ha_binding *b = &mn->b;
	char home[INET_ADDRSTRLEN], coa[INET_ADDRSTRLEN], src[INET_ADDRSTRLEN];
	uint64_t left = b->active && b->expires_ms > now_ms ? b->expires_ms - now_ms : 0;

	inet_ntop(AF_INET, &mn->home_addr, home, sizeof(home));
	inet_ntop(AF_INET, &b->coa, coa, sizeof(coa));
	inet_ntop(AF_INET, &b->reg_src, src, sizeof(src));
	return snprintf(out, cap, "%s %s %s %u %llu %d %d %016llx\n", home, coa, src, b->lifetime,
			(unsigned long long)(left > 0 ? wall_ms + left : 0), b->reverse_tunnel,
			b->active && left > 0, (unsigned long long)mn->last_id);
}

/*
 * The whole copy formatted first (the lines at HA_STATE_HDR_MAX, the header
 * just before them once their CRC is known), then written in one go: not a
 * system call per node.  *text is the buffer to free, *out the copy in it.
 */
static size_t ha_state_format(const struct ha *ha, uint64_t gen, uint64_t now_ms, uint64_t wall_ms,
			      char **text, const char **out)
{
	size_t cap = HA_STATE_HDR_MAX + ha->cfg.n_mns * (HA_STATE_LINE_MAX + 1), len = 0, hlen;
	char hdr[HA_STATE_HDR_MAX], *body;

	*text = malloc(cap);
	if (*text == NULL)
		return 0;
	body = *text + HA_STATE_HDR_MAX;
	for (size_t i = 0; i < ha->cfg.n_mns; i++) {
		const struct ha_mn *mn = &ha->cfg.mns[i];
		if (mn->b.active || mn->last_id != 0)
			len += (size_t)ha_state_line_put(body + len, cap - HA_STATE_HDR_MAX - len,
							 mn, now_ms, wall_ms);
	}
	hlen = ha_state_header(hdr, gen, body, len);
	memcpy(body - hlen, hdr, hlen);
	*out = body - hlen;
	return hlen + len;
}

/* The copy that generation gen is written to, and read from: name.0 or name.1. */
static void ha_state_copy_name(const struct ha_state_file *f, uint64_t gen, char *out, size_t cap)
{
	snprintf(out, cap, "%s.%u", f->name, (unsigned)(gen & 1));
}

int ha_state_open(struct ha_state_file *f, const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[sizeof(f->path)];
	size_t dlen = slash == NULL ? 1 : slash == path ? 1 : (size_t)(slash - path);

	f->dirfd = -1;
	f->gen = 0;
	if (snprintf(f->path, sizeof(f->path), "%s", path) >= (int)sizeof(f->path) ||
	    snprintf(f->name, sizeof(f->name), "%s", slash != NULL ? slash + 1 : path) >=
		    (int)sizeof(f->name) - 4 ||
	    f->name[0] == '\0') {
		log_err("state: \"%s\" is no file name we can use", path);
		return -1;
	}
	memcpy(dir, slash == NULL ? "." : path, dlen);
	dir[dlen] = '\0';
	f->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (f->dirfd < 0) {
		log_err("state: the directory %s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

void ha_state_close(struct ha_state_file *f)
{
	if (f->dirfd >= 0)
		close(f->dirfd);
	f->dirfd = -1;
}

/*
 * Over the older copy, in place (no O_TRUNC: ext4 writes back a file
 * truncated to nothing at its close, as it does one renamed over another),
 * then cut to its length.  Not synced to disk: a restart of the daemon finds
 * it; a power cut may lose the last changes, which the nodes' next
 * registrations make good, and the CRC tells a torn copy from a whole one.
 */
int ha_state_save(const struct ha *ha, struct ha_state_file *f, uint64_t now_ms, uint64_t wall_ms)
{
	char name[sizeof(f->name) + 2], *text;
	const char *out = NULL;
	size_t len = ha_state_format(ha, f->gen + 1, now_ms, wall_ms, &text, &out), off = 0;
	int fd = -1, r = -1, err;

	ha_state_copy_name(f, f->gen + 1, name, sizeof(name));
	if (len > 0)
		fd = openat(f->dirfd, name, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	while (fd >= 0 && off < len) {
		ssize_t n = pwrite(fd, out + off, len - off, (off_t)off);
		if (n > 0)
			off += (size_t)n;
		else if (n == 0 || errno != EINTR)
			break;
	}
	if (fd >= 0 && off == len && ftruncate(fd, (off_t)len) == 0)
		r = 0;
	err = errno;
	if (fd >= 0 && close(fd) < 0 && r == 0) {
		r = -1;
		err = errno;
	}
	free(text);
	if (r == 0)
		f->gen++;
	errno = err;
	return r;
}

struct ha_state_ctx {
	struct ha *ha;
	uint64_t now_ms, wall_ms;
	size_t restored, ids, unknown;
};

static void ha_state_restore(void *arg, const struct ha_state_entry *e)
{
	struct ha_state_ctx *c = arg;
	struct ha_mn *mn = ha_find_mn(c->ha, e->home);

	if (mn == NULL) {
		c->unknown++;
		log_notice("state: %s is not a node of ours now: skipped", IP4_STR(e->home));
		return;
	}
	if (e->last_id > mn->last_id) {
		mn->last_id = e->last_id;
		c->ids++;
	}
	if (e->active && e->expires_wall_ms > c->wall_ms) {
		ha_binding_restore(c->ha, mn, e->coa, e->reg_src, e->lifetime, e->reverse,
				   c->now_ms + (e->expires_wall_ms - c->wall_ms), c->now_ms);
		c->restored++;
	}
}

/* A copy read whole: 0, or 1 when there is none, or -1 (logged). */
static int ha_state_read(const struct ha_state_file *f, unsigned i, char **text, size_t *len)
{
	char name[sizeof(f->name) + 2];
	struct stat st;
	ssize_t n = 0;
	int fd;

	ha_state_copy_name(f, i, name, sizeof(name));
	fd = openat(f->dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 1;
	if (fd < 0 || fstat(fd, &st) < 0) {
		log_err("state: %s.%u: %s", f->path, i, strerror(errno));
		goto fail;
	}
	if (st.st_size > (off_t)HA_STATE_FILE_MAX) {
		log_err("state: %s.%u: %lld bytes, more than the %u we ever write", f->path, i,
			(long long)st.st_size, HA_STATE_FILE_MAX);
		goto fail;
	}
	*text = malloc((size_t)st.st_size + 1);
	if (*text == NULL || (n = read(fd, *text, (size_t)st.st_size)) != st.st_size) {
		log_err("state: %s.%u: %s", f->path, i, n < 0 ? strerror(errno) : "short read");
		goto fail;
	}
	*len = (size_t)n;
	close(fd);
	return 0;
fail:
	free(*text);
	*text = NULL;
	if (fd >= 0)
		close(fd);
	return -1;
}

static void ha_state_skip(void *arg, const struct ha_state_entry *e)
{
	(void)arg;
	(void)e;
}

/* Copy i, as read, checked whole (header, CRC, every line); false when not (logged). */
static bool ha_state_whole(const struct ha_state_file *f, unsigned i, const char *text, size_t len,
			   uint64_t *gen)
{
	size_t line;
	enum ha_state_err e = ha_state_parse(text, len, ha_state_skip, NULL, &line, gen);

	if (e != HA_STATE_OK) {
		log_warn("state: %s.%u:%zu: %s", f->path, i, line, ha_state_err_name(e));
		return false;
	}
	if ((*gen & 1) != i) {
		log_warn("state: %s.%u: generation %llu is written to %s.%u, not here", f->path, i,
			 (unsigned long long)*gen, f->path, (unsigned)(*gen & 1));
		return false;
	}
	return true;
}

int ha_state_load(struct ha *ha, struct ha_state_file *f, uint64_t now_ms, uint64_t wall_ms)
{
	struct ha_state_ctx c = {.ha = ha, .now_ms = now_ms, .wall_ms = wall_ms};
	char *text[2] = {NULL, NULL};
	size_t len[2] = {0, 0}, line;
	uint64_t gen[2] = {0, 0};
	int got[2], best = -1, r = -1;

	for (unsigned i = 0; i < 2; i++) {
		got[i] = ha_state_read(f, i, &text[i], &len[i]);
		if (got[i] < 0)
			goto out;
		if (got[i] == 0 && ha_state_whole(f, i, text[i], len[i], &gen[i]) &&
		    (best < 0 || gen[i] > gen[best]))
			best = (int)i;
	}
	if (got[0] == 1 && got[1] == 1) {
		log_notice("state: no %s.0 or .1 yet: no bindings to restore", f->path);
		r = 0;
		goto out;
	}
	if (best < 0) {
		log_err("state: no whole copy of %s: move the damaged one aside to start without "
			"the bindings",
			f->path);
		goto out;
	}
	/* Checked whole above: nothing is applied from a copy that fails halfway. */
	ha_state_parse(text[best], len[best], ha_state_restore, &c, &line, &gen[best]);
	f->gen = gen[best];
	log_notice("state: %zu bindings restored, %zu Identifications, %zu unknown nodes from "
		   "%s.%d (generation %llu)",
		   c.restored, c.ids, c.unknown, f->path, best, (unsigned long long)gen[best]);
	r = 0;
out:
	free(text[0]);
	free(text[1]);
	return r;
}
