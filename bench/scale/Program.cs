using Akka.Actor;
using Mesh.Bench.Scale;

// bench/scale.sh [--sizes 10,100,1000] [--runs N] [--budget SECONDS] [--max-table SECONDS] [--sample N] [--check [GATEWAYS]]
// The director's control-plane work at each size (issue 19): see bench/README.md and docs/PERFORMANCE.md.
var sizes = new List<int> { 10, 100, 1000 };
int? runs = null, check = null;
double budget = 600, maxTable = 10;
var sample = 10;
for (var i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--sizes": sizes = Next().Split(',').Select(int.Parse).ToList(); break;
        case "--gateways": sizes = [int.Parse(Next())]; break;
        case "--runs": runs = int.Parse(Next()); break;
        case "--budget": budget = double.Parse(Next()); break;
        case "--max-table": maxTable = double.Parse(Next()); break;
        case "--sample": sample = Math.Max(2, int.Parse(Next())); break;
        case "--check":
            check = 50;   // the smallest size with three core gateways
            if (i + 1 < args.Length && int.TryParse(args[i + 1], out var n)) (check, i) = (n, i + 1);
            break;
        default:
            Console.Error.WriteLine($"unknown argument {args[i]}: use --sizes 10,100,1000 | --gateways N | --runs N | --budget SECONDS | " +
                                    "--max-table SECONDS | --sample N | --check [GATEWAYS]");
            return 2;
    }
}

if (check is { } gateways) return Check.Run(gateways, Console.Out);

using var system = ActorSystem.Create("bench", "akka.loglevel = WARNING");   // only for the serializer the nodes use
var serializer = SizeRun.Serializer(system);
var settings = new RunSettings(runs, budget, maxTable, sample);
Console.Error.WriteLine($"sizes {string.Join(", ", sizes)}; {Environment.ProcessorCount} cores, load {Timing.Load()}, .NET {Environment.Version}");
Report.Header(Console.Out);
var figures = new List<Figures>();
foreach (var size in sizes)
{
    try
    {
        var f = new SizeRun(new SyntheticMesh(size), settings, serializer, Console.Error).Measure();
        figures.Add(f);
        Report.Row(Console.Out, f);
    }
    catch (InvalidOperationException e)
    {
        Console.Error.WriteLine($"{size} gateways: {e.Message}");
        return 1;
    }
}
Console.WriteLine();
Report.BySize(Console.Out, figures);
return 0;
