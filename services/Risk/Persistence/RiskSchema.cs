using Ketenmesh.Persistence.Migrations;

namespace Ketenmesh.Risk.Persistence;

/// <summary>The risk database, version by version. Never edit a released migration: add one.</summary>
public static class RiskSchema
{
    public static readonly SchemaMigration[] Migrations =
    [
        SchemaMigration.Sql(
            "risk-0001-assessments",
            sqlite: """
                CREATE TABLE signal_facts (signal_id TEXT PRIMARY KEY, facts BLOB NOT NULL, received_at TEXT NOT NULL);
                CREATE TABLE assessments (
                    assessment_id TEXT PRIMARY KEY, signal_id TEXT NOT NULL, rule_set_version TEXT NOT NULL,
                    is_current INTEGER NOT NULL, assessed_at TEXT NOT NULL, explained BLOB NOT NULL);
                CREATE UNIQUE INDEX ux_assessments_signal_version ON assessments (signal_id, rule_set_version);
                CREATE TABLE rule_set_states (version TEXT PRIMARY KEY, state INTEGER NOT NULL, activated_at TEXT NULL, retired_at TEXT NULL);
                """,
            postgres: """
                CREATE TABLE signal_facts (signal_id text PRIMARY KEY, facts bytea NOT NULL, received_at timestamptz NOT NULL);
                CREATE TABLE assessments (
                    assessment_id text PRIMARY KEY, signal_id text NOT NULL, rule_set_version text NOT NULL,
                    is_current boolean NOT NULL, assessed_at timestamptz NOT NULL, explained bytea NOT NULL);
                CREATE UNIQUE INDEX ux_assessments_signal_version ON assessments (signal_id, rule_set_version);
                CREATE TABLE rule_set_states (version text PRIMARY KEY, state integer NOT NULL, activated_at timestamptz NULL, retired_at timestamptz NULL);
                """),
    ];
}
