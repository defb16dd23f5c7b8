/*
 * A reload under a running IKE engine (common/reload.h): new proposals,
 * lifetimes, limits and credentials for the negotiations that start from
 * now on, and each ISAKMP SA pointed at its peer's new entry.  What is
 * established keeps its keys: a PSK or a certificate is used only while
 * Main Mode authenticates.
 */
#include "ike.h"
#include "ike_int.h"
#include "ip4.h"
#include "log.h"

void ike_engine_reconfigure(struct ike_engine *eng, const struct ike_config *cfg)
{
	eng->cfg = *cfg;
}

static const struct ike_peer *ike_reload_lookup(struct ike_engine *eng, struct in_addr peer)
{
	return eng->ops.peer_lookup != NULL ? eng->ops.peer_lookup(eng->ops.arg, peer) : NULL;
}

/* The first item after sa whose peer is another: ike_peer_delete frees all of sa's. */
#define IKE_RELOAD_NEXT_PEER(it, p)                                                                \
	do {                                                                                       \
		while ((it) != NULL && (it)->peer.s_addr == (p).s_addr)                            \
			(it) = (it)->next;                                                         \
	} while (0)

/* The operator took the peer's access away: its SAs and pairs go, with Delete. */
static void ike_reload_gone(struct ike_engine *eng, struct in_addr peer)
{
	log_notice("peer %s is no longer configured: its SAs are deleted", IP4_STR(peer));
	ike_peer_delete(eng, peer, "peer removed by reload");
}

size_t ike_engine_repeer(struct ike_engine *eng)
{
	size_t dropped = 0;

	/* peer_lookup answers from the owner's new configuration by now. */
	for (struct ike_sa *sa = eng->sas, *next; sa != NULL; sa = next) {
		const struct ike_peer *pc = ike_reload_lookup(eng, sa->peer);
		struct in_addr peer = sa->peer;

		next = sa->next;
		sa->peer_cfg = pc;
		if (pc != NULL)
			continue;
		IKE_RELOAD_NEXT_PEER(next, peer);
		ike_reload_gone(eng, peer);
		dropped++;
	}
	/* Pairs whose ISAKMP SA is gone already. */
	for (struct ike_child *c = eng->children, *next; c != NULL; c = next) {
		struct in_addr peer = c->peer;

		next = c->next;
		if (ike_reload_lookup(eng, peer) != NULL)
			continue;
		IKE_RELOAD_NEXT_PEER(next, peer);
		ike_reload_gone(eng, peer);
		dropped++;
	}
	return dropped;
}
