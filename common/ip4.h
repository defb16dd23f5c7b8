/*
 * IPv4, UDP and ICMP framing for the userspace data plane: Internet
 * checksums, header parse with every length checked, header build, and
 * IP-in-IP encapsulation (RFC 2003).
 */
#ifndef MIPSA_IP4_H
#define MIPSA_IP4_H

#include "buf.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IP4_HDR_LEN    20
#define IP4_HDR_MAX    60 /* with options: IHL 15 */
#define IP4_DST_OFF    16 /* the destination address in the header */
#define UDP_HDR_LEN    8
#define IP4_PROTO_ICMP 1
#define IP4_PROTO_IPIP 4
#define IP4_PROTO_UDP  17
#define IP4_PROTO_ESP  50
#define IP4_DF         0x4000
#define IP4_MF         0x2000
#define IP4_OFFMASK    0x1fff
#define IP4_MAX_PACKET 65535

uint32_t inet_cksum_add(uint32_t sum, const void *data, size_t len);
uint16_t inet_cksum_fold(uint32_t sum);
/* The checksum of data; 0 when data already holds a correct checksum. */
uint16_t inet_cksum(const void *data, size_t len);

struct ip4_hdr {
	uint8_t hlen; /* header length in bytes */
	uint8_t tos;
	uint16_t total_len;
	uint16_t id;
	uint16_t frag; /* flags and fragment offset */
	uint8_t ttl;
	uint8_t proto;
	struct in_addr src, dst;
};

enum ip4_err {
	IP4_OK = 0,
	IP4_E_TRUNCATED,
	IP4_E_VERSION,
	IP4_E_HLEN,
	IP4_E_LENGTH, /* total length below the header or beyond the data */
	IP4_E_CHECKSUM,
	IP4_E_FRAGMENT, /* a fragment; this data plane does not reassemble */
	IP4_E_PROTO,    /* not the protocol asked for */
	IP4_E_UDP,      /* UDP length or checksum wrong */
	IP4_E_MAX
};

const char *ip4_err_name(enum ip4_err e);

/*
 * Parse the IPv4 header of pkt.  Bytes after Total Length (link-layer
 * padding) are ignored; payload covers exactly the IP payload.
 */
enum ip4_err ip4_parse(const uint8_t *pkt, size_t len, struct ip4_hdr *h, struct buf *payload);
/*
 * The same checks, but a fragment is accepted: for packets we only forward
 * or tunnel, which needs no reassembly (RFC 2003 carries fragments as they are).
 */
enum ip4_err ip4_parse_fwd(const uint8_t *pkt, size_t len, struct ip4_hdr *h, struct buf *payload);
/* Parse an IPv4 packet that must carry UDP; udp covers the UDP payload. */
enum ip4_err ip4_udp_parse(const uint8_t *pkt, size_t len, struct ip4_hdr *h, uint16_t *sport,
			   uint16_t *dport, struct buf *udp);

/*
 * The same for a frame captured on a link (libpcap, packet socket), without
 * the UDP checksum: a locally generated packet crossing a veth is captured
 * before checksum offload fills it in (CHECKSUM_PARTIAL), so the field holds
 * only the pseudo-header sum.  The IP header checksum is still checked; the
 * payloads we read this way carry their own authenticators.
 */
enum ip4_err ip4_udp_parse_captured(const uint8_t *pkt, size_t len, struct ip4_hdr *h,
				    uint16_t *sport, uint16_t *dport, struct buf *udp);

/*
 * A packet parsed once on its way through an agent (ip4_pkt_parse): the
 * header with ip4_parse_fwd's checks, and, for a whole packet (not a
 * fragment) carrying UDP, the ports and the UDP payload, read as
 * ip4_udp_parse_captured reads them.  Everything points into the packet.
 */
struct ip4_pkt {
	const uint8_t *data; /* the packet, h.total_len bytes */
	struct ip4_hdr h;
	bool fragment;
	struct buf payload; /* the IP payload */
	bool udp;           /* a whole packet with a well-formed UDP header */
	uint16_t sport, dport;
	struct buf udp_payload;
};
enum ip4_err ip4_pkt_parse(const uint8_t *pkt, size_t len, struct ip4_pkt *p);

/* Write a 20-byte header with h->total_len and a computed checksum. */
int ip4_put_header(struct buf *b, const struct ip4_hdr *h);
/* A random Identification for a packet we originate (RFC 6864), from a pool. */
uint16_t ip4_new_id(void);
/* A whole IPv4/UDP packet around payload, UDP checksum included. */
int ip4_udp_put(struct buf *b, struct in_addr src, struct in_addr dst, uint16_t sport,
		uint16_t dport, uint8_t ttl, const uint8_t *payload, size_t plen);
/* A whole IPv4/ICMP packet around an ICMP message whose checksum is set. */
int ip4_icmp_put(struct buf *b, struct in_addr src, struct in_addr dst, uint8_t ttl,
		 const uint8_t *icmp, size_t len);

/*
 * IP-in-IP (RFC 2003 3.1): outer header src -> dst, protocol 4, TOS and DF
 * copied from the inner header, TTL ttl.
 */
int ip4_encap(struct buf *b, struct in_addr src, struct in_addr dst, uint8_t ttl,
	      const uint8_t *inner, size_t len);

/* Format an address; IP4_STR gives each use its own buffer, so several can share one printf. */
const char *ip4_ntop(struct in_addr a, char *buf);
#define IP4_STR(a) ip4_ntop((a), (char[16]){0})

#endif
