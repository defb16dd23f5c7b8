/*
 * Agent Advertisement and Agent Solicitation (RFC 5944 section 2): ICMP
 * Router Advertisement (type 9, RFC 1256) carrying the Mobility Agent
 * Advertisement extension (16), optionally the Prefix-Lengths extension
 * (19) and One-byte Padding (0); ICMP Router Solicitation (type 10).
 * The codecs start at the ICMP header and check the ICMP checksum.
 */
#ifndef MIPSA_MIP_ADV_H
#define MIPSA_MIP_ADV_H

#include "buf.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#define MIP_ICMP_ADV             9
#define MIP_ICMP_SOL             10
#define MIP_ADV_CODE_ROUTE       0 /* also routes common traffic */
#define MIP_ADV_CODE_MOBILE_ONLY 16

#define MIP_ADV_EXT_PAD    0
#define MIP_ADV_EXT_MA     16
#define MIP_ADV_EXT_PREFIX 19

/* Mobility Agent Advertisement flags, first byte then the U X I bits. */
#define MIP_ADV_R 0x8000 /* registration required */
#define MIP_ADV_B 0x4000 /* busy */
#define MIP_ADV_H 0x2000 /* home agent */
#define MIP_ADV_F 0x1000 /* foreign agent */
#define MIP_ADV_M 0x0800 /* minimal encapsulation */
#define MIP_ADV_G 0x0400 /* GRE */
#define MIP_ADV_r 0x0200 /* reserved, zero */
#define MIP_ADV_T 0x0100 /* reverse tunnelling supported */
#define MIP_ADV_U 0x0080 /* UDP tunnelling (RFC 3519) */
#define MIP_ADV_X 0x0040 /* revocation (RFC 3543) */
#define MIP_ADV_I 0x0020 /* regional registration (RFC 4857) */

#define MIP_ADV_MAX_ROUTERS 16
#define MIP_ADV_MAX_COA     16

struct mip_adv_router {
	struct in_addr addr;
	int32_t pref;
};

struct mip_agent_adv {
	uint8_t code;
	uint16_t lifetime; /* seconds the advertisement stays valid */
	uint8_t n_routers;
	struct mip_adv_router routers[MIP_ADV_MAX_ROUTERS];
	uint16_t seq;
	uint16_t reg_lifetime;
	uint16_t flags;
	uint8_t n_coa;
	struct in_addr coa[MIP_ADV_MAX_COA];
	uint8_t n_prefix_len; /* 0 when the Prefix-Lengths extension is absent */
	uint8_t prefix_len[MIP_ADV_MAX_ROUTERS];
	unsigned skipped; /* unknown extensions 128-255 passed over */
};

enum mip_adv_err {
	MIP_ADV_OK = 0,
	MIP_ADV_TRUNCATED,
	MIP_ADV_CHECKSUM,
	MIP_ADV_NOT_ADV,     /* ICMP type/code is not an agent advertisement */
	MIP_ADV_BAD_FIELD,   /* address entry size, counts out of range */
	MIP_ADV_NO_MA_EXT,   /* a router advertisement, but not from a mobility agent */
	MIP_ADV_BAD_EXT,     /* known extension with a wrong length, or twice */
	MIP_ADV_UNKNOWN_EXT, /* unknown extension 0-127: discard */
	MIP_ADV_ERR_MAX
};

const char *mip_adv_err_name(enum mip_adv_err e);

enum mip_adv_err mip_adv_parse(const uint8_t *icmp, size_t len, struct mip_agent_adv *adv);
int mip_adv_put(struct buf *b, const struct mip_agent_adv *adv);

/* A solicitation: type 10, code 0, checksum, 4 reserved bytes, exactly. */
enum mip_adv_err mip_sol_parse(const uint8_t *icmp, size_t len);
int mip_sol_put(struct buf *b);

#endif
