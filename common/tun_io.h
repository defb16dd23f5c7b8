/*
 * A TUN device with offloads (IFF_VNET_HDR, TSO4, checksum): reads cut
 * into ordinary packets, writes joined where the kernel would join them
 * (tun_gso.h), with the counters that show it.  For the daemons whose TUN
 * carries bulk traffic: the node's home address, the home agent's tunnel.
 */
#ifndef MIPSA_TUN_IO_H
#define MIPSA_TUN_IO_H

#include "tun_gso.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ctl_out;

/*
 * Reads from the device, those that were TCP super-packets (TSO), the
 * packets cut from them all, reads refused as malformed; writes into the
 * device, and those that were segments joined into one (GRO).
 */
#define TUN_IO_COUNTERS(X) X(reads) X(gso_reads) X(packets) X(refused) X(writes) X(gro_writes)

struct tun_io {
	int fd;
	const char *name;
	bool offload; /* the kernel took TSO on the device */
	bool held;    /* join writes until tun_io_release */
	struct {
#define TUN_IO_FIELD(n) uint64_t n;
		TUN_IO_COUNTERS(TUN_IO_FIELD)
#undef TUN_IO_FIELD
	} ctr;
	struct tun_gro gro;
};

/* Open (or attach to) TUN device name; fd -1 on failure. */
int tun_io_open(struct tun_io *t, const char *name);
/* Read every packet waiting; cb gets each one, segments of a super-packet one by one. */
void tun_io_drain(struct tun_io *t, void (*cb)(void *arg, const uint8_t *pkt, size_t len),
		  void *arg);
/* One IPv4 packet into the TUN: at once, or joined with the next ones while held. */
void tun_io_write(struct tun_io *t, const uint8_t *pkt, size_t len);
void tun_io_hold(struct tun_io *t);
/* Write what is held and stop holding. */
void tun_io_release(struct tun_io *t);
/* The counters as the object "tun_counters" (doc/control.md). */
void tun_io_ctl(const struct tun_io *t, struct ctl_out *o);

#endif
