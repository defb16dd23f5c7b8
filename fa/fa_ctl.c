#include "ctl.h"
#include "fa.h"

#include <stdio.h>
#include <string.h>

static void fa_ctl_visitors(struct fa *fa, struct ctl_out *o, uint64_t now_ms)
{
	size_t it = 0;
	uint32_t k;
	void *val;

	ctl_list_begin(o, "visitors");
	while (u32map_next(&fa->visitors, &it, &k, &val)) {
		const struct fa_visitor *v = val;
		ctl_obj_begin(o, NULL);
		ctl_addr(o, "home_address", v->home_addr);
		ctl_str(o, "nai", v->nai[0] ? v->nai : "-");
		ctl_addr(o, "home_agent", v->active ? v->home_agent : v->pending.home_agent);
		ctl_mac(o, "mac", v->active ? v->mac : v->pending.mac);
		ctl_str(o, "state", v->active ? "registered" : "pending");
		ctl_bool(o, "pending", v->pending.active);
		ctl_u64(o, "lifetime", v->lifetime);
		ctl_u64(o, "remaining",
			v->active && v->expires_ms > now_ms ? (v->expires_ms - now_ms) / 1000 : 0);
		ctl_bool(o, "reverse_tunnel", v->reverse_tunnel);
		ctl_u64(o, "tunnel_mtu", v->tunnel_mtu);
		ctl_u64(o, "delivered", v->delivered_packets);
		ctl_u64(o, "reverse_tunnelled", v->reverse_packets);
		ctl_obj_end(o);
	}
	ctl_list_end(o);
}

static void fa_ctl_counters(struct fa *fa, struct ctl_out *o)
{
	ctl_obj_begin(o, "counters");
#define FA_CTL_COUNTER(n) ctl_u64(o, #n, fa->ctr.n);
	FA_COUNTERS(FA_CTL_COUNTER)
#undef FA_CTL_COUNTER
	ctl_daemon_counters(o);
	ctl_obj_end(o);
	pmtu_ctl(o, "delivery_mtu_counters", &fa->deliver_path.ctr);
	pmtu_ctl(o, "reverse_tunnel_mtu_counters", &fa->reverse_path.ctr);
}

int fa_ctl(struct fa *fa, int argc, char **argv, struct ctl_out *o, char *err, size_t errlen,
	   uint64_t now_ms)
{
	const char *cmd = argv[0];
	bool all = strcmp(cmd, "status") == 0;

	(void)argc;
	if (!all && strcmp(cmd, "visitors") != 0 && strcmp(cmd, "counters") != 0) {
		snprintf(err, errlen, "unknown command '%s' (visitors, counters, status)", cmd);
		return -1;
	}
	ctl_obj_begin(o, NULL);
	ctl_str(o, "daemon", "mipsa-fa");
	if (all) {
		ctl_addr(o, "care_of_address", fa->cfg.coa);
		ctl_addr(o, "alias_address", fa->cfg.alias);
		ctl_str(o, "access_interface", fa->cfg.access_interface);
		ctl_u64(o, "visitors_count", u32map_len(&fa->visitors));
	}
	if (all || strcmp(cmd, "visitors") == 0)
		fa_ctl_visitors(fa, o, now_ms);
	if (all || strcmp(cmd, "counters") == 0)
		fa_ctl_counters(fa, o);
	ctl_obj_end(o);
	return 0;
}
