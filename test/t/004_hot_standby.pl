# A primary and a streaming hot standby on loopback.  Grants, revokes,
# custom-role edits, a deactivation, a share, a team removal and a tenant
# deletion on the primary; after replay, rbac_can/rbac_org_can and the rows
# a protected table shows each principal are the same on the standby as on
# the primary -- also in one standby session whose cache stayed warm across
# every change.  Each change is made while the standby's replay is paused:
# its WAL has arrived, and the standby, the warm session included, must
# still answer as before (never earlier), then the new way once it is
# replayed (never later).  Then changes on a warm session reload only the
# entries they affect (fine-grained invalidation).  Read-only use of the standby (authenticate,
# set_principal, checks, audit verification, the reporting views) writes
# nothing there; a write attempted there fails as read-only.
use strict;
use warnings;

# Cluster->init runs pg_regress --config-auth; PGXS installs it here.
BEGIN
{
	chomp(my $pkglib = `pg_config --pkglibdir`);
	$ENV{PG_REGRESS} //= "$pkglib/pgxs/src/test/regress/pg_regress";
}

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use FindBin;
use lib $FindBin::RealBin;
use RbacSweep qw(decisions decision_summary);

my $db = 'rbac';

my $primary = PostgreSQL::Test::Cluster->new('hs_primary');
$primary->init(allows_streaming => 1);
$primary->start;
$primary->safe_psql('postgres', "CREATE DATABASE $db");
$primary->safe_psql($db, 'CREATE EXTENSION zenml_rbac');
$primary->command_ok(
	[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $db, '-f', "$FindBin::RealBin/fixture.sql" ],
	'the fixture loads on the primary');

# fxid(name): the fixture's ids by name.  try_principal(id): set_principal,
# answering 'ok' or the SQLSTATE it failed with, so one script can go
# through deactivated principals too (a failed set_principal leaves none).
$primary->safe_psql($db, <<'SQL');
CREATE FUNCTION public.fxid(text) RETURNS uuid LANGUAGE sql STABLE
    AS $$ SELECT id FROM public.fx WHERE name = $1 $$;
CREATE FUNCTION public.try_principal(p uuid) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM zenml_rbac.set_principal(p);
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE;
END
$$;
SQL

# A protected table large enough for the planner path that reads the policy
# one scan per arm (src/policy_scan.c): 3,000 rows over every tenant.
$primary->safe_psql($db, <<'SQL');
CREATE TABLE public.bulk (id uuid PRIMARY KEY, tenant_id uuid NOT NULL, name text NOT NULL);
INSERT INTO public.bulk
SELECT md5('bulk' || i)::uuid, t.ids[i % cardinality(t.ids) + 1], 'b' || i
  FROM generate_series(0, 2999) i, (SELECT array_agg(id ORDER BY name) ids FROM zenml_rbac.tenant) t;
CREATE INDEX bulk_tenant ON public.bulk (tenant_id);
SET client_min_messages = warning;
SELECT zenml_rbac.protect('public.bulk', 'model', 'tenant_id', 'id');
GRANT SELECT ON public.bulk TO fixture_app;
SQL
$primary->safe_psql($db, 'VACUUM ANALYZE public.bulk');

# An API key whose text we keep (the fixture's is not shown), never used yet.
my $api_key = $primary->safe_psql($db, q{SELECT zenml_rbac.create_api_key(fxid('sa1'))});
like($api_key, qr/^zrk_[0-9a-f]{64}$/, 'an API key for sa1');

$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('hs_standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
# a session below keeps a transaction open across replays: no query
# cancelled by a recovery conflict
$standby->append_conf('postgresql.conf', 'hot_standby_feedback = on');
$standby->start;
$primary->wait_for_catchup($standby, 'replay');
is($standby->safe_psql($db, 'SELECT pg_is_in_recovery()'), 't', 'the standby is in recovery');

# ---------------------------------------------------------------------
# What is compared: three texts, each computed the same way on either node
# ---------------------------------------------------------------------

# 1. The full decision sweep.  RbacSweep runs it through $node->safe_psql;
# handing decisions() an object whose safe_psql returns the SQL gives the
# exact text, to run in the long-lived session as well.
{

	package SweepText;
	sub safe_psql { return $_[2]; }
}
my $sweep_sql = decisions(bless({}, 'SweepText'), $db);

# 2. Probes: checks that the changes below turn, as label=true|false.
# 'model#NAME' is the registered instance of that row of public.models;
# 'org:CAPABILITY' asks rbac_org_can.
my $probe_sql = <<'SQL';
WITH probe(label, who, scope, target, action) AS (VALUES
  ('a_u4_prod_model_read', 'u4', 'prod', 'model', 'read'),
  ('b_u2_prod_model_create', 'u2', 'prod', 'model', 'create'),
  ('b_u2_prod_own_delete', 'u2', 'prod', 'model#prod-2', 'delete'),
  ('c_u2_dev_dataset_delete', 'u2', 'dev', 'dataset', 'delete'),
  ('c_u3_prod_model_create', 'u3', 'prod', 'model', 'create'),
  ('c_u3_prod_model_read', 'u3', 'prod', 'model', 'read'),
  ('d_u8_globex_tenant_create', 'u8', 'globex', 'org:tenant', 'create'),
  ('d_u8_main_model_create', 'u8', 'main', 'model', 'create'),
  ('e_u2_main2_update', 'u2', 'main', 'model#main-2', 'update'),
  ('f_u3_dev2_update', 'u3', 'dev', 'model#dev-2', 'update'),
  ('f_u3_dev_model_create', 'u3', 'dev', 'model', 'create'),
  ('g_u7_main_model_read', 'u7', 'main', 'model', 'read'))
SELECT string_agg(label || '=' || CASE
         WHEN target LIKE 'org:%' THEN zenml_rbac.rbac_org_can(w.id, s.id, substr(target, 5), action)
         WHEN target LIKE '%#%' THEN zenml_rbac.rbac_can(w.id, s.id,
                'model/' || (SELECT m.id FROM public.models m WHERE m.name = split_part(target, '#', 2)), action)
         ELSE zenml_rbac.rbac_can(w.id, s.id, target, action) END, ' ' ORDER BY label)
  FROM probe JOIN public.fx w ON w.name = who JOIN public.fx s ON s.name = scope
SQL

# 3. Row-level security: for every user and the service account, in a
# transaction as the application role, whether set_principal accepts it
# and the names of the rows of public.models it sees.
my $rls_sql = join '', map { <<"SQL" } qw(u1 u2 u3 u4 u5 u6 u7 u8 sa1);
BEGIN;
SET LOCAL ROLE fixture_app;
SELECT '$_ principal ' || public.try_principal(public.fxid('$_'));
SELECT '$_ sees ' || coalesce(string_agg(name, ',' ORDER BY name), '') FROM public.models;
COMMIT;
SQL

# 4. How many rows of public.bulk each principal sees: a fresh query, and in
# the warm session a prepared statement's generic plan, kept across every
# change below.
my $bulk_sql = join '', map { <<"SQL" } qw(u1 u2 u3 u4 u5 u6 u7 u8 sa1);
BEGIN;
SET LOCAL ROLE fixture_app;
SELECT public.try_principal(public.fxid('$_')) AS tried \\gset
SELECT '$_ bulk ' || count(*) FROM public.bulk;
COMMIT;
SQL
(my $bulk_prepared_sql = $bulk_sql) =~ s/SELECT '(\w+) bulk ' \|\| count\(\*\) FROM public.bulk;/EXECUTE bulk_count \\gset\nSELECT '$1 bulk ' || :'count';/g;

# The state as fresh connections to $node see it.
sub fresh_state
{
	my ($node) = @_;
	return {
		probes => $node->safe_psql($db, $probe_sql),
		rls => $node->safe_psql($db, $rls_sql),
		bulk => $node->safe_psql($db, $bulk_sql),
		sweep => decisions($node, $db),
	};
}

# The standby session that lives through the whole test: its cache is warm
# (every probe, every sweep cell, every principal's rows) before each change.
my $warm = $standby->background_psql($db, on_error_stop => 0);
$warm->set_query_timer_restart;
my $warm_pid = $warm->query_safe('SELECT pg_backend_pid()');
$warm->query_safe(
	'SET ROLE fixture_app; SET plan_cache_mode = force_generic_plan; '
	  . 'PREPARE bulk_count AS SELECT count(*) FROM public.bulk; RESET ROLE');
like($warm->query_safe('BEGIN; SET LOCAL ROLE fixture_app; EXPLAIN (COSTS OFF) EXECUTE bulk_count; COMMIT'),
	qr/Custom Scan \(ZenmlRbacPolicyArms\)/, 'the warm session\'s cached plan reads the policy one scan per arm');

# A second one holds a REPEATABLE READ transaction open across each change:
# checks follow the latest committed catalog, not the transaction snapshot,
# from the next statement after commit -- on a standby, after replay.
my $txn = $standby->background_psql($db, on_error_stop => 0);
$txn->set_query_timer_restart;

sub warm_state
{
	return {
		probes => $warm->query_safe($probe_sql),
		rls => $warm->query_safe($rls_sql),
		bulk => $warm->query_safe($bulk_prepared_sql),
		sweep => $warm->query_safe($sweep_sql),
	};
}

# Compares a state with an expected one, part by part.
sub same_state
{
	my ($got, $want, $name) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	for my $part (qw(probes rls bulk sweep))
	{
		is($got->{$part}, $want->{$part}, "$name: $part");
	}
	return;
}

# What the probes should answer: the fixture's state, then each step's turns.
my %expected = (
	a_u4_prod_model_read => 'false',
	b_u2_prod_model_create => 'true',
	b_u2_prod_own_delete => 'true',
	c_u2_dev_dataset_delete => 'true',
	c_u3_prod_model_create => 'false',
	c_u3_prod_model_read => 'true',
	d_u8_globex_tenant_create => 'true',
	d_u8_main_model_create => 'true',
	e_u2_main2_update => 'false',
	f_u3_dev2_update => 'true',
	f_u3_dev_model_create => 'true',
	g_u7_main_model_read => 'true');
sub expected_probes
{
	return join ' ', map { "$_=$expected{$_}" } sort keys %expected;
}

my $before = fresh_state($primary);
is($before->{probes}, expected_probes(), 'primary: the probes answer as the fixture says');
like($before->{rls}, qr/^u2 sees dev-1,dev-2,dev-3,main-1,main-2,prod-1,prod-2,prod-3$/m,
	'primary: u2 sees its rows through row-level security');
like($before->{rls}, qr/^u5 principal 28000$/m, 'primary: the deactivated u5 cannot be set');
my @cells = split /\n/, $before->{sweep};
cmp_ok(scalar(@cells), '>', 100, 'the sweep is not empty (' . scalar(@cells) . ' allowed cells)');
note 'sweep covers ' . decision_summary($primary, $db);
is(decision_summary($standby, $db), decision_summary($primary, $db), 'the standby has the same catalog');

same_state(fresh_state($standby), $before, 'standby after the base backup');
same_state(warm_state(), $before, 'warm standby session, first use');
like($warm->query_safe('SELECT principals FROM zenml_rbac.cache_stats()'), qr/^[1-9]\d*$/,
	'the warm session has principals cached');

# ---------------------------------------------------------------------
# The changes, one step at a time
# ---------------------------------------------------------------------
my @steps = (
	[ 'grant_tenant_role (u4 viewer in prod)',
		q{SELECT zenml_rbac.grant_tenant_role(fxid('prod'), fxid('u4'), 'viewer')},
		{ a_u4_prod_model_read => 'true' } ],
	[ 'revoke_tenant_role (u2 editor in prod)',
		q{SELECT zenml_rbac.revoke_tenant_role(fxid('prod'), fxid('u2'), 'editor')},
		{ b_u2_prod_model_create => 'false', b_u2_prod_own_delete => 'false' } ],
	[ 'custom-role edits (curator loses dataset:delete, auditor gains model:create, loses model:read)',
		q{SELECT zenml_rbac.role_disallow(fxid('dev'), 'curator', 'dataset', 'delete');
		  SELECT zenml_rbac.role_allow(fxid('prod'), 'auditor', 'model', 'create');
		  SELECT zenml_rbac.role_disallow(fxid('prod'), 'auditor', 'model', 'read')},
		{ c_u2_dev_dataset_delete => 'false', c_u3_prod_model_create => 'true',
		  c_u3_prod_model_read => 'false' } ],
	[ 'deactivate_user (u8)',
		q{SELECT zenml_rbac.deactivate_user(fxid('u8'))},
		{ d_u8_globex_tenant_create => 'false', d_u8_main_model_create => 'false' } ],
	[ 'share_resource (main-2 update to u2, a bulk row read to u4)',
		q{SELECT zenml_rbac.share_resource(fxid('main'), 'model/' || m.id, fxid('u2'), ARRAY['update'])
		    FROM public.models m WHERE m.name = 'main-2';
		  SELECT zenml_rbac.share_resource(b.tenant_id, 'model/' || b.id, fxid('u4'), ARRAY['read'])
		    FROM public.bulk b JOIN zenml_rbac.tenant t ON t.id = b.tenant_id
		   WHERE t.org_id = (SELECT org_id FROM zenml_rbac.tenant WHERE id = fxid('prod'))
		     AND NOT zenml_rbac.rbac_can(fxid('u4'), b.tenant_id, 'model', 'read')
		   ORDER BY b.name LIMIT 1},
		{ e_u2_main2_update => 'true' } ],
	[ 'remove_team_member (u3 from ml)',
		q{SELECT zenml_rbac.remove_team_member(fxid('ml'), fxid('u3'))},
		{ f_u3_dev_model_create => 'false', f_u3_dev2_update => 'false' } ],
	[ 'delete_tenant (main)',
		q{SELECT zenml_rbac.delete_tenant(fxid('main'))},
		{ g_u7_main_model_read => 'false', e_u2_main2_update => 'false' } ],
);

for my $step (@steps)
{
	my ($name, $sql, $turns) = @$step;

	# warm the session's cache with the current answers
	same_state(warm_state(), $before, "$name: warm session before the change");
	$txn->query_safe('BEGIN ISOLATION LEVEL REPEATABLE READ');
	is($txn->query_safe($probe_sql), $before->{probes}, "$name: open transaction, before the change");

	$standby->safe_psql($db, 'SELECT pg_wal_replay_pause()');
	$standby->poll_query_until($db, q{SELECT pg_get_wal_replay_pause_state() = 'paused'})
	  or die 'replay did not pause';

	$primary->safe_psql($db, $sql);
	@expected{ keys %$turns } = values %$turns;
	my $after = fresh_state($primary);
	is($after->{probes}, expected_probes(), "$name: primary probes turned");
	isnt($after->{sweep}, $before->{sweep}, "$name: the primary's sweep changed");

	# the change's WAL is on the standby, not replayed: still the old answers
	$primary->wait_for_catchup($standby, 'flush');
	same_state(warm_state(), $before, "$name: warm session, WAL received, replay paused");
	is(decisions($standby, $db), $before->{sweep}, "$name: fresh standby session, replay paused: old sweep");
	is($txn->query_safe($probe_sql), $before->{probes}, "$name: open transaction, replay paused: old probes");

	$standby->safe_psql($db, 'SELECT pg_wal_replay_resume()');
	$primary->wait_for_catchup($standby, 'replay');
	same_state(warm_state(), $after, "$name: warm session after replay");
	same_state(fresh_state($standby), $after, "$name: fresh standby session after replay");
	is($txn->query_safe($probe_sql), $after->{probes}, "$name: open transaction after replay: new probes");
	$txn->query_safe('COMMIT');

	$before = $after;
}

is($warm->query_safe(
		q{SELECT generic_plans > 100 AND custom_plans = 0 FROM pg_prepared_statements WHERE name = 'bulk_count'}),
	't', 'the warm session answered every change through its cached generic plan');

# ---------------------------------------------------------------------
# Fine-grained invalidation on the standby: the replayed commit names the
# entries a change affects, and the warm session reloads those, not all
# ---------------------------------------------------------------------
my $loads_sql = 'SELECT loads FROM zenml_rbac.cache_stats()';
my $entries_sql = 'SELECT principals + resources + roles FROM zenml_rbac.cache_stats()';
$primary->safe_psql($db, q{SELECT zenml_rbac.create_tenant(fxid('acme'), 'fg')});
$primary->wait_for_catchup($standby, 'replay');
$before = fresh_state($primary);
same_state(warm_state(), $before, 'fine-grained: warm session, with a new tenant');
my $entries = $warm->query_safe($entries_sql);
my $loads = $warm->query_safe($loads_sql);
same_state(warm_state(), $before, 'fine-grained: a second pass');
is($warm->query_safe($loads_sql), $loads, 'fine-grained: a warm pass loads nothing');
for my $change (
	[ 'a tenant role for u1 in the new tenant',
		q{SELECT zenml_rbac.grant_tenant_role((SELECT id FROM zenml_rbac.tenant WHERE name = 'fg'), fxid('u1'), 'viewer')} ],
	[ 'a share of prod-2 with sa1 for update',
		q{SELECT zenml_rbac.share_resource(fxid('prod'), 'model/' || m.id, fxid('sa1'), ARRAY['update'])
		    FROM public.models m WHERE m.name = 'prod-2'} ])
{
	my ($name, $sql) = @$change;
	$primary->safe_psql($db, $sql);
	$primary->wait_for_catchup($standby, 'replay');
	my $after = fresh_state($primary);
	isnt($after->{sweep}, $before->{sweep}, "fine-grained, $name: the sweep changed");
	$loads = $warm->query_safe($loads_sql);
	same_state(warm_state(), $after, "fine-grained, $name: warm session after replay");
	my $reloaded = $warm->query_safe($loads_sql) - $loads;
	cmp_ok($reloaded, '>=', 1, "fine-grained, $name: the affected entries were reloaded");
	cmp_ok($reloaded * 4, '<', $entries, "fine-grained, $name: $reloaded of $entries entries reloaded");
	$before = $after;
}

like($before->{rls}, qr/^u8 principal 28000$/m, 'the deactivated u8 cannot be set');
like($before->{rls}, qr/^u2 sees dev-1,dev-2,dev-3$/m,
	'u2 lost prod (revoked) and main (deleted), kept dev');
is($warm->query_safe('SELECT pg_backend_pid()'), $warm_pid, 'the warm session was one backend throughout');
$warm->quit;
$txn->quit;

# ---------------------------------------------------------------------
# Read-only use of the standby writes nothing
# ---------------------------------------------------------------------
my $audit_count_sql = 'SELECT count(*) FROM zenml_rbac.audit_log';
my $key_row_sql = qq{SELECT k::text FROM zenml_rbac.api_key k
    WHERE k.key_hash = sha256(convert_to('$api_key', 'UTF8'))};
my $audit_count = $primary->safe_psql($db, $audit_count_sql);
my $key_row = $primary->safe_psql($db, $key_row_sql);
is($primary->safe_psql($db, qq{SELECT last_used_at IS NULL FROM zenml_rbac.api_key k
    WHERE k.key_hash = sha256(convert_to('$api_key', 'UTF8'))}), 't', 'the key was never used');

my $read_only_sql = <<"SQL";
BEGIN;
SET LOCAL ROLE fixture_app;
SELECT 'authenticate ' || (zenml_rbac.authenticate('$api_key') = fxid('sa1'));
SELECT 'current ' || (zenml_rbac.current_principal() = fxid('sa1'));
SELECT 'can ' || zenml_rbac.rbac_can(fxid('prod'), 'model', 'read') || ' '
       || zenml_rbac.rbac_can('acme/prod', 'model', 'create');
SELECT 'sa1 sees ' || string_agg(name, ',' ORDER BY name) FROM public.models;
COMMIT;
BEGIN;
SET LOCAL ROLE fixture_app;
SELECT zenml_rbac.set_principal(fxid('u2'));
SELECT 'u2 current ' || (zenml_rbac.current_principal() = fxid('u2'));
SELECT 'u2 can ' || zenml_rbac.rbac_can(fxid('dev'), 'model', 'create') || ' '
       || zenml_rbac.rbac_can('acme/dev', 'model', 'delete');
COMMIT;
SQL
my $views_sql = <<'SQL';
SELECT 'verify ' || v::text FROM zenml_rbac.verify_audit_log() v;
SELECT 'head ' || h::text FROM zenml_rbac.audit_head() h;
SELECT 'audit_events ' || count(*) || ' ' || md5(string_agg(e::text, ',' ORDER BY e.chain, e.seq))
  FROM zenml_rbac.audit_events e;
SELECT 'effective_permissions ' || count(*) || ' ' || md5(string_agg(e::text, ',' ORDER BY e::text))
  FROM zenml_rbac.effective_permissions e;
SELECT 'access_review ' || count(*) || ' ' || md5(string_agg(e::text, ',' ORDER BY e::text))
  FROM zenml_rbac.access_review e;
SELECT 'tenant_members ' || count(*) || ' ' || md5(string_agg(e::text, ',' ORDER BY e::text))
  FROM zenml_rbac.tenant_members e;
SELECT 'role_permissions ' || count(*) || ' ' || md5(string_agg(e::text, ',' ORDER BY e::text))
  FROM zenml_rbac.role_permissions e;
SQL

my $log_offset = -s $standby->logfile;
my $standby_read_only = $standby->safe_psql($db, $read_only_sql);
my $standby_views = $standby->safe_psql($db, $views_sql);
like($standby_read_only, qr/^authenticate true$/m, 'standby: authenticate(api_key) works');
like($standby_read_only, qr/^current true$/m, 'standby: the key acts as sa1');
like($standby_read_only, qr/^can true false$/m, 'standby: current-principal checks answer');
like($standby_read_only, qr/^sa1 sees prod-1,prod-2,prod-3$/m, 'standby: sa1 sees prod through RLS');
like($standby_read_only, qr/^u2 current true$/m, 'standby: set_principal works');
like($standby_views, qr/^verify \(t,\d+,,,\)$/m, 'standby: verify_audit_log() says valid');
my $standby_log = slurp_file($standby->logfile, $log_offset);
unlike($standby_log, qr/ERROR|FATAL|PANIC/, 'standby log: no error from read-only use');
unlike($standby_log, qr/read-only transaction|recovery is in progress/,
	'standby log: no write was attempted');

is($primary->safe_psql($db, $audit_count_sql), $audit_count, 'primary: no audit event from standby use');
is($primary->safe_psql($db, $key_row_sql), $key_row, 'primary: the key row is unchanged by standby use');
is($standby->safe_psql($db, $key_row_sql), $key_row, 'standby: the key row is unchanged too');

# the same on the primary: same answers, and there the bookkeeping happens
my $primary_views = $primary->safe_psql($db, $views_sql);
is($standby_views, $primary_views, 'standby: audit verification, head and reporting views equal the primary\'s');
is($primary->safe_psql($db, $read_only_sql), $standby_read_only, 'primary: the same answers');
is($primary->safe_psql($db, qq{SELECT last_used_at IS NOT NULL FROM zenml_rbac.api_key k
    WHERE k.key_hash = sha256(convert_to('$api_key', 'UTF8'))}), 't',
	'primary: authenticate() there records last_used_at (what the standby skipped)');

# A write attempted on the standby is refused as read-only, and the
# standby carries on.
$log_offset = -s $standby->logfile;
my ($rc, $out, $err) = $standby->psql($db,
	qq{\\set VERBOSITY verbose\nSELECT zenml_rbac.grant_tenant_role(fxid('dev'), fxid('u1'), 'viewer');});
isnt($rc, 0, 'standby: grant_tenant_role fails');
like($err, qr/ERROR:  25006: cannot execute .* in a read-only transaction/, 'standby: grant_tenant_role is 25006');
($rc, $out, $err) = $standby->psql($db, qq{\\set VERBOSITY verbose
BEGIN;
SET LOCAL ROLE fixture_app;
SELECT zenml_rbac.set_principal(fxid('u4'));
INSERT INTO public.models (tenant_id, name) VALUES (fxid('prod'), 'on-standby');
COMMIT;});
like($err, qr/ERROR:  25006: cannot execute INSERT in a read-only transaction/,
	'standby: an insert into a protected table is 25006');
($rc, $out, $err) = $standby->psql($db, qq{\\set VERBOSITY verbose
SELECT zenml_rbac.authenticate('zrk_' || repeat('0', 64));});
like($err, qr/ERROR:  28P01: invalid API key/, 'standby: a wrong key is 28P01 as on the primary');
$standby_log = slurp_file($standby->logfile, $log_offset);
like($standby_log, qr/ERROR:  cannot execute .* in a read-only transaction/,
	'standby log: the refused write is logged (the check above can see one)');
unlike($standby_log, qr/terminated by signal|PANIC/, 'standby log: no crash');
is($standby->safe_psql($db, q{SELECT zenml_rbac.rbac_can(fxid('u4'), fxid('prod'), 'model', 'read')}), 't',
	'the standby still answers');

$standby->stop;
$primary->stop;
done_testing();
