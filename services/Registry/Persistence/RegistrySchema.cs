using Chain.Registry.V1;
using Ketenmesh.Persistence;
using Ketenmesh.Persistence.Migrations;
using Ketenmesh.Registry.Domain;

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
        SchemaMigration.Sql(
            "registry-0002-reflection-merges-consents",
            sqlite: """
                ALTER TABLE registrations ADD COLUMN reflection_ends_on TEXT NULL;
                ALTER TABLE registrations ADD COLUMN reflection_reminded INTEGER NOT NULL DEFAULT 0;
                CREATE INDEX ix_registrations_reflection ON registrations (reflection_ends_on);
                CREATE INDEX ix_registrations_registered_at ON registrations (registered_at);
                CREATE TABLE registration_merges (
                    merge_id TEXT PRIMARY KEY, partner_id TEXT NOT NULL, client_request_id TEXT NOT NULL,
                    surviving_registration_id TEXT NOT NULL, data BLOB NOT NULL, merged_at TEXT NOT NULL);
                CREATE UNIQUE INDEX ux_merges_request ON registration_merges (partner_id, client_request_id);
                CREATE TABLE consents (
                    consent_id TEXT PRIMARY KEY, registration_id TEXT NOT NULL, partner_id TEXT NOT NULL,
                    client_request_id TEXT NOT NULL, version INTEGER NOT NULL, data BLOB NOT NULL, recorded_at TEXT NOT NULL);
                CREATE UNIQUE INDEX ux_consents_request ON consents (partner_id, client_request_id);
                CREATE INDEX ix_consents_registration ON consents (registration_id);
                """,
            postgres: """
                ALTER TABLE registrations ADD COLUMN reflection_ends_on date NULL;
                ALTER TABLE registrations ADD COLUMN reflection_reminded boolean NOT NULL DEFAULT false;
                CREATE INDEX ix_registrations_reflection ON registrations (reflection_ends_on) WHERE reflection_ends_on IS NOT NULL;
                CREATE INDEX ix_registrations_registered_at ON registrations (registered_at);
                CREATE TABLE registration_merges (
                    merge_id text PRIMARY KEY, partner_id text NOT NULL, client_request_id text NOT NULL,
                    surviving_registration_id text NOT NULL, data bytea NOT NULL, merged_at timestamptz NOT NULL);
                CREATE UNIQUE INDEX ux_merges_request ON registration_merges (partner_id, client_request_id);
                CREATE TABLE consents (
                    consent_id text PRIMARY KEY, registration_id text NOT NULL, partner_id text NOT NULL,
                    client_request_id text NOT NULL, version bigint NOT NULL, data bytea NOT NULL, recorded_at timestamptz NOT NULL);
                CREATE UNIQUE INDEX ux_consents_request ON consents (partner_id, client_request_id);
                CREATE INDEX ix_consents_registration ON consents (registration_id);
                """),
        // Placements the shelter service released, so a confirmation arriving after its release records nothing.
        SchemaMigration.Sql(
            "registry-0003-placement-releases",
            sqlite: """
                CREATE TABLE placement_releases (placement_id TEXT PRIMARY KEY, released_at TEXT NOT NULL);
                """,
            postgres: """
                CREATE TABLE placement_releases (placement_id text PRIMARY KEY, released_at timestamptz NOT NULL);
                """),
        // When news of a pending signal last came in, so signals kept on file or decided are purged after their
        // retention (PendingSignalPurge). Rows already there count from this migration.
        SchemaMigration.Sql(
            "registry-0004-pending-signal-times",
            sqlite: """
                ALTER TABLE pending_signals ADD COLUMN changed_at TEXT NULL;
                UPDATE pending_signals SET changed_at = strftime('%Y-%m-%d %H:%M:%f', 'now');
                CREATE INDEX ix_pending_signals_changed ON pending_signals (decided, changed_at);
                """,
            postgres: """
                ALTER TABLE pending_signals ADD COLUMN changed_at timestamptz NOT NULL DEFAULT now();
                ALTER TABLE pending_signals ALTER COLUMN changed_at DROP DEFAULT;
                CREATE INDEX ix_pending_signals_changed ON pending_signals (decided, changed_at);
                """),
        // The guardian a registration names, as a column, so ListWards finds a guardian's wards without
        // reading every record. Rows already there are filled in from their record.
        SchemaMigration.Code("registry-0005-guardians", async (step, cancellationToken) =>
        {
            await step.ExecuteAsync(step.Provider == DatabaseProvider.Postgres
                ? """
                  ALTER TABLE registrations ADD COLUMN guardian integer NOT NULL DEFAULT 0;
                  CREATE INDEX ix_registrations_guardian ON registrations (guardian, registered_at DESC, registration_id DESC) WHERE guardian <> 0;
                  """
                : """
                  ALTER TABLE registrations ADD COLUMN guardian INTEGER NOT NULL DEFAULT 0;
                  CREATE INDEX ix_registrations_guardian ON registrations (guardian, registered_at, registration_id);
                  """, cancellationToken);
            await BackfillGuardiansAsync(step, cancellationToken);
        }),
    ];

    /// <summary>
    /// Sets the guardian of every registration already stored, by the rule the store writes it with. Read first
    /// and written after: one connection cannot update while a reader is open on it.
    /// </summary>
    private static async Task BackfillGuardiansAsync(MigrationStep step, CancellationToken cancellationToken)
    {
        var guardians = new List<(string RegistrationId, int Guardian)>();
        await using (var read = step.Connection.CreateCommand())
        {
            read.Transaction = step.Transaction;
            read.CommandText = "SELECT registration_id, data FROM registrations";
            await using var reader = await read.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var guardian = RegistrationStore.GuardianColumnOf(Registration.Parser.ParseFrom((byte[])reader.GetValue(1)));
                if (guardian != 0)
                {
                    guardians.Add((reader.GetString(0), guardian));
                }
            }
        }
        foreach (var (registrationId, guardian) in guardians)
        {
            await using var write = step.Connection.CreateCommand();
            write.Transaction = step.Transaction;
            write.CommandText = "UPDATE registrations SET guardian = @guardian WHERE registration_id = @id";
            var guardianParameter = write.CreateParameter();
            guardianParameter.ParameterName = "@guardian";
            guardianParameter.Value = guardian;
            var idParameter = write.CreateParameter();
            idParameter.ParameterName = "@id";
            idParameter.Value = registrationId;
            write.Parameters.Add(guardianParameter);
            write.Parameters.Add(idParameter);
            await write.ExecuteNonQueryAsync(cancellationToken);
        }
    }
}
