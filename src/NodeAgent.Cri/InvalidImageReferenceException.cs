namespace NodeAgent.Cri;

/// <summary>An image reference that does not follow the Docker reference grammar; the message names it and why.</summary>
public sealed class InvalidImageReferenceException(string message) : FormatException(message);
