"""Mergeable per-(watch, bucket) aggregates: buckets, campaigns, sketches, near-duplicates."""
