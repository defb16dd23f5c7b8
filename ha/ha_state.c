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

#define HA_STATE_FIELDS 8

const char *ha_state_err_name(enum ha_state_err e)
{
	switch (e) {
	case HA_STATE_OK:
		return "ok";
	case HA_STATE_HEADER:
		return "not a mipsa-ha state file (version 1)";
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

enum ha_state_err ha_state_parse(const char *text, size_t len,
				 void (*each)(void *arg, const struct ha_state_entry *e), void *arg,
				 size_t *line)
{
	char buf[HA_STATE_LINE_MAX + 1];
	size_t at = 0;

	*line = 0;
	if (len > HA_STATE_FILE_MAX)
		return HA_STATE_TOO_LONG;
	while (at < len) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t n = nl != NULL ? (size_t)(nl - (text + at)) : len - at;
		struct ha_state_entry e;

		++*line;
		if (n > HA_STATE_LINE_MAX)
			return HA_STATE_TOO_LONG;
		if (memchr(text + at, '\0', n) != NULL)
			return *line == 1 ? HA_STATE_HEADER : HA_STATE_SYNTAX;
		memcpy(buf, text + at, n);
		buf[n] = '\0';
		at += n + (nl != NULL);
		if (*line == 1) {
			if (strcmp(buf, HA_STATE_MAGIC) != 0)
				return HA_STATE_HEADER;
			continue;
		}
		if (!ha_state_line(buf, &e))
			return HA_STATE_SYNTAX;
		each(arg, &e);
	}
	if (*line == 0) {
		*line = 1;
		return HA_STATE_HEADER;
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

/* The whole file formatted first, then written in one go: not a system call per node. */
static int ha_state_write(int fd, const struct ha *ha, uint64_t now_ms, uint64_t wall_ms)
{
	size_t cap = sizeof(HA_STATE_MAGIC) + ha->cfg.n_mns * (HA_STATE_LINE_MAX + 1), len;
	char *text = malloc(cap);
	int r = 0;

	if (text == NULL)
		return -1;
	len = (size_t)snprintf(text, cap, "%s\n", HA_STATE_MAGIC);
	for (size_t i = 0; i < ha->cfg.n_mns; i++) {
		const struct ha_mn *mn = &ha->cfg.mns[i];
		if (mn->b.active || mn->last_id != 0)
			len += (size_t)ha_state_line_put(text + len, cap - len, mn, now_ms,
							 wall_ms);
	}
	for (size_t off = 0; off < len && r == 0;) {
		ssize_t n = write(fd, text + off, len - off);
		if (n > 0)
			off += (size_t)n;
		else if (n == 0 || errno != EINTR)
			r = -1;
	}
	free(text);
	return r;
}

int ha_state_open(struct ha_state_file *f, const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[sizeof(f->path)];
	size_t dlen = slash == NULL ? 1 : slash == path ? 1 : (size_t)(slash - path);

	f->dirfd = -1;
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
 * A new file beside the old one, renamed over it: a reader (our next start)
 * finds the old state or the new, never half of one.  Not synced to disk: a
 * restart of the daemon finds it; a power cut may lose the last changes,
 * which the nodes' next registrations make good.
 */
int ha_state_save(const struct ha *ha, const struct ha_state_file *f, uint64_t now_ms,
		  uint64_t wall_ms)
{
	char tmp[sizeof(f->name) + 4];
	int fd, r;

	snprintf(tmp, sizeof(tmp), "%s.new", f->name);
	fd = openat(f->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	r = ha_state_write(fd, ha, now_ms, wall_ms);
	if (close(fd) < 0)
		r = -1;
	if (r == 0 && renameat(f->dirfd, tmp, f->dirfd, f->name) == 0)
		return 0;
	r = errno;
	unlinkat(f->dirfd, tmp, 0);
	errno = r;
	return -1;
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

int ha_state_load(struct ha *ha, const struct ha_state_file *f, uint64_t now_ms, uint64_t wall_ms)
{
	const char *path = f->path;
	struct ha_state_ctx c = {.ha = ha, .now_ms = now_ms, .wall_ms = wall_ms};
	struct stat st;
	char *text = NULL;
	ssize_t n = 0;
	size_t line;
	enum ha_state_err e;
	int fd = openat(f->dirfd, f->name, O_RDONLY | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT) {
		log_notice("state: no %s yet: no bindings to restore", path);
		return 0;
	}
	if (fd < 0 || fstat(fd, &st) < 0) {
		log_err("state: %s: %s", path, strerror(errno));
		goto fail;
	}
	if (st.st_size > (off_t)HA_STATE_FILE_MAX) {
		log_err("state: %s: %lld bytes, more than the %u we ever write", path,
			(long long)st.st_size, HA_STATE_FILE_MAX);
		goto fail;
	}
	text = malloc((size_t)st.st_size + 1);
	if (text == NULL || (n = read(fd, text, (size_t)st.st_size)) != st.st_size) {
		log_err("state: %s: %s", path, n < 0 ? strerror(errno) : "short read");
		goto fail;
	}
	e = ha_state_parse(text, (size_t)n, ha_state_restore, &c, &line);
	if (e != HA_STATE_OK) {
		log_err("state: %s:%zu: %s", path, line, ha_state_err_name(e));
		goto fail;
	}
	log_notice("state: %zu bindings restored, %zu Identifications, %zu unknown nodes from %s",
		   c.restored, c.ids, c.unknown, path);
	free(text);
	close(fd);
	return 0;
fail:
	free(text);
	if (fd >= 0)
		close(fd);
	return -1;
}
