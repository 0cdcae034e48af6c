/*
 * jwt.c
 *     Verifying the JSON Web Tokens of registered identity providers:
 *     RS256, ES256 and HS256 signatures with OpenSSL's libcrypto, the key
 *     chosen by kid, time, issuer and audience checks.  Every refusal is the
 *     same 28000 "invalid token"; the reason goes to the server log only.
 */
#include "postgres.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "denial_log.h"
#include "catalog.h"
#include "compat.h"
#include "jwt.h"
#include "token.h"

static int	jwt_leeway = 60;

void
JwtInit(void)
{
	DefineCustomIntVariable("zenml_rbac.jwt_leeway",
							"Seconds of clock skew allowed when checking a token's exp, nbf and iat.",
							NULL,
							&jwt_leeway,
							60, 0, 3600,
							PGC_SUSET, GUC_UNIT_S,
							NULL, NULL, NULL);
}

/* Smallest keys accepted. */
#define RSA_MIN_BITS 2048
#define HMAC_MIN_BYTES 32

/* A JWK's members, as text (NULL when absent). */
typedef struct JwkFields
{
	char	   *kid;
	char	   *kty;
	char	   *alg;
	char	   *crv;
	char	   *n;
	char	   *e;
	char	   *x;
	char	   *y;
	char	   *k;
} JwkFields;

/* The JWS algorithm a key type signs with: the only one it is used for. */
static const char *
AlgorithmOfKey(const JwkFields *key)
{
	if (key == NULL || key->kty == NULL)
		return NULL;
	if (strcmp(key->kty, "RSA") == 0)
		return "RS256";
	if (strcmp(key->kty, "EC") == 0)
		return "ES256";
	if (strcmp(key->kty, "oct") == 0)
		return "HS256";
	return NULL;
}

static unsigned char *
DecodeMember(const char *value, size_t *len)
{
	return value ? Base64UrlDecode(value, strlen(value), len) : NULL;
}

/* An oct key's secret, or NULL when it is missing or shorter than allowed. */
static unsigned char *
OctSecret(const JwkFields *key, size_t *len)
{
	unsigned char *secret = DecodeMember(key->k, len);

	if (secret != NULL && *len < HMAC_MIN_BYTES)
	{
		explicit_bzero(secret, *len);
		pfree(secret);
		secret = NULL;
	}
	return secret;
}

static void
ForgetSecret(unsigned char *secret, size_t len)
{
	explicit_bzero(secret, len);
	pfree(secret);
}

/*
 * The public key of an RSA or EC JWK, or NULL with the reason.  OpenSSL
 * objects never outlive this function's caller: no ereport in between.
 */
static EVP_PKEY *
PublicKey(const JwkFields *key, const char **why)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY   *pkey = NULL;
	BIGNUM	   *n = NULL,
			   *e = NULL;
	unsigned char *a = NULL,
			   *b = NULL;
	size_t		alen = 0,
				blen = 0;
	bool		rsa = strcmp(key->kty, "RSA") == 0;

	*why = NULL;
	if (bld == NULL)
	{
		*why = "out of memory";
		return NULL;
	}
	if (rsa)
	{
		a = DecodeMember(key->n, &alen);
		b = DecodeMember(key->e, &blen);
		if (a == NULL || b == NULL || alen == 0 || blen == 0)
			*why = "RSA key needs n and e in base64url";
		else if (a[0] == 0)
			*why = "RSA modulus has a leading zero byte";
		else
		{
			n = BN_bin2bn(a, (int) alen, NULL);
			e = BN_bin2bn(b, (int) blen, NULL);
			if (n == NULL || e == NULL)
				*why = "out of memory";
			else if (BN_num_bits(n) < RSA_MIN_BITS)
				*why = "RSA modulus is shorter than " CppAsString2(RSA_MIN_BITS) " bits";
			else if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
					 !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
				*why = "out of memory";
		}
	}
	else
	{
		unsigned char point[65];

		a = DecodeMember(key->x, &alen);
		b = DecodeMember(key->y, &blen);
		if (key->crv == NULL || strcmp(key->crv, "P-256") != 0)
			*why = "EC key is not on curve P-256";
		else if (a == NULL || b == NULL || alen != 32 || blen != 32)
			*why = "EC key needs 32-byte x and y in base64url";
		else
		{
			point[0] = 0x04;	/* uncompressed */
			memcpy(point + 1, a, 32);
			memcpy(point + 33, b, 32);
			if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) ||
				!OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)))
				*why = "out of memory";
		}
	}
	if (*why == NULL)
	{
		params = OSSL_PARAM_BLD_to_param(bld);
		ctx = EVP_PKEY_CTX_new_from_name(NULL, rsa ? "RSA" : "EC", NULL);
		if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
			EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
			*why = rsa ? "not a valid RSA public key" : "not a valid EC public key";
	}
	if (*why == NULL && !rsa)
	{
		/* the point must lie on the curve */
		EVP_PKEY_CTX *check = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);

		if (check == NULL || EVP_PKEY_public_check(check) != 1)
			*why = "EC point is not on curve P-256";
		EVP_PKEY_CTX_free(check);
	}
	if (*why != NULL && pkey != NULL)
	{
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	if (a)
		pfree(a);
	if (b)
		pfree(b);
	return pkey;
}

/* JOSE's r||s ECDSA signature as the DER form OpenSSL verifies. */
static unsigned char *
EcdsaDer(const unsigned char *sig, size_t len, int *derlen)
{
	ECDSA_SIG  *es;
	BIGNUM	   *r,
			   *s;
	unsigned char *der = NULL;

	if (len != 64)
		return NULL;
	es = ECDSA_SIG_new();
	r = BN_bin2bn(sig, 32, NULL);
	s = BN_bin2bn(sig + 32, 32, NULL);
	if (es == NULL || r == NULL || s == NULL || !ECDSA_SIG_set0(es, r, s))
	{
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(es);
		return NULL;
	}
	*derlen = i2d_ECDSA_SIG(es, &der);
	ECDSA_SIG_free(es);
	return *derlen > 0 ? der : NULL;
}

/* Whether the signature of the token verifies with the key. */
static const char *
CheckSignature(const JwkFields *key, const TokenParts *t)
{
	const char *why = NULL;

	if (strcmp(key->kty, "oct") == 0)
	{
		size_t		secretlen;
		unsigned char *secret = OctSecret(key, &secretlen);
		unsigned char mac[EVP_MAX_MD_SIZE];
		unsigned int maclen = 0;

		if (secret == NULL)
			why = "oct key needs a secret of " CppAsString2(HMAC_MIN_BYTES) " bytes or more";
		else if (HMAC(EVP_sha256(), secret, (int) secretlen,
					  (const unsigned char *) t->signing_input, t->signing_input_len,
					  mac, &maclen) == NULL)
			why = "HMAC failed";
		else if (t->signature_len != maclen ||
				 CRYPTO_memcmp(mac, t->signature, maclen) != 0)
			why = "bad signature";
		if (secret)
			ForgetSecret(secret, secretlen);
		return why;
	}
	else
	{
		EVP_PKEY   *pkey = PublicKey(key, &why);
		EVP_MD_CTX *md;
		unsigned char *der = NULL;
		const unsigned char *sig = t->signature;
		size_t		siglen = t->signature_len;

		if (pkey == NULL)
			return why;
		if (strcmp(key->kty, "EC") == 0)
		{
			int			derlen = 0;

			der = EcdsaDer(t->signature, t->signature_len, &derlen);
			sig = der;
			siglen = (size_t) derlen;
		}
		md = EVP_MD_CTX_new();
		if (sig == NULL)
			why = "bad signature";
		else if (md == NULL || EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pkey) != 1)
			why = "verification could not start";
		else if (EVP_DigestVerify(md, sig, siglen,
								  (const unsigned char *) t->signing_input,
								  t->signing_input_len) != 1)
			why = "bad signature";
		EVP_MD_CTX_free(md);
		OPENSSL_free(der);
		EVP_PKEY_free(pkey);
		return why;
	}
}

/* ------------------------------------------------------------------------
 * Refusals
 * ------------------------------------------------------------------------
 */

pg_noreturn static void
Refuse(const char *why, const TokenParts *t)
{
	LogTokenRefusal(why, t ? t->iss : NULL, t ? t->sub : NULL);
	ERR_clear_error();
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
			 errmsg("invalid token")));
}

/* ------------------------------------------------------------------------
 * The provider and its key, read as the extension owner
 * ------------------------------------------------------------------------
 */

typedef struct Provider
{
	bool		found;
	bool		enabled;
	pg_uuid_t	id;
	char	   *name;
	char	   *audience;
	char	   *groups_claim;
	bool		provisions;		/* provision_org is set */
	pg_uuid_t	provision_org;
	char	   *provision_org_role;
	int			nkeys;
	JwkFields  *keys;
} Provider;

/* A column of the last SPI result, copied out of SPI's memory into cxt. */
static char *
CopyColumn(MemoryContext cxt, int row, int col)
{
	char	   *v = SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col);

	return v ? MemoryContextStrdup(cxt, v) : NULL;
}

/*
 * Into the caller's memory: it goes with the call, not the transaction.
 * From the latest committed catalog (CatalogExecute): a provider disabled,
 * or a key set replaced, after a REPEATABLE READ transaction began is in
 * force in it.
 */
static void
LoadProvider(const char *issuer, Provider *p)
{
	static SPIPlanPtr provider_plan = NULL;
	static SPIPlanPtr keys_plan = NULL;
	static const Oid key_argtypes[1] = {UUIDOID};
	MemoryContext cxt = CurrentMemoryContext;
	CatalogAccess access;
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];

	memset(p, 0, sizeof(*p));
	args[0] = CStringGetTextDatum(issuer);
	BeginCatalogAccess(&access);
	if (CatalogExecute(&provider_plan,
					   "SELECT p.id, p.enabled, p.audience, p.groups_claim, p.name,"
					   "       p.provision_org, p.provision_org_role"
					   "  FROM zenml_rbac.identity_provider p WHERE p.issuer = $1",
					   1, argtypes, args, NULL) == 1)
	{
		bool		isnull;
		Datum		id = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		Datum		org;

		p->found = true;
		memcpy(p->id.data, DatumGetUUIDP(id)->data, UUID_LEN);
		p->enabled = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
		p->audience = CopyColumn(cxt, 0, 3);
		p->groups_claim = CopyColumn(cxt, 0, 4);
		p->name = CopyColumn(cxt, 0, 5);
		org = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 6, &isnull);
		p->provisions = !isnull;
		if (!isnull)
			memcpy(p->provision_org.data, DatumGetUUIDP(org)->data, UUID_LEN);
		p->provision_org_role = CopyColumn(cxt, 0, 7);

		args[0] = id;
		CatalogExecute(&keys_plan,
					   "SELECT k->>'kid', k->>'kty', k->>'alg', k->>'crv', k->>'n',"
					   "       k->>'e', k->>'x', k->>'y', k->>'k'"
					   "  FROM zenml_rbac.identity_provider p,"
					   "       jsonb_array_elements(p.keys->'keys') k WHERE p.id = $1",
					   1, key_argtypes, args, NULL);
		p->nkeys = (int) SPI_processed;
		p->keys = MemoryContextAllocZero(cxt, sizeof(JwkFields) * Max(p->nkeys, 1));
		for (int i = 0; i < p->nkeys; i++)
		{
			JwkFields  *k = &p->keys[i];

			k->kid = CopyColumn(cxt, i, 1);
			k->kty = CopyColumn(cxt, i, 2);
			k->alg = CopyColumn(cxt, i, 3);
			k->crv = CopyColumn(cxt, i, 4);
			k->n = CopyColumn(cxt, i, 5);
			k->e = CopyColumn(cxt, i, 6);
			k->x = CopyColumn(cxt, i, 7);
			k->y = CopyColumn(cxt, i, 8);
			k->k = CopyColumn(cxt, i, 9);
		}
	}
	EndCatalogAccess(&access);
}

/* The principal linked to (issuer, subject), from the latest committed catalog. */
static bool
LinkedPrincipal(const char *issuer, const char *subject, pg_uuid_t *out)
{
	static SPIPlanPtr plan = NULL;
	static const Oid argtypes[2] = {TEXTOID, TEXTOID};
	CatalogAccess access;
	Datum		args[2];
	bool		found = false;

	args[0] = CStringGetTextDatum(issuer);
	args[1] = CStringGetTextDatum(subject);
	BeginCatalogAccess(&access);
	if (CatalogExecute(&plan,
					   "SELECT x.principal_id FROM zenml_rbac.external_identity x"
					   " WHERE x.issuer = $1 AND x.subject = $2",
					   2, argtypes, args, NULL) == 1)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
		{
			memcpy(out->data, DatumGetUUIDP(d)->data, UUID_LEN);
			found = true;
		}
	}
	EndCatalogAccess(&access);
	return found;
}

static const JwkFields *
ChooseKey(const Provider *p, const char *kid)
{
	if (kid == NULL)
		return p->nkeys == 1 ? &p->keys[0] : NULL;
	for (int i = 0; i < p->nkeys; i++)
	{
		if (p->keys[i].kid != NULL && strcmp(p->keys[i].kid, kid) == 0)
			return &p->keys[i];
	}
	return NULL;
}

/* ------------------------------------------------------------------------
 * SQL-callable
 * ------------------------------------------------------------------------
 */

PG_FUNCTION_INFO_V1(jwt_verify);

/*
 * _jwt_verify(token text) -> (provider uuid, issuer text, subject text,
 * groups text[], principal uuid, provider_name text, provision_org uuid,
 * provision_org_role text): the token's identity once everything checks
 * out; groups is NULL when the provider's groups claim is absent, principal
 * NULL when (issuer, subject) is linked to none.  Everything read from the
 * latest committed catalog, and times compared with the clock now.
 */
Datum
jwt_verify(PG_FUNCTION_ARGS)
{
	text	   *token_text;
	char	   *token;
	size_t		len;
	TokenParts	t;
	const char *why;
	Provider	p;
	const JwkFields *key;
	const char *key_alg;
	double		now_secs;
	double		leeway = jwt_leeway;
	bool		audience_ok = false;
	TupleDesc	tupdesc;
	Datum		values[8];
	bool		nulls[8] = {false, false, false, false, false, false, false, false};
	pg_uuid_t	linked;

	if (PG_ARGISNULL(0))
		Refuse("no token", NULL);
	token_text = PG_GETARG_TEXT_PP(0);
	len = VARSIZE_ANY_EXHDR(token_text);
	if (len > TOKEN_MAX_BYTES)
		Refuse("too long", NULL);
	token = text_to_cstring(token_text);
	CatalogEnsureFresh();

	why = TokenParse(token, len, NULL, &t);
	if (why != NULL)
		Refuse(why, &t);
	if (t.iss == NULL)
		Refuse("no iss", &t);

	LoadProvider(t.iss, &p);
	if (!p.found)
		Refuse("unknown issuer", &t);
	if (!p.enabled)
		Refuse("provider disabled", &t);

	key = ChooseKey(&p, t.kid);
	if (key == NULL)
		Refuse(t.kid ? "unknown kid" : "no kid and several keys", &t);
	key_alg = AlgorithmOfKey(key);
	if (key_alg == NULL || strcmp(t.alg, key_alg) != 0 ||
		(key->alg != NULL && strcmp(key->alg, key_alg) != 0))
		Refuse("alg is not the key's", &t);
	why = CheckSignature(key, &t);
	if (why != NULL)
		Refuse(why, &t);

	/* signed by the provider: now its claims count */
	if (p.groups_claim != NULL)
	{
		why = TokenParse(token, len, p.groups_claim, &t);
		if (why != NULL)
			Refuse(why, &t);
	}
	now_secs = (double) (GetCurrentTimestamp() / USECS_PER_SEC) +
		(double) ((POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY);
	if (!t.has_exp)
		Refuse("no exp", &t);
	if (now_secs >= t.exp + leeway)
		Refuse("expired", &t);
	if (t.has_nbf && t.nbf > now_secs + leeway)
		Refuse("not yet valid", &t);
	if (t.has_iat && t.iat > now_secs + leeway)
		Refuse("issued in the future", &t);
	for (int i = 0; i < t.naud; i++)
		audience_ok |= strcmp(t.aud[i], p.audience) == 0;
	if (!audience_ok)
		Refuse("wrong audience", &t);
	if (t.sub == NULL || t.sub[0] == '\0')
		Refuse("no sub", &t);

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	values[0] = UUIDPGetDatum(&p.id);
	values[1] = CStringGetTextDatum(t.iss);
	values[2] = CStringGetTextDatum(t.sub);
	if (t.has_groups)
	{
		Datum	   *items = palloc(sizeof(Datum) * Max(t.ngroups, 1));

		for (int i = 0; i < t.ngroups; i++)
			items[i] = CStringGetTextDatum(t.groups[i]);
		values[3] = PointerGetDatum(construct_array(items, t.ngroups, TEXTOID, -1, false, TYPALIGN_INT));
	}
	else
		nulls[3] = true;
	if (LinkedPrincipal(t.iss, t.sub, &linked))
		values[4] = UUIDPGetDatum(&linked);
	else
		nulls[4] = true;
	values[5] = CStringGetTextDatum(p.name);
	if (p.provisions)
		values[6] = UUIDPGetDatum(&p.provision_org);
	else
		nulls[6] = true;
	if (p.provision_org_role != NULL)
		values[7] = CStringGetTextDatum(p.provision_org_role);
	else
		nulls[7] = true;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

PG_FUNCTION_INFO_V1(jwk_check);

/*
 * _jwk_check(kid, kty, alg, crv, n, e, x, y, k): 22023 naming what is wrong
 * with one key of a JWKS being registered.
 */
Datum
jwk_check(PG_FUNCTION_ARGS)
{
	JwkFields	key = {0};
	char	  **fields[] = {&key.kid, &key.kty, &key.alg, &key.crv, &key.n, &key.e, &key.x, &key.y, &key.k};
	const char *expected;
	const char *why = NULL;

	for (int i = 0; i < (int) lengthof(fields); i++)
		*fields[i] = PG_ARGISNULL(i) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(i));
	expected = AlgorithmOfKey(&key);
	if (expected == NULL)
		why = "kty must be RSA, EC or oct";
	else if (key.alg != NULL && strcmp(key.alg, expected) != 0)
		why = psprintf("a key of type %s is used only with %s", key.kty, expected);
	else if (strcmp(key.kty, "oct") == 0)
	{
		size_t		len;
		unsigned char *secret = OctSecret(&key, &len);

		if (secret == NULL)
			why = "an oct key needs a secret \"k\" of " CppAsString2(HMAC_MIN_BYTES) " bytes or more in base64url";
		else
			ForgetSecret(secret, len);
	}
	else
	{
		EVP_PKEY   *pkey = PublicKey(&key, &why);

		EVP_PKEY_free(pkey);
	}
	if (why != NULL)
	{
		ERR_clear_error();
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid key%s%s%s: %s", key.kid ? " \"" : "",
						key.kid ? key.kid : "", key.kid ? "\"" : "", why)));
	}
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(refuse_token);
PG_FUNCTION_INFO_V1(jwt_refuse);

/*
 * _refuse_token(reason, issuer, subject): the refusal of a verified token
 * whose identity cannot act (unlinked, deactivated), logged like the rest.
 */
Datum
refuse_token(PG_FUNCTION_ARGS)
{
	TokenParts	t;

	memset(&t, 0, sizeof(t));
	t.iss = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	t.sub = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));
	Refuse(PG_ARGISNULL(0) ? "refused" : text_to_cstring(PG_GETARG_TEXT_PP(0)), &t);
}

/* The name 0.2.0's install script binds _refuse_token to. */
Datum
jwt_refuse(PG_FUNCTION_ARGS)
{
	return refuse_token(fcinfo);
}
