/*
 * mipsa-delay: the testbed's distance (testbed/impair.sh, tb_distance).
 * This kernel has no netem, so a link cannot be made long in the kernel;
 * this tool holds every packet of an NFQUEUE queue in userspace for a
 * fixed time instead, and lets them go in the order they came (only
 * metadata is copied: the tool never reads or changes a payload).  Put on
 * the path between the home agent and the visited domain, it makes the
 * home agent as far away as a wide-area link would.
 *
 *   mipsa-delay --queue N --delay-us US [--max-held N]
 *
 * Each packet is let through --delay-us after the tool received it from
 * the kernel.  The timer slack is set to 1 ns so the release is not
 * rounded to the default 50 us.  At most --max-held packets (default and
 * most 4096; the kernel's queue takes twice that) are held at once; a
 * packet beyond that is let through at once and counted as "early", so a
 * burst never becomes loss nobody asked for, and the counter says whether
 * the delay held.
 * The queue is bound with fail-open and the rule that feeds it should say
 * "bypass": if the tool dies, packets pass undelayed.  On SIGTERM or
 * SIGINT every held packet, and every one still unread, is let through and
 * one line of counters goes to stdout; SIGUSR1 prints it without stopping:
 *
 *   delay: queue=N delay_us=N queued=N delayed=N early=N late_100us=N late_max_us=N
 *
 * late_100us: packets let go more than 100 us after their due time (the
 * tool waiting for a core); late_max_us: the most any packet was late.  The
 * due time starts when the tool reads the packet, so a wait before that
 * read is not counted; an early packet also leaves ahead of held ones.  So
 * a run can tell whether the delay it asked for is the delay it got; the
 * testbed runs the tool under a real-time policy (chrt) for that reason.
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
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <libnetfilter_queue/libnetfilter_queue.h>

#include "nfq_tool.h"

#define DL_MAX_HELD 4096u

struct dl_held {
	uint32_t id;
	uint64_t due_ns; /* CLOCK_MONOTONIC */
};

/* A ring of held packets: arrival order is due order, the delay being one. */
struct dl {
	struct nfq_q_handle *qh;
	unsigned queue, max_held;
	uint64_t delay_ns;
	struct dl_held ring[DL_MAX_HELD];
	unsigned head, n_held;
	uint64_t seen, delayed, early, late_100us, late_max_ns;
};

static uint64_t dl_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Let the oldest held packet go; how late it is (now - due) is recorded. */
static void dl_release_oldest(struct dl *d, uint64_t now)
{
	const struct dl_held *h = &d->ring[d->head];
	uint64_t late = now > h->due_ns ? now - h->due_ns : 0;

	if (late > 100000u)
		d->late_100us++;
	if (late > d->late_max_ns)
		d->late_max_ns = late;
	nfqt_accept("mipsa-delay", d->qh, h->id);
	d->head = (d->head + 1) % DL_MAX_HELD;
	d->n_held--;
}

static void dl_expire(struct dl *d, uint64_t now)
{
	while (d->n_held > 0 && d->ring[d->head].due_ns <= now)
		dl_release_oldest(d, now);
}

static int dl_on_packet(struct nfq_q_handle *qh, struct nfgenmsg *msg, struct nfq_data *nfa,
			void *arg)
{
	struct dl *d = arg;
	struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
	uint32_t id;

	(void)qh;
	(void)msg;
	if (ph == NULL) {
		fprintf(stderr, "mipsa-delay: a queued packet without its header\n");
		return 0;
	}
	id = ntohl(ph->packet_id);
	d->seen++;
	if (d->n_held >= d->max_held) {
		d->early++;
		nfqt_accept("mipsa-delay", d->qh, id);
		return 0;
	}
	d->ring[(d->head + d->n_held) % DL_MAX_HELD] = (struct dl_held){
		.id = id,
		.due_ns = dl_now_ns() + d->delay_ns,
	};
	d->n_held++;
	d->delayed++;
	return 0;
}

static void dl_print(const struct dl *d)
{
	printf("delay: queue=%u delay_us=%" PRIu64 " queued=%" PRIu64 " delayed=%" PRIu64
	       " early=%" PRIu64 " late_100us=%" PRIu64 " late_max_us=%" PRIu64 "\n",
	       d->queue, d->delay_ns / 1000u, d->seen, d->delayed, d->early, d->late_100us,
	       d->late_max_ns / 1000u);
	fflush(stdout);
}

/* ppoll's timeout: until the oldest held packet is due, or none. */
static const struct timespec *dl_timeout(const struct dl *d, uint64_t now, struct timespec *ts)
{
	uint64_t left;

	if (d->n_held == 0)
		return NULL;
	left = d->ring[d->head].due_ns > now ? d->ring[d->head].due_ns - now : 0;
	ts->tv_sec = (time_t)(left / 1000000000u);
	ts->tv_nsec = (long)(left % 1000000000u);
	return ts;
}

static int dl_run(struct dl *d, struct nfq_handle *h)
{
	char buf[65536] __attribute__((aligned));
	struct pollfd p = {.fd = nfq_fd(h), .events = POLLIN};
	struct timespec ts;
	sigset_t unblocked;
	int rc = 0;

	sigemptyset(&unblocked);
	while (!nfqt_stop && rc == 0) {
		if (nfqt_report) {
			nfqt_report = 0;
			dl_print(d);
		}
		p.revents = 0;
		if (ppoll(&p, 1, dl_timeout(d, dl_now_ns(), &ts), &unblocked) < 0 &&
		    errno != EINTR) {
			perror("mipsa-delay: ppoll");
			rc = -1;
		} else if ((p.revents & POLLIN) &&
			   nfqt_read("mipsa-delay", h, p.fd, buf, sizeof(buf)) < 0) {
			rc = -1;
		}
		dl_expire(d, dl_now_ns());
	}
	/* stopping or failing, nothing stays queued: the socket's messages, then the ring */
	nfqt_drain("mipsa-delay", h, p.fd, buf, sizeof(buf), 2 * DL_MAX_HELD);
	while (d->n_held > 0)
		dl_release_oldest(d, 0);
	return rc;
}

static void dl_usage(void)
{
	fprintf(stderr, "usage: mipsa-delay --queue N --delay-us US [--max-held N]\n");
	exit(2);
}

static void dl_args(struct dl *d, int argc, char **argv)
{
	static const struct option opts[] = {
		{"queue", required_argument, NULL, 'q'},
		{"delay-us", required_argument, NULL, 'd'},
		{"max-held", required_argument, NULL, 'm'},
		{NULL, 0, NULL, 0},
	};
	bool have_queue = false, have_delay = false;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'q':
			d->queue = nfqt_num("mipsa-delay", "queue", optarg, 0, 65535);
			have_queue = true;
			break;
		case 'd':
			/* up to 10 s: a satellite hop is 0.3 s; more is a mistake */
			d->delay_ns =
				(uint64_t)nfqt_num("mipsa-delay", "delay-us", optarg, 1, 10000000) *
				1000u;
			have_delay = true;
			break;
		case 'm':
			d->max_held = nfqt_num("mipsa-delay", "max-held", optarg, 1, DL_MAX_HELD);
			break;
		default:
			dl_usage();
		}
	}
	if (!have_queue || !have_delay || optind != argc)
		dl_usage();
}

int main(int argc, char **argv)
{
	static struct dl d = {.max_held = DL_MAX_HELD};
	struct nfq_handle *h;
	int rc;

	dl_args(&d, argc, argv);
	if (prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL) < 0)
		perror("mipsa-delay: timer slack (releases may be up to 50 us late)");
	/* blocked but inside ppoll: none lands between the check and the wait */
	nfqt_signals(1);
	h = nfq_open();
	if (h == NULL) {
		perror("mipsa-delay: nfq_open");
		return 1;
	}
	/*
	 * The kernel's queue holds what we hold and what we have yet to read:
	 * twice the ring, so that a full ring, not the kernel, decides which
	 * packet goes early (and is counted).  The socket's buffer: room for
	 * the packets in flight at the delay.
	 */
	d.qh = nfqt_bind("mipsa-delay", h, d.queue, dl_on_packet, &d, 2 * DL_MAX_HELD, 8u << 20);
	if (d.qh == NULL) {
		nfq_close(h);
		return 1;
	}
	printf("delay: queue %u bound, delay_us=%" PRIu64 " max_held=%u\n", d.queue,
	       d.delay_ns / 1000u, d.max_held);
	fflush(stdout);
	rc = dl_run(&d, h);
	dl_print(&d);
	nfq_destroy_queue(d.qh);
	nfq_close(h);
	return rc < 0 ? 1 : 0;
}
