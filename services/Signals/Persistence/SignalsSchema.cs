using Ketenmesh.Persistence.Migrations;

namespace Ketenmesh.Signals.Persistence;

/// <summary>The signals database, version by version. Never edit a released migration: add one.</summary>
public static class SignalsSchema
{
    public static readonly SchemaMigration[] Migrations =
    [
        SchemaMigration.Sql(
            "signals-0001-signals",
            sqlite: """
                CREATE TABLE signals (
                    signal_id TEXT PRIMARY KEY,
                    reporter_partner_id TEXT NOT NULL,
                    client_request_id TEXT NOT NULL,
                    observation BLOB NOT NULL,
                    status INTEGER NOT NULL,
                    outcome BLOB NULL,
                    received_at TEXT NOT NULL,
                    status_changed_at TEXT NOT NULL,
                    version INTEGER NOT NULL);
                CREATE UNIQUE INDEX ux_signals_reporter_request ON signals (reporter_partner_id, client_request_id);
                CREATE INDEX ix_signals_reporter_received ON signals (reporter_partner_id, received_at, signal_id);
                """,
            postgres: """
                CREATE TABLE signals (
                    signal_id text PRIMARY KEY,
                    reporter_partner_id text NOT NULL,
                    client_request_id text NOT NULL,
                    observation bytea NOT NULL,
                    status integer NOT NULL,
                    outcome bytea NULL,
                    received_at timestamptz NOT NULL,
                    status_changed_at timestamptz NOT NULL,
                    version bigint NOT NULL);
                CREATE UNIQUE INDEX ux_signals_reporter_request ON signals (reporter_partner_id, client_request_id);
                CREATE INDEX ix_signals_reporter_received ON signals (reporter_partner_id, received_at, signal_id);
                """),
        // Every watch reads a partner's recent status changes each second (SignalWatch): by index, not by scan.
        SchemaMigration.Sql(
            "signals-0002-status-changes",
            sqlite: "CREATE INDEX ix_signals_reporter_status_changed ON signals (reporter_partner_id, status_changed_at);",
            postgres: "CREATE INDEX ix_signals_reporter_status_changed ON signals (reporter_partner_id, status_changed_at);"),
    ];
}
