using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Switchboard.ApiServer.Ui;

/// <summary>
/// The web view's logins: one-time codes that <c>switchboard ui</c> mints (single use, a minute to live) and the
/// sessions a login opens. A session holds the bearer token it was opened with, so every request of the page is
/// authenticated again through the API server's own path with that token (and authorised as it, once authorisation
/// exists): revoking the token ends the session. Only random identifiers leave the server; the token never does.
/// </summary>
internal sealed class UiSessions(TimeProvider time)
{
    /// <summary>How long a one-time login URL stays valid.</summary>
    public static readonly TimeSpan CodeLifetime = TimeSpan.FromSeconds(60);

    /// <summary>How long a session lives after its last request.</summary>
    public static readonly TimeSpan SessionIdle = TimeSpan.FromHours(8);

    /// <summary>Bounds the memory a token holder can make the server spend on codes and sessions.</summary>
    private const int MaxEntries = 10_000;

    private readonly ConcurrentDictionary<string, (string Token, DateTimeOffset Expires)> _codes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Session> _sessions = new(StringComparer.Ordinal);

    /// <summary>A code for a login URL, bound to <paramref name="token"/>.</summary>
    public string MintCode(string token)
    {
        Sweep();
        string code = NewId();
        _codes[code] = (token, time.GetUtcNow() + CodeLifetime);
        return code;
    }

    /// <summary>The token a code was minted for, once: the code is gone after this call, used or expired.</summary>
    public string? Redeem(string code) =>
        _codes.TryRemove(code, out var entry) && entry.Expires > time.GetUtcNow() ? entry.Token : null;

    /// <summary>A new session for a token the caller has authenticated.</summary>
    public string Open(string token)
    {
        Sweep();
        string id = NewId();
        _sessions[id] = new Session(token, time.GetUtcNow() + SessionIdle);
        return id;
    }

    /// <summary>The session's token while the session lives; each use extends it.</summary>
    public string? Token(string? id)
    {
        if (id is null || !_sessions.TryGetValue(id, out Session? session))
        {
            return null;
        }

        DateTimeOffset now = time.GetUtcNow();
        if (session.Expires <= now)
        {
            _sessions.TryRemove(id, out _);
            return null;
        }

        session.Expires = now + SessionIdle;
        return session.Token;
    }

    public void Close(string? id)
    {
        if (id is not null)
        {
            _sessions.TryRemove(id, out _);
        }
    }

    private static string NewId() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>Expired entries go; past the bound, the oldest sessions too.</summary>
    private void Sweep()
    {
        DateTimeOffset now = time.GetUtcNow();
        foreach (var (code, entry) in _codes)
        {
            if (entry.Expires <= now)
            {
                _codes.TryRemove(code, out _);
            }
        }

        foreach (var (id, session) in _sessions)
        {
            if (session.Expires <= now)
            {
                _sessions.TryRemove(id, out _);
            }
        }

        foreach (var (id, _) in _sessions.OrderBy(s => s.Value.Expires).Take(Math.Max(0, _sessions.Count - MaxEntries + 1)))
        {
            _sessions.TryRemove(id, out _);
        }

        foreach (var (code, _) in _codes.OrderBy(c => c.Value.Expires).Take(Math.Max(0, _codes.Count - MaxEntries + 1)))
        {
            _codes.TryRemove(code, out _);
        }
    }

    private sealed class Session(string token, DateTimeOffset expires)
    {
        public string Token { get; } = token;

        public DateTimeOffset Expires { get; set; } = expires;
    }
}
