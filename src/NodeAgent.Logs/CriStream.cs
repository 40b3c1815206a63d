namespace NodeAgent.Logs;

public enum CriStream { Stdout, Stderr }
