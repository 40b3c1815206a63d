namespace NodeAgent.Kubelet.Volumes;

/// <summary>A volume that could not be set up (kubelet's <c>MountVolume.SetUp failed for volume "v" : …</c>).</summary>
public sealed class VolumeException(string message, Exception? inner = null) : Exception(message, inner);
