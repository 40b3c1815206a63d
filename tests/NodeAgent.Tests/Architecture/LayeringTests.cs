using System.Reflection;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using NodeAgent.Tests.Support;

namespace NodeAgent.Tests.Architecture;

/// <summary>
/// Guards the module map of docs/architecture.md: system calls are declared in NodeAgent.Linux (and the shim) only,
/// and no project reaches, directly or through another, a project its README lists under "Never references".
/// </summary>
public partial class LayeringTests
{
    private static readonly string[] SyscallProjects = ["NodeAgent.Linux", "nodeagent-shim"];

    public static TheoryData<string> ProductAssemblies()
    {
        var data = new TheoryData<string>();
        foreach (var project in ProductProjects().Keys.Where(p => p != "nodeagent-shim"))
        {
            data.Add(project);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(ProductAssemblies))]
    public void OnlyNodeAgentLinuxDeclaresPlatformInvokes(string assemblyName)
    {
        var assembly = Assembly.Load(assemblyName == "nodeagent" ? "nodeagent" : assemblyName);
        var pinvokes = assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly)
                .Where(m => (m.Attributes & MethodAttributes.PinvokeImpl) != 0)
                .Select(m => $"{t.FullName}.{m.Name}"))
            .ToList();
        if (SyscallProjects.Contains(assemblyName))
        {
            return;
        }
        Assert.True(pinvokes.Count == 0, $"{assemblyName} declares P/Invokes (syscalls belong in NodeAgent.Linux): {string.Join(", ", pinvokes)}");
    }

    [Fact]
    public void TheLinuxProjectIsWhereTheSyscallsAre()
    {
        // The check above must be able to see P/Invokes at all.
        var linux = Assembly.Load("NodeAgent.Linux");
        Assert.Contains(linux.GetTypes().SelectMany(t => t.GetMethods(BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.Static)),
            m => (m.Attributes & MethodAttributes.PinvokeImpl) != 0);
    }

    [Fact]
    public void EverySourceProjectStatesWhatItNeverReferences()
    {
        foreach (var (name, dir) in ProductProjects().Where(p => p.Value.Contains("/src/")))
        {
            var readme = Path.Combine(dir, "README.md");
            Assert.True(File.Exists(readme), $"{name} has no README.md");
            Assert.True(NeverReferences(readme) is not null, $"{readme} has no \"**Never references**:\" line");
        }
    }

    [Fact]
    public void NoProjectReachesAProjectItsReadmeForbids()
    {
        var projects = ProductProjects();
        var failures = new List<string>();
        foreach (var (name, dir) in projects.Where(p => p.Value.Contains("/src/")))
        {
            var forbidden = NeverReferences(Path.Combine(dir, "README.md")) ?? [];
            var reached = Closure(name, projects);
            foreach (var bad in forbidden.Where(reached.Contains))
            {
                failures.Add($"{name} reaches {bad}, which its README forbids");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void TheKubeletDrivesTheRuntimeOnlyThroughTheContracts()
    {
        var reached = Closure("NodeAgent.Kubelet", ProductProjects());
        Assert.Contains("NodeAgent.Cri", reached);
        Assert.DoesNotContain("NodeAgent.Runtime", reached);
        Assert.DoesNotContain("NodeAgent.Images", reached);
        Assert.DoesNotContain("NodeAgent.Registry", reached);
    }

    private static Dictionary<string, string> ProductProjects()
    {
        var root = RepoPaths.Root;
        return Directory.GetFiles(Path.Combine(root, "src"), "*.csproj", SearchOption.AllDirectories)
            .Concat(Directory.GetFiles(Path.Combine(root, "cmd"), "*.csproj", SearchOption.AllDirectories))
            .ToDictionary(p => Path.GetFileNameWithoutExtension(p), p => Path.GetDirectoryName(p)!);
    }

    private static HashSet<string> Closure(string project, Dictionary<string, string> projects)
    {
        var seen = new HashSet<string>();
        var stack = new Stack<string>([project]);
        while (stack.TryPop(out var current))
        {
            var csproj = Path.Combine(projects[current], current + ".csproj");
            foreach (var reference in XDocument.Load(csproj).Descendants("ProjectReference"))
            {
                var name = Path.GetFileNameWithoutExtension(reference.Attribute("Include")!.Value.Replace('\\', '/'));
                if (seen.Add(name))
                {
                    stack.Push(name);
                }
            }
        }
        return seen;
    }

    private static string[]? NeverReferences(string readme)
    {
        var match = NeverLine().Match(File.ReadAllText(readme));
        return match.Success
            ? match.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(s => s.Trim('`', '.')).Where(s => s.Length > 0 && s != "—").ToArray()
            : null;
    }

    [GeneratedRegex(@"^\*\*Never references\*\*:\s*(.*)$", RegexOptions.Multiline)]
    private static partial Regex NeverLine();
}
