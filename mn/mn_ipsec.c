/*
 * mipsa-mn's IPsec side: IKEv1 initiator towards the agent's alias address
 * (or a fixed gateway), ESP for everything the node sends to it.  IKE and
 * ESP go out by the agent's MAC through the packet socket like every other
 * frame; they come back to the home address, where the kernel hands them
 * to our UDP 500/4500 and raw protocol-50 sockets.  Decrypted packets go
 * into the TUN, so the node's stack receives them as if they had arrived.
 *
 * Gateway mode (mn.gateway set) is a plain IPsec client without Mobile IP:
 * on carrier it resolves the gateway's MAC with ARP and negotiates.
 */
#include "ctl.h"
#include "ike.h"
#include "ip4.h"
#include "isakmp.h"
#include "log.h"
#include "mn_daemon.h"
#include "mip_msg.h"
#include "netio.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define MN_ARP_RETRY_MS 200

/* The MAC frames for addr go to: the gateway's, or the current agent's. */
static const uint8_t *mn_peer_mac(struct mn_daemon *d, struct in_addr addr)
{
	if (d->gateway.s_addr != 0)
		return d->gateway_mac_known && addr.s_addr == d->gateway.s_addr ? d->gateway_mac
										: NULL;
	return d->mn.agent.valid ? d->mn.agent.mac : NULL;
}

static void mn_ike_send(void *arg, struct in_addr local, uint16_t lport, struct in_addr peer,
			uint16_t pport, const uint8_t *msg, size_t len)
{
	struct mn_daemon *d = arg;
	const uint8_t *mac = mn_peer_mac(d, peer);
	uint8_t pkt[IP4_HDR_LEN + UDP_HDR_LEN + 4200];
	struct buf b;

	if (mac == NULL) {
		d->esp.drop_no_gateway++;
		return;
	}
	buf_init_write(&b, pkt, sizeof(pkt));
	if (ip4_udp_put(&b, local, peer, lport, pport, 64, msg, len) == 0)
		netio_pkt_send(d->pkt_fd, d->ifindex, mac, pkt, buf_used(&b));
}

static const struct ike_peer *mn_ike_peer(void *arg, struct in_addr addr)
{
	struct mn_daemon *d = arg;

	return ipsec_conf_peer(&d->ic, addr);
}

static void mn_ike_child_up(void *arg, struct ike_child *c)
{
	struct mn_daemon *d = arg;

	if (ipsec_add(&d->ipsec, c, c->peer.s_addr) == NULL)
		return;
	if (d->gateway.s_addr == 0 && c->peer.s_addr == d->securing.s_addr) {
		d->securing.s_addr = 0;
		mn_secure_done(&d->mn, true);
	}
}

static void mn_ike_child_down(void *arg, struct ike_child *c, const char *why)
{
	struct mn_daemon *d = arg;

	ipsec_del(&d->ipsec, c->spi_in);
}

static void mn_ike_down(void *arg, struct ike_sa *sa, const char *why)
{
	struct mn_daemon *d = arg;

	/* A negotiation we were waiting for failed. */
	if (d->securing.s_addr != 0 && ike_sa_find_peer(d->ike, d->securing) == NULL &&
	    ipsec_find(&d->ipsec, d->securing.s_addr) == NULL && !ike_sa_established(sa)) {
		d->securing.s_addr = 0;
		mn_secure_done(&d->mn, false);
	}
}

/* The care-of address of our last registration through alias (0: none). */
static struct in_addr mn_last_coa(const struct mn_daemon *d, struct in_addr alias)
{
	for (size_t i = 0; i < MN_MAX_DOMAINS; i++)
		if (d->last_coa[i].alias.s_addr == alias.s_addr)
			return d->last_coa[i].coa;
	return (struct in_addr){0};
}

/* Remember it; the oldest domain makes room. */
static void mn_note_coa(struct mn_daemon *d, struct in_addr alias, struct in_addr coa)
{
	size_t i;

	for (i = 0; i < MN_MAX_DOMAINS - 1; i++)
		if (d->last_coa[i].alias.s_addr == alias.s_addr)
			break;
	memmove(&d->last_coa[1], &d->last_coa[0], i * sizeof(d->last_coa[0]));
	d->last_coa[0].alias = alias;
	d->last_coa[0].coa = coa;
}

int mn_ipsec_secure(void *arg, const struct mn_agent *agent, bool moved)
{
	struct mn_daemon *d = arg;
	const struct ike_peer *pc = ipsec_conf_peer(&d->ic, agent->addr);
	struct in_addr prev;

	if (d->ike == NULL || pc == NULL) {
		if (d->ike != NULL)
			log_notice(
				"no IPsec peer configured for agent %s: registering in the clear",
				IP4_STR(agent->addr));
		return 1;
	}
	/*
	 * A move within the domain (same alias, new care-of address): with SA
	 * reuse we register at once, in the clear, asking the new FA to take
	 * our SAs over (mn_ipsec_extend); it cannot read ESP before it has them.
	 * Back at the FA we last used in the domain (after a visit to another
	 * one) we ask the same: it may still hold them, or may not.
	 */
	prev = mn_last_coa(d, agent->addr);
	if (moved && d->sa_reuse && ike_sa_find_peer(d->ike, agent->addr) != NULL &&
	    prev.s_addr != 0) {
		d->reuse_pending = true;
		d->reuse_prev = prev;
		return 1;
	}
	/*
	 * Without SA reuse, SAs belong to the foreign agent that negotiated
	 * them, even though every agent of the domain answers at the alias:
	 * a new care-of address means new SAs.
	 */
	d->reuse_pending = false;
	if (moved)
		ike_peer_delete(d->ike, agent->addr, "moved to another foreign agent");
	if (ipsec_find(&d->ipsec, agent->addr.s_addr) != NULL)
		return 1;
	d->securing = agent->addr;
	if (ike_initiate(d->ike, pc, d->cfg.home_addr) == NULL)
		return -1;
	return 0;
}

/* ---- SA reuse ---- */

int mn_ipsec_extend(void *arg, struct buf *b)
{
	struct mn_daemon *d = arg;
	struct in_addr alias = d->mn.agent.addr;
	struct ipsec_pair *p = ipsec_find(&d->ipsec, alias.s_addr);
	struct mip_reuse_req req = {.prev_coa = d->reuse_prev};
	struct sax_record *rec;
	struct esp_sa_state in, out;
	uint8_t *auth;
	size_t covered;
	int r = -1;

	if (!d->reuse_pending)
		return 0;
	rec = calloc(1, sizeof(*rec));
	if (rec == NULL || ike_export(d->ike, alias, false, rec) < 0)
		goto out;
	memcpy(req.icookie, rec->isakmp.icookie, 8);
	memcpy(req.rcookie, rec->isakmp.rcookie, 8);
	/* Our counters: the new FA starts its windows from them (design brief 3). */
	if (p != NULL) {
		esp_sa_export_state(&p->out, &out);
		esp_sa_export_state(&p->in, &in);
		req.mn_sent = out.seq_out;
		req.mn_received = in.replay.top;
	}
	/* The proof of possession covers the whole request so far, Identification included. */
	if (mip_ext_put_reuse(b, &req, rec->isakmp.hash_len, &auth, &covered) == 0 &&
	    ike_possession_mac(&rec->isakmp, buf_data(b), covered, auth) == 0)
		r = 0;
out:
	if (rec != NULL) {
		sax_record_wipe(rec);
		free(rec);
	}
	return r;
}

void mn_ipsec_accepted(void *arg, const struct mip_reg_reply *rp)
{
	struct mn_daemon *d = arg;
	struct in_addr alias = d->mn.agent.addr;
	uint8_t status =
		rp->ext.reuse_status.present ? rp->ext.reuse_status.status : MIP_REUSE_REFUSED;
	const struct ike_peer *pc;

	mn_note_coa(d, alias, d->mn.reg_coa);
	if (!d->reuse_pending)
		return;
	d->reuse_pending = false;
	switch (status) {
	case MIP_REUSE_FULL:
		d->esp.reuse_full++;
		log_info("SA reuse: the new FA has our ISAKMP and IPsec SAs");
		return;
	case MIP_REUSE_PARTIAL:
		d->esp.reuse_partial++;
		log_info("SA reuse: the new FA has our ISAKMP SA; Quick Mode");
		for (struct ike_child *c = ike_children(d->ike), *n; c != NULL; c = n) {
			n = c->next;
			if (c->peer.s_addr == alias.s_addr)
				ike_child_forget(d->ike, c, "the new FA has no copy");
		}
		if (ike_quick_mode(d->ike, alias) == 0)
			return;
		break;
	default:
		d->esp.reuse_refused++;
		log_info("SA reuse refused by the new FA: negotiating");
		break;
	}
	ike_forget_peer(d->ike, alias, "the new FA did not take them over");
	pc = ipsec_conf_peer(&d->ic, alias);
	if (pc != NULL)
		ike_initiate(d->ike, pc, d->cfg.home_addr);
}

/* A registration request (UDP to port 434): the only thing that may go in the clear. */
static bool mn_is_registration(const uint8_t *pkt, size_t len)
{
	return len >= IP4_HDR_LEN + UDP_HDR_LEN && pkt[9] == IP4_PROTO_UDP &&
	       (pkt[0] & 0x0f) == 5 && pkt[22] == (MIP_PORT >> 8) && pkt[23] == (MIP_PORT & 0xff);
}

/* ---- ESP ---- */

static void mn_esp_in(struct mn_daemon *d, const uint8_t *esp, size_t len)
{
	uint8_t inner[IP4_MAX_PACKET];
	struct ipsec_pair *p = NULL;
	size_t ilen;
	enum ipsec_err e = ipsec_open(&d->ipsec, esp, len, inner, sizeof(inner), &ilen, &p);

	if (e != IPSEC_OK) {
		if (e == IPSEC_E_SPI)
			d->esp.esp_drop_spi++;
		else if (e == IPSEC_E_REPLAY)
			d->esp.esp_drop_replay++;
		else if (e == IPSEC_E_ESP)
			d->esp.esp_drop_check++;
		else if (e == IPSEC_E_INNER)
			d->esp.esp_drop_inner++;
		else
			d->esp.esp_drop_policy++;
		log_rl_notice("ESP dropped: %s", ipsec_err_name(e));
		return;
	}
	d->esp.esp_in++;
	if (p->child != NULL)
		ike_child_bytes(d->ike, p->child, len);
	if (write(d->tun_fd, inner, ilen) < 0)
		log_rl_warn("write to %s: %s", d->cfg.tunnel_device, strerror(errno));
}

static void mn_on_natt(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct mn_daemon *d = arg;
	uint8_t msg[IP4_MAX_PACKET];
	struct netio_udp_meta meta;
	ssize_t n;

	while ((n = netio_udp_recv(fd, msg, sizeof(msg), &meta)) >= 0) {
		d->rcvbuf.natt = meta.dropped;
		if (n >= 4 && memcmp(msg, "\0\0\0\0", 4) == 0)
			ike_input(d->ike, meta.dst, ISAKMP_NATT_PORT, meta.from.sin_addr,
				  ntohs(meta.from.sin_port), msg + 4, (size_t)n - 4);
		else if (n >= 8)
			mn_esp_in(d, msg, (size_t)n);
	}
}

static void mn_on_ike(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct mn_daemon *d = arg;
	uint8_t msg[4096];
	struct netio_udp_meta meta;
	ssize_t n;

	while ((n = netio_udp_recv(fd, msg, sizeof(msg), &meta)) >= 0) {
		d->rcvbuf.ike = meta.dropped;
		ike_input(d->ike, meta.dst, ISAKMP_PORT, meta.from.sin_addr,
			  ntohs(meta.from.sin_port), msg, (size_t)n);
	}
}

static void mn_on_esp(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct mn_daemon *d = arg;
	uint8_t pkt[IP4_MAX_PACKET];
	struct ip4_hdr h;
	struct buf payload;
	ssize_t n;

	while ((n = netio_recv(fd, pkt, sizeof(pkt), &d->rcvbuf.esp)) > 0)
		if (ip4_parse(pkt, (size_t)n, &h, &payload) == IP4_OK &&
		    h.dst.s_addr == d->cfg.home_addr.s_addr)
			mn_esp_in(d, buf_rptr(&payload), buf_left(&payload));
}

static void mn_seal_send(struct mn_daemon *d, struct ipsec_pair *p, const uint8_t *mac,
			 const uint8_t *pkt, size_t len)
{
	uint8_t out[IP4_MAX_PACKET];
	size_t olen;
	enum esp_err e = ipsec_seal(p, pkt, len, out, sizeof(out), &olen);

	if (e != ESP_OK) {
		d->esp.esp_drop_seal++;
		if (e == ESP_E_SEQ_OVERFLOW && p->child != NULL)
			ike_child_delete(d->ike, p->child, "sequence numbers used up");
		return;
	}
	d->esp.esp_out++;
	if (p->child != NULL)
		ike_child_bytes(d->ike, p->child, olen);
	netio_pkt_send(d->pkt_fd, d->ifindex, mac, out, olen);
}

struct mn_out {
	struct mn_daemon *d;
	struct ipsec_pair *p; /* NULL: in the clear */
	const uint8_t *mac;
};

static void mn_out_piece(void *arg, const uint8_t *pkt, size_t len)
{
	struct mn_out *o = arg;

	if (o->p != NULL)
		mn_seal_send(o->d, o->p, o->mac, pkt, len);
	else
		netio_pkt_send(o->d->pkt_fd, o->d->ifindex, o->mac, pkt, len);
}

/* An ICMP error about our stack's packet goes back into our stack. */
static void mn_out_icmp(void *arg, const uint8_t *pkt, size_t len)
{
	struct mn_out *o = arg;

	if (write(o->d->tun_fd, pkt, len) < 0)
		log_rl_warn("write to %s: %s", o->d->cfg.tunnel_device, strerror(errno));
}

/*
 * Send pkt to mac, sealed in p unless p is NULL, if it fits the link once
 * sealed: the tunnel device's MTU keeps our stack below that, unless
 * someone raised it.  ICMP errors come from peer, the end of our tunnel.
 */
static void mn_send(struct mn_daemon *d, struct ipsec_pair *p, const uint8_t *mac,
		    struct in_addr peer, const uint8_t *pkt, size_t len)
{
	struct mn_out o = {.d = d, .p = p, .mac = mac};

	d->link_path.icmp_src = peer;
	pmtu_send(&d->link_path, &o, pkt, len,
		  p != NULL ? pmtu_esp_inner(p->out.alg, p->udp_encap, d->link_mtu) : d->link_mtu);
}

void mn_ipsec_to_link(struct mn_daemon *d, const uint8_t mac[6], const uint8_t *pkt, size_t len)
{
	struct ipsec_pair *p = NULL;

	/* Unicast to the current agent goes through its SA; multicast never can. */
	if (d->ike == NULL || !d->mn.agent.valid || len < IP4_HDR_LEN || (mac[0] & 1) ||
	    ipsec_conf_peer(&d->ic, d->mn.agent.addr) == NULL) {
		mn_send(d, NULL, mac, d->mn.agent.addr, pkt, len);
		return;
	}
	/* The registration that starts a reuse hand-over goes in the clear (brief, pitfall 3). */
	if (d->reuse_pending && mn_is_registration(pkt, len)) {
		netio_pkt_send(d->pkt_fd, d->ifindex, mac, pkt, len);
		return;
	}
	p = ipsec_find(&d->ipsec, d->mn.agent.addr.s_addr);
	if (p == NULL) {
		/* IPsec is configured for this agent: nothing else leaves unprotected. */
		d->esp.drop_no_sa++;
		return;
	}
	mn_send(d, p, mac, d->mn.agent.addr, pkt, len);
}

/* ---- gateway mode ---- */

static void mn_arp_ask(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct mn_daemon *d = arg;

	if (d->gateway_mac_known)
		return;
	netio_arp_request(d->arp_fd, d->ifindex, d->mac, d->cfg.home_addr, d->gateway);
	ev_timer_start(loop, t, MN_ARP_RETRY_MS);
}

static void mn_on_arp(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct mn_daemon *d = arg;
	const struct ike_peer *pc;

	if (netio_arp_reply(fd, d->gateway, d->gateway_mac, &d->rcvbuf.arp) != 1 ||
	    d->gateway_mac_known)
		return;
	d->gateway_mac_known = true;
	ev_timer_stop(loop, &d->arp_timer);
	pc = ipsec_conf_peer(&d->ic, d->gateway);
	log_info("gateway %s is at %02x:%02x:%02x:%02x:%02x:%02x", IP4_STR(d->gateway),
		 d->gateway_mac[0], d->gateway_mac[1], d->gateway_mac[2], d->gateway_mac[3],
		 d->gateway_mac[4], d->gateway_mac[5]);
	if (pc != NULL && ipsec_find(&d->ipsec, d->gateway.s_addr) == NULL &&
	    ike_sa_find_peer(d->ike, d->gateway) == NULL)
		ike_initiate(d->ike, pc, d->cfg.home_addr);
}

void mn_ipsec_gateway_link(struct mn_daemon *d, bool up)
{
	d->gateway_mac_known = false;
	if (up)
		mn_arp_ask(d->loop, &d->arp_timer, d);
	else
		ev_timer_stop(d->loop, &d->arp_timer);
}

void mn_ipsec_gateway_out(struct mn_daemon *d, const uint8_t *pkt, size_t len)
{
	struct ipsec_pair *p = ipsec_find(&d->ipsec, d->gateway.s_addr);

	if (p == NULL || !d->gateway_mac_known) {
		d->esp.drop_no_gateway++;
		return;
	}
	mn_send(d, p, d->gateway_mac, d->gateway, pkt, len);
}

/* ---- setup ---- */

int mn_ipsec_open(struct mn_daemon *d)
{
	struct ike_ops ops = {.send = mn_ike_send,
			      .peer_lookup = mn_ike_peer,
			      .child_up = mn_ike_child_up,
			      .child_down = mn_ike_child_down,
			      .ike_down = mn_ike_down,
			      .arg = d};

	ipsec_init(&d->ipsec);
	ev_timer_init(&d->arp_timer, mn_arp_ask, d);
	d->link_path = (struct pmtu_path){
		.name = "our packets to the link", .send = mn_out_piece, .icmp = mn_out_icmp};
	if (!d->ic.enabled)
		return 0;
	d->ike = ike_engine_new(d->loop, &d->ic.ike, &ops);
	d->ike_fd = netio_udp_open(d->cfg.home_addr, ISAKMP_PORT);
	d->natt_fd = netio_udp_open(d->cfg.home_addr, ISAKMP_NATT_PORT);
	d->esp_fd = netio_raw_recv_open(IP4_PROTO_ESP);
	if (d->ike == NULL || d->ike_fd < 0 || d->natt_fd < 0 || d->esp_fd < 0 ||
	    ev_io_add(d->loop, d->ike_fd, EPOLLIN, mn_on_ike, d) < 0 ||
	    ev_io_add(d->loop, d->natt_fd, EPOLLIN, mn_on_natt, d) < 0 ||
	    ev_io_add(d->loop, d->esp_fd, EPOLLIN, mn_on_esp, d) < 0)
		return -1;
	if (d->gateway.s_addr != 0) {
		d->arp_fd = netio_arp_open(d->ifindex);
		if (d->arp_fd < 0 || netio_ifmac(d->cfg.interface, d->mac) < 0 ||
		    ev_io_add(d->loop, d->arp_fd, EPOLLIN, mn_on_arp, d) < 0)
			return -1;
	}
	return 0;
}

void mn_ipsec_close(struct mn_daemon *d)
{
	ev_timer_stop(d->loop, &d->arp_timer);
	ike_engine_free(d->ike);
	d->ike = NULL;
	ipsec_free(&d->ipsec);
	int fds[] = {d->ike_fd, d->natt_fd, d->esp_fd, d->arp_fd};
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] > 0)
			close(fds[i]);
}

int mn_ipsec_ctl(struct mn_daemon *d, int argc, char **argv, struct ctl_out *o, char *err,
		 size_t errlen)
{
	if (strcmp(argv[0], "keys") == 0)
		return ipsec_ctl_keys(d->ike, &d->ipsec, argc > 1 && strcmp(argv[1], "esp") == 0, o,
				      err, errlen);
	ctl_obj_begin(o, NULL);
	ctl_str(o, "daemon", "mipsa-mn");
	ctl_bool(o, "ipsec", d->ike != NULL);
	if (d->ike != NULL)
		ike_ctl_sas(d->ike, o);
	ctl_obj_begin(o, "esp_counters");
#define MN_ESP_CTL(n) ctl_u64(o, #n, d->esp.n);
	MN_ESP_COUNTERS(MN_ESP_CTL)
#undef MN_ESP_CTL
	ctl_obj_end(o);
	ctl_obj_end(o);
	return 0;
}

size_t mn_ipsec_tunnel_mtu(const struct mn_daemon *d, size_t link_mtu)
{
	enum esp_alg algs[IKE_MAX_PROPS];
	size_t n = 0;

	for (size_t i = 0; d->ic.enabled && i < d->ic.ike.n_p2 && i < IKE_MAX_PROPS; i++)
		algs[n++] = d->ic.ike.p2[i].alg;
	/* Gateway mode has no Mobile IP, so no reverse tunnel either. */
	return pmtu_tunnel_mtu(link_mtu, algs, n, d->cfg.reverse_tunnel && d->gateway.s_addr == 0);
}

void mn_ipsec_ctl_mtu(struct mn_daemon *d, struct ctl_out *o)
{
	ctl_obj_begin(o, NULL);
	ctl_str(o, "daemon", "mipsa-mn");
	ctl_str(o, "interface", d->cfg.interface);
	ctl_u64(o, "link_mtu", d->link_mtu);
	ctl_str(o, "tunnel_device", d->cfg.tunnel_device);
	ctl_u64(o, "tunnel_mtu", d->tunnel_mtu);
	pmtu_ctl(o, "mtu_counters", &d->link_path.ctr);
	ctl_obj_end(o);
}
