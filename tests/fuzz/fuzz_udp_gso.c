/*
 * Fuzz udp_gso_run: the input is cut into packets (a byte of length, in
 * units of 8, then that many bytes; the first 28 bytes of each are taken as
 * a header template when a flag says so, so that runs form).  Whatever run
 * it finds must be one the kernel cuts back into exactly those packets: ESP
 * in UDP as we seal it, the same headers but for length, Identification
 * and checksum, every payload the first's size but a shorter last, 64 KiB
 * at most, lengths that add up; and udp_gro_next cuts the joined payloads
 * back into the packets' own.  Any length and segment size: no overrun.
 */
#include "fuzzer.h"
#include "ip4.h"
#include "udp_gso.h"

#define FZ_MAX 40

static uint8_t pkts[FZ_MAX][2048];

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct udp_gso_pkt pk[FZ_MAX];
	uint8_t vnet[UDP_GSO_VNET_LEN], hdrs[UDP_GSO_HDRS];
	size_t n = 0, k, seg, total = 0;

	while (size >= 2 && n < FZ_MAX) {
		size_t len = (size_t)data[0] * 8 + (data[1] & 7), take;
		bool templ = n > 0 && (data[1] & 8);

		data += 2;
		size -= 2;
		if (len > sizeof(pkts[n]))
			len = sizeof(pkts[n]);
		take = len < size ? len : size;
		memset(pkts[n], 0, len);
		memcpy(pkts[n], data, take);
		data += take;
		size -= take;
		/* A copy of the first's headers with this length: a packet that may join. */
		if (templ && len >= UDP_GSO_HDRS) {
			memcpy(pkts[n], pkts[0], UDP_GSO_HDRS);
			pkts[n][2] = (uint8_t)(len >> 8);
			pkts[n][3] = (uint8_t)len;
			pkts[n][24] = (uint8_t)((len - 20) >> 8);
			pkts[n][25] = (uint8_t)(len - 20);
		}
		pk[n] = (struct udp_gso_pkt){.data = pkts[n], .len = len};
		n++;
	}
	/* udp_gro_next alone: pieces of gso bytes, the last what is left, never past len. */
	if (size >= 4) {
		size_t len = (size_t)(data[0] << 8 | data[1]),
		       gso = (size_t)(data[2] << 8 | data[3]);
		size_t off = 0, got = 0, pieces = 0, p;

		while ((p = udp_gro_next(len, gso, &off)) > 0) {
			CHECK(gso == 0 || p <= gso);
			CHECK(gso == 0 || p == gso || off == len);
			got += p;
			CHECK(++pieces <= len);
		}
		CHECK(got == len && off == len);
	}
	k = udp_gso_run(pk, n, 14, vnet, hdrs);
	CHECK(k >= 1 && (k <= n || n == 0));
	if (k < 2)
		return 0;
	seg = (size_t)(vnet[4] | vnet[5] << 8);
	CHECK(vnet[0] == 1 && vnet[1] == 5 && (vnet[2] | vnet[3] << 8) == 14 + 28);
	CHECK((vnet[6] | vnet[7] << 8) == 14 + 20 && vnet[8] == 6 && vnet[9] == 0);
	for (size_t i = 0; i < k; i++) {
		const uint8_t *p = pk[i].data;
		size_t pl = pk[i].len - 28;

		CHECK(pk[i].len >= 28 && p[0] == 0x45 && p[9] == 17);
		CHECK(be16(p + 2) == pk[i].len && be16(p + 24) == pk[i].len - 20);
		CHECK((be16(p + 6) & 0x3fff) == 0);
		CHECK(be16(p + 22) == 4500 && be16(p + 26) == 0 &&
		      memcmp(p + 28, "\0\0\0\0", 4) != 0);
		CHECK(p[1] == hdrs[1] && memcmp(p + 6, hdrs + 6, 4) == 0 &&
		      memcmp(p + 12, hdrs + 12, 12) == 0);
		/* The kernel's cut: full segments, then what is left. */
		CHECK(i + 1 < k ? pl == seg : pl >= 1 && pl <= seg);
		total += pl;
	}
	CHECK(total <= IP4_MAX_PACKET - 28);
	/* The receiver's side (UDP_GRO): the joined payloads cut back give each packet's. */
	{
		static uint8_t joined[IP4_MAX_PACKET];
		size_t off = 0, at = 0, i = 0, len;

		for (size_t j = 0; j < k; j++) {
			memcpy(joined + at, pk[j].data + 28, pk[j].len - 28);
			at += pk[j].len - 28;
		}
		while ((len = udp_gro_next(total, seg, &off)) > 0) {
			CHECK(i < k && len == pk[i].len - 28);
			CHECK(memcmp(joined + off - len, pk[i].data + 28, len) == 0);
			i++;
		}
		CHECK(i == k && off == total);
	}
	CHECK(be16(hdrs + 2) == 28 + total && be16(hdrs + 24) == 8 + total);
	CHECK(inet_cksum(hdrs, 20) == 0);
	return 0;
}
