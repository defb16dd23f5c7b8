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

static Suite *netio_suite(void)
{
	Suite *s = suite_create("netio");
	TCase *tc = tcase_create("receive");

	tcase_add_test(tc, test_udp_drops_counted);
	tcase_add_test(tc, test_recv_drops_counted);
	tcase_add_test(tc, test_no_drops);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_main(netio_suite());
}
