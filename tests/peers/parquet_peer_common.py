"""Shared by the Parquet peer scripts: pyarrow's and DuckDB's view of a Parquet file as JSON
rows robotrain's tests compare value by value (struct fields flattened to "<struct>.<field>",
binary as lowercase hex)."""
import json
import math


def value_json(v):
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v).hex()
    if isinstance(v, float) and not math.isfinite(v):
        return repr(v)  # JSON has no NaN/inf: the tests compare these as strings
    if isinstance(v, list):
        return [value_json(x) for x in v]
    return v


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, separators=(",", ":"))
