/*
 * mipsa-dbs: the embedded store of a domain's sealed SA records.
 *
 * The logic lives in dbs/libdbs.a and never touches a socket: feed
 * dbs_handle() a datagram, where it came from and the wall clock, and get
 * the answer bytes back; call dbs_tick() now and then to expire records
 * and compact the log.  The daemon (dbs_main.c) only moves bytes.
 *
 * What it accepts: STORE_PUT / STORE_GET / STORE_DEL with a valid K_DB
 * HMAC, a timestamp within the freshness window, an unseen (sender,
 * nonce), from a member of the domain (the Sender field names a member and
 * the datagram comes from that address).  Bad MAC, stale, replayed and
 * malformed messages are dropped and counted, without an answer; an
 * authenticated sender outside the domain is told SAX_R_NOT_MEMBER.
 *
 * What it keeps: per mn_id the Sealed field as received (it cannot read
 * it: no K_SA here), the writer, Expires and the message timestamp.  Later
 * beats earlier by message timestamp: a PUT replaces a record only with a
 * newer timestamp, a DEL leaves a tombstone for one freshness window so a
 * delayed older PUT cannot bring the record back.
 *
 * Durability: an append-only log (dbs_log.c); a PUT or DEL is answered only
 * after its log entry has been written and fdatasync'ed.  The daemon
 * commits in groups: the writes of every request it read in one go share
 * one fdatasync, and all their answers wait for it (dbs_batch_handle).
 */
#ifndef MIPSA_DBS_H
#define MIPSA_DBS_H

#include "conf.h"
#include "sax.h"
#include "sax_keyring.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct ctl_out;

#define DBS_DEFAULT_WINDOW_MS   30000
#define DBS_DEFAULT_MAX_RECORDS 10000
#define DBS_DEFAULT_COMPACT     (1024 * 1024) /* log bytes before compaction is considered */
#define DBS_DEFAULT_REPLAY      65536         /* messages remembered against replay */
#define DBS_PATH_MAX            256
#define DBS_MAX_MEMBERS         256
#define DBS_LOG_NAME            "dbs.log"

struct dbs_config {
	struct in_addr address; /* bound to, and the Sender of our answers */
	uint16_t port;          /* SAX_PORT unless set (tests) */
	char control_socket[108];
	char data_dir[DBS_PATH_MAX];
	char k_db_file[DBS_PATH_MAX];
	uint8_t k_db[SAX_KEY_LEN];
	struct in_addr members[DBS_MAX_MEMBERS];
	size_t n_members;
	bool have_prefix;
	struct in_addr member_prefix;
	uint8_t member_plen;
	uint32_t freshness_window_ms;
	uint32_t key_overlap_ms; /* a K_DB rotation's overlap (dbs_rotate) */
	uint32_t max_records;
	uint64_t compact_min_bytes;
	/* Messages remembered against replay within the window; not in the file (tests set fewer).
	 */
	uint32_t replay_entries;
	int log_level;
};

/* What the dbs group may hold, for conf_check. */
extern const struct conf_names dbs_conf_names[];
/* The whole file, for conf_check (and mipsa-confnames, which man_check.sh reads). */
extern const struct conf_names dbs_root_names[];
/* Defaults, then the dbs group of c; errors name file, line and setting. */
int dbs_config_load(struct conf *c, struct dbs_config *cfg);
/* Defaults only (tests, tools). */
void dbs_config_defaults(struct dbs_config *cfg);
void dbs_config_wipe(struct dbs_config *cfg);
bool dbs_is_member(const struct dbs_config *cfg, struct in_addr a);

#define DBS_COUNTERS(X)                                                                            \
	X(puts)               /* STORE_PUT accepted for processing */                              \
	X(gets)               /* STORE_GET accepted */                                             \
	X(dels)               /* STORE_DEL accepted */                                             \
	X(hits)               /* GET answered with a RECORD */                                     \
	X(misses)             /* GET answered unknown or expired */                                \
	X(stored)             /* PUT written, synced and kept */                                   \
	X(superseded)         /* PUT or DEL older than what we hold: ignored, acknowledged */      \
	X(put_expired)        /* PUT whose Expires had passed */                                   \
	X(refused_mac)        /* HMAC (K_DB) did not verify */                                     \
	X(refused_stale)      /* timestamp outside the window */                                   \
	X(refused_replay)     /* (sender, nonce) seen before */                                    \
	X(refused_not_member) /* sender outside the domain, or not where the datagram came from */ \
	X(refused_malformed)  /* could not be parsed, or a type a store does not take */           \
	X(refused_full)       /* max_records live records already */                               \
	X(store_errors)       /* a log write or sync failed: STORE_ERROR answered */               \
	X(expired)            /* records dropped because their Expires passed */                   \
	X(synced_writes)      /* log entries written and fdatasync'ed */                           \
	X(syncs)             /* fdatasyncs of the log: fewer than synced_writes by group commit */ \
	X(compactions)       /* log rewrites */                                                    \
	X(loaded)            /* live records found in the log at start */                          \
	X(log_dropped_bytes) /* a torn or corrupt tail cut off the log at start */                 \
	X(key_rotations)     /* K_DB changed (dbs_rotate) */                                       \
	X(rx_previous_key)   /* requests accepted under the previous K_DB */

struct dbs_counters {
#define DBS_COUNTER_FIELD(n) uint64_t n;
	DBS_COUNTERS(DBS_COUNTER_FIELD)
#undef DBS_COUNTER_FIELD
};

struct dbs;

/*
 * Open the store: create data_dir if missing, load its log (dropping
 * expired records, cutting a torn tail).  NULL on failure (logged), e.g.
 * a log file that is not ours.
 */
struct dbs *dbs_open(const struct dbs_config *cfg, uint64_t now_ms);
void dbs_close(struct dbs *d);
/*
 * Reload: fresh is the configuration just loaded (dbs_config_load).  Takes
 * its key_overlap_ms and rotates K_DB to fresh->k_db when it differs
 * (sax_keyring.h): requests under either key are accepted until now_ms +
 * 2 overlap, each answered under the key it came under.  now_ms: the wall
 * clock, as dbs_handle takes it.  1 rotated, 0 the same key.
 */
int dbs_rotate(struct dbs *d, const struct dbs_config *fresh, uint64_t now_ms);

/* One datagram from src; the answer goes into out.  Returns its length, 0 for none. */
size_t dbs_handle(struct dbs *d, const uint8_t *msg, size_t len, struct in_addr src,
		  uint64_t now_ms, uint8_t *out, size_t cap);

/*
 * Group commit: one fdatasync for the writes of many requests, because a
 * sync costs far more than anything else a request does.
 * dbs_batch_handle() is dbs_handle() but for the sync: a put's or delete's
 * entry is written and the table changed, the answer is built into out
 * (*out_len its length, 0 for none), and the caller holds every answer
 * back until dbs_batch_commit() has synced the log once for the batch.
 * Should that sync fail, the batch's changes are undone (log and table)
 * and the answers of its requests from its first change on are rewritten
 * in place as STORE_ERROR (an ACK, or a REFUSED for a get): nothing is
 * acknowledged, nor read back, that is not on disk.  out and out_len must
 * stay valid until the commit; at most DBS_BATCH_MAX requests (one more is
 * dropped unanswered).  dbs_handle() is a batch of one.
 */
#define DBS_BATCH_MAX 64
void dbs_batch_handle(struct dbs *d, const uint8_t *msg, size_t len, struct in_addr src,
		      uint64_t now_ms, uint8_t *out, size_t cap, size_t *out_len);
/* 0, or -1 when the sync failed and the answers were rewritten. */
int dbs_batch_commit(struct dbs *d, uint64_t now_ms);

/* Expire records and tombstones; compact the log when it has outgrown its bound. */
void dbs_tick(struct dbs *d, uint64_t now_ms);
/* Rewrite the log with the live records only.  0 or -1 (the old log stays). */
int dbs_compact(struct dbs *d, uint64_t now_ms);

const struct dbs_counters *dbs_counters(const struct dbs *d);
size_t dbs_n_records(const struct dbs *d); /* live records (not tombstones) */
size_t dbs_n_tombstones(const struct dbs *d);
uint64_t dbs_log_bytes(const struct dbs *d);
/*
 * Hand data_dir and the log to the user the daemon is about to become
 * (sandbox.h): it must go on appending, and rewriting the log creates a
 * file in the directory.
 */
int dbs_log_chown(struct dbs *d, uid_t uid, gid_t gid);

/* What one record looks like from outside: no key material (we hold none). */
struct dbs_record_info {
	const char *mn_id;
	struct in_addr writer;
	uint64_t timestamp_ms, expires_ms;
	size_t sealed_len;
};
/* Visit the live records, in no particular order. */
void dbs_foreach(const struct dbs *d, void (*fn)(void *arg, const struct dbs_record_info *r),
		 void *arg);

/* A control socket command, from the table of dbs_ctl.c ("help" lists it). */
int dbs_ctl(struct dbs *d, int argc, char **argv, struct ctl_out *o, char *err, size_t errlen,
	    uint64_t now_ms);

/* Tests: make the next n log writes fail (as a full disk would), 0 to stop. */
void dbs_inject_write_errors(struct dbs *d, unsigned n);
/* Tests: the next n syncs of a written entry fail (EIO), 0 to stop. */
void dbs_inject_sync_errors(struct dbs *d, unsigned n);

/* ---- the log format (dbs_log.c), exposed for its unit tests ---- */

#define DBS_LOG_MAGIC     "MIPSADBS"
#define DBS_LOG_HDR_LEN   16 /* magic, u32 version, u32 reserved */
#define DBS_LOG_VERSION   1
#define DBS_ENTRY_HDR_LEN 8 /* u32 body length, u32 CRC-32 of the body */
/*
 * A body's fields but the two of variable length: u8 op, u64 timestamp,
 * u64 expires, the writer's IPv4 address, u8 id length (the id follows),
 * u16 sealed length (the sealed record follows).
 */
#define DBS_ENTRY_FIXED_LEN (1 + 8 + 8 + 4 + 1 + 2)
#define DBS_ENTRY_BODY_MAX  (DBS_ENTRY_FIXED_LEN + SAX_ID_MAX + SAX_MSG_MAX)

enum dbs_entry_op {
	DBS_OP_PUT = 1,
	DBS_OP_DEL = 2,
};

struct dbs_entry {
	uint8_t op;
	uint64_t ts_ms;
	uint64_t expires_ms;
	struct in_addr writer;
	const char *mn_id; /* not NUL-terminated when decoded: use mn_id_len */
	size_t mn_id_len;
	const uint8_t *sealed;
	size_t sealed_len;
};

enum dbs_decode {
	DBS_DEC_OK = 0,
	DBS_DEC_SHORT,   /* fewer bytes than the entry says: a torn write, or more to read */
	DBS_DEC_CORRUPT, /* bad length, CRC or content */
};

uint32_t dbs_crc32(const uint8_t *p, size_t n);
/* Header and body into out; the entry's length, or 0 when it does not fit. */
size_t dbs_entry_encode(const struct dbs_entry *e, uint8_t *out, size_t cap);
/* One entry from p; *used is its length on DBS_DEC_OK.  e points into p. */
enum dbs_decode dbs_entry_decode(const uint8_t *p, size_t len, struct dbs_entry *e, size_t *used);

/*
 * Reload (dbs_reload.c): what differs from the running configuration, by
 * setting name (address, port, control socket, data directory and
 * freshness window take a restart); then the rest applied, K_DB rotated
 * (dbs_rotate) at now_ms, the wall clock.
 */
struct reload_diff;
void dbs_reload_diff(const struct dbs *d, const struct dbs_config *cfg, struct reload_diff *rd);
void dbs_reconfigure(struct dbs *d, const struct dbs_config *cfg, uint64_t now_ms);

#endif
