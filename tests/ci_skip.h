/*
 * ci_skip.h - a unit test that cannot run here: a skip on a developer's
 * machine, a failure under CI (CI=true), where a skip would hide a gap.
 * Include after <cmocka.h>.
 */
#ifndef MK_TESTS_CI_SKIP_H
#define MK_TESTS_CI_SKIP_H

#include <stdlib.h>
#include <string.h>

#define skip_unless_ci(why)                                              \
	do {                                                             \
		const char *ci_ = getenv("CI");                          \
		if (ci_ && strcmp(ci_, "true") == 0)                     \
			fail_msg("cannot run under CI: %s", (why));      \
		skip();                                                  \
	} while (0)

#endif
