# esp: ESP (RFC 4303) tunnel mode in userspace -- the module, its unit test
# and a benchmark (see the header of each file; the fuzz target is in
# tests/fuzz/local.mk).
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
