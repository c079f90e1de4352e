namespace Ketenmesh.Testing;

/// <summary>
/// Where the integration tests find their real broker and database. Missing variables fail the
/// test with instructions: a silent skip would report green without testing anything.
/// </summary>
public static class TestEnvironment
{
    public const string RabbitMqVariable = "KETENMESH_TEST_RABBITMQ";
    public const string PostgresVariable = "KETENMESH_TEST_POSTGRES";

    /// <summary>amqp://user:password@host:port/ — the user must be allowed to create virtual hosts.</summary>
    public static Uri RabbitMq => new(Require(RabbitMqVariable, "tests/infra/start-rabbitmq.sh"));

    /// <summary>Npgsql connection string of a role with CREATEDB; the database part is ignored.</summary>
    public static string Postgres => Require(PostgresVariable, "tests/infra/start-postgres.sh");

    static string Require(string variable, string script)
    {
        var value = Environment.GetEnvironmentVariable(variable);
        return string.IsNullOrWhiteSpace(value)
            ? throw new InvalidOperationException(
                $"{variable} is not set. This integration test needs a real server on loopback: run `eval \"$({script})\"` " +
                "(or `./mesh test`, which does) and run the tests again.")
            : value;
    }
}
