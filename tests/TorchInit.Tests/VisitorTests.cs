using System.Reflection;
using Microsoft.ML;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchInit.Tests;

/// <summary>The module visitor, activation discovery (container order, traced order, hints), the policy and the dry run.</summary>
public class VisitorTests
{
    private static Tensor P(nn.Module m, string name) => m.named_parameters().Single(p => p.name == name).parameter;

    private static Dictionary<string, Tensor> Snapshot(nn.Module m) =>
        m.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());

    private static void AssertUnchanged(Dictionary<string, Tensor> before, nn.Module m)
    {
        foreach (var (name, p) in m.named_parameters())
            Assert.True(before[name].Equals(p), $"{name} changed");
    }

    // ---------------------------------------------------------------- the visitor

    private sealed class Recorder : ModuleVisitor
    {
        public readonly List<string> Calls = new();
        protected override void VisitLinear(ModuleContext c, Linear layer) => Calls.Add($"Linear {c.Path}");
        protected override void VisitConvolution(ModuleContext c, Convolution layer) => Calls.Add($"Conv {c.Path}");
        protected override void VisitConvTranspose(ModuleContext c, ConvolutionTranspose layer) => Calls.Add($"ConvT {c.Path}");
        protected override void VisitBilinear(ModuleContext c, Bilinear layer) => Calls.Add($"Bilinear {c.Path}");
        protected override void VisitEmbedding(ModuleContext c, Embedding layer) => Calls.Add($"Embedding {c.Path}");
        protected override void VisitRecurrent(ModuleContext c) => Calls.Add($"Recurrent {c.Path}");
        protected override void VisitNormalization(ModuleContext c) => Calls.Add($"Norm {c.Path}");
        protected override void VisitActivation(ModuleContext c, Activation a) => Calls.Add($"Activation {c.Path} {a.Name}");
        protected override void VisitOther(ModuleContext c) => Calls.Add($"Other {c.Path}");
        protected override void VisitShared(ModuleContext c) => Calls.Add($"Shared {c.Path}={c.SharedWith!.Path}");
    }

    /// <summary>A container for modules that do not fit in a Sequential (GRU, Bilinear); never run.</summary>
    private sealed class Bag : nn.Module<Tensor, Tensor>
    {
        public Bag(params (string Name, nn.Module Module)[] children) : base(nameof(Bag))
        {
            foreach (var (name, module) in children) register_module(name, module);
        }

        public override Tensor forward(Tensor x) => throw new NotSupportedException();
    }

    [Fact]
    public void Visitor_walks_in_true_preorder_each_module_once_with_typed_hooks()
    {
        using var scope = NewDisposeScope();
        var shared = nn.Linear(4, 4);
        var model = new Bag(
            ("enc", nn.Sequential(("conv", nn.Conv1d(1, 2, 3)), ("up", nn.ConvTranspose1d(2, 1, 2)), ("bn", nn.BatchNorm1d(1)))),
            ("act", nn.LeakyReLU(0.1)),
            ("a", shared),
            ("inner", nn.Sequential(("b", shared), ("emb", nn.Embedding(3, 4)))),
            ("rnn", nn.GRU(4, 4)),
            ("bil", nn.Bilinear(2, 3, 4)),
            ("drop", nn.Dropout()));
        var recorder = new Recorder();
        recorder.Visit(model);
        Assert.Equal(
        [
            "Other ", "Other enc", "Conv enc.conv", "ConvT enc.up", "Norm enc.bn", "Activation act LeakyReLU(0.1)",
            "Linear a", "Other inner", "Shared inner.b=a", "Embedding inner.emb", "Recurrent rnn", "Bilinear bil", "Other drop",
        ], recorder.Calls);

        var root = ModuleContext.Build(model);
        var b = root.PreOrder().Single(c => c.Path == "inner.b");
        Assert.True(b.IsShared);
        Assert.Equal("inner", b.Parent!.Path);
        Assert.Equal(0, b.Index);
        Assert.Equal(2, b.Depth);
        Assert.Equal(["inner", ""], b.Ancestors().Select(a => a.Path));
        // PreOrder stays what it was: first occurrences only.
        Assert.Equal(root.PreOrder().Where(c => !c.IsShared).Select(c => c.Path), ModuleTree.PreOrder(model).Select(p => p.Path));
    }

    // ---------------------------------------------------------------- container order

    [Fact]
    public void Sequential_order_skips_gain_neutral_modules_and_climbs_out_of_nested_containers()
    {
        using var scope = NewDisposeScope();
        var model = nn.Sequential(
            ("block", nn.Sequential(("fc", nn.Linear(4, 8)), ("bn", nn.BatchNorm1d(8)), ("drop", nn.Dropout(0.2)))),
            ("next", nn.Sequential(("flat", nn.Flatten()), ("act", nn.ReLU6()))),
            ("fc2", nn.Linear(8, 8)), ("fc3", nn.Linear(8, 2)));
        var report = model.PlanInit(InitPolicy.Auto);

        var first = report.Decision("block.fc");
        Assert.Equal("ReLU6", first.Activation);
        Assert.Equal(ActivationSource.Sequential, first.Source);
        Assert.Contains("after BatchNorm1d 'block.bn', Dropout 'block.drop', Flatten 'next.flat'", first.Reason);
        Assert.Equal("HeNormal", first.Scheme);

        var linear = report.Decision("fc2");
        Assert.Equal("linear", linear.Activation);
        Assert.Equal(ActivationSource.Sequential, linear.Source);
        Assert.Equal(1.0, linear.Gain);

        var output = report.Decision("fc3");
        Assert.Equal("(output)", output.Activation);
        Assert.Equal(ActivationSource.Assumed, output.Source);
        Assert.Equal("GlorotUniform", output.Scheme);
    }

    [Fact]
    public void A_custom_module_is_assumed_without_a_trace_and_found_with_one()
    {
        using var scope = NewDisposeScope();
        var model = Zoo.Model("traced");
        var structural = model.PlanInit(InitPolicy.Auto);
        Assert.All(structural.Decisions, d =>
        {
            Assert.Equal(ActivationSource.Assumed, d.Source);
            Assert.Contains("not a Sequential", d.Reason);
        });

        var traced = model.PlanInit(InitPolicy.Auto, null, randn(2, 10));
        Assert.Equal(["ReLU", "Tanh", "(output)"], traced.Decisions.Select(d => d.Activation));
        Assert.Equal([ActivationSource.Traced, ActivationSource.Traced, ActivationSource.Assumed], traced.Decisions.Select(d => d.Source));
    }

    [Fact]
    public void Functional_activations_need_a_hint_else_they_are_flagged_assumed()
    {
        using var scope = NewDisposeScope();
        var model = Zoo.Model("functional");
        foreach (var report in new[] { model.PlanInit(InitPolicy.Auto), model.PlanInit(InitPolicy.Auto, null, randn(2, 10)) })
        {
            Assert.All(report.Decisions, d => Assert.Equal(ActivationSource.Assumed, d.Source));
            Assert.All(report.Decisions, d => Assert.Equal("GlorotUniform", d.Scheme));
        }
        var tracedReason = model.PlanInit(InitPolicy.Auto, null, randn(2, 10)).Decision("fc1").Reason;
        Assert.Contains("functional activation", tracedReason);
        Assert.Contains("add a hint", tracedReason);

        var hinted = model.PlanInit(InitPolicy.Auto.Hint("fc?", Activation.Relu));
        Assert.Equal([ActivationSource.Hint, ActivationSource.Hint, ActivationSource.Hint], hinted.Decisions.Select(d => d.Source));
        var byType = model.PlanInit(InitPolicy.Auto.Hint<Linear>(Activation.Gelu).Hint(c => c.Path == "fc3", Activation.Output, "output"));
        Assert.Equal(["GELU", "GELU", "(output)"], byType.Decisions.Select(d => d.Activation));
        Assert.Equal(ActivationSource.Assumed, byType.Decision("fc3").Source); // a hint to the output still gets the assumed default
    }

    // ---------------------------------------------------------------- hooks

    [Fact]
    public void Hooks_fire_only_through_call()
    {
        using var scope = NewDisposeScope();
        var layer = nn.Linear(3, 2);
        int fired = 0;
        var remove = ForwardTrace.RegisterPreHook(layer, _ => fired++);
        Assert.NotNull(remove);
        layer.forward(ones(1, 3));
        Assert.Equal(0, fired);
        layer.call(ones(1, 3));
        Assert.Equal(1, fired);
        remove!();
        layer.call(ones(1, 3));
        Assert.Equal(1, fired);
    }

    private sealed class Exploding : nn.Module<Tensor, Tensor>
    {
        private readonly Linear fc = nn.Linear(4, 4);
        private readonly ReLU relu = nn.ReLU();
        private readonly BatchNorm1d bn = nn.BatchNorm1d(4);

        public Exploding() : base(nameof(Exploding)) => RegisterComponents();

        public override Tensor forward(Tensor x)
        {
            var h = relu.call(bn.call(fc.call(x)));
            throw new InvalidDataException($"boom after {h.shape[0]} rows");
        }
    }

    private static int HookCount(nn.Module m)
    {
        int count = 0;
        for (var t = m.GetType(); t is not null; t = t.BaseType)
            foreach (var f in t.GetFields(BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
                if (f.Name.Contains("hooks") && f.GetValue(m) is System.Collections.ICollection c) count += c.Count;
        return count;
    }

    [Fact]
    public void A_failing_trace_removes_its_hooks_restores_training_flags_and_writes_nothing()
    {
        using var scope = NewDisposeScope();
        var model = new Exploding();
        model.train();
        var bn = (BatchNorm1d)model.named_children().Single(c => c.name == "bn").module;
        bn.eval();
        var before = Snapshot(model);

        var e = Assert.Throws<InvalidOperationException>(() => model.ApplyInit(InitPolicy.Auto, new InitOptions { Seed = 1 }, randn(3, 4)));
        Assert.IsType<InvalidDataException>(e.InnerException);
        Assert.Contains("boom", e.Message);

        Assert.All(model.modules().Prepend(model), m => Assert.Equal(0, HookCount(m)));
        Assert.True(model.training);
        Assert.False(bn.training);
        Assert.True(model.named_children().Single(c => c.name == "fc").module.training);
        AssertUnchanged(before, model);
    }

    [Fact]
    public void The_traced_pass_runs_in_eval_mode_and_leaves_buffers_and_the_global_rng_alone()
    {
        using var scope = NewDisposeScope();
        var model = Zoo.Model("cnn_bn");
        model.train();
        var bn = (BatchNorm2d)model.modules().First(m => m is BatchNorm2d);
        var mean = bn.running_mean!.clone();
        var x = randn(2, 3, 8, 8);
        torch.manual_seed(5);
        var report = model.ApplyInit(InitPolicy.Auto, new InitOptions { Seed = 2 }, x);
        var next = torch.rand(3);
        torch.manual_seed(5);
        Assert.True(next.Equals(torch.rand(3)));
        Assert.True(mean.Equals(bn.running_mean!));
        Assert.True(model.training);
        Assert.Equal(ActivationSource.Traced, report.Decision("0").Source);
        Assert.All(model.modules(), m => Assert.Equal(0, HookCount(m)));
    }

    // ---------------------------------------------------------------- shared modules

    [Fact]
    public void A_shared_linear_gets_one_decision_one_write_and_skipped_rows_elsewhere()
    {
        using var scope = NewDisposeScope();
        var model = Zoo.Model("shared");
        var report = model.ApplyInit(InitPolicy.Auto, new InitOptions { Seed = 4 });
        Assert.Equal(["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias", "6.weight", "6.bias"], report.Rows.Select(r => r.QualifiedName));
        Assert.Equal("Tanh", report.Decision("2").Activation);
        Assert.All(report.Rows.Where(r => r.Path == "4"), r =>
        {
            Assert.Equal(InitAction.Skipped, r.Action);
            Assert.Contains("shared", r.Note);
            Assert.Contains("first occurrence decides", r.Reason);
            Assert.Contains("here ReLU follows", r.Reason);
        });
        Assert.Single(report.Rows, r => r.QualifiedName.EndsWith("weight") && r.Action == InitAction.Initialized && r.Path is "2" or "4");
    }

    // ---------------------------------------------------------------- policy

    [Fact]
    public void Overrides_by_type_path_and_predicate_win_over_auto_and_later_ones_win()
    {
        using var scope = NewDisposeScope();
        var model = nn.Sequential(
            ("conv", nn.Conv2d(3, 4, 3)), ("relu", nn.ReLU()), ("flat", nn.Flatten()),
            ("head", nn.Sequential(("fc1", nn.Linear(4, 4)), ("act", nn.ReLU()), ("fc2", nn.Linear(4, 2)))));
        var policy = InitPolicy.Auto
            .For<Conv2d>(InitScheme.HeUniform)
            .ForPath("head.*", InitScheme.LeCunUniform)
            .For(c => c.Path == "head.fc2", InitScheme.Zeros, "zero head");
        var report = model.ApplyInit(policy, new InitOptions { Seed = 1 });
        Assert.Equal("HeUniform", report["conv.weight"].Scheme);
        Assert.Equal(ActivationSource.Explicit, report.Decision("conv").Source);
        Assert.Contains("For<Conv2d>", report.Decision("conv").Reason);
        Assert.Equal("LeCunUniform", report["head.fc1.weight"].Scheme);
        Assert.Contains("ForPath(\"head.*\")", report.Decision("head.fc1").Reason);
        Assert.Equal("zeros", report["head.fc2.weight"].Scheme);   // one spelling, as the built-in rules'
        Assert.Equal(0.0, P(model, "head.fc2.weight").abs().max().item<float>());

        // Auto as an override inside a fixed default.
        var mixed = model.PlanInit(InitPolicy.Of(InitScheme.GlorotNormal).AutoForPath("conv"));
        Assert.Equal("HeNormal", mixed["conv.weight"].Scheme);
        Assert.Equal("GlorotNormal", mixed["head.fc1.weight"].Scheme);
    }

    [Fact]
    public void The_mapping_and_the_families_are_configurable()
    {
        using var scope = NewDisposeScope();
        var model = nn.Sequential(nn.Linear(4, 4), nn.LeakyReLU(0.3), nn.Linear(4, 4), nn.GELU(), nn.Linear(4, 4), nn.Hardswish(), nn.Linear(4, 2));
        var report = model.PlanInit(InitPolicy.Auto
            .He(InitScheme.HeUniform)
            .Map(ActivationKind.Gelu, InitScheme.GlorotNormal)
            .Assumed(InitScheme.LeCunNormal));
        Assert.Equal("HeUniform", report["0.weight"].Scheme);
        Assert.Equal(Gain.Calculate(Nonlinearity.LeakyRelu, 0.3), report["0.weight"].Gain);
        Assert.Equal("GlorotNormal", report["2.weight"].Scheme);
        Assert.Contains("Map(ActivationKind.Gelu)", report.Decision("2").Reason);
        Assert.Equal("Hardswish", report.Decision("4").Activation);
        Assert.Equal(ActivationSource.Assumed, report.Decision("4").Source);
        Assert.Equal("LeCunNormal", report["4.weight"].Scheme);

        var recognized = model.PlanInit(InitPolicy.Auto.Recognize<Hardswish>(Activation.Silu));
        Assert.Equal("SiLU", recognized.Decision("4").Activation);
        Assert.Equal("HeNormal", recognized["4.weight"].Scheme);
        var skipped = nn.Sequential(nn.Linear(4, 4), nn.Hardswish(), nn.Tanh()).PlanInit(InitPolicy.Auto.SkipOver<Hardswish>());
        Assert.Equal("Tanh", skipped.Decision("0").Activation);
    }

    [Theory]
    [InlineData("relu", "HeNormal", 1.4142135623730951)]
    [InlineData("tanh", "GlorotUniform", 5.0 / 3)]
    [InlineData("sigmoid", "GlorotUniform", 1.0)]
    [InlineData("selu", "LeCunNormal", 1.0)]
    [InlineData("silu", "HeNormal", 1.4142135623730951)]
    [InlineData("softmax", "GlorotUniform", 1.0)]
    [InlineData("logsoftmax", "GlorotUniform", 1.0)]
    public void Each_activation_maps_as_documented(string activation, string scheme, double gain)
    {
        using var scope = NewDisposeScope();
        nn.Module<Tensor, Tensor> act = activation switch
        {
            "relu" => nn.ReLU(), "tanh" => nn.Tanh(), "sigmoid" => nn.Sigmoid(), "selu" => nn.SELU(), "silu" => nn.SiLU(),
            "softmax" => nn.Softmax(1), _ => nn.LogSoftmax(1),
        };
        var report = nn.Sequential(nn.Linear(8, 8), act).PlanInit(InitPolicy.Auto);
        Assert.Equal(scheme, report["0.weight"].Scheme);
        Assert.Equal(gain, report["0.weight"].Gain);
        Assert.Equal(activation.Contains("softmax") ? ActivationSource.Assumed : ActivationSource.Sequential, report.Decision("0").Source);
    }

    // ---------------------------------------------------------------- other layer kinds

    [Fact]
    public void Lstm_gets_glorot_input_orthogonal_recurrent_per_gate_and_the_forget_gate_bias()
    {
        using var scope = NewDisposeScope();
        var lstm = nn.LSTM(6, 5, numLayers: 2, bidirectional: true);
        var report = lstm.ApplyInit(InitPolicy.Auto.ForgetGateBias(), new InitOptions { Seed = 9 });
        Assert.Equal(lstm.named_parameters().Select(p => p.name), report.Rows.Select(r => r.QualifiedName));
        foreach (var (name, p) in lstm.named_parameters())
        {
            var row = report[name];
            Assert.Equal(InitAction.Initialized, row.Action);
            if (name.StartsWith("weight_hh"))
            {
                Assert.Equal("Orthogonal", row.Scheme);
                for (int k = 0; k < 4; k++) AutoConformanceTests.AssertOrthogonal(p.narrow(0, 5 * k, 5), 1.0, $"{name} gate {k}");
            }
            else if (name.StartsWith("weight_ih"))
            {
                Assert.Equal("GlorotUniform", row.Scheme);
                Assert.Equal(5, row.FanOut); // one gate block
                Assert.True(p.abs().max().item<float>() <= row.Bound);
            }
            else if (name.StartsWith("bias_ih"))
            {
                Assert.Equal(Enumerable.Repeat(0f, 5).Concat(Enumerable.Repeat(1f, 5)).Concat(Enumerable.Repeat(0f, 10)), p.data<float>().ToArray());
            }
            else
            {
                Assert.Equal(0f, p.abs().max().item<float>());
            }
        }
        Assert.Equal("Sigmoid", report.Decision("").Activation);
        Assert.Equal(ActivationSource.Intrinsic, report.Decision("").Source);
    }

    [Fact]
    public void Gru_has_three_gate_blocks_and_an_rnn_is_assumed_tanh_unless_hinted()
    {
        using var scope = NewDisposeScope();
        var gru = nn.GRU(4, 3);
        var g = gru.ApplyInit(InitPolicy.Auto, new InitOptions { Seed = 2 });
        Assert.Equal(3, g["weight_ih_l0"].FanOut);
        for (int k = 0; k < 3; k++) AutoConformanceTests.AssertOrthogonal(P(gru, "weight_hh_l0").narrow(0, 3 * k, 3), 1.0, $"gate {k}");

        var rnn = nn.RNN(4, 3);
        var assumed = rnn.PlanInit(InitPolicy.Auto);
        Assert.Equal("Tanh", assumed.Decision("").Activation);
        Assert.Equal(ActivationSource.Assumed, assumed.Decision("").Source);
        Assert.Equal(5.0 / 3, assumed["weight_ih_l0"].Gain);
        var hinted = rnn.PlanInit(InitPolicy.Auto.Hint("", Activation.Relu));
        Assert.Equal("HeNormal", hinted["weight_ih_l0"].Scheme);
        Assert.Equal(ActivationSource.Hint, hinted.Decision("").Source);
    }

    [Fact]
    public void Under_Auto_a_prelu_keeps_its_slope_and_the_layer_before_gets_He_with_that_slopes_gain()
    {
        // A PReLU's own slope parameter is left as constructed; the layer before it is He with the leaky gain of the
        // PReLU's constructor slope, √(2 / (1 + a²)): PyTorch's kaiming_normal_(w, a, nonlinearity='leaky_relu').
        using var scope = NewDisposeScope();
        const double a = 0.1;   // not PReLU's default 0.25, so a rule that ignored the module's slope would show
        var prelu = nn.PReLU(1, a);
        var model = nn.Sequential(("fc", nn.Linear(24, 48)), ("act", prelu), ("head", nn.Linear(48, 5)));
        var slope = prelu.weight!.bytes.ToArray();
        var report = model.ApplyInit(InitPolicy.Auto, new InitOptions { Seed = 6 });

        Assert.Equal(slope, prelu.weight!.bytes.ToArray());
        Assert.Equal(InitAction.Kept, report["act.weight"].Action);
        var decision = report.Decision("fc");
        Assert.Equal("PReLU(0.1)", decision.Activation);
        Assert.Equal(ActivationSource.Sequential, decision.Source);
        Assert.Equal("HeNormal", decision.Scheme);
        Assert.True(Math.Abs(decision.Gain - Math.Sqrt(2 / (1 + a * a))) < 1e-12, $"gain {decision.Gain:R}");
        Assert.Equal(decision.Gain, report["fc.weight"].Gain);
        using var g = new Generator(6);
        var expected = Init.KaimingNormal(empty(48, 24), a, FanMode.FanIn, Nonlinearity.LeakyRelu, g);
        Assert.Equal(expected.bytes.ToArray(), P(model, "fc.weight").bytes.ToArray());
    }

    [Fact]
    public void Embedding_default_or_scaled_keeps_the_padding_row_at_zero()
    {
        using var scope = NewDisposeScope();
        var emb = nn.Embedding(200, 16, padding_idx: 7);
        var report = emb.ApplyInit(InitPolicy.Auto.Embedding(EmbeddingInit.Scaled), new InitOptions { Seed = 3 });
        var w = P(emb, "weight");
        Assert.Equal(0f, w[7].abs().max().item<float>());
        Assert.Equal(0.25, report["weight"].TargetStd);
        Assert.Contains("padding_idx", report["weight"].Note);
        var rows = torch.cat([w[..7], w[8..]]);
        Assert.InRange(rows.std().item<float>(), 0.23, 0.27);

        var plain = nn.Embedding(50, 4);
        plain.ApplyInit(InitPolicy.Auto, new InitOptions { Seed = 3 });
        Assert.Equal(0L, P(plain, "weight").eq(0).all(1).sum().item<long>());
    }

    [Fact]
    public void Normalization_is_one_and_zero_and_the_last_norm_of_a_residual_block_can_start_at_zero()
    {
        using var scope = NewDisposeScope();
        var model = Zoo.Model("residual");
        model.ApplyInit(InitPolicy.Auto.ZeroLastNormIn("block?"), new InitOptions { Seed = 1 });
        Assert.Equal(1f, P(model, "bn.weight").min().item<float>());
        Assert.Equal(1f, P(model, "block1.bn1.weight").min().item<float>());
        Assert.Equal(0f, P(model, "block1.bn2.weight").abs().max().item<float>());
        Assert.Equal(0f, P(model, "block2.bn2.weight").abs().max().item<float>());
        Assert.Equal(0f, P(model, "block2.bn2.bias").abs().max().item<float>());
    }

    // ---------------------------------------------------------------- dry run, report, explicit schemes

    [Fact]
    public void PlanInit_touches_nothing_and_reports_what_ApplyInit_does()
    {
        using var scope = NewDisposeScope();
        foreach (var name in Zoo.Names)
        {
            var model = Zoo.Model(name);
            var before = Snapshot(model);
            var policy = name == "lstm" ? InitPolicy.Auto.ForgetGateBias() : InitPolicy.Auto;
            var plan = model.PlanInit(policy, new InitOptions { Seed = 6 }, Zoo.SampleInput(name));
            AssertUnchanged(before, model);
            Assert.All(plan.Rows, r => Assert.NotEqual(InitAction.Initialized, r.Action));
            Assert.All(plan.Rows, r => Assert.True(double.IsNaN(r.RealizedStd)));

            var applied = model.ApplyInit(policy, new InitOptions { Seed = 6 }, Zoo.SampleInput(name));
            Assert.Equal(applied.Decisions, plan.Decisions);
            Assert.Equal(applied.Rows.Select(r => (r.QualifiedName, r.Scheme, r.Gain, r.TargetStd, r.Action == InitAction.Initialized ? InitAction.Planned : r.Action)),
                plan.Rows.Select(r => (r.QualifiedName, r.Scheme, r.Gain, r.TargetStd, r.Action)));
        }
    }

    [Fact]
    public void PlanInit_works_on_the_meta_device()
    {
        using var scope = NewDisposeScope();
        var model = nn.Sequential(nn.Linear(1000, 1000, device: torch.META), nn.ReLU(), nn.Linear(1000, 10, device: torch.META));
        var plan = model.PlanInit(InitPolicy.Auto);
        Assert.Equal(InitAction.Planned, plan["0.weight"].Action);
        Assert.Equal("HeNormal", plan["0.weight"].Scheme);
        Assert.Throws<InvalidOperationException>(() => model.ApplyInit(InitPolicy.Auto));
    }

    [Fact]
    public void The_printed_report_explains_each_decision_and_decisions_are_a_data_view()
    {
        using var scope = NewDisposeScope();
        var report = Zoo.Model("mlp").ApplyInit(InitPolicy.Auto, new InitOptions { Seed = 1 });
        var text = report.ToString();
        Assert.Contains("found by", text);
        Assert.Contains("ReLU '1' follows (container order)", text);
        var view = report.DecisionsView;
        Assert.Equal(["Path", "LayerType", "Activation", "ActivationSource", "Scheme", "Gain", "Reason"], view.Schema.Select(c => c.Name));
        Assert.Equal(4, view.GetRowCount());

        // An explicit scheme prints as before: no decisions section.
        var explicitReport = Zoo.Model("mlp").ApplyInit(InitScheme.HeNormal);
        Assert.Empty(explicitReport.Decisions);
        Assert.All(explicitReport.Rows, r => Assert.Equal(ActivationSource.Explicit, r.ActivationSource));
        Assert.DoesNotContain("found by", explicitReport.ToString());
    }

    [Fact]
    public void Orthogonal_is_a_scheme_by_name_and_Auto_is_a_policy_not_a_scheme()
    {
        Assert.Same(InitScheme.Orthogonal, InitScheme.Parse("orthogonal"));
        var e = Assert.Throws<ArgumentException>(() => InitScheme.Parse("auto"));
        Assert.Contains("InitPolicy.Auto", e.Message);
        Assert.True(InitPolicy.Auto.IsAuto);
        Assert.False(((InitPolicy)InitScheme.HeNormal).IsAuto);
        using var scope = NewDisposeScope();
        var t = empty(6, 4);
        var row = t.ApplyInit(InitScheme.Orthogonal.WithNonlinearity(Nonlinearity.Relu), new InitOptions { Seed = 1 }).Rows[0];
        Assert.Equal(Math.Sqrt(2.0), row.Gain);
        AutoConformanceTests.AssertOrthogonal(t, Math.Sqrt(2.0), "tensor");
    }
}
