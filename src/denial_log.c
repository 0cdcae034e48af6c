/*
 * denial_log.c
 *     zenml_rbac.log_denials: a server log line for each denied check and
 *     refused token, bounded per statement and per value.  Not the audit
 *     log (audit.c): these lines record questions, not changes.
 */
#include "postgres.h"

#include <limits.h>

#include "tcop/tcopprot.h"
#include "utils/guc.h"

#include "catalog.h"
#include "denial_log.h"
#include "log_value.h"

bool		rbac_log_denials = false;
static int	log_denials_per_statement = 100;

void
DenialLogInit(void)
{
	DefineCustomBoolVariable("zenml_rbac.log_denials",
							 "Writes a server log line for every denied check.",
							 "rbac_can(), rbac_org_can() and refused writes to protected tables; see the README's Format section.",
							 &rbac_log_denials,
							 false,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("zenml_rbac.log_denials_per_statement",
							"Denial lines one top-level statement writes at most; then one line says the rest are not logged.",
							"0 means no limit.",
							&log_denials_per_statement,
							100, 0, INT_MAX,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
}

/* Bytes of each value, and of the statement, a denial line shows at most. */
#define LOG_VALUE_MAX 256
#define LOG_STATEMENT_MAX 1024

/* One LOG line, without STATEMENT or CONTEXT: the fields say what counts, and a statement may carry a token. */
static void
EmitDenial(StringInfo buf)
{
	static uint64 statement = 0;
	static int	lines = 0;

	/*
	 * At most zenml_rbac.log_denials_per_statement lines per top-level
	 * statement (a function's or DO block's loop is inside one), then one
	 * saying the rest go unlogged: any role may ask rbac_can() millions of
	 * times in one statement.
	 */
	if (statement != CatalogStatementNumber())
	{
		statement = CatalogStatementNumber();
		lines = 0;
	}
	if (log_denials_per_statement > 0 && lines >= log_denials_per_statement)
	{
		if (lines++ == log_denials_per_statement)
			ereport(LOG,
					(errmsg("zenml_rbac: more than %d denials in this statement; the rest are not logged",
							log_denials_per_statement),
					 errhidestmt(true),
					 errhidecontext(true)));
		pfree(buf->data);
		return;
	}
	lines++;
	ereport(LOG,
			(errmsg("zenml_rbac denied: %s", buf->data),
			 errhidestmt(true),
			 errhidecontext(true)));
	pfree(buf->data);
}

/*
 * One LOG line per denial, when zenml_rbac.log_denials is on:
 *   zenml_rbac denied: check=<c> principal="<p>" tenant="<t>" resource="<r>" action="<a>" statement="<s>"
 * Values as given, quoted and escaped (AppendLogValue); "-" when absent.
 * Only denials get here: allowed checks never test the setting.
 */
void
LogDenial(const char *check, const char *principal, const char *tenant,
			   const char *resource, const char *action)
{
	StringInfoData buf;

	if (!rbac_log_denials)
		return;
	initStringInfo(&buf);
	appendStringInfo(&buf, "check=%s", check);
	AppendLogValue(&buf, "principal", principal, LOG_VALUE_MAX);
	AppendLogValue(&buf, "tenant", tenant, LOG_VALUE_MAX);
	AppendLogValue(&buf, "resource", resource, LOG_VALUE_MAX);
	AppendLogValue(&buf, "action", action, LOG_VALUE_MAX);
	AppendLogValue(&buf, "statement", debug_query_string, LOG_STATEMENT_MAX);
	EmitDenial(&buf);
}

/*
 * Never the statement: it would carry the token, a credential until it
 * expires.
 */
void
LogTokenRefusal(const char *reason, const char *issuer, const char *subject)
{
	StringInfoData buf;

	if (!rbac_log_denials)
		return;
	initStringInfo(&buf);
	appendStringInfoString(&buf, "check=jwt");
	AppendLogValue(&buf, "reason", reason, LOG_VALUE_MAX);
	AppendLogValue(&buf, "issuer", issuer, LOG_VALUE_MAX);
	AppendLogValue(&buf, "subject", subject, LOG_VALUE_MAX);
	EmitDenial(&buf);
}
