/*
 * fuzz_resource_ref.c
 *     libFuzzer target for src/resource_ref.c: every input is tried as a
 *     uuid, as a resource reference and as an action name, and each answer is
 *     checked against a reference implementation written here, not merely
 *     survived.
 *
 * The input is copied into a heap buffer of exactly its length with no
 * terminating NUL, so any read past `len` is an AddressSanitizer report.
 * A failed property prints what differed and aborts (a libFuzzer crash).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resource_ref.h"
#include "vocabulary.h"

/* The actions as the README names them, in the order rbac_can numbers them. */
static const char *const expected_actions[] = {"create", "read", "update", "delete", "share"};

#define NUM_EXPECTED_ACTIONS ((int) (sizeof(expected_actions) / sizeof(expected_actions[0])))

static void
Fail(const char *what, const uint8_t *data, size_t size)
{
	fprintf(stderr, "property violated: %s\ninput (%zu bytes):", what, size);
	for (size_t i = 0; i < size; i++)
		fprintf(stderr, " %02x", data[i]);
	fprintf(stderr, "\n");
	abort();
}

/* An exactly sized copy: no NUL, nothing readable past the end. */
static char *
ExactCopy(const void *data, size_t size)
{
	char	   *copy = malloc(size);

	if (copy == NULL)
		abort();
	if (size > 0)
		memcpy(copy, data, size);
	return copy;
}

/* ---------------------------------------------------------------------
 * Reference uuid parser, written the other way round from ParseUuid: find
 * the digits first (by position in a lookup string), then pair them up.
 * ---------------------------------------------------------------------
 */
static int
RefDigit(unsigned char c)
{
	static const char digits[] = "0123456789abcdef";
	const char *p;

	if (c == '\0')
		return -1;
	p = strchr(digits, tolower(c));
	return p ? (int) (p - digits) : -1;
}

static int
RefParseUuid(const char *text, size_t len, unsigned char out[16])
{
	int			nibbles[32];
	int			n = 0;

	if (len != 32 && len != 36)
		return 0;
	for (size_t i = 0; i < len; i++)
	{
		int			hyphen_here = (len == 36 && (i == 8 || i == 13 || i == 18 || i == 23));

		if (hyphen_here)
		{
			if (text[i] != '-')
				return 0;
			continue;
		}
		if (RefDigit((unsigned char) text[i]) < 0)
			return 0;
		nibbles[n++] = RefDigit((unsigned char) text[i]);
	}
	if (n != 32)
		return 0;
	for (int b = 0; b < 16; b++)
		out[b] = (unsigned char) (nibbles[2 * b] * 16 + nibbles[2 * b + 1]);
	return 1;
}

/* 8-4-4-4-12, lower case: what uuid_out prints. */
static void
FormatUuid(const unsigned char id[16], char out[37])
{
	snprintf(out, 37,
			 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
			 id[0], id[1], id[2], id[3], id[4], id[5], id[6], id[7],
			 id[8], id[9], id[10], id[11], id[12], id[13], id[14], id[15]);
}

/* 32 bare digits, upper case. */
static void
FormatUuidBare(const unsigned char id[16], char out[33])
{
	for (int b = 0; b < 16; b++)
		snprintf(out + 2 * b, 3, "%02X", id[b]);
}

/* ---------------------------------------------------------------------
 * Properties
 * ---------------------------------------------------------------------
 */

static void
CheckUuid(const uint8_t *data, size_t size)
{
	char	   *text = ExactCopy(data, size);
	unsigned char *got = malloc(16);
	unsigned char want[16];
	bool		ok = ParseUuid(text, size, got);
	int			ref_ok = RefParseUuid(text, size, want);

	if (ok != (ref_ok != 0))
		Fail(ok ? "ParseUuid accepted what the reference parser rejects"
			 : "ParseUuid rejected what the reference parser accepts", data, size);
	if (ok)
	{
		char		canonical[37];
		char		bare[33];
		char	   *again;
		unsigned char *id2 = malloc(16);

		if (memcmp(got, want, 16) != 0)
			Fail("ParseUuid's bytes differ from the reference parser's", data, size);

		/* both printed forms parse back to the same bytes */
		FormatUuid(got, canonical);
		again = ExactCopy(canonical, 36);
		if (!ParseUuid(again, 36, id2) || memcmp(id2, got, 16) != 0)
			Fail("canonical form of a parsed uuid does not parse back", data, size);
		free(again);
		FormatUuidBare(got, bare);
		again = ExactCopy(bare, 32);
		if (!ParseUuid(again, 32, id2) || memcmp(id2, got, 16) != 0)
			Fail("bare upper-case form of a parsed uuid does not parse back", data, size);
		free(again);

		/* case does not matter: the input, case-folded, is the canonical or bare form */
		for (size_t i = 0; i < size; i++)
			if (tolower((unsigned char) text[i]) != (size == 36 ? canonical[i] : tolower((unsigned char) bare[i])))
				Fail("accepted uuid is not its canonical form up to case", data, size);
		free(id2);
	}
	free(got);
	free(text);
}

static void
CheckResourceRef(const uint8_t *data, size_t size)
{
	char	   *text = ExactCopy(data, size);
	ResourceRef *ref = malloc(sizeof(ResourceRef));
	bool		ok = ParseResourceRef(text, size, ref);
	const char *slash = size > 0 ? memchr(text, '/', size) : NULL;
	size_t		want_type_len = slash ? (size_t) (slash - text) : size;
	unsigned char want_id[16];
	int			want_ok = want_type_len > 0 &&
		(slash == NULL || RefParseUuid(slash + 1, size - want_type_len - 1, want_id));

	if (ok != (want_ok != 0))
		Fail(ok ? "ParseResourceRef accepted an invalid reference"
			 : "ParseResourceRef rejected a valid reference", data, size);
	if (ok)
	{
		size_t		formatted_len;
		char	   *formatted;
		char	   *expected;
		ResourceRef *again = malloc(sizeof(ResourceRef));

		if (ref->type != text || ref->type_len != want_type_len)
			Fail("type is not the text before the first slash", data, size);
		if (ref->has_id != (slash != NULL))
			Fail("has_id does not say whether there is a slash", data, size);
		if (ref->has_id && memcmp(ref->id, want_id, 16) != 0)
			Fail("id differs from the reference parser's", data, size);
		if (memchr(ref->type, '/', ref->type_len) != NULL)
			Fail("type contains a slash", data, size);

		/* re-format the parts: 'type' or 'type/<canonical uuid>' */
		formatted_len = ref->type_len + (ref->has_id ? 37 : 0);
		formatted = malloc(formatted_len + 1);
		memcpy(formatted, ref->type, ref->type_len);
		if (ref->has_id)
		{
			formatted[ref->type_len] = '/';
			FormatUuid(ref->id, formatted + ref->type_len + 1);
		}

		/* ...which is the input with its uuid part written canonically */
		expected = malloc(formatted_len + 1);
		memcpy(expected, text, ref->type_len);
		if (ref->has_id)
		{
			size_t		id_len = size - ref->type_len - 1;
			size_t		o = ref->type_len + 1;

			expected[ref->type_len] = '/';
			for (size_t i = 0; i < id_len; i++)
			{
				if (id_len == 32 && (i == 8 || i == 12 || i == 16 || i == 20))
					expected[o++] = '-';
				expected[o++] = (char) tolower((unsigned char) slash[1 + i]);
			}
			if (o != formatted_len)
				Fail("harness: canonicalized length mismatch", data, size);
		}
		if (memcmp(formatted, expected, formatted_len) != 0)
			Fail("re-formatted reference differs from the canonicalized input", data, size);
		free(expected);

		/* ...and parses back to the same parts */
		{
			char	   *exact = ExactCopy(formatted, formatted_len);

			if (!ParseResourceRef(exact, formatted_len, again))
				Fail("re-formatted reference does not parse", data, size);
			if (again->type != exact || again->type_len != ref->type_len ||
				again->has_id != ref->has_id ||
				(ref->has_id && memcmp(again->id, ref->id, 16) != 0))
				Fail("re-formatted reference parses to different parts", data, size);
			free(exact);
		}
		free(formatted);
		free(again);
	}
	else if (slash != NULL && want_type_len > 0)
	{
		/* a bad id never spoils the type: the type alone is a reference */
		char	   *type_only = ExactCopy(text, want_type_len);

		if (!ParseResourceRef(type_only, want_type_len, ref) || ref->has_id ||
			ref->type_len != want_type_len)
			Fail("the type before a malformed id is not itself a valid reference", data, size);
		free(type_only);
	}
	free(ref);
	free(text);
}

static void
CheckAction(const uint8_t *data, size_t size)
{
	char	   *text = ExactCopy(data, size);
	int			got = ParseAction(text, size);
	int			want = -1;

	for (int i = 0; i < NUM_EXPECTED_ACTIONS; i++)
		if (strlen(expected_actions[i]) == size && memcmp(expected_actions[i], data, size) == 0)
			want = i;
	if (got != want)
		Fail("ParseAction's index is not the position of exactly this name", data, size);
	if (got >= 0 && (strlen(expected_actions[got]) != size || memcmp(expected_actions[got], text, size) != 0))
		Fail("ParseAction's index names another action", data, size);
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	CheckUuid(data, size);
	CheckResourceRef(data, size);
	CheckAction(data, size);
	return 0;
}
