-- Who is asking (src/identity.c).

CREATE FUNCTION zenml_rbac.set_principal(principal uuid) RETURNS void
    LANGUAGE c VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'set_principal';
COMMENT ON FUNCTION zenml_rbac.set_principal(uuid) IS
    'Acts as this active user or service account until the transaction ends (28000 otherwise). Granted by the DBA to the application''s pool role only.';

CREATE FUNCTION zenml_rbac.current_principal() RETURNS uuid
    LANGUAGE c STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'current_principal';
COMMENT ON FUNCTION zenml_rbac.current_principal() IS
    'The principal of this transaction: set by set_principal(), else the user linked to session_user, else NULL.';

CREATE FUNCTION zenml_rbac._acting_principal() RETURNS uuid
    LANGUAGE c VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'acting_principal';
COMMENT ON FUNCTION zenml_rbac._acting_principal() IS
    'Internal: the principal a management call is authorized as; NULL for the system (superuser or extension owner without a principal); 42501 for anyone else.';

CREATE FUNCTION zenml_rbac._refresh_after_lock() RETURNS void
    LANGUAGE c VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'refresh_after_lock';
COMMENT ON FUNCTION zenml_rbac._refresh_after_lock() IS
    'Internal: after a management call got its organization''s lock, decide from what is committed now (a permission revoked while it waited is not used).';

CREATE FUNCTION zenml_rbac._principal_active(principal uuid) RETURNS boolean
    LANGUAGE c STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'principal_active';
COMMENT ON FUNCTION zenml_rbac._principal_active(uuid) IS
    'Internal: is it an existing, active user or service account, in the latest committed catalog?';

-- Who may call these: any role may ask who it acts for; the rest are
-- internal.  set_principal is deliberately not granted: the DBA grants it to the application's pool role, e.g.
--   GRANT EXECUTE ON FUNCTION zenml_rbac.set_principal(uuid) TO app_pool;
REVOKE ALL ON FUNCTION
    zenml_rbac._acting_principal(),
    zenml_rbac._principal_active(uuid),
    zenml_rbac._refresh_after_lock(),
    zenml_rbac.current_principal(),
    zenml_rbac.set_principal(uuid)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    zenml_rbac.current_principal()
    TO PUBLIC;
