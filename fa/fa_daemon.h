/* The mipsa-fa process: its sockets, and the libraries they feed (fa_main.c). */
#ifndef MIPSA_FA_DAEMON_H
#define MIPSA_FA_DAEMON_H

#include "evloop.h"
#include "fa.h"
#include "fa_sec.h"
#include "ipsec_conf.h"
#include "reload.h"
#include "sandbox.h"
#include "store.h"
#include "tun_io.h"

struct ctl_server;
struct netio_cap;
struct netio_txq;

/*
 * Datagrams the kernel dropped for a full receive buffer, by socket
 * (netio_rx_setup): registrations (UDP 434), the reverse tunnel's IP-in-IP,
 * IKE (500), UDP 4500, raw ESP, SA transfers (4434); the capture's and the
 * store client's are read from them when shown.
 */
#define FA_RCVBUF_DROPS(X) X(mip) X(tunnel) X(ike) X(natt) X(esp) X(sax)

struct fa_rcvbuf_drops {
#define FA_RCVBUF_FIELD(n) uint64_t n;
	FA_RCVBUF_DROPS(FA_RCVBUF_FIELD)
#undef FA_RCVBUF_FIELD
};

/* Everything mipsa-fa's file holds (fa_reload.c). */
struct fa_conf_set {
	struct fa_config cfg;
	struct ipsec_conf ic;
	struct fa_domain dom;
	struct sandbox_config sb;
};

struct fa_daemon {
	const char *config; /* the file, read again at reload */
	bool debug;         /* -d: the file's log_level is not applied */
	struct reload_hook reload;
	struct sandbox_config sb;
	struct fa fa;
	struct fa_sec sec;
	struct ev_loop *loop;
	struct ev_timer adv, sweep;
	struct ctl_server *ctl;
	struct netio_cap *cap;
	int access_ifindex, tun_ifindex;
	int pkt_fd, udp_fd, tun_fd, ipip_fd, raw_fd, nl_fd;
	int mip_sink_fd; /* UDP 434 on every other address: never read (fa_open) */
	int ike_fd, natt_fd, esp_fd, sax_fd;
	/* Frames to visitors (pkt_fd) and tunnelled packets (raw_fd), batched while a socket
	 * drains. */
	struct netio_txq *link_q, *tunnel_q;
	/* tun_fd: the stack's TCP super-packets cut on the way in, opened segments joined on the
	 * way out (tun_io.h) */
	struct tun_io tun;
	size_t access_mtu; /* the access link's MTU: what one frame to a visitor carries */
	bool rule_added;
	struct ipsec_conf ic;
	struct fa_domain dom;
	struct store_client *store;
	struct fa_rcvbuf_drops rcvbuf;
};

/*
 * The file into set as at start: 0, or -1 with the file:line message in
 * err and nothing left to free.  fa_reload is the daemon's reload_fn.
 */
int fa_conf_set_load(const char *path, struct fa_conf_set *set, char *err, size_t errlen);
void fa_conf_set_free(struct fa_conf_set *set);
int fa_reload(void *arg, bool dry, struct reload_diff *rd, char *err, size_t errlen);

#endif
