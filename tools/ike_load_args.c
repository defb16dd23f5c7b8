/*
 * ike-load's command line, addresses and identities (ike_load.h).
 */
#include "ike_crypto.h"
#include "ike_load.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IL_LAST_UNICAST 0xdffffffeu /* 223.255.255.254: class D starts after it */

static enum il_parse il_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum il_parse il_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return IL_PARSE_ERROR;
}

int il_num(const char *s, unsigned long lo, unsigned long hi, unsigned *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -1;
	v = strtoul(s, &end, 10);
	if (*end != '\0' || v < lo || v > hi)
		return -1;
	*out = (unsigned)v;
	return 0;
}

enum ike_group il_group(const char *s)
{
	if (strcmp(s, "modp2048") == 0 || strcmp(s, "14") == 0)
		return IKE_GROUP_MODP2048;
	if (strcmp(s, "ecp256") == 0 || strcmp(s, "19") == 0)
		return IKE_GROUP_ECP256;
	return 0;
}

const char *il_group_name(enum ike_group g)
{
	return g == IKE_GROUP_ECP256 ? "ecp256" : g == IKE_GROUP_MODP2048 ? "modp2048" : "?";
}

int il_addr(struct in_addr base, unsigned i, struct in_addr *out)
{
	uint32_t b = ntohl(base.s_addr), host = b & 0xff;
	uint64_t j, a;

	if (host == 0 || host == 255)
		return -1;
	/* j counts usable hosts from .1 of base's /24: 254 of them per /24. */
	j = (uint64_t)(host - 1) + i;
	a = (uint64_t)(b & ~0xffu) + (j / 254) * 256 + j % 254 + 1;
	if (a > IL_LAST_UNICAST)
		return -1;
	out->s_addr = htonl((uint32_t)a);
	return 0;
}

int il_derive_hex(const char *seed, const char *tag, unsigned i, char *hex, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	uint8_t md[IKE_MAX_HASH];
	char idx[48];
	int n = snprintf(idx, sizeof(idx), "%s%u", tag, i);
	struct ike_chunk c[2] = {IKE_CHUNK(seed, strlen(seed)), IKE_CHUNK(idx, (size_t)n)};

	if (n < 0 || (size_t)n >= sizeof(idx) || len < IL_PSK_HEX + 1 ||
	    ike_hash(IKE_HASH_SHA2_256, c, 2, md) < 0)
		return -1;
	for (size_t k = 0; k < IL_PSK_HEX / 2; k++) {
		hex[2 * k] = digits[md[k] >> 4];
		hex[2 * k + 1] = digits[md[k] & 15];
	}
	hex[IL_PSK_HEX] = '\0';
	return 0;
}

int il_ident(const char *seed, unsigned i, char *id, size_t idlen, char *psk, size_t psklen)
{
	int n = snprintf(id, idlen, "mn%u@load.example", i);

	if (n < 0 || (size_t)n >= idlen)
		return -1;
	return il_derive_hex(seed, ":", i, psk, psklen);
}

static void il_defaults(struct il_opts *o)
{
	memset(o, 0, sizeof(*o));
	inet_pton(AF_INET, "10.200.0.1", &o->base);
	o->n = IL_DEFAULT_N;
	o->inflight = IL_DEFAULT_FLIGHT;
	o->timeout_s = IL_DEFAULT_TMO_S;
	o->group = IKE_GROUP_MODP2048;
	snprintf(o->seed, sizeof(o->seed), "ike-load");
}

/* One option's argument into o; IL_PARSE_ERROR with err set when it will not do. */
static enum il_parse il_opt(struct il_opts *o, int ch, const char *arg, bool *have_addr, char *err,
			    size_t errlen)
{
	switch (ch) {
	case 'a':
		if (inet_pton(AF_INET, arg, &o->responder) != 1)
			return il_err(err, errlen, "-a %s: not an IPv4 address", arg);
		*have_addr = true;
		break;
	case 'i':
		if (strlen(arg) >= sizeof(o->responder_id))
			return il_err(err, errlen, "-i: identity too long");
		snprintf(o->responder_id, sizeof(o->responder_id), "%s", arg);
		break;
	case 'b':
		if (inet_pton(AF_INET, arg, &o->base) != 1)
			return il_err(err, errlen, "-b %s: not an IPv4 address", arg);
		break;
	case 'n':
		if (il_num(arg, 1, IL_MAX_N, &o->n) < 0)
			return il_err(err, errlen, "-n %s: 1..%u identities", arg, IL_MAX_N);
		break;
	case 'c':
		if (il_num(arg, 1, IL_MAX_INFLIGHT, &o->inflight) < 0)
			return il_err(err, errlen, "-c %s: 1..%u in flight", arg, IL_MAX_INFLIGHT);
		break;
	case 't':
		if (il_num(arg, 1, 3600, &o->timeout_s) < 0)
			return il_err(err, errlen, "-t %s: 1..3600 seconds", arg);
		break;
	case 'g':
		if ((o->group = il_group(arg)) == 0)
			return il_err(err, errlen, "-g %s: modp2048 or ecp256", arg);
		break;
	case 'k':
		if (*arg == '\0' || strlen(arg) >= sizeof(o->seed))
			return il_err(err, errlen, "-k: a seed of 1..%d characters",
				      IL_SEED_MAX - 1);
		snprintf(o->seed, sizeof(o->seed), "%s", arg);
		break;
	case 'P':
		o->print_ids = true;
		break;
	case 'H':
		o->hold = true;
		break;
	default:
		return il_err(err, errlen, "unknown option");
	}
	return IL_PARSE_OK;
}

enum il_parse il_parse_args(int argc, char **argv, struct il_opts *o, char *err, size_t errlen)
{
	bool have_addr = false;
	struct in_addr last;
	int ch;

	il_defaults(o);
	err[0] = '\0';
	optind = 0; /* glibc: a full reset, so that the tests may parse again */
	opterr = 0;
	while ((ch = getopt(argc, argv, "+a:i:b:n:c:t:g:k:PHh")) != -1) {
		if (ch == 'h')
			return IL_PARSE_HELP;
		if (ch == '?' || ch == ':')
			return il_err(err, errlen, "-%c: unknown option or missing argument",
				      optopt ? optopt : '?');
		if (il_opt(o, ch, optarg, &have_addr, err, errlen) != IL_PARSE_OK)
			return IL_PARSE_ERROR;
	}
	if (optind != argc)
		return il_err(err, errlen, "%s: unexpected argument", argv[optind]);
	if (!have_addr && !o->print_ids)
		return il_err(err, errlen, "-a ADDRESS (the responder) is required");
	if (il_addr(o->base, o->n - 1, &last) < 0)
		return il_err(err, errlen,
			      "-b/-n: %u addresses from the base do not fit (a base "
			      "ending in .0 or .255, or past 223.255.255.254)",
			      o->n);
	if (o->inflight > o->n)
		o->inflight = o->n;
	return IL_PARSE_OK;
}
