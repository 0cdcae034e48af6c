/*
 * fuzz_audit_encoding.c
 *     libFuzzer target for the canonical encoding that the audit chain hashes:
 *     HashAbsent(), HashBytes(), HashInt64() and HashCString() of
 *     src/audit_hash.c, compiled as it is.  pg_cryptohash_update
 *     is replaced by a recorder, so the harness sees the exact byte stream
 *     SHA-256 would have been fed.
 *
 * The input describes a list of columns (absent, 64-bit, bytes, C string);
 * they are encoded as HashEvent() does, and the stream must decode back to
 * the same list with a decoder written here: the encoding is unambiguous, so
 * two different events never feed SHA-256 the same bytes.
 */
#include "postgres_fe.h"

#include "common/cryptohash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit_hash.h"

static uint8_t *stream;
static size_t stream_len;
static size_t stream_cap;

int
pg_cryptohash_update(pg_cryptohash_ctx *ctx, const uint8 *data, size_t len)
{
	(void) ctx;
	if (stream_len + len > stream_cap)
	{
		stream_cap = (stream_len + len) * 2 + 64;
		stream = realloc(stream, stream_cap);
		if (stream == NULL)
			abort();
	}
	if (len > 0)
		memcpy(stream + stream_len, data, len);
	stream_len += len;
	return 0;
}

const char *
pg_cryptohash_error(pg_cryptohash_ctx *ctx)
{
	(void) ctx;
	return "recorder";
}


/* One column as the harness meant it: absent, or these bytes. */
typedef struct Column
{
	int			present;
	const uint8_t *bytes;		/* points into the input or into int_bytes */
	size_t		len;
	uint8_t		int_bytes[8];
} Column;

#define MAX_COLUMNS 64

static const uint8_t *input_data;
static size_t input_size;

static void
Fail(const char *what)
{
	fprintf(stderr, "property violated: %s\ninput (%zu bytes):", what, input_size);
	for (size_t i = 0; i < input_size; i++)
		fprintf(stderr, " %02x", input_data[i]);
	fprintf(stderr, "\n");
	abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Column		cols[MAX_COLUMNS];
	int			ncols = 0;
	size_t		p = 0;
	size_t		s = 0;
	pg_cryptohash_ctx *ctx = (pg_cryptohash_ctx *) &cols;	/* never dereferenced */
	static const char prefix[] = "zenml_rbac audit event v1";

	input_data = data;
	input_size = size;
	stream_len = 0;

	HashCString(ctx, prefix);

	/* tag byte, then per tag: 0 absent, 1 int64 (8 bytes), 2 length byte + bytes, 3 C string */
	while (p < size && ncols < MAX_COLUMNS)
	{
		Column	   *c = &cols[ncols];
		uint8_t		tag = data[p++] % 4;

		memset(c, 0, sizeof(*c));
		if (tag == 0)
		{
			HashAbsent(ctx);
		}
		else if (tag == 1)
		{
			uint64		v = 0;

			for (int i = 0; i < 8; i++)
				v = (v << 8) | (p < size ? data[p++] : 0);
			for (int i = 0; i < 8; i++)
				c->int_bytes[i] = (uint8_t) (v >> (56 - 8 * i));
			c->present = 1;
			c->bytes = c->int_bytes;
			c->len = 8;
			HashInt64(ctx, v);
		}
		else if (tag == 2)
		{
			size_t		n = p < size ? data[p++] : 0;
			uint8_t    *copy;

			if (n > size - p)
				n = size - p;
			copy = malloc(n ? n : 1);	/* exactly sized: HashBytes reads n bytes */
			if (n > 0)
				memcpy(copy, data + p, n);
			c->present = 1;
			c->bytes = data + p;
			c->len = n;
			HashBytes(ctx, copy, (uint32) n);
			free(copy);
			p += n;
		}
		else
		{
			size_t		n = 0;
			char	   *copy;

			while (p + n < size && data[p + n] != 0)
				n++;
			copy = malloc(n + 1);
			if (n > 0)
				memcpy(copy, data + p, n);
			copy[n] = '\0';
			c->present = 1;
			c->bytes = data + p;
			c->len = n;
			HashCString(ctx, copy);
			free(copy);
			p += n + (p + n < size);	/* and the NUL */
		}
		ncols++;
	}

	/* decode: the prefix, then per column 0x00, or 0x01 + 4-byte big-endian length + bytes */
	for (int i = -1; i < ncols; i++)
	{
		const uint8_t *want = i < 0 ? (const uint8_t *) prefix : cols[i].bytes;
		size_t		want_len = i < 0 ? strlen(prefix) : cols[i].len;
		int			present = i < 0 ? 1 : cols[i].present;
		size_t		len;

		if (s >= stream_len)
			Fail("stream ends before the last column");
		if (stream[s] == 0)
		{
			if (present)
				Fail("present column encoded as absent");
			s++;
			continue;
		}
		if (stream[s] != 1)
			Fail("presence byte is neither 0 nor 1");
		if (!present)
			Fail("absent column encoded as present");
		if (stream_len - s < 5)
			Fail("truncated length header");
		len = ((size_t) stream[s + 1] << 24) | ((size_t) stream[s + 2] << 16) |
			((size_t) stream[s + 3] << 8) | stream[s + 4];
		s += 5;
		if (len != want_len || stream_len - s < len)
			Fail("length header does not match the column");
		if (len > 0 && memcmp(stream + s, want, len) != 0)
			Fail("column bytes differ");
		s += len;
	}
	if (s != stream_len)
		Fail("bytes left after the last column");
	return 0;
}
