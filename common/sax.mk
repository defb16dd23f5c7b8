# sax: the SA transfer messages between the FAs of a domain and their store
# (common/sax.h, doc/sa-transfer.md) -- the codec, its unit test and a
# benchmark (the fuzz target is in tests/fuzz/local.mk).
common_libmipsa_a_SOURCES += common/sax.c common/sax.h common/sax_keyring.c common/sax_keyring.h

check_PROGRAMS += tests/unit/test_sax
TESTS += tests/unit/test_sax
tests_unit_test_sax_SOURCES = tests/unit/test_sax.c
tests_unit_test_sax_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_sax_LDADD = $(TEST_LIBS)

# transfers/s: build + parse of a REQUEST and of a RECORD; prints figures only
noinst_PROGRAMS += tools/bench_sax
tools_bench_sax_SOURCES = tools/bench_sax.c
tools_bench_sax_LDADD = $(MIPSA_LIBS)

EXTRA_DIST += doc/sa-transfer.md

# key rotation: the ring of current and previous keys (common/sax_keyring.h)
check_PROGRAMS += tests/unit/test_sax_keyring
TESTS += tests/unit/test_sax_keyring
tests_unit_test_sax_keyring_SOURCES = tests/unit/test_sax_keyring.c
tests_unit_test_sax_keyring_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_sax_keyring_LDADD = $(TEST_LIBS)
