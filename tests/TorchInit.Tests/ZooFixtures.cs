using System.Security.Cryptography;
using System.Text.Json;
using static TorchSharp.torch;

namespace TorchInit.Tests;

/// <summary>
/// The model-zoo fixtures (Fixtures/zoo from scripts/gen_zoo_fixtures.py, Fixtures/torchvision-trees from
/// scripts/gen_torchvision_tree_fixtures.py): per parameter and buffer of a real torchvision model, the SHA-256 of its bytes,
/// and for the models that draw truncated normals the bits of each weight's first 64 elements; and the comparison of a model
/// with them, bit for bit or, for truncated normals, counted in ulp.
/// </summary>
internal static class ZooFixtures
{
    /// <summary>Truncated-normal elements may differ from PyTorch 2.6 in erfinv's last bits (libtorch 2.10); never more than this.</summary>
    public const int MaxTruncatedNormalUlp = 16;   // measured: 3 (googlenet), 5 (inception_v3)

    public sealed record Entry(string Kind, string Name, long[] Shape, string Sha256, uint[]? Head);
    public sealed record Truncated(string Name, int Compared, int Differing, long MaxUlp);

    private static readonly Dictionary<string, JsonDocument> Docs = new();

    /// <summary>The tensors of <paramref name="model"/>'s variant for <paramref name="seed"/> in Fixtures/<paramref name="directory"/>.</summary>
    public static List<Entry> Of(string directory, string model, long seed)
    {
        lock (Docs)
        {
            string path = Path.Combine(AppContext.BaseDirectory, "Fixtures", directory, $"{model}.json");
            if (!Docs.TryGetValue(path, out var doc)) Docs[path] = doc = JsonDocument.Parse(File.ReadAllText(path));
            var variant = doc.RootElement.GetProperty("variants").EnumerateArray().Single(v => v.GetProperty("seed").GetInt64() == seed);
            return variant.GetProperty("tensors").EnumerateArray().Select(t => new Entry(
                t.GetProperty("kind").GetString()!, t.GetProperty("name").GetString()!,
                t.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray(), t.GetProperty("sha256").GetString()!,
                t.TryGetProperty("head", out var h) ? Bits(Convert.FromHexString(h.GetString()!)) : null)).ToList();
        }
    }

    private static uint[] Bits(byte[] bytes) => Enumerable.Range(0, bytes.Length / 4).Select(i => BitConverter.ToUInt32(bytes, 4 * i)).ToArray();

    /// <summary>The model's tensor that <paramref name="e"/> names, or null when it has none of that name and shape.</summary>
    public static Tensor? Find(nn.Module m, Entry e)
    {
        var t = e.Kind == "parameter" ? m.named_parameters().FirstOrDefault(p => p.name == e.Name).parameter
                                      : m.named_buffers().FirstOrDefault(b => b.name == e.Name).buffer;
        return t is not null && t.shape.SequenceEqual(e.Shape) ? t : null;
    }

    /// <summary>Whether <paramref name="t"/>'s bytes hash to the fixture's SHA-256.</summary>
    public static bool Same(Tensor t, Entry e)
    {
        using var c = t.detach().cpu().contiguous();
        return Convert.ToHexString(SHA256.HashData(c.bytes)).Equals(e.Sha256, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// Tensors equal to the fixture's bit for bit, and those that differ only as erfinv's rounding does: with a head in the
    /// fixture, at most half of its elements differ, each by at most <see cref="MaxTruncatedNormalUlp"/> ulp (float32 bit
    /// patterns of one sign are ordered, so their difference is the ulp count); and the names of the others.
    /// </summary>
    public static (int Exact, List<Truncated> Truncated, List<string> Different) Compare(nn.Module m, IReadOnlyList<Entry> fixture)
    {
        var actual = m.named_parameters().Select(p => ("parameter " + p.name, (Tensor)p.parameter))
            .Concat(m.named_buffers().Select(b => ("buffer " + b.name, b.buffer))).ToDictionary(x => x.Item1, x => x.Item2);
        int exact = 0;
        var truncated = new List<Truncated>();
        var different = new List<string>();
        foreach (var e in fixture)
        {
            if (!actual.TryGetValue(e.Kind + " " + e.Name, out var t) || !t.shape.SequenceEqual(e.Shape)) { different.Add(e.Name + " (missing)"); continue; }
            if (Same(t, e)) { exact++; continue; }
            using var c = t.detach().cpu().contiguous();
            if (e.Head is null || c.dtype != ScalarType.Float32) { different.Add(e.Name); continue; }
            using var flat = c.flatten();
            using var first = flat[..e.Head.Length];
            var mine = Bits(first.bytes.ToArray());
            int differing = 0;
            long maxUlp = 0;
            for (int i = 0; i < e.Head.Length; i++)
            {
                if (mine[i] == e.Head[i]) continue;
                differing++;
                long ulp = (mine[i] >> 31) == (e.Head[i] >> 31) ? Math.Abs((long)(mine[i] & 0x7fffffff) - (e.Head[i] & 0x7fffffff)) : long.MaxValue;
                maxUlp = Math.Max(maxUlp, ulp);
            }
            // erfinv's rounding moves few elements by few ulp; another draw moves most of them far.
            if (maxUlp <= MaxTruncatedNormalUlp && differing * 2 <= e.Head.Length) truncated.Add(new Truncated(e.Name, e.Head.Length, differing, maxUlp));
            else different.Add(e.Name);
        }
        return (exact, truncated, different);
    }
}
