using Ketenmesh.Persistence.Migrations;

namespace Ketenmesh.Audit.Storage;

/// <summary>
/// The audit database, version by version. Never edit a released migration: add one. The head row
/// starts at the genesis hash (<see cref="Chain.CanonicalEntry.Genesis"/>), so the first writers on
/// several gateways lock the same row instead of racing to create it.
/// </summary>
internal static class AuditSchema
{
    public static readonly SchemaMigration[] Migrations =
    [
        SchemaMigration.Sql(
            "audit-0001-chain",
            sqlite: """
                CREATE TABLE audit_records (
                    sequence INTEGER PRIMARY KEY,
                    time_ms INTEGER NULL, partner_id TEXT NULL, purpose TEXT NULL, method TEXT NULL, decision INTEGER NULL,
                    reason TEXT NULL, grant_id TEXT NULL, grant_version_hash TEXT NULL, legal_basis TEXT NULL,
                    trace_id TEXT NULL, subject_pseudonym TEXT NULL, record_class INTEGER NOT NULL,
                    digest BLOB NOT NULL, hash BLOB NOT NULL, purged_at_ms INTEGER NULL);
                CREATE INDEX ix_audit_records_partner ON audit_records (partner_id, sequence);
                CREATE INDEX ix_audit_records_class_time ON audit_records (record_class, time_ms);
                CREATE INDEX ix_audit_records_subject ON audit_records (subject_pseudonym);
                CREATE TABLE audit_head (id INTEGER PRIMARY KEY, last_sequence INTEGER NOT NULL, last_hash BLOB NOT NULL);
                INSERT INTO audit_head (id, last_sequence, last_hash) VALUES (1, 0, X'fa98292f35bef347923055206f9c625dfc50dd47e72714221c3e1a309343cb0b');
                CREATE TABLE audit_checkpoints (sequence INTEGER PRIMARY KEY, hash BLOB NOT NULL, created_at_ms INTEGER NOT NULL, key_id TEXT NOT NULL, signature BLOB NOT NULL);
                CREATE TABLE audit_releases (id INTEGER PRIMARY KEY AUTOINCREMENT, sequence INTEGER NOT NULL, released_by TEXT NOT NULL, reason TEXT NOT NULL, released_at_ms INTEGER NOT NULL);
                """,
            postgres: """
                CREATE TABLE audit_records (
                    sequence bigint PRIMARY KEY,
                    time_ms bigint NULL, partner_id text NULL, purpose text NULL, method text NULL, decision integer NULL,
                    reason text NULL, grant_id text NULL, grant_version_hash text NULL, legal_basis text NULL,
                    trace_id text NULL, subject_pseudonym text NULL, record_class integer NOT NULL,
                    digest bytea NOT NULL, hash bytea NOT NULL, purged_at_ms bigint NULL);
                CREATE INDEX ix_audit_records_partner ON audit_records (partner_id, sequence);
                CREATE INDEX ix_audit_records_class_time ON audit_records (record_class, time_ms);
                CREATE INDEX ix_audit_records_subject ON audit_records (subject_pseudonym);
                CREATE TABLE audit_head (id integer PRIMARY KEY, last_sequence bigint NOT NULL, last_hash bytea NOT NULL);
                INSERT INTO audit_head (id, last_sequence, last_hash) VALUES (1, 0, '\xfa98292f35bef347923055206f9c625dfc50dd47e72714221c3e1a309343cb0b'::bytea);
                CREATE TABLE audit_checkpoints (sequence bigint PRIMARY KEY, hash bytea NOT NULL, created_at_ms bigint NOT NULL, key_id text NOT NULL, signature bytea NOT NULL);
                CREATE TABLE audit_releases (id bigserial PRIMARY KEY, sequence bigint NOT NULL, released_by text NOT NULL, reason text NOT NULL, released_at_ms bigint NOT NULL);
                """),
        // Append-only in the database too, not only in our code: rows are never deleted, checkpoints and
        // releases never change, and a record may only be emptied (purged) with its chain fields intact.
        // The table owner can still switch this off; the hash chain is what detects that.
        SchemaMigration.Sql(
            "audit-0002-append-only",
            sqlite: """
                CREATE TRIGGER audit_records_no_delete BEFORE DELETE ON audit_records
                BEGIN SELECT RAISE(ABORT, 'audit_records is append-only'); END;
                CREATE TRIGGER audit_records_purge_only BEFORE UPDATE ON audit_records
                WHEN NEW.sequence IS NOT OLD.sequence OR NEW.record_class IS NOT OLD.record_class OR NEW.digest IS NOT OLD.digest
                  OR NEW.hash IS NOT OLD.hash OR NEW.purged_at_ms IS NULL OR NEW.time_ms IS NOT NULL OR NEW.partner_id IS NOT NULL OR NEW.purpose IS NOT NULL OR NEW.method IS NOT NULL OR NEW.decision IS NOT NULL OR NEW.reason IS NOT NULL OR NEW.grant_id IS NOT NULL OR NEW.grant_version_hash IS NOT NULL OR NEW.legal_basis IS NOT NULL OR NEW.trace_id IS NOT NULL OR NEW.subject_pseudonym IS NOT NULL
                BEGIN SELECT RAISE(ABORT, 'audit_records is append-only; only a purge may empty a record'); END;
                CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
                BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END;
                CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
                BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END;
                CREATE TRIGGER audit_releases_no_delete BEFORE DELETE ON audit_releases
                BEGIN SELECT RAISE(ABORT, 'audit_releases is append-only'); END;
                CREATE TRIGGER audit_releases_no_update BEFORE UPDATE ON audit_releases
                BEGIN SELECT RAISE(ABORT, 'audit_releases is append-only'); END;
                """,
            postgres: """
                CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
                END $$;
                CREATE FUNCTION audit_records_purge_only() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF NEW.sequence IS DISTINCT FROM OLD.sequence OR NEW.record_class IS DISTINCT FROM OLD.record_class
                       OR NEW.digest IS DISTINCT FROM OLD.digest OR NEW.hash IS DISTINCT FROM OLD.hash OR NEW.purged_at_ms IS NULL
                       OR NEW.time_ms IS NOT NULL OR NEW.partner_id IS NOT NULL OR NEW.purpose IS NOT NULL OR NEW.method IS NOT NULL OR NEW.decision IS NOT NULL OR NEW.reason IS NOT NULL OR NEW.grant_id IS NOT NULL OR NEW.grant_version_hash IS NOT NULL OR NEW.legal_basis IS NOT NULL OR NEW.trace_id IS NOT NULL OR NEW.subject_pseudonym IS NOT NULL THEN
                        RAISE EXCEPTION 'audit_records is append-only; only a purge may empty a record';
                    END IF;
                    RETURN NEW;
                END $$;
                CREATE TRIGGER audit_records_no_delete BEFORE DELETE ON audit_records FOR EACH ROW EXECUTE FUNCTION audit_append_only();
                CREATE TRIGGER audit_records_purge_only BEFORE UPDATE ON audit_records FOR EACH ROW EXECUTE FUNCTION audit_records_purge_only();
                CREATE TRIGGER audit_records_no_truncate BEFORE TRUNCATE ON audit_records FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
                CREATE TRIGGER audit_checkpoints_no_change BEFORE UPDATE OR DELETE ON audit_checkpoints FOR EACH ROW EXECUTE FUNCTION audit_append_only();
                CREATE TRIGGER audit_releases_no_change BEFORE UPDATE OR DELETE ON audit_releases FOR EACH ROW EXECUTE FUNCTION audit_append_only();
                """),
        // How many calls a record stands for (repeated refusals of one source folded into one record); 1 for
        // every record before. Like the class, a purge keeps it: the purge-only rule now guards it too.
        SchemaMigration.Sql(
            "audit-0003-call-count",
            sqlite: """
                ALTER TABLE audit_records ADD COLUMN call_count INTEGER NOT NULL DEFAULT 1;
                DROP TRIGGER audit_records_purge_only;
                CREATE TRIGGER audit_records_purge_only BEFORE UPDATE ON audit_records
                WHEN NEW.sequence IS NOT OLD.sequence OR NEW.record_class IS NOT OLD.record_class OR NEW.call_count IS NOT OLD.call_count OR NEW.digest IS NOT OLD.digest
                  OR NEW.hash IS NOT OLD.hash OR NEW.purged_at_ms IS NULL OR NEW.time_ms IS NOT NULL OR NEW.partner_id IS NOT NULL OR NEW.purpose IS NOT NULL OR NEW.method IS NOT NULL OR NEW.decision IS NOT NULL OR NEW.reason IS NOT NULL OR NEW.grant_id IS NOT NULL OR NEW.grant_version_hash IS NOT NULL OR NEW.legal_basis IS NOT NULL OR NEW.trace_id IS NOT NULL OR NEW.subject_pseudonym IS NOT NULL
                BEGIN SELECT RAISE(ABORT, 'audit_records is append-only; only a purge may empty a record'); END;
                """,
            postgres: """
                ALTER TABLE audit_records ADD COLUMN call_count integer NOT NULL DEFAULT 1;
                CREATE OR REPLACE FUNCTION audit_records_purge_only() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF NEW.sequence IS DISTINCT FROM OLD.sequence OR NEW.record_class IS DISTINCT FROM OLD.record_class OR NEW.call_count IS DISTINCT FROM OLD.call_count
                       OR NEW.digest IS DISTINCT FROM OLD.digest OR NEW.hash IS DISTINCT FROM OLD.hash OR NEW.purged_at_ms IS NULL
                       OR NEW.time_ms IS NOT NULL OR NEW.partner_id IS NOT NULL OR NEW.purpose IS NOT NULL OR NEW.method IS NOT NULL OR NEW.decision IS NOT NULL OR NEW.reason IS NOT NULL OR NEW.grant_id IS NOT NULL OR NEW.grant_version_hash IS NOT NULL OR NEW.legal_basis IS NOT NULL OR NEW.trace_id IS NOT NULL OR NEW.subject_pseudonym IS NOT NULL THEN
                        RAISE EXCEPTION 'audit_records is append-only; only a purge may empty a record';
                    END IF;
                    RETURN NEW;
                END $$;
                """),
        // An officer's search (SearchDecisions) filters by partner, purpose, method and time and pages by sequence.
        // Partner already had (partner_id, sequence); purpose and method get the same shape, so a page of a rare
        // purpose or method is read in sequence order from its index instead of by scanning the chain for matches.
        // A time range is read from the retention's (record_class, time_ms), one range per class (AuditReader.SearchQuery),
        // and the outcome has two values: neither gets an index, as every index costs a page on every commit.
        SchemaMigration.Sql(
            "audit-0004-search",
            sqlite: """
                CREATE INDEX ix_audit_records_purpose ON audit_records (purpose, sequence);
                CREATE INDEX ix_audit_records_method ON audit_records (method, sequence);
                """,
            postgres: """
                CREATE INDEX ix_audit_records_purpose ON audit_records (purpose, sequence);
                CREATE INDEX ix_audit_records_method ON audit_records (method, sequence);
                """),
        // Each record carries its gateway's seal (CheckpointSigner.Seal), and the head the seal of its record: a record
        // put in behind the gateways' backs has none, so none links onto it. A purge keeps the seal, like the hash.
        SchemaMigration.Sql(
            "audit-0005-seal",
            sqlite: """
                ALTER TABLE audit_records ADD COLUMN seal BLOB NULL;
                ALTER TABLE audit_head ADD COLUMN last_seal BLOB NULL;
                DROP TRIGGER audit_records_purge_only;
                CREATE TRIGGER audit_records_purge_only BEFORE UPDATE ON audit_records
                WHEN NEW.sequence IS NOT OLD.sequence OR NEW.record_class IS NOT OLD.record_class OR NEW.call_count IS NOT OLD.call_count OR NEW.digest IS NOT OLD.digest
                  OR NEW.hash IS NOT OLD.hash OR NEW.seal IS NOT OLD.seal OR NEW.purged_at_ms IS NULL OR NEW.time_ms IS NOT NULL OR NEW.partner_id IS NOT NULL OR NEW.purpose IS NOT NULL OR NEW.method IS NOT NULL OR NEW.decision IS NOT NULL OR NEW.reason IS NOT NULL OR NEW.grant_id IS NOT NULL OR NEW.grant_version_hash IS NOT NULL OR NEW.legal_basis IS NOT NULL OR NEW.trace_id IS NOT NULL OR NEW.subject_pseudonym IS NOT NULL
                BEGIN SELECT RAISE(ABORT, 'audit_records is append-only; only a purge may empty a record'); END;
                """,
            postgres: """
                ALTER TABLE audit_records ADD COLUMN seal bytea NULL;
                ALTER TABLE audit_head ADD COLUMN last_seal bytea NULL;
                CREATE OR REPLACE FUNCTION audit_records_purge_only() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF NEW.sequence IS DISTINCT FROM OLD.sequence OR NEW.record_class IS DISTINCT FROM OLD.record_class OR NEW.call_count IS DISTINCT FROM OLD.call_count
                       OR NEW.digest IS DISTINCT FROM OLD.digest OR NEW.hash IS DISTINCT FROM OLD.hash OR NEW.seal IS DISTINCT FROM OLD.seal OR NEW.purged_at_ms IS NULL
                       OR NEW.time_ms IS NOT NULL OR NEW.partner_id IS NOT NULL OR NEW.purpose IS NOT NULL OR NEW.method IS NOT NULL OR NEW.decision IS NOT NULL OR NEW.reason IS NOT NULL OR NEW.grant_id IS NOT NULL OR NEW.grant_version_hash IS NOT NULL OR NEW.legal_basis IS NOT NULL OR NEW.trace_id IS NOT NULL OR NEW.subject_pseudonym IS NOT NULL THEN
                        RAISE EXCEPTION 'audit_records is append-only; only a purge may empty a record';
                    END IF;
                    RETURN NEW;
                END $$;
                """),
    ];
}
