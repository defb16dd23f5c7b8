/*
 * mipsa-reorder: the testbed's reordering (testbed/impair.sh).  This
 * kernel has no netem and nftables no delay, so a packet cannot be held
 * in the kernel; this tool holds it in userspace instead.  The packets of
 * an NFQUEUE queue (only metadata is copied: the tool never reads or
 * changes a payload) are let through in order, except that each one,
 * with probability --percent, is held until --after (1..N, drawn per
 * packet) later packets of the queue have passed, or --hold-ms have gone
 * by, whichever comes first.  A held packet thus arrives after packets
 * sent behind it: reordering, with a bounded delay.
 *
 *   mipsa-reorder --queue N --percent P [--after N] [--hold-ms MS] [--max-held N]
 *
 * At most --max-held packets are held at once; beyond that a packet passes
 * in order.  The queue is bound with fail-open (a full queue lets packets
 * through) and the rule that feeds it should say "bypass", so that
 * neither a burst nor this tool's death turns into loss that nobody
 * asked for.  On SIGTERM or SIGINT every held packet, and every one still
 * unread, is let through and one line of counters goes to stdout:
 *
 *   reorder: queue=N queued=N held=N released_after=N released_timeout=N
 *
 * (released_after: held packets that went out after the later ones they
 * waited for; released_timeout: after --hold-ms because no packet came).
 * SIGUSR1 prints the same line without stopping.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/netfilter.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <libnetfilter_queue/libnetfilter_queue.h>

#include "nfq_tool.h"

#define RO_MAX_HELD 64

struct ro_held {
	uint32_t id;
	unsigned wait;     /* later packets still to pass before this one */
	uint64_t until_ms; /* released by then at the latest */
};

struct ro {
	struct nfq_q_handle *qh;
	unsigned queue, percent, after, hold_ms, max_held;
	struct ro_held held[RO_MAX_HELD];
	unsigned n_held;
	uint64_t seen, held_total, rel_after, rel_timeout;
};

static uint64_t ro_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Let held packet i go and close the gap in the array. */
static void ro_release(struct ro *r, unsigned i)
{
	nfqt_accept("mipsa-reorder", r->qh, r->held[i].id);
	r->held[i] = r->held[--r->n_held];
}

/* Another packet went out: those waiting for it count it down. */
static void ro_passed(struct ro *r)
{
	unsigned i = 0;

	while (i < r->n_held) {
		if (--r->held[i].wait == 0) {
			r->rel_after++;
			ro_release(r, i);
			continue;
		}
		i++;
	}
}

static void ro_expire(struct ro *r, uint64_t now)
{
	unsigned i = 0;

	while (i < r->n_held) {
		if (r->held[i].until_ms <= now) {
			r->rel_timeout++;
			ro_release(r, i);
			continue;
		}
		i++;
	}
}

static int ro_on_packet(struct nfq_q_handle *qh, struct nfgenmsg *msg, struct nfq_data *nfa,
			void *arg)
{
	struct ro *r = arg;
	struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
	uint32_t id;

	if (ph == NULL) {
		fprintf(stderr, "mipsa-reorder: a queued packet without its header\n");
		return 0;
	}
	id = ntohl(ph->packet_id);
	r->seen++;
	if (r->n_held < r->max_held && (unsigned)(random() % 100) < r->percent) {
		r->held[r->n_held++] = (struct ro_held){
			.id = id,
			.wait = 1 + (unsigned)(random() % r->after),
			.until_ms = ro_now_ms() + r->hold_ms,
		};
		r->held_total++;
		return 0;
	}
	nfqt_accept("mipsa-reorder", r->qh, id);
	ro_passed(r);
	return 0;
}

static void ro_print(const struct ro *r)
{
	printf("reorder: queue=%u queued=%" PRIu64 " held=%" PRIu64 " released_after=%" PRIu64
	       " released_timeout=%" PRIu64 "\n",
	       r->queue, r->seen, r->held_total, r->rel_after, r->rel_timeout);
	fflush(stdout);
}

/* The poll timeout: until the first held packet is due, or forever. */
static int ro_timeout(const struct ro *r, uint64_t now)
{
	uint64_t first = UINT64_MAX;
	unsigned i;

	for (i = 0; i < r->n_held; i++)
		if (r->held[i].until_ms < first)
			first = r->held[i].until_ms;
	if (first == UINT64_MAX)
		return -1;
	return first <= now ? 0 : (int)(first - now);
}

static int ro_run(struct ro *r, struct nfq_handle *h)
{
	char buf[65536] __attribute__((aligned));
	struct pollfd p = {.fd = nfq_fd(h), .events = POLLIN};
	int rc = 0;

	while (!nfqt_stop && rc == 0) {
		if (nfqt_report) {
			nfqt_report = 0;
			ro_print(r);
		}
		p.revents = 0;
		if (poll(&p, 1, ro_timeout(r, ro_now_ms())) < 0 && errno != EINTR) {
			perror("mipsa-reorder: poll");
			rc = -1;
		} else if ((p.revents & POLLIN) &&
			   nfqt_read("mipsa-reorder", h, p.fd, buf, sizeof(buf)) < 0) {
			rc = -1;
		}
		ro_expire(r, ro_now_ms());
	}
	/* stopping or failing, nothing stays queued: the socket's messages, then the held */
	nfqt_drain("mipsa-reorder", h, p.fd, buf, sizeof(buf), 8192);
	while (r->n_held > 0)
		ro_release(r, 0);
	return rc;
}

static void ro_usage(void)
{
	fprintf(stderr, "usage: mipsa-reorder --queue N --percent P [--after N] [--hold-ms MS] "
			"[--max-held N]\n");
	exit(2);
}

static void ro_args(struct ro *r, int argc, char **argv)
{
	static const struct option opts[] = {
		{"queue", required_argument, NULL, 'q'},
		{"percent", required_argument, NULL, 'p'},
		{"after", required_argument, NULL, 'a'},
		{"hold-ms", required_argument, NULL, 't'},
		{"max-held", required_argument, NULL, 'm'},
		{NULL, 0, NULL, 0},
	};
	bool have_queue = false;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'q':
			r->queue = nfqt_num("mipsa-reorder", "queue", optarg, 0, 65535);
			have_queue = true;
			break;
		case 'p':
			r->percent = nfqt_num("mipsa-reorder", "percent", optarg, 0, 100);
			break;
		case 'a':
			r->after = nfqt_num("mipsa-reorder", "after", optarg, 1, 1000);
			break;
		case 't':
			r->hold_ms = nfqt_num("mipsa-reorder", "hold-ms", optarg, 1, 10000);
			break;
		case 'm':
			r->max_held = nfqt_num("mipsa-reorder", "max-held", optarg, 1, RO_MAX_HELD);
			break;
		default:
			ro_usage();
		}
	}
	if (!have_queue || optind != argc)
		ro_usage();
}

int main(int argc, char **argv)
{
	struct ro r = {.percent = 10, .after = 3, .hold_ms = 50, .max_held = 8};
	struct nfq_handle *h;
	unsigned seed;
	int rc;

	ro_args(&r, argc, argv);
	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	srandom(seed);
	nfqt_signals(0);
	h = nfq_open();
	if (h == NULL) {
		perror("mipsa-reorder: nfq_open");
		return 1;
	}
	r.qh = nfqt_bind("mipsa-reorder", h, r.queue, ro_on_packet, &r, 4096, 4u << 20);
	if (r.qh == NULL) {
		nfq_close(h);
		return 1;
	}
	printf("reorder: queue %u bound, percent=%u after<=%u hold_ms=%u max_held=%u\n", r.queue,
	       r.percent, r.after, r.hold_ms, r.max_held);
	fflush(stdout);
	rc = ro_run(&r, h);
	ro_print(&r);
	nfq_destroy_queue(r.qh);
	nfq_close(h);
	return rc < 0 ? 1 : 0;
}
