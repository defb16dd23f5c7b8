/*
 * UDP segmentation offload for a packet socket: see udp_gso.h.
 */
#include "udp_gso.h"
#include "ip4.h"

#include <string.h>

#define UDP_GSO_NEEDS_CSUM  0x01 /* VIRTIO_NET_HDR_F_NEEDS_CSUM */
#define UDP_GSO_TYPE_UDP_L4 5    /* VIRTIO_NET_HDR_GSO_UDP_L4 */
#define UDP_GSO_ESP_PORT    4500 /* RFC 3948 */
/* At most this many segments a frame: the kernel's UDP_MAX_SEGMENTS. */
#define UDP_GSO_MAX_SEGS 64

static uint16_t udp_gso_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void udp_gso_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/*
 * The UDP payload length of a packet that may be in a run; 0 for one that
 * may not.  Only ESP in UDP as ipsec_seal writes it (to port 4500, a
 * nonzero SPI, the UDP checksum zero): the kernel gives the segments new
 * Identifications and checksums, which is no business of ours in packets
 * we only pass on.
 */
static size_t udp_gso_payload(const struct udp_gso_pkt *p)
{
	const uint8_t *d = p->data;

	if (p->len < UDP_GSO_HDRS + 4 || p->len > IP4_MAX_PACKET || d[0] != 0x45 ||
	    d[9] != IP4_PROTO_UDP || (udp_gso_be16(d + 6) & (IP4_MF | IP4_OFFMASK)) != 0 ||
	    udp_gso_be16(d + 2) != p->len || udp_gso_be16(d + 24) != p->len - IP4_HDR_LEN ||
	    udp_gso_be16(d + 22) != UDP_GSO_ESP_PORT || udp_gso_be16(d + 26) != 0 ||
	    memcmp(d + UDP_GSO_HDRS, "\0\0\0\0", 4) == 0)
		return 0;
	return p->len - UDP_GSO_HDRS;
}

/* Whether b's headers are a's but for total length, Identification and header checksum. */
static int udp_gso_same(const uint8_t *a, const uint8_t *b)
{
	return a[1] == b[1] && memcmp(a + 6, b + 6, 4) == 0 && memcmp(a + 12, b + 12, 12) == 0;
}

size_t udp_gso_run(const struct udp_gso_pkt *pkts, size_t n, size_t link_len,
		   uint8_t vnet[UDP_GSO_VNET_LEN], uint8_t hdrs[UDP_GSO_HDRS])
{
	size_t seg = n > 0 ? udp_gso_payload(&pkts[0]) : 0, total, k;
	uint32_t sum;

	if (seg == 0)
		return 1;
	total = seg;
	for (k = 1; k < n && k < UDP_GSO_MAX_SEGS; k++) {
		size_t pl = udp_gso_payload(&pkts[k]);

		if (pl == 0 || pl > seg || total + pl > IP4_MAX_PACKET - UDP_GSO_HDRS ||
		    !udp_gso_same(pkts[0].data, pkts[k].data))
			break;
		total += pl;
		/* A shorter one ends the run: the kernel cuts every segment but the last full. */
		if (pl < seg) {
			k++;
			break;
		}
	}
	if (k < 2)
		return 1;
	memcpy(hdrs, pkts[0].data, UDP_GSO_HDRS);
	udp_gso_put16(hdrs + 2, (uint16_t)(UDP_GSO_HDRS + total));
	udp_gso_put16(hdrs + 10, 0);
	udp_gso_put16(hdrs + 10, inet_cksum(hdrs, IP4_HDR_LEN));
	udp_gso_put16(hdrs + 24, (uint16_t)(UDP_HDR_LEN + total));
	/* A partial checksum, as the stack leaves one: the folded pseudo-header sum. */
	sum = inet_cksum_add(0, hdrs + 12, 8) + IP4_PROTO_UDP + (uint32_t)(UDP_HDR_LEN + total);
	udp_gso_put16(hdrs + 26, (uint16_t)~inet_cksum_fold(sum));
	/* virtio-net header, little-endian fields (a modern, little-endian virtio device). */
	vnet[0] = UDP_GSO_NEEDS_CSUM;
	vnet[1] = UDP_GSO_TYPE_UDP_L4;
	vnet[2] = (uint8_t)(link_len + UDP_GSO_HDRS);
	vnet[3] = (uint8_t)((link_len + UDP_GSO_HDRS) >> 8);
	vnet[4] = (uint8_t)seg;
	vnet[5] = (uint8_t)(seg >> 8);
	vnet[6] = (uint8_t)(link_len + IP4_HDR_LEN);
	vnet[7] = (uint8_t)((link_len + IP4_HDR_LEN) >> 8);
	vnet[8] = 6; /* the UDP checksum's offset in its header */
	vnet[9] = 0;
	return k;
}

size_t udp_gro_next(size_t len, size_t gso, size_t *off)
{
	size_t left = *off < len ? len - *off : 0, n;

	n = gso == 0 || gso > left ? left : gso;
	*off += n;
	return n;
}
