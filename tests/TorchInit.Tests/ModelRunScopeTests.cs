using System.Collections;
using System.Reflection;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchInit.Tests;

/// <summary>
/// The one "run the model with hooks, then restore everything" scope (<see cref="ModelRunScope"/>) and the three routines on it
/// (the forward trace, LSUV, the signal probe): after a forward that throws, no hook is left on any module, every training flag,
/// buffer and gradient is as before, a second run sees what the first saw, and no tensor is left alive.
/// </summary>
[Collection(SerialTorchCollection.Name)]
public class ModelRunScopeTests
{
    /// <summary>fc1 → bn → relu → (throws here when <see cref="Throw"/>) → drop → fc2.</summary>
    private sealed class Net : nn.Module<Tensor, Tensor>
    {
        private readonly Linear fc1 = nn.Linear(4, 8);
        private readonly BatchNorm1d bn = nn.BatchNorm1d(8);
        private readonly ReLU relu = nn.ReLU();
        private readonly Dropout drop = nn.Dropout(0.5);
        private readonly Linear fc2 = nn.Linear(8, 3);

        public bool Throw { get; set; }

        public Net() : base(nameof(Net)) => RegisterComponents();

        public override Tensor forward(Tensor x)
        {
            var h = relu.call(bn.call(fc1.call(x)));
            if (Throw) throw new InvalidDataException("boom");
            return fc2.call(drop.call(h));
        }
    }

    /// <summary>A model in training mode with one module (bn) in eval mode, so restoring "everything to training" would be caught.</summary>
    private static Net MixedModes()
    {
        var model = new Net();
        model.train();
        Module(model, "bn").eval();
        return model;
    }

    private static nn.Module Module(nn.Module model, string name) => model.named_modules().Single(m => m.name == name).module;

    private static List<(string Path, bool Training)> Flags(nn.Module model) =>
        ModuleTree.PreOrder(model).Select(e => (e.Path, e.Module.training)).ToList();

    /// <summary>
    /// The hooks registered on every module of <paramref name="model"/>: the counts of TorchSharp's hook dictionaries
    /// (<c>pre_hooks</c>, <c>post_hooks</c>, <c>module_pre_hooks</c>, <c>module_post_hooks</c> of <c>HookableModule</c>).
    /// </summary>
    private static int Hooks(nn.Module model)
    {
        int total = 0, dictionaries = 0;
        foreach (var (_, module) in ModuleTree.PreOrder(model))
            for (var type = module.GetType(); type is not null; type = type.BaseType)
                foreach (var field in type.GetFields(BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.DeclaredOnly))
                    if (field.Name.EndsWith("hooks", StringComparison.Ordinal) && field.GetValue(module) is IDictionary hooks)
                    {
                        dictionaries++;
                        total += hooks.Count;
                    }
        Assert.True(dictionaries > 0, "TorchSharp's hook dictionaries were not found: the count would prove nothing");
        return total;
    }

    private static List<Tensor> Buffers(nn.Module model) => model.buffers().Select(b => b.detach().clone()).ToList();

    private static void AssertSameBuffers(List<Tensor> expected, nn.Module model)
    {
        var actual = model.buffers().ToList();
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < actual.Count; i++) Assert.True(expected[i].Equals(actual[i]), $"buffer {i} changed");
    }

    private static void Flush()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    // ---------------------------------------------------------------- the scope itself

    [Fact]
    public void Eval_scope_restores_hooks_flags_buffers_and_gradients_when_the_forward_throws()
    {
        using var d = NewDisposeScope();
        var model = MixedModes();
        var x = randn(5, 4);
        model.call(x).sum().backward(); // gradients to restore (the training-mode pass also moves the running statistics)
        var flags = Flags(model);
        var buffers = Buffers(model);
        var parameters = model.parameters().ToList();
        var grads = parameters.Select(p => p.grad!.detach().clone()).ToList();
        int pre = 0, post = 0;
        model.Throw = true;

        var e = Assert.Throws<InvalidDataException>(() =>
        {
            using var run = ModelRunScope.Eval(model, ModuleTree.PreOrder(model).Select(m => m.Module).ToList(), restoreBuffers: true);
            Assert.All(ModuleTree.PreOrder(model), m => Assert.False(m.Module.training, m.Path));
            foreach (var (_, module) in ModuleTree.PreOrder(model))
            {
                Assert.True(run.AddPreHook(module, _ => pre++));
                Assert.True(run.AddPostHook(module, _ => post++));
            }
            run.ClearGradients(parameters);
            Assert.All(parameters, p => Assert.Null(p.grad));
            using (no_grad()) Module(model, "bn").get_buffer("running_mean")!.add_(1); // a write the scope must undo
            run.Forward(() => model.call(x));
        });
        Assert.Equal("boom", e.Message);
        Assert.Equal(4, pre);  // root, fc1, bn, relu ran their pre-hooks…
        Assert.Equal(3, post); // …and fc1, bn, relu their post-hooks before the throw

        Assert.Equal(0, Hooks(model));
        Assert.Equal(flags, Flags(model));
        AssertSameBuffers(buffers, model);
        for (int i = 0; i < parameters.Count; i++) Assert.True(grads[i].Equals(parameters[i].grad!), $"grad {i} changed");

        model.Throw = false;
        model.eval();
        model.call(x);
        Assert.Equal((4, 3), (pre, post)); // nothing left behind fires
    }

    [Fact]
    public void Current_mode_scope_keeps_the_mode_and_restores_the_running_statistics()
    {
        using var d = NewDisposeScope();
        var model = MixedModes();
        Module(model, "bn").train(); // the training-mode pass below updates bn's running statistics…
        var flags = Flags(model);
        var buffers = Buffers(model);
        using (var run = ModelRunScope.CurrentMode(model, restoreBuffers: true))
        {
            Assert.Equal(flags, Flags(model));
            model.call(randn(5, 4));
            Assert.False(buffers[0].Equals(Module(model, "bn").get_buffer("running_mean")!));
        }
        AssertSameBuffers(buffers, model); // …which the scope writes back
        Assert.Equal(flags, Flags(model));
    }

    [Fact]
    public void Disposing_twice_restores_once_and_a_disposed_scope_runs_nothing()
    {
        using var d = NewDisposeScope();
        var model = MixedModes();
        var flags = Flags(model);
        var run = ModelRunScope.Eval(model, ModuleTree.PreOrder(model).Select(m => m.Module).ToList());
        run.Dispose();
        model.eval();
        run.Dispose(); // a second dispose writes no flag back
        Assert.All(ModuleTree.PreOrder(model), m => Assert.False(m.Module.training, m.Path));
        Assert.Throws<ObjectDisposedException>(() => run.Forward(() => { }));
        model.train();
        Module(model, "bn").eval();
        Assert.Equal(flags, Flags(model));
    }

    // ---------------------------------------------------------------- the three routines on it

    [Fact]
    public void Trace_twice_gives_the_same_calls_also_after_a_trace_that_threw()
    {
        using var d = NewDisposeScope();
        var model = MixedModes();
        var x = randn(5, 4);
        var flags = Flags(model);
        var root = ModuleContext.Build(model);
        var first = ForwardTrace.Record(root, () => model.call(x));
        string[] expected = ["fc1", "bn", "relu", "drop", "fc2"];
        Assert.Equal(expected, first.Calls.Select(m => Path(model, m)));

        model.Throw = true;
        var e = Assert.Throws<InvalidOperationException>(() => ForwardTrace.Record(root, () => model.call(x)));
        Assert.IsType<InvalidDataException>(e.InnerException);
        Assert.Contains("hooks were removed and training flags restored", e.Message);
        Assert.Equal(0, Hooks(model));
        Assert.Equal(flags, Flags(model));

        model.Throw = false;
        var second = ForwardTrace.Record(root, () => model.call(x));
        Assert.Equal(first.Calls, second.Calls);
        model.call(x);
        Assert.Equal(expected.Length, first.Calls.Count); // no hook of the first trace is still recording
        Assert.Equal(expected.Length, second.Calls.Count);
        Assert.Equal(flags, Flags(model));
    }

    private static string Path(nn.Module model, nn.Module module) => model.named_modules().Single(m => ReferenceEquals(m.module, module)).name;

    [Fact]
    public void Lsuv_that_throws_leaves_the_model_as_it_was()
    {
        using var d = NewDisposeScope();
        var model = MixedModes();
        var x = randn(16, 4);
        Module(model, "bn").train();
        model.call(x); // running statistics that are not the defaults
        Module(model, "bn").eval();
        var flags = Flags(model);
        var buffers = Buffers(model);
        var weights = model.parameters().Select(p => p.detach().clone()).ToList();
        model.Throw = true;
        Assert.Throws<InvalidDataException>(() => model.ApplyLsuv(x)); // thrown by the first pass, before anything is written, and not wrapped
        Assert.Equal(0, Hooks(model));
        Assert.Equal(flags, Flags(model));
        AssertSameBuffers(buffers, model);
        Assert.All(model.parameters().Zip(weights), pw => Assert.True(pw.First.Equals(pw.Second)));

        model.Throw = false;
        var a = model.ApplyLsuv(x, new LsuvOptions { Init = new InitOptions { Seed = 3 } });
        var b = model.ApplyLsuv(x, new LsuvOptions { Init = new InitOptions { Seed = 3 } });
        Assert.Equal(["fc1", "fc2"], a.Layers.Select(l => l.Path));
        Assert.Equal(a.Layers, b.Layers); // the second run sees no leftover hook of the first
        Assert.Equal(0, Hooks(model));
        Assert.Equal(flags, Flags(model));
        AssertSameBuffers(buffers, model);
    }

    [Fact]
    public void Probe_whose_loss_throws_leaves_the_model_as_it_was()
    {
        using var d = NewDisposeScope();
        var model = MixedModes();
        var x = randn(16, 4);
        model.eval(); // no dropout draws: two probes see the same numbers
        var flags = Flags(model);
        var buffers = Buffers(model);
        model.call(x).sum().backward();
        var grads = model.parameters().Select(p => p.grad!.detach().clone()).ToList();
        var e = Assert.Throws<ArgumentException>(() => SignalProbe.Run(model, x, y => y)); // the loss is not a single element
        Assert.Equal("loss", e.ParamName);
        Assert.Equal(0, Hooks(model));
        Assert.Equal(flags, Flags(model));
        AssertSameBuffers(buffers, model);
        Assert.All(model.parameters().Zip(grads), pg => Assert.True(pg.Second.Equals(pg.First.grad!)));

        var first = SignalProbe.Run(model, x, y => y.square().mean());
        var second = SignalProbe.Run(model, x, y => y.square().mean());
        Assert.Equal(["fc1", "bn", "relu", "drop", "fc2"], first.Rows.Select(r => r.Path));
        Assert.Equal(first.Rows.Select(r => (r.Path, r.ActivationStd, r.OutputGradStd, r.WeightGradStd)), second.Rows.Select(r => (r.Path, r.ActivationStd, r.OutputGradStd, r.WeightGradStd)));
        Assert.Equal(0, Hooks(model));
    }

    [Fact]
    public void Leaks_no_tensors_when_the_forward_throws_or_not()
    {
        var model = MixedModes();
        var x = randn(16, 4);
        var root = ModuleContext.Build(model);
        void RunAll()
        {
            foreach (bool fail in new[] { false, true })
            {
                model.Throw = fail;
                try { ForwardTrace.Record(root, () => model.call(x)); } catch (InvalidOperationException) when (fail) { }
                try { model.ApplyLsuv(x, new LsuvOptions { Init = new InitOptions { Seed = 1 } }); } catch (InvalidDataException) when (fail) { }
                try { SignalProbe.Run(model, x, y => y.square().mean()); } catch (InvalidDataException) when (fail) { }
                try
                {
                    using var run = ModelRunScope.Eval(model, ModuleTree.PreOrder(model).Select(m => m.Module).ToList(), restoreBuffers: true);
                    run.ClearGradients(model.parameters().ToList());
                    run.AddPostHook(model, y => run.Track(y.alias().DetachFromDisposeScope()));
                    run.Forward(() => model.call(x));
                }
                catch (InvalidDataException) when (fail) { }
            }
        }
        RunAll(); // warm-up: lazily created wrappers
        Flush();
        long before = Tensor.TotalCount;
        RunAll();
        Assert.Equal(before, Tensor.TotalCount);
        foreach (var p in model.parameters()) p.grad = null;
        x.Dispose();
        model.Dispose();
    }
}
