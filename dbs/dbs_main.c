/*
 * mipsa-dbs: the domain's SA store daemon.  Moves datagrams between UDP
 * SAX_PORT and the engine in libdbs, runs the expiry/compaction timer and
 * the control socket.  Everything else is in dbs_store.c and dbs_log.c.
 */
#include "conf.h"
#include "ctl.h"
#include "daemon.h"
#include "dbs.h"
#include "evloop.h"
#include "ip4.h"
#include "log.h"
#include "netio.h"
#include "reload.h"
#include "sandbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define DBS_TICK_MS 1000

struct dbs_daemon {
	const char *config; /* the file, read again at reload */
	bool debug;         /* -d: the file's log_level is not applied */
	struct reload_hook reload;
	struct sandbox_config sb;
	struct dbs *db;
	struct ev_loop *loop;
	struct ev_timer tick;
	struct ctl_server *ctl;
	int udp_fd;
	uint64_t rcvbuf_drops; /* requests the kernel dropped for a full receive buffer */
};

/*
 * Group commit: every request waiting on the socket, up to DBS_BATCH_MAX,
 * is handled, the log synced once for all their writes, and only then are
 * the answers sent.  Under load the requests that arrive during one sync
 * make up the next batch, so syncs per second stay what the disk allows
 * while writes per sync grow with the load.
 */
static void dbs_on_udp(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct dbs_daemon *d = arg;
	static uint8_t msg[SAX_MSG_MAX + 1], reply[DBS_BATCH_MAX][SAX_MSG_MAX];
	static struct netio_udp_meta meta[DBS_BATCH_MAX];
	static size_t rlen[DBS_BATCH_MAX];
	size_t n;
	ssize_t got;

	do {
		for (n = 0; n < DBS_BATCH_MAX &&
			    (got = netio_udp_recv(fd, msg, sizeof(msg), &meta[n])) >= 0;
		     n++) {
			d->rcvbuf_drops = meta[n].dropped;
			dbs_batch_handle(d->db, msg, (size_t)got, meta[n].from.sin_addr,
					 ev_loop_wall_ms(loop), reply[n], sizeof(reply[n]),
					 &rlen[n]);
		}
		dbs_batch_commit(d->db, ev_loop_wall_ms(loop));
		for (size_t i = 0; i < n; i++)
			if (rlen[i] > 0)
				netio_udp_send(fd, meta[i].dst, meta[i].from.sin_addr,
					       ntohs(meta[i].from.sin_port), reply[i], rlen[i]);
	} while (n == DBS_BATCH_MAX); /* fewer: the socket is drained */
}

static void dbs_on_tick(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct dbs_daemon *d = arg;

	dbs_tick(d->db, ev_loop_wall_ms(loop));
	ev_timer_start(loop, t, DBS_TICK_MS);
}

/* Into "counters": what the kernel dropped at the socket for a full receive buffer. */
static void dbs_ctl_rcvbuf(void *arg, struct ctl_out *o)
{
	struct dbs_daemon *d = arg;

	ctl_obj_begin(o, "rcvbuf_drops");
	ctl_u64(o, "sax", d->rcvbuf_drops);
	ctl_obj_end(o);
	daemon_ctl_memory(o);
}

static int dbs_conf_read(const char *path, struct dbs_config *cfg, struct sandbox_config *sb,
			 char *err, size_t errlen)
{
	struct conf c;

	if (conf_load(&c, path) < 0 || conf_check(&c, dbs_root_names) < 0 ||
	    sandbox_conf_load(&c, conf_group(&c, NULL, "dbs", true), sb) < 0 ||
	    dbs_config_load(&c, cfg) < 0) {
		snprintf(err, errlen, "%s", conf_error(&c));
		conf_free(&c);
		return -1;
	}
	conf_free(&c);
	return 0;
}

static int dbs_reload(void *arg, bool dry, struct reload_diff *rd, char *err, size_t errlen)
{
	struct dbs_daemon *d = arg;
	struct sandbox_config sb;
	struct dbs_config fresh;

	if (dbs_conf_read(d->config, &fresh, &sb, err, errlen) < 0)
		return -1;
	dbs_reload_diff(d->db, &fresh, rd);
	sandbox_conf_diff(&d->sb, &sb, rd);
	if (!dry && rd->restart[0] == '\0') {
		dbs_reconfigure(d->db, &fresh, ev_loop_wall_ms(d->loop));
		if (!d->debug)
			log_set_level((enum log_level)fresh.log_level);
	}
	dbs_config_wipe(&fresh);
	return 0;
}

static int dbs_on_ctl(void *arg, int argc, char **argv, struct ctl_out *o, char *err, size_t errlen)
{
	struct dbs_daemon *d = arg;

	o->daemon_counters = dbs_ctl_rcvbuf;
	o->daemon_arg = d;
	if (argc > 0 && strcmp(argv[0], "reload") == 0)
		return reload_ctl("mipsa-dbs", dbs_reload, d, argc, argv, o, err, errlen);
	return dbs_ctl(d->db, argc, argv, o, err, errlen, ev_loop_wall_ms(d->loop));
}

static int dbs_daemon_open(struct dbs_daemon *d, const struct dbs_config *cfg)
{
	d->udp_fd = netio_udp_open(cfg->address, cfg->port);
	if (d->udp_fd < 0 || ev_io_add(d->loop, d->udp_fd, EPOLLIN, dbs_on_udp, d) < 0)
		return -1;
	d->ctl = ctl_server_open(d->loop, cfg->control_socket, dbs_on_ctl, d);
	if (d->ctl == NULL)
		return -1;
	ev_timer_init(&d->tick, dbs_on_tick, d);
	return ev_timer_start(d->loop, &d->tick, DBS_TICK_MS);
}

int main(int argc, char **argv)
{
	struct daemon_args args;
	struct dbs_daemon d = {.udp_fd = -1};
	struct dbs_config cfg;
	char err[512];
	int status = 1;

	daemon_parse_args(argc, argv, "mipsa-dbs", &args);
	log_init("mipsa-dbs", LOG_LVL_INFO, false);
	if (dbs_conf_read(args.config, &cfg, &d.sb, err, sizeof(err)) < 0) {
		fprintf(stderr, "mipsa-dbs: %s\n", err);
		return 1;
	}
	if (args.check_only) {
		printf("mipsa-dbs: %s: configuration ok\n", args.config);
		dbs_config_wipe(&cfg);
		return 0;
	}
	log_set_level(args.debug ? LOG_LVL_DEBUG : (enum log_level)cfg.log_level);
	d.loop = ev_loop_new();
	d.config = args.config;
	d.debug = args.debug;
	d.reload = (struct reload_hook){dbs_reload, &d};
	if (sandbox_lookup(&d.sb) < 0 || d.loop == NULL || daemon_signals(d.loop, &d.reload) < 0)
		goto out;
	d.db = dbs_open(&cfg, ev_loop_wall_ms(d.loop));
	if (d.db == NULL || dbs_daemon_open(&d, &cfg) < 0 ||
	    (d.sb.enabled && dbs_log_chown(d.db, d.sb.uid, d.sb.gid) < 0) ||
	    sandbox_enter(&d.sb, SANDBOX_DBS) < 0)
		goto out;
	log_notice("store %s:%u: %zu records loaded from %s/%s", IP4_STR(cfg.address), cfg.port,
		   dbs_n_records(d.db), cfg.data_dir, DBS_LOG_NAME);
	daemon_ready();
	status = ev_loop_run(d.loop) < 0 ? 1 : 0;
	daemon_stopping();
out:
	ctl_server_close(d.ctl);
	if (d.udp_fd >= 0)
		close(d.udp_fd);
	dbs_close(d.db);
	dbs_config_wipe(&cfg);
	ev_loop_free(d.loop);
	return status;
}
