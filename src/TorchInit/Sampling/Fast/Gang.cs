namespace TorchInit.Fast;

/// <summary>
/// A small fixed set of background threads that split one loop at a time with the calling thread. Fast mode
/// fills parameter after parameter, each a parallel loop of a few milliseconds; waking thread-pool workers
/// for every one of them (<c>Parallel.For</c>) measured about 1 ms per loop on the 2-core benchmark machine,
/// a third of the time at 100M parameters. These workers spin for a short while after a loop, so the next
/// parameter's loop finds them awake, and then block until there is work again.
/// </summary>
/// <remarks>
/// Work items are claimed with an atomic counter, so which thread runs which item varies, but every item is
/// run exactly once and the caller returns when all have finished. One loop at a time: a caller that finds
/// the gang busy (another thread's <c>ApplyInit</c>) falls back to <c>Parallel.For</c>.
/// </remarks>
internal static class Gang
{
    private sealed class Job(long count, int maxWorkers, Action<long> body)
    {
        public readonly long Count = count;
        public readonly int MaxWorkers = maxWorkers;
        public readonly Action<long> Body = body;
        public long Next;
        public long Remaining = count;
        public Exception? Error;
    }

    private static readonly object Gate = new();
    private static readonly object Start = new();
    private static readonly SemaphoreSlim Wake = new(0);
    private static Thread[] _workers = [];
    private static volatile Job? _job;
    private static int _sleeping;

    /// <summary>How long an idle worker keeps polling for the next loop before it blocks.</summary>
    private static readonly TimeSpan SpinTime = TimeSpan.FromMilliseconds(2);

    /// <summary>Runs <paramref name="body"/>(0 … count − 1) on the calling thread and up to <paramref name="parallelism"/> − 1 workers.</summary>
    public static void For(long count, int parallelism, Action<long> body)
    {
        parallelism = (int)Math.Min(Math.Min(parallelism, Environment.ProcessorCount), count);
        if (parallelism <= 1)
        {
            for (long i = 0; i < count; i++) body(i);
            return;
        }
        if (!Monitor.TryEnter(Gate))
        {
            Parallel.For(0L, count, new ParallelOptions { MaxDegreeOfParallelism = parallelism }, body);
            return;
        }
        try
        {
            EnsureWorkers(parallelism - 1);
            var job = new Job(count, parallelism - 1, body);
            _job = job;
            // Full fence between publishing the job and reading the sleeper count (x86 may otherwise move the
            // load before the store): a worker that is about to sleep either is counted here and woken, or
            // sees the job in its own check after counting itself (Loop).
            Interlocked.MemoryBarrier();
            int sleeping = Volatile.Read(ref _sleeping);
            if (sleeping > 0) Wake.Release(Math.Min(sleeping, job.MaxWorkers));
            Work(job);
            var spin = new SpinWait();
            while (Volatile.Read(ref job.Remaining) > 0) spin.SpinOnce(sleep1Threshold: -1);
            _job = null;
            if (job.Error is { } e) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e);
        }
        finally { Monitor.Exit(Gate); }
    }

    private static void Work(Job job)
    {
        long i;
        while ((i = Interlocked.Increment(ref job.Next) - 1) < job.Count)
        {
            try { if (job.Error is null) job.Body(i); }
            catch (Exception e) { Interlocked.CompareExchange(ref job.Error, e, null); }
            finally { Interlocked.Decrement(ref job.Remaining); }
        }
    }

    private static void EnsureWorkers(int n)
    {
        if (_workers.Length >= n) return;
        lock (Start)
        {
            var all = _workers.ToList();
            for (int k = all.Count; k < n; k++)
            {
                int index = k;
                var t = new Thread(() => Loop(index)) { IsBackground = true, Name = $"TorchInit fast worker {k}" };
                t.Start();
                all.Add(t);
            }
            _workers = [.. all];
        }
    }

    private static void Loop(int index)
    {
        Job? last = null;
        while (true)
        {
            Interlocked.Increment(ref _sleeping);
            // A loop published just before the increment may not have counted this worker: look once more.
            if (_job is not { } pending || ReferenceEquals(pending, last))
                Wake.Wait();
            Interlocked.Decrement(ref _sleeping);
            // Awake: take this loop and the ones that follow it closely, then block again.
            var idle = System.Diagnostics.Stopwatch.StartNew();
            while (idle.Elapsed < SpinTime)
            {
                var job = _job;
                if (job is not null && !ReferenceEquals(job, last))
                {
                    last = job;
                    if (index < job.MaxWorkers) Work(job);
                    idle.Restart();
                }
                else Thread.SpinWait(50);
            }
        }
    }
}
