# Every decision survives pg_dump into a second, fresh cluster.  A populated
# catalog (test/t/fixture.sql plus a few hundred more audited changes, a
# second protected table of another type, shares, a custom role narrowed
# after the fact, a rotated API key) is dumped with pg_dump -Fc and as plain
# SQL, restored with pg_restore --exit-on-error and psql -v ON_ERROR_STOP=1
# into databases of another cluster that has nothing but the application
# role, and compared with the source on:
#   - the full decision sweep (RbacSweep.pm) and what it covered;
#   - for every principal (users, service account, team, deactivated user):
#     whether it may act at all, how many rows of each protected table it
#     sees, and which rows it may UPDATE and DELETE;
#   - the service account: its current API key still authenticates, its
#     retired one does not, and rbac_can in the current-principal form
#     answers as in the source;
#   - the audit log: every chain verifies and the source's chain came along
#     event for event.
# Then one role is revoked in one restored database, and the sweep must see
# the difference.
use strict;
use warnings;

# Cluster->init runs pg_regress --config-auth; PGXS installs it here.
BEGIN
{
	chomp(my $pkglib = `pg_config --pkglibdir`);
	$ENV{PG_REGRESS} //= "$pkglib/pgxs/src/test/regress/pg_regress";
}

use FindBin;
use lib $FindBin::RealBin;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use RbacSweep qw(decisions decision_summary);

# Runs a client program; returns its exit code, stdout and stderr.
sub run_client
{
	my @cmd = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run(\@cmd, '<', \undef, '>', \$out, '2>', \$err);
	return ($? >> 8, $out, $err);
}

# is() for line lists, but on failure it shows only the lines that differ.
sub same_lines
{
	my ($got, $expected, $name) = @_;
	my %g = map { $_ => 1 } split /\n/, $got;
	my %e = map { $_ => 1 } split /\n/, $expected;
	my @missing = grep { !$g{$_} } split /\n/, $expected;
	my @extra = grep { !$e{$_} } split /\n/, $got;
	my $ok = ok($got eq $expected, $name);
	diag(join("\n", (map { "- $_" } @missing[0 .. ($#missing < 19 ? $#missing : 19)]),
			(map { "+ $_" } @extra[0 .. ($#extra < 19 ? $#extra : 19)]),
			scalar(@missing) . ' lines missing, ' . scalar(@extra) . ' extra'))
	  unless $ok;
	return $ok;
}

# ---------------------------------------------------------------------------
# The source: the shared fixture, then more activity.

my $src = PostgreSQL::Test::Cluster->new('sweep_source');
$src->init;
$src->start;
$src->safe_psql('postgres', 'CREATE DATABASE source');
$src->safe_psql('source', 'CREATE EXTENSION zenml_rbac');

my ($rc, $out, $err) = run_client('psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1',
	'-d', $src->connstr('source'), '-f', "$FindBin::RealBin/fixture.sql");
is($rc, 0, 'fixture.sql runs in the source');
is($err, '', 'fixture.sql prints no error');

# id of a fixture name
my %id = map { split /\|/ } split /\n/,
  $src->safe_psql('source', 'SELECT name, id FROM fx ORDER BY name');

# A second protected table, of another type and without an owner column.
$src->safe_psql('source', <<'SQL');
CREATE TABLE datasets (
    id        uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL,
    name      text NOT NULL
);
CREATE INDEX ON datasets (tenant_id);
GRANT SELECT, INSERT, UPDATE, DELETE ON datasets TO fixture_app;
SELECT zenml_rbac.protect('datasets', 'dataset', 'tenant_id', 'id');
SQL

# $sql in one transaction as fixture_app acting as the named principal.
sub as_principal
{
	my ($node, $db, $who, $sql) = @_;
	my ($rc, $out, $err) = $node->psql(
		$db, qq{
SET ROLE fixture_app;
BEGIN;
SELECT zenml_rbac.set_principal((SELECT id FROM fx WHERE name = '$who'));
$sql
COMMIT;});
	return $err eq '' ? $rc : "$rc: $err";
}

# u2: editor in prod, curator (editor + dataset delete) in dev; u4 reaches
# dev only through team ml; u8 is an editor in globex/main.
my $in = q{INSERT INTO datasets (tenant_id, name)
    SELECT (SELECT id FROM fx WHERE name = '%s'), '%s-ds-' || g FROM generate_series(1, %d) g;};
is(as_principal($src, 'source', 'u2', sprintf($in, 'prod', 'prod', 10) . sprintf($in, 'dev', 'dev', 10)),
	0, 'u2 writes datasets into prod and dev');
is(as_principal($src, 'source', 'u4', sprintf($in, 'dev', 'team', 5)),
	0, 'u4 writes datasets into dev through team ml');
is(as_principal($src, 'source', 'u8', sprintf($in, 'main', 'main', 10)),
	0, 'u8 writes datasets into main');
is(as_principal($src, 'source', 'u2', q{
SELECT zenml_rbac.share_resource(d.tenant_id, 'dataset/' || d.id, (SELECT id FROM fx WHERE name = 'u4'), ARRAY['read'])
  FROM datasets d WHERE d.name = 'prod-ds-1';
SELECT zenml_rbac.share_resource(d.tenant_id, 'dataset/' || d.id, (SELECT id FROM fx WHERE name = 'sa1'), ARRAY['read', 'update'])
  FROM datasets d WHERE d.name = 'dev-ds-3';
DELETE FROM datasets WHERE name = 'dev-ds-10';}),
	0, 'u2 shares two datasets and, as curator, deletes one');

# Management churn so that the audit log has a few hundred events, and a
# custom role narrowed after it was used; then a rotated API key (the
# fixture's key and the first one here are retired at once).
$src->safe_psql('source', <<'SQL');
DO $$
DECLARE
    main uuid := (SELECT id FROM fx WHERE name = 'main');
    u7 uuid := (SELECT id FROM fx WHERE name = 'u7');
    ml uuid := (SELECT id FROM fx WHERE name = 'ml');
    u1 uuid := (SELECT id FROM fx WHERE name = 'u1');
BEGIN
    FOR i IN 1..100 LOOP
        PERFORM zenml_rbac.grant_tenant_role(main, u7, 'editor');
        PERFORM zenml_rbac.revoke_tenant_role(main, u7, 'editor');
    END LOOP;
    FOR i IN 1..10 LOOP
        PERFORM zenml_rbac.add_team_member(ml, u1);
        PERFORM zenml_rbac.remove_team_member(ml, u1);
    END LOOP;
END
$$;
INSERT INTO fx SELECT 'u9', zenml_rbac.create_user('u9');
SELECT zenml_rbac.set_org_role((SELECT id FROM fx WHERE name = 'globex'), (SELECT id FROM fx WHERE name = 'u9'), 'org_viewer');
SELECT zenml_rbac.grant_tenant_role((SELECT id FROM fx WHERE name = 'main'), (SELECT id FROM fx WHERE name = 'u9'), 'editor');
SELECT zenml_rbac.role_disallow((SELECT id FROM fx WHERE name = 'dev'), 'curator', 'dataset', 'share');
SELECT zenml_rbac.role_disallow((SELECT id FROM fx WHERE name = 'prod'), 'auditor', 'dataset', 'read');
-- a custom role based on a custom role (role references itself)
SELECT zenml_rbac.create_role((SELECT id FROM fx WHERE name = 'dev'), 'junior', 'curator without model create', 'curator');
SELECT zenml_rbac.role_disallow((SELECT id FROM fx WHERE name = 'dev'), 'junior', 'model', 'create');
SELECT zenml_rbac.grant_tenant_role((SELECT id FROM fx WHERE name = 'dev'), (SELECT id FROM fx WHERE name = 'u1'), 'junior');
SQL
my $old_key = $src->safe_psql('source', q{SELECT zenml_rbac.create_api_key((SELECT id FROM fx WHERE name = 'sa1'))});
my $key = $src->safe_psql('source', q{SELECT zenml_rbac.rotate_api_key((SELECT id FROM fx WHERE name = 'sa1'), '0')});
like($key, qr/^zrk_[0-9a-f]+$/, 'a new API key for sa1');
isnt($key, $old_key, 'rotation issued a different key');

# ---------------------------------------------------------------------------
# What a database decides, as text.

my @principals = map { [ split /\|/ ] } split /\n/,
  $src->safe_psql('source', 'SELECT id, name, kind, active FROM zenml_rbac.principal ORDER BY kind, name');
my %kinds = map { ($_->[2] . ($_->[3] eq 't' ? '' : ' (inactive)')) => 1 } @principals;
is(join(',', sort keys %kinds), 'service_account,team,user,user (inactive)',
	'the principals include users, a service account, a team and a deactivated user');

# For every principal, in one session as fixture_app: may it act, how many
# rows of each table it sees (and which), which it may update and delete
# (rolled back).  A principal that may not act yields its SQLSTATE.
my $rls_script = "SET ROLE fixture_app;\n";
for my $p (@principals)
{
	my ($pid, $name) = @$p;
	$rls_script .= qq{\\echo principal $name
BEGIN;
SELECT zenml_rbac.set_principal('$pid');
\\if :ERROR
\\echo refused :LAST_ERROR_SQLSTATE
ROLLBACK;
\\else
};
	for my $tbl (qw(models datasets))
	{
		$rls_script .= qq{SELECT '$tbl visible ' || count(*) || ' ' || md5(coalesce(string_agg(id::text, ',' ORDER BY id), '')) FROM $tbl;
WITH w AS (UPDATE $tbl SET name = name RETURNING id)
SELECT '$tbl update ' || count(*) || ' ' || coalesce(string_agg(id::text, ',' ORDER BY id), '') FROM w;
WITH w AS (DELETE FROM $tbl RETURNING id)
SELECT '$tbl delete ' || count(*) || ' ' || coalesce(string_agg(id::text, ',' ORDER BY id), '') FROM w;
};
	}
	$rls_script .= "ROLLBACK;\n\\endif\n";
}

sub rls_sweep
{
	my ($node, $db) = @_;
	my ($rc, $out, $err) = $node->psql($db, $rls_script, on_error_stop => 0);
	# the only errors allowed are those of principals that may not act
	my @unexpected = grep {
		$_ ne ''
		  && !/^psql:<stdin>:\d+: ERROR:  principal [0-9a-f-]{36} cannot act$/
		  && !/^DETAIL:  Only an existing, active user or service account can be the acting principal\.$/
	} split /\n/, $err;
	return (join("\n", grep { $_ ne '' } split /\n/, $out), join("\n", @unexpected));
}

# sa1 through its API key: whether the key authenticates, to whom, and every
# allowed cell of rbac_can(tenant, resource, action) for the current
# principal, plus the rows it sees.  The cells (every tenant x type, every
# registered instance) are listed from the source's catalog, since
# fixture_app may not read it.
my $targets = $src->safe_psql('source', q{
SELECT string_agg(format('(%L::uuid, %L)', scope, target), ', ')
  FROM (SELECT t.id AS scope, rt.name AS target FROM zenml_rbac.tenant t, zenml_rbac.resource_type rt
        UNION ALL
        SELECT tenant_id, resource_type || '/' || resource_id FROM zenml_rbac.resource) c});
my $key_sql = <<"SQL";
SET ROLE fixture_app;
BEGIN;
SELECT 'authenticated as ' || zenml_rbac.authenticate('$key');
WITH actions(action) AS (VALUES ('create'), ('read'), ('update'), ('delete'), ('share')),
targets(scope, target) AS (VALUES $targets)
SELECT format('%s %s %s', scope, target, action) FROM targets, actions
 WHERE zenml_rbac.rbac_can(scope, target, action)
 ORDER BY scope, target, action;
SELECT 'models ' || count(*) FROM models;
SELECT 'datasets ' || count(*) FROM datasets;
ROLLBACK;
SQL

my $chain_sql = q{SELECT count(*) || ' ' || md5(string_agg(seq || ':' || encode(hash, 'hex'), ',' ORDER BY seq))
    FROM zenml_rbac.audit_log WHERE chain = '%s'};
my $protection_sql = q{SELECT table_name, resource_type, tenant_column, id_column, owner_column,
    rls_enabled, policies, triggers, problems FROM zenml_rbac.protected_tables ORDER BY table_name::text};

# Everything compared, for one database.
sub snapshot
{
	my ($node, $db, $chain) = @_;
	my %s;
	$s{decisions} = decisions($node, $db);
	$s{summary} = decision_summary($node, $db);
	($s{rls}, $s{rls_errors}) = rls_sweep($node, $db);
	my ($rc, $out, $err) = $node->psql($db, $key_sql);
	$s{key} = $out;
	$s{key_errors} = $err;
	($rc, $out, $err) = $node->psql($db,
		"SET ROLE fixture_app; BEGIN; SELECT zenml_rbac.authenticate('$old_key'); ROLLBACK;");
	$s{old_key} = $err =~ /ERROR:  invalid API key/ ? 'refused' : "rc $rc: $out $err";
	$s{chain} = $node->safe_psql($db, sprintf($chain_sql, $chain));
	$s{verify} = $node->safe_psql($db,
		q{SELECT valid || ' ' || coalesce(problem, '') FROM zenml_rbac.verify_audit_log()});
	$s{checked} = $node->safe_psql($db, 'SELECT events_checked FROM zenml_rbac.verify_audit_log()');
	$s{protection} = $node->safe_psql($db, $protection_sql);
	return \%s;
}

my $chain = $src->safe_psql('source', 'SELECT chain FROM zenml_rbac.audit_local_chain');
my $before = snapshot($src, 'source', $chain);
note(join("\n", map { s/^((?:models|datasets) \S+ \d+) .*/$1/r } split /\n/, $before->{rls}));

# The source itself, so that the comparisons below are not between empties.
my @decision_lines = split /\n/, $before->{decisions};
my ($np, $nt, $nr, $no) = $before->{summary} =~ /^(\d+) principals, (\d+) tenants, (\d+) resources, (\d+) organizations$/;
is($np, scalar @principals, 'the sweep covers every principal');
cmp_ok($nt, '>=', 3, 'the sweep covers the three tenants');
my $rows = $src->safe_psql('source', 'SELECT (SELECT count(*) FROM models) + (SELECT count(*) FROM datasets)');
is($nr, $rows, 'the sweep covers a registered resource for every row of both protected tables');
cmp_ok($no, '>=', 2, 'the sweep covers both organizations');
ok((grep { m{ dataset/[0-9a-f-]{36} } } @decision_lines) && (grep { m{ model/[0-9a-f-]{36} } } @decision_lines)
	  && (grep { / org:member / } @decision_lines),
	'the allowed cells include dataset and model instances and organization capabilities');
is($before->{rls_errors}, '', 'the RLS sweep raised no unexpected error in the source');
my @refused = $before->{rls} =~ /^principal (\S+)\nrefused 28000$/mg;
is(join(',', sort @refused), 'ml,u5', 'in the source the team and the deactivated user may not act, all others may');
my @saw = $before->{rls} =~ /^datasets visible ([1-9]\d*) /mg;
my @saw_none = $before->{rls} =~ /^datasets visible (0) /mg;
ok(@saw >= 5 && @saw_none >= 1,
	'principals see different datasets: ' . scalar(@saw) . ' see some, ' . scalar(@saw_none) . ' none');
my @updates = $before->{rls} =~ /^(?:models|datasets) update ([1-9]\d*) /mg;
ok(@updates >= 3, 'several principals may update rows (' . scalar(@updates) . ' principal/table pairs)');
like($before->{key}, qr/^authenticated as $id{sa1}$/m, 'in the source the new key authenticates as sa1');
is($before->{key_errors}, '', 'and raises no error');
my @sa1_cells = map { "$id{sa1} $_" } grep { /^[0-9a-f-]{36} \S+ \S+$/ } split /\n/, $before->{key};
ok(@sa1_cells > 0, 'sa1 is allowed something through its key');
is(join("\n", @sa1_cells), join("\n", grep { /^$id{sa1} / && !/ org:/ } @decision_lines),
	'rbac_can for the current principal agrees with the sweep for sa1');
is($before->{old_key}, 'refused', 'in the source the retired key is refused');
is($before->{verify}, 'true ', 'the source chain verifies');
my ($nevents) = $before->{chain} =~ /^(\d+) /;
cmp_ok($nevents, '>=', 300, "the source chain has a few hundred events ($nevents)");

# ---------------------------------------------------------------------------
# Dump both ways; restore into a second cluster that has only the role.

# pg_dump warns about zenml_rbac.role, whose base_role_id references the
# table itself: an extension configuration table is dumped as data only,
# and pg_dump cannot order the rows of a self-referencing table.  The rows
# come in one COPY and the foreign key is checked at its end, so the chain
# of the source here (base row first) restores, and so does a chain whose
# base row comes later (the end of this file).  Anything else pg_dump
# prints is returned.
sub dump_noise
{
	my ($err) = @_;
	my $expected = <<'EOF';
pg_dump: warning: there are circular foreign-key constraints on this table:
pg_dump: detail: role
pg_dump: hint: You might not be able to restore the dump without using --disable-triggers or temporarily dropping the constraints.
pg_dump: hint: Consider using a full dump instead of a --data-only dump to avoid this problem.
EOF
	$err =~ s/\Q$expected\E//;
	return $err;
}

my $dir = $src->basedir;
($rc, $out, $err) = run_client('pg_dump', '-Fc', '-f', "$dir/source.dump", '-d', $src->connstr('source'));
is($rc, 0, 'pg_dump -Fc');
is(dump_noise($err), '', 'pg_dump -Fc prints nothing on stderr but the warning on role');
($rc, $out, $err) = run_client('pg_dump', '-f', "$dir/source.sql", '-d', $src->connstr('source'));
is($rc, 0, 'pg_dump plain');
is(dump_noise($err), '', 'pg_dump plain prints nothing on stderr but the warning on role');

my $dst = PostgreSQL::Test::Cluster->new('sweep_target');
$dst->init;
$dst->start;
# pg_dump does not dump roles: the application role, as fixture.sql makes
# it (its grants are in the dump).
$dst->safe_psql('postgres', 'CREATE ROLE fixture_app NOLOGIN');
$dst->safe_psql('postgres', 'CREATE DATABASE restored_custom');
$dst->safe_psql('postgres', 'CREATE DATABASE restored_plain');

($rc, $out, $err) = run_client('pg_restore', '--exit-on-error', '-d', $dst->connstr('restored_custom'),
	"$dir/source.dump");
is($rc, 0, 'pg_restore --exit-on-error into the second cluster');
is($err, '', 'pg_restore prints nothing on stderr');

($rc, $out, $err) = run_client('psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1',
	'-d', $dst->connstr('restored_plain'), '-f', "$dir/source.sql");
is($rc, 0, 'the plain dump replays with psql -v ON_ERROR_STOP=1 in the second cluster');
is($err, '', 'psql prints nothing on stderr');

for my $db (qw(restored_custom restored_plain))
{
	my $after = snapshot($dst, $db, $chain);
	is($after->{summary}, $before->{summary}, "$db: the sweep covers the same catalog");
	same_lines($after->{decisions}, $before->{decisions},
		"$db: every decision is as in the source (" . scalar(@decision_lines) . ' allowed cells)');
	is($after->{rls_errors}, '', "$db: the RLS sweep raised no unexpected error");
	same_lines($after->{rls}, $before->{rls},
		"$db: every principal acts or is refused, sees, updates and deletes the same rows as in the source");
	same_lines($after->{key}, $before->{key},
		"$db: sa1's key authenticates and rbac_can for the current principal answers as in the source");
	is($after->{key_errors}, '', "$db: and raises no error");
	is($after->{old_key}, 'refused', "$db: the retired key is still refused");
	is($after->{protection}, $before->{protection}, "$db: protected_tables is as in the source");
	is($after->{chain}, $before->{chain}, "$db: the source's chain came along, event for event");
	is($after->{verify}, 'true ', "$db: every chain verifies");
	cmp_ok($after->{checked}, '>=', $nevents, "$db: verification walked the source's events too");
	isnt($dst->safe_psql($db, 'SELECT chain FROM zenml_rbac.audit_local_chain'), $chain,
		"$db: appends to a chain of its own");
}

# The comparison sees a change: revoke one role in one restored database.
$dst->safe_psql('restored_custom',
	"SELECT zenml_rbac.revoke_tenant_role('$id{prod}', '$id{u2}', 'editor')");
my $changed = decisions($dst, 'restored_custom');
isnt($changed, $before->{decisions}, 'after revoking a role the sweep differs from the source');
my %now = map { $_ => 1 } split /\n/, $changed;
my %was = map { $_ => 1 } @decision_lines;
my @lost = grep { !$now{$_} } @decision_lines;
my @gained = grep { !$was{$_} } keys %now;
ok(@lost > 0 && !(grep { !/^$id{u2} $id{prod} / } @lost) && !@gained,
	'and the difference is only cells of u2 in prod that were lost (' . scalar(@lost) . ')');
isnt((rls_sweep($dst, 'restored_custom'))[0], $before->{rls}, 'and so is the RLS sweep');
same_lines(decisions($dst, 'restored_plain'), $before->{decisions}, 'the other restored database is unchanged');

# A custom role chain whose base row lies after the derived one in the heap
# (here the base's description was edited by hand, as a superuser may):
# pg_dump copies the rows in that order, so the role_integrity trigger
# must look for the base only at the end of the COPY.
$src->safe_psql('postgres', 'CREATE DATABASE chain');
$src->safe_psql('chain', q{
CREATE EXTENSION zenml_rbac;
SELECT zenml_rbac.create_organization('acme') AS org \gset
SELECT zenml_rbac.create_tenant(:'org', 'dev') AS dev \gset
SELECT zenml_rbac.create_role(:'dev', 'curator', 'base', 'editor');
SELECT zenml_rbac.create_role(:'dev', 'junior', 'on curator', 'curator');
UPDATE zenml_rbac.role SET description = 'edited' WHERE name = 'curator';});
my $roles_sql = q{SELECT string_agg(r.name || ' on ' || b.name, ',' ORDER BY r.name)
    FROM zenml_rbac.role r JOIN zenml_rbac.role b ON b.id = r.base_role_id WHERE r.tenant_id IS NOT NULL};
my $chain_roles = $src->safe_psql('chain', $roles_sql);
is($chain_roles, 'curator on editor,junior on curator', 'the chain database has a chain of two custom roles');
is($src->safe_psql('chain', q{SELECT string_agg(name, ',' ORDER BY ctid) FROM zenml_rbac.role WHERE tenant_id IS NOT NULL}),
	'junior,curator', 'and the derived role comes first in the heap');
($rc, $out, $err) = run_client('pg_dump', '-Fc', '-f', "$dir/chain.dump", '-d', $src->connstr('chain'));
is($rc, 0, 'pg_dump -Fc of the chain database');
$dst->safe_psql('postgres', 'CREATE DATABASE chain');
($rc, $out, $err) = run_client('pg_restore', '--exit-on-error', '-d', $dst->connstr('chain'), "$dir/chain.dump");
is($rc . ' ' . $err, '0 ', 'a custom role chain restores whatever the order of its rows');
my ($roles_rc, $roles) = $dst->psql('chain', $roles_sql);
is($roles, $chain_roles, 'and the chain is restored');

$src->stop;
$dst->stop;
done_testing();
