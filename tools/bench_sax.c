/*
 * bench_sax: SA transfers per second through the sax codec.  One transfer
 * is what a hand-over costs the two FAs: the new FA builds a REQUEST
 * (sax_stamp, the node's 143-byte registration sealed with AES-256-GCM,
 * HMAC), the previous FA parses it (HMAC, freshness, GCM open, TLV, replay
 * cache), builds the RECORD (one ISAKMP SA and two IPsec SA pairs, sealed
 * with AES-256-GCM, HMAC) and the new FA parses it (HMAC, freshness, GCM
 * open, TLVs, replay cache).  Also the four steps timed alone.  Prints
 * figures; asserts nothing about them.
 *
 *   bench_sax [-n transfers]
 */
#include "bench.h"
#include "bench_record.h"
#include "buf.h"
#include "ike.h"
#include "ike_xfer.h"
#include "mip_auth.h"
#include "mip_msg.h"
#include "sax.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/*
 * The registration a node sends with SA reuse, as mipsa's node builds it:
 * fixed part, NAI, MN-HA, the SA reuse extension and its proof under the
 * record's SKEYID_a (143 bytes).  The codec never looks inside: only its
 * length matters here, but it is the real thing.
 */
static int fill_registration(struct sax_request *q, const struct sax_record *r)
{
	static const uint8_t mn_ha_key[16] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
					      0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
	struct mip_reg_request rq = {.flags = MIP_RQ_T,
				     .lifetime = 300,
				     .home_addr = r->home_addr,
				     .home_agent = ip("10.0.1.1"),
				     .coa = ip("198.18.2.2"),
				     .id = (uint64_t)(wall_ms() / 1000 + 2208988800u) << 32};
	struct mip_reuse_req reuse = {.prev_coa = r->prev_coa, .mn_sent = 905, .mn_received = 998};
	uint8_t *auth;
	size_t covered;
	struct buf b;

	memcpy(reuse.icookie, r->isakmp.icookie, 8);
	memcpy(reuse.rcookie, r->isakmp.rcookie, 8);
	buf_init_write(&b, q->reg, sizeof(q->reg));
	if (mip_request_put(&b, &rq) < 0 || mip_ext_put_nai(&b, "mn1@example.net", 15) < 0 ||
	    mip_ext_put_auth(&b, MIP_EXT_MN_HA_AUTH, 1001, mn_ha_key, sizeof(mn_ha_key)) < 0 ||
	    mip_ext_put_reuse(&b, &reuse, r->isakmp.hash_len, &auth, &covered) < 0 ||
	    ike_possession_mac(&r->isakmp, buf_data(&b), covered, auth) < 0)
		return -1;
	q->reg_len = (uint16_t)buf_used(&b);
	return 0;
}

int main(int argc, char **argv)
{
	static struct sax_msg req, rec, in;
	struct sax_keys k;
	struct sax_replay *rc_prev, *rc_new;
	uint8_t m1[SAX_MSG_MAX], m2[SAX_MSG_MAX];
	double t[4] = {0}, t0, t1, total;
	long n = 100000;
	size_t l1 = 0, l2 = 0;
	int opt;

	while ((opt = getopt(argc, argv, "n:")) != -1) {
		if (opt != 'n' || (n = atol(optarg)) <= 0) {
			fprintf(stderr, "usage: %s [-n transfers]\n", argv[0]);
			return 2;
		}
	}
	memset(&k, 0, sizeof(k));
	for (size_t i = 0; i < SAX_KEY_LEN; i++) {
		k.k_sa[i] = (uint8_t)(i * 7 + 1);
		k.k_db[i] = (uint8_t)(i * 13 + 5);
	}
	k.have_k_sa = true;
	rc_prev = sax_replay_new((size_t)n + 1, 30000);
	rc_new = sax_replay_new((size_t)n + 1, 30000);
	if (rc_prev == NULL || rc_new == NULL)
		return 1;

	req.type = SAX_REQUEST;
	memcpy(req.mn_id, "mn1@example.net", 15);
	req.mn_id_len = 15;
	inet_pton(AF_INET, "198.18.2.2", &req.sender);
	rec = req;
	rec.type = SAX_RECORD;
	rec.has_record = true;
	inet_pton(AF_INET, "198.18.1.2", &rec.sender);
	rec.expires_ms = wall_ms() + 3600 * 1000;
	bench_fill_record(&rec.rec, rec.expires_ms);
	if (fill_registration(&req.req, &rec.rec) < 0) {
		fprintf(stderr, "bench_sax: cannot build the registration\n");
		return 1;
	}

	total = now();
	for (long i = 0; i < n; i++) {
		struct buf b;
		enum sax_err e;

		t0 = now();
		sax_stamp(&req);
		buf_init_write(&b, m1, sizeof(m1));
		e = sax_build(&b, &req, &k);
		l1 = buf_used(&b);
		t1 = now();
		t[0] += t1 - t0;
		if (e == SAX_E_OK)
			e = sax_parse(m1, l1, &k, wall_ms(), 30000, rc_prev, &in);
		t0 = now();
		t[1] += t0 - t1;
		sax_stamp(&rec);
		buf_init_write(&b, m2, sizeof(m2));
		if (e == SAX_E_OK)
			e = sax_build(&b, &rec, &k);
		l2 = buf_used(&b);
		t1 = now();
		t[2] += t1 - t0;
		if (e == SAX_E_OK)
			e = sax_parse(m2, l2, &k, wall_ms(), 30000, rc_new, &in);
		t[3] += now() - t1;
		if (e != SAX_E_OK) {
			fprintf(stderr, "bench_sax: transfer %ld: %s\n", i, sax_err_name(e));
			return 1;
		}
		sax_record_wipe(&in.rec);
	}
	total = now() - total;
	printf("sax: %ld transfers (REQUEST %zu bytes with a %u-byte registration, RECORD %zu "
	       "bytes with 1 ISAKMP SA + 2 IPsec SA pairs)\n",
	       n, l1, req.req.reg_len, l2);
	printf("  whole transfer (build+parse REQUEST, build+parse RECORD): %.0f transfers/s "
	       "(%.2f us each)\n",
	       (double)n / total, total / (double)n * 1e6);
	printf("  build REQUEST   %9.0f /s\n", (double)n / t[0]);
	printf("  parse REQUEST   %9.0f /s\n", (double)n / t[1]);
	printf("  build RECORD    %9.0f /s\n", (double)n / t[2]);
	printf("  parse RECORD    %9.0f /s\n", (double)n / t[3]);
	sax_replay_free(rc_prev);
	sax_replay_free(rc_new);
	sax_keys_wipe(&k);
	sax_record_wipe(&rec.rec);
	return 0;
}
