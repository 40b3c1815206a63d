namespace NodeAgent.Proxy;

/// <summary>A service by namespace and name.</summary>
public readonly record struct ServiceName(string Namespace, string Name)
{
    public override string ToString() => $"{Namespace}/{Name}";
}

/// <summary>
/// One port of a service (kube-proxy's ServicePortName): printed <c>namespace/name:port</c>, or <c>namespace/name</c>
/// for an unnamed port. This string (with the protocol) is what chain names are hashed from.
/// </summary>
public readonly record struct ServicePortName(ServiceName Service, string Port)
{
    public override string ToString() => Port.Length == 0 ? Service.ToString() : $"{Service}:{Port}";
}
