# Benchmarks for the targets of doc/design.md; they print figures
# and never fail on timing, so they are not in TESTS.

# FA state per mobile node: visitor + ISAKMP SA + IPsec SA pair (heap, RSS),
# install and lookup times; exits 1 only when the state it built is wrong
noinst_PROGRAMS += tools/bench_state
tools_bench_state_SOURCES = tools/bench_state.c
tools_bench_state_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/fa
tools_bench_state_LDADD = fa/libfa.a $(MIPSA_LIBS)

# The mobile node's work per hand-over: full negotiation (Main Mode + Quick
# Mode) against full SA reuse (libmn's mn_ipsec.c: secure, extend, accepted), times
# and, with --callgrind-a / --callgrind-b under valgrind, instructions.  The
# --wrap options count every DH and public-key operation the engine starts.
noinst_PROGRAMS += tools/bench_handover
tools_bench_handover_SOURCES = tools/bench_handover.c
tools_bench_handover_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/mn
tools_bench_handover_LDFLAGS = \
	-Wl,--wrap=ike_dh_generate,--wrap=ike_dh_shared \
	-Wl,--wrap=ike_cert_sign,--wrap=ike_cert_verify \
	-Wl,--wrap=EVP_PKEY_generate,--wrap=EVP_PKEY_keygen,--wrap=EVP_PKEY_derive \
	-Wl,--wrap=EVP_PKEY_sign,--wrap=EVP_PKEY_verify
tools_bench_handover_LDADD = mn/libmn.a $(MIPSA_LIBS)
EXTRA_DIST += tools/bench.h

# The domain's store under load: C clients of common/store.c (one request in
# flight each) against mipsa-dbs or Redis; transfers/s, latency, the server's
# CPU per transfer.  tools/bench-store.sh starts both servers and compares.
noinst_PROGRAMS += tools/bench_store
tools_bench_store_SOURCES = tools/bench_store.c
tools_bench_store_LDADD = $(MIPSA_LIBS)
EXTRA_DIST += tools/bench_record.h tools/tool_files.h tools/bench-store.sh tools/stats.awk

# IKE responder rate: N identities (own home address, ID and PSK each) bring
# up Main Mode + Quick Mode with a responder, C at a time, each a mipsa IKE
# engine of its own.  tools/ike-rate.sh runs it against mipsa-fa and charon.
noinst_PROGRAMS += tools/ike-load
tools_ike_load_SOURCES = tools/ike-load.c tools/ike_load_args.c tools/ike_load.h
tools_ike_load_LDADD = $(MIPSA_LIBS)
EXTRA_DIST += tools/ike-rate.sh
