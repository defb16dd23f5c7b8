/*
 * What every benchmark in tools/ needs: a monotonic clock in seconds, the
 * wall clock in ms (sax timestamps), and an address from a literal.
 */
#ifndef MIPSA_BENCH_H
#define MIPSA_BENCH_H

#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

static inline double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static inline struct in_addr ip(const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		abort();
	return a;
}

#endif
