/*
 * The IKE engine's part of a control answer: its ISAKMP SAs, its IPsec SA
 * pairs and its counters.  It reads the engine through the introspection
 * functions of ike.h only, so the engine renders nothing.
 */
#include "ctl.h"
#include "ike.h"
#include "ip4.h"

#include <stdio.h>

static void ike_ctl_cookie(struct ctl_out *o, const char *name, const uint8_t c[IKE_COOKIE_LEN])
{
	char s[2 * IKE_COOKIE_LEN + 1];

	for (int i = 0; i < IKE_COOKIE_LEN; i++)
		snprintf(s + 2 * i, 3, "%02x", c[i]);
	ctl_str(o, name, s);
}

static void ike_ctl_isakmp_sas(const struct ike_engine *eng, struct ctl_out *o, uint64_t now)
{
	struct ike_sa_info sa;
	char b[128];

	ctl_list_begin(o, "isakmp_sas");
	for (const struct ike_sa *p = ike_sa_next(eng, NULL); p != NULL; p = ike_sa_next(eng, p)) {
		ike_sa_get_info(p, &sa);
		ctl_obj_begin(o, NULL);
		ctl_addr(o, "peer", sa.peer);
		ctl_u64(o, "port", sa.peer_port);
		ctl_str(o, "role", sa.initiator ? "initiator" : "responder");
		ctl_str(o, "state", sa.state);
		ike_ctl_cookie(o, "icookie", sa.icookie);
		ike_ctl_cookie(o, "rcookie", sa.rcookie);
		snprintf(b, sizeof(b), "aes%u-%s-%s", sa.prop.key_bits, ike_hash_name(sa.prop.hash),
			 ike_group_name(sa.prop.group));
		ctl_str(o, "algorithms", b);
		ctl_str(o, "peer_id", ike_id_str(sa.peer_id, b, sizeof(b)));
		ctl_bool(o, "nat", sa.nat);
		ctl_u64(o, "age_s", sa.up_ms ? (now - sa.up_ms) / 1000 : 0);
		ctl_obj_end(o);
	}
	ctl_list_end(o);
}

static void ike_ctl_ipsec_sas(struct ike_engine *eng, struct ctl_out *o, uint64_t now)
{
	char b[128];

	ctl_list_begin(o, "ipsec_sas");
	for (const struct ike_child *c = ike_children(eng); c != NULL; c = c->next) {
		ctl_obj_begin(o, NULL);
		ctl_addr(o, "peer", c->peer);
		snprintf(b, sizeof(b), "%08x", c->spi_in);
		ctl_str(o, "spi_in", b);
		snprintf(b, sizeof(b), "%08x", c->spi_out);
		ctl_str(o, "spi_out", b);
		ctl_str(o, "algorithm", esp_alg_name(c->alg));
		ctl_bool(o, "udp_encap", c->udp_encap);
		snprintf(b, sizeof(b), "%s/%u", IP4_STR(c->local_net), c->local_plen);
		ctl_str(o, "local_ts", b);
		snprintf(b, sizeof(b), "%s/%u", IP4_STR(c->remote_net), c->remote_plen);
		ctl_str(o, "remote_ts", b);
		uint64_t age = (now - c->up_ms) / 1000;
		ctl_u64(o, "remaining_s", age < c->lifetime_s ? c->lifetime_s - age : 0);
		ctl_u64(o, "bytes", c->bytes);
		ctl_obj_end(o);
	}
	ctl_list_end(o);
}

void ike_ctl_sas(struct ike_engine *eng, struct ctl_out *o)
{
	const struct ike_counters *ctr = ike_engine_counters(eng);
	uint64_t now = ev_loop_now_ms(ike_engine_loop(eng));

	ike_ctl_isakmp_sas(eng, o, now);
	ike_ctl_ipsec_sas(eng, o, now);
	ctl_obj_begin(o, "ike_counters");
#define IKE_CTL_COUNTER(n) ctl_u64(o, #n, ctr->n);
	IKE_COUNTERS(IKE_CTL_COUNTER)
#undef IKE_CTL_COUNTER
	ctl_obj_end(o);
}
