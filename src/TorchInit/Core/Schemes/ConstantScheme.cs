using static TorchSharp.torch;

namespace TorchInit.Schemes
{
    /// <summary>Every element set to <see cref="Value"/>. PyTorch: <c>constant_</c>, <c>zeros_</c>, <c>ones_</c>.</summary>
    /// <param name="Value">The value; finite.</param>
    public sealed record ConstantScheme(double Value) : InitScheme
    {
        /// <summary>
        /// The report's name: "zeros" and "ones", spelled as the built-in rules spell them (a bias set to 0, a norm's weight 1), or
        /// "Constant(value)". Each reads back through <see cref="InitScheme.Parse"/>; <see cref="InitScheme.ToString"/> is "Zeros", "Ones", "Constant(value)".
        /// </summary>
        public override string Name => TextHead switch { "Zeros" => "zeros", "Ones" => "ones", _ => ToString() };

        internal override Fill Resolve(in FillRequest request) => new ConstantFill(Value);

        internal override string TextHead => Value switch { 0.0 when !double.IsNegative(Value) => "Zeros", 1.0 => "Ones", _ => "Constant" };

        internal override IEnumerable<(string? Key, string Value)> TextArguments =>
            TextHead == "Constant" ? [(null, SchemeText.Number(Value))] : [];

        /// <summary>"Zeros", "Ones", "Constant(v)" (also value=/val=).</summary>
        internal static InitScheme? FromText(string head, SchemeArguments args)
        {
            InitScheme? scheme = SchemeText.Same(head, "Zeros") ? InitScheme.Zeros
                : SchemeText.Same(head, "Ones") ? InitScheme.Ones
                : SchemeText.Same(head, "Constant") ? InitScheme.Constant(args.Double("value", args.Double("val", args.PositionalOr(0, 0.0))))
                : null;
            if (scheme is not null) args.EnsureAllRead(head);
            return scheme;
        }
    }
}

namespace TorchInit
{
    public abstract partial record InitScheme
    {
        /// <summary>All weights 0: the naive baseline that shows the symmetry problem. PyTorch: <c>zeros_</c>.</summary>
        public static InitScheme Zeros { get; } = new ConstantScheme(0.0);

        /// <summary>All weights 1. PyTorch: <c>ones_</c>.</summary>
        public static InitScheme Ones { get; } = new ConstantScheme(1.0);

        /// <summary>Every weight set to <paramref name="value"/>.</summary>
        /// <exception cref="ArgumentException"><paramref name="value"/> is not finite.</exception>
        public static InitScheme Constant(double value)
        {
            Check.Finite(value, nameof(value));
            return new ConstantScheme(value);
        }
    }

    public static partial class Init
    {
        /// <summary>Every element set to <paramref name="value"/>. PyTorch: <c>constant_</c>.</summary>
        /// <exception cref="ArgumentException"><paramref name="value"/> is not finite, or the tensor is complex.</exception>
        public static Tensor Constant(Tensor tensor, double value) => Apply(tensor, InitScheme.Constant(value), null);

        /// <summary>Every element set to 0. PyTorch: <c>zeros_</c>.</summary>
        /// <exception cref="ArgumentException">The tensor is complex.</exception>
        public static Tensor Zeros(Tensor tensor) => Apply(tensor, InitScheme.Zeros, null);

        /// <summary>Every element set to 1. PyTorch: <c>ones_</c>.</summary>
        /// <exception cref="ArgumentException">The tensor is complex.</exception>
        public static Tensor Ones(Tensor tensor) => Apply(tensor, InitScheme.Ones, null);
    }
}
