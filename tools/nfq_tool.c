/* nfq_tool: see nfq_tool.h. */
#include "nfq_tool.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/netfilter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

volatile sig_atomic_t nfqt_stop, nfqt_report;

static void nfqt_on_signal(int sig)
{
	if (sig == SIGUSR1)
		nfqt_report = 1;
	else
		nfqt_stop = 1;
}

void nfqt_signals(int block)
{
	struct sigaction sa = {.sa_handler = nfqt_on_signal};
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	if (block)
		sigprocmask(SIG_BLOCK, &set, NULL);
}

struct nfq_q_handle *nfqt_bind(const char *tool, struct nfq_handle *h, unsigned queue,
			       nfq_callback *cb, void *arg, uint32_t maxlen, uint32_t rcvbuf)
{
	struct nfq_q_handle *qh = nfq_create_queue(h, (uint16_t)queue, cb, arg);

	if (qh == NULL) {
		fprintf(stderr, "%s: cannot bind queue %u: %s\n", tool, queue, strerror(errno));
		return NULL;
	}
	/* room for a burst: a message the socket cannot take strands its packet */
	nfnl_rcvbufsiz(nfq_nfnlh(h), rcvbuf);
	if (nfq_set_mode(qh, NFQNL_COPY_META, 0) < 0 || nfq_set_queue_maxlen(qh, maxlen) < 0 ||
	    nfq_set_queue_flags(qh, NFQA_CFG_F_FAIL_OPEN, NFQA_CFG_F_FAIL_OPEN) < 0) {
		fprintf(stderr, "%s: cannot set up queue %u: %s\n", tool, queue, strerror(errno));
		nfq_destroy_queue(qh);
		return NULL;
	}
	return qh;
}

void nfqt_accept(const char *tool, struct nfq_q_handle *qh, uint32_t id)
{
	if (nfq_set_verdict(qh, id, NF_ACCEPT, 0, NULL) < 0)
		fprintf(stderr, "%s: verdict for packet %" PRIu32 ": %s\n", tool, id,
			strerror(errno));
}

int nfqt_read(const char *tool, struct nfq_handle *h, int fd, char *buf, size_t size)
{
	ssize_t n = recv(fd, buf, size, MSG_DONTWAIT);

	if (n > 0) {
		nfq_handle_packet(h, buf, (int)n);
		return 1;
	}
	if (n < 0 && errno == ENOBUFS) {
		fprintf(stderr, "%s: socket buffer overrun (fail-open let those packets pass)\n",
			tool);
		return 0;
	}
	if (n < 0 && errno != EAGAIN && errno != EINTR) {
		fprintf(stderr, "%s: recv: %s\n", tool, strerror(errno));
		return -1;
	}
	return 0;
}

void nfqt_drain(const char *tool, struct nfq_handle *h, int fd, char *buf, size_t size,
		unsigned max)
{
	while (max-- > 0 && nfqt_read(tool, h, fd, buf, size) > 0)
		;
}

unsigned nfqt_num(const char *tool, const char *opt, const char *s, unsigned lo, unsigned hi)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || *s == '-' || v < lo || v > hi) {
		fprintf(stderr, "%s: --%s %s: not a number in %u..%u\n", tool, opt, s, lo, hi);
		exit(2);
	}
	return (unsigned)v;
}
