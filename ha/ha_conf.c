#include "conf.h"
#include "ha.h"
#include "log.h"
#include "mip_conf.h"
#include "mip_ident.h"
#include "sandbox.h"

#include <stdlib.h>
#include <string.h>

static const struct conf_names ha_mn_names[] = {
	{"home_address", NULL}, {"nai", NULL}, {NULL, mip_conf_key_names}};
static const struct conf_names ha_fa_names[] = {{"address", NULL}, {NULL, mip_conf_key_names}};

const struct conf_names ha_conf_names[] = {
	{"address", NULL},
	{"home_prefix", NULL},
	{"tunnel_device", NULL},
	{"control_socket", NULL},
	{"state_file", NULL},
	{"log_level", NULL},
	{"max_lifetime", NULL},
	{"timestamp_tolerance", NULL},
	{"require_fa_auth", NULL},
	{"reverse_tunnel", NULL},
	{"mobile_nodes", ha_mn_names},
	{"foreign_agents", ha_fa_names},
	{NULL, NULL},
};

static const struct conf_names ha_group_names[] = {SANDBOX_CONF_NAMES, {NULL, ha_conf_names}};
const struct conf_names ha_root_names[] = {{"ha", ha_group_names}, {NULL, NULL}};

static int ha_conf_mn(struct conf *c, const config_setting_t *s, struct ha_mn *mn)
{
	const char *nai = NULL;

	memset(mn, 0, sizeof(*mn));
	if (conf_addr(c, s, "home_address", true, &mn->home_addr) != 0)
		return -1;
	if (conf_str(c, s, "nai", false, &nai) < 0)
		return -1;
	if (nai != NULL) {
		mn->nai_len = strlen(nai);
		if (mn->nai_len == 0 || mn->nai_len > MIP_NAI_MAX)
			return conf_fail(c, config_setting_get_member(s, "nai"), NULL,
					 "must be 1 to %d characters", MIP_NAI_MAX);
		memcpy(mn->nai, nai, mn->nai_len);
	}
	return mip_conf_key(c, s, &mn->key);
}

static int ha_conf_mns(struct conf *c, const config_setting_t *ha, struct ha_config *cfg)
{
	const config_setting_t *list = conf_group(c, ha, "mobile_nodes", true);

	if (list == NULL)
		return -1;
	cfg->n_mns = (size_t)config_setting_length(list);
	cfg->mns = calloc(cfg->n_mns ? cfg->n_mns : 1, sizeof(*cfg->mns));
	if (cfg->mns == NULL)
		return conf_fail(c, list, NULL, "out of memory");
	for (size_t i = 0; i < cfg->n_mns; i++) {
		const config_setting_t *s = config_setting_get_elem(list, (unsigned)i);
		if (ha_conf_mn(c, s, &cfg->mns[i]) != 0)
			return -1;
		for (size_t j = 0; j < i; j++)
			if (cfg->mns[j].home_addr.s_addr == cfg->mns[i].home_addr.s_addr)
				return conf_fail(c, s, "home_address", "used twice");
	}
	return 0;
}

static int ha_conf_fas(struct conf *c, const config_setting_t *ha, struct ha_config *cfg)
{
	const config_setting_t *list = conf_group(c, ha, "foreign_agents", false);

	if (list == NULL)
		return c->err[0] ? -1 : 0;
	cfg->n_fas = (size_t)config_setting_length(list);
	cfg->fas = calloc(cfg->n_fas ? cfg->n_fas : 1, sizeof(*cfg->fas));
	if (cfg->fas == NULL)
		return conf_fail(c, list, NULL, "out of memory");
	for (size_t i = 0; i < cfg->n_fas; i++) {
		const config_setting_t *s = config_setting_get_elem(list, (unsigned)i);
		if (conf_addr(c, s, "address", true, &cfg->fas[i].addr) != 0 ||
		    mip_conf_key(c, s, &cfg->fas[i].key) != 0)
			return -1;
	}
	return 0;
}

static int ha_config_parse(struct conf *c, struct ha_config *cfg)
{
	const config_setting_t *ha;

	memset(cfg, 0, sizeof(*cfg));
	cfg->max_lifetime = 600;
	cfg->tolerance_s = MIP_IDENT_TOLERANCE;
	cfg->reverse_tunnel = true;
	snprintf(cfg->tunnel_device, sizeof(cfg->tunnel_device), "mipha0");
	snprintf(cfg->control_socket, sizeof(cfg->control_socket), "/run/mipsa/ha.sock");
	ha = conf_group(c, NULL, "ha", true);
	if (ha == NULL)
		return -1;
	if (conf_addr(c, ha, "address", true, &cfg->address) != 0 ||
	    conf_prefix(c, ha, "home_prefix", true, &cfg->home_prefix, &cfg->home_plen) != 0 ||
	    conf_strcpy(c, ha, "tunnel_device", false, cfg->tunnel_device,
			sizeof(cfg->tunnel_device)) < 0 ||
	    conf_strcpy(c, ha, "control_socket", false, cfg->control_socket,
			sizeof(cfg->control_socket)) < 0 ||
	    conf_strcpy(c, ha, "state_file", false, cfg->state_file, sizeof(cfg->state_file)) < 0 ||
	    conf_log_level(c, ha, &cfg->log_level) != 0)
		return -1;
	uint32_t max_lifetime = cfg->max_lifetime;
	if (conf_uint(c, ha, "max_lifetime", 1, 65534, &max_lifetime) < 0 ||
	    conf_uint(c, ha, "timestamp_tolerance", 1, 3600, &cfg->tolerance_s) < 0)
		return -1;
	cfg->max_lifetime = (uint16_t)max_lifetime;
	if (conf_bool(c, ha, "require_fa_auth", false, &cfg->require_fa_auth) < 0 ||
	    conf_bool(c, ha, "reverse_tunnel", false, &cfg->reverse_tunnel) < 0)
		return -1;
	return ha_conf_mns(c, ha, cfg) != 0 || ha_conf_fas(c, ha, cfg) != 0 ? -1 : 0;
}

/* All or nothing: a refused configuration leaves no list (and no key) behind. */
int ha_config_load(struct conf *c, struct ha_config *cfg)
{
	if (ha_config_parse(c, cfg) == 0)
		return 0;
	ha_config_free(cfg);
	return -1;
}

void ha_config_free(struct ha_config *cfg)
{
	if (cfg->mns != NULL)
		for (size_t i = 0; i < cfg->n_mns; i++)
			mip_key_wipe(&cfg->mns[i].key);
	if (cfg->fas != NULL)
		for (size_t i = 0; i < cfg->n_fas; i++)
			mip_key_wipe(&cfg->fas[i].key);
	free(cfg->mns);
	free(cfg->fas);
	cfg->mns = NULL;
	cfg->fas = NULL;
}
