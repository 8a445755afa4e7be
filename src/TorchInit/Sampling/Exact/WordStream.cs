using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using TorchInit.Fast;
using TorchSharp;
using static TorchSharp.torch;

namespace TorchInit.Exact;

/// <summary>
/// The next words of a CPU generator's mt19937 stream, produced on several threads: the state is read with
/// <c>get_state()</c>; word k of the stream (k = 0 is the word libtorch's next <c>random()</c> returns) is the
/// tempered term start + k of the recurrence (<see cref="Mt19937"/>) counted from the state array's first word, where
/// start = next = 625 − left (a used-up window, left = 1, is first regenerated here: start = 0 in the next one); the
/// terms are split at multiples of 624 among the threads, each jumps to its first block
/// (<see cref="Mt19937.JumpBlocks"/>) and runs the recurrence in SIMD, and <see cref="Commit"/> sets the state with
/// <c>set_state()</c> to where libtorch's serial loop leaves it after the same number of words (the cached normal
/// samples untouched).
/// </summary>
internal sealed unsafe class WordStream
{
    /// <summary>Bytes of libtorch's CPUGeneratorImplState (x86-64 layout): seed u64 @0, left i32 @8, seeded i32 @12, next u64 @16, state u64[624] @24, …</summary>
    private const int StateBytes = 5056, LeftAt = 8, NextAt = 16, ArrayAt = 24;

    /// <summary>Word counts below this are generated on one thread (jumping costs about a millisecond).</summary>
    public const long ParallelWords = 1L << 21;

    /// <summary>Words generated per inner step (a multiple of 624).</summary>
    private const int Batch = 624 * 4;

    private readonly byte[] _bytes;
    private readonly uint[] _window;
    private readonly long _start;
    private bool _generated;

    private WordStream(byte[] bytes, uint[] window, long start)
    {
        _bytes = bytes;
        _window = window;
        _start = start;
    }

    /// <summary>
    /// Receives the words of one part of the stream, in increasing order within the part: <c>words[i]</c> is stream word
    /// <c>offset + i</c> for i in [0, count]: one word past the range is readable too (a float64 element's second word),
    /// except after the stream's last word.
    /// </summary>
    public abstract class Sink
    {
        /// <summary>Called once before any <see cref="Emit"/> with the number of parts (threads) the stream is split into.</summary>
        public abstract void Begin(int parts);

        /// <summary>Stream words [offset, offset + count) of part <paramref name="part"/> (see <see cref="Sink"/>).</summary>
        public abstract void Emit(int part, uint* words, long offset, int count);
    }

    /// <summary>The stream of a CPU generator whose state has the expected layout; null otherwise (the caller leaves the draw to libtorch).</summary>
    private static WordStream? Open(Generator? g)
    {
        if (g is null || g.device.type != DeviceType.CPU) return null;
        using var state = g.get_state();
        if (state.numel() != StateBytes) return null;
        var bytes = new byte[StateBytes];
        Marshal.Copy(FastFill.AnyDataPointer(state), bytes, 0, StateBytes);
        int left = BitConverter.ToInt32(bytes, LeftAt);
        long next = (long)BitConverter.ToUInt64(bytes, NextAt);
        var window = new uint[Mt19937.N];
        for (int i = 0; i < Mt19937.N; i++) window[i] = (uint)BitConverter.ToUInt64(bytes, ArrayAt + 8 * i);
        if (left == 1)
        {
            // The window is used up (or is a fresh seeding, whose first word's low 31 bits are no term of the
            // recurrence, so a jump from it would get the first word of a later part wrong): the next 624 terms,
            // libtorch's next regeneration, become block 0, and the stream starts at its first word.
            var y = new uint[2 * Mt19937.N];
            Array.Copy(window, y, Mt19937.N);
            fixed (uint* p = y) Mt19937.Advance(p, Mt19937.N, 2 * Mt19937.N);
            Array.Copy(y, Mt19937.N, window, 0, Mt19937.N);
            return new WordStream(bytes, window, 0);
        }
        if (left > 1 && left <= Mt19937.N && next + left == Mt19937.N + 1) return new WordStream(bytes, window, next);
        return null;
    }

    /// <summary>
    /// Produces stream words [0, <paramref name="words"/>) into <paramref name="sink"/> on up to <paramref name="parallelism"/>
    /// threads (one below <see cref="ParallelWords"/>), and records the state libtorch has after drawing them. Once per stream.
    /// </summary>
    public void Generate(long words, int parallelism, Sink sink)
    {
        if (_generated) throw new InvalidOperationException("A stream is generated once.");
        if (words <= 0) throw new ArgumentOutOfRangeException(nameof(words));
        _generated = true;
        long end = _start + words;
        long lastBase = (end - 1) / Mt19937.N * Mt19937.N;
        var final = new uint[Mt19937.N];
        long blocks = (end + Mt19937.N - 1) / Mt19937.N;   // blocks 0 … blocks − 1 of 624 terms cover [0, end)
        int threads = words < ParallelWords ? 1 : (int)Math.Min(Math.Max(1, parallelism), Environment.ProcessorCount);
        var firstBlock = new long[threads + 1];
        for (int k = 0; k < threads; k++) firstBlock[k] = k == 0 ? 0 : FewBits(blocks * k / threads);
        firstBlock[threads] = blocks;
        sink.Begin(threads);
        var job = new Job(sink, _start, end, lastBase, _window, final);
        Gang.For(threads, threads, k => job.Run((int)k, firstBlock[k], firstBlock[k + 1]));

        for (int i = 0; i < Mt19937.N; i++) BitConverter.TryWriteBytes(_bytes.AsSpan(ArrayAt + 8 * i, 8), (ulong)final[i]);
        long nextAfter = end - lastBase;
        BitConverter.TryWriteBytes(_bytes.AsSpan(LeftAt, 4), (int)(Mt19937.N + 1 - nextAfter));
        BitConverter.TryWriteBytes(_bytes.AsSpan(NextAt, 8), (ulong)nextAfter);
    }

    /// <summary>
    /// Opens <paramref name="g"/>'s stream, runs <paramref name="draw"/> on it and commits it, holding a lock on <paramref name="g"/>
    /// from reading its state to setting it: two TorchInit draws on one generator from two threads then take consecutive words,
    /// as two libtorch calls (each under the generator's mutex) do, instead of both reading the same state. False (nothing
    /// drawn) when the stream cannot be opened.
    /// </summary>
    public static bool Draw(Generator? g, Action<WordStream> draw)
    {
        if (g is null) return false;
        lock (g)
        {
            if (Open(g) is not { } stream) return false;
            draw(stream);
            stream.Commit(g);
            return true;
        }
    }

    /// <summary>Sets <paramref name="g"/>'s state to where libtorch leaves it after the generated words.</summary>
    private void Commit(Generator g)
    {
        if (!_generated) throw new InvalidOperationException("Nothing was generated.");
        using var state = g.get_state();
        Marshal.Copy(_bytes, 0, FastFill.AnyDataPointer(state), StateBytes);   // the state tensor is get_state()'s own copy
        g.set_state(state);
    }

    /// <summary>x rounded down to its three highest set bits: a jump costs one polynomial per set bit.</summary>
    private static long FewBits(long x)
    {
        if (x <= 7) return x;
        int shift = 63 - System.Numerics.BitOperations.LeadingZeroCount((ulong)x) - 2;
        return x >> shift << shift;
    }

    private sealed class Job(Sink sink, long start, long end, long lastBase, uint[] window, uint[] final)
    {
        /// <summary>Blocks [b0, b1) as part <paramref name="part"/>: jumps from the state's window (block 0) to block b0, then generates, tempers and emits its words.</summary>
        public void Run(int part, long b0, long b1)
        {
            if (b0 >= b1) return;
            var w = (uint[])window.Clone();
            if (b0 > 0) Mt19937.JumpBlocks(w, b0);
            long q = b0 * Mt19937.N, stop = Math.Min(end, b1 * Mt19937.N);
            var buf = new uint[Mt19937.N + Batch + 8];
            var tw = new uint[Batch + 8];
            fixed (uint* y = buf)
            fixed (uint* tp = tw)
            fixed (uint* wp = w)
            {
                Buffer.MemoryCopy(wp, y, Mt19937.N * 4, Mt19937.N * 4);
                while (q < stop)
                {
                    Mt19937.Advance(y, Mt19937.N, Mt19937.N + Batch);   // y[0 …) now holds terms q … q + 624 + Batch − 1
                    if (lastBase >= q && lastBase < q + Batch)
                        fixed (uint* f = final) Buffer.MemoryCopy(y + (lastBase - q), f, Mt19937.N * 4, Mt19937.N * 4);
                    long lo = Math.Max(q, start), hi = Math.Min(q + Batch, stop);
                    if (lo < hi)
                    {
                        int a = (int)(lo - q), b = (int)(hi - q) + 1;   // one word more: a float64 element's second word
                        int i = a;
                        for (; i + 8 <= b; i += 8) Vector256.Store(Mt19937.Temper(Vector256.Load(y + i)), tp + i);
                        for (; i < b; i++) tp[i] = Mt19937.Temper(y[i]);
                        sink.Emit(part, tp + a, lo - start, (int)(hi - lo));
                    }
                    q += Batch;
                    Buffer.MemoryCopy(y + Batch, y, Mt19937.N * 4, Mt19937.N * 4);
                }
            }
        }
    }
}
