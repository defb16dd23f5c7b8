/*
 * mipsa-fa: the foreign agent daemon.  Wires the logic in fa_reg.c and
 * fa_data.c to:
 *   pcap on the access interface   registration requests and solicitations,
 *                                  with the sender's MAC (RFC 5944 3.7.1)
 *   packet socket on it            everything we send to visitors, by MAC
 *   UDP 434                        replies from home agents
 *   TUN + policy rule              visitors' packets the kernel would forward
 *   raw IPPROTO_IPIP / IPPROTO_RAW tunnels from and to home agents
 */
#include "conf.h"
#include "ctl.h"
#include "daemon.h"
#include "evloop.h"
#include "fa.h"
#include "fa_daemon.h"
#include "ip4.h"
#include "log.h"
#include "isakmp.h"
#include "netio.h"
#include "netio_batch.h"
#include "reload.h"
#include "sandbox.h"

#include <openssl/crypto.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define FA_SWEEP_MS  1000
#define FA_RULE_PRIO 1000
/*
 * Packets waiting in the visitors' TUN for our reads.  A node with TSO
 * and batched sends (tun_gso.h, netio_batch.h) hands over dozens of
 * segments at once; the default 500 overflowed under one TCP flow (7,061
 * of 280,000 dropped in 5 s of iperf3 in the testbed).
 */
#define FA_TUN_QLEN 4096
/* Registrations, solicitations and IKE (500, or 4500 with the zero non-ESP marker). */
#define FA_CAPTURE_FILTER                                                                          \
	"ip and ((udp dst port 434) or (icmp and icmp[icmptype] == 10) or (udp dst port 500) or "  \
	"(udp dst port 4500 and udp[8:4] == 0))"

static void fa_out_link(void *arg, const uint8_t mac[6], const uint8_t *pkt, size_t len)
{
	struct fa_daemon *d = arg;

	/* No queue (before fa_open made it, after fa_close freed it): one send. */
	if (d->link_q != NULL)
		netio_txq_frame(d->link_q, mac, pkt, len);
	else
		netio_pkt_send(d->pkt_fd, d->access_ifindex, mac, pkt, len);
}

static void fa_out_stack(void *arg, const uint8_t *pkt, size_t len)
{
	struct fa_daemon *d = arg;

	tun_io_write(&d->tun, pkt, len);
}

static void fa_out_route(void *arg, struct in_addr addr, bool add)
{
	struct fa_daemon *d = arg;

	netio_route(d->nl_fd, add, addr, 32, d->tun_ifindex, NETIO_TABLE_MAIN);
}

static void fa_out_sax(void *arg, struct in_addr to, const uint8_t *msg, size_t len)
{
	struct fa_daemon *d = arg;

	netio_udp_send(d->sax_fd, d->fa.cfg.coa, to, SAX_PORT, msg, len);
}

static void fa_out_ha(void *arg, struct in_addr ha, const uint8_t *msg, size_t len)
{
	struct fa_daemon *d = arg;

	netio_udp_send(d->udp_fd, d->fa.cfg.coa, ha, MIP_PORT, msg, len);
}

static void fa_out_tunnel(void *arg, const uint8_t *pkt, size_t len)
{
	struct fa_daemon *d = arg;

	if (d->tunnel_q != NULL)
		netio_txq_ip(d->tunnel_q, pkt, len);
	else
		netio_raw_send(d->raw_fd, pkt, len);
}

/*
 * While a data-path socket drains, what its packets cause to be sent waits
 * in the queues and leaves NETIO_BATCH at a time (netio_batch.h).
 */
static void fa_hold(struct fa_daemon *d)
{
	netio_txq_hold(d->link_q);
	netio_txq_hold(d->tunnel_q);
	tun_io_hold(&d->tun);
}

static void fa_release(struct fa_daemon *d)
{
	netio_txq_release(d->link_q);
	netio_txq_release(d->tunnel_q);
	tun_io_release(&d->tun);
}

static void fa_out_forward(void *arg, const uint8_t *pkt, size_t len)
{
	/* Written back into the TUN, the kernel routes it by the main table. */
	fa_out_stack(arg, pkt, len);
}

static size_t fa_path_mtu(void *arg, struct in_addr dst)
{
	int mtu = netio_path_mtu(dst);

	return mtu > 0 ? (size_t)mtu : 0;
}

static void fa_on_frame(void *arg, const uint8_t src_mac[6], const uint8_t *pkt, size_t len)
{
	struct fa_daemon *d = arg;

	if (fa_sec_frame(&d->sec, src_mac, pkt, len) == 0)
		fa_from_link(&d->fa, src_mac, pkt, len, ev_loop_now_ms(d->loop));
}

static void fa_on_cap(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct fa_daemon *d = arg;

	netio_cap_dispatch(d->cap, fa_on_frame, d);
}

static void fa_on_udp(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct fa_daemon *d = arg;
	uint8_t msg[NETIO_FRAME_MAX];
	struct netio_udp_meta meta;
	ssize_t n;

	while ((n = netio_udp_recv(fd, msg, sizeof(msg), &meta)) >= 0) {
		d->rcvbuf.mip = meta.dropped;
		/* Requests from the access link come through the capture, with their MAC. */
		if (meta.ifindex == d->access_ifindex)
			continue;
		fa_from_ha(&d->fa, meta.from.sin_addr, msg, (size_t)n, ev_loop_now_ms(d->loop));
	}
}

/* A packet from the stack (a segment, if it came as a super-packet). */
static void fa_tun_one(void *arg, const uint8_t *pkt, size_t len)
{
	struct fa_daemon *d = arg;

	if (fa_sec_from_stack(&d->sec, pkt, len) == 0)
		fa_from_visitor(&d->fa, pkt, len);
}

static void fa_on_tun(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct fa_daemon *d = arg;

	fa_hold(d);
	tun_io_drain(&d->tun, fa_tun_one, d);
	fa_release(d);
}

static void fa_tunnel_one(void *arg, uint8_t *pkt, size_t len)
{
	struct fa_daemon *d = arg;

	fa_from_tunnel(&d->fa, pkt, len);
}

static void fa_on_ipip(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct fa_daemon *d = arg;

	fa_hold(d);
	netio_rx_drain(fd, fa_tunnel_one, d, &d->rcvbuf.tunnel);
	fa_release(d);
}

static void fa_on_adv(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct fa_daemon *d = arg;

	fa_advertise(&d->fa);
	ev_timer_start(loop, t, d->fa.cfg.adv_interval_ms);
}

static void fa_on_sweep(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct fa_daemon *d = arg;

	fa_expire(&d->fa, ev_loop_now_ms(d->loop));
	/* Keys a reload rotated out are wiped once retired, whether used or not. */
	fa_domain_sweep(&d->dom, ev_loop_wall_ms(d->loop));
	ev_timer_start(loop, t, FA_SWEEP_MS);
}

/* Into "counters": the store client's (doc/control.md), Sentinel and WAIT included. */
static void fa_ctl_store(const struct store_counters *c, struct ctl_out *o)
{
	ctl_obj_begin(o, "store_counters");
	ctl_u64(o, "requests", c->requests);
	ctl_u64(o, "ok", c->ok);
	ctl_u64(o, "not_found", c->not_found);
	ctl_u64(o, "refused", c->refused);
	ctl_u64(o, "timeouts", c->timeouts);
	ctl_u64(o, "errors", c->errors);
	ctl_u64(o, "late_answers", c->late_answers);
	ctl_u64(o, "resent", c->resent);
	ctl_u64(o, "bad_answers", c->bad_answers);
	ctl_u64(o, "connects", c->connects);
	ctl_u64(o, "sentinel_lookups", c->sentinel_lookups);
	ctl_u64(o, "sentinel_errors", c->sentinel_errors);
	ctl_u64(o, "failovers", c->failovers);
	ctl_u64(o, "not_primary", c->not_primary);
	ctl_u64(o, "wait_short", c->wait_short);
	ctl_u64(o, "key_rotations", c->key_rotations);
	ctl_u64(o, "rx_previous_key", c->rx_previous_key);
	ctl_obj_end(o);
}

/* Into "counters": what the kernel dropped at each socket, and the capture, for a full buffer. */
static void fa_ctl_rcvbuf(void *arg, struct ctl_out *o)
{
	struct fa_daemon *d = arg;

	ctl_obj_begin(o, "rcvbuf_drops");
#define FA_RCVBUF_CTL(n) ctl_u64(o, #n, d->rcvbuf.n);
	FA_RCVBUF_DROPS(FA_RCVBUF_CTL)
#undef FA_RCVBUF_CTL
	ctl_u64(o, "capture", d->cap != NULL ? netio_cap_drops(d->cap) : 0);
	ctl_u64(o, "store", d->store != NULL ? store_client_counters(d->store)->rcvbuf_drops : 0);
	ctl_obj_end(o);
	tun_io_ctl(&d->tun, o);
	if (d->store != NULL)
		fa_ctl_store(store_client_counters(d->store), o);
	daemon_ctl_memory(o);
}

static int fa_on_ctl(void *arg, int argc, char **argv, struct ctl_out *o, char *err, size_t errlen)
{
	struct fa_daemon *d = arg;

	o->daemon_counters = fa_ctl_rcvbuf;
	o->daemon_arg = d;
	/* keys: the text answer is the bare table file, for Wireshark */
	if (argc > 0 && strcmp(argv[0], "keys") == 0)
		return fa_sec_ctl_keys(&d->sec, argc, argv, o, err, errlen);
	if (argc > 0 && strcmp(argv[0], "reload") == 0)
		return reload_ctl("mipsa-fa", fa_reload, d, argc, argv, o, err, errlen);
	return fa_ctl(&d->fa, &d->sec, argc, argv, o, err, errlen, ev_loop_now_ms(d->loop));
}

/* ---- IPsec and SA transfer sockets ---- */

static void fa_natt_one(void *arg, uint8_t *msg, size_t n, const struct netio_udp_meta *meta)
{
	struct fa_daemon *d = arg;
	bool ike = n >= ISAKMP_NON_ESP_MARKER_LEN &&
		   memcmp(msg, "\0\0\0\0", ISAKMP_NON_ESP_MARKER_LEN) == 0;

	/* IKE from the access link reaches the engine through the capture. */
	if (ike && meta->ifindex != d->access_ifindex)
		fa_sec_not_alias(&d->sec, meta->from.sin_addr, meta->dst, ISAKMP_NATT_PORT);
	/* Shorter than an ESP header: a NAT keepalive (one 0xff). */
	if (!ike && n >= ESP_HDR_LEN)
		fa_sec_esp_in(&d->sec, msg, n);
}

static void fa_on_natt(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct fa_daemon *d = arg;

	fa_hold(d);
	netio_udp_drain(fd, fa_natt_one, d, &d->rcvbuf.natt);
	fa_release(d);
}

static void fa_esp_one(void *arg, const uint8_t *esp, size_t len)
{
	fa_sec_esp_in(arg, esp, len);
}

static void fa_on_esp(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct fa_daemon *d = arg;

	fa_hold(d);
	netio_esp_drain(fd, d->fa.cfg.alias, fa_esp_one, &d->sec, &d->rcvbuf.esp);
	fa_release(d);
}

/*
 * IKE reaches the engine through the capture (fa_sec_frame), with the
 * sender's MAC; this socket keeps the kernel from answering "port
 * unreachable" and sees the copies, and what came from elsewhere.
 */
static void fa_on_ike_sock(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct fa_daemon *d = arg;
	uint8_t msg[ISAKMP_DATAGRAM_MAX];
	struct netio_udp_meta meta;

	while (netio_udp_recv(fd, msg, sizeof(msg), &meta) >= 0) {
		d->rcvbuf.ike = meta.dropped;
		if (meta.ifindex != d->access_ifindex)
			fa_sec_not_alias(&d->sec, meta.from.sin_addr, meta.dst, ISAKMP_PORT);
	}
}

static void fa_on_sax(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct fa_daemon *d = arg;
	uint8_t buf[SAX_MSG_MAX];
	struct netio_udp_meta meta;
	ssize_t n;

	while ((n = netio_udp_recv(fd, buf, sizeof(buf), &meta)) >= 0) {
		d->rcvbuf.sax = meta.dropped;
		fa_sec_sax_in(&d->sec, meta.from.sin_addr, buf, (size_t)n);
	}
	OPENSSL_cleanse(buf, sizeof(buf));
}

static int fa_store_get(void *ctx, const char *mn_id, uint32_t timeout_ms, store_cb cb, void *arg)
{
	return store_get(ctx, mn_id, timeout_ms, cb, arg);
}

static int fa_store_put(void *ctx, const char *mn_id, uint64_t expires_ms, const uint8_t *msg,
			size_t len, uint32_t timeout_ms, store_cb cb, void *arg)
{
	return store_put(ctx, mn_id, expires_ms, msg, len, timeout_ms, cb, arg);
}

/* IKE (500, 4500) and raw ESP; SA transfers (4434) and the store when the domain reuses SAs. */
static int fa_ipsec_open(struct fa_daemon *d)
{
	struct in_addr any = {.s_addr = INADDR_ANY};
	struct fa_sec_ops ops = {.to_link = fa_out_link,
				 .to_stack = fa_out_stack,
				 .route = fa_out_route,
				 .sax_send = fa_out_sax,
				 .arg = d};
	struct fa_store store = {.get = fa_store_get, .put = fa_store_put};
	bool reuse = d->ic.enabled && d->dom.enabled && d->dom.reuse != FA_REUSE_NONE;

	if (reuse && d->dom.store) {
		d->dom.store_cfg.local = d->fa.cfg.coa;
		d->store = store_client_new(d->loop, &d->dom.store_cfg);
		if (d->store == NULL)
			return -1;
		store.ctx = d->store;
	}
	if (fa_sec_init(&d->sec, &d->fa, d->loop, &d->ic, &d->dom, d->store ? &store : NULL,
			d->access_mtu, &ops) < 0)
		return -1;
	if (d->store != NULL)
		store_client_on_connect(d->store, fa_reuse_store_connected, &d->sec);
	if (!d->ic.enabled)
		return 0;
	d->ike_fd = netio_udp_open(any, ISAKMP_PORT);
	d->natt_fd = netio_udp_open(any, ISAKMP_NATT_PORT);
	/* ESP in UDP may come as GSO frames (udp_gso.h): read whole, cut by netio_udp_drain. */
	if (d->natt_fd >= 0)
		netio_udp_gro(d->natt_fd);
	d->esp_fd = netio_raw_recv_open(IP4_PROTO_ESP);
	if (d->ike_fd < 0 || d->natt_fd < 0 || d->esp_fd < 0 ||
	    ev_io_add(d->loop, d->ike_fd, EPOLLIN, fa_on_ike_sock, d) < 0 ||
	    ev_io_add(d->loop, d->natt_fd, EPOLLIN, fa_on_natt, d) < 0 ||
	    ev_io_add(d->loop, d->esp_fd, EPOLLIN, fa_on_esp, d) < 0)
		return -1;
	if (!reuse)
		return 0;
	d->sax_fd = netio_udp_open(d->fa.cfg.coa, SAX_PORT);
	return d->sax_fd < 0 || ev_io_add(d->loop, d->sax_fd, EPOLLIN, fa_on_sax, d) < 0 ? -1 : 0;
}

/* Visitors' packets that are not for us reach the TUN through a policy table. */
static int fa_routing_setup(struct fa_daemon *d)
{
	const struct fa_config *cfg = &d->fa.cfg;
	struct in_addr any = {0};
	char path[128];

	/* The alias is the address visitors talk to: make sure the access link has it. */
	if (netio_addr_add(d->nl_fd, d->access_ifindex, cfg->alias, cfg->alias_plen) < 0 ||
	    netio_if_up(cfg->tunnel_device) < 0)
		return -1;
	/* Not fatal: a shorter queue only drops sooner (and the kernel counts it). */
	if (netio_if_set_txqlen(cfg->tunnel_device, FA_TUN_QLEN) < 0)
		log_warn("%s: transmit queue of %d packets not set", cfg->tunnel_device,
			 FA_TUN_QLEN);
	d->tun_ifindex = netio_ifindex(cfg->tunnel_device);
	if (d->tun_ifindex < 0 ||
	    netio_route(d->nl_fd, true, any, 0, d->tun_ifindex, cfg->route_table) < 0 ||
	    netio_rule_iif(d->nl_fd, true, cfg->access_interface, cfg->route_table, FA_RULE_PRIO) <
		    0)
		return -1;
	d->rule_added = true;
	/* Visitors' sources are home addresses that route elsewhere: no reverse-path filter. */
	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/rp_filter", cfg->tunnel_device);
	netio_set_sysctl(path, "0");
	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/rp_filter", cfg->access_interface);
	netio_set_sysctl(path, "0");
	return 0;
}

static int fa_open(struct fa_daemon *d)
{
	const struct fa_config *cfg = &d->fa.cfg;
	struct in_addr any = {.s_addr = INADDR_ANY};

	d->access_ifindex = netio_ifindex(cfg->access_interface);
	int mtu = netio_if_mtu(cfg->access_interface);
	if (d->access_ifindex < 0 || mtu <= 0)
		return -1;
	d->access_mtu = (size_t)mtu;
	d->pkt_fd = netio_pkt_open(d->access_ifindex);
	/*
	 * Home agents answer to our care-of address, on a socket of its own.
	 * Registrations from the access link reach us through the capture,
	 * with their MAC; the kernel delivers them to a socket on 434 too, so
	 * one bound to every other address takes them and is never read (it
	 * drops what does not fit): a flood of requests on the access link
	 * then cannot crowd the home agents' replies out of their queue, and
	 * nodes still get no port unreachable.
	 */
	d->udp_fd = netio_udp_open(cfg->coa, MIP_PORT);
	d->mip_sink_fd = netio_udp_open(any, MIP_PORT);
	d->tun_fd = tun_io_open(&d->tun, cfg->tunnel_device);
	d->ipip_fd = netio_raw_recv_open(IP4_PROTO_IPIP);
	d->raw_fd = netio_raw_send_open();
	d->nl_fd = netio_nl_open(0);
	d->cap = netio_cap_open(cfg->access_interface, FA_CAPTURE_FILTER);
	if (d->pkt_fd < 0 || d->udp_fd < 0 || d->mip_sink_fd < 0 || d->tun_fd < 0 ||
	    d->ipip_fd < 0 || d->raw_fd < 0 || d->nl_fd < 0 || d->cap == NULL ||
	    fa_routing_setup(d) < 0)
		return -1;
	d->link_q = netio_txq_new(d->pkt_fd, NETIO_TXQ_PACKET, d->access_ifindex);
	d->tunnel_q = netio_txq_new(d->raw_fd, NETIO_TXQ_RAW, 0);
	if (d->link_q == NULL || d->tunnel_q == NULL)
		return -1;
	if (ev_io_add(d->loop, netio_cap_fd(d->cap), EPOLLIN, fa_on_cap, d) < 0 ||
	    ev_io_add(d->loop, d->udp_fd, EPOLLIN, fa_on_udp, d) < 0 ||
	    ev_io_add(d->loop, d->tun_fd, EPOLLIN, fa_on_tun, d) < 0 ||
	    ev_io_add(d->loop, d->ipip_fd, EPOLLIN, fa_on_ipip, d) < 0 || fa_ipsec_open(d) < 0)
		return -1;
	d->ctl = ctl_server_open(d->loop, cfg->control_socket, fa_on_ctl, d);
	return d->ctl == NULL ? -1 : 0;
}

static void fa_close(struct fa_daemon *d)
{
	if (d->rule_added)
		netio_rule_iif(d->nl_fd, false, d->fa.cfg.access_interface, d->fa.cfg.route_table,
			       FA_RULE_PRIO);
	/* The store client first: it drops its pending answers, which point into sec. */
	store_client_free(d->store);
	d->store = NULL;
	fa_sec_free(&d->sec);
	ctl_server_close(d->ctl);
	netio_cap_close(d->cap);
	netio_txq_free(d->link_q);
	netio_txq_free(d->tunnel_q);
	d->link_q = d->tunnel_q = NULL;
	int fds[] = {d->pkt_fd, d->udp_fd, d->mip_sink_fd, d->tun_fd, d->ipip_fd, d->raw_fd,
		     d->nl_fd,  d->ike_fd, d->natt_fd,     d->esp_fd, d->sax_fd};
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

static uint64_t fa_clock_us(void *arg)
{
	struct fa_daemon *d = arg;

	return ev_loop_now_us(d->loop);
}

int main(int argc, char **argv)
{
	struct daemon_args args;
	struct fa_daemon d = {.pkt_fd = -1,
			      .udp_fd = -1,
			      .mip_sink_fd = -1,
			      .tun_fd = -1,
			      .ipip_fd = -1,
			      .raw_fd = -1,
			      .nl_fd = -1,
			      .ike_fd = -1,
			      .natt_fd = -1,
			      .esp_fd = -1,
			      .sax_fd = -1};
	struct fa_ops ops = {.to_link = fa_out_link,
			     .to_ha = fa_out_ha,
			     .to_tunnel = fa_out_tunnel,
			     .to_forward = fa_out_forward,
			     .path_mtu = fa_path_mtu,
			     .now_us = fa_clock_us,
			     .arg = &d};
	struct fa_conf_set set;
	char err[512];
	int status = 1;

	daemon_parse_args(argc, argv, "mipsa-fa", &args);
	log_init("mipsa-fa", LOG_LVL_INFO, false);
	if (fa_conf_set_load(args.config, &set, err, sizeof(err)) < 0) {
		fprintf(stderr, "mipsa-fa: %s\n", err);
		return 1;
	}
	if (args.check_only) {
		printf("mipsa-fa: %s: configuration ok\n", args.config);
		fa_conf_set_free(&set);
		return 0;
	}
	/* From here on the daemon owns what the file gave (fa.cfg's arrays through fa_init). */
	d.config = args.config;
	d.debug = args.debug;
	d.reload = (struct reload_hook){fa_reload, &d};
	d.sb = set.sb;
	d.ic = set.ic;
	d.dom = set.dom;
	log_set_level(args.debug ? LOG_LVL_DEBUG : (enum log_level)set.cfg.log_level);
	d.loop = ev_loop_new();
	if (fa_init(&d.fa, &set.cfg, &ops) < 0 || sandbox_lookup(&d.sb) < 0 || d.loop == NULL ||
	    daemon_signals(d.loop, &d.reload) < 0 || fa_open(&d) < 0 ||
	    sandbox_enter(&d.sb, SANDBOX_FA) < 0)
		goto out;
	ev_timer_init(&d.adv, fa_on_adv, &d);
	ev_timer_init(&d.sweep, fa_on_sweep, &d);
	ev_timer_start(d.loop, &d.adv, 0);
	ev_timer_start(d.loop, &d.sweep, FA_SWEEP_MS);
	log_notice("foreign agent: care-of address %s, alias %s on %s", IP4_STR(d.fa.cfg.coa),
		   IP4_STR(d.fa.cfg.alias), d.fa.cfg.access_interface);
	daemon_ready();
	status = ev_loop_run(d.loop) < 0 ? 1 : 0;
	daemon_stopping();
out:
	fa_close(&d);
	fa_free(&d.fa);
	fa_config_free(&d.fa.cfg);
	ipsec_conf_free(&d.ic);
	fa_domain_free(&d.dom);
	ev_loop_free(d.loop);
	return status;
}
