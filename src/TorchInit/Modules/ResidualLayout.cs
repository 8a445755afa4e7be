namespace TorchInit.Modules;

/// <summary>
/// The shortcut of a residual block: the child that carries the block's input around its residual branch to the sum
/// (torchvision's and timm's <c>downsample</c>, the CIFAR ResNets' <c>shortcut</c>, diffusers' <c>conv_shortcut</c>), so
/// that rules about "the block's last normalization" and "what follows the branch" look at the residual branch only.
/// </summary>
/// <remarks>
/// A child is the shortcut when it holds exactly one weight layer (a projection: a 1×1 convolution or a Linear, with or
/// without its normalization and a pooling) while the rest of the block holds at least two, and either its name is one of
/// <see cref="ShortcutNames"/> or it is the only child of that shape that is a container. A block whose children are all
/// projection-shaped containers (conv1/conv2/conv3 as conv-norm-activation modules) and none is named has no shortcut found.
/// </remarks>
internal static class ResidualLayout
{
    /// <summary>The names residual blocks give their shortcut in torchvision, timm, diffusers and the common CIFAR ResNets.</summary>
    public static readonly IReadOnlyList<string> ShortcutNames = ["downsample", "shortcut", "skip", "conv_shortcut", "skip_connection"];

    /// <summary>The shortcut child of <paramref name="block"/>, or null when it has none (an identity shortcut, or not a residual block).</summary>
    public static ModuleContext? Shortcut(ModuleContext block)
    {
        if (block.IsShared || block.Children.Count < 2) return null;
        int total = WeightLayers(block);
        ModuleContext? structural = null;
        int structuralCount = 0;
        foreach (var child in block.Children)
        {
            if (child.IsShared) continue;
            int w = WeightLayers(child);
            if (w != 1 || total - w < 2) continue;
            if (ShortcutNames.Contains(child.Name)) return child;
            if (!child.IsLeaf)
            {
                structural = child;
                structuralCount++;
            }
        }
        return structuralCount == 1 ? structural : null;
    }

    /// <summary>Whether <paramref name="c"/> is <paramref name="subtree"/> or lies below it.</summary>
    public static bool Within(ModuleContext c, ModuleContext subtree) => c == subtree || c.Ancestors().Contains(subtree);

    private static int WeightLayers(ModuleContext c) =>
        c.PreOrder().Count(x => !x.IsShared && LayerTaxonomy.IsWeightLayer(LayerTaxonomy.Classify(x)));
}
