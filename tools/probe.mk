# the hand-over probe (libc only) and the namespace testbed scripts
bin_PROGRAMS += tools/mipsa-probe
tools_mipsa_probe_SOURCES = tools/mipsa-probe.c
tools_mipsa_probe_CFLAGS = $(AM_CFLAGS)

# root-only integration tests, run by hand: see testbed/README.md; the
# whole folders, so that a new script cannot be left out of the tarball
EXTRA_DIST += testbed tests/testbed
