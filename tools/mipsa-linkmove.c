/*
 * mipsa-linkmove: the testbed's link move (a hand-over of the mobile node's
 * cable) in two rtnetlink requests from one process, so that the move
 * itself costs well under a millisecond and a measured gap is the
 * protocol's.
 *
 *   mipsa-linkmove --dev IF --netns NETNS --master BRIDGE --peer-netns NETNS --peer IF
 *
 * In --netns (a path: /var/run/netns/NAME), --dev goes down, then joins
 * BRIDGE (leaving the bridge it was a port of) and comes up in one request.
 * In between, the tool waits until the kernel has told --peer (the node's
 * interface, --dev's veth peer) that its carrier is gone: without the
 * wait, a link that is back up before the kernel's link watch runs shows
 * the node no carrier loss at all, and the node would not know it moved.
 * The node's own listeners have the notice queued by then: a netlink
 * broadcast reaches every member of the group at once.  The same bridge
 * again flaps the link in place.  Everything
 * that can be prepared (the namespace, the socket, the bridge's index, the
 * requests) is prepared before the first request.  Prints "START_US
 * END_US" (CLOCK_REALTIME, microseconds) around the requests.  Exit status
 * 1, with the kernel's error, when a request fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* linux/if.h has it, but cannot be included beside net/if.h; the value is kernel ABI. */
#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000
#endif

struct lm_args {
	const char *dev, *netns, *master, *peer, *peer_netns;
};

/* One RTM_NEWLINK request: header, ifinfomsg, up to three attributes. */
struct lm_req {
	struct nlmsghdr nh;
	struct ifinfomsg ifi;
	char attrs[256];
};

static uint32_t lm_seq;

static void lm_usage(void)
{
	fprintf(stderr, "usage: mipsa-linkmove --dev IF --netns NETNS --master BRIDGE "
			"--peer-netns NETNS --peer IF\n");
	exit(2);
}

static void lm_die(const char *what)
{
	fprintf(stderr, "mipsa-linkmove: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t lm_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void lm_attr(struct lm_req *r, uint16_t type, const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)((char *)r + NLMSG_ALIGN(r->nh.nlmsg_len));
	size_t need = RTA_SPACE(len);

	if (NLMSG_ALIGN(r->nh.nlmsg_len) + need > sizeof(*r)) {
		fprintf(stderr, "mipsa-linkmove: request too long\n");
		exit(1);
	}
	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	r->nh.nlmsg_len = (uint32_t)(NLMSG_ALIGN(r->nh.nlmsg_len) + need);
}

/* A request for the link by name, which is all the test knows of it. */
static void lm_req_init(struct lm_req *r, const char *dev, bool up)
{
	memset(r, 0, sizeof(*r));
	r->nh.nlmsg_len = NLMSG_LENGTH(sizeof(r->ifi));
	r->nh.nlmsg_type = RTM_NEWLINK;
	r->nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	r->nh.nlmsg_seq = ++lm_seq;
	r->ifi.ifi_family = AF_UNSPEC;
	r->ifi.ifi_change = IFF_UP;
	r->ifi.ifi_flags = up ? IFF_UP : 0;
	lm_attr(r, IFLA_IFNAME, dev, strlen(dev) + 1);
}

/* Send r on sock and wait for its acknowledgement (an NLMSG_ERROR, 0 on success). */
static void lm_call(int sock, struct lm_req *r, const char *what)
{
	char buf[4096];

	if (send(sock, r, r->nh.nlmsg_len, 0) < 0)
		lm_die(what);
	for (;;) {
		ssize_t n = recv(sock, buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			lm_die(what);
		}
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
		     h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != r->nh.nlmsg_seq || h->nlmsg_type != NLMSG_ERROR)
				continue;
			const struct nlmsgerr *e = NLMSG_DATA(h);
			if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e))) {
				errno = EPROTO;
				lm_die(what);
			}
			if (e->error == 0)
				return;
			errno = -e->error;
			lm_die(what);
		}
	}
}

/* A netlink socket in the namespace at path (which this process enters), in groups. */
static int lm_socket_in(const char *path, uint32_t groups)
{
	int ns = open(path, O_RDONLY | O_CLOEXEC);

	if (ns < 0)
		lm_die(path);
	if (setns(ns, CLONE_NEWNET) < 0)
		lm_die("setns");
	close(ns);
	int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (s < 0)
		lm_die("netlink socket");
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = groups};
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		lm_die("netlink bind");
	return s;
}

static void lm_parse(int argc, char **argv, struct lm_args *a)
{
	static const struct option opts[] = {{"dev", required_argument, NULL, 'd'},
					     {"netns", required_argument, NULL, 'n'},
					     {"master", required_argument, NULL, 'm'},
					     {"peer", required_argument, NULL, 'p'},
					     {"peer-netns", required_argument, NULL, 'P'},
					     {NULL, 0, NULL, 0}};
	int c;

	memset(a, 0, sizeof(*a));
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			a->dev = optarg;
			break;
		case 'n':
			a->netns = optarg;
			break;
		case 'm':
			a->master = optarg;
			break;
		case 'p':
			a->peer = optarg;
			break;
		case 'P':
			a->peer_netns = optarg;
			break;
		default:
			lm_usage();
		}
	}
	if (optind != argc || !a->dev || !a->netns || !a->master || !a->peer || !a->peer_netns ||
	    strlen(a->dev) >= IFNAMSIZ)
		lm_usage();
}

/* Wait (2 s at most) for the notice that link ifindex has no carrier. */
static void lm_wait_carrier_loss(int watch, int ifindex)
{
	char buf[8192];
	struct pollfd pfd = {.fd = watch, .events = POLLIN};

	for (;;) {
		int r = poll(&pfd, 1, 2000);
		if (r == 0) {
			errno = ETIMEDOUT;
			lm_die("the peer's carrier loss");
		}
		if (r < 0) {
			if (errno == EINTR)
				continue;
			lm_die("poll");
		}
		ssize_t n = recv(watch, buf, sizeof(buf), 0);
		if (n < 0)
			lm_die("netlink recv");
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
		     h = NLMSG_NEXT(h, n)) {
			const struct ifinfomsg *ifi = NLMSG_DATA(h);
			if (h->nlmsg_type == RTM_NEWLINK &&
			    h->nlmsg_len >= NLMSG_LENGTH(sizeof(*ifi)) &&
			    ifi->ifi_index == ifindex && !(ifi->ifi_flags & IFF_LOWER_UP))
				return;
		}
	}
}

int main(int argc, char **argv)
{
	struct lm_args a;
	struct lm_req down, join;

	lm_parse(argc, argv, &a);
	int watch = lm_socket_in(a.peer_netns, RTMGRP_LINK);
	int peer = (int)if_nametoindex(a.peer);
	if (peer == 0)
		lm_die(a.peer);
	int sock = lm_socket_in(a.netns, 0);
	uint32_t master = if_nametoindex(a.master);
	if (master == 0)
		lm_die(a.master);
	lm_req_init(&down, a.dev, false);
	lm_req_init(&join, a.dev, true);
	lm_attr(&join, IFLA_MASTER, &master, sizeof(master));

	uint64_t start = lm_now_us();
	lm_call(sock, &down, "link down");
	lm_wait_carrier_loss(watch, peer);
	lm_call(sock, &join, "join the bridge, link up");
	uint64_t end = lm_now_us();

	printf("%" PRIu64 " %" PRIu64 "\n", start, end);
	close(sock);
	close(watch);
	return 0;
}
