using Ketenmesh.Persistence.Migrations;

namespace Ketenmesh.Identity.Persistence;

/// <summary>
/// The identity database, version by version. Never edit a released migration: add one. The OpenIddict
/// tables are what EF Core generates for OpenIddict.EntityFrameworkCore 7.8.0's model on each provider
/// (<c>Database.GenerateCreateScript()</c>), frozen here like every other schema of the mesh; an OpenIddict
/// upgrade that changes its model needs a migration of its own.
/// </summary>
internal static class IdentitySchema
{
    public static readonly SchemaMigration[] Migrations =
    [
        SchemaMigration.Sql(
            "identity-0001-openiddict",
            sqlite: """
                CREATE TABLE "OpenIddictApplications" (
                    "Id" TEXT NOT NULL CONSTRAINT "PK_OpenIddictApplications" PRIMARY KEY,
                    "ApplicationType" TEXT NULL,
                    "ClientId" TEXT NULL,
                    "ClientSecret" TEXT NULL,
                    "ClientType" TEXT NULL,
                    "ConcurrencyToken" TEXT NULL,
                    "ConsentType" TEXT NULL,
                    "DisplayName" TEXT NULL,
                    "DisplayNames" TEXT NULL,
                    "JsonWebKeySet" TEXT NULL,
                    "Permissions" TEXT NULL,
                    "PostLogoutRedirectUris" TEXT NULL,
                    "Properties" TEXT NULL,
                    "RedirectUris" TEXT NULL,
                    "Requirements" TEXT NULL,
                    "Settings" TEXT NULL
                );
                CREATE TABLE "OpenIddictScopes" (
                    "Id" TEXT NOT NULL CONSTRAINT "PK_OpenIddictScopes" PRIMARY KEY,
                    "ConcurrencyToken" TEXT NULL,
                    "Description" TEXT NULL,
                    "Descriptions" TEXT NULL,
                    "DisplayName" TEXT NULL,
                    "DisplayNames" TEXT NULL,
                    "Name" TEXT NULL,
                    "Properties" TEXT NULL,
                    "Resources" TEXT NULL
                );
                CREATE TABLE "OpenIddictAuthorizations" (
                    "Id" TEXT NOT NULL CONSTRAINT "PK_OpenIddictAuthorizations" PRIMARY KEY,
                    "ApplicationId" TEXT NULL,
                    "ConcurrencyToken" TEXT NULL,
                    "CreationDate" TEXT NULL,
                    "Properties" TEXT NULL,
                    "Scopes" TEXT NULL,
                    "Status" TEXT NULL,
                    "Subject" TEXT NULL,
                    "Type" TEXT NULL,
                    CONSTRAINT "FK_OpenIddictAuthorizations_OpenIddictApplications_ApplicationId" FOREIGN KEY ("ApplicationId") REFERENCES "OpenIddictApplications" ("Id")
                );
                CREATE TABLE "OpenIddictTokens" (
                    "Id" TEXT NOT NULL CONSTRAINT "PK_OpenIddictTokens" PRIMARY KEY,
                    "ApplicationId" TEXT NULL,
                    "AuthorizationId" TEXT NULL,
                    "ConcurrencyToken" TEXT NULL,
                    "CreationDate" TEXT NULL,
                    "ExpirationDate" TEXT NULL,
                    "Payload" TEXT NULL,
                    "Properties" TEXT NULL,
                    "RedemptionDate" TEXT NULL,
                    "ReferenceId" TEXT NULL,
                    "Status" TEXT NULL,
                    "Subject" TEXT NULL,
                    "Type" TEXT NULL,
                    CONSTRAINT "FK_OpenIddictTokens_OpenIddictApplications_ApplicationId" FOREIGN KEY ("ApplicationId") REFERENCES "OpenIddictApplications" ("Id"),
                    CONSTRAINT "FK_OpenIddictTokens_OpenIddictAuthorizations_AuthorizationId" FOREIGN KEY ("AuthorizationId") REFERENCES "OpenIddictAuthorizations" ("Id")
                );
                CREATE UNIQUE INDEX "IX_OpenIddictApplications_ClientId" ON "OpenIddictApplications" ("ClientId");
                CREATE INDEX "IX_OpenIddictAuthorizations_ApplicationId_Status_Subject_Type" ON "OpenIddictAuthorizations" ("ApplicationId", "Status", "Subject", "Type");
                CREATE UNIQUE INDEX "IX_OpenIddictScopes_Name" ON "OpenIddictScopes" ("Name");
                CREATE INDEX "IX_OpenIddictTokens_ApplicationId_Status_Subject_Type" ON "OpenIddictTokens" ("ApplicationId", "Status", "Subject", "Type");
                CREATE INDEX "IX_OpenIddictTokens_AuthorizationId" ON "OpenIddictTokens" ("AuthorizationId");
                CREATE UNIQUE INDEX "IX_OpenIddictTokens_ReferenceId" ON "OpenIddictTokens" ("ReferenceId");
                """,
            postgres: """
                CREATE TABLE "OpenIddictApplications" (
                    "Id" text NOT NULL,
                    "ApplicationType" character varying(50),
                    "ClientId" character varying(100),
                    "ClientSecret" text,
                    "ClientType" character varying(50),
                    "ConcurrencyToken" character varying(50),
                    "ConsentType" character varying(50),
                    "DisplayName" text,
                    "DisplayNames" text,
                    "JsonWebKeySet" text,
                    "Permissions" text,
                    "PostLogoutRedirectUris" text,
                    "Properties" text,
                    "RedirectUris" text,
                    "Requirements" text,
                    "Settings" text,
                    CONSTRAINT "PK_OpenIddictApplications" PRIMARY KEY ("Id")
                );
                CREATE TABLE "OpenIddictScopes" (
                    "Id" text NOT NULL,
                    "ConcurrencyToken" character varying(50),
                    "Description" text,
                    "Descriptions" text,
                    "DisplayName" text,
                    "DisplayNames" text,
                    "Name" character varying(200),
                    "Properties" text,
                    "Resources" text,
                    CONSTRAINT "PK_OpenIddictScopes" PRIMARY KEY ("Id")
                );
                CREATE TABLE "OpenIddictAuthorizations" (
                    "Id" text NOT NULL,
                    "ApplicationId" text,
                    "ConcurrencyToken" character varying(50),
                    "CreationDate" timestamp with time zone,
                    "Properties" text,
                    "Scopes" text,
                    "Status" character varying(50),
                    "Subject" character varying(400),
                    "Type" character varying(50),
                    CONSTRAINT "PK_OpenIddictAuthorizations" PRIMARY KEY ("Id"),
                    CONSTRAINT "FK_OpenIddictAuthorizations_OpenIddictApplications_Application~" FOREIGN KEY ("ApplicationId") REFERENCES "OpenIddictApplications" ("Id")
                );
                CREATE TABLE "OpenIddictTokens" (
                    "Id" text NOT NULL,
                    "ApplicationId" text,
                    "AuthorizationId" text,
                    "ConcurrencyToken" character varying(50),
                    "CreationDate" timestamp with time zone,
                    "ExpirationDate" timestamp with time zone,
                    "Payload" text,
                    "Properties" text,
                    "RedemptionDate" timestamp with time zone,
                    "ReferenceId" character varying(100),
                    "Status" character varying(50),
                    "Subject" character varying(400),
                    "Type" character varying(150),
                    CONSTRAINT "PK_OpenIddictTokens" PRIMARY KEY ("Id"),
                    CONSTRAINT "FK_OpenIddictTokens_OpenIddictApplications_ApplicationId" FOREIGN KEY ("ApplicationId") REFERENCES "OpenIddictApplications" ("Id"),
                    CONSTRAINT "FK_OpenIddictTokens_OpenIddictAuthorizations_AuthorizationId" FOREIGN KEY ("AuthorizationId") REFERENCES "OpenIddictAuthorizations" ("Id")
                );
                CREATE UNIQUE INDEX "IX_OpenIddictApplications_ClientId" ON "OpenIddictApplications" ("ClientId");
                CREATE INDEX "IX_OpenIddictAuthorizations_ApplicationId_Status_Subject_Type" ON "OpenIddictAuthorizations" ("ApplicationId", "Status", "Subject", "Type");
                CREATE UNIQUE INDEX "IX_OpenIddictScopes_Name" ON "OpenIddictScopes" ("Name");
                CREATE INDEX "IX_OpenIddictTokens_ApplicationId_Status_Subject_Type" ON "OpenIddictTokens" ("ApplicationId", "Status", "Subject", "Type");
                CREATE INDEX "IX_OpenIddictTokens_AuthorizationId" ON "OpenIddictTokens" ("AuthorizationId");
                CREATE UNIQUE INDEX "IX_OpenIddictTokens_ReferenceId" ON "OpenIddictTokens" ("ReferenceId");
                """),
        SchemaMigration.Sql(
            "identity-0002-used-client-assertions",
            sqlite: """
                CREATE TABLE "used_client_assertions" (
                    "client_id" TEXT NOT NULL,
                    "jti" TEXT NOT NULL,
                    "expires_at_ms" INTEGER NOT NULL,
                    CONSTRAINT "PK_used_client_assertions" PRIMARY KEY ("client_id", "jti")
                );
                """,
            postgres: """
                CREATE TABLE used_client_assertions (
                    client_id text NOT NULL,
                    jti text NOT NULL,
                    expires_at_ms bigint NOT NULL,
                    CONSTRAINT "PK_used_client_assertions" PRIMARY KEY (client_id, jti)
                );
                """),
    ];
}
