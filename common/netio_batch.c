/*
 * Batched socket I/O: see netio_batch.h.
 */
#include "netio_batch.h"
#include "ip4.h"
#include "log.h"
#include "netio.h"
#include "udp_gso.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <unistd.h>

/*
 * A queued packet's room.  Everything the data path sends fits a frame;
 * a larger packet flushes the queue and goes alone, in order.
 */
#define NETIO_TXQ_SLOT NETIO_FRAME_MAX

#define NETIO_ETH_LEN 14

/*
 * A packet queue's frames with UDP GSO (udp_gso.h): a second packet
 * socket, raw (we write the Ethernet header) with PACKET_VNET_HDR, for
 * everything the queue flushes.  Each frame: virtio-net header, Ethernet
 * header, then a packet, or a run's headers and its packets' payloads.
 */
struct netio_gso {
	int fd;
	uint8_t src_mac[NETIO_MAC_LEN];
	uint64_t frames, packets; /* runs sent as one frame, the packets in them */
	struct mmsghdr msg[NETIO_BATCH];
	unsigned first[NETIO_BATCH]; /* the queue index each frame starts at */
	struct iovec iov[NETIO_BATCH][NETIO_BATCH + 3];
	uint8_t vnet[NETIO_BATCH][UDP_GSO_VNET_LEN];
	uint8_t eth[NETIO_BATCH][NETIO_ETH_LEN];
	uint8_t hdrs[NETIO_BATCH][UDP_GSO_HDRS];
};

struct netio_txq {
	int fd, ifindex;
	enum netio_txq_kind kind;
	bool held;
	unsigned n;
	uint64_t sent, failed;
	struct netio_gso *gso; /* NULL: plain sendmmsg */
	struct mmsghdr msg[NETIO_BATCH];
	struct iovec iov[NETIO_BATCH];
	union {
		struct sockaddr_ll ll;
		struct sockaddr_in in;
	} to[NETIO_BATCH];
	uint8_t data[NETIO_BATCH][NETIO_TXQ_SLOT];
};

/* The GSO socket of a packet queue; NULL (plain sends) when the kernel or the device has none. */
static struct netio_gso *netio_gso_open(int ifindex)
{
	struct netio_gso *g = calloc(1, sizeof(*g));
	/* Protocol 0: it only sends (each frame says IPv4 in its address). */
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_ifindex = ifindex};
	char name[IF_NAMESIZE];
	int one = 1;

	if (g == NULL)
		return NULL;
	g->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (g->fd < 0 || setsockopt(g->fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) < 0 ||
	    bind(g->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0 ||
	    if_indextoname((unsigned)ifindex, name) == NULL || netio_ifmac(name, g->src_mac) < 0) {
		log_info("ifindex %d: no UDP segmentation offload (%s): one frame a packet",
			 ifindex, strerror(errno));
		if (g->fd >= 0)
			close(g->fd);
		free(g);
		return NULL;
	}
	return g;
}

static void netio_gso_close(struct netio_gso *g)
{
	if (g == NULL)
		return;
	close(g->fd);
	free(g);
}

struct netio_txq *netio_txq_new(int fd, enum netio_txq_kind kind, int ifindex)
{
	struct netio_txq *q = calloc(1, sizeof(*q));

	if (q == NULL) {
		log_err("send queue: out of memory");
		return NULL;
	}
	q->fd = fd;
	q->kind = kind;
	q->ifindex = ifindex;
	if (kind == NETIO_TXQ_PACKET && getenv("MIPSA_NO_UDP_GSO") == NULL)
		q->gso = netio_gso_open(ifindex);
	return q;
}

void netio_txq_free(struct netio_txq *q)
{
	if (q == NULL)
		return;
	netio_txq_release(q);
	netio_gso_close(q->gso);
	free(q);
}

void netio_txq_hold(struct netio_txq *q)
{
	q->held = true;
}

void netio_txq_release(struct netio_txq *q)
{
	netio_txq_flush(q);
	q->held = false;
}

static void netio_txq_fail(struct netio_txq *q, unsigned i, int err)
{
	const struct mmsghdr *m = &q->msg[i];

	q->failed++;
	if (q->kind == NETIO_TXQ_PACKET)
		log_rl_warn("sendto ifindex %d: %s", q->ifindex, strerror(err));
	else
		log_rl_warn("sendto %s: %s",
			    IP4_STR(((const struct sockaddr_in *)m->msg_hdr.msg_name)->sin_addr),
			    strerror(err));
}

/* Send queue entries from `from` on, one frame each, as sendmmsg takes them. */
static void netio_txq_flush_plain(struct netio_txq *q, unsigned from)
{
	unsigned done = from;

	/* A refused packet is logged and skipped, as a single send's failure was; the rest go on.
	 */
	while (done < q->n) {
		int r = sendmmsg(q->fd, q->msg + done, q->n - done, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			netio_txq_fail(q, done, errno);
			done++;
			continue;
		}
		q->sent += (unsigned)r;
		done += (unsigned)r;
	}
}

/* Frame m of the GSO batch: queue entries i.. (a run of k, or one alone); returns k. */
static unsigned netio_gso_frame(struct netio_txq *q, unsigned m, unsigned i)
{
	struct netio_gso *g = q->gso;
	struct udp_gso_pkt pk[NETIO_BATCH];
	struct iovec *iov = g->iov[m];
	unsigned k, j, nio = 0;

	for (j = i; j < q->n; j++)
		pk[j - i] = (struct udp_gso_pkt){.data = q->data[j], .len = q->iov[j].iov_len};
	k = (unsigned)udp_gso_run(pk, q->n - i, NETIO_ETH_LEN, g->vnet[m], g->hdrs[m]);
	/* A run goes to one MAC; anything else alone. */
	for (j = 1; j < k; j++)
		if (memcmp(q->to[i + j].ll.sll_addr, q->to[i].ll.sll_addr, NETIO_MAC_LEN) != 0)
			break;
	k = j;
	if (k < 2)
		memset(g->vnet[m], 0, UDP_GSO_VNET_LEN);
	memcpy(g->eth[m], q->to[i].ll.sll_addr, NETIO_MAC_LEN);
	memcpy(g->eth[m] + NETIO_MAC_LEN, g->src_mac, NETIO_MAC_LEN);
	g->eth[m][12] = ETH_P_IP >> 8;
	g->eth[m][13] = ETH_P_IP & 0xff;
	iov[nio++] = (struct iovec){.iov_base = g->vnet[m], .iov_len = UDP_GSO_VNET_LEN};
	iov[nio++] = (struct iovec){.iov_base = g->eth[m], .iov_len = NETIO_ETH_LEN};
	if (k < 2) {
		iov[nio++] = q->iov[i];
	} else {
		iov[nio++] = (struct iovec){.iov_base = g->hdrs[m], .iov_len = UDP_GSO_HDRS};
		for (j = i; j < i + k; j++)
			iov[nio++] = (struct iovec){.iov_base = q->data[j] + UDP_GSO_HDRS,
						    .iov_len = q->iov[j].iov_len - UDP_GSO_HDRS};
	}
	g->first[m] = i;
	g->msg[m].msg_hdr = (struct msghdr){.msg_name = &q->to[i].ll,
					    .msg_namelen = sizeof(q->to[i].ll),
					    .msg_iov = iov,
					    .msg_iovlen = nio};
	return k;
}

/*
 * The queue as GSO frames.  If the kernel refuses one that carries a run,
 * GSO is off for good and that frame's packets and the rest go plain.
 */
static void netio_txq_flush_gso(struct netio_txq *q)
{
	struct netio_gso *g = q->gso;
	unsigned m = 0, i = 0, done = 0;

	while (i < q->n)
		i += netio_gso_frame(q, m++, i);
	while (done < m) {
		int r = sendmmsg(g->fd, g->msg + done, m - done, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && g->vnet[done][1] != 0 &&
		    (errno == EINVAL || errno == EOPNOTSUPP || errno == EPROTONOSUPPORT)) {
			log_warn("ifindex %d: UDP segmentation offload refused (%s): off",
				 q->ifindex, strerror(errno));
			q->gso = NULL;
			netio_txq_flush_plain(q, g->first[done]);
			netio_gso_close(g);
			return;
		}
		if (r < 0) {
			unsigned k = (done + 1 < m ? g->first[done + 1] : q->n) - g->first[done];
			netio_txq_fail(q, g->first[done], errno);
			q->failed += k - 1;
			done++;
			continue;
		}
		for (int f = 0; f < r; f++, done++) {
			unsigned k = (done + 1 < m ? g->first[done + 1] : q->n) - g->first[done];
			q->sent += k;
			if (k > 1 && g->frames++ == 0)
				log_info("ifindex %d: UDP segmentation offload in use", q->ifindex);
			if (k > 1)
				g->packets += k;
		}
	}
}

void netio_txq_flush(struct netio_txq *q)
{
	if (q->gso != NULL && q->n > 0)
		netio_txq_flush_gso(q);
	else
		netio_txq_flush_plain(q, 0);
	q->n = 0;
}

/* Queue pkt for the address in to (addrlen bytes); sent at once when not held. */
static int netio_txq_put(struct netio_txq *q, const void *to, socklen_t addrlen, const uint8_t *pkt,
			 size_t len)
{
	unsigned i;

	if (len > NETIO_TXQ_SLOT || !q->held) {
		/* Alone, and after what is queued: packets leave in the order they were sent. */
		struct iovec iov = {.iov_base = (void *)(uintptr_t)pkt, .iov_len = len};
		struct msghdr mh = {.msg_name = (void *)(uintptr_t)to,
				    .msg_namelen = addrlen,
				    .msg_iov = &iov,
				    .msg_iovlen = 1};

		netio_txq_flush(q);
		if (sendmsg(q->fd, &mh, 0) < 0) {
			int err = errno;

			q->failed++;
			log_rl_warn("send of %zu bytes on fd %d: %s", len, q->fd, strerror(err));
			return -1;
		}
		q->sent++;
		return 0;
	}
	i = q->n++;
	memcpy(q->data[i], pkt, len);
	memcpy(&q->to[i], to, addrlen);
	q->iov[i] = (struct iovec){.iov_base = q->data[i], .iov_len = len};
	q->msg[i].msg_hdr = (struct msghdr){.msg_name = &q->to[i],
					    .msg_namelen = addrlen,
					    .msg_iov = &q->iov[i],
					    .msg_iovlen = 1};
	if (q->n == NETIO_BATCH)
		netio_txq_flush(q);
	return 0;
}

int netio_txq_frame(struct netio_txq *q, const uint8_t dst_mac[6], const uint8_t *pkt, size_t len)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_IP),
		.sll_ifindex = q->ifindex,
		.sll_halen = NETIO_MAC_LEN,
	};

	if (q->kind != NETIO_TXQ_PACKET) {
		log_rl_warn("frame on a queue for IP packets");
		return -1;
	}
	memcpy(sll.sll_addr, dst_mac, NETIO_MAC_LEN);
	return netio_txq_put(q, &sll, sizeof(sll), pkt, len);
}

int netio_txq_ip(struct netio_txq *q, const uint8_t *pkt, size_t len)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};

	if (q->kind != NETIO_TXQ_RAW || len < IP4_HDR_LEN) {
		log_rl_warn("%zu-byte IP packet on a %s queue", len,
			    q->kind == NETIO_TXQ_RAW ? "raw" : "packet");
		return -1;
	}
	memcpy(&sin.sin_addr.s_addr, pkt + IP4_DST_OFF, sizeof(sin.sin_addr.s_addr));
	return netio_txq_put(q, &sin, sizeof(sin), pkt, len);
}

uint64_t netio_txq_sent(const struct netio_txq *q)
{
	return q->sent;
}

uint64_t netio_txq_failed(const struct netio_txq *q)
{
	return q->failed;
}

uint64_t netio_txq_gso_packets(const struct netio_txq *q)
{
	return q->gso != NULL ? q->gso->packets : 0;
}

/* ---- receiving ---- */

/* Room for the SO_RXQ_OVFL control message, IP_PKTINFO and UDP_GRO, should a socket have them. */
union netio_rx_cmsg {
	char buf[CMSG_SPACE(sizeof(struct in_pktinfo)) + CMSG_SPACE(sizeof(uint32_t)) +
		 CMSG_SPACE(sizeof(int))];
	struct cmsghdr align;
};

/* One receive batch: a raw socket hands over reassembled datagrams, up to 64 KiB each. */
struct netio_rx_batch {
	struct mmsghdr msg[NETIO_BATCH];
	struct iovec iov[NETIO_BATCH];
	union netio_rx_cmsg cmsg[NETIO_BATCH];
	struct sockaddr_in from[NETIO_BATCH];
	uint8_t data[NETIO_BATCH][IP4_MAX_PACKET];
};

/* As netio.c's netio_cmsg_dropped: no control message means the total is still 0. */
static uint64_t netio_rx_dropped(struct msghdr *mh, uint64_t prev)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SO_RXQ_OVFL) {
			uint32_t v;
			memcpy(&v, CMSG_DATA(cm), sizeof(v));
			return v > prev ? v : prev;
		}
	return prev;
}

/*
 * As netio_udp_recv: where a datagram came from, the address and interface
 * it came to; and the segment size when the kernel joined several (UDP_GRO).
 */
static size_t netio_rx_meta(struct mmsghdr *m, const struct sockaddr_in *from, uint64_t dropped,
			    struct netio_udp_meta *meta)
{
	struct msghdr *mh = &m->msg_hdr;
	int gso = 0;

	*meta = (struct netio_udp_meta){
		.from = *from, .truncated = (mh->msg_flags & MSG_TRUNC) != 0, .dropped = dropped};
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			meta->ifindex = pi.ipi_ifindex;
			meta->dst = pi.ipi_addr;
		}
		if (cm->cmsg_level == SOL_UDP && cm->cmsg_type == UDP_GRO)
			memcpy(&gso, CMSG_DATA(cm), sizeof(gso));
	}
	return gso > 0 ? (size_t)gso : 0;
}

/*
 * The one batch of this thread, made on first use (2 MiB is no stack
 * frame), and whether a drain is using it: a callback that drains another
 * socket would overwrite the batch it came from.
 */
static _Thread_local struct netio_rx_batch *netio_rx_b;
static _Thread_local bool netio_rx_busy;

static struct netio_rx_batch *netio_rx_take(void)
{
	if (netio_rx_b == NULL && (netio_rx_b = malloc(sizeof(*netio_rx_b))) == NULL) {
		log_rl_warn("receive batch: out of memory");
		return NULL;
	}
	if (netio_rx_busy) {
		log_rl_warn("a socket drained from a drain's own callback");
		return NULL;
	}
	netio_rx_busy = true;
	return netio_rx_b;
}

/* Read up to NETIO_BATCH datagrams into b (with their senders when names). */
static int netio_rx_batch(int fd, struct netio_rx_batch *b, bool names)
{
	for (unsigned i = 0; i < NETIO_BATCH; i++) {
		b->iov[i] = (struct iovec){.iov_base = b->data[i], .iov_len = IP4_MAX_PACKET};
		b->msg[i].msg_hdr = (struct msghdr){.msg_name = names ? &b->from[i] : NULL,
						    .msg_namelen = names ? sizeof(b->from[i]) : 0,
						    .msg_iov = &b->iov[i],
						    .msg_iovlen = 1,
						    .msg_control = b->cmsg[i].buf,
						    .msg_controllen = sizeof(b->cmsg[i])};
	}
	return recvmmsg(fd, b->msg, NETIO_BATCH, MSG_DONTWAIT, NULL);
}

int netio_rx_drain(int fd, netio_rx_cb cb, void *arg, uint64_t *dropped)
{
	struct netio_rx_batch *b = netio_rx_take();
	int total = 0, r;

	if (b == NULL)
		return -1;
	do {
		r = netio_rx_batch(fd, b, false);
		for (int i = 0; i < r; i++) {
			*dropped = netio_rx_dropped(&b->msg[i].msg_hdr, *dropped);
			cb(arg, b->data[i], b->msg[i].msg_len);
		}
		if (r > 0)
			total += r;
	} while (r == NETIO_BATCH);
	netio_rx_busy = false;
	return total;
}

int netio_udp_gro(int fd)
{
	int one = 1;

	if (setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof(one)) < 0) {
		log_info("UDP_GRO: %s: datagrams one by one", strerror(errno));
		return -1;
	}
	return 0;
}

int netio_udp_drain(int fd, netio_udp_rx_cb cb, void *arg, uint64_t *dropped)
{
	struct netio_rx_batch *b = netio_rx_take();
	struct netio_udp_meta meta;
	int total = 0, r;

	if (b == NULL)
		return -1;
	do {
		r = netio_rx_batch(fd, b, true);
		for (int i = 0; i < r; i++) {
			size_t gso, len = b->msg[i].msg_len, off = 0, n;

			*dropped = netio_rx_dropped(&b->msg[i].msg_hdr, *dropped);
			gso = netio_rx_meta(&b->msg[i], &b->from[i], *dropped, &meta);
			/* As netio_udp_recv: a datagram cut short comes as 0 bytes, which no parser
			 * takes. */
			if (meta.truncated) {
				cb(arg, b->data[i], 0, &meta);
				continue;
			}
			/* Datagrams the kernel joined (UDP_GRO), one by one. */
			do {
				size_t at = off;
				n = udp_gro_next(len, gso, &off);
				cb(arg, b->data[i] + at, n, &meta);
			} while (off < len);
		}
		if (r > 0)
			total += r;
	} while (r == NETIO_BATCH);
	netio_rx_busy = false;
	return total;
}
