#!/usr/bin/env bash
# Tests the package as users install it: packs MageFlow, restores it from a local folder feed into a fresh
# project outside this repository, builds and runs a program with [MageTask]s on the in-memory backend
# (a success callback must receive the return value), then checks that a mismatched callback is a
# compile-time MAGE001 error. Packs MageFlow.Testing too, and the same project unit-tests its wiring with the
# recorder, as a user's test project would; and MageFlow.Dashboard, with a fresh web app that maps it from the package.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
# A version no earlier run used: NuGet's global packages folder keeps the first package of a version for good, so a
# fixed version would restore a stale package from an earlier run instead of this one. Directory.Build.props sets
# Version outright (which --version-suffix does not change), so the whole version is given.
version="$(dotnet msbuild "$root/src/MageFlow.Runtime/MageFlow.Runtime.csproj" -getProperty:Version)-smoke$(date +%s)"
# ... and the packages of this run leave that folder with the run.
packages="$(dotnet nuget locals global-packages --list | sed 's/^global-packages: *//')"
trap 'rm -rf "$work" "$packages/mageflow/$version" "$packages/mageflow.testing/$version" "$packages/mageflow.dashboard/$version"' EXIT

# pack ID PROJECT DEPENDS ENTRY...: packs PROJECT as package ID of this run's version, checks it holds each ENTRY,
# depends on the MageFlow package of the same version when DEPENDS is "depends-on-MageFlow", and leaks no Roslyn
# component; prints the package's lib/ and analyzers/ entries.
pack() {
  local id="$1" project="$2" depends="$3"; shift 3
  echo "== packing $id"
  dotnet pack "$root/$project" -c Release -o "$work/feed" -p:Version="$version" -p:TreatWarningsAsErrors=true >"$work/pack-$id.log" 2>&1 || { cat "$work/pack-$id.log"; exit 1; }
  local package="$work/feed/$id.$version.nupkg"
  [ -f "$package" ] || { echo "expected $package; the feed holds: $(ls "$work/feed")" >&2; exit 1; }
  echo "packed $(basename "$package")"
  # python3's zipfile reads the package (a zip) on any machine, with or without unzip.
  local entries nuspec
  entries="$(python3 -c 'import sys, zipfile; print("\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))' "$package")"
  nuspec="$(python3 -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); print(z.read(next(n for n in z.namelist() if n.endswith(".nuspec"))).decode())' "$package")"
  echo "$entries" | grep -E '^(lib|analyzers)/' | sort
  for expected in "$@"; do
    echo "$entries" | grep -qx "$expected" || { echo "the $id package lacks $expected" >&2; exit 1; }
  done
  if [ "$depends" = "depends-on-MageFlow" ]; then
    echo "$nuspec" | grep -q "<dependency id=\"MageFlow\" version=\"$version\"" || { echo "$id does not depend on MageFlow $version:" >&2; echo "$nuspec" >&2; exit 1; }
  fi
  if echo "$nuspec" | grep -qiE 'Microsoft.CodeAnalysis|PolySharp'; then
    echo "the $id package leaks a Roslyn component dependency:" >&2; echo "$nuspec" >&2; exit 1
  fi
}

pack MageFlow src/MageFlow.Runtime/MageFlow.Runtime.csproj standalone \
  lib/net10.0/MageFlow.Runtime.dll analyzers/dotnet/cs/MageFlow.Generator.dll analyzers/dotnet/cs/MageFlow.Analyzers.dll \
  analyzers/dotnet/cs/MageFlow.Analyzers.CodeFixes.dll README.md
# The testing and dashboard packages bring the generator and analyzers through their MageFlow dependency.
pack MageFlow.Testing src/MageFlow.Testing/MageFlow.Testing.csproj depends-on-MageFlow lib/net10.0/MageFlow.Testing.dll README.md
pack MageFlow.Dashboard src/MageFlow.Dashboard/MageFlow.Dashboard.csproj depends-on-MageFlow lib/net10.0/MageFlow.Dashboard.dll

mkdir -p "$work/app"
cat >"$work/app/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="local" value="$work/feed" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
  </packageSources>
</configuration>
XML
# What the console app and the web app below share, as a user's own Directory.Build.props would hold it.
cat >"$work/Directory.Build.props" <<XML
<Project>
  <PropertyGroup>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ImplicitUsings>enable</ImplicitUsings>
    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
    <WarningsNotAsErrors>NU1603</WarningsNotAsErrors>
  </PropertyGroup>
</Project>
XML
cat >"$work/app/App.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="MageFlow" Version="$version" />
    <PackageReference Include="MageFlow.Testing" Version="$version" />
    <PackageReference Include="Microsoft.Extensions.Hosting" Version="10.0.15" />
  </ItemGroup>
</Project>
XML
cat >"$work/app/Program.cs" <<'CS'
using MageFlow;
using MageFlow.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
builder.Services.AddMageFlow(o => o.UseInMemory());
builder.Services.AddMageFlowWorker();
using var host = builder.Build();
await host.StartAsync();
var mage = host.Services.GetRequiredService<IMageFlow>();

var thanks = await SayThanks.AsignAsync(mage, greeting: "thanks");
var order = await Charge.AsignAsync(mage, successCallbacks: [thanks]);
await order.RunAsync(new ChargeMessage("o-1", 4.5m));
var received = await Tasks.Received.Task.WaitAsync(TimeSpan.FromSeconds(30));
Console.WriteLine($"callback received: {received}");
await host.StopAsync();

// MageFlow.Testing, as a unit test uses it: no worker runs; the recorder sees the dispatch and finishes it.
using var recording = new ServiceCollection().AddMageFlow(o => o.UseRecording()).BuildServiceProvider();
var recorder = recording.GetRequiredService<MageRecorder>();
var recordedThanks = await SayThanks.AsignAsync(recording.GetRequiredService<IMageFlow>(), greeting: "thanks");
var recordedOrder = await Charge.AsignAsync(recording.GetRequiredService<IMageFlow>(), successCallbacks: [recordedThanks]);
await recordedOrder.RunAsync(new ChargeMessage("o-2", 7m));
await recorder.CompleteAsync(recorder.AssertDispatched(Charge.TaskName, new { orderId = "o-2" }), new Receipt("o-2", 7m));
var recorded = recorder.AssertDispatched(SayThanks.TaskName, new { receipt = new { charged = 7 }, greeting = "thanks" });
Console.WriteLine($"recorded: {recorded}");
try
{
    recorder.AssertNothingDispatched();
    Console.Error.WriteLine("AssertNothingDispatched passed after two dispatches");
    return 1;
}
catch (MageAssertionException)
{
}
return received == "thanks o-1 4.5" ? 0 : 1;

public sealed record ChargeMessage(string OrderId, decimal Amount);
public sealed record Receipt(string OrderId, decimal Charged);
public sealed record ThanksMessage([property: ReturnValue] Receipt? Receipt, string Greeting);
public sealed record WantsText([property: ReturnValue] string? Text);

public static class Tasks
{
    public static readonly TaskCompletionSource<string> Received = new(TaskCreationOptions.RunContinuationsAsynchronously);

    [MageTask] public static Receipt Charge(ChargeMessage message) => new(message.OrderId, message.Amount);

    [MageTask]
    public static void SayThanks(ThanksMessage message) => Received.TrySetResult($"{message.Greeting} {message.Receipt?.OrderId} {message.Receipt?.Charged}");

    [MageTask] public static void ShowText(WantsText message) { }
}

#if MISMATCH
public static class Wiring
{
    public static async Task Wrong(IMageFlow mage)
    {
        var text = await ShowText.AsignAsync(mage);
        await Charge.AsignAsync(mage, successCallbacks: [text]); // a Receipt cannot go into a string member
    }
}
#endif
CS

echo "== building and running a fresh project that references the package"
(cd "$work/app" && dotnet run -c Release) || { echo "the packaged program failed" >&2; exit 1; }

echo "== checking that a mismatched callback is a compile-time MAGE001 error"
if (cd "$work/app" && dotnet build -c Release -p:DefineConstants=MISMATCH >"$work/mismatch.log" 2>&1); then
  echo "the mismatched callback compiled: MAGE001 did not fire" >&2; cat "$work/mismatch.log" >&2; exit 1
fi
grep -q 'error MAGE001' "$work/mismatch.log" || { echo "the build failed without MAGE001:" >&2; cat "$work/mismatch.log" >&2; exit 1; }
grep -m 1 'error MAGE001' "$work/mismatch.log"
echo "== building and running a fresh web app that maps the dashboard from MageFlow.Dashboard"
mkdir -p "$work/web"
cp "$work/app/nuget.config" "$work/web/"
cat >"$work/web/Web.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk.Web">
  <ItemGroup>
    <PackageReference Include="MageFlow.Dashboard" Version="$version" />
  </ItemGroup>
</Project>
XML
cat >"$work/web/Program.cs" <<'CS'
using MageFlow;

var builder = WebApplication.CreateBuilder(args);
builder.WebHost.UseUrls("http://127.0.0.1:0");
builder.Logging.ClearProviders();
builder.Services.AddMageFlow(o => o.UseInMemory());
builder.Services.AddAntiforgery();
var app = builder.Build();
app.MapMageFlowDashboard("/mageflow");
await app.StartAsync();

// The page and its script, served from the package to a local request.
using var http = new HttpClient { BaseAddress = new Uri(app.Urls.Single()) };
var page = await http.GetAsync("/mageflow/signatures");
var script = await http.GetAsync("/mageflow/assets/dashboard.js");
Console.WriteLine($"dashboard page {(int)page.StatusCode}, script {(int)script.StatusCode}");
await app.StopAsync();
return page.IsSuccessStatusCode && script.IsSuccessStatusCode && (await page.Content.ReadAsStringAsync()).Contains("<h1>Signatures</h1>") ? 0 : 1;
CS
(cd "$work/web" && dotnet run -c Release) || { echo "the web app with the packaged dashboard failed" >&2; exit 1; }
echo "package smoke test passed (MageFlow, MageFlow.Testing and MageFlow.Dashboard)"
