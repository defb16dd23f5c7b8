/*
 * mipsa-inject: put hand-made packets on a link or a route, for the
 * hostile-input tests.  libnet builds the headers (checksums filled in),
 * the payload comes as hex exactly as the test wants it, wrong on purpose.
 *
 *   mipsa-inject udp  --src A --dst B --sport P --dport Q --hex HEX
 *                     [--dev IF --dst-mac MAC] [--ttl N] [--count N]
 *                     [--rate PPS] [--src-net A/PLEN] [--rand OFF:LEN]...
 *   mipsa-inject icmp --src A --dst B --hex HEX [--dev IF --dst-mac MAC] [--ttl N]
 *
 * With --dev and --dst-mac the packet goes out as an Ethernet frame on IF
 * (link-layer injection); otherwise as a raw IPv4 packet routed normally.
 * For icmp, HEX is the whole ICMP message; its checksum is left as given.
 *
 * Floods (the Floods tests, doc/security.md): --count packets, paced at
 * --rate a second (0, the default: as fast as they go); --src-net gives
 * each its own random source address in that prefix (spoofed), each
 * --rand OFF:LEN (at most 8) fresh random bytes at that offset of the
 * payload (an ISAKMP initiator cookie: 0:8; a registration's home address
 * and Identification: 4:4 and 16:8).  At the end, or when SIGINT or
 * SIGTERM stops the flood, a line on stderr says how many went out in how
 * long.
 */
#include "conf.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <signal.h>
#include <libnet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#define INJECT_MAX_RAND 8

struct inject_rand {
	size_t off, len;
};

struct inject_args {
	bool udp;
	const char *dev;
	uint8_t dst_mac[6];
	bool have_mac;
	struct in_addr src, dst;
	uint16_t sport, dport;
	uint8_t ttl;
	long count;
	long rate;               /* packets a second; 0: unpaced */
	uint32_t net, host_mask; /* --src-net: host order; host_mask 0: fixed source */
	bool src_net;
	struct inject_rand rand[INJECT_MAX_RAND];
	size_t n_rand;
	uint8_t payload[2048];
	size_t len;
};

static void inject_usage(void)
{
	fprintf(stderr, "usage: mipsa-inject udp|icmp --src A --dst B [--sport P --dport Q] "
			"--hex HEX [--dev IF --dst-mac MAC] [--ttl N] [--count N] [--rate PPS] "
			"[--src-net A/PLEN] [--rand OFF:LEN]...\n");
	exit(2);
}

static bool inject_src_net(const char *s, struct inject_args *a)
{
	char addr[INET_ADDRSTRLEN];
	struct in_addr n;
	unsigned plen;
	char extra;

	if (sscanf(s, "%15[0-9.]/%u%c", addr, &plen, &extra) != 2 || plen > 32 ||
	    inet_pton(AF_INET, addr, &n) != 1)
		return false;
	a->host_mask = plen == 0 ? UINT32_MAX : plen == 32 ? 0 : (1u << (32 - plen)) - 1;
	a->net = ntohl(n.s_addr) & ~a->host_mask;
	a->src_net = true;
	return true;
}

static bool inject_rand_arg(const char *s, struct inject_args *a)
{
	unsigned long off, len;
	char extra;

	if (a->n_rand == INJECT_MAX_RAND || sscanf(s, "%lu:%lu%c", &off, &len, &extra) != 2 ||
	    len == 0 || off > sizeof(a->payload) || len > sizeof(a->payload) - off)
		return false;
	a->rand[a->n_rand++] = (struct inject_rand){off, len};
	return true;
}

static bool inject_option(int ch, struct inject_args *a)
{
	switch (ch) {
	case 'i':
		a->dev = optarg;
		return true;
	case 'm':
		a->have_mac = true;
		return conf_parse_mac(optarg, a->dst_mac) == 0;
	case 's':
		return inet_pton(AF_INET, optarg, &a->src) == 1;
	case 'd':
		return inet_pton(AF_INET, optarg, &a->dst) == 1;
	case 'p':
		a->sport = (uint16_t)atoi(optarg);
		return true;
	case 'q':
		a->dport = (uint16_t)atoi(optarg);
		return true;
	case 'x':
		return conf_parse_hex(optarg, a->payload, sizeof(a->payload), &a->len) == 0;
	case 't':
		a->ttl = (uint8_t)atoi(optarg);
		return true;
	case 'n':
		a->count = atol(optarg);
		return a->count >= 1;
	case 'r':
		a->rate = atol(optarg);
		return a->rate >= 0 && a->rate <= 10000000;
	case 'N':
		return inject_src_net(optarg, a);
	case 'R':
		return inject_rand_arg(optarg, a);
	default:
		inject_usage();
		return false;
	}
}

static void inject_parse(int argc, char **argv, struct inject_args *a)
{
	static const struct option opts[] = {{"dev", required_argument, NULL, 'i'},
					     {"dst-mac", required_argument, NULL, 'm'},
					     {"src", required_argument, NULL, 's'},
					     {"dst", required_argument, NULL, 'd'},
					     {"sport", required_argument, NULL, 'p'},
					     {"dport", required_argument, NULL, 'q'},
					     {"hex", required_argument, NULL, 'x'},
					     {"ttl", required_argument, NULL, 't'},
					     {"count", required_argument, NULL, 'n'},
					     {"rate", required_argument, NULL, 'r'},
					     {"src-net", required_argument, NULL, 'N'},
					     {"rand", required_argument, NULL, 'R'},
					     {NULL, 0, NULL, 0}};
	int ch;

	if (argc < 2 || (strcmp(argv[1], "udp") != 0 && strcmp(argv[1], "icmp") != 0))
		inject_usage();
	memset(a, 0, sizeof(*a));
	a->udp = strcmp(argv[1], "udp") == 0;
	a->ttl = 64;
	a->count = 1;
	optind = 2;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (!inject_option(ch, a)) {
			fprintf(stderr, "mipsa-inject: bad value '%s'\n", optarg);
			exit(2);
		}
	}
	if (a->dst.s_addr == 0 || (a->dev != NULL) != a->have_mac)
		inject_usage();
	for (size_t i = 0; i < a->n_rand; i++)
		if (a->rand[i].off + a->rand[i].len > a->len) {
			fprintf(stderr,
				"mipsa-inject: --rand %zu:%zu is beyond the %zu-byte payload\n",
				a->rand[i].off, a->rand[i].len, a->len);
			exit(2);
		}
}

/* The libnet blocks of the packet: built once, then changed in place (ptags). */
struct inject_tags {
	libnet_ptag_t l4, ip;
};

static int inject_build(libnet_t *l, const struct inject_args *a, struct inject_tags *t, bool first)
{
	uint8_t proto = a->udp ? IPPROTO_UDP : IPPROTO_ICMP;
	uint32_t ip_payload = (uint32_t)a->len + (a->udp ? LIBNET_UDP_H : 0);

	if (a->udp)
		t->l4 = libnet_build_udp(a->sport, a->dport, (uint16_t)(LIBNET_UDP_H + a->len), 0,
					 a->payload, (uint32_t)a->len, l, t->l4);
	else
		t->l4 = libnet_build_data(a->payload, (uint32_t)a->len, l, t->l4);
	if (t->l4 < 0)
		return -1;
	t->ip = libnet_build_ipv4((uint16_t)(LIBNET_IPV4_H + ip_payload), 0,
				  (uint16_t)libnet_get_prand(LIBNET_PRu16), 0, a->ttl, proto, 0,
				  a->src.s_addr, a->dst.s_addr, NULL, 0, l, t->ip);
	if (t->ip < 0)
		return -1;
	if (first && a->have_mac && libnet_autobuild_ethernet(a->dst_mac, ETHERTYPE_IP, l) < 0)
		return -1;
	return 0;
}

static volatile sig_atomic_t inject_stopped;

static void inject_on_signal(int sig)
{
	(void)sig;
	inject_stopped = 1;
}

/* A flood stops at SIGINT or SIGTERM, between two packets, and says how far it got. */
static void inject_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = inject_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* xorshift64*: fresh bytes for every packet of a flood without a system call each. */
static uint64_t inject_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static void inject_vary(struct inject_args *a, uint64_t *s)
{
	for (size_t i = 0; i < a->n_rand; i++)
		for (size_t j = 0; j < a->rand[i].len; j++)
			a->payload[a->rand[i].off + j] = (uint8_t)inject_next(s);
	if (a->src_net)
		a->src.s_addr = htonl(a->net | ((uint32_t)inject_next(s) & a->host_mask));
}

static double inject_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Wait until packet i is due at rate a second from t0. */
static void inject_pace(const struct inject_args *a, double t0, long i)
{
	double due = t0 + (double)i / (double)a->rate, left = due - inject_now();

	if (a->rate == 0 || left <= 0)
		return;
	struct timespec ts = {.tv_sec = (time_t)left,
			      .tv_nsec = (long)((left - (time_t)left) * 1e9)};
	nanosleep(&ts, NULL);
}

static int inject_run(libnet_t *l, struct inject_args *a)
{
	struct inject_tags t = {0, 0};
	bool vary = a->n_rand > 0 || a->src_net;
	uint64_t seed = 0;
	double t0 = inject_now();
	long i;

	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed) || seed == 0)
		seed = 0x9e3779b97f4a7c15ull ^ (uint64_t)t0;
	for (i = 0; i < a->count && !inject_stopped; i++) {
		if (vary || i == 0) {
			if (vary)
				inject_vary(a, &seed);
			if (inject_build(l, a, &t, i == 0) < 0) {
				fprintf(stderr, "mipsa-inject: %s\n", libnet_geterror(l));
				return 1;
			}
		}
		inject_pace(a, t0, i);
		if (libnet_write(l) < 0) {
			fprintf(stderr, "mipsa-inject: libnet_write: %s\n", libnet_geterror(l));
			return 1;
		}
	}
	if (a->count > 1) {
		double s = inject_now() - t0;
		fprintf(stderr, "mipsa-inject: %ld packets in %.3f s (%.0f/s)%s\n", i, s,
			s > 0 ? (double)i / s : 0.0, inject_stopped ? ", stopped" : "");
	}
	return 0;
}

int main(int argc, char **argv)
{
	char err[LIBNET_ERRBUF_SIZE] = "";
	struct inject_args a;
	libnet_t *l;
	int rc;

	inject_parse(argc, argv, &a);
	l = libnet_init(a.have_mac ? LIBNET_LINK : LIBNET_RAW4, a.dev, err);
	if (l == NULL) {
		fprintf(stderr, "mipsa-inject: libnet_init: %s\n", err);
		return 1;
	}
	libnet_seed_prand(l);
	if (a.count > 1)
		inject_catch_signals();
	rc = inject_run(l, &a);
	libnet_destroy(l);
	return rc;
}
