/*
 * A single-threaded event loop: file descriptors through epoll, timers in a
 * binary heap keyed by their monotonic deadline, and signals through
 * signalfd so that a handler runs in loop context like everything else.
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
	uint64_t deadline_ms;
	size_t heap_idx; /* position in the heap; SIZE_MAX when not armed */
	ev_timer_cb cb;
	void *arg;
};

struct ev_loop *ev_loop_new(void);
void ev_loop_free(struct ev_loop *loop);

/* Monotonic milliseconds, the clock every timer runs on. */
uint64_t ev_now_ms(void);
/* Monotonic microseconds, for measurements. */
uint64_t ev_now_us(void);

/* events: EPOLLIN / EPOLLOUT.  Returns 0 or -1 with errno set. */
int ev_io_add(struct ev_loop *loop, int fd, uint32_t events, ev_io_cb cb, void *arg);
int ev_io_mod(struct ev_loop *loop, int fd, uint32_t events);
void ev_io_del(struct ev_loop *loop, int fd);

void ev_timer_init(struct ev_timer *t, ev_timer_cb cb, void *arg);
/* Arm (or re-arm) the timer to fire once, after_ms from now. */
int ev_timer_start(struct ev_loop *loop, struct ev_timer *t, uint64_t after_ms);
void ev_timer_stop(struct ev_loop *loop, struct ev_timer *t);
bool ev_timer_armed(const struct ev_timer *t);

/* Route a signal to cb inside the loop (blocks its asynchronous delivery). */
int ev_signal_add(struct ev_loop *loop, int signo, ev_signal_cb cb, void *arg);

/* Run until ev_loop_stop(); returns 0, or -1 on an epoll failure. */
int ev_loop_run(struct ev_loop *loop);
void ev_loop_stop(struct ev_loop *loop);

#endif
