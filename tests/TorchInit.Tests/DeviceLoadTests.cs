using TorchSharp;

namespace TorchInit.Tests;

/// <summary>
/// TorchRuntime.EnsureLoaded(device): the tests run with the CPU backend (TorchSharp-cpu), so CUDA is never available
/// here and every CUDA request must fail with one line that names the device as asked and the fix.
/// </summary>
[Collection(SerialTorchCollection.Name)]
public class DeviceLoadTests
{
    [Fact]
    public void The_cpu_device_loads()
    {
        TorchRuntime.EnsureLoaded("cpu");
        TorchRuntime.EnsureLoaded(" CPU ");
        Assert.Equal(6, torch.ones(2, 3).sum().item<float>());
    }

    [Theory]
    [InlineData("cuda")]
    [InlineData("cuda:1")]
    [InlineData("CUDA:0")]
    public void A_cuda_device_without_the_cuda_backend_is_one_clear_line(string device)
    {
        Assert.False(torch.cuda.is_available());
        var e = Assert.Throws<TorchNativeLoadException>(() => TorchRuntime.EnsureLoaded(device));
        Assert.StartsWith($"Device '{device}' was asked for", e.Message);
        Assert.Contains("TorchSharp-cuda-linux", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.DoesNotContain('\r', e.Message);
        Assert.Equal(6, torch.ones(2, 3).sum().item<float>()); // the CPU runtime still works afterwards
    }

    [Theory]
    [InlineData("tpu")]
    [InlineData("cuda:x")]
    [InlineData("")]
    public void An_unknown_device_is_an_argument_error(string device)
    {
        var e = Assert.Throws<ArgumentException>(() => TorchRuntime.EnsureLoaded(device));
        Assert.Contains($"'{device}'", e.Message);
    }
}
