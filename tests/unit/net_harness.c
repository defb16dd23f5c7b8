#include "net_harness.h"
#include "esp.h"
#include "ip4.h"
#include "isakmp.h"
#include "mip_ident.h"
#include "mip_msg.h"

#include <arpa/inet.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const uint8_t NH_MN_MAC[6] = {0x02, 0, 0, 0, 0, 0x01};
const uint8_t NH_MAC_A[6] = {0x02, 0, 0, 0, 0, 0xa0}; /* fa1 and fa2: the alias's MAC */
const uint8_t NH_MAC_B[6] = {0x02, 0, 0, 0, 0, 0xb0};
const uint8_t NH_ATTACKER_MAC[6] = {0x02, 0, 0, 0, 0, 0xee};

static const char *const nh_coa[NH_N_FAS] = {AH_COA1, AH_COA2, NH_COA3};

#define NH_PSK_A      "domain A pre-shared key"
#define NH_PSK_B      "domain B pre-shared key"
#define NH_ID_A       "fa.domain-a.example"
#define NH_ID_B       "fa.domain-b.example"
#define NH_RUN_EVENTS 100000 /* deliveries in one nh_run: more is a runaway */
#define NH_START_MS   1000   /* the virtual clock's start (monotonic) */

/* ---- time: the one place that reads and drives the loop's clock ---- */

uint64_t nh_now_ms(const struct nh *n)
{
	return ev_loop_now_ms(n->loop);
}

uint64_t nh_now_ntp(const struct nh *n)
{
	return mip_ident_at(ev_loop_wall_us(n->loop));
}

/* Let ms pass on the loop's clock (0: only what is due now), firing timers as they fall due. */
static void nh_clock_step(struct nh *n, uint64_t ms)
{
	ev_loop_advance(n->loop, ms);
}

/* ---- keys ---- */

static struct sax_keys keys_a, fa_keys_a, keys_b, fa_keys_b;

static void nh_keys_init(void)
{
	static bool done;

	if (done)
		return;
	for (size_t i = 0; i < SAX_KEY_LEN; i++) {
		keys_a.k_sa[i] = (uint8_t)(0x40 + i);
		keys_a.k_db[i] = (uint8_t)(0x60 + i);
		keys_b.k_sa[i] = (uint8_t)(0x80 + i);
		keys_b.k_db[i] = (uint8_t)(0xa0 + i);
	}
	keys_a.have_k_sa = keys_b.have_k_sa = true;
	ck_assert_int_eq(sax_fa_keys(keys_a.k_sa, &fa_keys_a), 0);
	ck_assert_int_eq(sax_fa_keys(keys_b.k_sa, &fa_keys_b), 0);
	done = true;
}

const struct sax_keys *nh_keys_a(void)
{
	nh_keys_init();
	return &keys_a;
}

const struct sax_keys *nh_fa_keys_a(void)
{
	nh_keys_init();
	return &fa_keys_a;
}

const struct sax_keys *nh_fa_keys_b(void)
{
	nh_keys_init();
	return &fa_keys_b;
}

/* ---- stations ---- */

static bool nh_cut(const struct nh *n, int station)
{
	return station < NH_N_FAS && (!n->fa[station].alive || n->fa[station].silent);
}

static struct nh_fa *nh_fa_at(struct nh *n, struct in_addr coa)
{
	for (int i = 0; i < NH_N_FAS; i++)
		if (ah_ip(nh_coa[i]).s_addr == coa.s_addr)
			return nh_cut(n, i) ? NULL : &n->fa[i];
	return NULL;
}

static const uint8_t *nh_fa_mac(int i)
{
	return i == NH_FA3 ? NH_MAC_B : NH_MAC_A;
}

/* ---- the queue and the logs ---- */

static void *nh_grow(void *p, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return p;
	*cap = *cap ? *cap * 2 : 64;
	p = realloc(p, *cap * size);
	ck_assert_ptr_nonnull(p);
	return p;
}

static uint8_t *nh_dup(const uint8_t *d, size_t len)
{
	uint8_t *c = malloc(len ? len : 1);

	ck_assert_ptr_nonnull(c);
	memcpy(c, d, len);
	return c;
}

static struct nh_ev *nh_queue(struct nh *n, enum nh_ev_kind kind, const uint8_t *d, size_t len)
{
	struct nh_ev *e = calloc(1, sizeof(*e) + len);

	ck_assert_ptr_nonnull(e);
	e->kind = kind;
	e->len = len;
	memcpy(e->d, d, len);
	if (n->tail != NULL)
		n->tail->next = e;
	else
		n->head = e;
	n->tail = e;
	return e;
}

static uint32_t nh_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* What a frame is: IKE, or ESP with its SPI and sequence number. */
static void nh_classify(struct nh_frame *fr)
{
	struct ip4_hdr ip;
	struct buf pl, udp;
	uint16_t sport, dport;
	const uint8_t *esp = NULL;
	size_t esp_len = 0;

	if (ip4_parse(fr->d, fr->len, &ip, &pl) != IP4_OK)
		return;
	if (ip.proto == IP4_PROTO_ESP) {
		esp = buf_rptr(&pl);
		esp_len = buf_left(&pl);
	} else if (ip4_udp_parse_captured(fr->d, fr->len, &ip, &sport, &dport, &udp) == IP4_OK) {
		const uint8_t *u = buf_rptr(&udp);
		size_t ul = buf_left(&udp);
		bool natt = sport == ISAKMP_NATT_PORT || dport == ISAKMP_NATT_PORT;
		bool marker = ul >= ISAKMP_NON_ESP_MARKER_LEN &&
			      memcmp(u, "\0\0\0\0", ISAKMP_NON_ESP_MARKER_LEN) == 0;
		if (sport == ISAKMP_PORT || dport == ISAKMP_PORT || (natt && marker))
			fr->ike = true;
		else if (natt) {
			esp = u;
			esp_len = ul;
		}
	}
	if (esp != NULL && esp_len >= ESP_HDR_LEN) {
		fr->esp = true;
		fr->spi = nh_be32(esp);
		fr->seq = nh_be32(esp + 4);
	}
}

static void nh_link_send(struct nh *n, int link, int from, const uint8_t src[6],
			 const uint8_t dst[6], const uint8_t *pkt, size_t len)
{
	struct nh_frame *fr;
	struct nh_ev *e;
	bool lost = link < 0 || nh_cut(n, from);

	if (n->closing || (from < NH_N_FAS && !n->fa[from].alive))
		return;
	n->frames = nh_grow(n->frames, &n->cap_frames, n->n_frames, sizeof(*n->frames));
	fr = &n->frames[n->n_frames++];
	*fr = (struct nh_frame){.link = link, .from = from, .lost = lost, .len = len};
	memcpy(fr->dst, dst, 6);
	fr->d = nh_dup(pkt, len);
	nh_classify(fr);
	if (lost)
		return;
	e = nh_queue(n, NH_EV_LINK, pkt, len);
	e->link = link;
	e->from_station = from;
	memcpy(e->src_mac, src, 6);
	memcpy(e->dst_mac, dst, 6);
}

static void nh_sax_send(struct nh *n, int from_station, struct in_addr from, struct in_addr to,
			const uint8_t *msg, size_t len)
{
	struct nh_sax *s;
	struct nh_ev *e;

	if (n->closing || (from_station < NH_N_FAS && !n->fa[from_station].alive))
		return;
	n->saxs = nh_grow(n->saxs, &n->cap_saxs, n->n_saxs, sizeof(*n->saxs));
	s = &n->saxs[n->n_saxs++];
	*s = (struct nh_sax){.from = from, .to = to, .type = len > 1 ? msg[1] : 0, .len = len};
	s->d = nh_dup(msg, len);
	if (nh_cut(n, from_station))
		return;
	e = nh_queue(n, NH_EV_SAX, msg, len);
	e->from = from;
	e->to = to;
}

/* ---- the FAs' outputs (struct fa_ops, struct fa_sec_ops) ---- */

static void nh_fa_to_link(void *arg, const uint8_t mac[6], const uint8_t *pkt, size_t len)
{
	struct nh_fa *f = arg;

	nh_link_send(f->n, f->idx, f->idx, nh_fa_mac(f->idx), mac, pkt, len);
}

static void nh_fa_to_ha(void *arg, struct in_addr ha, const uint8_t *msg, size_t len)
{
	struct nh_fa *f = arg;
	struct nh_ev *e;

	if (f->n->closing || nh_cut(f->n, f->idx) || ha.s_addr != ah_ip(AH_HA).s_addr)
		return;
	e = nh_queue(f->n, NH_EV_TO_HA, msg, len);
	e->from = ah_ip(nh_coa[f->idx]);
}

static void nh_fa_to_tunnel(void *arg, const uint8_t *pkt, size_t len)
{
	struct nh_fa *f = arg;

	if (!f->n->closing && !nh_cut(f->n, f->idx))
		nh_queue(f->n, NH_EV_TUNNEL_IN, pkt, len);
}

static void nh_fa_to_forward(void *arg, const uint8_t *pkt, size_t len)
{
	(void)arg;
	(void)pkt;
	(void)len;
}

static void nh_fa_to_stack(void *arg, const uint8_t *pkt, size_t len)
{
	(void)arg;
	(void)pkt;
	(void)len;
}

static void nh_fa_sax_send(void *arg, struct in_addr to, const uint8_t *msg, size_t len)
{
	struct nh_fa *f = arg;

	nh_sax_send(f->n, f->idx, ah_ip(nh_coa[f->idx]), to, msg, len);
}

static void nh_fa_route(void *arg, struct in_addr addr, bool add)
{
	struct nh_fa *f = arg;

	if (addr.s_addr != ah_ip(AH_ALICE).s_addr)
		return;
	if (add && !f->routed) {
		f->route_frame = f->n->n_frames;
		f->route_ms = nh_now_ms(f->n);
	}
	f->routed = add;
}

/* ---- the node's outputs (struct mn_ops, struct mn_sec_ops) ---- */

static void nh_mn_to_link(void *arg, const uint8_t mac[6], const uint8_t *pkt, size_t len)
{
	struct nh *n = arg;

	nh_link_send(n, n->mn.link, NH_MN, NH_MN_MAC, mac, pkt, len);
}

/*
 * What ESP opened goes into the node's stack (the TUN): a registration
 * reply reaches its UDP socket on port 434, anything else is data.
 */
static void nh_mn_to_stack(void *arg, const uint8_t *pkt, size_t len)
{
	struct nh *n = arg;
	struct ah_udp u;

	if (len < IP4_HDR_LEN)
		return;
	if (ah_udp_unwrap(pkt, len, &u) && u.dport == MIP_PORT) {
		mn_from_reply(&n->mn.mn, u.msg, u.len);
		return;
	}
	n->mn_rx++;
	n->mn_last_id = (uint16_t)(pkt[4] << 8 | pkt[5]);
}

static void nh_mn_stopped(void *arg)
{
	(void)arg;
}

/* ---- the in-memory store (struct fa_store), one client per FA ---- */

struct nh_store_req {
	struct nh_store_req *next;
	struct nh_fa *f;
	struct ev_timer t;
	enum store_op op;
	bool reached; /* the store got it (it was up, the FA not cut off) */
	char mn_id[SAX_ID_MAX + 1];
	store_cb cb;
	void *arg;
};

static int nh_store_find(const struct nh_store *st, const char *mn_id)
{
	for (size_t i = 0; i < st->n_rec; i++)
		if (strcmp(st->rec[i].mn_id, mn_id) == 0)
			return (int)i;
	return -1;
}

static void nh_store_unlink(struct nh_store *st, struct nh_store_req *r)
{
	for (struct nh_store_req **q = &st->pending; *q != NULL; q = &(*q)->next)
		if (*q == r) {
			*q = r->next;
			return;
		}
}

/* The store's answer (or the client's timeout), from the loop as store.h promises. */
static void nh_store_answer(struct ev_loop *loop, struct ev_timer *t, void *arg)
{
	struct nh_store_req *r = arg;
	struct nh_store *st = &r->f->n->store;
	struct store_result res = {.op = r->op, .mn_id = r->mn_id};
	uint8_t *copy = NULL;
	int i = nh_store_find(st, r->mn_id);

	(void)loop;
	(void)t;
	nh_store_unlink(st, r);
	if (!r->reached) {
		res.status = STORE_TIMEOUT;
		res.reason = SAX_R_STORE_ERROR;
	} else if (r->op == STORE_OP_GET && i < 0) {
		res.status = STORE_NOT_FOUND;
		res.reason = SAX_R_UNKNOWN;
	} else if (r->op == STORE_OP_GET) {
		copy = nh_dup(st->rec[i].msg, st->rec[i].len);
		res.msg = copy;
		res.len = st->rec[i].len;
	}
	r->cb(r->arg, &res);
	free(copy);
	free(r);
}

static struct nh_store_req *nh_store_req(struct nh_fa *f, enum store_op op, const char *mn_id,
					 uint32_t timeout_ms, store_cb cb, void *arg)
{
	struct nh *n = f->n;
	struct nh_store_req *r = calloc(1, sizeof(*r));

	ck_assert_ptr_nonnull(r);
	r->f = f;
	r->op = op;
	r->reached = !n->store.down && !nh_cut(n, f->idx);
	snprintf(r->mn_id, sizeof(r->mn_id), "%s", mn_id);
	r->cb = cb;
	r->arg = arg;
	r->next = n->store.pending;
	n->store.pending = r;
	ev_timer_init(&r->t, nh_store_answer, r);
	ev_timer_start(n->loop, &r->t, r->reached ? 0 : timeout_ms);
	return r;
}

static int nh_store_get_op(void *ctx, const char *mn_id, uint32_t timeout_ms, store_cb cb,
			   void *arg)
{
	struct nh_fa *f = ctx;

	f->n->store.gets++;
	nh_store_req(f, STORE_OP_GET, mn_id, timeout_ms, cb, arg);
	return 0;
}

static void nh_store_keep(struct nh_store *st, const char *mn_id, const uint8_t *msg, size_t len)
{
	int i = nh_store_find(st, mn_id);

	if (i < 0) {
		ck_assert_uint_lt(st->n_rec, NH_STORE_RECS);
		i = (int)st->n_rec++;
		snprintf(st->rec[i].mn_id, sizeof(st->rec[i].mn_id), "%s", mn_id);
	}
	free(st->rec[i].msg);
	st->rec[i].msg = nh_dup(msg, len);
	st->rec[i].len = len;
}

static int nh_store_put_op(void *ctx, const char *mn_id, uint64_t expires_ms, const uint8_t *msg,
			   size_t len, uint32_t timeout_ms, store_cb cb, void *arg)
{
	struct nh_fa *f = ctx;
	struct nh_store_req *r = nh_store_req(f, STORE_OP_PUT, mn_id, timeout_ms, cb, arg);

	(void)expires_ms;
	if (r->reached) {
		f->n->store.puts++;
		nh_store_keep(&f->n->store, mn_id, msg, len);
	}
	return 0;
}

/* Pending requests of fa (NULL: all) go without an answer, as store_client_free drops them. */
static void nh_store_drop(struct nh *n, const struct nh_fa *f)
{
	for (struct nh_store_req **q = &n->store.pending; *q != NULL;) {
		struct nh_store_req *r = *q;
		if (f != NULL && r->f != f) {
			q = &r->next;
			continue;
		}
		*q = r->next;
		ev_timer_stop(n->loop, &r->t);
		free(r);
	}
}

const uint8_t *nh_store_get(struct nh *n, size_t *len)
{
	int i = nh_store_find(&n->store, AH_NAI_ALICE);

	if (i < 0)
		return NULL;
	*len = n->store.rec[i].len;
	return n->store.rec[i].msg;
}

void nh_store_set(struct nh *n, const uint8_t *msg, size_t len)
{
	nh_store_keep(&n->store, AH_NAI_ALICE, msg, len);
}

void nh_store_forget(struct nh *n)
{
	int i = nh_store_find(&n->store, AH_NAI_ALICE);

	if (i < 0)
		return;
	free(n->store.rec[i].msg);
	n->store.rec[i] = n->store.rec[--n->store.n_rec];
	memset(&n->store.rec[n->store.n_rec], 0, sizeof(n->store.rec[0]));
}

/* ---- deliveries: where the kernel and each daemon would take a packet ---- */

static bool nh_is_marker(const uint8_t *u, size_t len)
{
	return len >= ISAKMP_NON_ESP_MARKER_LEN &&
	       memcmp(u, "\0\0\0\0", ISAKMP_NON_ESP_MARKER_LEN) == 0;
}

/*
 * A frame at an FA: its capture takes registrations, solicitations and IKE
 * (fa_main.c's filter) to fa_sec_frame, else fa_from_link; ESP to the
 * alias reaches fa_sec_esp_in through the raw or the UDP 4500 socket;
 * anything else a visitor sends through us reaches the TUN.
 */
static void nh_fa_link_in(struct nh_fa *f, const uint8_t src[6], const uint8_t *pkt, size_t len)
{
	struct ip4_hdr ip;
	struct buf pl, udp;
	uint16_t sport = 0, dport = 0;
	bool is_udp, captured, local;

	if (ip4_parse(pkt, len, &ip, &pl) != IP4_OK)
		return;
	is_udp = ip4_udp_parse_captured(pkt, len, &ip, &sport, &dport, &udp) == IP4_OK;
	captured =
		(is_udp &&
		 (dport == MIP_PORT || dport == ISAKMP_PORT ||
		  (dport == ISAKMP_NATT_PORT && nh_is_marker(buf_rptr(&udp), buf_left(&udp))))) ||
		(ip.proto == IP4_PROTO_ICMP && buf_left(&pl) > 0 && buf_rptr(&pl)[0] == 10);
	if (captured && fa_sec_frame(&f->sec, src, pkt, len) == 0)
		fa_from_link(&f->fa, src, pkt, len, nh_now_ms(f->n));
	local = ip.dst.s_addr == f->fa.cfg.alias.s_addr || ip.dst.s_addr == f->fa.cfg.coa.s_addr;
	if (local && ip.proto == IP4_PROTO_ESP)
		fa_sec_esp_in(&f->sec, buf_rptr(&pl), buf_left(&pl));
	else if (local && is_udp && dport == ISAKMP_NATT_PORT &&
		 !nh_is_marker(buf_rptr(&udp), buf_left(&udp)) && buf_left(&udp) >= ESP_HDR_LEN)
		fa_sec_esp_in(&f->sec, buf_rptr(&udp), buf_left(&udp));
	else if (!captured && !local && (ip.dst.s_addr & htonl(0xf0000000)) != htonl(0xe0000000) &&
		 fa_sec_from_stack(&f->sec, pkt, len) == 0)
		fa_from_visitor(&f->fa, pkt, len);
}

/*
 * A frame at the node: its capture takes advertisements (mn_main.c's
 * filter); its sockets on the home address IKE, ESP and registration
 * replies; anything else for the home address its stack takes as it is.
 */
static void nh_mn_link_in(struct nh *n, const uint8_t src[6], const uint8_t *pkt, size_t len)
{
	struct mn_sec *s = &n->mn.sec;
	struct ip4_hdr ip;
	struct buf pl, udp;
	uint16_t sport, dport;
	const uint8_t *u;
	size_t ul;

	if (ip4_parse(pkt, len, &ip, &pl) != IP4_OK)
		return;
	if (ip.proto == IP4_PROTO_ICMP && buf_left(&pl) > 0 && buf_rptr(&pl)[0] == 9) {
		mn_from_link(&n->mn.mn, src, pkt, len);
		return;
	}
	if (ip.dst.s_addr != ah_ip(AH_ALICE).s_addr)
		return;
	if (ip.proto == IP4_PROTO_ESP) {
		mn_sec_esp_in(s, buf_rptr(&pl), buf_left(&pl));
		return;
	}
	if (ip4_udp_parse_captured(pkt, len, &ip, &sport, &dport, &udp) != IP4_OK) {
		n->mn_clear_rx++;
		return;
	}
	u = buf_rptr(&udp);
	ul = buf_left(&udp);
	if (dport == MIP_PORT)
		mn_from_reply(&n->mn.mn, u, ul);
	else if (dport == ISAKMP_PORT)
		mn_sec_ike_in(s, ip.dst, dport, ip.src, sport, u, ul);
	else if (dport == ISAKMP_NATT_PORT && nh_is_marker(u, ul))
		mn_sec_ike_in(s, ip.dst, dport, ip.src, sport, u + ISAKMP_NON_ESP_MARKER_LEN,
			      ul - ISAKMP_NON_ESP_MARKER_LEN);
	else if (dport == ISAKMP_NATT_PORT && ul >= ESP_HDR_LEN)
		mn_sec_esp_in(s, u, ul);
	else
		n->mn_clear_rx++;
}

static void nh_link_in(struct nh *n, const struct nh_ev *e)
{
	struct nh_fa *f = &n->fa[e->link];
	bool multicast = e->dst_mac[0] & 1;

	if (e->from_station != e->link && !nh_cut(n, e->link) &&
	    (multicast || memcmp(e->dst_mac, nh_fa_mac(e->link), 6) == 0))
		nh_fa_link_in(f, e->src_mac, e->d, e->len);
	if (e->from_station != NH_MN && n->mn.link == e->link &&
	    (multicast || memcmp(e->dst_mac, NH_MN_MAC, 6) == 0))
		nh_mn_link_in(n, e->src_mac, e->d, e->len);
}

static void nh_deliver(struct nh *n, struct nh_ev *e)
{
	uint8_t reply[1024];
	const uint8_t *inner;
	size_t rlen, ilen;
	struct ip4_hdr ip;
	struct buf pl;
	struct nh_fa *f;

	switch (e->kind) {
	case NH_EV_LINK:
		nh_link_in(n, e);
		break;
	case NH_EV_TO_HA:
		rlen = ha_process_request(&n->ha, e->d, e->len, e->from, nh_now_ms(n),
					  nh_now_ntp(n), reply, sizeof(reply));
		if (rlen > 0)
			nh_queue(n, NH_EV_FROM_HA, reply, rlen)->to = e->from;
		break;
	case NH_EV_FROM_HA:
		if ((f = nh_fa_at(n, e->to)) != NULL)
			fa_from_ha(&f->fa, ah_ip(AH_HA), e->d, e->len, nh_now_ms(n));
		break;
	case NH_EV_TUNNEL_IN:
		if (ip4_parse(e->d, e->len, &ip, &pl) != IP4_OK ||
		    ip.dst.s_addr != ah_ip(AH_HA).s_addr)
			break;
		if (ha_tunnel_in(&n->ha, e->d, e->len, &inner, &ilen) == 0 && ilen >= IP4_HDR_LEN) {
			n->cn_rx++;
			n->cn_last_id = (uint16_t)(inner[4] << 8 | inner[5]);
		} else {
			n->tunnel_refused++;
		}
		break;
	case NH_EV_TUNNEL:
		if (ip4_parse(e->d, e->len, &ip, &pl) == IP4_OK &&
		    (f = nh_fa_at(n, ip.dst)) != NULL)
			fa_from_tunnel(&f->fa, e->d, e->len);
		break;
	case NH_EV_SAX:
		if ((f = nh_fa_at(n, e->to)) != NULL)
			fa_sec_sax_in(&f->sec, e->from, e->d, e->len);
		break;
	}
}

static bool nh_deliver_next(struct nh *n)
{
	struct nh_ev *e = n->head;

	if (e == NULL)
		return false;
	n->head = e->next;
	if (n->head == NULL)
		n->tail = NULL;
	if (n->filter == NULL || !n->filter(n, e, n->filter_arg))
		nh_deliver(n, e);
	free(e);
	return true;
}

bool nh_run(struct nh *n, uint64_t max_ms, nh_cond cond, void *arg)
{
	uint64_t start = nh_now_ms(n);
	size_t events = 0;

	for (;;) {
		if (cond != NULL && cond(n, arg))
			return true;
		if (nh_deliver_next(n)) {
			ck_assert_msg(++events < NH_RUN_EVENTS, "nh_run: %zu deliveries, a runaway",
				      events);
			continue;
		}
		if (nh_now_ms(n) - start >= max_ms) {
			/* time is up: what is due now still happens */
			nh_clock_step(n, 0);
			if (n->head == NULL)
				return cond == NULL || cond(n, arg);
			continue;
		}
		nh_clock_step(n, 1);
	}
}

void nh_settle(struct nh *n)
{
	nh_run(n, FA_AFTER_REPLY_MS, NULL, NULL);
}

/* ---- set-up ---- */

static void nh_ike_conf(struct ipsec_conf *ic, const char *local_id)
{
	ic->enabled = true;
	ike_config_defaults(&ic->ike);
	ck_assert_int_eq(ike_id_parse(local_id, &ic->ike.local_id), 0);
	/* one proposal each, quick to compute; no DPD, so the link carries only what a test causes
	 */
	ic->ike.p1[0] = (struct ike_p1_prop){128, IKE_HASH_SHA2_256, IKE_GROUP_ECP256};
	ic->ike.n_p1 = 1;
	ic->ike.p2[0] = (struct ike_p2_prop){ESP_ALG_AES_GCM_16, 128};
	ic->ike.n_p2 = 1;
	ic->ike.dpd_interval_s = 0;
	ic->ike.retrans_ms = 500;
	ic->ike.retrans_tries = 3;
	/* as the daemons run: keyed contexts lent to the SAs that carry packets (esp.h) */
	ic->esp_cache_pairs = IPSEC_CACHE_PAIRS;
}

static void nh_peer(struct ike_peer *p, const char *addr, const char *id, const char *psk,
		    const char *local, uint8_t lplen, const char *remote, uint8_t rplen)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", id);
	p->addr = ah_ip(addr);
	ck_assert_int_eq(ike_id_parse(id, &p->id), 0);
	p->psk_len = strlen(psk);
	memcpy(p->psk, psk, p->psk_len);
	p->local_net = ah_ip(local);
	p->local_plen = lplen;
	p->remote_net = ah_ip(remote);
	p->remote_plen = rplen;
}

static void nh_domain(struct nh_fa *f, const struct nh_conf *c)
{
	struct fa_domain *d = &f->dom;
	bool a = f->idx != NH_FA3;

	memset(d, 0, sizeof(*d));
	d->enabled = true;
	d->reuse = c->reuse;
	d->direct = a ? c->direct : true;
	d->store = a && c->store;
	d->offers = a && c->offers;
	if (a) {
		d->members[d->n_members++] = ah_ip(AH_COA1);
		d->members[d->n_members++] = ah_ip(AH_COA2);
		d->members[d->n_members++] = ah_ip(NH_COA4);
	} else {
		d->members[d->n_members++] = ah_ip(NH_COA3);
	}
	sax_ring_init(&d->keys, a ? &keys_a : &keys_b);
	sax_ring_init(&d->fa_keys, a ? &fa_keys_a : &fa_keys_b);
	d->key_overlap_ms = SAX_RING_OVERLAP_DEFAULT;
	d->timeout_ms = 100;
	d->window_ms = 30000;
	d->lend_ms = c->lend_ms != 0 ? c->lend_ms : 1000;
	d->seq_reserve = a && c->seq_reserve != 0 ? c->seq_reserve : 1u << 20;
}

static void nh_fa_start(struct nh *n, int i)
{
	struct nh_fa *f = &n->fa[i];
	bool a = i != NH_FA3;
	const struct fa_config cfg = {.alias = ah_ip(a ? NH_ALIAS_A : NH_ALIAS_B),
				      .alias_plen = 24,
				      .coa = ah_ip(nh_coa[i]),
				      .adv_lifetime = 9,
				      .max_lifetime = 300,
				      .pending_timeout_ms = 7000,
				      .max_visitors = 8,
				      .reverse_tunnel = true};
	const struct fa_ops ops = {.to_link = nh_fa_to_link,
				   .to_ha = nh_fa_to_ha,
				   .to_tunnel = nh_fa_to_tunnel,
				   .to_forward = nh_fa_to_forward,
				   .arg = f};
	const struct fa_sec_ops sops = {.to_link = nh_fa_to_link,
					.to_stack = nh_fa_to_stack,
					.route = nh_fa_route,
					.sax_send = nh_fa_sax_send,
					.arg = f};
	const struct fa_store store = {.get = nh_store_get_op, .put = nh_store_put_op, .ctx = f};

	f->n = n;
	f->idx = i;
	f->alive = true;
	nh_ike_conf(&f->ic, a ? NH_ID_A : NH_ID_B);
	nh_peer(&f->peer, AH_ALICE, AH_NAI_ALICE, a ? NH_PSK_A : NH_PSK_B, "0.0.0.0", 0, AH_ALICE,
		32);
	f->ic.peers = &f->peer;
	f->ic.n_peers = 1;
	nh_domain(f, &n->conf);
	f->has_store = f->dom.store;
	ck_assert_int_eq(fa_init(&f->fa, &cfg, &ops), 0);
	ck_assert_int_eq(fa_sec_init(&f->sec, &f->fa, n->loop, &f->ic, &f->dom,
				     f->has_store ? &store : NULL, 1500, &sops),
			 0);
}

static void nh_mn_start(struct nh *n)
{
	struct nh_mn *m = &n->mn;
	struct mn_config mc = {.home_addr = ah_ip(AH_ALICE),
			       .home_agent = ah_ip(AH_HA),
			       .ha_key = ah_key(AH_SPI_ALICE, AH_SEED_ALICE),
			       .lifetime = 300,
			       .reverse_tunnel = true,
			       .reg_retry_ms = 500,
			       .reg_retry_max_ms = 600,
			       .solicit_retry_ms = 100};
	const struct mn_ops ops = {.to_link = nh_mn_to_link, .stopped = nh_mn_stopped, .arg = n};
	const struct mn_sec_ops sops = {
		.to_link = nh_mn_to_link, .to_stack = nh_mn_to_stack, .arg = n};

	snprintf(mc.nai, sizeof(mc.nai), "%s", AH_NAI_ALICE);
	m->link = -1;
	nh_ike_conf(&m->ic, AH_NAI_ALICE);
	nh_peer(&m->peers[0], NH_ALIAS_A, NH_ID_A, NH_PSK_A, AH_ALICE, 32, "0.0.0.0", 0);
	nh_peer(&m->peers[1], NH_ALIAS_B, NH_ID_B, NH_PSK_B, AH_ALICE, 32, "0.0.0.0", 0);
	m->ic.peers = m->peers;
	m->ic.n_peers = 2;
	mn_init(&m->mn, n->loop, &mc, &ops, false);
	ck_assert_int_eq(mn_sec_init(&m->sec, &m->mn, n->loop, &m->ic, mc.home_addr,
				     (struct in_addr){0}, true, 1500, &sops),
			 0);
}

struct nh *nh_new(const struct nh_conf *c)
{
	struct nh *n = calloc(1, sizeof(*n));
	const struct nh_conf def = {.reuse = FA_REUSE_FULL, .direct = true, .store = true};

	ck_assert_ptr_nonnull(n);
	nh_keys_init();
	n->conf = c != NULL ? *c : def;
	n->loop = ev_loop_new_virtual(NH_START_MS);
	ck_assert_ptr_nonnull(n->loop);
	snprintf(n->ha_mns[0].nai, sizeof(n->ha_mns[0].nai), "%s", AH_NAI_ALICE);
	n->ha_mns[0].nai_len = strlen(AH_NAI_ALICE);
	n->ha_mns[0].home_addr = ah_ip(AH_ALICE);
	n->ha_mns[0].key = ah_key(AH_SPI_ALICE, AH_SEED_ALICE);
	const struct ha_config hc = {.address = ah_ip(AH_HA),
				     .max_lifetime = 1800,
				     .tolerance_s = MIP_IDENT_TOLERANCE,
				     .reverse_tunnel = true,
				     .mns = n->ha_mns,
				     .n_mns = 1};
	const struct ha_ops hops = {0};
	ck_assert_int_eq(ha_init(&n->ha, &hc, &hops), 0);
	for (int i = 0; i < NH_N_FAS; i++)
		nh_fa_start(n, i);
	nh_mn_start(n);
	n->next_ip_id = 1;
	return n;
}

static void nh_fa_stop(struct nh *n, struct nh_fa *f)
{
	nh_store_drop(n, f);
	fa_sec_free(&f->sec);
	fa_free(&f->fa);
	fa_domain_free(&f->dom);
}

void nh_kill_fa(struct nh *n, int i)
{
	struct nh_fa *f = &n->fa[i];

	ck_assert(f->alive);
	f->alive = false;
	nh_fa_stop(n, f);
}

void nh_silence_fa(struct nh *n, int i, bool silent)
{
	n->fa[i].silent = silent;
}

void nh_free(struct nh *n)
{
	n->closing = true;
	nh_store_drop(n, NULL);
	mn_sec_free(&n->mn.sec);
	mn_free(&n->mn.mn);
	for (int i = 0; i < NH_N_FAS; i++)
		if (n->fa[i].alive)
			nh_fa_stop(n, &n->fa[i]);
	ha_free(&n->ha);
	while (n->head != NULL) {
		struct nh_ev *e = n->head;
		n->head = e->next;
		free(e);
	}
	for (size_t i = 0; i < n->n_frames; i++)
		free(n->frames[i].d);
	free(n->frames);
	for (size_t i = 0; i < n->n_saxs; i++)
		free(n->saxs[i].d);
	free(n->saxs);
	for (size_t i = 0; i < n->store.n_rec; i++)
		free(n->store.rec[i].msg);
	ev_loop_free(n->loop);
	free(n);
}

/* ---- the node's moves ---- */

void nh_detach(struct nh *n)
{
	if (n->mn.link < 0)
		return;
	mn_link_event(&n->mn.mn, false);
	n->mn.link = -1;
}

bool nh_move_until(struct nh *n, int fa, uint64_t max_ms, nh_cond cond, void *arg)
{
	if (n->mn.link >= 0) {
		nh_detach(n);
		nh_run(n, 15, NULL, NULL);
	}
	n->mn.link = fa;
	mn_link_event(&n->mn.mn, true);
	return nh_run(n, max_ms, cond, arg);
}

void nh_move(struct nh *n, int fa)
{
	nh_move_until(n, fa, 0, NULL, NULL);
}

/* ---- traffic ---- */

bool nh_cn_send(struct nh *n)
{
	uint8_t pkt[200], tun[300];
	uint16_t id = n->next_ip_id++;
	uint64_t rx = n->mn_rx;
	size_t len =
		ah_data_packet(ah_ip(AH_CN), ah_ip(AH_ALICE), 0, 0, 64, id, 100, pkt, sizeof(pkt));
	size_t tl = ha_tunnel_out(&n->ha, pkt, len, tun, sizeof(tun));

	if (tl == 0)
		return false;
	nh_queue(n, NH_EV_TUNNEL, tun, tl);
	nh_settle(n);
	return n->mn_rx == rx + 1 && n->mn_last_id == id;
}

bool nh_mn_send(struct nh *n)
{
	uint8_t pkt[200];
	uint16_t id = n->next_ip_id++;
	uint64_t rx = n->cn_rx;
	size_t len =
		ah_data_packet(ah_ip(AH_ALICE), ah_ip(AH_CN), 0, 0, 64, id, 90, pkt, sizeof(pkt));

	mn_from_stack(&n->mn.mn, pkt, len);
	nh_settle(n);
	return n->cn_rx == rx + 1 && n->cn_last_id == id;
}

size_t nh_tunnel_now(struct nh *n, uint8_t *out, size_t cap)
{
	uint8_t pkt[200];
	size_t len = ah_data_packet(ah_ip(AH_CN), ah_ip(AH_ALICE), 0, 0, 64, n->next_ip_id++, 100,
				    pkt, sizeof(pkt));

	return ha_tunnel_out(&n->ha, pkt, len, out, cap);
}

void nh_tunnel_late(struct nh *n, const uint8_t *pkt, size_t len)
{
	nh_queue(n, NH_EV_TUNNEL, pkt, len);
	nh_settle(n);
}

/* ---- inspection ---- */

size_t nh_mark(const struct nh *n)
{
	return n->n_frames;
}

size_t nh_ike_since(const struct nh *n, int fa, size_t mark)
{
	size_t c = 0;

	for (size_t i = mark; i < n->n_frames; i++)
		c += n->frames[i].link == fa && n->frames[i].ike;
	return c;
}

size_t nh_esp_sent(const struct nh *n, int from)
{
	size_t c = 0;

	for (size_t i = 0; i < n->n_frames; i++)
		c += n->frames[i].from == from && n->frames[i].esp;
	return c;
}

bool nh_esp_unique(const struct nh *n, char *why, size_t cap)
{
	for (size_t i = 0; i < n->n_frames; i++) {
		const struct nh_frame *a = &n->frames[i];
		if (!a->esp || a->from == NH_OTHER)
			continue;
		for (size_t j = i + 1; j < n->n_frames; j++) {
			const struct nh_frame *b = &n->frames[j];
			/* the FAs together are one sender of the node's inbound SAs */
			if (b->esp && b->spi == a->spi && b->seq == a->seq &&
			    (a->from == NH_MN) == (b->from == NH_MN) && b->from != NH_OTHER) {
				snprintf(why, cap, "SPI %08x sequence number %u sent by %d and %d",
					 a->spi, a->seq, a->from, b->from);
				return false;
			}
		}
	}
	return true;
}

bool nh_fa_holds(struct nh_fa *f)
{
	struct in_addr home = ah_ip(AH_ALICE);

	if (!f->alive)
		return false;
	for (struct ike_child *c = ike_children(f->sec.ep.ike); c != NULL; c = c->next)
		if (c->peer.s_addr == home.s_addr)
			return true;
	return ike_sa_find_peer(f->sec.ep.ike, home) != NULL ||
	       ipsec_find(&f->sec.ep.sas, home.s_addr) != NULL;
}

struct ipsec_pair *nh_fa_pair(struct nh_fa *f)
{
	return f->alive ? ipsec_find(&f->sec.ep.sas, ah_ip(AH_ALICE).s_addr) : NULL;
}

size_t nh_reuse_reg(const struct nh *n, int fa, struct in_addr prev, uint8_t *out, size_t cap)
{
	for (size_t i = n->n_frames; i > 0; i--) {
		const struct nh_frame *f = &n->frames[i - 1];
		struct mip_reg_request rq;
		struct ah_udp u;
		if (f->link != fa || f->from != NH_MN || !ah_udp_unwrap(f->d, f->len, &u) ||
		    u.dport != MIP_PORT || mip_request_parse(u.msg, u.len, &rq) != MIP_PERR_OK ||
		    !rq.ext.reuse.present || rq.ext.reuse.prev_coa.s_addr != prev.s_addr)
			continue;
		ck_assert_uint_le(u.len, cap);
		memcpy(out, u.msg, u.len);
		return u.len;
	}
	return 0;
}

void nh_inject_frame(struct nh *n, int fa, const uint8_t *pkt, size_t len)
{
	nh_link_send(n, fa, NH_OTHER, NH_ATTACKER_MAC, nh_fa_mac(fa), pkt, len);
}

void nh_inject_reg(struct nh *n, int fa, const uint8_t *msg, size_t len)
{
	uint8_t pkt[1200];
	size_t pl = ah_udp_wrap(ah_ip(AH_ALICE), n->fa[fa].fa.cfg.alias, MIP_PORT, MIP_PORT, msg,
				len, pkt, sizeof(pkt));

	nh_inject_frame(n, fa, pkt, pl);
}

void nh_inject_sax(struct nh *n, struct in_addr from, int fa, const uint8_t *msg, size_t len)
{
	nh_sax_send(n, NH_OTHER, from, ah_ip(nh_coa[fa]), msg, len);
}

const struct nh_sax *nh_sax_last(const struct nh *n, uint8_t type, struct in_addr to, size_t first)
{
	for (size_t i = n->n_saxs; i > first; i--)
		if (n->saxs[i - 1].type == type && n->saxs[i - 1].to.s_addr == to.s_addr)
			return &n->saxs[i - 1];
	return NULL;
}
