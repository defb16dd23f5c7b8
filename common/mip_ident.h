/*
 * Registration Identification as a timestamp (RFC 5944 5.7.1): the high 32
 * bits are NTP seconds, the low 32 bits the fraction, its unused low bits
 * random.  The home agent accepts an Identification when it is within a
 * tolerance of its own clock and later than the last one it accepted from
 * that mobile node; otherwise it answers code 133 with its own time in the
 * high 32 bits and the request's low 32 bits, so the node can resync.
 */
#ifndef MIPSA_MIP_IDENT_H
#define MIPSA_MIP_IDENT_H

#include <stdint.h>

#define MIP_IDENT_NTP_OFFSET 2208988800ULL /* 1900-01-01 to 1970-01-01 */
#define MIP_IDENT_TOLERANCE  7             /* seconds, RFC 5944 default */

/*
 * A wall-clock time (microseconds since 1970, e.g. ev_loop_wall_us()) as
 * an Identification: NTP format, the bits finer than a microsecond random.
 */
uint64_t mip_ident_at(uint64_t wall_us);
/* The system's wall clock as an Identification, for callers that have no loop. */
uint64_t mip_ident_now(void);
/* An Identification for a new request at wall_us: adjusted by offset_s, and above last. */
uint64_t mip_ident_next(uint64_t wall_us, uint64_t last, int64_t offset_s);

enum mip_ident_verdict {
	MIP_IDENT_OK = 0,
	MIP_IDENT_STALE,  /* outside the tolerance of our clock */
	MIP_IDENT_REPLAY, /* not later than the last accepted one */
};

const char *mip_ident_verdict_name(enum mip_ident_verdict v);

enum mip_ident_verdict mip_ident_check(uint64_t id, uint64_t now, uint64_t last_accepted,
				       uint32_t tolerance_s);
/* The Identification the home agent returns with code 133. */
uint64_t mip_ident_mismatch_reply(uint64_t req_id, uint64_t now);
/* Seconds the node's clock is behind the agent's, from a code-133 reply. */
int64_t mip_ident_offset(uint64_t reply_id, uint64_t sent_id);

#endif
