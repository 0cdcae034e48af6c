-- zenml_rbac install script, assembled by the Makefile from src/sql/*.sql.
-- Edit the parts in src/sql/, never the generated file.

\echo Use "CREATE EXTENSION zenml_rbac" to load this file. \quit

-- The schema: anyone may look up its objects (each says who may use it, at
-- the end of the file that creates it), nobody but the owner create in it.
REVOKE ALL ON SCHEMA zenml_rbac FROM PUBLIC;
GRANT USAGE ON SCHEMA zenml_rbac TO PUBLIC;
