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
	char path[DBS_PATH_MAX + 16];
	char tmp_path[DBS_PATH_MAX + 16];
	unsigned fail_writes; /* tests */
	unsigned fail_syncs;  /* tests */
};

struct dbs {
	struct dbs_config cfg;
	struct sax_keys keys;
	struct sax_replay *replay;
	struct dbs_table t;
	struct dbs_log log;
	struct dbs_counters ctr;
};

/* table */
struct dbs_rec *dbs_table_find(const struct dbs_table *t, const char *id, size_t id_len);
/* Put r in place of any entry with its mn_id (which is freed). */
void dbs_table_set(struct dbs_table *t, struct dbs_rec *r);
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
/* Append and fdatasync one entry; 0, or -1 with the log as it was before. */
int dbs_log_append(struct dbs *d, const struct dbs_entry *e);
int dbs_log_compact(struct dbs *d, uint64_t now_ms);

#endif
