/*
 * mipsa-mn: the mobile node daemon.  The home address lives on a TUN
 * device that carries the default route, so everything the node's stack
 * sends comes to us; we send it to the current agent's MAC on the
 * physical interface.  Packets for the home address arrive on the
 * physical interface and the kernel delivers them itself.
 *   pcap on the interface    agent advertisements, with the agent's MAC
 *   packet socket on it      solicitations, requests and data, by MAC
 *   UDP home_address:434     registration replies
 *   rtnetlink link group     carrier changes (movement detection)
 */
#include "conf.h"
#include "ctl.h"
#include "daemon.h"
#include "evloop.h"
#include "ip4.h"
#include "isakmp.h"
#include "log.h"
#include "mn.h"
#include "mn_daemon.h"
#include "netio.h"
#include "netio_batch.h"
#include "sandbox.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/rtnetlink.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define MN_ADV_FILTER "icmp and icmp[icmptype] == 9"

static void mn_out_link(void *arg, const uint8_t mac[6], const uint8_t *pkt, size_t len)
{
	struct mn_daemon *d = arg;

	/* No queue (before mn_open made it, after mn_close freed it): one send. */
	if (d->link_q != NULL)
		netio_txq_frame(d->link_q, mac, pkt, len);
	else
		netio_pkt_send(d->pkt_fd, d->ifindex, mac, pkt, len);
}

static void mn_out_stack(void *arg, const uint8_t *pkt, size_t len)
{
	struct mn_daemon *d = arg;

	tun_io_write(&d->tun, pkt, len);
}

static void mn_out_arp(void *arg, struct in_addr target)
{
	struct mn_daemon *d = arg;

	netio_arp_request(d->arp_fd, d->ifindex, d->mac, d->cfg.home_addr, target);
}

static void mn_out_stopped(void *arg)
{
	struct mn_daemon *d = arg;

	ev_loop_stop(d->loop);
}

static void mn_on_frame(void *arg, const uint8_t mac[6], const uint8_t *pkt, size_t len)
{
	struct mn_daemon *d = arg;

	mn_from_link(&d->mn, mac, pkt, len);
}

static void mn_on_cap(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct mn_daemon *d = arg;

	netio_cap_dispatch(d->cap, mn_on_frame, d);
}

static void mn_on_udp(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct mn_daemon *d = arg;
	uint8_t msg[NETIO_FRAME_MAX];
	struct netio_udp_meta meta;
	ssize_t n;

	while ((n = netio_udp_recv(fd, msg, sizeof(msg), &meta)) >= 0) {
		d->rcvbuf.mip = meta.dropped;
		mn_from_reply(&d->mn, msg, (size_t)n);
	}
}

/* A packet the stack sent (a segment of a super-packet, or one it sent alone). */
static void mn_tun_one(void *arg, const uint8_t *pkt, size_t len)
{
	struct mn_daemon *d = arg;

	if (d->gateway.s_addr != 0)
		mn_sec_gateway_out(&d->sec, pkt, len);
	else
		mn_from_stack(&d->mn, pkt, len);
}

static void mn_on_tun(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct mn_daemon *d = arg;

	/* What the stack sent leaves in batches: one sendmmsg for up to NETIO_BATCH frames. */
	netio_txq_hold(d->link_q);
	tun_io_drain(&d->tun, mn_tun_one, d);
	netio_txq_release(d->link_q);
}

static void mn_link_report(struct mn_daemon *d, bool up)
{
	if (d->gateway.s_addr != 0)
		mn_sec_gateway_link(&d->sec, up);
	else
		mn_link_event(&d->mn, up);
}

static void mn_on_link(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct mn_daemon *d = arg;
	struct netio_link_ev ev;

	if (netio_nl_link_events(fd, d->ifindex, &ev) < 0 || !ev.seen)
		return;
	/* Carrier lost and back before we looked: a move all the same. */
	if (ev.was_down && ev.up)
		mn_link_report(d, false);
	mn_link_report(d, ev.up);
}

static void mn_on_signal(struct ev_loop *loop, int signo, void *arg)
{
	struct mn_daemon *d = arg;

	if (d->stopping) {
		ev_loop_stop(loop);
		return;
	}
	d->stopping = true;
	log_notice("signal %d: deregistering", signo);
	mn_shutdown(&d->mn);
}

/* Into "counters": what the kernel dropped at each socket, and the capture, for a full buffer. */
static void mn_ctl_rcvbuf(void *arg, struct ctl_out *o)
{
	struct mn_daemon *d = arg;

	ctl_obj_begin(o, "rcvbuf_drops");
#define MN_RCVBUF_CTL(n) ctl_u64(o, #n, d->rcvbuf.n);
	MN_RCVBUF_DROPS(MN_RCVBUF_CTL)
#undef MN_RCVBUF_CTL
	ctl_u64(o, "capture", d->cap != NULL ? netio_cap_drops(d->cap) : 0);
	ctl_obj_end(o);
	tun_io_ctl(&d->tun, o);
	daemon_ctl_memory(o);
}

static int mn_on_ctl(void *arg, int argc, char **argv, struct ctl_out *o, char *err, size_t errlen)
{
	struct mn_daemon *d = arg;

	o->daemon_counters = mn_ctl_rcvbuf;
	o->daemon_arg = d;
	/* keys: the text answer is the bare table file, for Wireshark */
	if (argc > 0 && strcmp(argv[0], "keys") == 0)
		return mn_sec_ctl_keys(&d->sec, argc, argv, o, err, errlen);
	if (argc > 0 && strcmp(argv[0], "reload") == 0)
		return reload_ctl("mipsa-mn", mn_reload, d, argc, argv, o, err, errlen);
	return mn_ctl(&d->mn, &d->sec, argc, argv, o, err, errlen);
}

static int mn_stack_setup(struct mn_daemon *d, const struct mn_config *cfg)
{
	struct in_addr any = {0};
	char path[128];
	int tun_ifindex, link_mtu = netio_if_mtu(cfg->interface);

	/*
	 * Our stack must never send what cannot reach the other end once
	 * sealed or tunnelled: nothing on our paths answers "fragmentation
	 * needed" for it, and full-size TCP segments would stall.
	 */
	if (link_mtu <= 0)
		return -1;
	d->link_mtu = (size_t)link_mtu;
	d->tunnel_mtu =
		mn_sec_tunnel_mtu(&d->ic, cfg->reverse_tunnel, d->gateway.s_addr != 0, d->link_mtu);
	if (netio_if_set_mtu(cfg->tunnel_device, (int)d->tunnel_mtu) < 0)
		return -1;
	log_notice("%s MTU %zu (%s %zu; room for ESP in UDP: %s, for a reverse tunnel: %s)",
		   cfg->tunnel_device, d->tunnel_mtu, cfg->interface, d->link_mtu,
		   d->ic.enabled ? "yes" : "no",
		   cfg->reverse_tunnel && d->gateway.s_addr == 0 ? "yes" : "no");
	if (netio_if_addr_up(cfg->tunnel_device, cfg->home_addr, 32) < 0)
		return -1;
	tun_ifindex = netio_ifindex(cfg->tunnel_device);
	if (tun_ifindex < 0 ||
	    netio_route(d->nl_fd, true, any, 0, tun_ifindex, NETIO_TABLE_MAIN) < 0)
		return -1;
	/* Packets to the home address arrive on the physical interface, not on the TUN. */
	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/rp_filter", cfg->interface);
	netio_set_sysctl(path, "0");
	return 0;
}

/* ---- IPsec sockets: IKE and ESP come back to the home address ---- */

static void mn_natt_one(void *arg, uint8_t *msg, size_t n, const struct netio_udp_meta *meta)
{
	struct mn_daemon *d = arg;

	if (n >= ISAKMP_NON_ESP_MARKER_LEN &&
	    memcmp(msg, "\0\0\0\0", ISAKMP_NON_ESP_MARKER_LEN) == 0)
		mn_sec_ike_in(&d->sec, meta->dst, ISAKMP_NATT_PORT, meta->from.sin_addr,
			      ntohs(meta->from.sin_port), msg + ISAKMP_NON_ESP_MARKER_LEN,
			      n - ISAKMP_NON_ESP_MARKER_LEN);
	else if (n >= ESP_HDR_LEN)
		mn_sec_esp_in(&d->sec, msg, n);
}

static void mn_on_natt(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct mn_daemon *d = arg;

	/* Opened TCP segments go into the TUN joined (tun_io.h). */
	tun_io_hold(&d->tun);
	netio_udp_drain(fd, mn_natt_one, d, &d->rcvbuf.natt);
	tun_io_release(&d->tun);
}

static void mn_on_ike(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct mn_daemon *d = arg;
	uint8_t msg[ISAKMP_DATAGRAM_MAX];
	struct netio_udp_meta meta;
	ssize_t n;

	while ((n = netio_udp_recv(fd, msg, sizeof(msg), &meta)) >= 0) {
		d->rcvbuf.ike = meta.dropped;
		mn_sec_ike_in(&d->sec, meta.dst, ISAKMP_PORT, meta.from.sin_addr,
			      ntohs(meta.from.sin_port), msg, (size_t)n);
	}
}

static void mn_esp_one(void *arg, const uint8_t *esp, size_t len)
{
	mn_sec_esp_in(arg, esp, len);
}

static void mn_on_esp(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct mn_daemon *d = arg;

	/* Opened TCP segments go into the TUN joined (tun_io.h). */
	tun_io_hold(&d->tun);
	netio_esp_drain(fd, d->cfg.home_addr, mn_esp_one, &d->sec, &d->rcvbuf.esp);
	tun_io_release(&d->tun);
}

static void mn_on_arp(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct mn_daemon *d = arg;
	uint8_t mac[6];

	if (netio_arp_reply(fd, d->gateway, mac, &d->rcvbuf.arp) == 1)
		mn_sec_gateway_mac(&d->sec, mac);
}

static int mn_ipsec_open(struct mn_daemon *d)
{
	if (!d->ic.enabled)
		return 0;
	d->ike_fd = netio_udp_open(d->cfg.home_addr, ISAKMP_PORT);
	d->natt_fd = netio_udp_open(d->cfg.home_addr, ISAKMP_NATT_PORT);
	/* ESP in UDP may come as GSO frames (udp_gso.h): read whole, cut by netio_udp_drain. */
	if (d->natt_fd >= 0)
		netio_udp_gro(d->natt_fd);
	d->esp_fd = netio_raw_recv_open(IP4_PROTO_ESP);
	if (d->ike_fd < 0 || d->natt_fd < 0 || d->esp_fd < 0 ||
	    ev_io_add(d->loop, d->ike_fd, EPOLLIN, mn_on_ike, d) < 0 ||
	    ev_io_add(d->loop, d->natt_fd, EPOLLIN, mn_on_natt, d) < 0 ||
	    ev_io_add(d->loop, d->esp_fd, EPOLLIN, mn_on_esp, d) < 0)
		return -1;
	if (d->gateway.s_addr == 0)
		return 0;
	d->arp_fd = netio_arp_open(d->ifindex);
	return d->arp_fd < 0 || netio_ifmac(d->cfg.interface, d->mac) < 0 ||
			       ev_io_add(d->loop, d->arp_fd, EPOLLIN, mn_on_arp, d) < 0
		       ? -1
		       : 0;
}

static int mn_open(struct mn_daemon *d, const struct mn_config *cfg)
{
	d->ifindex = netio_ifindex(cfg->interface);
	if (d->ifindex < 0)
		return -1;
	d->tun_fd = tun_io_open(&d->tun, cfg->tunnel_device);
	d->nl_fd = netio_nl_open(0);
	d->nl_link_fd = netio_nl_open(RTMGRP_LINK);
	if (d->tun_fd < 0 || d->nl_fd < 0 || d->nl_link_fd < 0 || mn_stack_setup(d, cfg) < 0)
		return -1;
	d->pkt_fd = netio_pkt_open(d->ifindex);
	d->udp_fd = netio_udp_open(cfg->home_addr, MIP_PORT);
	d->cap = netio_cap_open(cfg->interface, MN_ADV_FILTER);
	if (d->pkt_fd < 0 || d->udp_fd < 0 || d->cap == NULL)
		return -1;
	d->link_q = netio_txq_new(d->pkt_fd, NETIO_TXQ_PACKET, d->ifindex);
	if (d->link_q == NULL)
		return -1;
	if (ev_io_add(d->loop, netio_cap_fd(d->cap), EPOLLIN, mn_on_cap, d) < 0 ||
	    ev_io_add(d->loop, d->udp_fd, EPOLLIN, mn_on_udp, d) < 0 ||
	    ev_io_add(d->loop, d->tun_fd, EPOLLIN, mn_on_tun, d) < 0 ||
	    ev_io_add(d->loop, d->nl_link_fd, EPOLLIN, mn_on_link, d) < 0 ||
	    ev_signal_add(d->loop, SIGINT, mn_on_signal, d) < 0 ||
	    ev_signal_add(d->loop, SIGTERM, mn_on_signal, d) < 0 ||
	    daemon_reload_signal(d->loop, &d->reload) < 0 || mn_ipsec_open(d) < 0)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	d->ctl = ctl_server_open(d->loop, cfg->control_socket, mn_on_ctl, d);
	return d->ctl == NULL ? -1 : 0;
}

static void mn_close(struct mn_daemon *d)
{
	ctl_server_close(d->ctl);
	netio_cap_close(d->cap);
	netio_txq_free(d->link_q);
	d->link_q = NULL;
	int fds[] = {d->pkt_fd, d->udp_fd,  d->tun_fd, d->nl_fd, d->nl_link_fd,
		     d->ike_fd, d->natt_fd, d->esp_fd, d->arp_fd};
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

int main(int argc, char **argv)
{
	struct daemon_args args;
	struct mn_daemon d = {.pkt_fd = -1,
			      .udp_fd = -1,
			      .tun_fd = -1,
			      .nl_fd = -1,
			      .nl_link_fd = -1,
			      .ike_fd = -1,
			      .natt_fd = -1,
			      .esp_fd = -1,
			      .arp_fd = -1};
	struct mn_ops ops = {.to_link = mn_out_link, .stopped = mn_out_stopped, .arg = &d};
	struct mn_conf_set set;
	char err[512];
	int status = 1;

	daemon_parse_args(argc, argv, "mipsa-mn", &args);
	log_init("mipsa-mn", LOG_LVL_INFO, false);
	if (mn_conf_set_load(args.config, &set, err, sizeof(err)) < 0) {
		fprintf(stderr, "mipsa-mn: %s\n", err);
		return 1;
	}
	if (args.check_only) {
		printf("mipsa-mn: %s: configuration ok\n", args.config);
		mn_conf_set_free(&set);
		return 0;
	}
	d.config = args.config;
	d.debug = args.debug;
	d.reload = (struct reload_hook){mn_reload, &d};
	d.sb = set.sb;
	d.ic = set.ic;
	d.gateway = set.gateway;
	d.sa_reuse = set.sa_reuse;
	struct mn_config cfg = set.cfg;
	d.cfg = cfg;
	log_set_level(args.debug ? LOG_LVL_DEBUG : (enum log_level)cfg.log_level);
	d.loop = ev_loop_new();
	if (sandbox_lookup(&d.sb) < 0 || d.loop == NULL || mn_open(&d, &cfg) < 0)
		goto out;
	int running = netio_link_running(cfg.interface);
	struct mn_sec_ops sops = {.to_link = mn_out_link,
				  .to_stack = mn_out_stack,
				  .arp_request = mn_out_arp,
				  .arg = &d};
	/* Gateway mode is a plain IPsec client: the Mobile IP machine stays idle. */
	mn_init(&d.mn, d.loop, &cfg, &ops, false);
	/* The keys live in mn.cfg from here on (a reload replaces them there): no copy left behind.
	 */
	mn_config_free(&d.cfg);
	mn_config_free(&cfg);
	if (mn_sec_init(&d.sec, &d.mn, d.loop, &d.ic, cfg.home_addr, d.gateway, d.sa_reuse,
			d.link_mtu, &sops) < 0)
		goto out_mn;
	d.sec.tunnel_mtu = d.tunnel_mtu;
	/* Before the first frame is read: nothing from the network is parsed as root. */
	if (sandbox_enter(&d.sb, SANDBOX_MN) < 0)
		goto out_mn;
	if (running == 1 && d.gateway.s_addr == 0)
		mn_link_event(&d.mn, true);
	if (d.gateway.s_addr != 0) {
		log_notice("IPsec client %s, gateway %s, on %s", IP4_STR(cfg.home_addr),
			   IP4_STR(d.gateway), cfg.interface);
		mn_sec_gateway_link(&d.sec, running == 1);
	} else {
		log_notice("mobile node %s, home agent %s, on %s", IP4_STR(cfg.home_addr),
			   IP4_STR(cfg.home_agent), cfg.interface);
	}
	daemon_ready();
	status = ev_loop_run(d.loop) < 0 ? 1 : 0;
	daemon_stopping();
out_mn:
	mn_sec_free(&d.sec);
	mn_free(&d.mn);
out:
	mn_close(&d);
	mn_config_free(&cfg);
	mn_config_free(&d.mn.cfg);
	ipsec_conf_free(&d.ic);
	ev_loop_free(d.loop);
	return status;
}
