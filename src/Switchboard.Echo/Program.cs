using System.Runtime.InteropServices;
using Switchboard.Echo;

// A container's program is stopped with SIGTERM (SIGINT at a terminal): both end the server cleanly.
using var stopping = new CancellationTokenSource();
void Stop(PosixSignalContext context)
{
    context.Cancel = true;
    stopping.Cancel();
}

using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
return await EchoServer.RunAsync(args, stopping.Token);
