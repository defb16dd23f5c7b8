/*
 * mipsa-inject: put hand-made packets on a link or a route, for the
 * hostile-input tests.  libnet builds the headers (checksums filled in),
 * the payload comes as hex exactly as the test wants it, wrong on purpose.
 *
 *   mipsa-inject udp  --src A --dst B --sport P --dport Q --hex HEX
 *                     [--dev IF --dst-mac MAC] [--ttl N] [--count N]
 *   mipsa-inject icmp --src A --dst B --hex HEX [--dev IF --dst-mac MAC] [--ttl N]
 *
 * With --dev and --dst-mac the packet goes out as an Ethernet frame on IF
 * (link-layer injection); otherwise as a raw IPv4 packet routed normally.
 * For icmp, HEX is the whole ICMP message; its checksum is left as given.
 */
#include "conf.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <libnet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct inject_args {
	bool udp;
	const char *dev;
	uint8_t dst_mac[6];
	bool have_mac;
	struct in_addr src, dst;
	uint16_t sport, dport;
	uint8_t ttl;
	int count;
	uint8_t payload[2048];
	size_t len;
};

static void inject_usage(void)
{
	fprintf(stderr, "usage: mipsa-inject udp|icmp --src A --dst B [--sport P --dport Q] "
			"--hex HEX [--dev IF --dst-mac MAC] [--ttl N] [--count N]\n");
	exit(2);
}

static void inject_parse(int argc, char **argv, struct inject_args *a)
{
	static const struct option opts[] = {
		{"dev", required_argument, NULL, 'i'},   {"dst-mac", required_argument, NULL, 'm'},
		{"src", required_argument, NULL, 's'},   {"dst", required_argument, NULL, 'd'},
		{"sport", required_argument, NULL, 'p'}, {"dport", required_argument, NULL, 'q'},
		{"hex", required_argument, NULL, 'x'},   {"ttl", required_argument, NULL, 't'},
		{"count", required_argument, NULL, 'n'}, {NULL, 0, NULL, 0}};
	int ch;

	if (argc < 2 || (strcmp(argv[1], "udp") != 0 && strcmp(argv[1], "icmp") != 0))
		inject_usage();
	memset(a, 0, sizeof(*a));
	a->udp = strcmp(argv[1], "udp") == 0;
	a->ttl = 64;
	a->count = 1;
	optind = 2;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		bool ok = true;
		switch (ch) {
		case 'i':
			a->dev = optarg;
			break;
		case 'm':
			ok = conf_parse_mac(optarg, a->dst_mac) == 0;
			a->have_mac = true;
			break;
		case 's':
			ok = inet_pton(AF_INET, optarg, &a->src) == 1;
			break;
		case 'd':
			ok = inet_pton(AF_INET, optarg, &a->dst) == 1;
			break;
		case 'p':
			a->sport = (uint16_t)atoi(optarg);
			break;
		case 'q':
			a->dport = (uint16_t)atoi(optarg);
			break;
		case 'x':
			ok = conf_parse_hex(optarg, a->payload, sizeof(a->payload), &a->len) == 0;
			break;
		case 't':
			a->ttl = (uint8_t)atoi(optarg);
			break;
		case 'n':
			a->count = atoi(optarg);
			break;
		default:
			inject_usage();
		}
		if (!ok) {
			fprintf(stderr, "mipsa-inject: bad value '%s'\n", optarg);
			exit(2);
		}
	}
	if (a->dst.s_addr == 0 || (a->dev != NULL) != a->have_mac)
		inject_usage();
}

static int inject_build(libnet_t *l, const struct inject_args *a)
{
	uint8_t proto = a->udp ? IPPROTO_UDP : IPPROTO_ICMP;
	uint32_t ip_payload = (uint32_t)a->len + (a->udp ? LIBNET_UDP_H : 0);

	if (a->udp) {
		if (libnet_build_udp(a->sport, a->dport, (uint16_t)(LIBNET_UDP_H + a->len), 0,
				     a->payload, (uint32_t)a->len, l, 0) < 0)
			return -1;
	} else if (libnet_build_data(a->payload, (uint32_t)a->len, l, 0) < 0) {
		return -1;
	}
	if (libnet_build_ipv4((uint16_t)(LIBNET_IPV4_H + ip_payload), 0,
			      (uint16_t)libnet_get_prand(LIBNET_PRu16), 0, a->ttl, proto, 0,
			      a->src.s_addr, a->dst.s_addr, NULL, 0, l, 0) < 0)
		return -1;
	if (a->have_mac && libnet_autobuild_ethernet(a->dst_mac, ETHERTYPE_IP, l) < 0)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	char err[LIBNET_ERRBUF_SIZE] = "";
	struct inject_args a;
	libnet_t *l;

	inject_parse(argc, argv, &a);
	l = libnet_init(a.have_mac ? LIBNET_LINK : LIBNET_RAW4, a.dev, err);
	if (l == NULL) {
		fprintf(stderr, "mipsa-inject: libnet_init: %s\n", err);
		return 1;
	}
	libnet_seed_prand(l);
	if (inject_build(l, &a) < 0) {
		fprintf(stderr, "mipsa-inject: %s\n", libnet_geterror(l));
		libnet_destroy(l);
		return 1;
	}
	for (int i = 0; i < a.count; i++) {
		if (libnet_write(l) < 0) {
			fprintf(stderr, "mipsa-inject: libnet_write: %s\n", libnet_geterror(l));
			libnet_destroy(l);
			return 1;
		}
	}
	libnet_destroy(l);
	return 0;
}
