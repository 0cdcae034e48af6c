/*
 * log_value.c
 *     One value of a denial log line, quoted so that no value can end its
 *     field or start a line.  Needs only StringInfo: fuzzed as it is
 *     (test/fuzz), compiled against the frontend's StringInfo there.
 */
#ifdef FRONTEND
#include "postgres_fe.h"
#else
#include "postgres.h"
#endif

#include "log_value.h"

/*
 * A value of the denial line: "-" when absent, else in double quotes with
 * backslash, quote and control characters escaped -- so a value (any role
 * may pass text to rbac_can) can neither end its field nor start a line.
 * At most max bytes of it are written, cut before a UTF-8 continuation
 * byte; a cut value is followed by "..." after its closing quote, so one
 * statement of many denied checks on large arguments cannot flood the log.
 */
void
AppendLogValue(StringInfo buf, const char *key, const char *value, size_t max)
{
	size_t		len;
	size_t		keep;

	appendStringInfo(buf, " %s=", key);
	if (value == NULL)
	{
		appendStringInfoChar(buf, '-');
		return;
	}
	len = strlen(value);
	keep = len;
	if (len > max)
	{
		keep = max;
		/* a UTF-8 character is at most 4 bytes: back up at most 3 */
		while (keep > 0 && max - keep < 3 && ((unsigned char) value[keep] & 0xC0) == 0x80)
			keep--;
	}
	appendStringInfoChar(buf, '"');
	for (const unsigned char *c = (const unsigned char *) value;
		 c < (const unsigned char *) value + keep; c++)
	{
		switch (*c)
		{
			case '"':
				appendStringInfoString(buf, "\\\"");
				break;
			case '\\':
				appendStringInfoString(buf, "\\\\");
				break;
			case '\n':
				appendStringInfoString(buf, "\\n");
				break;
			case '\r':
				appendStringInfoString(buf, "\\r");
				break;
			case '\t':
				appendStringInfoString(buf, "\\t");
				break;
			default:
				if (*c < 0x20 || *c == 0x7F)
					appendStringInfo(buf, "\\x%02x", *c);
				else
					appendStringInfoChar(buf, (char) *c);
		}
	}
	appendStringInfoChar(buf, '"');
	if (keep < len)
		appendStringInfoString(buf, "...");
}
