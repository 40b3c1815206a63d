namespace NodeAgent.ContainerSpec;

/// <summary>The process a container runs: arguments resolved from the image and the pod spec.</summary>
public sealed class ProcessSpec
{
    public required List<string> Args { get; set; }

    public List<string> Env { get; set; } = [];

    public string Cwd { get; set; } = "/";

    public uint Uid { get; set; }

    public uint Gid { get; set; }

    public List<uint> AdditionalGids { get; set; } = [];

    /// <summary>Capability names without the CAP_ prefix.</summary>
    public List<string> Capabilities { get; set; } = [];

    public bool NoNewPrivileges { get; set; }

    public int? OomScoreAdj { get; set; }
}
