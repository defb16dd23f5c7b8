/*
 * A TUN device with offloads: see tun_io.h.
 */
#include "tun_io.h"
#include "ctl.h"
#include "ip4.h"
#include "log.h"
#include "netio.h"

#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

int tun_io_open(struct tun_io *t, const char *name)
{
	memset(t, 0, sizeof(*t));
	t->name = name;
	tun_gro_init(&t->gro);
	t->fd = netio_tun_open_vnet(name, &t->offload);
	return t->fd;
}

/* One read: the packets in it, a TCP super-packet cut into segments. */
static void tun_io_read(struct tun_io *t, const uint8_t *frame, size_t len,
			void (*cb)(void *arg, const uint8_t *pkt, size_t len), void *arg)
{
	/* Room for an outer header: whoever takes the packet may tunnel it. */
	static uint8_t seg[IP4_MAX_PACKET - IP4_HDR_LEN];
	struct tun_gso g;
	enum tun_gso_err e = tun_gso_init(&g, frame, len);
	struct buf b;
	int r;

	t->ctr.reads++;
	if (e != TUN_GSO_OK) {
		t->ctr.refused++;
		log_rl_warn("%zu bytes from %s refused: %s", len, t->name, tun_gso_err_name(e));
		return;
	}
	t->ctr.gso_reads += g.gso;
	for (;;) {
		buf_init_write(&b, seg, sizeof(seg));
		if ((r = tun_gso_next(&g, &b)) <= 0)
			break;
		t->ctr.packets++;
		cb(arg, seg, buf_used(&b));
	}
	if (r < 0) {
		t->ctr.refused++;
		log_rl_warn("from %s: %s", t->name, tun_gso_err_name(-r));
	}
}

void tun_io_drain(struct tun_io *t, void (*cb)(void *arg, const uint8_t *pkt, size_t len),
		  void *arg)
{
	static uint8_t frame[TUN_VNET_HDR_LEN + IP4_MAX_PACKET];
	ssize_t n;

	while ((n = read(t->fd, frame, sizeof(frame))) > 0)
		tun_io_read(t, frame, (size_t)n, cb, arg);
}

/* A packet behind its virtio-net header (hdr NULL: one that asks for nothing). */
static void tun_io_put(struct tun_io *t, const uint8_t *hdr, const uint8_t *pkt, size_t len)
{
	struct iovec iov[2] = {
		{.iov_base = (void *)(uintptr_t)(hdr != NULL ? hdr : tun_vnet_hdr_none),
		 .iov_len = TUN_VNET_HDR_LEN},
		{.iov_base = (void *)(uintptr_t)pkt, .iov_len = len}};

	t->ctr.writes++;
	if (writev(t->fd, iov, 2) < 0)
		log_rl_warn("write to %s: %s", t->name, strerror(errno));
}

/* The joined segments, if any, into the TUN. */
static void tun_io_flush(struct tun_io *t)
{
	size_t len;
	const uint8_t *f = tun_gro_take(&t->gro, &len);

	if (f == NULL)
		return;
	t->ctr.gro_writes += f[1] != 0;
	tun_io_put(t, f, f + TUN_VNET_HDR_LEN, len - TUN_VNET_HDR_LEN);
}

void tun_io_write(struct tun_io *t, const uint8_t *pkt, size_t len)
{
	int r;

	if (!t->held) {
		tun_io_put(t, NULL, pkt, len);
		return;
	}
	if ((r = tun_gro_add(&t->gro, pkt, len)) == 1)
		return;
	tun_io_flush(t);
	if (r == 0 && tun_gro_add(&t->gro, pkt, len) == 1)
		return;
	tun_io_put(t, NULL, pkt, len);
}

void tun_io_hold(struct tun_io *t)
{
	t->held = true;
}

void tun_io_release(struct tun_io *t)
{
	tun_io_flush(t);
	t->held = false;
}

void tun_io_ctl(const struct tun_io *t, struct ctl_out *o)
{
	ctl_obj_begin(o, "tun_counters");
	ctl_bool(o, "offload", t->offload);
#define TUN_IO_CTL(n) ctl_u64(o, #n, t->ctr.n);
	TUN_IO_COUNTERS(TUN_IO_CTL)
#undef TUN_IO_CTL
	ctl_obj_end(o);
}
