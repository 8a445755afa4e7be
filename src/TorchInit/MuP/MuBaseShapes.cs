using TorchSharp;
using System.Text.Json;
using System.Text.Json.Serialization;
using TorchInit.Modules;
using static TorchSharp.torch;

namespace TorchInit;

/// <summary>
/// One parameter's base shape for μP: its qualified name (as the report names it), its shape n₀ in the base model, and which
/// dimensions are <em>infinite</em> (grow with width: their size differs between the base and the delta model).
/// </summary>
/// <param name="Name">The qualified name, e.g. "fc2.weight".</param>
/// <param name="BaseShape">The shape in the base model.</param>
/// <param name="Infinite">Per dimension, whether it grows with width.</param>
public sealed record MuBaseShape(string Name, IReadOnlyList<long> BaseShape, IReadOnlyList<bool> Infinite)
{
    /// <summary>Whether any dimension grows with width.</summary>
    public bool HasInfinite => Infinite.Any(x => x);
}

/// <summary>
/// The base shapes of a μP model (Yang et al. 2022, "Tensor Programs V", §3): for every parameter, its shape in a small base
/// model and which of its dimensions scale with width, found by comparing the base with a <em>delta</em> model of the same
/// architecture at another width. A model of any width is then read against them: a dimension of size n with base size n₀ has
/// multiplier n/n₀ (<see cref="MuP"/>, <see cref="InitPolicy.MuP"/>). Immutable; saved and loaded as JSON so the base models
/// need not be built again.
/// </summary>
public sealed class MuBaseShapes
{
    private readonly Dictionary<string, MuBaseShape> _byName;

    private MuBaseShapes(IReadOnlyList<MuBaseShape> parameters)
    {
        Parameters = parameters;
        _byName = new Dictionary<string, MuBaseShape>(StringComparer.Ordinal);
        foreach (var p in parameters)
        {
            if (p is null || string.IsNullOrEmpty(p.Name)) throw new ArgumentException("μP base shapes: a parameter has no name.");
            if (p.BaseShape is null || p.Infinite is null || p.BaseShape.Count != p.Infinite.Count)
                throw new ArgumentException($"μP base shapes: '{p.Name}' needs a base shape and one infinite flag per dimension.");
            if (p.BaseShape.Any(n => n < 0)) throw new ArgumentException($"μP base shapes: '{p.Name}' has a negative size {MuText.Shape(p.BaseShape)}.");
            for (int i = 0; i < p.BaseShape.Count; i++)
                if (p.Infinite[i] && p.BaseShape[i] == 0) throw new ArgumentException(MuText.ZeroInfinite(p.Name, p.BaseShape, i));
            if (!_byName.TryAdd(p.Name, p)) throw new ArgumentException($"μP base shapes: '{p.Name}' appears twice.");
        }
        if (!parameters.Any(p => p.HasInfinite))
            throw new ArgumentException(MuText.NoInfinite(parameters.Count));
    }

    /// <summary>Every parameter's base shape, in the base model's pre-order.</summary>
    public IReadOnlyList<MuBaseShape> Parameters { get; }

    /// <summary>The base shape of the parameter named <paramref name="qualifiedName"/>.</summary>
    /// <exception cref="KeyNotFoundException">No parameter has that name.</exception>
    public MuBaseShape this[string qualifiedName] =>
        _byName.TryGetValue(qualifiedName, out var s) ? s : throw new KeyNotFoundException($"No μP base shape for '{qualifiedName}'.");

    internal bool TryGet(string qualifiedName, out MuBaseShape shape) => _byName.TryGetValue(qualifiedName, out shape!);

    /// <summary>
    /// The base shapes of <paramref name="baseModel"/>, with each dimension infinite where <paramref name="deltaModel"/> (the same
    /// architecture at another, larger width) has another size. Neither model is changed; meta-device models are fine.
    /// </summary>
    /// <exception cref="ArgumentNullException">A model is null.</exception>
    /// <exception cref="ArgumentException">The models' parameters differ in name, number or rank (another depth or architecture), the
    /// delta is smaller than the base in some dimension, or no dimension differs.</exception>
    public static MuBaseShapes FromModels(nn.Module baseModel, nn.Module deltaModel)
    {
        ArgumentNullException.ThrowIfNull(baseModel);
        ArgumentNullException.ThrowIfNull(deltaModel);
        var b = Named(baseModel);
        var d = Named(deltaModel).ToDictionary(p => p.Name, p => p.Shape, StringComparer.Ordinal);
        var missing = b.Where(p => !d.ContainsKey(p.Name)).Select(p => p.Name).ToList();
        var extra = d.Keys.Except(b.Select(p => p.Name)).ToList();
        if (missing.Count > 0 || extra.Count > 0) throw new ArgumentException(MuText.DifferentParameters("base", "delta", missing, extra));
        var shapes = new List<MuBaseShape>();
        foreach (var (name, shape) in b)
        {
            var other = d[name];
            if (other.Length != shape.Length) throw new ArgumentException(MuText.DifferentRank(name, "base", shape, "delta", other));
            for (int i = 0; i < shape.Length; i++)
                if (other[i] < shape[i]) throw new ArgumentException(MuText.DeltaShrinks(name, shape, other, i));
            shapes.Add(new MuBaseShape(name, shape, shape.Select((n, i) => other[i] != n).ToArray()));
        }
        return new MuBaseShapes(shapes);
    }

    /// <summary>
    /// The base shapes of <paramref name="factory"/>'s models at <paramref name="baseWidth"/> and <paramref name="deltaWidth"/>, both
    /// built on the meta device (no parameter memory, no random numbers drawn: the global generator's state is put back) and
    /// disposed: <see cref="FromModels"/> of the two.
    /// </summary>
    /// <remarks>TorchSharp's default device and global generator are process-wide: while the factory runs, tensors that other threads
    /// create without a device land on the meta device, and the generator's state is put back afterwards. Build base shapes once at
    /// start-up (or <see cref="Save"/> them and <see cref="Load"/> the file), not while other threads build models; TorchInit's own meta
    /// constructions (this and <see cref="Build"/>) take turns.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="factory"/> is null.</exception>
    /// <exception cref="ArgumentException">The widths are not positive, or <paramref name="deltaWidth"/> is not larger than <paramref name="baseWidth"/>; and as <see cref="FromModels"/>.</exception>
    public static MuBaseShapes FromFactory<T>(Func<long, T> factory, long baseWidth, long deltaWidth) where T : nn.Module
    {
        ArgumentNullException.ThrowIfNull(factory);
        if (baseWidth <= 0 || deltaWidth <= baseWidth)
            throw new ArgumentException($"μP base shapes need 0 < baseWidth < deltaWidth; got baseWidth = {baseWidth}, deltaWidth = {deltaWidth}.", nameof(deltaWidth));
        using var b = OnMeta(() => factory(baseWidth));
        using var d = OnMeta(() => factory(deltaWidth));
        return FromModels(b, d);
    }

    private static T OnMeta<T>(Func<T> factory) where T : nn.Module =>
        MetaConstruction.Run(factory) ?? throw new ArgumentException("The μP model factory returned null.");

    /// <summary>The base shapes as JSON: <c>{"parameters": [{"name": "fc2.weight", "baseShape": [128, 128], "infinite": [true, true]}, …]}</c>.</summary>
    public string ToJson() => JsonSerializer.Serialize(new Document(Parameters.Select(p => (Entry?)new Entry(p.Name, p.BaseShape.ToArray(), p.Infinite.ToArray())).ToList()), JsonOptions);

    /// <summary>Reads base shapes from <see cref="ToJson"/>'s text.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="json"/> is null.</exception>
    /// <exception cref="ArgumentException">The text is not that JSON, or its shapes are invalid (see <see cref="FromModels"/>).</exception>
    public static MuBaseShapes FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return Parse(json, "μP base shapes", nameof(json));
    }

    /// <summary>Reads <see cref="ToJson"/>'s text; every refusal an <see cref="ArgumentException"/> for <paramref name="paramName"/>, its message starting with <paramref name="source"/>.</summary>
    private static MuBaseShapes Parse(string json, string source, string paramName)
    {
        Document? doc;
        try { doc = JsonSerializer.Deserialize<Document>(json, JsonOptions); }
        catch (JsonException e) { throw new ArgumentException($"{source}: not valid JSON ({e.Message}).", paramName, e); }
        if (doc?.Parameters is null) throw new ArgumentException($"{source}: the JSON has no \"parameters\" list.", paramName);
        try { return new MuBaseShapes(doc.Parameters.Select(e => e is null ? null! : new MuBaseShape(e.Name!, e.BaseShape!, e.Infinite!)).ToList()); }
        catch (ArgumentException e) when (paramName != nameof(json)) { throw new ArgumentException($"{source}: {e.Message.Replace("μP base shapes: ", "", StringComparison.Ordinal)}", paramName, e); }
    }

    /// <summary>Writes <see cref="ToJson"/> to <paramref name="path"/>.</summary>
    public void Save(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        File.WriteAllText(path, ToJson());
    }

    /// <summary>Reads base shapes saved by <see cref="Save"/>.</summary>
    /// <exception cref="FileNotFoundException">No such file.</exception>
    /// <exception cref="ArgumentException">The file is not base shapes (see <see cref="FromJson"/>); the message names the file.</exception>
    public static MuBaseShapes Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path)) throw new FileNotFoundException($"No μP base shapes file '{path}'.", path);
        return Parse(File.ReadAllText(path), $"μP base shapes file '{path}'", nameof(path));
    }

    /// <summary>
    /// Checks a target model against the base shapes and returns, per parameter name, its shape: the same names, ranks and finite
    /// sizes, and no infinite dimension smaller than the base's; otherwise an <see cref="ArgumentException"/> naming every problem.
    /// </summary>
    internal IReadOnlyDictionary<string, long[]> Check(ModuleContext model)
    {
        var target = Named(model);
        var names = target.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        var missing = Parameters.Where(p => !names.Contains(p.Name)).Select(p => p.Name).ToList();
        var extra = target.Where(p => !_byName.ContainsKey(p.Name)).Select(p => p.Name).ToList();
        if (missing.Count > 0 || extra.Count > 0) throw new ArgumentException(MuText.DifferentParameters("base shapes", "model", missing, extra));
        var problems = new List<string>();
        foreach (var (name, shape) in target)
        {
            var b = _byName[name];
            if (b.BaseShape.Count != shape.Length) { problems.Add(MuText.DifferentRank(name, "base", b.BaseShape, "model", shape)); continue; }
            for (int i = 0; i < shape.Length; i++)   // the first problem of each parameter
            {
                string? problem = !b.Infinite[i] && shape[i] != b.BaseShape[i] ? MuText.FiniteChanged(name, b.BaseShape, shape, i)
                    : b.Infinite[i] && shape[i] < b.BaseShape[i] ? MuText.TargetShrinks(name, b.BaseShape, shape, i) : null;
                if (problem is null) continue;
                problems.Add(problem);
                break;
            }
        }
        if (problems.Count > 0)
            throw new ArgumentException(string.Join(" ", problems.Take(4)) + (problems.Count > 4 ? $" ({problems.Count - 4} more parameters likewise.)" : ""));
        return target.ToDictionary(p => p.Name, p => p.Shape, StringComparer.Ordinal);
    }

    /// <summary>Every parameter of <paramref name="model"/> by its qualified name in TorchInit's pre-order (transformer parts included), once per name.</summary>
    internal static List<(string Name, long[] Shape)> Named(nn.Module model) => Named(ModuleContext.Build(model));

    /// <summary>Every parameter of the tree under <paramref name="root"/> by its qualified name, in pre-order, once per name.</summary>
    internal static List<(string Name, long[] Shape)> Named(ModuleContext root)
    {
        var list = new List<(string, long[])>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var c in root.PreOrder().Where(c => !c.IsShared))
            foreach (var (name, p) in c.OwnParameters())
            {
                var q = PlanText.Qualified(c.Path, name);
                if (seen.Add(q)) list.Add((q, p.shape));
            }
        return list;
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    private sealed record Document([property: JsonPropertyName("parameters")] List<Entry?>? Parameters);

    private sealed record Entry(string? Name, long[]? BaseShape, bool[]? Infinite);
}
