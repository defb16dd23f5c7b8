/*
 * A hash map from a 32-bit key (an IPv4 address, an SPI) to a pointer:
 * open addressing, linear probing, backward-shift deletion (no tombstones),
 * grows at 70% load.  Lookups on the data path cost one hash and a short
 * probe, whatever the number of mobile nodes.
 */
#ifndef MIPSA_U32MAP_H
#define MIPSA_U32MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct u32map_slot {
	uint32_t key;
	bool used;
	void *val;
};

struct u32map {
	struct u32map_slot *slots;
	size_t cap; /* a power of two */
	size_t len;
};

void u32map_init(struct u32map *m);
void u32map_free(struct u32map *m);
void *u32map_get(const struct u32map *m, uint32_t key);
/* Insert or replace; -1 when memory runs out. */
int u32map_put(struct u32map *m, uint32_t key, void *val);
/* Remove and return the value, or NULL. */
void *u32map_del(struct u32map *m, uint32_t key);
size_t u32map_len(const struct u32map *m);

/* Iterate: for (size_t i = 0; u32map_next(m, &i, &k, &v);) */
bool u32map_next(const struct u32map *m, size_t *iter, uint32_t *key, void **val);

#endif
