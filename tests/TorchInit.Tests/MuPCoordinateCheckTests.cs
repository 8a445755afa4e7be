using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Data;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchInit.Tests;

/// <summary>
/// μP's coordinate check (docs/mup.md, "Coordinate check"; Tensor Programs V, Appendix D.1): rows for every leaf module and the
/// output at every width and step, l1 = mean |y| as recomputed here, the exponents and verdicts recomputed from the rows, μP flat
/// where SP grows, the IDataView, and no tensors or hooks left behind.
/// </summary>
[Collection(SerialTorchCollection.Name)]
public class MuPCoordinateCheckTests
{
    private const long Inputs = 16, Classes = 10;
    private static readonly long[] Widths = [64, 128, 256];
    private static readonly string[] Modules = ["fc1", "act1", "fc2", "act2", "head", "(output)"];

    private static Sequential Mlp(long w, bool mu) => nn.Sequential(
        ("fc1", nn.Linear(Inputs, w)), ("act1", nn.ReLU()), ("fc2", nn.Linear(w, w)), ("act2", nn.ReLU()),
        ("head", mu ? new MuReadout(w, Classes) : nn.Linear(w, Classes)));

    private static readonly Lazy<MuBaseShapes> Shapes = new(() => MuBaseShapes.FromFactory(w => Mlp(w, mu: true), 32, 64));

    private static Sequential MuModel(long w)
    {
        var m = Mlp(w, mu: true);
        m.ApplyInit(InitPolicy.Of(InitScheme.TorchDefault).MuP(Shapes.Value), new InitOptions { Seed = 0 });
        return m;
    }

    private static Sequential SpModel(long w)
    {
        var m = Mlp(w, mu: false);
        m.ApplyInit(InitScheme.TorchDefault, new InitOptions { Seed = 0 });
        return m;
    }

    private static List<(Tensor Input, Tensor Target)> Batches(int steps, ulong seed = 1)
    {
        using var g = new Generator(seed);
        return Enumerable.Range(0, steps).Select(_ => (randn(64, Inputs, generator: g), randint(0, Classes, [64], generator: g))).ToList();
    }

    private static void Dispose(List<(Tensor Input, Tensor Target)> batches)
    {
        foreach (var (x, t) in batches) { x.Dispose(); t.Dispose(); }
    }

    private static Tensor Loss(Tensor y, Tensor t) => nn.functional.cross_entropy(y, t);

    private static CoordinateCheckReport RunMu(List<(Tensor Input, Tensor Target)> batches, double lr = 0.02, CoordinateCheckOptions? options = null) =>
        CoordinateCheck.Run(Widths, w => MuModel(w), m => MuP.Adam(m, Shapes.Value, lr: lr), batches, Loss, options);

    private static double MeanAbs(Tensor y)
    {
        using var scope = NewDisposeScope();
        return y.detach().to_type(ScalarType.Float64).abs().mean().item<double>();
    }

    [Fact]
    public void Rows_cover_every_leaf_module_and_the_output_at_every_width_and_step()
    {
        using var scope = NewDisposeScope();
        var batches = Batches(3);
        var report = RunMu(batches);
        Assert.Equal(Widths.Length * 3 * Modules.Length, report.Rows.Count);
        foreach (long w in Widths)
            for (int step = 0; step < 3; step++)
            {
                var at = report.Rows.Where(r => r.Width == w && r.Step == step).ToList();
                Assert.Equal(Modules.OrderBy(x => x, StringComparer.Ordinal), at.Select(r => r.Module).OrderBy(x => x, StringComparer.Ordinal));
                Assert.All(at, r => Assert.True(r.L1 > 0 && double.IsFinite(r.L1), $"{r.Module} at width {w}, step {step}: l1 {r.L1}"));
            }
        var types = report.Rows.GroupBy(r => r.Module).ToDictionary(g => g.Key, g => g.Select(r => r.LayerType).Distinct().Single());
        Assert.Equal("Linear", types["fc1"]);
        Assert.Equal("ReLU", types["act1"]);
        Assert.Equal("MuReadout", types["head"]);
        Assert.Equal("Sequential", types["(output)"]);
        // By width, then step.
        var order = report.Rows.Select(r => (r.Width, r.Step)).ToList();
        Assert.Equal(order.OrderBy(o => o.Width).ThenBy(o => o.Step), order);
        Assert.Equal(Modules, report.Verdicts.Select(v => v.Module).OrderBy(m => Array.IndexOf(Modules, m)));
        Dispose(batches);
    }

    [Fact]
    public void L1_is_mean_absolute_value_recomputed_by_hand_at_step_0_and_after_one_update()
    {
        using var scope = NewDisposeScope();
        var batches = Batches(2);
        var report = RunMu(batches);
        foreach (long w in Widths)
        {
            var model = MuModel(w);   // the same model: the same seed writes every parameter
            var layers = model.named_children().ToDictionary(c => c.name, c => (nn.Module<Tensor, Tensor>)c.module);
            using var adam = MuP.Adam(model, Shapes.Value, lr: 0.02);
            for (int step = 0; step < 2; step++)
            {
                var x = batches[step].Input;
                var expected = new Dictionary<string, double>();
                using (no_grad())
                {
                    var h = x;
                    foreach (var name in new[] { "fc1", "act1", "fc2", "act2", "head" })
                    {
                        h = layers[name].call(h);
                        expected[name] = MeanAbs(h);
                    }
                    expected["(output)"] = MeanAbs(h);
                }
                foreach (var (name, l1) in expected)
                {
                    var row = report.Rows.Single(r => r.Width == w && r.Step == step && r.Module == name);
                    Assert.True(Stats.Close(l1, row.L1, 1e-9), $"{name} at width {w}, step {step}: report {row.L1:R}, by hand {l1:R}");
                }
                // The update the check makes between steps: forward, loss, backward, step, zero_grad.
                adam.zero_grad();
                Loss(model.call(x), batches[step].Target).backward();
                adam.step();
            }
        }
        Dispose(batches);
    }

    [Fact]
    public void Under_muP_the_hidden_layers_are_flat_under_SP_they_and_the_output_grow()
    {
        using var scope = NewDisposeScope();
        var batches = Batches(3);
        const double lr = 0.02;
        var mu = RunMu(batches, lr);
        var sp = CoordinateCheck.Run(Widths, w => SpModel(w), m => optim.Adam(m.parameters(), lr), batches, Loss);
        foreach (var module in new[] { "fc1", "act1", "fc2", "act2", "head", "(output)" })
            Assert.True(mu[module].Verdict == CoordinateVerdict.Flat, $"μP {module}: {mu[module].Verdict}, exponent {mu[module].Exponent:F3} at step {mu[module].Step}\n{mu}");
        foreach (var module in new[] { "fc2", "act2", "head", "(output)" })
            Assert.True(sp[module].Verdict == CoordinateVerdict.Growing, $"SP {module}: {sp[module].Verdict}, exponent {sp[module].Exponent:F3} at step {sp[module].Step}\n{sp}");
        Dispose(batches);
    }

    private static double Slope(IReadOnlyList<(long Width, double L1)> points)
    {
        var x = points.Select(p => Math.Log(p.Width)).ToArray();
        var y = points.Select(p => Math.Log(p.L1)).ToArray();
        double mx = x.Average(), my = y.Average();
        return x.Zip(y).Sum(p => (p.First - mx) * (p.Second - my)) / x.Sum(v => (v - mx) * (v - mx));
    }

    [Theory]
    [InlineData(1, 0.2)]
    [InlineData(0, 0.2)]
    [InlineData(2, 0.05)]
    public void Exponents_and_verdicts_are_the_least_squares_slopes_of_the_rows(int fromStep, double flat)
    {
        using var scope = NewDisposeScope();
        var batches = Batches(3);
        var options = new CoordinateCheckOptions { FromStep = fromStep, FlatExponent = flat };
        var report = CoordinateCheck.Run(Widths, w => SpModel(w), m => optim.Adam(m.parameters(), 0.02), batches, Loss, options);
        foreach (var v in report.Verdicts)
        {
            var slopes = Enumerable.Range(fromStep, 3 - fromStep)
                .Select(s => (Step: s, E: Slope(report.Rows.Where(r => r.Module == v.Module && r.Step == s).OrderBy(r => r.Width).Select(r => (r.Width, r.L1)).ToList())))
                .ToList();
            var largest = slopes.OrderByDescending(s => Math.Abs(s.E)).First();
            Assert.Equal(largest.Step, v.Step);
            Assert.True(Stats.Close(largest.E, v.Exponent, 1e-9), $"{v.Module}: exponent {v.Exponent:R}, by hand {largest.E:R}");
            var expected = Math.Abs(largest.E) <= flat ? CoordinateVerdict.Flat : largest.E > 0 ? CoordinateVerdict.Growing : CoordinateVerdict.Shrinking;
            Assert.Equal(expected, v.Verdict);
            var series = report.Series(v.Module, v.Step);
            Assert.Equal(Widths, series.Select(p => p.Width));
        }
        Dispose(batches);
    }

    [Fact]
    public void Report_is_a_data_view_with_the_documented_columns()
    {
        using var scope = NewDisposeScope();
        var batches = Batches(2);
        var report = RunMu(batches);
        IDataView view = report;
        Assert.Equal(["Width", "Step", "Module", "LayerType", "L1"], view.Schema.Select(c => c.Name));
        Assert.Equal(typeof(long), view.Schema["Width"].Type.RawType);
        Assert.Equal(typeof(long), view.Schema["Step"].Type.RawType);
        Assert.Equal(typeof(ReadOnlyMemory<char>), view.Schema["Module"].Type.RawType);
        Assert.Equal(typeof(ReadOnlyMemory<char>), view.Schema["LayerType"].Type.RawType);
        Assert.Equal(typeof(double), view.Schema["L1"].Type.RawType);
        Assert.Equal(report.Rows.Count, view.GetRowCount());

        using var cursor = view.GetRowCursor(view.Schema);
        var width = cursor.GetGetter<long>(view.Schema["Width"]);
        var step = cursor.GetGetter<long>(view.Schema["Step"]);
        var module = cursor.GetGetter<ReadOnlyMemory<char>>(view.Schema["Module"]);
        var type = cursor.GetGetter<ReadOnlyMemory<char>>(view.Schema["LayerType"]);
        var l1 = cursor.GetGetter<double>(view.Schema["L1"]);
        int i = 0;
        long n = 0;
        double d = 0;
        ReadOnlyMemory<char> text = default;
        while (cursor.MoveNext())
        {
            var row = report.Rows[i++];
            width(ref n); Assert.Equal(row.Width, n);
            step(ref n); Assert.Equal(row.Step, n);
            module(ref text); Assert.Equal(row.Module, text.ToString());
            type(ref text); Assert.Equal(row.LayerType, text.ToString());
            l1(ref d); Assert.Equal(row.L1, d);
        }
        Assert.Equal(report.Rows.Count, i);

        var csv = report.ToCsv().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("Width,Step,Module,LayerType,L1", csv[0].TrimEnd('\r'));
        Assert.Equal(report.Rows.Count + 1, csv.Length);
        string text2 = report.ToString();
        foreach (var v in report.Verdicts) Assert.Contains(v.Module, text2);
        Assert.Contains("flat", text2);
        Dispose(batches);
    }

    private static int PostHookCount(nn.Module m)
    {
        for (var t = m.GetType(); t is not null; t = t.BaseType)
            if (t.GetField("post_hooks", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public) is { } f)
                return ((System.Collections.ICollection)f.GetValue(m)!).Count;
        return 0;
    }

    private static void Flush()
    {
        for (int i = 0; i < 3; i++) { GC.Collect(); GC.WaitForPendingFinalizers(); }
    }

    [Fact]
    public void Leaks_no_tensors_and_removes_its_hooks()
    {
        var batches = Batches(2);
        var built = new List<nn.Module>();
        CoordinateCheckReport Check() => CoordinateCheck.Run(Widths, w => { var m = MuModel(w); built.Add(m); return m; },
            m => MuP.Adam(m, Shapes.Value, lr: 0.02), batches, Loss);
        Check();   // warm-up: lazily created wrappers
        // TorchSharp 0.107: a disposed module's parameter wrappers stay counted in Tensor.TotalCount (nn.Linear built and
        // disposed: +2, GC or not). What building, making the optimizer and disposing costs by itself is the allowance.
        Flush();
        long start = Tensor.TotalCount;
        foreach (long w in Widths)
        {
            using var m = MuModel(w);
            using var o = MuP.Adam(m, Shapes.Value, lr: 0.02);
        }
        Flush();
        long allowance = Tensor.TotalCount - start;
        long before = Tensor.TotalCount;
        var report = Check();
        Flush();
        Assert.Equal(before + allowance, Tensor.TotalCount);
        Assert.Equal(Widths.Length * 2 * Modules.Length, report.Rows.Count);
        foreach (var model in built)
            foreach (var (name, module) in model.named_modules())
                Assert.True(PostHookCount(module) == 0, $"a hook is left on '{name}'");

        // A loss that is not a scalar is refused, with the hooks removed all the same.
        built.Clear();
        Assert.Throws<ArgumentException>(() => CoordinateCheck.Run(Widths, w => { var m = MuModel(w); built.Add(m); return m; },
            m => MuP.Adam(m, Shapes.Value, lr: 0.02), batches, (y, _) => y));
        Assert.NotEmpty(built);
        foreach (var model in built)
            foreach (var (name, module) in model.named_modules())
                Assert.True(PostHookCount(module) == 0, $"a hook is left on '{name}' after the loss threw");
        Dispose(batches);
    }

    [Fact]
    public void Bad_arguments_are_refused()
    {
        using var scope = NewDisposeScope();
        var batches = Batches(1);
        Func<long, nn.Module<Tensor, Tensor>> model = w => MuModel(w);
        Func<nn.Module, optim.Optimizer> opt = m => MuP.Adam(m, Shapes.Value);
        Assert.Throws<ArgumentException>(() => CoordinateCheck.Run([64], model, opt, batches, Loss));
        Assert.Throws<ArgumentException>(() => CoordinateCheck.Run([64, 64], model, opt, batches, Loss));
        Assert.Throws<ArgumentException>(() => CoordinateCheck.Run([0, 64], model, opt, batches, Loss));
        Assert.Throws<ArgumentException>(() => CoordinateCheck.Run(Widths, model, opt, [], Loss));
        Assert.Throws<ArgumentException>(() => CoordinateCheck.Run(Widths, model, opt, batches, Loss, new CoordinateCheckOptions { FlatExponent = -1 }));
        Assert.Throws<ArgumentNullException>(() => CoordinateCheck.Run(null!, model, opt, batches, Loss));
        Assert.Throws<ArgumentNullException>(() => CoordinateCheck.Run(Widths, null!, opt, batches, Loss));
        Assert.Throws<ArgumentNullException>(() => CoordinateCheck.Run(Widths, model, null!, batches, Loss));
        Assert.Throws<ArgumentNullException>(() => CoordinateCheck.Run(Widths, model, opt, null!, Loss));
        Assert.Throws<ArgumentNullException>(() => CoordinateCheck.Run(Widths, model, opt, batches, null!));
        Dispose(batches);
    }
}
