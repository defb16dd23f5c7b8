/*
 * Unit tests for common/evloop.c's clocks and timers: a virtual loop's
 * clock moves only when driven and fires each timer at its own deadline,
 * in deadline order and, for equal deadlines, in the order they were
 * armed; ev_loop_run_until stops the clock the moment its condition holds;
 * the wall clock follows the virtual one and can be stepped; descriptors
 * that are ready are served before the clock jumps.  A real loop is
 * checked briefly against CLOCK_MONOTONIC.
 */
#include "check_main.h"
#include "evloop.h"

#include <check.h>
#include <sys/epoll.h>
#include <unistd.h>

#define START_MS 5000
#define N_FIRED  16

/* What the timers saw: which one fired (its arg) and when. */
static struct {
	int who[N_FIRED];
	uint64_t at[N_FIRED];
	size_t n;
} fired;

static void on_fire(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	(void)t;
	ck_assert_uint_lt(fired.n, N_FIRED);
	fired.who[fired.n] = (int)(intptr_t)arg;
	fired.at[fired.n++] = ev_loop_now_ms(loop);
}

/* A periodic timer: re-armed every 100 ms from inside its callback. */
static void on_tick(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	on_fire(loop, t, arg);
	ev_timer_start(loop, t, 100);
}

static void on_stop(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	on_fire(loop, t, arg);
	ev_loop_stop(loop);
}

static bool fired_3(void *arg)
{
	(void)arg;
	return fired.n >= 3;
}

static bool never(void *arg)
{
	(void)arg;
	return false;
}

static struct ev_loop *vloop(void)
{
	struct ev_loop *loop = ev_loop_new_virtual(START_MS);

	ck_assert_ptr_nonnull(loop);
	fired.n = 0;
	return loop;
}

START_TEST(test_virtual_clock_still)
{
	struct ev_loop *loop = vloop();

	ck_assert(ev_loop_is_virtual(loop));
	ck_assert_uint_eq(ev_loop_now_ms(loop), START_MS);
	ck_assert_uint_eq(ev_loop_now_us(loop), START_MS * 1000ULL);
	ck_assert_uint_eq(ev_loop_wall_ms(loop), EV_VIRTUAL_WALL_MS);
	ck_assert_uint_eq(ev_loop_wall_us(loop), EV_VIRTUAL_WALL_MS * 1000);
	/* real time passes, the loop's does not */
	usleep(2000);
	ck_assert_uint_eq(ev_loop_now_ms(loop), START_MS);
	ev_loop_advance(loop, 1234);
	ck_assert_uint_eq(ev_loop_now_ms(loop), START_MS + 1234);
	ck_assert_uint_eq(ev_loop_wall_ms(loop), EV_VIRTUAL_WALL_MS + 1234);
	ev_loop_free(loop);
}
END_TEST

START_TEST(test_virtual_order)
{
	struct ev_loop *loop = vloop();
	struct ev_timer t[5];
	const uint64_t after[5] = {300, 100, 200, 100, 0};

	for (int i = 0; i < 5; i++) {
		ev_timer_init(&t[i], on_fire, (void *)(intptr_t)i);
		ck_assert_int_eq(ev_timer_start(loop, &t[i], after[i]), 0);
	}
	ev_loop_advance(loop, 250);
	/* due ones in deadline order, 1 before 3 (armed first), each at its deadline */
	ck_assert_uint_eq(fired.n, 4);
	const int who[4] = {4, 1, 3, 2};
	const uint64_t at[4] = {0, 100, 100, 200};
	for (size_t i = 0; i < 4; i++) {
		ck_assert_int_eq(fired.who[i], who[i]);
		ck_assert_uint_eq(fired.at[i], START_MS + at[i]);
	}
	ck_assert(ev_timer_armed(&t[0]));
	ck_assert_uint_eq(ev_loop_now_ms(loop), START_MS + 250);
	ev_loop_advance(loop, 50);
	ck_assert_uint_eq(fired.n, 5);
	ck_assert_uint_eq(fired.at[4], START_MS + 300);
	ck_assert(!ev_timer_armed(&t[0]));
	ev_loop_free(loop);
}
END_TEST

START_TEST(test_virtual_periodic_and_stop)
{
	struct ev_loop *loop = vloop();
	struct ev_timer tick, gone;

	ev_timer_init(&tick, on_tick, (void *)1);
	ev_timer_init(&gone, on_fire, (void *)2);
	ev_timer_start(loop, &tick, 100);
	ev_timer_start(loop, &gone, 150);
	ev_timer_stop(loop, &gone);
	ev_loop_advance(loop, 1000);
	ck_assert_uint_eq(fired.n, 10);
	for (size_t i = 0; i < fired.n; i++) {
		ck_assert_int_eq(fired.who[i], 1);
		ck_assert_uint_eq(fired.at[i], START_MS + 100 * (i + 1));
	}
	ck_assert(ev_timer_armed(&tick));
	ev_timer_stop(loop, &tick);
	ev_loop_free(loop);
}
END_TEST

START_TEST(test_virtual_run_until)
{
	struct ev_loop *loop = vloop();
	struct ev_timer tick;

	/* true at once: the clock does not move */
	fired.n = 3;
	ck_assert(ev_loop_run_until(loop, 1000, fired_3, NULL));
	ck_assert_uint_eq(ev_loop_now_ms(loop), START_MS);
	fired.n = 0;
	ev_timer_init(&tick, on_tick, (void *)1);
	ev_timer_start(loop, &tick, 100);
	/* the clock stops when the third tick made it true */
	ck_assert(ev_loop_run_until(loop, 60000, fired_3, NULL));
	ck_assert_uint_eq(ev_loop_now_ms(loop), START_MS + 300);
	ck_assert_uint_eq(fired.n, 3);
	/* never true: false, at the deadline, the ticks on the way all fired */
	ck_assert(!ev_loop_run_until(loop, 250, never, NULL));
	ck_assert_uint_eq(ev_loop_now_ms(loop), START_MS + 550);
	ck_assert_uint_eq(fired.n, 5);
	ev_timer_stop(loop, &tick);
	ev_loop_free(loop);
}
END_TEST

START_TEST(test_virtual_run_idle_and_stop)
{
	struct ev_loop *loop = vloop();
	struct ev_timer a, b, c;

	/* nothing armed: ev_loop_run returns at once, the clock where it was */
	ck_assert_int_eq(ev_loop_run(loop), 0);
	ck_assert_uint_eq(ev_loop_now_ms(loop), START_MS);
	ev_timer_init(&a, on_fire, (void *)1);
	ev_timer_init(&b, on_stop, (void *)2);
	ev_timer_init(&c, on_fire, (void *)3);
	ev_timer_start(loop, &a, 10);
	ev_timer_start(loop, &b, 20);
	ev_timer_start(loop, &c, 30);
	/* b stops the run at 20 ms; c is left for the next run, which ends idle */
	ck_assert_int_eq(ev_loop_run(loop), 0);
	ck_assert_uint_eq(fired.n, 2);
	ck_assert_uint_eq(ev_loop_now_ms(loop), START_MS + 20);
	ck_assert_int_eq(ev_loop_run(loop), 0);
	ck_assert_uint_eq(fired.n, 3);
	ck_assert_int_eq(fired.who[2], 3);
	ck_assert_uint_eq(ev_loop_now_ms(loop), START_MS + 30);
	ev_loop_free(loop);
}
END_TEST

START_TEST(test_virtual_wall_step)
{
	struct ev_loop *loop = vloop();
	struct ev_loop *real = ev_loop_new();

	ev_loop_advance(loop, 500);
	/* NTP steps the clock back an hour: wall time moves, the monotonic clock does not */
	ck_assert_int_eq(ev_loop_set_wall_ms(loop, EV_VIRTUAL_WALL_MS - 3600000), 0);
	ck_assert_uint_eq(ev_loop_wall_ms(loop), EV_VIRTUAL_WALL_MS - 3600000);
	ck_assert_uint_eq(ev_loop_now_ms(loop), START_MS + 500);
	ev_loop_advance(loop, 1000);
	ck_assert_uint_eq(ev_loop_wall_ms(loop), EV_VIRTUAL_WALL_MS - 3600000 + 1000);
	/* a real loop's clocks are the system's */
	ck_assert_ptr_nonnull(real);
	ck_assert(!ev_loop_is_virtual(real));
	ck_assert_int_eq(ev_loop_set_wall_ms(real, 0), -1);
	ev_loop_free(real);
	ev_loop_free(loop);
}
END_TEST

static void on_readable(struct ev_loop *loop, int fd, uint32_t events, void *arg)
{
	char c;

	(void)events;
	(void)arg;
	ck_assert_int_eq(read(fd, &c, 1), 1);
	on_fire(loop, NULL, (void *)(intptr_t)c);
}

START_TEST(test_virtual_io_first)
{
	struct ev_loop *loop = vloop();
	struct ev_timer t;
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(ev_io_add(loop, p[0], EPOLLIN, on_readable, NULL), 0);
	ev_timer_init(&t, on_fire, (void *)1);
	ev_timer_start(loop, &t, 100);
	ck_assert_int_eq(write(p[1], "\x07", 1), 1);
	/* the byte is there now: served at the current time, before the timer */
	ev_loop_advance(loop, 200);
	ck_assert_uint_eq(fired.n, 2);
	ck_assert_int_eq(fired.who[0], 7);
	ck_assert_uint_eq(fired.at[0], START_MS);
	ck_assert_int_eq(fired.who[1], 1);
	ck_assert_uint_eq(fired.at[1], START_MS + 100);
	ev_io_del(loop, p[0]);
	close(p[0]);
	close(p[1]);
	ev_loop_free(loop);
}
END_TEST

START_TEST(test_real_loop)
{
	struct ev_loop *loop = ev_loop_new();
	struct ev_timer t[3];
	uint64_t t0;

	ck_assert_ptr_nonnull(loop);
	fired.n = 0;
	t0 = ev_now_ms();
	ck_assert_uint_le(ev_loop_now_ms(loop) - t0, 1);
	for (int i = 0; i < 3; i++) {
		ev_timer_init(&t[i], on_fire, (void *)(intptr_t)i);
		ev_timer_start(loop, &t[i], i == 2 ? 20 : 0);
	}
	/* due together: in the order armed; then 20 ms later on CLOCK_MONOTONIC */
	ck_assert(ev_loop_run_until(loop, 1000, fired_3, NULL));
	ck_assert_int_eq(fired.who[0], 0);
	ck_assert_int_eq(fired.who[1], 1);
	ck_assert_uint_ge(ev_now_ms() - t0, 20);
	ck_assert_uint_ge(fired.at[2], t0 + 20);
	/* nothing due: run_until returns false once its deadline has passed */
	t0 = ev_now_ms();
	ck_assert(!ev_loop_run_until(loop, 10, never, NULL));
	ck_assert_uint_ge(ev_now_ms() - t0, 10);
	ev_loop_free(loop);
}
END_TEST

static Suite *evloop_suite(void)
{
	Suite *s = suite_create("evloop");
	TCase *tc = tcase_create("clocks and timers");

	tcase_add_test(tc, test_virtual_clock_still);
	tcase_add_test(tc, test_virtual_order);
	tcase_add_test(tc, test_virtual_periodic_and_stop);
	tcase_add_test(tc, test_virtual_run_until);
	tcase_add_test(tc, test_virtual_run_idle_and_stop);
	tcase_add_test(tc, test_virtual_wall_step);
	tcase_add_test(tc, test_virtual_io_first);
	tcase_add_test(tc, test_real_loop);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_main(evloop_suite());
}
