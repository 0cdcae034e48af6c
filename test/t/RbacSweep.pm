# Every decision a database's catalog yields, as text two databases can be
# compared on: after a dump/restore, an upgrade, on a standby, on a logical
# subscriber, after a crash.  Shared by the Perl cluster tests.
package RbacSweep;

use strict;
use warnings;
use Exporter 'import';

our @EXPORT_OK = qw(decisions decision_summary);

# One line per allowed cell (principal, scope, resource or capability,
# action), in a stable order; a denied cell is simply absent.  Covers every
# principal (teams and deactivated ones too) against every tenant, type and
# action, every registered instance, and every organization capability.
my $decisions_sql = <<'SQL';
WITH actions(action) AS (VALUES ('create'), ('read'), ('update'), ('delete'), ('share')),
capabilities(capability) AS (VALUES ('organization'), ('billing'), ('member'), ('tenant'), ('team')),
cells AS (
    SELECT p.id AS principal, t.id AS scope, rt.name AS target, a.action,
           zenml_rbac.rbac_can(p.id, t.id, rt.name, a.action) AS allowed
      FROM zenml_rbac.principal p, zenml_rbac.tenant t,
           zenml_rbac.resource_type rt, actions a
    UNION ALL
    SELECT p.id, r.tenant_id, r.resource_type || '/' || r.resource_id, a.action,
           zenml_rbac.rbac_can(p.id, r.tenant_id, r.resource_type || '/' || r.resource_id, a.action)
      FROM zenml_rbac.principal p, zenml_rbac.resource r, actions a
    UNION ALL
    SELECT p.id, o.id, 'org:' || c.capability, a.action,
           zenml_rbac.rbac_org_can(p.id, o.id, c.capability, a.action)
      FROM zenml_rbac.principal p, zenml_rbac.organization o, capabilities c, actions a
)
SELECT coalesce(string_agg(format('%s %s %s %s', principal, scope, target, action), E'\n'
                           ORDER BY principal, scope, target, action)
                  FILTER (WHERE allowed), '')
  FROM cells
SQL

my $summary_sql = <<'SQL';
SELECT format('%s principals, %s tenants, %s resources, %s organizations',
              (SELECT count(*) FROM zenml_rbac.principal),
              (SELECT count(*) FROM zenml_rbac.tenant),
              (SELECT count(*) FROM zenml_rbac.resource),
              (SELECT count(*) FROM zenml_rbac.organization))
SQL

# The allowed cells of $db on $node, one per line.  $prefix is SQL run first
# in the same session (e.g. to warm or configure the cache).
sub decisions
{
	my ($node, $db, $prefix) = @_;
	$prefix //= '';
	return $node->safe_psql($db, $prefix . $decisions_sql);
}

# What the sweep covered, so a test can show it was not empty.
sub decision_summary
{
	my ($node, $db) = @_;
	return $node->safe_psql($db, $summary_sql);
}

1;
