/*
 * mipsa-fa's IPsec side: IKEv1 responder on the alias address, and ESP
 * between the alias and each visitor.  IKE arrives through the access-link
 * capture (so we learn the sender's MAC, as for registrations); ESP through
 * a UDP 4500 socket (RFC 3948) or a raw protocol-50 socket.  What we send
 * to a visitor leaves by its MAC through the packet socket, sealed when it
 * has SAs.
 */
#include "ctl.h"
#include "fa_daemon.h"
#include "ike.h"
#include "ip4.h"
#include "isakmp.h"
#include "log.h"
#include "netio.h"

#include <openssl/crypto.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define FA_MAX_MACS 65536

struct fa_mac {
	uint8_t mac[6];
};

void fa_learn_mac(struct fa_daemon *d, struct in_addr addr, const uint8_t mac[6])
{
	struct fa_mac *m = u32map_get(&d->macs, addr.s_addr);

	if (m == NULL) {
		if (u32map_len(&d->macs) >= FA_MAX_MACS || (m = malloc(sizeof(*m))) == NULL)
			return;
		if (u32map_put(&d->macs, addr.s_addr, m) < 0) {
			free(m);
			return;
		}
	}
	memcpy(m->mac, mac, 6);
}

static const uint8_t *fa_mac_of(struct fa_daemon *d, struct in_addr addr)
{
	struct fa_mac *m = u32map_get(&d->macs, addr.s_addr);
	struct fa_visitor *v;

	if (m != NULL)
		return m->mac;
	v = fa_find_visitor(&d->fa, addr);
	return v != NULL && v->active ? v->mac : NULL;
}

/* ---- IKE ---- */

static void fa_ike_send(void *arg, struct in_addr local, uint16_t lport, struct in_addr peer,
			uint16_t pport, const uint8_t *msg, size_t len)
{
	struct fa_daemon *d = arg;
	const uint8_t *mac = fa_mac_of(d, peer);
	uint8_t pkt[IP4_HDR_LEN + UDP_HDR_LEN + 4200];
	struct buf b;

	if (mac == NULL) {
		d->esp.ike_drop_no_mac++;
		log_rl_notice("no link-layer address for %s: IKE message not sent", IP4_STR(peer));
		return;
	}
	buf_init_write(&b, pkt, sizeof(pkt));
	if (ip4_udp_put(&b, local, peer, lport, pport, 64, msg, len) == 0)
		netio_pkt_send(d->pkt_fd, d->access_ifindex, mac, pkt, buf_used(&b));
}

static const struct ike_peer *fa_ike_peer(void *arg, struct in_addr addr)
{
	struct fa_daemon *d = arg;

	return ipsec_conf_peer(&d->ic, addr);
}

static void fa_ike_child_up(void *arg, struct ike_child *c)
{
	struct fa_daemon *d = arg;

	struct ipsec_pair *p = ipsec_add(&d->ipsec, c, c->remote_net.s_addr);

	if (p == NULL)
		return;
	p->last_in_ms = ev_now_ms();
	/* Our own packets to the node (ICMP errors, pings to the alias) go through its SA. */
	if (c->remote_plen == 32)
		netio_route(d->nl_fd, true, c->remote_net, 32, d->tun_ifindex, NETIO_TABLE_MAIN);
	/* Pairs a transfer installs are stored by fa_reuse once their numbers are set. */
	if (c->initiator || c->ike == NULL || d->xfers.len == 0 ||
	    u32map_get(&d->xfers, c->remote_net.s_addr) == NULL)
		fa_reuse_note_pair(d, c->remote_net);
}

static void fa_ike_child_down(void *arg, struct ike_child *c, const char *why)
{
	struct fa_daemon *d = arg;

	ipsec_del(&d->ipsec, c->spi_in);
	if (c->remote_plen == 32 && ipsec_find(&d->ipsec, c->remote_net.s_addr) == NULL)
		netio_route(d->nl_fd, false, c->remote_net, 32, d->tun_ifindex, NETIO_TABLE_MAIN);
}

bool fa_ipsec_secured(void *arg, struct in_addr home_addr)
{
	struct fa_daemon *d = arg;

	return ipsec_find(&d->ipsec, home_addr.s_addr) != NULL;
}

/*
 * IKE to any address but the alias, the care-of address say, or from
 * anywhere but the access link: the sockets listen on every address, but
 * the visitors' SAs are with the alias, and only the access link tells us
 * a sender's MAC to answer to.
 */
static void fa_ike_not_alias(struct fa_daemon *d, struct in_addr src, struct in_addr dst,
			     uint16_t port)
{
	d->esp.ike_drop_not_alias++;
	log_rl_notice("IKE from %s to %s:%u dropped: IKE is on the alias %s from the access link "
		      "only",
		      IP4_STR(src), IP4_STR(dst), port, IP4_STR(d->fa.cfg.alias));
}

int fa_ipsec_frame(struct fa_daemon *d, const uint8_t mac[6], const uint8_t *pkt, size_t len)
{
	struct ip4_hdr ip;
	struct buf udp;
	uint16_t sport, dport;
	const uint8_t *m;
	size_t mlen;

	if (d->ike == NULL ||
	    ip4_udp_parse_captured(pkt, len, &ip, &sport, &dport, &udp) != IP4_OK ||
	    (dport != ISAKMP_PORT && dport != ISAKMP_NATT_PORT))
		return 0;
	if (ip.dst.s_addr != d->fa.cfg.alias.s_addr) {
		fa_ike_not_alias(d, ip.src, ip.dst, dport);
		return 1;
	}
	m = buf_rptr(&udp);
	mlen = buf_left(&udp);
	if (dport == ISAKMP_NATT_PORT) {
		/* RFC 3948 2.2: a zero non-ESP marker says IKE; the filter let only those in. */
		if (mlen < 4 || memcmp(m, "\0\0\0\0", 4) != 0)
			return 1;
		m += 4;
		mlen -= 4;
	}
	fa_learn_mac(d, ip.src, mac);
	ike_input(d->ike, ip.dst, dport, ip.src, sport, m, mlen);
	return 1;
}

/* ---- ESP ---- */

static void fa_esp_in(struct fa_daemon *d, const uint8_t *esp, size_t len)
{
	uint8_t inner[IP4_MAX_PACKET];
	struct ipsec_pair *p = NULL;
	size_t ilen;
	enum ipsec_err e = ipsec_open(&d->ipsec, esp, len, inner, sizeof(inner), &ilen, &p);
	const uint8_t *mac;

	switch (e) {
	case IPSEC_OK:
		break;
	case IPSEC_E_SPI:
		d->esp.esp_drop_spi++;
		log_rl_notice("ESP with an unknown SPI dropped");
		return;
	case IPSEC_E_REPLAY:
		d->esp.esp_drop_replay++;
		log_rl_notice("ESP from %s dropped: %s", IP4_STR(p->peer), ipsec_err_name(e));
		return;
	case IPSEC_E_ESP:
		d->esp.esp_drop_check++;
		log_rl_notice("ESP from %s failed its checks (ICV or padding)", IP4_STR(p->peer));
		return;
	case IPSEC_E_INNER:
		d->esp.esp_drop_inner++;
		return;
	default:
		d->esp.esp_drop_policy++;
		log_rl_notice("ESP from %s: %s", IP4_STR(p->peer), ipsec_err_name(e));
		return;
	}
	d->esp.esp_in++;
	p->last_in_ms = ev_now_ms();
	if (p->child != NULL)
		ike_child_bytes(d->ike, p->child, len);
	mac = fa_mac_of(d, p->peer);
	if (mac == NULL) {
		d->esp.ike_drop_no_mac++;
		return;
	}
	fa_from_esp(&d->fa, mac, inner, ilen, ev_now_ms());
}

static void fa_on_natt(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct fa_daemon *d = arg;
	uint8_t msg[IP4_MAX_PACKET];
	struct netio_udp_meta meta;
	ssize_t n;

	while ((n = netio_udp_recv(fd, msg, sizeof(msg), &meta)) >= 0) {
		bool ike = n >= 4 && memcmp(msg, "\0\0\0\0", 4) == 0;
		d->rcvbuf.natt = meta.dropped;
		/* IKE from the access link reaches the engine through the capture. */
		if (ike && meta.ifindex != d->access_ifindex)
			fa_ike_not_alias(d, meta.from.sin_addr, meta.dst, ISAKMP_NATT_PORT);
		/* Shorter than an ESP header: a NAT keepalive (one 0xff). */
		if (!ike && n >= 8)
			fa_esp_in(d, msg, (size_t)n);
	}
}

static void fa_on_esp(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct fa_daemon *d = arg;
	uint8_t pkt[IP4_MAX_PACKET];
	struct ip4_hdr h;
	struct buf payload;
	ssize_t n;

	while ((n = netio_recv(fd, pkt, sizeof(pkt), &d->rcvbuf.esp)) > 0)
		if (ip4_parse(pkt, (size_t)n, &h, &payload) == IP4_OK &&
		    h.dst.s_addr == d->fa.cfg.alias.s_addr)
			fa_esp_in(d, buf_rptr(&payload), buf_left(&payload));
}

/*
 * IKE reaches the engine through the capture (fa_ipsec_frame), with the
 * sender's MAC; this socket keeps the kernel from answering "port
 * unreachable" and sees the copies, and what came from elsewhere.
 */
static void fa_on_ike_sock(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct fa_daemon *d = arg;
	uint8_t msg[4096];
	struct netio_udp_meta meta;

	while (netio_udp_recv(fd, msg, sizeof(msg), &meta) >= 0) {
		d->rcvbuf.ike = meta.dropped;
		if (meta.ifindex != d->access_ifindex)
			fa_ike_not_alias(d, meta.from.sin_addr, meta.dst, ISAKMP_PORT);
	}
}

static int fa_ipsec_seal_send(struct fa_daemon *d, struct ipsec_pair *p, const uint8_t *mac,
			      const uint8_t *pkt, size_t len)
{
	uint8_t out[IP4_MAX_PACKET];
	size_t olen;
	enum esp_err e;

	/* Numbers above reserved_seq may be another FA's (SA reuse): never send them. */
	if (!ipsec_may_send(p)) {
		d->esp.esp_drop_reserved++;
		log_rl_notice("SA to %s: sequence numbers above %llu may be another FA's",
			      IP4_STR(p->peer), (unsigned long long)p->reserved_seq);
		return -1;
	}
	e = ipsec_seal(p, pkt, len, out, sizeof(out), &olen);
	if (e != ESP_OK) {
		d->esp.esp_drop_seal++;
		log_rl_warn("cannot seal for %s: %s", IP4_STR(p->peer), esp_err_name(e));
		if (e == ESP_E_SEQ_OVERFLOW && p->child != NULL)
			ike_child_delete(d->ike, p->child, "sequence numbers used up");
		return -1;
	}
	d->esp.esp_out++;
	if (p->child != NULL)
		ike_child_bytes(d->ike, p->child, olen);
	/*
	 * The store's copy reserves our outbound numbers below reserved_seq:
	 * renew it half-way, one write at a time, but only while the node is
	 * still with us (it sent lately) and the SAs are still ours.
	 */
	if (p->seq_limited && !p->handed_over && p->reserve_pending == 0 &&
	    p->out.seq_out + d->dom.seq_reserve / 2 > p->reserved_seq &&
	    ev_now_ms() - p->last_in_ms < 10000)
		fa_reuse_note_pair(d, p->remote_net);
	netio_pkt_send(d->pkt_fd, d->access_ifindex, mac, out, olen);
	return 0;
}

/* A registration reply (UDP from port 434). */
static bool fa_is_reg_reply(const uint8_t *pkt, size_t len)
{
	size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;

	return pkt[9] == IP4_PROTO_UDP && len >= ihl + UDP_HDR_LEN && pkt[ihl] == (MIP_PORT >> 8) &&
	       pkt[ihl + 1] == (MIP_PORT & 0xff);
}

void fa_ipsec_to_link(struct fa_daemon *d, const uint8_t mac[6], const uint8_t *pkt, size_t len)
{
	struct in_addr dst;
	struct ipsec_pair *p;

	if (len < IP4_HDR_LEN || (mac[0] & 1)) {
		netio_pkt_send(d->pkt_fd, d->access_ifindex, mac, pkt, len);
		return;
	}
	memcpy(&dst.s_addr, pkt + 16, 4);
	p = ipsec_find(&d->ipsec, dst.s_addr);
	/*
	 * The reply to a hand-over's cleartext registration may go before the
	 * SAs taken over may carry anything (our store copy is on its way).
	 */
	if (p != NULL && (ipsec_may_send(p) || !fa_is_reg_reply(pkt, len))) {
		fa_ipsec_seal_send(d, p, mac, pkt, len);
		return;
	}
	/*
	 * A node we must protect but have no SAs with yet (negotiating, or Quick
	 * Mode after a partial hand-over): only our registration reply may go
	 * in the clear, never its data.
	 */
	if (d->ike != NULL && ipsec_conf_peer(&d->ic, dst) != NULL && !fa_is_reg_reply(pkt, len)) {
		d->esp.drop_no_sa++;
		return;
	}
	netio_pkt_send(d->pkt_fd, d->access_ifindex, mac, pkt, len);
}

size_t fa_ipsec_visitor_mtu(void *arg, struct in_addr home_addr)
{
	struct fa_daemon *d = arg;
	struct ipsec_pair *p = ipsec_find(&d->ipsec, home_addr.s_addr);

	return p != NULL ? pmtu_esp_inner(p->out.alg, p->udp_encap, d->access_mtu) : d->access_mtu;
}

struct fa_local {
	struct fa_daemon *d;
	struct ipsec_pair *p;
	const uint8_t *mac;
};

static void fa_local_piece(void *arg, const uint8_t *pkt, size_t len)
{
	struct fa_local *l = arg;

	fa_ipsec_seal_send(l->d, l->p, l->mac, pkt, len);
}

/* An ICMP error about our own packet goes back to our own stack. */
static void fa_local_icmp(void *arg, const uint8_t *pkt, size_t len)
{
	struct fa_local *l = arg;

	if (write(l->d->tun_fd, pkt, len) < 0)
		log_rl_warn("write to %s: %s", l->d->fa.cfg.tunnel_device, strerror(errno));
}

int fa_ipsec_from_tun(struct fa_daemon *d, const uint8_t *pkt, size_t len)
{
	struct in_addr dst;
	struct fa_local l = {.d = d};

	if (len < IP4_HDR_LEN)
		return 0;
	memcpy(&dst.s_addr, pkt + 16, 4);
	l.p = ipsec_find(&d->ipsec, dst.s_addr);
	if (l.p == NULL)
		return 0;
	l.mac = fa_mac_of(d, l.p->peer);
	if (l.mac == NULL)
		return 1;
	/* Our stack sees an error from the visitor's address: ours would be a martian there. */
	d->local_path.icmp_src = dst;
	pmtu_send(&d->local_path, &l, pkt, len,
		  pmtu_esp_inner(l.p->out.alg, l.p->udp_encap, d->access_mtu));
	return 1;
}

int fa_ipsec_open(struct fa_daemon *d)
{
	struct ike_ops ops = {.send = fa_ike_send,
			      .peer_lookup = fa_ike_peer,
			      .child_up = fa_ike_child_up,
			      .child_down = fa_ike_child_down,
			      .arg = d};
	struct in_addr any = {.s_addr = INADDR_ANY};

	ipsec_init(&d->ipsec);
	u32map_init(&d->macs);
	d->local_path = (struct pmtu_path){.name = "our own packets to a visitor",
					   .send = fa_local_piece,
					   .icmp = fa_local_icmp};
	if (!d->ic.enabled)
		return 0;
	d->ike = ike_engine_new(d->loop, &d->ic.ike, &ops);
	d->ike_fd = netio_udp_open(any, ISAKMP_PORT);
	d->natt_fd = netio_udp_open(any, ISAKMP_NATT_PORT);
	d->esp_fd = netio_raw_recv_open(IP4_PROTO_ESP);
	if (d->ike == NULL || d->ike_fd < 0 || d->natt_fd < 0 || d->esp_fd < 0 ||
	    ev_io_add(d->loop, d->ike_fd, EPOLLIN, fa_on_ike_sock, d) < 0 ||
	    ev_io_add(d->loop, d->natt_fd, EPOLLIN, fa_on_natt, d) < 0 ||
	    ev_io_add(d->loop, d->esp_fd, EPOLLIN, fa_on_esp, d) < 0)
		return -1;
	log_notice("IPsec: IKEv1 responder on %s for %zu peers", IP4_STR(d->fa.cfg.alias),
		   d->ic.n_peers);
	return 0;
}

void fa_ipsec_close(struct fa_daemon *d)
{
	size_t it = 0;
	uint32_t k;
	void *v;

	ike_engine_free(d->ike); /* sends Delete for what is up, calls child_down */
	d->ike = NULL;
	ipsec_free(&d->ipsec);
	while (u32map_next(&d->macs, &it, &k, &v))
		free(v);
	u32map_free(&d->macs);
	int fds[] = {d->ike_fd, d->natt_fd, d->esp_fd};
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] > 0)
			close(fds[i]);
}

int fa_ipsec_ctl(struct fa_daemon *d, int argc, char **argv, struct ctl_out *o, char *err,
		 size_t errlen)
{
	if (strcmp(argv[0], "keys") == 0)
		return ipsec_ctl_keys(d->ike, &d->ipsec, argc > 1 && strcmp(argv[1], "esp") == 0, o,
				      err, errlen);
	ctl_obj_begin(o, NULL);
	ctl_str(o, "daemon", "mipsa-fa");
	ctl_bool(o, "ipsec", d->ike != NULL);
	if (d->ike != NULL)
		ike_ctl_sas(d->ike, o);
	ctl_obj_begin(o, "esp_counters");
#define FA_ESP_CTL(n) ctl_u64(o, #n, d->esp.n);
	FA_ESP_COUNTERS(FA_ESP_CTL)
#undef FA_ESP_CTL
	ctl_obj_end(o);
	pmtu_ctl(o, "local_mtu_counters", &d->local_path.ctr);
	fa_reuse_ctl(d, o);
	ctl_obj_end(o);
	return 0;
}
