// TorchSharp's layer constructors and torch.manual_seed share one global RNG, and Tensor.TotalCount is
// process-wide: tests that build layers, seed the global RNG or count live tensors would disturb each other
// when run in parallel. The suite is fast, so every test runs one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
