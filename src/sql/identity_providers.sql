-- Identity providers (OIDC): tokens verified in C (src/jwt.c) against each
-- provider's JWKS, external identities linked to principals, just-in-time
-- users, and team membership that follows the token's groups.  Added in
-- 0.2.0; this file is also part of the 0.1.0 -> 0.2.0 upgrade, so it grants
-- and audits its own objects.

CREATE TABLE zenml_rbac.identity_provider (
    id                 uuid        PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    name               text        NOT NULL UNIQUE,
    issuer             text        NOT NULL UNIQUE,
    audience           text        NOT NULL,
    keys               jsonb       NOT NULL,
    enabled            boolean     NOT NULL DEFAULT true,
    groups_claim       text        NOT NULL DEFAULT 'groups'
        CHECK (groups_claim NOT IN ('iss', 'sub', 'aud', 'exp', 'nbf', 'iat')),
    provision_org      uuid        REFERENCES zenml_rbac.organization ON DELETE SET NULL,
    provision_org_role text        CHECK (provision_org_role IN ('org_admin', 'org_editor', 'org_viewer')),
    created_at         timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT provisioning_has_role CHECK ((provision_org IS NULL) OR (provision_org_role IS NOT NULL))
);
COMMENT ON TABLE zenml_rbac.identity_provider IS
    'OIDC identity providers whose tokens authenticate_jwt() accepts: issuer, audience, JWKS public keys (or HS256 secrets), groups claim, just-in-time provisioning. Readable by no application role.';
COMMENT ON COLUMN zenml_rbac.identity_provider.keys IS
    'JWKS document {"keys": [...]}: RSA (RS256), EC P-256 (ES256) or oct (HS256) keys, chosen by kid. Never in the audit log.';
COMMENT ON COLUMN zenml_rbac.identity_provider.provision_org IS
    'When set, an unknown (iss, sub) becomes a new user, member of this organization with provision_org_role.';

CREATE TABLE zenml_rbac.external_identity (
    issuer       text NOT NULL,
    subject      text NOT NULL,
    principal_id uuid NOT NULL REFERENCES zenml_rbac.principal ON DELETE CASCADE,
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX external_identity_principal ON zenml_rbac.external_identity (principal_id);
COMMENT ON TABLE zenml_rbac.external_identity IS
    'Which principal a token''s (iss, sub) authenticates as.';

CREATE TABLE zenml_rbac.group_team_map (
    provider_id uuid NOT NULL REFERENCES zenml_rbac.identity_provider ON DELETE CASCADE,
    grp         text NOT NULL,
    team_id     uuid NOT NULL REFERENCES zenml_rbac.principal ON DELETE CASCADE,
    PRIMARY KEY (provider_id, grp, team_id)
);
CREATE INDEX group_team_map_team ON zenml_rbac.group_team_map (team_id);
COMMENT ON TABLE zenml_rbac.group_team_map IS
    'A provider''s group whose members belong to a team: at every authenticate_jwt() the team''s membership follows the token''s groups claim.';

SELECT pg_catalog.pg_extension_config_dump('zenml_rbac.identity_provider', '');
SELECT pg_catalog.pg_extension_config_dump('zenml_rbac.external_identity', '');
SELECT pg_catalog.pg_extension_config_dump('zenml_rbac.group_team_map', '');

CREATE FUNCTION zenml_rbac._jwt_verify(token text, OUT provider uuid, OUT issuer text,
                                       OUT subject text, OUT groups text[], OUT principal uuid,
                                       OUT provider_name text, OUT provision_org uuid,
                                       OUT provision_org_role text)
    LANGUAGE c VOLATILE PARALLEL UNSAFE AS 'MODULE_PATHNAME', 'jwt_verify';
COMMENT ON FUNCTION zenml_rbac._jwt_verify(text) IS
    'Internal: the verified identity a token carries with its linked principal and its provider''s provisioning, all from the latest committed catalog; or 28000 "invalid token" (the reason goes to the log with zenml_rbac.log_denials).';

CREATE FUNCTION zenml_rbac._refuse_token(reason text, issuer text, subject text) RETURNS void
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'refuse_token';
COMMENT ON FUNCTION zenml_rbac._refuse_token(text, text, text) IS
    'Internal: 28000 "invalid token" for a verified token whose identity cannot act, logged with zenml_rbac.log_denials.';

CREATE FUNCTION zenml_rbac._jwk_check(kid text, kty text, alg text, crv text, n text, e text,
                                      x text, y text, k text) RETURNS void
    LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'jwk_check';
COMMENT ON FUNCTION zenml_rbac._jwk_check(text, text, text, text, text, text, text, text, text) IS
    'Internal: 22023 naming what is wrong with one key of a JWKS (type, size, curve, encoding).';

-- A JWKS as we keep it: public keys (and HS256 secrets) only, each usable.
CREATE FUNCTION zenml_rbac._check_jwks(keys jsonb) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    k jsonb;
    n int;
BEGIN
    PERFORM zenml_rbac._not_null('keys', keys);
    IF jsonb_typeof(keys) <> 'object' OR jsonb_typeof(keys->'keys') IS DISTINCT FROM 'array' THEN
        RAISE EXCEPTION 'keys must be a JWKS document' USING ERRCODE = '22023',
            HINT = 'Write it as {"keys": [{"kty": ..., "kid": ..., ...}]}.';
    END IF;
    n := jsonb_array_length(keys->'keys');
    IF n = 0 THEN
        RAISE EXCEPTION 'keys holds no key' USING ERRCODE = '22023';
    END IF;
    FOR k IN SELECT * FROM jsonb_array_elements(keys->'keys') LOOP
        IF jsonb_typeof(k) <> 'object' THEN
            RAISE EXCEPTION 'every key must be a JSON object' USING ERRCODE = '22023';
        END IF;
        IF k ?| ARRAY['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth'] THEN
            RAISE EXCEPTION 'key "%" holds private key material', left(k->>'kid', 64) USING ERRCODE = '22023',
                HINT = 'Register the provider''s public keys only.';
        END IF;
        IF n > 1 AND (k->>'kid') IS NULL THEN
            RAISE EXCEPTION 'with several keys every key needs a "kid"' USING ERRCODE = '22023';
        END IF;
        IF k ? 'use' AND k->>'use' <> 'sig' THEN
            RAISE EXCEPTION 'key "%" is not for signatures', left(k->>'kid', 64) USING ERRCODE = '22023';
        END IF;
        PERFORM zenml_rbac._jwk_check(k->>'kid', k->>'kty', k->>'alg', k->>'crv', k->>'n',
                                      k->>'e', k->>'x', k->>'y', k->>'k');
    END LOOP;
    IF (SELECT count(DISTINCT j->>'kid') FROM jsonb_array_elements(keys->'keys') j) < n AND n > 1 THEN
        RAISE EXCEPTION 'two keys have the same "kid"' USING ERRCODE = '22023';
    END IF;
END
$$;
COMMENT ON FUNCTION zenml_rbac._check_jwks(jsonb) IS 'Internal: validates a JWKS document (22004, 22023).';

CREATE FUNCTION zenml_rbac._provider(name text) RETURNS uuid
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_id uuid;
BEGIN
    PERFORM zenml_rbac._not_null('identity provider', name);
    SELECT p.id INTO v_id FROM zenml_rbac.identity_provider p WHERE p.name = _provider.name;
    IF v_id IS NULL THEN
        RAISE EXCEPTION 'identity provider "%" does not exist', left(name, 64) USING ERRCODE = '42704';
    END IF;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION zenml_rbac._provider(text) IS 'Internal: a provider''s id by name (42704).';

-- Users created before the provider was registered may already hold names
-- its just-in-time logins would give ("<provider>:<subject>"); such a
-- subject's first login is refused rather than handed that user.
CREATE FUNCTION zenml_rbac._warn_taken_names(provider text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_taken bigint;
BEGIN
    SELECT count(*) INTO v_taken FROM zenml_rbac.principal p
     WHERE p.kind = 'user' AND starts_with(p.name, provider || ':')
       AND NOT EXISTS (SELECT FROM zenml_rbac.external_identity x WHERE x.principal_id = p.id);
    IF v_taken > 0 THEN
        RAISE WARNING '% unlinked users already have names beginning with "%:"', v_taken, provider
            USING DETAIL = 'A just-in-time login whose name is taken is refused; it never becomes that user.',
                  HINT = 'Rename or link them (zenml_rbac.link_external_identity) before turning provisioning on.';
    END IF;
END
$$;
COMMENT ON FUNCTION zenml_rbac._warn_taken_names(text) IS
    'Internal: warns about unlinked users whose names a provider''s just-in-time logins would give.';

CREATE FUNCTION zenml_rbac.register_identity_provider(name text, issuer text, audience text, keys jsonb)
    RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_id uuid;
BEGIN
    PERFORM zenml_rbac._require_system('register identity providers');
    PERFORM zenml_rbac._check_name('identity provider', name);
    PERFORM zenml_rbac._not_null('issuer', issuer);
    PERFORM zenml_rbac._not_null('audience', audience);
    IF issuer = '' OR audience = '' OR length(issuer) > 1024 OR length(audience) > 1024 THEN
        RAISE EXCEPTION 'issuer and audience must have 1 to 1024 characters' USING ERRCODE = '22023';
    END IF;
    PERFORM zenml_rbac._check_jwks(keys);
    IF EXISTS (SELECT FROM zenml_rbac.identity_provider p
                WHERE p.name = register_identity_provider.name OR p.issuer = register_identity_provider.issuer) THEN
        RAISE EXCEPTION 'an identity provider with this name or issuer already exists' USING ERRCODE = '42710';
    END IF;
    INSERT INTO zenml_rbac.identity_provider (name, issuer, audience, keys)
    VALUES (name, issuer, audience, keys) RETURNING id INTO v_id;
    PERFORM zenml_rbac._warn_taken_names(name);
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION zenml_rbac.register_identity_provider(text, text, text, jsonb) IS
    'Registers an OIDC provider: its issuer (the iss of its tokens), the audience tokens must name, and its JWKS. System only.';

CREATE FUNCTION zenml_rbac.set_identity_provider_keys(name text, keys jsonb) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_id uuid;
BEGIN
    PERFORM zenml_rbac._require_system('change identity provider keys');
    v_id := zenml_rbac._provider(name);
    PERFORM zenml_rbac._check_jwks(keys);
    UPDATE zenml_rbac.identity_provider p SET keys = set_identity_provider_keys.keys WHERE p.id = v_id;
END
$$;
COMMENT ON FUNCTION zenml_rbac.set_identity_provider_keys(text, jsonb) IS
    'Rotation: replaces the provider''s key set; tokens signed by a key no longer in it are refused from the next statement. System only.';

CREATE FUNCTION zenml_rbac.disable_identity_provider(name text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_id uuid;
BEGIN
    PERFORM zenml_rbac._require_system('disable identity providers');
    v_id := zenml_rbac._provider(name);
    UPDATE zenml_rbac.identity_provider p SET enabled = false WHERE p.id = v_id AND p.enabled;
END
$$;
COMMENT ON FUNCTION zenml_rbac.disable_identity_provider(text) IS
    'Refuses every token of the provider until enable_identity_provider(). System only.';

CREATE FUNCTION zenml_rbac.enable_identity_provider(name text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_id uuid;
BEGIN
    PERFORM zenml_rbac._require_system('enable identity providers');
    v_id := zenml_rbac._provider(name);
    UPDATE zenml_rbac.identity_provider p SET enabled = true WHERE p.id = v_id AND NOT p.enabled;
END
$$;
COMMENT ON FUNCTION zenml_rbac.enable_identity_provider(text) IS
    'Accepts the provider''s tokens again. System only.';

CREATE FUNCTION zenml_rbac.set_identity_provider_groups_claim(provider text, claim text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_id uuid;
BEGIN
    PERFORM zenml_rbac._require_system('configure identity providers');
    v_id := zenml_rbac._provider(provider);
    PERFORM zenml_rbac._not_null('claim', claim);
    IF claim = '' OR claim IN ('iss', 'sub', 'aud', 'exp', 'nbf', 'iat') THEN
        RAISE EXCEPTION 'invalid groups claim "%"', left(claim, 64) USING ERRCODE = '22023';
    END IF;
    UPDATE zenml_rbac.identity_provider p SET groups_claim = claim WHERE p.id = v_id;
END
$$;
COMMENT ON FUNCTION zenml_rbac.set_identity_provider_groups_claim(text, text) IS
    'The token claim (an array of strings) that map_group_to_team() groups are read from; default "groups". System only.';

CREATE FUNCTION zenml_rbac.set_identity_provider_provisioning(provider text, org uuid, org_role text)
    RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_id uuid;
BEGIN
    PERFORM zenml_rbac._require_system('configure identity providers');
    v_id := zenml_rbac._provider(provider);
    IF org IS NOT NULL THEN
        IF NOT EXISTS (SELECT FROM zenml_rbac.organization o WHERE o.id = org) THEN
            RAISE EXCEPTION 'organization % does not exist', org USING ERRCODE = '42704';
        END IF;
        IF org_role IS NULL OR org_role NOT IN ('org_admin', 'org_editor', 'org_viewer') THEN
            RAISE EXCEPTION 'unknown organization role "%"', left(org_role, 64) USING ERRCODE = '22023',
                HINT = 'Valid roles are: org_admin, org_editor, org_viewer.';
        END IF;
    END IF;
    UPDATE zenml_rbac.identity_provider p
       SET provision_org = org, provision_org_role = CASE WHEN org IS NULL THEN NULL ELSE org_role END
     WHERE p.id = v_id;
    IF org IS NOT NULL THEN
        PERFORM zenml_rbac._warn_taken_names(provider);
    END IF;
END
$$;
COMMENT ON FUNCTION zenml_rbac.set_identity_provider_provisioning(text, uuid, text) IS
    'Just-in-time users: an unknown (iss, sub) with a valid token becomes user "<provider>:<sub>", member of org with org_role. NULL org turns it off. System only.';

CREATE FUNCTION zenml_rbac.link_external_identity(principal uuid, issuer text, subject text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM zenml_rbac._require_system('link external identities');
    PERFORM zenml_rbac._not_null('principal', principal);
    PERFORM zenml_rbac._not_null('issuer', issuer);
    PERFORM zenml_rbac._not_null('subject', subject);
    IF NOT EXISTS (SELECT FROM zenml_rbac.principal p WHERE p.id = principal AND p.kind <> 'team') THEN
        RAISE EXCEPTION 'no user or service account has id %', principal USING ERRCODE = '22023';
    END IF;
    -- OIDC subjects have at most 255 characters
    IF issuer = '' OR length(issuer) > 1024 OR subject = '' OR length(subject) > 255 THEN
        RAISE EXCEPTION 'issuer must have 1 to 1024 characters and subject 1 to 255' USING ERRCODE = '22023';
    END IF;
    INSERT INTO zenml_rbac.external_identity AS x (issuer, subject, principal_id)
    VALUES (issuer, subject, principal)
    ON CONFLICT ON CONSTRAINT external_identity_pkey DO UPDATE SET principal_id = EXCLUDED.principal_id
     WHERE x.principal_id IS DISTINCT FROM EXCLUDED.principal_id;
END
$$;
COMMENT ON FUNCTION zenml_rbac.link_external_identity(uuid, text, text) IS
    'Tokens with this (iss, sub) authenticate as the principal (a user or service account); relinking moves the identity. System only.';

CREATE FUNCTION zenml_rbac.map_group_to_team(provider text, grp text, team uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_id uuid;
BEGIN
    PERFORM zenml_rbac._require_system('map groups to teams');
    v_id := zenml_rbac._provider(provider);
    PERFORM zenml_rbac._not_null('group', grp);
    PERFORM zenml_rbac._team_org(team);
    INSERT INTO zenml_rbac.group_team_map (provider_id, grp, team_id) VALUES (v_id, grp, team)
    ON CONFLICT DO NOTHING;
END
$$;
COMMENT ON FUNCTION zenml_rbac.map_group_to_team(text, text, uuid) IS
    'Members of the provider''s group belong to the team: at each authenticate_jwt() the team membership follows the token''s groups. System only.';

CREATE FUNCTION zenml_rbac.unmap_group_from_team(provider text, grp text, team uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_id uuid;
BEGIN
    PERFORM zenml_rbac._require_system('map groups to teams');
    v_id := zenml_rbac._provider(provider);
    DELETE FROM zenml_rbac.group_team_map m WHERE m.provider_id = v_id AND m.grp = unmap_group_from_team.grp
       AND m.team_id = team;
END
$$;
COMMENT ON FUNCTION zenml_rbac.unmap_group_from_team(text, text, uuid) IS
    'Ends a group-to-team mapping; current members stay. System only.';

-- Team membership of the mapped teams follows the token's groups.
-- Team membership of the mapped teams follows the token's groups.  A
-- mapping that hands out a team is locked before it is used: one removed
-- after a REPEATABLE READ transaction began fails the login (40001), never
-- adds the member.
CREATE FUNCTION zenml_rbac._sync_groups(provider uuid, principal uuid, groups text[]) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    m record;
BEGIN
    FOR m IN SELECT DISTINCT g.team_id, t.org_id,
                    bool_or(g.grp = ANY (coalesce(groups, '{}'))) OVER (PARTITION BY g.team_id) AS wanted,
                    EXISTS (SELECT FROM zenml_rbac.team_member tm
                             WHERE tm.team_id = g.team_id AND tm.member_id = principal) AS member
               FROM zenml_rbac.group_team_map g JOIN zenml_rbac.principal t ON t.id = g.team_id
              WHERE g.provider_id = provider
    LOOP
        IF m.wanted AND NOT m.member THEN
            -- only members of the team's organization may join its teams;
            -- what the addition rests on is then locked (a separate
            -- statement: a READ ONLY login with nothing to add takes no lock)
            IF EXISTS (SELECT FROM zenml_rbac.org_role_assignment a
                        WHERE a.org_id = m.org_id AND a.principal_id = principal) THEN
                IF EXISTS (SELECT FROM zenml_rbac.group_team_map g
                            WHERE g.provider_id = provider AND g.team_id = m.team_id
                              AND g.grp = ANY (coalesce(groups, '{}'))
                            FOR KEY SHARE)
                   AND EXISTS (SELECT FROM zenml_rbac.org_role_assignment a
                                WHERE a.org_id = m.org_id AND a.principal_id = principal
                                FOR KEY SHARE) THEN
                    INSERT INTO zenml_rbac.team_member (team_id, member_id) VALUES (m.team_id, principal)
                    ON CONFLICT DO NOTHING;
                END IF;
            END IF;
        ELSIF m.member AND NOT m.wanted THEN
            PERFORM zenml_rbac._leave_team(m.team_id, principal);
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION zenml_rbac._sync_groups(uuid, uuid, text[]) IS
    'Internal: adds and removes team memberships of the provider''s mapped teams to match the token''s groups.';

-- Everything a login decides on -- the provider, its keys, the link, the
-- provisioning -- comes from the latest committed catalog (_jwt_verify), so
-- a provider disabled or a key set replaced after a REPEATABLE READ
-- transaction began is in force in it.
CREATE FUNCTION zenml_rbac.authenticate_jwt(token text) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v record;
    v_principal uuid;
    v_name text;
BEGIN
    v := zenml_rbac._jwt_verify(token);
    v_principal := v.principal;
    IF v_principal IS NULL AND v.provision_org IS NOT NULL THEN
        v_name := v.provider_name || ':' || v.subject;
        IF v_name ~ '[/[:cntrl:]]' OR length(v_name) > 255 OR v_name <> btrim(v_name) THEN
            PERFORM zenml_rbac._refuse_token('subject cannot be a user name', v.issuer, v.subject);
        END IF;
        -- a first login of the same subject in another session may be
        -- creating the user too: whoever loses uses the winner's link
        INSERT INTO zenml_rbac.principal (kind, name) VALUES ('user', v_name)
        ON CONFLICT (name) WHERE kind = 'user' DO NOTHING
        RETURNING id INTO v_principal;
        IF v_principal IS NOT NULL THEN
            INSERT INTO zenml_rbac.org_role_assignment (org_id, principal_id, role)
            VALUES (v.provision_org, v_principal, v.provision_org_role);
            INSERT INTO zenml_rbac.external_identity (issuer, subject, principal_id)
            VALUES (v.issuer, v.subject, v_principal);
        ELSE
            SELECT x.principal_id INTO v_principal FROM zenml_rbac.external_identity x
             WHERE x.issuer = v.issuer AND x.subject = v.subject;
            IF v_principal IS NULL THEN
                PERFORM zenml_rbac._refuse_token('subject cannot be a user name', v.issuer, v.subject);
            END IF;
        END IF;
    END IF;
    IF v_principal IS NULL THEN
        PERFORM zenml_rbac._refuse_token('subject not linked', v.issuer, v.subject);
    END IF;
    -- set_principal decides activity from the latest committed catalog
    BEGIN
        PERFORM zenml_rbac.set_principal(v_principal);
    EXCEPTION WHEN invalid_authorization_specification THEN
        PERFORM zenml_rbac._refuse_token('principal deactivated', v.issuer, v.subject);
    END;
    IF EXISTS (SELECT FROM zenml_rbac.group_team_map g WHERE g.provider_id = v.provider) THEN
        PERFORM zenml_rbac._sync_groups(v.provider, v_principal, v.groups);
    END IF;
    RETURN v_principal;
EXCEPTION
    WHEN invalid_authorization_specification THEN
        -- raised again from one place: the error's context must not tell
        -- which check failed
        RAISE EXCEPTION 'invalid token' USING ERRCODE = '28000';
END
$$;
COMMENT ON FUNCTION zenml_rbac.authenticate_jwt(text) IS
    'Verifies an OIDC token of a registered provider and sets its linked (or just-provisioned) principal for this transaction, like authenticate(); mapped teams follow its groups. 28000 "invalid token" for every failure.';

REVOKE ALL ON zenml_rbac.identity_provider, zenml_rbac.external_identity, zenml_rbac.group_team_map FROM PUBLIC;
REVOKE ALL ON FUNCTION
    zenml_rbac._jwt_verify(text), zenml_rbac._refuse_token(text, text, text),
    zenml_rbac._jwk_check(text, text, text, text, text, text, text, text, text),
    zenml_rbac._check_jwks(jsonb), zenml_rbac._provider(text), zenml_rbac._sync_groups(uuid, uuid, text[]),
    zenml_rbac._warn_taken_names(text),
    zenml_rbac.register_identity_provider(text, text, text, jsonb),
    zenml_rbac.set_identity_provider_keys(text, jsonb), zenml_rbac.disable_identity_provider(text),
    zenml_rbac.enable_identity_provider(text), zenml_rbac.set_identity_provider_groups_claim(text, text),
    zenml_rbac.set_identity_provider_provisioning(text, uuid, text),
    zenml_rbac.link_external_identity(uuid, text, text), zenml_rbac.map_group_to_team(text, text, uuid),
    zenml_rbac.unmap_group_from_team(text, text, uuid), zenml_rbac.authenticate_jwt(text)
    FROM PUBLIC;
-- The management functions refuse all but the system themselves; a token
-- is its own credential, so anyone may present one.
GRANT EXECUTE ON FUNCTION
    zenml_rbac.register_identity_provider(text, text, text, jsonb),
    zenml_rbac.set_identity_provider_keys(text, jsonb), zenml_rbac.disable_identity_provider(text),
    zenml_rbac.enable_identity_provider(text), zenml_rbac.set_identity_provider_groups_claim(text, text),
    zenml_rbac.set_identity_provider_provisioning(text, uuid, text),
    zenml_rbac.link_external_identity(uuid, text, text), zenml_rbac.map_group_to_team(text, text, uuid),
    zenml_rbac.unmap_group_from_team(text, text, uuid), zenml_rbac.authenticate_jwt(text)
    TO PUBLIC;
