#include "conf.h"
#include "fa.h"
#include "fa_reuse.h"
#include "ipsec_conf.h"
#include "mip_conf.h"
#include "sandbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct conf_names fa_ha_names[] = {{"address", NULL}, {NULL, mip_conf_key_names}};
static const struct conf_names fa_mn_names[] = {{"home_address", NULL}, {NULL, mip_conf_key_names}};

const struct conf_names fa_conf_names[] = {
	{"access_interface", NULL},
	{"tunnel_device", NULL},
	{"control_socket", NULL},
	{"alias_address", NULL},
	{"alias_prefix_length", NULL},
	{"care_of_address", NULL},
	{"route_table", NULL},
	{"advertisement_interval_ms", NULL},
	{"advertisement_lifetime", NULL},
	{"max_lifetime", NULL},
	{"pending_timeout_ms", NULL},
	{"max_visitors", NULL},
	{"max_pending_relays", NULL},
	{"reverse_tunnel", NULL},
	{"require_reverse_tunnel", NULL},
	{"require_mn_auth", NULL},
	{"require_ha_auth", NULL},
	{"visitor_delivery", NULL},
	{"log_level", NULL},
	{"home_agents", fa_ha_names},
	{"mobile_nodes", fa_mn_names},
	{NULL, NULL},
};

/* The fa group: what fa_config_load reads, the ipsec group and the domain group. */
static const struct conf_names fa_group_names[] = {{"ipsec", ipsec_conf_names},
						   {"domain", fa_domain_names},
						   SANDBOX_CONF_NAMES,
						   {NULL, fa_conf_names}};
const struct conf_names fa_root_names[] = {{"fa", fa_group_names}, {NULL, NULL}};

/* A list of { <addr_name> = "a.b.c.d"; spi = N; key = "hex"; } */
static int fa_conf_keys(struct conf *c, const config_setting_t *fa, const char *list_name,
			const char *addr_name, struct fa_peer_key **out, size_t *n)
{
	const config_setting_t *list = conf_group(c, fa, list_name, false);

	*out = NULL;
	*n = 0;
	if (list == NULL)
		return c->err[0] ? -1 : 0;
	*n = (size_t)config_setting_length(list);
	*out = calloc(*n ? *n : 1, sizeof(**out));
	if (*out == NULL)
		return conf_fail(c, list, NULL, "out of memory");
	for (size_t i = 0; i < *n; i++) {
		const config_setting_t *s = config_setting_get_elem(list, (unsigned)i);
		if (conf_addr(c, s, addr_name, true, &(*out)[i].addr) != 0 ||
		    mip_conf_key(c, s, &(*out)[i].key) != 0)
			return -1;
	}
	return 0;
}

static void fa_config_defaults(struct fa_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->tunnel_device, sizeof(cfg->tunnel_device), "mipfa0");
	snprintf(cfg->control_socket, sizeof(cfg->control_socket), "/run/mipsa/fa.sock");
	cfg->route_table = 100;
	cfg->adv_interval_ms = 1000;
	cfg->adv_lifetime = 3;
	cfg->max_lifetime = 600;
	cfg->pending_timeout_ms = 7000;
	cfg->max_visitors = 10000;
	cfg->max_pending_relays = FA_MAX_PENDING_RELAYS;
	cfg->reverse_tunnel = true;
}

static int fa_config_parse(struct conf *c, struct fa_config *cfg)
{
	const config_setting_t *fa;
	uint32_t plen, adv_lifetime, max_lifetime;
	const char *delivery = "link";

	fa_config_defaults(cfg);
	fa = conf_group(c, NULL, "fa", true);
	if (fa == NULL)
		return -1;
	plen = 24;
	adv_lifetime = cfg->adv_lifetime;
	max_lifetime = cfg->max_lifetime;
	if (conf_strcpy(c, fa, "access_interface", true, cfg->access_interface,
			sizeof(cfg->access_interface)) != 0 ||
	    conf_strcpy(c, fa, "tunnel_device", false, cfg->tunnel_device,
			sizeof(cfg->tunnel_device)) < 0 ||
	    conf_strcpy(c, fa, "control_socket", false, cfg->control_socket,
			sizeof(cfg->control_socket)) < 0 ||
	    conf_addr(c, fa, "alias_address", true, &cfg->alias) != 0 ||
	    conf_uint(c, fa, "alias_prefix_length", 8, 32, &plen) < 0 ||
	    conf_addr(c, fa, "care_of_address", true, &cfg->coa) != 0 ||
	    conf_uint(c, fa, "route_table", 1, 252, &cfg->route_table) < 0 ||
	    conf_uint(c, fa, "advertisement_interval_ms", 10, 600000, &cfg->adv_interval_ms) < 0 ||
	    conf_uint(c, fa, "advertisement_lifetime", 1, 9000, &adv_lifetime) < 0 ||
	    conf_uint(c, fa, "max_lifetime", 1, 65534, &max_lifetime) < 0 ||
	    conf_uint(c, fa, "pending_timeout_ms", 100, 60000, &cfg->pending_timeout_ms) < 0 ||
	    conf_uint(c, fa, "max_visitors", 1, 1000000, &cfg->max_visitors) < 0 ||
	    conf_uint(c, fa, "max_pending_relays", 1, 1000000, &cfg->max_pending_relays) < 0 ||
	    conf_bool(c, fa, "reverse_tunnel", false, &cfg->reverse_tunnel) < 0 ||
	    conf_bool(c, fa, "require_reverse_tunnel", false, &cfg->require_reverse_tunnel) < 0 ||
	    conf_bool(c, fa, "require_mn_auth", false, &cfg->require_mn_auth) < 0 ||
	    conf_bool(c, fa, "require_ha_auth", false, &cfg->require_ha_auth) < 0 ||
	    conf_str(c, fa, "visitor_delivery", false, &delivery) < 0 ||
	    conf_log_level(c, fa, &cfg->log_level) != 0)
		return -1;
	if (strcmp(delivery, "route") == 0)
		cfg->deliver_routed = true;
	else if (strcmp(delivery, "link") != 0)
		return conf_fail(c, config_setting_get_member(fa, "visitor_delivery"), NULL,
				 "'%s' is not link or route", delivery);
	cfg->alias_plen = (uint8_t)plen;
	cfg->adv_lifetime = (uint16_t)adv_lifetime;
	cfg->max_lifetime = (uint16_t)max_lifetime;
	if (cfg->adv_lifetime * 1000u < cfg->adv_interval_ms)
		return conf_fail(c, config_setting_get_member(fa, "advertisement_lifetime"), NULL,
				 "shorter than advertisement_interval_ms: advertisements would "
				 "lapse between two of them");
	if (cfg->require_reverse_tunnel && !cfg->reverse_tunnel)
		return conf_fail(c, config_setting_get_member(fa, "require_reverse_tunnel"), NULL,
				 "requires reverse_tunnel = true");
	if (fa_conf_keys(c, fa, "home_agents", "address", &cfg->has, &cfg->n_has) != 0 ||
	    fa_conf_keys(c, fa, "mobile_nodes", "home_address", &cfg->mns, &cfg->n_mns) != 0)
		return -1;
	return 0;
}

/* All or nothing: a refused configuration leaves no list (and no key) behind. */
int fa_config_load(struct conf *c, struct fa_config *cfg)
{
	if (fa_config_parse(c, cfg) == 0)
		return 0;
	fa_config_free(cfg);
	return -1;
}

void fa_config_free(struct fa_config *cfg)
{
	for (size_t i = 0; cfg->has && i < cfg->n_has; i++)
		mip_key_wipe(&cfg->has[i].key);
	for (size_t i = 0; cfg->mns && i < cfg->n_mns; i++)
		mip_key_wipe(&cfg->mns[i].key);
	free(cfg->has);
	free(cfg->mns);
	cfg->has = cfg->mns = NULL;
}
