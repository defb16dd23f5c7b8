# pmtu: packets too big for the next encapsulation -- ESP and IP-in-IP
# overheads, ICMP fragmentation needed, fragmentation (see common/pmtu.h);
# its unit test and a libFuzzer target.
common_libmipsa_a_SOURCES += common/pmtu.c common/pmtu.h

check_PROGRAMS += tests/unit/test_pmtu
TESTS += tests/unit/test_pmtu
tests_unit_test_pmtu_SOURCES = tests/unit/test_pmtu.c
tests_unit_test_pmtu_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_pmtu_LDADD = $(TEST_LIBS)

EXTRA_DIST += tests/fuzz/fuzz_pmtu.c tests/fuzz/corpus/fuzz_pmtu tests/testbed/test_tcp.sh

# Built with ./configure --enable-fuzz CC=clang; make tests/fuzz/fuzz_pmtu.
if ENABLE_FUZZ
noinst_PROGRAMS += tests/fuzz/fuzz_pmtu
tests_fuzz_fuzz_pmtu_SOURCES = tests/fuzz/fuzz_pmtu.c common/pmtu.c common/esp.c common/ip4.c \
	common/buf.c common/log.c
tests_fuzz_fuzz_pmtu_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS) -g -O1 \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
tests_fuzz_fuzz_pmtu_LDFLAGS = -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
tests_fuzz_fuzz_pmtu_LDADD = $(CRYPTO_LIBS)
endif
