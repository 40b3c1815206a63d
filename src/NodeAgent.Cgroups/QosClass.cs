namespace NodeAgent.Cgroups;

public enum QosClass { Guaranteed, Burstable, BestEffort }
