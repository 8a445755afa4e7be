using TorchInit.Experiments;
using TorchSharp;
using static TorchSharp.torch;

namespace TorchInit.Tests;

/// <summary>The pieces of the papers' experiments on MNIST (he2015, xiao2018) that the recorded runs rest on.</summary>
public class PaperExperimentTests
{
    [Fact]
    public void The_deep_CNN_halves_the_digit_twice_and_ends_in_ten_logits()
    {
        using var scope = NewDisposeScope();
        var model = Models.DeepCnn(TorchInit.Experiments.Activation.Tanh, [4, 4, 4, 4, 4]);
        Assert.Equal(["conv0", "act0", "conv1", "act1", "conv2", "act2", "conv3", "act3", "conv4", "act4", "out", "pool", "flatten"],
            model.named_children().Select(c => c.name));
        var x = randn(2, 1, 28, 28, generator: new Generator(1));
        Assert.Equal(new long[] { 2, 4, 7, 7 }, ((nn.Module<Tensor, Tensor>)model[..4]).call(x).shape);   // conv0, conv1: stride 2
        Assert.Equal(new long[] { 2, 10 }, model.call(x).shape);
    }

    [Fact]
    public void Delta_orthogonal_leaves_only_an_orthogonal_kernel_centre_in_every_convolution_of_the_deep_CNN()
    {
        using var scope = NewDisposeScope();
        var model = Models.DeepCnn(TorchInit.Experiments.Activation.Tanh, [8, 8, 8]);
        ExperimentScheme.Parse("delta-orthogonal").Apply(model, seed: 3);
        foreach (var (name, p) in model.named_parameters().Where(p => p.name.EndsWith(".weight", StringComparison.Ordinal)))
        {
            var w = p.detach().to(ScalarType.Float64);
            long k = w.shape[2] / 2;
            var centre = w[.., .., k, k];
            Assert.Equal(w.abs().sum().item<double>(), centre.abs().sum().item<double>(), 9);   // zeros off the centre
            var rows = Math.Min(centre.shape[0], centre.shape[1]);
            var gram = centre.shape[0] <= centre.shape[1] ? centre.matmul(centre.t()) : centre.t().matmul(centre);
            Assert.True((gram - eye(rows, dtype: ScalarType.Float64)).abs().max().item<double>() < 1e-5, $"{name}: centre not orthogonal");
        }
        Assert.All(model.named_parameters().Where(p => p.name.EndsWith(".bias", StringComparison.Ordinal)), p => Assert.Equal(0, p.parameter.abs().sum().item<float>()));
    }

    [Theory]
    [InlineData(new double[] { 2.302, 2.303, 2.302, 2.303, 2.302, 2.303, 2.302, 2.303, 2.302, 2.303 }, false)]   // at chance
    [InlineData(new double[] { 2.3, 2.3, 2.3, 2.3, 2.3, 2.3, 2.3, 2.3, 2.3, 2.0 }, true)]                      // the last tenth
    [InlineData(new double[] { 2.3, 2.0, double.NaN }, false)]                                                   // diverged
    [InlineData(new double[] { }, false)]
    public void A_run_learns_when_its_last_tenth_of_losses_is_below_95_percent_of_chance(double[] losses, bool learns) =>
        Assert.Equal(learns, Xiao2018.Learned(losses));

    [Fact]
    public void The_MNIST_configurations_of_the_papers_cover_their_steps_and_depths()
    {
        var he = He2015.OnMnist(depth: 22, width: 64, batch: 128, steps: He2015.MnistSteps, lr: He2015.MnistLr, seed: 0, dtype: "float32");
        he.Validate();
        Assert.Equal(Enumerable.Repeat(64, 22), he.HiddenList);
        Assert.Equal(He2015.MnistSteps, MnistTraining.StepsPerRun(he));   // enough epochs for every step
        Assert.Equal(["glorot-normal", "he"], he.SchemeList);
        var xiao = Xiao2018.Config(depth: 50, channels: 16, batch: 32, steps: 2000, lr: 0.02, seed: 0, dtype: "float64");
        xiao.Validate();
        Assert.Equal(["deep-cnn"], xiao.ModelList);
        Assert.Equal(2000, MnistTraining.StepsPerRun(xiao));
        Assert.Equal(Xiao2018.Schemes, xiao.SchemeList);
        Assert.Throws<ArgumentException>(() => (xiao with { Models = ["resnet"] }).Validate());
    }
}
