using TorchInit.Fast;
using static TorchSharp.torch;

namespace TorchInit;

/// <summary>
/// What a scheme resolves to for one tensor: the distribution and its numbers, a constant, an orthogonal matrix…
/// A fill is decided in the plan (<c>PlanInit</c> reports it) and written later by <see cref="Write"/>; it knows
/// which tensors it can be written to (<see cref="Problem"/>), so the whole plan is checked before anything is written.
/// </summary>
internal abstract record Fill
{
    /// <summary>The report's distribution column: "normal", "uniform", "truncated normal", "constant", "orthogonal"…</summary>
    public abstract string Distribution { get; }

    /// <summary>The standard deviation the fill aims for (0 for constants, NaN where none is defined).</summary>
    public abstract double TargetStd { get; }

    /// <summary>The largest possible |value − mean| (∞ for the normal, NaN where none is defined).</summary>
    public abstract double Bound { get; }

    /// <summary>Whether writing draws random numbers (and so needs a floating-point tensor).</summary>
    public virtual bool Draws => true;

    /// <summary>Why this fill cannot be written to <paramref name="t"/> (shape or dtype), or null when it can.</summary>
    public virtual string? Problem(Tensor t) => null;

    /// <summary>Writes the fill into <paramref name="t"/> in place; returns the realized moments when the fill measured them.</summary>
    public abstract Moments? Write(Tensor t, Sampler sampler);

    /// <summary>This fill with its spread around the mean divided by <paramref name="divisor"/> (σ/divisor), or null when it has no spread to scale (a scaled residual projection).</summary>
    public virtual Fill? Narrowed(double divisor) => null;
}

/// <summary>N(mean, std²): libtorch's <c>normal_</c> in exact mode.</summary>
internal sealed record NormalFill(double Mean, double Std) : Fill
{
    public override string Distribution => "normal";
    public override double TargetStd => Std;
    public override double Bound => double.PositiveInfinity;
    public override Moments? Write(Tensor t, Sampler sampler) => sampler.Normal(t, Mean, Std);
    public override Fill? Narrowed(double divisor) => this with { Std = Std / divisor };
}

/// <summary>U(low, high): libtorch's <c>uniform_</c> in exact mode. The target std is (high − low)/√12 unless a scheme says it exactly.</summary>
internal sealed record UniformFill(double Low, double High) : Fill
{
    private readonly double? _std;

    public override string Distribution => "uniform";
    public override double TargetStd => _std ?? (High - Low) / Math.Sqrt(12.0);
    /// <summary>The σ the scheme computed (a variance-scaling uniform: b = √3σ), reported as is.</summary>
    public double? ExactStd { get => _std; init => _std = value; }
    public override double Bound => (High - Low) / 2;
    public override string? Problem(Tensor t) => TensorCheck.OutOfRange(t, "U(low, high)", ("low", Low), ("high", High));
    public override Moments? Write(Tensor t, Sampler sampler) => sampler.Uniform(t, Low, High);
    public override Fill? Narrowed(double divisor)
    {
        double mid = (Low + High) / 2, half = (High - Low) / 2 / divisor;
        return new UniformFill(mid - half, mid + half) { ExactStd = _std is double s ? s / divisor : null };
    }
}

/// <summary>N(mean, std²) truncated to [a, b], by PyTorch's inverse-CDF algorithm (<c>trunc_normal_</c>).</summary>
internal sealed record TruncatedNormalFill(double Mean, double Std, double A, double B) : Fill
{
    private readonly double? _target;

    public override string Distribution => "truncated normal";
    /// <summary>The std after truncation when a scheme aims for it (variance-preserving truncation), else the pre-truncation std.</summary>
    public override double TargetStd => _target ?? Std;
    public double? ExactTargetStd { get => _target; init => _target = value; }
    public override double Bound => Math.Max(B - Mean, Mean - A);
    /// <summary>The inverse-CDF draw multiplies by σ√2, adds the mean and clamps to [a, b] in the tensor's dtype: each must fit it.</summary>
    public override string? Problem(Tensor t) =>
        TensorCheck.OutOfRange(t, "the truncated normal", ("std × √2", Std * Math.Sqrt(2.0)), ("mean", Mean), ("a", A), ("b", B));
    public override Moments? Write(Tensor t, Sampler sampler) => sampler.TruncatedNormal(t, Mean, Std, A, B);
    public override Fill? Narrowed(double divisor) =>
        new TruncatedNormalFill(Mean, Std / divisor, Mean + (A - Mean) / divisor, Mean + (B - Mean) / divisor) { ExactTargetStd = _target / divisor };
}

/// <summary>Every element set to <see cref="Value"/>, then optionally elements [start, start + length) of dimension 0 to another value (an LSTM's forget gate).</summary>
internal sealed record ConstantFill(double Value, (long Start, long Length, double Value)? Slice = null) : Fill
{
    public override string Distribution => "constant";
    public override double TargetStd => 0;
    public override double Bound => 0;
    public override bool Draws => false;

    public override string? Problem(Tensor t) =>
        TensorCheck.OutOfRange(t, "the constant", ("value", Value), ("slice value", Slice?.Value ?? 0));
    public override Moments? Write(Tensor t, Sampler sampler)
    {
        ExactSampling.Fill(t, Value);
        if (Slice is var (start, length, v))
        {
            using var part = t.narrow(0, start, length);
            ExactSampling.Fill(part, v);
        }
        return null;
    }
}

/// <summary>
/// A weight made of <see cref="Blocks"/> equal blocks stacked along dimension 0 (the gates of an LSTM/GRU weight, the
/// q, k, v of an attention projection), each written by <see cref="Inner"/> on its own, in order.
/// </summary>
internal sealed record BlockFill(Fill Inner, int Blocks) : Fill
{
    public override string Distribution => Inner.Distribution;
    public override double TargetStd => Inner.TargetStd;
    public override double Bound => Inner.Bound;
    public override bool Draws => Inner.Draws;

    public override string? Problem(Tensor t)
    {
        if (t.dim() == 0 || t.shape[0] % Blocks != 0)
            return $"shape {Check.Shape(t.shape)} does not split into {Blocks} equal blocks along dimension 0";
        using var block = t.narrow(0, 0, t.shape[0] / Blocks);
        return Inner.Problem(block);
    }

    public override Fill? Narrowed(double divisor) => Inner.Narrowed(divisor) is { } inner ? this with { Inner = inner } : null;

    public override Moments? Write(Tensor t, Sampler sampler)
    {
        long size = t.shape[0] / Blocks;
        for (int k = 0; k < Blocks; k++)
        {
            using var block = t.narrow(0, k * size, size);
            Inner.Write(block, sampler);
        }
        return null;
    }
}

/// <summary><see cref="Inner"/>, then row <see cref="Row"/> set back to 0 (an Embedding's padding row).</summary>
internal sealed record PaddingRowFill(Fill Inner, long Row) : Fill
{
    public override string Distribution => Inner.Distribution;
    public override double TargetStd => Inner.TargetStd;
    public override double Bound => Inner.Bound;
    public override string? Problem(Tensor t) => Inner.Problem(t);

    public override Moments? Write(Tensor t, Sampler sampler)
    {
        Inner.Write(t, sampler);
        using var _ = no_grad();
        using var row = t[Row];
        row.zero_();
        return null; // the zeroed row changes the moments: measure the tensor afterwards
    }
}
