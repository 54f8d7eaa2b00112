"""Side-by-side benchmarks of Commonroom and JupyterHub (issue 6). Run with `bench/run [--short]`."""
