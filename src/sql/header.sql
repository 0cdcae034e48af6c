-- zenml_rbac install script, assembled by the Makefile from src/sql/*.sql.
-- Edit the parts in src/sql/, never the generated file.

\echo Use "CREATE EXTENSION zenml_rbac" to load this file. \quit

