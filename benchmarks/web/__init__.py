"""Web application figures: initial JavaScript size, browser upload throughput against curl."""
