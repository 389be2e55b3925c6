using MageFlow.Benchmarks;

return await BenchmarkProgram.RunAsync(args).ConfigureAwait(false);
