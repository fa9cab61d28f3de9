#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int mk_fail(struct mk_err *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int mk_fail_errno(struct mk_err *e, int errno_value, const char *fmt, ...)
{
	va_list ap;
	size_t used;

	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	used = strlen(e->msg);
	snprintf(e->msg + used, sizeof(e->msg) - used, ": %s",
		 strerror(errno_value));
	return -1;
}
