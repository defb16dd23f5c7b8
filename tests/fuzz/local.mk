# libFuzzer targets, built with ./configure --enable-fuzz CC=clang
# (tests/fuzz/run.sh does that in build/fuzz and runs them); `make fuzz`
# builds all of them.
#
# The targets link tests/fuzz/libfuzz.a: every source of the libraries the
# daemons link (common/, ha/, fa/, mn/, dbs/), taken from those libraries'
# own lists and compiled again with the sanitizers and the fuzzer's coverage
# instrumentation (FUZZ_CFLAGS, set in configure.ac).  A new library source
# is in the fuzz build as soon as it is in its library's list.
EXTRA_DIST += tests/fuzz/run.sh tests/fuzz/make_corpus.sh tests/fuzz/corpus tests/fuzz/fuzzer.h

# One line per target: tests/fuzz/<name> is built from tests/fuzz/<name>.c
# (run.sh checks that `make fuzz` leaves one for every tests/fuzz/fuzz_*.c).
FUZZ_TARGETS = \
	tests/fuzz/fuzz_buf \
	tests/fuzz/fuzz_ip4 \
	tests/fuzz/fuzz_mip_request \
	tests/fuzz/fuzz_mip_reply \
	tests/fuzz/fuzz_mip_adv \
	tests/fuzz/fuzz_agents \
	tests/fuzz/fuzz_pmtu \
	tests/fuzz/fuzz_tun_gso \
	tests/fuzz/fuzz_udp_gso \
	tests/fuzz/fuzz_esp \
	tests/fuzz/fuzz_isakmp \
	tests/fuzz/fuzz_ike \
	tests/fuzz/fuzz_sax \
	tests/fuzz/fuzz_reuse_claim \
	tests/fuzz/fuzz_dbs_log \
	tests/fuzz/fuzz_store_key \
	tests/fuzz/fuzz_store_sentinel \
	tests/fuzz/fuzz_ha_state

if ENABLE_FUZZ
noinst_LIBRARIES += tests/fuzz/libfuzz.a
tests_fuzz_libfuzz_a_SOURCES = $(common_libmipsa_a_SOURCES) $(ha_libha_a_SOURCES) \
	$(fa_libfa_a_SOURCES) $(mn_libmn_a_SOURCES) $(dbs_libdbs_a_SOURCES)
tests_fuzz_libfuzz_a_CFLAGS = $(FUZZ_COMPILE_FLAGS)

FUZZ_COMPILE_FLAGS = $(AM_CFLAGS) $(FUZZ_CFLAGS)
FUZZ_LIBS = tests/fuzz/libfuzz.a $(CRYPTO_LIBS) $(LIBCONFIG_LIBS) $(PCAP_LIBS) $(HIREDIS_LIBS) \
	$(ZLIB_LIBS)
noinst_PROGRAMS += $(FUZZ_TARGETS)
fuzz: $(FUZZ_TARGETS)

tests_fuzz_fuzz_buf_SOURCES = tests/fuzz/fuzz_buf.c
tests_fuzz_fuzz_buf_CFLAGS = $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_buf_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_buf_LDADD = $(FUZZ_LIBS)

tests_fuzz_fuzz_ip4_SOURCES = tests/fuzz/fuzz_ip4.c
tests_fuzz_fuzz_ip4_CFLAGS = $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_ip4_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_ip4_LDADD = $(FUZZ_LIBS)

tests_fuzz_fuzz_mip_request_SOURCES = tests/fuzz/fuzz_mip_request.c
tests_fuzz_fuzz_mip_request_CFLAGS = $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_mip_request_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_mip_request_LDADD = $(FUZZ_LIBS)

tests_fuzz_fuzz_mip_reply_SOURCES = tests/fuzz/fuzz_mip_reply.c
tests_fuzz_fuzz_mip_reply_CFLAGS = $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_mip_reply_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_mip_reply_LDADD = $(FUZZ_LIBS)

tests_fuzz_fuzz_mip_adv_SOURCES = tests/fuzz/fuzz_mip_adv.c
tests_fuzz_fuzz_mip_adv_CFLAGS = $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_mip_adv_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_mip_adv_LDADD = $(FUZZ_LIBS)

# the three agents' logic, fed hostile packets at every entry point
tests_fuzz_fuzz_agents_SOURCES = tests/fuzz/fuzz_agents.c
tests_fuzz_fuzz_agents_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/ha -I$(top_srcdir)/fa \
	-I$(top_srcdir)/mn
tests_fuzz_fuzz_agents_CFLAGS = $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_agents_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_agents_LDADD = $(FUZZ_LIBS)

# packets too big for the next encapsulation (common/pmtu.c)
tests_fuzz_fuzz_pmtu_SOURCES = tests/fuzz/fuzz_pmtu.c
tests_fuzz_fuzz_pmtu_CFLAGS = $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_pmtu_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_pmtu_LDADD = $(FUZZ_LIBS)

tests_fuzz_fuzz_tun_gso_SOURCES = tests/fuzz/fuzz_tun_gso.c
tests_fuzz_fuzz_tun_gso_CFLAGS = $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_tun_gso_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_tun_gso_LDADD = $(FUZZ_LIBS)

# runs of UDP packets for one GSO frame (common/udp_gso.c)
tests_fuzz_fuzz_udp_gso_SOURCES = tests/fuzz/fuzz_udp_gso.c
tests_fuzz_fuzz_udp_gso_CFLAGS = $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_udp_gso_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_udp_gso_LDADD = $(FUZZ_LIBS)

# ESP decapsulation, round trips, trailers, the anti-replay window (common/esp.c)
tests_fuzz_fuzz_esp_SOURCES = tests/fuzz/fuzz_esp.c
tests_fuzz_fuzz_esp_CFLAGS = $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_esp_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_esp_LDADD = $(FUZZ_LIBS)

# the ISAKMP codec (common/isakmp*.c)
tests_fuzz_fuzz_isakmp_SOURCES = tests/fuzz/fuzz_isakmp.c
tests_fuzz_fuzz_isakmp_CFLAGS = $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_isakmp_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_isakmp_LDADD = $(FUZZ_LIBS)

# the IKEv1 engine, through the two-engine harness of the unit tests
tests_fuzz_fuzz_ike_SOURCES = tests/fuzz/fuzz_ike.c tests/unit/ike_pair.c tests/unit/ike_pair.h
tests_fuzz_fuzz_ike_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/unit
tests_fuzz_fuzz_ike_CFLAGS = $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_ike_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_ike_LDADD = $(FUZZ_LIBS)

# the SA transfer messages (common/sax.c)
tests_fuzz_fuzz_sax_SOURCES = tests/fuzz/fuzz_sax.c
tests_fuzz_fuzz_sax_CFLAGS = $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_sax_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_sax_LDADD = $(FUZZ_LIBS)

# the FAs' check of a node's claim on its SAs (common/reuse_claim.c)
tests_fuzz_fuzz_reuse_claim_SOURCES = tests/fuzz/fuzz_reuse_claim.c
tests_fuzz_fuzz_reuse_claim_CFLAGS = $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_reuse_claim_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_reuse_claim_LDADD = $(FUZZ_LIBS)

# mipsa-dbs: the log entry codec, a whole log loaded and rebuilt, and
# dbs_handle fed datagrams
tests_fuzz_fuzz_dbs_log_SOURCES = tests/fuzz/fuzz_dbs_log.c
tests_fuzz_fuzz_dbs_log_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/dbs
tests_fuzz_fuzz_dbs_log_CFLAGS = $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_dbs_log_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_dbs_log_LDADD = $(FUZZ_LIBS)

# the store client's key files: store_parse_key against its rules
tests_fuzz_fuzz_store_key_SOURCES = tests/fuzz/fuzz_store_key.c
tests_fuzz_fuzz_store_key_CFLAGS = $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_store_key_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_store_key_LDADD = $(FUZZ_LIBS)

# what a Redis Sentinel answers, through hiredis's reader, and ADDRESS:PORT settings
tests_fuzz_fuzz_store_sentinel_SOURCES = tests/fuzz/fuzz_store_sentinel.c
tests_fuzz_fuzz_store_sentinel_CFLAGS = $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_store_sentinel_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_store_sentinel_LDADD = $(FUZZ_LIBS)

# the home agent's state file (ha/ha_state.c)
tests_fuzz_fuzz_ha_state_SOURCES = tests/fuzz/fuzz_ha_state.c
tests_fuzz_fuzz_ha_state_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/ha
tests_fuzz_fuzz_ha_state_CFLAGS = $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_ha_state_LDFLAGS = $(FUZZ_LDFLAGS)
tests_fuzz_fuzz_ha_state_LDADD = $(FUZZ_LIBS)
else
fuzz:
	@echo "make fuzz: configure with --enable-fuzz CC=clang (or run tests/fuzz/run.sh)" >&2
	@exit 1
endif
.PHONY: fuzz
