using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchInit;

/// <summary>A readout with μP's output multiplier α/m_in: <see cref="MuReadout"/> and <see cref="MuSharedReadout"/>.</summary>
public abstract class MuReadoutModule : nn.Module<Tensor, Tensor>
{
    private protected MuReadoutModule(string name, double outputMultiplier, long inFeatures, long? baseInFeatures) : base(name)
    {
        Check.FinitePositive(outputMultiplier, nameof(outputMultiplier));
        if (baseInFeatures is long b && (b <= 0 || b > inFeatures))
            throw new ArgumentOutOfRangeException(nameof(baseInFeatures), $"baseInFeatures must be in [1, inFeatures = {inFeatures}]; got {b}.");
        OutputMultiplier = outputMultiplier;
        InFeatures = inFeatures;
        WidthMultiplier = baseInFeatures is long n ? (double)inFeatures / n : double.NaN;
    }

    /// <summary>α, the output multiplier (a hyperparameter tuned on the base model; default 1).</summary>
    public double OutputMultiplier { get; }

    /// <summary>The number of input features (the width it reads).</summary>
    public long InFeatures { get; }

    /// <summary>m_in = in_features / base in_features: set by <c>ApplyInit</c> under <see cref="InitPolicy.MuP"/> or given as <c>baseInFeatures</c>; NaN until then.</summary>
    public double WidthMultiplier { get; internal set; }

    /// <summary>A parameter setter's work, as TorchSharp's Linear does it: the replaced tensor disposed, the new one registered under <paramref name="name"/>.</summary>
    private protected Parameter? Replace(Parameter? old, Parameter? value, string name)
    {
        if (!ReferenceEquals(old, value)) old?.Dispose();
        ConditionallyRegisterParameter(name, value);
        return value;
    }

    /// <summary>The readout's weight [out, in].</summary>
    private protected abstract Parameter Weight { get; }

    /// <summary>The readout's bias [out], or null.</summary>
    private protected abstract Parameter? Bias { get; }

    /// <summary>y = linear(x · α / m_in, W, b): the bias is not scaled.</summary>
    /// <exception cref="InvalidOperationException">The width multiplier is not known yet.</exception>
    public override Tensor forward(Tensor input)
    {
        if (double.IsNaN(WidthMultiplier)) throw new InvalidOperationException(MuText.ReadoutWithoutMultiplier(GetName()));
        using var scaled = input.mul(OutputMultiplier / WidthMultiplier);
        return nn.functional.linear(scaled, Weight, Bias);
    }
}

/// <summary>
/// μP's readout (Tensor Programs V, Table 8): a Linear whose forward is y = linear(x · α / m_in, W, b), with m_in = in_features /
/// base in_features. Under <see cref="InitPolicy.MuP"/> its weight keeps the base model's std σ₀ and its Adam learning rate η (the
/// multiplier makes it the output layer of Table 3: effective std σ₀/m_in, effective Adam step η/m_in). Constructed as PyTorch's
/// <c>nn.Linear</c>: weight <c>kaiming_uniform_(a = √5)</c> = U(±1/√in), bias U(±1/√in), from the global generator.
/// </summary>
public sealed class MuReadout : MuReadoutModule
{
    private Parameter _weight;
    private Parameter? _bias;

    /// <summary>The weight [outFeatures, inFeatures]; settable, as a Linear's (<see cref="Build.WithoutDefaultInit{T}(Func{T}, InitPolicy, InitOptions?, Device?)"/> materializes through it).</summary>
    public Parameter weight
    {
        get => _weight;
        set => _weight = Replace(_weight, value ?? throw new ArgumentNullException(nameof(value)), nameof(weight))!;
    }

    /// <summary>The bias [outFeatures], or null; settable, as a Linear's.</summary>
    public Parameter? bias
    {
        get => _bias;
        set => _bias = Replace(_bias, value, nameof(bias));
    }

    /// <summary>A readout from <paramref name="inFeatures"/> to <paramref name="outFeatures"/>.</summary>
    /// <param name="inFeatures">The width it reads.</param>
    /// <param name="outFeatures">The number of outputs (finite: classes, vocabulary).</param>
    /// <param name="hasBias">Whether it has a bias.</param>
    /// <param name="outputMultiplier">α.</param>
    /// <param name="baseInFeatures">The base model's in_features, when known now; else <c>ApplyInit</c> under μP sets m_in.</param>
    /// <param name="device">Where its parameters live; default the default device.</param>
    /// <param name="dtype">Their dtype; default the default dtype.</param>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive, or <paramref name="baseInFeatures"/> is not in [1, inFeatures].</exception>
    /// <exception cref="ArgumentException"><paramref name="outputMultiplier"/> is not finite and positive.</exception>
    public MuReadout(long inFeatures, long outFeatures, bool hasBias = true, double outputMultiplier = 1, long? baseInFeatures = null,
        Device? device = null, ScalarType? dtype = null)
        : base(nameof(MuReadout), outputMultiplier, Positive(inFeatures, nameof(inFeatures)), baseInFeatures)
    {
        Positive(outFeatures, nameof(outFeatures));
        device ??= get_default_device();
        _weight = new Parameter(empty([outFeatures, inFeatures], dtype: dtype, device: device));
        _bias = hasBias ? new Parameter(empty([outFeatures], dtype: dtype, device: device)) : null;
        if (device.type != DeviceType.META)
        {
            using var _ = no_grad();
            nn.init.kaiming_uniform_(_weight, a: Math.Sqrt(5));
            if (_bias is not null)
            {
                double bound = 1 / Math.Sqrt(inFeatures);
                nn.init.uniform_(_bias, -bound, bound);
            }
        }
        register_parameter(nameof(weight), _weight);
        if (_bias is not null) register_parameter(nameof(bias), _bias);
    }

    private protected override Parameter Weight => _weight;
    private protected override Parameter? Bias => _bias;

    private static long Positive(long n, string name) =>
        n > 0 ? n : throw new ArgumentOutOfRangeException(name, $"{name} must be positive; got {n}.");
}

/// <summary>
/// μP's readout through a tied weight [vocab, d] (an Embedding's): y = linear(x · α / m_in, W, b) with m_in = d / base d. The weight
/// is its first holder's (the Embedding, an input weight: std σ₀, Adam lr η), which is what μP asks of a readout (Table 8);
/// the bias, [vocab], is its own, drawn as a Linear's: U(±1/√d).
/// </summary>
public sealed class MuSharedReadout : MuReadoutModule
{
    private Parameter _weight;
    private Parameter? _bias;

    /// <summary>The tied weight [vocab, d]; settable (a tie made after construction, <see cref="Build.WithoutDefaultInit{T}(Func{T}, InitPolicy, InitOptions?, Device?)"/>).</summary>
    public Parameter weight
    {
        get => _weight;
        set => _weight = Replace(_weight, value ?? throw new ArgumentNullException(nameof(value)), nameof(weight))!;
    }

    /// <summary>The bias [vocab], or null; settable.</summary>
    public Parameter? bias
    {
        get => _bias;
        set => _bias = Replace(_bias, value, nameof(bias));
    }

    /// <summary>A readout through <paramref name="weight"/> (e.g. <c>embedding.weight</c>).</summary>
    /// <param name="weight">The tied weight, [outFeatures, inFeatures].</param>
    /// <param name="hasBias">Whether it has a bias (U(±1/√d) from the global generator, as a Linear's, on the weight's device and dtype).</param>
    /// <param name="outputMultiplier">α.</param>
    /// <param name="baseInFeatures">The base model's d, when known now; else <c>ApplyInit</c> under μP sets m_in.</param>
    /// <exception cref="ArgumentNullException"><paramref name="weight"/> is null.</exception>
    /// <exception cref="ArgumentException">The weight is not 2-dimensional, or <paramref name="outputMultiplier"/> is not finite and positive.</exception>
    public MuSharedReadout(Parameter weight, bool hasBias = true, double outputMultiplier = 1, long? baseInFeatures = null)
        : base(nameof(MuSharedReadout), outputMultiplier, InFeaturesOf(weight), baseInFeatures)
    {
        _weight = weight;
        _bias = hasBias ? new Parameter(empty([weight.shape[0]], dtype: weight.dtype, device: weight.device)) : null;
        if (_bias is not null && weight.device.type != DeviceType.META)
        {
            using var _ = no_grad();
            double bound = 1 / Math.Sqrt(weight.shape[1]);
            nn.init.uniform_(_bias, -bound, bound);
        }
        register_parameter(nameof(weight), _weight);
        if (_bias is not null) register_parameter(nameof(bias), _bias);
    }

    private protected override Parameter Weight => _weight;
    private protected override Parameter? Bias => _bias;

    private static long InFeaturesOf(Parameter weight)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.dim() != 2) throw new ArgumentException($"A shared readout's weight must be [out, in]; got {Check.Shape(weight.shape)}.", nameof(weight));
        return weight.shape[1];
    }
}
