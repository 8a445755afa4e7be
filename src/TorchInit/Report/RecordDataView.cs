using Microsoft.ML;
using Microsoft.ML.Data;

namespace TorchInit;

/// <summary>A column of a <see cref="RecordDataView{T}"/>: text, double, long or bool.</summary>
internal sealed record DataViewColumn<T>(string Name, DataViewType Type, Func<T, object> Value)
{
    public static DataViewColumn<T> Text(string name, Func<T, string> f) => new(name, TextDataViewType.Instance, r => f(r).AsMemory());
    public static DataViewColumn<T> Double(string name, Func<T, double> f) => new(name, NumberDataViewType.Double, r => f(r));
    public static DataViewColumn<T> Int64(string name, Func<T, long> f) => new(name, NumberDataViewType.Int64, r => f(r));
    public static DataViewColumn<T> Bool(string name, Func<T, bool> f) => new(name, BooleanDataViewType.Instance, r => f(r));
}

/// <summary>A read-only, in-memory <see cref="IDataView"/> over a list of records, so reports can be consumed by ML.NET tooling.</summary>
internal sealed class RecordDataView<T> : IDataView
{
    private readonly IReadOnlyList<T> _rows;
    private readonly IReadOnlyList<DataViewColumn<T>> _columns;

    public RecordDataView(IReadOnlyList<T> rows, IReadOnlyList<DataViewColumn<T>> columns)
    {
        _rows = rows;
        _columns = columns;
        var builder = new DataViewSchema.Builder();
        foreach (var c in columns) builder.AddColumn(c.Name, c.Type);
        Schema = builder.ToSchema();
    }

    public bool CanShuffle => false;
    public DataViewSchema Schema { get; }
    public long? GetRowCount() => _rows.Count;

    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) =>
        new Cursor(this, columnsNeeded.Select(c => c.Index).ToHashSet());

    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) =>
        [GetRowCursor(columnsNeeded, rand)];

    private sealed class Cursor(RecordDataView<T> view, HashSet<int> active) : DataViewRowCursor
    {
        private long _position = -1;
        public override long Position => _position;
        public override long Batch => 0;
        public override DataViewSchema Schema => view.Schema;
        public override bool IsColumnActive(DataViewSchema.Column column) => active.Contains(column.Index);

        public override bool MoveNext()
        {
            if (_position + 1 >= view._rows.Count) { _position = view._rows.Count; return false; }
            _position++;
            return true;
        }

        public override ValueGetter<TValue> GetGetter<TValue>(DataViewSchema.Column column)
        {
            if (!IsColumnActive(column))
                throw new InvalidOperationException($"Column '{column.Name}' was not requested when the cursor was made.");
            var col = view._columns[column.Index];
            if (col.Type.RawType != typeof(TValue))
                throw new InvalidOperationException($"Column '{column.Name}' holds {col.Type.RawType.Name}, not {typeof(TValue).Name}.");
            return (ref TValue value) =>
            {
                if (_position < 0 || _position >= view._rows.Count)
                    throw new InvalidOperationException("The cursor is not on a row; call MoveNext first.");
                value = (TValue)col.Value(view._rows[(int)_position]);
            };
        }

        public override ValueGetter<DataViewRowId> GetIdGetter() =>
            (ref DataViewRowId id) => id = new DataViewRowId((ulong)_position, 0);
    }
}
