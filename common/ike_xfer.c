/*
 * Moving SAs between foreign agents: an ISAKMP SA and its IPsec SA pairs
 * out of one engine (ike_export) and into another (ike_import), so a
 * mobile node that changes FA within a domain keeps them.  Partial reuse
 * moves the ISAKMP SA only (the node and the new FA then run Quick Mode
 * under it); full reuse moves the pairs too and no IKE message is sent.
 */
#include "ike_int.h"
#include "ike_xfer.h"
#include "ip4.h"
#include "log.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

/*
 * A record's expiries are on the wall clock, which the FAs of a domain
 * share; an SA's own timers run on the monotonic one.  Both are the loop's.
 */
static uint64_t ike_left_ms(const struct ike_engine *eng, uint64_t expires_wall_ms)
{
	uint64_t now = ev_loop_wall_ms(eng->loop);

	return expires_wall_ms > now ? expires_wall_ms - now : 0;
}

/* The wall-clock moment an SA up since up_ms with lifetime_s ends. */
static uint64_t ike_expires_ms(const struct ike_engine *eng, uint64_t up_ms, uint32_t lifetime_s)
{
	uint64_t age_ms = ev_loop_now_ms(eng->loop) - up_ms;

	return ev_loop_wall_ms(eng->loop) + (uint64_t)lifetime_s * 1000 - age_ms;
}

static void ike_export_child(const struct ike_engine *eng, const struct ike_child *c,
			     struct sax_child *x)
{
	memset(x, 0, sizeof(*x));
	x->spi_in = c->spi_in;
	x->spi_out = c->spi_out;
	x->alg = (uint8_t)c->alg;
	x->key_bits = (uint16_t)((c->enc_len - (c->alg == ESP_ALG_AES_GCM_16 ? 4 : 0)) * 8);
	memcpy(x->enc_in, c->enc_in, c->enc_len);
	memcpy(x->enc_out, c->enc_out, c->enc_len);
	x->enc_len = (uint8_t)c->enc_len;
	memcpy(x->auth_in, c->auth_in, c->auth_len);
	memcpy(x->auth_out, c->auth_out, c->auth_len);
	x->auth_len = (uint8_t)c->auth_len;
	x->expires_ms = ike_expires_ms(eng, c->up_ms, c->lifetime_s);
	x->lifetime_kb = c->lifetime_kb;
	x->bytes = c->bytes;
	x->udp_encap = c->udp_encap;
	x->local_port = c->local_port;
	x->peer_port = c->peer_port;
	x->local_net = c->local_net;
	x->remote_net = c->remote_net;
	x->local_plen = c->local_plen;
	x->remote_plen = c->remote_plen;
}

int ike_export(struct ike_engine *eng, struct in_addr peer, bool children, struct sax_record *rec)
{
	struct ike_sa *sa = ike_sa_find_peer(eng, peer);
	struct sax_isakmp *x = &rec->isakmp;

	memset(rec, 0, sizeof(*rec));
	if (sa == NULL || !sa->have_keys)
		return -1;
	memcpy(x->icookie, sa->icookie, 8);
	memcpy(x->rcookie, sa->rcookie, 8);
	x->hash = (uint8_t)sa->prop.hash;
	x->key_bits = sa->prop.key_bits;
	x->group = (uint8_t)sa->prop.group;
	x->auth = (uint8_t)eng->cfg.auth;
	x->hash_len = (uint8_t)sa->keys.hash_len;
	memcpy(x->skeyid_d, sa->keys.skeyid_d, sa->keys.hash_len);
	memcpy(x->skeyid_a, sa->keys.skeyid_a, sa->keys.hash_len);
	x->enc_key_len = (uint8_t)sa->keys.enc_key_len;
	memcpy(x->enc_key, sa->keys.enc_key, sa->keys.enc_key_len);
	memcpy(x->p1_last, sa->p1_last, IKE_BLOCK);
	x->expires_ms = ike_expires_ms(eng, sa->up_ms, sa->lifetime_s);
	x->dpd_seq = sa->dpd_seq;
	x->peer_id_type = sa->peer_id.type;
	x->peer_id_len = (uint8_t)(sa->peer_id.len > 255 ? 255 : sa->peer_id.len);
	memcpy(x->peer_id, sa->peer_id.data, x->peer_id_len);
	x->peer = sa->peer;
	x->local = sa->local;
	x->peer_port = sa->peer_port;
	x->local_port = sa->local_port;
	x->nat = sa->nat_here || sa->nat_there;
	if (!children)
		return 0;
	for (struct ike_child *c = ike_child_first_of(eng, peer); c != NULL; c = c->peer_next)
		if (!c->rekeyed && rec->n_children < SAX_MAX_CHILDREN)
			ike_export_child(eng, c, &rec->children[rec->n_children++]);
	return 0;
}

/* An established ISAKMP SA from a record; NULL when it has ended or is unusable. */
static struct ike_sa *ike_import_isakmp(struct ike_engine *eng, const struct sax_isakmp *x,
					const struct ike_peer *pc)
{
	uint64_t left = ike_left_ms(eng, x->expires_ms);
	struct ike_sa *sa;

	if (left < 1000 || !ike_hash_supported(x->hash) || !ike_group_supported(x->group) ||
	    x->hash_len != ike_hash_len(x->hash) || x->enc_key_len != x->key_bits / 8 ||
	    (x->key_bits != 128 && x->key_bits != 256))
		return NULL;
	sa = ike_sa_new(eng, false, x->local, x->local_port, x->peer, x->peer_port, x->icookie);
	if (sa == NULL)
		return NULL;
	sa->peer_cfg = pc;
	memcpy(sa->rcookie, x->rcookie, 8);
	sa->prop =
		(struct ike_p1_prop){x->key_bits, (enum ike_hash)x->hash, (enum ike_group)x->group};
	sa->keys.hash = (enum ike_hash)x->hash;
	sa->keys.hash_len = x->hash_len;
	memcpy(sa->keys.skeyid_d, x->skeyid_d, x->hash_len);
	memcpy(sa->keys.skeyid_a, x->skeyid_a, x->hash_len);
	sa->keys.enc_key_len = x->enc_key_len;
	memcpy(sa->keys.enc_key, x->enc_key, x->enc_key_len);
	memcpy(sa->p1_last, x->p1_last, IKE_BLOCK);
	memcpy(sa->iv, x->p1_last, IKE_BLOCK);
	sa->have_keys = true;
	sa->natt = x->nat;
	sa->nat_there = x->nat;
	sa->dpd = true;
	sa->dpd_seq = x->dpd_seq;
	sa->peer_id.type = x->peer_id_type;
	sa->peer_id.len = x->peer_id_len;
	memcpy(sa->peer_id.data, x->peer_id, x->peer_id_len);
	sa->lifetime_s = (uint32_t)(left / 1000);
	ike_sa_up(sa);
	log_info("ISAKMP SA with %s taken over (%u s left)", IP4_STR(sa->peer), sa->lifetime_s);
	return sa;
}

static struct ike_child *ike_import_child(struct ike_engine *eng, struct ike_sa *sa,
					  const struct sax_child *x)
{
	uint64_t left = ike_left_ms(eng, x->expires_ms);
	struct ike_child *c;

	if (left < 1000 || x->alg >= ESP_ALG_MAX || x->enc_len > sizeof(c->enc_in) ||
	    x->auth_len > sizeof(c->auth_in) || x->spi_in < ESP_SPI_MIN ||
	    x->spi_out < ESP_SPI_MIN || u32map_get(&eng->spis, x->spi_in) != NULL)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (c == NULL || u32map_put(&eng->spis, x->spi_in, eng) < 0) {
		free(c);
		return NULL;
	}
	c->spi_in = x->spi_in;
	c->spi_out = x->spi_out;
	c->alg = (enum esp_alg)x->alg;
	c->enc_len = x->enc_len;
	memcpy(c->enc_in, x->enc_in, x->enc_len);
	memcpy(c->enc_out, x->enc_out, x->enc_len);
	c->auth_len = x->auth_len;
	memcpy(c->auth_in, x->auth_in, x->auth_len);
	memcpy(c->auth_out, x->auth_out, x->auth_len);
	c->udp_encap = x->udp_encap;
	c->local = sa->local;
	c->peer = sa->peer;
	c->local_port = x->local_port;
	c->peer_port = x->peer_port;
	c->local_net = x->local_net;
	c->remote_net = x->remote_net;
	c->local_plen = x->local_plen;
	c->remote_plen = x->remote_plen;
	c->lifetime_s = (uint32_t)(left / 1000);
	c->lifetime_kb = x->lifetime_kb;
	c->bytes = x->bytes;
	c->up_ms = ev_loop_now_ms(eng->loop);
	c->initiator = false; /* the node rekeys its pairs; we answer */
	c->ike = sa;
	c->eng = eng;
	if (ike_child_link(eng, c) < 0) {
		ike_spi_free(eng, c->spi_in);
		OPENSSL_cleanse(c, sizeof(*c));
		free(c);
		return NULL;
	}
	ike_child_schedule(eng, c);
	eng->ctr.children_established++;
	return c;
}

struct ike_sa *ike_import(struct ike_engine *eng, const struct sax_record *rec,
			  const struct ike_peer *pc, bool children)
{
	struct ike_sa *sa;

	/* A stale copy of the same SA here (the node came back): the record wins. */
	for (struct ike_sa *o = ike_sa_first_of(eng, rec->isakmp.peer), *n; o != NULL; o = n) {
		n = o->peer_next;
		ike_sa_destroy(o, "superseded by a transferred SA");
	}
	for (struct ike_child *c = ike_child_first_of(eng, rec->isakmp.peer), *n; c != NULL;
	     c = n) {
		n = c->peer_next;
		ike_child_forget(eng, c, "superseded by a transferred SA");
	}
	sa = ike_import_isakmp(eng, &rec->isakmp, pc);
	if (sa == NULL || !children)
		return sa;
	for (size_t i = 0; i < rec->n_children; i++) {
		struct ike_child *c = ike_import_child(eng, sa, &rec->children[i]);
		if (c == NULL) {
			log_notice("IPsec SA pair %08x from the transfer unusable (ended?)",
				   rec->children[i].spi_in);
			continue;
		}
		log_info("IPsec SA pair with %s taken over; peer=%s spi_in=%08x spi_out=%08x",
			 IP4_STR(c->peer), IP4_STR(c->peer), c->spi_in, c->spi_out);
		if (eng->ops.child_up)
			eng->ops.child_up(eng->ops.arg, c);
	}
	return sa;
}

void ike_forget_peer(struct ike_engine *eng, struct in_addr peer, const char *why)
{
	for (struct ike_child *c = ike_child_first_of(eng, peer), *n; c != NULL; c = n) {
		n = c->peer_next;
		ike_child_forget(eng, c, why);
	}
	for (struct ike_sa *sa = ike_sa_first_of(eng, peer), *n; sa != NULL; sa = n) {
		n = sa->peer_next;
		ike_sa_destroy(sa, why);
	}
}

int ike_possession_mac(const struct sax_isakmp *x, const uint8_t *data, size_t len, uint8_t *out)
{
	struct ike_chunk c[] = {IKE_CHUNK(data, len)};

	if (!ike_hash_supported(x->hash) || x->hash_len != ike_hash_len(x->hash))
		return -1;
	return ike_prf((enum ike_hash)x->hash, x->skeyid_a, x->hash_len, c, 1, out);
}
