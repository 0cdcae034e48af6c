# A protected table survives pg_dump/pg_restore into a fresh database (and a
# plain-text dump replayed with psql): same protection, same rows visible to
# each principal, writes still checked, rows still registering.
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

my $node = PostgreSQL::Test::Cluster->new('dump');
$node->init;
$node->start;

$node->safe_psql('postgres', 'CREATE DATABASE source');
$node->safe_psql('source', <<'SQL');
CREATE EXTENSION zenml_rbac;
SELECT zenml_rbac.register_resource_type('model');
CREATE ROLE dump_app LOGIN;
GRANT EXECUTE ON FUNCTION zenml_rbac.set_principal(uuid) TO dump_app;

CREATE TABLE fixture AS
SELECT zenml_rbac.create_organization('acme') AS org;
ALTER TABLE fixture ADD t1 uuid, ADD t2 uuid, ADD alice uuid, ADD bob uuid, ADD carol uuid;
UPDATE fixture SET t1 = zenml_rbac.create_tenant(org, 'one'), t2 = zenml_rbac.create_tenant(org, 'two'),
                   alice = zenml_rbac.create_user('alice'), bob = zenml_rbac.create_user('bob'),
                   carol = zenml_rbac.create_user('carol');
SELECT zenml_rbac.set_org_role(org, p, 'org_viewer') FROM fixture, unnest(ARRAY[alice, bob, carol]) p;
SELECT zenml_rbac.grant_tenant_role(t1, alice, 'editor') FROM fixture;
SELECT zenml_rbac.grant_tenant_role(t2, bob, 'viewer') FROM fixture;
SELECT zenml_rbac.grant_tenant_role(t2, carol, 'editor') FROM fixture;

CREATE TABLE models (
    id        uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL,
    owner_id  uuid,
    name      text NOT NULL
);
CREATE INDEX ON models (tenant_id);
GRANT SELECT, INSERT, UPDATE, DELETE ON models TO dump_app;
GRANT SELECT ON fixture TO dump_app;
SELECT zenml_rbac.protect('models', 'model', 'tenant_id', 'id', 'owner_id');
SQL

# Rows written by principals through the application role.
sub as_principal
{
	my ($node, $db, $who, $sql) = @_;
	return $node->psql(
		$db, qq{
SET ROLE dump_app;
BEGIN;
SELECT zenml_rbac.set_principal((SELECT $who FROM fixture));
$sql
COMMIT;});
}

is(as_principal($node, 'source', 'alice',
		"INSERT INTO models (tenant_id, name) SELECT t1, 'a' || g FROM fixture, generate_series(1, 3) g;"),
	0, 'alice inserts into tenant one');
is(as_principal($node, 'source', 'carol',
		"INSERT INTO models (tenant_id, name) SELECT t2, 'c' || g FROM fixture, generate_series(1, 2) g;"),
	0, 'carol inserts into tenant two');
is(as_principal($node, 'source', 'alice',
		"SELECT zenml_rbac.share_resource(t1, 'model/' || m.id, bob, ARRAY['read']) FROM fixture, models m WHERE m.name = 'a1';"),
	0, 'alice shares one model with bob');

# What each principal sees, as "name,name,...".
sub visible
{
	my ($node, $db, $who) = @_;
	my $out = $node->safe_psql(
		$db, qq{
SET ROLE dump_app;
BEGIN;
SELECT zenml_rbac.set_principal((SELECT $who FROM fixture));
SELECT string_agg(name, ',' ORDER BY name) FROM models;
COMMIT;});
	my @lines = grep { $_ ne '' } split /\n/, $out;
	return $lines[-1] // '';
}

my %before = map { $_ => visible($node, 'source', $_) } qw(alice bob carol);
is($before{alice}, 'a1,a2,a3', 'alice sees tenant one');
is($before{bob}, 'a1,c1,c2', 'bob sees tenant two and the shared model');
is($before{carol}, 'c1,c2', 'carol sees tenant two');

my $protection = q{SELECT table_name, resource_type, tenant_column, id_column, owner_column,
    rls_enabled, policies, triggers, problems FROM zenml_rbac.protected_tables};
my $registry = q{SELECT count(*) FROM zenml_rbac.resource r JOIN models m ON m.id = r.resource_id
    AND m.tenant_id = r.tenant_id AND m.owner_id IS NOT DISTINCT FROM r.owner_id};
my $source_protection = $node->safe_psql('source', $protection);
my $policies = $node->safe_psql('source',
	q{SELECT string_agg(polname || ':' || pg_get_expr(polqual, polrelid) || ':' || coalesce(pg_get_expr(polwithcheck, polrelid), ''), E'\n' ORDER BY polname) FROM pg_policy});

# The audit log: the source's chain, event by event, with its hashes.
my $source_chain = q{SELECT string_agg(a.seq || ':' || a.operation || ':' || a.object_kind || ':' || encode(a.hash, 'hex'), ',' ORDER BY a.seq)
    FROM zenml_rbac.audit_log a WHERE a.chain = '%s'};
my $chain_id = $node->safe_psql('source', 'SELECT chain FROM zenml_rbac.audit_local_chain');
my $source_events = $node->safe_psql('source', sprintf($source_chain, $chain_id));
ok($source_events ne '', 'the source has audit events');
is($node->safe_psql('source', 'SELECT valid FROM zenml_rbac.verify_audit_log()'), 't',
	'the source chain verifies');

my $dumpfile = $node->basedir . '/source.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-f', $dumpfile, '-d', 'source' ], 'pg_dump -Fc');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok([ 'pg_restore', '--exit-on-error', '-d', 'restored', $dumpfile ],
	'pg_restore into a fresh database');

my $plainfile = $node->basedir . '/source.sql';
$node->command_ok([ 'pg_dump', '-f', $plainfile, '-d', 'source' ], 'pg_dump plain');
$node->safe_psql('postgres', 'CREATE DATABASE replayed');
$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', 'replayed', '-f', $plainfile ],
	'plain dump replays with psql');

for my $db (qw(restored replayed))
{
	is($node->safe_psql($db, $protection), $source_protection,
		"$db: protected_tables lists the same protection, no problems");
	is($node->safe_psql($db,
		q{SELECT string_agg(polname || ':' || pg_get_expr(polqual, polrelid) || ':' || coalesce(pg_get_expr(polwithcheck, polrelid), ''), E'\n' ORDER BY polname) FROM pg_policy}),
		$policies, "$db: same policies");
	is($node->safe_psql($db, $registry), '5', "$db: every row is still registered with its owner");
	is($node->safe_psql($db, sprintf($source_chain, $chain_id)), $source_events,
		"$db: the source's audit chain came along unchanged");
	isnt($node->safe_psql($db, 'SELECT chain FROM zenml_rbac.audit_local_chain'), $chain_id,
		"$db: the restored database appends to a chain of its own");
	is($node->safe_psql($db, 'SELECT valid FROM zenml_rbac.verify_audit_log()'), 't',
		"$db: every chain verifies after the restore");
	for my $who (qw(alice bob carol))
	{
		is(visible($node, $db, $who), $before{$who}, "$db: $who sees what they saw before");
	}

	my ($rc, $out, $err) = $node->psql($db, qq{
SET ROLE dump_app;
BEGIN;
SELECT zenml_rbac.set_principal((SELECT bob FROM fixture));
INSERT INTO models (tenant_id, name) SELECT t2, 'forbidden' FROM fixture;
COMMIT;});
	like($err, qr/permission denied for table models: model:create/, "$db: a viewer's insert is still refused");

	is(as_principal($node, $db, 'carol',
			"INSERT INTO models (tenant_id, name) SELECT t2, 'new' FROM fixture;"),
		0, "$db: an editor still inserts");
	is($node->safe_psql($db, $registry), '6', "$db: the new row registered itself");
	is(visible($node, $db, 'bob'), 'a1,c1,c2,new', "$db: and a viewer of its tenant sees it");
	is($node->safe_psql($db, q{SELECT count(*) FROM zenml_rbac.audit_events a
	    JOIN zenml_rbac.audit_local_chain l ON l.chain = a.chain
	    WHERE a.object_kind = 'resource' AND a.operation = 'INSERT' AND a.after->>'resource_id' IN (SELECT id::text FROM models WHERE name = 'new')}),
		'1', "$db: the new row's registration is audited in the new chain");
	is($node->safe_psql($db, 'SELECT valid FROM zenml_rbac.verify_audit_log()'), 't',
		"$db: and the chains still verify");

	# purging both chains, then only the local one: the second PURGE event
	# must still record the restored chain's anchor
	$node->safe_psql($db, 'SELECT zenml_rbac.purge_audit_log(clock_timestamp())');
	$node->safe_psql($db, "SELECT zenml_rbac.create_user('after_purge_$db')");
	$node->safe_psql($db, 'SELECT zenml_rbac.purge_audit_log(clock_timestamp())');
	is($node->safe_psql($db, 'SELECT count(*) FROM zenml_rbac.audit_chain WHERE anchor_seq > 0'), '2',
		"$db: both chains were purged");
	is($node->safe_psql($db, q{SELECT valid || ' ' || coalesce(problem, '') FROM zenml_rbac.verify_audit_log()}), 'true ',
		"$db: two purges later every chain still verifies");
}

$node->stop;
done_testing();
