#include "ipsec.h"
#include "ctl.h"
#include "ike.h"
#include "ip4.h"
#include "isakmp.h"
#include "log.h"

#include <openssl/crypto.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IPSEC_TTL 64

void ipsec_init(struct ipsec *ip)
{
	u32map_init(&ip->by_spi);
	u32map_init(&ip->by_key);
	ip->cache = NULL;
}

static void ipsec_pair_free(struct ipsec_pair *p)
{
	esp_sa_clear(&p->in);
	esp_sa_clear(&p->out);
	OPENSSL_cleanse(p, sizeof(*p));
	free(p);
}

void ipsec_free(struct ipsec *ip)
{
	size_t it = 0;
	uint32_t k;
	void *v;

	while (u32map_next(&ip->by_spi, &it, &k, &v))
		ipsec_pair_free(v);
	u32map_free(&ip->by_spi);
	u32map_free(&ip->by_key);
	esp_cache_free(ip->cache);
	ip->cache = NULL;
}

int ipsec_use_cache(struct ipsec *ip, size_t pairs)
{
	struct esp_cache *c = NULL;

	/* The pairs already there keep what they were made with; mixing is not worth it. */
	if (u32map_len(&ip->by_spi) != 0 || pairs > SIZE_MAX / 2)
		return -1;
	if (pairs != 0 && (c = esp_cache_new(2 * pairs)) == NULL)
		return -1;
	esp_cache_free(ip->cache);
	ip->cache = c;
	return 0;
}

struct ipsec_pair *ipsec_add(struct ipsec *ip, const struct ike_child *c, uint32_t key)
{
	struct ipsec_pair *p = calloc(1, sizeof(*p));

	if (p == NULL) {
		log_rl_err("ESP SAs %08x/%08x: out of memory", c->spi_in, c->spi_out);
		return NULL;
	}
	/* AEAD (GCM) has no separate integrity key: pass none. */
	if (esp_sa_init_cached(&p->in, ip->cache, ESP_DIR_IN, c->spi_in, c->alg, c->enc_in,
			       c->enc_len, c->auth_len ? c->auth_in : NULL,
			       c->auth_len) != ESP_OK ||
	    esp_sa_init_cached(&p->out, ip->cache, ESP_DIR_OUT, c->spi_out, c->alg, c->enc_out,
			       c->enc_len, c->auth_len ? c->auth_out : NULL,
			       c->auth_len) != ESP_OK ||
	    u32map_put(&ip->by_spi, c->spi_in, p) < 0) {
		log_err("cannot set up ESP SAs %08x/%08x", c->spi_in, c->spi_out);
		ipsec_pair_free(p);
		return NULL;
	}
	/* The newest pair carries what we send; older ones only finish receiving. */
	if (u32map_put(&ip->by_key, key, p) < 0) {
		log_rl_err("ESP SAs %08x/%08x: out of memory", c->spi_in, c->spi_out);
		u32map_del(&ip->by_spi, c->spi_in);
		ipsec_pair_free(p);
		return NULL;
	}
	p->key = key;
	p->child = (struct ike_child *)(uintptr_t)c;
	p->local = c->local;
	p->peer = c->peer;
	p->local_port = c->local_port;
	p->peer_port = c->peer_port;
	p->udp_encap = c->udp_encap;
	p->remote_net = c->remote_net;
	p->remote_plen = c->remote_plen;
	return p;
}

void ipsec_del(struct ipsec *ip, uint32_t spi_in)
{
	struct ipsec_pair *p = u32map_del(&ip->by_spi, spi_in);

	if (p == NULL)
		return;
	if (u32map_get(&ip->by_key, p->key) == p) {
		/* Fall back to another pair of the same key, if a rekey left one. */
		struct ipsec_pair *other = NULL;
		size_t it = 0;
		uint32_t k;
		void *v;
		while (u32map_next(&ip->by_spi, &it, &k, &v))
			if (((struct ipsec_pair *)v)->key == p->key)
				other = v;
		if (other != NULL)
			u32map_put(&ip->by_key, p->key, other);
		else
			u32map_del(&ip->by_key, p->key);
	}
	ipsec_pair_free(p);
}

struct ipsec_pair *ipsec_find(const struct ipsec *ip, uint32_t key)
{
	return u32map_get(&ip->by_key, key);
}

struct ipsec_pair *ipsec_find_spi(const struct ipsec *ip, uint32_t spi)
{
	return u32map_get(&ip->by_spi, spi);
}

enum esp_err ipsec_seal(struct ipsec_pair *p, const uint8_t *inner, size_t len, uint8_t *out,
			size_t cap, size_t *out_len)
{
	size_t hdr = IP4_HDR_LEN + (p->udp_encap ? UDP_HDR_LEN : 0);
	size_t esp_len = esp_encap_len(p->out.alg, len);
	struct buf b;
	enum esp_err e;

	if (hdr + esp_len > cap || hdr + esp_len > IP4_MAX_PACKET)
		return ESP_E_NOSPACE;
	/* ESP first, after room for the headers, which depend on its length. */
	buf_init_write(&b, out + hdr, cap - hdr);
	e = esp_encap(&p->out, inner, len, &b);
	if (e != ESP_OK)
		return e;
	esp_len = buf_used(&b);
	struct ip4_hdr h = {.id = ip4_new_id(),
			    .ttl = IPSEC_TTL,
			    .proto = p->udp_encap ? IP4_PROTO_UDP : IP4_PROTO_ESP,
			    .src = p->local,
			    .dst = p->peer,
			    .total_len = (uint16_t)(hdr + esp_len)};
	buf_init_write(&b, out, cap);
	if (ip4_put_header(&b, &h) < 0)
		return ESP_E_NOSPACE;
	/*
	 * RFC 3948 2.1: ESP in UDP from and to port 4500, in place, with the
	 * UDP checksum zero, as the RFC says it SHOULD be: the ICV covers the
	 * ESP payload, and neither end then sums every byte again.
	 */
	if (p->udp_encap &&
	    (buf_put_u16(&b, p->local_port) || buf_put_u16(&b, p->peer_port) ||
	     buf_put_u16(&b, (uint16_t)(UDP_HDR_LEN + esp_len)) || buf_put_u16(&b, 0)))
		return ESP_E_NOSPACE;
	*out_len = hdr + esp_len;
	return ESP_OK;
}

const char *ipsec_err_name(enum ipsec_err e)
{
	static const char *const names[IPSEC_E_MAX] = {
		[IPSEC_OK] = "ok",
		[IPSEC_E_SPI] = "unknown SPI",
		[IPSEC_E_HEADER] = "ESP header or length malformed",
		[IPSEC_E_ICV] = "ICV does not verify",
		[IPSEC_E_PADDING] = "bad padding",
		[IPSEC_E_NEXT_HEADER] = "Next Header is not IPv4",
		[IPSEC_E_REPLAY] = "ESP replayed or too old",
		[IPSEC_E_INNER] = "inner packet not IPv4",
		[IPSEC_E_POLICY] = "inner source outside the traffic selector",
		[IPSEC_E_LOCAL] = "local failure",
	};
	return e < IPSEC_E_MAX ? names[e] : "?";
}

/* Why esp_decap refused a packet, as the reasons ipsec_open gives. */
static enum ipsec_err ipsec_esp_err(enum esp_err e)
{
	switch (e) {
	case ESP_E_HEADER:
		return IPSEC_E_HEADER;
	case ESP_E_SPI:
		return IPSEC_E_SPI;
	case ESP_E_REPLAY:
		return IPSEC_E_REPLAY;
	case ESP_E_AUTH:
		return IPSEC_E_ICV;
	case ESP_E_PAD:
		return IPSEC_E_PADDING;
	case ESP_E_NEXT_HDR:
		return IPSEC_E_NEXT_HEADER;
	default:
		return IPSEC_E_LOCAL;
	}
}

enum ipsec_err ipsec_open(struct ipsec *ip, const uint8_t *esp, size_t len, uint8_t *inner,
			  size_t cap, struct ip4_pkt *pkt, struct ipsec_pair **pp)
{
	uint32_t spi;
	struct ipsec_pair *p;
	size_t inner_len;
	enum esp_err e;

	if (esp_peek_spi(esp, len, &spi) < 0 || (p = ipsec_find_spi(ip, spi)) == NULL)
		return IPSEC_E_SPI;
	*pp = p;
	e = esp_decap(&p->in, esp, len, inner, cap, &inner_len);
	if (e != ESP_OK)
		return ipsec_esp_err(e);
	if (ip4_pkt_parse(inner, inner_len, pkt) != IP4_OK)
		return IPSEC_E_INNER;
	uint32_t m = p->remote_plen == 0 ? 0 : htonl(~0u << (32 - p->remote_plen));
	if ((pkt->h.src.s_addr & m) != (p->remote_net.s_addr & m))
		return IPSEC_E_POLICY;
	return IPSEC_OK;
}

static const char *ipsec_ws_enc(enum esp_alg a)
{
	return a == ESP_ALG_AES_GCM_16 ? "AES-GCM with 16 octet ICV [RFC4106]"
				       : "AES-CBC [RFC3602]";
}

static const char *ipsec_ws_auth(enum esp_alg a)
{
	switch (a) {
	case ESP_ALG_AES_CBC_HMAC_SHA1_96:
		return "HMAC-SHA-1-96 [RFC2404]";
	case ESP_ALG_AES_CBC_HMAC_SHA256_128:
		return "HMAC-SHA-256-128 [RFC4868]";
	default:
		return "NULL";
	}
}

static size_t ipsec_hex(char *out, size_t cap, const uint8_t *p, size_t n)
{
	size_t l = 0;

	if (n == 0)
		return (size_t)snprintf(out, cap, "%s", "");
	l += (size_t)snprintf(out, cap, "0x");
	for (size_t i = 0; i < n && l < cap; i++)
		l += (size_t)snprintf(out + l, cap - l, "%02x", p[i]);
	return l;
}

/* One esp_sa line for one direction of a pair. */
static int ipsec_export_sa(const struct esp_sa *sa, struct in_addr src, struct in_addr dst,
			   char *out, size_t cap)
{
	char ek[2 * (ESP_MAX_KEY_LEN + ESP_GCM_SALT_LEN) + 3], ak[2 * ESP_MAX_AUTH_KEY + 3];
	uint8_t key[ESP_MAX_KEY_LEN + ESP_GCM_SALT_LEN];
	size_t klen = sa->enc_key_len;
	int n;

	memcpy(key, sa->enc_key, klen);
	if (sa->alg == ESP_ALG_AES_GCM_16) {
		memcpy(key + klen, sa->salt, ESP_GCM_SALT_LEN);
		klen += ESP_GCM_SALT_LEN;
	}
	ipsec_hex(ek, sizeof(ek), key, klen);
	ipsec_hex(ak, sizeof(ak), sa->auth_key, sa->auth_key_len);
	n = snprintf(out, cap, "\"IPv4\",\"%s\",\"%s\",\"0x%08x\",\"%s\",\"%s\",\"%s\",\"%s\"\n",
		     IP4_STR(src), IP4_STR(dst), sa->spi, ipsec_ws_enc(sa->alg), ek,
		     ipsec_ws_auth(sa->alg), ak);
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(ek, sizeof(ek));
	OPENSSL_cleanse(ak, sizeof(ak));
	return n < 0 || (size_t)n >= cap ? -1 : n;
}

int ipsec_export_esp(const struct ipsec *ip, char *out, size_t cap)
{
	size_t it = 0, n = 0;
	uint32_t k;
	void *v;

	out[0] = '\0';
	while (u32map_next(&ip->by_spi, &it, &k, &v)) {
		const struct ipsec_pair *p = v;
		int a = ipsec_export_sa(&p->in, p->peer, p->local, out + n, cap - n);
		if (a < 0)
			return -1;
		n += (size_t)a;
		a = ipsec_export_sa(&p->out, p->local, p->peer, out + n, cap - n);
		if (a < 0)
			return -1;
		n += (size_t)a;
	}
	return (int)n;
}

/* ---- sequence numbers across foreign agents ---- */

static uint64_t ipsec_max(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

uint64_t ipsec_next_seq(const struct ipsec_pair *p, uint64_t reserve)
{
	struct esp_sa_state out;

	if (p->handed_over)
		return p->handed_seq;
	esp_sa_export_state(&p->out, &out);
	/* above every block offered too: a member may be sending in it (ipsec_offer) */
	return ipsec_max(ipsec_max(out.seq_out + reserve, p->offer_top),
			 ipsec_max(p->reserved_seq, p->reserve_pending));
}

void ipsec_hand_over(struct ipsec_pair *p, uint64_t seq)
{
	/*
	 * A copy in the store keeps its promise until the next holder's own
	 * copy replaces it, and that holder may die first: the lower limit stays.
	 */
	if (!p->seq_limited || seq < p->reserved_seq)
		p->reserved_seq = seq;
	p->seq_limited = true;
	p->reserve_pending = 0;
	p->handed_over = true;
	p->handed_seq = seq;
	p->lent_cap = 0;
}

uint64_t ipsec_lend(struct ipsec_pair *p, uint64_t seq, uint64_t block)
{
	ipsec_hand_over(p, seq);
	p->lent_cap = seq < ESP_SEQ_MAX && block < ESP_SEQ_MAX - seq ? seq + block : ESP_SEQ_MAX;
	return p->lent_cap;
}

enum esp_err ipsec_reclaim(struct ipsec_pair *p, bool hold)
{
	struct esp_sa_state out;
	enum esp_err e;

	if (!p->handed_over || p->lent_cap == 0)
		return ESP_E_INVAL;
	if (p->lent_cap >= ESP_SEQ_MAX)
		return ESP_E_SEQ_OVERFLOW;
	esp_sa_export_state(&p->out, &out);
	out.seq_out = ipsec_max(out.seq_out, p->lent_cap);
	e = esp_sa_import_state(&p->out, &out);
	if (e != ESP_OK)
		return e;
	p->handed_over = false;
	p->handed_seq = 0;
	p->lent_cap = 0;
	p->reserved_seq = hold ? out.seq_out : 0;
	p->seq_limited = hold;
	p->reserve_pending = 0;
	return ESP_OK;
}

void ipsec_reserve(struct ipsec_pair *p, uint64_t seq)
{
	if (p->handed_over)
		return;
	if (!p->seq_limited)
		p->reserved_seq = seq;
	p->seq_limited = true;
	p->reserve_pending = seq;
}

void ipsec_reserve_done(struct ipsec_pair *p, uint64_t seq, bool kept)
{
	/* An answer to an older write, or the SAs went on: nothing to learn. */
	if (p->handed_over || p->reserve_pending != seq)
		return;
	if (kept)
		p->reserved_seq = ipsec_max(p->reserved_seq, seq);
	p->reserve_pending = 0;
}

enum esp_err ipsec_take_over(struct ipsec_pair *p, uint64_t rec_seq_out, uint64_t rec_replay_top,
			     uint64_t mn_sent, uint64_t mn_received, bool hold, uint64_t loan_cap)
{
	struct esp_sa_state in, out;
	/* above the blocks we offered too: the SAs came back to us on a loan (ipsec_offer) */
	uint64_t seq = ipsec_max(ipsec_max(rec_seq_out, mn_received), p->offer_top);
	uint64_t top = ipsec_max(mn_sent, rec_replay_top);
	enum esp_err e;

	/* Check everything first: a counter never goes back, and a refusal changes nothing. */
	esp_sa_export_state(&p->out, &out);
	if (seq < out.seq_out || seq > ESP_SEQ_MAX || top > ESP_SEQ_MAX ||
	    (loan_cap != 0 && loan_cap < rec_seq_out))
		return ESP_E_INVAL;
	out.seq_out = seq;
	e = esp_sa_import_state(&p->out, &out);
	if (e != ESP_OK)
		return e;
	esp_sa_export_state(&p->in, &in);
	esp_replay_init(&in.replay, top);
	e = esp_sa_import_state(&p->in, &in);
	if (e != ESP_OK)
		return e;
	p->reserved_seq = hold ? out.seq_out : 0;
	p->seq_limited = hold;
	p->reserve_pending = 0;
	p->handed_over = false;
	p->lent_cap = 0;
	p->loan_cap = loan_cap;
	return ESP_OK;
}

enum esp_err ipsec_released(struct ipsec_pair *p, uint64_t top)
{
	struct esp_sa_state out;
	enum esp_err e;

	/* refused, the cap stays: sending below it is still safe */
	if (top > ESP_SEQ_MAX)
		return ESP_E_SEQ_OVERFLOW;
	esp_sa_export_state(&p->out, &out);
	if (top > out.seq_out) {
		out.seq_out = top;
		e = esp_sa_import_state(&p->out, &out);
		if (e != ESP_OK)
			return e;
	}
	p->loan_cap = 0;
	return ESP_OK;
}

/* a + n * block within ESP_SEQ_MAX, into *out. */
static bool ipsec_seq_add(uint64_t a, uint64_t n, uint64_t block, uint64_t *out)
{
	if (block != 0 && n > (ESP_SEQ_MAX - a) / block)
		return false;
	*out = a + n * block;
	return *out <= ESP_SEQ_MAX;
}

uint64_t ipsec_offer(struct ipsec_pair *p, uint64_t block, size_t n)
{
	struct esp_sa_state out;
	uint64_t limit, first, top;

	/* lent: the numbers above the record are the other FA's; on a loan: ours end at its cap */
	if (p->handed_over || p->loan_cap != 0 || n == 0 || block == 0)
		return 0;
	esp_sa_export_state(&p->out, &out);
	limit = p->seq_limited ? p->reserved_seq : out.seq_out;
	if (!p->seq_limited && !ipsec_seq_add(limit, 1, block, &limit))
		return 0;
	first = ipsec_max(limit, p->offer_top);
	if (!ipsec_seq_add(first, n, block, &top))
		return 0;
	p->reserved_seq = limit;
	p->seq_limited = true;
	p->offer_top = top;
	return first;
}

enum esp_err ipsec_offer_renew(struct ipsec_pair *p, uint64_t block)
{
	struct esp_sa_state out;
	uint64_t limit;

	if (p->offer_top == 0 || p->handed_over || p->loan_cap != 0 || p->reserve_pending != 0)
		return ESP_E_INVAL;
	if (!ipsec_seq_add(p->offer_top, 1, block, &limit))
		return ESP_E_SEQ_OVERFLOW;
	esp_sa_export_state(&p->out, &out);
	out.seq_out = ipsec_max(out.seq_out, p->offer_top);
	if (esp_sa_import_state(&p->out, &out) != ESP_OK)
		return ESP_E_INVAL;
	p->reserved_seq = limit;
	p->seq_limited = true;
	return ESP_OK;
}

uint64_t ipsec_top(const struct ipsec_pair *p)
{
	struct esp_sa_state out;

	esp_sa_export_state(&p->out, &out);
	return ipsec_max(out.seq_out, ipsec_max(p->offer_top, p->lent_cap));
}

bool ipsec_may_send(const struct ipsec_pair *p)
{
	struct esp_sa_state out;

	esp_sa_export_state(&p->out, &out);
	if (p->loan_cap != 0 && out.seq_out >= p->loan_cap)
		return false;
	return !p->seq_limited || out.seq_out < p->reserved_seq;
}
