# tun_gso: TCP super-packets and partial checksums from a TUN with
# IFF_VNET_HDR and TSO (see common/tun_gso.h), and its unit test (the fuzz
# target is in tests/fuzz/local.mk).
common_libmipsa_a_SOURCES += common/tun_gso.c common/tun_gso.h common/udp_gso.c common/udp_gso.h

check_PROGRAMS += tests/unit/test_tun_gso
TESTS += tests/unit/test_tun_gso
tests_unit_test_tun_gso_SOURCES = tests/unit/test_tun_gso.c
tests_unit_test_tun_gso_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_tun_gso_LDADD = $(TEST_LIBS)

# udp_gso: runs of UDP packets sent as one frame by a packet socket (see common/udp_gso.h)
check_PROGRAMS += tests/unit/test_udp_gso
TESTS += tests/unit/test_udp_gso
tests_unit_test_udp_gso_SOURCES = tests/unit/test_udp_gso.c
tests_unit_test_udp_gso_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_udp_gso_LDADD = $(TEST_LIBS)
