using TorchInit.Fast;
using static TorchSharp.torch;

namespace TorchInit.Schemes
{
    /// <summary>
    /// The identity matrix, PyTorch's <c>eye_</c>: ones on the main diagonal of a 2-D weight, zeros elsewhere (a rectangular
    /// weight gets min(rows, cols) ones), so a square layer starts as the identity map. No random numbers are drawn.
    /// </summary>
    public sealed record EyeScheme : InitScheme
    {
        /// <summary>"Eye".</summary>
        public override string Name => "Eye";

        internal override Fill Resolve(in FillRequest request)
        {
            if (request.Shape.Length != 2)
                throw new ArgumentException($"Eye initialization needs a 2-D tensor; '{request.Name}' has shape {Check.Shape(request.Shape)}.", request.Name);
            return new EyeFill();
        }

        internal override string TextHead => "Eye";
        internal override IEnumerable<(string? Key, string Value)> TextArguments => [];

        /// <summary>"Eye" (also PyTorch's "eye" and Keras's "identity").</summary>
        internal static InitScheme? FromText(string head, SchemeArguments args)
        {
            if (!SchemeText.Same(head, "Eye")) return null;
            args.EnsureAllRead("Eye");
            return InitScheme.Eye;
        }
    }

    /// <summary>I: ones on the main diagonal, zeros elsewhere.</summary>
    internal sealed record EyeFill : Fill
    {
        public override string Distribution => "eye";
        public override double TargetStd => double.NaN;
        public override double Bound => 1;
        public override bool Draws => false;

        public override Moments? Write(Tensor t, Sampler sampler)
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            t.copy_(eye(t.shape[0], t.shape[1], t.dtype, t.device));
            return null;
        }
    }
}

namespace TorchInit
{
    public abstract partial record InitScheme
    {
        /// <summary>The identity matrix (PyTorch's <c>eye_</c>): a 2-D weight starts as the identity map.</summary>
        public static InitScheme Eye { get; } = new EyeScheme();
    }

    public static partial class Init
    {
        /// <summary>Ones on the main diagonal of a 2-D tensor, zeros elsewhere (min(rows, cols) ones). PyTorch: <c>eye_</c>.</summary>
        /// <exception cref="ArgumentException">The tensor does not have exactly 2 dimensions, or is complex.</exception>
        public static Tensor Eye(Tensor tensor) => Apply(tensor, InitScheme.Eye, null);
    }
}
