# Crash safety: concurrent grant/revoke/share traffic (and rows of a
# protected table written through RLS) from four pgbench sessions, cut by a
# crash; after the restart the constraints hold, the indexes and heaps are
# sound, the audit chain verifies, and the decisions are exactly those of
# the committed changes.
#
# Every change is written down in a ledger in its own transaction
# (test/t/workload/setup.sql), so the ledger says what committed.  After
# each crash:
#   - the audit log holds exactly one event per row changed by a committed
#     toggle, and none for anything else (both or neither committed);
#   - the catalog is the initial state plus the ledger's changes;
#   - a copy of the database taken before the workload, with the ledger's
#     toggles replayed in order through the API, decides every cell
#     (RbacSweep) exactly as the crashed database does.
# Two kinds of crash, each twice: a backend killed with SIGKILL (the
# postmaster resets every session and recovers), and an immediate shutdown
# and restart; then more traffic, which must continue the same chain.
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
use RbacSweep qw(decisions decision_summary);
use Workload qw(load_workload pgbench_command check_all);

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
$node->append_conf('postgresql.conf', "restart_after_crash = on\n");
$node->start;

load_workload($node, 'crash');
# the state before any traffic, to replay the ledger on
$node->safe_psql('postgres', 'CREATE DATABASE initial TEMPLATE crash');

# Mostly catalog changes; a few reads and checks so sessions also hold
# cached decisions when the crash comes.
my %weights = (role => 4, share => 4, model => 2, read => 1, check => 1);

# Runs the workload until the ledger holds $more further toggles, then
# crashes the server with $crash->() and returns what pgbench printed.
sub traffic_then_crash
{
	my ($label, $more, $crash) = @_;
	my $target = $node->safe_psql('crash', 'SELECT count(*) FROM workload.ledger') + $more;
	my ($out, $err) = ('', '');
	# -T only bounds a run whose crash never comes
	my $h = IPC::Run::start(
		[ pgbench_command($node, 'crash', \%weights, '-c', '4', '-j', '2', '-T', '120') ],
		'>', \$out, '2>', \$err,
		IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));
	ok($node->poll_query_until('crash', "SELECT count(*) >= $target FROM workload.ledger"),
		"$label: the sessions committed $more toggles");
	my $in_flight = $node->safe_psql('crash',
		q{SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 4242 AND granted});
	note("$label: $in_flight toggles held their tenant's lock just before the crash");
	$crash->();
	$h->finish;
	# every session lost its connection; none failed on its own before
	unlike($err, qr/ERROR:/, "$label: no session hit an SQL error");
	like($err, qr/abort|terminat|connection/i, "$label: pgbench lost its sessions to the crash");
	return ($out, $err);
}

# After a restart: every check, and the decisions of the replayed ledger.
my $round = 0;
sub check_recovered
{
	my ($label) = @_;
	$round++;
	check_all($node, 'crash', $label);

	my $script = $node->safe_psql('crash', 'SELECT workload.replay_script()');
	my $toggles = () = $script =~ /^COMMIT;$/mg;
	my $ledger = $node->safe_psql('crash', 'SELECT count(*) FROM workload.ledger');
	is($toggles, $ledger, "$label: replay script has one transaction per committed toggle ($ledger)");
	my $replay = "replay$round";
	$node->safe_psql('postgres', "CREATE DATABASE $replay TEMPLATE initial");
	my $file = $node->basedir . "/$replay.sql";
	PostgreSQL::Test::Utils::append_to_file($file, "$script\n");
	$node->command_ok([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $node->connstr($replay), '-f', $file ],
		"$label: the ledger replays through the API on the initial state");
	is($node->safe_psql($replay, 'SELECT kind, object_id, content FROM workload.state(NULL) ORDER BY 1, 2'),
		$node->safe_psql('crash', 'SELECT kind, object_id, content FROM workload.state(NULL) ORDER BY 1, 2'),
		"$label: the replayed catalog has the same tenant roles, shares and resources");
	my $after = decisions($node, 'crash');
	my $expected = decisions($node, $replay);
	my $cells = () = $after =~ /\n/g;
	cmp_ok($cells, '>', 100, "$label: the sweep found allowed cells (" . decision_summary($node, 'crash') . ")");
	ok($after eq $expected, "$label: every decision equals the replayed ledger's")
	  or diag(join("\n", 'only after the crash:', grep({ my $l = $_; index("\n$expected\n", "\n$l\n") < 0 } split /\n/, $after),
			'only in the replay:', grep({ my $l = $_; index("\n$after\n", "\n$l\n") < 0 } split /\n/, $expected)));
	$node->safe_psql('postgres', "DROP DATABASE $replay");
}

# Each crash twice, after 1,000 more committed toggles each time.
for my $n (1, 2)
{
	# kill -9 of a session in the middle of the traffic: the postmaster
	# terminates every session and recovers
	my $label = "SIGKILL $n";
	my $log_offset = -s $node->logfile;
	traffic_then_crash(
		$label, 1000,
		sub {
			my $pid = $node->safe_psql('crash', q{
SELECT pid FROM pg_stat_activity
 WHERE datname = 'crash' AND backend_type = 'client backend' AND pid <> pg_backend_pid()
 ORDER BY state = 'active' DESC, pid LIMIT 1});
			like($pid, qr/^\d+$/, "$label: found a pgbench session");
			ok(kill('KILL', $pid), "$label: killed backend $pid");
			$node->wait_for_log(qr/all server processes terminated; reinitializing/, $log_offset);
		});
	$node->poll_query_until('crash', 'SELECT NOT pg_is_in_recovery()');
	my $recovered = slurp_file($node->logfile, $log_offset);
	like($recovered, qr/terminated by signal 9/, "$label: the postmaster saw its backend die");
	like($recovered, qr/database system was not properly shut down; automatic recovery in progress/,
		"$label: the server ran crash recovery");
	check_recovered("after $label");

	# immediate shutdown (no checkpoint, sessions cut) and a restart
	$label = "immediate $n";
	$log_offset = -s $node->logfile;
	traffic_then_crash($label, 1000, sub { $node->stop('immediate'); });
	$node->start;
	like(slurp_file($node->logfile, $log_offset),
		qr/database system was not properly shut down; automatic recovery in progress/,
		"$label: the restart ran crash recovery");
	check_recovered("after $label");
}

# The recovered server takes more traffic on the same chain
my $head = $node->safe_psql('crash', 'SELECT seq FROM zenml_rbac.audit_head()');
$node->command_ok([ pgbench_command($node, 'crash', \%weights, '-c', '2', '-j', '2', '-t', '50') ],
	'more traffic after the restarts');
cmp_ok($node->safe_psql('crash', 'SELECT seq FROM zenml_rbac.audit_head()'), '>', $head,
	'the chain grew past its head from before');
check_all($node, 'crash', 'after more traffic');

$node->stop;
done_testing();
