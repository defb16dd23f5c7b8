/*
 * ike-load's logic that needs no sockets (tools/ike_load_args.c), so the
 * unit tests can reach it: the command line, the identities' addresses
 * (the mobile nodes' home addresses: consecutive, skipping .0 and .255),
 * and each identity's ISAKMP ID and pre-shared key, derived from a seed so
 * that the responders' configurations (written from `ike-load -P`) and the
 * load agree without a file between them.
 */
#ifndef MIPSA_IKE_LOAD_H
#define MIPSA_IKE_LOAD_H

#include "ike.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#define IL_MAX_N          65536
#define IL_MAX_INFLIGHT   1024
#define IL_SEED_MAX       128
#define IL_ID_LEN         64
#define IL_PSK_HEX        32 /* 16 bytes of SHA-256(seed ":" index), in hex */
#define IL_DEFAULT_N      200
#define IL_DEFAULT_FLIGHT 16
#define IL_DEFAULT_TMO_S  30

struct il_opts {
	struct in_addr responder;      /* -a: the responder's address */
	char responder_id[IKE_ID_MAX]; /* -i: the identity it must show ("" any) */
	struct in_addr base;           /* -b: the first identity's address */
	unsigned n;                    /* -n: identities */
	unsigned inflight;             /* -c: negotiations at once at most */
	unsigned timeout_s;            /* -t: one identity's deadline, Main Mode to Quick Mode */
	enum ike_group group;          /* -g: modp2048 or ecp256 */
	char seed[IL_SEED_MAX];        /* -k: the PSKs' seed */
	bool print_ids;                /* -P: print "address id psk" per identity and exit */
	bool hold;                     /* -H: keep the SAs (answer the responder) until a signal */
};

enum il_parse {
	IL_PARSE_OK = 0,
	IL_PARSE_HELP = 1,
	IL_PARSE_ERROR = -1,
};

/* The command line into o (defaults first); err says what is wrong on IL_PARSE_ERROR. */
enum il_parse il_parse_args(int argc, char **argv, struct il_opts *o, char *err, size_t errlen);

/*
 * Identity i's address: base plus i, counting only host numbers 1..254 of
 * each /24 (no network or broadcast address of a /24 is handed out).  -1
 * when base itself ends in .0 or .255, or the address would pass
 * 223.255.255.254 (multicast and beyond).
 */
int il_addr(struct in_addr base, unsigned i, struct in_addr *out);

/* Identity i's ISAKMP ID ("mn<i>@load.example") and PSK (IL_PSK_HEX hex digits); -1 on a short
 * buffer. */
int il_ident(const char *seed, unsigned i, char *id, size_t idlen, char *psk, size_t psklen);

/*
 * IL_PSK_HEX hex digits of SHA-256(seed tag i), "tag" telling one key of
 * identity i from another (il_ident's PSK: ":"); -1 on a short buffer.
 */
int il_derive_hex(const char *seed, const char *tag, unsigned i, char *hex, size_t len);

/* A decimal number lo..hi into *out, the whole string; -1 otherwise. */
int il_num(const char *s, unsigned long lo, unsigned long hi, unsigned *out);

/* "modp2048" / "ecp256" (and the group numbers 14 / 19); 0 when neither. */
enum ike_group il_group(const char *s);
const char *il_group_name(enum ike_group g);

#endif
