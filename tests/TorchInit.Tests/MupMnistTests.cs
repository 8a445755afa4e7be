using System.Text.Json;
using TorchInit.Experiments;
using static TorchSharp.torch;

namespace TorchInit.Tests;

/// <summary>
/// The mup trainer's experiment without MNIST (examples/TorchInit.Experiments/MupMnist.cs): its JSON configuration is the one
/// scripts/twins/mup_mnist.py writes, μP is SP at the base width, the hidden learning rate and the readout's multiplier follow
/// the width, and the optimum is the least finite final loss.
/// </summary>
[Collection(SerialTorchCollection.Name)]
public class MupMnistTests
{
    [Fact]
    public void Config_reads_the_twins_snake_case_json()
    {
        const string json = """
            {"widths":[64,128,256],"log2_lrs":[-12.0,-9.0,-6.0],"parametrizations":["sp","mup"],"readout":"mu-readout","base_width":64,
             "delta_width":128,"epochs":1,"batch":64,"train":2000,"test":500,"max_steps":30,"last":10,"seed":0,"dtype":"float64"}
            """;
        var c = JsonSerializer.Deserialize<MupConfig>(json, TwinDocument.JsonOptions)!;
        Assert.Equal([64, 128, 256], c.WidthList);
        Assert.Equal([-12.0, -9.0, -6.0], c.Log2LrList);
        Assert.Equal((64, 128, 30, 10, "float64"), (c.BaseWidth, c.DeltaWidth, c.MaxSteps, c.Last, c.Dtype));
        var node = TwinDocument.ConfigOf(c);
        Assert.True(node.ContainsKey("log2_lrs"));
        Assert.True(MupMnist.SameConfig(c, JsonSerializer.Deserialize<MupConfig>(node.ToJsonString(), TwinDocument.JsonOptions)!));
        Assert.Equal(18 * 30, MupMnist.TotalSteps(c));
    }

    [Fact]
    public void Mup_at_the_base_width_is_SP_and_the_wide_model_scales_hidden_lr_and_readout()
    {
        using var scope = NewDisposeScope();
        var shapes = MupMnist.BaseShapes(64, 128);
        var sp = MupMnist.Build(64, mup: false);
        var mu = MupMnist.Build(64, mup: true);
        MupMnist.Init(sp, null, 3);
        MupMnist.Init(mu, shapes, 3);
        foreach (var ((name, a), (_, b)) in sp.named_parameters().Zip(mu.named_parameters()))
            Assert.True(a.eq(b).all().item<bool>(), name);
        var x = randn(5, 1, 28, 28, generator: new Generator(1));
        Assert.True(sp.call(x).eq(mu.call(x)).all().item<bool>());

        var wide = MupMnist.Build(256, mup: true);
        MupMnist.Init(wide, shapes, 3);
        var parameters = MuP.Parameters(wide, shapes).ToDictionary(p => p.Name);
        Assert.Equal(0.25, parameters["fc1.weight"].AdamLearningRate, 12);
        Assert.Equal(1.0, parameters["fc0.weight"].AdamLearningRate, 12);
        Assert.Equal(1.0, parameters["out.weight"].AdamLearningRate, 12);
        Assert.Equal(4.0, ((MuReadout)wide.named_children().First(c => c.name == "out").module).WidthMultiplier, 12);
        using var adam = MupMnist.Optimizer(wide, shapes, 0.01);
        Assert.Equal([0.0025, 0.01], adam.ParamGroups.Select(g => g.LearningRate).Order().ToArray());
    }

    [Fact]
    public void Final_loss_and_optimum()
    {
        Assert.Equal(2.5, MupMnist.FinalLoss([9, 1, 2, 3], 2));
        Assert.Equal(15.0 / 4, MupMnist.FinalLoss([9, 1, 2, 3], 10));
        Assert.True(double.IsNaN(MupMnist.FinalLoss([], 5)));
        MupMnist.Point P(double e, double l) => new("sp", 128, e, l, 0.9);
        var optima = MupMnist.Optima([P(-10, 0.3), P(-9, 0.2), P(-8, double.NaN), P(-7, 0.2)]);
        Assert.Equal(-9, Assert.Single(optima).Best!.Log2Lr);   // least finite, the smaller lr on a tie
        Assert.Null(Assert.Single(MupMnist.Optima([P(-8, double.NaN)])).Best);
        Assert.Equal("mup/w2048/lr2^-10.5", MupMnist.RunName("mup", 2048, -10.5));
    }

    [Fact]
    public void Config_refuses_widths_below_the_base_and_unknown_names()
    {
        Assert.Throws<ArgumentException>(() => new MupConfig([64, 128], BaseWidth: 128).Validate());
        Assert.Throws<ArgumentException>(() => new MupConfig(Parametrizations: ["ntk"]).Validate());
        Assert.Throws<ArgumentException>(() => new MupConfig(Readout: "tied").Validate());
        Assert.Throws<ArgumentException>(() => new MupConfig(BaseWidth: 128, DeltaWidth: 128).Validate());
        new MupConfig([64, 128], Parametrizations: ["sp"], BaseWidth: 128).Validate();   // SP alone needs no base
    }
}
