/*
 * Batched socket I/O: see netio_batch.h.
 */
#include "netio_batch.h"
#include "ip4.h"
#include "log.h"
#include "netio.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/*
 * A queued packet's room.  Everything the data path sends fits a frame;
 * a larger packet flushes the queue and goes alone, in order.
 */
#define NETIO_TXQ_SLOT NETIO_FRAME_MAX

struct netio_txq {
	int fd, ifindex;
	enum netio_txq_kind kind;
	bool held;
	unsigned n;
	uint64_t sent, failed;
	struct mmsghdr msg[NETIO_BATCH];
	struct iovec iov[NETIO_BATCH];
	union {
		struct sockaddr_ll ll;
		struct sockaddr_in in;
	} to[NETIO_BATCH];
	uint8_t data[NETIO_BATCH][NETIO_TXQ_SLOT];
};

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
	return q;
}

void netio_txq_free(struct netio_txq *q)
{
	if (q == NULL)
		return;
	netio_txq_release(q);
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

void netio_txq_flush(struct netio_txq *q)
{
	unsigned done = 0;

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

/* ---- receiving ---- */

/* Room for the SO_RXQ_OVFL control message (and IP_PKTINFO, should a socket have it). */
union netio_rx_cmsg {
	char buf[CMSG_SPACE(sizeof(struct in_pktinfo)) + CMSG_SPACE(sizeof(uint32_t))];
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

/* As netio_udp_recv: where a datagram came from, the address and interface it came to. */
static void netio_rx_meta(struct mmsghdr *m, const struct sockaddr_in *from, uint64_t dropped,
			  struct netio_udp_meta *meta)
{
	struct msghdr *mh = &m->msg_hdr;

	*meta = (struct netio_udp_meta){.from = *from,
					.truncated = (mh->msg_flags & MSG_TRUNC) != 0,
					.dropped = dropped};
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm))
		if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
			meta->ifindex = pi.ipi_ifindex;
			meta->dst = pi.ipi_addr;
		}
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
			*dropped = netio_rx_dropped(&b->msg[i].msg_hdr, *dropped);
			netio_rx_meta(&b->msg[i], &b->from[i], *dropped, &meta);
			/* As netio_udp_recv: a datagram cut short comes as 0 bytes, which no parser takes. */
			cb(arg, b->data[i], meta.truncated ? 0 : b->msg[i].msg_len, &meta);
		}
		if (r > 0)
			total += r;
	} while (r == NETIO_BATCH);
	netio_rx_busy = false;
	return total;
}
