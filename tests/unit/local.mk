# Check unit tests: one program per module of common/.
UNIT_TESTS = \
	tests/unit/test_buf \
	tests/unit/test_ip4 \
	tests/unit/test_mip_msg \
	tests/unit/test_mip_auth \
	tests/unit/test_mip_ident \
	tests/unit/test_mip_adv \
	tests/unit/test_conf \
	tests/unit/test_netio \
	tests/unit/test_ctl \
	tests/unit/test_evloop \
	tests/unit/test_sandbox \
	tests/unit/test_daemon \
	tests/unit/test_notify

check_PROGRAMS += $(UNIT_TESTS)
TESTS += $(UNIT_TESTS)

tests_unit_test_buf_SOURCES = tests/unit/test_buf.c
tests_unit_test_buf_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_buf_LDADD = $(TEST_LIBS)

tests_unit_test_ip4_SOURCES = tests/unit/test_ip4.c
tests_unit_test_ip4_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_ip4_LDADD = $(TEST_LIBS)

tests_unit_test_mip_msg_SOURCES = tests/unit/test_mip_msg.c
tests_unit_test_mip_msg_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_mip_msg_LDADD = $(TEST_LIBS)

tests_unit_test_mip_auth_SOURCES = tests/unit/test_mip_auth.c
tests_unit_test_mip_auth_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_mip_auth_LDADD = $(TEST_LIBS)

tests_unit_test_mip_ident_SOURCES = tests/unit/test_mip_ident.c
tests_unit_test_mip_ident_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_mip_ident_LDADD = $(TEST_LIBS)

tests_unit_test_mip_adv_SOURCES = tests/unit/test_mip_adv.c
tests_unit_test_mip_adv_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_mip_adv_LDADD = $(TEST_LIBS)

tests_unit_test_conf_SOURCES = tests/unit/test_conf.c
tests_unit_test_conf_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_conf_LDADD = $(TEST_LIBS)

tests_unit_test_netio_SOURCES = tests/unit/test_netio.c
tests_unit_test_netio_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_netio_LDADD = $(TEST_LIBS)
tests_unit_test_ctl_SOURCES = tests/unit/test_ctl.c
tests_unit_test_ctl_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_ctl_LDADD = $(TEST_LIBS)
tests_unit_test_evloop_SOURCES = tests/unit/test_evloop.c
tests_unit_test_evloop_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_evloop_LDADD = $(TEST_LIBS)
tests_unit_test_sandbox_SOURCES = tests/unit/test_sandbox.c
tests_unit_test_sandbox_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_sandbox_LDADD = $(TEST_LIBS)
tests_unit_test_daemon_SOURCES = tests/unit/test_daemon.c
tests_unit_test_daemon_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_daemon_LDADD = $(TEST_LIBS)
tests_unit_test_notify_SOURCES = tests/unit/test_notify.c
tests_unit_test_notify_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_notify_LDADD = $(TEST_LIBS)
EXTRA_DIST += tests/unit/check_main.h
