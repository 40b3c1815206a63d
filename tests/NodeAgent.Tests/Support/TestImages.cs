namespace NodeAgent.Tests.Support;

/// <summary>The archives hack/build-test-images.sh makes; built once per test run when hack/test.sh did not.</summary>
public static class TestImages
{
    private static readonly Lazy<string> Dir = new(() =>
    {
        var fromEnv = Environment.GetEnvironmentVariable("NODEAGENT_TEST_IMAGES");
        if (!string.IsNullOrEmpty(fromEnv) && File.Exists(Path.Combine(fromEnv, "busybox.oci.tar")))
        {
            return fromEnv;
        }

        var dir = Path.Combine(RepoPaths.Root, "build", "images");
        RepoPaths.Run(Path.Combine(RepoPaths.Root, "hack", "build-test-images.sh"), dir);
        return dir;
    }, LazyThreadSafetyMode.ExecutionAndPublication);

    public static string BusyboxOci => Path.Combine(Dir.Value, "busybox.oci.tar");

    public static string BusyboxDocker => Path.Combine(Dir.Value, "busybox.docker.tar");
}
