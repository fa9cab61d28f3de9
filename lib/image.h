/*
 * image.h - the whole image, start to finish (behind mkr2simg_build).
 *
 * Owns: the order of the steps, the two trees (/boot and the root
 * filesystem), the digest of inputs that seeds every identifier, and writing the
 * partition table and bootloaders.  Does not own any on-disk format
 * itself: gpt.c, ext4fs.c and extlinux.c do; nor the output files
 * (deliver.c, output.c).
 */
#ifndef MK_IMAGE_H
#define MK_IMAGE_H

#include "mkr2simg.h"

#define IMAGE_NIX_BUILD_GID 30000       /* nixbld on NixOS */
#define IMAGE_NIX_STORE_MODE 01775      /* root:nixbld, sticky */
#define IMAGE_DIR_MODE 0755
#define IMAGE_FILE_MODE 0644
#define IMAGE_REGISTRATION_NAME "nix-path-registration"
#define IMAGE_BOOT_LABEL "NIXOS_BOOT"
#define IMAGE_ROOT_LABEL "NIXOS_SD"
#define IMAGE_DEFAULT_BOOT_SIZE (512ull << 20)
#define IMAGE_DEFAULT_HEADROOM (64ull << 20)
#define IMAGE_DEFAULT_TIMEOUT 1
#define IMAGE_UNSET_EPOCH_TIME 1        /* Nix's canonical time */
#define IMAGE_MAX_PART_BYTES (16ull << 40) /* 16T: SDXC ends at 2T */
#define IMAGE_REGISTRATION_MAX (512ull << 20) /* read whole into memory */

#endif
