/*
 * ISAKMP codec (RFC 2408) with the IPsec DOI (RFC 2407), the IKE values of
 * RFC 2409, NAT traversal (RFC 3947) and Dead Peer Detection (RFC 3706).
 *
 * Pure functions: no globals, no sockets, no crypto, no allocation.  Every
 * parse and build goes through struct buf (buf.h).
 *
 * Parsing a received datagram
 *
 *   isakmp_hdr_parse()    the fixed 28-byte header; its Length must equal
 *                         the datagram length.
 *   isakmp_chain_parse()  the payload chain that starts with the header's
 *                         Next Payload: an array of {type, offset, raw bytes,
 *                         body} after validating every generic header the way
 *                         OpenBSD's isakmpd/iked do (header fits, reserved
 *                         byte zero, declared length >= the type's minimum and
 *                         <= what is left).  For a message with the E flag,
 *                         decrypt the bytes after the header first and parse
 *                         the plaintext with ISAKMP_PARSE_PADDING (RFC 2409
 *                         pads to the cipher block size).
 *   isakmp_msg_parse()    both, for a message without the E flag.
 *   isakmp_sa_parse(), isakmp_id_parse(), ...   one payload body each.
 *
 * Parsed structures point into the message; keep it alive while using them.
 * The bytes that IKE hashes are exposed as they were received: the SA body
 * (SAi_b), the ID body (IDii_b), and isakmp_chain_after() for the payloads
 * that follow a HASH payload (Quick Mode and Informational HASH(1)).
 *
 * Every parse returns ISAKMP_OK (0) or an enum isakmp_err, and fills an
 * optional struct isakmp_error that names the place (payload type, offset in
 * the message), both numbers of a length check ("declared 40, 12 left") and
 * the Notify message type RFC 2408 suggests sending back.
 * isakmp_error_str() formats it for a log line.
 *
 * Building
 *
 *   struct isakmp_builder appends payloads to a struct buf.  Each put writes
 *   a whole payload (generic header included) and patches the previous
 *   payload's Next Payload field, or the header's when it is the first; the
 *   header's Length is patched by isakmp_build_finish().  A put that fails
 *   writes nothing; errors are sticky, so checking the result of
 *   isakmp_build_finish() is enough.
 *
 *   An encrypted message: build the payloads as a bare chain (header NULL),
 *   fill the HASH (isakmp_put_reserve() leaves room for it), encrypt and pad
 *   the chain, then write the header with isakmp_hdr_put() (Next Payload =
 *   the builder's first, Length = 28 + ciphertext) and append the ciphertext.
 */
#ifndef MIPSA_ISAKMP_H
#define MIPSA_ISAKMP_H

#include "buf.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ISAKMP_PORT               500
#define ISAKMP_NATT_PORT          4500 /* RFC 3947/3948: IKE after a four-byte zero non-ESP marker */
#define ISAKMP_NON_ESP_MARKER_LEN 4    /* RFC 3948 2.2: zero where ESP has its SPI */
#define ISAKMP_DATAGRAM_MAX       4096 /* the largest IKE datagram we read */
#define ISAKMP_HDR_LEN            28
#define ISAKMP_GEN_LEN            4 /* generic payload header */
#define ISAKMP_COOKIE_LEN         8
#define ISAKMP_VERSION            0x10   /* major 1, minor 0 */
#define ISAKMP_PL_MAX_LEN         0xffff /* the largest Payload Length */

/* Header flags (RFC 2408 3.1). */
#define ISAKMP_FLAG_E 0x01 /* encryption */
#define ISAKMP_FLAG_C 0x02 /* commit */
#define ISAKMP_FLAG_A 0x04 /* authentication only */

/* Exchange types (RFC 2408 3.1, RFC 2409 for 32/33). */
enum isakmp_exchange {
	ISAKMP_EXCH_NONE = 0,
	ISAKMP_EXCH_BASE = 1,
	ISAKMP_EXCH_IDPROT = 2, /* Identity Protection: IKE Main Mode */
	ISAKMP_EXCH_AUTH_ONLY = 3,
	ISAKMP_EXCH_AGGRESSIVE = 4,
	ISAKMP_EXCH_INFO = 5,
	ISAKMP_EXCH_QUICK = 32,
	ISAKMP_EXCH_NEW_GROUP = 33,
};
#define ISAKMP_EXCH_MAIN ISAKMP_EXCH_IDPROT

/* Payload types (RFC 2408 3.1, RFC 3947 for NAT-D/NAT-OA). */
enum isakmp_payload_type {
	ISAKMP_PL_NONE = 0,
	ISAKMP_PL_SA = 1,
	ISAKMP_PL_P = 2, /* proposal: only inside an SA */
	ISAKMP_PL_T = 3, /* transform: only inside a proposal */
	ISAKMP_PL_KE = 4,
	ISAKMP_PL_ID = 5,
	ISAKMP_PL_CERT = 6,
	ISAKMP_PL_CR = 7,
	ISAKMP_PL_HASH = 8,
	ISAKMP_PL_SIG = 9,
	ISAKMP_PL_NONCE = 10,
	ISAKMP_PL_N = 11,
	ISAKMP_PL_D = 12,
	ISAKMP_PL_VID = 13,
	ISAKMP_PL_NATD = 20,
	ISAKMP_PL_NATOA = 21,
	/* draft-ietf-ipsec-nat-t-ike-02/03 used private types, same layout */
	ISAKMP_PL_NATD_DRAFT = 130,
	ISAKMP_PL_NATOA_DRAFT = 131,
};
#define ISAKMP_PL_PRIVATE_MIN 128

/* Domains of interpretation and the IPsec DOI situation (RFC 2407 4.2). */
#define ISAKMP_DOI_ISAKMP        0
#define ISAKMP_DOI_IPSEC         1
#define ISAKMP_SIT_IDENTITY_ONLY 0x01
#define ISAKMP_SIT_SECRECY       0x02
#define ISAKMP_SIT_INTEGRITY     0x04

/* Protocol IDs (RFC 2407 4.4.1). */
enum isakmp_proto {
	ISAKMP_PROTO_ISAKMP = 1,
	ISAKMP_PROTO_IPSEC_AH = 2,
	ISAKMP_PROTO_IPSEC_ESP = 3,
	ISAKMP_PROTO_IPCOMP = 4,
};

/* Transform IDs: ISAKMP (RFC 2407 4.4.2), ESP (4.4.4 and IANA), AH (4.4.3). */
#define ISAKMP_XF_KEY_IKE 1

enum isakmp_esp_id {
	ISAKMP_ESP_DES_IV64 = 1,
	ISAKMP_ESP_DES = 2,
	ISAKMP_ESP_3DES = 3,
	ISAKMP_ESP_RC5 = 4,
	ISAKMP_ESP_IDEA = 5,
	ISAKMP_ESP_CAST = 6,
	ISAKMP_ESP_BLOWFISH = 7,
	ISAKMP_ESP_3IDEA = 8,
	ISAKMP_ESP_DES_IV32 = 9,
	ISAKMP_ESP_RC4 = 10,
	ISAKMP_ESP_NULL = 11,
	ISAKMP_ESP_AES = 12, /* AES-CBC, RFC 3602 */
	ISAKMP_ESP_AES_CTR = 13,
	ISAKMP_ESP_AES_CCM_8 = 14,
	ISAKMP_ESP_AES_CCM_12 = 15,
	ISAKMP_ESP_AES_CCM_16 = 16,
	ISAKMP_ESP_AES_GCM_8 = 18,
	ISAKMP_ESP_AES_GCM_12 = 19,
	ISAKMP_ESP_AES_GCM_16 = 20, /* RFC 4106 */
	ISAKMP_ESP_NULL_AUTH_AES_GMAC = 23,
};

enum isakmp_ah_id {
	ISAKMP_AH_MD5 = 2,
	ISAKMP_AH_SHA = 3,
	ISAKMP_AH_DES = 4,
	ISAKMP_AH_SHA2_256 = 5,
	ISAKMP_AH_SHA2_384 = 6,
	ISAKMP_AH_SHA2_512 = 7,
};

/* Phase 1 (KEY_IKE) attribute types (RFC 2409 Appendix A). */
enum isakmp_p1_attr {
	ISAKMP_P1_ENC = 1,
	ISAKMP_P1_HASH = 2,
	ISAKMP_P1_AUTH = 3,
	ISAKMP_P1_GROUP = 4,
	ISAKMP_P1_GROUP_TYPE = 5,
	ISAKMP_P1_GROUP_PRIME = 6,
	ISAKMP_P1_GROUP_GEN1 = 7,
	ISAKMP_P1_GROUP_GEN2 = 8,
	ISAKMP_P1_GROUP_CURVE_A = 9,
	ISAKMP_P1_GROUP_CURVE_B = 10,
	ISAKMP_P1_LIFE_TYPE = 11,
	ISAKMP_P1_LIFE_DURATION = 12,
	ISAKMP_P1_PRF = 13,
	ISAKMP_P1_KEY_LEN = 14,
	ISAKMP_P1_FIELD_SIZE = 15,
	ISAKMP_P1_GROUP_ORDER = 16,
};

/* Phase 1 attribute values. */
enum isakmp_p1_enc {
	ISAKMP_ENC_DES_CBC = 1,
	ISAKMP_ENC_IDEA_CBC = 2,
	ISAKMP_ENC_BLOWFISH_CBC = 3,
	ISAKMP_ENC_RC5_CBC = 4,
	ISAKMP_ENC_3DES_CBC = 5,
	ISAKMP_ENC_CAST_CBC = 6,
	ISAKMP_ENC_AES_CBC = 7, /* RFC 3602 */
	ISAKMP_ENC_CAMELLIA_CBC = 8,
};

enum isakmp_p1_hash {
	ISAKMP_HASH_MD5 = 1,
	ISAKMP_HASH_SHA1 = 2,
	ISAKMP_HASH_TIGER = 3,
	ISAKMP_HASH_SHA2_256 = 4, /* RFC 4868 */
	ISAKMP_HASH_SHA2_384 = 5,
	ISAKMP_HASH_SHA2_512 = 6,
};

enum isakmp_p1_auth {
	ISAKMP_AUTH_PSK = 1,
	ISAKMP_AUTH_DSS_SIG = 2,
	ISAKMP_AUTH_RSA_SIG = 3,
	ISAKMP_AUTH_RSA_ENC = 4,
	ISAKMP_AUTH_RSA_ENC_REV = 5,
};

/* Diffie-Hellman groups (phase 1 GROUP, phase 2 GROUP with PFS). */
enum isakmp_group {
	ISAKMP_GROUP_MODP768 = 1,
	ISAKMP_GROUP_MODP1024 = 2,
	ISAKMP_GROUP_EC2N155 = 3,
	ISAKMP_GROUP_EC2N185 = 4,
	ISAKMP_GROUP_MODP1536 = 5,
	ISAKMP_GROUP_MODP2048 = 14,
	ISAKMP_GROUP_MODP3072 = 15,
	ISAKMP_GROUP_MODP4096 = 16,
	ISAKMP_GROUP_MODP6144 = 17,
	ISAKMP_GROUP_MODP8192 = 18,
	ISAKMP_GROUP_ECP256 = 19,
	ISAKMP_GROUP_ECP384 = 20,
	ISAKMP_GROUP_ECP521 = 21,
};

/* Life types: phase 1 LIFE_TYPE and IPsec SA_LIFE_TYPE share the values. */
#define ISAKMP_LIFE_SECONDS   1
#define ISAKMP_LIFE_KILOBYTES 2

/* IPsec DOI attribute types (RFC 2407 4.5, RFC 4304 for ESN). */
enum isakmp_ipsec_attr {
	ISAKMP_IPSEC_LIFE_TYPE = 1,
	ISAKMP_IPSEC_LIFE_DURATION = 2,
	ISAKMP_IPSEC_GROUP = 3,
	ISAKMP_IPSEC_ENCAP = 4,
	ISAKMP_IPSEC_AUTH = 5,
	ISAKMP_IPSEC_KEY_LEN = 6,
	ISAKMP_IPSEC_KEY_ROUNDS = 7,
	ISAKMP_IPSEC_COMP_DICT = 8,
	ISAKMP_IPSEC_COMP_PRIV = 9,
	ISAKMP_IPSEC_ESN = 11,
};

/* Encapsulation modes (RFC 2407 4.5, RFC 3947 5.1 for the UDP ones). */
enum isakmp_encap {
	ISAKMP_ENCAP_TUNNEL = 1,
	ISAKMP_ENCAP_TRANSPORT = 2,
	ISAKMP_ENCAP_UDP_TUNNEL = 3,
	ISAKMP_ENCAP_UDP_TRANSPORT = 4,
	/* draft-ietf-ipsec-nat-t-ike-00..03, still sent by older peers */
	ISAKMP_ENCAP_UDP_TUNNEL_DRAFT = 61443,
	ISAKMP_ENCAP_UDP_TRANSPORT_DRAFT = 61444,
};

/* IPsec authentication algorithms (RFC 2407 4.5, RFC 4868). */
enum isakmp_ipsec_auth {
	ISAKMP_AUTH_HMAC_MD5 = 1,
	ISAKMP_AUTH_HMAC_SHA1 = 2,
	ISAKMP_AUTH_DES_MAC = 3,
	ISAKMP_AUTH_KPDK = 4,
	ISAKMP_AUTH_HMAC_SHA2_256 = 5,
	ISAKMP_AUTH_HMAC_SHA2_384 = 6,
	ISAKMP_AUTH_HMAC_SHA2_512 = 7,
	ISAKMP_AUTH_HMAC_RIPEMD = 8,
	ISAKMP_AUTH_AES_XCBC_MAC = 9,
};

/* Identification types (RFC 2407 4.6.2.1). */
enum isakmp_id_type {
	ISAKMP_ID_IPV4_ADDR = 1,
	ISAKMP_ID_FQDN = 2,
	ISAKMP_ID_USER_FQDN = 3,
	ISAKMP_ID_IPV4_ADDR_SUBNET = 4,
	ISAKMP_ID_IPV6_ADDR = 5,
	ISAKMP_ID_IPV6_ADDR_SUBNET = 6,
	ISAKMP_ID_IPV4_ADDR_RANGE = 7,
	ISAKMP_ID_IPV6_ADDR_RANGE = 8,
	ISAKMP_ID_DER_ASN1_DN = 9,
	ISAKMP_ID_DER_ASN1_GN = 10,
	ISAKMP_ID_KEY_ID = 11,
};

/* Certificate encodings (RFC 2408 3.9), for CERT and CR. */
enum isakmp_cert_enc {
	ISAKMP_CERT_NONE = 0,
	ISAKMP_CERT_PKCS7 = 1,
	ISAKMP_CERT_PGP = 2,
	ISAKMP_CERT_DNS_KEY = 3,
	ISAKMP_CERT_X509_SIG = 4,
	ISAKMP_CERT_X509_KE = 5,
	ISAKMP_CERT_KERBEROS = 6,
	ISAKMP_CERT_CRL = 7,
	ISAKMP_CERT_ARL = 8,
	ISAKMP_CERT_SPKI = 9,
	ISAKMP_CERT_X509_ATTR = 10,
};

/* Notify message types: errors (RFC 2408 3.14.1) below 16384, then status. */
enum isakmp_notify_type {
	ISAKMP_N_INVALID_PAYLOAD_TYPE = 1,
	ISAKMP_N_DOI_NOT_SUPPORTED = 2,
	ISAKMP_N_SITUATION_NOT_SUPPORTED = 3,
	ISAKMP_N_INVALID_COOKIE = 4,
	ISAKMP_N_INVALID_MAJOR_VERSION = 5,
	ISAKMP_N_INVALID_MINOR_VERSION = 6,
	ISAKMP_N_INVALID_EXCHANGE_TYPE = 7,
	ISAKMP_N_INVALID_FLAGS = 8,
	ISAKMP_N_INVALID_MESSAGE_ID = 9,
	ISAKMP_N_INVALID_PROTOCOL_ID = 10,
	ISAKMP_N_INVALID_SPI = 11,
	ISAKMP_N_INVALID_TRANSFORM_ID = 12,
	ISAKMP_N_ATTRIBUTES_NOT_SUPPORTED = 13,
	ISAKMP_N_NO_PROPOSAL_CHOSEN = 14,
	ISAKMP_N_BAD_PROPOSAL_SYNTAX = 15,
	ISAKMP_N_PAYLOAD_MALFORMED = 16,
	ISAKMP_N_INVALID_KEY_INFORMATION = 17,
	ISAKMP_N_INVALID_ID_INFORMATION = 18,
	ISAKMP_N_INVALID_CERT_ENCODING = 19,
	ISAKMP_N_INVALID_CERTIFICATE = 20,
	ISAKMP_N_CERT_TYPE_UNSUPPORTED = 21,
	ISAKMP_N_INVALID_CERT_AUTHORITY = 22,
	ISAKMP_N_INVALID_HASH_INFORMATION = 23,
	ISAKMP_N_AUTHENTICATION_FAILED = 24,
	ISAKMP_N_INVALID_SIGNATURE = 25,
	ISAKMP_N_ADDRESS_NOTIFICATION = 26,
	ISAKMP_N_NOTIFY_SA_LIFETIME = 27,
	ISAKMP_N_CERTIFICATE_UNAVAILABLE = 28,
	ISAKMP_N_UNSUPPORTED_EXCHANGE_TYPE = 29,
	ISAKMP_N_UNEQUAL_PAYLOAD_LENGTHS = 30,
	ISAKMP_N_CONNECTED = 16384,
	ISAKMP_N_RESPONDER_LIFETIME = 24576, /* RFC 2407 4.6.3 */
	ISAKMP_N_REPLAY_STATUS = 24577,
	ISAKMP_N_INITIAL_CONTACT = 24578,
	ISAKMP_N_R_U_THERE = 36136, /* RFC 3706 */
	ISAKMP_N_R_U_THERE_ACK = 36137,
};
#define ISAKMP_N_STATUS_MIN 16384

/* Limits of what the parser keeps (exceeding one is an error). */
#define ISAKMP_MAX_PAYLOADS   32 /* payloads in one message */
#define ISAKMP_MAX_PROPOSALS  8  /* proposals in one SA payload */
#define ISAKMP_MAX_TRANSFORMS 16 /* transforms in one proposal */
#define ISAKMP_MAX_ATTRS      16 /* attributes in one transform */
#define ISAKMP_MAX_SPI        16 /* SPI bytes (16 for the ISAKMP cookie pair) */
#define ISAKMP_NONCE_MIN      8  /* RFC 2409 5: nonce data 8..256 bytes */
#define ISAKMP_NONCE_MAX      256

/* Vendor IDs (16 bytes each; XAUTH is 8). */
#define ISAKMP_VID_RFC3947_BYTES                                                                   \
	{                                                                                          \
		0x4a, 0x13, 0x1c, 0x81, 0x07, 0x03, 0x58, 0x45, 0x5c, 0x57, 0x28, 0xf2, 0x0e,      \
			0x95, 0x45, 0x2f                                                           \
	} /* MD5("RFC 3947") */
#define ISAKMP_VID_DPD_BYTES                                                                       \
	{                                                                                          \
		0xaf, 0xca, 0xd7, 0x13, 0x68, 0xa1, 0xf1, 0xc9, 0x6b, 0x86, 0x96, 0xfc, 0x77,      \
			0x57, 0x01, 0x00                                                           \
	} /* RFC 3706, version 1.0 */

enum isakmp_vid {
	ISAKMP_VID_UNKNOWN = 0,
	ISAKMP_VID_RFC3947,          /* NAT-T, RFC 3947 */
	ISAKMP_VID_NATT_DRAFT_00,    /* MD5("draft-ietf-ipsec-nat-t-ike-00") */
	ISAKMP_VID_NATT_DRAFT_02,    /* MD5("draft-ietf-ipsec-nat-t-ike-02") */
	ISAKMP_VID_NATT_DRAFT_02_NL, /* MD5("draft-ietf-ipsec-nat-t-ike-02\n") */
	ISAKMP_VID_NATT_DRAFT_03,    /* MD5("draft-ietf-ipsec-nat-t-ike-03") */
	ISAKMP_VID_DPD,              /* RFC 3706 */
	ISAKMP_VID_XAUTH,            /* draft-ietf-ipsec-isakmp-xauth */
	ISAKMP_VID_MAX
};

/* The VID for v, or NULL; *len gets its length. */
const uint8_t *isakmp_vid_bytes(enum isakmp_vid v, size_t *len);
/* Which well-known VID the payload data is (exact match), else ISAKMP_VID_UNKNOWN. */
enum isakmp_vid isakmp_vid_lookup(const uint8_t *p, size_t len);
const char *isakmp_vid_name(enum isakmp_vid v);

/* Names for log lines; unknown values give "unknown" (or "private"/"reserved"). */
const char *isakmp_exchange_name(uint8_t exchange);
const char *isakmp_payload_name(uint8_t type);
const char *isakmp_notify_name(uint16_t type);
const char *isakmp_proto_name(uint8_t proto);
/* A transform ID within a protocol (KEY_IKE, ESP_AES, AH_SHA, ...). */
const char *isakmp_xf_name(uint8_t proto, uint8_t id);
/* An attribute type: phase 1 when proto is ISAKMP_PROTO_ISAKMP, else the IPsec DOI's. */
const char *isakmp_attr_name(uint8_t proto, uint16_t type);
/* An attribute value where the type has named values (AES-CBC, MODP2048, tunnel, ...). */
const char *isakmp_attr_value_name(uint8_t proto, uint16_t type, uint64_t value);
const char *isakmp_id_type_name(uint8_t type);
const char *isakmp_cert_enc_name(uint8_t enc);
/* An error notify type (below 16384). */
bool isakmp_notify_is_error(uint16_t type);

/* ---- errors ---- */

enum isakmp_err {
	ISAKMP_OK = 0,
	ISAKMP_E_TRUNCATED,      /* fixed fields need more bytes than are left */
	ISAKMP_E_LENGTH_SHORT,   /* a declared length below the minimum */
	ISAKMP_E_LENGTH_OVERRUN, /* a declared length beyond what is left */
	ISAKMP_E_MSG_LENGTH,     /* header Length differs from the datagram */
	ISAKMP_E_VERSION,        /* not version 1.0 */
	ISAKMP_E_FLAGS,          /* undefined header flag bits */
	ISAKMP_E_RESERVED,       /* a RESERVED field not zero */
	ISAKMP_E_PAYLOAD_TYPE,   /* unknown payload type, or P/T out of place */
	ISAKMP_E_TOO_MANY,       /* more payloads/proposals/transforms/attributes than kept */
	ISAKMP_E_TRAILING,       /* bytes after the last payload/proposal/transform */
	ISAKMP_E_COUNT,          /* a count field that disagrees with what follows */
	ISAKMP_E_BAD_VALUE,      /* a field with a value the layout does not allow */
	ISAKMP_E_DOI,            /* DOI other than IPsec */
	ISAKMP_E_SITUATION,      /* situation other than SIT_IDENTITY_ONLY */
	ISAKMP_E_ID,             /* identification data wrong for its type */
	ISAKMP_E_ENCRYPTED,      /* isakmp_msg_parse on an E-flag message */
	ISAKMP_E_WRONG_TYPE,     /* a payload parser given another payload type */
	ISAKMP_E_NOSPACE,        /* builder: the buffer is full */
	ISAKMP_E_INVALID,        /* builder: a value that cannot be encoded */
	ISAKMP_E_MISSING,        /* a payload parser given no payload (not in the message) */
	ISAKMP_E_MAX
};

/*
 * What failed, where, and the numbers involved.  The meaning of declared and
 * limit depends on code (see isakmp_error_str): needed/left for TRUNCATED,
 * declared/minimum for LENGTH_SHORT, declared/left for LENGTH_OVERRUN (left
 * counted from the start of the structure), declared/datagram for MSG_LENGTH,
 * count/maximum for TOO_MANY, bytes left over for TRAILING, declared/found for
 * COUNT, the value (and a limit, when there is one) for the others.
 */
struct isakmp_error {
	enum isakmp_err code;
	uint16_t notify;    /* the Notify type to send back (RFC 2408 5), 0 for none */
	uint8_t payload;    /* 0: the ISAKMP header; else the payload type (P/T inside SA) */
	bool in_attr;       /* in a data attribute of a transform */
	uint16_t attr_type; /* the attribute's type when in_attr */
	size_t offset;      /* offset in the message of the structure at fault */
	size_t declared;
	size_t limit;
	const char *what; /* the field or check, e.g. "payload length" */
};

const char *isakmp_err_name(enum isakmp_err e);
/*
 * "SA payload at offset 28: payload length: declared 40, 12 left".  Writes at
 * most n bytes (NUL included) and returns buf.
 */
char *isakmp_error_str(const struct isakmp_error *e, char *buf, size_t n);

/* ---- header and payload chain ---- */

struct isakmp_hdr {
	uint8_t icookie[ISAKMP_COOKIE_LEN];
	uint8_t rcookie[ISAKMP_COOKIE_LEN];
	uint8_t next; /* type of the first payload */
	uint8_t version;
	uint8_t exchange;
	uint8_t flags;
	uint32_t msgid;
	uint32_t length;
	const uint8_t *raw; /* parse: the 28 header bytes as received */
};

/* One payload of a chain. */
struct isakmp_pl {
	uint8_t type;       /* this payload's type (from the previous Next Payload) */
	uint8_t next;       /* its own Next Payload field */
	bool known;         /* a type this codec knows at the top level */
	size_t offset;      /* offset of its generic header in the message */
	size_t len;         /* Payload Length: generic header included */
	const uint8_t *raw; /* the len bytes, generic header first */
	struct buf body;    /* read-only over the len - 4 bytes after the generic header */
};

struct isakmp_chain {
	struct isakmp_pl pl[ISAKMP_MAX_PAYLOADS];
	size_t n;
	const uint8_t *data; /* the bytes parsed (the message after its header) */
	size_t base;         /* offset of data in the message */
	size_t end;          /* offset in the message after the last payload */
	size_t trailing;     /* bytes after the last payload (ISAKMP_PARSE_PADDING) */
};

struct isakmp_msg {
	struct isakmp_hdr hdr;
	struct isakmp_chain chain;
};

/* Options for isakmp_chain_parse / isakmp_msg_parse. */
#define ISAKMP_PARSE_PADDING 0x01 /* accept bytes after the last payload (decrypted padding) */
#define ISAKMP_PARSE_PRIVATE 0x02 /* accept private-use payload types (128-255) as opaque */

/*
 * The 28-byte header of a datagram of len bytes: version 1.0, defined flags
 * only, Length >= 28 and == len.  h->raw points at msg.
 */
int isakmp_hdr_parse(const uint8_t *msg, size_t len, struct isakmp_hdr *h,
		     struct isakmp_error *err);

/*
 * The payload chain in data[0..len) whose first payload has type first (the
 * header's Next Payload); base is the offset of data in the message, used
 * for offsets (28 after the header).  Each generic header must fit, have a
 * zero RESERVED byte and a Payload Length >= the type's minimum and <= what
 * is left.  Bytes after the last payload are an error unless
 * ISAKMP_PARSE_PADDING.  Unknown types (and P, T, and private types without
 * ISAKMP_PARSE_PRIVATE) do not stop the walk: when the structure is sound
 * the whole chain is filled in and ISAKMP_E_PAYLOAD_TYPE names the first of
 * them (send INVALID-PAYLOAD-TYPE).  On other errors c->n counts the
 * payloads accepted before the one at fault.
 */
int isakmp_chain_parse(uint8_t first, const uint8_t *data, size_t len, size_t base, unsigned flags,
		       struct isakmp_chain *c, struct isakmp_error *err);

/* Header and chain of an unencrypted message; ISAKMP_E_ENCRYPTED (header filled) with E. */
int isakmp_msg_parse(const uint8_t *msg, size_t len, unsigned flags, struct isakmp_msg *m,
		     struct isakmp_error *err);

/* The minimum Payload Length of a type (4 for types without a body layout). */
size_t isakmp_payload_min_len(uint8_t type);
/* A payload type this codec parses at the top level of a chain. */
bool isakmp_payload_known(uint8_t type);

/* How many payloads of a type; the nth (from 0) or NULL. */
size_t isakmp_chain_count(const struct isakmp_chain *c, uint8_t type);
const struct isakmp_pl *isakmp_chain_find(const struct isakmp_chain *c, uint8_t type, size_t nth);
/*
 * The bytes from the end of payload i to the end of the last payload,
 * padding excluded: what Quick Mode and Informational HASH(1) cover after
 * the HASH payload (RFC 2409 5.5, 5.7).  Fails (-1) when i is out of range.
 */
int isakmp_chain_after(const struct isakmp_chain *c, size_t i, const uint8_t **p, size_t *len);
/* Run the body parser of every known payload; the first failure. */
int isakmp_chain_check(const struct isakmp_chain *c, struct isakmp_error *err);

/* ---- SA payload (RFC 2408 3.4-3.6, RFC 2407 4.2, 4.5) ---- */

/*
 * A data attribute.  Parsed: tv says which form it came in, val/len are the
 * value bytes (2 for TV), u the value as a number when num (TV, or TLV of 1-8
 * bytes).  Built: tv writes TV with u (<= 0xffff); otherwise val != NULL
 * writes TLV with len bytes of val; otherwise u goes out as TV when it fits
 * in 16 bits and as a 4-byte (or 8-byte) TLV when not (RFC 2409 Appendix A:
 * a variable attribute such as a life duration may be basic when it fits).
 */
struct isakmp_attr {
	uint16_t type; /* without the AF bit */
	bool tv;
	bool num;
	uint16_t len;
	const uint8_t *val;
	uint64_t u;
};

struct isakmp_transform {
	uint8_t num; /* Transform # */
	uint8_t id;  /* Transform-Id: KEY_IKE, ESP_AES, ... */
	size_t nattr;
	struct isakmp_attr attr[ISAKMP_MAX_ATTRS];
};

struct isakmp_proposal {
	uint8_t num;   /* Proposal #: equal numbers are ANDed (e.g. AH + ESP) */
	uint8_t proto; /* ISAKMP_PROTO_* */
	uint8_t spi_size;
	uint8_t spi[ISAKMP_MAX_SPI];
	size_t nxf;
	struct isakmp_transform xf[ISAKMP_MAX_TRANSFORMS];
};

/* About 50 KB: keep it in an exchange's state or static storage, not a small stack. */
struct isakmp_sa {
	uint32_t doi;        /* ISAKMP_DOI_IPSEC */
	uint32_t situation;  /* ISAKMP_SIT_IDENTITY_ONLY */
	const uint8_t *body; /* parse: SAi_b, the payload after its generic header */
	size_t body_len;
	size_t nprop;
	struct isakmp_proposal prop[ISAKMP_MAX_PROPOSALS];
};

/*
 * Checks: DOI IPsec and SIT_IDENTITY_ONLY; at least one proposal, each with
 * at least one transform; proposal (2) and transform (3) Next Payload fields
 * chain exactly; generic headers as in a chain; proposal numbers never
 * decrease and transform numbers are unique in a proposal; # of Transforms
 * matches; SPI size <= 16; transform RESERVED2 zero; attributes fit.
 */
int isakmp_sa_parse(const struct isakmp_pl *pl, struct isakmp_sa *sa, struct isakmp_error *err);
/* The encoded length of the SA body (no generic header), or 0 and err on what cannot be built. */
size_t isakmp_sa_body_len(const struct isakmp_sa *sa, struct isakmp_error *err);
/* Append the SA body (SAi_b) to b. */
int isakmp_sa_body_put(struct buf *b, const struct isakmp_sa *sa, struct isakmp_error *err);

/* The first attribute of a type, or NULL. */
const struct isakmp_attr *isakmp_attr_find(const struct isakmp_transform *t, uint16_t type);
/* The numeric value of the first attribute of a type if present and it fits in 32 bits. */
bool isakmp_attr_get(const struct isakmp_transform *t, uint16_t type, uint32_t *v);
/* Append a numeric attribute (encoding picked by the builder); -1 when full. */
int isakmp_attr_add(struct isakmp_transform *t, uint16_t type, uint64_t v);
/* A 4-byte SPI (ESP, AH) as a number; 0 when the size is not 4. */
uint32_t isakmp_spi32(const struct isakmp_proposal *p);

/* ---- the other payloads ---- */

/* KE, NONCE (8..256 bytes), HASH, SIG, VID, NAT-D: the data after the generic header. */
struct isakmp_data {
	const uint8_t *p;
	size_t len;
};
int isakmp_data_parse(const struct isakmp_pl *pl, struct isakmp_data *d, struct isakmp_error *err);

/*
 * ID (RFC 2407 4.6.2).  body/body_len is IDii_b / IDir_b as hashed (ID type,
 * protocol, port, data).  IPv4 types are decoded: ADDR gives addr and mask
 * 255.255.255.255, ADDR_SUBNET addr and mask, ADDR_RANGE addr and end.
 * Building: data != NULL writes data_len bytes of data, otherwise the IPv4
 * types are written from addr/mask/end.
 */
struct isakmp_id {
	uint8_t type;
	uint8_t proto; /* IP protocol, 0 for any */
	uint16_t port; /* 0 for any */
	const uint8_t *data;
	size_t data_len;
	struct in_addr addr, mask, end;
	const uint8_t *body;
	size_t body_len;
};
int isakmp_id_parse(const struct isakmp_pl *pl, struct isakmp_id *id, struct isakmp_error *err);
/* Append the ID body to b (for HASH_I before the payload exists). */
int isakmp_id_body_put(struct buf *b, const struct isakmp_id *id, struct isakmp_error *err);
/* The prefix length of a contiguous mask, or -1. */
int isakmp_mask_plen(struct in_addr mask);

/* CERT (encoding, certificate: not empty) and CR (type, certificate authority: may be empty). */
struct isakmp_cert {
	uint8_t enc;
	const uint8_t *data;
	size_t len;
};
int isakmp_cert_parse(const struct isakmp_pl *pl, struct isakmp_cert *c, struct isakmp_error *err);

/* N (RFC 2408 3.14). */
struct isakmp_notify {
	uint32_t doi;
	uint8_t proto;
	uint8_t spi_size;
	uint16_t type;
	uint8_t spi[ISAKMP_MAX_SPI];
	const uint8_t *data;
	size_t data_len;
};
int isakmp_notify_parse(const struct isakmp_pl *pl, struct isakmp_notify *n,
			struct isakmp_error *err);
/* The sequence number of an R-U-THERE or R-U-THERE-ACK (4 bytes of data). */
bool isakmp_dpd_seq(const struct isakmp_notify *n, uint32_t *seq);

/* D (RFC 2408 3.15): nspi SPIs of spi_size bytes each at spis. */
struct isakmp_delete {
	uint32_t doi;
	uint8_t proto;
	uint8_t spi_size;
	uint16_t nspi;
	const uint8_t *spis;
};
int isakmp_delete_parse(const struct isakmp_pl *pl, struct isakmp_delete *d,
			struct isakmp_error *err);
/* SPI i of a Delete (spi_size bytes), or NULL. */
const uint8_t *isakmp_delete_spi(const struct isakmp_delete *d, size_t i);

/* NAT-OA (RFC 3947 5.2): ID_IPV4_ADDR (in4) or ID_IPV6_ADDR (addr, 16 bytes). */
struct isakmp_natoa {
	uint8_t id_type;
	struct in_addr in4;
	uint8_t addr[16];
	size_t addr_len;
};
int isakmp_natoa_parse(const struct isakmp_pl *pl, struct isakmp_natoa *oa,
		       struct isakmp_error *err);

/* ---- building ---- */

struct isakmp_builder {
	struct buf *b;
	size_t start; /* where the header (or the bare chain) starts in b */
	bool has_hdr;
	bool have_np;            /* np_pos holds a Next Payload field to patch */
	size_t np_pos;           /* the Next Payload field the next payload's type goes into */
	size_t last_pos;         /* the generic header of the last payload put */
	uint8_t first;           /* type of the first payload */
	size_t n;                /* payloads put */
	struct isakmp_error err; /* the first failure; sticky */
};

/* Write the 28-byte header as given (version 1.0; Next Payload and Length from h). */
int isakmp_hdr_put(struct buf *b, const struct isakmp_hdr *h);

/* Start a message with header h (Next Payload and Length patched later), or a bare chain. */
int isakmp_build_init(struct isakmp_builder *bld, struct buf *b, const struct isakmp_hdr *h);
/* A payload with the body as given (any type; for opaque and private payloads). */
int isakmp_put_raw(struct isakmp_builder *bld, uint8_t type, const void *body, size_t len);
/* KE, NONCE, HASH, SIG, VID, NAT-D with the same length rules as isakmp_data_parse. */
int isakmp_put_data(struct isakmp_builder *bld, uint8_t type, const void *data, size_t len);
/* A payload of len zero bytes that the caller fills later through *p (e.g. HASH). */
int isakmp_put_reserve(struct isakmp_builder *bld, uint8_t type, size_t len, uint8_t **p);
int isakmp_put_sa(struct isakmp_builder *bld, const struct isakmp_sa *sa);
int isakmp_put_id(struct isakmp_builder *bld, const struct isakmp_id *id);
/* CERT or CR (type says which). */
int isakmp_put_cert(struct isakmp_builder *bld, uint8_t type, const struct isakmp_cert *c);
int isakmp_put_notify(struct isakmp_builder *bld, const struct isakmp_notify *n);
int isakmp_put_delete(struct isakmp_builder *bld, const struct isakmp_delete *d);
/* NAT-OA (type ISAKMP_PL_NATOA or the draft's). */
int isakmp_put_natoa(struct isakmp_builder *bld, uint8_t type, const struct isakmp_natoa *oa);
/* The body of the payload put last (e.g. SAi_b, IDii_b of what we send). */
int isakmp_build_last(const struct isakmp_builder *bld, const uint8_t **p, size_t *len);
/*
 * Patch the header's Length; *len (optional) gets the bytes written since
 * init.  Returns the first error of any put, or ISAKMP_OK.
 */
int isakmp_build_finish(struct isakmp_builder *bld, size_t *len);

#endif
