using TorchInit;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace TorchInit.Tests;

/// <summary>μP's core on an MLP: classes, stds and the optimizer's groups, against the formulas of docs/mup.md computed here.</summary>
public class MuPCoreTests
{
    private static nn.Module<Tensor, Tensor> Mlp(long w, bool readout = false) => nn.Sequential(
        ("fc1", nn.Linear(20, w)), ("act1", nn.ReLU()), ("fc2", nn.Linear(w, w)), ("act2", nn.ReLU()),
        ("head", readout ? new MuReadout(w, 10) : nn.Linear(w, 10)));

    [Fact]
    public void Mlp_classes_stds_and_adam_groups_follow_the_tables()
    {
        var shapes = MuBaseShapes.FromFactory(w => Mlp(w), 32, 64);
        using var model = Mlp(256);
        var report = model.ApplyInit(InitPolicy.Of(InitScheme.Normal(0.02)).MuP(shapes), new InitOptions { Seed = 0, MeasureRealized = true });
        double m = 256 / 32.0;
        Assert.Equal(MuClass.Input, report["fc1.weight"].MuClass);
        Assert.Equal(MuClass.Hidden, report["fc2.weight"].MuClass);
        Assert.Equal(MuClass.Output, report["head.weight"].MuClass);
        Assert.Equal(MuClass.VectorLike, report["fc2.bias"].MuClass);
        Assert.Equal(MuClass.Finite, report["head.bias"].MuClass);
        Assert.Equal(0.02, report["fc1.weight"].TargetStd, 12);
        Assert.Equal(0.02 / Math.Sqrt(m), report["fc2.weight"].TargetStd, 12);
        Assert.Equal(0.02 / m, report["head.weight"].TargetStd, 12);
        Assert.Equal(m, report["fc2.weight"].WidthMultiplier, 12);
        Assert.Contains("μP class", report.ToString());
        using var adam = MuP.Adam(model, shapes, lr: 0.01);
        var lrs = adam.ParamGroups.Select(g => g.LearningRate).OrderBy(x => x).ToArray();
        Assert.Equal(new[] { 0.01 / m, 0.01 }, lrs, new Tolerance(1e-15));
    }

    [Fact]
    public void Fan_in_scheme_keeps_hidden_weights_and_readout_gets_base_std_and_multiplier()
    {
        var shapes = MuBaseShapes.FromFactory(w => Mlp(w, readout: true), 32, 64);
        using var model = Mlp(128, readout: true);
        var report = model.ApplyInit(InitPolicy.Of(InitScheme.HeNormal).MuP(shapes), new InitOptions { Seed = 1 });
        Assert.Equal(1.0, report["fc2.weight"].MuScale, 12);
        Assert.Equal(Math.Sqrt(2.0 / 32), report["head.weight"].TargetStd, 12);
        Assert.Equal(4.0, ((MuReadout)model.named_modules().First(x => x.name == "head").module).WidthMultiplier, 12);
        using var x = randn(3, 20);
        using var y = model.call(x);
        Assert.Equal(new long[] { 3, 10 }, y.shape);
    }

    [Fact]
    public void Coordinate_check_gives_rows_and_verdicts()
    {
        var shapes = MuBaseShapes.FromFactory(w => Mlp(w, readout: true), 32, 64);
        torch.manual_seed(0);
        var batches = Enumerable.Range(0, 3).Select(_ => (randn(16, 20), randint(0, 10, [16]))).ToList();
        var report = CoordinateCheck.Run([32, 64, 128],
            w => { var m = Mlp(w, readout: true); m.ApplyInit(InitPolicy.Of(InitScheme.TorchDefault).MuP(shapes), new InitOptions { Seed = 0 }); return m; },
            m => MuP.Adam(m, shapes, lr: 0.05), batches, (y, t) => nn.functional.cross_entropy(y, t));
        Assert.Equal(3 * 3 * 6, report.Rows.Count);
        Assert.Equal(CoordinateVerdict.Flat, report["fc2"].Verdict);
        foreach (var (a, b) in batches) { a.Dispose(); b.Dispose(); }
    }

    private sealed class Tolerance(double eps) : IEqualityComparer<double>
    {
        public bool Equals(double a, double b) => Math.Abs(a - b) <= eps * Math.Max(1, Math.Abs(a));
        public int GetHashCode(double x) => 0;
    }
}

public class MuPBuildTests
{
    [Fact]
    public void Build_without_default_init_takes_a_mu_policy_and_a_readout()
    {
        static nn.Module<Tensor, Tensor> Mlp(long w) => nn.Sequential(("fc1", nn.Linear(20, w)), ("act", nn.ReLU()), ("head", new MuReadout(w, 10)));
        var shapes = MuBaseShapes.FromFactory(Mlp, 32, 64);
        var policy = InitPolicy.Of(InitScheme.HeNormal).MuP(shapes);
        using var built = Build.WithoutDefaultInit(() => Mlp(128), policy, out var report, new InitOptions { Seed = 3 });
        using var plain = Mlp(128);
        plain.ApplyInit(policy, new InitOptions { Seed = 3 });
        foreach (var ((name, a), (_, b)) in built.named_parameters().Zip(plain.named_parameters()))
            Assert.True(a.eq(b).all().item<bool>(), name);
        Assert.Equal(MuClass.Output, report["head.weight"].MuClass);
    }
}
