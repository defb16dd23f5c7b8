/*
 * Names of ISAKMP, IKE and IPsec DOI values for log lines, and the
 * well-known vendor IDs.  See isakmp.h.
 */
#include "isakmp.h"

#include <string.h>

const char *isakmp_exchange_name(uint8_t exchange)
{
	switch (exchange) {
	case ISAKMP_EXCH_NONE:
		return "none";
	case ISAKMP_EXCH_BASE:
		return "Base";
	case ISAKMP_EXCH_IDPROT:
		return "Main Mode";
	case ISAKMP_EXCH_AUTH_ONLY:
		return "Authentication Only";
	case ISAKMP_EXCH_AGGRESSIVE:
		return "Aggressive Mode";
	case ISAKMP_EXCH_INFO:
		return "Informational";
	case ISAKMP_EXCH_QUICK:
		return "Quick Mode";
	case ISAKMP_EXCH_NEW_GROUP:
		return "New Group Mode";
	default:
		return exchange >= 240 ? "private" : "unknown";
	}
}

const char *isakmp_payload_name(uint8_t type)
{
	switch (type) {
	case ISAKMP_PL_NONE:
		return "none";
	case ISAKMP_PL_SA:
		return "SA";
	case ISAKMP_PL_P:
		return "proposal";
	case ISAKMP_PL_T:
		return "transform";
	case ISAKMP_PL_KE:
		return "KE";
	case ISAKMP_PL_ID:
		return "ID";
	case ISAKMP_PL_CERT:
		return "CERT";
	case ISAKMP_PL_CR:
		return "CR";
	case ISAKMP_PL_HASH:
		return "HASH";
	case ISAKMP_PL_SIG:
		return "SIG";
	case ISAKMP_PL_NONCE:
		return "NONCE";
	case ISAKMP_PL_N:
		return "N";
	case ISAKMP_PL_D:
		return "D";
	case ISAKMP_PL_VID:
		return "VID";
	case ISAKMP_PL_NATD:
		return "NAT-D";
	case ISAKMP_PL_NATOA:
		return "NAT-OA";
	case ISAKMP_PL_NATD_DRAFT:
		return "NAT-D (draft)";
	case ISAKMP_PL_NATOA_DRAFT:
		return "NAT-OA (draft)";
	default:
		return type >= ISAKMP_PL_PRIVATE_MIN ? "private" : "unknown";
	}
}

const char *isakmp_notify_name(uint16_t type)
{
	static const char *const errors[] = {
		[ISAKMP_N_INVALID_PAYLOAD_TYPE] = "INVALID-PAYLOAD-TYPE",
		[ISAKMP_N_DOI_NOT_SUPPORTED] = "DOI-NOT-SUPPORTED",
		[ISAKMP_N_SITUATION_NOT_SUPPORTED] = "SITUATION-NOT-SUPPORTED",
		[ISAKMP_N_INVALID_COOKIE] = "INVALID-COOKIE",
		[ISAKMP_N_INVALID_MAJOR_VERSION] = "INVALID-MAJOR-VERSION",
		[ISAKMP_N_INVALID_MINOR_VERSION] = "INVALID-MINOR-VERSION",
		[ISAKMP_N_INVALID_EXCHANGE_TYPE] = "INVALID-EXCHANGE-TYPE",
		[ISAKMP_N_INVALID_FLAGS] = "INVALID-FLAGS",
		[ISAKMP_N_INVALID_MESSAGE_ID] = "INVALID-MESSAGE-ID",
		[ISAKMP_N_INVALID_PROTOCOL_ID] = "INVALID-PROTOCOL-ID",
		[ISAKMP_N_INVALID_SPI] = "INVALID-SPI",
		[ISAKMP_N_INVALID_TRANSFORM_ID] = "INVALID-TRANSFORM-ID",
		[ISAKMP_N_ATTRIBUTES_NOT_SUPPORTED] = "ATTRIBUTES-NOT-SUPPORTED",
		[ISAKMP_N_NO_PROPOSAL_CHOSEN] = "NO-PROPOSAL-CHOSEN",
		[ISAKMP_N_BAD_PROPOSAL_SYNTAX] = "BAD-PROPOSAL-SYNTAX",
		[ISAKMP_N_PAYLOAD_MALFORMED] = "PAYLOAD-MALFORMED",
		[ISAKMP_N_INVALID_KEY_INFORMATION] = "INVALID-KEY-INFORMATION",
		[ISAKMP_N_INVALID_ID_INFORMATION] = "INVALID-ID-INFORMATION",
		[ISAKMP_N_INVALID_CERT_ENCODING] = "INVALID-CERT-ENCODING",
		[ISAKMP_N_INVALID_CERTIFICATE] = "INVALID-CERTIFICATE",
		[ISAKMP_N_CERT_TYPE_UNSUPPORTED] = "CERT-TYPE-UNSUPPORTED",
		[ISAKMP_N_INVALID_CERT_AUTHORITY] = "INVALID-CERT-AUTHORITY",
		[ISAKMP_N_INVALID_HASH_INFORMATION] = "INVALID-HASH-INFORMATION",
		[ISAKMP_N_AUTHENTICATION_FAILED] = "AUTHENTICATION-FAILED",
		[ISAKMP_N_INVALID_SIGNATURE] = "INVALID-SIGNATURE",
		[ISAKMP_N_ADDRESS_NOTIFICATION] = "ADDRESS-NOTIFICATION",
		[ISAKMP_N_NOTIFY_SA_LIFETIME] = "NOTIFY-SA-LIFETIME",
		[ISAKMP_N_CERTIFICATE_UNAVAILABLE] = "CERTIFICATE-UNAVAILABLE",
		[ISAKMP_N_UNSUPPORTED_EXCHANGE_TYPE] = "UNSUPPORTED-EXCHANGE-TYPE",
		[ISAKMP_N_UNEQUAL_PAYLOAD_LENGTHS] = "UNEQUAL-PAYLOAD-LENGTHS",
	};

	if (type < sizeof(errors) / sizeof(errors[0]) && errors[type] != NULL)
		return errors[type];
	switch (type) {
	case ISAKMP_N_CONNECTED:
		return "CONNECTED";
	case ISAKMP_N_RESPONDER_LIFETIME:
		return "RESPONDER-LIFETIME";
	case ISAKMP_N_REPLAY_STATUS:
		return "REPLAY-STATUS";
	case ISAKMP_N_INITIAL_CONTACT:
		return "INITIAL-CONTACT";
	case ISAKMP_N_R_U_THERE:
		return "R-U-THERE";
	case ISAKMP_N_R_U_THERE_ACK:
		return "R-U-THERE-ACK";
	default:
		return isakmp_notify_is_error(type) ? "unknown error" : "unknown status";
	}
}

bool isakmp_notify_is_error(uint16_t type)
{
	return type < ISAKMP_N_STATUS_MIN;
}

const char *isakmp_proto_name(uint8_t proto)
{
	switch (proto) {
	case ISAKMP_PROTO_ISAKMP:
		return "ISAKMP";
	case ISAKMP_PROTO_IPSEC_AH:
		return "AH";
	case ISAKMP_PROTO_IPSEC_ESP:
		return "ESP";
	case ISAKMP_PROTO_IPCOMP:
		return "IPCOMP";
	default:
		return "unknown";
	}
}

static const char *isakmp_esp_name(uint8_t id)
{
	static const char *const names[] = {
		[ISAKMP_ESP_DES_IV64] = "DES-IV64",
		[ISAKMP_ESP_DES] = "DES",
		[ISAKMP_ESP_3DES] = "3DES",
		[ISAKMP_ESP_RC5] = "RC5",
		[ISAKMP_ESP_IDEA] = "IDEA",
		[ISAKMP_ESP_CAST] = "CAST",
		[ISAKMP_ESP_BLOWFISH] = "BLOWFISH",
		[ISAKMP_ESP_3IDEA] = "3IDEA",
		[ISAKMP_ESP_DES_IV32] = "DES-IV32",
		[ISAKMP_ESP_RC4] = "RC4",
		[ISAKMP_ESP_NULL] = "NULL",
		[ISAKMP_ESP_AES] = "AES-CBC",
		[ISAKMP_ESP_AES_CTR] = "AES-CTR",
		[ISAKMP_ESP_AES_CCM_8] = "AES-CCM-8",
		[ISAKMP_ESP_AES_CCM_12] = "AES-CCM-12",
		[ISAKMP_ESP_AES_CCM_16] = "AES-CCM-16",
		[ISAKMP_ESP_AES_GCM_8] = "AES-GCM-8",
		[ISAKMP_ESP_AES_GCM_12] = "AES-GCM-12",
		[ISAKMP_ESP_AES_GCM_16] = "AES-GCM-16",
		[ISAKMP_ESP_NULL_AUTH_AES_GMAC] = "NULL-AUTH-AES-GMAC",
	};

	if (id < sizeof(names) / sizeof(names[0]) && names[id] != NULL)
		return names[id];
	return "unknown";
}

const char *isakmp_xf_name(uint8_t proto, uint8_t id)
{
	switch (proto) {
	case ISAKMP_PROTO_ISAKMP:
		return id == ISAKMP_XF_KEY_IKE ? "KEY_IKE" : "unknown";
	case ISAKMP_PROTO_IPSEC_ESP:
		return isakmp_esp_name(id);
	case ISAKMP_PROTO_IPSEC_AH:
		switch (id) {
		case ISAKMP_AH_MD5:
			return "AH-MD5";
		case ISAKMP_AH_SHA:
			return "AH-SHA";
		case ISAKMP_AH_DES:
			return "AH-DES";
		case ISAKMP_AH_SHA2_256:
			return "AH-SHA2-256";
		case ISAKMP_AH_SHA2_384:
			return "AH-SHA2-384";
		case ISAKMP_AH_SHA2_512:
			return "AH-SHA2-512";
		default:
			return "unknown";
		}
	default:
		return "unknown";
	}
}

const char *isakmp_attr_name(uint8_t proto, uint16_t type)
{
	static const char *const p1[] = {
		[ISAKMP_P1_ENC] = "Encryption Algorithm",
		[ISAKMP_P1_HASH] = "Hash Algorithm",
		[ISAKMP_P1_AUTH] = "Authentication Method",
		[ISAKMP_P1_GROUP] = "Group Description",
		[ISAKMP_P1_GROUP_TYPE] = "Group Type",
		[ISAKMP_P1_GROUP_PRIME] = "Group Prime/Irreducible Polynomial",
		[ISAKMP_P1_GROUP_GEN1] = "Group Generator One",
		[ISAKMP_P1_GROUP_GEN2] = "Group Generator Two",
		[ISAKMP_P1_GROUP_CURVE_A] = "Group Curve A",
		[ISAKMP_P1_GROUP_CURVE_B] = "Group Curve B",
		[ISAKMP_P1_LIFE_TYPE] = "Life Type",
		[ISAKMP_P1_LIFE_DURATION] = "Life Duration",
		[ISAKMP_P1_PRF] = "PRF",
		[ISAKMP_P1_KEY_LEN] = "Key Length",
		[ISAKMP_P1_FIELD_SIZE] = "Field Size",
		[ISAKMP_P1_GROUP_ORDER] = "Group Order",
	};
	static const char *const ipsec[] = {
		[ISAKMP_IPSEC_LIFE_TYPE] = "SA Life Type",
		[ISAKMP_IPSEC_LIFE_DURATION] = "SA Life Duration",
		[ISAKMP_IPSEC_GROUP] = "Group Description",
		[ISAKMP_IPSEC_ENCAP] = "Encapsulation Mode",
		[ISAKMP_IPSEC_AUTH] = "Authentication Algorithm",
		[ISAKMP_IPSEC_KEY_LEN] = "Key Length",
		[ISAKMP_IPSEC_KEY_ROUNDS] = "Key Rounds",
		[ISAKMP_IPSEC_COMP_DICT] = "Compress Dictionary Size",
		[ISAKMP_IPSEC_COMP_PRIV] = "Compress Private Algorithm",
		[ISAKMP_IPSEC_ESN] = "Extended Sequence Number",
	};

	if (proto == ISAKMP_PROTO_ISAKMP) {
		if (type < sizeof(p1) / sizeof(p1[0]) && p1[type] != NULL)
			return p1[type];
	} else if (type < sizeof(ipsec) / sizeof(ipsec[0]) && ipsec[type] != NULL) {
		return ipsec[type];
	}
	return type >= 16384 ? "private" : "unknown"; /* 16384-32767: private use */
}

static const char *isakmp_group_name(uint64_t v)
{
	switch (v) {
	case ISAKMP_GROUP_MODP768:
		return "MODP768";
	case ISAKMP_GROUP_MODP1024:
		return "MODP1024";
	case ISAKMP_GROUP_EC2N155:
		return "EC2N155";
	case ISAKMP_GROUP_EC2N185:
		return "EC2N185";
	case ISAKMP_GROUP_MODP1536:
		return "MODP1536";
	case ISAKMP_GROUP_MODP2048:
		return "MODP2048";
	case ISAKMP_GROUP_MODP3072:
		return "MODP3072";
	case ISAKMP_GROUP_MODP4096:
		return "MODP4096";
	case ISAKMP_GROUP_MODP6144:
		return "MODP6144";
	case ISAKMP_GROUP_MODP8192:
		return "MODP8192";
	case ISAKMP_GROUP_ECP256:
		return "ECP256";
	case ISAKMP_GROUP_ECP384:
		return "ECP384";
	case ISAKMP_GROUP_ECP521:
		return "ECP521";
	default:
		return "unknown";
	}
}

static const char *isakmp_life_name(uint64_t v)
{
	switch (v) {
	case ISAKMP_LIFE_SECONDS:
		return "seconds";
	case ISAKMP_LIFE_KILOBYTES:
		return "kilobytes";
	default:
		return "unknown";
	}
}

static const char *isakmp_p1_value_name(uint16_t type, uint64_t v)
{
	static const char *const enc[] = {
		[ISAKMP_ENC_DES_CBC] = "DES-CBC",
		[ISAKMP_ENC_IDEA_CBC] = "IDEA-CBC",
		[ISAKMP_ENC_BLOWFISH_CBC] = "Blowfish-CBC",
		[ISAKMP_ENC_RC5_CBC] = "RC5-CBC",
		[ISAKMP_ENC_3DES_CBC] = "3DES-CBC",
		[ISAKMP_ENC_CAST_CBC] = "CAST-CBC",
		[ISAKMP_ENC_AES_CBC] = "AES-CBC",
		[ISAKMP_ENC_CAMELLIA_CBC] = "Camellia-CBC",
	};
	static const char *const hash[] = {
		[ISAKMP_HASH_MD5] = "MD5",           [ISAKMP_HASH_SHA1] = "SHA1",
		[ISAKMP_HASH_TIGER] = "Tiger",       [ISAKMP_HASH_SHA2_256] = "SHA2-256",
		[ISAKMP_HASH_SHA2_384] = "SHA2-384", [ISAKMP_HASH_SHA2_512] = "SHA2-512",
	};
	static const char *const auth[] = {
		[ISAKMP_AUTH_PSK] = "pre-shared key",
		[ISAKMP_AUTH_DSS_SIG] = "DSS signatures",
		[ISAKMP_AUTH_RSA_SIG] = "RSA signatures",
		[ISAKMP_AUTH_RSA_ENC] = "RSA encryption",
		[ISAKMP_AUTH_RSA_ENC_REV] = "revised RSA encryption",
	};

	switch (type) {
	case ISAKMP_P1_ENC:
		return v < sizeof(enc) / sizeof(enc[0]) && enc[v] ? enc[v] : "unknown";
	case ISAKMP_P1_HASH:
		return v < sizeof(hash) / sizeof(hash[0]) && hash[v] ? hash[v] : "unknown";
	case ISAKMP_P1_AUTH:
		return v < sizeof(auth) / sizeof(auth[0]) && auth[v] ? auth[v] : "unknown";
	case ISAKMP_P1_GROUP:
		return isakmp_group_name(v);
	case ISAKMP_P1_LIFE_TYPE:
		return isakmp_life_name(v);
	default:
		return "";
	}
}

static const char *isakmp_ipsec_value_name(uint16_t type, uint64_t v)
{
	static const char *const auth[] = {
		[ISAKMP_AUTH_HMAC_MD5] = "HMAC-MD5",
		[ISAKMP_AUTH_HMAC_SHA1] = "HMAC-SHA1",
		[ISAKMP_AUTH_DES_MAC] = "DES-MAC",
		[ISAKMP_AUTH_KPDK] = "KPDK",
		[ISAKMP_AUTH_HMAC_SHA2_256] = "HMAC-SHA2-256",
		[ISAKMP_AUTH_HMAC_SHA2_384] = "HMAC-SHA2-384",
		[ISAKMP_AUTH_HMAC_SHA2_512] = "HMAC-SHA2-512",
		[ISAKMP_AUTH_HMAC_RIPEMD] = "HMAC-RIPEMD",
		[ISAKMP_AUTH_AES_XCBC_MAC] = "AES-XCBC-MAC",
	};

	switch (type) {
	case ISAKMP_IPSEC_LIFE_TYPE:
		return isakmp_life_name(v);
	case ISAKMP_IPSEC_GROUP:
		return isakmp_group_name(v);
	case ISAKMP_IPSEC_AUTH:
		return v < sizeof(auth) / sizeof(auth[0]) && auth[v] ? auth[v] : "unknown";
	case ISAKMP_IPSEC_ENCAP:
		switch (v) {
		case ISAKMP_ENCAP_TUNNEL:
			return "tunnel";
		case ISAKMP_ENCAP_TRANSPORT:
			return "transport";
		case ISAKMP_ENCAP_UDP_TUNNEL:
			return "UDP-encapsulated tunnel";
		case ISAKMP_ENCAP_UDP_TRANSPORT:
			return "UDP-encapsulated transport";
		case ISAKMP_ENCAP_UDP_TUNNEL_DRAFT:
			return "UDP-encapsulated tunnel (draft)";
		case ISAKMP_ENCAP_UDP_TRANSPORT_DRAFT:
			return "UDP-encapsulated transport (draft)";
		default:
			return "unknown";
		}
	default:
		return "";
	}
}

const char *isakmp_attr_value_name(uint8_t proto, uint16_t type, uint64_t value)
{
	if (proto == ISAKMP_PROTO_ISAKMP)
		return isakmp_p1_value_name(type, value);
	return isakmp_ipsec_value_name(type, value);
}

const char *isakmp_id_type_name(uint8_t type)
{
	static const char *const names[] = {
		[ISAKMP_ID_IPV4_ADDR] = "IPV4_ADDR",
		[ISAKMP_ID_FQDN] = "FQDN",
		[ISAKMP_ID_USER_FQDN] = "USER_FQDN",
		[ISAKMP_ID_IPV4_ADDR_SUBNET] = "IPV4_ADDR_SUBNET",
		[ISAKMP_ID_IPV6_ADDR] = "IPV6_ADDR",
		[ISAKMP_ID_IPV6_ADDR_SUBNET] = "IPV6_ADDR_SUBNET",
		[ISAKMP_ID_IPV4_ADDR_RANGE] = "IPV4_ADDR_RANGE",
		[ISAKMP_ID_IPV6_ADDR_RANGE] = "IPV6_ADDR_RANGE",
		[ISAKMP_ID_DER_ASN1_DN] = "DER_ASN1_DN",
		[ISAKMP_ID_DER_ASN1_GN] = "DER_ASN1_GN",
		[ISAKMP_ID_KEY_ID] = "KEY_ID",
	};

	if (type < sizeof(names) / sizeof(names[0]) && names[type] != NULL)
		return names[type];
	return "unknown";
}

const char *isakmp_cert_enc_name(uint8_t enc)
{
	static const char *const names[] = {
		[ISAKMP_CERT_NONE] = "none",
		[ISAKMP_CERT_PKCS7] = "PKCS #7 wrapped X.509",
		[ISAKMP_CERT_PGP] = "PGP",
		[ISAKMP_CERT_DNS_KEY] = "DNS signed key",
		[ISAKMP_CERT_X509_SIG] = "X.509 signature",
		[ISAKMP_CERT_X509_KE] = "X.509 key exchange",
		[ISAKMP_CERT_KERBEROS] = "Kerberos tokens",
		[ISAKMP_CERT_CRL] = "CRL",
		[ISAKMP_CERT_ARL] = "ARL",
		[ISAKMP_CERT_SPKI] = "SPKI",
		[ISAKMP_CERT_X509_ATTR] = "X.509 attribute",
	};

	if (enc < sizeof(names) / sizeof(names[0]))
		return names[enc];
	return "unknown";
}

/* ---- vendor IDs ---- */

struct isakmp_vid_entry {
	const char *name;
	uint8_t len;
	uint8_t bytes[16];
};

static const struct isakmp_vid_entry isakmp_vids[ISAKMP_VID_MAX] = {
	[ISAKMP_VID_UNKNOWN] = {"unknown", 0, {0}},
	[ISAKMP_VID_RFC3947] = {"RFC 3947 NAT-T", 16, ISAKMP_VID_RFC3947_BYTES},
	[ISAKMP_VID_NATT_DRAFT_00] = {"draft-ietf-ipsec-nat-t-ike-00",
				      16,
				      {0x44, 0x85, 0x15, 0x2d, 0x18, 0xb6, 0xbb, 0xcd, 0x0b, 0xe8,
				       0xa8, 0x46, 0x95, 0x79, 0xdd, 0xcc}},
	[ISAKMP_VID_NATT_DRAFT_02] = {"draft-ietf-ipsec-nat-t-ike-02",
				      16,
				      {0xcd, 0x60, 0x46, 0x43, 0x35, 0xdf, 0x21, 0xf8, 0x7c, 0xfd,
				       0xb2, 0xfc, 0x68, 0xb6, 0xa4, 0x48}},
	[ISAKMP_VID_NATT_DRAFT_02_NL] = {"draft-ietf-ipsec-nat-t-ike-02\\n",
					 16,
					 {0x90, 0xcb, 0x80, 0x91, 0x3e, 0xbb, 0x69, 0x6e, 0x08,
					  0x63, 0x81, 0xb5, 0xec, 0x42, 0x7b, 0x1f}},
	[ISAKMP_VID_NATT_DRAFT_03] = {"draft-ietf-ipsec-nat-t-ike-03",
				      16,
				      {0x7d, 0x94, 0x19, 0xa6, 0x53, 0x10, 0xca, 0x6f, 0x2c, 0x17,
				       0x9d, 0x92, 0x15, 0x52, 0x9d, 0x56}},
	[ISAKMP_VID_DPD] = {"RFC 3706 DPD 1.0", 16, ISAKMP_VID_DPD_BYTES},
	[ISAKMP_VID_XAUTH] = {"XAUTH", 8, {0x09, 0x00, 0x26, 0x89, 0xdf, 0xd6, 0xb7, 0x12}},
};

const uint8_t *isakmp_vid_bytes(enum isakmp_vid v, size_t *len)
{
	if (v <= ISAKMP_VID_UNKNOWN || v >= ISAKMP_VID_MAX)
		return NULL;
	*len = isakmp_vids[v].len;
	return isakmp_vids[v].bytes;
}

enum isakmp_vid isakmp_vid_lookup(const uint8_t *p, size_t len)
{
	for (int v = ISAKMP_VID_UNKNOWN + 1; v < ISAKMP_VID_MAX; v++)
		if (len == isakmp_vids[v].len && memcmp(p, isakmp_vids[v].bytes, len) == 0)
			return (enum isakmp_vid)v;
	return ISAKMP_VID_UNKNOWN;
}

const char *isakmp_vid_name(enum isakmp_vid v)
{
	if (v < ISAKMP_VID_UNKNOWN || v >= ISAKMP_VID_MAX)
		return "unknown";
	return isakmp_vids[v].name;
}
