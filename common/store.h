/*
 * The SA store client: how a foreign agent keeps a mobile node's sealed SA
 * record in the domain's store and reads it back at hand-over.  Two
 * back-ends behind one API:
 *
 *   dbs    mipsa-dbs over UDP (sax messages, K_DB authenticated).  The
 *          client builds STORE_GET / STORE_DEL itself; a put sends the
 *          SAX_STORE_PUT the FA built with sax_build (only the FA holds
 *          K_SA).  Answers are authenticated, checked for freshness and
 *          replay, and matched to the oldest pending request of the same
 *          node that expects that kind of answer.
 *   redis  a Redis server, one ACL user per FA: SET prefix+mn_id <the
 *          SAX_STORE_PUT bytes> PX (Expires - now), GET, DEL.  Redis only
 *          keeps bytes; the FA authenticates what it reads back.
 *          With Sentinel (sentinels set): the primary is whatever the
 *          Sentinels name for master_name, asked again whenever the
 *          connection fails or the server turns out not to be the primary
 *          (a READONLY reply, or ROLE); and with wait_replicas, a SET or
 *          DEL is pipelined with WAIT wait_replicas wait_ms and counts as
 *          done only when WAIT says that many replicas have it, so a
 *          failover to one of them loses no write the FA was told is kept.
 *
 * Either way a get hands the FA message bytes to parse with
 * sax_parse(msg, len, keys, now, 0, NULL, &m): window 0 because a record
 * read back is old by nature (its Expires still has to be in the future);
 * dbs answers were already checked for freshness and replay here.
 *
 * Nothing blocks: dbs uses a non-blocking UDP socket, Redis hiredis's
 * asynchronous API on the event loop (common/evloop.h) through the small
 * adapter in store.c.  Every operation has its own timeout; a request the
 * store does not answer in time ends with STORE_TIMEOUT so the FA can fall
 * back (e.g. ask the previous FA directly).
 *
 * Callback contract: an operation that returns 0 calls its callback
 * exactly once, later, from the event loop (never from inside the call);
 * one that returns -1 (bad arguments, too many pending requests, out of
 * memory) never calls it.  store_client_free() drops pending requests
 * without calling their callbacks; do not call it from inside a callback.
 */
#ifndef MIPSA_STORE_H
#define MIPSA_STORE_H

#include "conf.h"
#include "sax.h"
#include "sax_keyring.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ev_loop;

#define STORE_REDIS_PORT        6379
#define STORE_DEFAULT_WINDOW_MS 30000
#define STORE_MAX_PENDING       1024
#define STORE_PREFIX_MAX        64
#define STORE_HOST_MAX          256
#define STORE_USER_MAX          64
#define STORE_PASS_MAX          128
#define STORE_SENTINELS_MAX     8
#define STORE_MASTER_MAX        64
#define STORE_SENTINEL_PORT     26379

struct store_sentinel {
	struct in_addr addr;
	uint16_t port;
};

enum store_backend {
	STORE_DBS = 1,
	STORE_REDIS = 2,
};

struct store_config {
	enum store_backend backend;
	/* dbs */
	struct in_addr dbs_addr;
	uint16_t dbs_port;    /* SAX_PORT unless set */
	struct in_addr local; /* our Sender address; the socket is bound to it */
	uint8_t k_db[SAX_KEY_LEN];
	uint32_t window_ms; /* freshness of the store's answers */
	/* redis */
	char redis_host[STORE_HOST_MAX]; /* an address or a name (resolved once, at start) */
	uint16_t redis_port;
	char redis_user[STORE_USER_MAX];
	char redis_pass[STORE_PASS_MAX];
	char key_prefix[STORE_PREFIX_MAX]; /* e.g. "mipsa:sa:" */
	/* redis with Sentinel: redis_host and redis_port unused, asked of these in turn */
	struct store_sentinel sentinels[STORE_SENTINELS_MAX];
	size_t n_sentinels;
	char master_name[STORE_MASTER_MAX]; /* the name the Sentinels monitor it under */
	uint32_t wait_replicas;             /* 0: a write is done once the primary has it */
	uint32_t wait_ms;                   /* WAIT's timeout */
	/* both */
	uint32_t max_pending; /* STORE_MAX_PENDING unless set */
};

enum store_op {
	STORE_OP_PUT = 1,
	STORE_OP_GET,
	STORE_OP_DEL,
};

enum store_status {
	STORE_OK = 0,    /* put: kept (synced); del: gone; get: msg holds the message */
	STORE_NOT_FOUND, /* get: no record (reason SAX_R_UNKNOWN or SAX_R_EXPIRED) */
	STORE_REFUSED,   /* the store said no: reason (e.g. SAX_R_NOT_MEMBER, no ACL permission) */
	STORE_TIMEOUT,   /* no answer in time (reason SAX_R_STORE_ERROR) */
	STORE_ERROR,     /* connection lost, store unreachable, local failure (SAX_R_STORE_ERROR) */
};

struct store_result {
	enum store_op op;
	enum store_status status;
	enum sax_reason reason;
	const char *mn_id;
	const uint8_t *msg; /* get with STORE_OK: valid during the callback only */
	size_t len;
	uint64_t elapsed_us; /* from the call to the answer */
};

typedef void (*store_cb)(void *arg, const struct store_result *r);

struct store_counters {
	uint64_t requests;
	uint64_t ok;
	uint64_t not_found;
	uint64_t refused;
	uint64_t timeouts;
	uint64_t errors;
	uint64_t late_answers; /* dbs: authentic answers matching no pending request */
	uint64_t resent;       /* dbs: GETs and DELs asked again, unanswered at half their time */
	uint64_t bad_answers;  /* dbs: answers that failed authentication or freshness */
	uint64_t connects;     /* redis: connections made */
	uint64_t rcvbuf_drops; /* dbs: answers the kernel dropped for a full receive buffer */
	/* redis with Sentinel */
	uint64_t sentinel_lookups; /* questions to a Sentinel */
	uint64_t sentinel_errors;  /* ... that got no usable address (no answer, error, nil) */
	uint64_t failovers;        /* the primary named differs from the one before */
	uint64_t not_primary;      /* READONLY, or ROLE not master: asked the Sentinels again */
	uint64_t wait_short;       /* WAIT counted fewer replicas than wait_replicas: failed */
	/* dbs: key rotation (store_client_rotate) */
	uint64_t key_rotations;   /* K_DB changed */
	uint64_t rx_previous_key; /* answers accepted under the previous K_DB */
};

struct store_client;

/* NULL when the configuration is unusable (logged). */
struct store_client *store_client_new(struct ev_loop *loop, const struct store_config *cfg);
void store_client_free(struct store_client *sc);
/*
 * Redis: cb(arg) each time a connection to the server (the primary, with
 * Sentinels) comes up, after a failover too.  The FA writes then what the
 * store could not keep meanwhile.  mipsa-dbs (UDP) has no connection: never.
 */
void store_client_on_connect(struct store_client *sc, void (*cb)(void *arg), void *arg);

/*
 * msg: a SAX_STORE_PUT built by the FA for mn_id; expires_ms (wall clock)
 * is its Expires, which Redis turns into PX.  A record already expired is
 * refused (STORE_REFUSED, SAX_R_EXPIRED) without asking the store.
 */
int store_put(struct store_client *sc, const char *mn_id, uint64_t expires_ms, const uint8_t *msg,
	      size_t len, uint32_t timeout_ms, store_cb cb, void *arg);
int store_get(struct store_client *sc, const char *mn_id, uint32_t timeout_ms, store_cb cb,
	      void *arg);
int store_del(struct store_client *sc, const char *mn_id, uint32_t timeout_ms, store_cb cb,
	      void *arg);

/*
 * Reload: rotate the K_DB the client speaks to mipsa-dbs with
 * (sax_keyring.h: requests go under the old key until now_ms + overlap_ms,
 * answers under it are accepted until now_ms + 2 overlap_ms).  now_ms: the
 * loop's wall clock (ev_loop_wall_ms).  1 rotated, 0 the same key (or the
 * Redis back-end, which holds no key).
 */
int store_client_rotate(struct store_client *sc, const uint8_t k_db[SAX_KEY_LEN], uint64_t now_ms,
			uint32_t overlap_ms);
const struct store_counters *store_client_counters(const struct store_client *sc);
size_t store_client_pending(const struct store_client *sc);

const char *store_status_name(enum store_status s);
const char *store_op_name(enum store_op op);
const char *store_backend_name(enum store_backend b);
/* "ok", "unknown", "not_member", "expired", "bad_message", "store_error". */
const char *store_reason_name(enum sax_reason r);

/*
 * The system's wall clock in ms since 1970: the clock of sax timestamps and
 * Expires, for code without a loop (the client reads its loop's).
 */
uint64_t store_wall_ms(void);

/*
 * A 32-byte key from a file: 64 hex digits (surrounding white space
 * allowed) or exactly 32 raw bytes; anything else is refused with a reason
 * in err.  Warns when the file is readable by group or others.
 */
int store_read_key_file(const char *path, uint8_t key[SAX_KEY_LEN], char *err, size_t errlen);
/* The same rules on bytes already read (the parser, tested alone). */
int store_parse_key(const uint8_t *data, size_t len, uint8_t key[SAX_KEY_LEN], char *err,
		    size_t errlen);

/*
 * The store group of an FA configuration, for instance
 *   store = { backend = "dbs"; address = "198.18.3.2"; k_db_file = "...";
 *             local_address = "198.18.11.2"; }
 *   store = { backend = "redis"; host = "198.18.3.2"; port = 6379;
 *             user = "fa1"; password_file = "..."; key_prefix = "mipsa:sa:"; }
 *   store = { backend = "redis"; sentinels = [ "198.18.3.2:26379", ... ];
 *             master_name = "mipsa"; wait_replicas = 1; wait_ms = 200;
 *             user = "fa1"; password_file = "..."; }
 * Errors name file, line and setting (struct conf).
 */
int store_conf_load(struct conf *c, const config_setting_t *grp, struct store_config *cfg);
/*
 * "198.18.3.2:26379" (an IPv4 address, a colon, a port 1..65535 in
 * decimal; without ":port", default_port): 0, or -1 with a reason in err
 * and addr and port untouched (store_parse_master_addr likewise).
 */
int store_parse_hostport(const char *s, uint16_t default_port, struct in_addr *addr, uint16_t *port,
			 char *err, size_t errlen);

/*
 * A Sentinel's answer to SENTINEL get-master-addr-by-name: an array of two
 * strings, the primary's IPv4 address and its port.  0 with addr and port
 * set, or -1 with a reason in err (nil: the Sentinel knows no such master).
 */
struct redisReply;
int store_parse_master_addr(const struct redisReply *rep, struct in_addr *addr, uint16_t *port,
			    char *err, size_t errlen);

/* What the store group may hold (either backend), for conf_check. */
extern const struct conf_names store_conf_names[];
/* Wipe the key and the password. */
void store_config_wipe(struct store_config *cfg);

#endif
