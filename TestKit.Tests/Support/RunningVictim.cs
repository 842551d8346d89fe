using System.Diagnostics;
using System.Reflection;
using System.Text;
using System.Text.Json;
using TestKit.Victim;

namespace TestKit.Tests;

/// <summary>A victim process: started, read until it reports what it holds, then ended normally or killed with SIGKILL.</summary>
internal sealed class RunningVictim : IAsyncDisposable
{
    private static readonly TimeSpan ReportDeadline = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan ExitDeadline = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly StringBuilder _errors = new();

    private RunningVictim(Process process)
    {
        _process = process;
    }

    internal VictimReport Report { get; private set; } = null!;

    /// <summary>Starts the victim and waits (with a deadline) for its report; kills it if that fails. <paramref name="environment"/>: variables to set, or (null) to unset.</summary>
    internal static async Task<RunningVictim> StartAsync(string[] arguments, string? connectionString, CancellationToken cancellationToken, IReadOnlyDictionary<string, string?>? environment = null)
    {
        // The dotnet host this test process was started by, when the CLI says which.
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            UseShellExecute = false,
            // Its standard input stays open while this process lives: the victim's signal that someone will kill it.
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(VictimPath());
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        if (connectionString is not null)
        {
            start.Environment["VICTIM_CONNECTION_STRING"] = connectionString;
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            start.Environment[name] = value;
        }

        var victim = new RunningVictim(Process.Start(start)!);
        try
        {
            victim._process.ErrorDataReceived += (_, line) =>
            {
                lock (victim._errors)
                {
                    victim._errors.AppendLine(line.Data);
                }
            };
            victim._process.BeginErrorReadLine();
            victim.Report = await victim.ReadReportAsync(cancellationToken).WaitAsync(ReportDeadline, cancellationToken);
            return victim;
        }
        catch
        {
            await victim.DisposeAsync();
            throw;
        }
    }

    /// <summary>SIGKILL (what <see cref="Process.Kill()"/> sends on Linux), then waits for the process to be gone.</summary>
    internal async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }

        await _process.WaitForExitAsync().WaitAsync(ExitDeadline);
    }

    /// <summary>Closes its standard input, so that it gives everything back as a run that ends normally, and waits for it to exit with 0.</summary>
    internal async Task EndAsync()
    {
        _process.StandardInput.Close();
        await _process.WaitForExitAsync().WaitAsync(ExitDeadline);
        if (_process.ExitCode != 0)
        {
            throw new InvalidOperationException($"The victim exited with code {_process.ExitCode}.");
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await KillAsync();
        }
        finally
        {
            _process.Dispose();
        }
    }

    private static string VictimPath()
    {
        var path = typeof(RunningVictim).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(attribute => attribute.Key == "TestKit.Victim").Value!;
        return File.Exists(path) ? path : throw new FileNotFoundException("The victim program was not built; build TestKit.sln.", path);
    }

    private async Task<VictimReport> ReadReportAsync(CancellationToken cancellationToken)
    {
        while (await _process.StandardOutput.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.StartsWith('{'))
            {
                return JsonSerializer.Deserialize<VictimReport>(line)!;
            }
        }

        await _process.WaitForExitAsync(cancellationToken);
        string errors;
        lock (_errors)
        {
            errors = _errors.ToString();
        }

        throw new InvalidOperationException($"The victim exited (code {_process.ExitCode}) before it reported what it holds: {errors}");
    }
}
