using System.CommandLine;

namespace TorchInit.Trainers;

/// <summary>Options every trainer takes, and small helpers for the others.</summary>
internal sealed class CommonOptions
{
    public Option<long> Seed { get; } = new("--seed") { Description = "Weight seed (the data use seed + 1, seed + 2).", DefaultValueFactory = _ => 0 };
    public Option<string> Device { get; } = new("--device") { Description = "cpu or cuda (cuda needs a build with -p:TorchBackend=cuda and a GPU).", DefaultValueFactory = _ => "cpu" };
    public Option<string> Out { get; } = new("--out") { Description = "Folder for the PNG plots, tables and JSON results.", DefaultValueFactory = _ => "out" };
    public Option<string> Dtype { get; } = new("--dtype") { Description = "float32 or float64 (weights, data and arithmetic).", DefaultValueFactory = _ => "float32" };

    public void AddTo(Command command)
    {
        command.Options.Add(Seed);
        command.Options.Add(Device);
        command.Options.Add(Out);
        command.Options.Add(Dtype);
    }

    public static Option<int> Int(string name, int value, string description) => new(name) { Description = description, DefaultValueFactory = _ => value };
    public static Option<double> Double(string name, double value, string description) => new(name) { Description = description, DefaultValueFactory = _ => value };
    public static Option<string> Text(string name, string value, string description) => new(name) { Description = description, DefaultValueFactory = _ => value };

    public static string[] List(string csv) => csv.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
