/*
 * Unit tests for common/netio.c's receiving side: the receive buffer every
 * socket gets, and the count of datagrams the kernel drops for a full
 * buffer (SO_RXQ_OVFL), read from each datagram's control message.  On
 * loopback, so without privileges (the 4 MiB buffer beyond
 * net.core.rmem_max is checked when run as root).
 */
#include "check_main.h"
#include "netio.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define FLOOD 200

static struct in_addr loopback(void)
{
	struct in_addr a = {.s_addr = htonl(INADDR_LOOPBACK)};

	return a;
}

/* A netio UDP socket on loopback with the smallest receive buffer, and its port. */
static int small_socket(uint16_t *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd = netio_udp_open(loopback(), 0), tiny = 1;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &tiny, sizeof(tiny)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

/* n datagrams of 200 bytes to port, from a plain socket: loopback delivers (or drops) at once. */
static void flood(uint16_t port, int n)
{
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};
	uint8_t d[200] = {0};
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	to.sin_addr = loopback();
	ck_assert_int_ge(fd, 0);
	for (int i = 0; i < n; i++)
		ck_assert_int_eq(sendto(fd, d, sizeof(d), 0, (struct sockaddr *)&to, sizeof(to)),
				 (ssize_t)sizeof(d));
	close(fd);
}

/*
 * More datagrams than the buffer holds, none read meanwhile: the kernel
 * drops the rest.  Read what was kept, then one more datagram (which now
 * fits and carries the total): the count is exactly what was not received.
 */
START_TEST(test_udp_drops_counted)
{
	uint8_t buf[512];
	struct netio_udp_meta meta;
	uint16_t port;
	int fd = small_socket(&port), got = 0;
	ssize_t n;

	flood(port, FLOOD);
	while ((n = netio_udp_recv(fd, buf, sizeof(buf), &meta)) >= 0) {
		ck_assert_int_eq(n, 200);
		got++;
	}
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_gt(got, 0);
	ck_assert_int_lt(got, FLOOD);
	flood(port, 1);
	ck_assert_int_eq(netio_udp_recv(fd, buf, sizeof(buf), &meta), 200);
	ck_assert_uint_eq(meta.dropped, (uint64_t)(FLOOD - got));
	close(fd);
}
END_TEST

/* The same through netio_recv, the reader of raw and packet sockets. */
START_TEST(test_recv_drops_counted)
{
	uint8_t buf[512];
	uint64_t dropped = 12345;
	uint16_t port;
	int fd = small_socket(&port), got = 0;

	flood(port, 1);
	ck_assert_int_eq(netio_recv(fd, buf, sizeof(buf), &dropped), 200);
	ck_assert_uint_eq(dropped, 0); /* no drops yet: no control message, and 0 */
	flood(port, FLOOD);
	while (netio_recv(fd, buf, sizeof(buf), &dropped) >= 0)
		got++;
	flood(port, 1);
	ck_assert_int_eq(netio_recv(fd, buf, sizeof(buf), &dropped), 200);
	ck_assert_int_lt(got, FLOOD);
	ck_assert_uint_eq(dropped, (uint64_t)(FLOOD - got));
	close(fd);
}
END_TEST

/* Nothing dropped, nothing counted: a burst that fits the default buffer. */
START_TEST(test_no_drops)
{
	uint8_t buf[512];
	struct netio_udp_meta meta;
	int fd = netio_udp_open(loopback(), 0), got = 0;
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int size = 0;
	socklen_t slen = sizeof(size);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	/* The kernel reports twice what was asked for (its bookkeeping). */
	ck_assert_int_eq(getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, &slen), 0);
	if (geteuid() == 0)
		ck_assert_int_ge(size, NETIO_RCVBUF);
	flood(ntohs(sin.sin_port), FLOOD);
	while (netio_udp_recv(fd, buf, sizeof(buf), &meta) >= 0) {
		ck_assert_uint_eq(meta.dropped, 0);
		got++;
	}
	ck_assert_int_eq(got, FLOOD);
	close(fd);
}
END_TEST

/* ---- link notifications (a socket pair stands in for the rtnetlink socket) ---- */

struct link_msg {
	struct nlmsghdr nh;
	struct ifinfomsg ifi;
};

static void link_send(int fd, uint16_t type, int ifindex, unsigned flags)
{
	struct link_msg m = {.nh = {.nlmsg_len = sizeof(m), .nlmsg_type = type},
			     .ifi = {.ifi_index = ifindex, .ifi_flags = flags}};

	ck_assert_int_eq(send(fd, &m, sizeof(m), 0), (ssize_t)sizeof(m));
}

#define LINK_UP (IFF_UP | IFF_RUNNING)

/* Each row: what queued up before the daemon looked, and what it must conclude. */
static const struct {
	const char *name;
	int n;
	struct {
		uint16_t type;
		int ifindex;
		unsigned flags;
	} msgs[4];
	bool seen, was_down, up;
} link_cases[] = {
	{"nothing", 0, {{0}}, false, false, false},
	{"up", 1, {{RTM_NEWLINK, 7, LINK_UP}}, true, false, true},
	{"down", 1, {{RTM_NEWLINK, 7, IFF_UP}}, true, true, false},
	/* the move: carrier lost and back, both queued, the last state alone says nothing */
	{"down then up",
	 2,
	 {{RTM_NEWLINK, 7, IFF_UP}, {RTM_NEWLINK, 7, LINK_UP}},
	 true,
	 true,
	 true},
	{"up then down", 2, {{RTM_NEWLINK, 7, LINK_UP}, {RTM_NEWLINK, 7, 0}}, true, true, false},
	{"another interface",
	 2,
	 {{RTM_NEWLINK, 8, 0}, {RTM_NEWLINK, 8, LINK_UP}},
	 false,
	 false,
	 false},
	{"another's loss beside ours",
	 2,
	 {{RTM_NEWLINK, 8, 0}, {RTM_NEWLINK, 7, LINK_UP}},
	 true,
	 false,
	 true},
	{"deleted", 1, {{RTM_DELLINK, 7, LINK_UP}}, true, true, false},
	{"not a link message", 1, {{RTM_NEWADDR, 7, 0}}, false, false, false},
};

START_TEST(test_link_events)
{
	int sv[2];
	struct netio_link_ev ev;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv), 0);
	for (int m = 0; m < link_cases[_i].n; m++)
		link_send(sv[1], link_cases[_i].msgs[m].type, link_cases[_i].msgs[m].ifindex,
			  link_cases[_i].msgs[m].flags);
	ck_assert_int_eq(netio_nl_link_events(sv[0], 7, &ev), 0);
	ck_assert_msg(ev.seen == link_cases[_i].seen && ev.was_down == link_cases[_i].was_down &&
			      ev.up == link_cases[_i].up,
		      "%s: seen %d was_down %d up %d", link_cases[_i].name, ev.seen, ev.was_down,
		      ev.up);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* A message shorter than its link header is not read past its end. */
START_TEST(test_link_event_short)
{
	int sv[2];
	struct netio_link_ev ev;
	struct nlmsghdr nh = {.nlmsg_len = sizeof(nh), .nlmsg_type = RTM_NEWLINK};

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv), 0);
	ck_assert_int_eq(send(sv[1], &nh, sizeof(nh), 0), (ssize_t)sizeof(nh));
	ck_assert_int_eq(netio_nl_link_events(sv[0], 0, &ev), 0);
	ck_assert(!ev.seen);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

static Suite *netio_suite(void)
{
	Suite *s = suite_create("netio");
	TCase *tc = tcase_create("receive");

	tcase_add_test(tc, test_udp_drops_counted);
	tcase_add_test(tc, test_recv_drops_counted);
	tcase_add_test(tc, test_no_drops);
	suite_add_tcase(s, tc);
	tc = tcase_create("link");
	tcase_add_loop_test(tc, test_link_events, 0,
			    (int)(sizeof(link_cases) / sizeof(link_cases[0])));
	tcase_add_test(tc, test_link_event_short);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_main(netio_suite());
}
