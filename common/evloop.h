/*
 * A single-threaded event loop: file descriptors through epoll, timers in a
 * binary heap keyed by their deadline on the loop's clock, and signals
 * through signalfd so that a handler runs in loop context like everything
 * else.
 *
 * The loop is also the clock of everything that runs on it: libraries read
 * the time with ev_loop_now_ms() (monotonic) and ev_loop_wall_ms() (since
 * 1970, for timestamps other parties compare), never from the system.  A
 * daemon's loop reads CLOCK_MONOTONIC and CLOCK_REALTIME; a test's virtual
 * loop (ev_loop_new_virtual) has a clock that moves only when the test
 * drives it, so a lifetime of minutes is tested in microseconds and the
 * same run always sees the same times.
 */
#ifndef MIPSA_EVLOOP_H
#define MIPSA_EVLOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ev_loop;
struct ev_timer;

typedef void (*ev_io_cb)(struct ev_loop *loop, int fd, uint32_t events, void *arg);
typedef void (*ev_timer_cb)(struct ev_loop *loop, struct ev_timer *t, void *arg);
typedef void (*ev_signal_cb)(struct ev_loop *loop, int signo, void *arg);

/* Embedded in its owner; the loop keeps only a pointer. */
struct ev_timer {
	uint64_t deadline_ms; /* on the loop's monotonic clock */
	uint64_t seq;         /* arming order: timers due together fire first armed first */
	size_t heap_idx;      /* position in the heap; SIZE_MAX when not armed */
	ev_timer_cb cb;
	void *arg;
};

/* What a virtual loop's wall clock reads when the loop is made: 2026-01-01T00:00:00Z. */
#define EV_VIRTUAL_WALL_MS 1767225600000ULL

/* A loop on the system's clocks (CLOCK_MONOTONIC, CLOCK_REALTIME). */
struct ev_loop *ev_loop_new(void);
/*
 * A loop on a virtual clock that reads start_ms until the loop is driven
 * (ev_loop_run_until, ev_loop_advance, ev_loop_run); its wall clock starts
 * at EV_VIRTUAL_WALL_MS and moves with it (ev_loop_set_wall_ms steps it).
 * Descriptors are polled without waiting: when none is ready the
 * clock jumps to the next timer, so a virtual loop suits peers in memory,
 * not sockets another process answers.
 */
struct ev_loop *ev_loop_new_virtual(uint64_t start_ms);
void ev_loop_free(struct ev_loop *loop);
bool ev_loop_is_virtual(const struct ev_loop *loop);

/* The loop's monotonic clock, the one its timers run on. */
uint64_t ev_loop_now_ms(const struct ev_loop *loop);
uint64_t ev_loop_now_us(const struct ev_loop *loop);
/* The loop's wall clock since 1970, for timestamps on the wire. */
uint64_t ev_loop_wall_ms(const struct ev_loop *loop);
uint64_t ev_loop_wall_us(const struct ev_loop *loop);
/*
 * A virtual loop's wall clock reads wall_ms from now on (a step, as when
 * NTP sets a clock); the monotonic clock does not move.  -1 on a real loop.
 */
int ev_loop_set_wall_ms(struct ev_loop *loop, uint64_t wall_ms);

/*
 * The system's clocks, monotonic and wall, for code not yet given a loop
 * and for measurements of real elapsed time; libraries use their loop's.
 */
uint64_t ev_now_ms(void);
uint64_t ev_now_us(void);
uint64_t ev_wall_ms(void);
uint64_t ev_wall_us(void);

/* events: EPOLLIN / EPOLLOUT.  Returns 0 or -1 with errno set. */
int ev_io_add(struct ev_loop *loop, int fd, uint32_t events, ev_io_cb cb, void *arg);
int ev_io_mod(struct ev_loop *loop, int fd, uint32_t events);
void ev_io_del(struct ev_loop *loop, int fd);

void ev_timer_init(struct ev_timer *t, ev_timer_cb cb, void *arg);
/* Arm (or re-arm) the timer to fire once, after_ms from now on the loop's clock. */
int ev_timer_start(struct ev_loop *loop, struct ev_timer *t, uint64_t after_ms);
void ev_timer_stop(struct ev_loop *loop, struct ev_timer *t);
bool ev_timer_armed(const struct ev_timer *t);

/* Route a signal to cb inside the loop (blocks its asynchronous delivery). */
int ev_signal_add(struct ev_loop *loop, int signo, ev_signal_cb cb, void *arg);

/*
 * Run until ev_loop_stop(); returns 0, or -1 on an epoll failure.  A
 * virtual loop also returns once no timer is armed and no descriptor is
 * ready: nothing could ever happen on it again.
 */
int ev_loop_run(struct ev_loop *loop);
void ev_loop_stop(struct ev_loop *loop);

/*
 * Run until cond(arg) holds or max_ms have passed on the loop's clock (or
 * ev_loop_stop(), or an epoll failure); true when cond held.  cond is
 * asked first, then after every timer callback and every batch of I/O, so
 * a virtual loop's clock stops at the very moment it became true.  cond
 * NULL: run for max_ms.  On a virtual loop every timer due on the way
 * fires at its own deadline, in deadline order.
 */
bool ev_loop_run_until(struct ev_loop *loop, uint64_t max_ms, bool (*cond)(void *arg), void *arg);
/* ev_loop_run_until() without a condition: move the clock ms forward. */
void ev_loop_advance(struct ev_loop *loop, uint64_t ms);

#endif
