"""API benchmarks: cold-start proxy, warm latency and package size, against a side-by-side
FastAPI + Mangum baseline (``python -m benchmarks.api``)."""
