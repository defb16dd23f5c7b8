/*
 * mipsa-swarm: N mobile nodes from one process, on two access links of
 * one domain (one interface in each FA's cell).  Each node is the mobile
 * node's own logic, not a copy of it: a struct mn (mn/mn_reg.c: agent
 * discovery, registration, retransmission) and a struct mn_sec
 * (mn/mn_ipsec.c: its IKE engine, ESP, SA reuse), with its own home
 * address, MN-HA key, ISAKMP identity and pre-shared key (tools/swarm.h,
 * from a seed).  This program only carries their frames and moves them:
 *
 *   packet socket per link   every node's frames out, by the agent's MAC
 *   pcap per link            frames in: advertisements to every node on
 *                            that link, the rest by destination address
 *                            to its node (only on the link it is on)
 *
 * A node "moves" when the program takes its link down, points it at the
 * other interface and brings it up: the node solicits there, hears the
 * other FA (same alias, new care-of address) and registers, asking for
 * its SAs to be taken over (-M reuse) or negotiating anew (-M ike).
 *
 * Phases: the nodes come up on the first link, at most -c registrations
 * at a time; then for -d seconds each node hands over every -m ms (spread
 * evenly) and pings -T every -i ms through ESP; then a drain; then the
 * RESULT line (swarm.h) and one line per reason a registration failed.
 * Every (SPI, sequence number) pair sent or received is kept: a pair seen
 * twice is a duplicate (an FA that took an SA over reused a number).
 *
 * Exit status: 0 when no registration failed, no SA was lost and no pair
 * repeated; 1 otherwise; 64 on bad usage.
 */
#include "evloop.h"
#include "ike.h"
#include "ike_load.h"
#include "ip4.h"
#include "ipsec_conf.h"
#include "isakmp.h"
#include "log.h"
#include "mn.h"
#include "mn_sec.h"
#include "netio.h"
#include "swarm.h"
#include "u32map.h"

#include <arpa/inet.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sysexits.h>
#include <unistd.h>

#define SW_SWEEP_MS    1000
#define SW_PROGRESS_MS 5000
#define SW_DRAIN_MS    2000 /* replies in flight when the pings stop */
#define SW_MN_HA_SPI   1001
#define SW_ADV_FILTER  "ip"
/*
 * Every node on a link hears an advertisement at most this often, plus
 * every one while it solicits: the FA answers each solicitation (100 a
 * second at most) to all nodes, and 10,000 nodes parsing each of them
 * would be a million advertisements a second for this process alone.
 * Well inside the advertisements' lifetime (3 s in the testbed), so no
 * node loses its agent for it.
 */
#define SW_ADV_FANOUT_MS 500

enum sw_phase { SW_STARTING, SW_MOVING, SW_DRAINING, SW_DONE };

struct swarm;

struct sw_link {
	struct swarm *sw;
	int idx;
	int ifindex;
	int pkt_fd;
	struct netio_cap *cap;
	uint64_t fanout_ms; /* when every node on the link last heard an advertisement */
};

struct sw_node {
	struct swarm *sw;
	unsigned idx;
	struct in_addr home;
	int link; /* 0 or 1: the interface the node is on */
	struct mn mn;
	struct mn_sec sec;
	struct ipsec_conf ic;
	struct ike_peer peer; /* ic.peers: the domain's alias */
	/* what we wrap, to count: the node's own reply and SA callbacks */
	void (*accepted)(void *arg, const struct mip_reg_reply *rp);
	void (*child_up)(void *arg, struct ike_child *c);
	void (*child_down)(void *arg, struct ike_child *c, const char *why);
	uint64_t attempt_ms; /* a registration open since (0: none) */
	bool first;          /* the open one is the node's first */
	uint16_t ping_seq;
	struct ev_timer move, ping;
};

struct swarm {
	struct sw_opts o;
	struct ev_loop *loop;
	struct sw_link link[2];
	struct sw_node *nodes;
	struct u32map by_home;
	struct sw_seqset sent, received;
	struct sw_counts c;
	enum sw_phase phase;
	unsigned next, running, first_done;
	uint64_t t0_ms, move_t0_ms, drain_end_ms;
	struct ev_timer sweep, phase_end, progress;
	bool quiet; /* tearing down: nothing more on the wire */
	int rc;
};

static struct sw_node *sw_node_of_sec(void *sec)
{
	return (struct sw_node *)((char *)sec - offsetof(struct sw_node, sec));
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mipsa-swarm [-1 IF] [-2 IF] [-b BASE] [-A HA] [-T TARGET] [-a ALIAS] [-I "
		"ALIAS_ID]\n"
		"                   [-n N] [-d SECONDS] [-m MOVE_MS] [-i PING_MS] [-c INFLIGHT]\n"
		"                   [-t TIMEOUT_S] [-l LIFETIME_S] [-M reuse|ike] [-g GROUP] [-k "
		"SEED]\n"
		"       mipsa-swarm -P [-b BASE] [-n N] [-k SEED]\n"
		"  -1, -2  the interfaces in the first and the second FA's cell (sw1, sw2)\n"
		"  -b      the first node's home address (198.18.128.1; .0 and .255 skipped)\n"
		"  -A      the home agent (198.18.100.1)   -T  what the nodes ping (198.18.1.2)\n"
		"  -a, -I  the domain's alias and the identity its FAs show\n"
		"  -n      nodes (100)   -d  seconds of hand-overs (10)\n"
		"  -m      each node hands over every MOVE_MS (5000; 0: never)\n"
		"  -i      each node pings every PING_MS (1000)\n"
		"  -c      first registrations in flight at most (32)\n"
		"  -t      seconds a registration may take (30)   -l  lifetime asked for (600)\n"
		"  -r      a registration's first retransmission, ms (1000; doubling to 4x)\n"
		"  -M      reuse: full SA reuse; ike: new IKE with every FA (reuse)\n"
		"  -g      modp2048 or ecp256 (ecp256)   -k  seed of the keys (mipsa-swarm)\n"
		"  -P      print \"home_address id psk mn_ha_key\" per node and exit\n");
}

/* ---- frames out ---- */

/* Note an ESP packet (raw, or in UDP 4500) in set: its (SPI, sequence number). */
static bool sw_esp_note(struct sw_seqset *set, const uint8_t *pkt, size_t len)
{
	size_t hl;
	const uint8_t *esp;

	if (len < 20 || (pkt[0] >> 4) != 4)
		return false;
	hl = (size_t)(pkt[0] & 15) * 4;
	if (pkt[9] == IP4_PROTO_ESP && len >= hl + ESP_HDR_LEN) {
		esp = pkt + hl;
	} else if (pkt[9] == IP4_PROTO_UDP && len >= hl + 8 + ESP_HDR_LEN &&
		   ((pkt[hl + 2] << 8) | pkt[hl + 3]) == ISAKMP_NATT_PORT &&
		   memcmp(pkt + hl + 8, "\0\0\0\0", 4) != 0) {
		esp = pkt + hl + 8;
	} else {
		return false;
	}
	sw_seqset_add(set,
		      ((uint32_t)esp[0] << 24) | ((uint32_t)esp[1] << 16) | (esp[2] << 8) | esp[3],
		      ((uint32_t)esp[4] << 24) | ((uint32_t)esp[5] << 16) | (esp[6] << 8) | esp[7]);
	return true;
}

static void sw_to_link(void *arg, const uint8_t mac[6], const uint8_t *pkt, size_t len)
{
	struct sw_node *n = arg;
	struct swarm *sw = n->sw;
	struct sw_link *l = &sw->link[n->link];

	if (sw->quiet)
		return;
	if (sw_esp_note(&sw->sent, pkt, len))
		sw->c.esp_sent++;
	if (netio_pkt_send(l->pkt_fd, l->ifindex, mac, pkt, len) < 0)
		sw->c.send_errors++;
}

static void sw_sec_to_link(void *arg, const uint8_t mac[6], const uint8_t *pkt, size_t len)
{
	sw_to_link(arg, mac, pkt, len);
}

/*
 * An opened packet (or an ICMP error about ours), which the node's stack
 * would take: a registration reply goes to the node (its UDP socket on
 * 434), an echo reply of ours is counted.
 */
static void sw_to_stack(void *arg, const uint8_t *pkt, size_t len)
{
	struct sw_node *n = arg;
	struct ip4_pkt p;
	const uint8_t *icmp;

	if (ip4_pkt_parse(pkt, len, &p) != IP4_OK || p.fragment)
		return;
	if (p.udp && p.dport == MIP_PORT) {
		mn_from_reply(&n->mn, buf_rptr(&p.udp_payload), buf_left(&p.udp_payload));
		return;
	}
	if (p.h.proto != IP4_PROTO_ICMP || buf_left(&p.payload) < 8)
		return;
	icmp = buf_rptr(&p.payload);
	if (icmp[0] == 0 && (unsigned)((icmp[4] << 8) | icmp[5]) == (n->idx & 0xffff))
		n->sw->c.pings_answered++;
}

static void sw_arp_request(void *arg, struct in_addr target)
{
	(void)arg;
	(void)target; /* gateway mode only; the swarm runs Mobile IP */
}

static void sw_stopped(void *arg)
{
	(void)arg;
}

/* ---- registrations ---- */

static void sw_start_next(struct swarm *sw);
static void sw_begin_moves(struct swarm *sw);

/* The node's open registration is over, accepted in time or not. */
static void sw_attempt_done(struct sw_node *n, bool ok, const char *why)
{
	struct swarm *sw = n->sw;

	if (n->attempt_ms == 0)
		return;
	n->attempt_ms = 0;
	if (ok) {
		sw->c.reg_ok++;
	} else {
		sw->c.reg_failed++;
		log_rl_warn("node %u (%s) %s: %s", n->idx, IP4_STR(n->home), why,
			    mn_state_name(n->mn.state));
	}
	if (n->first) {
		n->first = false;
		sw->running--;
		sw->first_done++;
		if (sw->phase == SW_STARTING) {
			sw_start_next(sw);
			if (sw->first_done == sw->o.n)
				sw_begin_moves(sw);
		}
	}
}

static void sw_accepted(void *arg, const struct mip_reg_reply *rp)
{
	struct sw_node *n = sw_node_of_sec(arg);

	n->accepted(arg, rp);
	sw_attempt_done(n, true, NULL);
}

static void sw_child_up(void *arg, struct ike_child *c)
{
	struct sw_node *n = sw_node_of_sec(arg);

	n->sw->c.sa_negotiated++;
	n->child_up(arg, c);
}

static void sw_child_down(void *arg, struct ike_child *c, const char *why)
{
	struct sw_node *n = sw_node_of_sec(arg);

	/*
	 * Without reuse a move takes the old FA's SAs down on purpose
	 * (mn_sec_secure), and so does a reuse the new FA refused (counted in
	 * sa_refused): the node negotiates.  Any other end is a loss.
	 */
	bool negotiates = why != NULL && ((n->sw->o.mode == SW_MODE_IKE &&
					   strcmp(why, "moved to another foreign agent") == 0) ||
					  strcmp(why, MN_SEC_WHY_REFUSED) == 0);

	if (!n->sw->quiet && !negotiates) {
		n->sw->c.sa_lost++;
		log_rl_warn("node %u: IPsec SA pair down: %s", n->idx, why ? why : "?");
	}
	n->child_down(arg, c, why);
}

/* ---- a node ---- */

static int sw_node_keys(struct swarm *sw, struct sw_node *n, struct mn_config *mc)
{
	char id[IL_ID_LEN], psk[IL_PSK_HEX + 1], hk[SW_HA_KEY_HEX + 1];

	if (il_ident(sw->o.seed, n->idx, id, sizeof(id), psk, sizeof(psk)) < 0 ||
	    sw_ha_key(sw->o.seed, n->idx, hk, sizeof(hk)) < 0)
		return -1;
	mc->ha_key.spi = SW_MN_HA_SPI;
	mc->ha_key.len = SW_HA_KEY_HEX / 2;
	for (size_t k = 0; k < mc->ha_key.len; k++) {
		unsigned v;

		if (sscanf(hk + 2 * k, "%2x", &v) != 1)
			return -1;
		mc->ha_key.key[k] = (uint8_t)v;
	}
	snprintf(n->peer.name, sizeof(n->peer.name), "domain");
	n->peer.addr = sw->o.alias;
	memcpy(n->peer.psk, psk, IL_PSK_HEX);
	n->peer.psk_len = IL_PSK_HEX;
	n->peer.local_net = n->home;
	n->peer.local_plen = 32;
	/* The NAI names the node to the next FA (SA reuse) and to the HA: its ISAKMP ID. */
	snprintf(mc->nai, sizeof(mc->nai), "%s", id);
	if (ike_id_parse(sw->o.alias_id, &n->peer.id) < 0 ||
	    ike_id_parse(id, &n->ic.ike.local_id) < 0)
		return -1;
	return 0;
}

static void sw_on_move(struct ev_loop *loop, struct ev_timer *t, void *arg);
static void sw_on_ping(struct ev_loop *loop, struct ev_timer *t, void *arg);

static int sw_node_init(struct swarm *sw, struct sw_node *n, unsigned i)
{
	struct mn_config mc = {.lifetime = (uint16_t)sw->o.lifetime_s,
			       .reverse_tunnel = true,
			       .reg_retry_ms = sw->o.retry_ms,
			       .reg_retry_max_ms = sw->o.retry_ms * 4,
			       .solicit_retry_ms = 1000,
			       .log_level = LOG_LVL_WARN};
	struct mn_ops ops = {.to_link = sw_to_link, .stopped = sw_stopped, .arg = n};
	struct mn_sec_ops sops = {.to_link = sw_sec_to_link,
				  .to_stack = sw_to_stack,
				  .arp_request = sw_arp_request,
				  .arg = n};
	struct in_addr none = {0};

	n->sw = sw;
	n->idx = i;
	if (il_addr(sw->o.base, i, &n->home) < 0)
		return -1;
	snprintf(mc.interface, sizeof(mc.interface), "%s", sw->o.ifname[0]);
	mc.home_addr = n->home;
	mc.home_agent = sw->o.home_agent;
	n->ic.enabled = true;
	ike_config_defaults(&n->ic.ike);
	n->ic.ike.n_p1 = 1;
	n->ic.ike.p1[0] = (struct ike_p1_prop){128, IKE_HASH_SHA1, sw->o.group};
	n->ic.ike.n_p2 = 1;
	n->ic.ike.p2[0] = (struct ike_p2_prop){ESP_ALG_AES_CBC_HMAC_SHA1_96, 128};
	n->ic.ike.dpd_interval_s = 0;
	n->ic.peers = &n->peer;
	n->ic.n_peers = 1;
	if (sw_node_keys(sw, n, &mc) < 0)
		return -1;
	mn_init(&n->mn, sw->loop, &mc, &ops, false);
	mip_key_wipe(&mc.ha_key);
	if (mn_sec_init(&n->sec, &n->mn, sw->loop, &n->ic, n->home, none,
			sw->o.mode == SW_MODE_REUSE, 1500, &sops) < 0)
		return -1;
	/* Count what the node's own callbacks see, then let them do their work. */
	n->accepted = n->mn.guard.accepted;
	n->mn.guard.accepted = sw_accepted;
	n->child_up = n->sec.ep.owner.child_up;
	n->child_down = n->sec.ep.owner.child_down;
	n->sec.ep.owner.child_up = sw_child_up;
	n->sec.ep.owner.child_down = sw_child_down;
	ev_timer_init(&n->move, sw_on_move, n);
	ev_timer_init(&n->ping, sw_on_ping, n);
	return u32map_put(&sw->by_home, n->home.s_addr, n);
}

static void sw_node_free(struct swarm *sw, struct sw_node *n)
{
	if (n->sw == NULL)
		return;
	ev_timer_stop(sw->loop, &n->move);
	ev_timer_stop(sw->loop, &n->ping);
	mn_sec_free(&n->sec);
	mn_free(&n->mn);
	memset(n->peer.psk, 0, sizeof(n->peer.psk));
}

/* A first registration: carrier on the first link, the node takes it from there. */
static void sw_start_next(struct swarm *sw)
{
	while (sw->phase == SW_STARTING && sw->running < sw->o.inflight && sw->next < sw->o.n) {
		struct sw_node *n = &sw->nodes[sw->next++];

		sw->running++;
		n->first = true;
		n->attempt_ms = ev_loop_now_ms(sw->loop);
		n->link = 0;
		mn_link_event(&n->mn, true);
	}
}

static void sw_move(struct sw_node *n)
{
	struct swarm *sw = n->sw;

	sw->c.moves++;
	mn_link_event(&n->mn, false);
	n->link ^= 1;
	n->attempt_ms = ev_loop_now_ms(sw->loop);
	mn_link_event(&n->mn, true);
}

static void sw_on_move(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct sw_node *n = arg;
	struct swarm *sw = n->sw;
	uint64_t rel, next;

	if (sw->phase != SW_MOVING)
		return;
	if (n->attempt_ms != 0)
		sw->c.reg_late++; /* still registering from the last move: skip this one */
	else
		sw_move(n);
	rel = ev_loop_now_ms(loop) - sw->move_t0_ms;
	next = sw_next_move(n->idx, sw->o.n, sw->o.move_ms, rel);
	ev_timer_start(loop, t, next - rel);
}

/* An echo request to the target from the home address, into the node's stack path. */
static void sw_on_ping(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct sw_node *n = arg;
	struct swarm *sw = n->sw;
	uint8_t icmp[16] = {8, 0, 0, 0}, pkt[64];
	struct buf b;
	uint16_t ck;

	if (sw->phase != SW_MOVING)
		return;
	ev_timer_start(loop, t, sw->o.ping_ms);
	if (n->mn.state != MN_REGISTERED)
		return;
	n->ping_seq++;
	icmp[4] = (uint8_t)(n->idx >> 8);
	icmp[5] = (uint8_t)n->idx;
	icmp[6] = (uint8_t)(n->ping_seq >> 8);
	icmp[7] = (uint8_t)n->ping_seq;
	memcpy(icmp + 8, "mipsa-sw", 8);
	ck = inet_cksum(icmp, sizeof(icmp));
	icmp[2] = (uint8_t)(ck >> 8);
	icmp[3] = (uint8_t)ck;
	buf_init_write(&b, pkt, sizeof(pkt));
	if (ip4_icmp_put(&b, n->home, sw->o.target, 64, icmp, sizeof(icmp)) < 0)
		return;
	sw->c.pings_sent++;
	mn_from_stack(&n->mn, pkt, buf_used(&b));
}

/* ---- frames in ---- */

static bool sw_to_all(struct in_addr a)
{
	return IN_MULTICAST(ntohl(a.s_addr)) || a.s_addr == INADDR_BROADCAST;
}

static void sw_udp_in(struct sw_node *n, const struct ip4_pkt *p)
{
	const uint8_t *m = buf_rptr(&p->udp_payload);
	size_t len = buf_left(&p->udp_payload);

	switch (p->dport) {
	case MIP_PORT:
		mn_from_reply(&n->mn, m, len);
		break;
	case ISAKMP_PORT:
		mn_sec_ike_in(&n->sec, p->h.dst, ISAKMP_PORT, p->h.src, p->sport, m, len);
		break;
	case ISAKMP_NATT_PORT:
		if (len >= ISAKMP_NON_ESP_MARKER_LEN && memcmp(m, "\0\0\0\0", 4) == 0) {
			mn_sec_ike_in(&n->sec, p->h.dst, ISAKMP_NATT_PORT, p->h.src, p->sport,
				      m + ISAKMP_NON_ESP_MARKER_LEN,
				      len - ISAKMP_NON_ESP_MARKER_LEN);
		} else if (len >= ESP_HDR_LEN) {
			n->sw->c.esp_received++;
			sw_esp_note(&n->sw->received, p->data, p->h.total_len);
			mn_sec_esp_in(&n->sec, m, len);
		}
		break;
	default:
		break;
	}
}

static void sw_frame(void *arg, const uint8_t mac[6], const uint8_t *pkt, size_t len)
{
	struct sw_link *l = arg;
	struct swarm *sw = l->sw;
	struct ip4_pkt p;
	struct sw_node *n;

	if (ip4_pkt_parse(pkt, len, &p) != IP4_OK || p.fragment)
		return;
	if (sw_to_all(p.h.dst)) {
		/* An advertisement (mn_from_link checks it): to the soliciting nodes on this
		 * link, and to all of them every SW_ADV_FANOUT_MS. */
		uint64_t now = ev_loop_now_ms(sw->loop);
		bool all = now - l->fanout_ms >= SW_ADV_FANOUT_MS;

		if (p.h.proto != IP4_PROTO_ICMP)
			return;
		if (all)
			l->fanout_ms = now;
		for (unsigned i = 0; i < sw->next; i++)
			if (sw->nodes[i].link == l->idx &&
			    (all || sw->nodes[i].mn.state == MN_SOLICITING))
				mn_from_link(&sw->nodes[i].mn, mac, pkt, len);
		return;
	}
	n = u32map_get(&sw->by_home, p.h.dst.s_addr);
	if (n == NULL || sw->quiet)
		return;
	if (n->link != l->idx) {
		sw->c.esp_other_link++;
		return;
	}
	if (p.h.proto == IP4_PROTO_ESP && buf_left(&p.payload) >= ESP_HDR_LEN) {
		sw->c.esp_received++;
		sw_esp_note(&sw->received, pkt, p.h.total_len);
		mn_sec_esp_in(&n->sec, buf_rptr(&p.payload), buf_left(&p.payload));
	} else if (p.h.proto == IP4_PROTO_UDP && p.udp) {
		sw_udp_in(n, &p);
	} else if (p.h.proto == IP4_PROTO_ICMP) {
		mn_from_link(&n->mn, mac, pkt, len);
	}
}

static void sw_on_cap(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct sw_link *l = arg;

	(void)loop;
	(void)fd;
	(void)events;
	netio_cap_dispatch(l->cap, sw_frame, l);
}

/* ---- phases ---- */

static void sw_begin_moves(struct swarm *sw)
{
	uint64_t now = ev_loop_now_ms(sw->loop);

	sw->phase = SW_MOVING;
	sw->move_t0_ms = now;
	log_notice("%u nodes up after %.1f s: %s for %u s", sw->o.n,
		   (double)(now - sw->t0_ms) / 1e3, sw->o.move_ms ? "hand-overs" : "holding",
		   sw->o.duration_s);
	fprintf(stderr, "mipsa-swarm: first registrations done in %.1f s (%llu ok, %llu failed)\n",
		(double)(now - sw->t0_ms) / 1e3, (unsigned long long)sw->c.reg_ok,
		(unsigned long long)sw->c.reg_failed);
	for (unsigned i = 0; i < sw->o.n; i++) {
		struct sw_node *n = &sw->nodes[i];

		if (sw->o.move_ms > 0)
			ev_timer_start(sw->loop, &n->move,
				       sw_next_move(i, sw->o.n, sw->o.move_ms, 0));
		ev_timer_start(sw->loop, &n->ping, (uint64_t)i * sw->o.ping_ms / sw->o.n);
	}
	ev_timer_start(sw->loop, &sw->phase_end, (uint64_t)sw->o.duration_s * 1000);
}

static unsigned sw_open_attempts(const struct swarm *sw)
{
	unsigned k = 0;

	for (unsigned i = 0; i < sw->o.n; i++)
		k += sw->nodes[i].attempt_ms != 0;
	return k;
}

static void sw_on_phase_end(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct swarm *sw = arg;

	if (sw->phase == SW_MOVING) {
		/* No more moves or pings; the open registrations get their deadline. */
		sw->phase = SW_DRAINING;
		sw->drain_end_ms = ev_loop_now_ms(loop) + (uint64_t)sw->o.timeout_s * 1000;
		ev_timer_start(loop, t, SW_DRAIN_MS);
		return;
	}
	if (sw->phase == SW_DRAINING && sw_open_attempts(sw) > 0 &&
	    ev_loop_now_ms(loop) < sw->drain_end_ms) {
		ev_timer_start(loop, t, 100);
		return;
	}
	sw->phase = SW_DONE;
	ev_loop_stop(loop);
}

/* Registrations past their deadline fail (the node keeps trying; a late accept is not counted). */
static void sw_on_sweep(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct swarm *sw = arg;
	uint64_t now = ev_loop_now_ms(loop), limit = (uint64_t)sw->o.timeout_s * 1000;

	for (unsigned i = 0; i < sw->o.n; i++) {
		struct sw_node *n = &sw->nodes[i];

		if (n->attempt_ms != 0 && now - n->attempt_ms > limit)
			sw_attempt_done(n, false, "registration timed out");
	}
	ev_timer_start(loop, t, SW_SWEEP_MS);
}

static unsigned sw_registered(const struct swarm *sw)
{
	unsigned k = 0;

	for (unsigned i = 0; i < sw->o.n; i++)
		k += sw->nodes[i].mn.state == MN_REGISTERED;
	return k;
}

static void sw_on_progress(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct swarm *sw = arg;

	fprintf(stderr,
		"mipsa-swarm: t=%.0f s registered=%u moves=%llu reg_ok=%llu reg_failed=%llu "
		"esp_sent=%llu esp_received=%llu\n",
		(double)(ev_loop_now_ms(loop) - sw->t0_ms) / 1e3, sw_registered(sw),
		(unsigned long long)sw->c.moves, (unsigned long long)sw->c.reg_ok,
		(unsigned long long)sw->c.reg_failed, (unsigned long long)sw->c.esp_sent,
		(unsigned long long)sw->c.esp_received);
	ev_timer_start(loop, t, SW_PROGRESS_MS);
}

static void sw_on_signal(struct ev_loop *loop, int signo, void *arg)
{
	struct swarm *sw = arg;

	(void)signo;
	log_notice("signal: reporting what there is");
	sw->phase = SW_DONE;
	ev_loop_stop(loop);
}

/* ---- setup ---- */

static int sw_link_open(struct swarm *sw, int i)
{
	struct sw_link *l = &sw->link[i];

	l->sw = sw;
	l->idx = i;
	l->ifindex = netio_ifindex(sw->o.ifname[i]);
	if (l->ifindex < 0)
		return -1;
	l->pkt_fd = netio_pkt_open(l->ifindex);
	l->cap = netio_cap_open(sw->o.ifname[i], SW_ADV_FILTER);
	if (l->pkt_fd < 0 || l->cap == NULL ||
	    ev_io_add(sw->loop, netio_cap_fd(l->cap), EPOLLIN, sw_on_cap, l) < 0)
		return -1;
	return 0;
}

static int sw_setup(struct swarm *sw)
{
	sw->link[0].pkt_fd = sw->link[1].pkt_fd = -1;
	u32map_init(&sw->by_home);
	sw_seqset_init(&sw->sent);
	sw_seqset_init(&sw->received);
	sw->loop = ev_loop_new();
	sw->nodes = calloc(sw->o.n, sizeof(*sw->nodes));
	if (sw->loop == NULL || sw->nodes == NULL)
		return -1;
	for (unsigned i = 0; i < sw->o.n; i++)
		if (sw_node_init(sw, &sw->nodes[i], i) < 0) {
			fprintf(stderr, "mipsa-swarm: node %u: cannot set it up\n", i);
			return -1;
		}
	if (sw_link_open(sw, 0) < 0 || sw_link_open(sw, 1) < 0 ||
	    ev_signal_add(sw->loop, SIGINT, sw_on_signal, sw) < 0 ||
	    ev_signal_add(sw->loop, SIGTERM, sw_on_signal, sw) < 0) {
		fprintf(stderr, "mipsa-swarm: cannot open %s and %s\n", sw->o.ifname[0],
			sw->o.ifname[1]);
		return -1;
	}
	ev_timer_init(&sw->sweep, sw_on_sweep, sw);
	ev_timer_init(&sw->phase_end, sw_on_phase_end, sw);
	ev_timer_init(&sw->progress, sw_on_progress, sw);
	return 0;
}

static void sw_teardown(struct swarm *sw)
{
	/* The agents are stopped after us: no Delete, no deregistration on the wire. */
	sw->quiet = true;
	for (unsigned i = 0; sw->nodes != NULL && i < sw->o.n; i++)
		sw_node_free(sw, &sw->nodes[i]);
	free(sw->nodes);
	u32map_free(&sw->by_home);
	sw_seqset_free(&sw->sent);
	sw_seqset_free(&sw->received);
	for (int i = 0; i < 2; i++) {
		netio_cap_close(sw->link[i].cap);
		if (sw->link[i].pkt_fd >= 0)
			close(sw->link[i].pkt_fd);
	}
	ev_loop_free(sw->loop);
}

/* ---- result ---- */

static void sw_collect(struct swarm *sw)
{
	struct sw_counts *c = &sw->c;
	struct rusage ru;

	c->nodes = sw->o.n;
	c->registered = sw_registered(sw);
	for (unsigned i = 0; i < sw->o.n; i++) {
		struct sw_node *n = &sw->nodes[i];
		const struct ipsec_ep_counters *e = &n->sec.ep.ctr;

		if (n->attempt_ms != 0)
			sw_attempt_done(n, false, "registration still open at the end");
		c->reg_accepted += n->mn.ctr.reg_accepted;
		c->reg_retransmits += n->mn.ctr.reg_retransmits;
		c->reply_unmatched += n->mn.ctr.drop_reply_unmatched;
		c->sa_reused += n->sec.ctr.reuse_full;
		c->sa_partial += n->sec.ctr.reuse_partial;
		c->sa_refused += n->sec.ctr.reuse_refused;
		c->esp_drops += e->esp_drop_spi + e->esp_drop_header + e->esp_drop_icv +
				e->esp_drop_padding + e->esp_drop_next_header + e->esp_drop_replay +
				e->esp_drop_inner + e->esp_drop_policy + e->esp_drop_local;
		/* Registered, but nothing to protect its traffic with: an SA lost too. */
		if (n->mn.state == MN_REGISTERED &&
		    ipsec_find(&n->sec.ep.sas, sw->o.alias.s_addr) == NULL) {
			c->sa_lost++;
			log_rl_warn("node %u registered without an IPsec SA pair", n->idx);
		}
	}
	c->esp_opened = c->esp_received - c->esp_drops;
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		c->cpu_ms = (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
			    (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
	c->dup_sent = sw->sent.dups;
	c->dup_received = sw->received.dups;
}

static void sw_report(struct swarm *sw)
{
	char line[2048];
	double wall = (double)(ev_loop_now_ms(sw->loop) - sw->t0_ms) / 1e3;

	sw_collect(sw);
	sw_result_line(&sw->o, &sw->c, wall, line, sizeof(line));
	printf("%s\n", line);
	fflush(stdout);
	sw->rc = sw->c.reg_failed == 0 && sw->c.sa_lost == 0 && sw->c.dup_sent == 0 &&
				 sw->c.dup_received == 0 && sw->c.registered == sw->o.n
			 ? EXIT_SUCCESS
			 : EXIT_FAILURE;
}

static int sw_print_nodes(const struct sw_opts *o)
{
	char id[IL_ID_LEN], psk[IL_PSK_HEX + 1], hk[SW_HA_KEY_HEX + 1];
	struct in_addr a;

	for (unsigned i = 0; i < o->n; i++) {
		if (il_addr(o->base, i, &a) < 0 ||
		    il_ident(o->seed, i, id, sizeof(id), psk, sizeof(psk)) < 0 ||
		    sw_ha_key(o->seed, i, hk, sizeof(hk)) < 0)
			return EXIT_FAILURE;
		printf("%s %s %s %s\n", IP4_STR(a), id, psk, hk);
	}
	return EXIT_SUCCESS;
}

int main(int argc, char **argv)
{
	struct swarm sw;
	char err[256];
	int rc;

	memset(&sw, 0, sizeof(sw));
	switch (sw_parse_args(argc, argv, &sw.o, err, sizeof(err))) {
	case SW_PARSE_HELP:
		usage(stdout);
		return EXIT_SUCCESS;
	case SW_PARSE_ERROR:
		fprintf(stderr, "mipsa-swarm: %s\n", err);
		usage(stderr);
		return EX_USAGE;
	case SW_PARSE_OK:
		break;
	}
	if (sw.o.print_nodes)
		return sw_print_nodes(&sw.o);
	log_init("mipsa-swarm", LOG_LVL_WARN, false);
	if (sw_setup(&sw) < 0) {
		sw_teardown(&sw);
		return EXIT_FAILURE;
	}
	signal(SIGPIPE, SIG_IGN);
	sw.t0_ms = ev_loop_now_ms(sw.loop);
	ev_timer_start(sw.loop, &sw.sweep, SW_SWEEP_MS);
	ev_timer_start(sw.loop, &sw.progress, SW_PROGRESS_MS);
	sw_start_next(&sw);
	ev_loop_run(sw.loop);
	sw_report(&sw);
	rc = sw.rc;
	sw_teardown(&sw);
	return rc;
}
