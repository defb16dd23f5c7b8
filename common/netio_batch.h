/*
 * Batched socket I/O for the data path: one system call for many packets.
 *
 * A data-path read handler drains its socket with netio_rx_drain
 * (recvmmsg, NETIO_BATCH datagrams a call) and sends through a
 * netio_txq held for the length of the drain: what the handler sends
 * meanwhile is copied into the queue and leaves in one sendmmsg when the
 * queue is full or the handler releases it.  Sends while the queue is not
 * held (timers, control traffic) go out at once, as single sends did, so
 * nothing waits in a queue nobody flushes.
 */
#ifndef MIPSA_NETIO_BATCH_H
#define MIPSA_NETIO_BATCH_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Packets a batch holds.  32 is what the kernel's own GRO and
 * wireguard-go use: beyond it the saved system calls no longer show, and
 * a held packet waits at most 31 others' processing.
 */
#define NETIO_BATCH 32

/* Where a queue sends: a packet socket (frames to a MAC) or a raw IP_HDRINCL socket. */
enum netio_txq_kind { NETIO_TXQ_PACKET, NETIO_TXQ_RAW };

struct netio_txq;
/* A queue for fd (and ifindex, for a packet socket); NULL when out of memory. */
struct netio_txq *netio_txq_new(int fd, enum netio_txq_kind kind, int ifindex);
void netio_txq_free(struct netio_txq *q);
/* Hold sends from now on, until netio_txq_release. */
void netio_txq_hold(struct netio_txq *q);
/* Send what is queued and stop holding. */
void netio_txq_release(struct netio_txq *q);
/* Send what is queued (and keep holding). */
void netio_txq_flush(struct netio_txq *q);
/* An IPv4 frame to dst_mac (packet socket queue); -1 for a packet that cannot be sent. */
int netio_txq_frame(struct netio_txq *q, const uint8_t dst_mac[6], const uint8_t *pkt, size_t len);
/* An IPv4 packet with its header, to its destination (raw queue). */
int netio_txq_ip(struct netio_txq *q, const uint8_t *pkt, size_t len);
/* Packets sent and packets the kernel refused (logged, rate-limited), since the queue was made. */
uint64_t netio_txq_sent(const struct netio_txq *q);
uint64_t netio_txq_failed(const struct netio_txq *q);
/* Packets that left in UDP GSO frames, runs of two or more (udp_gso.h); 0 without GSO. */
uint64_t netio_txq_gso_packets(const struct netio_txq *q);

/*
 * Read every datagram waiting on fd, NETIO_BATCH a system call, and hand
 * each to cb in arrival order.  *dropped, as netio_recv, is the socket's
 * running total of datagrams the kernel dropped for a full buffer.  Returns
 * the number read, or -1 when the buffers cannot be had.
 */
typedef void (*netio_rx_cb)(void *arg, uint8_t *pkt, size_t len);
int netio_rx_drain(int fd, netio_rx_cb cb, void *arg, uint64_t *dropped);

/*
 * The same for a UDP socket opened with netio_udp_open: each datagram with
 * what netio_udp_recv tells of it (sender, local address, interface).
 */
struct netio_udp_meta;
typedef void (*netio_udp_rx_cb)(void *arg, uint8_t *pkt, size_t len,
				const struct netio_udp_meta *meta);
int netio_udp_drain(int fd, netio_udp_rx_cb cb, void *arg, uint64_t *dropped);
/*
 * Let the kernel hand fd's datagrams over joined (UDP_GRO): a GSO frame
 * (udp_gso.h) stays one until netio_udp_drain, which cuts it.  Only for a
 * socket read with netio_udp_drain.  -1 (logged) when the kernel cannot.
 */
int netio_udp_gro(int fd);

#endif
