# The ledgered workload of the crash-safety and load tests (006, 007):
# loading it, the pgbench command that runs it, and the checks that the
# catalog, the ledger and the audit log agree and that nothing is corrupt.
# See setup.sql for how the ledger works.
package Workload;

use strict;
use warnings;
use Exporter 'import';
use File::Basename qw(dirname);
use Cwd qw(abs_path);
use Test::More;

our @EXPORT_OK = qw(workload_dir load_workload pgbench_command check_all);

my $dir = dirname(abs_path(__FILE__));

sub workload_dir { return $dir; }

# psql -f each file into $db, stopping at the first error.
sub psql_files
{
	my ($node, $db, @files) = @_;
	for my $f (@files)
	{
		$node->command_ok(
			[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr($db), '-f', $f ],
			"load " . (split m{/}, $f)[-1] . " into $db");
	}
}

# A database with the extension, amcheck, the shared fixture and the workload.
sub load_workload
{
	my ($node, $db) = @_;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, 'CREATE EXTENSION zenml_rbac; CREATE EXTENSION amcheck;');
	psql_files($node, $db, dirname($dir) . '/fixture.sql', "$dir/setup.sql");
}

# pgbench over the workload's scripts, weighted as given ('role' => 3, ...),
# then any further options.
sub pgbench_command
{
	my ($node, $db, $weights, @opts) = @_;
	return (
		'pgbench', '-n', '-h', $node->host, '-p', $node->port,
		(map { ('-f', "$dir/$_.sql\@$weights->{$_}") } sort keys %$weights),
		@opts, $db);
}

sub rows
{
	my ($node, $db, $sql) = @_;
	return map { [ split /\|/, $_, -1 ] } grep { $_ ne '' } split /\n/, $node->safe_psql($db, $sql);
}

# Every check, as tests named "$label: ...".
sub check_all
{
	my ($node, $db, $label) = @_;

	my ($valid, $checked, $problem) = @{ (rows($node, $db,
		q{SELECT valid, events_checked, coalesce(problem, '') FROM zenml_rbac.verify_audit_log()}))[0] };
	my $events = $node->safe_psql($db, 'SELECT count(*) FROM zenml_rbac.audit_log');
	is("$valid $problem", 't ', "$label: verify_audit_log() is valid");
	is($checked, $events, "$label: it checked every event of the log ($events)");

	for my $r (rows($node, $db, 'SELECT name, problems, detail FROM workload.checks()'))
	{
		my ($name, $problems, $detail) = @$r;
		is($problems, 0, "$label: $name ($detail)");
	}

	my @fks = rows($node, $db, 'SELECT constraint_name, orphans FROM workload.fk_orphans()');
	cmp_ok(scalar(@fks), '>=', 10, "$label: the extension's foreign keys were found (" . scalar(@fks) . ")");
	is(join(', ', map { "$_->[0]: $_->[1]" } grep { $_->[1] != 0 } @fks), '',
		"$label: no foreign key has an orphan row");

	my @checks = rows($node, $db, 'SELECT constraint_name, violations FROM workload.check_violations()');
	cmp_ok(scalar(@checks), '>=', 5, "$label: the extension's CHECK constraints were found (" . scalar(@checks) . ")");
	is(join(', ', map { "$_->[0]: $_->[1]" } grep { $_->[1] != 0 } @checks), '',
		"$label: no row violates a CHECK constraint");

	my @uniq = rows($node, $db, 'SELECT index_name, duplicates FROM workload.unique_violations()');
	cmp_ok(scalar(@uniq), '>=', 10, "$label: the extension's unique indexes were found (" . scalar(@uniq) . ")");
	is(join(', ', map { "$_->[0]: $_->[1]" } grep { $_->[1] != 0 } @uniq), '',
		"$label: no unique key is duplicated");

	# amcheck: every btree index holds exactly its heap's tuples in order,
	# parent/child links included; every heap page is sound
	my $scope = q{c.relnamespace IN ('zenml_rbac'::regnamespace, 'workload'::regnamespace, 'public'::regnamespace)};
	my ($rc, $out, $err) = $node->psql($db, qq{
SELECT count(*) FROM (
    SELECT bt_index_parent_check(c.oid, heapallindexed => true, rootdescend => true)
      FROM pg_class c JOIN pg_am am ON am.oid = c.relam
     WHERE c.relkind = 'i' AND am.amname = 'btree' AND $scope) s});
	is($rc, 0, "$label: bt_index_parent_check passes on every btree index") or diag($err);
	cmp_ok($out || 0, '>=', 20, "$label: ... of $out indexes");
	is($node->safe_psql($db, qq{
SELECT coalesce(string_agg(format('%s block %s: %s', c.relname, v.blkno, v.msg), '; '), '')
  FROM pg_class c CROSS JOIN LATERAL verify_heapam(c.oid) v
 WHERE c.relkind = 'r' AND $scope}), '', "$label: verify_heapam finds no corruption in any table");
}

1;
