/*
 * resource_ref.c
 *     Parsers for resource references ('type', 'type/uuid') and uuids
 *     (action names: vocabulary.c).  No allocation, no catalog access, no ereport: callers
 *     decide which error a malformed input gets.
 */
#include <string.h>

#include "resource_ref.h"

static int
HexValue(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool
ParseUuid(const char *text, size_t len, unsigned char out[16])
{
	bool		hyphens;
	size_t		pos = 0;

	if (len == 36)
		hyphens = true;
	else if (len == 32)
		hyphens = false;
	else
		return false;

	for (int i = 0; i < 16; i++)
	{
		int			hi,
					lo;

		/* hyphens sit before bytes 4, 6, 8 and 10 in the canonical form */
		if (hyphens && (i == 4 || i == 6 || i == 8 || i == 10))
		{
			if (text[pos] != '-')
				return false;
			pos++;
		}
		hi = HexValue(text[pos]);
		lo = HexValue(text[pos + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = (unsigned char) ((hi << 4) | lo);
		pos += 2;
	}
	return pos == len;
}

bool
ParseResourceRef(const char *text, size_t len, ResourceRef *out)
{
	const char *slash = memchr(text, '/', len);

	out->type = text;
	out->type_len = slash ? (size_t) (slash - text) : len;
	out->has_id = (slash != NULL);
	if (out->type_len == 0)
		return false;
	if (slash == NULL)
		return true;
	return ParseUuid(slash + 1, len - out->type_len - 1, out->id);
}
