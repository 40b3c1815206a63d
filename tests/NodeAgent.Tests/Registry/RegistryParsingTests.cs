using System.Text;
using NodeAgent.Images;
using NodeAgent.Registry.Auth;
using NodeAgent.Registry.Config;
using NodeAgent.Registry.Distribution;
using NodeAgent.Cri;

namespace NodeAgent.Tests.Registry;

/// <summary>WWW-Authenticate challenges, docker config pull secrets, registries.yaml and platform matching.</summary>
public sealed class RegistryParsingTests
{
    [Fact]
    public void ParsesBearerChallengeWithQuotedCommas()
    {
        var c = Assert.Single(AuthChallenge.Parse("Bearer realm=\"https://auth.example/token\",service=\"registry.example\",scope=\"repository:a/b:pull,push\""));
        Assert.Equal("Bearer", c.Scheme);
        Assert.Equal("https://auth.example/token", c["realm"]);
        Assert.Equal("registry.example", c["service"]);
        Assert.Equal("repository:a/b:pull,push", c["scope"]);
    }

    [Fact]
    public void ParsesSeveralChallenges()
    {
        var c = AuthChallenge.Parse("Basic realm=\"x\", Bearer realm=\"https://t\",error=\"insufficient_scope\"");
        Assert.Equal(["Basic", "Bearer"], c.Select(x => x.Scheme));
        Assert.Equal("insufficient_scope", c[1]["error"]);
    }

    [Fact]
    public void KeyringMatchesHostPathAndGlobsMostSpecificFirst()
    {
        var k = new DockerKeyring();
        string Auth(string up) => Convert.ToBase64String(Encoding.UTF8.GetBytes(up));
        k.Add(DockerKeyring.DockerConfigJsonType, Encoding.UTF8.GetBytes(
            $"{{\"auths\":{{\"https://index.docker.io/v1/\":{{\"auth\":\"{Auth("hub:1")}\"}}," +
            $"\"reg.example:5000/team\":{{\"username\":\"team\",\"password\":\"2\"}}," +
            $"\"reg.example:5000\":{{\"auth\":\"{Auth("all:3")}\"}}," +
            $"\"*.corp.example\":{{\"auth\":\"{Auth("glob:4")}\"}}}}}}"), "secret a");

        Assert.Equal(["hub"], k.Lookup(ImageReference.Parse("busybox")).Select(c => c.Username));
        Assert.Equal(["team", "all"], k.Lookup(ImageReference.Parse("reg.example:5000/team/app:1")).Select(c => c.Username));
        Assert.Equal(["all"], k.Lookup(ImageReference.Parse("reg.example:5000/other/app")).Select(c => c.Username));
        Assert.Equal(["glob"], k.Lookup(ImageReference.Parse("eu.corp.example/x")).Select(c => c.Username));
        Assert.Empty(k.Lookup(ImageReference.Parse("a.eu.corp.example/x")));
        Assert.Empty(k.Lookup(ImageReference.Parse("ghcr.io/x/y")));
    }

    [Fact]
    public void KeyringReadsLegacyDockercfg()
    {
        var k = new DockerKeyring();
        k.Add(DockerKeyring.DockerCfgType, Encoding.UTF8.GetBytes("{\"ghcr.io\":{\"username\":\"u\",\"password\":\"p\"}}"), "secret b");
        Assert.Equal("p", Assert.Single(k.Lookup(ImageReference.Parse("ghcr.io/org/app"))).Password);
    }

    [Theory]
    [InlineData(DockerKeyring.DockerConfigJsonType, "not json", "not valid JSON")]
    [InlineData(DockerKeyring.DockerConfigJsonType, "{\"x\":1}", "without an \"auths\" object")]
    [InlineData(DockerKeyring.DockerConfigJsonType, "{\"auths\":{\"r\":{\"auth\":\"!!\"}}}", "not base64")]
    [InlineData(DockerKeyring.DockerConfigJsonType, "{\"auths\":{\"r\":{}}}", "neither auth")]
    [InlineData("Opaque", "{}", "is not kubernetes.io/dockerconfigjson")]
    public void BadSecretsNameTheSecretAndTheFault(string type, string data, string expected)
    {
        var e = Assert.Throws<FormatException>(() => new DockerKeyring().Add(type, Encoding.UTF8.GetBytes(data), "secret ns/regcred"));
        Assert.Contains("secret ns/regcred", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void RegistriesYamlMirrorsAndConfigs()
    {
        var config = RegistryConfigParser.Parse("""
            mirrors:
              docker.io:
                endpoint:
                  - "http://10.0.0.1:5000"
                  - "https://mirror.example/v2"
              "*":
                endpoint: ["https://catchall.example"]
            configs:
              "mirror.example":
                auth:
                  username: u
                  password: p
                tls:
                  ca_file: /etc/ssl/mirror.pem
              "10.0.0.1:5000":
                auth:
                  auth: dXNlcjpwYXNz
                tls:
                  insecure_skip_verify: true
            """, "registries.yaml");

        var hub = config.EndpointsFor("docker.io");
        Assert.Equal(["http://10.0.0.1:5000", "https://mirror.example", "https://registry-1.docker.io"], hub.Select(e => e.ToString()));
        Assert.Equal([true, true, false], hub.Select(e => e.IsMirror));
        Assert.Equal("user", hub[0].Config?.Auth?.Username);
        Assert.True(hub[0].Config?.InsecureSkipVerify);
        Assert.Equal("/etc/ssl/mirror.pem", hub[1].Config?.CaFile);
        Assert.Null(hub[2].Config);
        Assert.Equal(["https://catchall.example", "https://ghcr.io"], config.EndpointsFor("ghcr.io").Select(e => e.ToString()));
        Assert.Equal(["https://catchall.example", "http://127.0.0.1:5000"], config.EndpointsFor("127.0.0.1:5000", plainHttp: true).Select(e => e.ToString()));
    }

    [Theory]
    [InlineData("mirrors:\n  docker.io:\n    endpoints: [\"x\"]\n", "registries.yaml:3:16: mirrors.docker.io.endpoints: unknown key")]
    [InlineData("mirrors:\n  docker.io:\n    endpoint: [\"ftp://x\"]\n", "is not an http(s) URL")]
    [InlineData("configs:\n  r:\n    tls:\n      insecure_skip_verify: maybe\n", "expected true or false")]
    [InlineData("mirrors: [1, 2]\n", "mirrors: expected a mapping")]
    [InlineData("mirrors:\n  a: [\n", "registries.yaml:")]
    public void BadRegistriesYamlNamesFileLineAndKey(string yaml, string expected)
    {
        var e = Assert.Throws<FormatException>(() => RegistryConfigParser.Parse(yaml, "registries.yaml"));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void EmptyRegistriesYamlIsEmptyConfig()
    {
        var config = RegistryConfigParser.Parse("", "registries.yaml");
        Assert.Equal(["https://registry-1.docker.io"], config.EndpointsFor("docker.io").Select(e => e.ToString()));
    }

    [Fact]
    public void PlatformMatcherRanksAmd64VariantsByCpuLevel()
    {
        var v2 = new PlatformMatcher("linux", "amd64", 2);
        Assert.Equal(1, v2.Rank("linux", "amd64", null));
        Assert.Equal(2, v2.Rank("linux", "amd64", "v2"));
        Assert.Null(v2.Rank("linux", "amd64", "v3"));
        Assert.Null(v2.Rank("linux", "arm64", null));
        Assert.Null(v2.Rank("windows", "amd64", null));
    }

    [Theory]
    [InlineData("flags\t\t: fpu sse2", 1)]
    [InlineData("flags\t\t: cx16 lahf_lm popcnt sse4_1 sse4_2 ssse3", 2)]
    [InlineData("flags\t\t: cx16 lahf_lm popcnt sse4_1 sse4_2 ssse3 avx avx2 bmi1 bmi2 f16c fma abm movbe xsave", 3)]
    public void Amd64LevelFromCpuFlags(string cpuinfo, int level) => Assert.Equal(level, PlatformMatcher.Amd64Level(cpuinfo));
}
