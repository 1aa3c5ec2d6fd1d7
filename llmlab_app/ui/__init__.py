"""The dashboard: pages (one route per file), components (small functions), states (handlers)."""
