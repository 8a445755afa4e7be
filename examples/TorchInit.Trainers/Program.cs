// TorchInit example trainers. Run from the repository root, e.g.
//   dotnet run --project examples/TorchInit.Trainers -c Release -- depth-sweep
//   dotnet run --project examples/TorchInit.Trainers -c Release -- he2015 --steps 300
//   dotnet run --project examples/TorchInit.Trainers -c Release -- mnist
//   dotnet run --project examples/TorchInit.Trainers -c Release -- lsuv
//   dotnet run --project examples/TorchInit.Trainers -c Release -- glorot2010
//   dotnet run --project examples/TorchInit.Trainers -c Release -- xiao2018
//   dotnet run --project examples/TorchInit.Trainers -c Release -- mup
//   dotnet run --project examples/TorchInit.Trainers -c Release -- mup-coord
//   dotnet run --project examples/TorchInit.Trainers -c Release -- compare out/twins/*.json
// See docs/trainers.md.
using System.CommandLine;
using TorchInit;
using TorchInit.Trainers;

try
{
    TorchRuntime.EnsureLoaded();
}
catch (TorchNativeLoadException e)
{
    Console.Error.WriteLine(e.Message);
    return 3;
}

// Redirected output (CI logs, files) gets wide tables instead of Spectre's 80-column fallback.
if (Console.IsOutputRedirected)
    Spectre.Console.AnsiConsole.Profile.Width = int.TryParse(Environment.GetEnvironmentVariable("COLUMNS"), out var columns) && columns > 0 ? columns : 180;

var root = new RootCommand("TorchInit example trainers: signal statistics through depth, MNIST, Glorot & Bengio 2010, He et al. 2015, Xiao et al. 2018, μP's learning-rate transfer (Yang et al. 2022), and the comparison with their PyTorch twins.")
{
    DepthSweepCommand.Create(),
    MnistCommand.Create(),
    He2015Command.Create(),
    LsuvCommand.Create(),
    Glorot2010Command.Create(),
    Xiao2018Command.Create(),
    MupCommand.Create(),
    MupCommand.CreateCoordinateCheck(),
    CompareCommand.Create(),
    MnistCommand.CreateFetch(),
};
return root.Parse(args).Invoke();

namespace TorchInit.Trainers
{
    internal static partial class Program
    {
        /// <summary>Runs a command; bad options and unavailable devices become an error and exit code 2 (devices: one line on stderr).</summary>
        public static int Guard(Func<int> action)
        {
            try
            {
                return action();
            }
            catch (TorchNativeLoadException e)
            {
                // To stderr, on one line (no console wrapping), with the trainers' own way to get the CUDA backend.
                Console.Error.WriteLine($"{e.Message} The trainers reference TorchSharp-cuda-linux when built with -p:TorchBackend=cuda: " +
                                        "dotnet run --project examples/TorchInit.Trainers -c Release -p:TorchBackend=cuda -- <command> --device cuda");
                if (Environment.GetEnvironmentVariable("TORCHINIT_TRACE") == "1") Console.Error.WriteLine(e);
                return 2;
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or InvalidDataException or FileNotFoundException or DirectoryNotFoundException)
            {
                Ui.Error(e.Message);
                if (Environment.GetEnvironmentVariable("TORCHINIT_TRACE") == "1") Console.Error.WriteLine(e);
                return 2;
            }
        }
    }
}
