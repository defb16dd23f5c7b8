/*
 * UDP segmentation offload for a packet socket (PACKET_VNET_HDR): runs of
 * queued ESP-in-UDP packets that the kernel's UDP GSO (SKB_GSO_UDP_L4)
 * cuts back into themselves travel as one frame, so the link, the bridges
 * and their filters see one packet instead of dozens.  What one drain
 * seals for a TCP flow is such a run: one SA, one segment size, a shorter
 * last one.
 *
 * A run: ESP in UDP as ipsec_seal writes it (to port 4500, UDP checksum
 * zero, a nonzero SPI), the same 20-byte IPv4 header but for total length,
 * Identification and checksum (no options, not a fragment), the same
 * ports, UDP lengths that agree with the IP lengths, every payload the
 * size of the first but the last, which may be shorter, 64 KiB and 64
 * segments at most.  The kernel gives the segments consecutive
 * Identifications from the first and fills in each UDP checksum (partial:
 * trusted where it is delivered locally, computed by a NIC or the stack).
 */
#ifndef MIPSA_UDP_GSO_H
#define MIPSA_UDP_GSO_H

#include <stddef.h>
#include <stdint.h>

/* struct virtio_net_hdr: flags, gso_type, hdr_len, gso_size, csum_start, csum_offset. */
#define UDP_GSO_VNET_LEN 10
#define UDP_GSO_HDRS     28 /* IPv4 and UDP headers, as the run's frame carries them */

struct udp_gso_pkt {
	const uint8_t *data; /* a whole IPv4 packet */
	size_t len;
};

/*
 * How many packets from pkts[0] (of n) make one run; 1 when pkts[0] goes
 * alone.  For a run of 2 or more: vnet, the virtio-net header for a frame
 * whose link-layer header is link_len bytes, and hdrs, the run's IPv4 and
 * UDP headers, to be followed by every packet's UDP payload.
 */
size_t udp_gso_run(const struct udp_gso_pkt *pkts, size_t n, size_t link_len,
		   uint8_t vnet[UDP_GSO_VNET_LEN], uint8_t hdrs[UDP_GSO_HDRS]);

/*
 * The other way: a datagram the kernel joined for a socket with UDP_GRO
 * (segment size gso from its UDP_GRO control message; 0 when it joined
 * nothing) is cut back into the datagrams it was made of, every one gso
 * bytes but the last.  Each call: the next one's length from *off (which
 * it advances), 0 when none is left.
 */
size_t udp_gro_next(size_t len, size_t gso, size_t *off);

#endif
