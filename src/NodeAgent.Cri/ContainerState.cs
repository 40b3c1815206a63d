namespace NodeAgent.Cri;

public enum ContainerState { Created, Running, Exited, Unknown }
