-- Roles for a raum]für[raum cluster; run once on the primary as postgres (psql -f roles.sql).
-- Replace every CHANGE-ME (or use \password afterwards).

-- Streaming replication between the database machines (primary_conninfo, Patroni).
CREATE ROLE replicator WITH LOGIN REPLICATION PASSWORD 'CHANGE-ME-replication';

-- pg_rewind (Patroni's rewind user): reads the data files of a running server.
CREATE ROLE rewinder WITH LOGIN PASSWORD 'CHANGE-ME-rewind';
GRANT EXECUTE ON FUNCTION pg_catalog.pg_ls_dir(text, boolean, boolean) TO rewinder;
GRANT EXECUTE ON FUNCTION pg_catalog.pg_stat_file(text, boolean) TO rewinder;
GRANT EXECUTE ON FUNCTION pg_catalog.pg_read_binary_file(text) TO rewinder;
GRANT EXECUTE ON FUNCTION pg_catalog.pg_read_binary_file(text, bigint, bigint, boolean) TO rewinder;

-- The app: owns its database, nothing more.
CREATE ROLE rfr WITH LOGIN PASSWORD 'CHANGE-ME-app';
CREATE DATABASE rfr OWNER rfr ENCODING 'UTF8' TEMPLATE template0;

-- `manage.py backup` (DATABASE_URL of the backup job): pg_basebackup, a WAL switch to prove
-- the archive works, and the archiver's status.
CREATE ROLE rfr_backup WITH LOGIN REPLICATION PASSWORD 'CHANGE-ME-backup' IN ROLE pg_monitor;
GRANT EXECUTE ON FUNCTION pg_catalog.pg_switch_wal() TO rfr_backup;
GRANT EXECUTE ON FUNCTION pg_catalog.pg_create_restore_point(text) TO rfr_backup;
GRANT CONNECT ON DATABASE rfr TO rfr_backup;
