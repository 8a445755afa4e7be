namespace TorchInit;

/// <summary>How <c>ApplyInit</c> draws random numbers.</summary>
public enum DrawEngine
{
    /// <summary>
    /// libtorch's own generators (<c>normal_</c>, <c>uniform_</c>, the <c>erfinv_</c> truncated normal) in
    /// PyTorch's order: bit-identical to PyTorch for the same seed. Single-threaded in libtorch (its CPU
    /// generator is sequential). The default.
    /// </summary>
    Exact,

    /// <summary>
    /// TorchInit's parallel SIMD generator: Philox4x32-10 keyed by the seed, one stream per parameter, the
    /// counter given by the element's index, so the values depend on the seed, the parameter's position in the
    /// call and the element's index only — the same for any thread count — but are <b>not</b> PyTorch's.
    /// Normal: Box–Muller; uniform: 24 (float32) or 52 (float64) random bits per value, symmetric about the
    /// mean; truncated normal: inverse CDF, x = μ + σ√2·erfinv(u·erf(k/√2)), u uniform in (−1, 1), computed
    /// in place. Realized statistics, when measured, are accumulated during the fill (no second pass).
    /// </summary>
    Fast,
}
