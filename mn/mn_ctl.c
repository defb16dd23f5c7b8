/* Control answers of mipsa-mn: one table of commands, rendered here. */
#include "ctl.h"
#include "ctl_cmds.h"
#include "mn.h"
#include "mn_sec.h"

#include <stdio.h>

/* What a command gets: the node and its IPsec side (or none). */
struct mn_ctl_arg {
	struct mn *mn;
	struct mn_sec *sec;
};

static int mn_cmd_state(void *arg, int argc, char **argv, struct ctl_out *o, char *err,
			size_t errlen)
{
	const struct mn *mn = ((const struct mn_ctl_arg *)arg)->mn;
	uint64_t now = ev_loop_now_ms(mn->loop);

	ctl_str(o, "state", mn_state_name(mn->state));
	ctl_addr(o, "home_address", mn->cfg.home_addr);
	ctl_addr(o, "home_agent", mn->cfg.home_agent);
	ctl_str(o, "nai", mn->cfg.nai[0] ? mn->cfg.nai : "-");
	ctl_obj_begin(o, "agent");
	ctl_bool(o, "valid", mn->agent.valid);
	ctl_addr(o, "address", mn->agent.addr);
	ctl_addr(o, "care_of_address", mn->agent.coa);
	ctl_mac(o, "mac", mn->agent.mac);
	ctl_u64(o, "sequence", mn->agent.seq);
	ctl_obj_end(o);
	ctl_obj_begin(o, "registration");
	ctl_addr(o, "care_of_address", mn->reg_coa);
	ctl_u64(o, "lifetime", mn->reg_lifetime);
	ctl_u64(o, "age_s", mn->reg_at_ms ? (now - mn->reg_at_ms) / 1000 : 0);
	ctl_u64(o, "last_handover_us", mn->last_handover_us);
	ctl_i64(o, "clock_offset_s", mn->clock_offset_s);
	ctl_obj_end(o);
	return 0;
}

static int mn_cmd_counters(void *arg, int argc, char **argv, struct ctl_out *o, char *err,
			   size_t errlen)
{
	const struct mn *mn = ((const struct mn_ctl_arg *)arg)->mn;

	ctl_obj_begin(o, "counters");
#define MN_CTL_COUNTER(n) ctl_u64(o, #n, mn->ctr.n);
	MN_COUNTERS(MN_CTL_COUNTER)
#undef MN_CTL_COUNTER
	ctl_daemon_counters(o);
	ctl_obj_end(o);
	return 0;
}

static int mn_cmd_status(void *arg, int argc, char **argv, struct ctl_out *o, char *err,
			 size_t errlen)
{
	mn_cmd_state(arg, argc, argv, o, err, errlen);
	return mn_cmd_counters(arg, argc, argv, o, err, errlen);
}

static int mn_cmd_reregister(void *arg, int argc, char **argv, struct ctl_out *o, char *err,
			     size_t errlen)
{
	struct mn *mn = ((const struct mn_ctl_arg *)arg)->mn;

	if (mn_reregister(mn) < 0) {
		snprintf(err, errlen, "no agent to register with (state %s)",
			 mn_state_name(mn->state));
		return -1;
	}
	ctl_str(o, "result", "registration sent");
	return 0;
}

static int mn_cmd_sas(void *arg, int argc, char **argv, struct ctl_out *o, char *err, size_t errlen)
{
	const struct mn_ctl_arg *a = arg;

	if (a->sec != NULL)
		mn_sec_ctl_sas(a->sec, o);
	else
		ctl_bool(o, "ipsec", false);
	return 0;
}

static int mn_cmd_mtu(void *arg, int argc, char **argv, struct ctl_out *o, char *err, size_t errlen)
{
	const struct mn_ctl_arg *a = arg;

	ctl_str(o, "interface", a->mn->cfg.interface);
	ctl_str(o, "tunnel_device", a->mn->cfg.tunnel_device);
	if (a->sec != NULL)
		mn_sec_ctl_mtu(a->sec, o);
	return 0;
}

/*
 * Every command of mipsa-mn (doc/control.md lists them).  The daemon
 * answers keys itself (its text answer is the bare table file, no
 * "daemon" line) before it hands the rest to mn_ctl.
 */
static const struct ctl_cmd mn_ctl_cmds[] = {
	MN_CTL_CMDS(CTL_CMD_ROW){NULL, NULL, NULL, NULL},
};

int mn_ctl(struct mn *mn, struct mn_sec *sec, int argc, char **argv, struct ctl_out *o, char *err,
	   size_t errlen)
{
	struct mn_ctl_arg a = {.mn = mn, .sec = sec};

	return ctl_dispatch(mn_ctl_cmds, "mipsa-mn", &a, argc, argv, o, err, errlen);
}
