using Ketenmesh.Persistence.Migrations;

namespace Ketenmesh.SharingPolicy.Persistence;

/// <summary>The sharing-policy database, version by version. Never edit a released migration: add one.</summary>
internal static class SharingPolicySchema
{
    public static readonly SchemaMigration[] Migrations =
    [
        SchemaMigration.Sql(
            "policy-0001-grants",
            sqlite: """
                CREATE TABLE grant_versions (
                    version_hash TEXT PRIMARY KEY, grant_id TEXT NOT NULL, partner_id TEXT NOT NULL, purpose INTEGER NOT NULL,
                    "grant" BLOB NOT NULL, state INTEGER NOT NULL, drafted_by TEXT NOT NULL, drafted_at_ms INTEGER NOT NULL,
                    approved_by TEXT NULL, approved_at_ms INTEGER NULL, revoked_by TEXT NULL, revoked_at_ms INTEGER NULL, revocation_reason TEXT NULL);
                CREATE INDEX ix_grant_versions_grant ON grant_versions (grant_id, drafted_at_ms);
                CREATE TABLE publications (revision INTEGER PRIMARY KEY, published_at_ms INTEGER NOT NULL, published_by TEXT NOT NULL, snapshot BLOB NOT NULL);
                """,
            postgres: """
                CREATE TABLE grant_versions (
                    version_hash text PRIMARY KEY, grant_id text NOT NULL, partner_id text NOT NULL, purpose integer NOT NULL,
                    "grant" bytea NOT NULL, state integer NOT NULL, drafted_by text NOT NULL, drafted_at_ms bigint NOT NULL,
                    approved_by text NULL, approved_at_ms bigint NULL, revoked_by text NULL, revoked_at_ms bigint NULL, revocation_reason text NULL);
                CREATE INDEX ix_grant_versions_grant ON grant_versions (grant_id, drafted_at_ms);
                CREATE TABLE publications (revision bigint PRIMARY KEY, published_at_ms bigint NOT NULL, published_by text NOT NULL, snapshot bytea NOT NULL);
                """),
    ];
}
