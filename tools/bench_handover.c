/*
 * bench_handover: the mobile node's work per hand-over (doc/design.md,
 * targets: a full-reuse hand-over needs no public-key or DH operation and at
 * most 1% of the instructions of a full negotiation).
 *
 * A node and a foreign agent run in one process, two IKE engines talking
 * through an in-memory queue (as tests/unit/ike_pair.c does), PSK, the
 * proposals of conf/mn.conf (aes128-sha256 with MODP 2048 or ECP 256, ESP
 * aes128gcm16).  Per configuration it measures:
 *
 *  (a) a full negotiation, Main Mode + Quick Mode: what the node does
 *      (ike_initiate, every message the FA sends through mn_sec_ike_in,
 *      its ESP pair in mn_sec's child_up) and, apart, what the
 *      FA does;
 *  (b) a full-reuse hand-over at the node, mn/mn_ipsec.c itself through
 *      the guard it installs: secure deciding to reuse, extend appending the
 *      SA reuse extension (ike_export, the ESP counters, mip_ext_put_reuse,
 *      ike_possession_mac) to a Registration Request that already holds
 *      NAI and MN-HA, then mip_reply_parse() of the reply carrying the
 *      "full" status and accepted.  Building the request up to
 *      MN-HA and checking the reply's MN-HA are plain Mobile IP and not
 *      counted; parsing the whole reply is (the status is in it).
 *
 * The request (b) builds is checked against the FA's copy of the ISAKMP SA
 * (cookies, proof of possession), and every DH and public-key operation is
 * counted per side through the linker (--wrap of ike_dh_generate,
 * ike_dh_shared, ike_cert_sign, ike_cert_verify and OpenSSL's
 * EVP_PKEY_generate, _keygen, _derive, _sign, _verify: tools/bench.mk).
 * (b) must make none: if it does, or the request is wrong, it says so and
 * exits 1.  Timings are printed, never judged.
 *
 *   bench_handover [-n negotiations] [-r reuse-hand-overs]
 *   bench_handover --callgrind-a|--callgrind-b [-g 14|19] [-p] [-n count]
 *
 * The callgrind modes run only (a) or (b), count times, after one run not
 * counted (OpenSSL loads its algorithms then).  The node's work is inside
 * bench_mn_negotiation_step (a) and bench_mn_reuse (b), the FA's inside
 * bench_fa_negotiation_step, so:
 *
 *   valgrind --tool=callgrind --collect-atstart=no \
 *     --toggle-collect=bench_mn_negotiation_step --callgrind-out-file=cg.a \
 *     tools/bench_handover --callgrind-a -g 19 -n 20
 *   valgrind --tool=callgrind --collect-atstart=no \
 *     --toggle-collect=bench_mn_reuse --callgrind-out-file=cg.b \
 *     tools/bench_handover --callgrind-b -g 19 -n 1000
 *   callgrind_annotate cg.a | grep 'PROG TOTALS'   (divide by -n)
 *   callgrind_annotate --inclusive=yes cg.b | grep -Ei 'pkey|dh|ec_|bn_|rsa'
 */
#include "bench.h"
#include "buf.h"
#include "esp.h"
#include "evloop.h"
#include "ike.h"
#include "ike_xfer.h"
#include "ipsec.h"
#include "log.h"
#include "ip4.h"
#include "ipsec_conf.h"
#include "mip_msg.h"
#include "mn_sec.h"
#include "sax.h"

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__clang__)
#define BENCH_HOOK __attribute__((noinline))
#else
#define BENCH_HOOK __attribute__((noinline, noipa))
#endif

#define MN_HOME "198.18.100.10"
#define ALIAS   "198.19.0.1"
#define COA1    "198.18.11.2"
#define COA2    "198.18.12.2"
#define HA_ADDR "198.18.100.1"
#define MN_NAI  "mn1@home.example"
#define FA_ID   "fa.domain-a.example"
#define PSK     "a long random pre-shared key"

/* ---- DH and public-key operations, counted per side (ld --wrap) ---- */

enum side { SIDE_NONE, SIDE_MN, SIDE_FA, SIDES };

struct pk_count {
	unsigned long dh_generate, dh_shared, cert_sign, cert_verify;
	unsigned long pkey_generate, pkey_keygen, pkey_derive, pkey_sign, pkey_verify;
};

static enum side cur_side;
static struct pk_count pk[SIDES];

static unsigned long pk_total(const struct pk_count *c)
{
	return c->dh_generate + c->dh_shared + c->cert_sign + c->cert_verify + c->pkey_generate +
	       c->pkey_keygen + c->pkey_derive + c->pkey_sign + c->pkey_verify;
}

/* ike_int.h's, which the engine's other files call. */
int ike_cert_sign(const struct ike_creds *cr, const uint8_t *hash, size_t hlen, uint8_t *sig,
		  size_t *sig_len);
int ike_cert_verify(const struct ike_creds *cr, const uint8_t *der, size_t der_len,
		    const struct ike_id *id, const uint8_t *hash, size_t hlen, const uint8_t *sig,
		    size_t sig_len);

int __real_ike_dh_generate(struct ike_dh *dh, enum ike_group group);
int __wrap_ike_dh_generate(struct ike_dh *dh, enum ike_group group);
int __real_ike_dh_shared(const struct ike_dh *dh, const uint8_t *peer, size_t peer_len,
			 uint8_t *out, size_t *out_len);
int __wrap_ike_dh_shared(const struct ike_dh *dh, const uint8_t *peer, size_t peer_len,
			 uint8_t *out, size_t *out_len);
int __real_ike_cert_sign(const struct ike_creds *cr, const uint8_t *hash, size_t hlen, uint8_t *sig,
			 size_t *sig_len);
int __wrap_ike_cert_sign(const struct ike_creds *cr, const uint8_t *hash, size_t hlen, uint8_t *sig,
			 size_t *sig_len);
int __real_ike_cert_verify(const struct ike_creds *cr, const uint8_t *der, size_t der_len,
			   const struct ike_id *id, const uint8_t *hash, size_t hlen,
			   const uint8_t *sig, size_t sig_len);
int __wrap_ike_cert_verify(const struct ike_creds *cr, const uint8_t *der, size_t der_len,
			   const struct ike_id *id, const uint8_t *hash, size_t hlen,
			   const uint8_t *sig, size_t sig_len);
int __real_EVP_PKEY_generate(EVP_PKEY_CTX *ctx, EVP_PKEY **ppkey);
int __wrap_EVP_PKEY_generate(EVP_PKEY_CTX *ctx, EVP_PKEY **ppkey);
int __real_EVP_PKEY_keygen(EVP_PKEY_CTX *ctx, EVP_PKEY **ppkey);
int __wrap_EVP_PKEY_keygen(EVP_PKEY_CTX *ctx, EVP_PKEY **ppkey);
int __real_EVP_PKEY_derive(EVP_PKEY_CTX *ctx, unsigned char *key, size_t *keylen);
int __wrap_EVP_PKEY_derive(EVP_PKEY_CTX *ctx, unsigned char *key, size_t *keylen);
int __real_EVP_PKEY_sign(EVP_PKEY_CTX *ctx, unsigned char *sig, size_t *siglen,
			 const unsigned char *tbs, size_t tbslen);
int __wrap_EVP_PKEY_sign(EVP_PKEY_CTX *ctx, unsigned char *sig, size_t *siglen,
			 const unsigned char *tbs, size_t tbslen);
int __real_EVP_PKEY_verify(EVP_PKEY_CTX *ctx, const unsigned char *sig, size_t siglen,
			   const unsigned char *tbs, size_t tbslen);
int __wrap_EVP_PKEY_verify(EVP_PKEY_CTX *ctx, const unsigned char *sig, size_t siglen,
			   const unsigned char *tbs, size_t tbslen);

int __wrap_ike_dh_generate(struct ike_dh *dh, enum ike_group group)
{
	pk[cur_side].dh_generate++;
	return __real_ike_dh_generate(dh, group);
}

int __wrap_ike_dh_shared(const struct ike_dh *dh, const uint8_t *peer, size_t peer_len,
			 uint8_t *out, size_t *out_len)
{
	pk[cur_side].dh_shared++;
	return __real_ike_dh_shared(dh, peer, peer_len, out, out_len);
}

int __wrap_ike_cert_sign(const struct ike_creds *cr, const uint8_t *hash, size_t hlen, uint8_t *sig,
			 size_t *sig_len)
{
	pk[cur_side].cert_sign++;
	return __real_ike_cert_sign(cr, hash, hlen, sig, sig_len);
}

int __wrap_ike_cert_verify(const struct ike_creds *cr, const uint8_t *der, size_t der_len,
			   const struct ike_id *id, const uint8_t *hash, size_t hlen,
			   const uint8_t *sig, size_t sig_len)
{
	pk[cur_side].cert_verify++;
	return __real_ike_cert_verify(cr, der, der_len, id, hash, hlen, sig, sig_len);
}

int __wrap_EVP_PKEY_generate(EVP_PKEY_CTX *ctx, EVP_PKEY **ppkey)
{
	pk[cur_side].pkey_generate++;
	return __real_EVP_PKEY_generate(ctx, ppkey);
}

int __wrap_EVP_PKEY_keygen(EVP_PKEY_CTX *ctx, EVP_PKEY **ppkey)
{
	pk[cur_side].pkey_keygen++;
	return __real_EVP_PKEY_keygen(ctx, ppkey);
}

int __wrap_EVP_PKEY_derive(EVP_PKEY_CTX *ctx, unsigned char *key, size_t *keylen)
{
	pk[cur_side].pkey_derive++;
	return __real_EVP_PKEY_derive(ctx, key, keylen);
}

int __wrap_EVP_PKEY_sign(EVP_PKEY_CTX *ctx, unsigned char *sig, size_t *siglen,
			 const unsigned char *tbs, size_t tbslen)
{
	pk[cur_side].pkey_sign++;
	return __real_EVP_PKEY_sign(ctx, sig, siglen, tbs, tbslen);
}

int __wrap_EVP_PKEY_verify(EVP_PKEY_CTX *ctx, const unsigned char *sig, size_t siglen,
			   const unsigned char *tbs, size_t tbslen)
{
	pk[cur_side].pkey_verify++;
	return __real_EVP_PKEY_verify(ctx, sig, siglen, tbs, tbslen);
}

/* ---- the node (the MN's IPsec library, mn_sec.h) and the FA, one queue between them ---- */

#define QUEUE 32

struct msg {
	enum side to;
	struct in_addr src, dst;
	uint16_t sport, dport;
	uint8_t data[4096];
	size_t len;
};

struct fa_side {
	struct ike_engine *eng;
	struct ike_peer peer; /* the node, as the FA's ipsec.peers has it */
	struct ipsec ipsec;
};

static struct ev_loop *loop;
/* the node: its Mobile IP core, as far as the IPsec side reads it, and mn_sec */
static struct mn mnc;
static struct mn_sec sec;
static struct ipsec_conf ic;
static const uint8_t fa_mac[6] = {0x02, 0, 0x5e, 0, 1, 1};
static struct ike_peer mn_peer; /* the FA's alias, as the node's ipsec.peers has it */
static struct fa_side fa;
static struct msg q[QUEUE];
static size_t qhead, qlen, sent;
static bool broken; /* an engine step failed */

static void enqueue(enum side to, struct in_addr local, uint16_t lport, struct in_addr peer,
		    uint16_t pport, const uint8_t *data, size_t len)
{
	struct msg *m;

	sent++;
	if (qlen == QUEUE || len > sizeof(m->data))
		return;
	m = &q[(qhead + qlen++) % QUEUE];
	m->to = to;
	m->src = local;
	m->dst = peer;
	m->sport = lport;
	m->dport = pport;
	memcpy(m->data, data, len);
	m->len = len;
}

/* The node's frames: IKE in UDP in IPv4, to the FA's queue. */
static void bench_mn_to_link(void *arg, const uint8_t mac[6], const uint8_t *pkt, size_t len)
{
	struct ip4_hdr h;
	struct buf udp;
	uint16_t sport, dport;

	if (ip4_udp_parse_captured(pkt, len, &h, &sport, &dport, &udp) != IP4_OK)
		broken = true;
	else
		enqueue(SIDE_FA, h.src, sport, h.dst, dport, buf_rptr(&udp), buf_left(&udp));
}

static void bench_mn_to_stack(void *arg, const uint8_t *pkt, size_t len)
{
}

static void fa_send(void *arg, struct in_addr local, uint16_t lport, struct in_addr peer,
		    uint16_t pport, const uint8_t *msg, size_t len)
{
	enqueue(SIDE_MN, local, lport, peer, pport, msg, len);
}

static const struct ike_peer *fa_lookup(void *arg, struct in_addr addr)
{
	return addr.s_addr == fa.peer.addr.s_addr ? &fa.peer : NULL;
}

/* What fa_ike_child_up does: the pair, keyed by the node's home address. */
static void fa_child_up(void *arg, struct ike_child *c)
{
	if (ipsec_add(&fa.ipsec, c, c->remote_net.s_addr) == NULL)
		broken = true;
}

static void fa_child_down(void *arg, struct ike_child *c, const char *why)
{
	ipsec_del(&fa.ipsec, c->spi_in);
}

static int setup(enum ike_group group, bool pfs)
{
	struct ike_config mc, fc;
	const struct ike_ops fo = {.send = fa_send,
				   .peer_lookup = fa_lookup,
				   .child_up = fa_child_up,
				   .child_down = fa_child_down};
	const struct mn_sec_ops mo = {.to_link = bench_mn_to_link, .to_stack = bench_mn_to_stack};

	memset(&mnc, 0, sizeof(mnc));
	memset(&ic, 0, sizeof(ic));
	memset(&fa, 0, sizeof(fa));
	memset(&mn_peer, 0, sizeof(mn_peer));
	qhead = qlen = sent = 0;
	broken = false;

	/* conf/mn.conf: aes128-sha256-<group>, aes128gcm16 (and aes128-sha256) */
	ike_config_defaults(&mc);
	ike_id_parse(MN_NAI, &mc.local_id);
	mc.p1[0] = (struct ike_p1_prop){128, IKE_HASH_SHA2_256, group};
	mc.n_p1 = 1;
	mc.p2[0] = (struct ike_p2_prop){ESP_ALG_AES_GCM_16, 128};
	mc.p2[1] = (struct ike_p2_prop){ESP_ALG_AES_CBC_HMAC_SHA256_128, 128};
	mc.n_p2 = 2;
	mc.pfs_group = pfs ? group : 0;
	/* conf/fa.conf */
	ike_config_defaults(&fc);
	ike_id_parse(FA_ID, &fc.local_id);
	fc.p1[0] = (struct ike_p1_prop){128, IKE_HASH_SHA2_256, IKE_GROUP_MODP2048};
	fc.p1[1] = (struct ike_p1_prop){256, IKE_HASH_SHA2_256, IKE_GROUP_ECP256};
	fc.p1[2] = (struct ike_p1_prop){128, IKE_HASH_SHA2_256, IKE_GROUP_ECP256};
	fc.n_p1 = 3;
	fc.p2[0] = (struct ike_p2_prop){ESP_ALG_AES_GCM_16, 128};
	fc.p2[1] = (struct ike_p2_prop){ESP_ALG_AES_CBC_HMAC_SHA256_128, 128};
	fc.p2[2] = (struct ike_p2_prop){ESP_ALG_AES_CBC_HMAC_SHA1_96, 128};
	fc.n_p2 = 3;
	fc.pfs_group = mc.pfs_group;
	fc.dpd_interval_s = 30;

	snprintf(mn_peer.name, sizeof(mn_peer.name), "domain-a");
	mn_peer.addr = ip(ALIAS);
	ike_id_parse(FA_ID, &mn_peer.id);
	memcpy(mn_peer.psk, PSK, strlen(PSK));
	mn_peer.psk_len = strlen(PSK);
	mn_peer.local_net = ip(MN_HOME);
	mn_peer.local_plen = 32;

	snprintf(fa.peer.name, sizeof(fa.peer.name), "mn1");
	fa.peer.addr = ip(MN_HOME);
	ike_id_parse(MN_NAI, &fa.peer.id);
	memcpy(fa.peer.psk, PSK, strlen(PSK));
	fa.peer.psk_len = strlen(PSK);
	fa.peer.remote_net = ip(MN_HOME);
	fa.peer.remote_plen = 32;

	/* The node as its IPsec side sees it, attached to the alias through COA1. */
	mnc.loop = loop;
	mnc.cfg.home_addr = ip(MN_HOME);
	mnc.cfg.home_agent = ip(HA_ADDR);
	snprintf(mnc.cfg.nai, sizeof(mnc.cfg.nai), "%s", MN_NAI);
	ic.enabled = true;
	ic.ike = mc;
	ic.peers = &mn_peer;
	ic.n_peers = 1;
	mnc.agent.valid = true;
	mnc.agent.addr = ip(ALIAS);
	memcpy(mnc.agent.mac, fa_mac, 6);
	mnc.agent.coa = ip(COA1);
	mnc.reg_coa = ip(COA1);
	ipsec_init(&fa.ipsec);
	if (mn_sec_init(&sec, &mnc, loop, &ic, mnc.cfg.home_addr, (struct in_addr){0}, true, 1500,
			&mo) < 0)
		return -1;
	sec.last_coa[0].alias = ip(ALIAS);
	sec.last_coa[0].coa = ip(COA1);
	fa.eng = ike_engine_new(loop, &fc, &fo);
	return sec.ep.ike != NULL && fa.eng != NULL ? 0 : -1;
}

static void teardown(void)
{
	mn_sec_free(&sec);
	ike_engine_free(fa.eng);
	fa.eng = NULL;
	ipsec_free(&fa.ipsec);
	qlen = 0;
}

/* ---- (a) full negotiation ---- */

static void mn_step(const struct msg *m)
{
	if (m == NULL) {
		const struct ike_peer *pc = ipsec_conf_peer(&ic, mnc.agent.addr);
		if (pc == NULL || ike_initiate(sec.ep.ike, pc, mnc.cfg.home_addr) == NULL)
			broken = true;
		return;
	}
	mn_sec_ike_in(&sec, m->dst, m->dport, m->src, m->sport, m->data, m->len);
}

static void fa_step(const struct msg *m)
{
	ike_input(fa.eng, m->dst, m->dport, m->src, m->sport, m->data, m->len);
}

/* The node's part of a negotiation: starting it (m NULL), or one message from the FA. */
BENCH_HOOK void bench_mn_negotiation_step(const struct msg *m);
BENCH_HOOK void bench_mn_negotiation_step(const struct msg *m)
{
	mn_step(m);
}

BENCH_HOOK void bench_fa_negotiation_step(const struct msg *m);
BENCH_HOOK void bench_fa_negotiation_step(const struct msg *m)
{
	fa_step(m);
}

/*
 * One Main Mode + Quick Mode; counted: through the hooks callgrind toggles
 * on.  Adds each side's time; the number of messages, or -1.
 */
static int negotiate(bool counted, double *t_mn, double *t_fa)
{
	size_t before = sent;
	double t;

	cur_side = SIDE_MN;
	t = now();
	if (counted)
		bench_mn_negotiation_step(NULL);
	else
		mn_step(NULL);
	*t_mn += now() - t;
	while (qlen > 0 && !broken) {
		struct msg *m = &q[qhead];
		qhead = (qhead + 1) % QUEUE;
		qlen--;
		/* the engines put the non-ESP marker in front on port 4500; the daemons strip it */
		if (m->dport == 4500) {
			if (m->len < 4)
				continue;
			memmove(m->data, m->data + 4, m->len - 4);
			m->len -= 4;
		}
		cur_side = m->to;
		t = now();
		if (m->to == SIDE_MN && counted)
			bench_mn_negotiation_step(m);
		else if (m->to == SIDE_MN)
			mn_step(m);
		else if (counted)
			bench_fa_negotiation_step(m);
		else
			fa_step(m);
		*(m->to == SIDE_MN ? t_mn : t_fa) += now() - t;
	}
	cur_side = SIDE_NONE;
	if (broken || ike_sa_find_peer(sec.ep.ike, ip(ALIAS)) == NULL ||
	    ike_sa_find_peer(fa.eng, ip(MN_HOME)) == NULL ||
	    ipsec_find(&sec.ep.sas, ip(ALIAS).s_addr) == NULL ||
	    ipsec_find(&fa.ipsec, ip(MN_HOME).s_addr) == NULL) {
		fprintf(stderr, "bench_handover: the negotiation did not establish SAs\n");
		return -1;
	}
	return (int)(sent - before);
}

/* Drop the SAs on both sides without a message, for the next negotiation. */
static void forget(void)
{
	ike_forget_peer(sec.ep.ike, ip(ALIAS), "bench: next round");
	ike_forget_peer(fa.eng, ip(MN_HOME), "bench: next round");
	qlen = 0;
}

/* ---- (b) full-reuse hand-over at the node ---- */

static uint8_t req[512];
static size_t req_base, req_len;
static uint8_t reply[256];
static size_t reply_len;
static struct in_addr coas[2];
static unsigned long reuse_n;

/* What mn_send_request writes before the node's extensions, and the HA's reply with our status. */
static int reuse_messages(void)
{
	const struct mip_key k = {.spi = 1000, .key = "mn-ha key 16 byt", .len = 16};
	struct mip_reg_request rq = {.flags = MIP_RQ_T,
				     .lifetime = 600,
				     .home_addr = mnc.cfg.home_addr,
				     .home_agent = mnc.cfg.home_agent,
				     .coa = ip(COA2),
				     .id = (uint64_t)3900000000u << 32 | 77};
	struct mip_reg_reply rp = {.code = MIP_CODE_ACCEPTED,
				   .lifetime = 600,
				   .home_addr = mnc.cfg.home_addr,
				   .home_agent = mnc.cfg.home_agent,
				   .id = rq.id};
	struct buf b;

	coas[0] = ip(COA2);
	coas[1] = ip(COA1);
	buf_init_write(&b, req, sizeof(req));
	if (mip_request_put(&b, &rq) < 0 || mip_ext_put_nai(&b, MN_NAI, strlen(MN_NAI)) < 0 ||
	    mip_ext_put_auth(&b, MIP_EXT_MN_HA_AUTH, k.spi, k.key, k.len) < 0)
		return -1;
	req_base = buf_used(&b);
	buf_init_write(&b, reply, sizeof(reply));
	if (mip_reply_put(&b, &rp) < 0 ||
	    mip_ext_put_auth(&b, MIP_EXT_MN_HA_AUTH, k.spi, k.key, k.len) < 0 ||
	    mip_ext_put_reuse_status(&b, MIP_REUSE_FULL, 0) < 0)
		return -1;
	reply_len = buf_used(&b);
	return 0;
}

/* The node moves to the other FA of the domain (COA1 <-> COA2) and keeps its SAs. */
static int mn_reuse(void)
{
	struct mip_reg_reply rp;
	struct buf b;

	mnc.agent.coa = coas[reuse_n++ & 1];
	if (mnc.guard.secure(mnc.guard.arg, &mnc.agent, true) != 1 || !sec.reuse_pending)
		return -1;
	buf_init_append(&b, req, sizeof(req), req_base);
	if (mnc.guard.extend(mnc.guard.arg, &b) < 0)
		return -1;
	req_len = buf_used(&b);
	if (mip_reply_parse(reply, reply_len, &rp) != MIP_PERR_OK || !rp.ext.reuse_status.present)
		return -1;
	mnc.reg_coa = mnc.agent.coa; /* mn_accepted's */
	mnc.guard.accepted(mnc.guard.arg, &rp);
	return 0;
}

BENCH_HOOK int bench_mn_reuse(void);
BENCH_HOOK int bench_mn_reuse(void)
{
	return mn_reuse();
}

/* The request the node built: the FA must find the SA it holds and the node's proof right. */
static int check_reuse_request(void)
{
	struct mip_reg_request rq;
	struct sax_record *rec = calloc(1, sizeof(*rec));
	uint8_t mac[32];
	const char *why = NULL;

	if (rec == NULL)
		why = "out of memory";
	else if (mip_request_parse(req, req_len, &rq) != MIP_PERR_OK || !rq.ext.reuse.present)
		why = "no SA reuse extension in the request";
	else if (ike_export(fa.eng, ip(MN_HOME), false, rec) < 0)
		why = "the FA has no ISAKMP SA";
	else if (memcmp(rq.ext.reuse.icookie, rec->isakmp.icookie, 8) != 0 ||
		 memcmp(rq.ext.reuse.rcookie, rec->isakmp.rcookie, 8) != 0)
		why = "the request names another ISAKMP SA";
	else if (rq.ext.reuse.prev_coa.s_addr != coas[reuse_n & 1].s_addr)
		why = "the request names the wrong previous FA";
	else if (ike_possession_mac(&rec->isakmp, req, rq.ext.reuse.covered_len, mac) < 0 ||
		 rq.ext.reuse.auth_len != rec->isakmp.hash_len ||
		 memcmp(mac, rq.ext.reuse.auth, rq.ext.reuse.auth_len) != 0)
		why = "the proof of possession does not verify at the FA";
	else if (sec.ctr.reuse_full != reuse_n || sec.reuse_pending)
		why = "the node did not take the reply as full reuse";
	if (rec != NULL) {
		sax_record_wipe(rec);
		free(rec);
	}
	if (why != NULL) {
		fprintf(stderr, "bench_handover: reuse request wrong: %s\n", why);
		return -1;
	}
	return 0;
}

/* ---- the runs ---- */

struct result {
	int msgs;
	double mn_us, fa_us, reuse_us;
	struct pk_count mn_pk, fa_pk, reuse_pk;
};

static int run(enum ike_group group, bool pfs, long n_neg, long n_reuse, struct result *r)
{
	double t_mn = 0, t_fa = 0, dummy = 0, t;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (setup(group, pfs) < 0 || reuse_messages() < 0)
		goto out;
	/* one round not counted: OpenSSL loads what it needs */
	if (negotiate(false, &dummy, &dummy) < 0)
		goto out;
	memset(pk, 0, sizeof(pk));
	for (long i = 0; i < n_neg; i++) {
		forget();
		if ((r->msgs = negotiate(true, &t_mn, &t_fa)) < 0)
			goto out;
	}
	r->mn_pk = pk[SIDE_MN];
	r->fa_pk = pk[SIDE_FA];
	r->mn_us = t_mn / (double)n_neg * 1e6;
	r->fa_us = t_fa / (double)n_neg * 1e6;

	reuse_n = 0;
	if (mn_reuse() < 0)
		goto reuse_failed;
	memset(pk, 0, sizeof(pk));
	cur_side = SIDE_MN;
	t = now();
	for (long i = 0; i < n_reuse; i++)
		if (bench_mn_reuse() < 0)
			goto reuse_failed;
	r->reuse_us = (now() - t) / (double)n_reuse * 1e6;
	cur_side = SIDE_NONE;
	r->reuse_pk = pk[SIDE_MN];
	if (check_reuse_request() < 0)
		goto out;
	rc = 0;
	goto out;
reuse_failed:
	fprintf(stderr, "bench_handover: the node's reuse path failed\n");
out:
	cur_side = SIDE_NONE;
	teardown();
	return rc;
}

/* "1 DH keygen + 1 DH derive (OpenSSL: 1 generate, 1 derive)" per operation, or "none". */
static const char *pk_str(const struct pk_count *c, long per, char *buf, size_t n)
{
	double p = (double)per;

	if (pk_total(c) == 0)
		return "none";
	snprintf(buf, n,
		 "%.0f DH keygen + %.0f DH derive + %.0f RSA sign + %.0f RSA verify (OpenSSL: "
		 "%.0f generate, %.0f derive, %.0f sign, %.0f verify)",
		 (double)c->dh_generate / p, (double)c->dh_shared / p, (double)c->cert_sign / p,
		 (double)c->cert_verify / p, (double)(c->pkey_generate + c->pkey_keygen) / p,
		 (double)c->pkey_derive / p, (double)c->pkey_sign / p, (double)c->pkey_verify / p);
	return buf;
}

static int timings(long n_neg, long n_reuse)
{
	static const struct {
		enum ike_group group;
		bool pfs;
	} cfgs[] = {{IKE_GROUP_MODP2048, false},
		    {IKE_GROUP_ECP256, false},
		    {IKE_GROUP_MODP2048, true},
		    {IKE_GROUP_ECP256, true}};
	int rc = 0;

	printf("MN <-> FA in one process, PSK, IKE aes128-sha256-<group>, ESP aes128gcm16; "
	       "%ld negotiations and %ld full-reuse hand-overs per row (times per operation)\n",
	       n_neg, n_reuse);
	printf("  %-13s %5s | %10s %10s %10s | %10s | %11s\n", "group", "msgs", "MN us", "FA us",
	       "both us", "reuse us", "reuse / MN");
	for (size_t i = 0; i < sizeof(cfgs) / sizeof(cfgs[0]); i++) {
		struct result r;
		char name[32], buf[200];

		snprintf(name, sizeof(name), "%s%s", ike_group_name(cfgs[i].group),
			 cfgs[i].pfs ? "+PFS" : "");
		if (run(cfgs[i].group, cfgs[i].pfs, n_neg, n_reuse, &r) < 0) {
			rc = 1;
			continue;
		}
		printf("  %-13s %5d | %10.1f %10.1f %10.1f | %10.2f | %10.3f%%\n", name, r.msgs,
		       r.mn_us, r.fa_us, r.mn_us + r.fa_us, r.reuse_us, r.reuse_us / r.mn_us * 100);
		printf("      DH/public key, MN per negotiation: %s\n",
		       pk_str(&r.mn_pk, n_neg, buf, sizeof(buf)));
		printf("      DH/public key, FA per negotiation: %s\n",
		       pk_str(&r.fa_pk, n_neg, buf, sizeof(buf)));
		printf("      DH/public key, MN per full reuse:  %s\n",
		       pk_str(&r.reuse_pk, n_reuse, buf, sizeof(buf)));
		if (pk_total(&r.reuse_pk) != 0 || pk_total(&r.mn_pk) == 0) {
			fprintf(stderr,
				"bench_handover: %s: the full-reuse path made %lu DH/public-key "
				"operations (negotiation: %lu)\n",
				name, pk_total(&r.reuse_pk), pk_total(&r.mn_pk));
			rc = 1;
		}
	}
	if (rc == 0)
		printf("  full reuse: no DH or public-key operation at the node (counted through "
		       "ld --wrap), request and proof checked against the FA's SA\n");
	return rc;
}

/* One of (a) or (b) alone, count times, for callgrind. */
static int callgrind(char which, enum ike_group group, bool pfs, long n)
{
	double dummy = 0;
	int rc = 1;

	if (setup(group, pfs) < 0 || reuse_messages() < 0 || negotiate(false, &dummy, &dummy) < 0)
		goto out;
	memset(pk, 0, sizeof(pk));
	if (which == 'a') {
		for (long i = 0; i < n; i++) {
			forget();
			if (negotiate(true, &dummy, &dummy) < 0)
				goto out;
		}
	} else {
		reuse_n = 0;
		if (mn_reuse() < 0)
			goto out;
		cur_side = SIDE_MN;
		for (long i = 0; i < n; i++)
			if (bench_mn_reuse() < 0)
				goto out;
		cur_side = SIDE_NONE;
		if (check_reuse_request() < 0)
			goto out;
	}
	printf("callgrind-%c: %s%s, %ld %s in %s; the node's DH/public-key operations: %lu\n",
	       which, ike_group_name(group), pfs ? "+PFS" : "", n,
	       which == 'a' ? "negotiations" : "full-reuse hand-overs",
	       which == 'a' ? "bench_mn_negotiation_step (FA: bench_fa_negotiation_step)"
			    : "bench_mn_reuse",
	       pk_total(&pk[SIDE_MN]));
	rc = which == 'b' && pk_total(&pk[SIDE_MN]) != 0 ? 1 : 0;
out:
	if (rc != 0)
		fprintf(stderr, "bench_handover: callgrind-%c run failed\n", which);
	cur_side = SIDE_NONE;
	teardown();
	return rc;
}

static int usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s [-n negotiations] [-r reuse-hand-overs]\n"
		"       %s --callgrind-a|--callgrind-b [-g 14|19] [-p] [-n count]\n",
		argv0, argv0);
	return 2;
}

int main(int argc, char **argv)
{
	long n_neg = 20, n_reuse = 20000, n = -1;
	enum ike_group group = IKE_GROUP_ECP256;
	bool pfs = false;
	char mode = 0;
	int rc;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--callgrind-a") == 0 || strcmp(a, "--callgrind-b") == 0) {
			mode = a[12];
		} else if (strcmp(a, "-p") == 0) {
			pfs = true;
		} else if (i + 1 < argc && strcmp(a, "-n") == 0) {
			n = atol(argv[++i]);
			if (n <= 0)
				return usage(argv[0]);
		} else if (i + 1 < argc && strcmp(a, "-r") == 0) {
			n_reuse = atol(argv[++i]);
			if (n_reuse <= 0)
				return usage(argv[0]);
		} else if (i + 1 < argc && strcmp(a, "-g") == 0) {
			long g = atol(argv[++i]);
			if (g != IKE_GROUP_MODP2048 && g != IKE_GROUP_ECP256)
				return usage(argv[0]);
			group = (enum ike_group)g;
		} else {
			return usage(argv[0]);
		}
	}
	log_init("bench_handover", LOG_LVL_WARN, false);
	loop = ev_loop_new();
	if (loop == NULL)
		return 1;
	if (mode != 0)
		rc = callgrind(mode, group, pfs, n > 0 ? n : (mode == 'a' ? 10 : 1000));
	else
		rc = timings(n > 0 ? n : n_neg, n_reuse);
	ev_loop_free(loop);
	return rc;
}
