"""The context graph: what each service runs on, depends on, is exposed and deployed by, who owns it
and what alerts on it, collected from the tools and a mapping file, stored per workspace as snapshots."""
