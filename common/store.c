/*
 * The SA store client (see store.h): requests with their own timers, a
 * dbs back-end over a connected non-blocking UDP socket, and a Redis
 * back-end on hiredis's asynchronous API with an adapter for evloop.
 *
 * Why hiredis async and not a non-blocking redisContext: the async API
 * already keeps the reply callbacks in order and pipelines commands on one
 * connection; all it needs from us is "tell me when the fd is readable or
 * writable", which is five small hooks on ev_io_add/ev_io_mod.  hiredis
 * 0.14 (Debian 12) has no async timeouts, so every request carries an
 * ev_timer; a request that timed out stays known to hiredis (its privdata)
 * until hiredis calls back, and is freed only then.
 */
#include "store.h"
#include "buf.h"
#include "conf.h"
#include "evloop.h"
#include "ip4.h"
#include "log.h"
#include "netio.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define STORE_REPLAY_ENTRIES 4096
#define STORE_RETRY_MS       500 /* after a failed Redis connection, fail fast this long */
/* A Sentinel that has not answered in this time is given up for the next. */
#define STORE_SENTINEL_TIMEOUT_MS 200
/* Once every Sentinel failed (or named a primary that failed), ask again after this. */
#define STORE_SENTINEL_RETRY_MS 100
#define STORE_KEY_FILE_MAX      256
#define STORE_WAIT_MS           100 /* WAIT's timeout unless wait_ms is set */

struct store_req {
	struct store_req *prev, *next; /* pending list, in the order sent */
	struct store_client *sc;
	uint64_t seq;
	enum store_op op;
	char mn_id[SAX_ID_MAX + 1];
	size_t mn_id_len;
	struct ev_timer timer;
	struct ev_timer resend; /* dbs GET and DEL: asked again at half the timeout */
	uint32_t timeout_ms;
	uint64_t start_us;
	store_cb cb;
	void *arg;
	bool linked;       /* in the pending list (not done yet) */
	unsigned in_redis; /* callbacks hiredis still holds it for (the command, WAIT) */
	bool zombie;       /* done, counted in n_zombies until hiredis lets go */
	bool failed_early; /* the timer reports early_status instead of a timeout */
	/* redis */
	char *cmd; /* formatted, not yet sent (waiting for a Sentinel to name the primary) */
	size_t cmd_len;
	bool waits;   /* WAIT follows the write */
	bool written; /* the write's own reply said yes; WAIT's decides */
	enum store_status early_status;
	enum sax_reason early_reason;
};

/*
 * One hiredis connection on the loop: the primary's, or a Sentinel's while
 * we ask it.  A slot takes a new context only once hiredis has cleaned the
 * last one up (store_ev_cleanup), never from inside that one's callbacks.
 */
struct store_conn {
	struct store_client *sc;
	redisAsyncContext *ac;
	uint64_t gen; /* bumped per context: tells a new one from a freed one */
	int fd;
	uint32_t mask;
};

struct store_client {
	struct ev_loop *loop;
	struct store_config cfg;
	struct store_counters ctr;
	struct store_req *head, *tail;
	size_t n_pending;
	size_t n_zombies; /* timed out, still held by hiredis */
	uint64_t next_seq;
	bool closing;
	void (*on_connect)(void *arg); /* store_client_on_connect */
	void *on_connect_arg;
	/* dbs */
	int fd;
	struct sax_keyring keys; /* K_DB, and the previous one during a rotation */
	struct sax_replay *replay;
	/* redis */
	struct store_conn pri; /* the primary (without Sentinels: the one server) */
	char redis_ip[INET_ADDRSTRLEN];
	uint16_t redis_port;
	bool primary_known; /* redis_ip:redis_port is the primary, as last heard */
	uint64_t retry_after_ms;
	/* redis with Sentinel */
	struct store_conn sen;     /* the Sentinel being asked */
	struct ev_timer sen_timer; /* the next question, or the deadline of the one asked */
	bool sen_asking;
	size_t sen_idx;        /* the Sentinel to ask (the last that answered, then the next) */
	size_t sen_tries;      /* asked in this round */
	uint64_t sen_after_ms; /* no question before (a round failed, or one was just answered) */
};

/* ---- names, clock ---- */

const char *store_status_name(enum store_status s)
{
	switch (s) {
	case STORE_OK:
		return "ok";
	case STORE_NOT_FOUND:
		return "not_found";
	case STORE_REFUSED:
		return "refused";
	case STORE_TIMEOUT:
		return "timeout";
	case STORE_ERROR:
		return "error";
	}
	return "?";
}

const char *store_op_name(enum store_op op)
{
	switch (op) {
	case STORE_OP_PUT:
		return "put";
	case STORE_OP_GET:
		return "get";
	case STORE_OP_DEL:
		return "del";
	}
	return "?";
}

const char *store_backend_name(enum store_backend b)
{
	return b == STORE_DBS ? "dbs" : b == STORE_REDIS ? "redis" : "?";
}

const char *store_reason_name(enum sax_reason r)
{
	switch (r) {
	case SAX_OK:
		return "ok";
	case SAX_R_UNKNOWN:
		return "unknown";
	case SAX_R_NOT_MEMBER:
		return "not_member";
	case SAX_R_EXPIRED:
		return "expired";
	case SAX_R_BAD_MESSAGE:
		return "bad_message";
	case SAX_R_STORE_ERROR:
		return "store_error";
	case SAX_R_PROOF:
		return "proof";
	case SAX_R_STALE_REG:
		return "stale_registration";
	case SAX_R_RECLAIMED:
		return "reclaimed";
	}
	return "?";
}

uint64_t store_wall_ms(void)
{
	return ev_wall_ms();
}

/* ---- key files ---- */

static bool store_is_hex(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit(p[i]))
			return false;
	return true;
}

static int store_hexval(uint8_t c)
{
	return isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;
}

int store_parse_key(const uint8_t *data, size_t len, uint8_t key[SAX_KEY_LEN], char *err,
		    size_t errlen)
{
	size_t a = 0, b = len;

	/* Exactly 32 bytes that are not all hex digits: a raw key. */
	if (len == SAX_KEY_LEN && !store_is_hex(data, len)) {
		memcpy(key, data, SAX_KEY_LEN);
		return 0;
	}
	while (a < b && isspace(data[a]))
		a++;
	while (b > a && isspace(data[b - 1]))
		b--;
	if (b - a != 2 * SAX_KEY_LEN || !store_is_hex(data + a, b - a)) {
		snprintf(err, errlen, "expected 64 hex digits or 32 raw bytes, found %zu bytes%s",
			 len, b - a == 2 * SAX_KEY_LEN ? " with a character that is not hex" : "");
		return -1;
	}
	for (size_t i = 0; i < SAX_KEY_LEN; i++)
		key[i] = (uint8_t)(store_hexval(data[a + 2 * i]) << 4 |
				   store_hexval(data[a + 2 * i + 1]));
	return 0;
}

int store_read_key_file(const char *path, uint8_t key[SAX_KEY_LEN], char *err, size_t errlen)
{
	uint8_t data[STORE_KEY_FILE_MAX];
	struct stat st;
	ssize_t n;
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (st.st_size > STORE_KEY_FILE_MAX) {
		snprintf(err, errlen,
			 "%s: expected 64 hex digits or 32 raw bytes, found %lld bytes", path,
			 (long long)st.st_size);
		close(fd);
		return -1;
	}
	if ((st.st_mode & 077) != 0)
		log_warn("%s is readable by group or others; keys belong in mode 0600 files", path);
	while (len < sizeof(data) && (n = read(fd, data + len, sizeof(data) - len)) > 0)
		len += (size_t)n;
	close(fd);
	int r = store_parse_key(data, len, key, err, errlen);
	explicit_bzero(data, sizeof(data));
	if (r < 0) {
		char why[160];
		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "%s: %s", path, why);
	}
	return r;
}

/* ---- configuration ---- */

const struct conf_names store_conf_names[] = {
	{"backend", NULL},       {"max_pending", NULL},
	{"address", NULL},       {"local_address", NULL},
	{"port", NULL},          {"freshness_window_ms", NULL},
	{"k_db_file", NULL},     {"host", NULL},
	{"user", NULL},          {"key_prefix", NULL},
	{"password_file", NULL}, {"sentinels", NULL},
	{"master_name", NULL},   {"wait_replicas", NULL},
	{"wait_ms", NULL},       {NULL, NULL},
};

static int store_conf_key_file(struct conf *c, const config_setting_t *grp, const char *name,
			       uint8_t key[SAX_KEY_LEN])
{
	const char *path;
	char why[320];

	if (conf_str(c, grp, name, true, &path) != 0)
		return -1;
	if (store_read_key_file(path, key, why, sizeof(why)) < 0)
		return conf_fail(c, config_setting_get_member(grp, name), NULL, "%s", why);
	return 0;
}

/* A password file: its first line, 1..STORE_PASS_MAX-1 bytes. */
static int store_conf_password(struct conf *c, const config_setting_t *grp, char *out, size_t cap)
{
	const config_setting_t *s = config_setting_get_member(grp, "password_file");
	const char *path;
	FILE *f;

	if (conf_str(c, grp, "password_file", true, &path) != 0)
		return -1;
	f = fopen(path, "re");
	if (f == NULL)
		return conf_fail(c, s, NULL, "%s: %s", path, strerror(errno));
	bool got = fgets(out, (int)cap, f) != NULL;
	fclose(f);
	size_t n = got ? strcspn(out, "\r\n") : 0;
	out[n] = '\0';
	if (n == 0 || n >= cap - 1)
		return conf_fail(c, s, NULL,
				 "%s: expected a password of 1 to %zu bytes on its first line",
				 path, cap - 2);
	return 0;
}

static int store_conf_dbs(struct conf *c, const config_setting_t *grp, struct store_config *cfg)
{
	uint32_t port = SAX_PORT;

	if (conf_addr(c, grp, "address", true, &cfg->dbs_addr) != 0 ||
	    conf_addr(c, grp, "local_address", true, &cfg->local) != 0 ||
	    conf_uint(c, grp, "port", 1, 65535, &port) < 0 ||
	    conf_uint(c, grp, "freshness_window_ms", 100, 600000, &cfg->window_ms) < 0)
		return -1;
	cfg->dbs_port = (uint16_t)port;
	return store_conf_key_file(c, grp, "k_db_file", cfg->k_db);
}

int store_parse_hostport(const char *s, uint16_t default_port, struct in_addr *addr, uint16_t *port,
			 char *err, size_t errlen)
{
	char ip[INET_ADDRSTRLEN];
	struct in_addr a;
	const char *colon = strchr(s, ':');
	size_t iplen = colon != NULL ? (size_t)(colon - s) : strlen(s);
	unsigned long p = default_port;

	if (iplen == 0 || iplen >= sizeof(ip)) {
		snprintf(err, errlen, "'%s' is not ADDRESS:PORT (an IPv4 address first)", s);
		return -1;
	}
	memcpy(ip, s, iplen);
	ip[iplen] = '\0';
	if (inet_pton(AF_INET, ip, &a) != 1) {
		snprintf(err, errlen, "'%s' is not ADDRESS:PORT ('%s' is not an IPv4 address)", s,
			 ip);
		return -1;
	}
	if (colon != NULL) {
		/* digits only: strtoul would take a sign or white space */
		size_t n = strspn(colon + 1, "0123456789");
		p = n > 0 && n <= 5 && colon[1 + n] == '\0' ? strtoul(colon + 1, NULL, 10) : 0;
		if (p == 0 || p > 65535) {
			snprintf(err, errlen, "'%s': the port must be 1 to 65535", s);
			return -1;
		}
	}
	*addr = a; /* only now: a refusal leaves both as they were */
	*port = (uint16_t)p;
	return 0;
}

/* sentinels = [ "ADDRESS:PORT", ... ]: 1 to STORE_SENTINELS_MAX of them. */
static int store_conf_sentinels(struct conf *c, const config_setting_t *list,
				struct store_config *cfg)
{
	int n = config_setting_length(list);
	char why[200];

	if (!config_setting_is_array(list) && !config_setting_is_list(list))
		return conf_fail(c, list, NULL, "expected a list of \"ADDRESS:PORT\" strings");
	if (n < 1 || n > STORE_SENTINELS_MAX)
		return conf_fail(c, list, NULL, "1 to %d Sentinels", STORE_SENTINELS_MAX);
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
		const char *s = config_setting_get_string(e);
		struct store_sentinel *sn = &cfg->sentinels[i];

		if (s == NULL)
			return conf_fail(c, e, NULL, "expected a string \"ADDRESS:PORT\"");
		if (store_parse_hostport(s, STORE_SENTINEL_PORT, &sn->addr, &sn->port, why,
					 sizeof(why)) < 0)
			return conf_fail(c, e, NULL, "%s", why);
		for (int j = 0; j < i; j++)
			if (cfg->sentinels[j].addr.s_addr == sn->addr.s_addr &&
			    cfg->sentinels[j].port == sn->port)
				return conf_fail(c, e, NULL, "'%s' is listed twice", s);
	}
	cfg->n_sentinels = (size_t)n;
	return 0;
}

/*
 * Where the primary is: host (and port), or the Sentinels and the name
 * they know it by.  One or the other: a fixed host next to Sentinels would
 * say two things about the same server.
 */
static int store_conf_primary(struct conf *c, const config_setting_t *grp, struct store_config *cfg)
{
	const config_setting_t *list = config_setting_get_member(grp, "sentinels");
	const char *s;

	if (list == NULL) {
		if (conf_str(c, grp, "host", true, &s) != 0)
			return -1;
		if (strlen(s) == 0 || strlen(s) >= sizeof(cfg->redis_host))
			return conf_fail(c, config_setting_get_member(grp, "host"), NULL,
					 "must be 1 to %zu characters",
					 sizeof(cfg->redis_host) - 1);
		snprintf(cfg->redis_host, sizeof(cfg->redis_host), "%s", s);
		if (config_setting_get_member(grp, "master_name") != NULL)
			return conf_fail(c, config_setting_get_member(grp, "master_name"), NULL,
					 "only with sentinels");
		return 0;
	}
	static const char *const fixed[] = {"host", "port"};

	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (config_setting_get_member(grp, fixed[i]) != NULL)
			return conf_fail(c, config_setting_get_member(grp, fixed[i]), NULL,
					 "not with sentinels (the Sentinels name the primary)");
	if (store_conf_sentinels(c, list, cfg) < 0 ||
	    conf_strcpy(c, grp, "master_name", true, cfg->master_name, sizeof(cfg->master_name)) <
		    0)
		return -1;
	/* Failover is the point of Sentinel: by default a write waits for one replica. */
	cfg->wait_replicas = 1;
	return 0;
}

static int store_conf_redis(struct conf *c, const config_setting_t *grp, struct store_config *cfg)
{
	uint32_t port = STORE_REDIS_PORT;
	const char *s;

	cfg->wait_ms = STORE_WAIT_MS;
	if (store_conf_primary(c, grp, cfg) < 0 ||
	    conf_uint(c, grp, "wait_replicas", 0, 64, &cfg->wait_replicas) < 0 ||
	    conf_uint(c, grp, "wait_ms", 1, 60000, &cfg->wait_ms) < 0 ||
	    conf_uint(c, grp, "port", 1, 65535, &port) < 0 ||
	    conf_str(c, grp, "user", true, &s) != 0)
		return -1;
	if (strlen(s) == 0 || strlen(s) >= sizeof(cfg->redis_user))
		return conf_fail(c, config_setting_get_member(grp, "user"), NULL,
				 "must be 1 to %zu characters", sizeof(cfg->redis_user) - 1);
	snprintf(cfg->redis_user, sizeof(cfg->redis_user), "%s", s);
	cfg->redis_port = (uint16_t)port;
	int r = conf_str(c, grp, "key_prefix", false, &s);
	if (r < 0)
		return -1;
	if (r == 0) {
		if (strlen(s) >= sizeof(cfg->key_prefix))
			return conf_fail(c, config_setting_get_member(grp, "key_prefix"), NULL,
					 "at most %zu characters", sizeof(cfg->key_prefix) - 1);
		snprintf(cfg->key_prefix, sizeof(cfg->key_prefix), "%s", s);
	}
	return store_conf_password(c, grp, cfg->redis_pass, sizeof(cfg->redis_pass));
}

int store_conf_load(struct conf *c, const config_setting_t *grp, struct store_config *cfg)
{
	const char *backend;

	memset(cfg, 0, sizeof(*cfg));
	cfg->dbs_port = SAX_PORT;
	cfg->window_ms = STORE_DEFAULT_WINDOW_MS;
	cfg->redis_port = STORE_REDIS_PORT;
	cfg->max_pending = STORE_MAX_PENDING;
	snprintf(cfg->key_prefix, sizeof(cfg->key_prefix), "mipsa:sa:");
	if (conf_str(c, grp, "backend", true, &backend) != 0 ||
	    conf_uint(c, grp, "max_pending", 1, 65536, &cfg->max_pending) < 0)
		return -1;
	if (strcmp(backend, "dbs") == 0) {
		cfg->backend = STORE_DBS;
		return store_conf_dbs(c, grp, cfg);
	}
	if (strcmp(backend, "redis") == 0) {
		cfg->backend = STORE_REDIS;
		return store_conf_redis(c, grp, cfg);
	}
	return conf_fail(c, config_setting_get_member(grp, "backend"), NULL,
			 "'%s' is not one of dbs, redis", backend);
}

void store_config_wipe(struct store_config *cfg)
{
	explicit_bzero(cfg->k_db, sizeof(cfg->k_db));
	explicit_bzero(cfg->redis_pass, sizeof(cfg->redis_pass));
}

/* ---- requests ---- */

static void store_req_free(struct store_req *r)
{
	ev_timer_stop(r->sc->loop, &r->timer);
	ev_timer_stop(r->sc->loop, &r->resend);
	free(r->cmd);
	free(r);
}

static void store_unlink(struct store_client *sc, struct store_req *r)
{
	if (!r->linked)
		return;
	if (r->prev)
		r->prev->next = r->next;
	else
		sc->head = r->next;
	if (r->next)
		r->next->prev = r->prev;
	else
		sc->tail = r->prev;
	r->prev = r->next = NULL;
	r->linked = false;
	sc->n_pending--;
}

static void store_count(struct store_counters *c, enum store_status s)
{
	switch (s) {
	case STORE_OK:
		c->ok++;
		break;
	case STORE_NOT_FOUND:
		c->not_found++;
		break;
	case STORE_REFUSED:
		c->refused++;
		break;
	case STORE_TIMEOUT:
		c->timeouts++;
		break;
	case STORE_ERROR:
		c->errors++;
		break;
	}
}

/* Report the result once and forget the request (unless hiredis still holds it). */
static void store_complete(struct store_req *r, enum store_status status, enum sax_reason reason,
			   const uint8_t *msg, size_t len)
{
	struct store_client *sc = r->sc;

	if (!r->linked)
		return;
	struct store_result res = {
		.op = r->op,
		.status = status,
		.reason = reason,
		.mn_id = r->mn_id,
		.msg = status == STORE_OK ? msg : NULL,
		.len = status == STORE_OK ? len : 0,
		.elapsed_us = ev_loop_now_us(sc->loop) - r->start_us,
	};
	store_unlink(sc, r);
	ev_timer_stop(sc->loop, &r->timer);
	ev_timer_stop(sc->loop, &r->resend);
	store_count(&sc->ctr, status);
	log_debug("%s %s: %s (%" PRIu64 " us)", store_op_name(r->op), r->mn_id,
		  store_status_name(status), res.elapsed_us);
	r->cb(r->arg, &res);
	if (r->in_redis > 0) {
		r->zombie = true;
		sc->n_zombies++;
	} else {
		store_req_free(r);
	}
}

static void store_redis_drop(struct store_client *sc);
static void store_redis_lost(struct store_client *sc);
static void store_dbs_resend(struct ev_loop *loop, struct ev_timer *t, void *arg);

static void store_on_timer(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct store_req *r = arg;
	struct store_client *sc = r->sc;

	if (r->failed_early) {
		store_complete(r, r->early_status, r->early_reason, NULL, 0);
		return;
	}
	store_complete(r, STORE_TIMEOUT, SAX_R_STORE_ERROR, NULL, 0);
	if (sc->cfg.backend != STORE_REDIS || sc->pri.ac == NULL)
		return;
	/*
	 * A connection still not made when a request ran out, or one that has
	 * left max_pending requests unanswered: start afresh next time (and
	 * bound what the timed-out requests hold meanwhile).
	 */
	bool stuck = sc->n_zombies >= sc->cfg.max_pending;
	if (!(sc->pri.ac->c.flags & REDIS_CONNECTED) || stuck) {
		log_rl_warn("redis %s:%u: %s", sc->redis_ip, sc->redis_port,
			    stuck ? "too many requests unanswered: reconnecting"
				  : "no connection within the request timeout");
		store_redis_drop(sc);
		store_redis_lost(sc);
	}
}

static struct store_req *store_req_new(struct store_client *sc, enum store_op op, const char *mn_id,
				       uint32_t timeout_ms, store_cb cb, void *arg)
{
	size_t idlen = mn_id ? strlen(mn_id) : 0;
	struct store_req *r;

	if (cb == NULL || idlen == 0 || idlen > SAX_ID_MAX || sc->n_pending >= sc->cfg.max_pending)
		return NULL;
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	r->sc = sc;
	r->op = op;
	r->seq = ++sc->next_seq;
	memcpy(r->mn_id, mn_id, idlen);
	r->mn_id_len = idlen;
	r->cb = cb;
	r->arg = arg;
	r->start_us = ev_loop_now_us(sc->loop);
	r->timeout_ms = timeout_ms;
	ev_timer_init(&r->timer, store_on_timer, r);
	ev_timer_init(&r->resend, store_dbs_resend, r);
	if (ev_timer_start(sc->loop, &r->timer, timeout_ms) < 0) {
		free(r);
		return NULL;
	}
	r->linked = true;
	r->prev = sc->tail;
	if (sc->tail)
		sc->tail->next = r;
	else
		sc->head = r;
	sc->tail = r;
	sc->n_pending++;
	sc->ctr.requests++;
	return r;
}

/* Fail a request from the loop, not from inside the caller's call. */
static void store_fail_soon(struct store_req *r, enum store_status status, enum sax_reason reason)
{
	r->failed_early = true;
	r->early_status = status;
	r->early_reason = reason;
	ev_timer_start(r->sc->loop, &r->timer, 0);
}

/* Every request sent so far (not those its callbacks add) ends with status. */
static void store_fail_all(struct store_client *sc, enum store_status status)
{
	uint64_t last = sc->next_seq;

	while (sc->head != NULL && sc->head->seq <= last)
		store_complete(sc->head, status, SAX_R_STORE_ERROR, NULL, 0);
}

/* ---- dbs back-end ---- */

static void store_dbs_request(struct store_req *r, uint8_t type);

/*
 * A GET or DEL not answered in half its time is asked once more: over UDP
 * one lost datagram, either way, would otherwise fail it.  Both are safe
 * to repeat (a new nonce each, and the store's answer does not change).
 * A PUT is not: it is the caller's message, whose nonce the store has seen.
 */
static void store_dbs_resend(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct store_req *r = arg;

	(void)loop;
	(void)t;
	if (!r->linked || r->failed_early)
		return;
	r->sc->ctr.resent++;
	log_rl_debug("%s %s: no answer in %u ms, asking again", store_op_name(r->op), r->mn_id,
		     r->timeout_ms / 2);
	store_dbs_request(r, r->op == STORE_OP_GET ? SAX_STORE_GET : SAX_STORE_DEL);
}

static bool store_dbs_matches(const struct store_req *r, const struct sax_msg *m)
{
	bool ack = m->type == SAX_STORE_ACK;
	bool get = m->type == SAX_RECORD || m->type == SAX_REFUSED;

	if (!((ack && (r->op == STORE_OP_PUT || r->op == STORE_OP_DEL)) ||
	      (get && r->op == STORE_OP_GET)))
		return false;
	return m->mn_id_len == r->mn_id_len && memcmp(m->mn_id, r->mn_id, r->mn_id_len) == 0;
}

static void store_dbs_result(struct store_req *r, const struct sax_msg *m, const uint8_t *msg,
			     size_t len)
{
	enum sax_reason why = (enum sax_reason)m->flags;

	if (m->type == SAX_RECORD)
		store_complete(r, STORE_OK, SAX_OK, msg, len);
	else if (m->type == SAX_REFUSED && (why == SAX_R_UNKNOWN || why == SAX_R_EXPIRED))
		store_complete(r, STORE_NOT_FOUND, why, NULL, 0);
	else if (why == SAX_OK)
		store_complete(r, STORE_OK, SAX_OK, NULL, 0);
	else
		store_complete(r, STORE_REFUSED, why, NULL, 0);
}

static void store_dbs_answer(struct store_client *sc, const uint8_t *msg, size_t len)
{
	struct sax_msg m;
	enum sax_err e = sax_ring_parse(&sc->keys, msg, len, ev_loop_wall_ms(sc->loop),
					sc->cfg.window_ms, sc->replay, &m, NULL);

	sc->ctr.rx_previous_key = sc->keys.rx_previous;

	if (e == SAX_E_OK && m.sender.s_addr != sc->cfg.dbs_addr.s_addr)
		e = SAX_E_ATTR;
	if (e != SAX_E_OK) {
		sc->ctr.bad_answers++;
		log_rl_info("answer from the store dropped: %s", sax_err_name(e));
		return;
	}
	for (struct store_req *r = sc->head; r != NULL; r = r->next) {
		if (store_dbs_matches(r, &m)) {
			store_dbs_result(r, &m, msg, len);
			return;
		}
	}
	sc->ctr.late_answers++;
	log_rl_debug("%s for %s matches no pending request", sax_type_name(m.type), m.mn_id);
}

static void store_dbs_read(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct store_client *sc = arg;
	uint8_t msg[SAX_MSG_MAX];
	ssize_t n;

	for (;;) {
		n = netio_recv(fd, msg, sizeof(msg), &sc->ctr.rcvbuf_drops);
		if (n >= 0) {
			store_dbs_answer(sc, msg, (size_t)n);
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		/* ICMP port unreachable and the like: nobody will answer what is pending. */
		log_rl_warn("store %s:%u: %s", IP4_STR(sc->cfg.dbs_addr), sc->cfg.dbs_port,
			    strerror(errno));
		store_fail_all(sc, STORE_ERROR);
	}
}

static int store_dbs_open(struct store_client *sc)
{
	struct sockaddr_in local = {.sin_family = AF_INET, .sin_addr = sc->cfg.local};
	struct sockaddr_in peer = {.sin_family = AF_INET,
				   .sin_addr = sc->cfg.dbs_addr,
				   .sin_port = htons(sc->cfg.dbs_port)};

	if (sc->cfg.local.s_addr == INADDR_ANY || sc->cfg.dbs_addr.s_addr == INADDR_ANY) {
		log_err("the dbs store needs its address and our own (the Sender) address");
		return -1;
	}
	sc->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (sc->fd < 0 || netio_rx_setup(sc->fd, "store socket") < 0 ||
	    bind(sc->fd, (struct sockaddr *)&local, sizeof(local)) < 0 ||
	    connect(sc->fd, (struct sockaddr *)&peer, sizeof(peer)) < 0) {
		log_err("UDP socket %s -> %s:%u: %s", IP4_STR(sc->cfg.local),
			IP4_STR(sc->cfg.dbs_addr), sc->cfg.dbs_port, strerror(errno));
		return -1;
	}
	struct sax_keys k = {.have_k_sa = false};
	memcpy(k.k_db, sc->cfg.k_db, SAX_KEY_LEN);
	sax_ring_init(&sc->keys, &k);
	sax_keys_wipe(&k);
	sc->replay = sax_replay_new(STORE_REPLAY_ENTRIES, sc->cfg.window_ms);
	if (sc->replay == NULL)
		return -1;
	return ev_io_add(sc->loop, sc->fd, EPOLLIN, store_dbs_read, sc);
}

static void store_dbs_send(struct store_req *r, const uint8_t *msg, size_t len)
{
	if (send(r->sc->fd, msg, len, 0) == (ssize_t)len)
		return;
	log_rl_warn("send to the store: %s", strerror(errno));
	store_fail_soon(r, STORE_ERROR, SAX_R_STORE_ERROR);
}

/* A STORE_GET or STORE_DEL, which need no K_SA: the client builds them itself. */
static void store_dbs_request(struct store_req *r, uint8_t type)
{
	struct store_client *sc = r->sc;
	uint8_t out[SAX_MSG_MAX];
	struct sax_msg m;
	struct buf b;

	memset(&m, 0, sizeof(m));
	m.version = SAX_VERSION;
	m.type = type;
	sax_stamp(&m);
	m.timestamp_ms = ev_loop_wall_ms(sc->loop); /* the store compares it with its own clock */
	m.sender = sc->cfg.local;
	memcpy(m.mn_id, r->mn_id, r->mn_id_len);
	m.mn_id_len = r->mn_id_len;
	buf_init_write(&b, out, sizeof(out));
	enum sax_err e = sax_build(&b, &m, sax_ring_send(&sc->keys, ev_loop_wall_ms(sc->loop)));
	if (e != SAX_E_OK) {
		log_rl_warn("cannot build %s: %s", sax_type_name(type), sax_err_name(e));
		store_fail_soon(r, STORE_ERROR, SAX_R_STORE_ERROR);
		return;
	}
	store_dbs_send(r, buf_data(&b), buf_used(&b));
}

/* ---- redis back-end: the evloop adapter ---- */

static void store_redis_io(struct ev_loop *loop, int fd, uint32_t events, void *arg);

static void store_ev_set(struct store_conn *cn, uint32_t mask)
{
	int r = 0;

	if (mask == cn->mask)
		return;
	/*
	 * Registered only while hiredis wants something: epoll reports
	 * EPOLLHUP even with an empty mask, which would spin on a socket
	 * nobody reads.
	 */
	if (cn->mask == 0)
		r = ev_io_add(cn->sc->loop, cn->fd, mask, store_redis_io, cn);
	else if (mask == 0)
		ev_io_del(cn->sc->loop, cn->fd);
	else
		r = ev_io_mod(cn->sc->loop, cn->fd, mask);
	if (r < 0)
		log_rl_warn("redis fd %d: %s", cn->fd, strerror(errno));
	cn->mask = r < 0 ? cn->mask : mask;
}

static void store_ev_add_read(void *p)
{
	struct store_conn *cn = p;

	store_ev_set(cn, cn->mask | EPOLLIN);
}

static void store_ev_del_read(void *p)
{
	struct store_conn *cn = p;

	store_ev_set(cn, cn->mask & ~(uint32_t)EPOLLIN);
}

static void store_ev_add_write(void *p)
{
	struct store_conn *cn = p;

	store_ev_set(cn, cn->mask | EPOLLOUT);
}

static void store_ev_del_write(void *p)
{
	struct store_conn *cn = p;

	store_ev_set(cn, cn->mask & ~(uint32_t)EPOLLOUT);
}

/* hiredis is freeing the context: forget its fd; the slot may take another. */
static void store_ev_cleanup(void *p)
{
	struct store_conn *cn = p;

	store_ev_set(cn, 0);
	cn->ac = NULL;
	cn->fd = -1;
}

static void store_redis_io(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct store_conn *cn = arg;
	uint64_t gen = cn->gen;

	if (cn->ac != NULL && (cn->mask & EPOLLIN) && (events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
		redisAsyncHandleRead(cn->ac);
	/* The read may have freed the context, and a callback opened another. */
	if (cn->ac != NULL && cn->gen == gen && (cn->mask & EPOLLOUT) &&
	    (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
		redisAsyncHandleWrite(cn->ac);
}

/*
 * A new context in slot cn (empty: a slot takes another context only once
 * hiredis has cleaned the last one up).  NULL and logged on failure.
 */
static redisAsyncContext *store_conn_open(struct store_conn *cn, const char *ip, uint16_t port)
{
	redisAsyncContext *ac;

	if (cn->ac != NULL) {
		log_rl_warn("redis %s:%u: the last connection is still being closed", ip, port);
		return NULL;
	}
	ac = redisAsyncConnect(ip, port);
	if (ac == NULL || ac->err) {
		log_rl_warn("redis %s:%u: %s", ip, port, ac ? ac->errstr : "out of memory");
		if (ac)
			redisAsyncFree(ac);
		return NULL;
	}
	cn->ac = ac;
	cn->gen++;
	cn->fd = ac->c.fd;
	cn->mask = 0;
	ac->data = cn->sc;
	ac->ev.data = cn;
	ac->ev.addRead = store_ev_add_read;
	ac->ev.delRead = store_ev_del_read;
	ac->ev.addWrite = store_ev_add_write;
	ac->ev.delWrite = store_ev_del_write;
	ac->ev.cleanup = store_ev_cleanup;
	return ac;
}

/* ---- redis back-end: parsing replies ---- */

int store_parse_master_addr(const struct redisReply *rep, struct in_addr *addr, uint16_t *port,
			    char *err, size_t errlen)
{
	char hp[INET_ADDRSTRLEN + 8];

	if (rep->type == REDIS_REPLY_NIL) {
		snprintf(err, errlen, "it knows no master by that name");
		return -1;
	}
	if (rep->type == REDIS_REPLY_ERROR) {
		snprintf(err, errlen, "error: %.*s", (int)(rep->len < 100 ? rep->len : 100),
			 rep->str);
		return -1;
	}
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
		snprintf(err, errlen, "expected an array of two strings (reply type %d)",
			 rep->type);
		return -1;
	}
	const redisReply *ip = rep->element[0], *p = rep->element[1];
	/* Bulk strings may hold anything: no NUL, no colon, lengths that fit. */
	if (ip->type != REDIS_REPLY_STRING || p->type != REDIS_REPLY_STRING || ip->len == 0 ||
	    ip->len >= INET_ADDRSTRLEN || p->len == 0 || p->len > 5 ||
	    memchr(ip->str, '\0', ip->len) != NULL || memchr(ip->str, ':', ip->len) != NULL ||
	    memchr(p->str, '\0', p->len) != NULL) {
		snprintf(err, errlen, "expected an IPv4 address and a port");
		return -1;
	}
	snprintf(hp, sizeof(hp), "%.*s:%.*s", (int)ip->len, ip->str, (int)p->len, p->str);
	return store_parse_hostport(hp, 0, addr, port, err, errlen);
}

/* ROLE's answer: an array whose first element is "master". */
static bool store_reply_is_primary(const redisReply *rep)
{
	const redisReply *e =
		rep->type == REDIS_REPLY_ARRAY && rep->elements >= 1 ? rep->element[0] : NULL;

	return e != NULL && e->type == REDIS_REPLY_STRING && e->len == 6 &&
	       memcmp(e->str, "master", 6) == 0;
}

/* ---- redis back-end: Sentinel ---- */

static bool store_sentinel_mode(const struct store_client *sc)
{
	return sc->cfg.n_sentinels > 0;
}

/* Stop asking the Sentinel in the slot (hiredis may still be inside its callback). */
static void store_sentinel_close(struct store_client *sc, bool free_it)
{
	sc->sen_asking = false;
	ev_timer_stop(sc->loop, &sc->sen_timer);
	if (free_it && sc->sen.ac != NULL)
		redisAsyncFree(sc->sen.ac); /* its callback sees sen_asking false */
}

/* Requests waiting for a primary get their error (from the loop: fail_soon). */
static void store_fail_held(struct store_client *sc)
{
	for (struct store_req *r = sc->head; r != NULL; r = r->next)
		if (r->cmd != NULL && r->in_redis == 0)
			store_fail_soon(r, STORE_ERROR, SAX_R_STORE_ERROR);
}

/* A question failed: the next Sentinel, or, once each has been asked, later. */
static void store_sentinel_next(struct store_client *sc)
{
	sc->sen_idx = (sc->sen_idx + 1) % sc->cfg.n_sentinels;
	if (++sc->sen_tries < sc->cfg.n_sentinels) {
		ev_timer_start(sc->loop, &sc->sen_timer, 0); /* not from inside hiredis */
		return;
	}
	log_rl_warn("no Sentinel of %zu named a primary for '%s': the store is down",
		    sc->cfg.n_sentinels, sc->cfg.master_name);
	sc->sen_tries = 0;
	sc->sen_after_ms = ev_loop_now_ms(sc->loop) + STORE_SENTINEL_RETRY_MS;
	store_fail_held(sc);
}

/* Ask now, or as soon as the last round's back-off allows (one question at a time). */
static void store_sentinel_kick(struct store_client *sc)
{
	uint64_t now = ev_loop_now_ms(sc->loop);

	if (sc->sen_asking || ev_timer_armed(&sc->sen_timer) || sc->closing)
		return;
	sc->sen_tries = 0;
	ev_timer_start(sc->loop, &sc->sen_timer,
		       sc->sen_after_ms > now ? sc->sen_after_ms - now : 0);
}

static void store_redis_send(struct store_req *r);
static int store_redis_connect(struct store_client *sc);

/* A Sentinel named the primary: remember it, send what waited for it. */
static void store_primary_found(struct store_client *sc, struct in_addr a, uint16_t port)
{
	char ip[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &a, ip, sizeof(ip));
	if (sc->redis_ip[0] != '\0' && (strcmp(ip, sc->redis_ip) != 0 || port != sc->redis_port)) {
		sc->ctr.failovers++;
		log_notice("redis primary '%s' is now %s:%u (was %s:%u)", sc->cfg.master_name, ip,
			   port, sc->redis_ip, sc->redis_port);
		if (sc->pri.ac != NULL)
			redisAsyncFree(sc->pri.ac); /* the old one's requests end in errors */
	}
	snprintf(sc->redis_ip, sizeof(sc->redis_ip), "%s", ip);
	sc->redis_port = port;
	sc->primary_known = true;
	sc->sen_tries = 0;
	/*
	 * The next question not before the retry interval: while the named
	 * primary is dead (the Sentinels have not noticed yet), connecting to
	 * it fails at once, and we ask again at this pace, not in a loop.
	 */
	sc->sen_after_ms = ev_loop_now_ms(sc->loop) + STORE_SENTINEL_RETRY_MS;
	/* A question the old connection's end asked for is answered already. */
	ev_timer_stop(sc->loop, &sc->sen_timer);
	for (struct store_req *r = sc->head; r != NULL; r = r->next)
		if (r->cmd != NULL && r->in_redis == 0 && !r->failed_early)
			store_redis_send(r);
	/*
	 * Connected even with nothing to send: a dead primary is then found
	 * out (and the Sentinels asked again) before the next request, which
	 * after a failover goes straight to the new one.
	 */
	if (sc->pri.ac == NULL)
		(void)store_redis_connect(sc); /* a failure is logged and asks again */
}

static void store_sentinel_on_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct store_client *sc = privdata;
	const struct store_sentinel *sn = &sc->cfg.sentinels[sc->sen_idx];
	struct in_addr a;
	uint16_t port;
	char why[160];

	if (!sc->sen_asking || ac != sc->sen.ac)
		return; /* given up on (timeout, client freed) */
	/* No reply: hiredis is already freeing the context (connection failed or lost). */
	store_sentinel_close(sc, reply != NULL);
	if (reply == NULL)
		snprintf(why, sizeof(why), "%s", ac->errstr[0] ? ac->errstr : "connection lost");
	if (reply == NULL || store_parse_master_addr(reply, &a, &port, why, sizeof(why)) < 0) {
		sc->ctr.sentinel_errors++;
		log_rl_warn("sentinel %s:%u, master '%s': %s", IP4_STR(sn->addr), sn->port,
			    sc->cfg.master_name, why);
		store_sentinel_next(sc);
		return;
	}
	store_primary_found(sc, a, port);
}

static void store_sentinel_ask(struct store_client *sc)
{
	const struct store_sentinel *sn = &sc->cfg.sentinels[sc->sen_idx];
	const char *argv[] = {"SENTINEL", "get-master-addr-by-name", sc->cfg.master_name};
	size_t lens[] = {8, 23, strlen(sc->cfg.master_name)};
	char ip[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &sn->addr, ip, sizeof(ip));
	sc->ctr.sentinel_lookups++;
	if (store_conn_open(&sc->sen, ip, sn->port) == NULL) {
		sc->ctr.sentinel_errors++;
		store_sentinel_next(sc);
		return;
	}
	if (redisAsyncCommandArgv(sc->sen.ac, store_sentinel_on_reply, sc, 3, argv, lens) !=
	    REDIS_OK) {
		sc->ctr.sentinel_errors++;
		redisAsyncFree(sc->sen.ac);
		store_sentinel_next(sc);
		return;
	}
	sc->sen_asking = true;
	ev_timer_start(sc->loop, &sc->sen_timer, STORE_SENTINEL_TIMEOUT_MS);
}

/* The timer: the next question is due, or the one asked has no answer in time. */
static void store_sentinel_on_timer(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct store_client *sc = arg;
	const struct store_sentinel *sn = &sc->cfg.sentinels[sc->sen_idx];

	if (!sc->sen_asking) {
		store_sentinel_ask(sc);
		return;
	}
	sc->ctr.sentinel_errors++;
	log_rl_warn("sentinel %s:%u: no answer within %u ms", IP4_STR(sn->addr), sn->port,
		    STORE_SENTINEL_TIMEOUT_MS);
	store_sentinel_close(sc, true);
	store_sentinel_next(sc);
}

/*
 * The primary we knew failed us (no connection, connection lost, not the
 * primary any more): with Sentinels, forget it and ask them again.
 */
static void store_redis_lost(struct store_client *sc)
{
	if (!store_sentinel_mode(sc) || sc->closing)
		return;
	sc->primary_known = false;
	store_sentinel_kick(sc);
}

/* ---- redis back-end: connection ---- */

static void store_redis_on_connect(const redisAsyncContext *ac, int status)
{
	struct store_client *sc = ac->data;

	if (status == REDIS_OK) {
		log_info("connected to redis %s:%u", sc->redis_ip, sc->redis_port);
		if (sc->on_connect != NULL)
			sc->on_connect(sc->on_connect_arg);
		return;
	}
	log_rl_warn("redis %s:%u: %s", sc->redis_ip, sc->redis_port, ac->errstr);
	sc->retry_after_ms = ev_loop_now_ms(sc->loop) + STORE_RETRY_MS;
	store_redis_lost(sc);
}

static void store_redis_on_disconnect(const redisAsyncContext *ac, int status)
{
	struct store_client *sc = ac->data;

	if (sc->closing)
		return;
	/* No back-off here: Redis closes idle clients, the next request just reconnects. */
	if (status != REDIS_OK)
		log_rl_info("redis %s:%u: connection lost: %s", sc->redis_ip, sc->redis_port,
			    ac->errstr);
	store_redis_lost(sc);
}

static void store_redis_on_auth(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct store_client *sc = privdata;
	redisReply *rep = reply;

	/* The password is never logged; Redis does not echo it either. */
	if (rep != NULL && rep->type == REDIS_REPLY_ERROR)
		log_rl_warn("redis refused AUTH as '%s': %s", sc->cfg.redis_user, rep->str);
}

static void store_redis_drop(struct store_client *sc)
{
	if (sc->pri.ac == NULL)
		return;
	sc->retry_after_ms = ev_loop_now_ms(sc->loop) + STORE_RETRY_MS;
	redisAsyncFree(sc->pri.ac); /* pending callbacks run with no reply, cleanup clears it */
}

/* The server is a replica now (READONLY, ROLE): drop it, ask the Sentinels. */
static void store_redis_demoted(struct store_client *sc, const char *why)
{
	sc->ctr.not_primary++;
	log_rl_warn("redis %s:%u is not the primary (%s)%s", sc->redis_ip, sc->redis_port, why,
		    store_sentinel_mode(sc) ? ": asking the Sentinels again" : "");
	store_redis_drop(sc);
	store_redis_lost(sc);
}

static void store_redis_on_role(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct store_client *sc = privdata;
	redisReply *rep = reply;

	if (rep == NULL || ac != sc->pri.ac)
		return;
	if (rep->type == REDIS_REPLY_ERROR)
		log_rl_warn("redis %s:%u: ROLE: %s (the user needs +role)", sc->redis_ip,
			    sc->redis_port, rep->str);
	else if (!store_reply_is_primary(rep))
		store_redis_demoted(sc, "ROLE");
}

/*
 * Pipelined ahead of the requests: AUTH, and with Sentinels ROLE, since a
 * Sentinel's answer may be stale (a demoted primary that came back).
 */
static int store_redis_hello(struct store_client *sc)
{
	const char *argv[] = {"AUTH", sc->cfg.redis_user, sc->cfg.redis_pass};
	size_t lens[] = {4, strlen(sc->cfg.redis_user), strlen(sc->cfg.redis_pass)};
	const char *role[] = {"ROLE"};
	size_t role_len[] = {4};

	if (redisAsyncCommandArgv(sc->pri.ac, store_redis_on_auth, sc, 3, argv, lens) != REDIS_OK)
		return -1;
	if (!store_sentinel_mode(sc))
		return 0;
	return redisAsyncCommandArgv(sc->pri.ac, store_redis_on_role, sc, 1, role, role_len) ==
			       REDIS_OK
		       ? 0
		       : -1;
}

static int store_redis_connect(struct store_client *sc)
{
	redisAsyncContext *ac;

	if (sc->pri.ac != NULL)
		return 0;
	/* With Sentinels the back-off is theirs: a primary just named is tried at once. */
	if (!store_sentinel_mode(sc) && ev_loop_now_ms(sc->loop) < sc->retry_after_ms)
		return -1;
	ac = store_conn_open(&sc->pri, sc->redis_ip, sc->redis_port);
	if (ac == NULL) {
		sc->retry_after_ms = ev_loop_now_ms(sc->loop) + STORE_RETRY_MS;
		store_redis_lost(sc);
		return -1;
	}
	/* After the hooks: setting the connect callback asks for the first write event. */
	redisAsyncSetConnectCallback(ac, store_redis_on_connect);
	redisAsyncSetDisconnectCallback(ac, store_redis_on_disconnect);
	sc->ctr.connects++;
	if (store_redis_hello(sc) < 0) {
		store_redis_drop(sc);
		return -1;
	}
	return 0;
}

static bool store_redis_refusal(const char *s)
{
	return strncmp(s, "NOPERM", 6) == 0 || strncmp(s, "NOAUTH", 6) == 0 ||
	       strncmp(s, "WRONGPASS", 9) == 0;
}

/*
 * hiredis is done with one of r's commands: true when r still waits for
 * its answer; otherwise r is freed once hiredis holds it no more.
 */
static bool store_redis_release(struct store_req *r)
{
	struct store_client *sc = r->sc;

	r->in_redis--;
	if (r->linked && sc->closing)
		store_unlink(sc, r); /* the client is going away: nobody waits */
	if (r->linked)
		return true;
	if (r->in_redis == 0) {
		if (r->zombie)
			sc->n_zombies--;
		store_req_free(r);
	}
	return false;
}

static void store_redis_result(struct store_req *r, const redisReply *rep)
{
	if (rep == NULL) {
		store_complete(r, STORE_ERROR, SAX_R_STORE_ERROR, NULL, 0);
	} else if (rep->type == REDIS_REPLY_ERROR) {
		bool refused = store_redis_refusal(rep->str);
		if (strncmp(rep->str, "READONLY", 8) == 0)
			store_redis_demoted(r->sc, "READONLY");
		else if (!refused)
			log_rl_warn("redis: %s %s: %s", store_op_name(r->op), r->mn_id, rep->str);
		store_complete(r, refused ? STORE_REFUSED : STORE_ERROR,
			       refused ? SAX_R_NOT_MEMBER : SAX_R_STORE_ERROR, NULL, 0);
	} else if (r->op == STORE_OP_GET && rep->type == REDIS_REPLY_STRING) {
		store_complete(r, STORE_OK, SAX_OK, (const uint8_t *)rep->str, rep->len);
	} else if (r->op == STORE_OP_GET && rep->type == REDIS_REPLY_NIL) {
		store_complete(r, STORE_NOT_FOUND, SAX_R_UNKNOWN, NULL, 0);
	} else if ((r->op == STORE_OP_PUT && rep->type == REDIS_REPLY_STATUS) ||
		   (r->op == STORE_OP_DEL && rep->type == REDIS_REPLY_INTEGER)) {
		/* With WAIT behind it, done only once WAIT counts the replicas. */
		if (r->waits)
			r->written = true;
		else
			store_complete(r, STORE_OK, SAX_OK, NULL, 0);
	} else {
		log_rl_warn("redis: %s %s: unexpected reply type %d", store_op_name(r->op),
			    r->mn_id, rep->type);
		store_complete(r, STORE_ERROR, SAX_R_STORE_ERROR, NULL, 0);
	}
}

static void store_redis_on_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct store_req *r = privdata;

	if (store_redis_release(r))
		store_redis_result(r, reply);
}

/* WAIT's answer: how many replicas have the write (and every write before it). */
static void store_redis_on_wait(redisAsyncContext *ac, void *reply, void *privdata)
{
	struct store_req *r = privdata;
	struct store_client *sc = r->sc;
	const redisReply *rep = reply;

	if (!store_redis_release(r))
		return;
	if (rep != NULL && rep->type == REDIS_REPLY_INTEGER && r->written &&
	    rep->integer >= (long long)sc->cfg.wait_replicas) {
		store_complete(r, STORE_OK, SAX_OK, NULL, 0);
		return;
	}
	if (rep != NULL && rep->type == REDIS_REPLY_INTEGER) {
		sc->ctr.wait_short++;
		log_rl_warn("redis: %s %s: %lld of %u replicas have it after %u ms: not kept",
			    store_op_name(r->op), r->mn_id, rep->integer, sc->cfg.wait_replicas,
			    sc->cfg.wait_ms);
	} else if (rep != NULL) {
		log_rl_warn("redis: %s %s: WAIT: %s", store_op_name(r->op), r->mn_id,
			    rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
	}
	store_complete(r, STORE_ERROR, SAX_R_STORE_ERROR, NULL, 0);
}

/* r's command (and WAIT) on the primary's connection. */
static void store_redis_send(struct store_req *r)
{
	struct store_client *sc = r->sc;
	char n[16], ms[16];
	const char *argv[] = {"WAIT", n, ms};
	size_t lens[] = {4, (size_t)snprintf(n, sizeof(n), "%u", sc->cfg.wait_replicas),
			 (size_t)snprintf(ms, sizeof(ms), "%u", sc->cfg.wait_ms)};

	if (store_redis_connect(sc) < 0 ||
	    redisAsyncFormattedCommand(sc->pri.ac, store_redis_on_reply, r, r->cmd, r->cmd_len) !=
		    REDIS_OK) {
		store_fail_soon(r, STORE_ERROR, SAX_R_STORE_ERROR);
		return;
	}
	r->in_redis++;
	free(r->cmd);
	r->cmd = NULL;
	if (!r->waits)
		return;
	/* Pipelined, not in MULTI: inside a transaction WAIT would not wait. */
	if (redisAsyncCommandArgv(sc->pri.ac, store_redis_on_wait, r, 3, argv, lens) != REDIS_OK) {
		store_fail_soon(r, STORE_ERROR, SAX_R_STORE_ERROR);
		return;
	}
	r->in_redis++;
}

static void store_redis_command(struct store_req *r, int argc, const char **argv,
				const size_t *lens)
{
	struct store_client *sc = r->sc;
	int n = redisFormatCommandArgv(&r->cmd, argc, argv, lens);

	if (n < 0) {
		r->cmd = NULL;
		store_fail_soon(r, STORE_ERROR, SAX_R_STORE_ERROR);
		return;
	}
	r->cmd_len = (size_t)n;
	r->waits = sc->cfg.wait_replicas > 0 && r->op != STORE_OP_GET;
	if (store_sentinel_mode(sc) && !sc->primary_known) {
		store_sentinel_kick(sc); /* held: sent once a Sentinel names the primary */
		return;
	}
	store_redis_send(r);
}

/* prefix + mn_id into key; its length. */
static size_t store_redis_key(const struct store_client *sc, const struct store_req *r, char *key,
			      size_t cap)
{
	int n = snprintf(key, cap, "%s%s", sc->cfg.key_prefix, r->mn_id);

	return n < 0 ? 0 : (size_t)n;
}

static int store_redis_resolve(struct store_client *sc)
{
	struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	int e;

	if (store_sentinel_mode(sc)) {
		store_sentinel_kick(sc); /* the primary known before the first request, mostly */
		return 0;
	}
	/* Once, at start: hiredis would otherwise resolve (blocking) on every connect. */
	e = getaddrinfo(sc->cfg.redis_host, NULL, &hints, &res);
	if (e != 0 || res == NULL) {
		log_err("redis host %s: %s", sc->cfg.redis_host, gai_strerror(e));
		return -1;
	}
	inet_ntop(AF_INET, &((struct sockaddr_in *)res->ai_addr)->sin_addr, sc->redis_ip,
		  sizeof(sc->redis_ip));
	freeaddrinfo(res);
	sc->redis_port = sc->cfg.redis_port;
	sc->primary_known = true;
	return 0;
}

/* ---- the API ---- */

struct store_client *store_client_new(struct ev_loop *loop, const struct store_config *cfg)
{
	struct store_client *sc = calloc(1, sizeof(*sc));

	if (sc == NULL)
		return NULL;
	sc->loop = loop;
	sc->cfg = *cfg;
	sc->fd = -1;
	sc->pri.sc = sc;
	sc->sen.sc = sc;
	sc->pri.fd = sc->sen.fd = -1;
	ev_timer_init(&sc->sen_timer, store_sentinel_on_timer, sc);
	if (sc->cfg.max_pending == 0)
		sc->cfg.max_pending = STORE_MAX_PENDING;
	if (sc->cfg.window_ms == 0)
		sc->cfg.window_ms = STORE_DEFAULT_WINDOW_MS;
	if (sc->cfg.dbs_port == 0)
		sc->cfg.dbs_port = SAX_PORT;
	if (sc->cfg.redis_port == 0)
		sc->cfg.redis_port = STORE_REDIS_PORT;
	if (sc->cfg.wait_ms == 0)
		sc->cfg.wait_ms = STORE_WAIT_MS;
	if (sc->cfg.n_sentinels > STORE_SENTINELS_MAX ||
	    (sc->cfg.n_sentinels > 0 && sc->cfg.master_name[0] == '\0')) {
		log_err("redis: 1 to %d Sentinels and a master name", STORE_SENTINELS_MAX);
		store_client_free(sc);
		return NULL;
	}
	int r = cfg->backend == STORE_DBS     ? store_dbs_open(sc)
		: cfg->backend == STORE_REDIS ? store_redis_resolve(sc)
					      : -1;
	if (r < 0) {
		store_client_free(sc);
		return NULL;
	}
	return sc;
}

void store_client_on_connect(struct store_client *sc, void (*cb)(void *arg), void *arg)
{
	sc->on_connect = cb;
	sc->on_connect_arg = arg;
}

void store_client_free(struct store_client *sc)
{
	if (sc == NULL)
		return;
	sc->closing = true;
	store_sentinel_close(sc, true);
	if (sc->cfg.backend == STORE_REDIS) {
		if (sc->pri.ac != NULL)
			redisAsyncFree(sc->pri.ac); /* frees the requests it holds */
	}
	while (sc->head != NULL) {
		struct store_req *r = sc->head;
		store_unlink(sc, r);
		store_req_free(r);
	}
	if (sc->fd >= 0) {
		ev_io_del(sc->loop, sc->fd);
		close(sc->fd);
	}
	sax_replay_free(sc->replay);
	sax_ring_wipe(&sc->keys);
	store_config_wipe(&sc->cfg);
	free(sc);
}

int store_put(struct store_client *sc, const char *mn_id, uint64_t expires_ms, const uint8_t *msg,
	      size_t len, uint32_t timeout_ms, store_cb cb, void *arg)
{
	struct store_req *r;
	uint64_t now = ev_loop_wall_ms(sc->loop);

	if (msg == NULL || len == 0 || len > SAX_MSG_MAX)
		return -1;
	r = store_req_new(sc, STORE_OP_PUT, mn_id, timeout_ms, cb, arg);
	if (r == NULL)
		return -1;
	if (expires_ms <= now) {
		store_fail_soon(r, STORE_REFUSED, SAX_R_EXPIRED);
		return 0;
	}
	if (sc->cfg.backend == STORE_DBS) {
		store_dbs_send(r, msg, len);
		return 0;
	}
	char key[STORE_PREFIX_MAX + SAX_ID_MAX + 1], px[24];
	const char *argv[] = {"SET", key, (const char *)msg, "PX", px};
	size_t lens[] = {3, store_redis_key(sc, r, key, sizeof(key)), len, 2, 0};
	lens[4] = (size_t)snprintf(px, sizeof(px), "%" PRIu64, expires_ms - now);
	store_redis_command(r, 5, argv, lens);
	return 0;
}

static int store_simple(struct store_client *sc, enum store_op op, const char *mn_id,
			uint32_t timeout_ms, store_cb cb, void *arg)
{
	struct store_req *r = store_req_new(sc, op, mn_id, timeout_ms, cb, arg);

	if (r == NULL)
		return -1;
	if (sc->cfg.backend == STORE_DBS) {
		store_dbs_request(r, op == STORE_OP_GET ? SAX_STORE_GET : SAX_STORE_DEL);
		if (r->linked && !r->failed_early && timeout_ms >= 2)
			ev_timer_start(sc->loop, &r->resend, timeout_ms / 2);
		return 0;
	}
	char key[STORE_PREFIX_MAX + SAX_ID_MAX + 1];
	const char *argv[] = {op == STORE_OP_GET ? "GET" : "DEL", key};
	size_t lens[] = {3, store_redis_key(sc, r, key, sizeof(key))};
	store_redis_command(r, 2, argv, lens);
	return 0;
}

int store_get(struct store_client *sc, const char *mn_id, uint32_t timeout_ms, store_cb cb,
	      void *arg)
{
	return store_simple(sc, STORE_OP_GET, mn_id, timeout_ms, cb, arg);
}

int store_del(struct store_client *sc, const char *mn_id, uint32_t timeout_ms, store_cb cb,
	      void *arg)
{
	return store_simple(sc, STORE_OP_DEL, mn_id, timeout_ms, cb, arg);
}

int store_client_rotate(struct store_client *sc, const uint8_t k_db[SAX_KEY_LEN], uint64_t now_ms,
			uint32_t overlap_ms)
{
	struct sax_keys k = {.have_k_sa = false};
	int r;

	memcpy(sc->cfg.k_db, k_db, SAX_KEY_LEN);
	if (sc->cfg.backend != STORE_DBS)
		return 0; /* Redis keeps bytes: the FA's domain keys authenticate them */
	memcpy(k.k_db, k_db, SAX_KEY_LEN);
	r = sax_ring_rotate(&sc->keys, &k, now_ms, overlap_ms);
	sax_keys_wipe(&k);
	sc->ctr.key_rotations = sc->keys.rotations;
	if (r > 0)
		log_notice("store K_DB rotated: sent under the old one for %u ms more", overlap_ms);
	return r;
}

const struct store_counters *store_client_counters(const struct store_client *sc)
{
	return &sc->ctr;
}

size_t store_client_pending(const struct store_client *sc)
{
	return sc->n_pending;
}
