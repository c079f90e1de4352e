using Ketenmesh.OfficerConsole;

// The console as its own process (real profile, compose, Kubernetes); the embedded mesh builds it with ConsoleHost too.
return await ConsoleHost.RunAsync(ConsoleHost.Build(args));
