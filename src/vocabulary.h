/*
 * vocabulary.h
 *     The words every module shares, each defined once: the five actions,
 *     the organization roles, the limit on role chains.  Plain C with no
 *     PostgreSQL header, so the parsers built on it are fuzzed as they are.
 */
#ifndef ZENML_RBAC_VOCABULARY_H
#define ZENML_RBAC_VOCABULARY_H

#include <stddef.h>

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

#define RBAC_BIT(a)        ((unsigned char) (1 << (a)))
#define RBAC_ALL_ACTIONS   ((unsigned char) ((1 << RBAC_NUM_ACTIONS) - 1))
/* What a share may carry: create is type-level only. */
#define RBAC_SHAREABLE     (RBAC_ALL_ACTIONS & ~RBAC_BIT(RBAC_CREATE))

/* Indexed by RbacAction: the names the SQL API and the catalog use. */
extern const char *const RbacActionNames[RBAC_NUM_ACTIONS];

/* Index of the action named text[0..len), or -1. */
extern int	ParseAction(const char *text, size_t len);

/* "create, read, update, delete, share": for hints. */
extern const char *RbacActionList(void);

/* Organization roles, ordered: a higher role holds everything a lower one does. */
typedef enum OrgRoleLevel
{
	ORG_NONE = 0,
	ORG_VIEWER,
	ORG_EDITOR,
	ORG_ADMIN,
	ORG_NUM_LEVELS
} OrgRoleLevel;

/* Indexed by OrgRoleLevel ("org_viewer" ...); NULL for ORG_NONE. */
extern const char *const OrgRoleNames[ORG_NUM_LEVELS];

/* The level of an organization role's name, ORG_NONE for any other text. */
extern OrgRoleLevel ParseOrgRole(const char *name);

/*
 * A custom role builds on at most MAX_ROLE_CHAIN roles (its base, the
 * base's base, ... down to a predefined role): the role trigger refuses
 * longer chains (src/sql/custom_roles.sql, which cannot include this file,
 * says 32 too).  The engine computes chains twice as long, so rows a
 * superuser inserted past the trigger still resolve; a role whose chain is
 * longer still grants nothing.
 */
#define MAX_ROLE_CHAIN 32
#define MAX_ROLE_CHAIN_COMPUTED 64	/* 2 * MAX_ROLE_CHAIN, as a literal for SQL text */

#endif							/* ZENML_RBAC_VOCABULARY_H */
