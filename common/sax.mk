# sax: the SA transfer messages between the FAs of a domain and their store
# (common/sax.h, doc/sa-transfer.md) -- the codec, its unit test, a
# benchmark and a libFuzzer target.
common_libmipsa_a_SOURCES += common/sax.c common/sax.h

check_PROGRAMS += tests/unit/test_sax
TESTS += tests/unit/test_sax
tests_unit_test_sax_SOURCES = tests/unit/test_sax.c
tests_unit_test_sax_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_sax_LDADD = $(TEST_LIBS)

# transfers/s: build + parse of a REQUEST and of a RECORD; prints figures only
noinst_PROGRAMS += tools/bench_sax
tools_bench_sax_SOURCES = tools/bench_sax.c
tools_bench_sax_LDADD = $(MIPSA_LIBS)

EXTRA_DIST += doc/sa-transfer.md tests/fuzz/fuzz_sax.c tests/fuzz/corpus/fuzz_sax

# Built with ./configure --enable-fuzz CC=clang; make tests/fuzz/fuzz_sax.
# The sources it needs are compiled into it, instrumented like the target.
if ENABLE_FUZZ
noinst_PROGRAMS += tests/fuzz/fuzz_sax
tests_fuzz_fuzz_sax_SOURCES = tests/fuzz/fuzz_sax.c common/sax.c common/buf.c common/log.c
tests_fuzz_fuzz_sax_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS) -g -O1 \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
tests_fuzz_fuzz_sax_LDFLAGS = -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
tests_fuzz_fuzz_sax_LDADD = $(CRYPTO_LIBS)
fuzz: tests/fuzz/fuzz_sax
endif
