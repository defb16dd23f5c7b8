# libFuzzer target for the IKEv1 engine (tests/fuzz/fuzz_ike.c), built with
# ./configure --enable-fuzz CC=clang like those of tests/fuzz/local.mk: the
# engine, the ISAKMP codec and what they use are compiled into it, and so is
# the two-engine harness of the unit tests (tests/unit/ike_pair.c).
EXTRA_DIST += tests/fuzz/fuzz_ike.c tests/fuzz/corpus/fuzz_ike \
	tests/fuzz/fuzz_reuse_claim.c tests/fuzz/corpus/fuzz_reuse_claim

if ENABLE_FUZZ
FUZZ_IKE_SRC = common/buf.c common/log.c common/evloop.c common/u32map.c common/ip4.c \
	common/ctl.c common/esp.c common/isakmp.c common/isakmp_payload.c common/isakmp_sa.c \
	common/isakmp_names.c common/ike_crypto.c common/ike_sa.c common/ike_mm.c common/ike_qm.c \
	common/ike_info.c common/ike_cert.c
noinst_PROGRAMS += tests/fuzz/fuzz_ike
tests_fuzz_fuzz_ike_SOURCES = tests/fuzz/fuzz_ike.c tests/unit/ike_pair.c tests/unit/ike_pair.h \
	$(FUZZ_IKE_SRC)
tests_fuzz_fuzz_ike_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests/unit
tests_fuzz_fuzz_ike_CFLAGS = $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_ike_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_ike_LDADD = $(FUZZ_LIBS)
fuzz: tests/fuzz/fuzz_ike
# the FAs' check of a node's claim on its SAs (common/reuse_claim.c)
noinst_PROGRAMS += tests/fuzz/fuzz_reuse_claim
tests_fuzz_fuzz_reuse_claim_SOURCES = tests/fuzz/fuzz_reuse_claim.c tests/fuzz/fuzzer.h \
	$(FUZZ_IKE_SRC) common/ike_xfer.c common/sax.c common/mip_msg.c common/mip_auth.c \
	common/mip_ident.c common/reuse_claim.c
tests_fuzz_fuzz_reuse_claim_CFLAGS = $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_reuse_claim_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_reuse_claim_LDADD = $(FUZZ_LIBS)
fuzz: tests/fuzz/fuzz_reuse_claim
endif
