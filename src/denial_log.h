/*
 * denial_log.h
 *     Server log lines for denied checks (denial_log.c).
 */
#ifndef ZENML_RBAC_DENIAL_LOG_H
#define ZENML_RBAC_DENIAL_LOG_H

/* zenml_rbac.log_denials: read before a denial is described at all. */
extern bool rbac_log_denials;

/* Defines zenml_rbac.log_denials and zenml_rbac.log_denials_per_statement. */
extern void DenialLogInit(void);

/* A denied check; NULL for a value that is absent. */
extern void LogDenial(const char *check, const char *principal, const char *tenant,
					  const char *resource, const char *action);
/* A refused token (never the statement: it would carry the token). */
extern void LogTokenRefusal(const char *reason, const char *issuer, const char *subject);

#endif							/* ZENML_RBAC_DENIAL_LOG_H */
