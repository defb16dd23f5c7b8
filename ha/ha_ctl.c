#include "ctl.h"
#include "ha.h"

#include <stdio.h>
#include <string.h>

static void ha_ctl_bindings(struct ha *ha, struct ctl_out *o, uint64_t now_ms)
{
	ctl_list_begin(o, "bindings");
	for (size_t i = 0; i < ha->cfg.n_mns; i++) {
		const struct ha_mn *mn = &ha->cfg.mns[i];
		if (!mn->b.active)
			continue;
		ctl_obj_begin(o, NULL);
		ctl_addr(o, "home_address", mn->home_addr);
		ctl_str(o, "nai", mn->nai_len ? mn->nai : "-");
		ctl_addr(o, "care_of_address", mn->b.coa);
		ctl_addr(o, "registered_via", mn->b.reg_src);
		ctl_u64(o, "lifetime", mn->b.lifetime);
		ctl_u64(o, "remaining",
			mn->b.expires_ms > now_ms ? (mn->b.expires_ms - now_ms) / 1000 : 0);
		ctl_bool(o, "reverse_tunnel", mn->b.reverse_tunnel);
		ctl_u64(o, "tunnel_mtu", mn->b.tunnel_mtu);
		ctl_u64(o, "registrations", mn->b.registrations);
		ctl_u64(o, "tunnel_out", mn->b.tunnel_out_packets);
		ctl_u64(o, "tunnel_in", mn->b.tunnel_in_packets);
		ctl_obj_end(o);
	}
	ctl_list_end(o);
}

static void ha_ctl_counters(struct ha *ha, struct ctl_out *o)
{
	ctl_obj_begin(o, "counters");
#define HA_CTL_COUNTER(n) ctl_u64(o, #n, ha->ctr.n);
	HA_COUNTERS(HA_CTL_COUNTER)
#undef HA_CTL_COUNTER
	ctl_daemon_counters(o);
	ctl_obj_end(o);
	pmtu_ctl(o, "tunnel_mtu_counters", &ha->tunnel_path.ctr);
}

int ha_ctl(struct ha *ha, int argc, char **argv, struct ctl_out *o, char *err, size_t errlen,
	   uint64_t now_ms)
{
	const char *cmd = argv[0];
	bool all = strcmp(cmd, "status") == 0;

	if (!all && strcmp(cmd, "bindings") != 0 && strcmp(cmd, "counters") != 0) {
		snprintf(err, errlen, "unknown command '%s' (bindings, counters, status)", cmd);
		return -1;
	}
	(void)argc;
	ctl_obj_begin(o, NULL);
	ctl_str(o, "daemon", "mipsa-ha");
	if (all) {
		ctl_addr(o, "address", ha->cfg.address);
		ctl_u64(o, "mobile_nodes", ha->cfg.n_mns);
		ctl_u64(o, "active_bindings", ha->active_bindings);
	}
	if (all || strcmp(cmd, "bindings") == 0)
		ha_ctl_bindings(ha, o, now_ms);
	if (all || strcmp(cmd, "counters") == 0)
		ha_ctl_counters(ha, o);
	ctl_obj_end(o);
	return 0;
}
