#include "buf.h"

#include <check.h>
#include <stdlib.h>

START_TEST(test_smoke)
{
	uint8_t d[4] = {1, 2, 3, 4};
	struct buf b;
	uint32_t v;

	buf_init_read(&b, d, sizeof(d));
	ck_assert_int_eq(buf_get_u32(&b, &v), BUF_OK);
	ck_assert_uint_eq(v, 0x01020304);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("buf");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_smoke);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
