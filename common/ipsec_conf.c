#include "ipsec_conf.h"
#include "ipsec.h"
#include "conf.h"
#include "ike_creds.h"
#include "isakmp.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct conf_names ipsec_peer_names[] = {
	{"address", NULL},  {"id", NULL},        {"psk", NULL},
	{"local_ts", NULL}, {"remote_ts", NULL}, {NULL, NULL},
};

const struct conf_names ipsec_conf_names[] = {
	{"enabled", NULL},
	{"auth", NULL},
	{"local_id", NULL},
	{"certificate", NULL},
	{"private_key", NULL},
	{"ca", NULL},
	{"ike_proposals", NULL},
	{"esp_proposals", NULL},
	{"pfs", NULL},
	{"ike_lifetime", NULL},
	{"ipsec_lifetime", NULL},
	{"ipsec_lifetime_kb", NULL},
	{"rekey_margin", NULL},
	{"dpd_interval", NULL},
	{"retransmit_ms", NULL},
	{"retransmit_tries", NULL},
	{"udp_encapsulation", NULL},
	{"esp_cache_pairs", NULL},
	{"halfopen_max", NULL},
	{"halfopen_peer_max", NULL},
	{"peers", ipsec_peer_names},
	{NULL, NULL},
};

static int ipsec_parse_group(const char *s, enum ike_group *g)
{
	if (strcmp(s, "modp2048") == 0)
		*g = IKE_GROUP_MODP2048;
	else if (strcmp(s, "modp3072") == 0)
		*g = IKE_GROUP_MODP3072;
	else if (strcmp(s, "ecp256") == 0)
		*g = IKE_GROUP_ECP256;
	else
		return -1;
	return 0;
}

int ipsec_parse_ike_proposal(const char *s, struct ike_p1_prop *p)
{
	char enc[16], hash[16], group[16], extra;

	if (sscanf(s, "%15[^-]-%15[^-]-%15[^-]%c", enc, hash, group, &extra) != 3)
		return -1;
	if (strcmp(enc, "aes128") == 0)
		p->key_bits = 128;
	else if (strcmp(enc, "aes256") == 0)
		p->key_bits = 256;
	else
		return -1;
	if (strcmp(hash, "sha1") == 0)
		p->hash = IKE_HASH_SHA1;
	else if (strcmp(hash, "sha256") == 0)
		p->hash = IKE_HASH_SHA2_256;
	else
		return -1;
	return ipsec_parse_group(group, &p->group);
}

int ipsec_parse_esp_proposal(const char *s, struct ike_p2_prop *p)
{
	static const struct {
		const char *name;
		enum esp_alg alg;
		uint16_t bits;
	} t[] = {
		{"aes128-sha1", ESP_ALG_AES_CBC_HMAC_SHA1_96, 128},
		{"aes256-sha1", ESP_ALG_AES_CBC_HMAC_SHA1_96, 256},
		{"aes128-sha256", ESP_ALG_AES_CBC_HMAC_SHA256_128, 128},
		{"aes256-sha256", ESP_ALG_AES_CBC_HMAC_SHA256_128, 256},
		{"aes128gcm16", ESP_ALG_AES_GCM_16, 128},
		{"aes256gcm16", ESP_ALG_AES_GCM_16, 256},
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(s, t[i].name) == 0) {
			p->alg = t[i].alg;
			p->key_bits = t[i].bits;
			return 0;
		}
	return -1;
}

/* A list of proposal strings into an array; the defaults stay when absent. */
static int ipsec_conf_proposals(struct conf *c, const config_setting_t *g, const char *name,
				bool esp, struct ike_config *ike)
{
	const config_setting_t *list = config_setting_get_member(g, name);
	int n;

	if (list == NULL)
		return 0;
	n = config_setting_length(list);
	if (!config_setting_is_array(list) && !config_setting_is_list(list))
		return conf_fail(c, list, NULL, "expected a list of strings");
	if (n < 1 || n > IKE_MAX_PROPS)
		return conf_fail(c, list, NULL, "1 to %d proposals", IKE_MAX_PROPS);
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
		const char *s = config_setting_get_string(e);
		int r = s == NULL ? -1
			: esp     ? ipsec_parse_esp_proposal(s, &ike->p2[i])
				  : ipsec_parse_ike_proposal(s, &ike->p1[i]);
		if (r < 0)
			return conf_fail(c, e, NULL,
					 esp ? "'%s' is not one of aes128|aes256-sha1|sha256, "
					       "aes128gcm16, aes256gcm16"
					     : "'%s' is not "
					       "aes128|aes256-sha1|sha256-modp2048|modp3072|ecp256",
					 s ? s : "?");
	}
	if (esp)
		ike->n_p2 = (size_t)n;
	else
		ike->n_p1 = (size_t)n;
	return 0;
}

static int ipsec_conf_ts(struct conf *c, const config_setting_t *s, const char *name,
			 struct in_addr self, struct in_addr def, uint8_t def_plen,
			 struct in_addr *net, uint8_t *plen)
{
	int r = conf_prefix(c, s, name, false, net, plen);

	if (r < 0)
		return -1;
	if (r == 1) {
		*net = def.s_addr == 0 && def_plen == 32 ? self : def;
		*plen = def_plen;
	}
	return 0;
}

static int ipsec_conf_one_peer(struct conf *c, const config_setting_t *s, struct ike_peer *p,
			       struct in_addr dl, uint8_t dlp, struct in_addr dr, uint8_t drp)
{
	const char *id = NULL, *psk = NULL;

	memset(p, 0, sizeof(*p));
	if (conf_addr(c, s, "address", true, &p->addr) != 0 ||
	    conf_str(c, s, "id", false, &id) < 0 || conf_str(c, s, "psk", false, &psk) < 0)
		return -1;
	if (id != NULL && ike_id_parse(id, &p->id) < 0)
		return conf_fail(c, config_setting_get_member(s, "id"), NULL,
				 "not an identity (user@host, host, a.b.c.d or a DN)");
	if (psk != NULL) {
		p->psk_len = strlen(psk);
		if (p->psk_len < 8 || p->psk_len > IKE_PSK_MAX)
			return conf_fail(c, config_setting_get_member(s, "psk"), NULL,
					 "a pre-shared key of 8 to %d characters", IKE_PSK_MAX);
		memcpy(p->psk, psk, p->psk_len);
	}
	snprintf(p->name, sizeof(p->name), "%s", id ? id : "peer");
	return ipsec_conf_ts(c, s, "local_ts", p->addr, dl, dlp, &p->local_net, &p->local_plen) ||
			       ipsec_conf_ts(c, s, "remote_ts", p->addr, dr, drp, &p->remote_net,
					     &p->remote_plen)
		       ? -1
		       : 0;
}

static int ipsec_conf_auth(struct conf *c, const config_setting_t *g, struct ipsec_conf *ic)
{
	const char *auth = "psk", *id = NULL;

	if (conf_str(c, g, "auth", false, &auth) < 0 || conf_str(c, g, "local_id", false, &id) < 0)
		return -1;
	if (strcmp(auth, "rsa") == 0) {
		ic->ike.auth = IKE_AUTH_RSA_SIG;
		if (conf_strcpy(c, g, "certificate", true, ic->certificate,
				sizeof(ic->certificate)) ||
		    conf_strcpy(c, g, "private_key", true, ic->private_key,
				sizeof(ic->private_key)) ||
		    conf_strcpy(c, g, "ca", true, ic->ca, sizeof(ic->ca)))
			return -1;
		ic->ike.creds = ike_creds_load(ic->certificate, ic->private_key, ic->ca);
		if (ic->ike.creds == NULL)
			return conf_fail(c, config_setting_get_member(g, "certificate"), NULL,
					 "certificate, key or CA unusable (see the log)");
		if (id == NULL && ike_creds_subject_id(ic->ike.creds, &ic->ike.local_id) < 0)
			return conf_fail(c, g, "local_id", "cannot use the certificate's subject");
	} else if (strcmp(auth, "psk") != 0) {
		return conf_fail(c, config_setting_get_member(g, "auth"), NULL,
				 "'%s' is not psk or rsa", auth);
	}
	if (id != NULL && ike_id_parse(id, &ic->ike.local_id) < 0)
		return conf_fail(c, config_setting_get_member(g, "local_id"), NULL,
				 "not an identity");
	return 0;
}

static int ipsec_conf_parse(struct conf *c, const config_setting_t *grp, struct ipsec_conf *ic,
			    struct in_addr def_local, uint8_t def_local_plen,
			    struct in_addr def_remote, uint8_t def_remote_plen)
{
	const config_setting_t *g, *peers;
	const char *pfs = "none";

	memset(ic, 0, sizeof(*ic));
	ike_config_defaults(&ic->ike);
	g = conf_group(c, grp, "ipsec", false);
	if (g == NULL)
		return c->err[0] ? -1 : 0;
	ic->enabled = true;
	ic->esp_cache_pairs = IPSEC_CACHE_PAIRS;
	if (conf_bool(c, g, "enabled", false, &ic->enabled) < 0 || ipsec_conf_auth(c, g, ic) < 0 ||
	    ipsec_conf_proposals(c, g, "ike_proposals", false, &ic->ike) < 0 ||
	    ipsec_conf_proposals(c, g, "esp_proposals", true, &ic->ike) < 0 ||
	    conf_str(c, g, "pfs", false, &pfs) < 0 ||
	    conf_uint(c, g, "ike_lifetime", 20, 86400 * 7, &ic->ike.p1_lifetime_s) < 0 ||
	    conf_uint(c, g, "ipsec_lifetime", 10, 86400 * 7, &ic->ike.p2_lifetime_s) < 0 ||
	    conf_uint(c, g, "ipsec_lifetime_kb", 0, UINT32_MAX, &ic->ike.p2_lifetime_kb) < 0 ||
	    conf_uint(c, g, "rekey_margin", 1, 3600, &ic->ike.rekey_margin_s) < 0 ||
	    conf_uint(c, g, "dpd_interval", 0, 3600, &ic->ike.dpd_interval_s) < 0 ||
	    conf_uint(c, g, "retransmit_ms", 10, 60000, &ic->ike.retrans_ms) < 0 ||
	    conf_uint(c, g, "retransmit_tries", 1, 20, &ic->ike.retrans_tries) < 0 ||
	    conf_bool(c, g, "udp_encapsulation", false, &ic->ike.force_udp_encap) < 0 ||
	    conf_uint(c, g, "esp_cache_pairs", 0, 1u << 24, &ic->esp_cache_pairs) < 0 ||
	    conf_uint(c, g, "halfopen_max", 16, 1u << 20, &ic->ike.halfopen_max) < 0 ||
	    conf_uint(c, g, "halfopen_peer_max", 1, 1024, &ic->ike.halfopen_peer_max) < 0)
		return -1;
	if (ic->ike.halfopen_peer_max > ic->ike.halfopen_max)
		return conf_fail(c, config_setting_get_member(g, "halfopen_peer_max"), NULL,
				 "more than halfopen_max (%u)", ic->ike.halfopen_max);
	if (strcmp(pfs, "none") == 0)
		ic->ike.pfs_group = 0;
	else if (ipsec_parse_group(pfs, &ic->ike.pfs_group) < 0)
		return conf_fail(c, config_setting_get_member(g, "pfs"), NULL,
				 "'%s' is not none, modp2048, modp3072 or ecp256", pfs);
	peers = conf_group(c, g, "peers", true);
	if (peers == NULL)
		return -1;
	ic->n_peers = (size_t)config_setting_length(peers);
	ic->peers = calloc(ic->n_peers ? ic->n_peers : 1, sizeof(*ic->peers));
	if (ic->peers == NULL)
		return conf_fail(c, peers, NULL, "out of memory");
	for (size_t i = 0; i < ic->n_peers; i++) {
		const config_setting_t *s = config_setting_get_elem(peers, (unsigned)i);
		if (ipsec_conf_one_peer(c, s, &ic->peers[i], def_local, def_local_plen, def_remote,
					def_remote_plen) < 0)
			return -1;
		if (ic->ike.auth == IKE_AUTH_PSK && ic->peers[i].psk_len == 0)
			return conf_fail(c, s, "psk", "missing (auth is psk)");
	}
	return 0;
}

/* All or nothing: a refused group leaves no peer (no PSK) and no credentials behind. */
int ipsec_conf_load(struct conf *c, const config_setting_t *grp, struct ipsec_conf *ic,
		    struct in_addr def_local, uint8_t def_local_plen, struct in_addr def_remote,
		    uint8_t def_remote_plen)
{
	if (ipsec_conf_parse(c, grp, ic, def_local, def_local_plen, def_remote, def_remote_plen) ==
	    0)
		return 0;
	ipsec_conf_free(ic);
	return -1;
}

void ipsec_conf_free(struct ipsec_conf *ic)
{
	if (ic->peers != NULL)
		OPENSSL_cleanse(ic->peers, ic->n_peers * sizeof(*ic->peers));
	free(ic->peers);
	ike_creds_free(ic->ike.creds);
	ic->peers = NULL;
	ic->ike.creds = NULL;
}

const struct ike_peer *ipsec_conf_peer(const struct ipsec_conf *ic, struct in_addr addr)
{
	for (size_t i = 0; i < ic->n_peers; i++)
		if (ic->peers[i].addr.s_addr == addr.s_addr)
			return &ic->peers[i];
	return NULL;
}
