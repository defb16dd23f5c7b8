/*
 * bench_state: the state a foreign agent holds per mobile node
 * (doc/design.md, targets: 10,000 nodes on one FA, at most 4 KiB per node
 * for binding + ISAKMP SA + IPsec SAs).  For N nodes it builds what mipsa-fa really
 * holds, the way the FA itself builds it:
 *
 *  - the visitor entry: a Registration Request from the node's MAC through
 *    fa_from_link() (relayed to the home agent) and the home agent's
 *    accepting Reply (MN-HA, FA-HA) through fa_from_ha() (fa/libfa.a);
 *  - one ISAKMP SA and one IPsec SA pair: a synthetic sax_record with
 *    random keys, installed with ike_import() into the FA's IKE engine
 *    (as a full-reuse hand-over does, fa_xfer_install), then ipsec_add()
 *    and ipsec_take_over() for the pair, as fa_ike_child_up and
 *    fa_xfer_seq do;
 *  - the keyed-context cache the FA gives its pairs (ipsec_use_cache with
 *    conf/fa.conf's esp_cache_pairs, IPSEC_CACHE_PAIRS): an idle pair holds
 *    its raw keys only, and the cache's cost is measured full, after
 *    traffic both ways through as many pairs as it holds, and counted
 *    against the target spread over the nodes.
 *
 * Heap bytes come from mallinfo2() (uordblks + hblkhd: large tables are
 * mmapped) before and after each step; the split inside a step uses
 * malloc_usable_size() of the structures the step allocated and the
 * tables' capacities.  RSS is VmRSS from /proc/self/status.  Then it
 * times lookups and checks that every node is found by SPI and by home
 * address and that ESP from a sample of nodes opens under the installed
 * keys; a wrong state prints an error and exits 1.  Timings are printed,
 * never judged.
 *
 *   bench_state [-n nodes] [-a cbc|gcm|both]
 */
#include "bench.h"
#include "buf.h"
#include "esp.h"
#include "evloop.h"
#include "fa.h"
#include "ike.h"
#include "ike_xfer.h"
#include "ip4.h"
#include "ipsec.h"
#include "log.h"
#include "mip_msg.h"
#include "sax.h"
#include "u32map.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <malloc.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TARGET_BYTES 4096
#define ESP_SAMPLES  128
#define ALIAS        "198.19.0.1"
#define FA_COA       "198.18.11.2"
#define HA_ADDR      "198.18.100.1"
#define CN_ADDR      "203.0.113.5"
#define MN_PORT      434
#define LIFETIME     600

/* Bytes the allocator hands out: small chunks and mmapped ones. */
static double heap(void)
{
	struct mallinfo2 mi = mallinfo2();

	return (double)mi.uordblks + (double)mi.hblkhd;
}

/* What one allocation occupies in glibc's heap: its usable size and the size field. */
static size_t chunk(void *p)
{
	return malloc_usable_size(p) + sizeof(size_t);
}

static double rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	double kib = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0)
			kib = strtod(line + 6, NULL);
	fclose(f);
	return kib;
}

static size_t map_bytes(const struct u32map *m)
{
	return m->cap * sizeof(struct u32map_slot);
}

/* ---- the nodes ---- */

static struct in_addr home_of(size_t i)
{
	return (struct in_addr){htonl(0x0a000000u + (uint32_t)i + 1)}; /* 10.0.0.1 ... */
}

static void mac_of(size_t i, uint8_t mac[6])
{
	mac[0] = 0x02;
	mac[1] = 0x00;
	mac[2] = (uint8_t)(i >> 24);
	mac[3] = (uint8_t)(i >> 16);
	mac[4] = (uint8_t)(i >> 8);
	mac[5] = (uint8_t)i;
}

/* SPIs as the engine draws them (ike_spi_alloc): random, unique, >= ESP_SPI_MIN. */
static uint32_t *spi_tab;

static uint32_t spi_in_of(size_t i)
{
	return spi_tab[2 * i];
}

static uint32_t spi_out_of(size_t i)
{
	return spi_tab[2 * i + 1];
}

static void rnd(void *p, size_t n)
{
	if (RAND_bytes(p, (int)n) != 1)
		abort();
}

static int spis_draw(size_t n)
{
	struct u32map seen;
	int rc = 0;

	spi_tab = calloc(2 * n, sizeof(*spi_tab));
	if (spi_tab == NULL)
		return -1;
	u32map_init(&seen);
	for (size_t i = 0; i < 2 * n && rc == 0; i++) {
		do
			rnd(&spi_tab[i], sizeof(spi_tab[i]));
		while (spi_tab[i] < ESP_SPI_MIN || u32map_get(&seen, spi_tab[i]) != NULL);
		rc = u32map_put(&seen, spi_tab[i], spi_tab);
	}
	u32map_free(&seen);
	return rc;
}

static void nai_of(size_t i, char *s, size_t n)
{
	snprintf(s, n, "mn%zu@home.example", i);
}

/* What a previous FA's RECORD carries for node i: one ISAKMP SA, one IPsec SA pair. */
static void fill_record(struct sax_record *r, size_t i, enum esp_alg alg, uint64_t wall)
{
	struct sax_isakmp *x = &r->isakmp;
	struct sax_child *c = &r->children[0];
	char nai[64];

	memset(r, 0, sizeof(*r));
	rnd(x->icookie, 8);
	rnd(x->rcookie, 8);
	x->hash = IKE_HASH_SHA2_256;
	x->hash_len = 32;
	x->key_bits = 128;
	x->enc_key_len = 16;
	x->group = IKE_GROUP_MODP2048;
	x->auth = IKE_AUTH_PSK;
	rnd(x->skeyid_d, 32);
	rnd(x->skeyid_a, 32);
	rnd(x->enc_key, 16);
	rnd(x->p1_last, 16);
	x->expires_ms = wall + 10000ull * 1000;
	rnd(&x->dpd_seq, sizeof(x->dpd_seq));
	x->dpd_seq &= 0x7fffffff;
	nai_of(i, nai, sizeof(nai));
	x->peer_id_type = 3; /* USER_FQDN */
	x->peer_id_len = (uint8_t)strlen(nai);
	memcpy(x->peer_id, nai, x->peer_id_len);
	x->peer = home_of(i);
	x->local = ip(ALIAS);
	x->peer_port = x->local_port = 500;

	r->n_children = 1;
	c->spi_in = spi_in_of(i);
	c->spi_out = spi_out_of(i);
	c->alg = (uint8_t)alg;
	c->key_bits = 128;
	c->enc_len = alg == ESP_ALG_AES_GCM_16 ? 16 + ESP_GCM_SALT_LEN : 16;
	c->auth_len = alg == ESP_ALG_AES_GCM_16 ? 0 : 20;
	rnd(c->enc_in, c->enc_len);
	rnd(c->enc_out, c->enc_len);
	if (c->auth_len > 0) {
		rnd(c->auth_in, c->auth_len);
		rnd(c->auth_out, c->auth_len);
	}
	c->expires_ms = wall + 3500ull * 1000;
	c->bytes = 123456;
	c->seq_out = 5000;
	c->replay_top = 4000;
	c->local_port = c->peer_port = 500;
	c->remote_net = home_of(i);
	c->remote_plen = 32;
	r->home_addr = home_of(i);
	r->prev_coa = ip("198.18.12.2");
}

/* ---- the FA's outputs: counted, not sent ---- */

struct outputs {
	size_t to_link, to_ha, other;
};

static void on_link(void *arg, const uint8_t mac[6], const uint8_t *pkt, size_t len)
{
	((struct outputs *)arg)->to_link++;
}

static void on_ha(void *arg, struct in_addr ha, const uint8_t *msg, size_t len)
{
	((struct outputs *)arg)->to_ha++;
}

static void on_other(void *arg, const uint8_t *pkt, size_t len)
{
	((struct outputs *)arg)->other++;
}

/* ---- the IKE engine's callbacks: the FA's child_up runs ipsec_add (see install) ---- */

struct state {
	size_t n;
	enum esp_alg alg;
	struct ev_loop *loop;
	struct ike_engine *eng;
	struct ipsec ipsec;
	struct fa fa;
	struct fa_peer_key ha_key;
	struct ike_peer *peers; /* the FA's ipsec.peers: one per node */
	struct ike_child **children;
	struct ike_sa **sas;
	struct sax_child *keys; /* every node's pair as its record carried it (the node's side) */
	size_t cache_pairs;     /* ipsec_use_cache's bound */
	double cache_base;      /* heap of the empty cache (its slot array) */
	size_t n_up;
	struct outputs out;
	struct u32map macs; /* as fa_learn_mac keeps them (fa_ipsec.c) */
};

static void eng_send(void *arg, struct in_addr local, uint16_t lport, struct in_addr peer,
		     uint16_t pport, const uint8_t *msg, size_t len)
{
	((struct state *)arg)->out.other++;
}

static void eng_child_up(void *arg, struct ike_child *c)
{
	struct state *s = arg;

	if (s->n_up < s->n)
		s->children[s->n_up] = c;
	s->n_up++;
}

static void eng_child_down(void *arg, struct ike_child *c, const char *why)
{
	ipsec_del(&((struct state *)arg)->ipsec, c->spi_in);
}

/* ---- building it ---- */

static const struct mip_key mn_ha_key = {.spi = 1000, .key = "mn-ha key 16 byt", .len = 16};

/* Node i registers through us; *t gets the FA's time (fa_from_link and fa_from_ha). */
static int register_visitor(struct state *s, size_t i, uint64_t now_ms, double *t)
{
	struct in_addr home = home_of(i);
	struct mip_reg_request rq = {.flags = MIP_RQ_T,
				     .lifetime = LIFETIME,
				     .home_addr = home,
				     .home_agent = ip(HA_ADDR),
				     .coa = ip(FA_COA),
				     .id = ((uint64_t)3900000000u << 32) | (uint32_t)i};
	struct mip_reg_reply rp = {
		.code = MIP_CODE_ACCEPTED, .lifetime = LIFETIME, .home_addr = home, .id = rq.id};
	const struct mip_key *k = &mn_ha_key;
	uint8_t msg[512], pkt[600], mac[6];
	char nai[64];
	struct buf b, p;
	double t0;

	rp.home_agent = rq.home_agent;
	nai_of(i, nai, sizeof(nai));
	mac_of(i, mac);
	buf_init_write(&b, msg, sizeof(msg));
	buf_init_write(&p, pkt, sizeof(pkt));
	if (mip_request_put(&b, &rq) < 0 || mip_ext_put_nai(&b, nai, strlen(nai)) < 0 ||
	    mip_ext_put_auth(&b, MIP_EXT_MN_HA_AUTH, k->spi, k->key, k->len) < 0 ||
	    ip4_udp_put(&p, home, s->fa.cfg.alias, MN_PORT, MIP_PORT, 64, msg, buf_used(&b)) < 0)
		return -1;
	t0 = now();
	fa_from_link(&s->fa, mac, pkt, buf_used(&p), now_ms);
	*t += now() - t0;
	buf_init_write(&b, msg, sizeof(msg));
	if (mip_reply_put(&b, &rp) < 0 ||
	    mip_ext_put_auth(&b, MIP_EXT_MN_HA_AUTH, k->spi, k->key, k->len) < 0 ||
	    mip_ext_put_auth(&b, MIP_EXT_FA_HA_AUTH, s->ha_key.key.spi, s->ha_key.key.key,
			     s->ha_key.key.len) < 0)
		return -1;
	t0 = now();
	fa_from_ha(&s->fa, rq.home_agent, msg, buf_used(&b), now_ms);
	*t += now() - t0;
	struct fa_visitor *v = fa_find_visitor(&s->fa, home);
	return v != NULL && v->active ? 0 : -1;
}

/* What fa_learn_mac() does for a node whose IKE went through this FA (daemon code). */
static int learn_mac(struct state *s, size_t i)
{
	uint8_t *m = malloc(6);

	if (m == NULL)
		return -1;
	mac_of(i, m);
	if (u32map_put(&s->macs, home_of(i).s_addr, m) < 0) {
		free(m);
		return -1;
	}
	return 0;
}

static int setup(struct state *s, size_t n, enum esp_alg alg)
{
	struct ike_config ic;
	struct ike_ops ops = {
		.send = eng_send, .child_up = eng_child_up, .child_down = eng_child_down, .arg = s};
	struct fa_config fc = {.alias = ip(ALIAS),
			       .alias_plen = 24,
			       .coa = ip(FA_COA),
			       .adv_interval_ms = 1000,
			       .adv_lifetime = 3,
			       .max_lifetime = LIFETIME,
			       .pending_timeout_ms = 7000,
			       .max_visitors = (uint32_t)n,
			       .reverse_tunnel = true};
	struct fa_ops fo = {.to_link = on_link,
			    .to_ha = on_ha,
			    .to_tunnel = on_other,
			    .to_forward = on_other,
			    .arg = &s->out};

	memset(s, 0, sizeof(*s));
	s->n = n;
	s->alg = alg;
	s->ha_key.addr = ip(HA_ADDR);
	s->ha_key.key = (struct mip_key){.spi = 2001, .key = "fa-ha key 16 byt", .len = 16};
	fc.has = &s->ha_key;
	fc.n_has = 1;
	/* conf/fa.conf's ipsec group */
	ike_config_defaults(&ic);
	ike_id_parse("fa.domain-a.example", &ic.local_id);
	ic.dpd_interval_s = 30;
	free(spi_tab);
	if (spis_draw(n) < 0)
		return -1;
	s->loop = ev_loop_new();
	s->children = calloc(n, sizeof(*s->children));
	s->sas = calloc(n, sizeof(*s->sas));
	s->keys = calloc(n, sizeof(*s->keys));
	s->peers = calloc(n, sizeof(*s->peers));
	if (s->loop == NULL || s->children == NULL || s->sas == NULL || s->keys == NULL ||
	    s->peers == NULL)
		return -1;
	/* One peer per node, by home address, as in conf/fa.conf. */
	for (size_t i = 0; i < n; i++) {
		struct ike_peer *pc = &s->peers[i];
		char nai[64];
		nai_of(i, nai, sizeof(nai));
		snprintf(pc->name, sizeof(pc->name), "mn%zu", i);
		pc->addr = home_of(i);
		ike_id_parse(nai, &pc->id);
		rnd(pc->psk, 24);
		pc->psk_len = 24;
		pc->remote_net = home_of(i);
		pc->remote_plen = 32;
	}
	s->eng = ike_engine_new(s->loop, &ic, &ops);
	if (s->eng == NULL)
		return -1;
	ipsec_init(&s->ipsec);
	/* As fa_sec_init does with conf/fa.conf's default. */
	double h = heap();
	s->cache_pairs = IPSEC_CACHE_PAIRS;
	if (ipsec_use_cache(&s->ipsec, s->cache_pairs) < 0)
		return -1;
	s->cache_base = heap() - h;
	u32map_init(&s->macs);
	return fa_init(&s->fa, &fc, &fo);
}

static void teardown(struct state *s)
{
	/* The engine's child_down takes the pairs out of s->ipsec. */
	ike_engine_free(s->eng);
	ipsec_free(&s->ipsec);
	fa_free(&s->fa);
	ev_loop_free(s->loop);
	free(s->children);
	free(s->sas);
	free(spi_tab);
	spi_tab = NULL;
	if (s->keys != NULL) {
		OPENSSL_cleanse(s->keys, s->n * sizeof(*s->keys));
		free(s->keys);
	}
	if (s->peers != NULL) {
		for (size_t i = 0; i < s->n; i++)
			OPENSSL_cleanse(s->peers[i].psk, sizeof(s->peers[i].psk));
		free(s->peers);
	}
	size_t it = 0;
	uint32_t k;
	void *v;
	while (u32map_next(&s->macs, &it, &k, &v))
		free(v);
	u32map_free(&s->macs);
}

/* Load OpenSSL's algorithms before the first measurement, so it charges no node with them. */
static int warm_up(void)
{
	uint8_t key[ESP_MAX_KEY_LEN + ESP_GCM_SALT_LEN] = {1}, auth[ESP_MAX_AUTH_KEY] = {2};
	struct esp_sa sa;
	int r = 0;

	memset(&sa, 0, sizeof(sa));
	if (esp_sa_init(&sa, 0x1000, ESP_ALG_AES_CBC_HMAC_SHA1_96, key, 16, auth, 20) != ESP_OK)
		r = -1;
	esp_sa_clear(&sa);
	if (esp_sa_init(&sa, 0x1000, ESP_ALG_AES_GCM_16, key, 20, NULL, 0) != ESP_OK)
		r = -1;
	esp_sa_clear(&sa);
	return r;
}

/* ---- checking it ---- */

/* The nodes whose records are kept for the ESP check: all, or ESP_SAMPLES spread out. */
static size_t sample_step(size_t n)
{
	return n <= ESP_SAMPLES ? 1 : n / ESP_SAMPLES;
}

static size_t sample_node(size_t n, size_t k)
{
	return k * sample_step(n);
}

static int fail(const char *what, size_t i)
{
	fprintf(stderr, "bench_state: state is wrong: %s (node %zu, %s)\n", what, i,
		IP4_STR(home_of(i)));
	return -1;
}

/* A packet node i sends under the keys of its record: it must open at the FA. */
static int esp_round_trip(struct state *s, size_t i, struct sax_child *c)
{
	uint8_t inner[200], esp[400], back[400];
	struct esp_sa mn;
	struct ipsec_pair *pp = NULL;
	struct buf b;
	size_t ilen;
	struct ip4_pkt bp;
	int rc = -1;

	memset(&mn, 0, sizeof(mn));
	buf_init_write(&b, inner, sizeof(inner));
	if (ip4_udp_put(&b, home_of(i), ip(CN_ADDR), 5000, 7, 64, (const uint8_t *)"ping", 4) < 0)
		return fail("cannot build a packet", i);
	ilen = buf_used(&b);
	if (esp_sa_init(&mn, c->spi_in, (enum esp_alg)c->alg, c->enc_in, c->enc_len,
			c->auth_len ? c->auth_in : NULL, c->auth_len) != ESP_OK)
		return fail("cannot set up the node's ESP SA", i);
	/* The node goes on above what it reported sending. */
	mn.seq_out = c->seq_out + 10;
	buf_init_write(&b, esp, sizeof(esp));
	if (esp_encap(&mn, inner, ilen, &b) != ESP_OK)
		fail("esp_encap", i);
	else if (ipsec_open(&s->ipsec, esp, buf_used(&b), back, sizeof(back), &bp, &pp) != IPSEC_OK)
		fail("ESP from the node does not open under the installed keys", i);
	else if (pp == NULL || pp->key != home_of(i).s_addr || (size_t)bp.h.total_len != ilen ||
		 memcmp(back, inner, ilen) != 0)
		fail("ESP opened into the wrong pair or packet", i);
	else
		rc = 0;
	c->seq_out = mn.seq_out; /* the next packet from the node goes on from there */
	esp_sa_clear(&mn);
	return rc;
}

/* A packet the FA seals for node i: it must open under the keys of the node's record. */
static int esp_to_node(struct state *s, size_t i, const struct sax_child *c)
{
	uint8_t inner[200], pkt[400], back[400];
	struct ipsec_pair *p = ipsec_find(&s->ipsec, home_of(i).s_addr);
	struct esp_sa mn;
	size_t ilen, len = 0, got = 0;
	struct buf b;
	int rc = -1;

	memset(&mn, 0, sizeof(mn));
	buf_init_write(&b, inner, sizeof(inner));
	if (p == NULL ||
	    ip4_udp_put(&b, ip(CN_ADDR), home_of(i), 7, 5000, 64, (const uint8_t *)"pong", 4) < 0)
		return fail("no pair or no packet", i);
	ilen = buf_used(&b);
	if (esp_sa_init(&mn, c->spi_out, (enum esp_alg)c->alg, c->enc_out, c->enc_len,
			c->auth_len ? c->auth_out : NULL, c->auth_len) != ESP_OK)
		return fail("cannot set up the node's inbound ESP SA", i);
	if (ipsec_seal(p, inner, ilen, pkt, sizeof(pkt), &len) != ESP_OK || len < IP4_HDR_LEN)
		fail("ipsec_seal", i);
	else if (esp_decap(&mn, pkt + IP4_HDR_LEN, len - IP4_HDR_LEN, back, sizeof(back), &got) !=
			 ESP_OK ||
		 got != ilen || memcmp(back, inner, ilen) != 0)
		fail("ESP from the FA does not open under the node's keys", i);
	else
		rc = 0;
	esp_sa_clear(&mn);
	return rc;
}

/* Traffic both ways through nodes [from, to): keys (or hits) both slots of each pair. */
static int traffic(struct state *s, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (esp_round_trip(s, i, &s->keys[i]) < 0 || esp_to_node(s, i, &s->keys[i]) < 0)
			return -1;
	return 0;
}

static int check(struct state *s)
{
	size_t n_children = 0;

	if (u32map_len(&s->ipsec.by_spi) != s->n || u32map_len(&s->ipsec.by_key) != s->n ||
	    u32map_len(&s->fa.visitors) != s->n || s->n_up != s->n)
		return fail("wrong number of pairs, visitors or children", s->n);
	for (struct ike_child *c = ike_children(s->eng); c != NULL; c = c->next)
		n_children++;
	if (n_children != s->n)
		return fail("wrong number of IKE children", s->n);
	for (size_t i = 0; i < s->n; i++) {
		struct in_addr home = home_of(i);
		struct ipsec_pair *p = ipsec_find_spi(&s->ipsec, spi_in_of(i));
		struct fa_visitor *v = fa_find_visitor(&s->fa, home);

		if (p == NULL)
			return fail("no pair by SPI", i);
		if (ipsec_find(&s->ipsec, home.s_addr) != p)
			return fail("by home address, another pair (or none) than by SPI", i);
		if (p->in.spi != spi_in_of(i) || p->out.spi != spi_out_of(i) ||
		    p->key != home.s_addr || p->remote_net.s_addr != home.s_addr ||
		    p->in.alg != s->alg || p->child == NULL || p->child->spi_in != spi_in_of(i))
			return fail("pair with the wrong SPIs, algorithm or selector", i);
		if (p->out.seq_out < 5000 || p->in.replay.top < 4000)
			return fail("sequence numbers not taken over", i);
		if (v == NULL || !v->active || v->home_addr.s_addr != home.s_addr)
			return fail("no active visitor", i);
	}
	/* The engine keeps its ISAKMP SAs in a list: check a sample, spread over it. */
	for (size_t k = 0; k < 64 && k < s->n; k++) {
		size_t i = k * (s->n - 1) / (s->n > 64 ? 63 : (s->n > 1 ? s->n - 1 : 1));
		if (ike_sa_find_peer(s->eng, home_of(i)) != s->sas[i])
			return fail("ISAKMP SA not found by peer", i);
	}
	/* ESP from a sample of nodes under the keys their records carried. */
	for (size_t k = 0; k < ESP_SAMPLES && k < s->n; k++)
		if (esp_round_trip(s, sample_node(s->n, k), &s->keys[sample_node(s->n, k)]) < 0)
			return -1;
	return 0;
}

/* ---- one run ---- */

static volatile uintptr_t sink;
static bool first_run = true;

static void row(const char *label, double bytes)
{
	printf("    %-62s %7.0f\n", label, bytes);
}

static int run(size_t n, enum esp_alg alg)
{
	static struct state s;
	struct sax_record *rec = calloc(1, sizeof(*rec));
	double h0, h1, h2, h3, h4, h5, r0, r1, t, t_vis = 0, t_imp = 0, t_add = 0;
	size_t sa_chunks = 0, child_chunks = 0, pair_chunks = 0, n_last = n < 100 ? n : 100;
	double t_imp_last = 0;
	uint64_t now_ms;
	int rc = 1;

	if (rec == NULL || setup(&s, n, alg) < 0) {
		fprintf(stderr, "bench_state: setup failed\n");
		goto out;
	}
	now_ms = ev_now_ms();
	r0 = rss_kib();

	/* 1. visitors: request relayed, reply accepted */
	h0 = heap();
	for (size_t i = 0; i < n; i++) {
		if (register_visitor(&s, i, now_ms, &t_vis) < 0) {
			fail("registration not accepted", i);
			goto out;
		}
	}
	h1 = heap();

	/* 2. ISAKMP SA + IPsec SA pair per node, from records (the engine's side) */
	uint64_t wall = wall_ms();
	for (size_t i = 0; i < n; i++) {
		size_t up = s.n_up;
		fill_record(rec, i, alg, wall);
		s.keys[i] = rec->children[0];
		t = now();
		s.sas[i] = ike_import(s.eng, rec, &s.peers[i], true);
		t = now() - t;
		t_imp += t;
		if (i >= n - n_last)
			t_imp_last += t;
		sax_record_wipe(rec);
		if (s.sas[i] == NULL || s.n_up != up + 1) {
			fail("ike_import refused the record", i);
			goto out;
		}
		sa_chunks += chunk(s.sas[i]);
		child_chunks += chunk(s.children[i]);
	}
	h2 = heap();

	/* 3. the data plane's pairs (fa_ike_child_up, then fa_xfer_seq) */
	for (size_t i = 0; i < n; i++) {
		struct ike_child *c = s.children[i];
		t = now();
		struct ipsec_pair *p = ipsec_add(&s.ipsec, c, c->remote_net.s_addr);
		if (p == NULL || ipsec_take_over(p, 5000, 4000, 4100, 4900, false, 0) != ESP_OK) {
			fail("ipsec_add / ipsec_take_over", i);
			goto out;
		}
		t_add += now() - t;
		pair_chunks += chunk(p);
	}
	h3 = heap();
	r1 = rss_kib();

	/* outside the target: the MAC cache (daemon) */
	for (size_t i = 0; i < n; i++)
		if (learn_mac(&s, i) < 0) {
			fail("out of memory", i);
			goto out;
		}
	h4 = heap();

	/*
	 * The cache full: traffic both ways through as many nodes as it holds
	 * pairs.  Nothing else allocates here (the nodes' own SAs are freed).
	 */
	size_t n_busy = n < s.cache_pairs ? n : s.cache_pairs;
	if (traffic(&s, 0, n_busy) < 0)
		goto out;
	h5 = heap();
	struct esp_cache_stats cs1;
	/*
	 * Again (all hits), then the other nodes: past the bound each pair
	 * evicts the least recently used, and every node must still get
	 * through both ways.  What a hit and a miss cost: bench_esp -m.
	 */
	if (traffic(&s, 0, n_busy) < 0 || traffic(&s, n_busy, n) < 0)
		goto out;
	esp_cache_get_stats(s.ipsec.cache, &cs1);

	if (check(&s) < 0)
		goto out;

	/* lookups: the data path's (by SPI, by home address), the visitor list, IKE by peer */
	size_t m = n < 1000000 ? 1000000 : n;
	uintptr_t acc = 0;
	uint32_t x = 12345;
	double t_spi, t_home, t_vis1, t_ike;
	t = now();
	for (size_t k = 0; k < m; k++) {
		x = x * 1103515245u + 12345u;
		acc += (uintptr_t)ipsec_find_spi(&s.ipsec, spi_in_of(x % n));
	}
	t_spi = (now() - t) / (double)m;
	t = now();
	for (size_t k = 0; k < m; k++) {
		x = x * 1103515245u + 12345u;
		acc += (uintptr_t)ipsec_find(&s.ipsec, home_of(x % n).s_addr);
	}
	t_home = (now() - t) / (double)m;
	t = now();
	for (size_t k = 0; k < m; k++) {
		x = x * 1103515245u + 12345u;
		acc += (uintptr_t)fa_find_visitor(&s.fa, home_of(x % n));
	}
	t_vis1 = (now() - t) / (double)m;
	size_t mi = 200;
	t = now();
	for (size_t k = 0; k < mi; k++) {
		x = x * 1103515245u + 12345u;
		acc += (uintptr_t)ike_sa_find_peer(s.eng, home_of(x % n));
	}
	t_ike = (now() - t) / (double)mi;
	sink = acc;

	/* report */
	double dn = (double)n;
	double vis = (h1 - h0) / dn, vis_map = (double)map_bytes(&s.fa.visitors) / dn;
	double sa = (double)sa_chunks / dn, child = (double)child_chunks / dn;
	double eng_rest = (h2 - h1) / dn - sa - child;
	double pair = (double)pair_chunks / dn;
	double maps = (double)(map_bytes(&s.ipsec.by_spi) + map_bytes(&s.ipsec.by_key)) / dn;
	double ossl = (h3 - h2) / dn - pair - maps;
	double idle = (h3 - h0) / dn;
	double cache_full = h5 - h4 + s.cache_base, cache_pn = cache_full / dn;
	double total = idle + cache_pn;
	double peers_b = (double)(n * sizeof(struct ike_peer)) / dn;

	char label[96];
	printf("FA state for %zu mobile nodes, IPsec SA pair %s (keys random)\n", n,
	       alg == ESP_ALG_AES_GCM_16 ? "AES-128-GCM-16" : "AES-128-CBC + HMAC-SHA1-96");
	printf("  heap bytes per node (mallinfo2 uordblks + hblkhd, glibc chunks with headers):\n");
	snprintf(label, sizeof(label), "visitor: struct fa_visitor (%zu B) and the visitor map",
		 sizeof(struct fa_visitor));
	row(label, vis);
	snprintf(label, sizeof(label), "  of which the map (%zu slots)", s.fa.visitors.cap);
	row(label, vis_map);
	snprintf(label, sizeof(label), "ISAKMP SA: struct ike_sa (%zu B usable)",
		 sa_chunks / n - sizeof(size_t));
	row(label, sa);
	snprintf(label, sizeof(label), "IPsec SA pair, IKE engine: struct ike_child (%zu B)",
		 sizeof(struct ike_child));
	row(label, child);
	row("IKE engine: SPI map, timer heap (amortised)", eng_rest);
	snprintf(label, sizeof(label), "IPsec SA pair, data plane: struct ipsec_pair (%zu B)",
		 sizeof(struct ipsec_pair));
	row(label, pair);
	row("IPsec SA pair idle: OpenSSL contexts (none until it carries a packet)", ossl);
	row("ipsec maps by SPI and by home address (amortised)", maps);
	row("= an idle node", idle);
	snprintf(label, sizeof(label), "keyed-context cache full, %zu busy pairs (amortised)",
		 s.cache_pairs);
	row(label, cache_pn);
	row("total: binding + ISAKMP SA + IPsec SAs", total);
	if (h1 - h0 < (double)(n * sizeof(struct fa_visitor)))
		printf("    mallinfo2 does not see these allocations (valgrind, a sanitizer?): "
		       "no figures\n");
	else
		printf("    = %.2f KiB per node against the target of %d B: %s (%.1f x the "
		       "target)\n",
		       total / 1024, TARGET_BYTES, total <= TARGET_BYTES ? "met" : "MISSED",
		       total / TARGET_BYTES);
	printf("  the cache (esp_cache_pairs %zu): %.0f B full, %.0f B per busy pair (%s); its "
	       "slot\n"
	       "    array %.0f B; traffic through %zu nodes twice, then the other %zu, every node\n"
	       "    checked both ways: %" PRIu64 " hits, %" PRIu64 " misses, %" PRIu64
	       " evictions, %zu slots keyed\n",
	       s.cache_pairs, cache_full, n_busy ? (cache_full - s.cache_base) / (double)n_busy : 0,
	       alg == ESP_ALG_AES_GCM_16 ? "2 GCM cipher contexts"
					 : "2 CBC cipher, 2 HMAC contexts, an IV pool",
	       s.cache_base, n_busy, n - n_busy, cs1.hits, cs1.misses, cs1.evictions, cs1.bound);
	if (first_run)
		printf("  RSS (VmRSS) growth per node: %.0f B\n", (r1 - r0) * 1024 / dn);
	else
		printf("  RSS growth: not measured (this run reuses what the first one freed: "
		       "use -a)\n");
	printf("  not in the target, also per node: the FA's peer configuration (ipsec.peers,\n"
	       "    struct ike_peer) %.0f B, the MAC cache (as fa_learn_mac keeps it) %.0f B\n",
	       peers_b, (h4 - h3) / dn);
	printf("  install %zu nodes: %.3f s, %.2f us per node (registration %.2f, ike_import "
	       "%.2f,\n    ipsec_add + ipsec_take_over %.2f); ike_import of the last %zu: %.2f us "
	       "each\n",
	       n, t_vis + t_imp + t_add, (t_vis + t_imp + t_add) / dn * 1e6, t_vis / dn * 1e6,
	       t_imp / dn * 1e6, t_add / dn * 1e6, n_last, t_imp_last / (double)n_last * 1e6);
	printf("  lookup of one node among %zu: ipsec_find_spi %.0f ns, ipsec_find (home "
	       "address) %.0f ns,\n    fa_find_visitor %.0f ns, ike_sa_find_peer %.1f us\n",
	       n, t_spi * 1e9, t_home * 1e9, t_vis1 * 1e9, t_ike * 1e6);
	printf("  sanity: all %zu nodes found by SPI and by home address, %zu ESP round trips "
	       "under the records' keys: ok\n",
	       n, n < ESP_SAMPLES ? n : (size_t)ESP_SAMPLES);
	first_run = false;
	rc = 0;
out:
	teardown(&s);
	free(rec);
	return rc;
}

int main(int argc, char **argv)
{
	long n = 10000;
	const char *algs = "both";
	int opt, rc = 0;

	while ((opt = getopt(argc, argv, "n:a:")) != -1) {
		if (opt == 'n' && (n = atol(optarg)) > 0 && n < (1L << 24))
			continue;
		if (opt == 'a' && (strcmp(optarg, "cbc") == 0 || strcmp(optarg, "gcm") == 0 ||
				   strcmp(optarg, "both") == 0)) {
			algs = optarg;
			continue;
		}
		fprintf(stderr, "usage: %s [-n nodes] [-a cbc|gcm|both]\n", argv[0]);
		return 2;
	}
	log_init("bench_state", LOG_LVL_WARN, false);
	if (warm_up() < 0) {
		fprintf(stderr, "bench_state: ESP setup fails\n");
		return 1;
	}
	if (strcmp(algs, "gcm") != 0)
		rc |= run((size_t)n, ESP_ALG_AES_CBC_HMAC_SHA1_96);
	if (strcmp(algs, "cbc") != 0)
		rc |= run((size_t)n, ESP_ALG_AES_GCM_16);
	return rc;
}
