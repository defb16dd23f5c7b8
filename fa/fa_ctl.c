/* Control answers of mipsa-fa: one table of commands, rendered here. */
#include "ctl.h"
#include "ctl_cmds.h"
#include "fa.h"
#include "fa_sec.h"

/* What a command gets: the FA, its IPsec side (or none) and the time of the request. */
struct fa_ctl_arg {
	struct fa *fa;
	struct fa_sec *sec;
	uint64_t now_ms;
};

static int fa_cmd_visitors(void *arg, int argc, char **argv, struct ctl_out *o, char *err,
			   size_t errlen)
{
	const struct fa_ctl_arg *a = arg;
	size_t it = 0;
	uint32_t k;
	void *val;

	ctl_list_begin(o, "visitors");
	while (u32map_next(&a->fa->visitors, &it, &k, &val)) {
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
			v->active && v->expires_ms > a->now_ms ? (v->expires_ms - a->now_ms) / 1000
							       : 0);
		ctl_bool(o, "reverse_tunnel", v->reverse_tunnel);
		ctl_u64(o, "tunnel_mtu", v->tunnel_mtu);
		ctl_u64(o, "delivered", v->delivered_packets);
		ctl_u64(o, "reverse_tunnelled", v->reverse_packets);
		ctl_obj_end(o);
	}
	ctl_list_end(o);
	return 0;
}

static int fa_cmd_counters(void *arg, int argc, char **argv, struct ctl_out *o, char *err,
			   size_t errlen)
{
	const struct fa *fa = ((const struct fa_ctl_arg *)arg)->fa;

	ctl_obj_begin(o, "counters");
#define FA_CTL_COUNTER(n) ctl_u64(o, #n, fa->ctr.n);
	FA_COUNTERS(FA_CTL_COUNTER)
#undef FA_CTL_COUNTER
	ctl_daemon_counters(o);
	ctl_obj_end(o);
	pmtu_ctl(o, "delivery_mtu_counters", &fa->deliver_path.ctr);
	pmtu_ctl(o, "reverse_tunnel_mtu_counters", &fa->reverse_path.ctr);
	return 0;
}

static int fa_cmd_status(void *arg, int argc, char **argv, struct ctl_out *o, char *err,
			 size_t errlen)
{
	const struct fa *fa = ((const struct fa_ctl_arg *)arg)->fa;

	ctl_addr(o, "care_of_address", fa->cfg.coa);
	ctl_addr(o, "alias_address", fa->cfg.alias);
	ctl_str(o, "access_interface", fa->cfg.access_interface);
	ctl_u64(o, "visitors_count", u32map_len(&fa->visitors));
	fa_cmd_visitors(arg, argc, argv, o, err, errlen);
	return fa_cmd_counters(arg, argc, argv, o, err, errlen);
}

static int fa_cmd_sas(void *arg, int argc, char **argv, struct ctl_out *o, char *err, size_t errlen)
{
	const struct fa_ctl_arg *a = arg;

	if (a->sec != NULL)
		fa_sec_ctl_sas(a->sec, o);
	else
		ctl_bool(o, "ipsec", false);
	return 0;
}

/*
 * Every command of mipsa-fa (doc/control.md lists them).  The daemon
 * answers keys itself (its text answer is the bare table file, no
 * "daemon" line) before it hands the rest to fa_ctl.
 */
static const struct ctl_cmd fa_ctl_cmds[] = {
	FA_CTL_CMDS(CTL_CMD_ROW){NULL, NULL, NULL, NULL},
};

int fa_ctl(struct fa *fa, struct fa_sec *sec, int argc, char **argv, struct ctl_out *o, char *err,
	   size_t errlen, uint64_t now_ms)
{
	struct fa_ctl_arg a = {.fa = fa, .sec = sec, .now_ms = now_ms};

	return ctl_dispatch(fa_ctl_cmds, "mipsa-fa", &a, argc, argv, o, err, errlen);
}
