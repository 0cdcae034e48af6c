# zenml_rbac.log_denials (README "Format"): off by default
# and settable only by superusers; when on, every denied rbac_can() /
# rbac_org_can() call and every write a protected table refuses writes one
# server LOG entry
#   zenml_rbac denied: check=<c> principal="<p>" tenant="<t>" resource="<r>" action="<a>" statement="<s>"
# (values quoted and escaped, "-" when absent) and allowed checks write none.
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

my $node = PostgreSQL::Test::Cluster->new('log_denials');
$node->init;
$node->start;

# acme/prod: vera is a viewer, adam an admin, olga an org member without a
# tenant role.  models is protected as type model.  app is the
# application's (non-superuser) login role.
$node->safe_psql('postgres', <<'SQL');
CREATE EXTENSION zenml_rbac;
CREATE TABLE fixture AS SELECT zenml_rbac.create_organization('acme') AS org;
ALTER TABLE fixture ADD t uuid, ADD vera uuid, ADD adam uuid, ADD olga uuid;
UPDATE fixture SET t = zenml_rbac.create_tenant(org, 'prod'),
                   vera = zenml_rbac.create_user('vera'), adam = zenml_rbac.create_user('adam'),
                   olga = zenml_rbac.create_user('olga');
SELECT zenml_rbac.set_org_role(org, p, 'org_viewer') FROM fixture, unnest(ARRAY[vera, adam, olga]) p;
SELECT zenml_rbac.grant_tenant_role(t, vera, 'viewer') FROM fixture;
SELECT zenml_rbac.grant_tenant_role(t, adam, 'admin') FROM fixture;

CREATE TABLE models (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), tenant_id uuid NOT NULL);
SELECT zenml_rbac.protect('models', 'model', 'tenant_id');

CREATE ROLE app LOGIN;
GRANT EXECUTE ON FUNCTION zenml_rbac.set_principal(uuid) TO app;
GRANT INSERT, SELECT ON models TO app;
GRANT SELECT ON fixture TO app;
SQL

my %id;
for my $col (qw(org t vera adam olga))
{
	$id{$col} = $node->safe_psql('postgres', "SELECT $col FROM fixture");
	like($id{$col}, qr/^[0-9a-f-]{36}$/, "fixture $col");
}

my $sentinel = 0;
my @all_entries;

# Runs $sql (psql -f -, one statement at a time; as $opt{user} when given)
# and returns the denial entries logged meanwhile, as hashes of their
# fields, plus psql's exit code, stdout and stderr.  The server writes a
# LOG entry before it replies (logging_collector is off: the log file is
# its stderr); a sentinel statement, logged by log_statement = all after
# everything $sql caused, makes sure the whole stretch has been read.
sub denials
{
	my ($sql, %opt) = @_;
	my $offset = -s $node->logfile;
	my ($rc, $out, $err) = $node->psql(
		'postgres', $sql,
		extra_params => [ defined $opt{user} ? ('-U', $opt{user}) : () ],
		on_error_stop => 0);
	$sentinel++;
	$node->safe_psql('postgres', "SELECT 'log_denials sentinel $sentinel'");
	my $end = $node->wait_for_log(qr/log_denials sentinel $sentinel/, $offset);
	my $log = substr(slurp_file($node->logfile, $offset), 0, $end - $offset);
	my @entries;
	# (an entry starts right after the line prefix: log_statement's echo of
	# a statement quoting the text is not one)
	while ($log =~ /^[^"'\n]*?LOG:  zenml_rbac denied: (.*)$/mg)
	{
		my $line = $1;
		my $v = qr/(-|"(?:[^"\\]|\\.)*"(?:\.\.\.)?)/;
		if ($line =~ /^check=(\S+) principal=$v tenant=$v resource=$v action=$v statement=$v$/)
		{
			push @entries, { check => $1, principal => unquote($2), tenant => unquote($3),
				resource => unquote($4), action => unquote($5), statement => unquote($6), line => $line };
		}
		else
		{
			push @entries, { line => $line, malformed => 1 };
		}
	}
	push @all_entries, @entries;
	return (\@entries, $rc, $out, $err, $log);
}

# A logged value: "-" for none, else its quoted, escaped form read back; a
# value cut at its bound ("..." after the closing quote) keeps a trailing
# "...", outside what was logged.
sub unquote
{
	my ($v) = @_;
	return '-' if $v eq '-';
	my $cut = $v =~ s/\.\.\.$//;
	$v =~ s/^"(.*)"$/$1/s;
	my %esc = (n => "\n", r => "\r", t => "\t", '"' => '"', '\\' => '\\');
	$v =~ s/\\(x([0-9a-f]{2})|.)/defined $2 ? chr(hex $2) : $esc{$1}/ge;
	return $cut ? "$v..." : $v;
}

# One entry with the given fields; the statement is $stmt as psql sent it.
sub is_entry
{
	my ($entry, $stmt, %want) = @_;
	my %got = map { $_ => $entry->{$_} } keys %want;
	is_deeply(\%got, \%want, "$want{check} entry fields")
	  or diag("entry: $entry->{line}");
	like($entry->{statement} // '', qr/^\Q$stmt\E;?$/, "$want{check} entry statement")
	  or diag("entry: $entry->{line}");
}

sub lines_of { return join("\n", map { $_->{line} } @{ $_[0] }) }

my $denied = "SELECT zenml_rbac.rbac_can('$id{vera}'::uuid, '$id{t}'::uuid, 'pipeline', 'delete')";
my $allowed = "SELECT zenml_rbac.rbac_can('$id{vera}'::uuid, '$id{t}'::uuid, 'pipeline', 'read')";

# --- off by default --------------------------------------------------------

my ($entries, $rc, $out, $err) = denials("SELECT zenml_rbac.current_principal(); SHOW zenml_rbac.log_denials;");
like($out, qr/^off$/m, 'log_denials is off by default');
($entries, $rc, $out) = denials("$denied;");
is($out, 'f', 'the check is denied');
is(scalar @$entries, 0, 'off: a denied rbac_can logs nothing') or diag(lines_of($entries));

# --- only superusers set it -------------------------------------------------

# Once the library is loaded in the session (any zenml_rbac function).
($entries, $rc, $out, $err) = denials(
	"SELECT zenml_rbac.current_principal(); SET zenml_rbac.log_denials = on;", user => 'app');
like($err, qr/permission denied to set parameter "zenml_rbac.log_denials"/,
	'a non-superuser cannot SET log_denials');
($entries, $rc, $out, $err) = denials(
	"SELECT zenml_rbac.current_principal(); SELECT set_config('zenml_rbac.log_denials', 'on', false);",
	user => 'app');
like($err, qr/permission denied to set parameter "zenml_rbac.log_denials"/,
	'nor with set_config()');

# Before the library is loaded, SET only makes a placeholder; loading the
# library throws the non-superuser's value away (a WARNING): still off.
($entries, $rc, $out, $err) = denials(
	"SET zenml_rbac.log_denials = on; $denied; SHOW zenml_rbac.log_denials;", user => 'app');
like($err, qr/WARNING:  permission denied to set parameter "zenml_rbac.log_denials"/,
	'a non-superuser SET before the library loads is refused when it loads');
like($out, qr/^off$/m, '... and the setting stays off');
is(scalar @$entries, 0, '... so the denial is not logged') or diag(lines_of($entries));

{
	local $ENV{PGOPTIONS} = '-c zenml_rbac.log_denials=on';
	($entries, $rc, $out, $err) = denials("$denied; SHOW zenml_rbac.log_denials;", user => 'app');
	like($err, qr/WARNING:  permission denied to set parameter "zenml_rbac.log_denials"/,
		'a non-superuser\'s connection option is refused when the library loads');
	like($out, qr/^off$/m, 'a non-superuser cannot turn it on at connection time (PGOPTIONS)');
	is(scalar @$entries, 0, '... nothing logged') or diag(lines_of($entries));
}

for my $preload ('', 'SELECT zenml_rbac.current_principal(); ')
{
	($entries, $rc, $out, $err) = denials("${preload}ALTER ROLE app SET zenml_rbac.log_denials = on;", user => 'app');
	like($err, qr/permission denied to set parameter "zenml_rbac.log_denials"/,
		'a non-superuser cannot ALTER ROLE ... SET log_denials' . ($preload ? ' (library loaded)' : ''));
}
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_db_role_setting WHERE array_to_string(setconfig, ',') LIKE '%log_denials%'}),
	'0', 'no role setting was stored');

# --- a superuser's SET in the session ----------------------------------------

($entries) = denials("SET zenml_rbac.log_denials = on; $denied;");
is(scalar @$entries, 1, 'SET by a superuser: a denied rbac_can logs one entry') or diag(lines_of($entries));
is_entry($entries->[0], $denied, check => 'rbac_can', principal => $id{vera}, tenant => $id{t},
	resource => 'pipeline', action => 'delete') if @$entries;

# --- on for everyone: ALTER SYSTEM + reload ----------------------------------

# The setting as a new session sees it once the library is loaded (by the
# call to current_principal(); before, it is only a placeholder, '' when the
# file no longer sets it).
my $setting = q{SELECT CASE WHEN zenml_rbac.current_principal() IS NULL THEN current_setting('zenml_rbac.log_denials') END};

$node->safe_psql('postgres', 'SELECT zenml_rbac.current_principal(); ALTER SYSTEM SET zenml_rbac.log_denials = on;');
$node->reload;
ok($node->poll_query_until('postgres', $setting, 'on'),
	'ALTER SYSTEM + reload turns it on');

($entries, $rc, $out) = denials("$denied;");
is($out, 'f', 'the check is still denied');
is(scalar @$entries, 1, 'a denied rbac_can(uuid, uuid, ...) logs exactly one entry') or diag(lines_of($entries));
is_entry($entries->[0], $denied, check => 'rbac_can', principal => $id{vera}, tenant => $id{t},
	resource => 'pipeline', action => 'delete') if @$entries;

($entries, $rc, $out) = denials("$allowed;");
is($out, 't', 'the check is allowed');
is(scalar @$entries, 0, 'an allowed check logs nothing') or diag(lines_of($entries));

# Three rows, two denied (vera: viewer; olga: no tenant role; adam: admin).
my $three = "SELECT p.name, zenml_rbac.rbac_can(p.id, '$id{t}'::uuid, 'pipeline', 'delete') "
  . "FROM zenml_rbac.principal p WHERE p.name IN ('vera', 'adam', 'olga') ORDER BY p.name";
($entries, $rc, $out) = denials("$three;");
is($out, "adam|t\nolga|f\nvera|f", 'adam allowed, olga and vera denied');
is(scalar @$entries, 2, 'a query with 2 of 3 checks denied logs 2 entries') or diag(lines_of($entries));
is_deeply([ sort map { $_->{principal} } @$entries ], [ sort($id{olga}, $id{vera}) ],
	'... one for each denied principal');
ok(!grep({ $_->{statement} !~ /^\Q$three\E;?$/ } @$entries), '... each with the statement');

# The same denied check three times in one statement: three entries.
my $repeat = "SELECT zenml_rbac.rbac_can('$id{vera}'::uuid, '$id{t}'::uuid, 'pipeline', 'delete') FROM generate_series(1, 3)";
($entries) = denials("$repeat;");
is(scalar @$entries, 3, 'a denied check repeated over 3 rows logs 3 entries') or diag(lines_of($entries));

# By name: the values as given.
my $by_name = "SELECT zenml_rbac.rbac_can('vera', 'acme/prod', 'pipeline', 'delete')";
($entries, $rc, $out) = denials("$by_name;");
is($out, 'f', 'by name: denied');
is(scalar @$entries, 1, 'rbac_can by name logs one entry') or diag(lines_of($entries));
is_entry($entries->[0], $by_name, check => 'rbac_can', principal => 'vera', tenant => 'acme/prod',
	resource => 'pipeline', action => 'delete') if @$entries;

# An instance resource.
my $instance = "SELECT zenml_rbac.rbac_can('$id{vera}'::uuid, '$id{t}'::uuid, 'pipeline/11111111-1111-4111-8111-111111111111', 'delete')";
($entries) = denials("$instance;");
is(scalar @$entries, 1, 'a denied instance check logs one entry') or diag(lines_of($entries));
is_entry($entries->[0], $instance, check => 'rbac_can', principal => $id{vera}, tenant => $id{t},
	resource => 'pipeline/11111111-1111-4111-8111-111111111111', action => 'delete') if @$entries;

# The current principal's forms, from the application's role.
my $current_uuid = "SELECT zenml_rbac.rbac_can('$id{t}'::uuid, 'pipeline', 'delete')";
my $current_text = "SELECT zenml_rbac.rbac_can('acme/prod', 'pipeline', 'delete')";
my $current_allowed = "SELECT zenml_rbac.rbac_can('$id{t}'::uuid, 'pipeline', 'read')";
($entries, $rc, $out, $err) = denials(
	"BEGIN; SELECT zenml_rbac.set_principal('$id{vera}'); $current_uuid; $current_allowed; $current_text; COMMIT;",
	user => 'app');
is($rc, 0, 'the application checks as vera') or diag($err);
is($out, "\nf\nt\nf", 'denied, allowed, denied');
is(scalar @$entries, 2, 'the current-principal forms log their denials, not the allowed check')
  or diag(lines_of($entries));
is_entry($entries->[0], $current_uuid, check => 'rbac_can', principal => $id{vera}, tenant => $id{t},
	resource => 'pipeline', action => 'delete') if @$entries > 0;
is_entry($entries->[1], $current_text, check => 'rbac_can', principal => $id{vera}, tenant => 'acme/prod',
	resource => 'pipeline', action => 'delete') if @$entries > 1;

# No current principal: principal is "-".
($entries, $rc, $out) = denials("$current_uuid;");
is($out, 'f', 'without a principal: denied');
is(scalar @$entries, 1, '... logged') or diag(lines_of($entries));
is_entry($entries->[0], $current_uuid, check => 'rbac_can', principal => '-', tenant => $id{t},
	resource => 'pipeline', action => 'delete') if @$entries;

# A statement over several lines: one line in the log, newlines escaped.
my $multiline = "SELECT zenml_rbac.rbac_can('$id{vera}'::uuid,\n       '$id{t}'::uuid,\n       'pipeline', 'delete')";
my $log;
($entries, $rc, $out, $err, $log) = denials("$multiline;");
is(scalar @$entries, 1, 'a multi-line statement: one entry') or diag(lines_of($entries));
is_entry($entries->[0], $multiline, check => 'rbac_can', principal => $id{vera}, tenant => $id{t},
	resource => 'pipeline', action => 'delete') if @$entries;
(my $logged = $multiline) =~ s/\n/\\n/g;
ok(index($log, qq{action="delete" statement="$logged;"\n}) >= 0, '... on one line, newlines escaped')
  or diag($log);

# Values come from whoever calls rbac_can: quotes and newlines in them can
# neither end a field nor start a line that looks like an entry.
my $forged = qq{mallory" tenant="x" resource="y" action="z" statement="forged\nLOG:  zenml_rbac denied: check=rbac_can principal="alice};
(my $forged_sql = $forged) =~ s/'/''/g;
my $forging = "SELECT zenml_rbac.rbac_can(E'" . join('\\n', split(/\n/, $forged_sql)) . "', 'acme/prod', 'pipeline', 'delete')";
($entries, $rc, $out, $err, $log) = denials("$forging;");
is(scalar @$entries, 1, 'a hostile principal name: still one entry') or diag(lines_of($entries));
is($entries->[0]{principal}, $forged, '... whose principal field holds the whole name')
  or diag(lines_of($entries));
is($entries->[0]{tenant}, 'acme/prod', '... and whose other fields are the real ones');
ok($log !~ /\n\S*\s*LOG:  zenml_rbac denied: check=rbac_can principal="alice/, '... and no forged line')
  or diag($log);

# The management functions' own probes are not denials: a tenant admin
# (not an org admin) granting a role is checked for org_admin first.
$node->safe_psql('postgres', "SELECT zenml_rbac.grant_tenant_role('$id{t}', '$id{vera}', 'admin')");
($entries, $rc, $out, $err) = denials(
	"BEGIN; SELECT zenml_rbac.set_principal('$id{vera}'); SELECT zenml_rbac.grant_tenant_role('$id{t}', '$id{olga}', 'viewer'); COMMIT;",
	user => 'app');
is($rc, 0, 'a tenant admin grants a role') or diag($err);
is(scalar @$entries, 0, '... and nothing is logged as denied') or diag(lines_of($entries));
$node->safe_psql('postgres', "SELECT zenml_rbac.revoke_tenant_role('$id{t}', '$id{vera}', 'admin'), zenml_rbac.revoke_tenant_role('$id{t}', '$id{olga}', 'viewer')");

# The application cannot turn it off to hide its denials.
($entries, $rc, $out, $err) = denials(
	"SELECT zenml_rbac.current_principal(); SET zenml_rbac.log_denials = off;", user => 'app');
like($err, qr/permission denied to set parameter "zenml_rbac.log_denials"/,
	'a non-superuser cannot turn it off either');

# Organization capabilities: tenant holds the organization, resource the
# capability.
my $org_denied = "SELECT zenml_rbac.rbac_org_can('$id{vera}'::uuid, '$id{org}'::uuid, 'tenant', 'create')";
($entries, $rc, $out) = denials("$org_denied;");
is($out, 'f', 'an org viewer cannot create tenants');
is(scalar @$entries, 1, 'a denied rbac_org_can logs one entry') or diag(lines_of($entries));
is_entry($entries->[0], $org_denied, check => 'rbac_org_can', principal => $id{vera}, tenant => $id{org},
	resource => 'tenant', action => 'create') if @$entries;

my $org_by_name = "SELECT zenml_rbac.rbac_org_can('vera', 'acme', 'tenant', 'create')";
($entries) = denials("$org_by_name;");
is(scalar @$entries, 1, 'a denied rbac_org_can by name logs one entry') or diag(lines_of($entries));
is_entry($entries->[0], $org_by_name, check => 'rbac_org_can', principal => 'vera', tenant => 'acme',
	resource => 'tenant', action => 'create') if @$entries;

($entries, $rc, $out) = denials("SELECT zenml_rbac.rbac_org_can('$id{vera}'::uuid, '$id{org}'::uuid, 'tenant', 'read');");
is($out, 't', 'an org viewer reads tenants');
is(scalar @$entries, 0, 'an allowed rbac_org_can logs nothing') or diag(lines_of($entries));

# A write a protected table refuses (42501 from its trigger).
my $insert = "INSERT INTO models (tenant_id) VALUES ('$id{t}')";
($entries, $rc, $out, $err) = denials(
	"BEGIN; SELECT zenml_rbac.set_principal('$id{vera}'); $insert; ROLLBACK;", user => 'app');
like($err, qr/permission denied for table models: model:create/, "a viewer's insert is refused");
is(scalar @$entries, 1, 'the refused insert logs one entry') or diag(lines_of($entries));
is_entry($entries->[0], $insert, check => 'rls', principal => $id{vera}, tenant => $id{t},
	resource => 'model (table models)', action => 'create') if @$entries;

($entries, $rc, $out, $err) = denials(
	"BEGIN; SELECT zenml_rbac.set_principal('$id{adam}'); $insert; COMMIT;", user => 'app');
is($rc, 0, "an admin's insert is accepted") or diag($err);
is(scalar @$entries, 0, '... and logs nothing') or diag(lines_of($entries));

ok(@all_entries > 0 && !grep({ $_->{malformed} } @all_entries), 'every entry has the documented fields')
  or diag(lines_of([ grep { $_->{malformed} } @all_entries ]));

# --- bounded lines -----------------------------------------------------------

# One short statement of 2,000 denied checks on 50 kB arguments (any role
# may pass text to rbac_can): each value is cut to 256 bytes and the
# statement to 1,024, so the log grows by a few MB, not by 200 MB.
my $flood = "SELECT count(*) FROM generate_series(1, 2000) g"
  . " WHERE zenml_rbac.rbac_can(repeat('p', 49999 + sign(g)::int), repeat('t', 50000), 'pipeline', 'delete')";
my $offset = -s $node->logfile;
($entries, $rc, $out) = denials("SET zenml_rbac.log_denials_per_statement = 0; $flood;");
my $grown = (-s $node->logfile) - $offset;
is($out, '0', 'the flood is 2,000 denied checks');
is(scalar @$entries, 2000, 'with no per-statement limit each logs its entry');
is(scalar(grep { $_->{principal} eq ('p' x 256) . '...' && $_->{tenant} eq ('t' x 256) . '...' } @$entries), 2000,
	'every 50 kB value is cut to its first 256 bytes, marked "..."');
ok($grown < 2000 * 1500, "the log grew by $grown bytes, under 1,500 a line");
# by default one statement writes at most 100 lines, then one saying so
($entries, $rc, $out, undef, $log) = denials("$flood;");
is(scalar @$entries, 100, 'by default a statement logs its first 100 denials');
is(scalar(() = $log =~ /zenml_rbac: more than 100 denials in this statement; the rest are not logged/g), 1,
	'and one line saying the rest are not');
($entries) = denials("$flood; $flood;");
is(scalar @$entries, 200, 'the limit is per statement');
my $long_stmt = "$denied /* " . ('s' x 20000) . " */";
($entries) = denials("$long_stmt;");
is(scalar @$entries, 1, 'a 20 kB statement with one denial logs one entry');
is($entries->[0]{statement}, substr("$long_stmt;", 0, 1024) . '...', 'its statement is cut to 1,024 bytes')
  if @$entries;
# a value cut inside a multibyte character keeps the character whole or leaves it out
($entries) = denials("SELECT zenml_rbac.rbac_can('p' || repeat(chr(233), 300), 'acme/prod', 'pipeline', 'delete');");
my $p = $entries->[0]{principal} // '';
ok($p =~ /^p(?:\xc3\xa9)+\.\.\.$/ && length($p) <= 259, 'a UTF-8 value is cut between characters')
  or diag("principal: $p");

# --- off again ---------------------------------------------------------------

$node->safe_psql('postgres', 'ALTER SYSTEM RESET zenml_rbac.log_denials;');
$node->reload;
ok($node->poll_query_until('postgres', $setting, 'off'),
	'ALTER SYSTEM RESET + reload turns it off');
($entries) = denials("$denied; $org_denied;");
is(scalar @$entries, 0, 'off again: denials log nothing') or diag(lines_of($entries));

$node->stop;
done_testing();
