using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchInit.Tests;

/// <summary>
/// The model zoo of scripts/gen_fixtures.py (ZOO), built the same way: same modules, registered in the same
/// order (fields are registered in declaration order), so pre-order and the draw order match PyTorch's.
/// </summary>
internal static class Zoo
{
    public static readonly string[] Names = ["mlp", "cnn_bn", "nested", "leaky", "selu", "activations", "shared", "embedding", "traced", "residual", "lstm", "functional"];

    public static nn.Module<Tensor, Tensor> Model(string name) => name switch
    {
        "mlp" => nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Dropout(0.1), nn.Linear(64, 64), nn.Tanh(),
                               nn.Linear(64, 32), nn.Sigmoid(), nn.Linear(32, 10)),
        "cnn_bn" => nn.Sequential(nn.Conv2d(3, 16, 3, padding: 1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
                                  nn.Conv2d(16, 32, 3, padding: 1), nn.BatchNorm2d(32), nn.ReLU(),
                                  nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, 10)),
        "nested" => nn.Sequential(nn.Sequential(nn.Linear(8, 32), nn.Dropout(0.1)),
                                  nn.Sequential(nn.ReLU(), nn.Linear(32, 32)),
                                  nn.Sequential(nn.Sequential(nn.Linear(32, 24)), nn.Identity()),
                                  nn.Tanh(), nn.Linear(24, 4)),
        "leaky" => nn.Sequential(nn.Linear(10, 64), nn.LeakyReLU(0.2), nn.Linear(64, 64), nn.LeakyReLU(0.2), nn.Linear(64, 1)),
        "selu" => nn.Sequential(nn.Linear(10, 64), nn.SELU(), nn.AlphaDropout(0.1), nn.Linear(64, 64), nn.SELU(), nn.Linear(64, 5)),
        "activations" => nn.Sequential(nn.Linear(16, 32), nn.GELU(), nn.Linear(32, 32), nn.SiLU(), nn.Linear(32, 32), nn.Mish(),
                                       nn.Linear(32, 32), nn.ELU(), nn.Linear(32, 32), nn.CELU(), nn.Linear(32, 32), nn.ReLU6(),
                                       nn.Linear(32, 32), nn.RReLU(), nn.Linear(32, 32), nn.PReLU(1), nn.Linear(32, 8), nn.Softmax(1)),
        "shared" => SharedMlp(),
        "embedding" => nn.Sequential(nn.Embedding(50, 8, padding_idx: 3), nn.Flatten(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 3)),
        "traced" => new TracedNet(),
        "residual" => new ResNet(),
        "lstm" => new LstmClassifier(),
        "functional" => new FunctionalNet(),
        _ => throw new ArgumentException($"unknown zoo model {name}"),
    };

    private static nn.Module<Tensor, Tensor> SharedMlp()
    {
        var shared = nn.Linear(32, 32);
        return nn.Sequential(nn.Linear(8, 32), nn.ReLU(), shared, nn.Tanh(), shared, nn.ReLU(), nn.Linear(32, 2));
    }

    /// <summary>The policies the fixtures name.</summary>
    public static InitPolicy Policy(string name) => name switch
    {
        "auto" => InitPolicy.Auto,
        "resnet" => InitPolicy.Auto.ZeroLastNormIn<Block>(),
        "lstm" => InitPolicy.Auto.ForgetGateBias(),
        "hints" => InitPolicy.Auto.Hint("fc1", Activation.Relu).Hint("fc2", Activation.Relu),
        _ => throw new ArgumentException($"unknown policy {name}"),
    };

    /// <summary>A batch the model accepts (for the traced forward pass and the signal checks).</summary>
    public static Tensor SampleInput(string name) => name switch
    {
        "mlp" => randn(4, 20),
        "cnn_bn" => randn(2, 3, 8, 8),
        "nested" => randn(4, 8),
        "leaky" or "selu" => randn(4, 10),
        "activations" => randn(4, 16),
        "shared" => randn(4, 8),
        "embedding" => randint(0, 50, [4, 4], dtype: ScalarType.Int64),
        "traced" or "functional" => randn(4, 10),
        "residual" => randn(2, 3, 8, 8),
        "lstm" => randint(0, 100, [2, 5], dtype: ScalarType.Int64),
        _ => throw new ArgumentException($"unknown zoo model {name}"),
    };

    /// <summary>A custom forward calling registered activations, which are registered after the layers.</summary>
    public sealed class TracedNet : nn.Module<Tensor, Tensor>
    {
        private readonly Linear fc1 = nn.Linear(10, 64);
        private readonly Linear fc2 = nn.Linear(64, 64);
        private readonly Linear @out = nn.Linear(64, 3);
        private readonly ReLU relu = nn.ReLU();
        private readonly Tanh tanh = nn.Tanh();

        public TracedNet() : base(nameof(TracedNet)) => RegisterComponents();

        public override Tensor forward(Tensor x) => @out.call(tanh.call(fc2.call(relu.call(fc1.call(x)))));
    }

    /// <summary>A basic residual block: relu(bn2(conv2(relu(bn1(conv1(x))))) + x).</summary>
    public sealed class Block : nn.Module<Tensor, Tensor>
    {
        private readonly Conv2d conv1;
        private readonly BatchNorm2d bn1;
        private readonly Conv2d conv2;
        private readonly BatchNorm2d bn2;
        private readonly ReLU relu = nn.ReLU();

        public Block(long c) : base(nameof(Block))
        {
            conv1 = nn.Conv2d(c, c, 3, padding: 1, bias: false);
            bn1 = nn.BatchNorm2d(c);
            conv2 = nn.Conv2d(c, c, 3, padding: 1, bias: false);
            bn2 = nn.BatchNorm2d(c);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            var h = relu.call(bn1.call(conv1.call(x)));
            return relu.call(bn2.call(conv2.call(h)).add(x)).MoveToOuterDisposeScope();
        }
    }

    public sealed class ResNet : nn.Module<Tensor, Tensor>
    {
        private readonly Conv2d stem = nn.Conv2d(3, 16, 3, padding: 1, bias: false);
        private readonly BatchNorm2d bn = nn.BatchNorm2d(16);
        private readonly ReLU relu = nn.ReLU();
        private readonly Block block1 = new(16);
        private readonly Block block2 = new(16);
        private readonly AdaptiveAvgPool2d pool = nn.AdaptiveAvgPool2d(1);
        private readonly Flatten flat = nn.Flatten();
        private readonly Linear fc = nn.Linear(16, 10);

        public ResNet() : base(nameof(ResNet)) => RegisterComponents();

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            var h = relu.call(bn.call(stem.call(x)));
            return fc.call(flat.call(pool.call(block2.call(block1.call(h))))).MoveToOuterDisposeScope();
        }
    }

    public sealed class LstmClassifier : nn.Module<Tensor, Tensor>
    {
        private readonly Embedding emb = nn.Embedding(100, 16, padding_idx: 0);
        private readonly LSTM lstm = nn.LSTM(16, 32, batchFirst: true);
        private readonly Linear fc = nn.Linear(32, 4);

        public LstmClassifier() : base(nameof(LstmClassifier)) => RegisterComponents();

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            var (_, h, _) = lstm.call(emb.call(x));
            return fc.call(h[-1]).MoveToOuterDisposeScope();
        }
    }

    /// <summary>Activations applied functionally: invisible to hooks, so hints are needed.</summary>
    public sealed class FunctionalNet : nn.Module<Tensor, Tensor>
    {
        private readonly Linear fc1 = nn.Linear(10, 64);
        private readonly Linear fc2 = nn.Linear(64, 64);
        private readonly Linear fc3 = nn.Linear(64, 2);

        public FunctionalNet() : base(nameof(FunctionalNet)) => RegisterComponents();

        public override Tensor forward(Tensor x) => fc3.call(nn.functional.relu(fc2.call(nn.functional.relu(fc1.call(x)))));
    }
}
