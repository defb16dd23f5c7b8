/*
 * The main of every Check unit test: run the suite, quiet logging, exit
 * status for automake's test driver.
 */
#ifndef MIPSA_CHECK_MAIN_H
#define MIPSA_CHECK_MAIN_H

#include "log.h"

#include <check.h>
#include <stdlib.h>

static inline int check_main(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	log_set_level(LOG_LVL_ERR);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
