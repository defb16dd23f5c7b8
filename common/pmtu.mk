# pmtu: packets too big for the next encapsulation -- ESP and IP-in-IP
# overheads, ICMP fragmentation needed, fragmentation (see common/pmtu.h) --
# and its unit test (the fuzz target is in tests/fuzz/local.mk).
common_libmipsa_a_SOURCES += common/pmtu.c common/pmtu.h

check_PROGRAMS += tests/unit/test_pmtu
TESTS += tests/unit/test_pmtu
tests_unit_test_pmtu_SOURCES = tests/unit/test_pmtu.c
tests_unit_test_pmtu_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_pmtu_LDADD = $(TEST_LIBS)

