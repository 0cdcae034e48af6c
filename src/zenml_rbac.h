/*
 * zenml_rbac.h
 *     Types shared by the modules of zenml_rbac: actions as bits, the
 *     permission set of a principal in a tenant, and module entry points.
 */
#ifndef ZENML_RBAC_H
#define ZENML_RBAC_H

#include "postgres.h"
#include "utils/uuid.h"

#include "compat.h"

/* The five actions; a permission set holds one byte of these bits per type. */
typedef enum RbacAction
{
	RBAC_CREATE = 0,
	RBAC_READ,
	RBAC_UPDATE,
	RBAC_DELETE,
	RBAC_SHARE,
	RBAC_NUM_ACTIONS
} RbacAction;

#define RBAC_BIT(a)        ((uint8) (1 << (a)))
#define RBAC_ALL_ACTIONS   ((uint8) ((1 << RBAC_NUM_ACTIONS) - 1))
/* What a share may carry: create is type-level only. */
#define RBAC_SHAREABLE     (RBAC_ALL_ACTIONS & ~RBAC_BIT(RBAC_CREATE))

extern const char *const RbacActionNames[RBAC_NUM_ACTIONS];

/* Organization roles, ordered: a higher role holds everything a lower one does. */
typedef enum OrgRoleLevel
{
	ORG_NONE = 0,
	ORG_VIEWER,
	ORG_EDITOR,
	ORG_ADMIN
} OrgRoleLevel;

/* zenml_rbac.c: settings */
extern int	rbac_resource_cache_entries;
extern int	rbac_principal_cache_entries;

static inline bool
UuidEquals(const pg_uuid_t *a, const pg_uuid_t *b)
{
	return memcmp(a->data, b->data, UUID_LEN) == 0;
}

#endif							/* ZENML_RBAC_H */
