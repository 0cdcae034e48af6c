# zenml_rbac: PGXS build.  The version lives in zenml_rbac.control only.
EXTENSION   = zenml_rbac
EXTVERSION := $(shell sed -n "s/^default_version *= *'\(.*\)'/\1/p" $(EXTENSION).control)

MODULE_big  = zenml_rbac
OBJS        = src/zenml_rbac.o src/vocabulary.o src/resource_ref.o src/catalog.o src/catalog_access.o src/statement_snapshot.o src/decision.o \
              src/identity.o src/protect.o src/audit.o src/audit_hash.o src/denial_log.o src/log_value.o src/token.o src/jwt.o src/membership.o \
              src/invalidation.o src/policy_nodes.o src/policy_scan.o src/policy_page.o src/visible_entries.o
SHLIB_LINK  = -lcrypto

# The install script is assembled from one file per concern, in this order.
SQL_SOURCES = src/sql/header.sql src/sql/catalog.sql src/sql/checks.sql \
              src/sql/identity.sql src/sql/authorization.sql \
              src/sql/organizations.sql src/sql/principals.sql src/sql/teams.sql \
              src/sql/tenant_roles.sql src/sql/custom_roles.sql \
              src/sql/resources.sql src/sql/api_keys.sql src/sql/protect.sql \
              src/sql/audit.sql src/sql/reporting.sql \
              src/sql/identity_providers.sql src/sql/catalog_triggers.sql
# Past releases' install scripts, frozen, and every upgrade step between
# them (src/sql/upgrade/A--B.sql: the changes to A's objects, then the
# objects B added, each with its grants).
DATA        = $(wildcard src/sql/released/*.sql)
UPGRADES    = $(patsubst src/sql/upgrade/%.sql,$(EXTENSION)--%.sql,$(wildcard src/sql/upgrade/*--*.sql))
DATA_built  = $(EXTENSION)--$(EXTVERSION).sql $(UPGRADES)

REGRESS      = catalog org_roles tenant_roles custom_roles teams sharing escalation account_takeover disclosure cursor_principal \
               membership management_authz identity api_keys errors security \
               invalidation rls policy_scan attacks audit reporting hostile upgrade
REGRESS_OPTS = --load-extension=zenml_rbac
ISOLATION      = cache_invalidation cache_fine_grained cache_statement_boundary concurrent_management lock_wait_revocation \
                 decision_freshness \
                 rls_visibility rls_cached_plan rls_visible_entries audit_chain
ISOLATION_OPTS = --inputdir=test/isolation --outputdir=test/isolation --load-extension=zenml_rbac
# Perl cluster tests (PostgreSQL::Test::Cluster; initdb refuses root): run by
# "make installcheck" after the suites above, or alone by "make prove_installcheck".
TAP_TESTS    = 1
PROVE_TESTS  = test/t/*.pl

PG_CFLAGS = -std=gnu99 -Wall -Wextra -Werror -Wno-unused-parameter \
            -Wno-missing-field-initializers -Wno-sign-compare

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

# PGXS runs the TAP tests only as part of installcheck: this runs them alone.
.PHONY: prove_installcheck
prove_installcheck:
	$(prove_installcheck)

# PGXS does not track header dependencies: every object depends on every header.
$(OBJS): $(wildcard src/*.h)

$(EXTENSION)--$(EXTVERSION).sql: $(SQL_SOURCES) $(EXTENSION).control
	cat $(SQL_SOURCES) > $@

# Every upgrade step A--B: src/sql/upgrade/A--B.sql, installed under the extension's name.
$(EXTENSION)--%.sql: src/sql/upgrade/%.sql
	cp $< $@

.PHONY: valgrind fuzz pgtap
# The regress suite under valgrind memcheck; fails on an error in our code.
valgrind:
	bash test/valgrind.sh

# libFuzzer (clang, ASan+UBSan) on the parsers, for FUZZ_SECONDS each.
fuzz:
	$(MAKE) -C test/fuzz run

pgtap:
	pg_prove --ext .sql -v test/pgtap/

# Static analysis of our C (PostgreSQL's headers are read, not reported on).
.PHONY: cppcheck
cppcheck:
	cppcheck --enable=warning,style,performance,portability --error-exitcode=1 --inline-suppr \
	  --quiet --std=c99 -I src -I $(shell $(PG_CONFIG) --includedir-server) \
	  --suppress=missingIncludeSystem --suppress=toomanyconfigs --suppress='*:$(shell $(PG_CONFIG) --includedir-server)/*' \
	  src/*.c
