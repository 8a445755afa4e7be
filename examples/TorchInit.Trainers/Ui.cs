using System.Globalization;
using System.Text;
using Spectre.Console;

namespace TorchInit.Trainers;

/// <summary>Progress bars and tables on the console (Spectre.Console), and the same tables as Markdown.</summary>
internal static class Ui
{
    /// <summary>Runs <paramref name="work"/> under one progress bar of <paramref name="totalSteps"/>; the callback takes (run, step in run, steps in run).</summary>
    public static T WithProgress<T>(string title, int totalSteps, Func<Action<string, int, int>, T> work) =>
        AnsiConsole.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(title, maxValue: Math.Max(1, totalSteps));
                return work((run, _, _) =>
                {
                    task.Description = $"{title}: {Markup.Escape(run)}";
                    task.Increment(1);
                });
            });

    /// <summary>A console table.</summary>
    public static void Table(string title, string[] header, IEnumerable<string[]> rows)
    {
        var table = new Table().Title(Markup.Escape(title)).Border(TableBorder.Rounded);
        for (int i = 0; i < header.Length; i++)
        {
            var column = new TableColumn(Markup.Escape(header[i]));
            if (i > 0) column.RightAligned();
            table.AddColumn(column);
        }
        foreach (var row in rows) table.AddRow(row.Select(c => Markup.Escape(c)).ToArray());
        AnsiConsole.Write(table);
    }

    /// <summary>The same table as GitHub Markdown.</summary>
    public static string Markdown(string[] header, IEnumerable<string[]> rows)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| " + string.Join(" | ", header) + " |");
        sb.AppendLine("|" + string.Join("|", header.Select((_, i) => i == 0 ? "---" : "---:")) + "|");
        foreach (var r in rows) sb.AppendLine("| " + string.Join(" | ", r) + " |");
        return sb.ToString();
    }

    public static string Sci(double v) => double.IsNaN(v) ? "nan" : double.IsInfinity(v) ? (v > 0 ? "inf" : "-inf") : v.ToString("0.00e+00", CultureInfo.InvariantCulture);
    public static string Fixed(double v, int digits = 4) => double.IsNaN(v) ? "nan" : double.IsInfinity(v) ? (v > 0 ? "inf" : "-inf") : v.ToString("F" + digits, CultureInfo.InvariantCulture);
    /// <summary>A loss: fixed below 10⁴, scientific above.</summary>
    public static string Loss(double v) => double.IsFinite(v) && Math.Abs(v) >= 1e4 ? Sci(v) : Fixed(v);
    public static string Percent(double v) => double.IsNaN(v) ? "" : (100 * v).ToString("0.0", CultureInfo.InvariantCulture) + "%";

    public static void Info(string text) => AnsiConsole.MarkupLine($"[grey]{Markup.Escape(text)}[/]");
    public static void Error(string text) => AnsiConsole.MarkupLine($"[red]{Markup.Escape(text)}[/]");
    public static void Good(string text) => AnsiConsole.MarkupLine($"[green]{Markup.Escape(text)}[/]");
}
