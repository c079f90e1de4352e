using Ketenmesh.Persistence.Migrations;

namespace Ketenmesh.Registry.Persistence;

/// <summary>The registry database, version by version. Never edit a released migration: add one.</summary>
public static class RegistrySchema
{
    public static readonly SchemaMigration[] Migrations =
    [
        SchemaMigration.Sql(
            "registry-0001-registrations",
            sqlite: """
                CREATE TABLE registrations (
                    registration_id TEXT PRIMARY KEY, reporter_partner_id TEXT NULL, client_request_id TEXT NULL,
                    status INTEGER NOT NULL, version INTEGER NOT NULL, data BLOB NOT NULL, registered_at TEXT NOT NULL);
                CREATE UNIQUE INDEX ux_registrations_request ON registrations (reporter_partner_id, client_request_id);
                CREATE TABLE registration_link_keys (
                    id INTEGER PRIMARY KEY AUTOINCREMENT, registration_id TEXT NOT NULL, kind INTEGER NOT NULL,
                    key_id TEXT NOT NULL, keyed_hash BLOB NOT NULL);
                CREATE INDEX ix_link_keys_hash ON registration_link_keys (key_id, keyed_hash);
                CREATE INDEX ix_link_keys_registration ON registration_link_keys (registration_id);
                CREATE TABLE pending_signals (signal_id TEXT PRIMARY KEY, received BLOB NULL, assessed BLOB NULL, decided INTEGER NOT NULL);
                """,
            postgres: """
                CREATE TABLE registrations (
                    registration_id text PRIMARY KEY, reporter_partner_id text NULL, client_request_id text NULL,
                    status integer NOT NULL, version bigint NOT NULL, data bytea NOT NULL, registered_at timestamptz NOT NULL);
                CREATE UNIQUE INDEX ux_registrations_request ON registrations (reporter_partner_id, client_request_id);
                CREATE TABLE registration_link_keys (
                    id bigserial PRIMARY KEY, registration_id text NOT NULL, kind integer NOT NULL,
                    key_id text NOT NULL, keyed_hash bytea NOT NULL);
                CREATE INDEX ix_link_keys_hash ON registration_link_keys (key_id, keyed_hash);
                CREATE INDEX ix_link_keys_registration ON registration_link_keys (registration_id);
                CREATE TABLE pending_signals (signal_id text PRIMARY KEY, received bytea NULL, assessed bytea NULL, decided boolean NOT NULL);
                """),
    ];
}
