/*
 * Mobile IPv4 registration messages (RFC 5944 section 3), the NAI extension
 * (RFC 2794) and reverse tunnelling's Encapsulating Delivery Style extension
 * (RFC 3024).  Parsers take bytes (the UDP payload) and fill a struct or
 * return an error; they keep no state, so they can be fuzzed alone.
 *
 * A parsed message points into the bytes it was parsed from (NAI and
 * authenticators); the caller keeps those bytes alive while it uses it.
 */
#ifndef MIPSA_MIP_MSG_H
#define MIPSA_MIP_MSG_H

#include "buf.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MIP_PORT 434

enum mip_msg_type {
	MIP_TYPE_REG_REQUEST = 1,
	MIP_TYPE_REG_REPLY = 3,
};

/* Registration Request flags (RFC 5944 3.3, RFC 3024 for T). */
#define MIP_RQ_S 0x80 /* simultaneous bindings */
#define MIP_RQ_B 0x40 /* broadcast datagrams */
#define MIP_RQ_D 0x20 /* decapsulation by the mobile node */
#define MIP_RQ_M 0x10 /* minimal encapsulation */
#define MIP_RQ_G 0x08 /* GRE encapsulation */
#define MIP_RQ_r 0x04 /* reserved, sent as zero */
#define MIP_RQ_T 0x02 /* reverse tunnelling requested */
#define MIP_RQ_x 0x01 /* reserved, sent as zero */

/* Extension types in registration messages (RFC 5944 1.9, IANA). */
enum mip_ext_type {
	MIP_EXT_MN_HA_AUTH = 32,
	MIP_EXT_MN_FA_AUTH = 33,
	MIP_EXT_FA_HA_AUTH = 34,
	MIP_EXT_ENCAP_DELIVERY = 130, /* RFC 3024 */
	MIP_EXT_NAI = 131,            /* RFC 2794 */
	MIP_EXT_NVSE = 134,           /* RFC 3115: Normal Vendor/Organization Specific */
};

/*
 * SA reuse rides in an NVSE (RFC 3115) under the documentation enterprise
 * number (RFC 5612): skippable, so any other agent passes it over.
 *
 * Request (MN -> FA, after MN-HA), NVSE type 1:
 *   flags (1), reserved (1), previous FA care-of address (4),
 *   ISAKMP initiator and responder cookies (8 + 8),
 *   the node's ESP counters: last sequence number sent, highest received (8 + 8),
 *   authenticator: prf(SKEYID_a, every byte of the request before it) (20 or 32)
 * Status (FA -> MN, after MN-HA), NVSE type 2: status (1), reason (1).
 */
#define MIP_NVSE_VENDOR          32473
#define MIP_NVSE_SA_REUSE        1
#define MIP_NVSE_SA_REUSE_STATUS 2

enum mip_reuse_status_code {
	MIP_REUSE_FULL = 0,    /* ISAKMP and IPsec SAs taken over: carry on */
	MIP_REUSE_PARTIAL = 1, /* ISAKMP SA taken over: run Quick Mode */
	MIP_REUSE_REFUSED = 2, /* nothing taken over: negotiate from scratch */
};

struct mip_reuse_req {
	bool present;
	uint8_t flags;
	struct in_addr prev_coa;
	uint8_t icookie[8], rcookie[8];
	uint64_t mn_sent, mn_received;
	const uint8_t *auth;
	size_t auth_len;
	size_t covered_len; /* bytes of the message the authenticator covers */
};

struct mip_reuse_status {
	bool present;
	uint8_t status;
	uint8_t reason;
};

/* Reply codes (RFC 5944 3.4, RFC 3024, RFC 2794). */
enum mip_code {
	MIP_CODE_ACCEPTED = 0,
	MIP_CODE_ACCEPTED_NO_SIMUL = 1,
	/* denied by the foreign agent */
	MIP_CODE_FA_UNSPECIFIED = 64,
	MIP_CODE_FA_PROHIBITED = 65,
	MIP_CODE_FA_RESOURCES = 66,
	MIP_CODE_FA_MN_AUTH = 67,
	MIP_CODE_FA_HA_AUTH = 68,
	MIP_CODE_FA_LIFETIME = 69,
	MIP_CODE_FA_BAD_REQUEST = 70,
	MIP_CODE_FA_BAD_REPLY = 71,
	MIP_CODE_FA_ENCAP = 72,
	MIP_CODE_FA_REVTUN_UNAVAIL = 74,
	MIP_CODE_FA_REVTUN_MANDATORY = 75,
	MIP_CODE_FA_BAD_COA = 77,
	MIP_CODE_FA_TIMEOUT = 78,
	MIP_CODE_FA_DELIVERY_STYLE = 79,
	MIP_CODE_FA_HA_NET_UNREACH = 80,
	MIP_CODE_FA_HA_HOST_UNREACH = 81,
	MIP_CODE_FA_HA_PORT_UNREACH = 82,
	MIP_CODE_FA_HA_UNREACH = 88,
	MIP_CODE_FA_MISSING_NAI = 97,
	MIP_CODE_FA_MISSING_HA = 98,
	MIP_CODE_FA_MISSING_HOME_ADDR = 99,
	/* denied by the home agent */
	MIP_CODE_HA_UNSPECIFIED = 128,
	MIP_CODE_HA_PROHIBITED = 129,
	MIP_CODE_HA_RESOURCES = 130,
	MIP_CODE_HA_MN_AUTH = 131,
	MIP_CODE_HA_FA_AUTH = 132,
	MIP_CODE_HA_ID_MISMATCH = 133,
	MIP_CODE_HA_BAD_REQUEST = 134,
	MIP_CODE_HA_TOO_MANY = 135,
	MIP_CODE_HA_UNKNOWN_HA = 136,
	MIP_CODE_HA_REVTUN_UNAVAIL = 137,
	MIP_CODE_HA_REVTUN_MANDATORY = 138,
	MIP_CODE_HA_ENCAP = 139,
};

const char *mip_code_name(uint8_t code);
bool mip_code_accepted(uint8_t code);

#define MIP_NAI_MAX  255
#define MIP_AUTH_MAX 255

/*
 * One authentication extension as found: its SPI, the authenticator bytes,
 * and how much of the message the authenticator covers (everything before
 * the extension plus its Type, Length and SPI, RFC 5944 3.5.1).
 */
struct mip_auth_ext {
	bool present;
	uint32_t spi;
	const uint8_t *auth;
	size_t auth_len;
	size_t offset;      /* where the extension starts */
	size_t covered_len; /* bytes of the message the authenticator covers */
	size_t end;         /* first byte after the extension */
};

/* Extensions common to requests and replies. */
struct mip_exts {
	const uint8_t *nai;
	size_t nai_len; /* 0 when absent */
	bool encap_delivery;
	struct mip_auth_ext mn_ha, mn_fa, fa_ha;
	struct mip_reuse_req reuse;
	struct mip_reuse_status reuse_status;
	unsigned skipped; /* unknown skippable (128-255) extensions passed over */
};

struct mip_reg_request {
	uint8_t flags;
	uint16_t lifetime;
	struct in_addr home_addr;
	struct in_addr home_agent;
	struct in_addr coa;
	uint64_t id;
	struct mip_exts ext;
};

struct mip_reg_reply {
	uint8_t code;
	uint16_t lifetime;
	struct in_addr home_addr;
	struct in_addr home_agent;
	uint64_t id;
	struct mip_exts ext;
};

/* Why a parse failed; each maps to a counter and, where the RFC says so, a reply code. */
enum mip_perr {
	MIP_PERR_OK = 0,
	MIP_PERR_TRUNCATED,   /* fixed part or an extension runs past the end */
	MIP_PERR_TYPE,        /* not the message type asked for */
	MIP_PERR_UNKNOWN_EXT, /* unrecognised extension 0-127: silently discard */
	MIP_PERR_BAD_EXT,     /* a known extension with a wrong length */
	MIP_PERR_DUP_EXT,     /* a known extension twice */
	MIP_PERR_EXT_ORDER,   /* an extension where RFC 5944 3.6.1.3 forbids it */
	MIP_PERR_MAX
};

const char *mip_perr_name(enum mip_perr e);

enum mip_perr mip_request_parse(const uint8_t *msg, size_t len, struct mip_reg_request *rq);
enum mip_perr mip_reply_parse(const uint8_t *msg, size_t len, struct mip_reg_reply *rp);

/* Builders write the fixed part; extensions follow through mip_ext_put_*. */
int mip_request_put(struct buf *b, const struct mip_reg_request *rq);
int mip_reply_put(struct buf *b, const struct mip_reg_reply *rp);
int mip_ext_put_nai(struct buf *b, const char *nai, size_t len);
int mip_ext_put_encap_delivery(struct buf *b);
/*
 * The SA reuse request with room for an auth_len-byte authenticator:
 * *auth points at it, *covered is how many bytes of b it must cover.
 */
int mip_ext_put_reuse(struct buf *b, const struct mip_reuse_req *r, size_t auth_len, uint8_t **auth,
		      size_t *covered);
int mip_ext_put_reuse_status(struct buf *b, uint8_t status, uint8_t reason);
/*
 * Append an authentication extension of the given type whose HMAC-MD5
 * authenticator covers every byte of b written so far plus the extension's
 * Type, Length and SPI.
 */
int mip_ext_put_auth(struct buf *b, uint8_t type, uint32_t spi, const uint8_t *key, size_t key_len);

#endif
