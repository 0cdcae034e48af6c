# Logical replication of the catalog (README: Logical replication): a control database
# publishes it, two application databases in other clusters subscribe and
# decide locally.  After the initial sync and after every batch of changes
# made on the control database the subscribers give the control database's
# answers: in fresh sessions (the whole decision sweep) and in sessions
# whose caches were warm before the changes arrived (the apply worker fires
# only row triggers, so the invalidation must come from one), where a
# change reloads only the entries it affects.  API keys
# made on the control database authenticate on a subscriber; replicated
# changes are not audited again there.  Last, what local writes on a
# subscriber do: new rows stay local (and are audited there), a change to a
# replicated row lasts until control next changes that row, a row that
# collides with a replicated one stops the subscription until it is
# removed, and foreign keys are not enforced when changes are applied.
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
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use RbacSweep qw(decisions decision_summary);
use Test::More;

my $db = 'rbac';

# The publication the README documents.  The seeded rows (builtin resource
# types, the predefined roles with their fixed ids) exist in every database
# already, so they are filtered out.
my $publication = <<'SQL';
CREATE PUBLICATION zenml_rbac_catalog FOR TABLE
  zenml_rbac.organization, zenml_rbac.tenant, zenml_rbac.principal,
  zenml_rbac.org_role_assignment, zenml_rbac.team_member,
  zenml_rbac.resource_type WHERE (NOT builtin),
  zenml_rbac.role WHERE (tenant_id IS NOT NULL),
  zenml_rbac.role_permission, zenml_rbac.tenant_role_assignment,
  zenml_rbac.resource, zenml_rbac.resource_grant, zenml_rbac.api_key;
SQL

my $control = PostgreSQL::Test::Cluster->new('control');
$control->init(allows_streaming => 'logical');
$control->start;
$control->safe_psql('postgres', "CREATE DATABASE $db");
$control->safe_psql($db, 'CREATE EXTENSION zenml_rbac');
$control->command_ok(
	[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $db, '-f', "$FindBin::RealBin/fixture.sql" ],
	'control: the fixture loads');
$control->safe_psql($db, $publication);

# Subscribers: the extension, then the subscription.  A short retry
# interval lets the apply worker come back quickly after the conflict below.
my @apps;
for my $name (qw(app1 app2))
{
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	$node->append_conf('postgresql.conf', 'wal_retrieve_retry_interval = 100ms');
	$node->start;
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, 'CREATE EXTENSION zenml_rbac');
	push @apps, $node;
}
my ($app1, $app2) = @apps;

my %audit_after_create;
for my $node (@apps)
{
	$audit_after_create{ $node->name } = $node->safe_psql($db, 'SELECT count(*) FROM zenml_rbac.audit_log');
	my $sub = $node->name . '_sub';
	$node->safe_psql($db,
		"CREATE SUBSCRIPTION $sub CONNECTION '" . $control->connstr . " dbname=$db' PUBLICATION zenml_rbac_catalog");
	$node->wait_for_subscription_sync($control, $sub, $db);
}

# Waits until both subscribers applied everything committed on control.
sub catch_up
{
	$control->wait_for_catchup($_->name . '_sub') for @apps;
	return;
}

# Every decision, and what the sweep covered, the same as control's.
sub same_decisions
{
	my ($when) = @_;
	my $expected = decisions($control, $db);
	my $summary = decision_summary($control, $db);
	for my $node (@apps)
	{
		my $name = $node->name;
		is(decision_summary($node, $db), $summary, "$when: $name covers what control covers ($summary)");
		is(decisions($node, $db), $expected, "$when: $name decides every cell as control does");
	}
	return $expected;
}

my $initial = same_decisions('after the initial sync');
like(decision_summary($control, $db),
	qr/^[1-9]\d* principals, [1-9]\d* tenants, [1-9]\d* resources, [1-9]\d* organizations$/,
	'the sweep covers principals, tenants, resources and organizations');
my $cells = my @cells = split /\n/, $initial;
cmp_ok($cells, '>', 100, "and finds allowed cells to compare ($cells)");
for my $node (@apps)
{
	is($node->safe_psql($db, q{SELECT string_agg(name, ',' ORDER BY name) FROM zenml_rbac.resource_type}),
		$control->safe_psql($db, q{SELECT string_agg(name, ',' ORDER BY name) FROM zenml_rbac.resource_type}),
		$node->name . ': the builtin types once and the registered one');
	is($node->safe_psql($db, q{SELECT string_agg(id || ':' || name, ',' ORDER BY id) FROM zenml_rbac.role}),
		$control->safe_psql($db, q{SELECT string_agg(id || ':' || name, ',' ORDER BY id) FROM zenml_rbac.role}),
		$node->name . ': the predefined roles once and the custom ones');
}

# Ids of the fixture's names and models, from control.
my %id = map { split /\|/ } split /\n/,
  $control->safe_psql($db, 'SELECT name, id FROM fx UNION ALL SELECT name, id FROM models');
my $u = sub { "'$id{$_[0]}'::uuid" };

# Checks that the changes below flip, each as (label, expression).  The
# names of u9, initech and initech/lab exist only once round 2 made them.
my @checks = (
	[ grant => "zenml_rbac.rbac_can(@{[$u->('u4')]}, @{[$u->('prod')]}, 'model', 'create')" ],
	[ revoke => "zenml_rbac.rbac_can(@{[$u->('u2')]}, @{[$u->('prod')]}, 'model', 'create')" ],
	[ role_allow => "zenml_rbac.rbac_can(@{[$u->('u3')]}, @{[$u->('prod')]}, 'model', 'delete')" ],
	[ role_disallow => "zenml_rbac.rbac_can(@{[$u->('u3')]}, @{[$u->('prod')]}, 'pipeline', 'read')" ],
	[ deactivate => "zenml_rbac.rbac_can(@{[$u->('u7')]}, @{[$u->('main')]}, 'model', 'read')" ],
	[ team_add => "zenml_rbac.rbac_can(@{[$u->('sa1')]}, @{[$u->('dev')]}, 'model', 'create')" ],
	[ team_remove => "zenml_rbac.rbac_can(@{[$u->('u4')]}, @{[$u->('dev')]}, 'model', 'create')" ],
	[ share => "zenml_rbac.rbac_can(@{[$u->('u2')]}, @{[$u->('main')]}, 'model/$id{'main-1'}', 'update')" ],
	[ tenant_gone => "zenml_rbac.rbac_can(@{[$u->('u2')]}, @{[$u->('dev')]}, 'model', 'read')" ],
	[ share_gone => "zenml_rbac.rbac_can(@{[$u->('u3')]}, @{[$u->('dev')]}, 'model/$id{'dev-2'}', 'update')" ],
	[ new_org => "zenml_rbac.rbac_org_can('u9', 'initech', 'tenant', 'create')" ],
	[ new_tenant => "zenml_rbac.rbac_can('u9', 'initech/lab', 'model', 'create')" ],
	[ unchanged => "zenml_rbac.rbac_can(@{[$u->('u8')]}, @{[$u->('main')]}, 'model', 'create')" ],);
my $checks_sql = 'SELECT string_agg(label || \'=\' || answer::text, \' \' ORDER BY ord) FROM (VALUES '
  . join(', ', map { "($_, '$checks[$_][0]', $checks[$_][1])" } 0 .. $#checks)
  . ') v(ord, label, answer)';

# "label=true label=false ..." as a hash
sub answers { return { map { split /=/ } split / /, $_[0] }; }

# Warm sessions: they have answered checks (and filled their caches) before
# any change arrives, and stay open across the rounds.
my %warm;
for my $node (@apps)
{
	my $s = $node->background_psql($db);
	is($s->query_safe($checks_sql), $control->safe_psql($db, $checks_sql),
		$node->name . ': a warm session answers the checks as control does');
	like($s->query_safe('SELECT principals > 0 AND roles > 0 FROM zenml_rbac.cache_stats()'), qr/^t$/,
		$node->name . ': and its cache holds principals and roles');
	$warm{ $node->name } = $s;
}

# One batch of changes on control: the flipped checks change there, and
# after catch-up the warm sessions and the full sweep follow on both
# subscribers.
sub round
{
	my ($name, $flips, $sql) = @_;
	my $before = $control->safe_psql($db, $checks_sql);
	$control->safe_psql($db, $sql);
	my $after = $control->safe_psql($db, $checks_sql);
	my ($was, $now) = (answers($before), answers($after));
	isnt($now->{$_}, $was->{$_}, "$name: on control, $_ flips to $now->{$_}") for @$flips;
	catch_up();
	for my $node (@apps)
	{
		is($warm{ $node->name }->query_safe($checks_sql), $after,
			"$name: the warm session on " . $node->name . ' gives control\'s new answers');
	}
	same_decisions($name);
	return;
}

round(
	'round 1',
	[qw(grant revoke role_allow role_disallow deactivate team_add team_remove share)],
	qq{
SELECT zenml_rbac.grant_tenant_role(@{[$u->('prod')]}, @{[$u->('u4')]}, 'editor');
SELECT zenml_rbac.revoke_tenant_role(@{[$u->('prod')]}, @{[$u->('u2')]}, 'editor');
SELECT zenml_rbac.role_allow(@{[$u->('prod')]}, 'auditor', 'model', 'delete');
SELECT zenml_rbac.role_disallow(@{[$u->('prod')]}, 'auditor', 'pipeline', 'read');
SELECT zenml_rbac.deactivate_user(@{[$u->('u7')]});
SELECT zenml_rbac.add_team_member(@{[$u->('ml')]}, @{[$u->('sa1')]});
SELECT zenml_rbac.remove_team_member(@{[$u->('ml')]}, @{[$u->('u4')]});
SELECT zenml_rbac.share_resource(@{[$u->('main')]}, 'model/$id{'main-1'}', @{[$u->('u2')]}, ARRAY['read', 'update']);
});

round(
	'round 2',
	[qw(tenant_gone share_gone new_org new_tenant)],
	qq{
SELECT zenml_rbac.delete_tenant(@{[$u->('dev')]});
CREATE TEMP TABLE n AS SELECT zenml_rbac.create_organization('initech') AS org, zenml_rbac.create_user('u9') AS u9;
SELECT zenml_rbac.set_org_role(org, u9, 'org_admin') FROM n;
SELECT zenml_rbac.grant_tenant_role(zenml_rbac.create_tenant(org, 'lab'), u9, 'editor') FROM n;
});

# Fine-grained invalidation on the subscribers: the apply worker's row
# triggers name the entries a change affects, so a session warm over the
# whole sweep reloads those and keeps the rest.
{

	package SweepText;
	sub safe_psql { return $_[2]; }
}
my $sweep_sql = decisions(bless({}, 'SweepText'), $db);
my (%loads, %entries);
for my $node (@apps)
{
	my $s = $warm{ $node->name };
	is($s->query_safe($sweep_sql), decisions($control, $db), $node->name . ': a warm session sweeps as control');
	$loads{ $node->name } = $s->query_safe('SELECT loads FROM zenml_rbac.cache_stats()');
	$entries{ $node->name } = $s->query_safe('SELECT principals + resources + roles FROM zenml_rbac.cache_stats()');
	$s->query_safe($sweep_sql);
	is($s->query_safe('SELECT loads FROM zenml_rbac.cache_stats()'), $loads{ $node->name },
		$node->name . ': a second sweep loads nothing');
}
$control->safe_psql($db, "SELECT zenml_rbac.grant_tenant_role(@{[$u->('prod')]}, @{[$u->('u1')]}, 'viewer')");
catch_up();
for my $node (@apps)
{
	my $s = $warm{ $node->name };
	is($s->query_safe($sweep_sql), decisions($control, $db),
		$node->name . ': after a grant to u1, the warm session sweeps as control');
	my $reloaded = $s->query_safe('SELECT loads FROM zenml_rbac.cache_stats()') - $loads{ $node->name };
	cmp_ok($reloaded, '>=', 1, $node->name . ': the grant reloaded u1\'s entries');
	cmp_ok($reloaded * 4, '<', $entries{ $node->name },
		$node->name . ": $reloaded of $entries{ $node->name } entries reloaded");
}

$_->quit for values %warm;

# API keys: a key made on control authenticates on a subscriber (as its
# service account), a wrong one does not, and revocation on control reaches
# the subscriber.
my $key = $control->safe_psql($db, "SELECT zenml_rbac.create_api_key(@{[$u->('sa1')]})");
like($key, qr/^zrk_[0-9a-f]{64}$/, 'control: a new API key for sa1');
catch_up();
for my $node (@apps)
{
	is($node->safe_psql($db, "SELECT zenml_rbac.authenticate('$key') = @{[$u->('sa1')]}"),
		't', $node->name . ': the key authenticates as sa1');
	is( $node->safe_psql($db,
			"BEGIN; SELECT zenml_rbac.authenticate('$key'); SELECT zenml_rbac.rbac_can(@{[$u->('prod')]}, 'model', 'read'); COMMIT;"),
		"$id{sa1}\nt", $node->name . ': and acts as sa1 (a viewer of prod) for the transaction');
	my ($rc, $out, $err) = $node->psql($db, "SELECT zenml_rbac.authenticate('zrk_" . ('0' x 64) . "')");
	like($err, qr/invalid API key/, $node->name . ': an unknown key is refused');
}
# Using a key records last_used_at in the subscriber's own row only.
my $used = "SELECT last_used_at IS NOT NULL FROM zenml_rbac.api_key WHERE key_hash = sha256(convert_to('$key', 'UTF8'))";
is($app1->safe_psql($db, $used), 't', 'app1: authenticate recorded last_used_at locally');
is($control->safe_psql($db, $used), 'f', 'control: use on a subscriber is not recorded there');
$control->safe_psql($db, "SELECT zenml_rbac.revoke_api_key(@{[$u->('sa1')]})");
catch_up();
for my $node (@apps)
{
	my ($rc, $out, $err) = $node->psql($db, "SELECT zenml_rbac.authenticate('$key')");
	like($err, qr/invalid API key/, $node->name . ': the key revoked on control is refused');
}
is($app1->safe_psql($db, $used), 'f', 'app1: the revocation replaced the whole row, last_used_at included');

# Audit: control logged every change; the subscribers' logs stayed as
# CREATE EXTENSION left them (the apply worker does not fire the capture
# triggers); every chain verifies.
cmp_ok($control->safe_psql($db, q{SELECT count(*) FROM zenml_rbac.audit_log WHERE object_kind = 'tenant' AND operation = 'DELETE'}),
	'>', 0, 'control: the replicated changes were audited there');
for my $node ($control, @apps)
{
	is($node->safe_psql($db, 'SELECT valid FROM zenml_rbac.verify_audit_log()'), 't',
		$node->name . ': the audit log verifies');
}
for my $node (@apps)
{
	is($node->safe_psql($db, 'SELECT count(*) FROM zenml_rbac.audit_log'),
		$audit_after_create{ $node->name },
		$node->name . ': replicated changes wrote nothing to its audit log');
}

# Local writes on a subscriber.  A protected table there registers its rows
# in the subscriber's catalog: they are audited locally, stay local (app2
# and control never see them) and survive later replication.
$app1->safe_psql($db, <<'SQL');
CREATE ROLE local_app NOLOGIN;
GRANT EXECUTE ON FUNCTION zenml_rbac.set_principal(uuid) TO local_app;
CREATE TABLE models (
    id        uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL,
    owner_id  uuid,
    name      text NOT NULL
);
GRANT SELECT, INSERT ON models TO local_app;
SELECT zenml_rbac.protect('models', 'model', 'tenant_id', 'id', 'owner_id');
SQL
$app1->safe_psql($db, qq{
SET ROLE local_app;
BEGIN;
SELECT zenml_rbac.set_principal(@{[$u->('u8')]});
INSERT INTO models (tenant_id, name) VALUES (@{[$u->('main')]}, 'local-1');
COMMIT;});
my $local_model = $app1->safe_psql($db, q{SELECT id FROM models WHERE name = 'local-1'});
my $registered = "SELECT count(*) FROM zenml_rbac.resource WHERE resource_id = '$local_model'";
is($app1->safe_psql($db, $registered), '1', 'app1: a local insert registers its row in app1\'s catalog');
is($app1->safe_psql($db,
		"SELECT count(*) FROM zenml_rbac.audit_log WHERE object_kind = 'resource' AND after->>'resource_id' = '$local_model'"),
	'1', 'app1: and the registration is audited there');
$control->safe_psql($db, "SELECT zenml_rbac.grant_tenant_role(@{[$u->('main')]}, @{[$u->('u2')]}, 'editor')");
catch_up();
is($control->safe_psql($db, $registered), '0', 'control never sees the local registration');
is($app2->safe_psql($db, $registered), '0', 'nor does app2');
is($app1->safe_psql($db, $registered), '1', 'app1 keeps it while later changes replicate');
is($app1->safe_psql($db, "SELECT zenml_rbac.rbac_can(@{[$u->('u2')]}, @{[$u->('main')]}, 'model', 'create')"),
	't', 'app1: the later change arrived');
isnt(decisions($app1, $db), decisions($control, $db), 'app1 now decides its local row, which control cannot');
is(decisions($app2, $db), decisions($control, $db), 'app2 still decides as control');
is($app1->safe_psql($db, 'SELECT valid FROM zenml_rbac.verify_audit_log()'), 't',
	'app1: its audit log verifies with the local events');

# A local change to a replicated row lasts until control changes that row:
# u6 deactivated on app1 is active again once control links u6 to a login
# role, because the replicated update brings control's whole row.
my $u6_admin = "SELECT zenml_rbac.rbac_org_can(@{[$u->('u6')]}, @{[$u->('globex')]}, 'organization', 'delete')";
is($app1->safe_psql($db, $u6_admin), 't', 'app1: u6 administers globex');
$app1->safe_psql($db, "SELECT zenml_rbac.deactivate_user(@{[$u->('u6')]})");
is($app1->safe_psql($db, $u6_admin), 'f', 'app1: not after a local deactivation');
$control->safe_psql($db, "CREATE ROLE u6_login LOGIN; SELECT zenml_rbac.link_pg_role(@{[$u->('u6')]}, 'u6_login')");
catch_up();
is($app1->safe_psql($db, $u6_admin), $control->safe_psql($db, $u6_admin),
	'app1: control\'s next update of u6 undoes the local deactivation');
is($app1->safe_psql($db, $u6_admin), 't', 'app1: (u6 administers globex again)');

# The link is replicated as a name: a role of that name in the subscriber's
# cluster acts as u6 there.
$app1->safe_psql($db, 'CREATE ROLE u6_login LOGIN');
is($app1->safe_psql($db, 'SELECT zenml_rbac.current_principal()', extra_params => [ '-U', 'u6_login' ]),
	$id{u6}, 'app1: a local role named u6_login acts as u6');

# A local row that collides with a replicated one stops the subscription:
# the apply worker fails on the unique name and retries, nothing after it
# arrives, until the local row is removed.
$app1->safe_psql($db, q{SELECT zenml_rbac.create_user('u10')});
my $log_offset = -s $app1->logfile;
$control->safe_psql($db, q{SELECT zenml_rbac.create_user('u10')});
$control->safe_psql($db, q{SELECT zenml_rbac.create_user('u11')});
# 18 reports it as a conflict: "Key already exists in unique index ..."
$app1->wait_for_log(qr/(?:duplicate key value violates unique constraint|Key already exists in unique index) "principal_user_name"/, $log_offset);
pass('app1: the apply worker fails on the name u10 was given locally');
$app2->poll_query_until($db, q{SELECT count(*) = 1 FROM zenml_rbac.principal WHERE name = 'u11'})
  or die 'app2 did not get u11';
is($app1->safe_psql($db, q{SELECT count(*) FROM zenml_rbac.principal WHERE name = 'u11'}), '0',
	'app1: what control committed after it does not arrive');
$app1->safe_psql($db, q{DELETE FROM zenml_rbac.principal WHERE name = 'u10'});
catch_up();
my $principals = q{SELECT string_agg(id || ' ' || name, ',' ORDER BY id) FROM zenml_rbac.principal};
is($app1->safe_psql($db, $principals), $control->safe_psql($db, $principals),
	'app1: once the local row is gone, replication resumes and its principals are control\'s');

# Foreign keys are not checked when changes are applied: deleting a tenant
# on control leaves the subscriber's local registration in it behind.
$control->safe_psql($db, "SELECT zenml_rbac.delete_tenant(@{[$u->('main')]})");
catch_up();
is($app1->safe_psql($db, "SELECT count(*) FROM zenml_rbac.tenant WHERE id = @{[$u->('main')]}"), '0',
	'app1: the tenant deleted on control is gone');
is($app1->safe_psql($db, $registered), '1',
	'app1: its local registration in that tenant stays behind');

$_->stop for ($control, @apps);
done_testing();
