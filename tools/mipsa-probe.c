/*
 * mipsa-probe -- hand-over probe for the mipsa testbed (libc only).
 *
 *   mipsa-probe send --to ADDR --port P --interval-us N [--count N] [--duration-s S]
 *                    [--bind ADDR] [--size BYTES]
 *   mipsa-probe recv --port P --out FILE [--duration-s S] [--bind ADDR]
 *   mipsa-probe gaps --in FILE --moves MOVESFILE [--json]
 *
 * Datagram (network byte order): magic u32 "MIPB", version u32 (1), sequence
 * number u64 (from 1), CLOCK_REALTIME send time u64 in microseconds, then zero
 * padding up to --size.
 *
 * send keeps a fixed grid of absolute CLOCK_MONOTONIC deadlines t0 + k * interval
 * (clock_nanosleep TIMER_ABSTIME), so the rate does not drift.  If the sender
 * falls behind by more than one interval (stopped, descheduled) it sends one
 * late datagram and skips the missed slots instead of bursting; skipped slots
 * do not consume sequence numbers, failed sends do (they count as lost).
 *
 * recv writes one text line per valid datagram: "seq send_us recv_us" where
 * recv_us is the kernel receive timestamp (SO_TIMESTAMPNS, CLOCK_REALTIME).
 *
 * gaps reads that file and a moves file (lines "<start_us> <end_us> [from [to]]",
 * as written by testbed/lib.sh tb_move).  For each move, the gap is the recv time
 * of the first datagram received after the move started minus that of the last
 * one received before it, where "after"/"before" are taken around the longest
 * silence overlapping [start_us, end_us]: a datagram that was in flight in the
 * ~1 ms between the recorded start and the link really going down must not hide
 * the outage.  With no datagram inside the window this is exactly "first at or
 * after start_us minus last before start_us".  lost = sequence numbers between
 * those two datagrams that were never received at all.  resume = recv time of
 * the datagram ending the gap minus end_us.  Exit status: 0 ok, 1 error, 2 a
 * move had no data (no datagram before or after its start) or the moves file
 * listed no move.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PROBE_MAGIC   0x4d495042u /* "MIPB" */
#define PROBE_VERSION 1u
#define PROBE_HDR_LEN 24
#define PROBE_MAX_LEN 65507
#define US_PER_SEC    1000000ull

#define EXIT_NODATA 2

static const char *prog = "mipsa-probe";
static volatile sig_atomic_t stop_flag;

/* ---- small helpers ---------------------------------------------------------------------- */

__attribute__((format(printf, 1, 2), noreturn)) static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_FAILURE);
}

/* die with "<func>: <strerror(err)>" */
__attribute__((noreturn)) static void die_err(const char *func, int err)
{
	die("%s: %s", func, strerror(err));
}

__attribute__((format(printf, 1, 2))) static void warnx(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void *xrealloc(void *p, size_t nmemb, size_t size)
{
	void *q;

	if (size != 0 && nmemb > SIZE_MAX / size)
		die("realloc: array too large");
	q = realloc(p, nmemb * size);
	if (q == NULL)
		die_err("realloc", errno);
	return q;
}

static uint64_t now_us(clockid_t clk)
{
	struct timespec ts;

	if (clock_gettime(clk, &ts) != 0)
		die_err("clock_gettime", errno);
	return (uint64_t)ts.tv_sec * US_PER_SEC + (uint64_t)ts.tv_nsec / 1000u;
}

static struct timespec us_to_ts(uint64_t us)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(us / US_PER_SEC);
	ts.tv_nsec = (long)(us % US_PER_SEC) * 1000;
	return ts;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get_be64(const uint8_t *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

/* strict unsigned decimal parse: whole string, no sign, in [min, max] */
static bool parse_u64_str(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (s == NULL || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return false;
	*out = v;
	return true;
}

static uint64_t opt_u64(const char *opt, const char *s, uint64_t min, uint64_t max)
{
	uint64_t v;

	if (!parse_u64_str(s, &v) || v < min || v > max)
		die("--%s: expected an integer in [%" PRIu64 ", %" PRIu64 "], got '%s'", opt, min,
		    max, s);
	return v;
}

/* seconds (may be fractional) -> microseconds, > 0 */
static uint64_t opt_seconds(const char *opt, const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !isfinite(v) || v <= 0.0 || v > 1e9)
		die("--%s: expected a positive number of seconds, got '%s'", opt, s);
	return (uint64_t)(v * 1e6 + 0.5);
}

static struct in_addr opt_addr(const char *opt, const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		die("--%s: not an IPv4 address: '%s'", opt, s);
	return a;
}

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/* SIGINT/SIGTERM set stop_flag; no SA_RESTART so blocking calls return EINTR */
static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	if (sigemptyset(&sa.sa_mask) != 0)
		die_err("sigemptyset", errno);
	if (sigaction(SIGINT, &sa, NULL) != 0)
		die_err("sigaction", errno);
	if (sigaction(SIGTERM, &sa, NULL) != 0)
		die_err("sigaction", errno);
}

static int udp_socket(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die_err("socket", errno);
	return fd;
}

static void bind_addr(int fd, struct in_addr addr, uint16_t port)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr = addr;
	sin.sin_port = htons(port);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0)
		die_err("bind", errno);
}

/* ---- send ---------------------------------------------------------------------------------- */

static void sleep_until_mono(uint64_t deadline_us)
{
	struct timespec ts = us_to_ts(deadline_us);
	int rc;

	while (!stop_flag) {
		rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		if (rc == 0)
			return;
		if (rc != EINTR)
			die_err("clock_nanosleep", rc);
	}
}

__attribute__((noreturn)) static void usage_send(void)
{
	fprintf(stderr,
		"usage: %s send --to ADDR --port P --interval-us N [--count N] "
		"[--duration-s S] [--bind ADDR] [--size BYTES]\n",
		prog);
	exit(EXIT_FAILURE);
}

static int cmd_send(int argc, char **argv)
{
	static const struct option lopts[] = {
		{"to", required_argument, NULL, 't'},
		{"port", required_argument, NULL, 'p'},
		{"interval-us", required_argument, NULL, 'i'},
		{"count", required_argument, NULL, 'c'},
		{"duration-s", required_argument, NULL, 'd'},
		{"bind", required_argument, NULL, 'b'},
		{"size", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct sockaddr_in dst;
	struct in_addr bind_a = {.s_addr = htonl(INADDR_ANY)};
	bool have_to = false, have_port = false, have_bind = false;
	uint64_t interval = 0, count = 0, duration = 0, size = PROBE_HDR_LEN;
	uint64_t t0, end_mono, slot = 0, seq = 1, sent = 0, errors = 0, skipped = 0;
	int last_err = 0, fd, opt;
	uint8_t *pkt;

	memset(&dst, 0, sizeof(dst));
	dst.sin_family = AF_INET;
	while ((opt = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (opt) {
		case 't':
			dst.sin_addr = opt_addr("to", optarg);
			have_to = true;
			break;
		case 'p':
			dst.sin_port = htons((uint16_t)opt_u64("port", optarg, 1, 65535));
			have_port = true;
			break;
		case 'i':
			interval = opt_u64("interval-us", optarg, 1, 3600 * US_PER_SEC);
			break;
		case 'c':
			count = opt_u64("count", optarg, 1, UINT64_MAX - 1);
			break;
		case 'd':
			duration = opt_seconds("duration-s", optarg);
			break;
		case 'b':
			bind_a = opt_addr("bind", optarg);
			have_bind = true;
			break;
		case 's':
			size = opt_u64("size", optarg, PROBE_HDR_LEN, PROBE_MAX_LEN);
			break;
		default:
			usage_send();
		}
	}
	if (optind != argc || !have_to || !have_port || interval == 0)
		usage_send();

	install_signals();
	fd = udp_socket();
	if (have_bind)
		bind_addr(fd, bind_a, 0);
	pkt = calloc(1, (size_t)size);
	if (pkt == NULL)
		die_err("calloc", errno);
	put_be32(pkt, PROBE_MAGIC);
	put_be32(pkt + 4, PROBE_VERSION);

	t0 = now_us(CLOCK_MONOTONIC);
	end_mono = duration != 0 ? t0 + duration : UINT64_MAX;
	while (!stop_flag && (count == 0 || seq <= count)) {
		uint64_t deadline = t0 + slot * interval, now, latest;

		if (deadline >= end_mono)
			break;
		sleep_until_mono(deadline);
		if (stop_flag)
			break;

		put_be64(pkt + 8, seq);
		put_be64(pkt + 16, now_us(CLOCK_REALTIME));
		if (sendto(fd, pkt, (size_t)size, 0, (struct sockaddr *)&dst, sizeof(dst)) < 0) {
			/* no route, unreachable, filtered: expected during hand-over */
			if (errno != last_err)
				warnx("sendto: %s (seq %" PRIu64 ", continuing)", strerror(errno),
				      seq);
			last_err = errno;
			errors++;
		} else {
			last_err = 0;
			sent++;
		}
		seq++;

		/* next slot; if even that one has passed, resume at the latest passed slot */
		slot++;
		now = now_us(CLOCK_MONOTONIC);
		latest = (now - t0) / interval;
		if (latest > slot) {
			skipped += latest - slot;
			slot = latest;
		}
	}

	fprintf(stderr,
		"%s send: %" PRIu64 " datagrams sent, %" PRIu64 " send errors, %" PRIu64
		" slots skipped, %.3f s\n",
		prog, sent, errors, skipped, (double)(now_us(CLOCK_MONOTONIC) - t0) / 1e6);
	free(pkt);
	if (close(fd) != 0)
		die_err("close", errno);
	return 0;
}

/* ---- recv ---------------------------------------------------------------------------------- */

__attribute__((noreturn)) static void usage_recv(void)
{
	fprintf(stderr, "usage: %s recv --port P --out FILE|- [--duration-s S] [--bind ADDR]\n",
		prog);
	exit(EXIT_FAILURE);
}

static void flush_out(FILE *out)
{
	if (fflush(out) != 0)
		die_err("fflush", errno);
}

/* receive everything queued; returns false when the socket is drained */
static bool recv_one(int fd, FILE *out, uint64_t *n_ok, uint64_t *n_bad)
{
	uint8_t buf[PROBE_MAX_LEN + 1];
	union {
		char b[CMSG_SPACE(sizeof(struct timespec))];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = {.iov_base = buf, .iov_len = sizeof(buf)};
	struct msghdr msg;
	struct cmsghdr *c;
	uint64_t recv_us = 0;
	ssize_t n;

	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = cbuf.b;
	msg.msg_controllen = sizeof(cbuf.b);
	n = recvmsg(fd, &msg, MSG_DONTWAIT);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return false;
		die_err("recvmsg", errno);
	}
	for (c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec ts;

			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			recv_us = (uint64_t)ts.tv_sec * US_PER_SEC + (uint64_t)ts.tv_nsec / 1000u;
		}
	}
	if (recv_us == 0)
		recv_us = now_us(CLOCK_REALTIME);

	if (n < PROBE_HDR_LEN || get_be32(buf) != PROBE_MAGIC ||
	    get_be32(buf + 4) != PROBE_VERSION) {
		(*n_bad)++;
		return true;
	}
	if (fprintf(out, "%" PRIu64 " %" PRIu64 " %" PRIu64 "\n", get_be64(buf + 8),
		    get_be64(buf + 16), recv_us) < 0)
		die_err("fprintf", errno);
	(*n_ok)++;
	return true;
}

static int cmd_recv(int argc, char **argv)
{
	static const struct option lopts[] = {
		{"port", required_argument, NULL, 'p'},
		{"out", required_argument, NULL, 'o'},
		{"duration-s", required_argument, NULL, 'd'},
		{"bind", required_argument, NULL, 'b'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct in_addr bind_a = {.s_addr = htonl(INADDR_ANY)};
	const char *path = NULL;
	uint64_t duration = 0, deadline = 0, last_flush, n_ok = 0, n_bad = 0;
	uint16_t port = 0;
	sigset_t block, waitmask;
	struct pollfd pfd;
	FILE *out;
	int fd, opt, one = 1, rcvbuf = 4 << 20;

	while ((opt = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			port = (uint16_t)opt_u64("port", optarg, 1, 65535);
			break;
		case 'o':
			path = optarg;
			break;
		case 'd':
			duration = opt_seconds("duration-s", optarg);
			break;
		case 'b':
			bind_a = opt_addr("bind", optarg);
			break;
		default:
			usage_recv();
		}
	}
	if (optind != argc || port == 0 || path == NULL)
		usage_recv();

	/* SIGINT/SIGTERM are only delivered inside ppoll(): no lost wake-ups */
	if (sigemptyset(&block) != 0 || sigaddset(&block, SIGINT) != 0 ||
	    sigaddset(&block, SIGTERM) != 0)
		die_err("sigaddset", errno);
	if (sigprocmask(SIG_BLOCK, &block, &waitmask) != 0)
		die_err("sigprocmask", errno);
	if (sigdelset(&waitmask, SIGINT) != 0 || sigdelset(&waitmask, SIGTERM) != 0)
		die_err("sigdelset", errno);
	install_signals();

	fd = udp_socket();
	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) != 0)
		warnx("setsockopt(SO_TIMESTAMPNS): %s (using user-space timestamps)",
		      strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) != 0)
		warnx("setsockopt(SO_RCVBUF): %s", strerror(errno));
	bind_addr(fd, bind_a, port);

	if (strcmp(path, "-") == 0) {
		out = stdout;
	} else {
		out = fopen(path, "w");
		if (out == NULL)
			die("fopen: %s: %s", path, strerror(errno));
	}
	if (fprintf(out, "# mipsa-probe recv v1 port %u: seq send_us recv_us\n", port) < 0)
		die_err("fprintf", errno);
	flush_out(out);

	last_flush = now_us(CLOCK_MONOTONIC);
	if (duration != 0)
		deadline = last_flush + duration;
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (!stop_flag) {
		uint64_t now = now_us(CLOCK_MONOTONIC), wait = US_PER_SEC;
		struct timespec ts;
		int r;

		if (now - last_flush >= US_PER_SEC) {
			flush_out(out);
			last_flush = now;
		}
		if (deadline != 0) {
			if (now >= deadline)
				break;
			if (deadline - now < wait)
				wait = deadline - now;
		}
		ts = us_to_ts(wait);
		r = ppoll(&pfd, 1, &ts, &waitmask);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			die_err("ppoll", errno);
		}
		if (r > 0 && (pfd.revents & POLLIN))
			while (recv_one(fd, out, &n_ok, &n_bad))
				;
	}
	/* whatever is still queued arrived before we stopped */
	while (recv_one(fd, out, &n_ok, &n_bad))
		;

	flush_out(out);
	if (out != stdout && fclose(out) != 0)
		die_err("fclose", errno);
	if (close(fd) != 0)
		die_err("close", errno);
	fprintf(stderr, "%s recv: %" PRIu64 " datagrams recorded, %" PRIu64 " malformed\n", prog,
		n_ok, n_bad);
	return 0;
}

/* ---- gaps ---------------------------------------------------------------------------------- */

struct rec {
	uint64_t seq, send_us, recv_us;
};

struct move {
	uint64_t start_us, end_us;
	char *from, *to; /* NULL when absent */
	unsigned long line;
};

struct move_res {
	bool ok;
	const char *why;
	uint64_t gap_us, lost, seq_before, seq_after;
	int64_t resume_us; /* first datagram after the move relative to end_us */
};

__attribute__((noreturn)) static void usage_gaps(void)
{
	fprintf(stderr, "usage: %s gaps --in FILE --moves MOVESFILE [--json]\n", prog);
	exit(EXIT_FAILURE);
}

static FILE *open_in(const char *path)
{
	FILE *f = fopen(path, "r");

	if (f == NULL)
		die("fopen: %s: %s", path, strerror(errno));
	return f;
}

/* split line into at most max whitespace-separated tokens; returns the count */
static size_t tokenize(char *line, char **tok, size_t max)
{
	size_t n = 0;
	char *save = NULL, *t;

	for (t = strtok_r(line, " \t\r\n", &save); t != NULL && n < max;
	     t = strtok_r(NULL, " \t\r\n", &save))
		tok[n++] = t;
	return n;
}

static bool skip_line(const char *line)
{
	line += strspn(line, " \t\r\n");
	return *line == '\0' || *line == '#';
}

static struct rec *read_recs(const char *path, size_t *np)
{
	FILE *f = open_in(path);
	struct rec *v = NULL;
	size_t n = 0, cap = 0, lsz = 0;
	unsigned long lineno = 0;
	char *line = NULL, *tok[4];

	while (getline(&line, &lsz, f) != -1) {
		lineno++;
		if (skip_line(line))
			continue;
		if (n == cap) {
			cap = cap != 0 ? cap * 2 : 4096;
			v = xrealloc(v, cap, sizeof(*v));
		}
		if (tokenize(line, tok, 4) != 3 || !parse_u64_str(tok[0], &v[n].seq) ||
		    !parse_u64_str(tok[1], &v[n].send_us) || !parse_u64_str(tok[2], &v[n].recv_us))
			die("%s:%lu: expected 'seq send_us recv_us'", path, lineno);
		n++;
	}
	if (ferror(f) || !feof(f))
		die("getline: %s: %s", path, strerror(errno != 0 ? errno : EIO));
	free(line);
	if (fclose(f) != 0)
		die_err("fclose", errno);
	*np = n;
	return v;
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);

	if (d == NULL)
		die_err("strdup", errno);
	return d;
}

static struct move *read_moves(const char *path, size_t *np)
{
	FILE *f = open_in(path);
	struct move *v = NULL;
	size_t n = 0, cap = 0, lsz = 0, nt;
	unsigned long lineno = 0;
	char *line = NULL, *tok[4];

	while (getline(&line, &lsz, f) != -1) {
		lineno++;
		if (skip_line(line))
			continue;
		if (n == cap) {
			cap = cap != 0 ? cap * 2 : 16;
			v = xrealloc(v, cap, sizeof(*v));
		}
		nt = tokenize(line, tok, 4);
		if (nt < 2 || !parse_u64_str(tok[0], &v[n].start_us) ||
		    !parse_u64_str(tok[1], &v[n].end_us) || v[n].end_us < v[n].start_us)
			die("%s:%lu: expected '<start_us> <end_us> [from [to]]' with end >= start",
			    path, lineno);
		v[n].from = nt > 2 ? xstrdup(tok[2]) : NULL;
		v[n].to = nt > 3 ? xstrdup(tok[3]) : NULL;
		v[n].line = lineno;
		n++;
	}
	if (ferror(f) || !feof(f))
		die("getline: %s: %s", path, strerror(errno != 0 ? errno : EIO));
	free(line);
	if (fclose(f) != 0)
		die_err("fclose", errno);
	*np = n;
	return v;
}

static int cmp_rec_recv(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;

	if (x->recv_us != y->recv_us)
		return x->recv_us < y->recv_us ? -1 : 1;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* first index i in sorted v[0..n) with v[i] >= key */
static size_t lower_bound_u64(const uint64_t *v, size_t n, uint64_t key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* first index i with recs[i].recv_us >= key (recs sorted by recv_us) */
static size_t lower_bound_recv(const struct rec *r, size_t n, uint64_t key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (r[mid].recv_us < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void measure(const struct move *m, const struct rec *r, size_t n, const uint64_t *useq,
		    size_t nuseq, struct move_res *res)
{
	size_t i0 = lower_bound_recv(r, n, m->start_us), j, best;
	const struct rec *before, *after;

	memset(res, 0, sizeof(*res));
	if (i0 == 0) {
		res->why = "no packet received before the move";
		return;
	}
	if (i0 == n) {
		res->why = "no packet received after the move started";
		return;
	}
	/*
	 * The gap starts at the last datagram received before start_us, unless
	 * datagrams still trickled in while the link was being taken down: take the
	 * longest inter-arrival interval that overlaps [start_us, end_us].
	 */
	best = i0 - 1;
	for (j = i0; j + 1 < n && r[j].recv_us <= m->end_us; j++)
		if (r[j + 1].recv_us - r[j].recv_us > r[best + 1].recv_us - r[best].recv_us)
			best = j;
	before = &r[best];
	after = &r[best + 1];
	res->ok = true;
	res->gap_us = after->recv_us - before->recv_us;
	res->seq_before = before->seq;
	res->seq_after = after->seq;
	res->resume_us = (int64_t)(after->recv_us - m->end_us);
	if (after->seq > before->seq + 1) {
		uint64_t expect = after->seq - before->seq - 1;
		uint64_t present = lower_bound_u64(useq, nuseq, after->seq) -
				   lower_bound_u64(useq, nuseq, before->seq + 1);

		res->lost = expect - present;
	}
}

/* microseconds as milliseconds with 3 decimals */
static const char *fmt_ms(char *buf, size_t len, int64_t us)
{
	uint64_t a = us < 0 ? (uint64_t)0 - (uint64_t)us : (uint64_t)us;

	snprintf(buf, len, "%s%" PRIu64 ".%03" PRIu64, us < 0 ? "-" : "", a / 1000, a % 1000);
	return buf;
}

static void json_str(const char *s)
{
	const unsigned char *p;

	if (s == NULL) {
		fputs("null", stdout);
		return;
	}
	putchar('"');
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p < 0x20)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

static int cmd_gaps(int argc, char **argv)
{
	static const struct option lopts[] = {
		{"in", required_argument, NULL, 'i'},
		{"moves", required_argument, NULL, 'm'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *in = NULL, *moves_path = NULL;
	bool json = false;
	struct rec *r;
	struct move *mv;
	struct move_res *res;
	uint64_t *useq, *gaps, lost_total = 0;
	size_t n, nmv, nuseq = 0, measured = 0, i;
	char b1[32], b2[32], b3[32];
	int opt;

	while ((opt = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			in = optarg;
			break;
		case 'm':
			moves_path = optarg;
			break;
		case 'j':
			json = true;
			break;
		default:
			usage_gaps();
		}
	}
	if (optind != argc || in == NULL || moves_path == NULL)
		usage_gaps();

	r = read_recs(in, &n);
	mv = read_moves(moves_path, &nmv);
	if (n > 0)
		qsort(r, n, sizeof(*r), cmp_rec_recv);

	/* distinct sequence numbers, sorted, for loss counting */
	useq = xrealloc(NULL, n + 1, sizeof(*useq));
	for (i = 0; i < n; i++)
		useq[i] = r[i].seq;
	if (n > 0)
		qsort(useq, n, sizeof(*useq), cmp_u64);
	for (i = 0; i < n; i++)
		if (nuseq == 0 || useq[nuseq - 1] != useq[i])
			useq[nuseq++] = useq[i];

	res = xrealloc(NULL, nmv + 1, sizeof(*res));
	gaps = xrealloc(NULL, nmv + 1, sizeof(*gaps));
	for (i = 0; i < nmv; i++) {
		measure(&mv[i], r, n, useq, nuseq, &res[i]);
		if (res[i].ok) {
			gaps[measured++] = res[i].gap_us;
			lost_total += res[i].lost;
		}
	}
	if (measured > 0)
		qsort(gaps, measured, sizeof(*gaps), cmp_u64);

	if (json) {
		printf("{\"packets\":%zu,\"moves\":[", n);
		for (i = 0; i < nmv; i++) {
			printf("%s{\"index\":%zu,\"from\":", i != 0 ? "," : "", i + 1);
			json_str(mv[i].from);
			fputs(",\"to\":", stdout);
			json_str(mv[i].to);
			printf(",\"start_us\":%" PRIu64 ",\"end_us\":%" PRIu64 ",\"move_ms\":%s",
			       mv[i].start_us, mv[i].end_us,
			       fmt_ms(b1, sizeof(b1), (int64_t)(mv[i].end_us - mv[i].start_us)));
			if (res[i].ok)
				printf(",\"status\":\"ok\",\"gap_ms\":%s,\"lost\":%" PRIu64
				       ",\"resume_ms\":%s,\"last_before_seq\":%" PRIu64
				       ",\"first_after_seq\":%" PRIu64 "}",
				       fmt_ms(b2, sizeof(b2), (int64_t)res[i].gap_us), res[i].lost,
				       fmt_ms(b3, sizeof(b3), res[i].resume_us), res[i].seq_before,
				       res[i].seq_after);
			else
				printf(",\"status\":\"no data\",\"reason\":\"%s\"}", res[i].why);
		}
		printf("],\"summary\":{\"count\":%zu,\"measured\":%zu,\"no_data\":%zu", nmv,
		       measured, nmv - measured);
		if (measured > 0)
			printf(",\"median_gap_ms\":%s,\"worst_gap_ms\":%s",
			       fmt_ms(b1, sizeof(b1),
				      (int64_t)((gaps[(measured - 1) / 2] + gaps[measured / 2]) /
						2)),
			       fmt_ms(b2, sizeof(b2), (int64_t)gaps[measured - 1]));
		else
			fputs(",\"median_gap_ms\":null,\"worst_gap_ms\":null", stdout);
		printf(",\"lost_total\":%" PRIu64 "}}\n", lost_total);
	} else {
		for (i = 0; i < nmv; i++) {
			printf("move %zu %s->%s start_us=%" PRIu64 " move_ms=%s ", i + 1,
			       mv[i].from != NULL ? mv[i].from : "?",
			       mv[i].to != NULL ? mv[i].to : "?", mv[i].start_us,
			       fmt_ms(b1, sizeof(b1), (int64_t)(mv[i].end_us - mv[i].start_us)));
			if (res[i].ok)
				printf("gap_ms=%s lost=%" PRIu64 " resume_ms=%s seq=%" PRIu64
				       "..%" PRIu64 "\n",
				       fmt_ms(b2, sizeof(b2), (int64_t)res[i].gap_us), res[i].lost,
				       fmt_ms(b3, sizeof(b3), res[i].resume_us), res[i].seq_before,
				       res[i].seq_after);
			else
				printf("no data (%s)\n", res[i].why);
		}
		printf("summary: count=%zu measured=%zu no_data=%zu", nmv, measured,
		       nmv - measured);
		if (measured > 0)
			printf(" median_gap_ms=%s worst_gap_ms=%s",
			       fmt_ms(b1, sizeof(b1),
				      (int64_t)((gaps[(measured - 1) / 2] + gaps[measured / 2]) /
						2)),
			       fmt_ms(b2, sizeof(b2), (int64_t)gaps[measured - 1]));
		else
			fputs(" median_gap_ms=n/a worst_gap_ms=n/a", stdout);
		printf(" lost_total=%" PRIu64 " packets=%zu\n", lost_total, n);
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		die("write: stdout: %s", strerror(errno));
	if (nmv == 0)
		warnx("gaps: %s lists no move", moves_path);

	for (i = 0; i < nmv; i++) {
		free(mv[i].from);
		free(mv[i].to);
	}
	free(mv);
	free(r);
	free(useq);
	free(res);
	free(gaps);
	return (nmv == 0 || measured != nmv) ? EXIT_NODATA : 0;
}

/* ---- main ---------------------------------------------------------------------------------- */

__attribute__((noreturn)) static void usage(void)
{
	fprintf(stderr,
		"usage: %s send --to ADDR --port P --interval-us N [--count N] [--duration-s S]\n"
		"                   [--bind ADDR] [--size BYTES]\n"
		"       %s recv --port P --out FILE|- [--duration-s S] [--bind ADDR]\n"
		"       %s gaps --in FILE --moves MOVESFILE [--json]\n",
		prog, prog, prog);
	exit(EXIT_FAILURE);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "send") == 0)
		return cmd_send(argc - 1, argv + 1);
	if (strcmp(argv[1], "recv") == 0)
		return cmd_recv(argc - 1, argv + 1);
	if (strcmp(argv[1], "gaps") == 0)
		return cmd_gaps(argc - 1, argv + 1);
	usage();
}
