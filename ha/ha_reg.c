/*
 * Home agent registration processing, RFC 5944 3.8 (with RFC 2794 NAI and
 * RFC 3024 reverse tunnelling).  The checks run in the order of 3.8.2: the
 * MN-HA authenticator first (nothing else is trusted before it), then the
 * FA-HA authenticator where required, then Identification, then the
 * request's fields.
 */
#include "ha.h"
#include "ip4.h"
#include "log.h"
#include "mip_ident.h"

#include <arpa/inet.h>
#include <string.h>

/* The outer header's TTL: the HA sends the tunnel packet as a host would (RFC 2003 3.1). */
#define HA_TUNNEL_TTL 64

struct ha_mn *ha_find_mn(struct ha *ha, struct in_addr home_addr)
{
	return u32map_get(&ha->by_home, home_addr.s_addr);
}

static struct ha_mn *ha_find_nai(struct ha *ha, const uint8_t *nai, size_t len)
{
	for (size_t i = 0; i < ha->cfg.n_mns; i++) {
		struct ha_mn *mn = &ha->cfg.mns[i];
		if (mn->nai_len == len && memcmp(mn->nai, nai, len) == 0)
			return mn;
	}
	return NULL;
}

static const struct mip_key *ha_fa_key(struct ha *ha, struct in_addr fa)
{
	for (size_t i = 0; i < ha->cfg.n_fas; i++)
		if (ha->cfg.fas[i].addr.s_addr == fa.s_addr)
			return &ha->cfg.fas[i].key;
	return NULL;
}

struct ha_piece {
	struct ha *ha;
	struct ha_mn *mn;
};

static int ha_encap(struct ha *ha, struct ha_mn *mn, const uint8_t *pkt, size_t len, struct buf *b)
{
	/* RFC 2003: the inner packet goes as it is, up to its Total Length. */
	if (ip4_encap(b, ha->cfg.address, mn->b.coa, HA_TUNNEL_TTL, pkt, len) < 0) {
		ha->ctr.drop_malformed++;
		return -1;
	}
	mn->b.tunnel_out_packets++;
	ha->ctr.tunnel_out_packets++;
	return 0;
}

/* One fragment of a packet too big for the tunnel, in its own IP-in-IP packet. */
static void ha_tunnel_piece(void *arg, const uint8_t *pkt, size_t len)
{
	struct ha_piece *p = arg;
	uint8_t out[IP4_MAX_PACKET];
	struct buf b;

	buf_init_write(&b, out, sizeof(out));
	if (ha_encap(p->ha, p->mn, pkt, len, &b) == 0)
		p->ha->ops.send(p->ha->ops.arg, out, buf_used(&b));
}

static void ha_send_icmp(void *arg, const uint8_t *pkt, size_t len)
{
	struct ha_piece *p = arg;

	p->ha->ops.send(p->ha->ops.arg, pkt, len);
}

int ha_init(struct ha *ha, const struct ha_config *cfg, const struct ha_ops *ops)
{
	memset(ha, 0, sizeof(*ha));
	ha->cfg = *cfg;
	if (ops != NULL)
		ha->ops = *ops;
	ha->tunnel_path = (struct pmtu_path){.name = "tunnel to care-of address",
					     .send = ha_tunnel_piece,
					     .icmp = ha_send_icmp,
					     .icmp_src = cfg->address};
	u32map_init(&ha->by_home);
	for (size_t i = 0; i < cfg->n_mns; i++)
		if (u32map_put(&ha->by_home, cfg->mns[i].home_addr.s_addr, &cfg->mns[i]) < 0)
			return -1;
	return 0;
}

void ha_free(struct ha *ha)
{
	u32map_free(&ha->by_home);
}

static void ha_binding_remove(struct ha *ha, struct ha_mn *mn, const char *why)
{
	char coa[INET_ADDRSTRLEN];

	if (!mn->b.active)
		return;
	inet_ntop(AF_INET, &mn->b.coa, coa, sizeof(coa));
	log_info("binding %s -> %s removed: %s", IP4_STR(mn->home_addr), coa, why);
	mn->b.active = false;
	ha->active_bindings--;
	ha->state_dirty = true;
	if (ha->ops.binding_down)
		ha->ops.binding_down(ha->ops.arg, mn);
}

/* The configured part of a node: its identity and key, not what it did. */
static bool ha_mn_same(const struct ha_mn *a, const struct ha_mn *b)
{
	return a->nai_len == b->nai_len && memcmp(a->nai, b->nai, a->nai_len) == 0 &&
	       a->home_addr.s_addr == b->home_addr.s_addr &&
	       memcmp(&a->key, &b->key, sizeof(a->key)) == 0;
}

bool ha_mns_differ(const struct ha_config *a, const struct ha_config *b)
{
	if (a->n_mns != b->n_mns)
		return true;
	for (size_t i = 0; i < a->n_mns; i++)
		if (!ha_mn_same(&a->mns[i], &b->mns[i]))
			return true;
	return false;
}

int ha_reconfigure(struct ha *ha, struct ha_config *cfg)
{
	struct u32map by_home;
	struct ha_config old;
	int removed = 0;

	u32map_init(&by_home);
	for (size_t i = 0; i < cfg->n_mns; i++)
		if (u32map_put(&by_home, cfg->mns[i].home_addr.s_addr, &cfg->mns[i]) < 0) {
			u32map_free(&by_home);
			return -1;
		}
	/*
	 * A node that stays keeps its binding and its last Identification
	 * (replay protection); one no longer configured loses its binding.
	 */
	for (size_t i = 0; i < ha->cfg.n_mns; i++) {
		struct ha_mn *was = &ha->cfg.mns[i];
		struct ha_mn *now = u32map_get(&by_home, was->home_addr.s_addr);

		if (now != NULL) {
			now->last_id = was->last_id;
			now->b = was->b;
		} else if (was->b.active) {
			ha_binding_remove(ha, was, "node removed by reload");
			removed++;
		}
	}
	u32map_free(&ha->by_home);
	ha->by_home = by_home;
	old = ha->cfg;
	ha->cfg = *cfg;
	*cfg = old;
	ha->state_dirty = true;
	return removed;
}

static void ha_binding_set(struct ha *ha, struct ha_mn *mn, const struct mip_reg_request *rq,
			   struct in_addr src, uint16_t lifetime, uint64_t now_ms)
{
	char coa[INET_ADDRSTRLEN];
	bool was_active = mn->b.active;

	if (!was_active || mn->b.coa.s_addr != rq->coa.s_addr) {
		mn->b.since_ms = now_ms;
		/* A new path: what fits through it is asked once, not per packet. */
		mn->b.tunnel_mtu = ha->ops.path_mtu != NULL && ha->ops.send != NULL
					   ? pmtu_ipip_inner(ha->ops.path_mtu(ha->ops.arg, rq->coa))
					   : 0;
	}
	mn->b.active = true;
	mn->b.coa = rq->coa;
	mn->b.reg_src = src;
	mn->b.lifetime = lifetime;
	mn->b.expires_ms = now_ms + (uint64_t)lifetime * 1000;
	mn->b.reverse_tunnel = (rq->flags & MIP_RQ_T) != 0;
	mn->b.registrations++;
	ha->state_dirty = true;
	inet_ntop(AF_INET, &rq->coa, coa, sizeof(coa));
	log_info("binding %s -> %s lifetime %u%s", IP4_STR(mn->home_addr), coa, lifetime,
		 mn->b.reverse_tunnel ? " reverse-tunnel" : "");
	if (!was_active) {
		ha->active_bindings++;
		if (ha->ops.binding_up)
			ha->ops.binding_up(ha->ops.arg, mn);
	}
}

void ha_binding_restore(struct ha *ha, struct ha_mn *mn, struct in_addr coa, struct in_addr reg_src,
			uint16_t lifetime, bool reverse, uint64_t expires_ms, uint64_t now_ms)
{
	char c[INET_ADDRSTRLEN];

	if (mn->b.active)
		return;
	mn->b = (struct ha_binding){.active = true,
				    .coa = coa,
				    .reg_src = reg_src,
				    .lifetime = lifetime,
				    .expires_ms = expires_ms,
				    .since_ms = now_ms,
				    .reverse_tunnel = reverse};
	mn->b.tunnel_mtu = ha->ops.path_mtu != NULL && ha->ops.send != NULL
				   ? pmtu_ipip_inner(ha->ops.path_mtu(ha->ops.arg, coa))
				   : 0;
	ha->active_bindings++;
	inet_ntop(AF_INET, &coa, c, sizeof(c));
	log_info("binding %s -> %s restored, %llu s left%s", IP4_STR(mn->home_addr), c,
		 (unsigned long long)((expires_ms - now_ms) / 1000),
		 reverse ? " reverse-tunnel" : "");
	if (ha->ops.binding_up)
		ha->ops.binding_up(ha->ops.arg, mn);
}

void ha_expire(struct ha *ha, uint64_t now_ms)
{
	for (size_t i = 0; i < ha->cfg.n_mns; i++) {
		struct ha_mn *mn = &ha->cfg.mns[i];
		if (mn->b.active && mn->b.expires_ms <= now_ms) {
			ha->ctr.bindings_expired++;
			ha_binding_remove(ha, mn, "lifetime expired");
		}
	}
}

/* The reply: fixed part, NAI if the request had one, MN-HA, FA-HA where we share a key. */
static size_t ha_build_reply(struct ha *ha, const struct ha_mn *mn,
			     const struct mip_reg_request *rq, struct in_addr src, uint8_t code,
			     uint16_t lifetime, uint64_t id, uint8_t *out, size_t cap)
{
	struct mip_reg_reply rp = {
		.code = code,
		.lifetime = mip_code_accepted(code) ? lifetime : 0,
		.home_addr = mn->home_addr,
		.home_agent = ha->cfg.address,
		.id = id,
	};
	const struct mip_key *fa_key = ha_fa_key(ha, src);
	struct buf b;

	buf_init_write(&b, out, cap);
	if (mip_reply_put(&b, &rp) < 0 ||
	    (rq->ext.nai_len > 0 &&
	     mip_ext_put_nai(&b, (const char *)rq->ext.nai, rq->ext.nai_len) < 0) ||
	    mip_ext_put_auth(&b, MIP_EXT_MN_HA_AUTH, mn->key.spi, mn->key.key, mn->key.len) < 0 ||
	    (fa_key != NULL && src.s_addr != rq->home_addr.s_addr &&
	     mip_ext_put_auth(&b, MIP_EXT_FA_HA_AUTH, fa_key->spi, fa_key->key, fa_key->len) < 0)) {
		log_err("reply to %s does not fit in %zu bytes", IP4_STR(mn->home_addr), cap);
		return 0;
	}
	if (mip_code_accepted(code))
		ha->ctr.reg_accepted++;
	else
		ha->ctr.reg_denied++;
	return buf_used(&b);
}

/* Which mobile node a request is about: by NAI (RFC 2794) when present, else by home address. */
static struct ha_mn *ha_request_mn(struct ha *ha, const struct mip_reg_request *rq)
{
	struct ha_mn *mn;

	if (rq->ext.nai_len > 0) {
		mn = ha_find_nai(ha, rq->ext.nai, rq->ext.nai_len);
		/* A zero home address asks us to assign the configured one. */
		if (mn != NULL && rq->home_addr.s_addr != 0 &&
		    rq->home_addr.s_addr != mn->home_addr.s_addr)
			return NULL;
		return mn;
	}
	return ha_find_mn(ha, rq->home_addr);
}

/* RFC 5944 3.8.2.x: the checks after authentication; returns the reply code. */
static uint8_t ha_check_fields(struct ha *ha, const struct mip_reg_request *rq)
{
	if (rq->home_agent.s_addr != ha->cfg.address.s_addr) {
		ha->ctr.deny_unknown_ha++;
		return MIP_CODE_HA_UNKNOWN_HA;
	}
	if (rq->flags & (MIP_RQ_M | MIP_RQ_G)) {
		/* We tunnel with IP-in-IP only (RFC 2003). */
		ha->ctr.deny_encapsulation++;
		return MIP_CODE_HA_ENCAP;
	}
	if (rq->flags & MIP_RQ_D) {
		/* Co-located care-of addresses need decapsulation by the MN: not offered. */
		ha->ctr.deny_prohibited++;
		return MIP_CODE_HA_PROHIBITED;
	}
	if ((rq->flags & MIP_RQ_T) && !ha->cfg.reverse_tunnel) {
		ha->ctr.deny_reverse_tunnel++;
		return MIP_CODE_HA_REVTUN_UNAVAIL;
	}
	if (rq->lifetime != 0 && rq->coa.s_addr == 0) {
		ha->ctr.deny_poorly_formed++;
		return MIP_CODE_HA_BAD_REQUEST;
	}
	/* S: we keep one binding per node; RFC 5944 3.8.3 answers code 1 for that. */
	return (rq->flags & MIP_RQ_S) ? MIP_CODE_ACCEPTED_NO_SIMUL : MIP_CODE_ACCEPTED;
}

size_t ha_process_request(struct ha *ha, const uint8_t *msg, size_t len, struct in_addr src,
			  uint64_t now_ms, uint64_t now_ntp, uint8_t *reply, size_t cap)
{
	struct mip_reg_request rq;
	enum mip_perr pe;
	enum mip_auth_result ar;
	struct ha_mn *mn;
	uint8_t code;

	ha->ctr.reg_requests++;
	pe = mip_request_parse(msg, len, &rq);
	if (pe == MIP_PERR_UNKNOWN_EXT) {
		/* RFC 5944 1.9: silently discard. */
		ha->ctr.drop_unknown_extension++;
		log_rl_notice("request from %s: %s, discarded", IP4_STR(src), mip_perr_name(pe));
		return 0;
	}
	if (pe == MIP_PERR_TRUNCATED || pe == MIP_PERR_TYPE) {
		ha->ctr.drop_malformed++;
		log_rl_notice("request from %s: %s, discarded", IP4_STR(src), mip_perr_name(pe));
		return 0;
	}
	mn = ha_request_mn(ha, &rq);
	if (mn == NULL) {
		ha->ctr.drop_unknown_mn++;
		log_rl_notice("request from %s for unknown home address %s, discarded",
			      IP4_STR(src), IP4_STR(rq.home_addr));
		return 0;
	}
	if (pe != MIP_PERR_OK) {
		/* The fixed part parsed and we know the node: tell it (code 134). */
		ha->ctr.deny_poorly_formed++;
		log_rl_notice("request for %s: %s", IP4_STR(mn->home_addr), mip_perr_name(pe));
		return ha_build_reply(ha, mn, &rq, src, MIP_CODE_HA_BAD_REQUEST, 0, rq.id, reply,
				      cap);
	}
	ar = mip_auth_check(msg, &rq.ext.mn_ha, &mn->key);
	if (ar != MIP_AUTH_OK) {
		log_rl_notice("request for %s from %s: MN-HA %s", IP4_STR(mn->home_addr),
			      IP4_STR(src), mip_auth_result_name(ar));
		if (ar == MIP_AUTH_MISSING || ar == MIP_AUTH_BAD_SPI) {
			/* Nothing proves who sent it; do not answer strangers. */
			ha->ctr.drop_mn_auth++;
			return 0;
		}
		ha->ctr.deny_mn_auth++;
		return ha_build_reply(ha, mn, &rq, src, MIP_CODE_HA_MN_AUTH, 0, rq.id, reply, cap);
	}
	if (src.s_addr != rq.home_addr.s_addr &&
	    (ha->cfg.require_fa_auth || rq.ext.fa_ha.present)) {
		ar = mip_auth_check(msg, &rq.ext.fa_ha, ha_fa_key(ha, src));
		if (ar != MIP_AUTH_OK) {
			ha->ctr.deny_fa_auth++;
			log_rl_notice("request for %s via %s: FA-HA %s", IP4_STR(mn->home_addr),
				      IP4_STR(src), mip_auth_result_name(ar));
			return ha_build_reply(ha, mn, &rq, src, MIP_CODE_HA_FA_AUTH, 0, rq.id,
					      reply, cap);
		}
	}
	enum mip_ident_verdict iv =
		mip_ident_check(rq.id, now_ntp, mn->last_id, ha->cfg.tolerance_s);
	if (iv != MIP_IDENT_OK) {
		ha->ctr.deny_identification++;
		log_rl_notice("request for %s: %s", IP4_STR(mn->home_addr),
			      mip_ident_verdict_name(iv));
		return ha_build_reply(ha, mn, &rq, src, MIP_CODE_HA_ID_MISMATCH, 0,
				      mip_ident_mismatch_reply(rq.id, now_ntp), reply, cap);
	}
	/* Authenticated and fresh: from here on the node's Identification moves on. */
	mn->last_id = rq.id;
	ha->state_dirty = true;
	code = ha_check_fields(ha, &rq);
	if (!mip_code_accepted(code)) {
		log_info("request for %s denied: %s", IP4_STR(mn->home_addr), mip_code_name(code));
		return ha_build_reply(ha, mn, &rq, src, code, 0, rq.id, reply, cap);
	}
	uint16_t lifetime = rq.lifetime < ha->cfg.max_lifetime ? rq.lifetime : ha->cfg.max_lifetime;
	if (lifetime == 0 || rq.coa.s_addr == mn->home_addr.s_addr) {
		ha->ctr.deregistrations++;
		ha_binding_remove(ha, mn, "deregistration");
		lifetime = 0;
	} else {
		ha_binding_set(ha, mn, &rq, src, lifetime, now_ms);
	}
	return ha_build_reply(ha, mn, &rq, src, code, lifetime, rq.id, reply, cap);
}

size_t ha_tunnel_out(struct ha *ha, const uint8_t *pkt, size_t len, uint8_t *out, size_t cap)
{
	struct ip4_hdr h;
	struct buf payload, b;
	struct ha_mn *mn;

	if (ip4_parse_fwd(pkt, len, &h, &payload) != IP4_OK) {
		ha->ctr.drop_malformed++;
		return 0;
	}
	mn = ha_find_mn(ha, h.dst);
	if (mn == NULL || !mn->b.active) {
		ha->ctr.drop_no_binding++;
		return 0;
	}
	if (mn->b.tunnel_mtu > 0 && h.total_len > mn->b.tunnel_mtu) {
		struct ha_piece piece = {.ha = ha, .mn = mn};
		pmtu_send(&ha->tunnel_path, &piece, pkt, h.total_len, mn->b.tunnel_mtu);
		return 0;
	}
	buf_init_write(&b, out, cap);
	return ha_encap(ha, mn, pkt, h.total_len, &b) == 0 ? buf_used(&b) : 0;
}

int ha_tunnel_in(struct ha *ha, const uint8_t *pkt, size_t len, const uint8_t **inner,
		 size_t *inner_len)
{
	struct ip4_hdr outer, ih;
	struct buf payload, ip;
	struct ha_mn *mn;

	if (ip4_parse(pkt, len, &outer, &payload) != IP4_OK || outer.proto != IP4_PROTO_IPIP) {
		ha->ctr.drop_malformed++;
		return -1;
	}
	if (ip4_parse_fwd(buf_rptr(&payload), buf_left(&payload), &ih, &ip) != IP4_OK) {
		ha->ctr.drop_tunnel_inner++;
		return -1;
	}
	mn = ha_find_mn(ha, ih.src);
	/* RFC 3024 5.2: only from the registered care-of address of that home address. */
	if (mn == NULL || !mn->b.active || !mn->b.reverse_tunnel ||
	    mn->b.coa.s_addr != outer.src.s_addr) {
		ha->ctr.drop_tunnel_source++;
		log_rl_notice("reverse-tunnelled packet from %s for %s has no matching binding",
			      IP4_STR(outer.src), IP4_STR(ih.src));
		return -1;
	}
	*inner = buf_rptr(&payload);
	*inner_len = ih.total_len;
	mn->b.tunnel_in_packets++;
	ha->ctr.tunnel_in_packets++;
	return 0;
}
