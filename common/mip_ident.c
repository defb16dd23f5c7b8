#include "mip_ident.h"
#include "evloop.h"

#include <openssl/rand.h>

/*
 * A microsecond is 4295 units of the 32-bit fraction, so the 12 bits below
 * it carry no time: they are random, and ids of later microseconds are
 * still larger.
 */
#define MIP_IDENT_RANDOM_BITS 0xfffu
#define MIP_US_PER_S          1000000u

uint64_t mip_ident_at(uint64_t wall_us)
{
	uint64_t frac = ((wall_us % MIP_US_PER_S) << 32) / MIP_US_PER_S;
	uint32_t rnd = 0;

	if (RAND_bytes((unsigned char *)&rnd, sizeof(rnd)) != 1)
		rnd = (uint32_t)wall_us;
	return (wall_us / MIP_US_PER_S + MIP_IDENT_NTP_OFFSET) << 32 |
	       ((uint32_t)frac & ~MIP_IDENT_RANDOM_BITS) | (rnd & MIP_IDENT_RANDOM_BITS);
}

uint64_t mip_ident_now(void)
{
	return mip_ident_at(ev_wall_us());
}

uint64_t mip_ident_next(uint64_t wall_us, uint64_t last, int64_t offset_s)
{
	uint64_t id = mip_ident_at(wall_us) + ((uint64_t)offset_s << 32);

	return id > last ? id : last + 1;
}

const char *mip_ident_verdict_name(enum mip_ident_verdict v)
{
	switch (v) {
	case MIP_IDENT_OK:
		return "ok";
	case MIP_IDENT_STALE:
		return "timestamp outside tolerance";
	case MIP_IDENT_REPLAY:
		return "identification not newer than the last accepted";
	}
	return "?";
}

enum mip_ident_verdict mip_ident_check(uint64_t id, uint64_t now, uint64_t last_accepted,
				       uint32_t tolerance_s)
{
	uint64_t id_s = id >> 32, now_s = now >> 32;
	uint64_t diff = id_s > now_s ? id_s - now_s : now_s - id_s;

	if (diff > tolerance_s)
		return MIP_IDENT_STALE;
	if (id <= last_accepted)
		return MIP_IDENT_REPLAY;
	return MIP_IDENT_OK;
}

uint64_t mip_ident_mismatch_reply(uint64_t req_id, uint64_t now)
{
	return (now & 0xffffffff00000000ULL) | (req_id & 0xffffffffULL);
}

int64_t mip_ident_offset(uint64_t reply_id, uint64_t sent_id)
{
	return (int64_t)(reply_id >> 32) - (int64_t)(sent_id >> 32);
}
