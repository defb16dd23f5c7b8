# isakmp: sources, unit tests and fuzz targets (see the header of each file)
common_libmipsa_a_SOURCES += \
	common/isakmp.c common/isakmp.h common/isakmp_int.h \
	common/isakmp_payload.c common/isakmp_sa.c common/isakmp_names.c

check_PROGRAMS += tests/unit/test_isakmp tests/unit/test_isakmp_sa
TESTS += tests/unit/test_isakmp tests/unit/test_isakmp_sa
tests_unit_test_isakmp_SOURCES = tests/unit/test_isakmp.c
tests_unit_test_isakmp_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_isakmp_LDADD = $(TEST_LIBS)
tests_unit_test_isakmp_sa_SOURCES = tests/unit/test_isakmp_sa.c
tests_unit_test_isakmp_sa_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_isakmp_sa_LDADD = $(TEST_LIBS)

# libFuzzer target (./configure --enable-fuzz CC=clang): the codec's sources
# are compiled into it so that they get the sanitizer coverage instrumentation.
EXTRA_DIST += tests/fuzz/fuzz_isakmp.c tests/fuzz/corpus/fuzz_isakmp
if ENABLE_FUZZ
ISAKMP_FUZZ_CFLAGS = $(AM_CFLAGS) -g -O1 \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
noinst_PROGRAMS += tests/fuzz/fuzz_isakmp
tests_fuzz_fuzz_isakmp_SOURCES = tests/fuzz/fuzz_isakmp.c tests/fuzz/fuzzer.h common/buf.c \
	common/isakmp.c common/isakmp_payload.c common/isakmp_sa.c common/isakmp_names.c
tests_fuzz_fuzz_isakmp_CFLAGS = $(ISAKMP_FUZZ_CFLAGS)
tests_fuzz_fuzz_isakmp_LDFLAGS = -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
fuzz: tests/fuzz/fuzz_isakmp
endif
