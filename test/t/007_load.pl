# Load: pgbench custom scripts, bounded in time, from four clients at once:
# RLS reads of the protected table as random principals, rbac_can checks,
# tenant role grants/revokes, shares, and rows written through RLS (which
# register and unregister resources).  Afterwards: no client failed; every
# committed change has exactly one audit event (test/t/workload/setup.sql
# keeps a ledger of them, written in the same transactions); the catalog is
# the initial state plus the ledger; and the decisions match a recomputation
# from the catalog: rbac_can against the view effective_permissions on
# every principal x tenant x type x action and every registered instance,
# and what each principal reads through RLS against the same view.
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
use IPC::Run;
use FindBin;
use lib $FindBin::RealBin, "$FindBin::RealBin/workload";
use Workload qw(load_workload pgbench_command check_all);

my $seconds = $ENV{LOAD_TEST_SECONDS} // 8;

my $node = PostgreSQL::Test::Cluster->new('load');
$node->init;
$node->start;
load_workload($node, 'load');

my %weights = (read => 5, check => 3, role => 2, share => 2, model => 1);
for my $mode (qw(prepared simple))
{
	my ($out, $err) = ('', '');
	my @cmd = pgbench_command($node, 'load', \%weights, '-M', $mode, '-c', '4', '-j', '2', '-T', $seconds);
	my $ok = IPC::Run::run(\@cmd, '>', \$out, '2>', \$err,
		IPC::Run::timeout($seconds + $PostgreSQL::Test::Utils::timeout_default));
	ok($ok, "pgbench -M $mode -c 4 -T $seconds exits 0") or diag("$out\n$err");
	my ($xacts) = $out =~ /^number of transactions actually processed: (\d+)/m;
	my ($failed) = $out =~ /^number of failed transactions: (\d+)/m;
	my ($tps) = $out =~ /^tps = ([\d.]+)/m;
	cmp_ok($xacts // 0, '>', 0, "-M $mode: transactions were processed (" . ($xacts // 'none') . ", $tps tps)");
	is($failed, '0', "-M $mode: no failed transaction");
	unlike("$out\n$err", qr/aborted|ERROR:/, "-M $mode: no client aborted");
	# every script ran
	my @per_script = $out =~ /^ - (\d+) transactions/mg;
	is(scalar(grep { $_ > 0 } @per_script), scalar(keys %weights), "-M $mode: each of the " . scalar(keys %weights) . " scripts ran")
	  or diag($out);

	check_all($node, 'load', "after -M $mode");

	# every kind of toggle happened
	my %ops = map { split /\|/ } split /\n/,
	  $node->safe_psql('load', 'SELECT op, count(*) FROM workload.ledger GROUP BY op');
	is(join(' ', map { $ops{$_} ? $_ : "no $_" } qw(grant revoke share unshare insert_model delete_model)),
		'grant revoke share unshare insert_model delete_model', "after -M $mode: every kind of toggle committed");

	# rbac_can against effective_permissions, every cell
	for my $r (split /\n/, $node->safe_psql('load', 'SELECT level, cells, allowed, disagreements FROM workload.sweep()'))
	{
		my ($level, $cells, $allowed, $dis) = split /\|/, $r;
		cmp_ok($allowed, '>', 0, "after -M $mode: $level: $allowed of $cells cells allowed");
		is($dis, 0, "after -M $mode: $level: rbac_can and effective_permissions agree on every cell");
	}

	# what each principal reads through RLS, against the same view
	my $readers = $node->safe_psql('load', 'SELECT string_agg(id::text, \' \' ORDER BY n) FROM workload.reader');
	my @wrong;
	my $visible_total = 0;
	for my $p (split / /, $readers)
	{
		my $got = $node->safe_psql('load', qq{
BEGIN;
SET LOCAL ROLE fixture_app;
SELECT zenml_rbac.set_principal('$p');
SELECT 'rows:' || coalesce(string_agg(id::text, ',' ORDER BY id), '') FROM public.models;
COMMIT;});
		($got) = $got =~ /^rows:(.*)$/m;
		my $want = $node->safe_psql('load', qq{
SELECT coalesce(string_agg(m.id::text, ',' ORDER BY m.id), '') FROM public.models m
 WHERE EXISTS (SELECT 1 FROM zenml_rbac.effective_permissions e
                WHERE e.principal_id = '$p' AND e.tenant_id = m.tenant_id AND e.resource_type = 'model'
                  AND e.action = 'read' AND (e.resource_id IS NULL OR e.resource_id = m.id))});
		push @wrong, $p if $got ne $want;
		$visible_total += () = $want =~ /[0-9a-f-]{36}/g;
	}
	is("@wrong", '', "after -M $mode: each principal reads through RLS exactly the rows effective_permissions gives it");
	cmp_ok($visible_total, '>', 0, "after -M $mode: ... $visible_total visible rows in all");
}

$node->stop;
done_testing();
