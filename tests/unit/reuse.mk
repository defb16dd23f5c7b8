# SA reuse across the foreign agents of a domain: the sequence-number
# hand-off (common/ipsec.c), a hand-over between three IKE engines in one
# process (tests/unit/ike_pair.c plus a third engine) with the record
# crossing the sax codec, an old FA dying mid hand-over, and the node's
# proof of possession in the registration request (common/mip_msg.c).
check_PROGRAMS += tests/unit/test_reuse
TESTS += tests/unit/test_reuse
tests_unit_test_reuse_SOURCES = tests/unit/test_reuse.c tests/unit/ike_pair.c tests/unit/ike_pair.h
tests_unit_test_reuse_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_reuse_LDADD = $(TEST_LIBS)
