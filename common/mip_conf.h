/* Config pieces shared by the three daemons. */
#ifndef MIPSA_MIP_CONF_H
#define MIPSA_MIP_CONF_H

#include "conf.h"
#include "mip_auth.h"

/* A mobility security association: spi (>= 256) and key (hex, 16..64 bytes). */
extern const struct conf_names mip_conf_key_names[];
int mip_conf_key(struct conf *c, const config_setting_t *grp, struct mip_key *k);
/* log_level = "err" | "warn" | "notice" | "info" | "debug" (default info). */
int mip_conf_log_level(struct conf *c, const config_setting_t *grp, int *level);
/* A string setting copied into a fixed buffer, with its length checked. */
int mip_conf_strcpy(struct conf *c, const config_setting_t *grp, const char *name, bool required,
		    char *out, size_t cap);

/* An optional integer setting in min..max; *out keeps its default when absent. */
int mip_conf_uint(struct conf *c, const config_setting_t *grp, const char *name, uint32_t min,
		  uint32_t max, uint32_t *out);

#endif
