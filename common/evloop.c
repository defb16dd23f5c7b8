#include "evloop.h"
#include "log.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#define EV_MAX_FDS     1024
#define EV_MAX_SIGNALS 8

struct ev_io {
	int fd;
	ev_io_cb cb;
	void *arg;
};

struct ev_sig {
	int signo;
	ev_signal_cb cb;
	void *arg;
};

struct ev_loop {
	int epfd;
	bool stop;
	struct ev_io *ios[EV_MAX_FDS]; /* indexed by fd */
	struct ev_timer **heap;
	size_t heap_len, heap_cap;
	int sigfd;
	sigset_t sigmask;
	struct ev_sig sigs[EV_MAX_SIGNALS];
	size_t nsigs;
};

uint64_t ev_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t ev_now_ms(void)
{
	return ev_now_us() / 1000;
}

struct ev_loop *ev_loop_new(void)
{
	struct ev_loop *loop = calloc(1, sizeof(*loop));

	if (loop == NULL)
		return NULL;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		free(loop);
		return NULL;
	}
	loop->sigfd = -1;
	sigemptyset(&loop->sigmask);
	return loop;
}

void ev_loop_free(struct ev_loop *loop)
{
	if (loop == NULL)
		return;
	for (size_t i = 0; i < EV_MAX_FDS; i++)
		free(loop->ios[i]);
	if (loop->sigfd >= 0)
		close(loop->sigfd);
	close(loop->epfd);
	free(loop->heap);
	free(loop);
}

int ev_io_add(struct ev_loop *loop, int fd, uint32_t events, ev_io_cb cb, void *arg)
{
	struct epoll_event ev = {.events = events, .data.fd = fd};
	struct ev_io *io;

	if (fd < 0 || fd >= EV_MAX_FDS || loop->ios[fd] != NULL) {
		errno = EINVAL;
		return -1;
	}
	io = malloc(sizeof(*io));
	if (io == NULL)
		return -1;
	*io = (struct ev_io){.fd = fd, .cb = cb, .arg = arg};
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		free(io);
		return -1;
	}
	loop->ios[fd] = io;
	return 0;
}

int ev_io_mod(struct ev_loop *loop, int fd, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.fd = fd};

	return epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev);
}

void ev_io_del(struct ev_loop *loop, int fd)
{
	if (fd < 0 || fd >= EV_MAX_FDS || loop->ios[fd] == NULL)
		return;
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
	free(loop->ios[fd]);
	loop->ios[fd] = NULL;
}

/* ---- timer heap: a min-heap on deadline_ms ---- */

static void heap_set(struct ev_loop *loop, size_t i, struct ev_timer *t)
{
	loop->heap[i] = t;
	t->heap_idx = i;
}

static void heap_up(struct ev_loop *loop, size_t i)
{
	struct ev_timer *t = loop->heap[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (loop->heap[parent]->deadline_ms <= t->deadline_ms)
			break;
		heap_set(loop, i, loop->heap[parent]);
		i = parent;
	}
	heap_set(loop, i, t);
}

static void heap_down(struct ev_loop *loop, size_t i)
{
	struct ev_timer *t = loop->heap[i];

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= loop->heap_len)
			break;
		if (c + 1 < loop->heap_len &&
		    loop->heap[c + 1]->deadline_ms < loop->heap[c]->deadline_ms)
			c++;
		if (t->deadline_ms <= loop->heap[c]->deadline_ms)
			break;
		heap_set(loop, i, loop->heap[c]);
		i = c;
	}
	heap_set(loop, i, t);
}

void ev_timer_init(struct ev_timer *t, ev_timer_cb cb, void *arg)
{
	t->deadline_ms = 0;
	t->heap_idx = SIZE_MAX;
	t->cb = cb;
	t->arg = arg;
}

bool ev_timer_armed(const struct ev_timer *t)
{
	return t->heap_idx != SIZE_MAX;
}

void ev_timer_stop(struct ev_loop *loop, struct ev_timer *t)
{
	size_t i = t->heap_idx;

	if (i == SIZE_MAX)
		return;
	t->heap_idx = SIZE_MAX;
	loop->heap_len--;
	if (i == loop->heap_len)
		return;
	struct ev_timer *moved = loop->heap[loop->heap_len];
	heap_set(loop, i, moved);
	heap_up(loop, i);
	heap_down(loop, moved->heap_idx);
}

int ev_timer_start(struct ev_loop *loop, struct ev_timer *t, uint64_t after_ms)
{
	ev_timer_stop(loop, t);
	if (loop->heap_len == loop->heap_cap) {
		size_t ncap = loop->heap_cap ? loop->heap_cap * 2 : 64;
		struct ev_timer **nh = realloc(loop->heap, ncap * sizeof(*nh));
		if (nh == NULL) {
			log_err("cannot grow the timer heap to %zu entries", ncap);
			return -1;
		}
		loop->heap = nh;
		loop->heap_cap = ncap;
	}
	t->deadline_ms = ev_now_ms() + after_ms;
	heap_set(loop, loop->heap_len++, t);
	heap_up(loop, t->heap_idx);
	return 0;
}

/* Fire every timer that is due; a callback may re-arm or stop any timer. */
static void ev_run_timers(struct ev_loop *loop)
{
	uint64_t now = ev_now_ms();

	while (loop->heap_len > 0 && loop->heap[0]->deadline_ms <= now) {
		struct ev_timer *t = loop->heap[0];
		ev_timer_stop(loop, t);
		t->cb(loop, t, t->arg);
	}
}

static int ev_next_timeout(const struct ev_loop *loop)
{
	uint64_t now, d;

	if (loop->heap_len == 0)
		return -1;
	now = ev_now_ms();
	d = loop->heap[0]->deadline_ms;
	if (d <= now)
		return 0;
	return d - now > 60000 ? 60000 : (int)(d - now);
}

/* ---- signals ---- */

static void ev_signal_read(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	struct signalfd_siginfo si;

	(void)events;
	(void)arg;
	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		for (size_t i = 0; i < loop->nsigs; i++)
			if (loop->sigs[i].signo == (int)si.ssi_signo)
				loop->sigs[i].cb(loop, (int)si.ssi_signo, loop->sigs[i].arg);
	}
}

int ev_signal_add(struct ev_loop *loop, int signo, ev_signal_cb cb, void *arg)
{
	int fd;

	if (loop->nsigs == EV_MAX_SIGNALS) {
		errno = ENOSPC;
		return -1;
	}
	sigaddset(&loop->sigmask, signo);
	if (sigprocmask(SIG_BLOCK, &loop->sigmask, NULL) < 0)
		return -1;
	fd = signalfd(loop->sigfd, &loop->sigmask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -1;
	if (loop->sigfd < 0) {
		loop->sigfd = fd;
		if (ev_io_add(loop, fd, EPOLLIN, ev_signal_read, NULL) < 0)
			return -1;
	}
	loop->sigs[loop->nsigs++] = (struct ev_sig){.signo = signo, .cb = cb, .arg = arg};
	return 0;
}

/* ---- the loop ---- */

void ev_loop_stop(struct ev_loop *loop)
{
	loop->stop = true;
}

int ev_loop_run(struct ev_loop *loop)
{
	struct epoll_event evs[64];

	loop->stop = false;
	while (!loop->stop) {
		int n = epoll_wait(loop->epfd, evs, 64, ev_next_timeout(loop));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_err("epoll_wait: %s", strerror(errno));
			return -1;
		}
		for (int i = 0; i < n && !loop->stop; i++) {
			int fd = evs[i].data.fd;
			/* An earlier callback in this batch may have removed it. */
			struct ev_io *io = fd >= 0 && fd < EV_MAX_FDS ? loop->ios[fd] : NULL;
			if (io != NULL)
				io->cb(loop, fd, evs[i].events, io->arg);
		}
		ev_run_timers(loop);
	}
	return 0;
}
