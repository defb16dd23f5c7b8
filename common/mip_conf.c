#include "mip_conf.h"
#include "log.h"

#include <stdio.h>
#include <string.h>

const struct conf_names mip_conf_key_names[] = {{"spi", NULL}, {"key", NULL}, {NULL, NULL}};

int mip_conf_key(struct conf *c, const config_setting_t *grp, struct mip_key *k)
{
	long long spi;

	memset(k, 0, sizeof(*k));
	if (conf_int(c, grp, "spi", true, MIP_SPI_MIN, UINT32_MAX, &spi) != 0)
		return -1;
	k->spi = (uint32_t)spi;
	/* RFC 5944 5.1: at least 128 bits of key for HMAC-MD5. */
	if (conf_hex(c, grp, "key", true, k->key, 16, MIP_KEY_MAX, &k->len) != 0)
		return -1;
	return 0;
}

int mip_conf_log_level(struct conf *c, const config_setting_t *grp, int *level)
{
	const char *name = "info";
	int r = conf_str(c, grp, "log_level", false, &name);

	if (r < 0)
		return -1;
	*level = log_level_from_name(name);
	if (*level < 0)
		return conf_fail(c, config_setting_get_member(grp, "log_level"), NULL,
				 "'%s' is not one of err, warn, notice, info, debug", name);
	return 0;
}

int mip_conf_strcpy(struct conf *c, const config_setting_t *grp, const char *name, bool required,
		    char *out, size_t cap)
{
	const char *v;
	int r = conf_str(c, grp, name, required, &v);

	if (r != 0)
		return r;
	if (strlen(v) >= cap || v[0] == '\0')
		return conf_fail(c, config_setting_get_member(grp, name), NULL,
				 "must be 1 to %zu characters", cap - 1);
	snprintf(out, cap, "%s", v);
	return 0;
}

int mip_conf_uint(struct conf *c, const config_setting_t *grp, const char *name, uint32_t min,
		  uint32_t max, uint32_t *out)
{
	long long v;
	int r = conf_int(c, grp, name, false, min, max, &v);

	if (r == 0)
		*out = (uint32_t)v;
	return r < 0 ? -1 : 0;
}
