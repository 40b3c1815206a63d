namespace NodeAgent.Runtime.Cri;

public enum ContainerState { Created, Running, Exited, Unknown }
