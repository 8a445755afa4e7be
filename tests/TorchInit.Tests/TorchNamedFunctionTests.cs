using static TorchSharp.torch;

namespace TorchInit.Tests;

/// <summary>
/// <c>Init.Zeros</c>/<c>Init.Ones</c> (PyTorch's <c>zeros_</c>/<c>ones_</c>) and <c>Gain.CalculateGain</c> (PyTorch's
/// <c>calculate_gain</c> by name), as PyTorch's own test_init.py checks them.
/// </summary>
[Collection(SerialTorchCollection.Name)]
public class TorchNamedFunctionTests
{
    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float64)]
    [InlineData(ScalarType.BFloat16)]
    [InlineData(ScalarType.Int64)]
    public void Ones_and_zeros_fill_every_element(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var t = randint(-5, 5, [3, 4, 5]).to(dtype);
        Assert.Same(t, Init.Ones(t));
        Assert.True(t.eq(1).all().item<bool>());
        Assert.Same(t, Init.Zeros(t));
        Assert.True(t.eq(0).all().item<bool>());
        Assert.Equal(dtype, t.dtype);
    }

    [Fact]
    public void Ones_and_zeros_check_their_input()
    {
        using var scope = NewDisposeScope();
        Assert.Throws<ArgumentNullException>(() => Init.Zeros(null!));
        Assert.Throws<ArgumentNullException>(() => Init.Ones(null!));
        var c = zeros(2, 2, ScalarType.ComplexFloat32);
        Assert.Throws<ArgumentException>(() => Init.Ones(c));
        Assert.True(c.eq(0).all().item<bool>());
    }

    [Theory]
    [InlineData("linear")]
    [InlineData("conv1d")]
    [InlineData("conv2d")]
    [InlineData("conv3d")]
    [InlineData("conv_transpose1d")]
    [InlineData("conv_transpose2d")]
    [InlineData("conv_transpose3d")]
    [InlineData("sigmoid")]
    public void Gain_is_1_for_linear_functions(string name) => Assert.Equal(1.0, Gain.CalculateGain(name));

    [Fact]
    public void Gain_by_name_is_the_nonlinearitys()
    {
        Assert.Equal(5.0 / 3, Gain.CalculateGain("tanh"));
        Assert.Equal(Math.Sqrt(2.0), Gain.CalculateGain("relu"));
        Assert.Equal(0.75, Gain.CalculateGain("selu"));
        Assert.Equal(Math.Sqrt(2.0 / (1 + 0.01 * 0.01)), Gain.CalculateGain("leaky_relu"));
        foreach (var slope in new[] { 0.0, 0.01, 0.2, 1.0, 3.0 })
        {
            Assert.Equal(Math.Sqrt(2.0 / (1 + slope * slope)), Gain.CalculateGain("leaky_relu", slope), 15);
            Assert.Equal(Gain.Calculate(Nonlinearity.LeakyRelu, slope), Gain.CalculateGain("leaky_relu", slope));
        }
        Assert.Equal(1.0, Gain.CalculateGain("tanh", 7) / (5.0 / 3));   // param ignored, as PyTorch ignores it
    }

    [Theory]
    [InlineData("")]
    [InlineData("Tanh")]
    [InlineData("gelu")]
    [InlineData("conv4d")]
    public void Gain_rejects_names_PyTorch_does_not_know(string name)
    {
        var e = Assert.Throws<ArgumentException>(() => Gain.CalculateGain(name));
        Assert.Contains("Unsupported nonlinearity", e.Message);
        Assert.Throws<ArgumentNullException>(() => Gain.CalculateGain(null!));
        Assert.Throws<ArgumentException>(() => Gain.CalculateGain("leaky_relu", double.NaN));
    }
}
