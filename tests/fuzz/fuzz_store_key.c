/*
 * Fuzz the key file parser of the store client and of mipsa-dbs,
 * store_parse_key (common/store.c): the input is the content of a key file.
 *
 * The rules (store.h): exactly 32 bytes that are not all hex digits are a
 * raw key; otherwise, after cutting white space off both ends, exactly 64
 * hex digits (either case) are the key in hex; anything else is refused
 * with a reason.  This target decides that with its own code (its own
 * character classes, no <ctype.h>) and checks that the parser agrees:
 *
 *   - it accepts exactly the inputs of one of the two shapes;
 *   - an accepted raw key is the 32 bytes as they are, a hex key their
 *     decoding;
 *   - a refusal leaves the key as it was and says why: a non-empty,
 *     NUL-terminated reason that fits err, also when err is small.
 *
 * The seed corpus in tests/fuzz/corpus/fuzz_store_key/ is written by this
 * file built as a program:
 *   cc -std=c11 -DFUZZ_STORE_KEY_MAKE_SEEDS tests/fuzz/fuzz_store_key.c -o /tmp/mkseeds
 *   /tmp/mkseeds tests/fuzz/corpus/fuzz_store_key
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FZ_KEY_LEN 32 /* SAX_KEY_LEN */

#ifndef FUZZ_STORE_KEY_MAKE_SEEDS
#include "store.h"

_Static_assert(SAX_KEY_LEN == FZ_KEY_LEN, "a store key is 32 bytes");

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* The C locale's white space and hex digits, spelled out. */
static bool fz_space(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

static int fz_hex(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The key the rules give for data, or false when they refuse it. */
static bool fz_expect(const uint8_t *data, size_t len, uint8_t key[FZ_KEY_LEN])
{
	size_t a = 0, b = len, hex = 0;

	for (size_t i = 0; i < len; i++)
		hex += fz_hex(data[i]) >= 0;
	if (len == FZ_KEY_LEN && hex < len) {
		memcpy(key, data, FZ_KEY_LEN);
		return true;
	}
	while (a < b && fz_space(data[a]))
		a++;
	while (b > a && fz_space(data[b - 1]))
		b--;
	if (b - a != 2 * FZ_KEY_LEN)
		return false;
	for (size_t i = 0; i < FZ_KEY_LEN; i++) {
		int hi = fz_hex(data[a + 2 * i]), lo = fz_hex(data[a + 2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		key[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

static void fz_one(const uint8_t *data, size_t size, size_t errlen, bool want,
		   const uint8_t expect[FZ_KEY_LEN])
{
	static const uint8_t sentinel[FZ_KEY_LEN] = {0xa5, 0x5a, 0xa5, 0x5a, 0xa5, 0x5a, 0xa5};
	uint8_t key[FZ_KEY_LEN];
	char err[320];
	int r;

	memcpy(key, sentinel, sizeof(key));
	memset(err, 0x7f, sizeof(err));
	r = store_parse_key(data, size, key, err, errlen);
	CHECK(r == 0 || r == -1);
	CHECK((r == 0) == want);
	if (r == 0) {
		CHECK(memcmp(key, expect, FZ_KEY_LEN) == 0);
		return;
	}
	CHECK(memcmp(key, sentinel, FZ_KEY_LEN) == 0); /* a refused file changes nothing */
	/* snprintf into errlen bytes: the rest of err untouched, the reason terminated */
	for (size_t i = errlen; i < sizeof(err); i++)
		CHECK(err[i] == 0x7f);
	if (errlen > 0) {
		CHECK(memchr(err, '\0', errlen) != NULL);
		CHECK(errlen == 1 || err[0] != '\0');
	}
	if (errlen == sizeof(err) - 64)
		CHECK(strstr(err, "expected 64 hex digits or 32 raw bytes") != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t expect[FZ_KEY_LEN];
	bool want;

	/* A key file is read whole, up to 256 bytes (STORE_KEY_FILE_MAX); test a bit more. */
	if (size > 1024)
		return 0;
	want = fz_expect(data, size, expect);
	fz_one(data, size, 256, want, expect);
	/* the same with a reason buffer cut short (the size taken from the input) */
	fz_one(data, size, size == 0 ? 0 : data[size - 1] % 24, want, expect);
	return 0;
}

#else
/* ---- the seed corpus ---- */

static const char *seed_dir;

static void seed(const char *name, const void *d, size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", seed_dir, name);
	f = fopen(path, "wb");
	if (f == NULL || (n > 0 && fwrite(d, 1, n, f) != n) || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

#define SEED_STR(name, s) seed(name, s, sizeof(s) - 1)

int main(int argc, char **argv)
{
	static const char hex[] =
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
	uint8_t raw[FZ_KEY_LEN + 1];
	char buf[160];

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	seed_dir = argv[1];
	/* accepted: hex as `openssl rand -hex 32` writes it, and variants */
	snprintf(buf, sizeof(buf), "%s\n", hex);
	seed("hex-newline", buf, strlen(buf));
	seed("hex-bare", hex, 64);
	SEED_STR("hex-upper-crlf",
		 "A0B1C2D3E4F5A6B7C8D9EAFB0C1D2E3F405162738495A6B7C8D9EAFB0C1D2E3F\r\n");
	SEED_STR("hex-mixed-space",
		 " \t\v\fDeadBeef00112233445566778899aAbBcCdDeEfF0011223344556677ffEE \n\n");
	/* accepted: 32 raw bytes (not all hex), e.g. head -c 32 /dev/urandom */
	for (size_t i = 0; i < FZ_KEY_LEN; i++)
		raw[i] = (uint8_t)(i * 37 + 11);
	seed("raw", raw, FZ_KEY_LEN);
	memcpy(raw, "0123456789abcdef0123456789abcde ", FZ_KEY_LEN);
	seed("raw-one-space", raw, FZ_KEY_LEN); /* 31 hex digits and a space: raw */
	memset(raw, ' ', FZ_KEY_LEN);
	seed("raw-all-space", raw, FZ_KEY_LEN);
	/* refused */
	seed("hex-32-digits", hex, 32); /* 32 bytes, all hex: neither shape */
	seed("hex-63", hex, 63);
	snprintf(buf, sizeof(buf), "%s0", hex);
	seed("hex-65", buf, 65);
	snprintf(buf, sizeof(buf), "%.31s %.32s\n", hex, hex + 32);
	seed("hex-inner-space", buf, strlen(buf));
	snprintf(buf, sizeof(buf), "%.40sg%.23s\n", hex, hex + 41);
	seed("hex-not-digit", buf, strlen(buf));
	snprintf(buf, sizeof(buf), "0x%.62s", hex);
	seed("hex-0x", buf, 64);
	for (size_t i = 0; i < FZ_KEY_LEN; i++)
		raw[i] = (uint8_t)(i * 37 + 11);
	raw[FZ_KEY_LEN] = '\n';
	seed("raw-newline", raw, FZ_KEY_LEN + 1); /* 33 bytes */
	seed("empty", "", 0);
	SEED_STR("space-only", " \n\t\r\n");
	snprintf(buf, sizeof(buf), "%s%c", hex, 0);
	seed("hex-nul", buf, 65);
	return 0;
}
#endif
