"""File formats the package converts between: brat standoff, DyGIE jsonl, SpERT JSON."""
