# isakmp: sources and unit tests (see the header of each file; the fuzz
# target is in tests/fuzz/local.mk)
common_libmipsa_a_SOURCES += \
	common/isakmp.c common/isakmp.h common/isakmp_int.h common/isakmp_build.c \
	common/isakmp_payload.c common/isakmp_sa.c common/isakmp_names.c

check_PROGRAMS += tests/unit/test_isakmp tests/unit/test_isakmp_sa
TESTS += tests/unit/test_isakmp tests/unit/test_isakmp_sa
tests_unit_test_isakmp_SOURCES = tests/unit/test_isakmp.c
tests_unit_test_isakmp_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_isakmp_LDADD = $(TEST_LIBS)
tests_unit_test_isakmp_sa_SOURCES = tests/unit/test_isakmp_sa.c
tests_unit_test_isakmp_sa_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_isakmp_sa_LDADD = $(TEST_LIBS)
