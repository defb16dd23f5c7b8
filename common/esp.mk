# esp: ESP (RFC 4303) tunnel mode in userspace -- the module, its unit test,
# a benchmark and a libFuzzer target (see the header of each file).
common_libmipsa_a_SOURCES += common/esp.c common/esp.h

check_PROGRAMS += tests/unit/test_esp
TESTS += tests/unit/test_esp
tests_unit_test_esp_SOURCES = tests/unit/test_esp.c
tests_unit_test_esp_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_esp_LDADD = $(TEST_LIBS)

# packets/s and MB/s of esp_encap and esp_decap per algorithm; prints figures only
noinst_PROGRAMS += tools/bench_esp
tools_bench_esp_SOURCES = tools/bench_esp.c
tools_bench_esp_LDADD = $(MIPSA_LIBS)

EXTRA_DIST += tests/fuzz/fuzz_esp.c tests/fuzz/corpus/fuzz_esp

# Built with ./configure --enable-fuzz CC=clang; make tests/fuzz/fuzz_esp.
# The sources it needs are compiled into it, instrumented like the target.
if ENABLE_FUZZ
noinst_PROGRAMS += tests/fuzz/fuzz_esp
tests_fuzz_fuzz_esp_SOURCES = tests/fuzz/fuzz_esp.c common/esp.c common/buf.c common/log.c
tests_fuzz_fuzz_esp_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS) -g -O1 \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
tests_fuzz_fuzz_esp_LDFLAGS = -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
tests_fuzz_fuzz_esp_LDADD = $(CRYPTO_LIBS)
endif
