/*
 * mipsa-swarm's command line, keys, schedule, duplicate detection and
 * RESULT line (swarm.h).
 */
#include "ike_crypto.h"
#include "ike_load.h"
#include "swarm.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static enum sw_parse sw_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum sw_parse sw_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return SW_PARSE_ERROR;
}

const char *sw_mode_name(enum sw_mode m)
{
	return m == SW_MODE_IKE ? "ike" : "reuse";
}

static void sw_defaults(struct sw_opts *o)
{
	memset(o, 0, sizeof(*o));
	snprintf(o->ifname[0], SW_IFNAME_MAX, "sw1");
	snprintf(o->ifname[1], SW_IFNAME_MAX, "sw2");
	inet_pton(AF_INET, "198.18.128.1", &o->base);
	inet_pton(AF_INET, "198.18.100.1", &o->home_agent);
	inet_pton(AF_INET, "198.18.1.2", &o->target);
	inet_pton(AF_INET, "198.19.0.1", &o->alias);
	snprintf(o->alias_id, sizeof(o->alias_id), "fa.domain-a.example");
	o->n = 100;
	o->duration_s = 10;
	o->move_ms = 5000;
	o->ping_ms = 1000;
	o->inflight = 32;
	o->timeout_s = 30;
	o->lifetime_s = 600;
	o->retry_ms = 1000;
	o->mode = SW_MODE_REUSE;
	o->group = IKE_GROUP_ECP256;
	snprintf(o->seed, sizeof(o->seed), "mipsa-swarm");
}

static enum sw_parse sw_addr_opt(const char *arg, struct in_addr *a, char *err, size_t errlen)
{
	if (inet_pton(AF_INET, arg, a) != 1)
		return sw_err(err, errlen, "%s: not an IPv4 address", arg);
	return SW_PARSE_OK;
}

static enum sw_parse sw_str_opt(int ch, const char *arg, char *dst, size_t cap, char *err,
				size_t errlen)
{
	if (*arg == '\0' || strlen(arg) >= cap)
		return sw_err(err, errlen, "-%c: 1..%zu characters", ch, cap - 1);
	snprintf(dst, cap, "%s", arg);
	return SW_PARSE_OK;
}

static enum sw_parse sw_num_opt(int ch, const char *arg, unsigned long lo, unsigned long hi,
				unsigned *out, char *err, size_t errlen)
{
	if (il_num(arg, lo, hi, out) < 0)
		return sw_err(err, errlen, "-%c %s: %lu..%lu", ch, arg, lo, hi);
	return SW_PARSE_OK;
}

/* One option's argument into o. */
static enum sw_parse sw_opt(struct sw_opts *o, int ch, const char *arg, char *err, size_t errlen)
{
	switch (ch) {
	case '1':
	case '2':
		return sw_str_opt(ch, arg, o->ifname[ch - '1'], SW_IFNAME_MAX, err, errlen);
	case 'b':
		return sw_addr_opt(arg, &o->base, err, errlen);
	case 'A':
		return sw_addr_opt(arg, &o->home_agent, err, errlen);
	case 'T':
		return sw_addr_opt(arg, &o->target, err, errlen);
	case 'a':
		return sw_addr_opt(arg, &o->alias, err, errlen);
	case 'I':
		return sw_str_opt(ch, arg, o->alias_id, sizeof(o->alias_id), err, errlen);
	case 'n':
		return sw_num_opt(ch, arg, 1, SW_MAX_N, &o->n, err, errlen);
	case 'd':
		return sw_num_opt(ch, arg, 1, 86400, &o->duration_s, err, errlen);
	case 'm':
		return sw_num_opt(ch, arg, 0, 3600000, &o->move_ms, err, errlen);
	case 'i':
		return sw_num_opt(ch, arg, 10, 3600000, &o->ping_ms, err, errlen);
	case 'c':
		return sw_num_opt(ch, arg, 1, SW_MAX_INFLIGHT, &o->inflight, err, errlen);
	case 't':
		return sw_num_opt(ch, arg, 1, 3600, &o->timeout_s, err, errlen);
	case 'l':
		return sw_num_opt(ch, arg, 10, 65534, &o->lifetime_s, err, errlen);
	case 'r':
		return sw_num_opt(ch, arg, 10, 60000, &o->retry_ms, err, errlen);
	case 'M':
		if (strcmp(arg, "reuse") == 0)
			o->mode = SW_MODE_REUSE;
		else if (strcmp(arg, "ike") == 0)
			o->mode = SW_MODE_IKE;
		else
			return sw_err(err, errlen, "-M %s: reuse or ike", arg);
		return SW_PARSE_OK;
	case 'g':
		if ((o->group = il_group(arg)) == 0)
			return sw_err(err, errlen, "-g %s: modp2048 or ecp256", arg);
		return SW_PARSE_OK;
	case 'k':
		return sw_str_opt(ch, arg, o->seed, sizeof(o->seed), err, errlen);
	case 'P':
		o->print_nodes = true;
		return SW_PARSE_OK;
	default:
		return sw_err(err, errlen, "unknown option");
	}
}

enum sw_parse sw_parse_args(int argc, char **argv, struct sw_opts *o, char *err, size_t errlen)
{
	struct in_addr last;
	int ch;

	sw_defaults(o);
	err[0] = '\0';
	optind = 0; /* glibc: a full reset, so that the tests may parse again */
	opterr = 0;
	while ((ch = getopt(argc, argv, "+1:2:b:A:T:a:I:n:d:m:i:c:t:l:r:M:g:k:Ph")) != -1) {
		if (ch == 'h')
			return SW_PARSE_HELP;
		if (ch == '?' || ch == ':')
			return sw_err(err, errlen, "-%c: unknown option or missing argument",
				      optopt ? optopt : '?');
		if (sw_opt(o, ch, optarg, err, errlen) != SW_PARSE_OK)
			return SW_PARSE_ERROR;
	}
	if (optind != argc)
		return sw_err(err, errlen, "%s: unexpected argument", argv[optind]);
	if (strcmp(o->ifname[0], o->ifname[1]) == 0)
		return sw_err(err, errlen, "-1 and -2: two different interfaces");
	if (il_addr(o->base, o->n - 1, &last) < 0)
		return sw_err(err, errlen,
			      "-b/-n: %u addresses from the base do not fit (a base ending in .0 "
			      "or .255, or past 223.255.255.254)",
			      o->n);
	if (o->inflight > o->n)
		o->inflight = o->n;
	return SW_PARSE_OK;
}

int sw_ha_key(const char *seed, unsigned i, char *hex, size_t len)
{
	return il_derive_hex(seed, ":ha:", i, hex, len);
}

uint64_t sw_next_move(unsigned i, unsigned n, uint32_t period_ms, uint64_t after_ms)
{
	uint64_t phase, k;

	if (n == 0 || period_ms == 0)
		return UINT64_MAX;
	/* The first move is one period in at the latest: node 0's at a full period. */
	phase = (uint64_t)(i % n) * period_ms / n;
	if (phase == 0)
		phase = period_ms;
	if (after_ms < phase)
		return phase;
	k = (after_ms - phase) / period_ms + 1;
	return phase + k * period_ms;
}

/* ---- (SPI, sequence number) pairs ---- */

/*
 * One SPI's sequence numbers seen, a bit each, in chunks of SW_CHUNK_BITS
 * made on demand: every 32-bit number can be checked, and memory follows
 * the ranges used, not the highest number (each take-over starts its
 * sender 2^20 numbers further on).
 */
#define SW_CHUNK_SHIFT 12
#define SW_CHUNK_BITS  (1u << SW_CHUNK_SHIFT)

struct sw_spi {
	struct u32map chunks; /* seq >> SW_CHUNK_SHIFT -> uint64_t[SW_CHUNK_BITS / 64] */
};

void sw_seqset_init(struct sw_seqset *s)
{
	memset(s, 0, sizeof(*s));
	u32map_init(&s->by_spi);
}

static void sw_spi_free(struct sw_spi *p)
{
	uint32_t k;
	void *v;

	for (size_t it = 0; u32map_next(&p->chunks, &it, &k, &v);)
		free(v);
	u32map_free(&p->chunks);
	free(p);
}

void sw_seqset_free(struct sw_seqset *s)
{
	uint32_t k;
	void *v;

	for (size_t it = 0; u32map_next(&s->by_spi, &it, &k, &v);)
		sw_spi_free(v);
	u32map_free(&s->by_spi);
}

/* The map's value under key, made (zeroed, size bytes) when missing; NULL: out of memory. */
static void *sw_map_get_or_new(struct u32map *m, uint32_t key, size_t size)
{
	void *v = u32map_get(m, key);

	if (v != NULL)
		return v;
	v = calloc(1, size);
	if (v != NULL && u32map_put(m, key, v) < 0) {
		free(v);
		v = NULL;
	}
	return v;
}

int sw_seqset_add(struct sw_seqset *s, uint32_t spi, uint32_t seq)
{
	struct sw_spi *p = u32map_get(&s->by_spi, spi);
	uint64_t *w, bit = UINT64_C(1) << (seq % 64);

	if (p == NULL) {
		p = calloc(1, sizeof(*p));
		if (p == NULL)
			return -1;
		u32map_init(&p->chunks);
		if (u32map_put(&s->by_spi, spi, p) < 0) {
			sw_spi_free(p);
			return -1;
		}
	}
	w = sw_map_get_or_new(&p->chunks, seq >> SW_CHUNK_SHIFT, SW_CHUNK_BITS / 8);
	if (w == NULL)
		return -1;
	w += (seq % SW_CHUNK_BITS) / 64;
	if (*w & bit) {
		s->dups++;
		return 0;
	}
	*w |= bit;
	s->pairs++;
	return 1;
}

int sw_result_line(const struct sw_opts *o, const struct sw_counts *c, double wall_s, char *out,
		   size_t len)
{
	int n = snprintf(out, len, "RESULT mode=%s n=%u duration_s=%u move_ms=%u wall_s=%.1f",
			 sw_mode_name(o->mode), o->n, o->duration_s, o->move_ms, wall_s);
	size_t used;

	if (n < 0)
		return n;
#define SW_COUNT_FMT(f)                                                                            \
	used = (size_t)n < len ? (size_t)n : len;                                                  \
	n += snprintf(out + used, len - used, " " #f "=%llu", (unsigned long long)c->f);
	SW_COUNTS(SW_COUNT_FMT)
#undef SW_COUNT_FMT
	return n;
}
