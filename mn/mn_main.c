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
#include "log.h"
#include "mn.h"
#include "mn_daemon.h"
#include "netio.h"

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

	mn_ipsec_to_link(d, mac, pkt, len);
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

static void mn_on_tun(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct mn_daemon *d = arg;
	uint8_t pkt[IP4_MAX_PACKET];
	ssize_t n;

	while ((n = read(fd, pkt, sizeof(pkt))) > 0) {
		if (d->gateway.s_addr != 0)
			mn_ipsec_gateway_out(d, pkt, (size_t)n);
		else
			mn_from_stack(&d->mn, pkt, (size_t)n);
	}
}

static void mn_on_link(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct mn_daemon *d = arg;
	int up = netio_nl_link_event(fd, d->ifindex);

	if (up >= 0 && d->gateway.s_addr != 0)
		mn_ipsec_gateway_link(d, up == 1);
	else if (up >= 0)
		mn_link_event(&d->mn, up == 1);
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
}

static int mn_on_ctl(void *arg, int argc, char **argv, struct ctl_out *o, char *err, size_t errlen)
{
	struct mn_daemon *d = arg;

	o->daemon_counters = mn_ctl_rcvbuf;
	o->daemon_arg = d;
	if (strcmp(argv[0], "sas") == 0 || strcmp(argv[0], "keys") == 0)
		return mn_ipsec_ctl(d, argc, argv, o, err, errlen);
	if (strcmp(argv[0], "mtu") == 0) {
		mn_ipsec_ctl_mtu(d, o);
		return 0;
	}
	return mn_ctl(&d->mn, argc, argv, o, err, errlen);
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
	d->tunnel_mtu = mn_ipsec_tunnel_mtu(d, d->link_mtu);
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

static int mn_open(struct mn_daemon *d, const struct mn_config *cfg)
{
	d->ifindex = netio_ifindex(cfg->interface);
	if (d->ifindex < 0)
		return -1;
	d->tun_fd = netio_tun_open(cfg->tunnel_device);
	d->nl_fd = netio_nl_open(0);
	d->nl_link_fd = netio_nl_open(RTMGRP_LINK);
	if (d->tun_fd < 0 || d->nl_fd < 0 || d->nl_link_fd < 0 || mn_stack_setup(d, cfg) < 0)
		return -1;
	d->pkt_fd = netio_pkt_open(d->ifindex);
	d->udp_fd = netio_udp_open(cfg->home_addr, MIP_PORT);
	d->cap = netio_cap_open(cfg->interface, MN_ADV_FILTER);
	if (d->pkt_fd < 0 || d->udp_fd < 0 || d->cap == NULL)
		return -1;
	if (ev_io_add(d->loop, netio_cap_fd(d->cap), EPOLLIN, mn_on_cap, d) < 0 ||
	    ev_io_add(d->loop, d->udp_fd, EPOLLIN, mn_on_udp, d) < 0 ||
	    ev_io_add(d->loop, d->tun_fd, EPOLLIN, mn_on_tun, d) < 0 ||
	    ev_io_add(d->loop, d->nl_link_fd, EPOLLIN, mn_on_link, d) < 0 ||
	    ev_signal_add(d->loop, SIGINT, mn_on_signal, d) < 0 ||
	    ev_signal_add(d->loop, SIGTERM, mn_on_signal, d) < 0 || mn_ipsec_open(d) < 0)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	d->ctl = ctl_server_open(d->loop, cfg->control_socket, mn_on_ctl, d);
	return d->ctl == NULL ? -1 : 0;
}

static void mn_close(struct mn_daemon *d)
{
	mn_ipsec_close(d);
	ctl_server_close(d->ctl);
	netio_cap_close(d->cap);
	int fds[] = {d->pkt_fd, d->udp_fd, d->tun_fd, d->nl_fd, d->nl_link_fd};
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* The mn group: what mn_config_load reads, what main reads below, the ipsec group. */
static const struct conf_names mn_group_names[] = {
	{"gateway", NULL}, {"sa_reuse", NULL}, {"ipsec", ipsec_conf_names}, {NULL, mn_conf_names}};
static const struct conf_names mn_root_names[] = {{"mn", mn_group_names}, {NULL, NULL}};

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
	struct mn_config cfg;
	struct conf c;
	int status = 1;

	daemon_parse_args(argc, argv, "mipsa-mn", &args);
	log_init("mipsa-mn", LOG_LVL_INFO, false);
	/* Our SAs cover the home address (local) and anything on the other side. */
	struct in_addr any = {0};
	if (conf_load(&c, args.config) < 0 || conf_check(&c, mn_root_names) < 0 ||
	    mn_config_load(&c, &cfg) < 0 ||
	    conf_addr(&c, conf_group(&c, NULL, "mn", true), "gateway", false, &d.gateway) < 0 ||
	    conf_bool(&c, conf_group(&c, NULL, "mn", true), "sa_reuse", false, &d.sa_reuse) < 0 ||
	    ipsec_conf_load(&c, conf_group(&c, NULL, "mn", true), &d.ic, cfg.home_addr, 32, any,
			    0) < 0) {
		fprintf(stderr, "mipsa-mn: %s\n", conf_error(&c));
		conf_free(&c);
		return 1;
	}
	conf_free(&c);
	if (args.check_only) {
		printf("mipsa-mn: %s: configuration ok\n", args.config);
		mn_config_free(&cfg);
		ipsec_conf_free(&d.ic);
		return 0;
	}
	d.cfg = cfg;
	if (d.ic.enabled && d.gateway.s_addr == 0) {
		ops.secure = mn_ipsec_secure;
		ops.extend = mn_ipsec_extend;
		ops.accepted = mn_ipsec_accepted;
	}
	log_set_level(args.debug ? LOG_LVL_DEBUG : (enum log_level)cfg.log_level);
	d.loop = ev_loop_new();
	if (d.loop == NULL || mn_open(&d, &cfg) < 0)
		goto out;
	int running = netio_link_running(cfg.interface);
	/* Gateway mode is a plain IPsec client: the Mobile IP machine stays idle. */
	mn_init(&d.mn, d.loop, &cfg, &ops, running == 1 && d.gateway.s_addr == 0);
	if (d.gateway.s_addr != 0) {
		log_notice("IPsec client %s, gateway %s, on %s", IP4_STR(cfg.home_addr),
			   IP4_STR(d.gateway), cfg.interface);
		mn_ipsec_gateway_link(&d, running == 1);
	} else {
		log_notice("mobile node %s, home agent %s, on %s", IP4_STR(cfg.home_addr),
			   IP4_STR(cfg.home_agent), cfg.interface);
	}
	status = ev_loop_run(d.loop) < 0 ? 1 : 0;
	mn_free(&d.mn);
out:
	mn_close(&d);
	mn_config_free(&cfg);
	ipsec_conf_free(&d.ic);
	ev_loop_free(d.loop);
	return status;
}
