/*
 * audit_hash.h
 *     Feeding values to the audit chain's SHA-256 in its canonical
 *     encoding (audit_hash.c); an absent value is the single byte 0.
 */
#ifndef ZENML_RBAC_AUDIT_HASH_H
#define ZENML_RBAC_AUDIT_HASH_H

#include "common/cryptohash.h"

/* An absent value (SQL NULL). */
extern void HashAbsent(pg_cryptohash_ctx *ctx);
/* A present value: 1, its length (4 bytes, big-endian), its bytes. */
extern void HashBytes(pg_cryptohash_ctx *ctx, const void *data, uint32 len);
/* Eight bytes, big-endian, as HashBytes. */
extern void HashInt64(pg_cryptohash_ctx *ctx, uint64 v);
/* The characters without the NUL, as HashBytes. */
extern void HashCString(pg_cryptohash_ctx *ctx, const char *s);

#endif							/* ZENML_RBAC_AUDIT_HASH_H */
