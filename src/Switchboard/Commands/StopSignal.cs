using System.Runtime.InteropServices;

namespace Switchboard.Commands;

/// <summary>Completes when SIGINT or SIGTERM arrives (or the command is cancelled), so components can stop cleanly.</summary>
internal sealed class StopSignal : IDisposable
{
    private readonly CancellationTokenSource _stopping;
    private readonly PosixSignalRegistration _onTerm;
    private readonly PosixSignalRegistration _onInt;

    public StopSignal(CancellationToken cancellationToken)
    {
        _stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        _onInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
    }

    public CancellationToken Token => _stopping.Token;

    /// <summary>Waits for the signal; returns normally when it comes.</summary>
    public async Task WaitAsync()
    {
        try
        {
            await Task.Delay(Timeout.Infinite, _stopping.Token);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Stops as if the signal had come, e.g. because a component failed.</summary>
    public Task CancelAsync() => _stopping.CancelAsync();

    public void Dispose()
    {
        _onTerm.Dispose();
        _onInt.Dispose();
        _stopping.Dispose();
    }

    private void Stop(PosixSignalContext context)
    {
        context.Cancel = true;
        try
        {
            _stopping.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // A second signal raced with shutdown: we are stopping already.
        }
    }
}
