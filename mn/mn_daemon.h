/* The mipsa-mn process: its sockets and state, shared by mn_main.c and mn_ipsec.c. */
#ifndef MIPSA_MN_DAEMON_H
#define MIPSA_MN_DAEMON_H

#include "ipsec.h"
#include "ipsec_conf.h"
#include "mn.h"
#include "pmtu.h"

struct ctl_server;
struct netio_cap;
struct ike_engine;

#define MN_ESP_COUNTERS(X)                                                                         \
	X(esp_in)                                                                                  \
	X(esp_out)                                                                                 \
	X(esp_drop_spi)                                                                            \
	X(esp_drop_check)                                                                          \
	X(esp_drop_replay)                                                                         \
	X(esp_drop_inner)                                                                          \
	X(esp_drop_policy)                                                                         \
	X(esp_drop_seal)                                                                           \
	X(drop_no_gateway)                                                                         \
	X(drop_no_sa)                                                                              \
	X(reuse_full)                                                                              \
	X(reuse_partial)                                                                           \
	X(reuse_refused)

struct mn_esp_counters {
#define MN_ESP_FIELD(n) uint64_t n;
	MN_ESP_COUNTERS(MN_ESP_FIELD)
#undef MN_ESP_FIELD
};

#define MN_MAX_DOMAINS 8

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

struct mn_daemon {
	struct mn mn;
	struct mn_config cfg;
	struct ev_loop *loop;
	struct ctl_server *ctl;
	struct netio_cap *cap;
	int ifindex;
	uint8_t mac[6];
	int pkt_fd, udp_fd, tun_fd, nl_fd, nl_link_fd;
	bool stopping;
	/* The link's MTU, and the tunnel device's: the link less the worst overhead on the path. */
	size_t link_mtu, tunnel_mtu;
	struct pmtu_path link_path; /* our stack's packets too big for the link once sealed */
	/* IPsec with the agent's alias (or a fixed gateway) */
	struct ipsec_conf ic;
	struct ike_engine *ike;
	struct ipsec ipsec;
	int ike_fd, natt_fd, esp_fd, arp_fd;
	struct in_addr gateway; /* gateway mode: IPsec to this address, no Mobile IP */
	uint8_t gateway_mac[6];
	bool gateway_mac_known;
	struct ev_timer arp_timer;
	struct in_addr securing; /* the agent address a negotiation runs with */
	/* SA reuse: carry our SAs to the next FA of the same domain */
	bool sa_reuse;
	bool reuse_pending;        /* the next registration asks the new FA to take them over */
	struct in_addr reuse_prev; /* the FA (care-of address) that has them */
	/* per alias, the care-of address we last registered through: a
	 * re-association names the FA of that domain, not the last one */
	struct {
		struct in_addr alias, coa;
	} last_coa[MN_MAX_DOMAINS];
	struct mn_esp_counters esp;
	struct mn_rcvbuf_drops rcvbuf;
};

/* mn_ipsec.c */
int mn_ipsec_open(struct mn_daemon *d);
void mn_ipsec_close(struct mn_daemon *d);
int mn_ipsec_secure(void *arg, const struct mn_agent *agent, bool moved);
int mn_ipsec_extend(void *arg, struct buf *b);
void mn_ipsec_accepted(void *arg, const struct mip_reg_reply *rp);
/* Send an IPv4 packet to mac, through the SA with its destination's gateway when there is one. */
void mn_ipsec_to_link(struct mn_daemon *d, const uint8_t mac[6], const uint8_t *pkt, size_t len);
/* Gateway mode: our stack's packet (from the TUN). */
void mn_ipsec_gateway_out(struct mn_daemon *d, const uint8_t *pkt, size_t len);
/* Gateway mode: carrier came (back). */
void mn_ipsec_gateway_link(struct mn_daemon *d, bool up);
int mn_ipsec_ctl(struct mn_daemon *d, int argc, char **argv, struct ctl_out *o, char *err,
		 size_t errlen);
/* The tunnel device's MTU for this configuration on a link of link_mtu. */
size_t mn_ipsec_tunnel_mtu(const struct mn_daemon *d, size_t link_mtu);
/* The control command "mtu": the MTUs and the counters of packets too big. */
void mn_ipsec_ctl_mtu(struct mn_daemon *d, struct ctl_out *o);

#endif
