#include "mip_conf.h"

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
