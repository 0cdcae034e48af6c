-- Service-account API keys: shown once at creation, stored as SHA-256 only,
-- optional expiry, rotation with a retention window, revocation at once.

CREATE TABLE zenml_rbac.api_key (
    id           uuid        PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    principal_id uuid        NOT NULL REFERENCES zenml_rbac.principal ON DELETE CASCADE,
    key_hash     bytea       NOT NULL UNIQUE CHECK (pg_catalog.length(key_hash) = 32),
    key_prefix   text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    expires_at   timestamptz,
    retired_at   timestamptz,
    revoked_at   timestamptz,
    last_used_at timestamptz
);
CREATE INDEX api_key_principal ON zenml_rbac.api_key (principal_id);
COMMENT ON TABLE zenml_rbac.api_key IS
    'API keys of service accounts: only the SHA-256 of a key is kept.';
COMMENT ON COLUMN zenml_rbac.api_key.key_prefix IS
    'The first characters of the key, to tell keys apart; not enough to use one.';
COMMENT ON COLUMN zenml_rbac.api_key.retired_at IS
    'Set by rotate_api_key: the old key works until then (the retention window).';
COMMENT ON COLUMN zenml_rbac.api_key.last_used_at IS
    'Last successful authenticate(), recorded when its transaction commits, at most once a minute, never on a standby.';
SELECT pg_catalog.pg_extension_config_dump('zenml_rbac.api_key', '');

CREATE FUNCTION zenml_rbac._new_api_key() RETURNS text
    LANGUAGE c VOLATILE STRICT PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'new_api_key';
COMMENT ON FUNCTION zenml_rbac._new_api_key() IS
    'Internal: a new random API key ("zrk_" and 256 bits in hex).';

-- The service account whose keys are managed, its organization locked, and
-- the caller authorized: member:update in that organization and, to issue a
-- key (create, rotate), everything the account holds -- a key hands it all
-- out.  Anything but a service account of an organization the caller
-- belongs to is "permission denied", whether it exists or not.
CREATE FUNCTION zenml_rbac._key_owner(principal uuid, what text, issuing boolean) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actor uuid := zenml_rbac._acting_principal();
    v_kind text;
    v_org uuid;
BEGIN
    PERFORM zenml_rbac._not_null('principal', principal);
    SELECT p.kind, p.org_id INTO v_kind, v_org FROM zenml_rbac.principal p WHERE p.id = principal;
    IF v_actor IS NOT NULL AND (v_kind IS DISTINCT FROM 'service_account'
                                OR NOT zenml_rbac.rbac_org_can(v_actor, v_org, 'organization', 'read')) THEN
        RAISE EXCEPTION 'permission denied for principal %', principal
            USING ERRCODE = '42501', DETAIL = 'API keys belong to service accounts of the acting principal''s organizations.';
    END IF;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no service account has id %', principal USING ERRCODE = '42704';
    END IF;
    IF v_kind <> 'service_account' THEN
        RAISE EXCEPTION '% cannot have API keys', zenml_rbac._principal_label(principal)
            USING ERRCODE = '22023', HINT = 'API keys belong to service accounts; users authenticate through PostgreSQL or set_principal().';
    END IF;
    PERFORM zenml_rbac._lock_org(v_org);
    PERFORM zenml_rbac._require_org(v_actor, v_org, 'member', 'update', what);
    IF issuing THEN
        PERFORM zenml_rbac._require_holdings(v_actor, principal, v_org, false,
                                             format('%s for %s', what, zenml_rbac._principal_label(principal)));
    END IF;
END
$$;
COMMENT ON FUNCTION zenml_rbac._key_owner(uuid, text, boolean) IS
    'Internal: checks a service account''s keys may be managed by the caller (member:update; issuing a key also needs everything the account holds).';

CREATE FUNCTION zenml_rbac._issue_api_key(principal uuid, expires_at timestamptz) RETURNS text
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_key text := zenml_rbac._new_api_key();
BEGIN
    INSERT INTO zenml_rbac.api_key (principal_id, key_hash, key_prefix, expires_at)
    VALUES (principal, sha256(convert_to(v_key, 'UTF8')), left(v_key, 12), expires_at);
    RETURN v_key;
END
$$;
COMMENT ON FUNCTION zenml_rbac._issue_api_key(uuid, timestamptz) IS
    'Internal: stores the hash of a new key and returns the key.';

CREATE FUNCTION zenml_rbac.create_api_key(principal uuid, expires_at timestamptz DEFAULT NULL) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM zenml_rbac._key_owner(principal, 'create an API key', true);
    IF expires_at <= clock_timestamp() THEN
        RAISE EXCEPTION 'expires_at must be in the future' USING ERRCODE = '22023';
    END IF;
    RETURN zenml_rbac._issue_api_key(principal, expires_at);
END
$$;
COMMENT ON FUNCTION zenml_rbac.create_api_key(uuid, timestamptz) IS
    'Creates an API key for a service account and returns it; only its hash is kept, so this is the only time it is shown. Needs member:update in the organization and everything the account holds (org_admins are exempt).';

CREATE FUNCTION zenml_rbac.rotate_api_key(principal uuid, retain interval DEFAULT '0') RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM zenml_rbac._key_owner(principal, 'rotate an API key', true);
    PERFORM zenml_rbac._not_null('retain', retain);
    IF retain < interval '0' THEN
        RAISE EXCEPTION 'retain must not be negative' USING ERRCODE = '22023';
    END IF;
    -- the clock now, not the transaction's start: a key retired "now" stops now
    UPDATE zenml_rbac.api_key k SET retired_at = clock_timestamp() + retain
     WHERE k.principal_id = principal AND k.revoked_at IS NULL
       AND (k.retired_at IS NULL OR k.retired_at > clock_timestamp() + retain);
    RETURN zenml_rbac._issue_api_key(principal, NULL);
END
$$;
COMMENT ON FUNCTION zenml_rbac.rotate_api_key(uuid, interval) IS
    'Issues a new key; the service account''s current keys keep working for the retention period (0: stop at once). Needs what create_api_key needs.';

CREATE FUNCTION zenml_rbac.revoke_api_key(principal uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM zenml_rbac._key_owner(principal, 'revoke API keys', false);
    UPDATE zenml_rbac.api_key k SET revoked_at = clock_timestamp()
     WHERE k.principal_id = principal AND k.revoked_at IS NULL;
END
$$;
COMMENT ON FUNCTION zenml_rbac.revoke_api_key(uuid) IS
    'Revokes every key of the service account, effective at once. Needs member:update.';

CREATE FUNCTION zenml_rbac._api_key_lookup(api_key text, OUT key_id uuid, OUT principal_id uuid,
                                           OUT last_used_at timestamptz)
    RETURNS SETOF record LANGUAGE c STABLE PARALLEL RESTRICTED ROWS 1
    AS 'MODULE_PATHNAME', 'api_key_lookup';
COMMENT ON FUNCTION zenml_rbac._api_key_lookup(text) IS
    'Internal: the key and service account an API key authenticates, from the latest committed catalog and the clock now; no row when it does not.';

CREATE FUNCTION zenml_rbac._note_key_use(key_id uuid) RETURNS void
    LANGUAGE c VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'note_key_use';
COMMENT ON FUNCTION zenml_rbac._note_key_use(uuid) IS
    'Internal: records the key''s last_used_at when the transaction commits, if its row is free then (never on a standby or in a READ ONLY transaction).';

CREATE FUNCTION zenml_rbac.authenticate(api_key text) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_key_id uuid;
    v_principal uuid;
    v_last_used timestamptz;
BEGIN
    IF api_key IS NOT NULL AND api_key ~ '^zrk_[0-9a-f]{64}$' THEN
        SELECT k.key_id, k.principal_id, k.last_used_at INTO v_key_id, v_principal, v_last_used
          FROM zenml_rbac._api_key_lookup(api_key) k;
    END IF;
    -- one answer for every failure: which part was wrong helps only an attacker
    IF v_key_id IS NULL THEN
        RAISE EXCEPTION 'invalid API key' USING ERRCODE = '28P01';
    END IF;
    PERFORM zenml_rbac.set_principal(v_principal);
    -- bookkeeping at commit, where writing is possible (not on a standby,
    -- not in a READ ONLY transaction): holding the key's row until then
    -- would hold up its revocation
    IF v_last_used IS NULL OR v_last_used < clock_timestamp() - interval '1 minute' THEN
        PERFORM zenml_rbac._note_key_use(v_key_id);
    END IF;
    RETURN v_principal;
END
$$;
COMMENT ON FUNCTION zenml_rbac.authenticate(text) IS
    'Acts, until the transaction ends, as the service account the API key belongs to; 28P01 for any wrong, expired, retired, revoked or malformed key.';

-- Who may call these: the key management authorizes its caller itself, and
-- possessing a valid key is the credential (authenticate), so any role may
-- call those; the rest are internal.
REVOKE ALL ON
    zenml_rbac.api_key
    FROM PUBLIC;
REVOKE ALL ON FUNCTION
    zenml_rbac._api_key_lookup(text),
    zenml_rbac._issue_api_key(uuid, timestamp with time zone),
    zenml_rbac._key_owner(uuid, text, boolean),
    zenml_rbac._new_api_key(),
    zenml_rbac._note_key_use(uuid),
    zenml_rbac.authenticate(text),
    zenml_rbac.create_api_key(uuid, timestamp with time zone),
    zenml_rbac.revoke_api_key(uuid),
    zenml_rbac.rotate_api_key(uuid, interval)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    zenml_rbac.authenticate(text),
    zenml_rbac.create_api_key(uuid, timestamp with time zone),
    zenml_rbac.revoke_api_key(uuid),
    zenml_rbac.rotate_api_key(uuid, interval)
    TO PUBLIC;
