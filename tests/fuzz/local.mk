# libFuzzer targets, built with ./configure --enable-fuzz CC=clang
# (tests/fuzz/run.sh does that in build/fuzz and runs them).
#
# The common/ sources a target needs are compiled into it directly, so that
# they get the same sanitizer coverage instrumentation as the target itself.
EXTRA_DIST += tests/fuzz/run.sh tests/fuzz/make_corpus.sh tests/fuzz/corpus \
	tests/fuzz/fuzzer.h tests/fuzz/fuzz_buf.c tests/fuzz/fuzz_ip4.c \
	tests/fuzz/fuzz_mip_request.c tests/fuzz/fuzz_mip_reply.c tests/fuzz/fuzz_mip_adv.c \
	tests/fuzz/fuzz_agents.c

if ENABLE_FUZZ
FUZZ_COMPILE_FLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS) -g -O1 \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_LINK_FLAGS = -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_LIBS = $(CRYPTO_LIBS)
FUZZ_MIP_SRC = common/buf.c common/ip4.c common/mip_msg.c common/mip_auth.c

FUZZ_TARGETS = \
	tests/fuzz/fuzz_buf \
	tests/fuzz/fuzz_ip4 \
	tests/fuzz/fuzz_mip_request \
	tests/fuzz/fuzz_mip_reply \
	tests/fuzz/fuzz_mip_adv \
	tests/fuzz/fuzz_agents
noinst_PROGRAMS += $(FUZZ_TARGETS)

fuzz: $(FUZZ_TARGETS)
.PHONY: fuzz

tests_fuzz_fuzz_buf_SOURCES = tests/fuzz/fuzz_buf.c tests/fuzz/fuzzer.h common/buf.c
tests_fuzz_fuzz_buf_CFLAGS = $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_buf_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_buf_LDADD = $(FUZZ_LIBS)

tests_fuzz_fuzz_ip4_SOURCES = tests/fuzz/fuzz_ip4.c tests/fuzz/fuzzer.h $(FUZZ_MIP_SRC)
tests_fuzz_fuzz_ip4_CFLAGS = $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_ip4_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_ip4_LDADD = $(FUZZ_LIBS)

tests_fuzz_fuzz_mip_request_SOURCES = tests/fuzz/fuzz_mip_request.c tests/fuzz/fuzzer.h \
	$(FUZZ_MIP_SRC)
tests_fuzz_fuzz_mip_request_CFLAGS = $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_mip_request_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_mip_request_LDADD = $(FUZZ_LIBS)

tests_fuzz_fuzz_mip_reply_SOURCES = tests/fuzz/fuzz_mip_reply.c tests/fuzz/fuzzer.h \
	$(FUZZ_MIP_SRC)
tests_fuzz_fuzz_mip_reply_CFLAGS = $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_mip_reply_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_mip_reply_LDADD = $(FUZZ_LIBS)

tests_fuzz_fuzz_mip_adv_SOURCES = tests/fuzz/fuzz_mip_adv.c tests/fuzz/fuzzer.h \
	$(FUZZ_MIP_SRC) common/mip_adv.c
tests_fuzz_fuzz_mip_adv_CFLAGS = $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_mip_adv_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_mip_adv_LDADD = $(FUZZ_LIBS)

# the three agents' logic, fed hostile packets at every entry point
tests_fuzz_fuzz_agents_SOURCES = tests/fuzz/fuzz_agents.c tests/fuzz/fuzzer.h \
	$(FUZZ_MIP_SRC) common/mip_adv.c common/mip_ident.c common/evloop.c common/log.c \
	common/u32map.c common/pmtu.c common/esp.c ha/ha_reg.c fa/fa_reg.c fa/fa_data.c \
	mn/mn_reg.c
tests_fuzz_fuzz_agents_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/ha -I$(top_srcdir)/fa \
	-I$(top_srcdir)/mn
tests_fuzz_fuzz_agents_CFLAGS = $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_agents_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_agents_LDADD = $(FUZZ_LIBS)
endif
