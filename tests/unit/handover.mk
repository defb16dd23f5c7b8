# The real hand-over in one process: a mobile node, three foreign agents in
# two domains and a home agent as library instances (libmn, libfa, libha)
# wired by in-memory links, an in-memory store (tests/unit/net_harness.c),
# running the actual SA transfer code: full and partial reuse, direct, store
# and both, an old FA dying mid hand-over, re-association, the attacks of
# tests/testbed/test_forged_reg.sh and test_reuse_hostile.sh, a loan not
# confirmed in time.
check_PROGRAMS += tests/unit/test_handover
TESTS += tests/unit/test_handover
tests_unit_test_handover_SOURCES = tests/unit/test_handover.c tests/unit/net_harness.c \
	tests/unit/net_harness.h $(AGENT_HARNESS)
tests_unit_test_handover_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/mn -I$(top_srcdir)/fa \
	-I$(top_srcdir)/ha
tests_unit_test_handover_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_handover_LDADD = mn/libmn.a fa/libfa.a ha/libha.a $(TEST_LIBS)
