/*
 * The agents under hostile input: a home agent with a registered node, a
 * foreign agent with that node as its visitor, and the node itself, all
 * in one process.  The first input byte picks an entry point, the rest is
 * the packet.  Whatever arrives, nothing may crash, and the registered
 * binding and visitor must stay exactly as they were: no fuzzed packet can
 * carry a valid authenticator.
 */
#include "fuzzer.h"

#include "evloop.h"
#include "fa.h"
#include "ha.h"
#include "ip4.h"
#include "mip_ident.h"
#include "mn.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

static struct {
	struct ev_loop *loop;
	struct ha ha;
	struct ha_mn mn_cfg;
	struct ha_fa_key ha_fa;
	struct fa_peer_key fa_ha;
	struct fa fa;
	struct mn mn;
	struct in_addr home, ha_addr, coa, alias;
	uint8_t mac[6];
	uint8_t last_to_ha[1024];
	size_t last_to_ha_len;
	uint8_t last_to_link[2048];
	size_t last_to_link_len;
} F;

static void to_link(void *arg, const uint8_t mac[6], const uint8_t *pkt, size_t len)
{
	(void)arg;
	(void)mac;
	if (len <= sizeof(F.last_to_link)) {
		memcpy(F.last_to_link, pkt, len);
		F.last_to_link_len = len;
	}
}

static void to_ha(void *arg, struct in_addr ha, const uint8_t *msg, size_t len)
{
	(void)arg;
	(void)ha;
	if (len <= sizeof(F.last_to_ha)) {
		memcpy(F.last_to_ha, msg, len);
		F.last_to_ha_len = len;
	}
}

static void to_pkt(void *arg, const uint8_t *pkt, size_t len)
{
	(void)arg;
	(void)pkt;
	(void)len;
}

static struct in_addr ip(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a;
}

/* A registration through the FA to the HA, as the node would send it. */
static void register_node(void)
{
	struct mip_reg_request rq = {.flags = MIP_RQ_T,
				     .lifetime = 600,
				     .home_addr = F.home,
				     .home_agent = F.ha_addr,
				     .coa = F.coa,
				     .id = mip_ident_at(ev_loop_wall_us(F.loop))};
	uint8_t msg[256], pkt[512], reply[512];
	struct buf bm, bp;

	buf_init_write(&bm, msg, sizeof(msg));
	buf_init_write(&bp, pkt, sizeof(pkt));
	mip_request_put(&bm, &rq);
	mip_ext_put_auth(&bm, MIP_EXT_MN_HA_AUTH, F.mn_cfg.key.spi, F.mn_cfg.key.key,
			 F.mn_cfg.key.len);
	ip4_udp_put(&bp, F.home, F.alias, MIP_PORT, MIP_PORT, 64, msg, buf_used(&bm));
	fa_from_link(&F.fa, F.mac, pkt, buf_used(&bp), 1000);
	size_t rlen =
		ha_process_request(&F.ha, F.last_to_ha, F.last_to_ha_len, F.coa, 1000,
				   mip_ident_at(ev_loop_wall_us(F.loop)), reply, sizeof(reply));
	fa_from_ha(&F.fa, F.ha_addr, reply, rlen, 1000);
}

static void setup(void)
{
	struct ha_config hc = {.max_lifetime = 600, .tolerance_s = 7, .reverse_tunnel = true};
	struct fa_config fc = {.max_lifetime = 600,
			       .pending_timeout_ms = 7000,
			       .max_visitors = 64,
			       .reverse_tunnel = true,
			       .adv_lifetime = 3,
			       .alias_plen = 24};
	struct fa_ops fo = {
		.to_link = to_link, .to_ha = to_ha, .to_tunnel = to_pkt, .to_forward = to_pkt};
	struct mn_config mc = {.lifetime = 600,
			       .reverse_tunnel = true,
			       .reg_retry_ms = 500,
			       .reg_retry_max_ms = 8000,
			       .solicit_retry_ms = 1000};
	struct mn_ops mo = {.to_link = to_link};

	/* A virtual clock: every input meets the same times, so a finding replays. */
	F.loop = ev_loop_new_virtual(1000);
	F.home = ip("10.1.0.10");
	F.ha_addr = ip("10.1.0.1");
	F.coa = ip("192.0.2.1");
	F.alias = ip("198.51.100.1");
	memcpy(F.mac, (uint8_t[6]){2, 0, 0, 0, 0, 9}, 6);
	F.mn_cfg.home_addr = F.home;
	F.mn_cfg.key.spi = 4096;
	F.mn_cfg.key.len = 16;
	memset(F.mn_cfg.key.key, 0x5a, 16);
	/* FA-HA both ways: without it a forged "reply" could rewrite the visitor. */
	F.ha_fa.addr = F.coa;
	F.ha_fa.key = (struct mip_key){.spi = 8192, .len = 16};
	memset(F.ha_fa.key.key, 0xa5, 16);
	F.fa_ha.addr = F.ha_addr;
	F.fa_ha.key = F.ha_fa.key;
	hc.address = F.ha_addr;
	hc.mns = &F.mn_cfg;
	hc.n_mns = 1;
	hc.fas = &F.ha_fa;
	hc.n_fas = 1;
	hc.require_fa_auth = true;
	fc.has = &F.fa_ha;
	fc.n_has = 1;
	fc.require_ha_auth = true;
	ha_init(&F.ha, &hc, NULL);
	fc.alias = F.alias;
	fc.coa = F.coa;
	fa_init(&F.fa, &fc, &fo);
	register_node();
	mc.home_addr = F.home;
	mc.home_agent = F.ha_addr;
	mc.ha_key = F.mn_cfg.key;
	mn_init(&F.mn, F.loop, &mc, &mo, true);
}

/* The binding and the visitor that setup() registered, unchanged. */
static void check_invariants(void)
{
	struct ha_mn *m = ha_find_mn(&F.ha, F.home);
	struct fa_visitor *v = fa_find_visitor(&F.fa, F.home);

	CHECK(m != NULL && m->b.active && m->b.coa.s_addr == F.coa.s_addr);
	CHECK(v != NULL && v->active && memcmp(v->mac, F.mac, 6) == 0);
	CHECK(v->home_agent.s_addr == F.ha_addr.s_addr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t pkt[IP4_MAX_PACKET], reply[2048];

	if (F.loop == NULL)
		setup();
	if (size < 1 || size > sizeof(pkt))
		return 0;
	memcpy(pkt, data + 1, size - 1);
	size--;
	switch (data[0] % 8) {
	case 0:
		ha_process_request(&F.ha, pkt, size, F.coa, 2000,
				   mip_ident_at(ev_loop_wall_us(F.loop)), reply, sizeof(reply));
		break;
	case 1:
		ha_process_request(&F.ha, pkt, size, F.home, 2000,
				   mip_ident_at(ev_loop_wall_us(F.loop)), reply, sizeof(reply));
		break;
	case 2: {
		const uint8_t *inner;
		size_t ilen;
		ha_tunnel_in(&F.ha, pkt, size, &inner, &ilen);
		ha_tunnel_out(&F.ha, pkt, size, reply, sizeof(reply));
		break;
	}
	case 3:
		fa_from_link(&F.fa, (uint8_t[6]){2, 0, 0, 0, 0, 7}, pkt, size, 2000);
		break;
	case 4:
		fa_from_ha(&F.fa, F.ha_addr, pkt, size, 2000);
		break;
	case 5:
		fa_from_tunnel(&F.fa, pkt, size);
		fa_from_visitor(&F.fa, pkt, size);
		break;
	case 6:
		mn_from_link(&F.mn, F.mac, pkt, size);
		break;
	case 7:
		mn_from_reply(&F.mn, pkt, size);
		break;
	}
	check_invariants();
	return 0;
}
