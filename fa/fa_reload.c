/*
 * mipsa-fa's configuration file, read the same way at start and at reload
 * (common/reload.h).  A reload keeps the visitors, their SAs and the SA
 * transfers in flight; what it may change is listed in mipsa-fa(8),
 * RELOAD, and everything else takes a restart.
 */
#include "fa_daemon.h"

#include "conf.h"
#include "log.h"
#include "reload.h"

#include <openssl/crypto.h>

#include <stdio.h>
#include <string.h>

int fa_conf_set_load(const char *path, struct fa_conf_set *set, char *err, size_t errlen)
{
	/* A visitor's SAs cover its home address (remote) and anything on our side. */
	struct in_addr any = {0};
	const config_setting_t *g;
	struct conf c;

	memset(set, 0, sizeof(*set));
	if (conf_load(&c, path) < 0 || conf_check(&c, fa_root_names) < 0 ||
	    fa_config_load(&c, &set->cfg) < 0 || (g = conf_group(&c, NULL, "fa", true)) == NULL ||
	    ipsec_conf_load(&c, g, &set->ic, any, 0, any, 32) < 0 ||
	    fa_domain_load(&c, g, &set->dom) < 0 || sandbox_conf_load(&c, g, &set->sb) < 0) {
		snprintf(err, errlen, "%s", conf_error(&c));
		conf_free(&c);
		/* the groups loaded before the refused one (each load is all or nothing) */
		fa_conf_set_free(set);
		return -1;
	}
	conf_free(&c);
	if (set->cfg.deliver_routed && set->ic.enabled) {
		/* Our own SAs seal what we send to a visitor's MAC; a route would bypass them. */
		snprintf(
			err, errlen,
			"%s: visitor_delivery = \"route\" is for an IPsec gateway beside mipsa-fa: "
			"disable the ipsec group or deliver on the link",
			path);
		fa_conf_set_free(set);
		return -1;
	}
	return 0;
}

void fa_conf_set_free(struct fa_conf_set *set)
{
	fa_config_free(&set->cfg);
	ipsec_conf_free(&set->ic);
	fa_domain_free(&set->dom);
}

static void fa_reload_diff_cfg(const struct fa_config *a, const struct fa_config *b,
			       struct reload_diff *rd)
{
	/* What the sockets, the TUN, the routes and the policy rule were made with. */
	RELOAD_FIXED(rd, a, b, access_interface, "access_interface");
	RELOAD_FIXED(rd, a, b, tunnel_device, "tunnel_device");
	RELOAD_FIXED(rd, a, b, control_socket, "control_socket");
	RELOAD_FIXED(rd, a, b, alias, "alias_address");
	RELOAD_FIXED(rd, a, b, alias_plen, "alias_prefix_length");
	RELOAD_FIXED(rd, a, b, coa, "care_of_address");
	RELOAD_FIXED(rd, a, b, route_table, "route_table");
	RELOAD_FIXED(rd, a, b, deliver_routed, "visitor_delivery");
	RELOAD_LIVE(rd, a, b, adv_interval_ms, "advertisement_interval_ms");
	RELOAD_LIVE(rd, a, b, adv_lifetime, "advertisement_lifetime");
	RELOAD_LIVE(rd, a, b, max_lifetime, "max_lifetime");
	RELOAD_LIVE(rd, a, b, pending_timeout_ms, "pending_timeout_ms");
	RELOAD_LIVE(rd, a, b, max_visitors, "max_visitors");
	RELOAD_LIVE(rd, a, b, max_pending_relays, "max_pending_relays");
	RELOAD_LIVE(rd, a, b, reverse_tunnel, "reverse_tunnel");
	RELOAD_LIVE(rd, a, b, require_reverse_tunnel, "require_reverse_tunnel");
	RELOAD_LIVE(rd, a, b, require_mn_auth, "require_mn_auth");
	RELOAD_LIVE(rd, a, b, require_ha_auth, "require_ha_auth");
	RELOAD_LIVE(rd, a, b, log_level, "log_level");
	if (reload_arrays_differ(a->has, a->n_has, b->has, b->n_has, sizeof(*a->has)))
		reload_changed(rd, "home_agents");
	if (reload_arrays_differ(a->mns, a->n_mns, b->mns, b->n_mns, sizeof(*a->mns)))
		reload_changed(rd, "mobile_nodes");
}

/* The domain group: who may ask for SAs, and how long we wait, apply live. */
static void fa_domain_diff(const struct fa_domain *a, const struct fa_domain *b,
			   struct reload_diff *rd)
{
	struct store_config sa = a->store_cfg, sb = b->store_cfg;

	RELOAD_FIXED(rd, a, b, enabled, "domain");
	RELOAD_FIXED(rd, a, b, reuse, "domain.reuse");
	if (RELOAD_DIFFERS(a, b, direct) || RELOAD_DIFFERS(a, b, store))
		reload_restart(rd, "domain.technique");
	/* The replay cache was sized for the window (sax.h): a wider one would let replays in. */
	RELOAD_FIXED(rd, a, b, window_ms, "domain.freshness_window_ms");
	/*
	 * The store client's connection; its local address is ours, set at
	 * start, and its K_DB rotates (store_client_rotate).
	 */
	sb.local = sa.local;
	memcpy(sb.k_db, sa.k_db, sizeof(sb.k_db));
	if (memcmp(&sa, &sb, sizeof(sa)) != 0)
		reload_restart(rd, "domain.store");
	if (RELOAD_DIFFERS(&a->store_cfg, &b->store_cfg, k_db))
		reload_changed(rd, "domain.store.k_db_file");
	OPENSSL_cleanse(&sa, sizeof(sa));
	OPENSSL_cleanse(&sb, sizeof(sb));
	/* New keys rotate with an overlap (fa_domain_rotate), so the domain's FAs go one at a time.
	 */
	if (RELOAD_DIFFERS(&a->keys.cur, &b->keys.cur, k_sa) ||
	    RELOAD_DIFFERS(&a->keys.cur, &b->keys.cur, k_db))
		reload_changed(rd, "domain.k_sa_file, domain.k_db_file");
	RELOAD_LIVE(rd, a, b, key_overlap_ms, "domain.key_overlap_ms");
	if (RELOAD_DIFFERS(a, b, n_members) || RELOAD_DIFFERS(a, b, members) ||
	    RELOAD_DIFFERS(a, b, member_net) || RELOAD_DIFFERS(a, b, member_plen))
		reload_changed(rd, "domain.members");
	RELOAD_LIVE(rd, a, b, timeout_ms, "domain.transfer_timeout_ms");
	RELOAD_LIVE(rd, a, b, lend_ms, "domain.lend_timeout_ms");
	RELOAD_LIVE(rd, a, b, seq_reserve, "domain.seq_reserve");
	RELOAD_LIVE(rd, a, b, offers, "domain.offers");
}

static void fa_domain_apply(struct fa_daemon *d, const struct fa_domain *fresh)
{
	struct fa_domain *live = &d->dom;
	uint64_t now = ev_loop_wall_ms(d->loop);

	/* Keys first: rotated ones are sent from now + overlap, and the store copies follow. */
	if (live->enabled && fa_domain_rotate(live, fresh, now) > 0)
		fa_reuse_keys_rotated(&d->sec);
	if (d->store != NULL)
		store_client_rotate(d->store, fresh->store_cfg.k_db, now, fresh->key_overlap_ms);
	memcpy(live->store_cfg.k_db, fresh->store_cfg.k_db, sizeof(live->store_cfg.k_db));
	memcpy(live->members, fresh->members, sizeof(live->members));
	live->n_members = fresh->n_members;
	live->member_net = fresh->member_net;
	live->member_plen = fresh->member_plen;
	live->timeout_ms = fresh->timeout_ms;
	live->lend_ms = fresh->lend_ms;
	live->seq_reserve = fresh->seq_reserve;
	live->offers = fresh->offers;
}

static void fa_reload_diff(struct fa_daemon *d, struct fa_conf_set *fresh, struct reload_diff *rd)
{
	struct fa_config live = d->fa.cfg;

	/* fa_init fills the default in: compare like with like. */
	if (fresh->cfg.max_pending_relays == 0)
		live.max_pending_relays = 0;
	fa_reload_diff_cfg(&live, &fresh->cfg, rd);
	ipsec_conf_diff(&d->ic, &fresh->ic, rd);
	fa_domain_diff(&d->dom, &fresh->dom, rd);
	sandbox_conf_diff(&d->sb, &fresh->sb, rd);
}

static void fa_reload_apply(struct fa_daemon *d, struct fa_conf_set *fresh)
{
	struct fa_config old = d->fa.cfg;

	/* Keys are looked up at each registration: nothing holds the old arrays. */
	fa_reconfigure(&d->fa, &fresh->cfg);
	fresh->cfg = old;
	if (!d->debug)
		log_set_level((enum log_level)d->fa.cfg.log_level);
	ipsec_conf_apply(&d->ic, &fresh->ic, d->sec.ep.ike);
	fa_domain_apply(d, &fresh->dom);
}

int fa_reload(void *arg, bool dry, struct reload_diff *rd, char *err, size_t errlen)
{
	struct fa_daemon *d = arg;
	struct fa_conf_set fresh;

	if (fa_conf_set_load(d->config, &fresh, err, errlen) < 0)
		return -1;
	fa_reload_diff(d, &fresh, rd);
	if (!dry && rd->restart[0] == '\0')
		fa_reload_apply(d, &fresh);
	/* Either the new file refused, or what the running one replaced. */
	fa_conf_set_free(&fresh);
	return 0;
}
