/*
 * IPsec SA pairs in the daemons' data plane: an inbound and an outbound
 * ESP SA made from one Quick Mode child, looked up by our inbound SPI (for
 * what arrives) and by a key the daemon chooses (for what leaves: the
 * visitor's home address on an FA, the gateway on an MN).  Sealing yields a
 * whole IPv4 packet, raw ESP (protocol 50) or UDP-encapsulated on port 4500
 * (RFC 3948), ready for a packet socket.
 */
#ifndef MIPSA_IPSEC_H
#define MIPSA_IPSEC_H

#include "esp.h"
#include "ike.h"
#include "ip4.h"
#include "u32map.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

struct ipsec_pair {
	struct esp_sa in, out;
	uint32_t key; /* the by-key lookup key */
	struct ike_child *child;
	struct in_addr local, peer;
	uint16_t local_port, peer_port;
	bool udp_encap;
	struct in_addr remote_net; /* what the peer may send from (inner source) */
	uint8_t remote_plen;
	uint64_t up_ms;
	/*
	 * SA reuse: another FA may send on this SA above reserved_seq, so,
	 * when seq_limited, we send up to it.  reserve_pending is a renewal the
	 * store has not acknowledged yet; handed_over: the record went to the
	 * next FA and the limit is final.
	 */
	uint64_t reserved_seq;
	bool seq_limited;
	uint64_t reserve_pending;
	bool handed_over;
	uint64_t handed_seq; /* what the record promised the next FA */
	/*
	 * A hand-over not yet confirmed is a loan (ipsec_lend, ipsec_reclaim):
	 * the lender's lent_cap is the last number the next FA may use before
	 * we release the SAs; the taker's loan_cap the last it may use until we
	 * hear that they were released (0: no loan).
	 */
	uint64_t lent_cap;
	uint64_t loan_cap;
	/*
	 * Offers (ipsec_offer): the last number of the blocks we gave the other
	 * members ahead of a hand-over (0: none).  We never send within them.
	 */
	uint64_t offer_top;
	uint64_t last_in_ms; /* when the peer last sent us something that authenticated */
};

/*
 * An FA's default for ipsec_use_cache: keyed OpenSSL contexts for this many
 * busy pairs, of any number installed (doc/performance.md, "FA state").
 */
#define IPSEC_CACHE_PAIRS 1024

struct ipsec {
	struct u32map by_spi;    /* inbound SPI -> pair */
	struct u32map by_key;    /* newest pair for a key */
	struct esp_cache *cache; /* NULL: every SA keys its own contexts */
};

void ipsec_init(struct ipsec *ip);
void ipsec_free(struct ipsec *ip);
/*
 * Pairs added from now on borrow keyed contexts from a cache for this many
 * pairs carrying traffic (esp_sa_init_cached) instead of keeping their
 * own; 0: they keep their own.  -1 on no memory, or if pairs exist.
 */
int ipsec_use_cache(struct ipsec *ip, size_t pairs);

/* A pair from a child's keys, registered under key; NULL on failure. */
struct ipsec_pair *ipsec_add(struct ipsec *ip, const struct ike_child *c, uint32_t key);
/* Remove the pair of a child (by its inbound SPI). */
void ipsec_del(struct ipsec *ip, uint32_t spi_in);
struct ipsec_pair *ipsec_find(const struct ipsec *ip, uint32_t key);
struct ipsec_pair *ipsec_find_spi(const struct ipsec *ip, uint32_t spi);

/* Seal an inner IPv4 packet into a whole outer IPv4 packet (ESP, or UDP 4500 + ESP). */
enum esp_err ipsec_seal(struct ipsec_pair *p, const uint8_t *inner, size_t len, uint8_t *out,
			size_t cap, size_t *out_len);
/*
 * Open an ESP payload (from the SPI on) into inner.  The inner packet's
 * source must lie in the pair's remote traffic selector; pkt gets it
 * parsed (ip4_pkt_parse: the one parse on its way in), *pp the pair.
 */
enum ipsec_err {
	IPSEC_OK = 0,
	IPSEC_E_SPI,         /* no pair for the SPI */
	IPSEC_E_HEADER,      /* truncated, or the ciphertext is not whole blocks */
	IPSEC_E_ICV,         /* the ICV does not verify */
	IPSEC_E_PADDING,     /* authentic, but the padding is not 1, 2, 3, ... */
	IPSEC_E_NEXT_HEADER, /* authentic, but it does not carry IPv4 */
	IPSEC_E_REPLAY,      /* authentic or not, its sequence number was seen or is too old */
	IPSEC_E_INNER,       /* the inner packet is not a valid IPv4 packet */
	IPSEC_E_POLICY,      /* inner source outside the traffic selector */
	IPSEC_E_LOCAL,       /* no room or a crypto failure here */
	IPSEC_E_MAX
};
const char *ipsec_err_name(enum ipsec_err e);
enum ipsec_err ipsec_open(struct ipsec *ip, const uint8_t *esp, size_t len, uint8_t *inner,
			  size_t cap, struct ip4_pkt *pkt, struct ipsec_pair **pp);

/*
 * Wireshark's ESP SA table (esp_sa UAT) lines for every pair, both
 * directions: "IPv4","src","dst","0xSPI","enc alg","0xkey","auth alg","0xkey".
 */
int ipsec_export_esp(const struct ipsec *ip, char *out, size_t cap);

/*
 * Sequence numbers across foreign agents (SA reuse, doc/sa-reuse.md).  No
 * (key, sequence number) pair may be used twice, whichever FA holds the
 * SA, also when one dies in the middle of a hand-over:
 *
 *  - ipsec_next_seq: where the next holder of p starts (the record's
 *    seq_out): reserve numbers above what p sent, and never below what a
 *    copy in the store may already promise (reserved_seq, reserve_pending);
 *    once handed over, always the same number.
 *  - ipsec_hand_over: the record went to the next FA promising seq; p
 *    sends up to seq, or up to a lower promise a store copy still makes.
 *  - ipsec_reserve / ipsec_reserve_done: a store write promising seq is
 *    under way / was kept or not.  Before any copy was kept the first
 *    promise limits p at once: the store may keep it even if its answer
 *    is lost.
 *  - ipsec_take_over: the new FA's side.  Its inbound window starts at
 *    what the node reports it sent (or the record's replay top, whichever
 *    is higher: nothing captured before can be replayed into it); it sends
 *    above the record's seq_out and above what the node has received,
 *    and above the blocks it offered itself, if the SAs were ours before.
 *    hold: send nothing until a store write replaces the previous FA's
 *    copy (whose reader would start where we start).
 *    loan_cap (0: none): send no number above it until ipsec_released.
 *  - ipsec_lend: ipsec_hand_over to an FA that has not confirmed yet; it
 *    may use the block of numbers above seq, the last of them returned
 *    (its loan_cap: seq + block, or ESP_SEQ_MAX).
 *  - ipsec_reclaim: the loan was not confirmed in time: the SAs are ours
 *    again and we go on above cap, skipping the block we lent, so no
 *    number is used twice whatever the other FA did with it.  hold: as
 *    for ipsec_take_over.  ESP_E_SEQ_OVERFLOW when nothing is left above
 *    cap; ESP_E_INVAL when p is not on loan.
 *  - ipsec_released: the taker heard that the lender let go: no cap, and
 *    (top, from an offer's holder: the last number it sent or gave away)
 *    it goes on above top.  Refused (ESP_E_SEQ_OVERFLOW: top is past the
 *    last number), the cap stays.
 *  - ipsec_offer: blocks of numbers for n other members, ahead of a
 *    hand-over (offers, doc/sa-reuse.md): we send up to our limit (set
 *    now, block numbers above what we sent, when there was none), and
 *    member i may use (first + i * block, first + (i + 1) * block] from
 *    its offer, until we release it (ipsec_released with our top).  Each
 *    call gives new blocks above all earlier ones; first returned, 0 when
 *    none can be given (lent, on a loan ourselves, or too few numbers left).
 *  - ipsec_offer_renew: our limit reached while offers are out: we go on
 *    above every block given, with block numbers more.
 *  - ipsec_top: the last number p sent or gave away (RELEASED's top).
 *  - ipsec_may_send: the next number is ours to use.
 */
uint64_t ipsec_next_seq(const struct ipsec_pair *p, uint64_t reserve);
void ipsec_hand_over(struct ipsec_pair *p, uint64_t seq);
uint64_t ipsec_lend(struct ipsec_pair *p, uint64_t seq, uint64_t block);
enum esp_err ipsec_reclaim(struct ipsec_pair *p, bool hold);
void ipsec_reserve(struct ipsec_pair *p, uint64_t seq);
void ipsec_reserve_done(struct ipsec_pair *p, uint64_t seq, bool kept);
enum esp_err ipsec_take_over(struct ipsec_pair *p, uint64_t rec_seq_out, uint64_t rec_replay_top,
			     uint64_t mn_sent, uint64_t mn_received, bool hold, uint64_t loan_cap);
enum esp_err ipsec_released(struct ipsec_pair *p, uint64_t top);
uint64_t ipsec_offer(struct ipsec_pair *p, uint64_t block, size_t n);
enum esp_err ipsec_offer_renew(struct ipsec_pair *p, uint64_t block);
uint64_t ipsec_top(const struct ipsec_pair *p);
bool ipsec_may_send(const struct ipsec_pair *p);

#endif
