//! Benchmarks live in `benches/`; run `cargo bench -p keyproof-bench`.
