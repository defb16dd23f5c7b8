#include "ctl.h"
#include "mn.h"

#include <stdio.h>
#include <string.h>

static void mn_ctl_state(struct mn *mn, struct ctl_out *o)
{
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
}

static void mn_ctl_counters(struct mn *mn, struct ctl_out *o)
{
	ctl_obj_begin(o, "counters");
#define MN_CTL_COUNTER(n) ctl_u64(o, #n, mn->ctr.n);
	MN_COUNTERS(MN_CTL_COUNTER)
#undef MN_CTL_COUNTER
	ctl_daemon_counters(o);
	ctl_obj_end(o);
}

int mn_ctl(struct mn *mn, int argc, char **argv, struct ctl_out *o, char *err, size_t errlen)
{
	const char *cmd = argv[0];

	(void)argc;
	if (strcmp(cmd, "reregister") == 0) {
		if (mn_reregister(mn) < 0) {
			snprintf(err, errlen, "no agent to register with (state %s)",
				 mn_state_name(mn->state));
			return -1;
		}
		ctl_obj_begin(o, NULL);
		ctl_str(o, "result", "registration sent");
		ctl_obj_end(o);
		return 0;
	}
	bool all = strcmp(cmd, "status") == 0;
	if (!all && strcmp(cmd, "state") != 0 && strcmp(cmd, "counters") != 0) {
		snprintf(err, errlen, "unknown command '%s' (state, counters, status, reregister)",
			 cmd);
		return -1;
	}
	ctl_obj_begin(o, NULL);
	ctl_str(o, "daemon", "mipsa-mn");
	if (all || strcmp(cmd, "state") == 0)
		mn_ctl_state(mn, o);
	if (all || strcmp(cmd, "counters") == 0)
		mn_ctl_counters(mn, o);
	ctl_obj_end(o);
	return 0;
}
