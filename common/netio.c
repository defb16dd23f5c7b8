#include "netio.h"
#include "ip4.h"
#include "netio_batch.h"
#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fib_rules.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* Any port: netio_path_mtu connects a UDP socket to it and sends nothing (9 is discard). */
#define NETIO_ROUTE_PROBE_PORT 9

#define MIPSA_RTPROT 99 /* routes we add carry this protocol, so operators can tell them apart */

int netio_ifindex(const char *ifname)
{
	unsigned idx = if_nametoindex(ifname);

	if (idx == 0) {
		log_err("interface %s: %s", ifname, strerror(errno));
		return -1;
	}
	return (int)idx;
}

/* An interface ioctl on a request the caller has filled in. */
static int netio_ifreq_set(const char *ifname, unsigned long req, struct ifreq *ifr)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int r;

	if (fd < 0) {
		log_err("socket: %s", strerror(errno));
		return -1;
	}
	snprintf(ifr->ifr_name, IFNAMSIZ, "%s", ifname);
	r = ioctl(fd, req, ifr);
	if (r < 0)
		log_err("ioctl %#lx on %s: %s", req, ifname, strerror(errno));
	close(fd);
	return r;
}

/* An interface ioctl that reads into a zeroed ifreq. */
static int netio_ifreq(const char *ifname, unsigned long req, struct ifreq *ifr)
{
	memset(ifr, 0, sizeof(*ifr));
	return netio_ifreq_set(ifname, req, ifr);
}

int netio_ifmac(const char *ifname, uint8_t mac[NETIO_MAC_LEN])
{
	struct ifreq ifr;

	if (netio_ifreq(ifname, SIOCGIFHWADDR, &ifr) < 0)
		return -1;
	memcpy(mac, ifr.ifr_hwaddr.sa_data, NETIO_MAC_LEN);
	return 0;
}

int netio_if_mtu(const char *ifname)
{
	struct ifreq ifr;

	if (netio_ifreq(ifname, SIOCGIFMTU, &ifr) < 0)
		return -1;
	return ifr.ifr_mtu;
}

int netio_if_set_mtu(const char *ifname, int mtu)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_mtu = mtu;
	return netio_ifreq_set(ifname, SIOCSIFMTU, &ifr);
}

int netio_if_set_txqlen(const char *ifname, int qlen)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_qlen = qlen;
	return netio_ifreq_set(ifname, SIOCSIFTXQLEN, &ifr);
}

int netio_path_mtu(struct in_addr dst)
{
	/* Connecting a UDP socket sends nothing; it only looks the route up. */
	struct sockaddr_in sin = {
		.sin_family = AF_INET, .sin_port = htons(NETIO_ROUTE_PROBE_PORT), .sin_addr = dst};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int mtu = -1;
	socklen_t len = sizeof(mtu);

	if (fd < 0) {
		log_err("socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    getsockopt(fd, IPPROTO_IP, IP_MTU, &mtu, &len) < 0) {
		log_rl_warn("path MTU to %s: %s", IP4_STR(dst), strerror(errno));
		mtu = -1;
	}
	close(fd);
	return mtu;
}

int netio_set_sysctl(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0) {
		log_err("open %s: %s", path, strerror(errno));
		return -1;
	}
	n = write(fd, value, strlen(value));
	close(fd);
	if (n != (ssize_t)strlen(value)) {
		log_err("write %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int netio_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		log_err("fcntl: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int netio_tun_create(const char *name, short flags)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		log_err("open /dev/net/tun: %s", strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = flags;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		log_err("TUNSETIFF %s: %s", name, strerror(errno));
		close(fd);
		return -1;
	}
	if (netio_nonblock(fd) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int netio_tun_open(const char *name)
{
	return netio_tun_create(name, IFF_TUN | IFF_NO_PI);
}

int netio_tun_open_vnet(const char *name, bool *offload)
{
	int fd = netio_tun_create(name, IFF_TUN | IFF_NO_PI | IFF_VNET_HDR);

	*offload = false;
	if (fd < 0)
		return -1;
	/* Not fatal: without it the stack sends ordinary packets, each behind a header. */
	if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)(TUN_F_CSUM | TUN_F_TSO4)) < 0)
		log_notice("%s: no TSO offload (%s): one packet per read", name, strerror(errno));
	else
		*offload = true;
	return fd;
}

int netio_if_up(const char *ifname)
{
	struct ifreq ifr;

	if (netio_ifreq(ifname, SIOCGIFFLAGS, &ifr) < 0)
		return -1;
	ifr.ifr_flags |= IFF_UP;
	return netio_ifreq_set(ifname, SIOCSIFFLAGS, &ifr);
}

int netio_if_addr_up(const char *ifname, struct in_addr addr, uint8_t plen)
{
	struct ifreq ifr;
	struct sockaddr_in *sin = (struct sockaddr_in *)(void *)&ifr.ifr_addr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int r = -1;

	if (fd < 0) {
		log_err("socket: %s", strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
	sin->sin_family = AF_INET;
	sin->sin_addr = addr;
	if (ioctl(fd, SIOCSIFADDR, &ifr) < 0) {
		log_err("SIOCSIFADDR %s: %s", ifname, strerror(errno));
		goto out;
	}
	sin->sin_addr.s_addr = plen == 0 ? 0 : htonl(~0u << (32 - plen));
	if (ioctl(fd, SIOCSIFNETMASK, &ifr) < 0) {
		log_err("SIOCSIFNETMASK %s: %s", ifname, strerror(errno));
		goto out;
	}
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
		log_err("SIOCGIFFLAGS %s: %s", ifname, strerror(errno));
		goto out;
	}
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0) {
		log_err("SIOCSIFFLAGS %s: %s", ifname, strerror(errno));
		goto out;
	}
	r = 0;
out:
	close(fd);
	return r;
}

/* ---- receiving ---- */

int netio_rx_setup(int fd, const char *what)
{
	int size = NETIO_RCVBUF, one = 1;

	/* Not fatal: a smaller buffer still works, it only drops sooner (and counts it). */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) < 0)
		log_warn("%s: receive buffer of %d bytes: %s", what, size, strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one)) < 0) {
		log_err("%s: SO_RXQ_OVFL: %s", what, strerror(errno));
		return -1;
	}
	return 0;
}

/* Room for the control messages a receiving socket may get: IP_PKTINFO and SO_RXQ_OVFL. */
union netio_cmsg_buf {
	char buf[CMSG_SPACE(sizeof(struct in_pktinfo)) + CMSG_SPACE(sizeof(uint32_t))];
	struct cmsghdr align;
};

/*
 * The kernel's running total of datagrams dropped at the socket, as of the
 * one just read.  It sends none while the total is 0, and the total only
 * grows, so no control message means 0.
 */
static uint64_t netio_cmsg_dropped(struct msghdr *mh)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SO_RXQ_OVFL) {
			uint32_t v;
			memcpy(&v, CMSG_DATA(cm), sizeof(v));
			return v;
		}
	return 0;
}

struct netio_esp_ctx {
	struct in_addr to;
	void (*cb)(void *arg, const uint8_t *esp, size_t len);
	void *arg;
};

static void netio_esp_one(void *arg, uint8_t *pkt, size_t len)
{
	struct netio_esp_ctx *c = arg;
	struct ip4_hdr h;
	struct buf payload;

	if (ip4_parse(pkt, len, &h, &payload) == IP4_OK && h.dst.s_addr == c->to.s_addr)
		c->cb(c->arg, buf_rptr(&payload), buf_left(&payload));
}

void netio_esp_drain(int fd, struct in_addr to,
		     void (*cb)(void *arg, const uint8_t *esp, size_t len), void *arg,
		     uint64_t *dropped)
{
	struct netio_esp_ctx c = {.to = to, .cb = cb, .arg = arg};

	netio_rx_drain(fd, netio_esp_one, &c, dropped);
}

ssize_t netio_recv(int fd, void *buf, size_t cap, uint64_t *dropped)
{
	union netio_cmsg_buf cbuf;
	struct iovec iov = {.iov_base = buf, .iov_len = cap};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = cbuf.buf,
			    .msg_controllen = sizeof(cbuf)};
	ssize_t n = recvmsg(fd, &mh, 0);

	if (n >= 0)
		*dropped = netio_cmsg_dropped(&mh);
	return n;
}

int netio_pkt_open(int ifindex)
{
	/* Protocol 0: this socket only sends, it receives nothing. */
	int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_ifindex = ifindex};

	if (fd < 0) {
		log_err("socket AF_PACKET: %s", strerror(errno));
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		log_err("bind AF_PACKET ifindex %d: %s", ifindex, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

ssize_t netio_pkt_send(int fd, int ifindex, const uint8_t dst_mac[NETIO_MAC_LEN],
		       const uint8_t *pkt, size_t len)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_IP),
		.sll_ifindex = ifindex,
		.sll_halen = NETIO_MAC_LEN,
	};
	ssize_t n;

	memcpy(sll.sll_addr, dst_mac, NETIO_MAC_LEN);
	n = sendto(fd, pkt, len, 0, (struct sockaddr *)&sll, sizeof(sll));
	if (n < 0)
		log_rl_warn("sendto ifindex %d: %s", ifindex, strerror(errno));
	return n;
}

int netio_arp_open(int ifindex)
{
	int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ARP));
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ARP), .sll_ifindex = ifindex};

	if (fd < 0 || bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		log_err("ARP socket on ifindex %d: %s", ifindex, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (netio_rx_setup(fd, "ARP socket") < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * An ARP packet for IPv4 over Ethernet (RFC 826): hardware type 1,
 * protocol 0x0800, address lengths 6 and 4, the operation; then the
 * sender's MAC and IPv4 address and the target's.
 */
#define NETIO_ARP_LEN      28
#define NETIO_ARP_HEAD_LEN 8
#define NETIO_ARP_SHA      8  /* sender MAC */
#define NETIO_ARP_SPA      14 /* sender IPv4 address */
#define NETIO_ARP_TPA      24 /* target IPv4 address */
static const uint8_t netio_arp_head_request[NETIO_ARP_HEAD_LEN] = {0, 1, 8, 0, 6, 4, 0, 1};
static const uint8_t netio_arp_head_reply[NETIO_ARP_HEAD_LEN] = {0, 1, 8, 0, 6, 4, 0, 2};

int netio_arp_request(int fd, int ifindex, const uint8_t mac[NETIO_MAC_LEN], struct in_addr ip,
		      struct in_addr target)
{
	static const uint8_t bcast[NETIO_MAC_LEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	uint8_t p[NETIO_ARP_LEN] = {0};
	struct sockaddr_ll sll = {.sll_family = AF_PACKET,
				  .sll_protocol = htons(ETH_P_ARP),
				  .sll_ifindex = ifindex,
				  .sll_halen = NETIO_MAC_LEN};

	memcpy(p, netio_arp_head_request, NETIO_ARP_HEAD_LEN);
	memcpy(p + NETIO_ARP_SHA, mac, NETIO_MAC_LEN);
	memcpy(p + NETIO_ARP_SPA, &ip.s_addr, sizeof(ip.s_addr));
	memcpy(p + NETIO_ARP_TPA, &target.s_addr, sizeof(target.s_addr));
	memcpy(sll.sll_addr, bcast, NETIO_MAC_LEN);
	if (sendto(fd, p, sizeof(p), 0, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		log_rl_warn("ARP request for %s: %s", IP4_STR(target), strerror(errno));
		return -1;
	}
	return 0;
}

int netio_arp_reply(int fd, struct in_addr target, uint8_t mac[NETIO_MAC_LEN], uint64_t *dropped)
{
	uint8_t p[64]; /* room for the padding of a minimum Ethernet frame */
	ssize_t n;
	int found = 0;

	/* A reply from target: its address is the sender's. */
	while ((n = netio_recv(fd, p, sizeof(p), dropped)) > 0)
		if (n >= NETIO_ARP_LEN &&
		    memcmp(p, netio_arp_head_reply, NETIO_ARP_HEAD_LEN) == 0 &&
		    memcmp(p + NETIO_ARP_SPA, &target.s_addr, sizeof(target.s_addr)) == 0) {
			memcpy(mac, p + NETIO_ARP_SHA, NETIO_MAC_LEN);
			found = 1;
		}
	return found;
}

struct netio_cap {
	pcap_t *p;
	int fd;
	netio_cap_cb cb;
	void *arg;
};

struct netio_cap *netio_cap_open(const char *ifname, const char *filter)
{
	char err[PCAP_ERRBUF_SIZE] = "";
	struct bpf_program prog;
	struct netio_cap *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->p = pcap_create(ifname, err);
	if (c->p == NULL) {
		log_err("pcap_create %s: %s", ifname, err);
		free(c);
		return NULL;
	}
	/* Immediate mode: a frame reaches us when it arrives, not when a buffer fills. */
	if (pcap_set_immediate_mode(c->p, 1) != 0 || pcap_set_snaplen(c->p, NETIO_FRAME_MAX) != 0 ||
	    pcap_set_promisc(c->p, 0) != 0 || pcap_set_buffer_size(c->p, NETIO_RCVBUF) != 0 ||
	    pcap_activate(c->p) < 0) {
		log_err("pcap on %s: %s", ifname, pcap_geterr(c->p));
		goto fail;
	}
	if (pcap_datalink(c->p) != DLT_EN10MB) {
		log_err("pcap on %s: not an Ethernet link", ifname);
		goto fail;
	}
	if (pcap_setdirection(c->p, PCAP_D_IN) != 0 ||
	    pcap_compile(c->p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		log_err("pcap filter '%s' on %s: %s", filter, ifname, pcap_geterr(c->p));
		goto fail;
	}
	if (pcap_setfilter(c->p, &prog) != 0) {
		log_err("pcap_setfilter on %s: %s", ifname, pcap_geterr(c->p));
		pcap_freecode(&prog);
		goto fail;
	}
	pcap_freecode(&prog);
	if (pcap_setnonblock(c->p, 1, err) != 0) {
		log_err("pcap_setnonblock on %s: %s", ifname, err);
		goto fail;
	}
	c->fd = pcap_get_selectable_fd(c->p);
	if (c->fd < 0) {
		log_err("pcap on %s: no selectable fd", ifname);
		goto fail;
	}
	return c;
fail:
	pcap_close(c->p);
	free(c);
	return NULL;
}

void netio_cap_close(struct netio_cap *c)
{
	if (c == NULL)
		return;
	pcap_close(c->p);
	free(c);
}

int netio_cap_fd(const struct netio_cap *c)
{
	return c->fd;
}

static void netio_cap_frame(u_char *user, const struct pcap_pkthdr *h, const u_char *frame)
{
	struct netio_cap *c = (struct netio_cap *)(void *)user;

	/* dst MAC (6), src MAC (6), EtherType (2); the filter already chose IPv4 */
	if (h->caplen < ETH_HLEN || h->caplen != h->len)
		return;
	c->cb(c->arg, frame + ETH_ALEN, frame + ETH_HLEN, h->caplen - ETH_HLEN);
}

int netio_cap_dispatch(struct netio_cap *c, netio_cap_cb cb, void *arg)
{
	int n;

	c->cb = cb;
	c->arg = arg;
	n = pcap_dispatch(c->p, -1, netio_cap_frame, (u_char *)c);
	if (n < 0)
		log_rl_warn("pcap_dispatch: %s", pcap_geterr(c->p));
	return n;
}

uint64_t netio_cap_drops(struct netio_cap *c)
{
	struct pcap_stat st;

	if (pcap_stats(c->p, &st) != 0) {
		log_rl_warn("pcap_stats: %s", pcap_geterr(c->p));
		return 0;
	}
	return st.ps_drop;
}

int netio_udp_open(struct in_addr addr, uint16_t port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr = addr};
	int one = 1;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		log_err("socket UDP: %s", strerror(errno));
		return -1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		log_err("UDP %s:%u: %s", IP4_STR(addr), port, strerror(errno));
		close(fd);
		return -1;
	}
	if (netio_rx_setup(fd, "UDP socket") < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

ssize_t netio_udp_recv(int fd, uint8_t *buf, size_t cap, struct netio_udp_meta *meta)
{
	union netio_cmsg_buf cbuf;
	struct iovec iov = {.iov_base = buf, .iov_len = cap};
	struct msghdr mh = {.msg_name = &meta->from,
			    .msg_namelen = sizeof(meta->from),
			    .msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = cbuf.buf,
			    .msg_controllen = sizeof(cbuf)};
	ssize_t n = recvmsg(fd, &mh, 0);

	if (n < 0)
		return -1;
	meta->ifindex = 0;
	meta->dst.s_addr = 0;
	meta->truncated = (mh.msg_flags & MSG_TRUNC) != 0;
	meta->dropped = netio_cmsg_dropped(&mh);
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			meta->ifindex = pi.ipi_ifindex;
			meta->dst = pi.ipi_addr;
		}
	}
	return meta->truncated ? 0 : n;
}

ssize_t netio_udp_send(int fd, struct in_addr src, struct in_addr dst, uint16_t port,
		       const uint8_t *msg, size_t len)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr = dst};
	union {
		char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = {.iov_base = (void *)(uintptr_t)msg, .iov_len = len};
	struct msghdr mh = {
		.msg_name = &sin, .msg_namelen = sizeof(sin), .msg_iov = &iov, .msg_iovlen = 1};
	ssize_t n;

	if (src.s_addr != INADDR_ANY) {
		struct in_pktinfo pi = {.ipi_spec_dst = src};
		memset(&cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf.buf;
		mh.msg_controllen = sizeof(cbuf.buf);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(cm), &pi, sizeof(pi));
	}
	n = sendmsg(fd, &mh, 0);
	if (n < 0)
		log_rl_warn("sendto %s:%u: %s", IP4_STR(dst), port, strerror(errno));
	return n;
}

int netio_raw_recv_open(int proto)
{
	int fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);

	if (fd < 0) {
		log_err("socket raw proto %d: %s", proto, strerror(errno));
		return -1;
	}
	if (netio_rx_setup(fd, "raw socket") < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int netio_raw_send_open(void)
{
	/* IPPROTO_RAW implies IP_HDRINCL and receives nothing. */
	int fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_RAW);

	if (fd < 0)
		log_err("socket IPPROTO_RAW: %s", strerror(errno));
	return fd;
}

ssize_t netio_raw_send(int fd, const uint8_t *pkt, size_t len)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	ssize_t n;

	if (len < IP4_HDR_LEN)
		return -1;
	memcpy(&sin.sin_addr.s_addr, pkt + IP4_DST_OFF, sizeof(sin.sin_addr.s_addr));
	n = sendto(fd, pkt, len, 0, (struct sockaddr *)&sin, sizeof(sin));
	if (n < 0)
		log_rl_warn("sendto %s: %s", IP4_STR(sin.sin_addr), strerror(errno));
	return n;
}

/* ---- rtnetlink ---- */

int netio_nl_open(unsigned groups)
{
	struct sockaddr_nl snl = {.nl_family = AF_NETLINK, .nl_groups = groups};
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | (groups ? SOCK_NONBLOCK : 0),
			NETLINK_ROUTE);

	if (fd < 0) {
		log_err("socket NETLINK_ROUTE: %s", strerror(errno));
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&snl, sizeof(snl)) < 0) {
		log_err("bind netlink: %s", strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

struct nl_req {
	struct nlmsghdr nh;
	union {
		struct rtmsg rt;
		struct fib_rule_hdr frh;
		struct ifaddrmsg ifa;
	} u;
	char attrs[256];
};

static int nl_attr(struct nl_req *r, unsigned short type, const void *data, size_t len)
{
	size_t off = NLMSG_ALIGN(r->nh.nlmsg_len);
	struct rtattr *rta = (struct rtattr *)(void *)((char *)r + off);

	if (off + RTA_SPACE(len) > sizeof(*r))
		return -1;
	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	r->nh.nlmsg_len = (uint32_t)(off + RTA_SPACE(len));
	return 0;
}

/* Send one request and wait for its acknowledgement. */
static int nl_talk(int fd, struct nl_req *r, const char *what)
{
	char buf[4096];
	ssize_t n;

	r->nh.nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	if (send(fd, r, r->nh.nlmsg_len, 0) < 0) {
		log_err("%s: send: %s", what, strerror(errno));
		return -1;
	}
	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0) {
		log_err("%s: recv: %s", what, strerror(errno));
		return -1;
	}
	for (struct nlmsghdr *nh = (struct nlmsghdr *)(void *)buf; NLMSG_OK(nh, (size_t)n);
	     nh = NLMSG_NEXT(nh, n)) {
		if (nh->nlmsg_type != NLMSG_ERROR)
			continue;
		int err = ((struct nlmsgerr *)NLMSG_DATA(nh))->error;
		if (err != 0) {
			errno = -err;
			return -1;
		}
		return 0;
	}
	log_err("%s: no acknowledgement", what);
	return -1;
}

int netio_route(int nlfd, bool add, struct in_addr dst, uint8_t plen, int ifindex, uint32_t table)
{
	struct nl_req r;
	uint32_t oif = (uint32_t)ifindex;

	memset(&r, 0, sizeof(r));
	r.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
	r.nh.nlmsg_type = add ? RTM_NEWROUTE : RTM_DELROUTE;
	r.nh.nlmsg_flags = add ? NLM_F_CREATE | NLM_F_REPLACE : 0;
	r.u.rt.rtm_family = AF_INET;
	r.u.rt.rtm_dst_len = plen;
	r.u.rt.rtm_table = table < 256 ? (unsigned char)table : RT_TABLE_UNSPEC;
	r.u.rt.rtm_protocol = MIPSA_RTPROT;
	r.u.rt.rtm_scope = RT_SCOPE_LINK;
	r.u.rt.rtm_type = RTN_UNICAST;
	if ((plen > 0 && nl_attr(&r, RTA_DST, &dst.s_addr, 4) < 0) ||
	    nl_attr(&r, RTA_OIF, &oif, sizeof(oif)) < 0 ||
	    nl_attr(&r, RTA_TABLE, &table, sizeof(table)) < 0)
		return -1;
	if (nl_talk(nlfd, &r, add ? "route add" : "route del") < 0) {
		if (!add && errno == ESRCH)
			return 0; /* already gone */
		log_err("route %s %s/%u ifindex %d table %u: %s", add ? "add" : "del", IP4_STR(dst),
			plen, ifindex, table, strerror(errno));
		return -1;
	}
	return 0;
}

int netio_addr_add(int nlfd, int ifindex, struct in_addr addr, uint8_t plen)
{
	struct nl_req r;

	memset(&r, 0, sizeof(r));
	r.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
	r.nh.nlmsg_type = RTM_NEWADDR;
	r.nh.nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	r.u.ifa.ifa_family = AF_INET;
	r.u.ifa.ifa_prefixlen = plen;
	r.u.ifa.ifa_index = (unsigned)ifindex;
	r.u.ifa.ifa_scope = RT_SCOPE_UNIVERSE;
	if (nl_attr(&r, IFA_LOCAL, &addr.s_addr, 4) < 0 ||
	    nl_attr(&r, IFA_ADDRESS, &addr.s_addr, 4) < 0)
		return -1;
	if (nl_talk(nlfd, &r, "address add") < 0 && errno != EEXIST) {
		log_err("address %s/%u on ifindex %d: %s", IP4_STR(addr), plen, ifindex,
			strerror(errno));
		return -1;
	}
	return 0;
}

int netio_rule_iif(int nlfd, bool add, const char *iifname, uint32_t table, uint32_t prio)
{
	struct nl_req r;

	memset(&r, 0, sizeof(r));
	r.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct fib_rule_hdr));
	r.nh.nlmsg_type = add ? RTM_NEWRULE : RTM_DELRULE;
	r.nh.nlmsg_flags = add ? NLM_F_CREATE | NLM_F_EXCL : 0;
	r.u.frh.family = AF_INET;
	r.u.frh.action = FR_ACT_TO_TBL;
	r.u.frh.table = table < 256 ? (unsigned char)table : RT_TABLE_UNSPEC;
	if (nl_attr(&r, FRA_IIFNAME, iifname, strlen(iifname) + 1) < 0 ||
	    nl_attr(&r, FRA_TABLE, &table, sizeof(table)) < 0 ||
	    nl_attr(&r, FRA_PRIORITY, &prio, sizeof(prio)) < 0)
		return -1;
	if (nl_talk(nlfd, &r, add ? "rule add" : "rule del") < 0) {
		if ((add && errno == EEXIST) || (!add && errno == ENOENT))
			return 0;
		log_err("rule %s iif %s table %u: %s", add ? "add" : "del", iifname, table,
			strerror(errno));
		return -1;
	}
	return 0;
}

static void netio_link_msg(const struct nlmsghdr *nh, int ifindex, struct netio_link_ev *ev)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(nh);
	bool up;

	if ((nh->nlmsg_type != RTM_NEWLINK && nh->nlmsg_type != RTM_DELLINK) ||
	    nh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)) || ifi->ifi_index != ifindex)
		return;
	up = nh->nlmsg_type == RTM_NEWLINK &&
	     (ifi->ifi_flags & (IFF_UP | IFF_RUNNING)) == (IFF_UP | IFF_RUNNING);
	ev->seen = true;
	ev->was_down = ev->was_down || !up;
	ev->up = up;
}

int netio_nl_link_events(int nlfd, int ifindex, struct netio_link_ev *ev)
{
	char buf[8192];
	ssize_t n;

	*ev = (struct netio_link_ev){0};
	for (;;) {
		n = recv(nlfd, buf, sizeof(buf), 0);
		if (n < 0 && errno == ENOBUFS) {
			/* Some notifications are lost: the link may have moved meanwhile. */
			ev->seen = ev->was_down = true;
			continue;
		}
		if (n <= 0)
			break;
		for (struct nlmsghdr *nh = (struct nlmsghdr *)(void *)buf; NLMSG_OK(nh, (size_t)n);
		     nh = NLMSG_NEXT(nh, n))
			netio_link_msg(nh, ifindex, ev);
	}
	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
		log_rl_warn("link notifications: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int netio_link_running(const char *ifname)
{
	struct ifreq ifr;

	if (netio_ifreq(ifname, SIOCGIFFLAGS, &ifr) < 0)
		return -1;
	return (ifr.ifr_flags & (IFF_UP | IFF_RUNNING)) == (IFF_UP | IFF_RUNNING);
}
