/*
 * fuzz_log_value.c
 *     libFuzzer target for the quoting of values in the zenml_rbac.log_denials
 *     line: AppendLogValue() of src/log_value.c, compiled as it is against
 *     PostgreSQL's frontend StringInfo (libpgcommon).
 *
 * The input is a mask byte (which of the five values are absent) followed by
 * the values separated by NUL bytes; each value is an exactly sized heap
 * C string.  The line is then read back with a strict parser written here,
 * which must find exactly the same fields and values: no value can end its
 * field, add a field or start a new line, whatever bytes it holds.  Values
 * longer than their bound (small here, so short inputs reach it) must read
 * back as a prefix of at least bound - 3 bytes, marked "..." after the
 * closing quote; shorter ones whole and unmarked.
 */
#include "postgres_fe.h"

#include "lib/stringinfo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log_value.h"

#define NUM_FIELDS 5

/* The fields of the denial line after check=, in LogDenial's order (src/denial_log.c). */
static const char *const field_keys[NUM_FIELDS] = {
	"principal", "tenant", "resource", "action", "statement"
};
static const size_t field_max[NUM_FIELDS] = {16, 16, 24, 16, 40};

static const uint8_t *input_data;
static size_t input_size;

static void
Fail(const char *what, const char *line)
{
	fprintf(stderr, "property violated: %s\nline: %s\ninput (%zu bytes):", what,
			line ? line : "(none)", input_size);
	for (size_t i = 0; i < input_size; i++)
		fprintf(stderr, " %02x", input_data[i]);
	fprintf(stderr, "\n");
	abort();
}

static int
HexNibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Reads ' key=' then '-' or a quoted value at *pos; the decoded value goes
 * to out (NULL for '-').  Returns 0 when the text is not of that form.
 */
static int
ReadField(const char *line, size_t *pos, const char *key, char **out, int *cut)
{
	size_t		p = *pos;
	size_t		klen = strlen(key);
	char	   *value;
	size_t		n = 0;

	if (line[p] != ' ' || strncmp(line + p + 1, key, klen) != 0 || line[p + 1 + klen] != '=')
		return 0;
	p += klen + 2;
	if (line[p] == '-')
	{
		*out = NULL;
		*pos = p + 1;
		return 1;
	}
	if (line[p] != '"')
		return 0;
	p++;
	value = malloc(strlen(line + p) + 1);
	for (;;)
	{
		char		c = line[p];

		if (c == '\0')
		{
			free(value);
			return 0;			/* unterminated */
		}
		if (c == '"')
			break;
		if (c == '\\')
		{
			char		e = line[p + 1];

			p += 2;
			switch (e)
			{
				case '"':
				case '\\':
					value[n++] = e;
					break;
				case 'n':
					value[n++] = '\n';
					break;
				case 'r':
					value[n++] = '\r';
					break;
				case 't':
					value[n++] = '\t';
					break;
				case 'x':
					{
						int			hi = HexNibble(line[p]);
						int			lo = hi < 0 ? -1 : HexNibble(line[p + 1]);

						if (hi < 0 || lo < 0)
						{
							free(value);
							return 0;
						}
						value[n++] = (char) (hi * 16 + lo);
						p += 2;
						break;
					}
				default:
					free(value);
					return 0;
			}
			continue;
		}
		value[n++] = c;
		p++;
	}
	value[n] = '\0';
	*out = value;
	*pos = p + 1;
	*cut = strncmp(line + p + 1, "...", 3) == 0;
	if (*cut)
		*pos += 3;
	return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *values[NUM_FIELDS] = {NULL};
	char	   *parsed[NUM_FIELDS] = {NULL};
	int			cut[NUM_FIELDS] = {0};
	StringInfoData buf;
	size_t		pos;
	size_t		start = 1;
	uint8_t		absent;

	if (size < 1)
		return 0;
	input_data = data;
	input_size = size;
	absent = data[0];

	/* values: the rest of the input split at NUL bytes; missing ones are "" */
	for (int f = 0; f < NUM_FIELDS; f++)
	{
		size_t		end = start;

		while (end < size && data[end] != 0)
			end++;
		if (!(absent & (1 << f)))
		{
			size_t		n = end > start ? end - start : 0;

			values[f] = malloc(n + 1);
			if (n > 0)
				memcpy(values[f], data + start, n);
			values[f][n] = '\0';
		}
		start = end < size ? end + 1 : size;
	}

	initStringInfo(&buf);
	appendStringInfoString(&buf, "check=rbac_can");
	for (int f = 0; f < NUM_FIELDS; f++)
		AppendLogValue(&buf, field_keys[f], values[f], field_max[f]);

	/* nothing in the line can end it or be taken for a control sequence */
	if (strlen(buf.data) != (size_t) buf.len)
		Fail("NUL inside the line", buf.data);
	for (int i = 0; i < buf.len; i++)
	{
		unsigned char c = (unsigned char) buf.data[i];

		if (c < 0x20 || c == 0x7F)
			Fail("control character in the line", buf.data);
	}

	/* the line reads back as exactly these fields with exactly these values */
	if (strncmp(buf.data, "check=rbac_can", 14) != 0)
		Fail("line does not start with its check", buf.data);
	pos = 14;
	for (int f = 0; f < NUM_FIELDS; f++)
	{
		if (!ReadField(buf.data, &pos, field_keys[f], &parsed[f], &cut[f]))
			Fail("field does not parse", buf.data);
		if ((values[f] == NULL) != (parsed[f] == NULL))
			Fail("absent and present values confused", buf.data);
		if (values[f] == NULL)
			continue;
		if (strlen(values[f]) <= field_max[f])
		{
			if (cut[f] || strcmp(values[f], parsed[f]) != 0)
				Fail("value does not read back as given", buf.data);
		}
		else if (!cut[f] || strlen(parsed[f]) > field_max[f] ||
				 strlen(parsed[f]) + 3 < field_max[f] ||
				 strncmp(values[f], parsed[f], strlen(parsed[f])) != 0)
			Fail("long value not cut to a marked prefix within its bound", buf.data);
	}
	if (buf.data[pos] != '\0')
		Fail("text after the last field", buf.data);

	for (int f = 0; f < NUM_FIELDS; f++)
	{
		free(values[f]);
		free(parsed[f]);
	}
	pfree(buf.data);
	return 0;
}
