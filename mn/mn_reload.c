/*
 * mipsa-mn's configuration file, read the same way at start and at reload
 * (common/reload.h).  A reload keeps the registration, the binding and the
 * SAs; new keys and timers apply from the next message.
 */
#include "mn_daemon.h"

#include "conf.h"
#include "log.h"

#include <stdio.h>
#include <string.h>

int mn_conf_set_load(const char *path, struct mn_conf_set *set, char *err, size_t errlen)
{
	/* Our SAs cover the home address (local) and anything on the other side. */
	struct in_addr any = {0};
	const config_setting_t *g;
	struct conf c;

	memset(set, 0, sizeof(*set));
	if (conf_load(&c, path) < 0 || conf_check(&c, mn_root_names) < 0 ||
	    (g = conf_group(&c, NULL, "mn", true)) == NULL ||
	    sandbox_conf_load(&c, g, &set->sb) < 0 || mn_config_load(&c, &set->cfg) < 0 ||
	    conf_addr(&c, g, "gateway", false, &set->gateway) < 0 ||
	    conf_bool(&c, g, "sa_reuse", false, &set->sa_reuse) < 0 ||
	    ipsec_conf_load(&c, g, &set->ic, set->cfg.home_addr, 32, any, 0) < 0) {
		snprintf(err, errlen, "%s", conf_error(&c));
		conf_free(&c);
		mn_conf_set_free(set);
		return -1;
	}
	conf_free(&c);
	return 0;
}

void mn_conf_set_free(struct mn_conf_set *set)
{
	mn_config_free(&set->cfg);
	ipsec_conf_free(&set->ic);
}

static void mn_reload_diff(const struct mn_daemon *d, const struct mn_conf_set *fresh,
			   struct reload_diff *rd)
{
	const struct mn_config *a = &d->mn.cfg, *b = &fresh->cfg;

	RELOAD_FIXED(rd, a, b, interface, "interface");
	RELOAD_FIXED(rd, a, b, tunnel_device, "tunnel_device");
	RELOAD_FIXED(rd, a, b, control_socket, "control_socket");
	RELOAD_FIXED(rd, a, b, home_addr, "home_address");
	RELOAD_FIXED(rd, a, b, home_agent, "home_agent");
	RELOAD_FIXED(rd, d, fresh, gateway, "gateway");
	RELOAD_FIXED(rd, d, fresh, sa_reuse, "sa_reuse");
	sandbox_conf_diff(&d->sb, &fresh->sb, rd);
	RELOAD_LIVE(rd, a, b, nai, "nai");
	RELOAD_LIVE(rd, a, b, ha_key, "ha_security");
	RELOAD_LIVE(rd, a, b, fa_key, "fa_security");
	RELOAD_LIVE(rd, a, b, lifetime, "lifetime");
	RELOAD_LIVE(rd, a, b, reverse_tunnel, "reverse_tunnel");
	RELOAD_LIVE(rd, a, b, reg_retry_ms, "registration_retry_ms");
	RELOAD_LIVE(rd, a, b, reg_retry_max_ms, "registration_retry_max_ms");
	RELOAD_LIVE(rd, a, b, solicit_retry_ms, "solicitation_retry_ms");
	RELOAD_LIVE(rd, a, b, log_level, "log_level");
	ipsec_conf_diff(&d->ic, &fresh->ic, rd);
	/* The tunnel device's MTU was set at start for the worst overhead of the proposals. */
	if (mn_sec_tunnel_mtu(&fresh->ic, b->reverse_tunnel, fresh->gateway.s_addr != 0,
			      d->link_mtu) != d->tunnel_mtu)
		reload_restart(rd, "tunnel MTU (ipsec.esp_proposals, reverse_tunnel)");
}

int mn_reload(void *arg, bool dry, struct reload_diff *rd, char *err, size_t errlen)
{
	struct mn_daemon *d = arg;
	struct mn_conf_set fresh;

	if (mn_conf_set_load(d->config, &fresh, err, errlen) < 0)
		return -1;
	mn_reload_diff(d, &fresh, rd);
	if (!dry && rd->restart[0] == '\0') {
		struct mn_config old = d->mn.cfg;

		d->mn.cfg = fresh.cfg;
		fresh.cfg = old;
		if (!d->debug)
			log_set_level((enum log_level)d->mn.cfg.log_level);
		ipsec_conf_apply(&d->ic, &fresh.ic, d->sec.ep.ike);
	}
	/* The new file refused, or what the running one replaced. */
	mn_conf_set_free(&fresh);
	return 0;
}
