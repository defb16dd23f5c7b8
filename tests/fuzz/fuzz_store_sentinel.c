/*
 * Fuzz what the store client reads from a Redis Sentinel (common/store.c):
 * the input is the bytes a Sentinel would send, read into replies by
 * hiredis's reader as the client's connection does, and each reply is
 * given to store_parse_master_addr; the input is also tried whole, as a
 * string, on store_parse_hostport (the sentinels setting).
 *
 * Checks, with the target's own reading of the rules:
 *   - an accepted answer is an array of two bulk strings; the first is the
 *     address exactly as inet_ntop writes the one returned, the second the
 *     port in 1..65535, in 1 to 5 decimal digits;
 *   - a refusal says why (a non-empty, terminated reason) and leaves the
 *     address and port as they were;
 *   - the same for ADDRESS[:PORT] strings.
 */
#include "fuzzer.h"
#include "store.h"

#include <arpa/inet.h>
#include <hiredis/hiredis.h>

static bool fz_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return n > 0;
}

static void fz_reply(const redisReply *rep)
{
	struct in_addr a = {.s_addr = 0x5a5a5a5a};
	uint16_t port = 0x5a5a;
	char err[160], ip[INET_ADDRSTRLEN];

	memset(err, 0x7f, sizeof(err));
	int r = store_parse_master_addr(rep, &a, &port, err, sizeof(err));
	CHECK(r == 0 || r == -1);
	if (r < 0) {
		CHECK(a.s_addr == 0x5a5a5a5a && port == 0x5a5a);
		CHECK(memchr(err, '\0', sizeof(err)) != NULL && err[0] != '\0');
		return;
	}
	CHECK(rep->type == REDIS_REPLY_ARRAY && rep->elements == 2);
	const redisReply *e0 = rep->element[0], *e1 = rep->element[1];
	CHECK(e0->type == REDIS_REPLY_STRING && e1->type == REDIS_REPLY_STRING);
	CHECK(inet_ntop(AF_INET, &a, ip, sizeof(ip)) != NULL);
	CHECK(strlen(ip) == e0->len && memcmp(ip, e0->str, e0->len) == 0);
	CHECK(e1->len <= 5 && fz_digits(e1->str, e1->len));
	CHECK(port >= 1 && strtoul(e1->str, NULL, 10) == port);
}

static void fz_hostport(const uint8_t *data, size_t size)
{
	char s[64], err[200], ip[INET_ADDRSTRLEN];
	struct in_addr a = {.s_addr = 0x5a5a5a5a};
	uint16_t port = 0x5a5a;

	if (size >= sizeof(s) || memchr(data, '\0', size) != NULL)
		return;
	memcpy(s, data, size);
	s[size] = '\0';
	int r = store_parse_hostport(s, 26379, &a, &port, err, sizeof(err));
	CHECK(r == 0 || r == -1);
	if (r < 0) {
		CHECK(a.s_addr == 0x5a5a5a5a && port == 0x5a5a && err[0] != '\0');
		return;
	}
	const char *colon = strchr(s, ':');
	size_t iplen = colon ? (size_t)(colon - s) : size;
	CHECK(inet_ntop(AF_INET, &a, ip, sizeof(ip)) != NULL);
	CHECK(strlen(ip) == iplen && memcmp(ip, s, iplen) == 0);
	if (colon == NULL) {
		CHECK(port == 26379);
		return;
	}
	CHECK(strlen(colon + 1) <= 5 && fz_digits(colon + 1, strlen(colon + 1)));
	CHECK(port >= 1 && strtoul(colon + 1, NULL, 10) == port);
}

/*
 * hiredis 0.14 allocates what an array header announces (*444444442
 * asks for gigabytes) before any element arrives: that is hiredis's, and
 * the FA trusts its Sentinels and Redis servers that far (doc/sa-reuse.md).
 * Inputs announcing more than 1024 elements are left out.
 */
static bool fz_big_array(const uint8_t *data, size_t size)
{
	for (size_t i = 0; i < size; i++) {
		unsigned long n = 0;
		size_t j = i + 1;
		if (data[i] != '*')
			continue;
		while (j < size && data[j] >= '0' && data[j] <= '9' && n <= 1024)
			n = n * 10 + (unsigned long)(data[j++] - '0');
		if (n > 1024)
			return true;
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	redisReader *rd;
	void *rep = NULL;

	if (size > 4096)
		return 0;
	fz_hostport(data, size);
	if (fz_big_array(data, size))
		return 0;
	rd = redisReaderCreate();
	CHECK(rd != NULL);
	if (redisReaderFeed(rd, (const char *)data, size) == REDIS_OK) {
		/* every complete reply in the input, as a connection would deliver them */
		for (int i = 0; i < 64; i++) {
			rep = NULL;
			if (redisReaderGetReply(rd, &rep) != REDIS_OK || rep == NULL)
				break;
			fz_reply(rep);
			freeReplyObject(rep);
		}
	}
	redisReaderFree(rd);
	return 0;
}
