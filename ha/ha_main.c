/*
 * mipsa-ha: the home agent daemon.  Opens the sockets and the TUN device,
 * and wires them to the logic in ha_reg.c:
 *   UDP 434            registration requests in, replies out
 *   TUN (tunnel_device) packets for registered home addresses, routed there
 *                       by a /32 route per binding
 *   raw IPPROTO_IPIP    reverse-tunnelled packets from care-of addresses
 *   raw IPPROTO_RAW     IP-in-IP packets out to care-of addresses
 */
#include "conf.h"
#include "ctl.h"
#include "daemon.h"
#include "evloop.h"
#include "ha.h"
#include "ha_state.h"
#include "ip4.h"
#include "log.h"
#include "mip_ident.h"
#include "netio.h"
#include "netio_batch.h"
#include "reload.h"
#include "sandbox.h"
#include "tun_io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define HA_SWEEP_MS 1000

/* Datagrams the kernel dropped for a full receive buffer: registrations, the reverse tunnel. */
#define HA_RCVBUF_DROPS(X) X(mip) X(tunnel)

/* Replies held for one write of the state file (ha_on_udp). */
#define HA_REPLY_BATCH 64
struct ha_reply_batch {
	uint8_t buf[HA_REPLY_BATCH][NETIO_FRAME_MAX];
	size_t len[HA_REPLY_BATCH];
	struct netio_udp_meta meta[HA_REPLY_BATCH];
	size_t n;
};

struct ha_daemon {
	const char *config; /* the file, read again at reload */
	bool debug;         /* -d: the file's log_level is not applied */
	struct reload_hook reload;
	struct sandbox_config sb;
	struct ha ha;
	struct ev_loop *loop;
	struct ev_timer sweep;
	struct ctl_server *ctl;
	int udp_fd, tun_fd, ipip_fd, raw_fd, nl_fd, tun_ifindex;
	struct netio_txq *tunnel_q; /* IP-in-IP out on raw_fd, batched while the TUN drains */
	struct tun_io tun;          /* tun_fd: TSO in, segments joined on the way out */
	struct ha_state_file state; /* dirfd -1: no state_file */
	struct ha_reply_batch replies;
	struct {
#define HA_RCVBUF_FIELD(n) uint64_t n;
		HA_RCVBUF_DROPS(HA_RCVBUF_FIELD)
#undef HA_RCVBUF_FIELD
	} rcvbuf;
};

static void ha_route_up(void *arg, const struct ha_mn *mn)
{
	struct ha_daemon *d = arg;

	netio_route(d->nl_fd, true, mn->home_addr, 32, d->tun_ifindex, NETIO_TABLE_MAIN);
}

static void ha_route_down(void *arg, const struct ha_mn *mn)
{
	struct ha_daemon *d = arg;

	netio_route(d->nl_fd, false, mn->home_addr, 32, d->tun_ifindex, NETIO_TABLE_MAIN);
}

static size_t ha_path_mtu(void *arg, struct in_addr dst)
{
	int mtu = netio_path_mtu(dst);

	return mtu > 0 ? (size_t)mtu : 0;
}

static void ha_send(void *arg, const uint8_t *pkt, size_t len)
{
	struct ha_daemon *d = arg;

	/* No queue (before ha_open made it, after ha_close freed it): one send. */
	if (d->tunnel_q != NULL)
		netio_txq_ip(d->tunnel_q, pkt, len);
	else
		netio_raw_send(d->raw_fd, pkt, len);
}

/*
 * The state file follows every change before the reply that announces it
 * leaves: a binding we acknowledged survives our restart (ha_on_udp holds
 * the replies of a run of requests for one write).  A failed write
 * is counted and retried at the next change or sweep.
 */
static void ha_state_sync(struct ha_daemon *d)
{
	struct ev_loop *loop = d->loop;

	if (!d->ha.state_dirty || d->state.dirfd < 0)
		return;
	if (ha_state_save(&d->ha, &d->state, ev_loop_now_ms(loop), ev_loop_wall_ms(loop)) < 0) {
		d->ha.ctr.state_save_failures++;
		log_rl_warn("state: cannot write %s: %s", d->state.path, strerror(errno));
		return;
	}
	d->ha.ctr.state_saves++;
	d->ha.state_dirty = false;
}

/*
 * Group commit: the replies to a run of requests wait until the state file
 * holds all their bindings, then leave together.  The file is written whole
 * (ha_state.c), so writing it once per run rather than once per request is
 * what keeps a home agent with thousands of nodes from spending its time
 * rewriting it under load; an idle one still writes it per request.
 */
static void ha_on_udp(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct ha_daemon *d = arg;
	struct ha_reply_batch *b = &d->replies;
	uint8_t msg[NETIO_FRAME_MAX];
	struct netio_udp_meta meta;
	ssize_t n = 0;

	while (n >= 0) {
		b->n = 0;
		while (b->n < HA_REPLY_BATCH &&
		       (n = netio_udp_recv(fd, msg, sizeof(msg), &meta)) >= 0) {
			d->rcvbuf.mip = meta.dropped;
			b->len[b->n] = ha_process_request(&d->ha, msg, (size_t)n,
							  meta.from.sin_addr, ev_loop_now_ms(loop),
							  mip_ident_at(ev_loop_wall_us(loop)),
							  b->buf[b->n], sizeof(b->buf[b->n]));
			if (b->len[b->n] > 0)
				b->meta[b->n++] = meta;
		}
		ha_state_sync(d);
		/* Answer from the address the request was sent to: the FA matches on it. */
		for (size_t i = 0; i < b->n; i++)
			netio_udp_send(fd, b->meta[i].dst, b->meta[i].from.sin_addr,
				       ntohs(b->meta[i].from.sin_port), b->buf[i], b->len[i]);
		if (b->n < HA_REPLY_BATCH)
			break;
	}
}

/* A captured packet for a home address (a segment, if it came as a super-packet). */
static void ha_tun_one(void *arg, const uint8_t *pkt, size_t len)
{
	static uint8_t out[IP4_MAX_PACKET];
	struct ha_daemon *d = arg;
	size_t olen = ha_tunnel_out(&d->ha, pkt, len, out, sizeof(out));

	if (olen > 0)
		netio_txq_ip(d->tunnel_q, out, olen);
}

/* Captured packets for home addresses: into the tunnel. */
static void ha_on_tun(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct ha_daemon *d = arg;

	/* Into the tunnel in batches: one sendmmsg for up to NETIO_BATCH packets. */
	netio_txq_hold(d->tunnel_q);
	tun_io_drain(&d->tun, ha_tun_one, d);
	netio_txq_release(d->tunnel_q);
}

/* Reverse-tunnelled packets: decapsulate and hand the inner packet to the kernel. */
static void ha_tunnel_one(void *arg, uint8_t *pkt, size_t len)
{
	struct ha_daemon *d = arg;
	const uint8_t *inner;
	size_t ilen;

	if (ha_tunnel_in(&d->ha, pkt, len, &inner, &ilen) == 0)
		tun_io_write(&d->tun, inner, ilen);
}

static void ha_on_ipip(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct ha_daemon *d = arg;

	/* Decapsulated TCP segments go into the TUN joined (tun_io.h). */
	tun_io_hold(&d->tun);
	netio_rx_drain(fd, ha_tunnel_one, d, &d->rcvbuf.tunnel);
	tun_io_release(&d->tun);
}

static void ha_on_sweep(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct ha_daemon *d = arg;

	ha_expire(&d->ha, ev_loop_now_ms(loop));
	ha_state_sync(d);
	ev_timer_start(loop, t, HA_SWEEP_MS);
}

/* Into "counters": what the kernel dropped at each socket for a full receive buffer. */
static void ha_ctl_rcvbuf(void *arg, struct ctl_out *o)
{
	struct ha_daemon *d = arg;

	ctl_obj_begin(o, "rcvbuf_drops");
#define HA_RCVBUF_CTL(n) ctl_u64(o, #n, d->rcvbuf.n);
	HA_RCVBUF_DROPS(HA_RCVBUF_CTL)
#undef HA_RCVBUF_CTL
	ctl_obj_end(o);
	tun_io_ctl(&d->tun, o);
	daemon_ctl_memory(o);
}

/* ---- the configuration file, at start and at reload (common/reload.h) ---- */

static int ha_conf_read(const char *path, struct ha_config *cfg, struct sandbox_config *sb,
			char *err, size_t errlen)
{
	struct conf c;

	memset(cfg, 0, sizeof(*cfg));
	if (conf_load(&c, path) < 0 || conf_check(&c, ha_root_names) < 0 ||
	    sandbox_conf_load(&c, conf_group(&c, NULL, "ha", true), sb) < 0 ||
	    ha_config_load(&c, cfg) < 0) {
		snprintf(err, errlen, "%s", conf_error(&c));
		conf_free(&c);
		return -1;
	}
	conf_free(&c);
	return 0;
}

static void ha_reload_diff(const struct ha_daemon *d, const struct ha_config *b,
			   const struct sandbox_config *sb, struct reload_diff *rd)
{
	const struct ha_config *a = &d->ha.cfg;

	RELOAD_FIXED(rd, a, b, address, "address");
	if (RELOAD_DIFFERS(a, b, home_prefix) || RELOAD_DIFFERS(a, b, home_plen))
		reload_restart(rd, "home_prefix");
	RELOAD_FIXED(rd, a, b, tunnel_device, "tunnel_device");
	RELOAD_FIXED(rd, a, b, control_socket, "control_socket");
	RELOAD_FIXED(rd, a, b, state_file, "state_file");
	sandbox_conf_diff(&d->sb, sb, rd);
	RELOAD_LIVE(rd, a, b, max_lifetime, "max_lifetime");
	RELOAD_LIVE(rd, a, b, tolerance_s, "timestamp_tolerance");
	RELOAD_LIVE(rd, a, b, require_fa_auth, "require_fa_auth");
	RELOAD_LIVE(rd, a, b, reverse_tunnel, "reverse_tunnel");
	RELOAD_LIVE(rd, a, b, log_level, "log_level");
	if (ha_mns_differ(a, b))
		reload_changed(rd, "mobile_nodes");
	if (reload_arrays_differ(a->fas, a->n_fas, b->fas, b->n_fas, sizeof(*a->fas)))
		reload_changed(rd, "foreign_agents");
}

static int ha_reload(void *arg, bool dry, struct reload_diff *rd, char *err, size_t errlen)
{
	struct ha_daemon *d = arg;
	struct sandbox_config sb;
	struct ha_config fresh;
	int removed = 0;

	if (ha_conf_read(d->config, &fresh, &sb, err, errlen) < 0)
		return -1;
	ha_reload_diff(d, &fresh, &sb, rd);
	if (!dry && rd->restart[0] == '\0') {
		removed = ha_reconfigure(&d->ha, &fresh);
		if (removed < 0) {
			snprintf(err, errlen, "out of memory");
			ha_config_free(&fresh);
			return -1;
		}
		if (removed > 0)
			log_notice("reload: %d bindings of nodes no longer configured removed",
				   removed);
		if (!d->debug)
			log_set_level((enum log_level)d->ha.cfg.log_level);
		/* The bindings file follows: a removed node must not come back at a restart. */
		ha_state_sync(d);
	}
	/* The new file refused, or the configuration it replaced. */
	ha_config_free(&fresh);
	return 0;
}

static int ha_on_ctl(void *arg, int argc, char **argv, struct ctl_out *o, char *err, size_t errlen)
{
	struct ha_daemon *d = arg;

	o->daemon_counters = ha_ctl_rcvbuf;
	o->daemon_arg = d;
	if (argc > 0 && strcmp(argv[0], "reload") == 0)
		return reload_ctl("mipsa-ha", ha_reload, d, argc, argv, o, err, errlen);
	return ha_ctl(&d->ha, argc, argv, o, err, errlen, ev_loop_now_ms(d->loop));
}

static int ha_open(struct ha_daemon *d)
{
	struct in_addr any = {.s_addr = INADDR_ANY};

	d->udp_fd = netio_udp_open(any, MIP_PORT);
	d->tun_fd = tun_io_open(&d->tun, d->ha.cfg.tunnel_device);
	d->ipip_fd = netio_raw_recv_open(IP4_PROTO_IPIP);
	d->raw_fd = netio_raw_send_open();
	d->nl_fd = netio_nl_open(0);
	if (d->udp_fd < 0 || d->tun_fd < 0 || d->ipip_fd < 0 || d->raw_fd < 0 || d->nl_fd < 0)
		return -1;
	d->tunnel_q = netio_txq_new(d->raw_fd, NETIO_TXQ_RAW, 0);
	if (d->tunnel_q == NULL)
		return -1;
	if (netio_if_up(d->ha.cfg.tunnel_device) < 0)
		return -1;
	d->tun_ifindex = netio_ifindex(d->ha.cfg.tunnel_device);
	if (d->tun_ifindex < 0)
		return -1;
	/* Decapsulated packets enter through the TUN with home-address sources. */
	char path[128];
	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/rp_filter",
		 d->ha.cfg.tunnel_device);
	netio_set_sysctl(path, "0");
	if (ev_io_add(d->loop, d->udp_fd, EPOLLIN, ha_on_udp, d) < 0 ||
	    ev_io_add(d->loop, d->tun_fd, EPOLLIN, ha_on_tun, d) < 0 ||
	    ev_io_add(d->loop, d->ipip_fd, EPOLLIN, ha_on_ipip, d) < 0)
		return -1;
	d->ctl = ctl_server_open(d->loop, d->ha.cfg.control_socket, ha_on_ctl, d);
	return d->ctl == NULL ? -1 : 0;
}

static void ha_close(struct ha_daemon *d)
{
	/* Take our routes away with us: a stale /32 would black-hole the home address. */
	for (size_t i = 0; i < d->ha.cfg.n_mns; i++)
		if (d->ha.cfg.mns[i].b.active && d->nl_fd >= 0)
			ha_route_down(d, &d->ha.cfg.mns[i]);
	ctl_server_close(d->ctl);
	netio_txq_free(d->tunnel_q);
	d->tunnel_q = NULL;
	int fds[] = {d->udp_fd, d->tun_fd, d->ipip_fd, d->raw_fd, d->nl_fd};
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

int main(int argc, char **argv)
{
	struct daemon_args args;
	struct ha_daemon d = {.udp_fd = -1,
			      .tun_fd = -1,
			      .ipip_fd = -1,
			      .raw_fd = -1,
			      .nl_fd = -1,
			      .state.dirfd = -1};
	struct ha_config cfg;
	char err[512];
	struct ha_ops ops = {.binding_up = ha_route_up,
			     .binding_down = ha_route_down,
			     .path_mtu = ha_path_mtu,
			     .send = ha_send,
			     .arg = &d};
	int status = 1;

	daemon_parse_args(argc, argv, "mipsa-ha", &args);
	log_init("mipsa-ha", LOG_LVL_INFO, false);
	if (ha_conf_read(args.config, &cfg, &d.sb, err, sizeof(err)) < 0) {
		fprintf(stderr, "mipsa-ha: %s\n", err);
		return 1;
	}
	if (args.check_only) {
		printf("mipsa-ha: %s: configuration ok\n", args.config);
		ha_config_free(&cfg);
		return 0;
	}
	d.config = args.config;
	d.debug = args.debug;
	d.reload = (struct reload_hook){ha_reload, &d};
	log_set_level(args.debug ? LOG_LVL_DEBUG : (enum log_level)cfg.log_level);
	d.loop = ev_loop_new();
	/* The state file's directory is opened as root, the file read as the user. */
	/* ha_init first: from then on d.ha.cfg owns the file's arrays, whatever fails next. */
	if (ha_init(&d.ha, &cfg, &ops) < 0 || sandbox_lookup(&d.sb) < 0 || d.loop == NULL ||
	    daemon_signals(d.loop, &d.reload) < 0 || ha_open(&d) < 0 ||
	    (cfg.state_file[0] != '\0' && ha_state_open(&d.state, cfg.state_file) < 0) ||
	    sandbox_enter(&d.sb, SANDBOX_HA) < 0)
		goto out;
	if (d.state.dirfd >= 0 &&
	    ha_state_load(&d.ha, &d.state, ev_loop_now_ms(d.loop), ev_loop_wall_ms(d.loop)) < 0)
		goto out;
	ev_timer_init(&d.sweep, ha_on_sweep, &d);
	ev_timer_start(d.loop, &d.sweep, HA_SWEEP_MS);
	log_notice("home agent %s serving %zu mobile nodes", IP4_STR(cfg.address), cfg.n_mns);
	daemon_ready();
	status = ev_loop_run(d.loop) < 0 ? 1 : 0;
	daemon_stopping();
out:
	ha_close(&d);
	ha_state_close(&d.state);
	ha_free(&d.ha);
	/* ha_init took cfg's arrays, and a reload may have replaced them since. */
	ha_config_free(&d.ha.cfg);
	ev_loop_free(d.loop);
	return status;
}
