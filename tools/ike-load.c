/*
 * ike-load: an IKEv1 responder under load.  N identities (mobile nodes,
 * each its own home address as its source address, its own ISAKMP ID and
 * pre-shared key, tools/ike_load.h) each bring up an ISAKMP SA (Main Mode,
 * PSK) and an IPsec SA pair (Quick Mode) with the responder, at most C
 * negotiations at a time.  Every identity is a mipsa IKE engine of its own,
 * as every mobile node is: the engine does the protocol, retransmissions
 * and NAT traversal (a responder with userspace ESP, charon's
 * kernel-libipsec, moves to port 4500); this program only carries its
 * datagrams and counts.  Two UDP sockets (500, 4500) on every address:
 * the identities' addresses must be local (on an interface of the
 * namespace), and each datagram goes out from its identity's address
 * (IP_PKTINFO).
 *
 * Prints what came up, what failed and why, the wall time from the first
 * message to the last pair, SAs/s and this program's own CPU per SA (to
 * see whether the load, not the responder, was the limit).  With -H the
 * SAs stay (the engines answer retransmissions) until SIGTERM/SIGINT, so
 * that whoever measures the responder sees all of them; on exit the
 * engines go without a word (no Delete): the responder is restarted.
 *
 * Exit status: 0 when every identity came up, 1 when one failed (or
 * nothing could be sent), 64 on bad usage.
 */
#include "evloop.h"
#include "ike.h"
#include "ike_load.h"
#include "ip4.h"
#include "isakmp.h"
#include "log.h"
#include "netio.h"
#include "u32map.h"

#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sysexits.h>
#include <unistd.h>

#define IL_MAX_REASONS 16
#define IL_REASON_LEN  64

enum il_state { IL_IDLE, IL_RUNNING, IL_OK, IL_FAILED };

struct il;

struct il_ident {
	struct il *l;
	unsigned idx;
	struct in_addr addr;
	char id[IL_ID_LEN];
	struct ike_peer peer;
	struct ike_engine *eng;
	enum il_state state;
	bool ike_up; /* Main Mode done: a timeout is then Quick Mode's */
	struct ev_timer deadline;
};

struct il_reason {
	char why[IL_REASON_LEN];
	unsigned count;
};

struct il {
	struct il_opts o;
	struct ev_loop *loop;
	struct ike_config cfg;
	struct il_ident *ids;
	struct u32map by_addr; /* identity by its address, for what arrives */
	int fd500, fd4500;
	unsigned next, running, ok, failed;
	bool quiet;    /* tearing down: the engines say nothing more */
	bool reported; /* the RESULT line is out */
	double cpu0_s; /* our CPU time when the first identity started */
	uint64_t t0_us, t_end_us;
	uint64_t send_errors;
	struct il_reason reasons[IL_MAX_REASONS];
	size_t n_reasons;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: ike-load -a RESPONDER [-i RESPONDER_ID] [-b BASE] [-n N] [-c INFLIGHT]\n"
		   "                [-g modp2048|ecp256] [-k SEED] [-t TIMEOUT_S] [-H]\n"
		   "       ike-load -P [-b BASE] [-n N] [-k SEED]\n"
		   "  -a   the responder's address\n"
		   "  -i   the identity the responder must show (default: any)\n"
		   "  -b   the first identity's address (default 10.200.0.1; .0 and .255 skipped)\n"
		   "  -n   identities (default 200)\n"
		   "  -c   negotiations in flight at most (default 16)\n"
		   "  -g   Diffie-Hellman group of Main Mode (default modp2048)\n"
		   "  -k   seed of the pre-shared keys (default \"ike-load\")\n"
		   "  -t   seconds one identity may take (default 30)\n"
		   "  -H   hold the SAs after the run until SIGTERM or SIGINT\n"
		   "  -P   print \"address id psk\" for each identity and exit\n");
}

/* ---- results ---- */

static void il_count_failure(struct il *l, const char *why)
{
	size_t i;

	for (i = 0; i < l->n_reasons; i++)
		if (strncmp(l->reasons[i].why, why, IL_REASON_LEN - 1) == 0)
			break;
	if (i == l->n_reasons) {
		if (l->n_reasons == IL_MAX_REASONS)
			i = IL_MAX_REASONS - 1; /* the last slot takes every other reason */
		else
			snprintf(l->reasons[l->n_reasons++].why, IL_REASON_LEN, "%s", why);
	}
	l->reasons[i].count++;
}

static void il_start_next(struct il *l);
static void il_report(struct il *l);

/* An identity is done, one way or the other: the next one may start. */
static void il_finish(struct il_ident *id, bool ok, const char *why)
{
	struct il *l = id->l;

	if (id->state != IL_RUNNING)
		return;
	ev_timer_stop(l->loop, &id->deadline);
	id->state = ok ? IL_OK : IL_FAILED;
	l->running--;
	if (ok) {
		l->ok++;
	} else {
		l->failed++;
		il_count_failure(l, why);
		log_notice("%s (%s) failed: %s", id->id, IP4_STR(id->addr), why);
	}
	if (l->ok + l->failed == l->o.n) {
		l->t_end_us = ev_now_us();
		il_report(l);
		/* -H: the engines stay to answer the responder until a signal */
		if (!l->o.hold)
			ev_loop_stop(l->loop);
	}
	il_start_next(l);
}

/* ---- the engines' side ---- */

static void il_send(void *arg, struct in_addr local, uint16_t lport, struct in_addr peer,
		    uint16_t pport, const uint8_t *msg, size_t len)
{
	struct il_ident *id = arg;
	struct il *l = id->l;
	int fd = lport == ISAKMP_NATT_PORT ? l->fd4500 : l->fd500;

	if (l->quiet)
		return;
	if (netio_udp_send(fd, local, peer, pport, msg, len) < 0)
		l->send_errors++; /* a lost datagram: the engine retransmits */
}

static const struct ike_peer *il_peer_lookup(void *arg, struct in_addr addr)
{
	(void)arg;
	(void)addr;
	return NULL; /* we only initiate */
}

static void il_child_up(void *arg, struct ike_child *c)
{
	(void)c;
	il_finish(arg, true, NULL);
}

static void il_child_down(void *arg, struct ike_child *c, const char *why)
{
	struct il_ident *id = arg;

	(void)c;
	if (!id->l->quiet)
		log_warn("%s: IPsec SA pair taken down: %s", id->id, why ? why : "?");
}

static void il_ike_up(void *arg, struct ike_sa *sa)
{
	(void)sa;
	((struct il_ident *)arg)->ike_up = true;
}

static void il_ike_down(void *arg, struct ike_sa *sa, const char *why)
{
	struct il_ident *id = arg;

	(void)sa;
	if (!id->l->quiet)
		il_finish(id, false, why ? why : "ISAKMP SA gone");
}

static void il_deadline(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct il_ident *id = arg;

	(void)loop;
	(void)t;
	il_finish(id, false, id->ike_up ? "timeout in Quick Mode" : "timeout in Main Mode");
}

static int il_ident_init(struct il *l, struct il_ident *id, unsigned i)
{
	char psk[IL_PSK_HEX + 1];

	id->l = l;
	id->idx = i;
	if (il_addr(l->o.base, i, &id->addr) < 0 ||
	    il_ident(l->o.seed, i, id->id, sizeof(id->id), psk, sizeof(psk)) < 0)
		return -1;
	snprintf(id->peer.name, sizeof(id->peer.name), "responder");
	id->peer.addr = l->o.responder;
	if (l->o.responder_id[0] != '\0' && ike_id_parse(l->o.responder_id, &id->peer.id) < 0)
		return -1;
	memcpy(id->peer.psk, psk, IL_PSK_HEX);
	id->peer.psk_len = IL_PSK_HEX;
	/* A mobile node's selectors: its home address, and everything behind the agent. */
	id->peer.local_net = id->addr;
	id->peer.local_plen = 32;
	ev_timer_init(&id->deadline, il_deadline, id);
	return u32map_put(&l->by_addr, id->addr.s_addr, id);
}

static void il_start(struct il *l, struct il_ident *id)
{
	struct ike_config cfg = l->cfg;
	struct ike_ops ops = {.send = il_send,
			      .peer_lookup = il_peer_lookup,
			      .child_up = il_child_up,
			      .child_down = il_child_down,
			      .ike_up = il_ike_up,
			      .ike_down = il_ike_down,
			      .arg = id};

	if (l->t0_us == 0)
		l->t0_us = ev_now_us();
	id->state = IL_RUNNING;
	l->running++;
	ev_timer_start(l->loop, &id->deadline, (uint64_t)l->o.timeout_s * 1000);
	if (ike_id_parse(id->id, &cfg.local_id) < 0 ||
	    (id->eng = ike_engine_new(l->loop, &cfg, &ops)) == NULL) {
		il_finish(id, false, "cannot make an engine");
		return;
	}
	if (ike_initiate(id->eng, &id->peer, id->addr) == NULL)
		il_finish(id, false, "cannot initiate");
}

static void il_start_next(struct il *l)
{
	while (!l->quiet && l->running < l->o.inflight && l->next < l->o.n)
		il_start(l, &l->ids[l->next++]);
}

/* ---- sockets ---- */

static void il_on_udp(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct il *l = arg;
	uint8_t msg[ISAKMP_DATAGRAM_MAX];
	struct netio_udp_meta meta;
	uint16_t lport = fd == l->fd4500 ? ISAKMP_NATT_PORT : ISAKMP_PORT;
	ssize_t n;

	(void)loop;
	(void)events;
	while ((n = netio_udp_recv(fd, msg, sizeof(msg), &meta)) >= 0) {
		struct il_ident *id = u32map_get(&l->by_addr, meta.dst.s_addr);
		const uint8_t *m = msg;
		size_t len = (size_t)n;

		if (id == NULL || id->eng == NULL)
			continue;
		if (lport == ISAKMP_NATT_PORT) {
			/* RFC 3948: IKE behind a zero non-ESP marker; anything else is not ours */
			if (len < ISAKMP_NON_ESP_MARKER_LEN || memcmp(m, "\0\0\0\0", 4) != 0)
				continue;
			m += ISAKMP_NON_ESP_MARKER_LEN;
			len -= ISAKMP_NON_ESP_MARKER_LEN;
		}
		ike_input(id->eng, meta.dst, lport, meta.from.sin_addr, ntohs(meta.from.sin_port),
			  m, len);
	}
}

static void il_on_signal(struct ev_loop *loop, int signo, void *arg)
{
	(void)signo;
	(void)arg;
	ev_loop_stop(loop);
}

static int il_setup(struct il *l)
{
	struct in_addr any = {.s_addr = INADDR_ANY};

	l->cfg.n_p1 = 1;
	l->cfg.p1[0] = (struct ike_p1_prop){128, IKE_HASH_SHA1, l->o.group};
	l->cfg.n_p2 = 1;
	l->cfg.p2[0] = (struct ike_p2_prop){ESP_ALG_AES_CBC_HMAC_SHA1_96, 128};
	u32map_init(&l->by_addr);
	l->ids = calloc(l->o.n, sizeof(*l->ids));
	if (l->ids == NULL)
		return -1;
	for (unsigned i = 0; i < l->o.n; i++)
		if (il_ident_init(l, &l->ids[i], i) < 0) {
			fprintf(stderr, "ike-load: identity %u: cannot set it up\n", i);
			return -1;
		}
	l->loop = ev_loop_new();
	l->fd500 = netio_udp_open(any, ISAKMP_PORT);
	l->fd4500 = netio_udp_open(any, ISAKMP_NATT_PORT);
	if (l->loop == NULL || l->fd500 < 0 || l->fd4500 < 0 ||
	    ev_io_add(l->loop, l->fd500, EPOLLIN, il_on_udp, l) < 0 ||
	    ev_io_add(l->loop, l->fd4500, EPOLLIN, il_on_udp, l) < 0 ||
	    ev_signal_add(l->loop, SIGINT, il_on_signal, l) < 0 ||
	    ev_signal_add(l->loop, SIGTERM, il_on_signal, l) < 0) {
		fprintf(stderr, "ike-load: cannot open UDP 500/4500 or the event loop\n");
		return -1;
	}
	return 0;
}

static void il_teardown(struct il *l)
{
	/* The responder is restarted after us: no Delete, nothing more on the wire. */
	l->quiet = true;
	for (unsigned i = 0; l->ids != NULL && i < l->o.n; i++) {
		ev_timer_stop(l->loop, &l->ids[i].deadline);
		ike_engine_free(l->ids[i].eng);
	}
	free(l->ids);
	u32map_free(&l->by_addr);
	if (l->fd500 >= 0)
		close(l->fd500);
	if (l->fd4500 >= 0)
		close(l->fd4500);
	ev_loop_free(l->loop);
}

static double il_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/*
 * One line a script reads (key=value), then one per failure reason.  The
 * engines' retransmissions tell whether the responder kept up.
 */
static void il_report(struct il *l)
{
	double cpu_s = il_cpu_s() - l->cpu0_s;
	uint64_t retrans = 0;
	double wall = l->t_end_us > l->t0_us ? (double)(l->t_end_us - l->t0_us) / 1e6 : 0;

	for (unsigned i = 0; i < l->o.n; i++)
		if (l->ids[i].eng != NULL)
			retrans += ike_engine_counters(l->ids[i].eng)->retransmits;
	printf("RESULT group=%s n=%u inflight=%u ok=%u failed=%u wall_s=%.3f sas_per_s=%.1f "
	       "load_cpu_ms_per_sa=%.3f retransmits=%llu send_errors=%llu\n",
	       il_group_name(l->o.group), l->o.n, l->o.inflight, l->ok, l->failed, wall,
	       wall > 0 ? l->ok / wall : 0, l->ok ? cpu_s * 1000 / l->ok : 0,
	       (unsigned long long)retrans, (unsigned long long)l->send_errors);
	for (size_t i = 0; i < l->n_reasons; i++)
		printf("FAILED %u %s\n", l->reasons[i].count, l->reasons[i].why);
	fflush(stdout);
	l->reported = true;
}

static int il_print_ids(const struct il_opts *o)
{
	char id[IL_ID_LEN], psk[IL_PSK_HEX + 1];
	struct in_addr a;

	for (unsigned i = 0; i < o->n; i++) {
		if (il_addr(o->base, i, &a) < 0 ||
		    il_ident(o->seed, i, id, sizeof(id), psk, sizeof(psk)) < 0)
			return EXIT_FAILURE;
		printf("%s %s %s\n", IP4_STR(a), id, psk);
	}
	return EXIT_SUCCESS;
}

/* Run until every identity is done (with -H: until a signal); a signal before then reports what
 * there is. */
static void il_run(struct il *l)
{
	l->cpu0_s = il_cpu_s();
	il_start_next(l);
	ev_loop_run(l->loop);
	if (!l->reported) {
		l->t_end_us = ev_now_us();
		il_report(l);
	}
}

int main(int argc, char **argv)
{
	struct il l = {.fd500 = -1, .fd4500 = -1};
	char err[256];
	int rc;

	switch (il_parse_args(argc, argv, &l.o, err, sizeof(err))) {
	case IL_PARSE_HELP:
		usage(stdout);
		return EXIT_SUCCESS;
	case IL_PARSE_ERROR:
		fprintf(stderr, "ike-load: %s\n", err);
		usage(stderr);
		return EX_USAGE;
	case IL_PARSE_OK:
		break;
	}
	if (l.o.print_ids)
		return il_print_ids(&l.o);
	log_init("ike-load", LOG_LVL_WARN, false);
	ike_config_defaults(&l.cfg);
	if (il_setup(&l) < 0) {
		il_teardown(&l);
		return EXIT_FAILURE;
	}
	il_run(&l);
	rc = l.ok == l.o.n ? EXIT_SUCCESS : EXIT_FAILURE;
	il_teardown(&l);
	return rc;
}
