/*
 * Internals of the ISAKMP codec (isakmp*.c); not for other modules.  The
 * error helpers are the base's (isakmp.c), for every file of the codec;
 * the builder's (isakmp_build.c) are for the puts of the payload bodies.
 */
#ifndef MIPSA_ISAKMP_INT_H
#define MIPSA_ISAKMP_INT_H

#include "isakmp.h"

/* ---- errors (isakmp.c) ---- */

/* Fill *err (when not NULL) with the default Notify type for code/payload; returns code. */
int isakmp_fail(struct isakmp_error *err, enum isakmp_err code, uint8_t payload, size_t offset,
		size_t declared, size_t limit, const char *what);
/* The same for a failure inside a data attribute of a transform. */
int isakmp_fail_attr(struct isakmp_error *err, enum isakmp_err code, uint16_t attr_type,
		     size_t offset, size_t declared, size_t limit, const char *what);
/* Clear *err (when not NULL); returns ISAKMP_OK. */
int isakmp_ok(struct isakmp_error *err);

/* ---- builder (isakmp_build.c) ---- */

/* Record a builder failure (sticky) and return its code. */
int isakmp_bld_fail(struct isakmp_builder *bld, enum isakmp_err code, uint8_t payload,
		    size_t declared, size_t limit, const char *what);
/*
 * Write the generic header of a payload with body_len bytes of body to come,
 * after checking that all of it fits, and patch the previous Next Payload.
 * The caller then writes exactly body_len bytes, which cannot fail.
 */
int isakmp_bld_begin(struct isakmp_builder *bld, uint8_t type, size_t body_len);
/* After isakmp_bld_begin: r, the result of the body writes, cannot be an error, but say so. */
int isakmp_bld_body(struct isakmp_builder *bld, uint8_t type, int r);

#endif
