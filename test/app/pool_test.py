#!/usr/bin/python3
"""Real-application test of zenml_rbac: many users, one small pool, pgbouncer.

A fixture (2 organizations, 6 tenants, 50 users with varied roles, custom
roles, shares, 2 service accounts with API keys, a protected ``models``
table) is built over a direct superuser connection.  Then one thread per
principal issues requests for a bounded time through ONE client-side pool of
8 psycopg connections to pgbouncer in transaction pooling mode.  Each request
is one transaction: set_principal() or authenticate(), a check that
current_principal() is that principal, then a read (of the table, of one
tenant, or through a PL/pgSQL function's cached plan), an insert (some with
RETURNING), a share, or -- without any principal, or after set_principal()
in autocommit mode -- a check that nothing leaked.  Every answer is compared
with a model of the data kept here in Python: rows and shares carry ticks of
one counter, taken before a request is sent and once its commit is
acknowledged, so a read must return every allowed row committed before it
began and nothing that was not allowed and registered by the time it ended.
Prints TAP.

Run by test/app/run.sh, which starts pgbouncer and sets:
  BOUNCER_PORT, APP_DB, APP_ROLE, APP_PASSWORD, BOUNCER_ADMIN, BOUNCER_ADMIN_PASSWORD
and the libpq variables (PGHOST, PGPORT, PGUSER, PGPASSWORD) of a superuser.
Knobs: APP_TEST_SECONDS (20), APP_TEST_MAX_TXNS (50000), APP_TEST_SEED.

Needs Debian's python3-psycopg (psycopg 3): run with /usr/bin/python3.
"""
import collections
import os
import random
import sys
import threading
import time
import traceback
import uuid

import psycopg
from psycopg import sql

BOUNCER_HOST = "127.0.0.1"
BOUNCER_PORT = int(os.environ.get("BOUNCER_PORT", "6432"))
APP_DB = os.environ.get("APP_DB", "zenml_rbac_app")
APP_ROLE = os.environ.get("APP_ROLE", "zenml_rbac_app_pool")
APP_PASSWORD = os.environ.get("APP_PASSWORD", "app")
BOUNCER_ADMIN = os.environ.get("BOUNCER_ADMIN", "zenml_rbac_bouncer_admin")
BOUNCER_ADMIN_PASSWORD = os.environ.get("BOUNCER_ADMIN_PASSWORD", "admin")
SECONDS = float(os.environ.get("APP_TEST_SECONDS", "20"))
MAX_TXNS = int(os.environ.get("APP_TEST_MAX_TXNS", "50000"))
SEED = int(os.environ.get("APP_TEST_SEED", str(random.SystemRandom().randrange(1 << 30))))
POOL_SIZE = 8
N_USERS = 50
MIN_TXNS = min(200, MAX_TXNS)   # fewer means the load did not really run

# What the tenant roles of the fixture give on the type 'model' (README: Concepts);
# 'creator' = editor without model:read, 'blind' = viewer without model:read.
TYPE_PERMS = {
    "admin": {"create", "read", "update", "delete", "share"},
    "editor": {"create", "read", "share"},
    "viewer": {"read"},
    "creator": {"create", "share"},
    "blind": set(),
}

NOTE_LIMIT = 8          # diagnostics kept per failure kind


# ----------------------------------------------------------------------------
# The model of the data
# ----------------------------------------------------------------------------

class Row:
    __slots__ = ("id", "tenant", "owner", "reg", "commit", "aborted")

    def __init__(self, rid, tenant, owner, reg):
        self.id, self.tenant, self.owner, self.reg = rid, tenant, owner, reg
        self.commit = None      # tick at which its commit was acknowledged
        self.aborted = False


class Share:
    __slots__ = ("row", "target", "reg", "commit", "aborted")

    def __init__(self, row, target, reg):
        self.row, self.target, self.reg = row, target, reg
        self.commit = None
        self.aborted = False


class Principal:
    def __init__(self, name, pid, kind, orgs, key=None, special=None):
        self.name, self.id, self.kind, self.orgs = name, pid, kind, set(orgs)
        self.key = key                  # API key of a service account
        self.roles = {}                 # tenant -> role name (one per tenant)
        self.special = special          # 'share-only', 'former', 'blind-owner', None
        self.admin_of = set()           # organizations where it is org_admin

    def perms(self, tenant):
        role = self.roles.get(tenant)
        return TYPE_PERMS[role] if role else set()

    def member(self, tenant):
        return tenant in self.roles


class Model:
    """Rows and shares the test created, each stamped with ticks of one
    global counter: ``reg`` when the request was about to be sent, ``commit``
    once its COMMIT was acknowledged.  Lists only grow; readers copy them
    under the lock."""

    def __init__(self):
        self.lock = threading.Lock()
        self.tick = 0
        self.rows = {}                  # id -> Row
        self.by_tenant = {}             # tenant -> [Row]
        self.by_owner = {}              # principal -> [Row]
        self.shares_of = {}             # principal -> [Share]
        self.shares = []

    def stamp(self):
        with self.lock:
            self.tick += 1
            return self.tick

    def add_row(self, rid, tenant, owner):
        with self.lock:
            self.tick += 1
            row = Row(rid, tenant, owner, self.tick)
            self.rows[rid] = row
            self.by_tenant.setdefault(tenant, []).append(row)
            self.by_owner.setdefault(owner, []).append(row)
            return row

    def add_share(self, row, target):
        with self.lock:
            self.tick += 1
            share = Share(row, target, self.tick)
            self.shares_of.setdefault(target, []).append(share)
            self.shares.append(share)
            return share

    def committed(self, item):
        with self.lock:
            self.tick += 1
            item.commit = self.tick

    def aborted(self, item):
        with self.lock:
            item.aborted = True

    def snapshot(self, p, tenant=None):
        with self.lock:
            if tenant is None:
                tenants = list(self.by_tenant)
            else:
                tenants = [tenant]
            by_tenant = {t: list(self.by_tenant.get(t, ())) for t in tenants}
            owned = list(self.by_owner.get(p.id, ()))
            shares = list(self.shares_of.get(p.id, ()))
        return by_tenant, owned, shares

    def visible(self, p, tenant=None, *, until=None, committed_by=None):
        """Rows p may read: with ``committed_by`` the rows (and shares) whose
        commit was acknowledged at or before that tick -- they must be seen;
        with ``until`` every row and share registered by that tick and not
        aborted -- nothing outside may be seen.  Returns {id: reason}."""
        by_tenant, owned, shares = self.snapshot(p, tenant)

        def counts(item):
            if committed_by is not None:
                return item.commit is not None and item.commit <= committed_by
            return not item.aborted and item.reg <= until

        out = {}
        for t, rows in by_tenant.items():
            if "read" in p.perms(t):
                for r in rows:
                    if counts(r):
                        out[r.id] = "role"
        for r in owned:
            if (tenant is None or r.tenant == tenant) and p.member(r.tenant) and counts(r):
                out.setdefault(r.id, "owner")
        for s in shares:
            r = s.row
            if (tenant is None or r.tenant == tenant) and counts(s) and counts(r):
                out.setdefault(r.id, "share")
        return out

    def can(self, p, row, action, *, pending):
        """Whether p holds the action on one row: type-level from roles,
        ownership while a member, or a share (shares only carry read here);
        ``pending`` counts shares not yet acknowledged."""
        if action in p.perms(row.tenant):
            return True
        if row.owner == p.id and p.member(row.tenant):
            return True
        if action != "read":
            return False
        with self.lock:
            shares = list(self.shares_of.get(p.id, ()))
        return any(s.row is row and not s.aborted and (pending or s.commit is not None)
                   for s in shares)


# ----------------------------------------------------------------------------
# Bookkeeping of results
# ----------------------------------------------------------------------------

class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.n = {}
        self.failures = {}              # kind -> count
        self.notes = {}                 # kind -> [message]
        self.backend_last = {}          # backend pid -> principal of its last transaction
        self.backends = set()
        self.backend_end = {}           # backend pid -> how its last transaction ended
        self.switches = 0
        self.unauth_after_auth = 0
        self.unauth_after = {}          # how the previous transaction ended -> count

    def add(self, key, k=1):
        with self.lock:
            self.n[key] = self.n.get(key, 0) + k

    def get(self, key):
        return self.n.get(key, 0)

    def fail(self, kind, msg):
        msg = " | ".join(str(msg).splitlines())      # one TAP comment line
        with self.lock:
            self.failures[kind] = self.failures.get(kind, 0) + 1
            notes = self.notes.setdefault(kind, [])
            if len(notes) < NOTE_LIMIT:
                notes.append(msg)

    def failed(self, kind):
        return self.failures.get(kind, 0)

    def backend(self, pid, principal):
        """Called inside the transaction, while it holds the server
        connection: the order of calls per pid is the order of use."""
        with self.lock:
            self.backends.add(pid)
            last = self.backend_last.get(pid, "never")
            if principal is None:
                if last not in (None, "never"):
                    self.unauth_after_auth += 1
                    how = self.backend_end.get(pid)
                    self.unauth_after[how] = self.unauth_after.get(how, 0) + 1
            elif last not in (principal, "never"):
                self.switches += 1
            self.backend_last[pid] = principal

    def end(self, conn, pid, how):
        """Ends the transaction, noting first (while it still holds the
        server connection) whether by commit, rollback, or rollback after an error."""
        with self.lock:
            self.backend_end[pid] = how
        conn.commit() if how == "commit" else conn.rollback()


# ----------------------------------------------------------------------------
# Connections
# ----------------------------------------------------------------------------

def superuser(dbname, autocommit=True):
    # PGHOST, PGPORT, PGUSER, PGPASSWORD from the environment (pg_virtualenv)
    return psycopg.connect(dbname=dbname, autocommit=autocommit)


def app_connection():
    # prepare_threshold=None: no server-side prepared statements, which a
    # transaction-pooling pgbouncer cannot follow across server connections
    return psycopg.connect(host=BOUNCER_HOST, port=BOUNCER_PORT, dbname=APP_DB,
                           user=APP_ROLE, password=APP_PASSWORD,
                           prepare_threshold=None, connect_timeout=10)


def admin_console():
    # the console speaks only the simple query protocol: ClientCursor
    return psycopg.connect(host=BOUNCER_HOST, port=BOUNCER_PORT, dbname="pgbouncer",
                           user=BOUNCER_ADMIN, password=BOUNCER_ADMIN_PASSWORD,
                           autocommit=True, cursor_factory=psycopg.ClientCursor,
                           prepare_threshold=None, connect_timeout=10)


def show(conn, what):
    cur = conn.execute("SHOW " + what)
    names = [d.name for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


class Pool:
    """The application's pool: exactly POOL_SIZE connections, handed to
    waiting threads first come, first served (queue.Queue is not fair: a
    thread putting a connection back may take it again at once, and a few
    threads would do all the work)."""

    def __init__(self, size):
        self.lock = threading.Lock()
        self.free = [app_connection() for _ in range(size)]
        self.waiters = collections.deque()

    def get(self):
        with self.lock:
            if self.free and not self.waiters:
                return self.free.pop()
            slot = [threading.Event(), None]
            self.waiters.append(slot)
        slot[0].wait()
        return slot[1]

    def put(self, conn):
        if conn.closed or conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            try:
                conn.close()
            finally:
                conn = app_connection()
        with self.lock:
            if self.waiters:
                slot = self.waiters.popleft()
                slot[1] = conn
                slot[0].set()
            else:
                self.free.append(conn)

    def close(self):
        with self.lock:
            for conn in self.free:
                conn.close()
            self.free = []


# ----------------------------------------------------------------------------
# Fixture
# ----------------------------------------------------------------------------

class Fixture:
    pass


def build_fixture(model, rng):
    fx = Fixture()
    with superuser(os.environ.get("PGDATABASE") or "postgres") as c:
        c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(APP_DB)))
        c.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(APP_DB)))
        if not c.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (APP_ROLE,)).fetchone():
            c.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(APP_ROLE)))
        c.execute(sql.SQL("ALTER ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD {}").format(
            sql.Identifier(APP_ROLE), sql.Literal(APP_PASSWORD)))
        # thousands of expected 42501s would bury the rest of the server log;
        # unexpected errors are reported in the TAP output
        c.execute(sql.SQL("ALTER ROLE {} SET log_min_messages = 'fatal'").format(sql.Identifier(APP_ROLE)))

    db = superuser(APP_DB)
    fx.db = db

    def q(stmt, *args):
        cur = db.execute(stmt, args)
        return cur.fetchone() if cur.description else None

    q("CREATE EXTENSION zenml_rbac")
    db.execute("""CREATE TABLE public.models (
                      id         uuid PRIMARY KEY,
                      tenant_id  uuid NOT NULL,
                      owner_id   uuid,
                      name       text NOT NULL,
                      created_at timestamptz NOT NULL DEFAULT now())""")
    db.execute("CREATE INDEX models_tenant_idx ON public.models (tenant_id)")
    # what applications also do: read through a PL/pgSQL function, whose
    # plan each backend caches and reuses for every principal it serves
    db.execute("""CREATE FUNCTION public.list_models(t uuid)
                  RETURNS TABLE (id uuid, tenant_id uuid, owner_id uuid)
                  LANGUAGE plpgsql STABLE AS $$
                  BEGIN
                      RETURN QUERY SELECT m.id, m.tenant_id, m.owner_id FROM public.models m
                                    WHERE t IS NULL OR m.tenant_id = t;
                  END $$""")
    q("SELECT zenml_rbac.register_resource_type('model')")
    q("SELECT zenml_rbac.protect('public.models', 'model', 'tenant_id', 'id', 'owner_id')")
    app = sql.Identifier(APP_ROLE)
    db.execute(sql.SQL("GRANT SELECT, INSERT ON public.models TO {}").format(app))
    db.execute(sql.SQL("GRANT EXECUTE ON FUNCTION zenml_rbac.set_principal(uuid) TO {}").format(app))

    # organizations and tenants
    orgs = {name: q("SELECT zenml_rbac.create_organization(%s)", name)[0] for name in ("acme", "globex")}
    tenants = {}
    for org, names in (("acme", ("prod", "staging", "dev")), ("globex", ("prod", "research", "sandbox"))):
        for n in names:
            tenants[f"{org}/{n}"] = (q("SELECT zenml_rbac.create_tenant(%s, %s)", orgs[org], n)[0], org)
    fx.orgs, fx.tenant_org = orgs, {tid: org for tid, org in tenants.values()}
    fx.tenant_name = {tid: name for name, (tid, _) in tenants.items()}
    fx.tenants = [tid for tid, _ in tenants.values()]
    T = {name: tid for name, (tid, _) in tenants.items()}
    for tid in fx.tenants:
        q("SELECT zenml_rbac.create_role(%s, 'creator', 'creates models, reads only its own', 'editor')", tid)
        q("SELECT zenml_rbac.role_disallow(%s, 'creator', 'model', 'read')", tid)
        q("SELECT zenml_rbac.create_role(%s, 'blind', 'viewer without models', 'viewer')", tid)
        q("SELECT zenml_rbac.role_disallow(%s, 'blind', 'model', 'read')", tid)

    # users: a few with fixed parts, the rest random
    principals = []
    for i in range(N_USERS):
        name = f"user{i:02d}"
        uid = q("SELECT zenml_rbac.create_user(%s)", name)[0]
        principals.append(Principal(name, uid, "user", ()))
    U = principals
    U[0].special = U[1].special = U[2].special = U[3].special = "share-only"
    U[0].orgs, U[1].orgs, U[2].orgs, U[3].orgs = {"acme"}, {"acme", "globex"}, {"globex"}, {"globex"}
    U[4].special, U[4].orgs = "former", {"acme", "globex"}
    U[4].roles = {T["acme/prod"]: "editor", T["globex/research"]: "viewer"}
    U[5].special, U[5].orgs = "blind-owner", {"acme"}
    U[5].roles = {T["acme/staging"]: "editor", T["acme/dev"]: "viewer"}
    U[6].orgs = U[6].admin_of = {"globex"}       # org_admin of globex, no tenant role
    U[7].orgs, U[7].roles = {"acme", "globex"}, {T["acme/prod"]: "creator", T["globex/prod"]: "creator"}
    U[8].orgs, U[8].roles = {"acme", "globex"}, {t: "viewer" for t in fx.tenants}
    U[9].orgs, U[9].roles = {"acme", "globex"}, {t: "editor" for t in fx.tenants}
    weights = (("none", 35), ("viewer", 30), ("editor", 20), ("creator", 10), ("admin", 5))
    for p in U[10:]:
        p.orgs = {o for o in orgs if rng.random() < 0.75} or {rng.choice(sorted(orgs))}
        for tid in fx.tenants:
            if fx.tenant_org[tid] in p.orgs:
                role = rng.choices([w[0] for w in weights], [w[1] for w in weights])[0]
                if role != "none":
                    p.roles[tid] = role
    for p in U:
        for org in sorted(p.orgs):
            role = "org_admin" if p is U[6] else ("org_editor" if rng.random() < 0.2 else "org_viewer")
            q("SELECT zenml_rbac.set_org_role(%s, %s, %s)", orgs[org], p.id, role)
        for tid, role in p.roles.items():
            q("SELECT zenml_rbac.grant_tenant_role(%s, %s, %s)", tid, p.id, role)

    # service accounts with API keys
    for name, org, roles in (("ci-bot", "acme", {"acme/dev": "editor", "acme/prod": "viewer"}),
                             ("report-bot", "globex", {t: "viewer" for t in ("globex/prod", "globex/research", "globex/sandbox")})):
        sid = q("SELECT zenml_rbac.create_service_account(%s, %s)", orgs[org], name)[0]
        key = q("SELECT zenml_rbac.create_api_key(%s)", sid)[0]
        sa = Principal(name, sid, "sa", (org,), key=key)
        for tname, role in roles.items():
            sa.roles[T[tname]] = role
            q("SELECT zenml_rbac.grant_tenant_role(%s, %s, %s)", T[tname], sid, role)
        principals.append(sa)
    fx.principals = principals
    fx.by_id = {p.id: p for p in principals}
    fx.org_members = {org: [p for p in principals if org in p.orgs] for org in orgs}

    # seeded rows, inserted by their owners as the application would
    seed = superuser(APP_DB, autocommit=False)
    seed.execute(sql.SQL("SET ROLE {}").format(app))
    seed.commit()
    n_seeded = 0
    for p in principals:
        for tid in fx.tenants:
            if "create" in p.perms(tid):
                for _ in range(2 if p.special is None else 3):
                    row = model.add_row(uuid.uuid4(), tid, p.id)
                    if p.kind == "sa":
                        seed.execute("SELECT zenml_rbac.authenticate(%s)", (p.key,))
                    else:
                        seed.execute("SELECT zenml_rbac.set_principal(%s)", (p.id,))
                    seed.execute("INSERT INTO public.models (id, tenant_id, name) VALUES (%s, %s, %s)",
                                 (row.id, tid, f"seed-{p.name}-{n_seeded}"))
                    seed.commit()
                    model.committed(row)
                    n_seeded += 1
    seed.close()
    fx.n_seeded = n_seeded

    # after seeding: user04 leaves acme/prod (keeps its rows there as owner),
    # user05 goes from editor to 'blind' in acme/staging (sees only its own)
    q("SELECT zenml_rbac.revoke_tenant_role(%s, %s, 'editor')", T["acme/prod"], U[4].id)
    del U[4].roles[T["acme/prod"]]
    q("SELECT zenml_rbac.grant_tenant_role(%s, %s, 'blind')", T["acme/staging"], U[5].id)
    q("SELECT zenml_rbac.revoke_tenant_role(%s, %s, 'editor')", T["acme/staging"], U[5].id)
    U[5].roles[T["acme/staging"]] = "blind"

    # the system shares a few rows with users that reach them no other way
    n_shares = 0
    for p in principals:
        if p.special == "share-only" or p.special == "blind-owner":
            pool_rows = [r for r in model.rows.values()
                         if fx.tenant_org[r.tenant] in p.orgs and r.owner != p.id]
            for r in rng.sample(pool_rows, 3):
                s = model.add_share(r, p.id)
                q("SELECT zenml_rbac.share_resource(%s, %s, %s, ARRAY['read'])", r.tenant, f"model/{r.id}", p.id)
                model.committed(s)
                n_shares += 1
    fx.n_shares = n_shares

    # the fixture must cover what the test claims to exercise
    roles_used = {r for p in principals for r in p.roles.values()}
    assert roles_used >= set(TYPE_PERMS), roles_used
    assert any(not p.roles for p in principals)
    fx.share_targets = {org: [p for p in members if p.special != "former"]
                        for org, members in fx.org_members.items()}
    return fx


# ----------------------------------------------------------------------------
# Requests
# ----------------------------------------------------------------------------

def identify(cur, p, stats):
    """Start the transaction as p; check current_principal() and note the backend."""
    if p.kind == "sa":
        got = cur.execute("SELECT zenml_rbac.authenticate(%s)", (p.key,)).fetchone()[0]
        if got != p.id:
            stats.fail("principal", f"authenticate() for {p.name} returned {got}")
    else:
        cur.execute("SELECT zenml_rbac.set_principal(%s)", (p.id,))
    cp, pid = cur.execute("SELECT zenml_rbac.current_principal(), pg_backend_pid()").fetchone()
    stats.add("principal_checks")
    if cp != p.id:
        stats.fail("principal", f"{p.name}: current_principal() = {cp} on backend {pid}")
    stats.backend(pid, p.id)
    return pid


def recheck(cur, p, stats):
    cp = cur.execute("SELECT zenml_rbac.current_principal()").fetchone()[0]
    stats.add("principal_checks")
    if cp != p.id:
        stats.fail("principal", f"{p.name}: current_principal() changed to {cp} in its transaction")


def do_read(conn, p, fx, model, stats, rng):
    tenant = rng.choice(fx.tenants) if rng.random() < 0.4 else None
    through_function = rng.random() < 0.3
    t0 = model.stamp()
    with conn.cursor() as cur:
        pid = identify(cur, p, stats)
        if through_function:
            stats.add("reads_function")
            rows = cur.execute("SELECT id, tenant_id, owner_id FROM public.list_models(%s)",
                               (tenant,)).fetchall()
        elif tenant is None:
            rows = cur.execute("SELECT id, tenant_id, owner_id FROM public.models").fetchall()
        else:
            rows = cur.execute("SELECT id, tenant_id, owner_id FROM public.models WHERE tenant_id = %s",
                               (tenant,)).fetchall()
        t1 = model.stamp()
        recheck(cur, p, stats)
    # ending by rollback must clear the principal just as commit does
    stats.end(conn, pid, "rollback" if rng.random() < 0.25 else "commit")
    check_read(p, tenant, rows, t0, t1, fx, model, stats)


def check_read(p, tenant, rows, t0, t1, fx, model, stats, *, kind="read"):
    stats.add("reads")
    stats.add("rows_returned", len(rows))
    must = model.visible(p, tenant, committed_by=t0)
    may = model.visible(p, tenant, until=t1)
    got = {}
    for rid, tid, owner in rows:
        got[rid] = (tid, owner)
        row = model.rows.get(rid)
        if rid not in may:
            where = fx.tenant_name.get(tid, tid)
            stats.fail("forbidden", f"{kind}: {p.name} got row {rid} of {where} owned by "
                       f"{fx.by_id[owner].name if owner in fx.by_id else owner}"
                       f"{' (unknown to the test)' if row is None else ''}")
        elif row.tenant != tid or row.owner != owner:
            stats.fail("columns", f"row {rid}: tenant/owner {tid}/{owner}, inserted as {row.tenant}/{row.owner}")
    missing = [rid for rid in must if rid not in got]
    stats.add("rows_expected", len(must))
    stats.add("rows_not_by_role", sum(1 for why in must.values() if why != "role"))
    if missing:
        r = model.rows[missing[0]]
        stats.fail("missing", f"{kind}: {p.name} did not get {len(missing)} of {len(must)} rows committed "
                   f"before it began, e.g. {r.id} of {fx.tenant_name[r.tenant]} ({must[r.id]})"
                   f"{'' if tenant is None else ' [tenant filter]'}")


def do_insert(conn, p, fx, model, stats, rng):
    # half of the attempts go where p may create, if anywhere
    creatable = [t for t in fx.tenants if "create" in p.perms(t)]
    tenant = rng.choice(creatable if creatable and rng.random() < 0.5 else fx.tenants)
    allowed = "create" in p.perms(tenant)
    # as ORMs do, some inserts ask for the new row back
    returning = rng.random() < 0.3
    row = model.add_row(uuid.uuid4(), tenant, p.id)
    where = fx.tenant_name[tenant]
    with conn.cursor() as cur:
        pid = identify(cur, p, stats)
        try:
            cur.execute("INSERT INTO public.models (id, tenant_id, name) VALUES (%s, %s, %s)"
                        + (" RETURNING id, owner_id" if returning else ""),
                        (row.id, tenant, f"{p.name}-{row.reg}"))
            back = cur.fetchall() if returning else None
        except psycopg.Error as e:
            stats.end(conn, pid, "error")
            model.aborted(row)
            if allowed and returning:
                stats.fail("returning", f"{p.name} ({p.roles.get(tenant)}) INSERT ... RETURNING into "
                           f"{where}: {e.sqlstate} {e}")
            elif allowed:
                stats.fail("insert_allowed", f"{p.name} ({p.roles.get(tenant)}) into {where}: {e.sqlstate} {e}")
            elif e.sqlstate == "42501":
                stats.add("inserts_refused")
            else:
                stats.fail("insert_refused", f"{p.name} into {where}: {e.sqlstate} {e}, not 42501")
            return
        n = cur.execute("SELECT count(*) FROM public.models WHERE id = %s", (row.id,)).fetchone()[0]
        recheck(cur, p, stats)
    stats.end(conn, pid, "commit")
    model.committed(row)
    if not allowed:
        stats.fail("insert_refused", f"{p.name} ({p.roles.get(tenant)}) inserted into {where}")
        return
    if n != 1:
        stats.fail("insert_allowed", f"{p.name} ({p.roles.get(tenant)}) does not see the row it just "
                   f"inserted into {where} in the same transaction")
    stats.add("inserts_ok")
    if returning:
        stats.add("returning_ok")
        if "read" not in p.perms(tenant):
            stats.add("returning_owner_only")
        if back != [(row.id, p.id)]:
            stats.fail("returning", f"{p.name} INSERT ... RETURNING into {where} gave {back}")


def do_share(conn, p, fx, model, stats, rng):
    # mostly tenants where p is a member, so that it may share there
    tenant = rng.choice(list(p.roles) if p.roles and rng.random() < 0.8 else fx.tenants)
    with model.lock:
        rows = [r for r in model.by_tenant.get(tenant, ()) if r.commit is not None]
    if not rows:
        return do_read(conn, p, fx, model, stats, rng)
    # prefer rows p may share, so that both outcomes are common
    mine = [r for r in rows if model.can(p, r, "share", pending=False) and model.can(p, r, "read", pending=False)]
    row = rng.choice(mine if mine and rng.random() < 0.7 else rows)
    targets = [t for t in fx.share_targets[fx.tenant_org[tenant]] if t is not p]
    target = rng.choice(targets)
    # org admins are exempt from the no-escalation rule: they may share anything
    admin = fx.tenant_org[tenant] in p.admin_of
    sure = admin or (model.can(p, row, "share", pending=False) and model.can(p, row, "read", pending=False))
    maybe = admin or (model.can(p, row, "share", pending=True) and model.can(p, row, "read", pending=True))
    share = model.add_share(row, target.id)
    with conn.cursor() as cur:
        pid = identify(cur, p, stats)
        try:
            cur.execute("SELECT zenml_rbac.share_resource(%s, %s, %s, ARRAY['read'])",
                        (tenant, f"model/{row.id}", target.id))
        except psycopg.Error as e:
            stats.end(conn, pid, "error")
            model.aborted(share)
            if sure:
                stats.fail("share", f"{p.name} sharing {row.id} of {fx.tenant_name[tenant]} with "
                           f"{target.name}: {e.sqlstate} {e}")
            elif e.sqlstate == "42501":
                stats.add("shares_refused")
            else:
                stats.fail("share", f"{p.name} sharing without permission: {e.sqlstate} {e}, not 42501")
            return
        recheck(cur, p, stats)
    stats.end(conn, pid, "commit")
    model.committed(share)
    if not maybe:
        stats.fail("share", f"{p.name} ({p.roles.get(tenant)}) shared {row.id} of "
                   f"{fx.tenant_name[tenant]} without holding share and read on it")
    else:
        stats.add("shares_ok")


def do_unauthenticated(conn, p, fx, model, stats, rng):
    """A transaction with no set_principal: whatever ran before on the server
    connection, there is no principal and no row."""
    if rng.random() < 0.3:
        return autocommit_probe(conn, p, fx, stats)
    tenant = rng.choice(fx.tenants)
    with conn.cursor() as cur:
        cp, pid, n_all, n_tenant = cur.execute(
            "SELECT zenml_rbac.current_principal(), pg_backend_pid(),"
            " (SELECT count(*) FROM public.models),"
            " (SELECT count(*) FROM public.models WHERE tenant_id = %s)", (tenant,)).fetchone()
        stats.backend(pid, None)
        stats.add("unauth")
        if cp is not None or n_all or n_tenant:
            who = fx.by_id[cp].name if cp in fx.by_id else cp
            stats.fail("leak", f"no principal set, backend {pid}: current_principal() = {who}, "
                       f"{n_all} rows ({n_tenant} in one tenant)")
        if rng.random() < 0.5:
            try:
                cur.execute("INSERT INTO public.models (id, tenant_id, name) VALUES (%s, %s, 'anonymous')",
                            (uuid.uuid4(), tenant))
            except psycopg.Error as e:
                stats.end(conn, pid, "error")
                if e.sqlstate == "42501":
                    stats.add("inserts_refused_anon")
                else:
                    stats.fail("insert_refused", f"insert without principal: {e.sqlstate} {e}, not 42501")
                return
            stats.fail("insert_refused", "insert without principal succeeded")
    stats.end(conn, pid, "commit")


def autocommit_probe(conn, p, fx, stats):
    """The misuse a pool invites: set_principal() in autocommit mode, then a
    query in a transaction of its own (on whichever server connection
    pgbouncer picks).  The principal lasted for its statement only."""
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            if p.kind == "sa":
                cur.execute("SELECT zenml_rbac.authenticate(%s)", (p.key,))
            else:
                cur.execute("SELECT zenml_rbac.set_principal(%s)", (p.id,))
            cp, n = cur.execute("SELECT zenml_rbac.current_principal(),"
                                " (SELECT count(*) FROM public.models)").fetchone()
    finally:
        conn.autocommit = False
    stats.add("autocommit_probes")
    if cp is not None or n:
        who = fx.by_id[cp].name if cp in fx.by_id else cp
        stats.fail("leak", f"after set_principal({p.name}) in autocommit mode, the next statement had "
                   f"current_principal() = {who} and saw {n} rows")


OPS = ((do_read, 50), (do_insert, 30), (do_share, 8), (do_unauthenticated, 12))


def worker(p, fx, model, stats, pool, deadline, budget, rng, crashed):
    ops, weights = [o for o, _ in OPS], [w for _, w in OPS]
    try:
        while time.monotonic() < deadline and budget.take():
            op = rng.choices(ops, weights)[0]
            conn = pool.get()
            try:
                op(conn, p, fx, model, stats, rng)
                stats.add("txns")
            except psycopg.Error as e:
                stats.fail("unexpected", f"{p.name} {op.__name__}: {e.sqlstate} {e}")
                try:
                    conn.rollback()
                except psycopg.Error:
                    pass
            finally:
                pool.put(conn)
    except Exception:
        crashed.append(traceback.format_exc())


class Budget:
    def __init__(self, n):
        self.n, self.lock = n, threading.Lock()

    def take(self):
        with self.lock:
            if self.n <= 0:
                return False
            self.n -= 1
            return True


def monitor(stop, fx, out):
    """Samples pgbouncer's SHOW SERVERS / SHOW POOLS and pg_stat_activity."""
    try:
        console = admin_console()
        direct = superuser(APP_DB)
        while True:
            servers = [s for s in show(console, "SERVERS") if s["database"] == APP_DB]
            pools = [s for s in show(console, "POOLS") if s["database"] == APP_DB]
            in_pool = sum(v for s in pools for k, v in s.items() if k.startswith("sv_") and isinstance(v, int))
            backends = direct.execute("SELECT count(*) FROM pg_stat_activity WHERE usename = %s",
                                      (APP_ROLE,)).fetchone()[0]
            out["samples"] += 1
            out["servers"] = max(out["servers"], len(servers))
            out["pools"] = max(out["pools"], in_pool)
            out["backends"] = max(out["backends"], backends)
            out["waiting"] = max(out["waiting"], sum(s["cl_waiting"] for s in pools))
            if stop.wait(0.2):
                break
        console.close()
        direct.close()
    except Exception:
        out["error"] = traceback.format_exc()


# ----------------------------------------------------------------------------
# Main
# ----------------------------------------------------------------------------

TESTS = [
    "fixture", "bouncer config", "load", "principal", "forbidden", "missing", "columns",
    "insert_allowed", "returning", "insert_refused", "share", "leak", "unexpected", "server count",
    "multiplexed", "final table", "final catalog", "final reads",
]


def main():
    results = []

    def tap(ok, desc, kinds=()):
        results.append((bool(ok), desc))
        for kind in kinds:
            for note in stats.notes.get(kind, ()):
                results.append((None, f"  {kind}: {note}"))
            extra = stats.failed(kind) - len(stats.notes.get(kind, ()))
            if extra > 0:
                results.append((None, f"  {kind}: ... and {extra} more"))

    def emit():
        n = 0
        print(f"1..{len(TESTS)}")
        for ok, desc in results:
            if ok is None:
                print(f"# {desc}")
                continue
            n += 1
            print(f"{'ok' if ok else 'not ok'} {n} - {desc}")
        for i in range(n + 1, len(TESTS) + 1):
            print(f"not ok {i} - {TESTS[i - 1]}: not reached")
        sys.stdout.flush()

    stats = Stats()
    model = Model()
    rng = random.Random(SEED)
    print(f"# seed {SEED} (APP_TEST_SEED), {SECONDS:g} s, at most {MAX_TXNS} transactions")
    try:
        fx = build_fixture(model, rng)
        n_roles = sum(len(p.roles) for p in fx.principals)
        tap(True, f"fixture: 2 organizations, {len(fx.tenants)} tenants, {N_USERS} users, "
                  f"2 service accounts with API keys, {n_roles} tenant role assignments, "
                  f"{fx.n_seeded} seeded rows, {fx.n_shares} shares")

        console = admin_console()
        config = {r["key"]: r["value"] for r in show(console, "CONFIG")}
        console.close()
        tap(config.get("pool_mode") == "transaction" and config.get("default_pool_size") == str(POOL_SIZE),
            f"pgbouncer runs pool_mode={config.get('pool_mode')} with "
            f"default_pool_size={config.get('default_pool_size')}")

        # the load
        pool = Pool(POOL_SIZE)
        stop = threading.Event()
        mon = {"samples": 0, "servers": 0, "pools": 0, "backends": 0, "waiting": 0}
        mon_thread = threading.Thread(target=monitor, args=(stop, fx, mon), daemon=True)
        mon_thread.start()
        budget = Budget(MAX_TXNS)
        crashed = []
        started = time.monotonic()
        deadline = started + SECONDS
        threads = [threading.Thread(target=worker, daemon=True,
                                    args=(p, fx, model, stats, pool, deadline, budget,
                                          random.Random(SEED * 1000 + i), crashed))
                   for i, p in enumerate(fx.principals)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
        stop.set()
        mon_thread.join()

        s = stats.get
        txns = s("txns")
        for c in crashed:
            for line in c.rstrip().splitlines():
                results.append((None, "  " + line))
        tap(txns >= MIN_TXNS and not crashed,
            f"{txns} transactions by {len(fx.principals)} principals through {POOL_SIZE} pooled connections "
            f"in {elapsed:.1f} s ({txns / elapsed:.0f}/s): {s('reads')} reads, "
            f"{s('inserts_ok') + s('inserts_refused')} inserts, {s('shares_ok') + s('shares_refused')} shares, "
            f"{s('unauth')} without principal, {s('autocommit_probes')} autocommit probes; "
            f"{len(crashed)} threads crashed")
        tap(not stats.failed("principal"),
            f"current_principal() was the intended principal in every authenticated transaction "
            f"({s('principal_checks')} checks)", ["principal"])
        tap(not stats.failed("forbidden"),
            f"no read returned a forbidden row ({s('reads')} reads, {s('reads_function')} of them through "
            f"a PL/pgSQL function's cached plan; {s('rows_returned')} rows returned)",
            ["forbidden"])
        tap(not stats.failed("missing"),
            f"every allowed row committed before a read began was returned ({s('rows_expected')} expected "
            f"rows, {s('rows_not_by_role')} of them reached only by ownership or a share)", ["missing"])
        tap(not stats.failed("columns"),
            "returned rows carry the tenant and owner (the inserting principal) they were inserted with",
            ["columns"])
        tap(not stats.failed("insert_allowed") and s("inserts_ok") > 0,
            f"allowed inserts succeeded and were visible to their inserter in the same transaction "
            f"({s('inserts_ok')})", ["insert_allowed"])
        tap(not stats.failed("returning") and s("returning_ok") > 0,
            f"INSERT ... RETURNING gives the new row, owned by the inserter, back to it "
            f"({s('returning_ok')}, {s('returning_owner_only')} by principals that read the type only "
            f"as owners)", ["returning"])
        tap(not stats.failed("insert_refused") and s("inserts_refused") > 0,
            f"forbidden inserts got SQLSTATE 42501 ({s('inserts_refused')} by principals, "
            f"{s('inserts_refused_anon')} without principal)", ["insert_refused"])
        tap(not stats.failed("share") and s("shares_ok") > 0 and s("shares_refused") > 0,
            f"allowed shares succeeded and forbidden ones got 42501 ({s('shares_ok')} shared, "
            f"{s('shares_refused')} refused)", ["share"])
        ended = ", ".join(f"{how} {n}" for how, n in sorted(stats.unauth_after.items(), key=lambda kv: str(kv[0])))
        tap(not stats.failed("leak") and s("unauth") > 0 and s("autocommit_probes") > 0,
            f"no identity leaked: {s('unauth')} transactions without set_principal saw a NULL principal "
            f"and 0 rows ({stats.unauth_after_auth} on a server connection whose last transaction had a "
            f"principal and ended by {ended}); {s('autocommit_probes')} set_principal() calls in "
            f"autocommit mode lasted for their statement only",
            ["leak"])
        tap(not stats.failed("unexpected"), f"no unexpected errors ({stats.failed('unexpected')})",
            ["unexpected"])
        if "error" in mon:
            results.append((None, "  monitor: " + mon["error"].strip().splitlines()[-1]))
        tap("error" not in mon and mon["samples"] > 0
            and max(mon["servers"], mon["pools"], mon["backends"]) <= POOL_SIZE,
            f"at most {POOL_SIZE} server connections: max {mon['servers']} in SHOW SERVERS, "
            f"{mon['pools']} in SHOW POOLS, {mon['backends']} backends of {APP_ROLE} in pg_stat_activity "
            f"({mon['samples']} samples; up to {mon['waiting']} clients waiting)")
        tap(stats.switches > 0 and stats.unauth_after_auth > 0,
            f"server connections were reused across principals ({stats.switches} principal changes "
            f"on {len(stats.backends)} backends)")

        # final state, nothing running
        db = fx.db
        table = {r[0]: (r[1], r[2]) for r in db.execute("SELECT id, tenant_id, owner_id FROM public.models")}
        committed = {r.id: (r.tenant, r.owner) for r in model.rows.values() if r.commit is not None}
        bad = [rid for rid in set(table) | set(committed) if table.get(rid) != committed.get(rid)]
        for rid in bad[:NOTE_LIMIT]:
            results.append((None, f"  row {rid}: table {table.get(rid)}, committed inserts {committed.get(rid)}"))
        tap(not bad, f"the table holds exactly the committed inserts ({len(table)} rows; "
                     f"{sum(1 for r in model.rows.values() if r.aborted)} refused inserts absent)")

        registered = {r[0]: (r[1], r[2]) for r in db.execute(
            "SELECT resource_id, tenant_id, owner_id FROM zenml_rbac.resource WHERE resource_type = 'model'")}
        grants = {(r[0], r[1]) for r in db.execute(
            "SELECT resource_id, principal_id FROM zenml_rbac.resource_grant"
            " WHERE resource_type = 'model' AND actions = ARRAY['read']")}
        n_grants = db.execute("SELECT count(*) FROM zenml_rbac.resource_grant").fetchone()[0]
        shared = {(s_.row.id, s_.target) for s_ in model.shares if s_.commit is not None}
        tap(registered == committed and grants == shared and n_grants == len(grants),
            f"registered resources match the rows with their owners ({len(registered)}) and "
            f"shares match the committed shares ({len(grants)})")

        # every principal once more, with nothing else running: exact sets
        wrong = []
        conn = pool.get()
        for p in fx.principals:
            t0 = model.stamp()
            with conn.cursor() as cur:
                identify(cur, p, stats)
                got = {r[0] for r in cur.execute("SELECT id FROM public.models")}
            conn.commit()
            want = set(model.visible(p, committed_by=t0))
            if got != want:
                wrong.append(f"{p.name}: {len(got - want)} rows too many, {len(want - got)} missing")
        pool.put(conn)
        pool.close()
        for w in wrong[:NOTE_LIMIT]:
            results.append((None, "  " + w))
        tap(not wrong, f"after the load every principal sees exactly its allowed rows "
                       f"({len(fx.principals)} principals)")
        db.close()
    except Exception:
        for line in traceback.format_exc().rstrip().splitlines():
            results.append((None, line))
    emit()
    return 0 if all(ok for ok, _ in results if ok is not None) and \
        sum(1 for ok, _ in results if ok is not None) == len(TESTS) else 1


if __name__ == "__main__":
    sys.exit(main())
