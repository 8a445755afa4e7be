namespace TorchInit.Schemes
{
    /// <summary>
    /// A scheme that multiplies by a gain: gain = <see cref="TorchInit.Gain.Calculate"/>(<see cref="Nonlinearity"/>,
    /// <see cref="NegativeSlope"/>), PyTorch's <c>calculate_gain</c>. <see cref="VarianceScalingScheme"/>,
    /// <see cref="OrthogonalScheme"/> and <see cref="DeltaOrthogonalScheme"/> are gain schemes.
    /// </summary>
    /// <param name="Nonlinearity">The nonlinearity whose gain the scheme multiplies by.</param>
    /// <param name="NegativeSlope">Leaky ReLU's negative slope; null means PyTorch's default 0.01.</param>
    public abstract record GainScheme(Nonlinearity Nonlinearity, double? NegativeSlope) : InitScheme
    {
        private readonly Nonlinearity _nonlinearity = Nonlinearity;
        private readonly double? _negativeSlope = NegativeSlope;

        /// <summary>The nonlinearity whose gain the scheme multiplies by.</summary>
        public Nonlinearity Nonlinearity
        {
            get => _nonlinearity;
            init { if (value != _nonlinearity) GainChanged(); _nonlinearity = value; }
        }

        /// <summary>Leaky ReLU's negative slope; null means PyTorch's default 0.01.</summary>
        public double? NegativeSlope
        {
            get => _negativeSlope;
            init { if (!Nullable.Equals(value, _negativeSlope)) GainChanged(); _negativeSlope = value; }
        }

        /// <summary>Called when a copy (<c>with</c>, <see cref="WithNonlinearity"/>) changes the nonlinearity or the slope.</summary>
        private protected virtual void GainChanged() { }

        /// <summary>gain = <see cref="TorchInit.Gain.Calculate"/>(<see cref="Nonlinearity"/>, <see cref="NegativeSlope"/>).</summary>
        public override double Gain => TorchInit.Gain.Calculate(Nonlinearity, NegativeSlope);

        /// <inheritdoc />
        public override InitScheme WithNonlinearity(Nonlinearity nonlinearity, double? negativeSlope = null)
        {
            _ = TorchInit.Gain.Calculate(nonlinearity, negativeSlope); // validates the slope now
            return this with { Nonlinearity = nonlinearity, NegativeSlope = negativeSlope };
        }

        /// <summary>The gain's text arguments: nonlinearity=, and slope= when set.</summary>
        private protected IEnumerable<(string? Key, string Value)> GainTextArguments()
        {
            yield return ("nonlinearity", SchemeText.Word(Nonlinearity));
            if (NegativeSlope is double s) yield return ("slope", SchemeText.Number(s));
        }

        /// <summary>The gain's text arguments unless they are the default (linear, no slope).</summary>
        private protected IEnumerable<(string? Key, string Value)> NonDefaultGainTextArguments() =>
            Nonlinearity == Nonlinearity.Linear && NegativeSlope is null ? [] : GainTextArguments();

        /// <summary><paramref name="scheme"/> with the nonlinearity= and slope= arguments of its text, when given.</summary>
        internal static InitScheme WithGainArguments(InitScheme scheme, SchemeArguments args)
        {
            if (!args.Has("nonlinearity") && !args.Has("slope")) { args.EnsureAllRead(scheme.Name); return scheme; }
            var nl = args.Enum("nonlinearity", Nonlinearity.LeakyRelu);
            double? slope = args.Has("slope") ? args.Double("slope", 0) : null;
            args.EnsureAllRead(scheme.Name);
            return scheme.WithNonlinearity(nl, slope);
        }
    }
}
