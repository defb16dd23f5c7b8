/* The mipsa-fa process: its sockets and state, shared by fa_main.c and fa_ipsec.c. */
#ifndef MIPSA_FA_DAEMON_H
#define MIPSA_FA_DAEMON_H

#include "evloop.h"
#include "fa.h"
#include "fa_reuse.h"
#include "ipsec.h"
#include "ipsec_conf.h"
#include "u32map.h"

struct ctl_server;
struct netio_cap;
struct ike_engine;

#define FA_ESP_COUNTERS(X)                                                                         \
	X(esp_in)                                                                                  \
	X(esp_out)                                                                                 \
	X(esp_drop_spi)                                                                            \
	X(esp_drop_check)                                                                          \
	X(esp_drop_replay)                                                                         \
	X(esp_drop_inner)                                                                          \
	X(esp_drop_policy)                                                                         \
	X(esp_drop_seal)                                                                           \
	X(esp_drop_reserved)                                                                       \
	X(drop_no_sa)                                                                              \
	X(ike_drop_no_mac)                                                                         \
	X(ike_drop_not_alias)

struct fa_esp_counters {
#define FA_ESP_FIELD(n) uint64_t n;
	FA_ESP_COUNTERS(FA_ESP_FIELD)
#undef FA_ESP_FIELD
};

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

struct fa_daemon {
	struct fa fa;
	struct ev_loop *loop;
	struct ev_timer adv, sweep;
	struct ctl_server *ctl;
	struct netio_cap *cap;
	int access_ifindex, tun_ifindex;
	size_t access_mtu; /* the access link's MTU: what one frame to a visitor carries */
	int pkt_fd, udp_fd, tun_fd, ipip_fd, raw_fd, nl_fd;
	bool rule_added;
	/* IPsec on the access link */
	struct ipsec_conf ic;
	struct ike_engine *ike;
	struct ipsec ipsec;
	struct u32map macs; /* peer address -> learned MAC (struct fa_mac) */
	int ike_fd, natt_fd, esp_fd;
	struct fa_esp_counters esp;
	struct pmtu_path local_path; /* our own packets to a visitor, too big for its SA */
	/* SA reuse within the domain */
	struct fa_domain dom;
	struct fa_reuse_counters reuse;
	int sax_fd;
	struct sax_replay *replay;
	struct store_client *store;
	struct u32map xfers;  /* home address -> transfer in progress */
	struct u32map handed; /* home address -> the FA we handed its SAs to (struct fa_handed) */
	struct fa_put *puts;  /* store writes awaiting their answer */
	struct fa_rcvbuf_drops rcvbuf;
};

/* fa_ipsec.c */
int fa_ipsec_open(struct fa_daemon *d);
void fa_ipsec_close(struct fa_daemon *d);
void fa_learn_mac(struct fa_daemon *d, struct in_addr addr, const uint8_t mac[6]);
/* A frame the capture saw: IKE (UDP 500/4500 with marker) is handled here; 1 if it was. */
int fa_ipsec_frame(struct fa_daemon *d, const uint8_t mac[6], const uint8_t *pkt, size_t len);
/* Send an IPv4 packet to a visitor: through its SA when it has one. */
void fa_ipsec_to_link(struct fa_daemon *d, const uint8_t mac[6], const uint8_t *pkt, size_t len);
/* A packet from the TUN for an IPsec peer (our own traffic to it); 1 if it was one. */
int fa_ipsec_from_tun(struct fa_daemon *d, const uint8_t *pkt, size_t len);
bool fa_ipsec_secured(void *arg, struct in_addr home_addr);
/* The largest packet that reaches the visitor: through its SA when it has one. */
size_t fa_ipsec_visitor_mtu(void *arg, struct in_addr home_addr);
int fa_ipsec_ctl(struct fa_daemon *d, int argc, char **argv, struct ctl_out *o, char *err,
		 size_t errlen);

#endif
