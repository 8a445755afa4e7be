using System.Reflection;
using Microsoft.ML.Data;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchInit.Tests;

/// <summary>Tests that count live tensors (a process-wide number) run alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    public const string Name = "serial: counts live tensors";
}

[Collection(SerialCollection.Name)]
public class ProbeTests
{
    private static Tensor MeanSquareLoss(Tensor y) => y.pow(2).sum() / 2;

    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && (a == b).all().item<bool>();

    private static Sequential TanhMlp(long seed)
    {
        var model = nn.Sequential(("fc0", nn.Linear(8, 6)), ("act0", nn.Tanh()), ("fc1", nn.Linear(6, 4)), ("act1", nn.ReLU()), ("out", nn.Linear(4, 3)));
        model.ApplyInit(InitScheme.GlorotUniform, new InitOptions { Seed = seed, Bias = BiasInit.TorchDefault });
        return model;
    }

    private static int PostHookCount(nn.Module m)
    {
        for (var t = m.GetType(); t is not null; t = t.BaseType)
            if (t.GetField("post_hooks", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public) is { } f)
                return ((System.Collections.ICollection)f.GetValue(m)!).Count;
        return 0;
    }

    [Fact]
    public void Rows_follow_execution_order_one_per_leaf_call()
    {
        using var scope = NewDisposeScope();
        var model = TanhMlp(1);
        var report = SignalProbe.Run(model, randn(5, 8, generator: new Generator(3)), MeanSquareLoss);
        Assert.Equal(["fc0", "act0", "fc1", "act1", "out"], report.Rows.Select(r => r.Path));
        Assert.Equal(["Linear", "Tanh", "Linear", "ReLU", "Linear"], report.Rows.Select(r => r.LayerType));
        Assert.Equal(Enumerable.Range(0, 5), report.Rows.Select(r => r.Index));
        Assert.Equal(new long[] { 5, 3 }, report.Rows[^1].Shape);
        Assert.True(double.IsNaN(report.Rows[1].WeightGradStd)); // Tanh owns no weight
        Assert.False(double.IsNaN(report.Rows[0].WeightGradStd));
    }

    private sealed class CallsBackwards : nn.Module<Tensor, Tensor>
    {
        private readonly Linear first = nn.Linear(4, 4), second = nn.Linear(4, 4);
        public CallsBackwards() : base(nameof(CallsBackwards)) => RegisterComponents();
        public override Tensor forward(Tensor x) => first.call(second.call(second.call(x)));
    }

    [Fact]
    public void Execution_order_not_registration_order_and_one_row_per_call()
    {
        using var scope = NewDisposeScope();
        var report = SignalProbe.Run(new CallsBackwards(), randn(2, 4), y => y.sum());
        Assert.Equal(["second", "second", "first"], report.Rows.Select(r => r.Path));
    }

    [Fact]
    public void Leaves_no_hooks_behind()
    {
        using var scope = NewDisposeScope();
        var model = TanhMlp(2);
        var modules = ModuleTree.PreOrder(model).Select(e => e.Module).ToList();
        var before = modules.Select(PostHookCount).ToList();
        var x = randn(4, 8);
        var first = SignalProbe.Run(model, x, MeanSquareLoss);
        Assert.Equal(before, modules.Select(PostHookCount));
        // A leaked hook would add rows to the next probe and fire on a plain forward.
        var second = SignalProbe.Run(model, x, MeanSquareLoss);
        Assert.Equal(first.Rows.Count, second.Rows.Count);
        Assert.Equal(first.Rows.Select(r => r.ActivationStd), second.Rows.Select(r => r.ActivationStd));
        Assert.Equal(first.Loss, second.Loss);
    }

    [Fact]
    public void Leaves_no_hooks_behind_when_the_loss_throws()
    {
        using var scope = NewDisposeScope();
        var model = TanhMlp(2);
        var modules = ModuleTree.PreOrder(model).Select(e => e.Module).ToList();
        Assert.Throws<ArgumentException>(() => SignalProbe.Run(model, randn(4, 8), y => y)); // not a scalar
        Assert.All(modules, m => Assert.Equal(0, PostHookCount(m)));
        Assert.All(model.parameters(), p => Assert.Null(p.grad));
    }

    [Fact]
    public void Leaves_no_gradients_unless_asked()
    {
        using var scope = NewDisposeScope();
        var model = TanhMlp(3);
        var x = randn(4, 8);
        SignalProbe.Run(model, x, MeanSquareLoss);
        Assert.All(model.parameters(), p => Assert.Null(p.grad));

        SignalProbe.Run(model, x, MeanSquareLoss, new SignalProbeOptions { KeepGradients = true });
        var kept = model.parameters().Select(p => p.grad!.clone()).ToList();
        model.zero_grad();
        MeanSquareLoss(model.call(x)).backward();
        foreach (var (p, k) in model.parameters().Zip(kept))
            Assert.True(Same(p.grad!, k), "KeepGradients leaves what zero_grad + backward leaves");
    }

    [Fact]
    public void Existing_gradients_are_restored_not_accumulated()
    {
        using var scope = NewDisposeScope();
        var model = TanhMlp(4);
        var x = randn(4, 8);
        MeanSquareLoss(model.call(x)).backward();
        var before = model.parameters().Select(p => p.grad!.clone()).ToList();
        SignalProbe.Run(model, randn(6, 8), MeanSquareLoss);
        foreach (var (p, b) in model.parameters().Zip(before))
            Assert.True(Same(p.grad!, b));
    }

    [Fact]
    public void Leaks_no_tensors()
    {
        var model = TanhMlp(5);
        var x = randn(16, 8);
        var target = randint(0, 3, [16]);
        SignalProbe.Run(model, x, y => nn.functional.cross_entropy(y, target)); // warm-up: lazily created wrappers
        GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect(); // finalize what earlier tests left to the GC, so it cannot change the count here
        long before = Tensor.TotalCount;
        SignalProbe.Run(model, x, y => nn.functional.cross_entropy(y, target));
        SignalProbe.Run(model, x, y => nn.functional.cross_entropy(y, target), new SignalProbeOptions { KeepGradients = true });
        Assert.Equal(before, Tensor.TotalCount);
        foreach (var p in model.parameters()) p.grad = null;
        x.Dispose(); target.Dispose(); model.Dispose();
    }

    [Fact]
    public void Buffers_and_mode_are_restored()
    {
        using var scope = NewDisposeScope();
        var model = nn.Sequential(("fc", nn.Linear(3, 4)), ("bn", nn.BatchNorm1d(4)), ("act", nn.ReLU()));
        model.train();
        var bn = (BatchNorm1d)model[1];
        var mean = bn.running_mean!.clone();
        var tracked = bn.num_batches_tracked!.clone();
        SignalProbe.Run(model, randn(8, 3) * 5 + 2, y => y.sum());
        Assert.True(Same(bn.running_mean!, mean));
        Assert.True(Same(bn.num_batches_tracked!, tracked));
        Assert.True(model.training);
    }

    [Fact]
    public void Saturated_fractions_on_constructed_inputs()
    {
        using var scope = NewDisposeScope();
        // tanh(2.65) = 0.99007 > 0.99, tanh(2.64) = 0.98987 < 0.99: 4 of 8 saturated.
        var x = tensor(new float[] { -3f, -2.65f, -2.64f, 0f, 0.5f, 2.64f, 2.65f, 10f }).reshape(2, 4);
        var tanh = SignalProbe.Run(nn.Tanh(), x, y => y.sum());
        Assert.Equal(0.5, tanh.Rows.Single().SaturatedFraction);
        Assert.True(double.IsNaN(tanh.Rows.Single().DeadFraction));
        // sigmoid(4.6) = 0.99005 > 0.99 and sigmoid(-4.6) < 0.01; ±4.59 are not: 3 of 8 saturated.
        var s = tensor(new float[] { -4.6f, -4.59f, 0f, 1f, 4.59f, 4.6f, 20f, 2f }).reshape(2, 4);
        var sigmoid = SignalProbe.Run(nn.Sigmoid(), s, y => y.sum());
        Assert.Equal(3.0 / 8, sigmoid.Rows.Single().SaturatedFraction);
    }

    [Fact]
    public void Dead_fraction_counts_exact_zeros_after_relu()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new float[] { -1f, 0f, 1e-30f, 2f, -0f, 3f, -5f, 0.1f, 7f, -2f }).reshape(2, 5);
        var report = SignalProbe.Run(nn.ReLU(), x, y => y.sum());
        Assert.Equal(5.0 / 10, report.Rows.Single().DeadFraction);
        Assert.True(double.IsNaN(report.Rows.Single().SaturatedFraction));
    }

    [Fact]
    public void Statistics_equal_a_hand_computation()
    {
        using var scope = NewDisposeScope();
        var layer = nn.Linear(3, 2);
        double[,] w = { { 0.5, -1.0, 0.25 }, { 2.0, 0.0, -0.5 } };
        double[] b = { 0.1, -0.2 };
        double[,] x = { { 1, 2, 3 }, { -1, 0.5, 4 }, { 0, -2, 1 }, { 3, 1, -1 } };
        using (no_grad())
        {
            layer.weight!.copy_(tensor(new float[] { 0.5f, -1f, 0.25f, 2f, 0f, -0.5f }).reshape(2, 3));
            layer.bias!.copy_(tensor(new float[] { 0.1f, -0.2f }));
        }
        var input = tensor(new float[] { 1, 2, 3, -1, 0.5f, 4, 0, -2, 1, 3, 1, -1 }).reshape(4, 3);
        var report = SignalProbe.Run(layer, input, y => y.pow(2).sum() / 2); // ∂loss/∂y = y, ∂loss/∂W = yᵀx
        var row = report.Rows.Single();

        var y = new double[4, 2];
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 2; j++)
            {
                y[i, j] = b[j];
                for (int k = 0; k < 3; k++) y[i, j] += w[j, k] * x[i, k];
            }
        var gw = new double[2, 3];
        for (int j = 0; j < 2; j++)
            for (int k = 0; k < 3; k++)
                for (int i = 0; i < 4; i++) gw[j, k] += y[i, j] * x[i, k];

        static (double Mean, double Std) Stats(IEnumerable<double> v)
        {
            var a = v.ToArray();
            double m = a.Average();
            return (m, Math.Sqrt(a.Sum(e => (e - m) * (e - m)) / (a.Length - 1)));
        }
        var ys = Stats(y.Cast<double>());
        Assert.Equal(ys.Mean, row.ActivationMean, 1e-6);
        Assert.Equal(ys.Std, row.ActivationStd, 1e-6);
        Assert.Equal(ys.Std, row.OutputGradStd, 1e-6);
        Assert.Equal(Stats(gw.Cast<double>()).Std, row.WeightGradStd, 1e-5);
        Assert.Equal(y.Cast<double>().Sum(e => e * e) / 2, report.Loss, 1e-5);
    }

    [Fact]
    public void Frozen_layers_still_see_output_gradients()
    {
        using var scope = NewDisposeScope();
        var model = TanhMlp(6);
        var fc0 = (Linear)model[0];
        fc0.weight!.requires_grad = false;
        fc0.bias!.requires_grad = false;
        var report = SignalProbe.Run(model, randn(4, 8), MeanSquareLoss);
        Assert.True(double.IsNaN(report.Rows[0].WeightGradStd));
        Assert.False(double.IsNaN(report.Rows[0].OutputGradStd));
        Assert.False(fc0.weight.requires_grad);
    }

    [Fact]
    public void Input_is_not_modified_and_include_selects_modules()
    {
        using var scope = NewDisposeScope();
        var model = TanhMlp(7);
        var x = randn(4, 8);
        var report = SignalProbe.Run(model, x, MeanSquareLoss, new SignalProbeOptions { Include = (_, m) => m is Tanh or ReLU });
        Assert.Equal(["Tanh", "ReLU"], report.Rows.Select(r => r.LayerType));
        Assert.False(x.requires_grad);
        Assert.Null(x.grad);
        var containers = SignalProbe.Run(model, x, MeanSquareLoss, new SignalProbeOptions { Include = (p, _) => p == "" });
        Assert.Equal("Sequential", containers.Rows.Single().LayerType);
    }

    [Fact]
    public void Meta_device_is_refused_clearly()
    {
        using var scope = NewDisposeScope();
        var model = nn.Linear(3, 2, device: new Device(DeviceType.META));
        var e = Assert.Throws<InvalidOperationException>(() => SignalProbe.Run(model, empty(2, 3, device: new Device(DeviceType.META)), y => y.sum()));
        Assert.Contains("meta", e.Message);
    }

    [Fact]
    public void Report_is_a_data_view_a_table_and_a_series()
    {
        using var scope = NewDisposeScope();
        var report = SignalProbe.Run(TanhMlp(8), randn(5, 8), MeanSquareLoss);
        Assert.Equal(5, report.GetRowCount());
        Assert.Contains(report.Schema, c => c.Name == "ActivationStd");
        var col = report.Schema["ActivationStd"];
        using var cursor = report.GetRowCursor([col]);
        var get = cursor.GetGetter<double>(col);
        var read = new List<double>();
        while (cursor.MoveNext()) { double v = 0; get(ref v); read.Add(v); }
        Assert.Equal(report.Series(r => r.ActivationStd), read);
        Assert.Equal(2, report.OfType("Linear").Count(r => r.Index < 3));
        var text = report.ToString();
        Assert.Contains("grad std (W)", text);
        Assert.Contains("act0", text);
        Assert.Equal(6, report.ToCsv().Trim().Split('\n').Length);
    }
}
