using System.Globalization;
using NodeAgent.TestApiServer;

// hack/test-apiserver.sh --dir DIR [--port N] [--node NAME]... [--bootstrap-token ID.SECRET]...
string? dir = null;
var port = 6443;
var nodes = new List<string>();
var bootstrapTokens = new List<string>();
for (var i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--dir": dir = Next(); break;
        case "--port": port = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--node": nodes.Add(Next()); break;
        case "--bootstrap-token":
            var token = Next();
            if (!NodeAgent.TestApiServer.Api.BootstrapTokens.TokenFormat().IsMatch(token))
            {
                Console.Error.WriteLine($"--bootstrap-token {token}: must be ID.SECRET, 6 and 16 characters of [a-z0-9] (as kubeadm token generate prints)");
                return 2;
            }
            bootstrapTokens.Add(token);
            break;
        default:
            Console.Error.WriteLine($"unknown argument {args[i]}; usage: test-apiserver --dir DIR [--port N] [--node NAME]... [--bootstrap-token ID.SECRET]...");
            return 2;
    }
}
if (dir is null)
{
    Console.Error.WriteLine("usage: test-apiserver --dir DIR [--port N] [--node NAME]... [--bootstrap-token ID.SECRET]...");
    return 2;
}
await using var server = await TestApiServerHost.StartAsync(new TestApiServerOptions { Directory = Path.GetFullPath(dir), Port = port, Nodes = nodes, BootstrapTokens = bootstrapTokens });
Console.WriteLine($"serving {server.Url} kubeconfig {server.AdminKubeconfig}");
Console.WriteLine("ready");
var done = new TaskCompletionSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; done.TrySetResult(); };
AppDomain.CurrentDomain.ProcessExit += (_, _) => done.TrySetResult();
using var term = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c => { c.Cancel = true; done.TrySetResult(); });
await done.Task;
return 0;
