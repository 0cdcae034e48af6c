/*
 * audit_hash.c
 *     The canonical encoding the audit chain hashes: each value a presence
 *     byte, a 4-byte big-endian length and its bytes, so two different
 *     events never feed SHA-256 the same stream.  Fuzzed as it is (test/fuzz).
 */
#ifdef FRONTEND
#include "postgres_fe.h"
#else
#include "postgres.h"
#endif

#include "audit_hash.h"

#ifdef FRONTEND
#include "common/logging.h"
#define HashFailed(ctx) pg_fatal("could not update SHA-256 context: %s", pg_cryptohash_error(ctx))
#else
#define HashFailed(ctx) elog(ERROR, "could not update SHA-256 context: %s", pg_cryptohash_error(ctx))
#endif

void
HashAbsent(pg_cryptohash_ctx *ctx)
{
	uint8		absent = 0;

	if (pg_cryptohash_update(ctx, &absent, 1) < 0)
		HashFailed(ctx);
}

void
HashBytes(pg_cryptohash_ctx *ctx, const void *data, uint32 len)
{
	uint8		header[5];

	header[0] = 1;
	header[1] = (len >> 24) & 0xFF;
	header[2] = (len >> 16) & 0xFF;
	header[3] = (len >> 8) & 0xFF;
	header[4] = len & 0xFF;
	if (pg_cryptohash_update(ctx, header, sizeof(header)) < 0 ||
		pg_cryptohash_update(ctx, data, len) < 0)
		HashFailed(ctx);
}

void
HashInt64(pg_cryptohash_ctx *ctx, uint64 v)
{
	uint8		buf[8];

	for (int i = 0; i < 8; i++)
		buf[i] = (v >> (56 - 8 * i)) & 0xFF;
	HashBytes(ctx, buf, sizeof(buf));
}

void
HashCString(pg_cryptohash_ctx *ctx, const char *s)
{
	HashBytes(ctx, s, strlen(s));
}
