// Runs .NET Interactive (Polyglot) C# notebooks headless, the way their C# kernel does: each code cell is a
// Roslyn scripting submission continuing the previous one. `#r "nuget: Name, Version"` lines are restored
// into a cached project (against the repo's NuGet.config, so the local feed is a source) and its output
// assemblies become the script's references. Console output, display(...) calls and each cell's value are
// written back into the notebook as outputs. A throwing cell stops the run with its number and exception.
//
// Usage: dotnet run --project tools/NotebookRunner -- [--no-write] NOTEBOOK.ipynb...
using System.Diagnostics;
using System.Reflection;
using System.Runtime.Loader;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.Scripting;
using TorchInit.NotebookRunner;

bool write = true;
var files = new List<string>();
foreach (var a in args)
{
    if (a == "--no-write") write = false;
    else if (a is "-h" or "--help") { Console.WriteLine("usage: NotebookRunner [--no-write] NOTEBOOK.ipynb..."); return 0; }
    else files.Add(a);
}
if (files.Count == 0) { Console.Error.WriteLine("usage: NotebookRunner [--no-write] NOTEBOOK.ipynb..."); return 2; }

if (files.Count == 1)
{
    try
    {
        var cells = await Notebook.RunAsync(files[0], write);
        Console.WriteLine($"notebook {files[0]}: {cells} code cells ran");
        return 0;
    }
    catch (CellFailedException e)
    {
        Console.Error.WriteLine($"notebook {files[0]}: cell {e.CellNumber} failed: {e.InnerException}");
        return 1;
    }
}

// Several notebooks: each runs in its own process, as each gets its own kernel in .NET Interactive
// (assemblies loaded for one notebook must not leak into the next).
int failures = 0;
foreach (var file in files)
{
    var child = new ProcessStartInfo(Environment.ProcessPath!);
    if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet") child.ArgumentList.Add(typeof(Notebook).Assembly.Location);
    if (!write) child.ArgumentList.Add("--no-write");
    child.ArgumentList.Add(file);
    using var p = Process.Start(child)!;
    await p.WaitForExitAsync();
    if (p.ExitCode != 0) failures++;
}
Console.WriteLine($"notebooks: {files.Count - failures} passed, {failures} failed");
return failures == 0 ? 0 : 1;

namespace TorchInit.NotebookRunner
{
    /// <summary>Thrown when a cell throws; carries the 1-based number among all cells.</summary>
    public sealed class CellFailedException(int cellNumber, Exception inner) : Exception($"cell {cellNumber} failed", inner)
    {
        public int CellNumber { get; } = cellNumber;
    }

    /// <summary>HTML content for display(), as .NET Interactive's HTML(...) returns.</summary>
    public sealed record HtmlString(string Html)
    {
        public override string ToString() => Html;
    }

    /// <summary>The globals a cell sees: display(...) and HTML(...), as .NET Interactive's C# kernel provides them.</summary>
    public sealed class Globals
    {
        internal List<JsonObject> Outputs { get; } = [];

        /// <summary>Shows a value below the cell: HTML, a PNG byte array, an object with ToHtml(), or its ToString().</summary>
        public object? display(object? value)
        {
            Outputs.Add(Notebook.DisplayData("display_data", value, null));
            return value;
        }

        /// <summary>Marks a string as HTML for display().</summary>
        public HtmlString HTML(string html) => new(html);
    }

    internal static class Notebook
    {
        private static readonly Regex NugetDirective = new(@"^\s*#r\s+""nuget:\s*([^,""\s]+)\s*(?:,\s*([^""\s]+))?\s*""\s*$", RegexOptions.Multiline);

        public static async Task<int> RunAsync(string path, bool write)
        {
            var doc = JsonNode.Parse(await File.ReadAllTextAsync(path))!.AsObject();
            var cells = doc["cells"]!.AsArray();
            var sources = cells.Select(c => Source(c!)).ToList();
            var packages = sources.SelectMany(s => NugetDirective.Matches(s).Select(m => (m.Groups[1].Value, m.Groups[2].Value)))
                .Distinct().ToList();
            var references = await Restore(packages, Path.GetDirectoryName(Path.GetFullPath(path))!);

            // The framework (what a .NET Interactive C# kernel references), then the notebook's packages,
            // except assemblies the framework already provides.
            var framework = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
                .Where(f => Path.GetFileName(f).StartsWith("System.", StringComparison.Ordinal) || Path.GetFileName(f) is "netstandard.dll" or "mscorlib.dll" or "Microsoft.CSharp.dll")
                .ToList();
            var frameworkNames = framework.Select(Path.GetFileName).ToHashSet(StringComparer.OrdinalIgnoreCase);
            references = references.Where(r => !frameworkNames.Contains(Path.GetFileName(r))).ToList();
            var options = ScriptOptions.Default
                .AddReferences(framework.Concat(references).Append(typeof(Globals).Assembly.Location).Select(MetadataReferenceFor))
                .WithImports("System", "System.IO", "System.Linq", "System.Collections.Generic", "System.Threading.Tasks", "System.Text")
                .WithEmitDebugInformation(false);
            var byName = references.ToDictionary(r => Path.GetFileNameWithoutExtension(r), StringComparer.OrdinalIgnoreCase);
            AssemblyLoadContext.Default.Resolving += (_, name) =>
                name.Name is { } n && byName.TryGetValue(n, out var file) ? AssemblyLoadContext.Default.LoadFromAssemblyPath(file) : null;

            var globals = new Globals();
            ScriptState<object>? state = null;
            int executed = 0;
            var originalOut = Console.Out;
            for (int i = 0; i < cells.Count; i++)
            {
                var cell = cells[i]!.AsObject();
                if ((string?)cell["cell_type"] != "code") continue;
                var code = NugetDirective.Replace(sources[i], "");
                globals.Outputs.Clear();
                var stdout = new StringWriter();
                Console.SetOut(stdout);
                object? value;
                try
                {
                    state = state is null
                        ? await CSharpScript.RunAsync<object>(code, options, globals, typeof(Globals))
                        : await state.ContinueWithAsync<object>(code, options);
                    if (state.Exception is not null) throw state.Exception;
                    value = state.ReturnValue;
                }
                catch (Exception e)
                {
                    Console.SetOut(originalOut);
                    throw new CellFailedException(i + 1, e);
                }
                finally
                {
                    Console.SetOut(originalOut);
                }
                executed++;
                var outputs = new JsonArray();
                if (stdout.ToString() is { Length: > 0 } text)
                    outputs.Add(new JsonObject { ["output_type"] = "stream", ["name"] = "stdout", ["text"] = Lines(text) });
                foreach (var o in globals.Outputs) outputs.Add(o);
                if (value is not null && HasTrailingExpression(code))
                    outputs.Add(DisplayData("execute_result", value, executed));
                cell["outputs"] = outputs;
                cell["execution_count"] = executed;
            }
            if (write)
                await File.WriteAllTextAsync(path, doc.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
            return executed;
        }

        public static JsonObject DisplayData(string kind, object? value, int? executionCount)
        {
            var data = new JsonObject();
            switch (value)
            {
                case HtmlString h:
                    data["text/html"] = h.Html;
                    return Output(kind, data, executionCount); // like .NET Interactive: HTML only
                case byte[] png when png.Length > 8 && png[1] == 'P' && png[2] == 'N' && png[3] == 'G':
                    data["image/png"] = Convert.ToBase64String(png);
                    break;
                default:
                    if (value?.GetType().GetMethod("ToHtml", Type.EmptyTypes) is { ReturnType: var rt } m && rt == typeof(string))
                        data["text/html"] = (string)m.Invoke(value, null)!;
                    break;
            }
            data["text/plain"] = value?.ToString() ?? "<null>";
            return Output(kind, data, executionCount);
        }

        private static JsonObject Output(string kind, JsonObject data, int? executionCount)
        {
            var output = new JsonObject { ["output_type"] = kind, ["data"] = data, ["metadata"] = new JsonObject() };
            if (executionCount is int n) output["execution_count"] = n;
            return output;
        }

        private static bool HasTrailingExpression(string code)
        {
            var trimmed = Regex.Replace(code, @"//[^\n]*", "").TrimEnd();
            return trimmed.Length > 0 && !trimmed.EndsWith(';') && !trimmed.EndsWith('}');
        }

        private static string Source(JsonNode cell) => cell["source"] switch
        {
            JsonArray a => string.Concat(a.Select(x => (string?)x)),
            JsonValue v => (string?)v ?? "",
            _ => "",
        };

        private static JsonArray Lines(string text)
        {
            var parts = text.Split('\n');
            var arr = new JsonArray();
            for (int i = 0; i < parts.Length; i++)
                if (i < parts.Length - 1) arr.Add(parts[i] + "\n");
                else if (parts[i].Length > 0) arr.Add(parts[i]);
            return arr;
        }

        private static Microsoft.CodeAnalysis.MetadataReference MetadataReferenceFor(string file) =>
            Microsoft.CodeAnalysis.MetadataReference.CreateFromFile(file);

        /// <summary>Restores and builds a cached project that references <paramref name="packages"/>; returns its managed assemblies.</summary>
        private static async Task<List<string>> Restore(List<(string Name, string Version)> packages, string notebookDir)
        {
            if (packages.Count == 0) return [];
            var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join(";", packages.Select(p => $"{p.Name}/{p.Version}")))))[..16];
            var dir = Path.Combine(notebookDir, ".nbcache", key);
            Directory.CreateDirectory(dir);
            var refs = string.Join("\n", packages.Select(p =>
                $"    <PackageReference Include=\"{p.Name}\" Version=\"{(p.Version.Length == 0 ? "*" : p.Version)}\" />"));
            await File.WriteAllTextAsync(Path.Combine(dir, "nbrefs.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <!-- Generated by tools/NotebookRunner for the notebook's #r "nuget: ..." lines. -->
                  <PropertyGroup>
                    <OutputType>Library</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
                    <CopyLocalLockFileAssemblies>true</CopyLocalLockFileAssemblies>
                    <RuntimeIdentifier>linux-x64</RuntimeIdentifier>
                    <SelfContained>false</SelfContained>
                    <NoWarn>$(NoWarn);NU1603</NoWarn>
                  </PropertyGroup>
                  <ItemGroup>
                {refs}
                  </ItemGroup>
                </Project>
                """);
            await File.WriteAllTextAsync(Path.Combine(dir, "Directory.Build.props"), "<Project />\n");
            await File.WriteAllTextAsync(Path.Combine(dir, "Directory.Packages.props"), "<Project />\n");
            var outDir = Path.Combine(dir, "bin");
            var psi = new ProcessStartInfo("dotnet", ["build", Path.Combine(dir, "nbrefs.csproj"), "-c", "Release", "-o", outDir, "-nologo", "-v", "q"])
            {
                RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = dir,
            };
            using var p = Process.Start(psi)!;
            var output = await p.StandardOutput.ReadToEndAsync() + await p.StandardError.ReadToEndAsync();
            await p.WaitForExitAsync();
            if (p.ExitCode != 0)
                throw new InvalidOperationException($"restoring {string.Join(", ", packages.Select(x => $"{x.Name} {x.Version}"))} failed:\n{output}");
            return Directory.GetFiles(outDir, "*.dll").Where(IsManaged).Where(f => Path.GetFileName(f) != "nbrefs.dll").ToList();
        }

        private static bool IsManaged(string file)
        {
            try { AssemblyName.GetAssemblyName(file); return true; }
            catch (BadImageFormatException) { return false; }
        }
    }
}
