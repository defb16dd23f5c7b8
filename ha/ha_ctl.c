/* Control answers of mipsa-ha: one table of commands, rendered here. */
#include "ctl.h"
#include "ctl_cmds.h"
#include "ha.h"

/* What a command gets: the HA and the time of the request. */
struct ha_ctl_arg {
	struct ha *ha;
	uint64_t now_ms;
};

static int ha_cmd_bindings(void *arg, int argc, char **argv, struct ctl_out *o, char *err,
			   size_t errlen)
{
	const struct ha_ctl_arg *a = arg;
	const struct ha *ha = a->ha;

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
			mn->b.expires_ms > a->now_ms ? (mn->b.expires_ms - a->now_ms) / 1000 : 0);
		ctl_bool(o, "reverse_tunnel", mn->b.reverse_tunnel);
		ctl_u64(o, "tunnel_mtu", mn->b.tunnel_mtu);
		ctl_u64(o, "registrations", mn->b.registrations);
		ctl_u64(o, "tunnel_out", mn->b.tunnel_out_packets);
		ctl_u64(o, "tunnel_in", mn->b.tunnel_in_packets);
		ctl_obj_end(o);
	}
	ctl_list_end(o);
	return 0;
}

static int ha_cmd_counters(void *arg, int argc, char **argv, struct ctl_out *o, char *err,
			   size_t errlen)
{
	const struct ha *ha = ((const struct ha_ctl_arg *)arg)->ha;

	ctl_obj_begin(o, "counters");
#define HA_CTL_COUNTER(n) ctl_u64(o, #n, ha->ctr.n);
	HA_COUNTERS(HA_CTL_COUNTER)
#undef HA_CTL_COUNTER
	ctl_daemon_counters(o);
	ctl_obj_end(o);
	pmtu_ctl(o, "tunnel_mtu_counters", &ha->tunnel_path.ctr);
	return 0;
}

static int ha_cmd_status(void *arg, int argc, char **argv, struct ctl_out *o, char *err,
			 size_t errlen)
{
	const struct ha *ha = ((const struct ha_ctl_arg *)arg)->ha;

	ctl_addr(o, "address", ha->cfg.address);
	ctl_u64(o, "mobile_nodes", ha->cfg.n_mns);
	ctl_u64(o, "active_bindings", ha->active_bindings);
	ha_cmd_bindings(arg, argc, argv, o, err, errlen);
	return ha_cmd_counters(arg, argc, argv, o, err, errlen);
}

/* Every command of mipsa-ha (doc/control.md lists them). */
static const struct ctl_cmd ha_ctl_cmds[] = {
	HA_CTL_CMDS(CTL_CMD_ROW){NULL, NULL, NULL, NULL},
};

int ha_ctl(struct ha *ha, int argc, char **argv, struct ctl_out *o, char *err, size_t errlen,
	   uint64_t now_ms)
{
	struct ha_ctl_arg a = {.ha = ha, .now_ms = now_ms};

	return ctl_dispatch(ha_ctl_cmds, "mipsa-ha", &a, argc, argv, o, err, errlen);
}
