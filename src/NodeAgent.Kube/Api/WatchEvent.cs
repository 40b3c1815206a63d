using k8s.Models;

namespace NodeAgent.Kube.Api;

/// <summary>One event of a watch stream: an object (or, for <see cref="WatchEventType.Bookmark"/>, only its resourceVersion), or an error <c>Status</c>.</summary>
public sealed record WatchEvent<T>(WatchEventType Type, T? Object, V1Status? Status) where T : class;
