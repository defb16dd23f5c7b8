/*
 * bench_esp: throughput of esp_encap and esp_decap, per algorithm and key
 * size, for 1400-byte inner packets (or the size given with -s).  Packets go
 * through in batches: a batch is encapsulated (timed), then decapsulated in
 * order by a second SA with the same keys (timed), so every decapsulation is
 * a full one (replay check, ICV, decryption, padding) and the sequence
 * numbers only grow.  Prints figures; asserts nothing about them.
 *
 *   bench_esp [-n packets] [-s inner-bytes]
 *
 * MB/s counts inner-packet bytes, 10^6 bytes to the MB.
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

static int setup(int c, struct esp_sa *sa)
{
	uint8_t key[ESP_MAX_KEY_LEN + ESP_GCM_SALT_LEN], auth[ESP_MAX_AUTH_KEY];
	bool gcm = configs[c].alg == ESP_ALG_AES_GCM_16;
	size_t alen = configs[c].alg == ESP_ALG_AES_CBC_HMAC_SHA1_96 ? 20 : gcm ? 0 : 32;

	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 13 + 1);
	for (size_t i = 0; i < sizeof(auth); i++)
		auth[i] = (uint8_t)(i * 29 + 7);
	return esp_sa_init(sa, 0x1000 + (uint32_t)c, configs[c].alg, key,
			   configs[c].key_len + (gcm ? ESP_GCM_SALT_LEN : 0), gcm ? NULL : auth,
			   alen) == ESP_OK
		       ? 0
		       : -1;
}

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
	if (setup(c, &tx) != 0 || setup(c, &rx) != 0) {
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
	printf("%-30s  encap %9.0f pkt/s %8.1f MB/s   decap %9.0f pkt/s %8.1f MB/s\n",
	       configs[c].name, (double)done / t_enc, (double)done * (double)size / t_enc / 1e6,
	       (double)done / t_dec, (double)done * (double)size / t_dec / 1e6);
	rc = 0;
	goto out;
fail:
	fprintf(stderr, "bench_esp: %s: a packet failed\n", configs[c].name);
out:
	esp_sa_clear(&tx);
	esp_sa_clear(&rx);
	return rc;
}

int main(int argc, char **argv)
{
	long packets = 200000;
	size_t size = 1400;
	int opt, rc = 0;

	while ((opt = getopt(argc, argv, "n:s:")) != -1) {
		switch (opt) {
		case 'n':
			packets = strtol(optarg, NULL, 10);
			break;
		case 's':
			size = (size_t)strtoul(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: bench_esp [-n packets] [-s inner-bytes]\n");
			return 2;
		}
	}
	if (packets <= 0 || size < 20 || size > MAX_PKT) {
		fprintf(stderr, "bench_esp: packets > 0, 20 <= size <= %d\n", MAX_PKT);
		return 2;
	}
	printf("bench_esp: %ld packets of %zu bytes per algorithm, one thread\n", packets, size);
	for (int c = 0; c < (int)(sizeof(configs) / sizeof(configs[0])); c++)
		if (run(c, packets, size) != 0)
			rc = 1;
	return rc;
}
