/* Inside libdbs: the record table (dbs_store.c) and the log (dbs_log.c). */
#ifndef MIPSA_DBS_INT_H
#define MIPSA_DBS_INT_H

#include "dbs.h"

struct dbs_rec {
	struct dbs_rec *next; /* hash chain */
	uint64_t ts_ms;       /* timestamp of the message that wrote (or deleted) it */
	uint64_t expires_ms;  /* a record: its Expires; a tombstone: when it may go */
	struct in_addr writer;
	bool tomb;
	size_t id_len;
	char mn_id[SAX_ID_MAX + 1];
	size_t sealed_len;
	uint8_t sealed[]; /* as received: the store cannot open it */
};

struct dbs_table {
	struct dbs_rec **buckets;
	size_t n_buckets; /* a power of two */
	size_t n_live, n_tomb;
	uint64_t live_bytes; /* log bytes the live records would take: the compaction yardstick */
};

struct dbs_log {
	int fd;     /* the log, O_APPEND */
	int dir_fd; /* data_dir, for fsync after a rename */
	uint64_t size;
	uint64_t synced_size; /* what the last sync (or compaction) made durable */
	unsigned unsynced;    /* entries written since */
	char path[DBS_PATH_MAX + 16];
	char tmp_path[DBS_PATH_MAX + 16];
	unsigned fail_writes; /* tests */
	unsigned fail_syncs;  /* tests */
};

/* A table change of the open batch, undone should its sync fail. */
struct dbs_undo {
	struct dbs_rec *old; /* what the node had before (out of the table), or NULL */
	size_t id_len;
	char mn_id[SAX_ID_MAX + 1];
};

/* A request of the open batch: enough to rewrite its answer as an error. */
struct dbs_pending {
	uint8_t type;            /* 0: not served (dropped, not a member): its answer stands */
	enum sax_ring_slot slot; /* the K_DB it came under: its answer goes under it */
	bool tainted;            /* after a change of the batch: its answer waits on the sync */
	bool stored;             /* a put counted in ctr.stored */
	bool failed;             /* already answered STORE_ERROR (a write that failed) */
	uint64_t expires_ms;
	size_t id_len;
	char mn_id[SAX_ID_MAX + 1];
	uint8_t *out;
	size_t cap;
	size_t *len;
};

struct dbs_batch {
	size_t n;
	struct dbs_pending req[DBS_BATCH_MAX];
	size_t n_undo;
	struct dbs_undo undo[DBS_BATCH_MAX];
};

struct dbs {
	struct dbs_config cfg;
	struct sax_keyring keys;    /* K_DB, and the previous one during a rotation */
	enum sax_ring_slot rx_slot; /* the K_DB of the request being answered */
	struct sax_replay *replay;
	struct dbs_table t;
	struct dbs_log log;
	struct dbs_counters ctr;
	struct dbs_batch batch; /* last: dbs_open zeroes only what comes before it */
};

/* table */
struct dbs_rec *dbs_table_find(const struct dbs_table *t, const char *id, size_t id_len);
/* Put r in place of any entry with its mn_id (which is freed). */
void dbs_table_set(struct dbs_table *t, struct dbs_rec *r);
/* The same, but the entry replaced is handed back (NULL: none) instead of freed. */
struct dbs_rec *dbs_table_swap(struct dbs_table *t, struct dbs_rec *r);
void dbs_rec_free(struct dbs_rec *r);
/* The changes of the open batch are durable: forget how to undo them. */
void dbs_batch_settle(struct dbs *d);
void dbs_table_remove(struct dbs_table *t, const char *id, size_t id_len);
struct dbs_rec *dbs_rec_new(const struct dbs_entry *e);
size_t dbs_rec_log_bytes(const struct dbs_rec *r);
/* Apply a log entry at load time: in log order, the last entry for a node wins. */
enum dbs_apply {
	DBS_APPLIED,
	DBS_NO_MEM,
};
enum dbs_apply dbs_apply(struct dbs *d, const struct dbs_entry *e, uint64_t now_ms);

/* log */
int dbs_log_open(struct dbs *d, uint64_t now_ms);
void dbs_log_close(struct dbs_log *l);
/* Append one entry, not yet synced; 0, or -1 with the log as it was before. */
int dbs_log_append(struct dbs *d, const struct dbs_entry *e);
/*
 * fdatasync what was appended since the last sync; 0, or -1 with the log
 * cut back to what the last sync covered (or closed, to be rewritten
 * before the next append, when even that fails).
 */
int dbs_log_sync(struct dbs *d);
int dbs_log_compact(struct dbs *d, uint64_t now_ms);

#endif
