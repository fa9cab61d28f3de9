#include "e2fs.h"

#include <stdio.h>

#include <et/com_err.h>
#include <ext2fs/ext2_err.h>

#define IO_OPTIONS_MAX 64 /* "offset=" and a 64-bit number */

const char *e2fs_message(errcode_t err)
{
	/* The generated initializer looks for its table in com_err's list
	 * first: the first call adds it, later ones change nothing. */
	initialize_ext2_error_table();
	return error_message(err);
}

errcode_t e2fs_open_ro(const char *path, uint64_t offset, int flags,
		       ext2_filsys *fs)
{
	char opts[IO_OPTIONS_MAX];

	snprintf(opts, sizeof(opts), "offset=%llu",
		 (unsigned long long)offset);
	*fs = NULL;
	return ext2fs_open2(path, opts, EXT2_FLAG_64BITS | flags, 0, 0,
			    unix_io_manager, fs);
}
