namespace TorchInit;

public sealed partial record InitPolicy
{
    /// <summary>The path globs <see cref="Gpt2"/> marks as residual output projections: an attention's <c>out_proj</c>, a transformer layer's <c>linear2</c>, and Hugging Face's <c>c_proj</c> (attention and MLP).</summary>
    public static IReadOnlyList<string> ResidualProjectionGlobs { get; } = ["*out_proj", "*linear2", "*c_proj"];

    internal IReadOnlyList<Rule<double>> ResidualScales { get; init; } = [];

    /// <summary>
    /// GPT-2 (Radford et al. 2019; Hugging Face <c>GPT2PreTrainedModel._init_weights</c>): Linear, Conv and attention projections and
    /// Embeddings N(0, std²) with std = <paramref name="std"/> (0.02), biases 0, LayerNorm weight 1 and bias 0, and the residual output projections
    /// (<see cref="ResidualProjectionGlobs"/>: attention <c>out_proj</c>, the MLP's second Linear) N(0, (std / √(2·n_layer))²).
    /// </summary>
    /// <param name="layers">n_layer, the number of transformer blocks; at least 1.</param>
    /// <param name="std">The initializer range; positive.</param>
    /// <exception cref="ArgumentException"><paramref name="layers"/> is below 1 or <paramref name="std"/> is not positive and finite.</exception>
    public static InitPolicy Gpt2(int layers, double std = 0.02)
    {
        if (layers < 1) throw new ArgumentException($"layers must be at least 1, got {layers}.", nameof(layers));
        const string cite = "GPT-2 (Radford et al. 2019; HF GPT2PreTrainedModel._init_weights)";
        var policy = Fixed(InitScheme.Normal(Positive(std)), $"{cite}: Linear N(0, {Num(std)}²), bias 0",
            InitScheme.Normal(std), $"{cite}: Embedding N(0, {Num(std)}²)", $"{cite}: LayerNorm weight 1, bias 0");
        // One rule for the three globs: a model names its residual projections one way, and one that matches none of them is warned about.
        return policy.ScaleResidual(ResidualProjectionGlobs, layers, $"GPT-2: residual output projection ({string.Join(", ", ResidualProjectionGlobs)}), std / √(2·n_layer) = {Num(std)} / √{2 * layers}");
    }

    /// <summary>
    /// BERT (Devlin et al. 2019; Hugging Face <c>BertPreTrainedModel._init_weights</c>): Linear, Conv and attention projections and Embeddings
    /// N(0, std²), std = 0.02, biases 0, LayerNorm weight 1, bias 0. With <paramref name="truncated"/>, the original TensorFlow code's
    /// <c>truncated_normal(stddev=std)</c>: N(0, std²) cut at ±2·std (<see cref="InitScheme.TruncatedNormal(double, double, double, double)"/> with a = −2·std, b = 2·std).
    /// </summary>
    /// <param name="std">The initializer range; positive.</param>
    /// <param name="truncated">Whether to truncate at ±2·std, as the TensorFlow original did.</param>
    /// <exception cref="ArgumentException"><paramref name="std"/> is not positive and finite.</exception>
    public static InitPolicy Bert(double std = 0.02, bool truncated = false)
    {
        var scheme = truncated ? InitScheme.TruncatedNormal(0, Positive(std), -2 * std, 2 * std) : InitScheme.Normal(Positive(std));
        string cite = truncated ? "BERT (Devlin et al. 2019; the TF original's truncated_normal)" : "BERT (Devlin et al. 2019; HF BertPreTrainedModel._init_weights)";
        string dist = truncated ? $"N(0, {Num(std)}²) cut at ±{Num(2 * std)}" : $"N(0, {Num(std)}²)";
        return Fixed(scheme, $"{cite}: Linear {dist}, bias 0", scheme, $"{cite}: Embedding {dist}", $"{cite}: LayerNorm weight 1, bias 0");
    }

    /// <summary>
    /// ViT as timm initializes it (Dosovitskiy et al. 2021; timm <c>vision_transformer.init_weights</c>): Linear and attention projections
    /// <c>trunc_normal_(std=0.02)</c> (absolute bounds ±2, as timm) with bias 0, the patch-embedding convolution (every Conv) LeCun normal as
    /// in the JAX ViT (<see cref="InitScheme.LeCunTruncatedNormal"/>: σ = 1/√fan_in after truncation at ±2σ'), Embeddings trunc_normal std 0.02,
    /// LayerNorm weight 1, bias 0. Position embeddings and class tokens are a model's own parameters: declare them with <see cref="IInitializable"/>.
    /// </summary>
    /// <param name="std">The std of the Linear weights; positive.</param>
    /// <exception cref="ArgumentException"><paramref name="std"/> is not positive and finite.</exception>
    public static InitPolicy Vit(double std = 0.02)
    {
        const string cite = "ViT (timm vision_transformer init_weights)";
        var scheme = InitScheme.TruncatedNormal(Positive(std));
        return Fixed(scheme, $"{cite}: Linear trunc_normal_(std={Num(std)}), bias 0", scheme, $"{cite}: Embedding trunc_normal_(std={Num(std)})",
                $"{cite}: LayerNorm weight 1, bias 0")
            .For(c => LayerTaxonomy.Classify(c) is LayerKind.Convolution, InitScheme.LeCunTruncatedNormal,
                "ViT (the JAX ViT, timm's jax init): the patch-embedding convolution lecun_normal, bias 0");
    }

    /// <summary>
    /// Layers whose path matches <paramref name="pathGlob"/> are residual output projections of a network of <paramref name="depth"/> blocks:
    /// whatever scheme they get, their std (the spread around the mean) is divided by √(2·depth) (GPT-2's rule: two residual additions per block).
    /// </summary>
    /// <param name="pathGlob">A dotted-path glob ("*out_proj", "blocks.*.mlp.fc2").</param>
    /// <param name="depth">The number of blocks; at least 1.</param>
    /// <exception cref="ArgumentException"><paramref name="depth"/> is below 1.</exception>
    public InitPolicy ScaleResidual(string pathGlob, int depth) =>
        ScaleResidual([pathGlob], depth, $"ScaleResidual(\"{pathGlob}\", {depth}): residual output projection, std / √(2·{depth})");

    /// <summary>One residual rule for layers whose path matches any of <paramref name="pathGlobs"/>.</summary>
    internal InitPolicy ScaleResidual(IReadOnlyList<string> pathGlobs, int depth, string description)
    {
        if (depth < 1) throw new ArgumentException($"depth must be at least 1, got {depth}.", nameof(depth));
        var matchers = pathGlobs.Select(Glob.Matcher).ToList();
        return this with { ResidualScales = [.. ResidualScales, new(c => matchers.Any(m => m(c.Path)), Math.Sqrt(2.0 * depth), description)] };
    }

    /// <summary>As <see cref="ScaleResidual(string, int)"/> with a given factor: the std of matching layers is multiplied by <paramref name="factor"/>.</summary>
    /// <param name="pathGlob">A dotted-path glob.</param>
    /// <param name="factor">The factor; positive and finite.</param>
    /// <param name="description">How the rule reads in the report.</param>
    /// <exception cref="ArgumentException"><paramref name="factor"/> is not positive and finite.</exception>
    public InitPolicy ScaleResidualBy(string pathGlob, double factor, string? description = null)
    {
        var match = Glob.Matcher(pathGlob);
        return this with { ResidualScales = [.. ResidualScales, new(c => match(c.Path), 1 / Positive(factor),
            description ?? $"ScaleResidualBy(\"{pathGlob}\", {Num(factor)}): residual output projection, std × {Num(factor)}")] };
    }

    /// <summary>Modules of type <typeparamref name="TModule"/> (or parts standing for one) are residual output projections of a network of <paramref name="depth"/> blocks: std / √(2·depth).</summary>
    /// <param name="depth">The number of blocks; at least 1.</param>
    /// <exception cref="ArgumentException"><paramref name="depth"/> is below 1.</exception>
    public InitPolicy ScaleResidual<TModule>(int depth) where TModule : TorchSharp.torch.nn.Module
    {
        if (depth < 1) throw new ArgumentException($"depth must be at least 1, got {depth}.", nameof(depth));
        return this with { ResidualScales = [.. ResidualScales, new(c => c.Is(typeof(TModule)), Math.Sqrt(2.0 * depth),
            $"ScaleResidual<{typeof(TModule).Name}>({depth}): residual output projection, std / √(2·{depth})")] };
    }

    /// <summary>The residual rule for <paramref name="c"/> (the last that matches), its value the divisor of the std.</summary>
    internal Rule<double>? ResidualFor(ModuleContext c) => ResidualScales.LastOrDefault(r => r.Match(c));

    /// <summary>A fixed-scheme preset: every projection (Linear, Conv, attention), every Embedding and every normalization layer by its rule.</summary>
    private static InitPolicy Fixed(InitScheme projection, string projectionWhy, InitScheme embedding, string embeddingWhy, string normWhy) =>
        Of(projection)
            .For(c => LayerTaxonomy.Classify(c) is LayerKind.Linear or LayerKind.Convolution or LayerKind.ConvTranspose or LayerKind.Bilinear or LayerKind.Attention, projection, projectionWhy)
            .For(c => LayerTaxonomy.Classify(c) is LayerKind.Embedding, embedding, embeddingWhy)
            .AutoFor(c => LayerTaxonomy.Classify(c) is LayerKind.Normalization, normWhy);   // Auto's normalization rule: weight "ones", bias "zeros", as everywhere

    private static double Positive(double v) => double.IsFinite(v) && v > 0 ? v : throw new ArgumentException($"must be positive and finite, got {v}.");

    private static string Num(double v) => v.ToString("0.####", System.Globalization.CultureInfo.InvariantCulture);
}
