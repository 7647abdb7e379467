"""Reads a Parquet file written by robotrain with pyarrow and, when given LeRobot features (the
"features" object of a LeRobot info.json), loads it the way LeRobot does:
datasets.Dataset.from_parquet with the features from lerobot's get_hf_features_from_features.
Writes OUT.json: {columns: [{name, type, list_depth}], rows: [{name: value}] (struct fields
flattened to "<struct>.<field>", binary as hex), arrow_schema, key_value_metadata, and with
features: lerobot: {schema, same_values} or {error}}.
Usage: parquet_pyarrow_read.py FILE.parquet OUT.json [FEATURES.json]"""
import json
import os
import sys
import tempfile

import pyarrow as pa
import pyarrow.parquet as pq

from parquet_peer_common import value_json, write_json


def leaf_columns(schema):
    out = []
    for f in schema:
        if pa.types.is_struct(f.type):
            out += [(f"{f.name}.{s.name}", (f.name, s.name), s.type, 0) for s in f.type]
            continue
        t, depth = f.type, 0
        while pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
            t, depth = t.value_type, depth + 1
        out.append((f.name, (f.name,), t, depth))
    return out


def rows_json(table):
    cols = leaf_columns(table.schema)
    rows = []
    for r in table.to_pylist():
        o = {}
        for name, path, _, _ in cols:
            v = r[path[0]]
            if len(path) > 1:
                v = None if v is None else v[path[1]]
            o[name] = value_json(v)
        rows.append(o)
    return cols, rows


def as_lerobot(path, features, table):
    """What LeRobot's load_nested_dataset gets from this file, and whether its values are ours."""
    import datasets
    from lerobot.datasets.feature_utils import get_hf_features_from_features

    for ft in features.values():
        if isinstance(ft.get("shape"), list):
            ft["shape"] = tuple(ft["shape"])  # as LeRobot's load_info does
    hf = get_hf_features_from_features(features)
    with tempfile.TemporaryDirectory() as cache:
        ds = datasets.Dataset.from_parquet([path], features=hf, cache_dir=cache)
        got = ds.with_format("arrow")[:]
        schema = got.schema
        same = got.select(table.column_names).to_pylist() == table.to_pylist()
    return {"schema": {f.name: str(f.type) for f in schema}, "same_values": same}


def main(path, out, features_path=None):
    table = pq.read_table(path)
    cols, rows = rows_json(table)
    kv = {k.decode(): v.decode() for k, v in (pq.read_metadata(path).metadata or {}).items()}
    result = {"columns": [{"name": n, "type": str(t), "list_depth": d} for n, _, t, d in cols], "rows": rows,
              "arrow_schema": {f.name: str(f.type) for f in table.schema}, "key_value_metadata": kv}
    if features_path:
        with open(features_path) as f:
            features = json.load(f)
        try:
            result["lerobot"] = as_lerobot(path, features, table)
        except Exception as e:  # reported, and the test fails on it
            result["lerobot"] = {"error": f"{type(e).__name__}: {e}"}
    write_json(out, result)


if __name__ == "__main__":
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    main(*sys.argv[1:4])
