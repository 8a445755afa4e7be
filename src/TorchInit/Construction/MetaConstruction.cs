using static TorchSharp.torch;

namespace TorchInit;

/// <summary>
/// Runs a model factory on the meta device: <c>torch.set_default_device(meta)</c> while it runs, the previous default device and
/// the global generator's state put back after (layers that initialize natively before moving to the default device draw from the
/// global generator even on the meta device, so constructing here consumes no random numbers). Both are process-wide in
/// TorchSharp, so TorchInit's own meta constructions (<see cref="Build"/>, <see cref="MuBaseShapes.FromFactory"/>) hold one lock:
/// two at once on two threads cannot leave the default device on meta. Tensors other threads create without a device during the
/// call still land on the meta device.
/// </summary>
internal static class MetaConstruction
{
    private static readonly object DefaultDeviceLock = new();

    /// <summary>The factory's result, built with the meta device as the default device.</summary>
    public static T Run<T>(Func<T> factory)
    {
        lock (DefaultDeviceLock)
        {
            var previous = get_default_device();
            using var rngState = TorchSharp.torch.random.get_rng_state();
            set_default_device(META);
            try { return factory(); }
            finally
            {
                set_default_device(previous);
                TorchSharp.torch.random.set_rng_state(rngState);
            }
        }
    }
}
