using System.Text.Json.Nodes;
using TorchInit.Experiments;
using TorchSharp;
using static TorchSharp.torch;

namespace TorchInit.Tests;

/// <summary>
/// The example trainers against their PyTorch twins without Python: the reduced-size references in Fixtures/twins were
/// written by scripts/twins/*.py with real PyTorch (bash scripts/twins.sh --update-fixtures); each test replays the
/// same configuration in TorchSharp and requires the initial per-layer statistics to 1e-5 relative and the first 20
/// losses to 1e-3 relative (with the documented allowances of <see cref="Allowance.Known"/>).
/// </summary>
public class TwinTests
{
    private static string FixtureDir => Path.Combine(AppContext.BaseDirectory, "Fixtures", "twins");

    public static TheoryData<string> References()
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.GetFiles(FixtureDir, "*.json").OrderBy(f => f)) data.Add(Path.GetFileName(f));
        return data;
    }

    [Fact]
    public void References_cover_the_depth_sweep_and_he2015_in_both_dtypes()
    {
        var docs = Directory.GetFiles(FixtureDir, "*.json").Select(TwinDocument.Load).ToList();
        foreach (var experiment in new[] { "depth-sweep", "he2015" })
            foreach (var dtype in new[] { "float32", "float64" })
                Assert.Contains(docs, d => d.Experiment == experiment && d.Config["dtype"]!.GetValue<string>() == dtype && d.Producer.StartsWith("pytorch"));
        var sweep = docs.First(d => d.Experiment == "depth-sweep");
        Assert.Equal(21, sweep.Runs.Count); // 3 activations × 7 schemes
        Assert.Equal(30, docs.First(d => d.Experiment == "he2015").ConfigAs<He2015Config>().Depth);
    }

    [Theory]
    [MemberData(nameof(References))]
    public void TorchSharp_replay_agrees_with_PyTorch(string file)
    {
        var reference = TwinDocument.Load(Path.Combine(FixtureDir, file));
        var actual = Replay.Run(reference, CPU);
        var comparison = TwinComparison.Compare(reference, actual);
        var failures = comparison.Values.Where(v => !v.Ok).Take(10)
            .Select(v => $"{v.Run} {v.Quantity} {v.Where}: PyTorch {v.Reference:R}, TorchSharp {v.Actual:R}, error {v.Error:E2} > {v.Tolerance:E0}");
        Assert.True(comparison.Ok, string.Join("\n", comparison.StructuralProblems.Concat(failures)));
        Assert.True(comparison.MaxStatisticError < 1e-5);
    }

    [Fact]
    public void Zeros_keep_every_unit_identical_and_random_schemes_do_not()
    {
        var reference = TwinDocument.Load(Path.Combine(FixtureDir, "depth-sweep-float32.json"));
        int depth = reference.ConfigAs<DepthSweepConfig>().Depth;
        foreach (var run in reference.Runs)
            Assert.Equal(run.Name.EndsWith("/zeros") ? depth : 0, run.IdenticalUnitLayers);
    }

    [Fact]
    public void Signals_vanish_with_small_weights_and_persist_with_matched_schemes()
    {
        var doc = TwinDocument.Load(Path.Combine(FixtureDir, "depth-sweep-float32.json"));
        double LastOverFirst(string run)
        {
            var acts = doc[run].Layers.Where(l => l.Path.StartsWith("act")).ToList();
            return acts[^1].Std / acts[0].Std;
        }
        Assert.True(LastOverFirst("tanh/normal-0.01") < 1e-6);
        Assert.True(LastOverFirst("relu/normal-0.01") < 1e-6);
        Assert.InRange(LastOverFirst("tanh/glorot"), 0.05, 2);
        Assert.InRange(LastOverFirst("relu/he"), 0.2, 5);
        Assert.InRange(LastOverFirst("selu/lecun"), 0.3, 3);
        var saturated = doc["tanh/normal-1"].Layers.Where(l => l.Type == "Tanh").Select(l => l.Saturated);
        Assert.All(saturated, s => Assert.True(s > 0.5));
        Assert.All(doc["relu/he"].Layers.Where(l => l.Type == "ReLU"), l => Assert.InRange(l.Dead, 0.3, 0.7));
    }

    [Fact]
    public void Comparison_flags_disagreement_and_honours_non_finite_and_allowances()
    {
        Assert.Equal(0, TwinComparison.Relative(double.NaN, double.NaN, 0));
        Assert.Equal(0, TwinComparison.Relative(double.PositiveInfinity, double.PositiveInfinity, 0));
        Assert.Equal(double.PositiveInfinity, TwinComparison.Relative(1, double.NaN, 0));
        Assert.Equal(0.5, TwinComparison.Relative(1, 2, 0));
        Assert.Equal(1e-3, TwinComparison.Relative(0, 1e-3, 1), 12); // a mean is measured against the layer's std

        TwinRun Run(string name, double std, double loss) => new()
        {
            Name = name, ProbeLoss = loss, Losses = [loss, loss],
            Layers = [new TwinLayer(0, "fc0", "Linear", 0, std, double.NaN, double.NaN, 1, 1)],
        };
        TwinDocument Doc(params TwinRun[] runs) => new() { Experiment = "depth-sweep", Producer = "test", Config = new JsonObject { ["dtype"] = "float32" }, Runs = [.. runs] };

        var reference = Doc(Run("relu/he", 1.0, 2.0), Run("tanh/normal-1", 1.0, 9.0));
        Assert.True(TwinComparison.Compare(reference, Doc(Run("relu/he", 1.0 + 5e-6, 2.0), Run("tanh/normal-1", 1.0, 9.0))).Ok);
        Assert.False(TwinComparison.Compare(reference, Doc(Run("relu/he", 1.0 + 5e-5, 2.0), Run("tanh/normal-1", 1.0, 9.0))).Ok);
        Assert.False(TwinComparison.Compare(reference, Doc(Run("relu/he", 1.0, 2.01), Run("tanh/normal-1", 1.0, 9.0))).Ok);
        Assert.False(TwinComparison.Compare(reference, Doc(Run("relu/he", 1.0, 2.0))).Ok); // a run is missing
        var chaotic = TwinComparison.Compare(reference, Doc(Run("relu/he", 1.0, 2.0), Run("tanh/normal-1", 1.0 + 5e-4, 9.0)));
        Assert.True(chaotic.Ok);
        Assert.Contains(chaotic.AppliedAllowances, a => a.Run == "tanh/normal-1");
    }

    [Fact]
    public void Twin_json_round_trips_non_finite_numbers()
    {
        var doc = new TwinDocument
        {
            Experiment = "he2015", Producer = "test", Config = TwinDocument.ConfigOf(new He2015Config(Depth: 3)),
            Runs = [new TwinRun { Name = "he", ProbeLoss = double.PositiveInfinity, Losses = [double.NaN, 1.5], Layers = [new TwinLayer(0, "fc0", "Linear", 0, 1, double.NaN, double.NaN, 2, 3)] }],
        };
        var path = Path.Combine(Path.GetTempPath(), $"twin-{Guid.NewGuid():N}.json");
        try
        {
            doc.Save(path);
            var text = File.ReadAllText(path);
            Assert.Contains("\"NaN\"", text);
            Assert.DoesNotContain("activation_list", text);
            var back = TwinDocument.Load(path);
            Assert.True(double.IsPositiveInfinity(back.Runs[0].ProbeLoss));
            Assert.True(double.IsNaN(back.Runs[0].Losses[0]));
            Assert.Equal(3, back.ConfigAs<He2015Config>().Depth);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Cluster_stream_is_deterministic_and_standardized()
    {
        using var a = new ClusterStream(5, 64, 10, 512);
        using var b = new ClusterStream(5, 64, 10, 512);
        var (xa, ya) = a.Next();
        var (xb, yb) = b.Next();
        Assert.True(xa.equal(xb).all().item<bool>());
        Assert.Equal(Enumerable.Range(0, 512).Select(i => (long)(i % 10)), ya.data<long>().ToArray());
        Assert.InRange(xa.std().item<float>(), 0.9f, 1.1f);
        var (xa2, _) = a.Next();
        Assert.False(xa2.equal(xa).all().item<bool>());
    }

    [Fact]
    public void Schemes_and_devices_are_named_clearly()
    {
        Assert.Equal("he", ExperimentScheme.Parse("HE").Name);
        Assert.Contains("normal-0.01", Assert.Throws<ArgumentException>(() => ExperimentScheme.Parse("xavier")).Message);
        Assert.Equal(DeviceType.CPU, Devices.Select("cpu").type);
        if (!cuda.is_available())
        {
            var e = Assert.Throws<TorchNativeLoadException>(() => Devices.Select("cuda"));   // one line; the trainers add -p:TorchBackend=cuda
            Assert.Contains("TorchSharp-cuda-linux", e.Message);
            Assert.DoesNotContain('\n', e.Message);
        }
        Assert.Throws<ArgumentException>(() => Devices.Select("tpu"));
    }
}
