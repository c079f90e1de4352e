using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Ketenmesh.Bench;

/// <summary>One load setting: connections × streams per connection for a duration.</summary>
public sealed record LoadProfile(string Name, int Connections, int StreamsPerConnection, int Seconds, int WarmupSeconds);

public sealed record LoadResult(double RequestsPerSecond, double P50Milliseconds, double P99Milliseconds, long Succeeded, long Failed);

/// <summary>Drives h2load (nghttp2) and reads its per-request log for percentiles.</summary>
public static partial class H2Load
{
    public static async Task<LoadResult> RunAsync(Uri target, string path, string requestFile, LoadProfile profile, IReadOnlyDictionary<string, string>? headers = null)
    {
        await RunProcessAsync(Arguments(target, path, requestFile, profile with { Seconds = profile.WarmupSeconds }, logFile: null, headers));
        var log = Path.GetTempFileName();
        try
        {
            var output = await RunProcessAsync(Arguments(target, path, requestFile, profile, log, headers));
            var rate = double.Parse(RateLine().Match(output).Groups[1].Value, CultureInfo.InvariantCulture);
            var requests = RequestsLine().Match(output);
            var succeeded = long.Parse(requests.Groups[1].Value, CultureInfo.InvariantCulture);
            var failed = long.Parse(requests.Groups[2].Value, CultureInfo.InvariantCulture) + long.Parse(requests.Groups[3].Value, CultureInfo.InvariantCulture);
            var durations = File.ReadLines(log)
                .Select(l => l.Split('\t'))
                .Where(c => c.Length >= 3 && c[1] == "200")
                .Select(c => double.Parse(c[2], CultureInfo.InvariantCulture) / 1000.0)
                .Order()
                .ToArray();
            return new LoadResult(rate, Percentile(durations, 0.50), Percentile(durations, 0.99), succeeded, failed);
        }
        finally
        {
            File.Delete(log);
        }
    }

    private static List<string> Arguments(Uri target, string path, string requestFile, LoadProfile profile, string? logFile, IReadOnlyDictionary<string, string>? headers)
    {
        var arguments = new List<string>
        {
            "-D", profile.Seconds.ToString(CultureInfo.InvariantCulture),
            "-c", profile.Connections.ToString(CultureInfo.InvariantCulture),
            "-m", profile.StreamsPerConnection.ToString(CultureInfo.InvariantCulture),
            "-t", "1",
            "-H", "content-type: application/grpc",
            "-H", "te: trailers",
            "-d", requestFile,
        };
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            arguments.Add("-H");
            arguments.Add($"{name}: {value}");
        }
        if (logFile is not null)
        {
            arguments.Add($"--log-file={logFile}");
        }
        arguments.Add(new Uri(target, path).ToString());
        return arguments;
    }

    internal static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];

    private static async Task<string> RunProcessAsync(List<string> arguments)
    {
        var info = new ProcessStartInfo("h2load") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        arguments.ForEach(info.ArgumentList.Add);
        using var process = Process.Start(info) ?? throw new InvalidOperationException("h2load is not installed (Debian: nghttp2-client).");
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"h2load failed: {error}{output}");
        }
        return output;
    }

    [GeneratedRegex(@"finished in [0-9.]+m?s, ([0-9.]+) req/s")]
    private static partial Regex RateLine();

    [GeneratedRegex(@"requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored")]
    private static partial Regex RequestsLine();
}
