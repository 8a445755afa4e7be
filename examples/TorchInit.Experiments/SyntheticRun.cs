using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchInit.Experiments;

/// <summary>
/// One run on the <see cref="ClusterStream"/> task, shared by the depth sweep and the He et al. experiment: a square
/// MLP (input = width), initialized by a scheme from the seed, probed on the first batch, then trained
/// with SGD on the stream (seed + 1) from its first batch on.
/// </summary>
internal static class SyntheticRun
{
    public static TwinRun Run(string name, Activation activation, ExperimentScheme scheme, int depth, int width, int classes,
        int batch, int steps, double lr, long seed, ScalarType dtype, Device device, Action<int, int> onStep, bool countIdenticalUnits)
    {
        using var scope = NewDisposeScope();
        var model = Models.Mlp(width, Enumerable.Repeat((long)width, depth).ToList(), classes, activation);
        model.to(dtype);
        model.to(device);
        SignalReport probe;
        using (var first = new ClusterStream(seed + 1, width, classes, batch, dtype, device))
        {
            var (x, y) = first.Next();
            scheme.Apply(model, seed, x); // the data does not depend on the weights; LSUV rescales on this first batch
            probe = Training.Probe(model, x, y);
        }

        var losses = new List<double>(steps);
        using (var stream = new ClusterStream(seed + 1, width, classes, batch, dtype, device))
        using (var sgd = optim.SGD(model.parameters(), lr))
        {
            for (int step = 0; step < steps; step++)
            {
                using var stepScope = NewDisposeScope();
                var (x, y) = stream.Next();
                losses.Add(Training.Step(model, sgd, x, y));
                onStep(step + 1, steps);
            }
        }
        return new TwinRun
        {
            Name = name, ProbeLoss = probe.Loss, Layers = TwinLayer.From(probe), Losses = losses,
            IdenticalUnitLayers = countIdenticalUnits ? Models.HiddenLinears(model).Count(Models.UnitsIdentical) : null,
        };
    }
}
