/*
 * vocabulary.c
 *     Names of the actions and organization roles, and their parsers.  No
 *     allocation, no PostgreSQL header: fuzzed with resource_ref.c.
 */
#include <string.h>

#include "vocabulary.h"

const char *const RbacActionNames[RBAC_NUM_ACTIONS] = {
	[RBAC_CREATE] = "create",
	[RBAC_READ] = "read",
	[RBAC_UPDATE] = "update",
	[RBAC_DELETE] = "delete",
	[RBAC_SHARE] = "share",
};

const char *const OrgRoleNames[ORG_NUM_LEVELS] = {
	[ORG_NONE] = NULL,
	[ORG_VIEWER] = "org_viewer",
	[ORG_EDITOR] = "org_editor",
	[ORG_ADMIN] = "org_admin",
};

int
ParseAction(const char *text, size_t len)
{
	for (int i = 0; i < RBAC_NUM_ACTIONS; i++)
	{
		if (strlen(RbacActionNames[i]) == len && memcmp(RbacActionNames[i], text, len) == 0)
			return i;
	}
	return -1;
}

const char *
RbacActionList(void)
{
	/* every name and its separator fit: 5 names of at most 6 letters */
	static char list[RBAC_NUM_ACTIONS * 8 + 1];

	if (list[0] == '\0')
	{
		for (int i = 0; i < RBAC_NUM_ACTIONS; i++)
		{
			if (i > 0)
				strcat(list, ", ");
			strcat(list, RbacActionNames[i]);
		}
	}
	return list;
}

OrgRoleLevel
ParseOrgRole(const char *name)
{
	for (int level = ORG_VIEWER; level < ORG_NUM_LEVELS; level++)
	{
		if (strcmp(OrgRoleNames[level], name) == 0)
			return (OrgRoleLevel) level;
	}
	return ORG_NONE;
}
