/*
 * jwt.h
 *     Verification of identity providers' JSON Web Tokens.
 */
#ifndef JWT_H
#define JWT_H

/* Defines zenml_rbac.jwt_leeway: seconds of clock skew allowed on exp, nbf, iat. */
extern void JwtInit(void);

#endif							/* JWT_H */
