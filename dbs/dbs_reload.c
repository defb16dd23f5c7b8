/*
 * mipsa-dbs under a reload (common/reload.h): the members, the limits and
 * the log level apply live; the records, the log and the replay cache stay.
 */
#include "dbs_int.h"

#include "log.h"
#include "reload.h"

void dbs_reload_diff(const struct dbs *d, const struct dbs_config *b, struct reload_diff *rd)
{
	const struct dbs_config *a = &d->cfg;

	RELOAD_FIXED(rd, a, b, address, "address");
	RELOAD_FIXED(rd, a, b, port, "port");
	RELOAD_FIXED(rd, a, b, control_socket, "control_socket");
	RELOAD_FIXED(rd, a, b, data_dir, "data_dir");
	/* The replay cache was sized for the window (sax.h): a wider one would let replays in. */
	RELOAD_FIXED(rd, a, b, freshness_window_ms, "freshness_window_ms");
	/* A new K_DB rotates with an overlap (dbs_rotate): the FAs follow one at a time. */
	if (RELOAD_DIFFERS(a, b, k_db_file) || RELOAD_DIFFERS(a, b, k_db))
		reload_changed(rd, "k_db_file");
	RELOAD_LIVE(rd, a, b, key_overlap_ms, "key_overlap_ms");
	if (RELOAD_DIFFERS(a, b, n_members) || RELOAD_DIFFERS(a, b, members) ||
	    RELOAD_DIFFERS(a, b, have_prefix) || RELOAD_DIFFERS(a, b, member_prefix) ||
	    RELOAD_DIFFERS(a, b, member_plen))
		reload_changed(rd, "members");
	RELOAD_LIVE(rd, a, b, max_records, "max_records");
	RELOAD_LIVE(rd, a, b, compact_min_bytes, "log_compact_min_bytes");
	RELOAD_LIVE(rd, a, b, log_level, "log_level");
}

void dbs_reconfigure(struct dbs *d, const struct dbs_config *b, uint64_t now_ms)
{
	struct dbs_config *a = &d->cfg;

	dbs_rotate(d, b, now_ms);
	memcpy(a->k_db_file, b->k_db_file, sizeof(a->k_db_file));
	memcpy(a->members, b->members, sizeof(a->members));
	a->n_members = b->n_members;
	a->have_prefix = b->have_prefix;
	a->member_prefix = b->member_prefix;
	a->member_plen = b->member_plen;
	/* Fewer than are held: nothing is dropped, new nodes are refused until some expire. */
	a->max_records = b->max_records;
	a->compact_min_bytes = b->compact_min_bytes;
	a->log_level = b->log_level;
}
