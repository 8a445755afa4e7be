// Measures what seeded initialization costs on the CPU per GB of float32 parameters: the time libtorch's CPU generator
// takes to draw 1 GiB (2^28 float32 values) from a normal and from a uniform distribution, and the same through
// ApplyInit with a seed (HeNormal, HeUniform on one Linear(16384, 16384), whose weight is 1 GiB). A measurement, not a
// test; not run by CI:  dotnet run -c Release examples/apps/measure-cpu-draw.cs [-- --reps 3]
// With a seed, TorchInit draws CUDA parameters this way on the CPU and then copies each one to the device; the copy
// (host to device, roughly 1 GiB / PCIe bandwidth) is not measured here: the machines this was written on have no GPU.
#:package TorchInit@0.2.0
#:package TorchSharp-cpu@0.107.0

using System.Diagnostics;
using TorchInit;
using TorchSharp;
using static TorchSharp.torch;

TorchRuntime.EnsureLoaded();
int reps = args.Length == 2 && args[0] == "--reps" ? int.Parse(args[1]) : 3;
const long N = 1L << 28; // 1 GiB of float32
Console.WriteLine($"{Environment.ProcessorCount} cores, libtorch threads {get_num_threads()}, {reps} reps, median seconds per GiB float32");

double Median(Func<double> run) { var t = Enumerable.Range(0, reps).Select(_ => run()).OrderBy(x => x).ToArray(); return t[t.Length / 2]; }
double Time(Action a) { var sw = Stopwatch.StartNew(); a(); return sw.Elapsed.TotalSeconds; }

using (no_grad())
{
    var t = empty(N, dtype: ScalarType.Float32);
    t.fill_(0);   // touch the pages once, so page faults are not counted
    var g = new Generator(1);
    Console.WriteLine($"normal_ (libtorch CPU generator):   {Median(() => Time(() => t.normal_(0, 0.02, generator: g))):F2} s");
    Console.WriteLine($"uniform_ (libtorch CPU generator):  {Median(() => Time(() => t.uniform_(-0.02, 0.02, generator: g))):F2} s");
    t.Dispose();
}
var layer = nn.Linear(16384, 16384, hasBias: false);
Console.WriteLine($"ApplyInit HeNormal, Seed (exact):   {Median(() => Time(() => layer.ApplyInit(InitScheme.HeNormal, new InitOptions { Seed = 1 }))):F2} s");
Console.WriteLine($"ApplyInit HeUniform, Seed (exact):  {Median(() => Time(() => layer.ApplyInit(InitScheme.HeUniform, new InitOptions { Seed = 1 }))):F2} s");
