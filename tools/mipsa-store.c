/*
 * mipsa-store: put, get or delete a node's SA record in the domain's store
 * (mipsa-dbs or Redis) from the command line, through the same client the
 * FAs use (common/store.c); or ask a foreign agent for a node's SAs the way
 * a new FA of the domain does.  For operators and the testbed.
 *
 *   mipsa-store [options] put MN_ID [HOME_ADDRESS]
 *   mipsa-store [options] get MN_ID
 *   mipsa-store [options] del MN_ID
 *   mipsa-store [options] request MN_ID
 *   mipsa-store [options] load put|get PREFIX COUNT [INTERVAL_MS]
 *
 * put stores a synthetic record (random cookies and keys, no children)
 * sealed under K_SA, so it needs both keys.  get prints who sent the
 * message, its Expires and the size of the sealed part; with K_SA it also
 * opens it and prints the home address, the previous CoA and the number
 * of IPsec SA pairs.  Key material is never printed.  Exit status: 0 ok,
 * 1 not found, 2 refused, 3 timeout or error, 64 usage.
 *
 * request sends a SAX_REQUEST (Sender -l) to the FA at -a: with -K as an
 * FA of the domain does (sax_fa_keys: a key derived from K_SA), else
 * under K_DB -k alone, as the store could, which FAs refuse.  A REQUEST
 * carries the node's Registration Request sealed under K_SA: -r gives its
 * bytes in hex, else a default one goes (tool_default_registration: well
 * formed, with an SA reuse extension whose proof of possession is zero,
 * which no FA accepts), so the tool can play a requester in hostile tests.
 * Without K_SA it cannot seal: the Sealed field is then random bytes of
 * the length the registration would have sealed to.  It prints
 * the answer: a RECORD (shown as get shows one), REFUSED with
 * its reason, or nothing within the timeout.  An FA answers the Sender's
 * UDP port 4434, so that is where we listen; when a daemon already holds
 * that port here (mipsa-fa or mipsa-dbs in the same namespace), a raw
 * socket watches for the answer instead (CAP_NET_RAW), and the daemon gets
 * its own copy.  -R sends the very same bytes a second time once the first
 * copy is answered or timed out: a replay, which a receiver must drop.
 * Exit status: 0 record, 2 refused, 3 timeout or error (with -R, those of
 * the second copy), 64 (EX_USAGE) usage.
 *
 * load puts (or gets) the records PREFIX0 .. PREFIX<COUNT-1> one after the
 * other through one client that lives as long as the run, as an FA's does
 * (so a Redis failover or a mipsa-dbs restart in the middle is met the
 * way an FA meets it), INTERVAL_MS (default 0) after each answer, and
 * prints one line per request: index, status, wall clock (ms) of the
 * answer, latency (us).  What was acknowledged is what a later `load get`
 * must find.  Exit status 0 once all were made, whatever their answers.
 */
#include "buf.h"
#include "evloop.h"
#include "ike.h"
#include "ip4.h"
#include "isakmp.h"
#include "log.h"
#include "mip_auth.h"
#include "mip_ident.h"
#include "mip_msg.h"
#include "sax.h"
#include "store.h"
#include "tool_files.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sysexits.h>
#include <unistd.h>

struct tool {
	struct store_config cfg;
	struct sax_keys keys;
	bool have_k_db;
	bool json;
	bool replay; /* request: send the same bytes twice */
	/* load */
	struct store_client *sc;
	const char *prefix;
	unsigned count, next, interval_ms;
	bool load_put;
	struct ev_timer load_timer;
	uint8_t reg[SAX_REG_MAX]; /* request: the node's registration (-r), else the default */
	size_t reg_len;
	uint32_t lifetime_s;
	uint32_t timeout_ms;
	struct ev_loop *loop;
	int exit_status;
};

static void usage(int status)
{
	fprintf(status ? stderr : stdout,
		"usage: mipsa-store [options] put MN_ID [HOME_ADDRESS] | get MN_ID | del MN_ID\n"
		"       mipsa-store [options] request MN_ID\n"
		"       mipsa-store [options] load put|get PREFIX COUNT [INTERVAL_MS]\n"
		"  -b dbs|redis    back-end (default dbs)\n"
		"  -a ADDRESS      the store (dbs) or the Redis host; request: the FA's care-of "
		"address\n"
		"  -p PORT         its port (default 4434 for dbs and FAs, 6379 for Redis)\n"
		"  -l ADDRESS      our own address, the Sender of our messages (dbs, request: "
		"required)\n"
		"  -k FILE         K_DB (64 hex digits or 32 raw bytes)\n"
		"  -K FILE         K_SA: put seals with it, get and request open with it\n"
		"  -R              request: send the same request bytes twice (a replay)\n"
		"  -r, --registration HEX\n"
		"                  request: the node's Registration Request through its\n"
		"                  SA reuse extension, 1..1024 bytes in hex (default:\n"
		"                  home address 0.0.0.0, CoA -l, a fresh Identification,\n"
		"                  NAI MN_ID, MN-HA SPI 256, SA reuse naming -a as the\n"
		"                  previous FA, zero authenticators)\n"
		"  -u USER         Redis ACL user\n"
		"  -P FILE         Redis password file\n"
		"  -x PREFIX       Redis key prefix (default mipsa:sa:)\n"
		"  -S A:P[,A:P..]  Redis: ask these Sentinels for the primary (instead of -a)\n"
		"  -M NAME         Redis: the master's name at the Sentinels (default mipsa)\n"
		"  -W N            Redis: a write is kept once N replicas have it (WAIT; default\n"
		"                  0, 1 with -S)\n"
		"  -w MS           Redis: WAIT's timeout (default 100)\n"
		"  -L SECONDS      put: lifetime of the record (default 60)\n"
		"  -t MS           timeout (default 1000)\n"
		"  -j              JSON output\n"
		"  -d              debug logging\n");
	exit(status);
}

static void tool_addr(const char *s, struct in_addr *a)
{
	if (inet_pton(AF_INET, s, a) != 1) {
		fprintf(stderr, "mipsa-store: '%s' is not an IPv4 address\n", s);
		exit(EX_USAGE);
	}
}

/* -r: 1..SAX_REG_MAX bytes in hex digits. */
static void tool_hex(const char *s, uint8_t *out, size_t cap, size_t *len)
{
	size_t n = strlen(s);

	*len = 0;
	if (n == 0 || n % 2 != 0 || n / 2 > cap || strspn(s, "0123456789abcdefABCDEF") != n) {
		fprintf(stderr, "mipsa-store: the registration must be 1 to %zu bytes in hex\n",
			cap);
		exit(EX_USAGE);
	}
	for (size_t i = 0; i < n / 2; i++) {
		char byte[3] = {s[2 * i], s[2 * i + 1], '\0'};

		out[i] = (uint8_t)strtoul(byte, NULL, 16);
	}
	*len = n / 2;
}

/* -S: comma-separated ADDRESS:PORT, as the sentinels setting holds them. */
static void tool_sentinels(struct tool *t, const char *list)
{
	char copy[1024], why[160], *save = NULL;

	snprintf(copy, sizeof(copy), "%s", list);
	for (char *s = strtok_r(copy, ",", &save); s != NULL; s = strtok_r(NULL, ",", &save)) {
		struct store_sentinel *sn = &t->cfg.sentinels[t->cfg.n_sentinels];
		if (t->cfg.n_sentinels == STORE_SENTINELS_MAX ||
		    store_parse_hostport(s, STORE_SENTINEL_PORT, &sn->addr, &sn->port, why,
					 sizeof(why)) < 0) {
			fprintf(stderr, "mipsa-store: -S: %s\n",
				t->cfg.n_sentinels == STORE_SENTINELS_MAX ? "too many Sentinels"
									  : why);
			exit(EX_USAGE);
		}
		t->cfg.n_sentinels++;
	}
}

static void tool_args(struct tool *t, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"registration", required_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int ch;

	bool wait_set = false;

	while ((ch = getopt_long(argc, argv, "+b:a:p:l:k:K:u:P:x:S:M:W:w:L:t:Rr:jdh", longopts,
				 NULL)) != -1) {
		switch (ch) {
		case 'b':
			t->cfg.backend = strcmp(optarg, "redis") == 0 ? STORE_REDIS
					 : strcmp(optarg, "dbs") == 0 ? STORE_DBS
								      : 0;
			if (t->cfg.backend == 0)
				usage(EX_USAGE);
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
			tool_read_key("mipsa-store", optarg, t->keys.k_db);
			memcpy(t->cfg.k_db, t->keys.k_db, SAX_KEY_LEN);
			t->have_k_db = true;
			break;
		case 'K':
			tool_read_key("mipsa-store", optarg, t->keys.k_sa);
			t->keys.have_k_sa = true;
			break;
		case 'u':
			snprintf(t->cfg.redis_user, sizeof(t->cfg.redis_user), "%s", optarg);
			break;
		case 'P':
			tool_read_password("mipsa-store", optarg, t->cfg.redis_pass,
					   sizeof(t->cfg.redis_pass));
			break;
		case 'x':
			snprintf(t->cfg.key_prefix, sizeof(t->cfg.key_prefix), "%s", optarg);
			break;
		case 'S':
			tool_sentinels(t, optarg);
			break;
		case 'M':
			snprintf(t->cfg.master_name, sizeof(t->cfg.master_name), "%s", optarg);
			break;
		case 'W':
			t->cfg.wait_replicas = (uint32_t)strtoul(optarg, NULL, 10);
			wait_set = true;
			break;
		case 'w':
			t->cfg.wait_ms = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'L':
			t->lifetime_s = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 't':
			t->timeout_ms = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'R':
			t->replay = true;
			break;
		case 'r':
			tool_hex(optarg, t->reg, sizeof(t->reg), &t->reg_len);
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
			usage(EX_USAGE);
		}
	}
	if (t->cfg.backend == STORE_DBS)
		tool_addr(t->cfg.redis_host[0] ? t->cfg.redis_host : "0.0.0.0", &t->cfg.dbs_addr);
	if (t->cfg.n_sentinels > 0 && !wait_set)
		t->cfg.wait_replicas = 1; /* as store_conf_load does */
	if ((t->cfg.redis_host[0] == '\0' && t->cfg.n_sentinels == 0) ||
	    (t->cfg.backend == STORE_DBS && (!t->have_k_db || t->cfg.n_sentinels > 0)))
		usage(EX_USAGE);
}

/* A record for the test: plausible values, random cookies and keys, no children. */
static void tool_record(struct tool *t, struct sax_record *r, struct in_addr home,
			uint64_t expires_ms)
{
	memset(r, 0, sizeof(*r));
	RAND_bytes(r->isakmp.icookie, sizeof(r->isakmp.icookie));
	RAND_bytes(r->isakmp.rcookie, sizeof(r->isakmp.rcookie));
	r->isakmp.hash = IKE_HASH_SHA1;
	r->isakmp.key_bits = 128;
	r->isakmp.group = IKE_GROUP_MODP2048;
	r->isakmp.auth = IKE_AUTH_PSK;
	r->isakmp.hash_len = ike_hash_len(IKE_HASH_SHA1);
	r->isakmp.enc_key_len = 128 / 8;
	RAND_bytes(r->isakmp.skeyid_d, sizeof(r->isakmp.skeyid_d));
	RAND_bytes(r->isakmp.skeyid_a, sizeof(r->isakmp.skeyid_a));
	RAND_bytes(r->isakmp.enc_key, sizeof(r->isakmp.enc_key));
	r->isakmp.expires_ms = expires_ms;
	r->isakmp.peer = home;
	r->isakmp.local = t->cfg.local;
	r->isakmp.peer_port = r->isakmp.local_port = ISAKMP_PORT;
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

/*
 * A RECORD: who sent it (K_DB) and until when; with K_SA, what it holds:
 * home address, previous CoA, IPsec SA pairs.  Never key material.
 */
static void tool_print_msg(struct tool *t, const uint8_t *msg, size_t len)
{
	struct sax_keys auth = {.have_k_sa = false};
	struct sax_msg m;
	uint64_t now = store_wall_ms();
	enum sax_err e = SAX_E_MAC;

	memcpy(auth.k_db, t->keys.k_db, SAX_KEY_LEN);
	if (t->have_k_db)
		e = sax_parse(msg, len, &auth, now, 0, NULL, &m);
	sax_keys_wipe(&auth);
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
	if (!t->keys.have_k_sa)
		return;
	/* Authentic, but sealed under another K_SA or malformed inside: say so apart. */
	e = sax_parse(msg, len, &t->keys, now, 0, NULL, &m);
	if (e != SAX_E_OK) {
		printf(t->json ? ",\"opened\":false,\"error\":\"%s\"" : ", not opened (%s)",
		       sax_err_name(e));
		return;
	}
	printf(t->json ? ",\"opened\":true,\"home_address\":\"%s\",\"prev_coa\":\"%s\","
			 "\"children\":%zu"
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
		tool_print_msg(t, r->msg, r->len);
	printf(t->json ? "}\n" : "\n");
	t->exit_status = r->status == STORE_OK          ? 0
			 : r->status == STORE_NOT_FOUND ? 1
			 : r->status == STORE_REFUSED   ? 2
							: 3;
	ev_loop_stop(t->loop);
}

/* ---- request: ask an FA for a node's SAs, as a new FA of the domain would ---- */

struct tool_req {
	struct tool *t;
	const char *mn_id;
	struct in_addr fa;
	uint16_t port;
	int fd;     /* sends; bound to our SAX_PORT, where the FA answers, unless that is taken */
	int raw_fd; /* that port taken (a daemon runs here): a copy of every UDP datagram for us */
	struct sax_keys auth; /* K_DB only: an answer is authenticated before anything else */
	struct sax_replay *replay;
	struct ev_timer timer;
	unsigned copy;    /* 1, then 2 with -R */
	unsigned ignored; /* datagrams from the FA that were not the answer */
	uint64_t sent_us;
	bool answered;
	int status;
};

static void tool_req_head(struct tool_req *q, const char *status, const char *reason)
{
	struct tool *t = q->t;
	uint64_t us = ev_now_us() - q->sent_us;

	if (t->json) {
		printf("{\"op\":\"request\",\"copy\":%u,\"fa\":\"%s\",\"mn_id\":", q->copy,
		       IP4_STR(q->fa));
		tool_json_str(q->mn_id);
		printf(",\"status\":\"%s\",\"reason\":\"%s\",\"elapsed_us\":%" PRIu64
		       ",\"ignored\":%u",
		       status, reason, us, q->ignored);
	} else {
		printf("%s %s from %s: %s (%s, %.1f ms", q->copy > 1 ? "replay" : "request",
		       q->mn_id, IP4_STR(q->fa), status,
		       strcmp(status, "timeout") == 0 ? "no answer" : reason, us / 1000.0);
		if (q->ignored > 0)
			printf(", %u other datagrams from the FA ignored", q->ignored);
		printf(")");
	}
}

static void tool_req_end(struct tool_req *q, int status)
{
	printf(q->t->json ? "}\n" : "\n");
	fflush(stdout);
	q->status = status;
	ev_timer_stop(q->t->loop, &q->timer);
	ev_loop_stop(q->t->loop);
}

static void tool_req_timeout(struct ev_loop *loop, struct ev_timer *timer, void *arg)
{
	struct tool_req *q = arg;

	tool_req_head(q, "timeout", "none");
	tool_req_end(q, 3);
}

/* A datagram for our SAX_PORT from src: the answer, or something to ignore. */
static void tool_req_datagram(struct tool_req *q, struct in_addr src, const uint8_t *msg,
			      size_t len)
{
	struct sax_msg m;
	enum sax_err e;

	if (src.s_addr != q->fa.s_addr) {
		log_debug("%zu bytes from %s: not from the FA", len, IP4_STR(src));
		return;
	}
	if (q->answered) {
		q->ignored++;
		return;
	}
	e = sax_parse(msg, len, &q->auth, store_wall_ms(), STORE_DEFAULT_WINDOW_MS, q->replay, &m);
	/* The FA answers as itself, about the node we asked for, with one of two types. */
	if (e == SAX_E_OK &&
	    (m.sender.s_addr != src.s_addr || (m.type != SAX_RECORD && m.type != SAX_REFUSED) ||
	     m.mn_id_len != strlen(q->mn_id) || memcmp(m.mn_id, q->mn_id, m.mn_id_len) != 0))
		e = SAX_E_ATTR;
	if (e != SAX_E_OK) {
		q->ignored++;
		log_debug("%zu bytes from %s ignored: %s", len, IP4_STR(src), sax_err_name(e));
		return;
	}
	q->answered = true;
	if (m.type == SAX_REFUSED) {
		tool_req_head(q, "refused", store_reason_name((enum sax_reason)m.flags));
		tool_req_end(q, 2);
		return;
	}
	tool_req_head(q, "ok", "ok");
	tool_print_msg(q->t, msg, len);
	tool_req_end(q, 0);
	sax_record_wipe(&m.rec);
}

static void tool_req_read(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct tool_req *q = arg;
	uint8_t msg[SAX_MSG_MAX];
	struct sockaddr_in from;
	socklen_t flen = sizeof(from);
	ssize_t n;

	while ((n = recvfrom(fd, msg, sizeof(msg), 0, (struct sockaddr *)&from, &flen)) >= 0) {
		tool_req_datagram(q, from.sin_addr, msg, (size_t)n);
		flen = sizeof(from);
	}
	OPENSSL_cleanse(msg, sizeof(msg));
}

/* The raw socket sees every UDP datagram delivered here: ours are those for our SAX_PORT. */
static void tool_req_read_raw(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct tool_req *q = arg;
	uint8_t pkt[IP4_HDR_LEN + 40 + UDP_HDR_LEN + SAX_MSG_MAX];
	struct ip4_hdr h;
	struct buf udp;
	uint16_t sport, dport;
	ssize_t n;

	while ((n = recv(fd, pkt, sizeof(pkt), 0)) >= 0) {
		/* Crossing a veth, the UDP checksum may still be partial: sax has its own HMAC. */
		if (ip4_udp_parse_captured(pkt, (size_t)n, &h, &sport, &dport, &udp) != IP4_OK ||
		    h.dst.s_addr != q->t->cfg.local.s_addr || dport != SAX_PORT)
			continue;
		tool_req_datagram(q, h.src, buf_rptr(&udp), buf_left(&udp));
	}
	OPENSSL_cleanse(pkt, sizeof(pkt));
}

static int tool_req_open(struct tool_req *q)
{
	struct tool *t = q->t;
	struct sockaddr_in sin = {
		.sin_family = AF_INET, .sin_port = htons(SAX_PORT), .sin_addr = t->cfg.local};

	q->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (q->fd < 0) {
		fprintf(stderr, "mipsa-store: socket: %s\n", strerror(errno));
		return -1;
	}
	/* No SO_REUSEADDR: sharing a daemon's port would take its datagrams away from it. */
	if (bind(q->fd, (struct sockaddr *)&sin, sizeof(sin)) == 0)
		return ev_io_add(t->loop, q->fd, EPOLLIN, tool_req_read, q);
	if (errno != EADDRINUSE) {
		fprintf(stderr, "mipsa-store: UDP %s:%u: %s\n", IP4_STR(t->cfg.local), SAX_PORT,
			strerror(errno));
		return -1;
	}
	sin.sin_port = 0;
	q->raw_fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
	if (bind(q->fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || q->raw_fd < 0) {
		fprintf(stderr,
			"mipsa-store: %s:%u is taken and the answer cannot be watched for: %s\n",
			IP4_STR(t->cfg.local), SAX_PORT, strerror(errno));
		return -1;
	}
	log_debug("%s:%u is taken: watching for the answer with a raw socket",
		  IP4_STR(t->cfg.local), SAX_PORT);
	return ev_io_add(t->loop, q->raw_fd, EPOLLIN, tool_req_read_raw, q);
}

/*
 * The registration a REQUEST carries when -r gives none: the smallest a
 * node with SA reuse sends (RFC 5944 3.3, RFC 2794, RFC 3115).  Home
 * address and home agent 0.0.0.0 (the NAI names the node), our address as
 * the care-of address, a fresh Identification (so a stale one is not what
 * gets it refused), the NAI, MN-HA (SPI 256), and the SA reuse extension
 * naming the FA we ask as the previous FA, with zero cookies and counters.
 * Both authenticators are zero: we hold neither the node's MN-HA key nor
 * its SKEYID_a, so no FA accepts the proof.  Its length, or 0.
 */
static size_t tool_default_registration(const struct tool_req *q, uint8_t *out, size_t cap)
{
	struct mip_reg_request rq = {
		.lifetime = 300, .coa = q->t->cfg.local, .id = mip_ident_now()};
	struct mip_reuse_req reuse = {.prev_coa = q->fa};
	uint8_t *auth;
	size_t covered;
	struct buf b;

	buf_init_write(&b, out, cap);
	if (mip_request_put(&b, &rq) < 0 || mip_ext_put_nai(&b, q->mn_id, strlen(q->mn_id)) < 0 ||
	    buf_put_u8(&b, MIP_EXT_MN_HA_AUTH) != BUF_OK ||
	    buf_put_u8(&b, 4 + MIP_AUTH_LEN) != BUF_OK || buf_put_u32(&b, MIP_SPI_MIN) != BUF_OK ||
	    buf_put_zero(&b, MIP_AUTH_LEN) != BUF_OK ||
	    mip_ext_put_reuse(&b, &reuse, 32, &auth, &covered) < 0)
		return 0;
	memset(auth, 0, 32);
	return buf_used(&b);
}

/*
 * The SAX_REQUEST a new FA would send; its length, or 0.  With K_SA the
 * registration is sealed as an FA seals it; without, the Sealed field is
 * random bytes of the same length, authenticated under K_DB alone.
 */
static size_t tool_build_request(struct tool_req *q, uint8_t *out, size_t cap)
{
	static uint8_t junk[SAX_GCM_IV_LEN + 4 + SAX_REG_MAX + SAX_GCM_TAG_LEN];
	struct tool *t = q->t;
	struct sax_msg m;
	struct buf b;

	memset(&m, 0, sizeof(m));
	m.version = SAX_VERSION;
	m.type = SAX_REQUEST;
	sax_stamp(&m);
	m.sender = t->cfg.local;
	m.mn_id_len = strlen(q->mn_id);
	memcpy(m.mn_id, q->mn_id, m.mn_id_len);
	if (t->reg_len > 0) {
		memcpy(m.req.reg, t->reg, t->reg_len);
		m.req.reg_len = (uint16_t)t->reg_len;
	} else {
		m.req.reg_len =
			(uint16_t)tool_default_registration(q, m.req.reg, sizeof(m.req.reg));
	}
	m.sealed_len = SAX_GCM_IV_LEN + 4 + m.req.reg_len + SAX_GCM_TAG_LEN;
	if (!t->keys.have_k_sa) {
		RAND_bytes(junk, (int)m.sealed_len);
		m.sealed = junk;
	}
	buf_init_write(&b, out, cap);
	enum sax_err e = sax_build(&b, &m, t->keys.have_k_sa ? &t->keys : &q->auth);
	OPENSSL_cleanse(&m.req, sizeof(m.req));
	if (e != SAX_E_OK) {
		fprintf(stderr, "mipsa-store: cannot build the request: %s\n", sax_err_name(e));
		return 0;
	}
	return buf_used(&b);
}

/* Send one copy and wait for its answer or the timeout; the exit status it earns. */
static int tool_req_send(struct tool_req *q, unsigned copy, const uint8_t *msg, size_t len)
{
	struct sockaddr_in to = {
		.sin_family = AF_INET, .sin_port = htons(q->port), .sin_addr = q->fa};

	if (copy > 1) {
		/* Whatever is still queued answers an earlier copy, not this one. */
		q->answered = true;
		if (q->raw_fd >= 0)
			tool_req_read_raw(q->t->loop, q->raw_fd, EPOLLIN, q);
		else
			tool_req_read(q->t->loop, q->fd, EPOLLIN, q);
	}
	q->copy = copy;
	q->ignored = 0;
	q->answered = false;
	q->status = 3;
	q->sent_us = ev_now_us();
	if (sendto(q->fd, msg, len, 0, (struct sockaddr *)&to, sizeof(to)) != (ssize_t)len) {
		fprintf(stderr, "mipsa-store: send to %s:%u: %s\n", IP4_STR(q->fa), q->port,
			strerror(errno));
		return 3;
	}
	ev_timer_init(&q->timer, tool_req_timeout, q);
	if (ev_timer_start(q->t->loop, &q->timer, q->t->timeout_ms) < 0 ||
	    ev_loop_run(q->t->loop) < 0)
		return 3;
	return q->status;
}

static int tool_request(struct tool *t, int argc, char **argv)
{
	struct tool_req q = {.t = t, .mn_id = argv[1], .fd = -1, .raw_fd = -1};
	uint8_t msg[SAX_MSG_MAX];
	size_t len;
	int status = 3;

	if (argc != 2 || t->cfg.backend != STORE_DBS || t->cfg.local.s_addr == INADDR_ANY)
		usage(EX_USAGE);
	q.fa = t->cfg.dbs_addr;
	q.port = t->cfg.dbs_port != 0 ? t->cfg.dbs_port : SAX_PORT;
	/*
	 * With K_SA we ask as an FA of the domain does (sax_fa_keys); with K_DB
	 * alone, as the store or anyone else holding it could, which FAs refuse.
	 */
	if (t->keys.have_k_sa && sax_fa_keys(t->keys.k_sa, &t->keys) < 0)
		return 3;
	memcpy(q.auth.k_db, t->keys.k_db, SAX_KEY_LEN);
	q.replay = sax_replay_new(64, STORE_DEFAULT_WINDOW_MS);
	len = strlen(q.mn_id) <= SAX_ID_MAX ? tool_build_request(&q, msg, sizeof(msg)) : 0;
	if (q.replay != NULL && len > 0 && tool_req_open(&q) == 0) {
		status = tool_req_send(&q, 1, msg, len);
		if (t->replay)
			status = tool_req_send(&q, 2, msg, len);
	}
	if (q.fd >= 0)
		close(q.fd);
	if (q.raw_fd >= 0)
		close(q.raw_fd);
	sax_replay_free(q.replay);
	sax_keys_wipe(&q.auth);
	return status;
}

/* ---- load: records one after the other through one long-lived client ---- */

/* A record read back is the one put: authentic under K_DB, for the node asked. */
static bool tool_load_check(struct tool *t, const struct store_result *r)
{
	struct sax_msg m;
	bool ok;

	if (r->op != STORE_OP_GET || r->status != STORE_OK)
		return true;
	ok = sax_parse(r->msg, r->len, &t->keys, store_wall_ms(), 0, NULL, &m) == SAX_E_OK &&
	     m.mn_id_len == strlen(r->mn_id) && memcmp(m.mn_id, r->mn_id, m.mn_id_len) == 0;
	sax_record_wipe(&m.rec);
	return ok;
}

static void tool_load_done(void *arg, const struct store_result *r)
{
	struct tool *t = arg;

	printf("%u %s %" PRIu64 " %" PRIu64 "\n", t->next,
	       tool_load_check(t, r) ? store_status_name(r->status) : "bad_record", store_wall_ms(),
	       r->elapsed_us);
	fflush(stdout);
	if (++t->next == t->count)
		ev_loop_stop(t->loop);
	else
		ev_timer_start(t->loop, &t->load_timer, t->interval_ms);
}

static void tool_load_one(struct ev_loop *loop, struct ev_timer *timer, void *arg)
{
	struct tool *t = arg;
	char id[SAX_ID_MAX + 1];
	uint8_t msg[SAX_MSG_MAX];
	int r = -1;

	snprintf(id, sizeof(id), "%s%u", t->prefix, t->next);
	if (t->load_put) {
		uint64_t expires = store_wall_ms() + (uint64_t)t->lifetime_s * 1000;
		struct in_addr home = {htonl(0xc612c800u | (t->next & 0xffu))}; /* 198.18.200.x */
		size_t len = tool_build_put(t, id, home, expires, msg, sizeof(msg));
		if (len > 0)
			r = store_put(t->sc, id, expires, msg, len, t->timeout_ms, tool_load_done,
				      t);
	} else {
		r = store_get(t->sc, id, t->timeout_ms, tool_load_done, t);
	}
	if (r == 0)
		return;
	struct store_result fail = {.op = t->load_put ? STORE_OP_PUT : STORE_OP_GET,
				    .status = STORE_ERROR,
				    .mn_id = id};
	tool_load_done(t, &fail);
}

static int tool_load(struct tool *t, struct store_client *sc, int argc, char **argv)
{
	char *end;

	if (argc < 4 || argc > 5 || (strcmp(argv[1], "put") != 0 && strcmp(argv[1], "get") != 0))
		usage(EX_USAGE);
	t->load_put = strcmp(argv[1], "put") == 0;
	t->prefix = argv[2];
	t->count = (unsigned)strtoul(argv[3], &end, 10);
	if (*end != '\0' || t->count == 0 || strlen(t->prefix) + 10 > SAX_ID_MAX)
		usage(EX_USAGE);
	t->interval_ms = argc == 5 ? (unsigned)strtoul(argv[4], NULL, 10) : 0;
	if (!t->have_k_db || (t->load_put && !t->keys.have_k_sa)) {
		fprintf(stderr, "mipsa-store: load needs -k (and -K to put)\n");
		return -1;
	}
	t->sc = sc;
	ev_timer_init(&t->load_timer, tool_load_one, t);
	return ev_timer_start(t->loop, &t->load_timer, 0);
}

static int tool_run(struct tool *t, struct store_client *sc, int argc, char **argv)
{
	const char *op = argv[0], *id = argv[1];

	if (strcmp(op, "load") == 0)
		return tool_load(t, sc, argc, argv);

	if (strcmp(op, "get") == 0 && argc == 2)
		return store_get(sc, id, t->timeout_ms, tool_done, t);
	if (strcmp(op, "del") == 0 && argc == 2)
		return store_del(sc, id, t->timeout_ms, tool_done, t);
	if (strcmp(op, "put") != 0 || argc > 3)
		usage(EX_USAGE);
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
	snprintf(t.cfg.master_name, sizeof(t.cfg.master_name), "mipsa");
	tool_args(&t, argc, argv);
	if (argc - optind < 2)
		usage(EX_USAGE);
	bool request = strcmp(argv[optind], "request") == 0;
	if ((t.replay || t.reg_len > 0) && !request)
		usage(EX_USAGE);
	t.loop = ev_loop_new();
	if (t.loop != NULL && request) {
		t.exit_status = tool_request(&t, argc - optind, argv + optind);
		ev_loop_free(t.loop);
		sax_keys_wipe(&t.keys);
		store_config_wipe(&t.cfg);
		return t.exit_status;
	}
	sc = t.loop ? store_client_new(t.loop, &t.cfg) : NULL;
	if (sc == NULL) {
		fprintf(stderr, "mipsa-store: cannot set up the %s client\n",
			store_backend_name(t.cfg.backend));
		return 3;
	}
	if (tool_run(&t, sc, argc - optind, argv + optind) < 0) {
		fprintf(stderr, "mipsa-store: the request could not be made\n");
	} else {
		ev_loop_run(t.loop);
		if (t.count > 0 && t.next == t.count)
			t.exit_status =
				0; /* load: every request made (their answers are printed) */
	}
	store_client_free(sc);
	ev_loop_free(t.loop);
	sax_keys_wipe(&t.keys);
	store_config_wipe(&t.cfg);
	return t.exit_status;
}
