/*
 * The record an FA keeps for one node and moves at hand-over, with the
 * shape and sizes of the real thing: one ISAKMP SA (AES-256, SHA-256,
 * MODP2048, its three keys and an ID) and two IPsec SA pairs (AES-GCM-256
 * keys with their salts, sequence numbers).  Shared by the benchmarks that
 * seal it (bench_sax, bench_store) so they measure the same bytes.
 */
#ifndef MIPSA_BENCH_RECORD_H
#define MIPSA_BENCH_RECORD_H

#include "bench.h"
#include "sax.h"

#include <string.h>

static inline void bench_fill_record(struct sax_record *r, uint64_t expires)
{
	struct sax_isakmp *x = &r->isakmp;

	memset(r, 0, sizeof(*r));
	memset(x->icookie, 0x11, 8);
	memset(x->rcookie, 0x22, 8);
	x->hash = 4;
	x->key_bits = 256;
	x->group = 14;
	x->auth = 1;
	x->hash_len = 32;
	x->enc_key_len = 32;
	memset(x->skeyid_d, 0x33, 32);
	memset(x->skeyid_a, 0x44, 32);
	memset(x->enc_key, 0x55, 32);
	memset(x->p1_last, 0x66, 16);
	x->expires_ms = expires;
	x->peer_id_type = 1;
	x->peer_id_len = 4;
	memcpy(x->peer_id, "\x0a\x00\x01\x05", 4);
	inet_pton(AF_INET, "10.0.1.5", &x->peer);
	inet_pton(AF_INET, "10.0.1.1", &x->local);
	x->peer_port = x->local_port = 500;
	r->n_children = 2;
	for (size_t i = 0; i < 2; i++) {
		struct sax_child *c = &r->children[i];

		c->spi_in = 0x1000 + (uint32_t)i;
		c->spi_out = 0x2000 + (uint32_t)i;
		c->alg = 2; /* AES-GCM-16 */
		c->key_bits = 256;
		c->enc_len = 36;
		memset(c->enc_in, 0x77, 36);
		memset(c->enc_out, 0x88, 36);
		c->expires_ms = expires;
		c->seq_out = 1000;
		c->replay_top = 900;
		c->local_plen = c->remote_plen = 32;
	}
	inet_pton(AF_INET, "10.0.1.5", &r->home_addr);
	inet_pton(AF_INET, "198.18.1.2", &r->prev_coa);
}

#endif
