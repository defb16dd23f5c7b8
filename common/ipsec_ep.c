/*
 * One IPsec endpoint on an access link: see ipsec_ep.h.
 */
#include "ipsec_ep.h"
#include "ctl.h"
#include "ip4.h"
#include "log.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IPSEC_EP_TTL 64
/* Room for the key tables of "keys": some 200 bytes a line, thousands of nodes. */
#define IPSEC_EP_KEYS_MAX (1u << 20)
/* The largest IKE message we send: what the engine builds, in UDP in IPv4. */
#define IPSEC_EP_IKE_MAX (IP4_HDR_LEN + UDP_HDR_LEN + 4200)

static void ipsec_ep_ike_send(void *arg, struct in_addr local, uint16_t lport, struct in_addr peer,
			      uint16_t pport, const uint8_t *msg, size_t len)
{
	struct ipsec_ep *ep = arg;
	const uint8_t *mac = ep->ops.mac_of(ep->ops.arg, peer);
	uint8_t pkt[IPSEC_EP_IKE_MAX];
	struct buf b;

	if (mac == NULL) {
		ep->ctr.ike_drop_no_mac++;
		log_rl_notice("no link-layer address for %s: IKE message not sent", IP4_STR(peer));
		return;
	}
	buf_init_write(&b, pkt, sizeof(pkt));
	if (ip4_udp_put(&b, local, peer, lport, pport, IPSEC_EP_TTL, msg, len) != 0) {
		log_rl_warn("IKE message of %zu bytes to %s does not fit", len, IP4_STR(peer));
		return;
	}
	ep->ops.to_link(ep->ops.arg, mac, pkt, buf_used(&b));
}

/* The owner's callbacks, with the owner's argument. */
static const struct ike_peer *ipsec_ep_peer(void *arg, struct in_addr addr)
{
	struct ipsec_ep *ep = arg;

	return ep->owner.peer_lookup(ep->owner.arg, addr);
}

static void ipsec_ep_child_up(void *arg, struct ike_child *c)
{
	struct ipsec_ep *ep = arg;

	ep->owner.child_up(ep->owner.arg, c);
}

static void ipsec_ep_child_down(void *arg, struct ike_child *c, const char *why)
{
	struct ipsec_ep *ep = arg;

	ep->owner.child_down(ep->owner.arg, c, why);
}

static void ipsec_ep_ike_up(void *arg, struct ike_sa *sa)
{
	struct ipsec_ep *ep = arg;

	if (ep->owner.ike_up != NULL)
		ep->owner.ike_up(ep->owner.arg, sa);
}

static void ipsec_ep_ike_down(void *arg, struct ike_sa *sa, const char *why)
{
	struct ipsec_ep *ep = arg;

	if (ep->owner.ike_down != NULL)
		ep->owner.ike_down(ep->owner.arg, sa, why);
}

int ipsec_ep_init(struct ipsec_ep *ep, struct ev_loop *loop, const struct ike_config *cfg,
		  const struct ike_ops *owner, const struct ipsec_ep_ops *ops)
{
	struct ike_ops mine = {.send = ipsec_ep_ike_send,
			       .peer_lookup = ipsec_ep_peer,
			       .child_up = ipsec_ep_child_up,
			       .child_down = ipsec_ep_child_down,
			       .ike_up = ipsec_ep_ike_up,
			       .ike_down = ipsec_ep_ike_down,
			       .arg = ep};

	memset(ep, 0, sizeof(*ep));
	ipsec_init(&ep->sas);
	ep->ops = *ops;
	ep->owner = *owner;
	if (cfg == NULL)
		return 0;
	ep->ike = ike_engine_new(loop, cfg, &mine);
	return ep->ike != NULL ? 0 : -1;
}

void ipsec_ep_free(struct ipsec_ep *ep)
{
	ike_engine_free(ep->ike);
	ep->ike = NULL;
	ipsec_free(&ep->sas);
}

void ipsec_ep_ike_in(struct ipsec_ep *ep, struct in_addr local, uint16_t lport, struct in_addr peer,
		     uint16_t pport, const uint8_t *msg, size_t len)
{
	if (ep->ike != NULL)
		ike_input(ep->ike, local, lport, peer, pport, msg, len);
}

/* Count a dropped ESP packet under its reason. */
static void ipsec_ep_drop(struct ipsec_ep *ep, enum ipsec_err e, const struct ipsec_pair *p)
{
	uint64_t *ctr[IPSEC_E_MAX] = {
		[IPSEC_E_SPI] = &ep->ctr.esp_drop_spi,
		[IPSEC_E_HEADER] = &ep->ctr.esp_drop_header,
		[IPSEC_E_ICV] = &ep->ctr.esp_drop_icv,
		[IPSEC_E_PADDING] = &ep->ctr.esp_drop_padding,
		[IPSEC_E_NEXT_HEADER] = &ep->ctr.esp_drop_next_header,
		[IPSEC_E_REPLAY] = &ep->ctr.esp_drop_replay,
		[IPSEC_E_INNER] = &ep->ctr.esp_drop_inner,
		[IPSEC_E_POLICY] = &ep->ctr.esp_drop_policy,
		[IPSEC_E_LOCAL] = &ep->ctr.esp_drop_local,
	};

	if ((unsigned)e < IPSEC_E_MAX && ctr[e] != NULL)
		(*ctr[e])++;
	if (p != NULL)
		log_rl_notice("ESP from %s dropped: %s", IP4_STR(p->peer), ipsec_err_name(e));
	else
		log_rl_notice("ESP dropped: %s", ipsec_err_name(e));
}

int ipsec_ep_open(struct ipsec_ep *ep, const uint8_t *esp, size_t len, uint8_t *inner, size_t cap,
		  struct ip4_pkt *pkt, struct ipsec_pair **pp)
{
	struct ipsec_pair *p = NULL;
	enum ipsec_err e = ipsec_open(&ep->sas, esp, len, inner, cap, pkt, &p);

	if (e != IPSEC_OK) {
		ipsec_ep_drop(ep, e, p);
		return -1;
	}
	ep->ctr.esp_in++;
	if (p->child != NULL && ep->ike != NULL)
		ike_child_bytes(ep->ike, p->child, len);
	*pp = p;
	return 0;
}

/* The pair's numbers are used up: new SAs by Quick Mode, or none without an ISAKMP SA. */
static void ipsec_ep_overflow(struct ipsec_ep *ep, struct ipsec_pair *p)
{
	if (p->child == NULL || ep->ike == NULL || p->child->rekeyed)
		return;
	ep->ctr.esp_rekey_overflow++;
	if (ike_child_rekey(ep->ike, p->child) < 0)
		ike_child_delete(ep->ike, p->child, "sequence numbers used up");
}

int ipsec_ep_seal_send(struct ipsec_ep *ep, struct ipsec_pair *p, const uint8_t mac[6],
		       const uint8_t *pkt, size_t len)
{
	uint8_t out[IP4_MAX_PACKET];
	size_t olen;
	enum esp_err e;

	/* Numbers above the limit may be another FA's (SA reuse): never send them. */
	if (!ipsec_may_send(p)) {
		ep->ctr.esp_drop_reserved++;
		log_rl_notice("SA to %s: sequence numbers above %llu are not ours to use",
			      IP4_STR(p->peer), (unsigned long long)p->reserved_seq);
		return -1;
	}
	e = ipsec_seal(p, pkt, len, out, sizeof(out), &olen);
	if (e != ESP_OK) {
		ep->ctr.esp_drop_seal++;
		log_rl_warn("cannot seal for %s: %s", IP4_STR(p->peer), esp_err_name(e));
		if (e == ESP_E_SEQ_OVERFLOW)
			ipsec_ep_overflow(ep, p);
		return -1;
	}
	ep->ctr.esp_out++;
	if (p->child != NULL && ep->ike != NULL)
		ike_child_bytes(ep->ike, p->child, olen);
	ep->ops.to_link(ep->ops.arg, mac, out, olen);
	return 0;
}

void ipsec_ep_ctl(struct ipsec_ep *ep, struct ctl_out *o)
{
	ctl_bool(o, "ipsec", ep->ike != NULL);
	if (ep->ike != NULL)
		ike_ctl_sas(ep->ike, o);
	ctl_obj_begin(o, "esp_counters");
#define IPSEC_EP_CTL(n) ctl_u64(o, #n, ep->ctr.n);
	IPSEC_EP_COUNTERS(IPSEC_EP_CTL)
#undef IPSEC_EP_CTL
}

/*
 * The live keys as Wireshark's IKEv1 decryption table, or with "esp" its
 * ESP SA table; the text form is exactly the table file (no IPsec: empty).
 */
int ipsec_ep_ctl_keys(struct ipsec_ep *ep, int argc, char **argv, struct ctl_out *o, char *err,
		      size_t errlen)
{
	bool esp = argc > 1 && strcmp(argv[1], "esp") == 0;
	size_t cap = IPSEC_EP_KEYS_MAX;
	char *buf = calloc(1, cap);
	int n;

	if (buf == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	n = ep->ike == NULL ? 0
	    : esp           ? ipsec_export_esp(&ep->sas, buf, cap)
			    : ike_export_ikev1_keys(ep->ike, buf, cap);
	if (n < 0) {
		free(buf);
		snprintf(err, errlen, "too many keys to export");
		return -1;
	}
	if (o->json) {
		ctl_obj_begin(o, NULL);
		ctl_str(o, esp ? "esp_sa" : "ikev1_decryption_table", buf);
		ctl_obj_end(o);
	} else {
		ctl_raw(o, buf);
	}
	OPENSSL_cleanse(buf, cap);
	free(buf);
	return 0;
}
