using TorchSharp;
using static TorchSharp.torch;

namespace TorchInit.Experiments;

/// <summary>The training step the trainers and the PyTorch twins share: cross-entropy, plain SGD (no momentum, no weight decay).</summary>
public static class Training
{
    /// <summary>Mean cross-entropy of logits against integer labels.</summary>
    public static Tensor Loss(Tensor logits, Tensor labels) => nn.functional.cross_entropy(logits, labels);

    /// <summary>
    /// One SGD step: loss = CE(model(x), y); zero_grad; backward; θ ← θ − lr·∇θ. Returns the loss before the update.
    /// </summary>
    public static double Step(nn.Module<Tensor, Tensor> model, optim.Optimizer sgd, Tensor inputs, Tensor labels)
    {
        using var scope = NewDisposeScope();
        var loss = Loss(model.call(inputs), labels);
        sgd.zero_grad();
        loss.backward();
        sgd.step();
        return loss.to_type(ScalarType.Float64).item<double>();
    }

    /// <summary>The probe at initialization on one batch, with the training loss.</summary>
    public static SignalReport Probe(nn.Module<Tensor, Tensor> model, Tensor inputs, Tensor labels) =>
        SignalProbe.Run(model, inputs, logits => Loss(logits, labels));

    /// <summary>Fraction of rows whose arg-max logit is the label.</summary>
    public static double Accuracy(nn.Module<Tensor, Tensor> model, Tensor inputs, Tensor labels, long batch = 1000)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        bool wasTraining = model.training;
        model.eval();
        long n = inputs.shape[0], correct = 0;
        for (long i = 0; i < n; i += batch)
        {
            using var inner = NewDisposeScope();
            long len = Math.Min(batch, n - i);
            var pred = model.call(inputs.narrow(0, i, len)).argmax(1);
            correct += pred.eq(labels.narrow(0, i, len)).sum().item<long>();
        }
        model.train(wasTraining);
        return n == 0 ? double.NaN : (double)correct / n;
    }
}
