/*
 * jwt.h
 *     Verification of identity providers' JSON Web Tokens.
 */
#ifndef JWT_H
#define JWT_H

/* zenml_rbac.jwt_leeway: seconds of clock skew allowed on exp, nbf, iat */
extern int	rbac_jwt_leeway;

#endif							/* JWT_H */
