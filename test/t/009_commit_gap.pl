# PostgreSQL makes a commit visible to snapshots a moment before it sends
# the commit's invalidations.  A statement must still answer from one
# catalog state: never a cached entry from before a commit together with
# rows it loads after it (README, Cache invalidation: statements wait for
# such commits).
#
# A writer moves a viewer assignment back and forth between users u1 and u2
# in single-row UPDATEs, so at every commit exactly one of them reads the
# tenant.  Readers, in a loop: evict one of the two from their own cache (a
# no-op UPDATE of its principal row, committed), then check both in one
# statement, keeping u1's or u2's cached entry and loading the other; a
# statement whose two answers do not add up to one is recorded.  Without
# the wait, a few in ten thousand statements are (the statement's snapshot
# sees the move, the cached entry does not).  A third client grants and
# revokes a privilege on a catalog table in a loop, which makes every
# reader look up the catalog's triggers again at its next statement, while
# it prepares its snapshot: a commit completed then must be seen too.
use strict;
use warnings;

BEGIN
{
	chomp(my $pkglib = `pg_config --pkglibdir`);
	$ENV{PG_REGRESS} //= "$pkglib/pgxs/src/test/regress/pg_regress";
}

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

my $seconds = $ENV{GAP_TEST_SECONDS} // 10;
my ($org, $tenant) = ('0a000000-0000-4000-8000-0000000000a1', 'be000000-0000-4000-8000-0000000000a1');
my ($u1, $u2) = ('c0000000-0000-4000-8000-0000000000a1', 'c0000000-0000-4000-8000-0000000000a2');
my $viewer = '00000000-0000-4000-8000-000000000003';

my $node = PostgreSQL::Test::Cluster->new('gap');
$node->init;
$node->append_conf('postgresql.conf', "max_connections = 20\n");
$node->start;
$node->safe_psql('postgres', qq{
	CREATE EXTENSION zenml_rbac;
	INSERT INTO zenml_rbac.organization (id, name) VALUES ('$org', 'gap');
	INSERT INTO zenml_rbac.tenant (id, org_id, name) VALUES ('$tenant', '$org', 'prod');
	INSERT INTO zenml_rbac.principal (id, kind, name) VALUES ('$u1', 'user', 'u1'), ('$u2', 'user', 'u2');
	INSERT INTO zenml_rbac.org_role_assignment (org_id, principal_id, role)
	  VALUES ('$org', '$u1', 'org_viewer'), ('$org', '$u2', 'org_viewer');
	INSERT INTO zenml_rbac.tenant_role_assignment (tenant_id, principal_id, role_id)
	  VALUES ('$tenant', '$u1', '$viewer');
	CREATE TABLE gap_violations (readers int);
});
is($node->safe_psql('postgres', qq{
	SELECT zenml_rbac.rbac_can('$u1'::uuid, '$tenant'::uuid, 'model', 'read')::int
	     + zenml_rbac.rbac_can('$u2'::uuid, '$tenant'::uuid, 'model', 'read')::int}),
	'1', 'exactly one of u1 and u2 reads the tenant');

my $dir = PostgreSQL::Test::Utils::tempdir;
open my $w, '>', "$dir/writer.sql" or die;
print $w qq{UPDATE zenml_rbac.tenant_role_assignment
   SET principal_id = CASE WHEN principal_id = '$u1' THEN '$u2'::uuid ELSE '$u1'::uuid END
 WHERE tenant_id = '$tenant' AND principal_id IN ('$u1', '$u2');
};
close $w;
open my $r, '>', "$dir/reader.sql" or die;
print $r qq{\\set e random(1, 2)
UPDATE zenml_rbac.principal SET name = name
 WHERE id = CASE WHEN :e = 1 THEN '$u1'::uuid ELSE '$u2'::uuid END;
INSERT INTO gap_violations
SELECT n FROM (SELECT zenml_rbac.rbac_can('$u1'::uuid, '$tenant'::uuid, 'model', 'read')::int
                    + zenml_rbac.rbac_can('$u2'::uuid, '$tenant'::uuid, 'model', 'read')::int AS n) x
 WHERE n <> 1;
};
close $r;
open my $d, '>', "$dir/ddl.sql" or die;
print $d qq{GRANT SELECT ON zenml_rbac.organization TO gap_dummy;
REVOKE SELECT ON zenml_rbac.organization FROM gap_dummy;
};
close $d;
$node->safe_psql('postgres', 'CREATE ROLE gap_dummy');

my @conn = ('-h', $node->host, '-p', $node->port, 'postgres');
my ($wout, $werr, $rout, $rerr) = ('', '', '', '');
my $writer = IPC::Run::start(['pgbench', '-n', '-M', 'prepared', '-c', '1', '-T', $seconds,
		'-f', "$dir/writer.sql", @conn], '>', \$wout, '2>', \$werr);
my $ddl = IPC::Run::start(['pgbench', '-n', '-c', '1', '-T', $seconds, '-f', "$dir/ddl.sql", @conn],
	'>', \my $dout, '2>', \my $derr);
my $readers = IPC::Run::start(['pgbench', '-n', '-M', 'prepared', '-c', '2', '-j', '2', '-T', $seconds,
		'-f', "$dir/reader.sql", @conn], '>', \$rout, '2>', \$rerr);
ok($writer->finish, 'the writer ran') or diag("$wout\n$werr");
ok($readers->finish, 'the readers ran') or diag("$rout\n$rerr");
ok($ddl->finish, 'the privilege changes ran') or diag("$dout\n$derr");
my ($moves) = $wout =~ /^number of transactions actually processed: (\d+)/m;
my ($checks) = $rout =~ /^number of transactions actually processed: (\d+)/m;
cmp_ok($moves // 0, '>', 1000, "the writer committed over 1,000 moves (" . ($moves // 'none') . ")");
cmp_ok($checks // 0, '>', 1000, "the readers ran over 1,000 checks (" . ($checks // 'none') . ")");

is($node->safe_psql('postgres', 'SELECT count(*) FROM gap_violations'), '0',
	'no statement combined a cached entry from before a move with one loaded after it');
is($node->safe_psql('postgres', qq{
	SELECT zenml_rbac.rbac_can('$u1'::uuid, '$tenant'::uuid, 'model', 'read')::int
	     + zenml_rbac.rbac_can('$u2'::uuid, '$tenant'::uuid, 'model', 'read')::int}),
	'1', 'still exactly one of u1 and u2 reads the tenant');

$node->stop;
done_testing();
