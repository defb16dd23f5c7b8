/*
 * Shared harness for the in-process agent tests (test_ha, test_fa, test_mn,
 * test_mip_e2e): addresses and keys used by every test, builders for
 * Registration Requests and Replies with every extension a test needs to
 * add, break or leave out, output capture for struct fa_ops / struct
 * mn_ops callbacks, IPv4 helpers and where the tests' virtual clocks start.
 *
 * It depends on common/ only, so each program links just the agent
 * libraries it drives.
 */
#ifndef MIPSA_AGENT_HARNESS_H
#define MIPSA_AGENT_HARNESS_H

#include "buf.h"
#include "evloop.h"
#include "ip4.h"
#include "mip_auth.h"
#include "mip_msg.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An address from dotted-quad text; aborts on a typo. */
struct in_addr ah_ip(const char *s);
/* A 16-byte key whose bytes are seed, seed+1, ... under spi. */
struct mip_key ah_key(uint32_t spi, uint8_t seed);

/* The addresses of the test topology. */
#define AH_HA        "10.0.0.1"     /* the home agent */
#define AH_HA_OTHER  "10.0.0.2"     /* another home agent */
#define AH_ALICE     "10.0.0.10"    /* home address, NAI alice@example.org */
#define AH_BOB       "10.0.0.11"    /* home address, no NAI */
#define AH_CAROL     "10.0.0.12"    /* home address, NAI carol@example.org */
#define AH_COA1      "192.0.2.1"    /* first foreign agent's care-of address */
#define AH_COA2      "192.0.2.2"    /* second foreign agent's care-of address */
#define AH_ALIAS1    "198.51.100.1" /* first foreign agent on the access link */
#define AH_ALIAS2    "198.51.100.2" /* second foreign agent on the access link */
#define AH_CN        "203.0.113.5"  /* a correspondent node */
#define AH_NAI_ALICE "alice@example.org"
#define AH_NAI_CAROL "carol@example.org"

/* SPIs and key seeds of the security associations. */
#define AH_SPI_ALICE  0x1000
#define AH_SPI_BOB    0x1001
#define AH_SPI_CAROL  0x1002
#define AH_SPI_FA_HA  0x2000
#define AH_SPI_MN_FA  0x3000
#define AH_SEED_ALICE 0x11
#define AH_SEED_BOB   0x22
#define AH_SEED_CAROL 0x33
#define AH_SEED_FA_HA 0x44
#define AH_SEED_MN_FA 0x55

struct ha_mn;
/*
 * The home agent's nodes: alice (AH_ALICE, NAI), bob (AH_BOB, no NAI) and
 * carol (AH_CAROL, NAI), each with its MN-HA key; mns is zeroed first.
 */
void ah_ha_nodes(struct ha_mn *mns);

/* A Registration Request to build; fields left zero leave things out. */
struct ah_req {
	uint8_t flags;
	uint16_t lifetime;
	struct in_addr home_addr, home_agent, coa;
	uint64_t id;
	const char *nai;             /* NULL: no NAI extension */
	uint8_t pre_ext;             /* nonzero: an extension of this type before MN-HA */
	bool encap_delivery;         /* RFC 3024 Encapsulating Delivery Style, before MN-HA */
	const struct mip_key *mn_ha; /* NULL: no MN-HA authenticator */
	uint32_t mn_ha_spi;          /* nonzero: put this SPI instead of the key's */
	bool mn_ha_corrupt;          /* flip a bit of the authenticator */
	bool nai_after_mn_ha;        /* put the NAI after MN-HA (out of order) */
	const struct mip_key *mn_fa;
	bool mn_fa_corrupt;
	uint8_t post_ext; /* nonzero: an extension of this type after MN-HA and MN-FA */
	const struct mip_key *fa_ha;
	uint32_t fa_ha_spi;
	bool fa_ha_corrupt;
};

size_t ah_build_request(const struct ah_req *r, uint8_t *out, size_t cap);

/* A Registration Reply to build. */
struct ah_rep {
	uint8_t code;
	uint16_t lifetime;
	struct in_addr home_addr, home_agent;
	uint64_t id;
	const char *nai;
	const struct mip_key *mn_ha;
	uint32_t mn_ha_spi;
	bool mn_ha_corrupt;
	const struct mip_key *fa_ha;
	uint32_t fa_ha_spi;
	bool fa_ha_corrupt;
	bool bad_ext; /* append a malformed extension (Encapsulating Delivery of length 1) */
};

size_t ah_build_reply(const struct ah_rep *r, uint8_t *out, size_t cap);

/*
 * mip_reply_parse(), except that an authentication extension need not follow
 * MN-HA: a foreign agent's own denial carries MN-FA and no MN-HA (RFC 5944
 * 3.7.2.3), which mip_reply_parse() refuses as MIP_PERR_EXT_ORDER (see the
 * BUG notes in test_fa.c and test_mn.c).  Lets the tests check the rest of
 * such a reply.
 */
enum mip_perr ah_reply_parse_any_order(const uint8_t *msg, size_t len, struct mip_reg_reply *rp);

/* Where a captured packet went. */
enum ah_kind {
	AH_LINK,    /* to_link: an IPv4 packet to a MAC address */
	AH_HA_MSG,  /* fa to_ha: a registration message (UDP payload) to a home agent */
	AH_TUNNEL,  /* fa to_tunnel: an IP-in-IP packet */
	AH_FORWARD, /* fa to_forward: a visitor's packet routed as it is */
	AH_KINDS
};

#define AH_PKT_MAX 2048
#define AH_CAP_MAX 24

struct ah_pkt {
	enum ah_kind kind;
	uint8_t mac[6];
	struct in_addr to; /* to_ha: the home agent */
	size_t len;
	uint8_t d[AH_PKT_MAX];
};

struct ah_cap {
	size_t n;
	size_t lost; /* packets beyond AH_CAP_MAX or larger than AH_PKT_MAX */
	unsigned stopped;
	struct ah_pkt p[AH_CAP_MAX];
};

void ah_cap_reset(struct ah_cap *c);
size_t ah_cap_count(const struct ah_cap *c, enum ah_kind k);
/* The i-th packet of kind k, NULL when there are fewer. */
const struct ah_pkt *ah_cap_nth(const struct ah_cap *c, enum ah_kind k, size_t i);
const struct ah_pkt *ah_cap_last(const struct ah_cap *c, enum ah_kind k);

/* Callbacks for struct fa_ops and struct mn_ops; arg is a struct ah_cap. */
void ah_on_link(void *arg, const uint8_t mac[6], const uint8_t *pkt, size_t len);
void ah_on_ha(void *arg, struct in_addr ha, const uint8_t *msg, size_t len);
void ah_on_tunnel(void *arg, const uint8_t *pkt, size_t len);
void ah_on_forward(void *arg, const uint8_t *pkt, size_t len);
void ah_on_stopped(void *arg);

/* An IPv4/UDP packet around msg, TTL 64. */
size_t ah_udp_wrap(struct in_addr src, struct in_addr dst, uint16_t sport, uint16_t dport,
		   const uint8_t *msg, size_t len, uint8_t *out, size_t cap);

/* A parsed IPv4/UDP packet; msg points into the packet. */
struct ah_udp {
	struct ip4_hdr ip;
	uint16_t sport, dport;
	const uint8_t *msg;
	size_t len;
};

/* Parse an IPv4/UDP packet; false when it is not one. */
bool ah_udp_unwrap(const uint8_t *pkt, size_t len, struct ah_udp *u);

/*
 * A plain IPv4 packet (protocol 253, RFC 3692 experimentation) with plen
 * payload bytes of a fixed pattern, a correct header checksum and the given
 * TOS, flags and TTL.
 */
size_t ah_data_packet(struct in_addr src, struct in_addr dst, uint8_t tos, uint16_t frag,
		      uint8_t ttl, uint16_t ip_id, size_t plen, uint8_t *out, size_t cap);

/* An ICMP fragmentation needed (type 3 code 4), as ah_frag_needed reads it. */
struct ah_frag_needed {
	struct in_addr src, dst;
	uint16_t mtu;         /* next-hop MTU */
	const uint8_t *quote; /* the packet it quotes: header and first bytes */
	size_t quote_len;
};

/* Read an IPv4 packet that must be an ICMP fragmentation needed with a valid checksum. */
bool ah_frag_needed(const uint8_t *pkt, size_t len, struct ah_frag_needed *f);

/*
 * Where the tests' virtual loops (ev_loop_new_virtual) start: not at 0,
 * which the agents read as "never" in places (mn.link_up_us).
 */
#define AH_START_MS 1000000

/* Sum of the counters in a struct of uint64_t fields (for "some counter moved"). */
uint64_t ah_sum_u64(const void *counters, size_t size);

#endif
