using Ketenmesh.Persistence.Migrations;

namespace Ketenmesh.Shelter.Persistence;

/// <summary>The shelter database, version by version. Never edit a released migration: add one.</summary>
public static class ShelterSchema
{
    public static readonly SchemaMigration[] Migrations =
    [
        SchemaMigration.Sql(
            "shelter-0001-capacity-and-placements",
            sqlite: """
                CREATE TABLE shelters (
                    shelter_id TEXT PRIMARY KEY,
                    name TEXT NOT NULL,
                    operator_name TEXT NOT NULL,
                    kind INTEGER NOT NULL,
                    categories TEXT NOT NULL,
                    municipality_code TEXT NOT NULL,
                    municipality_name TEXT NOT NULL,
                    secured INTEGER NOT NULL,
                    version INTEGER NOT NULL,
                    as_of TEXT NULL,
                    reported_at TEXT NULL);
                CREATE TABLE shelter_beds (
                    shelter_id TEXT NOT NULL REFERENCES shelters (shelter_id),
                    category INTEGER NOT NULL,
                    total INTEGER NOT NULL,
                    occupied INTEGER NOT NULL,
                    held INTEGER NOT NULL,
                    PRIMARY KEY (shelter_id, category));
                CREATE TABLE capacity_head (
                    id INTEGER PRIMARY KEY,
                    version INTEGER NOT NULL);
                INSERT INTO capacity_head (id, version) VALUES (1, 0);
                CREATE TABLE capacity_changes (
                    version INTEGER PRIMARY KEY,
                    shelter_id TEXT NOT NULL,
                    snapshot BLOB NOT NULL,
                    recorded_at TEXT NOT NULL);
                CREATE TABLE placements (
                    placement_id TEXT PRIMARY KEY,
                    registration_id TEXT NOT NULL,
                    requested_by TEXT NOT NULL,
                    client_request_id TEXT NOT NULL,
                    state INTEGER NOT NULL,
                    category INTEGER NOT NULL,
                    shelter_id TEXT NULL,
                    waiting_list INTEGER NOT NULL,
                    needs BLOB NOT NULL,
                    requested_at TEXT NOT NULL,
                    hold_expires_at TEXT NULL,
                    placed_at TEXT NULL,
                    ended_at TEXT NULL,
                    version INTEGER NOT NULL);
                CREATE UNIQUE INDEX ux_placements_requester_request ON placements (requested_by, client_request_id);
                CREATE INDEX ix_placements_state_expiry ON placements (state, hold_expires_at);
                CREATE INDEX ix_placements_shelter ON placements (shelter_id);
                """,
            postgres: """
                CREATE TABLE shelters (
                    shelter_id text PRIMARY KEY,
                    name text NOT NULL,
                    operator_name text NOT NULL,
                    kind integer NOT NULL,
                    categories text NOT NULL,
                    municipality_code text NOT NULL,
                    municipality_name text NOT NULL,
                    secured boolean NOT NULL,
                    version bigint NOT NULL,
                    as_of timestamptz NULL,
                    reported_at timestamptz NULL);
                CREATE TABLE shelter_beds (
                    shelter_id text NOT NULL REFERENCES shelters (shelter_id),
                    category integer NOT NULL,
                    total integer NOT NULL,
                    occupied integer NOT NULL,
                    held integer NOT NULL,
                    PRIMARY KEY (shelter_id, category));
                CREATE TABLE capacity_head (
                    id integer PRIMARY KEY,
                    version bigint NOT NULL);
                INSERT INTO capacity_head (id, version) VALUES (1, 0);
                CREATE TABLE capacity_changes (
                    version bigint PRIMARY KEY,
                    shelter_id text NOT NULL,
                    snapshot bytea NOT NULL,
                    recorded_at timestamptz NOT NULL);
                CREATE TABLE placements (
                    placement_id text PRIMARY KEY,
                    registration_id text NOT NULL,
                    requested_by text NOT NULL,
                    client_request_id text NOT NULL,
                    state integer NOT NULL,
                    category integer NOT NULL,
                    shelter_id text NULL,
                    waiting_list integer NOT NULL,
                    needs bytea NOT NULL,
                    requested_at timestamptz NOT NULL,
                    hold_expires_at timestamptz NULL,
                    placed_at timestamptz NULL,
                    ended_at timestamptz NULL,
                    version bigint NOT NULL);
                CREATE UNIQUE INDEX ux_placements_requester_request ON placements (requested_by, client_request_id);
                CREATE INDEX ix_placements_state_expiry ON placements (state, hold_expires_at);
                CREATE INDEX ix_placements_shelter ON placements (shelter_id);
                """),
        // The seeded shelters: the three COSM shelters of the brief (PMW/Humanitas Rotterdam, HVO Querido/ACM
        // Amsterdam, Jade incl. men; 70 COSM places together, seeds/001 L7886-7888 and L7928) and a few others.
        // Bed counts and municipalities are a starting point for the demo; each shelter reports its own.
        SchemaMigration.Sql(
            "shelter-0002-seed-shelters",
            sqlite: """
                INSERT INTO shelters (shelter_id, name, operator_name, kind, categories, municipality_code, municipality_name, secured, version) VALUES ('shelter-pmw', 'COSM De Lucia', 'PMW (Humanitas Rotterdam)', 1, '6,1', 'GM0599', 'Rotterdam', 1, 1);
                INSERT INTO shelter_beds (shelter_id, category, total, occupied, held) VALUES ('shelter-pmw', 6, 25, 0, 0);
                INSERT INTO shelter_beds (shelter_id, category, total, occupied, held) VALUES ('shelter-pmw', 1, 4, 0, 0);
                INSERT INTO shelters (shelter_id, name, operator_name, kind, categories, municipality_code, municipality_name, secured, version) VALUES ('shelter-acm', 'COSM ACM', 'HVO Querido (ACM Amsterdam)', 1, '6,1', 'GM0363', 'Amsterdam', 1, 2);
                INSERT INTO shelter_beds (shelter_id, category, total, occupied, held) VALUES ('shelter-acm', 6, 25, 0, 0);
                INSERT INTO shelter_beds (shelter_id, category, total, occupied, held) VALUES ('shelter-acm', 1, 4, 0, 0);
                INSERT INTO shelters (shelter_id, name, operator_name, kind, categories, municipality_code, municipality_name, secured, version) VALUES ('shelter-jade', 'Jade', 'Zorggroep Jade', 1, '6,2', 'GM0114', 'Emmen', 1, 3);
                INSERT INTO shelter_beds (shelter_id, category, total, occupied, held) VALUES ('shelter-jade', 6, 20, 0, 0);
                INSERT INTO shelter_beds (shelter_id, category, total, occupied, held) VALUES ('shelter-jade', 2, 6, 0, 0);
                INSERT INTO shelters (shelter_id, name, operator_name, kind, categories, municipality_code, municipality_name, secured, version) VALUES ('shelter-fier', 'Fier', 'Fier', 5, '4,1', 'GM0080', 'Leeuwarden', 1, 4);
                INSERT INTO shelter_beds (shelter_id, category, total, occupied, held) VALUES ('shelter-fier', 4, 12, 0, 0);
                INSERT INTO shelter_beds (shelter_id, category, total, occupied, held) VALUES ('shelter-fier', 1, 8, 0, 0);
                INSERT INTO shelters (shelter_id, name, operator_name, kind, categories, municipality_code, municipality_name, secured, version) VALUES ('shelter-womens-utrecht', 'Vrouwenopvang Utrecht', 'Regional women''s shelter', 2, '1,3', 'GM0344', 'Utrecht', 0, 5);
                INSERT INTO shelter_beds (shelter_id, category, total, occupied, held) VALUES ('shelter-womens-utrecht', 1, 10, 0, 0);
                INSERT INTO shelter_beds (shelter_id, category, total, occupied, held) VALUES ('shelter-womens-utrecht', 3, 6, 0, 0);
                INSERT INTO shelters (shelter_id, name, operator_name, kind, categories, municipality_code, municipality_name, secured, version) VALUES ('shelter-social-den-haag', 'Maatschappelijke opvang Den Haag', 'Regional social shelter', 3, '2,7', 'GM0518', '''s-Gravenhage', 0, 6);
                INSERT INTO shelter_beds (shelter_id, category, total, occupied, held) VALUES ('shelter-social-den-haag', 2, 12, 0, 0);
                INSERT INTO shelter_beds (shelter_id, category, total, occupied, held) VALUES ('shelter-social-den-haag', 7, 6, 0, 0);
                UPDATE capacity_head SET version = 6 WHERE id = 1;
                """,
            postgres: """
                INSERT INTO shelters (shelter_id, name, operator_name, kind, categories, municipality_code, municipality_name, secured, version) VALUES ('shelter-pmw', 'COSM De Lucia', 'PMW (Humanitas Rotterdam)', 1, '6,1', 'GM0599', 'Rotterdam', true, 1);
                INSERT INTO shelter_beds (shelter_id, category, total, occupied, held) VALUES ('shelter-pmw', 6, 25, 0, 0);
                INSERT INTO shelter_beds (shelter_id, category, total, occupied, held) VALUES ('shelter-pmw', 1, 4, 0, 0);
                INSERT INTO shelters (shelter_id, name, operator_name, kind, categories, municipality_code, municipality_name, secured, version) VALUES ('shelter-acm', 'COSM ACM', 'HVO Querido (ACM Amsterdam)', 1, '6,1', 'GM0363', 'Amsterdam', true, 2);
                INSERT INTO shelter_beds (shelter_id, category, total, occupied, held) VALUES ('shelter-acm', 6, 25, 0, 0);
                INSERT INTO shelter_beds (shelter_id, category, total, occupied, held) VALUES ('shelter-acm', 1, 4, 0, 0);
                INSERT INTO shelters (shelter_id, name, operator_name, kind, categories, municipality_code, municipality_name, secured, version) VALUES ('shelter-jade', 'Jade', 'Zorggroep Jade', 1, '6,2', 'GM0114', 'Emmen', true, 3);
                INSERT INTO shelter_beds (shelter_id, category, total, occupied, held) VALUES ('shelter-jade', 6, 20, 0, 0);
                INSERT INTO shelter_beds (shelter_id, category, total, occupied, held) VALUES ('shelter-jade', 2, 6, 0, 0);
                INSERT INTO shelters (shelter_id, name, operator_name, kind, categories, municipality_code, municipality_name, secured, version) VALUES ('shelter-fier', 'Fier', 'Fier', 5, '4,1', 'GM0080', 'Leeuwarden', true, 4);
                INSERT INTO shelter_beds (shelter_id, category, total, occupied, held) VALUES ('shelter-fier', 4, 12, 0, 0);
                INSERT INTO shelter_beds (shelter_id, category, total, occupied, held) VALUES ('shelter-fier', 1, 8, 0, 0);
                INSERT INTO shelters (shelter_id, name, operator_name, kind, categories, municipality_code, municipality_name, secured, version) VALUES ('shelter-womens-utrecht', 'Vrouwenopvang Utrecht', 'Regional women''s shelter', 2, '1,3', 'GM0344', 'Utrecht', false, 5);
                INSERT INTO shelter_beds (shelter_id, category, total, occupied, held) VALUES ('shelter-womens-utrecht', 1, 10, 0, 0);
                INSERT INTO shelter_beds (shelter_id, category, total, occupied, held) VALUES ('shelter-womens-utrecht', 3, 6, 0, 0);
                INSERT INTO shelters (shelter_id, name, operator_name, kind, categories, municipality_code, municipality_name, secured, version) VALUES ('shelter-social-den-haag', 'Maatschappelijke opvang Den Haag', 'Regional social shelter', 3, '2,7', 'GM0518', '''s-Gravenhage', false, 6);
                INSERT INTO shelter_beds (shelter_id, category, total, occupied, held) VALUES ('shelter-social-den-haag', 2, 12, 0, 0);
                INSERT INTO shelter_beds (shelter_id, category, total, occupied, held) VALUES ('shelter-social-den-haag', 7, 6, 0, 0);
                UPDATE capacity_head SET version = 6 WHERE id = 1;
                """),
        // COSM admission from the registry's events (its own projection), and why a request was not admitted.
        SchemaMigration.Sql(
            "shelter-0003-admission",
            sqlite: """
                CREATE TABLE admission_facts (
                    registration_id TEXT PRIMARY KEY,
                    version INTEGER NOT NULL,
                    minor INTEGER NOT NULL,
                    dutch_national INTEGER NOT NULL,
                    in_reflection_period INTEGER NOT NULL,
                    aangifte_made INTEGER NOT NULL,
                    asylum_procedure INTEGER NOT NULL,
                    closed INTEGER NOT NULL);
                ALTER TABLE placements ADD COLUMN cosm_eligible INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE placements ADD COLUMN ineligibility TEXT NOT NULL DEFAULT '';
                CREATE INDEX ix_placements_waiting ON placements (state, waiting_list, category, requested_at);
                """,
            postgres: """
                CREATE TABLE admission_facts (
                    registration_id text PRIMARY KEY,
                    version bigint NOT NULL,
                    minor boolean NOT NULL,
                    dutch_national boolean NOT NULL,
                    in_reflection_period boolean NOT NULL,
                    aangifte_made boolean NOT NULL,
                    asylum_procedure boolean NOT NULL,
                    closed boolean NOT NULL);
                ALTER TABLE placements ADD COLUMN cosm_eligible boolean NOT NULL DEFAULT false;
                ALTER TABLE placements ADD COLUMN ineligibility text NOT NULL DEFAULT '';
                CREATE INDEX ix_placements_waiting ON placements (state, waiting_list, category, requested_at);
                """),
        // Temporary shelter for large groups (up to 14 days, BRIEF.md "Shelter (COSM)"): the arrangement, and the
        // places held for it per shelter and category (counted in shelter_beds.held until the period ends).
        SchemaMigration.Sql(
            "shelter-0004-large-groups",
            sqlite: """
                CREATE TABLE large_group_arrangements (
                    arrangement_id TEXT PRIMARY KEY,
                    requested_by TEXT NOT NULL,
                    client_request_id TEXT NOT NULL,
                    state INTEGER NOT NULL,
                    request BLOB NOT NULL,
                    requested_at TEXT NOT NULL,
                    starts_at TEXT NOT NULL,
                    ends_at TEXT NOT NULL,
                    released_at TEXT NULL);
                CREATE UNIQUE INDEX ux_large_groups_requester_request ON large_group_arrangements (requested_by, client_request_id);
                CREATE INDEX ix_large_groups_state_end ON large_group_arrangements (state, ends_at);
                CREATE TABLE large_group_allocations (
                    arrangement_id TEXT NOT NULL REFERENCES large_group_arrangements (arrangement_id),
                    shelter_id TEXT NOT NULL REFERENCES shelters (shelter_id),
                    category INTEGER NOT NULL,
                    places INTEGER NOT NULL CHECK (places > 0),
                    PRIMARY KEY (arrangement_id, shelter_id, category));
                """,
            postgres: """
                CREATE TABLE large_group_arrangements (
                    arrangement_id text PRIMARY KEY,
                    requested_by text NOT NULL,
                    client_request_id text NOT NULL,
                    state integer NOT NULL,
                    request bytea NOT NULL,
                    requested_at timestamptz NOT NULL,
                    starts_at timestamptz NOT NULL,
                    ends_at timestamptz NOT NULL,
                    released_at timestamptz NULL);
                CREATE UNIQUE INDEX ux_large_groups_requester_request ON large_group_arrangements (requested_by, client_request_id);
                CREATE INDEX ix_large_groups_state_end ON large_group_arrangements (state, ends_at);
                CREATE TABLE large_group_allocations (
                    arrangement_id text NOT NULL REFERENCES large_group_arrangements (arrangement_id),
                    shelter_id text NOT NULL REFERENCES shelters (shelter_id),
                    category integer NOT NULL,
                    places integer NOT NULL CHECK (places > 0),
                    PRIMARY KEY (arrangement_id, shelter_id, category));
                """),
        // The change log is purged after Shelter:Watch:ChangeRetention, keeping each shelter's latest change; the head
        // remembers how far, so a watch resuming from before that is refused instead of skipping what was purged.
        SchemaMigration.Sql(
            "shelter-0005-capacity-log-retention",
            sqlite: """
                ALTER TABLE capacity_head ADD COLUMN purged_through INTEGER NOT NULL DEFAULT 0;
                CREATE INDEX ix_capacity_changes_shelter ON capacity_changes (shelter_id, version);
                CREATE INDEX ix_capacity_changes_recorded ON capacity_changes (recorded_at);
                """,
            postgres: """
                ALTER TABLE capacity_head ADD COLUMN purged_through bigint NOT NULL DEFAULT 0;
                CREATE INDEX ix_capacity_changes_shelter ON capacity_changes (shelter_id, version);
                CREATE INDEX ix_capacity_changes_recorded ON capacity_changes (recorded_at);
                """),
        // A hold made from a waiting list remembers that list: when it runs out unconfirmed the person goes back on it
        // (keeping requested_at), instead of leaving the list for good. Merged registrations point at their survivor,
        // so a request under a merged id is decided on the survivor's facts.
        SchemaMigration.Sql(
            "shelter-0006-offered-holds-and-merges",
            sqlite: """
                ALTER TABLE placements ADD COLUMN offered_from INTEGER NOT NULL DEFAULT 0;
                CREATE INDEX ix_placements_registration ON placements (registration_id);
                CREATE TABLE registration_merges (
                    merged_registration_id TEXT PRIMARY KEY,
                    surviving_registration_id TEXT NOT NULL);
                CREATE INDEX ix_registration_merges_survivor ON registration_merges (surviving_registration_id);
                """,
            postgres: """
                ALTER TABLE placements ADD COLUMN offered_from integer NOT NULL DEFAULT 0;
                CREATE INDEX ix_placements_registration ON placements (registration_id);
                CREATE TABLE registration_merges (
                    merged_registration_id text PRIMARY KEY,
                    surviving_registration_id text NOT NULL);
                CREATE INDEX ix_registration_merges_survivor ON registration_merges (surviving_registration_id);
                """),
        // Retention (ShelterPurge): when a registration's closure was learnt, so its admission facts go a retention after
        // it; facts closed already count from this migration. Placements are purged by state and end.
        SchemaMigration.Sql(
            "shelter-0007-retention",
            sqlite: """
                ALTER TABLE admission_facts ADD COLUMN closed_at TEXT NULL;
                UPDATE admission_facts SET closed_at = strftime('%Y-%m-%d %H:%M:%f', 'now') WHERE closed = 1;
                CREATE INDEX ix_placements_state_ended ON placements (state, ended_at);
                """,
            postgres: """
                ALTER TABLE admission_facts ADD COLUMN closed_at timestamptz NULL;
                UPDATE admission_facts SET closed_at = now() WHERE closed;
                CREATE INDEX ix_placements_state_ended ON placements (state, ended_at);
                """),
        // The arrangement a placement was asked under, so a resubmission under the same client_request_id with another
        // arrangement (or none) is told apart from the same request sent again.
        SchemaMigration.Sql(
            "shelter-0008-placement-arrangement",
            sqlite: "ALTER TABLE placements ADD COLUMN arrangement_id TEXT NULL;",
            postgres: "ALTER TABLE placements ADD COLUMN arrangement_id text NULL;"),
        // Whether a placement's bed was one of its arrangement's places, so a hold on it that ends unused goes back to the
        // group; false for every placement before, which is how they were released then.
        SchemaMigration.Sql(
            "shelter-0009-placement-group-place",
            sqlite: "ALTER TABLE placements ADD COLUMN from_group_place INTEGER NOT NULL DEFAULT 0;",
            postgres: "ALTER TABLE placements ADD COLUMN from_group_place boolean NOT NULL DEFAULT false;"),
    ];
}
