namespace TorchInit.Tests;

/// <summary>
/// Runs a test body under a wall-clock bound, so that a bug which makes a loop over the mt19937 word stream run away (a
/// wrong jump that turns a bit-for-bit comparison into millions of mismatches, say) fails the test instead of stalling the
/// run. xunit 2.9's <c>[Fact(Timeout = …)]</c> only applies to async tests ("Tests marked with Timeout are only supported for
/// async tests") and xunit.v3 (the .NET 8 program links these files) has its own rules, so the bound is explicit here and
/// the same under both: the body runs on a thread-pool thread; if it has not finished within the bound the test fails (the
/// body, which cannot be stopped, is left to finish in the background; its exceptions are observed).
/// </summary>
internal static class Bounded
{
    /// <summary>The default bound: generous against these tests' seconds on 2 shared cores, short against a stalled CI job.</summary>
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(60);

    /// <summary>Runs <paramref name="body"/>; fails if it takes longer than <paramref name="limit"/> (default <see cref="Default"/>); rethrows its exception.</summary>
    public static void Run(Action body, TimeSpan? limit = null)
    {
        var bound = limit ?? Default;
        var task = Task.Factory.StartNew(body, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        bool done;
        try
        {
            done = task.Wait(bound);
        }
        catch (AggregateException e) when (e.InnerExceptions.Count == 1)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException!).Throw();
            throw;   // not reached
        }
        if (!done)
        {
            _ = task.ContinueWith(t => _ = t.Exception, TaskScheduler.Default);   // observe a late failure of the abandoned body
            Assert.Fail($"The test body did not finish within {bound.TotalSeconds:0} s (bounded so that a runaway loop fails instead of hanging the run).");
        }
    }
}
