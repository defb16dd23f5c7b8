/*
 * The home agent's bindings and each node's last Identification, kept in a
 * file (state_file) so that a restarted home agent goes on where it stopped:
 * its nodes keep their bindings without waiting for their next
 * registration, and a registration it accepted before cannot be replayed to
 * it after (RFC 5944 5.7: the Identification must keep moving forward).
 *
 * The file is text, one node per line, under a header line:
 *
 *   mipsa-ha-state 2 <generation> <crc-32>
 *   <home> <care-of> <registered-by> <lifetime> <expires-ms> <reverse> <active> <last-id>
 *
 * It is kept twice, state_file.0 and state_file.1, and generation n is
 * written over the copy n mod 2 in place: the other keeps generation n - 1
 * whole while it is written, and a start reads the newer whole copy.  The
 * CRC-32 (zlib's) covers the generation (8 bytes, big-endian) and every
 * byte after the header line, so a copy cut short or half-overwritten (a
 * crash inside a write) is told from a whole one.  Rewriting a file in
 * place costs the home agent a write into the page cache; the new file
 * renamed over the old that version 1 wrote made ext4 start writing it
 * back at each rename (its auto_da_alloc), 0.3 ms at the median and 2 ms
 * at p90 on the testbed's disk, and each reply waits for the file.
 *
 * expires-ms is wall-clock time (milliseconds since the epoch): the monotonic
 * clock of the process that wrote it means nothing to the next one.
 * last-id is 16 hex digits.  The parser runs without a home agent, for tests
 * and fuzzing.
 */
#ifndef MIPSA_HA_STATE_H
#define MIPSA_HA_STATE_H

#include "ha.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HA_STATE_MAGIC    "mipsa-ha-state 2"
#define HA_STATE_HDR_MAX  64 /* the header line, newline included */
#define HA_STATE_LINE_MAX 160
#define HA_STATE_FILE_MAX (1u << 20)

struct ha_state_entry {
	struct in_addr home, coa, reg_src;
	uint16_t lifetime;
	uint64_t expires_wall_ms;
	bool reverse, active;
	uint64_t last_id;
};

enum ha_state_err {
	HA_STATE_OK = 0,
	HA_STATE_HEADER,   /* not a state file of ours (or another version) */
	HA_STATE_CHECKSUM, /* the bytes under the header are not those it names: cut or torn */
	HA_STATE_SYNTAX,   /* a line without its eight fields as they are written */
	HA_STATE_TOO_LONG, /* a line, or the file, longer than we ever write */
};

const char *ha_state_err_name(enum ha_state_err e);

/*
 * The header line for a file of this generation whose lines are
 * body[0..len), newline included; its length (< HA_STATE_HDR_MAX).
 */
size_t ha_state_header(char out[HA_STATE_HDR_MAX], uint64_t gen, const char *body, size_t len);

/*
 * Parse text[0..len): the header (its generation into *gen, its checksum
 * checked before any line is read), then each entry to each() in file
 * order.  On an error, *line is the 1-based line at fault and nothing after
 * it is delivered.
 */
enum ha_state_err ha_state_parse(const char *text, size_t len,
				 void (*each)(void *arg, const struct ha_state_entry *e), void *arg,
				 size_t *line, uint64_t *gen);

/*
 * The state file's directory, opened while the daemon may still traverse
 * to it (before it drops root); the two copies are then read and written
 * relative to it, by the daemon's own user, who must be able to write there.
 */
struct ha_state_file {
	int dirfd;
	uint64_t gen;   /* the generation last written or read: the next goes to the other copy */
	char name[256]; /* the file's name in the directory, without the copy's .0 or .1 */
	char path[256]; /* the whole, for messages */
};

int ha_state_open(struct ha_state_file *f, const char *path);
void ha_state_close(struct ha_state_file *f);

/*
 * Write the state of every node with a binding or an Identification over
 * the older copy, as the next generation.  -1 leaves the generation where
 * it was: the next try goes to the same copy, the newer one stays whole.
 */
int ha_state_save(const struct ha *ha, struct ha_state_file *f, uint64_t now_ms, uint64_t wall_ms);

/*
 * Read the newer whole copy back into ha at start: Identifications, and the
 * bindings whose lifetime has not run out (ha_binding_restore).  No copy is
 * an empty state; a damaged copy beside a whole one is logged and passed
 * over (a crash inside a write leaves one); damage alone is refused (-1)
 * with the line at fault logged.
 */
int ha_state_load(struct ha *ha, struct ha_state_file *f, uint64_t now_ms, uint64_t wall_ms);

#endif
