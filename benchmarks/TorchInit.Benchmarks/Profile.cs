using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Text.Json;
using TorchInit.Fast;
using static TorchSharp.torch;

/// <summary>
/// Where fast mode's time goes (--cases profile): the core clock, the Philox stage alone and each whole kernel on
/// one thread with the data in cache (so transform = kernel − Philox), the same kernels at 100M elements (memory),
/// fill_ on one thread, and how two threads of pure integer SIMD work scale on this machine.
/// </summary>
internal static unsafe class Profile
{
    public static void Run(Options o)
    {
        double ghz = Clock();
        Console.WriteLine($"\n## profile (one thread unless noted; core clock ≈ {ghz:F2} GHz from a dependent imul chain)");
        Report(o, "clock.ghz", ghz, "");

        const long n = FastFill.ChunkElements;   // 1 MiB of float32: stays in L2
        var buf = (float*)NativeMemory.AlignedAlloc((nuint)(n * 8), 64);
        try
        {
            uint* keys = stackalloc uint[20];
            Philox.Schedule(1, 2, keys);
            var words = (uint*)NativeMemory.AlignedAlloc(4096, 64);
            double philox = Rate(() =>
            {
                for (long g = 0; g < n / 64; g += 16)
                    if (V512.IsAccelerated) Philox.Words32<V512>(words, g, g + 16, 0, keys); else Philox.Words32<V256>(words, g, g + 16, 0, keys);
            }, n);
            NativeMemory.AlignedFree(words);
            Line(o, "philox.words", philox, ghz);
            foreach (var (name, dist, a, b, k) in new[] { ("uniform", FastDistribution.Uniform, -1.0, 1.0, 0.0),
                ("normal", FastDistribution.Normal, 0.0, 1.0, 0.0), ("trunc", FastDistribution.TruncatedNormal, 0.0, 1.0, 2.0) })
            {
                var draw = new FastDraw(dist, a, b, k, 1, 0);
                double whole = Rate(() => FastFill.FillRange((IntPtr)buf, 0, n, false, draw, 1, false), n);
                Line(o, $"kernel.f32.{name}", whole, ghz, $"transform ≈ {ghz * 1e3 / whole - ghz * 1e3 / philox:F2} cycles/element");
                double wide = Rate(() => FastFill.FillRange((IntPtr)buf, 0, n, true, draw, 1, false), n);
                Line(o, $"kernel.f64.{name}", wide, ghz);
            }
        }
        finally { NativeMemory.AlignedFree(buf); }

        // At 100M elements: memory behind the kernels (streaming stores), and fill_.
        const long big = 100_000_000;
        using (var t = empty(big))
        {
            t.fill_(0);
            var ptr = FastFill.DataPointer(t);
            foreach (var (name, dist, k) in new[] { ("uniform", FastDistribution.Uniform, 0.0), ("normal", FastDistribution.Normal, 0.0), ("trunc", FastDistribution.TruncatedNormal, 2.0) })
            {
                var draw = new FastDraw(dist, dist == FastDistribution.Uniform ? -1 : 0, 1, k, 1, 0);
                Line(o, $"kernel.f32.{name}.100M.1thread", Rate(() => FastFill.FillRange(ptr, 0, big, false, draw, 1, false), big, 3), ghz);
                Line(o, $"kernel.f32.{name}.100M.{o.Threads}threads", Rate(() => FastFill.FillRange(ptr, 0, big, false, draw, o.Threads, false), big, 3), ghz, "", o.Threads);
                // As ApplyInit calls it: one parallel fill per parameter (25 of 4M, the 100M model's weights).
                Line(o, $"kernel.f32.{name}.25x4M.{o.Threads}threads", Rate(() =>
                {
                    for (int p = 0; p < 25; p++) FastFill.FillRange(ptr + p * 16_000_000, 0, 4_000_000, false, draw with { Stream = (uint)p }, o.Threads, false);
                }, big, 3), ghz, "", o.Threads);
            }
            int threads = TorchSharp.torch.get_num_threads();
            TorchSharp.torch.set_num_threads(1);
            Line(o, "fill_.100M.1thread", Rate(() => t.fill_(0.5), big, 3), ghz);
            TorchSharp.torch.set_num_threads(threads);
            Line(o, $"fill_.100M.{threads}threads", Rate(() => t.fill_(0.5), big, 3), ghz, "", threads);
            GC.KeepAlive(t);
        }

        // Core scaling of this machine: the same multiply-bound loop on 1 and on 2 threads.
        double one = Rate(() => MulLoop(20_000_000), 20_000_000, 3);
        double two = Rate(() => Parallel.For(0, 2, _ => MulLoop(20_000_000)), 40_000_000, 3);
        Console.WriteLine($"{"scaling.vpmuludq",-34} 2 threads do {two / one:F2}x the work of 1");
        Report(o, "scaling.2threads", two / one, "");
    }

    private static void Line(Options o, string name, double rate, double ghz, string extra = "", int threads = 1)
    {
        double cycles = ghz * 1e3 / rate * threads;
        Console.WriteLine($"{name,-34} {rate,8:F0} M/s   {cycles,6:F2} cycles/element/thread   {extra}");
        Report(o, name, rate, $"{cycles:F3}");
    }

    private static void Report(Options o, string name, double value, string cycles)
    {
        if (o.Json is not { } path) return;
        File.AppendAllText(path, JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["impl"] = "torchsharp", ["size"] = "profile", ["case"] = name, ["value"] = value, ["cycles_per_element"] = cycles,
            ["loadavg"] = File.ReadAllText("/proc/loadavg").Split(' ')[0],
        }) + "\n");
    }

    /// <summary>M elements per second: best of a few batches of ≥ 0.2 s (the fastest run is the least disturbed one).</summary>
    private static double Rate(Action run, long elements, int batches = 5)
    {
        run();
        var sw = Stopwatch.StartNew();
        int inner = 1;
        while (sw.Elapsed.TotalSeconds < 0.05) { run(); inner++; }
        inner = Math.Max(1, (int)(inner * 0.2 / Math.Max(sw.Elapsed.TotalSeconds, 1e-6)));
        double best = double.MaxValue;
        for (int b = 0; b < batches; b++)
        {
            sw.Restart();
            for (int i = 0; i < inner; i++) run();
            best = Math.Min(best, sw.Elapsed.TotalSeconds / inner);
        }
        return elements / best / 1e6;
    }

    /// <summary>
    /// The core clock from a chain of dependent 64-bit integer multiplies: imul r64, r64 has a latency of 3 cycles
    /// on every x86 core of the last decade, Intel and AMD alike (vaddps does not: 4 cycles on Intel, 3 on Zen).
    /// </summary>
    private static double Clock()
    {
        const long n = 100_000_000;
        double best = double.MaxValue;
        ulong sink = 0;
        for (int r = 0; r < 5; r++)
        {
            var sw = Stopwatch.StartNew();
            sink += MulChain(n, 0x9E3779B97F4A7C15UL | (uint)r);
            best = Math.Min(best, sw.Elapsed.TotalSeconds);
        }
        if (sink == 42) Console.WriteLine();
        return 3.0 * 4 * n / best / 1e9;
    }

    /// <summary>4n dependent multiplies (each waits for the previous one).</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static ulong MulChain(long n, ulong m)
    {
        ulong a = m;
        for (long i = 0; i < n; i++)
        {
            a *= m;
            a *= m;
            a *= m;
            a *= m;
        }
        return a;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static ulong MulLoop(long n)
    {
        var a = Vector256.Create(1UL); var b = a; var c = a; var d = a;
        var m = Vector256.Create(3UL);
        for (long i = 0; i < n / 4; i++)
        {
            a = System.Runtime.Intrinsics.X86.Avx2.Multiply(a.AsUInt32(), m.AsUInt32());
            b = System.Runtime.Intrinsics.X86.Avx2.Multiply(b.AsUInt32(), m.AsUInt32());
            c = System.Runtime.Intrinsics.X86.Avx2.Multiply(c.AsUInt32(), m.AsUInt32());
            d = System.Runtime.Intrinsics.X86.Avx2.Multiply(d.AsUInt32(), m.AsUInt32());
        }
        return (a ^ b ^ c ^ d).GetElement(0);
    }
}
