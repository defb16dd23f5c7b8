/* Mobile IP config pieces shared by the three daemons (generic getters: conf.h). */
#ifndef MIPSA_MIP_CONF_H
#define MIPSA_MIP_CONF_H

#include "conf.h"
#include "mip_auth.h"

/* A mobility security association: spi (>= 256) and key (hex, 16..64 bytes). */
extern const struct conf_names mip_conf_key_names[];
int mip_conf_key(struct conf *c, const config_setting_t *grp, struct mip_key *k);

#endif
