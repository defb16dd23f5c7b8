/*
 * mipsa-store: put, get or delete a node's SA record in the domain's store
 * (mipsa-dbs or Redis) from the command line, through the same client the
 * FAs use (common/store.c).  For operators and the testbed.
 *
 *   mipsa-store [options] put MN_ID [HOME_ADDRESS]
 *   mipsa-store [options] get MN_ID
 *   mipsa-store [options] del MN_ID
 *
 * put stores a synthetic record (random cookies and keys, no children)
 * sealed under K_SA, so it needs both keys.  get prints who sent the
 * message, its Expires and the size of the sealed part; with K_SA it also
 * opens it and prints the home address and the previous CoA.  Key material
 * is never printed.  Exit status: 0 ok, 1 not found, 2 refused, 3 timeout
 * or error, 64 usage.
 */
#include "buf.h"
#include "evloop.h"
#include "ip4.h"
#include "log.h"
#include "sax.h"
#include "store.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <inttypes.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tool {
	struct store_config cfg;
	struct sax_keys keys;
	bool have_k_db;
	bool json;
	uint32_t lifetime_s;
	uint32_t timeout_ms;
	struct ev_loop *loop;
	int exit_status;
};

static void usage(int status)
{
	fprintf(status ? stderr : stdout,
		"usage: mipsa-store [options] put MN_ID [HOME_ADDRESS] | get MN_ID | del MN_ID\n"
		"  -b dbs|redis    back-end (default dbs)\n"
		"  -a ADDRESS      the store (dbs) or the Redis host\n"
		"  -p PORT         its port (default 4434 for dbs, 6379 for Redis)\n"
		"  -l ADDRESS      our own address, the Sender of our messages (dbs: required)\n"
		"  -k FILE         K_DB (64 hex digits or 32 raw bytes)\n"
		"  -K FILE         K_SA: put seals with it, get opens with it\n"
		"  -u USER         Redis ACL user\n"
		"  -P FILE         Redis password file\n"
		"  -x PREFIX       Redis key prefix (default mipsa:sa:)\n"
		"  -L SECONDS      put: lifetime of the record (default 60)\n"
		"  -t MS           timeout (default 1000)\n"
		"  -j              JSON output\n"
		"  -d              debug logging\n");
	exit(status);
}

static void tool_key(const char *path, uint8_t key[SAX_KEY_LEN])
{
	char err[400];

	if (store_read_key_file(path, key, err, sizeof(err)) < 0) {
		fprintf(stderr, "mipsa-store: %s\n", err);
		exit(64);
	}
}

static void tool_password(const char *path, char *out, size_t cap)
{
	FILE *f = fopen(path, "re");

	if (f == NULL || fgets(out, (int)cap, f) == NULL) {
		fprintf(stderr, "mipsa-store: cannot read a password from %s\n", path);
		exit(64);
	}
	fclose(f);
	out[strcspn(out, "\r\n")] = '\0';
}

static void tool_addr(const char *s, struct in_addr *a)
{
	if (inet_pton(AF_INET, s, a) != 1) {
		fprintf(stderr, "mipsa-store: '%s' is not an IPv4 address\n", s);
		exit(64);
	}
}

static void tool_args(struct tool *t, int argc, char **argv)
{
	int ch;

	while ((ch = getopt(argc, argv, "+b:a:p:l:k:K:u:P:x:L:t:jdh")) != -1) {
		switch (ch) {
		case 'b':
			t->cfg.backend = strcmp(optarg, "redis") == 0 ? STORE_REDIS
					 : strcmp(optarg, "dbs") == 0 ? STORE_DBS
								      : 0;
			if (t->cfg.backend == 0)
				usage(64);
			break;
		case 'a':
			snprintf(t->cfg.redis_host, sizeof(t->cfg.redis_host), "%s", optarg);
			break;
		case 'p':
			t->cfg.dbs_port = t->cfg.redis_port = (uint16_t)atoi(optarg);
			break;
		case 'l':
			tool_addr(optarg, &t->cfg.local);
			break;
		case 'k':
			tool_key(optarg, t->keys.k_db);
			memcpy(t->cfg.k_db, t->keys.k_db, SAX_KEY_LEN);
			t->have_k_db = true;
			break;
		case 'K':
			tool_key(optarg, t->keys.k_sa);
			t->keys.have_k_sa = true;
			break;
		case 'u':
			snprintf(t->cfg.redis_user, sizeof(t->cfg.redis_user), "%s", optarg);
			break;
		case 'P':
			tool_password(optarg, t->cfg.redis_pass, sizeof(t->cfg.redis_pass));
			break;
		case 'x':
			snprintf(t->cfg.key_prefix, sizeof(t->cfg.key_prefix), "%s", optarg);
			break;
		case 'L':
			t->lifetime_s = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 't':
			t->timeout_ms = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'j':
			t->json = true;
			break;
		case 'd':
			log_set_level(LOG_LVL_DEBUG);
			break;
		case 'h':
			usage(0);
			break;
		default:
			usage(64);
		}
	}
	if (t->cfg.backend == STORE_DBS)
		tool_addr(t->cfg.redis_host[0] ? t->cfg.redis_host : "0.0.0.0", &t->cfg.dbs_addr);
	if (t->cfg.redis_host[0] == '\0' || (t->cfg.backend == STORE_DBS && !t->have_k_db))
		usage(64);
}

/* A record for the test: plausible values, random cookies and keys, no children. */
static void tool_record(struct tool *t, struct sax_record *r, struct in_addr home,
			uint64_t expires_ms)
{
	memset(r, 0, sizeof(*r));
	RAND_bytes(r->isakmp.icookie, sizeof(r->isakmp.icookie));
	RAND_bytes(r->isakmp.rcookie, sizeof(r->isakmp.rcookie));
	r->isakmp.hash = 2; /* SHA-1 */
	r->isakmp.key_bits = 128;
	r->isakmp.group = 14;
	r->isakmp.auth = 1; /* pre-shared key */
	r->isakmp.hash_len = 20;
	r->isakmp.enc_key_len = 16;
	RAND_bytes(r->isakmp.skeyid_d, sizeof(r->isakmp.skeyid_d));
	RAND_bytes(r->isakmp.skeyid_a, sizeof(r->isakmp.skeyid_a));
	RAND_bytes(r->isakmp.enc_key, sizeof(r->isakmp.enc_key));
	r->isakmp.expires_ms = expires_ms;
	r->isakmp.peer = home;
	r->isakmp.local = t->cfg.local;
	r->isakmp.peer_port = r->isakmp.local_port = 500;
	r->home_addr = home;
	r->prev_coa = t->cfg.local;
}

/* The SAX_STORE_PUT an FA would send; its length, or 0. */
static size_t tool_build_put(struct tool *t, const char *mn_id, struct in_addr home,
			     uint64_t expires_ms, uint8_t *out, size_t cap)
{
	struct sax_msg m;
	struct buf b;

	if (!t->have_k_db || !t->keys.have_k_sa) {
		fprintf(stderr, "mipsa-store: put needs K_DB (-k) and K_SA (-K)\n");
		return 0;
	}
	memset(&m, 0, sizeof(m));
	m.version = SAX_VERSION;
	m.type = SAX_STORE_PUT;
	sax_stamp(&m);
	m.sender = t->cfg.local;
	m.expires_ms = expires_ms;
	m.mn_id_len = strlen(mn_id);
	memcpy(m.mn_id, mn_id, m.mn_id_len);
	m.has_record = true;
	tool_record(t, &m.rec, home, expires_ms);
	buf_init_write(&b, out, cap);
	enum sax_err e = sax_build(&b, &m, &t->keys);
	sax_record_wipe(&m.rec);
	if (e != SAX_E_OK) {
		fprintf(stderr, "mipsa-store: cannot build the put: %s\n", sax_err_name(e));
		return 0;
	}
	return buf_used(&b);
}

static void tool_print_msg(struct tool *t, const struct store_result *r)
{
	struct sax_msg m;
	uint64_t now = store_wall_ms();
	enum sax_err e =
		t->have_k_db ? sax_parse(r->msg, r->len, &t->keys, now, 0, NULL, &m) : SAX_E_MAC;

	if (e != SAX_E_OK) {
		printf(t->json ? ",\"verified\":false,\"error\":\"%s\"" : ", not verified (%s)",
		       t->have_k_db ? sax_err_name(e) : "no K_DB");
		return;
	}
	uint64_t left = m.expires_ms > now ? (m.expires_ms - now) / 1000 : 0;
	if (t->json)
		printf(",\"verified\":true,\"sender\":\"%s\",\"expires_ms\":%" PRIu64
		       ",\"remaining\":%" PRIu64 ",\"sealed_bytes\":%zu",
		       IP4_STR(m.sender), m.expires_ms, left, m.sealed_len);
	else
		printf(", sender %s, expires in %" PRIu64 " s, sealed %zu bytes", IP4_STR(m.sender),
		       left, m.sealed_len);
	if (t->keys.have_k_sa)
		printf(t->json ? ",\"home_address\":\"%s\",\"prev_coa\":\"%s\",\"children\":%zu"
			       : ", home %s, prev_coa %s, children %zu",
		       IP4_STR(m.rec.home_addr), IP4_STR(m.rec.prev_coa), m.rec.n_children);
	sax_record_wipe(&m.rec);
}

/* A JSON string: quotes, backslashes and control characters escaped. */
static void tool_json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void tool_done(void *arg, const struct store_result *r)
{
	struct tool *t = arg;

	if (t->json) {
		printf("{\"op\":\"%s\",\"mn_id\":", store_op_name(r->op));
		tool_json_str(r->mn_id);
		printf(",\"status\":\"%s\",\"reason\":\"%s\",\"elapsed_us\":%" PRIu64,
		       store_status_name(r->status), store_reason_name(r->reason), r->elapsed_us);
	} else {
		printf("%s %s: %s (%s, %.1f ms)", store_op_name(r->op), r->mn_id,
		       store_status_name(r->status), store_reason_name(r->reason),
		       r->elapsed_us / 1000.0);
	}
	if (r->status == STORE_OK && r->msg != NULL)
		tool_print_msg(t, r);
	printf(t->json ? "}\n" : "\n");
	t->exit_status = r->status == STORE_OK          ? 0
			 : r->status == STORE_NOT_FOUND ? 1
			 : r->status == STORE_REFUSED   ? 2
							: 3;
	ev_loop_stop(t->loop);
}

static int tool_run(struct tool *t, struct store_client *sc, int argc, char **argv)
{
	const char *op = argv[0], *id = argv[1];

	if (strcmp(op, "get") == 0 && argc == 2)
		return store_get(sc, id, t->timeout_ms, tool_done, t);
	if (strcmp(op, "del") == 0 && argc == 2)
		return store_del(sc, id, t->timeout_ms, tool_done, t);
	if (strcmp(op, "put") != 0 || argc > 3)
		usage(64);
	struct in_addr home = {0};
	if (argc == 3)
		tool_addr(argv[2], &home);
	uint64_t expires = store_wall_ms() + (uint64_t)t->lifetime_s * 1000;
	uint8_t msg[SAX_MSG_MAX];
	size_t len = tool_build_put(t, id, home, expires, msg, sizeof(msg));
	return len == 0 ? -1 : store_put(sc, id, expires, msg, len, t->timeout_ms, tool_done, t);
}

int main(int argc, char **argv)
{
	struct tool t = {.lifetime_s = 60, .timeout_ms = 1000, .exit_status = 3};
	struct store_client *sc;

	log_init("mipsa-store", LOG_LVL_WARN, false);
	t.cfg.backend = STORE_DBS;
	snprintf(t.cfg.key_prefix, sizeof(t.cfg.key_prefix), "mipsa:sa:");
	tool_args(&t, argc, argv);
	if (argc - optind < 2)
		usage(64);
	t.loop = ev_loop_new();
	sc = t.loop ? store_client_new(t.loop, &t.cfg) : NULL;
	if (sc == NULL) {
		fprintf(stderr, "mipsa-store: cannot set up the %s client\n",
			store_backend_name(t.cfg.backend));
		return 3;
	}
	if (tool_run(&t, sc, argc - optind, argv + optind) < 0)
		fprintf(stderr, "mipsa-store: the request could not be made\n");
	else
		ev_loop_run(t.loop);
	store_client_free(sc);
	ev_loop_free(t.loop);
	sax_keys_wipe(&t.keys);
	store_config_wipe(&t.cfg);
	return t.exit_status;
}
