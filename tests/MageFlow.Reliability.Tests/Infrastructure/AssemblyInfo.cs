// Fault tests kill processes and restart servers on a 2-core machine: run one test at a time so timings
// (visibility timeouts, kill points) are not distorted by other tests.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
