using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;

namespace TorchInit;

/// <summary>
/// A scheme's text, one grammar for every scheme: <c>Head</c> or <c>Head(arg, key=value, …)</c>. Each scheme file formats its
/// own arguments (<see cref="InitScheme.TextArguments"/>) and reads them back (a static <c>FromText(string, SchemeArguments)</c>,
/// found by reflection, so a new scheme file needs no entry here). PyTorch's and Keras's names are aliases, each meaning
/// what it means in its library.
/// </summary>
internal static class SchemeText
{
    /// <summary>PyTorch's <c>torch.nn.init</c> names (without the trailing underscore) and Keras's initializer names, each to TorchInit's head.</summary>
    private static readonly Dictionary<string, (string Head, string Library)> Aliases = new()
    {
        // PyTorch: kaiming_* and xavier_* are plain normals/uniforms.
        ["kaiming_normal"] = ("HeNormal", "PyTorch"),
        ["kaiming_uniform"] = ("HeUniform", "PyTorch"),
        ["xavier_normal"] = ("GlorotNormal", "PyTorch"),
        ["xavier_uniform"] = ("GlorotUniform", "PyTorch"),
        ["normal"] = ("Normal", "PyTorch"),
        ["uniform"] = ("Uniform", "PyTorch"),
        ["constant"] = ("Constant", "PyTorch"),
        ["zeros"] = ("Zeros", "PyTorch"),
        ["ones"] = ("Ones", "PyTorch"),
        ["orthogonal"] = ("Orthogonal", "PyTorch"),
        ["eye"] = ("Eye", "PyTorch"),
        ["dirac"] = ("Dirac", "PyTorch"),
        ["sparse"] = ("Sparse", "PyTorch"),
        // Keras: he_normal, glorot_normal and lecun_normal are truncated normals.
        ["he_normal"] = ("HeTruncatedNormal", "Keras"),
        ["glorot_normal"] = ("GlorotTruncatedNormal", "Keras"),
        ["lecun_normal"] = ("LeCunTruncatedNormal", "Keras"),
        ["he_uniform"] = ("HeUniform", "Keras"),
        ["glorot_uniform"] = ("GlorotUniform", "Keras"),
        ["lecun_uniform"] = ("LeCunUniform", "Keras"),
        ["variance_scaling"] = ("VarianceScaling", "Keras"),
        ["random_normal"] = ("random_normal", "Keras"),
        ["random_uniform"] = ("random_uniform", "Keras"),
        ["truncated_normal"] = ("keras_truncated_normal", "Keras"),
        ["identity"] = ("Eye", "Keras"),
    };

    private static readonly Lazy<List<Func<string, SchemeArguments, InitScheme?>>> Readers = new(() =>
        typeof(InitScheme).Assembly.GetTypes()
            .Where(t => t.IsSubclassOf(typeof(InitScheme)) && !t.IsAbstract)
            .OrderBy(t => t.Name, StringComparer.Ordinal)
            .Select(t => t.GetMethod("FromText", BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public, [typeof(string), typeof(SchemeArguments)]))
            .Where(m => m is not null)
            .Select(m => (Func<string, SchemeArguments, InitScheme?>)m!.CreateDelegate(typeof(Func<string, SchemeArguments, InitScheme?>)))
            .ToList());

    private static readonly Regex Shape = new(@"^\s*([A-Za-z][A-Za-z0-9_\-]*)\s*(?:\((.*)\))?\s*$", RegexOptions.CultureInvariant | RegexOptions.Singleline);

    public static string Format(string head, IEnumerable<(string? Key, string Value)> arguments)
    {
        var args = arguments.Select(a => a.Key is null ? a.Value : $"{a.Key}={a.Value}").ToList();
        return args.Count == 0 ? head : $"{head}({string.Join(", ", args)})";
    }

    public static InitScheme Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var m = Shape.Match(text);
        if (!m.Success) throw Unknown(text, "it is not of the form Name or Name(arguments)");
        string head = m.Groups[1].Value;
        var args = SchemeArguments.Read(text, m.Groups[2].Success ? m.Groups[2].Value : "");
        if (Same(head, "Auto"))
            throw new ArgumentException($"'{text}': Auto is a policy, not a scheme: use InitPolicy.Auto (model.ApplyInit(InitPolicy.Auto)).", nameof(text));
        if (head.Contains('_') || head.Contains('-') || head.All(c => !char.IsUpper(c)))
            if (Aliases.TryGetValue(head.ToLowerInvariant().Replace('-', '_'), out var alias))
            {
                if (alias.Library == "PyTorch" && alias.Head is "HeNormal" or "HeUniform" && (args.Has("a") || args.Has("mode") || args.Has("nonlinearity")))
                    return Kaiming(alias.Head == "HeNormal" ? Distribution.Normal : Distribution.Uniform, args, head);
                head = alias.Head;
            }
        foreach (var read in Readers.Value)
            if (read(head, args) is { } scheme) return scheme;
        throw Unknown(text, "no scheme has that name");
    }

    /// <summary>
    /// PyTorch's <c>kaiming_normal_(a=0, mode='fan_in', nonlinearity='leaky_relu')</c> / <c>kaiming_uniform_</c> with its arguments:
    /// σ = gain(nonlinearity, a) / √fan, exactly what <see cref="Init.KaimingNormal"/> and <see cref="Init.KaimingUniform"/> draw.
    /// </summary>
    private static InitScheme Kaiming(Distribution distribution, SchemeArguments args, string head)
    {
        double a = args.Double("a", 0.0);
        var mode = args.Enum("mode", FanMode.FanIn);
        if (mode == FanMode.FanAvg) throw new ArgumentException($"{head}: mode=fan_avg is Xavier's; kaiming takes fan_in or fan_out.", "name");
        var nonlinearity = args.Enum("nonlinearity", Nonlinearity.LeakyRelu);
        args.EnsureAllRead(head);
        return InitScheme.VarianceScaling(1.0, mode, distribution, nonlinearity, nonlinearity == Nonlinearity.LeakyRelu ? a : null);
    }

    private static ArgumentException Unknown(string text, string why) => new(
        $"Unknown init scheme '{text}': {why}. Known: {string.Join(", ", InitScheme.Named.Select(s => s.Name))}, Ones, Orthogonal, Eye, " +
        "Dirac(groups=1), Sparse(sparsity, std=0.01), DeltaOrthogonal, Normal(std) or Normal(mean, std), TruncatedNormal(std) or TruncatedNormal(mean, std, a=-2, b=2), " +
        "Uniform(low, high), Constant(value), with a std or bound from the layer's fan as Python writes it Normal(std=sqrt(2/fan_out)), " +
        "TruncatedNormal(std=sqrt(1/fan_in)), Uniform(bound=1/sqrt(fan_out)), " +
        "VarianceScaling(scale=, mode=fan_in|fan_out|fan_avg, distribution=normal|uniform|truncated_normal); a scheme with a gain takes " +
        "(nonlinearity=linear|sigmoid|tanh|relu|leaky_relu|selu, slope=a). PyTorch's names mean PyTorch's functions " +
        "(kaiming_normal, kaiming_uniform, xavier_normal, xavier_uniform, normal, uniform, ...); Keras's mean Keras's " +
        "(he_normal, glorot_normal and lecun_normal are truncated normals; he_uniform, glorot_uniform, lecun_uniform, variance_scaling, random_normal, random_uniform, truncated_normal, identity).",
        "name");

    /// <summary>Whether two names are the same, ignoring case, '-' and '_'.</summary>
    public static bool Same(string a, string b) => string.Equals(Key(a), Key(b), StringComparison.Ordinal);

    private static string Key(string s) => s.Replace("-", "").Replace("_", "").ToLowerInvariant();

    public static string Number(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>An enum value in snake_case: FanIn → fan_in, TruncatedNormal → truncated_normal, LeakyRelu → leaky_relu.</summary>
    public static string Word<T>(T value) where T : struct, Enum
    {
        var name = value.ToString();
        var sb = new StringBuilder();
        for (int i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0) sb.Append('_');
            sb.Append(char.ToLowerInvariant(name[i]));
        }
        return sb.ToString();
    }

    public static T ParseWord<T>(string word, string key) where T : struct, Enum
    {
        foreach (var v in Enum.GetValues<T>())
            if (Same(word, v.ToString())) return v;
        throw new ArgumentException($"{key}={word}: expected one of {string.Join(", ", Enum.GetValues<T>().Select(v => Word(v)))}.", "name");
    }
}

/// <summary>The arguments of a scheme's text: positional ones in order and key=value ones; each reader takes what it knows and checks nothing is left.</summary>
internal sealed class SchemeArguments
{
    private readonly string _text;
    private readonly List<string> _positional = new();
    private readonly Dictionary<string, string> _named = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _read = new(StringComparer.OrdinalIgnoreCase);
    private int _positionalRead;

    private SchemeArguments(string text) => _text = text;

    public static SchemeArguments Read(string text, string arguments)
    {
        var a = new SchemeArguments(text);
        foreach (var part in arguments.Split(',', StringSplitOptions.TrimEntries))
        {
            if (part.Length == 0)
            {
                if (arguments.Trim().Length > 0) throw a.Bad("an empty argument");
                continue;
            }
            int eq = part.IndexOf('=');
            if (eq < 0)
            {
                if (a._named.Count > 0) throw a.Bad($"positional argument '{part}' after a named one");
                a._positional.Add(part);
            }
            else if (!a._named.TryAdd(part[..eq].Trim().Replace('-', '_'), part[(eq + 1)..].Trim()))
                throw a.Bad($"'{part[..eq].Trim()}' given twice");
        }
        return a;
    }

    public int PositionalCount => _positional.Count;

    public bool Has(string key) => _named.ContainsKey(key);

    public double Positional(int i)
    {
        _positionalRead = Math.Max(_positionalRead, i + 1);
        return Number(_positional[i], $"argument {i + 1}");
    }

    public double PositionalOr(int i, double fallback) => i < _positional.Count ? Positional(i) : fallback;

    /// <summary>The argument given at position <paramref name="i"/> or by <paramref name="key"/>, else <paramref name="fallback"/>; given both ways is an error.</summary>
    public double At(int i, string key, double fallback) => At(i, [key], fallback);

    /// <summary>As <see cref="At(int, string, double)"/>, the key also spelled <paramref name="alias"/>.</summary>
    public double At(int i, string key, string alias, double fallback) => At(i, [key, alias], fallback);

    /// <summary>The only positional argument, <paramref name="i"/>, which stands for <paramref name="key"/> (or one of its aliases): not given by name too.</summary>
    public double Single(int i, string key, params string[] aliases) => At(i, [key, .. aliases], double.NaN);

    private double At(int i, string[] keys, double fallback)
    {
        var named = keys.Where(Has).ToList();
        if (named.Count > 1) throw Bad($"'{named[0]}' and '{named[1]}' are the same argument");
        bool positional = i < _positional.Count;
        if (named.Count == 1 && positional) throw Bad($"{keys[0]} is given both as argument {i + 1} and as {named[0]}=");
        return named.Count == 1 ? Double(named[0], fallback) : positional ? Positional(i) : fallback;
    }

    public double Double(string key, double fallback)
    {
        if (!_named.TryGetValue(key, out var v)) return fallback;
        _read.Add(key);
        return Number(v, key);
    }

    /// <summary>The value given as <paramref name="key"/>= when <paramref name="parse"/> reads it (it is then read), else null (left for another reader).</summary>
    public T? Text<T>(string key, Func<string, T?> parse) where T : class
    {
        if (!_named.TryGetValue(key, out var v) || parse(v) is not { } value) return null;
        _read.Add(key);
        return value;
    }

    public T Enum<T>(string key, T fallback) where T : struct, Enum
    {
        if (!_named.TryGetValue(key, out var v)) return fallback;
        _read.Add(key);
        return SchemeText.ParseWord<T>(v, key);
    }

    /// <summary>Throws when an argument was given that <paramref name="scheme"/> does not take.</summary>
    public void EnsureAllRead(string scheme)
    {
        if (_positionalRead < _positional.Count)
            throw Bad($"{scheme} takes {_positionalRead} positional argument(s), got {_positional.Count}");
        var unknown = _named.Keys.Where(k => !_read.Contains(k)).ToList();
        if (unknown.Count > 0) throw Bad($"{scheme} takes no argument {string.Join(", ", unknown)}");
    }

    private double Number(string s, string what) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) ? v
            : throw Bad($"{what} = '{s}' is not a finite number");

    private ArgumentException Bad(string why) => new($"Cannot read init scheme '{_text}': {why}.", "name");
}
