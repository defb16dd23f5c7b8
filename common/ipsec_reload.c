/* The ipsec group under a reload (common/reload.h), for mipsa-fa and mipsa-mn alike. */
#include "ike_creds.h"
#include "ipsec_conf.h"
#include "log.h"
#include "reload.h"

#include <openssl/crypto.h>

void ipsec_conf_diff(const struct ipsec_conf *a, const struct ipsec_conf *b, struct reload_diff *rd)
{
	const struct ike_config *x = &a->ike, *y = &b->ike;

	RELOAD_FIXED(rd, a, b, enabled, "ipsec.enabled");
	/* The keyed-context cache is sized once, at start (ipsec_use_cache). */
	RELOAD_FIXED(rd, a, b, esp_cache_pairs, "ipsec.esp_cache_pairs");
	if (!a->enabled || !b->enabled)
		return;
	RELOAD_LIVE(rd, x, y, local_id, "ipsec.local_id");
	RELOAD_LIVE(rd, x, y, auth, "ipsec.auth");
	if (RELOAD_DIFFERS(x, y, n_p1) || RELOAD_DIFFERS(x, y, p1))
		reload_changed(rd, "ipsec.ike_proposals");
	if (RELOAD_DIFFERS(x, y, n_p2) || RELOAD_DIFFERS(x, y, p2))
		reload_changed(rd, "ipsec.esp_proposals");
	RELOAD_LIVE(rd, x, y, pfs_group, "ipsec.pfs");
	RELOAD_LIVE(rd, x, y, p1_lifetime_s, "ipsec.ike_lifetime");
	RELOAD_LIVE(rd, x, y, p2_lifetime_s, "ipsec.ipsec_lifetime");
	RELOAD_LIVE(rd, x, y, p2_lifetime_kb, "ipsec.ipsec_lifetime_kb");
	RELOAD_LIVE(rd, x, y, rekey_margin_s, "ipsec.rekey_margin");
	RELOAD_LIVE(rd, x, y, dpd_interval_s, "ipsec.dpd_interval");
	RELOAD_LIVE(rd, x, y, retrans_ms, "ipsec.retransmit_ms");
	RELOAD_LIVE(rd, x, y, retrans_tries, "ipsec.retransmit_tries");
	RELOAD_LIVE(rd, x, y, force_udp_encap, "ipsec.udp_encapsulation");
	RELOAD_LIVE(rd, x, y, halfopen_max, "ipsec.halfopen_max");
	RELOAD_LIVE(rd, x, y, halfopen_peer_max, "ipsec.halfopen_peer_max");
	if (RELOAD_DIFFERS(a, b, certificate) || RELOAD_DIFFERS(a, b, private_key) ||
	    RELOAD_DIFFERS(a, b, ca) || !ike_creds_same(x->creds, y->creds))
		reload_changed(rd, "ipsec.certificate");
	if (reload_arrays_differ(a->peers, a->n_peers, b->peers, b->n_peers, sizeof(*a->peers)))
		reload_changed(rd, "ipsec.peers");
}

void ipsec_conf_apply(struct ipsec_conf *live, struct ipsec_conf *fresh, struct ike_engine *eng)
{
	struct ipsec_conf old = *live;
	size_t gone;

	/* The SAs still point into the old peers until ike_engine_repeer: free those last. */
	*live = *fresh;
	*fresh = old;
	if (eng == NULL)
		return;
	ike_engine_reconfigure(eng, &live->ike);
	gone = ike_engine_repeer(eng);
	if (gone > 0)
		log_notice("reload: %zu peers removed, with their SAs", gone);
}
