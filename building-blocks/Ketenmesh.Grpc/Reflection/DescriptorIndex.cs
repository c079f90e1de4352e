using Google.Protobuf.Reflection;
using Ketenmesh.Grpc.Server;

namespace Ketenmesh.Grpc.Reflection;

/// <summary>Every file and symbol reachable from the served services, for reflection lookups.</summary>
internal sealed class DescriptorIndex
{
    private readonly Dictionary<string, FileDescriptor> _files = new(StringComparer.Ordinal);
    private readonly Dictionary<string, FileDescriptor> _symbols = new(StringComparer.Ordinal);

    public DescriptorIndex(IEnumerable<ServiceDescriptor> services)
    {
        Services = services.Select(s => s.FullName).ToList();
        foreach (var service in services)
        {
            AddFile(service.File);
        }
        // Not part of any service, but every error may carry them: tools need them to show rich error details.
        AddFile(Google.Rpc.ErrorDetailsReflection.Descriptor);
        AddFile(Google.Rpc.StatusReflection.Descriptor);
    }

    public IReadOnlyList<string> Services { get; }

    public FileDescriptor? FindFile(string name) => _files.GetValueOrDefault(name);

    public FileDescriptor? FindSymbol(string fullName) => _symbols.GetValueOrDefault(fullName.TrimStart('.'));

    /// <summary>The file and everything it imports, dependencies first, as reflection clients expect to build them.</summary>
    public static IEnumerable<FileDescriptor> WithDependencies(FileDescriptor file)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var ordered = new List<FileDescriptor>();
        Visit(file);
        return ordered;

        void Visit(FileDescriptor f)
        {
            if (!seen.Add(f.Name))
            {
                return;
            }
            foreach (var dependency in f.Dependencies)
            {
                Visit(dependency);
            }
            ordered.Add(f);
        }
    }

    private void AddFile(FileDescriptor file)
    {
        if (!_files.TryAdd(file.Name, file))
        {
            return;
        }
        foreach (var dependency in file.Dependencies)
        {
            AddFile(dependency);
        }
        foreach (var service in file.Services)
        {
            _symbols[service.FullName] = file;
            foreach (var method in service.Methods)
            {
                _symbols[$"{service.FullName}.{method.Name}"] = file;
            }
        }
        foreach (var message in file.MessageTypes)
        {
            AddMessage(message, file);
        }
        foreach (var enumType in file.EnumTypes)
        {
            _symbols[enumType.FullName] = file;
        }
        foreach (var extension in file.Extensions.UnorderedExtensions)
        {
            _symbols[extension.FullName] = file;
        }
    }

    private void AddMessage(MessageDescriptor message, FileDescriptor file)
    {
        _symbols[message.FullName] = file;
        foreach (var nested in message.NestedTypes)
        {
            AddMessage(nested, file);
        }
        foreach (var enumType in message.EnumTypes)
        {
            _symbols[enumType.FullName] = file;
        }
    }
}
