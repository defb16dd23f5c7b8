/*
 * The operating-system side of the userspace data plane: TUN devices,
 * packet sockets for link-layer delivery by MAC, libpcap captures that
 * report the sender's MAC, raw IPv4 sockets for IP-in-IP, UDP sockets with
 * the arrival interface, and rtnetlink for routes, policy rules and link
 * state.  Every function logs its own failure with the function name and
 * returns -1; callers decide whether that is fatal.
 */
#ifndef MIPSA_NETIO_H
#define MIPSA_NETIO_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define NETIO_MAC_LEN    6
#define NETIO_FRAME_MAX  2048
#define NETIO_TABLE_MAIN 254 /* RT_TABLE_MAIN */
/*
 * The receive buffer of every socket (and capture) a daemon reads: 4 MiB
 * hold a few thousand small datagrams, a burst the loop catches up with,
 * where the default (208 KiB) lost a third of a flood on UDP 4434.
 */
#define NETIO_RCVBUF (4 << 20)

int netio_ifindex(const char *ifname);
int netio_ifmac(const char *ifname, uint8_t mac[NETIO_MAC_LEN]);
int netio_set_sysctl(const char *path, const char *value);

/* The MTU of ifname, or -1. */
int netio_if_mtu(const char *ifname);
/* Set the MTU of ifname. */
int netio_if_set_mtu(const char *ifname, int mtu);
/* Set the transmit queue length of ifname (for a TUN: what waits for our reads). */
int netio_if_set_txqlen(const char *ifname, int qlen);
/*
 * The MTU of the route to dst, a path MTU learnt since included (IP_MTU
 * of a connected UDP socket); -1 when there is no route.
 */
int netio_path_mtu(struct in_addr dst);

/* Create (or attach to) TUN device name, IFF_TUN | IFF_NO_PI, non-blocking. */
int netio_tun_open(const char *name);
/*
 * The same with IFF_VNET_HDR and, when the kernel takes it, TSO4 and
 * checksum offload (TUNSETOFFLOAD): every read and write carries a
 * virtio-net header first (common/tun_gso.h).  *offload tells whether the
 * offloads are on; the header is there either way.
 */
int netio_tun_open_vnet(const char *name, bool *offload);
/* Bring ifname up (no address). */
int netio_if_up(const char *ifname);
/* Give ifname addr/plen and bring it up. */
int netio_if_addr_up(const char *ifname, struct in_addr addr, uint8_t plen);

/*
 * A socket the daemon reads: receive buffer NETIO_RCVBUF (SO_RCVBUFFORCE,
 * so root goes beyond net.core.rmem_max; else SO_RCVBUF, capped there),
 * and SO_RXQ_OVFL, so that every datagram read carries the number the
 * kernel has dropped at this socket so far for want of room.  Every open
 * function below that makes a receiving socket does this already.
 */
int netio_rx_setup(int fd, const char *what);
/*
 * One datagram (recv() otherwise): its length, or -1 with errno.  When one
 * was read, *dropped is the socket's running total of datagrams the kernel
 * dropped for a full receive buffer (SO_RXQ_OVFL).
 */
ssize_t netio_recv(int fd, void *buf, size_t cap, uint64_t *dropped);
/*
 * Read every packet waiting on a raw ESP socket (netio_raw_recv_open):
 * each well-formed one for address to goes to cb as its ESP payload (from
 * the SPI on).  *dropped as netio_recv.
 */
void netio_esp_drain(int fd, struct in_addr to,
		     void (*cb)(void *arg, const uint8_t *esp, size_t len), void *arg,
		     uint64_t *dropped);

/* A send-only packet socket for IPv4 frames on ifindex. */
int netio_pkt_open(int ifindex);
/* Send an IPv4 packet in a frame to dst_mac on ifindex. */
ssize_t netio_pkt_send(int fd, int ifindex, const uint8_t dst_mac[NETIO_MAC_LEN],
		       const uint8_t *pkt, size_t len);

/* A libpcap capture on ifname, inbound only, immediate mode, with a BPF filter. */
struct netio_cap;
struct netio_cap *netio_cap_open(const char *ifname, const char *filter);
void netio_cap_close(struct netio_cap *c);
int netio_cap_fd(const struct netio_cap *c);
/*
 * Deliver each pending frame's IPv4 packet with the Ethernet source MAC.
 * Returns the number of frames handled or -1.
 */
typedef void (*netio_cap_cb)(void *arg, const uint8_t src_mac[NETIO_MAC_LEN], const uint8_t *pkt,
			     size_t len);
int netio_cap_dispatch(struct netio_cap *c, netio_cap_cb cb, void *arg);
/* Frames the capture lost for a full buffer (libpcap's ps_drop); 0 when it cannot tell. */
uint64_t netio_cap_drops(struct netio_cap *c);

/* An ARP socket on ifindex (sends requests, receives replies). */
int netio_arp_open(int ifindex);
/* Ask who has target, from our mac/ip. */
int netio_arp_request(int fd, int ifindex, const uint8_t mac[NETIO_MAC_LEN], struct in_addr ip,
		      struct in_addr target);
/*
 * Read ARP packets; 1 and the MAC when one is a reply from target, 0 when
 * none is.  *dropped as netio_recv.
 */
int netio_arp_reply(int fd, struct in_addr target, uint8_t mac[NETIO_MAC_LEN], uint64_t *dropped);

/* UDP socket bound to addr:port (INADDR_ANY allowed) with IP_PKTINFO, non-blocking. */
int netio_udp_open(struct in_addr addr, uint16_t port);
struct netio_udp_meta {
	struct sockaddr_in from;
	struct in_addr dst; /* local address the datagram was sent to */
	int ifindex;        /* interface it arrived on */
	bool truncated;     /* it was larger than the buffer */
	uint64_t dropped;   /* the socket's datagrams dropped so far for a full buffer */
};
/*
 * One datagram: its length, or -1 when none is waiting.  A datagram larger
 * than cap comes back as 0 bytes with truncated set: every parser refuses
 * it (and counts it), and the caller's read loop goes on.
 */
ssize_t netio_udp_recv(int fd, uint8_t *buf, size_t cap, struct netio_udp_meta *meta);
/* Send to dst:port; src, when not INADDR_ANY, is the source address to use (IP_PKTINFO). */
ssize_t netio_udp_send(int fd, struct in_addr src, struct in_addr dst, uint16_t port,
		       const uint8_t *msg, size_t len);

/*
 * Raw IPv4 receive socket for one protocol (e.g. 4, IP-in-IP); packets
 * include the IP header.  Read it with netio_recv.
 */
int netio_raw_recv_open(int proto);
/* Raw IPv4 send socket (IP_HDRINCL): the caller builds the whole packet. */
int netio_raw_send_open(void);
ssize_t netio_raw_send(int fd, const uint8_t *pkt, size_t len);

/* rtnetlink */
int netio_nl_open(unsigned groups); /* groups: e.g. RTMGRP_LINK; 0 for requests only */
int netio_route(int nlfd, bool add, struct in_addr dst, uint8_t plen, int ifindex, uint32_t table);
/* Add addr/plen to ifindex (present already is fine). */
int netio_addr_add(int nlfd, int ifindex, struct in_addr addr, uint8_t plen);
int netio_rule_iif(int nlfd, bool add, const char *iifname, uint32_t table, uint32_t prio);
/*
 * What the link notifications waiting on a link-group socket say about one
 * interface.  A daemon that falls behind finds a carrier loss and its
 * return queued together: the loss must not vanish behind the final state
 * (the link moved), nor may notifications the socket had to drop (ENOBUFS).
 */
struct netio_link_ev {
	bool seen;     /* anything about the interface, or notifications lost */
	bool was_down; /* down (or no carrier) at some point, or notifications lost */
	bool up;       /* the last state: up with carrier (IFF_RUNNING) */
};

/* Drain nlfd (non-blocking); 0, or -1 on an error other than EAGAIN and ENOBUFS. */
int netio_nl_link_events(int nlfd, int ifindex, struct netio_link_ev *ev);
/* 1 when ifname is up with carrier, 0 when not, -1 on error. */
int netio_link_running(const char *ifname);

#endif
