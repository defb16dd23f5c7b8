# ---- mipsa-swarm: N mobile nodes from one namespace (testbed/swarm.sh) ----
noinst_PROGRAMS += tools/mipsa-swarm
tools_mipsa_swarm_SOURCES = tools/mipsa-swarm.c tools/swarm_logic.c tools/swarm.h \
	tools/ike_load_args.c tools/ike_load.h
tools_mipsa_swarm_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/mn
tools_mipsa_swarm_LDADD = mn/libmn.a $(MIPSA_LIBS)

# its command line, keys, schedule and duplicate detection (tools/swarm_logic.c)
check_PROGRAMS += tests/unit/test_swarm
TESTS += tests/unit/test_swarm
tests_unit_test_swarm_SOURCES = tests/unit/test_swarm.c tools/swarm_logic.c tools/swarm.h \
	tools/ike_load_args.c tools/ike_load.h
tests_unit_test_swarm_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tools
tests_unit_test_swarm_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_swarm_LDADD = $(TEST_LIBS)
