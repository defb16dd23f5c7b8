/* The mipsa-mn process: its sockets, and the libraries they feed (mn_main.c). */
#ifndef MIPSA_MN_DAEMON_H
#define MIPSA_MN_DAEMON_H

#include "ipsec_conf.h"
#include "reload.h"
#include "sandbox.h"
#include "mn.h"
#include "mn_sec.h"
#include "tun_io.h"

struct ctl_server;
struct netio_cap;
struct netio_txq;

/*
 * Datagrams the kernel dropped for a full receive buffer, by socket
 * (netio_rx_setup): registration replies (UDP 434), IKE (500), UDP 4500,
 * raw ESP, ARP (gateway mode); the capture's is read from it when shown.
 */
#define MN_RCVBUF_DROPS(X) X(mip) X(ike) X(natt) X(esp) X(arp)

struct mn_rcvbuf_drops {
#define MN_RCVBUF_FIELD(n) uint64_t n;
	MN_RCVBUF_DROPS(MN_RCVBUF_FIELD)
#undef MN_RCVBUF_FIELD
};

/* Everything mipsa-mn's file holds (mn_reload.c). */
struct mn_conf_set {
	struct mn_config cfg;
	struct ipsec_conf ic;
	struct in_addr gateway;
	bool sa_reuse;
	struct sandbox_config sb;
};

struct mn_daemon {
	const char *config; /* the file, read again at reload */
	bool debug;         /* -d: the file's log_level is not applied */
	struct reload_hook reload;
	struct sandbox_config sb;
	struct mn mn;
	struct mn_sec sec;
	struct mn_config cfg;
	struct ev_loop *loop;
	struct ctl_server *ctl;
	struct netio_cap *cap;
	int ifindex;
	uint8_t mac[6];
	int pkt_fd, udp_fd, tun_fd, nl_fd, nl_link_fd;
	int ike_fd, natt_fd, esp_fd, arp_fd;
	struct netio_txq *link_q; /* frames out on pkt_fd, batched while the TUN drains */
	/* The home address's TUN (tun_fd): TSO in, segments joined on the way out. */
	struct tun_io tun;
	bool stopping;
	/* The link's MTU, and the tunnel device's: the link less the worst overhead on the path. */
	size_t link_mtu, tunnel_mtu;
	struct ipsec_conf ic;
	struct in_addr gateway; /* gateway mode: IPsec to this address, no Mobile IP */
	bool sa_reuse;
	struct mn_rcvbuf_drops rcvbuf;
};

/*
 * The file into set as at start: 0, or -1 with the file:line message in
 * err and nothing left to free.  mn_reload is the daemon's reload_fn.
 */
int mn_conf_set_load(const char *path, struct mn_conf_set *set, char *err, size_t errlen);
void mn_conf_set_free(struct mn_conf_set *set);
int mn_reload(void *arg, bool dry, struct reload_diff *rd, char *err, size_t errlen);

#endif
