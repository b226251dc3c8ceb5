using k8s;

namespace Switchboard.ApiServer.Registry;

/// <summary>One change of a watched collection as its watcher sees it through the selectors (Added, Modified or Deleted).</summary>
internal readonly record struct ResourceEvent<T>(WatchEventType Type, T Object);
