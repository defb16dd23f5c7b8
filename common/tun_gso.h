/*
 * TUN offload: what a TUN device opened with IFF_VNET_HDR hands us, and
 * what we write back.  With TUNSETOFFLOAD (TUN_F_CSUM | TUN_F_TSO4) the
 * node's stack writes whole TCP super-packets of up to 64 KiB, and
 * packets whose transport checksum it left for the "hardware" to finish,
 * each behind a virtio-net header (struct virtio_net_hdr, 10 bytes, the
 * host's byte order).  One read then brings up to ~45 MSS-sized segments
 * and the stack's per-segment work is gone: the way wireguard-go's TUN
 * offload reaches its speed.  This module turns such a read into the
 * ordinary IPv4 packets the rest of the data plane takes: TCP segmented by
 * gso_size with sequence numbers, IP Identifications, lengths, flags and
 * both checksums set as the kernel's own TSO would set them, and a
 * partial checksum finished.
 *
 * The input comes from the local stack, but it is parsed as if hostile:
 * every length is checked, and anything that is not IPv4 (TCP for GSO)
 * with a consistent header is refused, never guessed at.
 */
#ifndef MIPSA_TUN_GSO_H
#define MIPSA_TUN_GSO_H

#include "buf.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TUN_VNET_HDR_LEN   10 /* struct virtio_net_hdr */
#define IP4_MAX_PACKET_GRO 65535

enum tun_gso_err {
	TUN_GSO_OK = 0,
	TUN_GSO_E_SHORT,   /* shorter than the virtio-net header and an IPv4 header */
	TUN_GSO_E_VNET,    /* header flags, checksum place or GSO type we do not know */
	TUN_GSO_E_IP,      /* not IPv4, or its header or total length does not fit */
	TUN_GSO_E_TCP,     /* a GSO packet that is not a whole, unfragmented TCP segment */
	TUN_GSO_E_SEGMENT, /* gso_size 0, or a segment that would not fit 64 KiB */
	TUN_GSO_E_NOSPACE, /* the output buffer is too small */
	TUN_GSO_E_MAX
};

const char *tun_gso_err_name(enum tun_gso_err e);

/* One read from the TUN, being cut into packets (tun_gso_next). */
struct tun_gso {
	const uint8_t *pkt; /* the IPv4 packet after the virtio-net header */
	size_t len;         /* its length (= its Total Length) */
	bool gso;           /* a TCP super-packet to segment */
	bool csum;          /* a partial checksum to finish (no GSO) */
	size_t csum_start, csum_offset;
	size_t hdr_len; /* GSO: IP and TCP headers */
	size_t mss;     /* GSO: payload bytes per segment */
	size_t at;      /* GSO: payload bytes handed out so far */
	unsigned n;     /* packets handed out so far */
	bool done;
};

/* Check the header and the packet behind it (len bytes read from the TUN). */
enum tun_gso_err tun_gso_init(struct tun_gso *g, const uint8_t *frame, size_t len);
/*
 * The next packet into out (at its write position): 1 when one was
 * written, 0 when there is none left; a failure (TUN_GSO_E_NOSPACE only,
 * once init succeeded) as the negated error, the buffer left as it was.
 */
int tun_gso_next(struct tun_gso *g, struct buf *out);

/* The virtio-net header to write before a packet into the TUN: no GSO, checksum complete. */
extern const uint8_t tun_vnet_hdr_none[TUN_VNET_HDR_LEN];

/*
 * The other way: consecutive TCP segments of one flow, as they come out
 * of the tunnel, joined into one super-packet written to the TUN with a
 * GSO header (as the kernel's GRO would join them), so the stack forwards
 * or takes in one packet instead of dozens.  Only what the kernel would
 * join is joined: IPv4 without options, DF set, TCP with only ACK (PSH on
 * the last), a valid TCP checksum, the same addresses, ports, TOS, TTL,
 * acknowledgement, window and options, contiguous sequence numbers, equal
 * sizes (the last may be shorter), 64 KiB at most.
 */
struct tun_gro {
	uint8_t frame[TUN_VNET_HDR_LEN + IP4_MAX_PACKET_GRO];
	size_t len;     /* IPv4 bytes in frame after the header; 0: empty */
	size_t hdr_len; /* IP and TCP headers */
	size_t mss;     /* the first segment's payload */
	unsigned segs;  /* segments joined */
	uint32_t next_seq;
	bool closed; /* a short or PSH segment ended it */
};

void tun_gro_init(struct tun_gro *g);
/*
 * Add pkt: 1 when it joined (or started) the super-packet; 0 when it does
 * not follow it: the caller writes what tun_gro_take gives and adds pkt
 * again (it starts the next); -1 when it is nothing GRO joins: the caller
 * writes what tun_gro_take gives, then pkt alone.
 */
int tun_gro_add(struct tun_gro *g, const uint8_t *pkt, size_t len);
/*
 * What to write to the TUN, header included (*len bytes; NULL when
 * empty), and empty it.  The frame stays valid until the next add.
 */
const uint8_t *tun_gro_take(struct tun_gro *g, size_t *len);

#endif
