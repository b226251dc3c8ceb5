// Writes to a SqliteKeyValueStore as fast as it can with concurrent writers until it is killed, printing
// "KEY REVISION" for every write once it is acknowledged, so the crash test knows what must survive.
using Switchboard.Storage.Sqlite;

if (args.Length != 3)
{
    Console.Error.WriteLine("usage: CrashWriter STORE_PATH WRITERS KEY_PREFIX");
    return 2;
}

string path = args[0];
int writers = int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture);
string prefix = args[2];
var value = new byte[1024];
Random.Shared.NextBytes(value);
var output = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = true };
var outputLock = new Lock();

await using var store = SqliteKeyValueStore.Open(path);
lock (outputLock)
{
    output.WriteLine("ready");
}

await Task.WhenAll(Enumerable.Range(0, writers).Select(writer => Task.Run(async () =>
{
    for (long i = 0; ; i++)
    {
        string key = $"{prefix}/{writer}/{i}";
        var written = await store.CreateAsync(key, value);
        lock (outputLock)
        {
            output.WriteLine($"{key} {written.ModRevision}");
        }
    }
})));
return 0;
