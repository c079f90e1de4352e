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
    ];
}
