# the hand-over probe (libc only) and the namespace testbed scripts
bin_PROGRAMS += tools/mipsa-probe
tools_mipsa_probe_SOURCES = tools/mipsa-probe.c
tools_mipsa_probe_CFLAGS = $(AM_CFLAGS)

# root-only integration tests, run by hand: see testbed/README.md
EXTRA_DIST += \
	testbed/lib.sh testbed/up.sh testbed/down.sh testbed/move.sh testbed/daemons.sh \
	testbed/measure.sh testbed/demo.sh testbed/charon.sh testbed/throughput.sh \
	tests/testbed/run-all.sh tests/testbed/helpers.sh tests/testbed/test_topology.sh \
	tests/testbed/test_probe.sh tests/testbed/test_mip.sh tests/testbed/test_capture.sh \
	tests/testbed/test_ipsec.sh tests/testbed/test_interop.sh tests/testbed/test_reuse.sh \
	tests/testbed/test_reuse_hostile.sh tests/testbed/test_throughput.sh
EXTRA_DIST += testbed/README.md
