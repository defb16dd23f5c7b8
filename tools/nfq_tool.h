/*
 * nfq_tool: what the testbed's NFQUEUE tools (mipsa-reorder, mipsa-delay)
 * share: the queue bound fail-open with metadata only, a verdict, one
 * message read from the queue's socket, the stop and report signals, and a
 * bounded number from the command line.  Each tool keeps its own policy.
 */
#ifndef MIPSA_NFQ_TOOL_H
#define MIPSA_NFQ_TOOL_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include <libnetfilter_queue/libnetfilter_queue.h>

/* Set by nfqt_signals' handlers: SIGTERM and SIGINT stop, SIGUSR1 reports. */
extern volatile sig_atomic_t nfqt_stop, nfqt_report;

/*
 * Install the handlers.  With block set, the three signals are blocked
 * too, for a tool that unblocks them only inside ppoll.
 */
void nfqt_signals(int block);

/*
 * Bind queue to cb, copying metadata only, at most maxlen packets queued,
 * fail-open (a full queue lets packets through), the socket's receive
 * buffer at rcvbuf bytes.  NULL, said on stderr under the tool's name, when
 * it cannot.
 */
struct nfq_q_handle *nfqt_bind(const char *tool, struct nfq_handle *h, unsigned queue,
			       nfq_callback *cb, void *arg, uint32_t maxlen, uint32_t rcvbuf);

/* Let packet id go; a failure is said on stderr (the packet waits for fail-open). */
void nfqt_accept(const char *tool, struct nfq_q_handle *qh, uint32_t id);

/*
 * Take one message from the queue's socket fd and hand it to the callback:
 * 1.  0 when there was none, or the kernel dropped messages (said on
 * stderr: fail-open let those packets pass); -1 on an error to stop for.
 */
int nfqt_read(const char *tool, struct nfq_handle *h, int fd, char *buf, size_t size);

/*
 * At a stop: hand what the socket still holds to the callback, at most max
 * messages (a flood never keeps a tool from stopping), so that the tool can
 * let those packets go too instead of leaving them to the queue's end,
 * which drops them.
 */
void nfqt_drain(const char *tool, struct nfq_handle *h, int fd, char *buf, size_t size,
		unsigned max);

/* The option's argument as a number in lo..hi, or exit 2 saying so. */
unsigned nfqt_num(const char *tool, const char *opt, const char *s, unsigned lo, unsigned hi);

#endif
