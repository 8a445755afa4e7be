using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.ML.Data;

namespace TorchInit;

/// <summary>How a report column's values print.</summary>
internal enum ColumnFormat
{
    /// <summary>Text, left-aligned.</summary>
    Text,
    /// <summary>A number with 6 decimals.</summary>
    Fixed6,
    /// <summary>A number with 3 decimals.</summary>
    Fixed3,
    /// <summary>A number as 0.000e+00.</summary>
    Scientific,
    /// <summary>A fraction as a percentage with 1 decimal.</summary>
    Percent,
    /// <summary>A count that may be missing: an integer in the tables, a double (NaN when missing) in the IDataView.</summary>
    Integer,
    /// <summary>A position: an integer in the tables, an Int64 in the IDataView.</summary>
    Index,
}

/// <summary>
/// One column of a report, defined once: its name in the <see cref="Microsoft.ML.IDataView"/> and CSV, its header in the
/// text and HTML tables (null: not in the tables), its value and how it prints. The text table, HTML, CSV and the
/// IDataView are all rendered from the same list.
/// </summary>
internal sealed record ReportColumn<T>(string Name, string? Header, Func<T, object?> Value, ColumnFormat Format = ColumnFormat.Text, bool InView = true)
{
    public bool RightAligned => Format != ColumnFormat.Text;

    /// <summary>The cell text: NaN and null blank, +∞ "inf".</summary>
    public string Cell(T row) => Value(row) switch
    {
        null => "",
        double d when double.IsNaN(d) => "",
        double d when double.IsPositiveInfinity(d) => "inf",
        double d => Format switch
        {
            ColumnFormat.Fixed6 => d.ToString("0.000000", CultureInfo.InvariantCulture),
            ColumnFormat.Fixed3 => d.ToString("0.000", CultureInfo.InvariantCulture),
            ColumnFormat.Scientific => d.ToString("0.000e+00", CultureInfo.InvariantCulture),
            ColumnFormat.Percent => (100 * d).ToString("0.0", CultureInfo.InvariantCulture) + "%",
            _ => d.ToString("R", CultureInfo.InvariantCulture),
        },
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        var o => o.ToString() ?? "",
    };

    /// <summary>The IDataView column: doubles (NaN for none), longs, text.</summary>
    public DataViewColumn<T> ViewColumn() => Format switch
    {
        ColumnFormat.Text => DataViewColumn<T>.Text(Name, r => Value(r)?.ToString() ?? ""),
        ColumnFormat.Index => DataViewColumn<T>.Int64(Name, r => Convert.ToInt64(Value(r), CultureInfo.InvariantCulture)),
        _ => DataViewColumn<T>.Double(Name, r => Value(r) is { } v ? Convert.ToDouble(v, CultureInfo.InvariantCulture) : double.NaN),
    };
}

/// <summary>Renders a list of <see cref="ReportColumn{T}"/> as text, HTML, CSV or an IDataView.</summary>
internal static class ReportColumns
{
    public static List<string[]> Cells<T>(IReadOnlyList<ReportColumn<T>> columns, IEnumerable<T> rows)
    {
        var shown = columns.Where(c => c.Header is not null).ToList();
        return rows.Select(r => shown.Select(c => c.Cell(r)).ToArray()).ToList();
    }

    public static void AppendText<T>(StringBuilder sb, IReadOnlyList<ReportColumn<T>> columns, IEnumerable<T> rows, int? lastRule = null)
    {
        var shown = columns.Where(c => c.Header is not null).ToList();
        TextTable.AppendText(sb, shown.Select(c => c.Header!).ToArray(), shown.Select(c => c.RightAligned).ToArray(), Cells(columns, rows), lastRule);
    }

    public static void AppendHtml<T>(StringBuilder sb, string cssClass, IReadOnlyList<ReportColumn<T>> columns, IEnumerable<T> rows)
    {
        var shown = columns.Where(c => c.Header is not null).ToList();
        TextTable.AppendHtml(sb, cssClass, shown.Select(c => c.Header!).ToArray(), shown.Select(c => c.RightAligned).ToArray(), Cells(columns, rows));
    }

    /// <summary>CSV of the view columns: a header line of column names, invariant culture, NaN empty, text quoted when needed.</summary>
    public static string Csv<T>(IReadOnlyList<ReportColumn<T>> columns, IEnumerable<T> rows, Func<string, string>? headerName = null)
    {
        var cols = columns.Where(c => c.InView).ToList();
        var sb = new StringBuilder();
        sb.AppendJoin(',', cols.Select(c => headerName?.Invoke(c.Name) ?? c.Name)).Append('\n');
        foreach (var r in rows)
            sb.AppendJoin(',', cols.Select(c => Quote(c.Format == ColumnFormat.Text ? c.Value(r)?.ToString() ?? "" : CsvNumber(c.Value(r))))).Append('\n');
        return sb.ToString();
    }

    public static RecordDataView<T> View<T>(IReadOnlyList<ReportColumn<T>> columns, IReadOnlyList<T> rows) =>
        new(rows, columns.Where(c => c.InView).Select(c => c.ViewColumn()).ToList());

    private static string CsvNumber(object? v) => v switch
    {
        null => "",
        double d when double.IsNaN(d) => "",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        var o => o.ToString() ?? "",
    };

    private static string Quote(string s) => s.IndexOfAny([',', '"', '\n']) < 0 ? s : "\"" + s.Replace("\"", "\"\"") + "\"";
}
