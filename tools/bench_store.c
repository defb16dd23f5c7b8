/*
 * bench_store: transfers per second and their latency through the
 * domain's store, mipsa-dbs or Redis, driven by the FAs' own client
 * (common/store.c).  C clients (64 by default), each a store_client of its
 * own on one event loop (its own UDP socket, or its own Redis connection
 * and AUTH, as C foreign agents would have), each with one request in
 * flight: C requests in flight in all.  A transfer is one request answered:
 * a put of a node's record sealed as an FA seals it at hand-over (one
 * ISAKMP SA and two IPsec SA pairs, a fresh timestamp and nonce each time,
 * bench_record.h) or a get of one, whose answer is opened and checked as
 * the FA checks it (HMAC, Expires, GCM open, two pairs inside).  Puts and
 * gets alternate by default (-m: the share of puts).
 *
 * With -s PID (the server), the CPU time the server used during the run
 * (utime + stime from /proc/PID/stat) gives CPU per transfer and transfers
 * per server-CPU-second: "per core".  Prints figures and asserts nothing
 * about them.  Exit status 1 when the store cannot be reached (no figures
 * then), when a request failed or a record read back was wrong, 64 on bad
 * usage.  -C adds a CSV header and line (bs_csv_header() names the fields).
 *
 *   bench_store -b dbs -a ADDR -p PORT -l LOCAL -k K_DB_FILE [options]
 *   bench_store -b redis -a ADDR -p PORT -u USER -P PASSWORD_FILE [options]
 */
#include "bench.h"
#include "bench_record.h"
#include "buf.h"
#include "evloop.h"
#include "log.h"
#include "sax.h"
#include "store.h"
#include "tool_files.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sysexits.h>
#include <unistd.h>

#define BS_MAX_CLIENTS 1024
#define BS_TIMEOUT_MS  2000
#define BS_LIFETIME_MS (3600 * 1000)

struct bs_client {
	struct bs *b;
	struct store_client *sc;
	unsigned idx;
	uint64_t k;      /* requests this client made: picks the node and put or get */
	uint64_t t0_ns;  /* when the request in flight was made */
	bool preloading; /* putting its nodes before the run */
	unsigned preload_next;
};

struct bs {
	struct ev_loop *loop;
	struct store_config cfg;
	struct sax_keys keys; /* K_DB and a K_SA of our own: only FAs hold K_SA */
	struct sax_msg put;   /* the put being built (its record stays, the rest changes) */
	struct bs_client *cl;
	unsigned n_clients, nodes, put_pct;
	double seconds;
	uint64_t count;
	int server_pid;
	bool csv;
	/* the run */
	bool running;
	unsigned busy; /* clients with a request in flight */
	uint64_t issued, done, puts, gets, failed, bad_records;
	uint32_t *lat_ns;
	size_t n_lat, cap_lat;
	uint64_t start_ns, end_ns;
	struct ev_timer stop;
	const char *first_error;
};

static uint64_t bs_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void usage(int status)
{
	fprintf(status ? stderr : stdout,
		"usage: bench_store -b dbs|redis -a ADDRESS -p PORT [options]\n"
		"  -l ADDRESS   dbs: our Sender address (a member of the domain)\n"
		"  -k FILE      dbs: K_DB\n"
		"  -u USER      redis: ACL user\n"
		"  -P FILE      redis: password file\n"
		"  -W N         redis: a write is done once N replicas have it (WAIT; default 0)\n"
		"  -w MS        redis: WAIT's timeout (default 100)\n"
		"  -c N         clients, one request in flight each (default 64)\n"
		"  -N N         nodes per client (default 16)\n"
		"  -m PCT       share of puts in percent (default 50: put and get alternate)\n"
		"  -d SECONDS   run this long (default 10)\n"
		"  -n COUNT     or stop after this many transfers\n"
		"  -s PID       the server's pid: its CPU time is measured\n"
		"  -C           also print one CSV line\n");
	exit(status);
}

static unsigned long bs_num(const char *s, unsigned long lo, unsigned long hi)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < lo || v > hi)
		usage(EX_USAGE);
	return v;
}

static void bs_args(struct bs *b, int argc, char **argv)
{
	const char *addr = NULL;
	int ch;

	while ((ch = getopt(argc, argv, "b:a:p:l:k:u:P:W:w:c:N:m:d:n:s:Ch")) != -1) {
		switch (ch) {
		case 'b':
			b->cfg.backend = strcmp(optarg, "redis") == 0 ? STORE_REDIS
					 : strcmp(optarg, "dbs") == 0 ? STORE_DBS
								      : 0;
			break;
		case 'a':
			addr = optarg;
			break;
		case 'p':
			b->cfg.dbs_port = b->cfg.redis_port = (uint16_t)bs_num(optarg, 1, 65535);
			break;
		case 'l':
			b->cfg.local = ip(optarg);
			break;
		case 'k':
			tool_read_key("bench_store", optarg, b->cfg.k_db);
			break;
		case 'u':
			snprintf(b->cfg.redis_user, sizeof(b->cfg.redis_user), "%s", optarg);
			break;
		case 'P':
			tool_read_password("bench_store", optarg, b->cfg.redis_pass,
					   sizeof(b->cfg.redis_pass));
			break;
		case 'W':
			b->cfg.wait_replicas = (uint32_t)bs_num(optarg, 0, 64);
			break;
		case 'w':
			b->cfg.wait_ms = (uint32_t)bs_num(optarg, 1, 60000);
			break;
		case 'c':
			b->n_clients = (unsigned)bs_num(optarg, 1, BS_MAX_CLIENTS);
			break;
		case 'N':
			b->nodes = (unsigned)bs_num(optarg, 1, 100000);
			break;
		case 'm':
			b->put_pct = (unsigned)bs_num(optarg, 0, 100);
			break;
		case 'd':
			b->seconds = strtod(optarg, NULL);
			break;
		case 'n':
			b->count = bs_num(optarg, 1, 1000000000);
			break;
		case 's':
			b->server_pid = (int)bs_num(optarg, 1, 4194304);
			break;
		case 'C':
			b->csv = true;
			break;
		case 'h':
			usage(0);
			break;
		default:
			usage(EX_USAGE);
		}
	}
	if (addr == NULL || b->cfg.backend == 0 || b->cfg.dbs_port == 0 || optind != argc ||
	    !(b->seconds > 0))
		usage(EX_USAGE);
	if (b->cfg.backend == STORE_DBS)
		b->cfg.dbs_addr = ip(addr);
	snprintf(b->cfg.redis_host, sizeof(b->cfg.redis_host), "%s", addr);
}

/* ---- the server's CPU time ---- */

/* utime + stime of pid in seconds, or -1 when it cannot be read. */
static double bs_server_cpu(int pid)
{
	char path[64], line[1024];
	unsigned long long ut, st;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (f == NULL)
		return -1;
	char *p = fgets(line, sizeof(line), f);
	fclose(f);
	/* The name in parentheses may hold spaces: count fields after its last ')'. */
	p = p ? strrchr(line, ')') : NULL;
	if (p == NULL ||
	    sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static double bs_self_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

/* ---- requests ---- */

static void bs_node(const struct bs_client *c, uint64_t k, char *id, size_t cap)
{
	snprintf(id, cap, "mn%u-%" PRIu64 "@bench.example.net", c->idx, k % c->b->nodes);
}

/* Put of the k-th request: the k-th of every hundred, spread evenly (50: every other one). */
static bool bs_is_put(const struct bs *b, uint64_t k)
{
	return (k * b->put_pct) / 100 != ((k + 1) * b->put_pct) / 100;
}

static void bs_done(void *arg, const struct store_result *r);

/* The SAX_STORE_PUT an FA sends for node id (fa_store_write): fresh stamp, sealed record. */
static int bs_put(struct bs_client *c, const char *id)
{
	struct bs *b = c->b;
	uint8_t out[SAX_MSG_MAX];
	struct buf w;

	b->put.mn_id_len = strlen(id);
	memcpy(b->put.mn_id, id, b->put.mn_id_len);
	sax_stamp_at(&b->put, ev_wall_ms());
	buf_init_write(&w, out, sizeof(out));
	if (sax_build(&w, &b->put, &b->keys) != SAX_E_OK)
		return -1;
	return store_put(c->sc, id, b->put.expires_ms, buf_data(&w), buf_used(&w), BS_TIMEOUT_MS,
			 bs_done, c);
}

static int bs_issue(struct bs_client *c, bool put, uint64_t node)
{
	char id[SAX_ID_MAX + 1];

	bs_node(c, node, id, sizeof(id));
	c->t0_ns = bs_now_ns();
	c->b->busy++;
	int r = put ? bs_put(c, id) : store_get(c->sc, id, BS_TIMEOUT_MS, bs_done, c);
	if (r < 0)
		c->b->busy--;
	return r;
}

/* The next request of c in the run, unless the run is over. */
static void bs_next(struct bs_client *c)
{
	struct bs *b = c->b;

	if (!b->running || (b->count > 0 && b->issued >= b->count))
		return;
	uint64_t k = c->k++;
	bool put = bs_is_put(b, k);
	/* A get reads the node put last (a hand-over's read follows the old FA's write). */
	if (bs_issue(c, put, put ? k : (k == 0 ? 0 : k - 1)) < 0) {
		b->failed++;
		b->first_error = b->first_error ? b->first_error : "a request could not be made";
		return;
	}
	b->issued++;
	if (put)
		b->puts++;
	else
		b->gets++;
}

/* A get's answer, checked as the FA checks it before it trusts the SAs inside. */
static bool bs_record_ok(struct bs *b, const struct store_result *r)
{
	static struct sax_msg m;
	enum sax_err e = sax_parse(r->msg, r->len, &b->keys, ev_wall_ms(), 0, NULL, &m);
	bool ok = e == SAX_E_OK && m.has_record && m.rec.n_children == 2 &&
		  m.mn_id_len == strlen(r->mn_id) && memcmp(m.mn_id, r->mn_id, m.mn_id_len) == 0;

	sax_record_wipe(&m.rec);
	return ok;
}

static void bs_record_latency(struct bs *b, uint64_t ns)
{
	if (b->n_lat == b->cap_lat) {
		size_t cap = b->cap_lat ? 2 * b->cap_lat : 65536;
		uint32_t *p = realloc(b->lat_ns, cap * sizeof(*p));
		if (p == NULL)
			return;
		b->lat_ns = p;
		b->cap_lat = cap;
	}
	b->lat_ns[b->n_lat++] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
}

static void bs_preload_next(struct bs_client *c);

static void bs_done(void *arg, const struct store_result *r)
{
	struct bs_client *c = arg;
	struct bs *b = c->b;
	uint64_t t = bs_now_ns();

	b->busy--;
	if (r->status != STORE_OK) {
		b->failed++;
		b->first_error = b->first_error ? b->first_error : store_status_name(r->status);
	} else if (r->op == STORE_OP_GET && !bs_record_ok(b, r)) {
		b->bad_records++;
	}
	if (c->preloading) {
		bs_preload_next(c);
	} else {
		b->done++;
		b->end_ns = t;
		bs_record_latency(b, t - c->t0_ns);
		bs_next(c);
	}
	if (b->busy == 0)
		ev_loop_stop(b->loop);
}

/* ---- phases ---- */

/* Every client puts its nodes once, so that every get of the run finds a record. */
static void bs_preload_next(struct bs_client *c)
{
	struct bs *b = c->b;

	if (b->failed > 0 || c->preload_next >= b->nodes) {
		c->preloading = false;
		return;
	}
	if (bs_issue(c, true, c->preload_next++) < 0) {
		b->failed++;
		c->preloading = false;
	}
}

static int bs_preload(struct bs *b)
{
	/* One put first: a store that does not answer is said so once, not 64 times. */
	b->cl[0].preloading = true;
	b->cl[0].preload_next = b->nodes - 1;
	bs_preload_next(&b->cl[0]);
	ev_loop_run(b->loop);
	for (unsigned i = 0; i < b->n_clients && b->failed == 0; i++) {
		b->cl[i].preloading = true;
		b->cl[i].preload_next = 0;
		bs_preload_next(&b->cl[i]);
	}
	if (b->busy > 0)
		ev_loop_run(b->loop);
	return b->failed == 0 ? 0 : -1;
}

static void bs_on_stop(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct bs *b = arg;

	b->running = false; /* the requests in flight finish; no new ones */
}

static void bs_run(struct bs *b)
{
	b->running = true;
	b->start_ns = bs_now_ns();
	ev_timer_init(&b->stop, bs_on_stop, b);
	ev_timer_start(b->loop, &b->stop, (uint64_t)(b->seconds * 1000));
	for (unsigned i = 0; i < b->n_clients; i++)
		bs_next(&b->cl[i]);
	if (b->busy > 0)
		ev_loop_run(b->loop);
	ev_timer_stop(b->loop, &b->stop);
	b->running = false;
}

/* ---- report ---- */

static int bs_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static double bs_pct_us(const struct bs *b, double q)
{
	if (b->n_lat == 0)
		return 0;
	size_t i = (size_t)(q * (double)(b->n_lat - 1) + 0.5);
	return b->lat_ns[i] / 1000.0;
}

static void bs_csv_header(void)
{
	printf("backend,clients,put_pct,seconds,transfers,per_s,p50_us,p99_us,max_us,"
	       "server_cpu_s,server_cpu_us_per_transfer,per_server_cpu_s,client_cpu_s,failed\n");
}

static void bs_report(struct bs *b, double server_cpu, double client_cpu)
{
	double secs = (double)(b->end_ns - b->start_ns) / 1e9;
	double rate = secs > 0 ? (double)b->done / secs : 0;
	const char *name = store_backend_name(b->cfg.backend);

	qsort(b->lat_ns, b->n_lat, sizeof(*b->lat_ns), bs_cmp_u32);
	double p50 = bs_pct_us(b, 0.50), p99 = bs_pct_us(b, 0.99), max = bs_pct_us(b, 1.0);
	printf("%s: %" PRIu64 " transfers (%" PRIu64 " puts, %" PRIu64 " gets) by %u clients in "
	       "%.2f s: %.0f/s\n",
	       name, b->done, b->puts, b->gets, b->n_clients, secs, rate);
	printf("  latency p50 %.1f us, p99 %.1f us, max %.1f us\n", p50, p99, max);
	if (server_cpu >= 0 && b->done > 0)
		printf("  server CPU %.2f s: %.1f us per transfer, %.0f transfers per "
		       "server-CPU-second\n",
		       server_cpu, server_cpu / (double)b->done * 1e6,
		       server_cpu > 0 ? (double)b->done / server_cpu : 0);
	printf("  client CPU %.2f s (this process, every client)\n", client_cpu);
	if (!b->csv)
		return;
	bs_csv_header();
	printf("%s,%u,%u,%.3f,%" PRIu64 ",%.0f,%.1f,%.1f,%.1f,%.2f,%.2f,%.0f,%.2f,%" PRIu64 "\n",
	       name, b->n_clients, b->put_pct, secs, b->done, rate, p50, p99, max, server_cpu,
	       server_cpu >= 0 && b->done ? server_cpu / (double)b->done * 1e6 : -1,
	       server_cpu > 0 ? (double)b->done / server_cpu : -1, client_cpu,
	       b->failed + b->bad_records);
}

/* ---- set-up ---- */

static int bs_setup(struct bs *b)
{
	memcpy(b->keys.k_db, b->cfg.k_db, SAX_KEY_LEN);
	if (RAND_bytes(b->keys.k_sa, SAX_KEY_LEN) != 1)
		return -1;
	b->keys.have_k_sa = true;
	b->put.version = SAX_VERSION;
	b->put.type = SAX_STORE_PUT;
	b->put.sender = b->cfg.local;
	b->put.has_record = true;
	b->put.expires_ms = ev_wall_ms() + BS_LIFETIME_MS;
	bench_fill_record(&b->put.rec, b->put.expires_ms);
	b->loop = ev_loop_new();
	b->cl = calloc(b->n_clients, sizeof(*b->cl));
	if (b->loop == NULL || b->cl == NULL)
		return -1;
	for (unsigned i = 0; i < b->n_clients; i++) {
		b->cl[i] = (struct bs_client){.b = b, .idx = i};
		b->cl[i].sc = store_client_new(b->loop, &b->cfg);
		if (b->cl[i].sc == NULL)
			return -1;
	}
	return 0;
}

static void bs_teardown(struct bs *b)
{
	for (unsigned i = 0; b->cl != NULL && i < b->n_clients; i++)
		store_client_free(b->cl[i].sc);
	free(b->cl);
	free(b->lat_ns);
	if (b->loop != NULL)
		ev_loop_free(b->loop);
	sax_record_wipe(&b->put.rec);
	sax_keys_wipe(&b->keys);
	store_config_wipe(&b->cfg);
}

static const char *bs_peer(const struct bs *b, char *out, size_t cap)
{
	snprintf(out, cap, "%s %s:%u", store_backend_name(b->cfg.backend), b->cfg.redis_host,
		 b->cfg.dbs_port);
	return out;
}

int main(int argc, char **argv)
{
	static struct bs b = {.n_clients = 64, .nodes = 16, .put_pct = 50, .seconds = 10};
	char peer[STORE_HOST_MAX + 32];
	int status = 1;

	log_init("bench_store", LOG_LVL_ERR, false);
	snprintf(b.cfg.key_prefix, sizeof(b.cfg.key_prefix), "mipsa:sa:");
	b.cfg.max_pending = 4;
	bs_args(&b, argc, argv);
	bs_peer(&b, peer, sizeof(peer));
	if (b.server_pid > 0 && bs_server_cpu(b.server_pid) < 0) {
		fprintf(stderr, "bench_store: server pid %d: no such process\n", b.server_pid);
		return 1;
	}
	if (bs_setup(&b) < 0) {
		fprintf(stderr, "bench_store: cannot set up %u clients of %s\n", b.n_clients, peer);
	} else if (bs_preload(&b) < 0) {
		fprintf(stderr,
			"bench_store: %s cannot be reached or refuses our records (%s): "
			"no figures\n",
			peer, b.first_error ? b.first_error : "?");
	} else {
		b.failed = b.bad_records = 0;
		double cpu0 = b.server_pid ? bs_server_cpu(b.server_pid) : -1,
		       self0 = bs_self_cpu();
		bs_run(&b);
		double cpu1 = b.server_pid ? bs_server_cpu(b.server_pid) : -1;
		bs_report(&b, cpu0 >= 0 && cpu1 >= 0 ? cpu1 - cpu0 : -1, bs_self_cpu() - self0);
		if (b.failed + b.bad_records > 0)
			fprintf(stderr,
				"bench_store: %" PRIu64 " requests failed (first: %s), %" PRIu64
				" records read back were wrong\n",
				b.failed, b.first_error ? b.first_error : "-", b.bad_records);
		status = b.failed + b.bad_records > 0 || b.done == 0 ? 1 : 0;
	}
	bs_teardown(&b);
	return status;
}
