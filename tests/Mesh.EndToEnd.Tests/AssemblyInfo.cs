[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
// Each test class starts real processes; on a 2-core machine they run one class at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
