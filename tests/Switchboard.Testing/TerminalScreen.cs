using System.Text;

namespace Switchboard.Testing;

/// <summary>
/// What a terminal program has written so far, read from its output stream in the background, to wait for a text to
/// appear (after the last one waited for) and to show the whole screen in a failure.
/// </summary>
public sealed class TerminalScreen
{
    private static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);
    private readonly StringBuilder _text = new();
    private readonly Task _reader;
    private int _looked;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public TerminalScreen(Stream output)
    {
        ArgumentNullException.ThrowIfNull(output);
        _reader = ReadAsync(output);
    }

    /// <summary>Everything written so far.</summary>
    public string Text
    {
        get
        {
            lock (_text)
            {
                return _text.ToString();
            }
        }
    }

    /// <summary>The output ended (the program closed it).</summary>
    public Task Ended => _reader;

    /// <summary>Waits until <paramref name="expected"/> appears after what earlier waits found; returns the text up to and including it.</summary>
    public async Task<string> WaitForAsync(string expected, TimeSpan? timeout = null)
    {
        using var deadline = new CancellationTokenSource(timeout ?? DefaultTimeout);
        while (true)
        {
            Task changed;
            lock (_text)
            {
                string text = _text.ToString();
                int at = text.IndexOf(expected, _looked, StringComparison.Ordinal);
                if (at >= 0)
                {
                    string seen = text[_looked..(at + expected.Length)];
                    _looked = at + expected.Length;
                    return seen;
                }

                changed = _changed.Task;
            }

            if (_reader.IsCompleted && !changed.IsCompleted)
            {
                Assert.Fail($"the output ended before \"{expected}\" appeared; it was:\n{Text}");
            }

            try
            {
                await changed.WaitAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"\"{expected}\" did not appear within {(timeout ?? DefaultTimeout).TotalSeconds}s; the output was:\n{Text}");
            }
        }
    }

    private async Task ReadAsync(Stream output)
    {
        var decoder = Encoding.UTF8.GetDecoder();
        byte[] buffer = new byte[16 * 1024];
        char[] chars = new char[Encoding.UTF8.GetMaxCharCount(buffer.Length)];
        try
        {
            int read;
            while ((read = await output.ReadAsync(buffer)) > 0)
            {
                int count = decoder.GetChars(buffer, 0, read, chars, 0);
                Append(chars.AsSpan(0, count));
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException)
        {
            // The stream broke: the screen keeps what came.
        }
        finally
        {
            Append([]);
        }
    }

    private void Append(ReadOnlySpan<char> chars)
    {
        TaskCompletionSource changed;
        lock (_text)
        {
            _text.Append(chars);
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }
}
