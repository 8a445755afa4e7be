// TorchInit benchmark harness: see BENCHMARKS.md. Prints a table and, with --json FILE, appends one JSON object per
// case (the format scripts/bench_pytorch.py writes too, so scripts/bench.sh can print ratios).
//
//   dotnet run -c Release --project benchmarks/TorchInit.Benchmarks -- [--sizes 10M,100M,1B] [--reps 5]
//       [--threads N] [--cases fill,libtorch,exact,fast,build,overhead,profile] [--dists normal,uniform,trunc] [--json FILE]
//
// Every case is timed in-process, median of --reps runs after one warm-up on a 1M-parameter model; cases compared
// with each other (libtorch/exact/exact+stats, fast/fast+stats/fast on one thread) run interleaved. Throughput is
// parameters (weights and biases) per second. Peak memory is the process's VmHWM during the case minus its VmRSS
// before it (the high-water mark is reset through /proc/self/clear_refs before each case). BENCH_TIMES=1 also prints
// every repetition's time (the 2-core benchmark VM is bimodal: see BENCHMARKS.md).
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using TorchInit;
using TorchInit.Fast;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
var opts = Options.Parse(args);
TorchRuntime.EnsureLoaded();
// libtorch gets every core, as PyTorch does in bench_pytorch.py (its default can be lower on small machines).
int defaultTorchThreads = torch.get_num_threads();
torch.set_num_threads(Environment.ProcessorCount);
Console.WriteLine($"# TorchInit benchmarks: {Environment.ProcessorCount} cores, threads {opts.Threads}, reps {opts.Reps}, " +
                  $"torch threads {torch.get_num_threads()} (default here {defaultTorchThreads}), {Environment.Version}, AVX-512 {System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated}");

// Warm-up: JIT every path once on a small model.
{
    var warm = Options.Parse(["--sizes", "1M", "--reps", "1", "--cases", opts.CasesText, "--dists", opts.DistsText, "--threads", opts.Threads.ToString()]);
    Bench.Run(warm, quiet: true);
}
Bench.Run(opts, quiet: false);

internal sealed record Options(string[] Sizes, int Reps, int Threads, HashSet<string> Cases, string[] Dists, string? Json)
{
    public string CasesText => string.Join(",", Cases);
    public string DistsText => string.Join(",", Dists);

    public static Options Parse(string[] args)
    {
        string[] sizes = ["10M", "100M"];
        int reps = 5, threads = Environment.ProcessorCount;
        var cases = new HashSet<string> { "fill", "libtorch", "exact", "fast", "build", "overhead" };
        string[] dists = ["normal", "uniform", "trunc"];
        string? json = null;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--sizes": sizes = Next().Split(','); break;
                case "--reps": reps = int.Parse(Next()); break;
                case "--threads": threads = int.Parse(Next()); break;
                case "--cases": cases = Next().Split(',').ToHashSet(); break;
                case "--dists": dists = Next().Split(','); break;
                case "--json": json = Next(); break;
                case "-h" or "--help":
                    Console.WriteLine("options: --sizes 10M,100M,1B  --reps N  --threads N  --cases fill,libtorch,exact,fast,build,overhead,profile  --dists normal,uniform,trunc  --json FILE");
                    Environment.Exit(0);
                    break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
        }
        return new Options(sizes, reps, threads, cases, dists, json);
    }
}

internal static class Bench
{
    /// <summary>The benchmark models: L square Linear layers of width d (the same shapes in bench_pytorch.py).</summary>
    public static (int Layers, int Width) Shape(string size) => size switch
    {
        "1M" => (4, 500),
        "10M" => (10, 1000),
        "100M" => (25, 2000),
        "1B" => (16, 8000),
        _ => throw new ArgumentException($"unknown size {size} (1M, 10M, 100M, 1B)"),
    };

    public static Sequential Model(string size, Device? device = null)
    {
        var (layers, width) = Shape(size);
        return nn.Sequential(Enumerable.Range(0, layers).Select(i => ($"l{i}", (nn.Module<Tensor, Tensor>)nn.Linear(width, width, device: device))).ToArray());
    }

    private static readonly Dictionary<string, InitScheme> Schemes = new()
    {
        ["normal"] = InitScheme.HeNormal,          // kaiming_normal_(nonlinearity='relu')
        ["uniform"] = InitScheme.GlorotUniform,    // xavier_uniform_
        ["trunc"] = InitScheme.HeTruncatedNormal,  // trunc_normal_(std=σ', a=−2σ', b=2σ'), σ' = √2/√fan_in / 0.8796…
    };

    public static void Run(Options o, bool quiet)
    {
        if (o.Cases.Contains("overhead"))
            Overhead(o, quiet);
        if (o.Cases.Contains("profile") && !quiet)
            Profile.Run(o);
        foreach (var size in o.Sizes)
        {
            var (layers, width) = Shape(size);
            long elements = (long)layers * width * (width + 1);
            if (!quiet) Console.WriteLine($"\n## {size}: {layers} × Linear({width}, {width}), {elements:N0} parameters, {elements * 4 / 1e9:F2} GB float32");

            if (o.Cases.Contains("build"))
                Construction(o, size, elements, quiet);

            // One model for the fill cases, built without default init (its values do not matter).
            using var model = Build.WithoutDefaultInit(() => Model(size), InitScheme.Zeros);
            var ps = model.parameters().ToList();
            using var gen = new Generator(1);

            if (o.Cases.Contains("fill"))
                Case(o, size, elements, "fill", quiet, () => { using var _ = no_grad(); foreach (var p in ps) p.fill_(0.5); });

            foreach (var dist in o.Dists)
            {
                var scheme = Schemes[dist];
                // Cases that are compared with each other run interleaved (rep 1 of each, rep 2 of each, …), so a
                // noisy machine slows them alike; each reports the median of its per-rep time ratio to the first.
                var group = new List<(string, Action)>();
                if (o.Cases.Contains("libtorch"))
                    group.Add(($"libtorch.{dist}", () => LibTorchDirect(ps, dist, gen)));
                if (o.Cases.Contains("exact"))
                {
                    group.Add(($"exact.{dist}", () => model.ApplyInit(scheme, new InitOptions { Seed = 1 })));
                    group.Add(($"exact+stats.{dist}", () => model.ApplyInit(scheme, new InitOptions { Seed = 1, MeasureRealized = true })));
                }
                if (group.Count > 0) Group(o, size, elements, group, quiet);
                group.Clear();
                if (o.Cases.Contains("fast"))
                {
                    group.Add(($"fast.{dist}", () => model.ApplyInit(scheme, new InitOptions { Seed = 1, Engine = DrawEngine.Fast, MaxDegreeOfParallelism = o.Threads })));
                    group.Add(($"fast+stats.{dist}", () => model.ApplyInit(scheme, new InitOptions { Seed = 1, Engine = DrawEngine.Fast, MaxDegreeOfParallelism = o.Threads, MeasureRealized = true })));
                    // The fast kernels called directly on each parameter, with no visitor, report or checks.
                    group.Add(($"kernels.{dist}", () => KernelsDirect(ps, dist, o.Threads)));
                    if (o.Threads > 1)
                        group.Add(($"fast1.{dist}", () => model.ApplyInit(scheme, new InitOptions { Seed = 1, Engine = DrawEngine.Fast, MaxDegreeOfParallelism = 1 })));
                    Group(o, size, elements, group, quiet);
                }
            }
            foreach (var p in ps) p.Dispose();
        }
    }

    /// <summary>
    /// The cost of ApplyInit's walk, checks and report per layer: 2000 × Linear(16, 16), where the fills are
    /// tiny, against the same libtorch calls in a plain loop.
    /// </summary>
    private static void Overhead(Options o, bool quiet)
    {
        using var m = nn.Sequential(Enumerable.Range(0, 2000).Select(i => ($"l{i}", (nn.Module<Tensor, Tensor>)nn.Linear(16, 16))).ToArray());
        var ps = m.parameters().ToList();
        using var gen = new Generator(1);
        long elements = ps.Sum(p => p.numel());
        var reps = o with { Reps = Math.Max(o.Reps, 9) };
        Group(reps, "2000xLinear16", elements, [
            ("overhead.libtorch.normal", () => LibTorchDirect(ps, "normal", gen)),
            ("overhead.exact.normal", () => m.ApplyInit(InitScheme.HeNormal, new InitOptions { Seed = 1 })),
        ], quiet);
    }

    /// <summary>What ApplyInit does, written directly against libtorch through TorchSharp: the same calls PyTorch's torch.nn.init makes.</summary>
    private static void LibTorchDirect(List<Parameter> ps, string dist, Generator gen)
    {
        using var _ = no_grad();
        foreach (var p in ps)
        {
            if (p.dim() < 2) { p.zero_(); continue; }
            long fanIn = p.shape[1], fanOut = p.shape[0];
            switch (dist)
            {
                case "normal": p.normal_(0, Math.Sqrt(2.0) / Math.Sqrt(fanIn), gen); break;
                case "uniform": double b = Math.Sqrt(6.0 / (fanIn + fanOut)); p.uniform_(-b, b, gen); break;
                default:
                    // PyTorch's trunc_normal_(std=s, a=−2s, b=2s): U(2Φ(−2)−1, 2Φ(2)−1) → erfinv → ×s√2 → +0 → clamp.
                    double s = Math.Sqrt(2.0) / Math.Sqrt(fanIn) / 0.87962566103423978;
                    double u = 0.9544997361036416; // 2Φ(2) − 1 = erf(√2)
                    p.uniform_(-u, u, gen); p.erfinv_(); p.mul_(s * Math.Sqrt(2.0)); p.add_(0.0); p.clamp_(-2 * s, 2 * s);
                    break;
            }
        }
    }

    /// <summary>Fast mode's kernels called directly, parameter by parameter: what ApplyInit in fast mode adds is the difference.</summary>
    private static void KernelsDirect(List<Parameter> ps, string dist, int threads)
    {
        uint stream = 0;
        foreach (var p in ps)
        {
            if (p.dim() < 2) { using var _ = no_grad(); p.zero_(); continue; }
            long fanIn = p.shape[1], fanOut = p.shape[0];
            var draw = dist switch
            {
                "normal" => new FastDraw(FastDistribution.Normal, 0, Math.Sqrt(2.0) / Math.Sqrt(fanIn), 0, 1, stream++),
                "uniform" => new FastDraw(FastDistribution.Uniform, -Math.Sqrt(6.0 / (fanIn + fanOut)), Math.Sqrt(6.0 / (fanIn + fanOut)), 0, 1, stream++),
                _ => new FastDraw(FastDistribution.TruncatedNormal, 0, Math.Sqrt(2.0) / Math.Sqrt(fanIn) / 0.87962566103423978, 2, 1, stream++),
            };
            FastFill.Fill(p, draw, threads, stats: false);
        }
    }

    /// <summary>Construction: TorchSharp's constructors (default init) vs Build.WithoutDefaultInit, each followed by ApplyInit.</summary>
    private static void Construction(Options o, string size, long elements, bool quiet)
    {
        var scheme = Schemes["normal"];
        Case(o, size, elements, "construct", quiet, () => Model(size).Dispose());
        Case(o, size, elements, "construct+init.exact.normal", quiet, () =>
        {
            using var m = Model(size);
            m.ApplyInit(scheme, new InitOptions { Seed = 1 });
        });
        Case(o, size, elements, "build.exact.normal", quiet, () => Build.WithoutDefaultInit(() => Model(size), scheme, new InitOptions { Seed = 1 }).Dispose());
        Case(o, size, elements, "construct+init.fast.normal", quiet, () =>
        {
            using var m = Model(size);
            m.ApplyInit(scheme, new InitOptions { Seed = 1, Engine = DrawEngine.Fast, MaxDegreeOfParallelism = o.Threads });
        });
        Case(o, size, elements, "build.fast.normal", quiet, () =>
            Build.WithoutDefaultInit(() => Model(size), scheme, new InitOptions { Seed = 1, Engine = DrawEngine.Fast, MaxDegreeOfParallelism = o.Threads }).Dispose());
    }

    private static void Case(Options o, string size, long elements, string name, bool quiet, Action run) =>
        Group(o, size, elements, [(name, run)], quiet);

    /// <summary>Times the cases round-robin (order rotated each round), <c>Reps</c> rounds; peak memory is the whole group's.</summary>
    private static void Group(Options o, string size, long elements, List<(string Name, Action Run)> cases, bool quiet)
    {
        var times = cases.Select(_ => new List<double>()).ToList();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        Memory.ResetPeak();
        long before = Memory.Rss();
        for (int r = 0; r < o.Reps; r++)
        {
            for (int k = 0; k < cases.Count; k++)
            {
                int c = (k + r) % cases.Count;   // rotate the order each round: no case always runs first
                var sw = Stopwatch.StartNew();
                cases[c].Run();
                times[c].Add(sw.Elapsed.TotalSeconds);
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
        }
        long peak = Memory.Peak();
        if (quiet) return;
        if (Environment.GetEnvironmentVariable("BENCH_TIMES") == "1")
            for (int c = 0; c < cases.Count; c++) Console.WriteLine($"   {cases[c].Name}: {string.Join(" ", times[c].Select(x => (x * 1e3).ToString("F0")))} ms");
        for (int c = 0; c < cases.Count; c++)
        {
            var t = times[c].OrderBy(x => x).ToList();
            double median = t[t.Count / 2], rate = elements / median / 1e6;
            var ratios = times[c].Zip(times[0], (a, b) => a / b).OrderBy(x => x).ToList();
            double paired = ratios[ratios.Count / 2];
            string vs = c == 0 ? "" : $"   time ×{paired:F3} of {cases[0].Name} (paired median)";
            Console.WriteLine($"{cases[c].Name,-30} {rate,10:F0} M/s   median {median,8:F3} s   min {t[0],8:F3} s   peak +{(peak - before) / 1048576.0,8:F1} MiB{vs}");
            if (o.Json is { } path)
            {
                var line = JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["impl"] = "torchsharp", ["size"] = size, ["case"] = cases[c].Name, ["elements"] = elements,
                    ["median_s"] = median, ["min_s"] = t[0], ["melem_per_s"] = rate,
                    ["peak_delta_mib"] = (peak - before) / 1048576.0, ["rss_before_mib"] = before / 1048576.0,
                    ["paired_with"] = cases[0].Name, ["paired_time_ratio"] = paired,
                    ["threads"] = o.Threads, ["reps"] = o.Reps,
                    ["loadavg"] = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "",
                });
                File.AppendAllText(path, line + "\n");
            }
        }
    }
}

/// <summary>Resident memory from /proc (Linux): current (VmRSS), peak (VmHWM), and a reset of the peak.</summary>
internal static class Memory
{
    public static void ResetPeak()
    {
        try { File.WriteAllText("/proc/self/clear_refs", "5"); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    public static long Rss() => Read("VmRSS:");
    public static long Peak() => Read("VmHWM:");

    private static long Read(string key)
    {
        if (!File.Exists("/proc/self/status")) return 0;
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(key, StringComparison.Ordinal))
                return long.Parse(line[key.Length..].Trim().Split(' ')[0]) * 1024;
        return 0;
    }
}
