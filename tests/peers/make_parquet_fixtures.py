"""Writes the checked-in Parquet fixtures under tests/fixtures/parquet/ with pyarrow.

Run once (and again only to change the fixtures) with the project's Python environment:
    ~/.cache/robotrain/venv/bin/python tests/peers/make_parquet_fixtures.py

Every file is small (a few KB). Files holding the same table share one TABLE.json: the values
as pyarrow reads them back ({columns: [{name, type, list_depth}], rows: [{name: value}]}, struct
fields flattened to "<struct>.<field>", binary as lowercase hex), which
tests/dataset/parquet_pyarrow_test.cpp compares with robotrain's reader value by value (the
script checks that pyarrow reads every file of a table to the same JSON). manifest.json lists
the files with the codecs and encodings pyarrow actually used (read back from each file's
metadata), so the test can assert that together they cover every codec and encoding pyarrow
writes.
"""
import json
import math
import os
import sys

import pyarrow as pa
import pyarrow.parquet as pq

from parquet_peer_common import value_json
from parquet_pyarrow_common import table_json

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "parquet")


def lerobot_table(n=32):
    """The column shapes LeRobot datasets use: int64 scalars, float32 vectors as
    fixed_size_list, a string, a bool, and an image struct<bytes, path>."""
    state = [[math.sin(i * 0.1 + k) for k in range(6)] for i in range(n)]
    action = [[math.cos(i * 0.1 + k) for k in range(6)] for i in range(n)]
    return pa.table({
        "index": pa.array(range(n), pa.int64()),
        "episode_index": pa.array([i // 16 for i in range(n)], pa.int64()),
        "frame_index": pa.array([i % 16 for i in range(n)], pa.int64()),
        "timestamp": pa.array([(i % 16) / 30.0 for i in range(n)], pa.float32()),
        "observation.state": pa.array(state, pa.list_(pa.float32(), 6)),
        "action": pa.array(action, pa.list_(pa.float32(), 6)),
        "task_index": pa.array([(i // 16) % 2 for i in range(n)], pa.int64()),
        "next.done": pa.array([i % 16 == 15 for i in range(n)], pa.bool_()),
        "task": pa.array(["pick the cube" if (i // 16) % 2 == 0 else "place it" for i in range(n)], pa.string()),
        "observation.image": pa.array(
            [{"bytes": bytes([0x89, 0x50, 0x4E, 0x47, i % 256, 0]), "path": f"frame_{i:06d}.png"} for i in range(n)],
            pa.struct([("bytes", pa.binary()), ("path", pa.string())])),
    })


def nulls_table(n=40):
    def maybe(v, i, m, r):
        return None if i % m == r else v
    return pa.table({
        "i32": pa.array([maybe(i * 7919 % 1000 - 500, i, 5, 1) for i in range(n)], pa.int32()),
        "i64": pa.array([maybe(i * 1000003 - 7, i, 4, 2) for i in range(n)], pa.int64()),
        "u32": pa.array([maybe((i * 2654435761) % 4294967296, i, 6, 0) for i in range(n)], pa.uint32()),
        "i8": pa.array([maybe(i % 100 - 50, i, 7, 3) for i in range(n)], pa.int8()),
        "u16": pa.array([i * 1000 % 65536 for i in range(n)], pa.uint16()),
        "f32": pa.array([maybe(i / 7.0, i, 3, 0) for i in range(n)], pa.float32()),
        "f64": pa.array([maybe(i * 0.001 - 1.5, i, 9, 4) for i in range(n)], pa.float64()),
        "b": pa.array([maybe(i % 3 == 0, i, 4, 0) for i in range(n)], pa.bool_()),
        "s": pa.array([maybe("str_%d%s" % (i, "x" * (i % 4)), i, 6, 5) for i in range(n)], pa.string()),
        "ls": pa.array([maybe("large %d" % i, i, 5, 0) for i in range(n)], pa.large_string()),
        "bin": pa.array([maybe(bytes([0, 255, i % 256]), i, 8, 0) for i in range(n)], pa.binary()),
        "fixed": pa.array([maybe(bytes([i % 256, 1, 2, 3]), i, 5, 2) for i in range(n)], pa.binary(4)),
        "allnull": pa.array([None] * n, pa.int32()),
    })


def nested_table(n=40):
    def lst(i, m, r, make):
        return None if i % m == r else make(i)
    return pa.table({
        "list_i64": pa.array([lst(i, 11, 5, lambda i: [None if (i + k) % 13 == 6 else i * 100 + k for k in range(i % 4)])
                              for i in range(n)], pa.list_(pa.int64())),
        "large_list_f64": pa.array([lst(i, 10, 3, lambda i: [i * 0.5 + k for k in range(i % 3)]) for i in range(n)],
                                   pa.large_list(pa.float64())),
        # (pyarrow 25 cannot read back a null fixed_size_list row: nulls inside only.)
        "fixed_f32": pa.array([[None if (i + k) % 7 == 2 else i + 0.25 * k for k in range(3)] for i in range(n)],
                              pa.list_(pa.float32(), 3)),
        "list_list_i32": pa.array([[[i, None], [], None, [i + 1]][: i % 5] if i % 9 != 4 else None for i in range(n)],
                                  pa.list_(pa.list_(pa.int32()))),
        # LeRobot's per-episode image stats: shape 3x1x1, read flattened.
        "img_mean": pa.array([[[[i * 0.1]], [[i * 0.2]], [[i * 0.3]]] for i in range(n)],
                             pa.list_(pa.list_(pa.list_(pa.float64())))),
        "list_str": pa.array([["e%d_%d" % (i, k) if k != 1 or i % 2 else None for k in range(i % 3)] for i in range(n)],
                             pa.list_(pa.string())),
        "empty_lists": pa.array([[] for _ in range(n)], pa.list_(pa.int32())),
    })


def delta_table(n=150):
    words = ["robot", "robotics", "robotrain", "robust", "rob", "train", "training", "trainer", ""]
    return pa.table({
        "i32": pa.array([(i * 37) % 1000 - 500 for i in range(n)], pa.int32()),
        "i64": pa.array([i * i * 1000 - 3 * i for i in range(n)], pa.int64()),
        "i64_nulls": pa.array([None if i % 7 == 1 else -(i ** 3) for i in range(n)], pa.int64()),
        "u32": pa.array([4294967295 - i for i in range(n)], pa.uint32()),
        "s": pa.array([words[i % len(words)] + str(i // 3) for i in range(n)], pa.string()),
        "bin": pa.array([None if i % 11 == 0 else bytes(range(i % 17)) for i in range(n)], pa.binary()),
    })


def bss_table(n=100):
    return pa.table({
        "f32": pa.array([math.sin(i) * 1e3 for i in range(n)], pa.float32()),
        "f64": pa.array([None if i % 9 == 0 else math.cos(i) / 3 for i in range(n)], pa.float64()),
        "i32": pa.array([i * 65537 - 1000000 for i in range(n)], pa.int32()),
        "i64": pa.array([i * 4294967311 - 7 for i in range(n)], pa.int64()),
        "fixed": pa.array([bytes([i % 256, (i * 3) % 256, 7]) for i in range(n)], pa.binary(3)),
        "vec": pa.array([[float(i), float(-i)] for i in range(n)], pa.list_(pa.float32(), 2)),
    })


def unsupported_table(n=6):
    import datetime
    import decimal
    return pa.table({
        "id": pa.array(range(n), pa.int64()),
        "ts96": pa.array([datetime.datetime(2024, 1, 1, 0, 0, i) for i in range(n)], pa.timestamp("ns")),
        "m": pa.array([[("k%d" % i, i)] for i in range(n)], pa.map_(pa.string(), pa.int32())),
        "dec": pa.array([decimal.Decimal("%d.25" % i) for i in range(n)], pa.decimal128(10, 2)),
        "structs": pa.array([[{"x": i}] for i in range(n)], pa.list_(pa.struct([("x", pa.int32())]))),
        "half": pa.array([i / 2 for i in range(n)], pa.float16()),
        "u64": pa.array([2 ** 63 + i for i in range(n)], pa.uint64()),
        "name": pa.array(["n%d" % i for i in range(n)], pa.string()),
    })


def finite_value_json(v):
    if isinstance(v, float) and not math.isfinite(v):
        raise ValueError("fixtures hold finite floats only (JSON has no NaN)")
    if isinstance(v, list):
        return [finite_value_json(x) for x in v]
    return value_json(v)


def dump(path, skip=()):
    return table_json(pq.read_table(path), skip, value=finite_value_json)


def used_codecs_and_encodings(path):
    md = pq.ParquetFile(path).metadata
    codecs, encodings = set(), set()
    for g in range(md.num_row_groups):
        for c in range(md.num_columns):
            cc = md.row_group(g).column(c)
            codecs.add(cc.compression)
            encodings.update(cc.encodings)
    return md, sorted(codecs), sorted(encodings)


def main():
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(".parquet") or f.endswith(".json"):
            os.remove(os.path.join(OUT, f))
    files = []

    expected = {}

    def write(name, table, note, skip=(), unsupported=None, **options):
        table_name = name.split("_")[0] if name.startswith(("lerobot", "nulls", "nested", "bss")) else name
        table_name = {"plain": "lerobot", "byte": "bss", "delta": "delta"}.get(name.split("_")[0], table_name)
        path = os.path.join(OUT, name + ".parquet")
        pq.write_table(table, path, **options)
        md, codecs, encodings = used_codecs_and_encodings(path)
        values = dump(path, skip)
        if table_name in expected:
            assert expected[table_name] == values, f"pyarrow reads {name} differently from {table_name}.json"
        else:
            expected[table_name] = values
            with open(os.path.join(OUT, table_name + ".json"), "w") as f:
                json.dump(values, f, separators=(",", ":"))
        files.append({"name": name, "expected": table_name + ".json", "note": note, "row_groups": md.num_row_groups,
                      "num_rows": md.num_rows,
                      "codecs": codecs, "encodings": encodings,
                      "data_page_version": options.get("data_page_version", "1.0"),
                      "unsupported": unsupported or {}})

    lerobot = lerobot_table()
    # LeRobot's shapes under every codec pyarrow writes (pyarrow's "lz4" is LZ4_RAW).
    for codec in ["none", "snappy", "gzip", "brotli", "lz4", "zstd"]:
        write(f"lerobot_{codec}", lerobot, f"LeRobot columns, {codec}, dictionary where pyarrow picks it, 3 row groups",
              compression=codec, row_group_size=16)
    write("lerobot_zstd_v2", lerobot, "data page v2, zstd", compression="zstd", data_page_version="2.0")
    write("lerobot_small_pages", lerobot, "many pages per column chunk (data_page_size 64, 5 rows per page)",
          compression="snappy", data_page_size=64, max_rows_per_page=5, write_batch_size=5)
    write("plain_no_dictionary", lerobot, "PLAIN everywhere", compression="snappy", use_dictionary=False)
    nulls = nulls_table()
    write("nulls_v1", nulls, "every scalar type with nulls, an all-null column", compression="snappy")
    write("nulls_v2_brotli", nulls, "the same in data page v2, brotli", compression="brotli", data_page_version="2.0")
    write("nulls_plain_gzip", nulls, "the same PLAIN, gzip", compression="gzip", use_dictionary=False)
    nested = nested_table()
    write("nested_v1", nested, "list, large_list, fixed_size_list, list of lists, 3-deep lists, nulls at every level",
          compression="snappy", row_group_size=15)
    write("nested_v2_lz4", nested, "the same in data page v2, LZ4_RAW", compression="lz4", data_page_version="2.0")
    delta = delta_table()
    write("delta_v1", delta, "DELTA_BINARY_PACKED ints, DELTA_LENGTH_BYTE_ARRAY strings", compression="none",
          use_dictionary=False,
          column_encoding={"i32": "DELTA_BINARY_PACKED", "i64": "DELTA_BINARY_PACKED",
                           "i64_nulls": "DELTA_BINARY_PACKED", "u32": "DELTA_BINARY_PACKED",
                           "s": "DELTA_LENGTH_BYTE_ARRAY", "bin": "DELTA_LENGTH_BYTE_ARRAY"})
    write("delta_byte_array_v2", delta, "DELTA_BYTE_ARRAY strings, data page v2, zstd", compression="zstd",
          use_dictionary=False, data_page_version="2.0",
          column_encoding={"i32": "DELTA_BINARY_PACKED", "i64": "DELTA_BINARY_PACKED",
                           "i64_nulls": "PLAIN", "u32": "PLAIN",
                           "s": "DELTA_BYTE_ARRAY", "bin": "DELTA_BYTE_ARRAY"})
    bss = bss_table()
    write("byte_stream_split", bss, "BYTE_STREAM_SPLIT floats, doubles, ints, fixed binary, a vector",
          compression="snappy", use_dictionary=False,
          column_encoding={c: "BYTE_STREAM_SPLIT" for c in ["f32", "f64", "i32", "i64", "fixed", "vec"]})
    write("byte_stream_split_v2", bss, "the same in data page v2, uncompressed", compression="none",
          use_dictionary=False, data_page_version="2.0",
          column_encoding={c: "BYTE_STREAM_SPLIT" for c in ["f32", "f64", "i32", "i64", "fixed", "vec"]})
    write("rle_booleans_v2", pa.table({"b": pa.array([i % 5 < 2 for i in range(100)], pa.bool_()),
                                       "bn": pa.array([None if i % 3 == 0 else i % 2 == 0 for i in range(100)], pa.bool_())}),
          "RLE booleans (data page v2)", compression="none", use_dictionary=False, data_page_version="2.0",
          column_encoding={"b": "RLE", "bn": "RLE"})
    unsupported = {"ts96": "INT96", "m": "maps", "dec": "DECIMAL", "structs": "structs", "half": "FLOAT16",
                   "u64": "UINT64"}
    write("unsupported", unsupported_table(), "INT96, map, decimal, list of structs, float16, uint64 next to readable columns",
          skip=tuple(unsupported), unsupported=unsupported, compression="snappy", use_deprecated_int96_timestamps=True)

    all_codecs = sorted({c for f in files for c in f["codecs"]})
    all_encodings = sorted({e for f in files for e in f["encodings"]})
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump({"generator": "tests/peers/make_parquet_fixtures.py", "pyarrow": pa.__version__,
                   "codecs": all_codecs, "encodings": all_encodings, "files": files}, f, indent=1)
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"{len(files)} fixtures, {total} bytes, codecs {all_codecs}, encodings {all_encodings}")


if __name__ == "__main__":
    sys.exit(main())
