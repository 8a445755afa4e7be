using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchInit.Experiments;

/// <summary>The nonlinearities the experiments compare.</summary>
public enum Activation
{
    /// <summary>tanh: saturates at ±1; Glorot's case.</summary>
    Tanh,
    /// <summary>ReLU: max(0, x); He's case.</summary>
    Relu,
    /// <summary>SELU: self-normalizing with LeCun normal weights.</summary>
    Selu,
    /// <summary>Logistic sigmoid.</summary>
    Sigmoid,
    /// <summary>softsign: x / (1 + |x|), Glorot and Bengio's (2010) alternative to tanh.</summary>
    Softsign,
    /// <summary>Hardswish: x · relu6(x + 3) / 6 (MobileNetV3); an activation Auto has no rule for.</summary>
    Hardswish,
}

/// <summary>The models of the example trainers; module names match the PyTorch twins' <c>OrderedDict</c> names.</summary>
public static class Models
{
    /// <summary>Parses "tanh", "relu", "selu", "sigmoid", "softsign" or "hardswish".</summary>
    public static Activation ParseActivation(string name) => name.Trim().ToLowerInvariant() switch
    {
        "tanh" => Activation.Tanh,
        "relu" => Activation.Relu,
        "selu" => Activation.Selu,
        "sigmoid" => Activation.Sigmoid,
        "softsign" => Activation.Softsign,
        "hardswish" => Activation.Hardswish,
        _ => throw new ArgumentException($"Unknown activation '{name}'. Known: tanh, relu, selu, sigmoid, softsign, hardswish."),
    };

    /// <summary>The lower-case name used on the command line and in twin JSON.</summary>
    public static string Name(this Activation a) => a.ToString().ToLowerInvariant();

    /// <summary>A new module for <paramref name="activation"/>.</summary>
    public static nn.Module<Tensor, Tensor> Module(Activation activation) => activation switch
    {
        Activation.Tanh => nn.Tanh(),
        Activation.Relu => nn.ReLU(),
        Activation.Selu => nn.SELU(),
        Activation.Sigmoid => nn.Sigmoid(),
        Activation.Softsign => nn.Softsign(),
        Activation.Hardswish => nn.Hardswish(),
        _ => throw new ArgumentOutOfRangeException(nameof(activation)),
    };

    /// <summary>
    /// fc0, act0, fc1, act1, …, out: one Linear + activation per hidden width, then a Linear classifier.
    /// The "depth" of the experiments is the number of hidden layers.
    /// </summary>
    public static Sequential Mlp(long inputs, IReadOnlyList<long> hidden, long classes, Activation activation)
    {
        var layers = new List<(string, nn.Module<Tensor, Tensor>)>();
        long n = inputs;
        for (int i = 0; i < hidden.Count; i++)
        {
            layers.Add(($"fc{i}", nn.Linear(n, hidden[i])));
            layers.Add(($"act{i}", Module(activation)));
            n = hidden[i];
        }
        layers.Add(("out", nn.Linear(n, classes)));
        return nn.Sequential(layers);
    }

    /// <summary>
    /// A small CNN for 1×28×28 digits: conv0 (1→8, 5×5), act0, pool0 (2×2), conv1 (8→16, 5×5), act1, pool1 (2×2),
    /// flatten, out (256→10).
    /// </summary>
    public static Sequential SmallCnn(Activation activation) => nn.Sequential(
        ("conv0", nn.Conv2d(1, 8, 5)), ("act0", Module(activation)), ("pool0", nn.MaxPool2d(2)),
        ("conv1", nn.Conv2d(8, 16, 5)), ("act1", Module(activation)), ("pool1", nn.MaxPool2d(2)),
        ("flatten", nn.Flatten()), ("out", nn.Linear(16 * 4 * 4, 10)));

    /// <summary>
    /// A plain deep CNN for 1×28×28 digits (Xiao et al. 2018's setting: no normalization, no skips): conv0 and conv1 (3×3, stride 2,
    /// padding 1: 28 → 14 → 7), conv2 … (3×3, padding 1, same size), each followed by its activation (act0, act1, …), then out (1×1
    /// convolution to 10 channels), pool (global average) and flatten. <paramref name="channels"/> gives each 3×3 convolution's
    /// output channels; its length is the depth.
    /// </summary>
    public static Sequential DeepCnn(Activation activation, IReadOnlyList<int> channels)
    {
        var layers = new List<(string, nn.Module<Tensor, Tensor>)>();
        long n = 1;
        for (int i = 0; i < channels.Count; i++)
        {
            layers.Add(($"conv{i}", nn.Conv2d(n, channels[i], 3, stride: i < 2 ? 2 : 1, padding: 1)));
            layers.Add(($"act{i}", Module(activation)));
            n = channels[i];
        }
        layers.Add(("out", nn.Conv2d(n, 10, 1)));
        layers.Add(("pool", nn.AdaptiveAvgPool2d(1)));
        layers.Add(("flatten", nn.Flatten()));
        return nn.Sequential(layers);
    }

    /// <summary>
    /// Whether every unit (row of the weight, with its bias) of <paramref name="layer"/> is identical to the first:
    /// the symmetry that zero initialization never breaks.
    /// </summary>
    public static bool UnitsIdentical(Linear layer)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var w = layer.weight!;
        bool same = (w - w[0].unsqueeze(0)).abs().max().to_type(ScalarType.Float64).item<double>() == 0;
        if (layer.bias is { } b) same &= (b - b[0]).abs().max().to_type(ScalarType.Float64).item<double>() == 0;
        return same;
    }

    /// <summary>The hidden Linear layers (all but the classifier "out"), in order.</summary>
    public static IReadOnlyList<Linear> HiddenLinears(Sequential model) =>
        model.named_children().Where(c => c.name != "out" && c.module is Linear).Select(c => (Linear)c.module).ToList();
}
