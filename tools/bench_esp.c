/*
 * bench_esp: throughput of esp_encap and esp_decap, per algorithm and key
 * size, for 1400-byte inner packets (or the size given with -s).  Packets go
 * through in batches: a batch is encapsulated (timed), then decapsulated in
 * order by a second SA with the same keys (timed), so every decapsulation is
 * a full one (replay check, ICV, decryption, padding) and the sequence
 * numbers only grow.  Prints figures; asserts nothing about them.
 *
 *   bench_esp [-n packets] [-s inner-bytes] [-c] [-m]
 *
 * MB/s counts inner-packet bytes, 10^6 bytes to the MB.
 *
 * -c: the same with the SAs' keyed contexts borrowed from a cache as the
 * FA's pairs borrow them (esp_sa_init_cached): every packet a hit, the
 * rows named "hit: ...".  -m: then also the miss path, two SAs taking
 * turns on one slot so that every packet keys it ("miss: ...", with the
 * time per packet over the hit's).
 */
#include "bench.h"
#include "buf.h"
#include "esp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BATCH   256
#define MAX_PKT 9000

static const struct {
	const char *name;
	enum esp_alg alg;
	size_t key_len;
} configs[] = {
	{"AES-128-CBC + HMAC-SHA1-96", ESP_ALG_AES_CBC_HMAC_SHA1_96, 16},
	{"AES-256-CBC + HMAC-SHA1-96", ESP_ALG_AES_CBC_HMAC_SHA1_96, 32},
	{"AES-128-CBC + HMAC-SHA256-128", ESP_ALG_AES_CBC_HMAC_SHA256_128, 16},
	{"AES-256-CBC + HMAC-SHA256-128", ESP_ALG_AES_CBC_HMAC_SHA256_128, 32},
	{"AES-128-GCM-16", ESP_ALG_AES_GCM_16, 16},
	{"AES-256-GCM-16", ESP_ALG_AES_GCM_16, 32},
};

static struct esp_cache *cache; /* -c: the SAs borrow keyed contexts from it */

static int setup(int c, struct esp_sa *sa, enum esp_dir dir, uint8_t salt)
{
	uint8_t key[ESP_MAX_KEY_LEN + ESP_GCM_SALT_LEN], auth[ESP_MAX_AUTH_KEY];
	bool gcm = configs[c].alg == ESP_ALG_AES_GCM_16;
	size_t alen = configs[c].alg == ESP_ALG_AES_CBC_HMAC_SHA1_96 ? 20 : gcm ? 0 : 32;

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 13 + 1 + salt);
	for (size_t i = 0; i < sizeof(auth); i++)
		auth[i] = (uint8_t)(i * 29 + 7 + salt);
	return esp_sa_init_cached(sa, dir == ESP_DIR_BOTH ? NULL : cache, dir, 0x1000 + (uint32_t)c,
				  configs[c].alg, key,
				  configs[c].key_len + (gcm ? ESP_GCM_SALT_LEN : 0),
				  gcm ? NULL : auth, alen) == ESP_OK
		       ? 0
		       : -1;
}

static double t_hit_enc, t_hit_dec; /* seconds per packet of the last run */

static int run(int c, long packets, size_t size)
{
	static uint8_t pkts[BATCH][MAX_PKT + 64];
	static size_t lens[BATCH];
	uint8_t inner[MAX_PKT], back[MAX_PKT + 64];
	struct esp_sa tx, rx;
	double t_enc = 0, t_dec = 0, t0;
	long done = 0;
	int rc = -1;

	for (size_t i = 0; i < size; i++)
		inner[i] = (uint8_t)(i * 7);
	inner[0] = 0x45;
	memset(&tx, 0, sizeof(tx));
	memset(&rx, 0, sizeof(rx));
	if (setup(c, &tx, cache ? ESP_DIR_OUT : ESP_DIR_BOTH, 0) != 0 ||
	    setup(c, &rx, cache ? ESP_DIR_IN : ESP_DIR_BOTH, 0) != 0) {
		fprintf(stderr, "bench_esp: cannot set up %s\n", configs[c].name);
		goto out;
	}
	while (done < packets) {
		int n = packets - done < BATCH ? (int)(packets - done) : BATCH;

		t0 = now();
		for (int i = 0; i < n; i++) {
			struct buf b;

			buf_init_write(&b, pkts[i], sizeof(pkts[i]));
			if (esp_encap(&tx, inner, size, &b) != ESP_OK)
				goto fail;
			lens[i] = buf_used(&b);
		}
		t_enc += now() - t0;
		t0 = now();
		for (int i = 0; i < n; i++) {
			size_t got;

			if (esp_decap(&rx, pkts[i], lens[i], back, sizeof(back), &got) != ESP_OK ||
			    got != size)
				goto fail;
		}
		t_dec += now() - t0;
		done += n;
	}
	if (memcmp(back, inner, size) != 0)
		goto fail;
	t_hit_enc = t_enc / (double)done;
	t_hit_dec = t_dec / (double)done;
	printf("%s%-30s  encap %9.0f pkt/s %8.1f MB/s   decap %9.0f pkt/s %8.1f MB/s\n",
	       cache ? "hit: " : "", configs[c].name, (double)done / t_enc,
	       (double)done * (double)size / t_enc / 1e6, (double)done / t_dec,
	       (double)done * (double)size / t_dec / 1e6);
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "bench_esp: %s: a packet failed\n", configs[c].name);
out:
	esp_sa_clear(&tx);
	esp_sa_clear(&rx);
	return rc;
}

/*
 * The miss path: two SAs of one direction take turns on a cache of one
 * slot, so every packet keys it; their peers keep their own contexts.
 */
static int run_miss(int c, long packets, size_t size)
{
	static uint8_t pkt[2][MAX_PKT + 64];
	uint8_t inner[MAX_PKT], back[MAX_PKT + 64];
	struct esp_cache *saved = cache;
	struct esp_sa tx[2], rx[2];
	size_t lens[2], got;
	double t_enc = 0, t_dec = 0, t0;
	int rc = -1;

	memset(tx, 0, sizeof(tx));
	memset(rx, 0, sizeof(rx));
	for (size_t i = 0; i < size; i++)
		inner[i] = (uint8_t)(i * 7);
	inner[0] = 0x45;
	cache = esp_cache_new(1);
	/* Outbound: the cached SAs miss, their receivers have their own contexts. */
	for (int k = 0; k < 2; k++)
		if (cache == NULL || setup(c, &tx[k], ESP_DIR_OUT, (uint8_t)k) != 0 ||
		    setup(c, &rx[k], ESP_DIR_BOTH, (uint8_t)k) != 0)
			goto fail;
	for (long i = 0; i < packets; i++) {
		int k = (int)(i & 1);
		struct buf b;

		buf_init_write(&b, pkt[0], sizeof(pkt[0]));
		t0 = now();
		if (esp_encap(&tx[k], inner, size, &b) != ESP_OK)
			goto fail;
		t_enc += now() - t0;
		if (esp_decap(&rx[k], pkt[0], buf_used(&b), back, sizeof(back), &got) != ESP_OK)
			goto fail;
	}
	for (int k = 0; k < 2; k++) {
		esp_sa_clear(&tx[k]);
		esp_sa_clear(&rx[k]);
	}
	/* Inbound: own senders, cached receivers. */
	for (int k = 0; k < 2; k++)
		if (setup(c, &tx[k], ESP_DIR_BOTH, (uint8_t)k) != 0 ||
		    setup(c, &rx[k], ESP_DIR_IN, (uint8_t)k) != 0)
			goto fail;
	for (long i = 0; i < packets; i += 2) {
		for (int k = 0; k < 2; k++) {
			struct buf b;

			buf_init_write(&b, pkt[k], sizeof(pkt[k]));
			if (esp_encap(&tx[k], inner, size, &b) != ESP_OK)
				goto fail;
			lens[k] = buf_used(&b);
		}
		t0 = now();
		for (int k = 0; k < 2; k++)
			if (esp_decap(&rx[k], pkt[k], lens[k], back, sizeof(back), &got) !=
				    ESP_OK ||
			    got != size)
				goto fail;
		t_dec += now() - t0;
	}
	double e = t_enc / (double)packets, d = t_dec / (double)(packets + (packets & 1));
	printf("miss: %-24s  encap %9.0f pkt/s (%.2f us per packet, %.2f over a hit)   decap %9.0f "
	       "pkt/s (%.2f us, %.2f over a hit)\n",
	       configs[c].name, 1 / e, e * 1e6, (e - t_hit_enc) * 1e6, 1 / d, d * 1e6,
	       (d - t_hit_dec) * 1e6);
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "bench_esp: %s: the miss path failed\n", configs[c].name);
out:
	for (int k = 0; k < 2; k++) {
		esp_sa_clear(&tx[k]);
		esp_sa_clear(&rx[k]);
	}
	esp_cache_free(cache);
	cache = saved;
	return rc;
}

int main(int argc, char **argv)
{
	long packets = 200000;
	size_t size = 1400;
	int opt, rc = 0;

	bool use_cache = false, misses = false;

	while ((opt = getopt(argc, argv, "n:s:cm")) != -1) {
		switch (opt) {
		case 'm':
			misses = true;
			use_cache = true;
			break;
		case 'c':
			use_cache = true;
			break;
		case 'n':
			packets = strtol(optarg, NULL, 10);
			break;
		case 's':
			size = (size_t)strtoul(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr,
				"usage: bench_esp [-n packets] [-s inner-bytes] [-c] [-m]\n");
			return 2;
		}
	}
	if (packets <= 0 || size < 20 || size > MAX_PKT) {
		fprintf(stderr, "bench_esp: packets > 0, 20 <= size <= %d\n", MAX_PKT);
		return 2;
	}
	printf("bench_esp: %ld packets of %zu bytes per algorithm, one thread%s\n", packets, size,
	       use_cache ? ", keyed contexts from a cache" : "");
	for (int c = 0; c < (int)(sizeof(configs) / sizeof(configs[0])); c++) {
		if (use_cache && (cache = esp_cache_new(2)) == NULL)
			return 1;
		if (run(c, packets, size) != 0 || (misses && run_miss(c, packets / 10, size) != 0))
			rc = 1;
		esp_cache_free(cache);
		cache = NULL;
	}
	return rc;
}
