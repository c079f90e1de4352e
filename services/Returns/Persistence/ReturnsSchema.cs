using Ketenmesh.Persistence.Migrations;

namespace Ketenmesh.Returns.Persistence;

/// <summary>The return coordination database, version by version. Never edit a released migration: add one.</summary>
public static class ReturnsSchema
{
    public static readonly SchemaMigration[] Migrations =
    [
        SchemaMigration.Sql(
            "returns-0001-cases-and-registry-knowledge",
            sqlite: """
                CREATE TABLE return_cases (
                    return_case_id TEXT PRIMARY KEY, registration_id TEXT NOT NULL, departure_suspended INTEGER NOT NULL,
                    target_departure_by TEXT NULL, target_flagged INTEGER NOT NULL, next_check_in_due TEXT NULL,
                    check_in_flagged INTEGER NOT NULL, closed INTEGER NOT NULL, version INTEGER NOT NULL,
                    data BLOB NOT NULL, created_at TEXT NOT NULL);
                CREATE INDEX ix_return_cases_registration ON return_cases (registration_id);
                CREATE INDEX ix_return_cases_target ON return_cases (target_departure_by);
                CREATE INDEX ix_return_cases_check_in ON return_cases (next_check_in_due);
                CREATE TABLE return_requests (
                    partner_id TEXT NOT NULL, client_request_id TEXT NOT NULL, return_case_id TEXT NOT NULL,
                    PRIMARY KEY (partner_id, client_request_id));
                CREATE TABLE known_residence (
                    registration_id TEXT PRIMARY KEY, registration_version INTEGER NOT NULL, legal_stay INTEGER NOT NULL,
                    temporary_residence_decision INTEGER NOT NULL, continued_residence_decision INTEGER NOT NULL);
                CREATE TABLE known_consents (consent_id TEXT PRIMARY KEY, registration_id TEXT NOT NULL, data BLOB NOT NULL);
                CREATE INDEX ix_known_consents_registration ON known_consents (registration_id);
                """,
            postgres: """
                CREATE TABLE return_cases (
                    return_case_id text PRIMARY KEY, registration_id text NOT NULL, departure_suspended boolean NOT NULL,
                    target_departure_by date NULL, target_flagged boolean NOT NULL, next_check_in_due date NULL,
                    check_in_flagged boolean NOT NULL, closed boolean NOT NULL, version bigint NOT NULL,
                    data bytea NOT NULL, created_at timestamptz NOT NULL);
                CREATE INDEX ix_return_cases_registration ON return_cases (registration_id);
                CREATE INDEX ix_return_cases_target ON return_cases (target_departure_by) WHERE target_departure_by IS NOT NULL;
                CREATE INDEX ix_return_cases_check_in ON return_cases (next_check_in_due) WHERE next_check_in_due IS NOT NULL;
                CREATE TABLE return_requests (
                    partner_id text NOT NULL, client_request_id text NOT NULL, return_case_id text NOT NULL,
                    PRIMARY KEY (partner_id, client_request_id));
                CREATE TABLE known_residence (
                    registration_id text PRIMARY KEY, registration_version bigint NOT NULL, legal_stay integer NOT NULL,
                    temporary_residence_decision integer NOT NULL, continued_residence_decision integer NOT NULL);
                CREATE TABLE known_consents (consent_id text PRIMARY KEY, registration_id text NOT NULL, data bytea NOT NULL);
                CREATE INDEX ix_known_consents_registration ON known_consents (registration_id);
                """),
        // Registry merges: cases, consents and later news under a merged registration follow its survivor.
        SchemaMigration.Sql(
            "returns-0002-known-merges",
            sqlite: """
                CREATE TABLE known_merges (merged_registration_id TEXT PRIMARY KEY, surviving_registration_id TEXT NOT NULL);
                CREATE INDEX ix_known_merges_survivor ON known_merges (surviving_registration_id);
                """,
            postgres: """
                CREATE TABLE known_merges (merged_registration_id text PRIMARY KEY, surviving_registration_id text NOT NULL);
                CREATE INDEX ix_known_merges_survivor ON known_merges (surviving_registration_id);
                """),
        // One open case per registration, enforced where two requests cannot both miss it: DT&V's D9
        // and IOM's plan arriving at once would otherwise open two cases, and the plan would escape the
        // suspension. SQLite keeps booleans as 0/1.
        SchemaMigration.Sql(
            "returns-0003-one-open-case-per-registration",
            sqlite: "CREATE UNIQUE INDEX ux_return_cases_open_registration ON return_cases (registration_id) WHERE closed = 0;",
            postgres: "CREATE UNIQUE INDEX ux_return_cases_open_registration ON return_cases (registration_id) WHERE NOT closed;"),
    ];
}
