#include "u32map.h"

#include <stdlib.h>

void u32map_init(struct u32map *m)
{
	m->slots = NULL;
	m->cap = 0;
	m->len = 0;
}

void u32map_free(struct u32map *m)
{
	free(m->slots);
	u32map_init(m);
}

/* A multiplicative hash: keys like consecutive addresses spread out. */
/*
 * Every bit of the key reaches the index (murmur3's finaliser): keys are
 * often addresses in network order, whose varying octet is the top byte,
 * and a multiply-and-mask of the low product bits never saw it.
 */
static size_t u32map_hash(uint32_t key, size_t cap)
{
	key ^= key >> 16;
	key *= 0x85ebca6bu;
	key ^= key >> 13;
	key *= 0xc2b2ae35u;
	key ^= key >> 16;
	return (size_t)key & (cap - 1);
}

static struct u32map_slot *u32map_find(const struct u32map *m, uint32_t key)
{
	if (m->cap == 0)
		return NULL;
	for (size_t i = u32map_hash(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
		struct u32map_slot *s = &m->slots[i];
		if (!s->used)
			return NULL;
		if (s->key == key)
			return s;
	}
}

void *u32map_get(const struct u32map *m, uint32_t key)
{
	struct u32map_slot *s = u32map_find(m, key);

	return s ? s->val : NULL;
}

static void u32map_insert(struct u32map_slot *slots, size_t cap, uint32_t key, void *val)
{
	size_t i = u32map_hash(key, cap);

	while (slots[i].used && slots[i].key != key)
		i = (i + 1) & (cap - 1);
	slots[i] = (struct u32map_slot){.key = key, .used = true, .val = val};
}

static int u32map_grow(struct u32map *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 16;
	struct u32map_slot *ns = calloc(ncap, sizeof(*ns));

	if (ns == NULL)
		return -1;
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].used)
			u32map_insert(ns, ncap, m->slots[i].key, m->slots[i].val);
	free(m->slots);
	m->slots = ns;
	m->cap = ncap;
	return 0;
}

int u32map_put(struct u32map *m, uint32_t key, void *val)
{
	struct u32map_slot *s = u32map_find(m, key);

	if (s != NULL) {
		s->val = val;
		return 0;
	}
	if ((m->len + 1) * 10 > m->cap * 7 && u32map_grow(m) < 0)
		return -1;
	u32map_insert(m->slots, m->cap, key, val);
	m->len++;
	return 0;
}

void *u32map_del(struct u32map *m, uint32_t key)
{
	struct u32map_slot *s = u32map_find(m, key);
	void *val;

	if (s == NULL)
		return NULL;
	val = s->val;
	size_t i = (size_t)(s - m->slots);
	m->slots[i].used = false;
	m->len--;
	/* Shift later members of the probe run back so lookups never stop early. */
	for (size_t j = (i + 1) & (m->cap - 1); m->slots[j].used; j = (j + 1) & (m->cap - 1)) {
		size_t home = u32map_hash(m->slots[j].key, m->cap);
		bool between = i <= j ? (i < home && home <= j) : (i < home || home <= j);
		if (between)
			continue;
		m->slots[i] = m->slots[j];
		m->slots[j].used = false;
		i = j;
	}
	return val;
}

size_t u32map_len(const struct u32map *m)
{
	return m->len;
}

bool u32map_next(const struct u32map *m, size_t *iter, uint32_t *key, void **val)
{
	for (; *iter < m->cap; (*iter)++) {
		if (m->slots[*iter].used) {
			*key = m->slots[*iter].key;
			*val = m->slots[*iter].val;
			(*iter)++;
			return true;
		}
	}
	return false;
}
