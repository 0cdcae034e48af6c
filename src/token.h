/*
 * token.h
 *     Parsing of compact JWS tokens (header.payload.signature): strict
 *     base64url and the claims we use.  No catalog, no cryptography, no
 *     ereport, so it builds outside the backend too and can be fuzzed.
 */
#ifndef TOKEN_H
#define TOKEN_H

/* Longest token accepted, in bytes. */
#define TOKEN_MAX_BYTES 16384

typedef struct TokenParts
{
	/* header */
	char	   *alg;
	char	   *kid;			/* NULL when absent */

	/* payload */
	char	   *iss;
	char	   *sub;
	int			naud;
	char	  **aud;
	bool		has_exp;
	bool		has_nbf;
	bool		has_iat;
	double		exp;
	double		nbf;
	double		iat;
	bool		has_groups;		/* the groups claim was present */
	int			ngroups;
	char	  **groups;

	/* what the signature covers, and the signature */
	const char *signing_input;	/* points into the token */
	size_t		signing_input_len;
	unsigned char *signature;
	size_t		signature_len;
} TokenParts;

/*
 * Splits and decodes a token, reading the string array claim groups_claim
 * (may be NULL) as the groups.  NULL on success, else why the token is
 * malformed (for the server log, never for the client).
 */
extern const char *TokenParse(const char *token, size_t len, const char *groups_claim,
							  TokenParts *out);

/* Strict base64url (no padding, canonical last digit): NULL if invalid. */
extern unsigned char *Base64UrlDecode(const char *in, size_t len, size_t *outlen);

#endif							/* TOKEN_H */
