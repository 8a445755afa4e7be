using TorchInit.Experiments;
using static TorchSharp.torch;

namespace TorchInit.Tests;

/// <summary>
/// TorchInit's μP against its PyTorch twin without Python: the references in Fixtures/mup-twin were written by
/// scripts/twins/mup.py with real PyTorch 2.6 (bash scripts/twins.sh --update-fixtures: 3 Adam steps, compact JSON); each test
/// replays them with TorchInit (base shapes, InitPolicy.MuP, MuP.Parameters, MuP.Adam, MuReadout, MuSharedReadout,
/// MuP.ScaledDotProductAttention, CoordinateCheck) and requires classes and multipliers exactly, μP stds to 1e-12, realized stds
/// to 1e-6, the coordinate check's l1 to 1e-5 at step 0 and 1e-3 after updates (<see cref="MupTolerances"/>).
/// </summary>
[Collection(SerialTorchCollection.Name)]
public class MupTwinTests
{
    private static string FixtureDir => Path.Combine(AppContext.BaseDirectory, "Fixtures", "mup-twin");

    private static readonly string[] AllRuns = ["mlp/plain", "mlp/readout", "mlp/sp", "gpt/tied", "gpt/untied", "gpt/sp"];

    public static TheoryData<string> References()
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.GetFiles(FixtureDir, "*.json").OrderBy(f => f)) data.Add(Path.GetFileName(f));
        return data;
    }

    [Fact]
    public void References_cover_both_models_and_dtypes_and_were_written_by_PyTorch()
    {
        var docs = Directory.GetFiles(FixtureDir, "*.json").Select(MupTwinDocument.Load).ToList();
        foreach (var dtype in new[] { "float32", "float64" })
        {
            var d = Assert.Single(docs, x => x.Config.Dtype == dtype);
            Assert.StartsWith("pytorch 2.", d.Producer);
            Assert.Equal(AllRuns, d.Runs.Select(r => r.Name));
            Assert.True(MupTwinDocument.Is(Path.Combine(FixtureDir, $"mup-{dtype}.json")));
        }
        Assert.False(MupTwinDocument.Is(Path.Combine(AppContext.BaseDirectory, "Fixtures", "twins", "he2015-float32.json")));
    }

    [Theory]
    [MemberData(nameof(References))]
    public void TorchInit_mup_agrees_with_the_PyTorch_twin(string file)
    {
        var reference = MupTwinDocument.Load(Path.Combine(FixtureDir, file));
        // One intra-op thread, as scripts/twins.sh runs it: the models are tiny, and a second OpenMP thread on a busy 2-core
        // machine made this replay ~10× slower.
        int threads = TorchSharp.torch.get_num_threads();
        TorchSharp.torch.set_num_threads(1);
        MupTwinDocument actual;
        try { actual = MupTwin.Run(reference, CPU); }
        finally { TorchSharp.torch.set_num_threads(threads); }
        var c = MupTwinComparison.Compare(reference, actual);
        var failures = c.Values.Where(v => !v.Ok).Take(10)
            .Select(v => $"{v.Run} {v.Quantity} {v.Where}: PyTorch {v.Reference:R}, TorchSharp {v.Actual:R}, error {v.Error:E2} > {v.Tolerance:E0}");
        Assert.True(c.Ok, string.Join("\n", c.StructuralProblems.Take(10).Concat(failures)));
        foreach (var q in MupTwinComparison.Multipliers) Assert.Equal(0, c.Max(q));
        Assert.True(c.Max("mup_std") <= 1e-15 && c.Max("mup_scale") <= 1e-15);
        if (reference.Config.Dtype == "float64")
        {
            // The same computation: float64 agrees to rounding, 10 orders below the float32 tolerance.
            Assert.True(c.Max("l1") < 1e-12, $"float64 l1 after updates differs by {c.Max("l1"):E2}");
            Assert.True(c.Max("realized_std") < 1e-14);
        }
        else
            Assert.Equal(c.Digests.Values.Sum(d => d.Total), c.Digests.Values.Sum(d => d.Identical));   // float32: every weight bit-identical
    }

    [Fact]
    public void The_twin_shows_mup_flat_and_sp_growing()
    {
        var doc = MupTwinDocument.Load(Path.Combine(FixtureDir, "mup-float64.json"));
        int last = doc.Config.Steps - 1;
        double Exponent(string run, string module)
        {
            var r = doc.Runs.Single(x => x.Name == run);
            var pts = r.Coordinates.Where(c => c.Module == module && c.Step == last).Select(c => (X: Math.Log(c.Width), Y: Math.Log(c.L1))).ToList();
            double mx = pts.Average(p => p.X), my = pts.Average(p => p.Y);
            return pts.Sum(p => (p.X - mx) * (p.Y - my)) / pts.Sum(p => (p.X - mx) * (p.X - mx));
        }
        Assert.InRange(Exponent("mlp/readout", "(output)"), -0.2, 0.2);
        Assert.InRange(Exponent("mlp/readout", "fc2"), -0.2, 0.2);
        Assert.True(Exponent("mlp/sp", "(output)") > 0.5);
        Assert.True(Exponent("gpt/sp", "blocks.0.attn.o") > 0.5);
        Assert.InRange(Exponent("gpt/untied", "(output)"), -0.3, 0.3);
    }

    [Fact]
    public void Comparison_flags_a_wrong_class_multiplier_std_or_activation()
    {
        var reference = MupTwinDocument.Load(Path.Combine(FixtureDir, "mup-float32.json"));
        Assert.True(MupTwinComparison.Compare(reference, reference).Ok);

        MupTwinDocument Changed(Func<MupTwinRun, MupTwinRun> change) => reference with { Runs = reference.Runs.Select((r, i) => i == 0 ? change(r) : r).ToList() };
        MupTwinRun Param(MupTwinRun r, Func<MupTwinParameter, MupTwinParameter> f) => r with { Parameters = r.Parameters.Select((p, i) => i == 2 ? f(p) : p).ToList() };

        var wrongClass = MupTwinComparison.Compare(reference, Changed(r => Param(r, p => p with { Class = "Input" })));
        Assert.Contains(wrongClass.StructuralProblems, s => s.Contains("class Input"));
        Assert.False(MupTwinComparison.Compare(reference, Changed(r => Param(r, p => p with { AdamLr = p.AdamLr * (1 + 1e-15) }))).Ok);
        Assert.False(MupTwinComparison.Compare(reference, Changed(r => Param(r, p => p with { MupStd = p.MupStd * (1 + 1e-11) }))).Ok);
        Assert.True(MupTwinComparison.Compare(reference, Changed(r => Param(r, p => p with { RealizedStd = p.RealizedStd * (1 + 5e-7) }))).Ok);
        Assert.False(MupTwinComparison.Compare(reference, Changed(r => Param(r, p => p with { RealizedStd = p.RealizedStd * (1 + 5e-6) }))).Ok);
        var l1 = MupTwinComparison.Compare(reference, Changed(r => r with { Coordinates = r.Coordinates.Select(c => c with { L1 = c.L1 * (1 + 5e-4) }).ToList() }));
        Assert.False(l1.Ok);
        Assert.All(l1.Values.Where(v => !v.Ok), v => Assert.Equal("l1@0", v.Quantity));   // 5e-4 is within the later steps' 1e-3
        Assert.False(MupTwinComparison.Compare(reference, Changed(r => r with { Coordinates = r.Coordinates.Skip(1).ToList() })).Ok);
    }
}
