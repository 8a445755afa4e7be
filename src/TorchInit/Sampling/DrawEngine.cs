namespace TorchInit;

/// <summary>How <c>ApplyInit</c> draws random numbers.</summary>
public enum DrawEngine
{
    /// <summary>
    /// libtorch's own generators (<c>normal_</c>, <c>uniform_</c>, the <c>erfinv_</c> truncated normal) in
    /// PyTorch's order: bit-identical to PyTorch for the same seed. libtorch's CPU generator (mt19937) is sequential;
    /// with a seed or an explicit CPU generator, <c>uniform_</c> on contiguous float32/float64 tensors (y = from + u·(to − from),
    /// u = (w &amp; (2²⁴ − 1))/2²⁴ from one tempered word, float64 (v &amp; (2⁵³ − 1))/2⁵³ from two) is computed on every core with libtorch's bits, each thread jumping
    /// ahead in the same mt19937 stream, and the generator left where libtorch leaves it; <c>normal_</c> likewise (libtorch's
    /// Box–Muller per block of 16 on those uniforms). Draws below 2¹⁵ elements stay libtorch's own call. The default.
    /// </summary>
    Exact,

    /// <summary>
    /// TorchInit's parallel SIMD generator: Philox4x32-10 keyed by the seed, one stream per parameter, the
    /// counter given by the element's index, so the values depend on the seed, the parameter's position in the
    /// call and the element's index only — the same for any thread count — but are <b>not</b> PyTorch's.
    /// Normal: Box–Muller; uniform: 24 (float32) or 52 (float64) random bits per value, symmetric about the
    /// mean; truncated normal: float32 by rejection from that normal (a rejected element redrawn from a counter of its
    /// own, then by the inverse CDF), float64 by the inverse CDF, x = μ + σ√2·erfinv(u·erf(k/√2)), u uniform in (−1, 1),
    /// computed in place. Realized statistics, when measured, are accumulated during the fill (no second pass).
    /// </summary>
    Fast,
}
