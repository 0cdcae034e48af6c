/*
 * fuzz_token.c
 *     libFuzzer harness for src/token.c (compact JWS parsing).  The first
 *     byte picks the mode: the input as a whole token, or the input as the
 *     JSON payload of a token with a fixed header, so the claim walker sees
 *     arbitrary JSON.  Properties: base64url decoding is canonical (encoding
 *     what was decoded gives the input back); a parsed token's signing input
 *     is exactly its first two parts and its signature the third part
 *     decoded; array claims hold at most their limit; nothing reads past
 *     the input.
 */
#include "postgres_fe.h"

#include <stddef.h>
#include <stdint.h>

#include "token.h"

/*
 * token.c pallocs as the backend does, where a memory context frees it all
 * at once.  The link wraps palloc and friends (-Wl,--wrap) into this
 * tracking allocator, so that each input's memory is freed after it and a
 * leak or an overrun stays visible to the sanitizers.
 */
typedef struct Block
{
	struct Block *prev;
	struct Block *next;
	size_t		size;
	max_align_t	align[];
} Block;

static Block arena = {&arena, &arena, 0};

static void *
Track(size_t size, bool zero)
{
	Block	   *b = zero ? calloc(1, sizeof(Block) + size) : malloc(sizeof(Block) + size);

	if (b == NULL)
		abort();
	b->size = size;
	b->next = &arena;
	b->prev = arena.prev;
	arena.prev->next = b;
	arena.prev = b;
	return b->align;
}

static Block *
BlockOf(void *p)
{
	return (Block *) ((char *) p - offsetof(Block, align));
}

void	   *__wrap_palloc(size_t size);
void	   *__wrap_palloc0(size_t size);
void	   *__wrap_repalloc(void *p, size_t size);
void		__wrap_pfree(void *p);
char	   *__wrap_pstrdup(const char *s);
char	   *__wrap_pnstrdup(const char *s, size_t n);

void *
__wrap_palloc(size_t size)
{
	return Track(size, false);
}

void *
__wrap_palloc0(size_t size)
{
	return Track(size, true);
}

void
__wrap_pfree(void *p)
{
	Block	   *b = BlockOf(p);

	b->prev->next = b->next;
	b->next->prev = b->prev;
	free(b);
}

void *
__wrap_repalloc(void *p, size_t size)
{
	void	   *q = Track(size, false);

	memcpy(q, p, Min(size, BlockOf(p)->size));
	__wrap_pfree(p);
	return q;
}

char *
__wrap_pstrdup(const char *s)
{
	return strcpy(Track(strlen(s) + 1, false), s);
}

char *
__wrap_pnstrdup(const char *s, size_t n)
{
	size_t		len = strnlen(s, n);
	char	   *d = Track(len + 1, false);

	memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

static void
FreeAll(void)
{
	while (arena.next != &arena)
		__wrap_pfree(arena.next->align);
}

static const char b64chars[] =
"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static char *
Encode(const unsigned char *in, size_t len, size_t *outlen)
{
	char	   *out = malloc(len * 4 / 3 + 4);
	size_t		n = 0;
	size_t		i = 0;

	for (; i + 3 <= len; i += 3)
	{
		uint32_t	v = (in[i] << 16) | (in[i + 1] << 8) | in[i + 2];

		out[n++] = b64chars[v >> 18];
		out[n++] = b64chars[(v >> 12) & 63];
		out[n++] = b64chars[(v >> 6) & 63];
		out[n++] = b64chars[v & 63];
	}
	if (len - i == 1)
	{
		out[n++] = b64chars[in[i] >> 2];
		out[n++] = b64chars[(in[i] & 3) << 4];
	}
	else if (len - i == 2)
	{
		out[n++] = b64chars[in[i] >> 2];
		out[n++] = b64chars[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
		out[n++] = b64chars[(in[i + 1] & 15) << 2];
	}
	*outlen = n;
	return out;
}

static void
Require(int ok, const char *what)
{
	if (!ok)
	{
		fprintf(stderr, "property violated: %s\n", what);
		abort();
	}
}

/* Decoding then encoding gives the text back, whenever decoding succeeds. */
static void
CheckCanonical(const char *text, size_t len)
{
	size_t		n,
				m;
	unsigned char *raw = Base64UrlDecode(text, len, &n);
	char	   *again;

	if (raw == NULL)
		return;
	again = Encode(raw, n, &m);
	Require(m == len && memcmp(again, text, len) == 0, "base64url decoding is not canonical");
	free(again);
	pfree(raw);
}

static void
CheckToken(const char *token, size_t len)
{
	TokenParts	t;
	const char *why = TokenParse(token, len, "groups", &t);
	const char *last;

	CheckCanonical(token, len);
	if (why != NULL)
		return;
	Require(t.alg != NULL, "accepted without alg");
	Require(len <= TOKEN_MAX_BYTES, "accepted an oversized token");
	Require(t.signing_input == token, "signing input does not start the token");
	last = token + t.signing_input_len;
	Require(t.signing_input_len < len && *last == '.', "signing input does not end at a dot");
	Require(memchr(last + 1, '.', len - t.signing_input_len - 1) == NULL, "more than three parts");
	{
		size_t		m;
		char	   *sig = Encode(t.signature, t.signature_len, &m);

		Require(m == len - t.signing_input_len - 1 && memcmp(sig, last + 1, m) == 0,
				"signature is not the third part decoded");
		free(sig);
	}
	Require(t.naud >= 0 && t.naud <= 1024 && t.ngroups >= 0 && t.ngroups <= 1024,
			"array claim over its limit");
	for (int i = 0; i < t.naud; i++)
		Require(t.aud[i] != NULL, "NULL audience");
	for (int i = 0; i < t.ngroups; i++)
		Require(t.groups[i] != NULL, "NULL group");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
	{
		/* the rest as a token, in a buffer of exactly its size */
		char	   *token = malloc(size > 1 ? size - 1 : 1);

		memcpy(token, data + 1, size - 1);
		CheckToken(token, size - 1);
		free(token);
		FreeAll();
	}
	else
	{
		/* the rest as the payload JSON of a token */
		static const char header[] = "eyJhbGciOiJSUzI1NiJ9";	/* {"alg":"RS256"} */
		size_t		plen;
		char	   *payload = Encode(data + 1, size - 1, &plen);
		size_t		len = (sizeof(header) - 1) + 1 + plen + 5;
		char	   *token = malloc(len);

		memcpy(token, header, sizeof(header) - 1);
		token[sizeof(header) - 1] = '.';
		memcpy(token + sizeof(header), payload, plen);
		memcpy(token + sizeof(header) + plen, ".AAAA", 5);
		CheckToken(token, len);
		free(token);
		free(payload);
		FreeAll();
	}
	return 0;
}
