/* Control socket of mipsa-dbs: status, counters, records (never key material). */
#include "ctl.h"
#include "ctl_cmds.h"
#include "dbs_int.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dbs_ctl_rows {
	struct dbs_record_info *v;
	size_t n, cap;
};

static void dbs_ctl_collect(void *arg, const struct dbs_record_info *r)
{
	struct dbs_ctl_rows *rows = arg;

	if (rows->n < rows->cap)
		rows->v[rows->n++] = *r;
}

static int dbs_ctl_cmp(const void *a, const void *b)
{
	const struct dbs_record_info *x = a, *y = b;

	return strcmp(x->mn_id, y->mn_id);
}

/* What a command gets: the store and the time of the request. */
struct dbs_ctl_arg {
	struct dbs *d;
	uint64_t now_ms;
};

static int dbs_cmd_records(void *arg, int argc, char **argv, struct ctl_out *o, char *err,
			   size_t errlen)
{
	const struct dbs_ctl_arg *a = arg;
	struct dbs_ctl_rows rows = {.cap = a->d->t.n_live};

	rows.v = calloc(rows.cap ? rows.cap : 1, sizeof(*rows.v));
	if (rows.v == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	dbs_foreach(a->d, dbs_ctl_collect, &rows);
	qsort(rows.v, rows.n, sizeof(*rows.v),
	      dbs_ctl_cmp); /* stable output for people and tests */
	ctl_list_begin(o, "records");
	for (size_t i = 0; i < rows.n; i++) {
		const struct dbs_record_info *r = &rows.v[i];
		ctl_obj_begin(o, NULL);
		ctl_str(o, "mn_id", r->mn_id);
		ctl_addr(o, "writer", r->writer);
		ctl_u64(o, "expires_ms", r->expires_ms);
		ctl_u64(o, "remaining",
			r->expires_ms > a->now_ms ? (r->expires_ms - a->now_ms) / 1000 : 0);
		ctl_u64(o, "written_ms", r->timestamp_ms);
		ctl_u64(o, "sealed_bytes", r->sealed_len);
		ctl_obj_end(o);
	}
	ctl_list_end(o);
	free(rows.v);
	return 0;
}

static int dbs_cmd_counters(void *arg, int argc, char **argv, struct ctl_out *o, char *err,
			    size_t errlen)
{
	const struct dbs *d = ((const struct dbs_ctl_arg *)arg)->d;

	ctl_obj_begin(o, "counters");
#define DBS_CTL_COUNTER(n) ctl_u64(o, #n, d->ctr.n);
	DBS_COUNTERS(DBS_CTL_COUNTER)
#undef DBS_CTL_COUNTER
	ctl_daemon_counters(o);
	ctl_obj_end(o);
	return 0;
}

static int dbs_cmd_status(void *arg, int argc, char **argv, struct ctl_out *o, char *err,
			  size_t errlen)
{
	const struct dbs *d = ((const struct dbs_ctl_arg *)arg)->d;

	ctl_addr(o, "address", d->cfg.address);
	ctl_u64(o, "port", d->cfg.port);
	ctl_str(o, "data_dir", d->cfg.data_dir);
	ctl_u64(o, "records", d->t.n_live);
	ctl_u64(o, "tombstones", d->t.n_tomb);
	ctl_u64(o, "max_records", d->cfg.max_records);
	ctl_u64(o, "log_bytes", d->log.size);
	ctl_u64(o, "members", d->cfg.n_members);
	if (d->cfg.have_prefix) {
		char a[INET_ADDRSTRLEN], p[INET_ADDRSTRLEN + sizeof("/32")];
		inet_ntop(AF_INET, &d->cfg.member_prefix, a, sizeof(a));
		snprintf(p, sizeof(p), "%s/%u", a, d->cfg.member_plen);
		ctl_str(o, "member_prefix", p);
	}
	ctl_u64(o, "freshness_window_ms", d->cfg.freshness_window_ms);
	return dbs_cmd_counters(arg, argc, argv, o, err, errlen);
}

/* Every command of mipsa-dbs (doc/control.md lists them). */
static const struct ctl_cmd dbs_ctl_cmds[] = {
	DBS_CTL_CMDS(CTL_CMD_ROW){NULL, NULL, NULL, NULL},
};

int dbs_ctl(struct dbs *d, int argc, char **argv, struct ctl_out *o, char *err, size_t errlen,
	    uint64_t now_ms)
{
	struct dbs_ctl_arg a = {.d = d, .now_ms = now_ms};

	return ctl_dispatch(dbs_ctl_cmds, "mipsa-dbs", &a, argc, argv, o, err, errlen);
}
