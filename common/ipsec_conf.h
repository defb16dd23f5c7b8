/*
 * The "ipsec" group of mipsa-mn and mipsa-fa configurations: how to
 * authenticate (PSK or RSA certificates), which IKE and ESP proposals to
 * offer and accept, lifetimes, DPD, and the peers with their identities,
 * keys and traffic selectors.
 */
#ifndef MIPSA_IPSEC_CONF_H
#define MIPSA_IPSEC_CONF_H

#include "conf.h"
#include "ike.h"

struct ipsec_conf {
	bool enabled;
	struct ike_config ike;
	struct ike_peer *peers;
	size_t n_peers;
	char certificate[256], private_key[256], ca[256];
	uint32_t esp_cache_pairs; /* an FA's keyed-context cache (ipsec_use_cache); 0: none */
};

/*
 * Read grp->ipsec (absent: IPsec off).  Peers without traffic selectors get
 * def_local / def_remote, where a zero address with prefix 32 means "the
 * peer's own address" (the FA's default for a mobile node's home address).
 */
/* What the ipsec group may hold, for conf_check. */
extern const struct conf_names ipsec_conf_names[];
int ipsec_conf_load(struct conf *c, const config_setting_t *grp, struct ipsec_conf *ic,
		    struct in_addr def_local, uint8_t def_local_plen, struct in_addr def_remote,
		    uint8_t def_remote_plen);
void ipsec_conf_free(struct ipsec_conf *ic);
const struct ike_peer *ipsec_conf_peer(const struct ipsec_conf *ic, struct in_addr addr);

/*
 * Reload (common/ipsec_reload.c).  ipsec_conf_diff: what differs from a
 * to b, by setting name; enabled and esp_cache_pairs take a restart.
 * ipsec_conf_apply: fresh becomes live, under eng (NULL: IPsec off), and
 * fresh is left holding the old configuration for the caller to free.
 */
struct reload_diff;
struct ike_engine;
void ipsec_conf_diff(const struct ipsec_conf *a, const struct ipsec_conf *b,
		     struct reload_diff *rd);
void ipsec_conf_apply(struct ipsec_conf *live, struct ipsec_conf *fresh, struct ike_engine *eng);

/* "aes128-sha1-modp2048" and "aes128-sha256", "aes256gcm16" (exposed for tests). */
int ipsec_parse_ike_proposal(const char *s, struct ike_p1_prop *p);
int ipsec_parse_esp_proposal(const char *s, struct ike_p2_prop *p);

#endif
