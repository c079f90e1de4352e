namespace Ketenmesh.OfficerConsole.Dashboard;

/// <summary>
/// CSV fields as RFC 4180 writes them. Text that a spreadsheet would run as a formula (starting with =, +, -,
/// @, tab or carriage return) gets a leading apostrophe: an audit record holds what a caller sent (its declared
/// purpose, as sent), and an officer opening the export must not run it.
/// </summary>
public static class Csv
{
    public static string Field(string? value)
    {
        value ??= "";
        if (value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            value = "'" + value;
        }
        return value.IndexOfAny(['"', ',', '\r', '\n']) >= 0 || value.StartsWith(' ') || value.EndsWith(' ')
            ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\""
            : value;
    }

    public static string Line(IEnumerable<string?> fields) => string.Join(',', fields.Select(Field)) + "\r\n";
}
