using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using Mesh.Contracts.Metrics;

namespace Mesh.Node.Api;

/// <summary>
/// Listens to the "Mesh" meter and the runtime's own ("System.Runtime": GC heap, working set, thread pool,
/// JIT; dotnet_* names) and renders them in the Prometheus text format (version 0.0.4): counters as
/// NAME_total, gauges and up-down counters as they are, histograms as buckets, sum and count. Names take
/// their unit as a suffix (mesh.bytes -> mesh_bytes_total, mesh.flow.duration -> mesh_flow_duration_seconds).
/// </summary>
public sealed class PrometheusText : IDisposable
{
    private static readonly double[] Buckets = [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60, 300, 1800, 3600];

    private sealed class Series
    {
        public double Value;
        public readonly long[] Counts = new long[Buckets.Length + 1];
        public long Count;
    }

    /// <summary>The runtime's meter (.NET 9 and later): what an idle gateway's memory is made of, without a tool.</summary>
    private const string RuntimeMeter = "System.Runtime";

    private sealed record Family(Instrument Instrument, ConcurrentDictionary<string, Series> Series);

    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<Instrument, Family> _families = new();

    public PrometheusText()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name is not (MeshMeter.Name or RuntimeMeter)) return;
            _families[instrument] = new Family(instrument, new ConcurrentDictionary<string, Series>());
            listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        _listener.Start();
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (!_families.TryGetValue(instrument, out var family)) return;
        var series = family.Series.GetOrAdd(Labels(tags), _ => new Series());
        lock (series)
        {
            switch (instrument)
            {
                case Histogram<double>:
                    series.Value += value;
                    series.Count++;
                    var bucket = Array.FindIndex(Buckets, b => value <= b);
                    series.Counts[bucket < 0 ? Buckets.Length : bucket]++;
                    break;
                case ObservableGauge<int> or ObservableGauge<double> or ObservableGauge<long>:
                    series.Value = value;
                    break;
                default:
                    series.Value += value;   // counters and up-down counters
                    break;
            }
        }
    }

    /// <summary>The current values of every Mesh instrument, as a scrape expects them.</summary>
    public string Render()
    {
        foreach (var family in _families.Values.Where(f => f.Instrument.IsObservable)) family.Series.Clear();   // a gone peer disappears
        _listener.RecordObservableInstruments();
        var text = new StringBuilder();
        foreach (var family in _families.Values.OrderBy(f => f.Instrument.Name, StringComparer.Ordinal))
        {
            var i = family.Instrument;
            var (name, type) = NameAndType(i);
            text.Append($"# HELP {name} {i.Description}\n# TYPE {name} {type}\n");
            foreach (var (labels, series) in family.Series.OrderBy(s => s.Key, StringComparer.Ordinal))
            {
                lock (series)
                {
                    if (type != "histogram") { text.Append($"{name}{Braces(labels)} {Number(series.Value)}\n"); continue; }
                    long cumulative = 0;
                    for (var b = 0; b < Buckets.Length; b++)
                        text.Append($"{name}_bucket{Braces(Join(labels, $"le=\"{Number(Buckets[b])}\""))} {cumulative += series.Counts[b]}\n");
                    text.Append($"{name}_bucket{Braces(Join(labels, "le=\"+Inf\""))} {series.Count}\n");
                    text.Append($"{name}_sum{Braces(labels)} {Number(series.Value)}\n{name}_count{Braces(labels)} {series.Count}\n");
                }
            }
        }
        return text.ToString();
    }

    private static (string Name, string Type) NameAndType(Instrument i)
    {
        var name = i.Name.Replace('.', '_');
        var unit = i.Unit switch { "s" => "_seconds", "By" => "_bytes", _ => "" };
        if (!name.EndsWith(unit)) name += unit;   // mesh.bytes is mesh_bytes, not mesh_bytes_bytes
        return i switch
        {
            Counter<long> or Counter<int> or Counter<double> or ObservableCounter<long> or ObservableCounter<double>
                => (name.EndsWith("_total") ? name : name + "_total", "counter"),
            Histogram<double> => (name, "histogram"),
            _ => (name, "gauge"),
        };
    }

    private static string Labels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var parts = new List<string>(tags.Length);
        foreach (var (key, value) in tags)
            parts.Add($"{key}=\"{(value?.ToString() ?? "").Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n")}\"");
        parts.Sort(StringComparer.Ordinal);
        return string.Join(",", parts);
    }

    private static string Join(string labels, string more) => labels.Length == 0 ? more : $"{labels},{more}";

    private static string Braces(string labels) => labels.Length == 0 ? "" : $"{{{labels}}}";

    private static string Number(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    public void Dispose() => _listener.Dispose();
}
