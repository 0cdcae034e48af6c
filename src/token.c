/*
 * token.c
 *     Compact JWS parsing: three base64url parts, a JSON object header and a
 *     JSON object payload, read with PostgreSQL's non-throwing JSON parser.
 *     Anything unusual is refused rather than guessed at.
 */
#ifdef FRONTEND
#include "postgres_fe.h"
#else
#include "postgres.h"
#endif

#include <math.h>

#include "common/jsonapi.h"
#include "mb/pg_wchar.h"

#include "compat.h"

#include "token.h"

/* Deeper JSON than this is refused before parsing (we read depth 2). */
#define TOKEN_MAX_DEPTH 8

/* Items of a string array claim (aud, groups). */
#define TOKEN_MAX_ITEMS 1024

static int
Base64UrlValue(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

unsigned char *
Base64UrlDecode(const char *in, size_t len, size_t *outlen)
{
	unsigned char *out;
	size_t		n = 0;
	uint32		acc = 0;
	int			bits = 0;

	if (len % 4 == 1)
		return NULL;
	out = palloc(len * 3 / 4 + 1);
	for (size_t i = 0; i < len; i++)
	{
		int			v = Base64UrlValue((unsigned char) in[i]);

		if (v < 0)
		{
			pfree(out);
			return NULL;
		}
		acc = (acc << 6) | (uint32) v;
		bits += 6;
		if (bits >= 8)
		{
			bits -= 8;
			out[n++] = (unsigned char) (acc >> bits);
			acc &= (1U << bits) - 1;
		}
	}
	/* the unused low bits of the last digit must be zero: one spelling only */
	if (acc != 0)
	{
		pfree(out);
		return NULL;
	}
	*outlen = n;
	return out;
}

/* Nesting depth of a JSON text, strings skipped; -1 when unbalanced. */
static int
JsonDepth(const char *s, size_t len)
{
	int			depth = 0,
				most = 0;
	bool		in_string = false;

	for (size_t i = 0; i < len; i++)
	{
		char		c = s[i];

		if (in_string)
		{
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = false;
		}
		else if (c == '"')
			in_string = true;
		else if (c == '{' || c == '[')
			most = Max(most, ++depth);
		else if (c == '}' || c == ']')
		{
			if (--depth < 0)
				return -1;
		}
	}
	return most;
}

/* The claims we read, and how the walk through one JSON object is going. */
typedef enum ClaimKind
{
	CLAIM_OTHER,
	CLAIM_ALG,
	CLAIM_KID,
	CLAIM_CRIT,
	CLAIM_ISS,
	CLAIM_SUB,
	CLAIM_AUD,
	CLAIM_EXP,
	CLAIM_NBF,
	CLAIM_IAT,
	CLAIM_GROUPS,
	CLAIM_COUNT
} ClaimKind;

typedef struct ClaimWalk
{
	bool		header;			/* reading the header, else the payload */
	const char *groups_claim;
	TokenParts *out;
	int			depth;			/* objects and arrays open */
	ClaimKind	field;			/* the top-level member being read */
	bool		seen[CLAIM_COUNT];
	const char *error;			/* first problem found */
} ClaimWalk;

static void
Fail(ClaimWalk *w, const char *why)
{
	if (w->error == NULL)
		w->error = why;
}

static ClaimKind
ClassifyField(ClaimWalk *w, const char *name)
{
	if (w->header)
	{
		if (strcmp(name, "alg") == 0)
			return CLAIM_ALG;
		if (strcmp(name, "kid") == 0)
			return CLAIM_KID;
		if (strcmp(name, "crit") == 0)
			return CLAIM_CRIT;
		return CLAIM_OTHER;
	}
	if (w->groups_claim != NULL && strcmp(name, w->groups_claim) == 0)
		return CLAIM_GROUPS;
	if (strcmp(name, "iss") == 0)
		return CLAIM_ISS;
	if (strcmp(name, "sub") == 0)
		return CLAIM_SUB;
	if (strcmp(name, "aud") == 0)
		return CLAIM_AUD;
	if (strcmp(name, "exp") == 0)
		return CLAIM_EXP;
	if (strcmp(name, "nbf") == 0)
		return CLAIM_NBF;
	if (strcmp(name, "iat") == 0)
		return CLAIM_IAT;
	return CLAIM_OTHER;
}

static JsonActionResult
WalkObjectStart(void *state)
{
	ClaimWalk  *w = state;

	if (w->depth == 1 && w->field != CLAIM_OTHER)
		Fail(w, "a claim we read is an object");
	w->depth++;
	return JSON_ACTION_OK;
}

static JsonActionResult
WalkArrayStart(void *state)
{
	ClaimWalk  *w = state;

	if (w->depth == 0)
		Fail(w, "not a JSON object");
	else if (w->depth == 1 && w->field == CLAIM_CRIT)
		Fail(w, "crit header");	/* no extension is understood */
	else if (w->depth == 1 && w->field != CLAIM_OTHER && w->field != CLAIM_AUD &&
			 w->field != CLAIM_GROUPS)
		Fail(w, "a claim we read is an array");
	w->depth++;
	return JSON_ACTION_OK;
}

static JsonActionResult
WalkEnd(void *state)
{
	((ClaimWalk *) state)->depth--;
	return JSON_ACTION_OK;
}

static JsonActionResult
WalkField(void *state, char *fname, bool isnull)
{
	ClaimWalk  *w = state;

	if (w->depth != 1)
		return JSON_ACTION_OK;
	w->field = ClassifyField(w, fname);
	if (w->field == CLAIM_OTHER)
		return JSON_ACTION_OK;
	/* a name given twice would mean whatever each reader decides */
	if (w->seen[w->field])
		Fail(w, "a claim appears twice");
	w->seen[w->field] = true;
	if (w->field == CLAIM_AUD)
		w->out->naud = 0;
	else if (w->field == CLAIM_GROUPS)
	{
		w->out->has_groups = true;
		w->out->ngroups = 0;
	}
	return JSON_ACTION_OK;
}

static void
AppendItem(ClaimWalk *w, int *n, char ***items, char *value)
{
	if (*n >= TOKEN_MAX_ITEMS)
	{
		Fail(w, "too many items in a claim");
		return;
	}
	if (*items == NULL)
		*items = palloc(sizeof(char *) * TOKEN_MAX_ITEMS);
	(*items)[(*n)++] = value;
}

static bool
NumberValue(const char *token, double *out)
{
	char	   *end;
	double		v = strtod(token, &end);

	if (*end != '\0' || isnan(v) || isinf(v))
		return false;
	*out = v;
	return true;
}

static JsonActionResult
WalkScalar(void *state, char *token, JsonTokenType type)
{
	ClaimWalk  *w = state;
	TokenParts *out = w->out;

	if (w->depth == 0)
	{
		Fail(w, "not a JSON object");
		return JSON_ACTION_OK;
	}
	if (w->field == CLAIM_OTHER)
		return JSON_ACTION_OK;
	if (w->depth == 2)
	{
		/* an element of aud or groups (others were refused at array start) */
		if (type != JSON_TOKEN_STRING)
			Fail(w, "a claim array holds a non-string");
		else if (w->field == CLAIM_AUD)
			AppendItem(w, &out->naud, &out->aud, token);
		else
			AppendItem(w, &out->ngroups, &out->groups, token);
		return JSON_ACTION_OK;
	}
	if (w->depth != 1)
		return JSON_ACTION_OK;
	switch (w->field)
	{
		case CLAIM_EXP:
		case CLAIM_NBF:
		case CLAIM_IAT:
			{
				double		v;

				if (type != JSON_TOKEN_NUMBER || !NumberValue(token, &v))
				{
					Fail(w, "a time claim is not a number");
					return JSON_ACTION_OK;
				}
				if (w->field == CLAIM_EXP)
				{
					out->has_exp = true;
					out->exp = v;
				}
				else if (w->field == CLAIM_NBF)
				{
					out->has_nbf = true;
					out->nbf = v;
				}
				else
				{
					out->has_iat = true;
					out->iat = v;
				}
				return JSON_ACTION_OK;
			}
		case CLAIM_CRIT:
			Fail(w, "crit header");	/* no extension is understood */
			return JSON_ACTION_OK;
		default:
			break;
	}
	if (type != JSON_TOKEN_STRING)
	{
		Fail(w, "a claim we read is not a string");
		return JSON_ACTION_OK;
	}
	switch (w->field)
	{
		case CLAIM_ALG:
			out->alg = token;
			break;
		case CLAIM_KID:
			out->kid = token;
			break;
		case CLAIM_ISS:
			out->iss = token;
			break;
		case CLAIM_SUB:
			out->sub = token;
			break;
		case CLAIM_AUD:
			AppendItem(w, &out->naud, &out->aud, token);
			break;
		default:
			Fail(w, "a claim array is a string");	/* groups must be an array */
			break;
	}
	return JSON_ACTION_OK;
}

/* Decodes one part and walks its JSON object; NULL or the problem. */
static const char *
ReadPart(const char *b64, size_t len, bool header, const char *groups_claim, TokenParts *out)
{
	size_t		n;
	unsigned char *json = Base64UrlDecode(b64, len, &n);
	JsonLexContext *lex;
	JsonSemAction sem;
	ClaimWalk	walk;
	int			depth;

	if (json == NULL)
		return header ? "header is not base64url" : "payload is not base64url";
	if (memchr(json, '\0', n) != NULL || pg_encoding_verifymbstr(PG_UTF8, (char *) json, (int) n) != (int) n)
		return header ? "header is not UTF-8 text" : "payload is not UTF-8 text";
	depth = JsonDepth((char *) json, n);
	if (depth < 1)
		return header ? "header is not a JSON object" : "payload is not a JSON object";
	if (depth > TOKEN_MAX_DEPTH)
		return header ? "header nesting" : "payload nesting";

	memset(&walk, 0, sizeof(walk));
	walk.header = header;
	walk.groups_claim = groups_claim;
	walk.out = out;
	memset(&sem, 0, sizeof(sem));
	sem.semstate = &walk;
	sem.object_start = WalkObjectStart;
	sem.object_end = WalkEnd;
	sem.array_start = WalkArrayStart;
	sem.array_end = WalkEnd;
	sem.object_field_start = WalkField;
	sem.scalar = WalkScalar;
	lex = RbacJsonLexer((char *) json, n, PG_UTF8, true);
	if (pg_parse_json(lex, &sem) != JSON_SUCCESS)
		return header ? "header is not JSON" : "payload is not JSON";
	return walk.error;
}

const char *
TokenParse(const char *token, size_t len, const char *groups_claim, TokenParts *out)
{
	const char *dot1,
			   *dot2;
	const char *why;

	memset(out, 0, sizeof(*out));
	if (token == NULL || len == 0)
		return "empty";
	if (len > TOKEN_MAX_BYTES)
		return "too long";
	dot1 = memchr(token, '.', len);
	dot2 = dot1 ? memchr(dot1 + 1, '.', len - (dot1 + 1 - token)) : NULL;
	if (dot2 == NULL || memchr(dot2 + 1, '.', len - (dot2 + 1 - token)) != NULL)
		return "not three parts";

	why = ReadPart(token, dot1 - token, true, NULL, out);
	if (why != NULL)
		return why;
	why = ReadPart(dot1 + 1, dot2 - (dot1 + 1), false, groups_claim, out);
	if (why != NULL)
		return why;
	out->signature = Base64UrlDecode(dot2 + 1, len - (dot2 + 1 - token), &out->signature_len);
	if (out->signature == NULL)
		return "signature is not base64url";
	if (out->alg == NULL)
		return "no alg";
	out->signing_input = token;
	out->signing_input_len = dot2 - token;
	return NULL;
}
