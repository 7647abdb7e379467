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

import pyarrow.parquet as pq

from parquet_peer_common import write_json
from parquet_pyarrow_common import table_json


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
    kv = {k.decode(): v.decode() for k, v in (pq.read_metadata(path).metadata or {}).items()}
    result = table_json(table)
    result.update({"arrow_schema": {f.name: str(f.type) for f in table.schema}, "key_value_metadata": kv})
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
