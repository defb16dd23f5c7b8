# mipsa-dbs: the domain's SA store.  The logic is dbs/libdbs.a (no sockets:
# tests feed it datagrams in-process), the daemon a thin main.
noinst_LIBRARIES += dbs/libdbs.a
dbs_libdbs_a_SOURCES = dbs/dbs.h dbs/dbs_int.h dbs/dbs_store.c dbs/dbs_log.c dbs/dbs_conf.c \
	dbs/dbs_ctl.c dbs/dbs_reload.c
sbin_PROGRAMS += dbs/mipsa-dbs
dbs_mipsa_dbs_SOURCES = dbs/dbs_main.c
dbs_mipsa_dbs_LDADD = dbs/libdbs.a $(MIPSA_LIBS) $(ZLIB_LIBS)


# store engine: expiry, reload, bad writers, torn logs, compaction, limits, config
check_PROGRAMS += tests/unit/test_dbs
TESTS += tests/unit/test_dbs
tests_unit_test_dbs_SOURCES = tests/unit/test_dbs.c
tests_unit_test_dbs_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/dbs
tests_unit_test_dbs_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_dbs_LDADD = dbs/libdbs.a $(TEST_LIBS) $(ZLIB_LIBS)

# put/get/del from the command line, against mipsa-dbs or Redis
noinst_PROGRAMS += tools/mipsa-store
tools_mipsa_store_SOURCES = tools/mipsa-store.c
tools_mipsa_store_LDADD = $(MIPSA_LIBS)

# root-only, run by hand like the other testbed tests
