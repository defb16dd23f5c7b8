/*
 * Fuzz the home agent's state file parser (ha/ha_state.c): whatever the
 * file holds, ha_state_parse reads nothing outside it, names a line inside
 * it when it refuses, delivers only entries with a lifetime and flags as
 * written, and accepts exactly what a file it wrote could hold: every entry
 * it delivers, written back in mipsa-ha's format, is the same line.
 *
 * Each input is parsed twice: as a whole file (the header and its CRC-32,
 * which random bytes seldom pass), and as the lines under a header
 * ha_state_header makes for them, which the parser must always take: that
 * second parse is what reaches the lines.
 */
#include "fuzzer.h"
#include "ha_state.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fz_ctx {
	const uint8_t *data;
	size_t size, at, n;
};

/* The entry, written as ha_state_save writes it, must be the next line of the input. */
static void fz_each(void *arg, const struct ha_state_entry *e)
{
	struct fz_ctx *c = arg;
	char home[INET_ADDRSTRLEN], coa[INET_ADDRSTRLEN], src[INET_ADDRSTRLEN], line[256];
	const uint8_t *nl;
	size_t want;
	int n;

	inet_ntop(AF_INET, &e->home, home, sizeof(home));
	inet_ntop(AF_INET, &e->coa, coa, sizeof(coa));
	inet_ntop(AF_INET, &e->reg_src, src, sizeof(src));
	n = snprintf(line, sizeof(line), "%s %s %s %u %llu %d %d %016llx", home, coa, src,
		     e->lifetime, (unsigned long long)e->expires_wall_ms, e->reverse, e->active,
		     (unsigned long long)e->last_id);
	if (n <= 0 || (size_t)n >= sizeof(line))
		__builtin_trap();
	if (c->n == 0) {
		nl = memchr(c->data, '\n', c->size);
		if (nl == NULL)
			__builtin_trap();
		c->at = (size_t)(nl - c->data) + 1;
	}
	nl = c->at < c->size ? memchr(c->data + c->at, '\n', c->size - c->at) : NULL;
	want = nl != NULL ? (size_t)(nl - (c->data + c->at)) : c->size - c->at;
	if (want != (size_t)n || memcmp(c->data + c->at, line, want) != 0)
		__builtin_trap();
	c->at += want + (nl != NULL);
	c->n++;
}

/* Parse text; trap on what no input may do. */
static enum ha_state_err fz_parse(const uint8_t *text, size_t len)
{
	struct fz_ctx c = {.data = text, .size = len};
	size_t line;
	uint64_t gen;
	enum ha_state_err e = ha_state_parse((const char *)text, len, fz_each, &c, &line, &gen);

	if (e == HA_STATE_OK && c.at != 0 && c.at != len)
		__builtin_trap(); /* accepted, yet a line was left unread */
	if (e != HA_STATE_OK && (line == 0 || line > len + 1))
		__builtin_trap();
	return e;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char hdr[HA_STATE_HDR_MAX];
	size_t hlen = ha_state_header(hdr, size, (const char *)data, size);
	uint8_t *file = malloc(hlen + size);
	enum ha_state_err e;

	fz_parse(data, size);
	if (file == NULL)
		return 0;
	memcpy(file, hdr, hlen);
	if (size > 0)
		memcpy(file + hlen, data, size);
	e = fz_parse(file, hlen + size);
	if (e == HA_STATE_HEADER || e == HA_STATE_CHECKSUM)
		__builtin_trap(); /* refused the header we made for these very lines */
	free(file);
	return 0;
}
