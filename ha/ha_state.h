/*
 * The home agent's bindings and each node's last Identification, kept in a
 * file (state_file) so that a restarted home agent goes on where it stopped:
 * its nodes keep their bindings without waiting for their next
 * registration, and a registration it accepted before cannot be replayed to
 * it after (RFC 5944 5.7: the Identification must keep moving forward).
 *
 * The file is text, one node per line, under a header line:
 *
 *   mipsa-ha-state 1
 *   <home> <care-of> <registered-by> <lifetime> <expires-ms> <reverse> <active> <last-id>
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

#define HA_STATE_MAGIC    "mipsa-ha-state 1"
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
	HA_STATE_SYNTAX,   /* a line without its eight fields as they are written */
	HA_STATE_TOO_LONG, /* a line, or the file, longer than we ever write */
};

const char *ha_state_err_name(enum ha_state_err e);

/*
 * Parse text[0..len): each entry goes to each() in file order.  On an error,
 * *line is the 1-based line at fault and nothing after it is delivered.
 */
enum ha_state_err ha_state_parse(const char *text, size_t len,
				 void (*each)(void *arg, const struct ha_state_entry *e), void *arg,
				 size_t *line);

/*
 * The state file's directory, opened while the daemon may still traverse
 * to it (before it drops root); the file is then read, written and renamed
 * relative to it, by the daemon's own user, who must be able to write there.
 */
struct ha_state_file {
	int dirfd;
	char name[256]; /* the file's name in the directory */
	char path[256]; /* the whole, for messages */
};

int ha_state_open(struct ha_state_file *f, const char *path);
void ha_state_close(struct ha_state_file *f);

/* Write the state of every node with a binding or an Identification (atomically). */
int ha_state_save(const struct ha *ha, const struct ha_state_file *f, uint64_t now_ms,
		  uint64_t wall_ms);

/*
 * Read the file back into ha at start: Identifications, and the bindings
 * whose lifetime has not run out (ha_binding_restore).  A missing file is an
 * empty state; a damaged one is refused (-1) with the line at fault logged.
 */
int ha_state_load(struct ha *ha, const struct ha_state_file *f, uint64_t now_ms, uint64_t wall_ms);

#endif
