using k8s;

namespace Switchboard.ApiServer.Registry;

/// <summary>
/// One change of a watched collection as its watcher sees it through the selectors (Added, Modified or Deleted), or,
/// as Bookmark, how far the watch has got: an object with only the resourceVersion up to which every change was given.
/// </summary>
internal readonly record struct ResourceEvent<T>(WatchEventType Type, T Object);
