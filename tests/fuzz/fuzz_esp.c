/*
 * Fuzz the ESP module (common/esp.c).  The first input byte picks one of
 * nine algorithm / key-size configurations (byte % 9) and one of four modes
 * (byte / 9 % 4); the rest of the input is the data:
 *
 *   0  esp_decap of the bytes as they come against a fixed SA, then again
 *      with this SA's SPI and a fresh sequence number written in, so the
 *      ICV check is reached.  Must fail cleanly (the ICV cannot be forged),
 *      move exactly one counter, leave the window alone.
 *   1  round trip: the bytes (after a 4-byte starting counter) as the inner
 *      packet through esp_encap and esp_decap, in place or not; must come
 *      back equal; a replay must be refused; a one-byte change picked by the
 *      input must be refused with the error that byte calls for.
 *   2  the trailer: the bytes, cut to whole blocks, sealed as a whole ESP
 *      plaintext with the test hook (valid ICV, padding and Next Header as
 *      the fuzzer likes); esp_decap must agree with an independent reading
 *      of the trailer.
 *   3  the anti-replay window: the bytes as a start value and a list of
 *      moves, checked step by step against a model (a set of every number
 *      accepted).
 *
 * Every input sets up and clears its own SAs, so a leak shows.
 *
 * The seed corpus in tests/fuzz/corpus/fuzz_esp/ is written by this file
 * built as a program, after make:
 *   cc -std=c11 -D_GNU_SOURCE -DFUZZ_ESP_MAKE_SEEDS -Icommon tests/fuzz/fuzz_esp.c \
 *      common/libmipsa.a -lcrypto -o /tmp/mkseeds
 *   /tmp/mkseeds tests/fuzz/corpus/fuzz_esp
 */
#include "buf.h"
#include "esp.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#define N_CFG    9
#define N_MODE   4
#define FZ_SPI   0x00c0ffee
#define MAX_DATA (ESP_MAX_INNER + 256)

static const struct {
	enum esp_alg alg;
	size_t key_len;
} cfgs[N_CFG] = {
	{ESP_ALG_AES_CBC_HMAC_SHA1_96, 16},
	{ESP_ALG_AES_CBC_HMAC_SHA1_96, 24},
	{ESP_ALG_AES_CBC_HMAC_SHA1_96, 32},
	{ESP_ALG_AES_CBC_HMAC_SHA256_128, 16},
	{ESP_ALG_AES_CBC_HMAC_SHA256_128, 24},
	{ESP_ALG_AES_CBC_HMAC_SHA256_128, 32},
	{ESP_ALG_AES_GCM_16, 16},
	{ESP_ALG_AES_GCM_16, 24},
	{ESP_ALG_AES_GCM_16, 32},
};

static uint8_t pkt[MAX_DATA + 128], back[MAX_DATA + 128], work[MAX_DATA + 128];
static uint8_t orig[MAX_DATA], copy[MAX_DATA];

static void fz_sa(int c, struct esp_sa *sa)
{
	uint8_t key[ESP_MAX_KEY_LEN + ESP_GCM_SALT_LEN], auth[ESP_MAX_AUTH_KEY];
	bool gcm = cfgs[c].alg == ESP_ALG_AES_GCM_16;
	size_t alen = cfgs[c].alg == ESP_ALG_AES_CBC_HMAC_SHA1_96 ? 20 : gcm ? 0 : 32;

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(0x5a ^ (i * 11 + (size_t)c));
	for (size_t i = 0; i < sizeof(auth); i++)
		auth[i] = (uint8_t)(0xc3 ^ (i * 17 + (size_t)c));
	CHECK(esp_sa_init(sa, FZ_SPI, cfgs[c].alg, key,
			  cfgs[c].key_len + (gcm ? ESP_GCM_SALT_LEN : 0), gcm ? NULL : auth,
			  alen) == ESP_OK);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint64_t inbound_events(const struct esp_stats *s)
{
	return s->in_packets + s->in_drop_header + s->in_drop_spi + s->in_drop_replay +
	       s->in_drop_auth + s->in_drop_pad + s->in_drop_next_hdr + s->in_errors;
}

/* What a decap that failed must leave: nothing out, one event counted. */
static void check_decap(const struct esp_sa *rx, uint64_t events_before, enum esp_err r,
			size_t inner_len, size_t len)
{
	CHECK(r >= ESP_OK && r < ESP_E_MAX);
	CHECK(inbound_events(&rx->stats) == events_before + 1);
	if (r == ESP_OK)
		CHECK(inner_len <= len);
	else
		CHECK(inner_len == 0);
}

/*
 * esp_decap accepted p[0..n) as carrying inner[0..len): then sealing that
 * inner packet again, with the packet's own sequence number, IV and padding
 * length, must give back exactly those bytes.
 */
static void check_accepted(int c, const uint8_t *p, size_t n, const uint8_t *inner, size_t len)
{
	struct esp_sa tx;
	struct esp_sa_state st;
	size_t hdr, ctlen, pad;
	struct buf b;

	fz_sa(c, &tx);
	hdr = esp_header_len(tx.alg);
	CHECK(n >= hdr + tx.icv_len + ESP_TRAILER_LEN);
	ctlen = n - hdr - tx.icv_len;
	CHECK(ctlen >= len + ESP_TRAILER_LEN);
	pad = ctlen - ESP_TRAILER_LEN - len;
	CHECK(pad <= 255);
	memcpy(work, inner, len);
	for (size_t i = 0; i < pad; i++)
		work[len + i] = (uint8_t)(i + 1);
	work[ctlen - 2] = (uint8_t)pad;
	work[ctlen - 1] = ESP_NEXT_IPV4;
	esp_sa_export_state(&tx, &st);
	st.seq_out = be32(p + 4) - 1;
	CHECK(esp_sa_import_state(&tx, &st) == ESP_OK);
	buf_init_write(&b, pkt, sizeof(pkt));
	CHECK(esp_seal_raw(&tx, p + ESP_HDR_LEN, work, ctlen, &b) == ESP_OK);
	CHECK(buf_used(&b) == n && memcmp(pkt, p, n) == 0);
	esp_sa_clear(&tx);
}

/* Mode 0: arbitrary bytes as an ESP packet. */
static void fuzz_decap_raw(int c, const uint8_t *d, size_t n)
{
	struct esp_sa rx;
	size_t out_len = 7;
	uint64_t ev, top;
	enum esp_err r;

	fz_sa(c, &rx);
	ev = inbound_events(&rx.stats);
	r = esp_decap(&rx, d, n, back, sizeof(back), &out_len);
	check_decap(&rx, ev, r, out_len, n);
	CHECK(r != ESP_E_INVAL && r != ESP_E_CRYPTO && r != ESP_E_NOSPACE);
	if (n < ESP_HDR_LEN) {
		CHECK(r == ESP_E_HEADER);
		goto out;
	}
	if (r == ESP_E_SPI)
		CHECK(be32(d) != FZ_SPI);
	if (r == ESP_E_REPLAY)
		CHECK(be32(d + 4) == 0);
	if (r == ESP_OK) /* a genuine packet (a seed, or a lucky guess) */
		check_accepted(c, d, n, back, out_len);

	/*
	 * This SA's SPI and a sequence number above the window: the ICV check
	 * is reached.  It fails, unless the result is a genuine packet (the
	 * fuzzer can restore one by changing a genuine packet's number).
	 */
	top = rx.replay.top;
	memcpy(copy, d, n);
	put_be32(copy, FZ_SPI);
	put_be32(copy + 4, (uint32_t)top + 1);
	ev = inbound_events(&rx.stats);
	r = esp_decap(&rx, copy, n, back, sizeof(back), &out_len);
	check_decap(&rx, ev, r, out_len, n);
	if (r == ESP_OK) {
		check_accepted(c, copy, n, back, out_len);
		CHECK(rx.replay.top == top + 1);
	} else {
		CHECK(r == ESP_E_HEADER || r == ESP_E_AUTH);
		CHECK(rx.replay.top == top);
	}
out:
	esp_sa_clear(&rx);
}

/* Mode 1: the bytes as an inner packet, there and back. */
static void fuzz_round_trip(int c, const uint8_t *d, size_t n)
{
	struct esp_sa tx, rx;
	struct esp_sa_state st;
	uint32_t start = 0, seq;
	size_t len, hdr, got = 0;
	bool in_place = false;
	struct buf b;
	enum esp_err r;

	if (n >= 4) {
		start = be32(d);
		in_place = (start & 1) != 0;
		d += 4;
		n -= 4;
	}
	if (n > ESP_MAX_INNER)
		n = ESP_MAX_INNER;
	memcpy(orig, d, n);
	fz_sa(c, &tx);
	fz_sa(c, &rx);
	esp_sa_export_state(&tx, &st);
	st.seq_out = start;
	CHECK(esp_sa_import_state(&tx, &st) == ESP_OK);
	hdr = esp_header_len(tx.alg);

	if (in_place) {
		memmove(pkt + hdr, d, n);
		d = pkt + hdr;
	}
	buf_init_write(&b, pkt, sizeof(pkt));
	r = esp_encap(&tx, n > 0 ? d : NULL, n, &b);
	if (start == ESP_SEQ_MAX) {
		CHECK(r == ESP_E_SEQ_OVERFLOW && buf_used(&b) == 0);
		CHECK(tx.stats.out_seq_overflow == 1);
		goto out;
	}
	CHECK(r == ESP_OK);
	len = buf_used(&b);
	seq = start + 1;
	CHECK(len == esp_encap_len(tx.alg, n));
	CHECK(len <= n + esp_overhead(tx.alg));
	CHECK(be32(pkt) == FZ_SPI && be32(pkt + 4) == seq);
	if (tx.alg == ESP_ALG_AES_GCM_16)
		CHECK(be32(pkt + 8) == 0 && be32(pkt + 12) == seq);
	memcpy(work, pkt, len); /* an untouched copy, for the forgery and the replay */

	/*
	 * First a copy with one byte changed, where the input says: refused
	 * with the error that byte calls for, and the window does not move.
	 */
	if (n >= 2) {
		size_t pos = (size_t)(orig[0] | orig[1] << 8) % len;
		uint8_t mask = (uint8_t)(orig[n - 1] | 1);
		enum esp_err want = ESP_E_AUTH;

		work[pos] ^= mask;
		if (pos < 4)
			want = ESP_E_SPI;
		else if (pos < 8 && be32(work + 4) == 0)
			want = ESP_E_REPLAY;
		CHECK(esp_decap(&rx, work, len, back, sizeof(back), &got) == want);
		CHECK(got == 0);
		CHECK(rx.replay.top == 0);
		work[pos] ^= mask;
	}

	if (in_place)
		r = esp_decap(&rx, pkt, len, pkt + hdr, sizeof(pkt) - hdr, &got);
	else
		r = esp_decap(&rx, pkt, len, back, sizeof(back), &got);
	CHECK(r == ESP_OK);
	CHECK(got == n);
	CHECK(n == 0 || memcmp(in_place ? pkt + hdr : back, orig, n) == 0);
	CHECK(rx.replay.top == seq);
	CHECK(rx.stats.in_packets == 1 && rx.stats.in_bytes == n);

	CHECK(esp_decap(&rx, work, len, back, sizeof(back), &got) == ESP_E_REPLAY);
	CHECK(rx.replay.top == seq);
out:
	esp_sa_clear(&tx);
	esp_sa_clear(&rx);
}

/* Mode 2: a whole ESP plaintext of the fuzzer's making, with a valid ICV. */
static void fuzz_trailer(int c, const uint8_t *d, size_t n)
{
	struct esp_sa tx, rx;
	size_t align, ptlen, pad, got = 9, want_len = 0;
	enum esp_err want = ESP_OK, r;
	struct buf b;

	fz_sa(c, &tx);
	fz_sa(c, &rx);
	align = tx.align;
	if (n > ESP_MAX_INNER)
		n = ESP_MAX_INNER;
	ptlen = n / align * align;
	buf_init_write(&b, pkt, sizeof(pkt));
	r = esp_seal_raw(&tx, NULL, d, ptlen, &b);
	if (ptlen == 0) {
		CHECK(r == ESP_E_INVAL && buf_used(&b) == 0);
		goto out;
	}
	CHECK(r == ESP_OK);

	/* The trailer, read independently of esp.c. */
	pad = d[ptlen - 2];
	if (pad > ptlen - 2) {
		want = ESP_E_PAD;
	} else {
		for (size_t i = 0; i < pad; i++)
			if (d[ptlen - 2 - pad + i] != i + 1)
				want = ESP_E_PAD;
		if (want == ESP_OK && d[ptlen - 1] != ESP_NEXT_IPV4)
			want = ESP_E_NEXT_HDR;
		want_len = ptlen - 2 - pad;
	}
	/* Exactly the room the plaintext needs. */
	r = esp_decap(&rx, pkt, buf_used(&b), back, ptlen, &got);
	CHECK(r == want);
	CHECK(rx.replay.top == 1); /* authentic either way */
	if (want == ESP_OK) {
		CHECK(got == want_len);
		CHECK(want_len == 0 || memcmp(back, d, want_len) == 0);
		CHECK(rx.stats.in_packets == 1);
	} else {
		CHECK(got == 0);
		for (size_t i = 0; i < ptlen; i++)
			CHECK(back[i] == 0);
		CHECK(rx.stats.in_drop_pad + rx.stats.in_drop_next_hdr == 1);
	}
out:
	esp_sa_clear(&tx);
	esp_sa_clear(&rx);
}

/* Mode 3: the window against a model. */
#define SET_SIZE 8192 /* a power of two above the most moves an input can make */
static uint64_t set[SET_SIZE];
static bool set_used[SET_SIZE];

static size_t set_slot(uint64_t v)
{
	size_t i = (size_t)(v * 0x9e3779b97f4a7c15ull >> 51) & (SET_SIZE - 1);

	while (set_used[i] && set[i] != v)
		i = (i + 1) & (SET_SIZE - 1);
	return i;
}

static void fuzz_replay(const uint8_t *d, size_t n)
{
	struct esp_replay w;
	uint64_t start = 0, top;
	size_t moves = 0;

	memset(set_used, 0, sizeof(set_used));
	if (n >= 4) {
		start = be32(d);
		start = (start & 0x80000000u) ? start & 0xffff : 0; /* mostly from 0 */
		d += 4;
		n -= 4;
	}
	esp_replay_init(&w, start);
	top = start;
	for (size_t i = 0; i + 1 < n && moves < SET_SIZE / 2; i += 2, moves++) {
		unsigned v = (unsigned)(d[i] << 8 | d[i + 1]);
		unsigned amt = v & 0x3fff;
		uint64_t seq;
		bool want;
		size_t slot;

		switch (v >> 14) {
		case 0:
			seq = top + 1 + (amt & 7);
			break;
		case 1:
			seq = top + amt;
			break;
		case 2:
			seq = top >= amt ? top - amt : 0;
			break;
		default:
			seq = top >= ESP_REPLAY_WINDOW + (amt & 63) - 32
				      ? top - ESP_REPLAY_WINDOW - (amt & 63) + 32
				      : amt;
			break;
		}
		slot = set_slot(seq);
		want = seq != 0 && seq > start && !set_used[slot] &&
		       (seq > top || top - seq < ESP_REPLAY_WINDOW);
		CHECK(esp_replay_check(&w, seq) == want);
		CHECK(esp_replay_update(&w, seq) == (want ? 0 : -1));
		if (want) {
			set_used[slot] = true;
			set[slot] = seq;
			if (seq > top)
				top = seq;
		}
		CHECK(w.top == top);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* The drops are logged (rate-limited); FUZZ_ESP_LOG=1 shows them. */
	log_set_level(getenv("FUZZ_ESP_LOG") != NULL ? LOG_LVL_DEBUG : LOG_LVL_ERR);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int c, mode;

	if (size < 1 || size > MAX_DATA)
		return 0;
	c = data[0] % N_CFG;
	mode = data[0] / N_CFG % N_MODE;
	data++;
	size--;
	switch (mode) {
	case 0:
		fuzz_decap_raw(c, data, size);
		break;
	case 1:
		fuzz_round_trip(c, data, size);
		break;
	case 2:
		fuzz_trailer(c, data, size);
		break;
	default:
		fuzz_replay(data, size);
		break;
	}
	return 0;
}

#ifdef FUZZ_ESP_MAKE_SEEDS
/* ---- the seed corpus ---- */

static const char *seed_dir;

static void seed(const char *name, uint8_t sel, const uint8_t *d, size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", seed_dir, name);
	f = fopen(path, "wb");
	CHECK(f != NULL);
	CHECK(fputc(sel, f) != EOF);
	CHECK(n == 0 || fwrite(d, 1, n, f) == n);
	CHECK(fclose(f) == 0);
}

int main(int argc, char **argv)
{
	/* IPv4/UDP 10.0.0.1:434 -> 10.0.0.2:434 "RFC 768!" */
	static const uint8_t udp[36] = {
		0x45, 0x00, 0x00, 0x24, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x11, 0x0a, 0x81,
		0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02, 0x01, 0xb2, 0x01, 0xb2,
		0x00, 0x10, 0xe3, 0xa9, 0x52, 0x46, 0x43, 0x20, 0x37, 0x36, 0x38, 0x21,
	};
	static uint8_t big[1404];
	uint8_t buf[2048], pt[64];
	char name[64];

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	seed_dir = argv[1];
	for (int c = 0; c < N_CFG; c++) {
		struct esp_sa tx;
		struct buf b;
		size_t ptlen = cfgs[c].alg == ESP_ALG_AES_GCM_16 ? 40 : 48;

		/* 0: a genuine packet under the fuzzer's keys. */
		fz_sa(c, &tx);
		buf_init_write(&b, buf, sizeof(buf));
		CHECK(esp_encap(&tx, udp, sizeof(udp), &b) == ESP_OK);
		snprintf(name, sizeof(name), "decap-%d", c);
		seed(name, (uint8_t)c, buf, buf_used(&b));
		esp_sa_clear(&tx);

		/* 1: round trips, a small packet and a 1400-byte one starting near the limit. */
		memset(buf, 0, 4);
		memcpy(buf + 4, udp, sizeof(udp));
		snprintf(name, sizeof(name), "trip-%d", c);
		seed(name, (uint8_t)(c + N_CFG), buf, 4 + sizeof(udp));
		big[0] = 0xff;
		big[1] = 0xff;
		big[2] = 0xff;
		big[3] = 0xf0;
		memcpy(big + 4, udp, sizeof(udp));
		big[6] = 0x05;
		big[7] = 0x78;
		snprintf(name, sizeof(name), "trip-big-%d", c);
		seed(name, (uint8_t)(c + N_CFG), big, sizeof(big));

		/* 2: a well-formed plaintext, and one with a broken padding byte. */
		memset(pt, 0, sizeof(pt));
		memcpy(pt, udp, sizeof(udp));
		for (size_t i = 0; i < ptlen - 38; i++)
			pt[36 + i] = (uint8_t)(i + 1);
		pt[ptlen - 2] = (uint8_t)(ptlen - 38);
		pt[ptlen - 1] = ESP_NEXT_IPV4;
		snprintf(name, sizeof(name), "trailer-%d", c);
		seed(name, (uint8_t)(c + 2 * N_CFG), pt, ptlen);
		pt[37] ^= 0x10;
		snprintf(name, sizeof(name), "trailer-badpad-%d", c);
		seed(name, (uint8_t)(c + 2 * N_CFG), pt, ptlen);
	}
	/* 3: the window -- in order, a reorder, a jump past the window, the edge, from 1000. */
	static const uint8_t moves[] = {
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x02, 0x80, 0x02,
		0x80, 0x01, 0x4f, 0xc0, 0xc0, 0x20, 0xc0, 0x1f, 0xc0, 0x21, 0x00, 0x00,
	};
	seed("replay", 3 * N_CFG, moves, sizeof(moves));
	uint8_t from[sizeof(moves)];
	memcpy(from, moves, sizeof(moves));
	from[0] = 0x80;
	from[2] = 0x03;
	from[3] = 0xe8;
	seed("replay-from-1000", 3 * N_CFG, from, sizeof(from));
	return 0;
}
#endif
