# store: the FAs' client of the SA store (mipsa-dbs over UDP, or Redis via
# hiredis's async API on our event loop) and its unit test, which drives it
# against the in-process dbs engine and, when redis-server is installed,
# against a Redis it starts itself.
common_libmipsa_a_SOURCES += common/store.c common/store.h
AM_CPPFLAGS += $(HIREDIS_CFLAGS)

check_PROGRAMS += tests/unit/test_store
TESTS += tests/unit/test_store
tests_unit_test_store_SOURCES = tests/unit/test_store.c
tests_unit_test_store_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/dbs
tests_unit_test_store_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_store_LDADD = dbs/libdbs.a $(TEST_LIBS) $(ZLIB_LIBS)
