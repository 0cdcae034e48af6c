/*
 * compat.h
 *     What differs between the PostgreSQL majors zenml_rbac builds against
 *     (15 through 18), in one place.  Include after postgres.h / postgres_fe.h
 *     (and after common/jsonapi.h for the JSON part).
 */
#ifndef ZENML_RBAC_COMPAT_H
#define ZENML_RBAC_COMPAT_H

/*
 * 17 moved PGPROC's local transaction id into PGPROC.vxid (with the backend's
 * proc number).  Use only where storage/proc.h is included.
 */
#if PG_VERSION_NUM >= 170000
#define RbacMyLocalXid()	(MyProc->vxid.lxid)
#else
#define RbacMyLocalXid()	(MyProc->lxid)
#endif

/* 18 dropped ExecutorRun's execute_once argument. */
#if PG_VERSION_NUM >= 180000
#define RBAC_EXECUTOR_RUN_PARAMS	QueryDesc *queryDesc, ScanDirection direction, uint64 count
#define RBAC_EXECUTOR_RUN_ARGS		queryDesc, direction, count
#else
#define RBAC_EXECUTOR_RUN_PARAMS	QueryDesc *queryDesc, ScanDirection direction, uint64 count, \
									bool execute_once
#define RBAC_EXECUTOR_RUN_ARGS		queryDesc, direction, count, execute_once
#endif

/*
 * 18 replaced pg_attribute_noreturn() (after the declarator) by pg_noreturn
 * (a function specifier, before the return type).  Write pg_noreturn first.
 */
#ifndef pg_noreturn
#define pg_noreturn pg_attribute_noreturn()
#endif

/* 18 added whether to log a failure to get the lock. */
#if PG_VERSION_NUM >= 180000
#define RbacConditionalXactLockTableWait(xid) ConditionalXactLockTableWait(xid, false)
#else
#define RbacConditionalXactLockTableWait(xid) ConditionalXactLockTableWait(xid)
#endif

/*
 * 16 replaced make_restrictinfo's outerjoin_delayed and nullable_relids by
 * has_clone, is_clone and incompatible_relids.  A restriction of one table,
 * pushed down, at the given security level.
 */
#if PG_VERSION_NUM >= 160000
#define RbacMakeRestrictInfo(root, clause, level, relids) \
	make_restrictinfo((root), (clause), true, false, false, false, (level), (relids), NULL, NULL)
#else
#define RbacMakeRestrictInfo(root, clause, level, relids) \
	make_restrictinfo((root), (clause), true, false, false, (level), (relids), NULL, NULL)
#endif

/* 18 counts the disabled nodes of a path (enable_* = off) before its cost. */
#if PG_VERSION_NUM >= 180000
#define RbacAddDisabledNodes(path, child) ((path)->disabled_nodes += (child)->disabled_nodes)
#else
#define RbacAddDisabledNodes(path, child) ((void) 0)
#endif

/* Whether an enable_* = off setting disabled the path (18: counted; before: priced). */
#if PG_VERSION_NUM >= 180000
#define RbacPathDisabled(path) ((path)->disabled_nodes > 0)
#else
#define RbacPathDisabled(path) ((path)->total_cost >= disable_cost)
#endif

#endif							/* ZENML_RBAC_COMPAT_H */

/* The JSON parser's part: active once common/jsonapi.h is included. */
#if defined(JSONAPI_H) && !defined(ZENML_RBAC_COMPAT_JSON)
#define ZENML_RBAC_COMPAT_JSON

/*
 * 16 made the JSON parser's semantic callbacks return JsonParseErrorType.
 * A callback returns JsonActionResult and ends with return JSON_ACTION_OK;
 * (an empty return before 16).
 */
#if PG_VERSION_NUM >= 160000
typedef JsonParseErrorType JsonActionResult;
#define JSON_ACTION_OK JSON_SUCCESS
#else
typedef void JsonActionResult;
#define JSON_ACTION_OK
#endif

/* 17 gave makeJsonLexContextCstringLen a first argument (NULL: allocate) and len a size_t. */
#if PG_VERSION_NUM >= 170000
#define RbacJsonLexer(json, len, enc, esc) \
	makeJsonLexContextCstringLen(NULL, (json), (len), (enc), (esc))
#else
#define RbacJsonLexer(json, len, enc, esc) \
	makeJsonLexContextCstringLen((char *) (json), (int) (len), (enc), (esc))
#endif

#endif							/* ZENML_RBAC_COMPAT_JSON */
