using System.Data.Common;

namespace Ketenmesh.Audit.Storage;

/// <summary>The log's own SQL on its connection, outside EF Core: one way to name a parameter.</summary>
internal static class DbCommands
{
    /// <param name="value">Null for a parameter a reused command sets before each run.</param>
    public static void AddParameter(this DbCommand command, string name, object? value = null)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        if (value is not null)
        {
            parameter.Value = value;
        }
        command.Parameters.Add(parameter);
    }
}
