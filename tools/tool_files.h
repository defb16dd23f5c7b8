/*
 * The store's secrets as the command-line tools read them (mipsa-store,
 * bench_store): a key file (store_read_key_file's rules) and a Redis
 * password file (its first line).  A file that will not do ends the
 * program with EX_USAGE, naming itself as prog.
 */
#ifndef MIPSA_TOOL_FILES_H
#define MIPSA_TOOL_FILES_H

#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

static inline void tool_read_key(const char *prog, const char *path, uint8_t key[SAX_KEY_LEN])
{
	char err[400];

	if (store_read_key_file(path, key, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		exit(EX_USAGE);
	}
}

static inline void tool_read_password(const char *prog, const char *path, char *out, size_t cap)
{
	FILE *f = fopen(path, "re");

	if (f == NULL || fgets(out, (int)cap, f) == NULL) {
		fprintf(stderr, "%s: cannot read a password from %s\n", prog, path);
		exit(EX_USAGE);
	}
	fclose(f);
	out[strcspn(out, "\r\n")] = '\0';
}

#endif
