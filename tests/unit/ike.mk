# The IKEv1 engine (common/ike_*.c): two engines in one process through
# tests/unit/ike_pair.c; test certificates in tests/data/ike (gen.sh).
check_PROGRAMS += tests/unit/test_ike
TESTS += tests/unit/test_ike
EXTRA_DIST += tests/data/ike
tests_unit_test_ike_SOURCES = tests/unit/test_ike.c tests/unit/ike_pair.c tests/unit/ike_pair.h
tests_unit_test_ike_CPPFLAGS = $(AM_CPPFLAGS) -DIKE_DATA_DIR='"$(abs_top_srcdir)/tests/data/ike"'
tests_unit_test_ike_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_ike_LDADD = $(TEST_LIBS)

# One test per security check of the engine (issue 9; tests/mutate/ike.tsv).
check_PROGRAMS += tests/unit/test_ike_checks
TESTS += tests/unit/test_ike_checks
tests_unit_test_ike_checks_SOURCES = tests/unit/test_ike_checks.c tests/unit/ike_pair.c \
	tests/unit/ike_pair.h
tests_unit_test_ike_checks_CPPFLAGS = $(AM_CPPFLAGS) -DIKE_DATA_DIR='"$(abs_top_srcdir)/tests/data/ike"'
tests_unit_test_ike_checks_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_ike_checks_LDADD = $(TEST_LIBS)

# ike-load's command line, addresses and identities (tools/ike_load_args.c).
check_PROGRAMS += tests/unit/test_ike_load
TESTS += tests/unit/test_ike_load
tests_unit_test_ike_load_SOURCES = tests/unit/test_ike_load.c tools/ike_load_args.c \
	tools/ike_load.h
tests_unit_test_ike_load_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tools
tests_unit_test_ike_load_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_ike_load_LDADD = $(TEST_LIBS)

# Reload: reload_run's answers, an IKE engine under a new configuration.
check_PROGRAMS += tests/unit/test_reload
TESTS += tests/unit/test_reload
tests_unit_test_reload_SOURCES = tests/unit/test_reload.c tests/unit/ike_pair.c \
	tests/unit/ike_pair.h
tests_unit_test_reload_CPPFLAGS = $(AM_CPPFLAGS) -DIKE_DATA_DIR='"$(abs_top_srcdir)/tests/data/ike"'
tests_unit_test_reload_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_reload_LDADD = $(TEST_LIBS)
