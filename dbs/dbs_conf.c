/* The dbs group: the settings in dbs_conf_names, read by dbs_config_load. */
#include "dbs.h"
#include "conf.h"
#include "log.h"
#include "sandbox.h"
#include "store.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

const struct conf_names dbs_conf_names[] = {
	{"address", NULL},
	{"port", NULL},
	{"control_socket", NULL},
	{"data_dir", NULL},
	{"k_db_file", NULL},
	{"members", NULL},
	{"member_prefix", NULL},
	{"freshness_window_ms", NULL},
	{"max_records", NULL},
	{"log_compact_min_bytes", NULL},
	{"log_level", NULL},
	{"key_overlap_ms", NULL},
	{NULL, NULL},
};

static const struct conf_names dbs_group_names[] = {SANDBOX_CONF_NAMES, {NULL, dbs_conf_names}};
const struct conf_names dbs_root_names[] = {{"dbs", dbs_group_names}, {NULL, NULL}};

void dbs_config_defaults(struct dbs_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->port = SAX_PORT;
	snprintf(cfg->control_socket, sizeof(cfg->control_socket), "/run/mipsa/dbs.sock");
	snprintf(cfg->data_dir, sizeof(cfg->data_dir), "/var/lib/mipsa-dbs");
	cfg->freshness_window_ms = DBS_DEFAULT_WINDOW_MS;
	cfg->key_overlap_ms = SAX_RING_OVERLAP_DEFAULT;
	cfg->max_records = DBS_DEFAULT_MAX_RECORDS;
	cfg->compact_min_bytes = DBS_DEFAULT_COMPACT;
	cfg->replay_entries = DBS_DEFAULT_REPLAY;
	cfg->log_level = LOG_LVL_INFO;
}

static int dbs_conf_members(struct conf *c, const config_setting_t *grp, struct dbs_config *cfg)
{
	const config_setting_t *list = config_setting_get_member(grp, "members");

	if (list == NULL)
		return 0;
	if (!config_setting_is_array(list) && !config_setting_is_list(list))
		return conf_fail(c, list, NULL, "expected a list of IPv4 addresses");
	int n = config_setting_length(list);
	if (n > DBS_MAX_MEMBERS)
		return conf_fail(c, list, NULL, "at most %d members", DBS_MAX_MEMBERS);
	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(list, (unsigned)i);
		const char *v = config_setting_get_string(s);
		if (v == NULL || inet_pton(AF_INET, v, &cfg->members[i]) != 1 ||
		    cfg->members[i].s_addr == INADDR_ANY)
			return conf_fail(c, s, NULL, "'%s' is not an IPv4 address",
					 v ? v : "(not a string)");
	}
	cfg->n_members = (size_t)n;
	return 0;
}

static int dbs_conf_key(struct conf *c, const config_setting_t *grp, struct dbs_config *cfg)
{
	char why[400];

	if (conf_strcpy(c, grp, "k_db_file", true, cfg->k_db_file, sizeof(cfg->k_db_file)) != 0)
		return -1;
	if (store_read_key_file(cfg->k_db_file, cfg->k_db, why, sizeof(why)) < 0)
		return conf_fail(c, config_setting_get_member(grp, "k_db_file"), NULL, "%s", why);
	return 0;
}

static int dbs_conf_numbers(struct conf *c, const config_setting_t *grp, struct dbs_config *cfg)
{
	uint32_t port = cfg->port;
	long long compact = (long long)cfg->compact_min_bytes;

	if (conf_uint(c, grp, "port", 1, 65535, &port) < 0 ||
	    conf_uint(c, grp, "freshness_window_ms", 100, 600000, &cfg->freshness_window_ms) < 0 ||
	    conf_uint(c, grp, "max_records", 1, 10000000, &cfg->max_records) < 0 ||
	    conf_uint(c, grp, "key_overlap_ms", 0, SAX_RING_OVERLAP_MAX, &cfg->key_overlap_ms) <
		    0 ||
	    conf_int(c, grp, "log_compact_min_bytes", false, 4096, (long long)1 << 40, &compact) <
		    0)
		return -1;
	cfg->port = (uint16_t)port;
	cfg->compact_min_bytes = (uint64_t)compact;
	return 0;
}

int dbs_config_load(struct conf *c, struct dbs_config *cfg)
{
	const config_setting_t *grp;
	int r;

	dbs_config_defaults(cfg);
	grp = conf_group(c, NULL, "dbs", true);
	if (grp == NULL)
		return -1;
	if (conf_addr(c, grp, "address", true, &cfg->address) != 0 ||
	    conf_strcpy(c, grp, "control_socket", false, cfg->control_socket,
			sizeof(cfg->control_socket)) < 0 ||
	    conf_strcpy(c, grp, "data_dir", false, cfg->data_dir, sizeof(cfg->data_dir)) < 0 ||
	    conf_log_level(c, grp, &cfg->log_level) != 0 || dbs_conf_numbers(c, grp, cfg) < 0 ||
	    dbs_conf_members(c, grp, cfg) < 0)
		return -1;
	r = conf_prefix(c, grp, "member_prefix", false, &cfg->member_prefix, &cfg->member_plen);
	if (r < 0)
		return -1;
	cfg->have_prefix = r == 0;
	if (cfg->have_prefix && cfg->member_plen == 0)
		return conf_fail(c, config_setting_get_member(grp, "member_prefix"), NULL,
				 "a /0 prefix would let anyone with K_DB write");
	if (cfg->n_members == 0 && !cfg->have_prefix)
		return conf_fail(c, grp, "members",
				 "missing: give members, member_prefix or both (who may write)");
	return dbs_conf_key(c, grp, cfg);
}

void dbs_config_wipe(struct dbs_config *cfg)
{
	explicit_bzero(cfg->k_db, sizeof(cfg->k_db));
}
