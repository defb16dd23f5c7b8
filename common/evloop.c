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
#define EV_MAX_WAIT_MS 60000 /* wake up now and then even with nothing to do */

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
	size_t n_ios;
	struct ev_timer **heap;
	size_t heap_len, heap_cap;
	int sigfd;
	sigset_t sigmask;
	struct ev_sig sigs[EV_MAX_SIGNALS];
	size_t nsigs;
	uint64_t timer_seq;
	/* virtual clock: now_ms, and the wall clock's distance from it */
	bool virt;
	uint64_t virt_ms;
	int64_t virt_wall_ms;
};

/* What ev_loop_run_until runs to: a deadline on the loop's clock and a condition. */
struct ev_until {
	uint64_t deadline_ms; /* UINT64_MAX: none */
	bool (*cond)(void *arg);
	void *arg;
	bool met;
};

static uint64_t ev_system_us(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t ev_now_us(void)
{
	return ev_system_us(CLOCK_MONOTONIC);
}

uint64_t ev_now_ms(void)
{
	return ev_now_us() / 1000;
}

uint64_t ev_wall_us(void)
{
	return ev_system_us(CLOCK_REALTIME);
}

uint64_t ev_wall_ms(void)
{
	return ev_wall_us() / 1000;
}

uint64_t ev_loop_now_us(const struct ev_loop *loop)
{
	return loop->virt ? loop->virt_ms * 1000 : ev_now_us();
}

uint64_t ev_loop_now_ms(const struct ev_loop *loop)
{
	return loop->virt ? loop->virt_ms : ev_now_ms();
}

uint64_t ev_loop_wall_us(const struct ev_loop *loop)
{
	if (!loop->virt)
		return ev_wall_us();
	return (uint64_t)((int64_t)loop->virt_ms + loop->virt_wall_ms) * 1000;
}

uint64_t ev_loop_wall_ms(const struct ev_loop *loop)
{
	return ev_loop_wall_us(loop) / 1000;
}

int ev_loop_set_wall_ms(struct ev_loop *loop, uint64_t wall_ms)
{
	if (!loop->virt) {
		errno = EINVAL;
		return -1;
	}
	loop->virt_wall_ms = (int64_t)wall_ms - (int64_t)loop->virt_ms;
	return 0;
}

bool ev_loop_is_virtual(const struct ev_loop *loop)
{
	return loop->virt;
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

struct ev_loop *ev_loop_new_virtual(uint64_t start_ms)
{
	struct ev_loop *loop = ev_loop_new();

	if (loop == NULL)
		return NULL;
	loop->virt = true;
	loop->virt_ms = start_ms;
	loop->virt_wall_ms = (int64_t)EV_VIRTUAL_WALL_MS - (int64_t)start_ms;
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
	loop->n_ios++;
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
	loop->n_ios--;
}

/* ---- timer heap: a min-heap on (deadline_ms, seq) ---- */

static bool timer_before(const struct ev_timer *a, const struct ev_timer *b)
{
	return a->deadline_ms != b->deadline_ms ? a->deadline_ms < b->deadline_ms : a->seq < b->seq;
}

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
		if (!timer_before(t, loop->heap[parent]))
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
		if (c + 1 < loop->heap_len && timer_before(loop->heap[c + 1], loop->heap[c]))
			c++;
		if (!timer_before(loop->heap[c], t))
			break;
		heap_set(loop, i, loop->heap[c]);
		i = c;
	}
	heap_set(loop, i, t);
}

void ev_timer_init(struct ev_timer *t, ev_timer_cb cb, void *arg)
{
	t->deadline_ms = 0;
	t->seq = 0;
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
	t->deadline_ms = ev_loop_now_ms(loop) + after_ms;
	t->seq = loop->timer_seq++;
	heap_set(loop, loop->heap_len++, t);
	heap_up(loop, t->heap_idx);
	return 0;
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

/* Has the run reached its end (apart from the deadline)? */
static bool ev_done(struct ev_loop *loop, struct ev_until *u)
{
	if (!u->met && u->cond != NULL)
		u->met = u->cond(u->arg);
	return u->met || loop->stop;
}

/* Fire every timer that is due; a callback may re-arm or stop any timer. */
static void ev_run_timers(struct ev_loop *loop, struct ev_until *u)
{
	uint64_t now = ev_loop_now_ms(loop);

	while (loop->heap_len > 0 && loop->heap[0]->deadline_ms <= now && !ev_done(loop, u)) {
		struct ev_timer *t = loop->heap[0];
		ev_timer_stop(loop, t);
		t->cb(loop, t, t->arg);
	}
}

/* Dispatch what the descriptors have, waiting up to wait_ms (-1: no limit). */
static int ev_poll(struct ev_loop *loop, int wait_ms)
{
	struct epoll_event evs[64];
	int n = epoll_wait(loop->epfd, evs, 64, wait_ms);

	if (n < 0) {
		if (errno == EINTR)
			return 0;
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
	return 0;
}

/* How long a real loop may wait in epoll: until the next timer or the deadline. */
static int ev_wait_ms(const struct ev_loop *loop, uint64_t now, uint64_t deadline)
{
	uint64_t until = deadline;

	if (loop->heap_len > 0 && loop->heap[0]->deadline_ms < until)
		until = loop->heap[0]->deadline_ms;
	if (until == UINT64_MAX)
		return -1;
	if (until <= now)
		return 0;
	return until - now > EV_MAX_WAIT_MS ? EV_MAX_WAIT_MS : (int)(until - now);
}

static int ev_run_real(struct ev_loop *loop, struct ev_until *u)
{
	while (!ev_done(loop, u)) {
		uint64_t now = ev_now_ms();
		if (now >= u->deadline_ms)
			break;
		if (ev_poll(loop, ev_wait_ms(loop, now, u->deadline_ms)) < 0)
			return -1;
		ev_run_timers(loop, u);
	}
	return 0;
}

/*
 * Whatever is ready or due now; then the clock jumps to the next timer, or
 * to the deadline when that comes first, or the run ends idle.
 */
static int ev_run_virtual(struct ev_loop *loop, struct ev_until *u)
{
	while (!ev_done(loop, u)) {
		if (loop->n_ios > 0 && ev_poll(loop, 0) < 0)
			return -1;
		ev_run_timers(loop, u);
		if (ev_done(loop, u))
			break;
		if (loop->heap_len == 0 || loop->heap[0]->deadline_ms > u->deadline_ms) {
			if (u->deadline_ms != UINT64_MAX)
				loop->virt_ms = u->deadline_ms;
			break;
		}
		/* Nothing is due now (ev_run_timers fired it all): the next one is later. */
		loop->virt_ms = loop->heap[0]->deadline_ms;
	}
	return 0;
}

static int ev_run(struct ev_loop *loop, struct ev_until *u)
{
	loop->stop = false;
	return loop->virt ? ev_run_virtual(loop, u) : ev_run_real(loop, u);
}

int ev_loop_run(struct ev_loop *loop)
{
	struct ev_until u = {.deadline_ms = UINT64_MAX};

	return ev_run(loop, &u);
}

bool ev_loop_run_until(struct ev_loop *loop, uint64_t max_ms, bool (*cond)(void *arg), void *arg)
{
	uint64_t now = ev_loop_now_ms(loop);
	struct ev_until u = {.deadline_ms = max_ms >= UINT64_MAX - now ? UINT64_MAX : now + max_ms,
			     .cond = cond,
			     .arg = arg};

	ev_run(loop, &u);
	return u.met;
}

void ev_loop_advance(struct ev_loop *loop, uint64_t ms)
{
	ev_loop_run_until(loop, ms, NULL, NULL);
}
