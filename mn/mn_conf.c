#include "conf.h"
#include "ipsec_conf.h"
#include "mip_conf.h"
#include "mn.h"
#include "sandbox.h"

#include <stdio.h>
#include <string.h>

const struct conf_names mn_conf_names[] = {
	{"interface", NULL},
	{"tunnel_device", NULL},
	{"control_socket", NULL},
	{"nai", NULL},
	{"home_address", NULL},
	{"home_agent", NULL},
	{"lifetime", NULL},
	{"reverse_tunnel", NULL},
	{"registration_retry_ms", NULL},
	{"registration_retry_max_ms", NULL},
	{"solicitation_retry_ms", NULL},
	{"log_level", NULL},
	{"ha_security", mip_conf_key_names},
	{"fa_security", mip_conf_key_names},
	{NULL, NULL},
};

/* The mn group: what mn_config_load reads, what main reads (gateway, sa_reuse), the ipsec group. */
static const struct conf_names mn_group_names[] = {{"gateway", NULL},
						   {"sa_reuse", NULL},
						   {"ipsec", ipsec_conf_names},
						   SANDBOX_CONF_NAMES,
						   {NULL, mn_conf_names}};
const struct conf_names mn_root_names[] = {{"mn", mn_group_names}, {NULL, NULL}};

static void mn_config_defaults(struct mn_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->tunnel_device, sizeof(cfg->tunnel_device), "mip0");
	snprintf(cfg->control_socket, sizeof(cfg->control_socket), "/run/mipsa/mn.sock");
	cfg->lifetime = 300;
	cfg->reverse_tunnel = true;
	cfg->reg_retry_ms = 500;
	cfg->reg_retry_max_ms = 8000;
	cfg->solicit_retry_ms = 1000;
}

int mn_config_load(struct conf *c, struct mn_config *cfg)
{
	const config_setting_t *mn, *ha, *fa;
	uint32_t lifetime;

	mn_config_defaults(cfg);
	mn = conf_group(c, NULL, "mn", true);
	if (mn == NULL)
		return -1;
	lifetime = cfg->lifetime;
	if (conf_strcpy(c, mn, "interface", true, cfg->interface, sizeof(cfg->interface)) != 0 ||
	    conf_strcpy(c, mn, "tunnel_device", false, cfg->tunnel_device,
			sizeof(cfg->tunnel_device)) < 0 ||
	    conf_strcpy(c, mn, "control_socket", false, cfg->control_socket,
			sizeof(cfg->control_socket)) < 0 ||
	    conf_strcpy(c, mn, "nai", false, cfg->nai, sizeof(cfg->nai)) < 0 ||
	    conf_addr(c, mn, "home_address", true, &cfg->home_addr) != 0 ||
	    conf_addr(c, mn, "home_agent", true, &cfg->home_agent) != 0 ||
	    conf_uint(c, mn, "lifetime", 1, 65534, &lifetime) < 0 ||
	    conf_bool(c, mn, "reverse_tunnel", false, &cfg->reverse_tunnel) < 0 ||
	    conf_uint(c, mn, "registration_retry_ms", 10, 60000, &cfg->reg_retry_ms) < 0 ||
	    conf_uint(c, mn, "registration_retry_max_ms", 10, 600000, &cfg->reg_retry_max_ms) < 0 ||
	    conf_uint(c, mn, "solicitation_retry_ms", 10, 600000, &cfg->solicit_retry_ms) < 0 ||
	    conf_log_level(c, mn, &cfg->log_level) != 0)
		return -1;
	cfg->lifetime = (uint16_t)lifetime;
	if (cfg->reg_retry_max_ms < cfg->reg_retry_ms)
		return conf_fail(c, config_setting_get_member(mn, "registration_retry_max_ms"),
				 NULL, "below registration_retry_ms");
	ha = conf_group(c, mn, "ha_security", true);
	if (ha == NULL || mip_conf_key(c, ha, &cfg->ha_key) != 0)
		return -1;
	fa = conf_group(c, mn, "fa_security", false);
	if (fa == NULL)
		return c->err[0] ? -1 : 0;
	return mip_conf_key(c, fa, &cfg->fa_key);
}

void mn_config_free(struct mn_config *cfg)
{
	mip_key_wipe(&cfg->ha_key);
	mip_key_wipe(&cfg->fa_key);
}
