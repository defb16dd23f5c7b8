# libFuzzer targets for mipsa-dbs and the store client's key files, built
# with ./configure --enable-fuzz CC=clang like those of tests/fuzz/local.mk:
#   fuzz_dbs_log    the log entry codec, a whole log loaded and rebuilt, and
#                   dbs_handle fed datagrams (tests/fuzz/fuzz_dbs_log.c)
#   fuzz_store_key  store_parse_key against its rules (tests/fuzz/fuzz_store_key.c)
# The store engine and what it uses are compiled into each target, so they
# get the same instrumentation; store.c brings libconfig and hiredis along.
EXTRA_DIST += tests/fuzz/fuzz_dbs_log.c tests/fuzz/corpus/fuzz_dbs_log \
	tests/fuzz/fuzz_store_key.c tests/fuzz/corpus/fuzz_store_key

if ENABLE_FUZZ
FUZZ_STORE_SRC = common/store.c common/sax.c common/buf.c common/log.c common/ip4.c \
	common/conf.c common/mip_conf.c common/evloop.c common/netio.c
FUZZ_STORE_LIBS = $(FUZZ_LIBS) $(LIBCONFIG_LIBS) $(HIREDIS_LIBS) $(PCAP_LIBS)
noinst_PROGRAMS += tests/fuzz/fuzz_dbs_log tests/fuzz/fuzz_store_key

tests_fuzz_fuzz_dbs_log_SOURCES = tests/fuzz/fuzz_dbs_log.c dbs/dbs_store.c dbs/dbs_log.c \
	dbs/dbs_conf.c $(FUZZ_STORE_SRC)
tests_fuzz_fuzz_dbs_log_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/dbs
tests_fuzz_fuzz_dbs_log_CFLAGS = $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_dbs_log_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_dbs_log_LDADD = $(FUZZ_STORE_LIBS)

tests_fuzz_fuzz_store_key_SOURCES = tests/fuzz/fuzz_store_key.c $(FUZZ_STORE_SRC)
tests_fuzz_fuzz_store_key_CFLAGS = $(FUZZ_COMPILE_FLAGS)
tests_fuzz_fuzz_store_key_LDFLAGS = $(FUZZ_LINK_FLAGS)
tests_fuzz_fuzz_store_key_LDADD = $(FUZZ_STORE_LIBS)

fuzz: tests/fuzz/fuzz_dbs_log tests/fuzz/fuzz_store_key
endif
