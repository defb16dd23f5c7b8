# In-process tests of the agents' logic (ha/, fa/, mn/ libraries).
# Each program links the agent libraries it drives and the shared harness
# (tests/unit/agent_harness.c): request builders and output capture.
AGENT_TESTS = \
	tests/unit/test_ha \
	tests/unit/test_fa \
	tests/unit/test_mn \
	tests/unit/test_mip_e2e

check_PROGRAMS += $(AGENT_TESTS)
TESTS += $(AGENT_TESTS)

AGENT_HARNESS = tests/unit/agent_harness.c tests/unit/agent_harness.h

tests_unit_test_ha_SOURCES = tests/unit/test_ha.c $(AGENT_HARNESS)
tests_unit_test_ha_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/ha
tests_unit_test_ha_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_ha_LDADD = ha/libha.a $(TEST_LIBS)

tests_unit_test_fa_SOURCES = tests/unit/test_fa.c $(AGENT_HARNESS)
tests_unit_test_fa_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/fa -I$(top_srcdir)/ha
tests_unit_test_fa_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_fa_LDADD = fa/libfa.a ha/libha.a $(TEST_LIBS)

tests_unit_test_mn_SOURCES = tests/unit/test_mn.c $(AGENT_HARNESS)
tests_unit_test_mn_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/mn -I$(top_srcdir)/fa -I$(top_srcdir)/ha
tests_unit_test_mn_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_mn_LDADD = mn/libmn.a fa/libfa.a ha/libha.a $(TEST_LIBS)

tests_unit_test_mip_e2e_SOURCES = tests/unit/test_mip_e2e.c $(AGENT_HARNESS)
tests_unit_test_mip_e2e_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/mn -I$(top_srcdir)/fa \
	-I$(top_srcdir)/ha
tests_unit_test_mip_e2e_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_mip_e2e_LDADD = mn/libmn.a fa/libfa.a ha/libha.a $(TEST_LIBS)
