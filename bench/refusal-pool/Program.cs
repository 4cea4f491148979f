// One request every 100 ms through a library that keeps its own connections, with the library's defaults:
//   refusal-pool redis PORT         StackExchange.Redis: one multiplexer (abortConnect=false), PING
//   refusal-pool mysql PORT USER    MySqlConnector's pool: open (from the pool), SELECT 1, close (back to it)
// Prints one line per request, as bench/refusal.sh's other clients do:
//   START_MS <tab> END_MS <tab> CODE (0 = success) <tab> what the library said
using System.Diagnostics;
using MySqlConnector;
using StackExchange.Redis;

if (args is not ["redis", _] and not ["mysql", _, _])
{
    Console.Error.WriteLine("usage: refusal-pool redis PORT | refusal-pool mysql PORT USER");
    return 2;
}
Func<Task> request;
if (args[0] == "redis")
{
    var redis = await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{args[1]},abortConnect=false");
    var db = redis.GetDatabase();
    request = async () => await db.PingAsync();
}
else
{
    var cs = $"Server=127.0.0.1;Port={args[1]};User ID={args[2]};SslMode=None";
    request = async () =>
    {
        await using var c = new MySqlConnection(cs);
        await c.OpenAsync();
        await using var q = new MySqlCommand("SELECT 1", c);
        await q.ExecuteScalarAsync();
    };
}
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
AppDomain.CurrentDomain.ProcessExit += (_, _) => stop.Cancel();
var stdout = Console.Out;
while (!stop.IsCancellationRequested)
{
    var start = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
    string result;
    try { await request(); result = "0\tok"; }
    catch (Exception e) { result = $"1\t{e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}"; }
    stdout.WriteLine($"{start}\t{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}\t{result}");
    stdout.Flush();
    try { await Task.Delay(100, stop.Token); } catch (OperationCanceledException) { }
}
return 0;
