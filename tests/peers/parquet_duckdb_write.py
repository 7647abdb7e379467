"""Writes Parquet files with DuckDB covering every codec it has, page versions (v1 pages, or v2
pages with DELTA_* / BYTE_STREAM_SPLIT), list shapes, a struct, null patterns and several row
groups, each with a JSON dump of what DuckDB reads back: robotrain's reader must match it value
by value.
Usage: parquet_duckdb_write.py OUT_DIR   (writes OUT_DIR/manifest.json)"""
import json
import os
import sys

from parquet_duckdb_common import connect, dump_parquet, sql_string
from parquet_peer_common import write_json

# Every column shape robotrain reads, nulls at value and list level, rows of varying length.
SRC = r"""
CREATE TABLE src AS SELECT
  CASE WHEN i % 7 = 3 THEN NULL ELSE (i * 7919 % 100003 - 50000)::INTEGER END AS i32,
  CASE WHEN i % 5 = 1 THEN NULL ELSE i::BIGINT * 1000003 - 7 END AS i64,
  (i * 3)::BIGINT AS seq,
  (i::UBIGINT * 2654435761 % 4294967296)::UINTEGER AS u32,
  CASE WHEN i % 9 = 2 THEN NULL ELSE (i / 7.0)::FLOAT END AS f,
  (i * 0.001 - 1.5)::DOUBLE AS d,
  CASE WHEN i % 4 = 0 THEN NULL ELSE i % 3 = 0 END AS b,
  i % 2 = 0 AS flag,
  CASE WHEN i % 6 = 5 THEN NULL ELSE 'str_' || i || repeat('x', (i % 4)::INTEGER) END AS s,
  ['alpha', 'beta', 'gamma'][i % 3 + 1] AS cat,
  CASE WHEN i % 8 = 0 THEN NULL ELSE ('\x00\xFF' || i::VARCHAR)::BLOB END AS bin,
  NULL::INTEGER AS allnull,
  CASE WHEN i % 11 = 5 OR i % 2048 = 0 THEN NULL ELSE
    list_transform(range(i % 5), lambda k: CASE WHEN (i + k) % 13 = 6 THEN NULL ELSE (i + k * 0.25)::FLOAT END) END AS lf,
  CASE WHEN i % 10 = 3 THEN NULL ELSE list_transform(range(i % 4), lambda k: i::BIGINT * 100 + k) END AS li,
  list_transform(range(i % 3), lambda k: CASE WHEN k = 1 AND i % 2 = 0 THEN NULL ELSE 'e' || i || '_' || k END) AS ls,
  list_transform(range(3), lambda k: (i * 3 + k) * 0.5)::DOUBLE[] AS ld,
  list_transform(range(14), lambda k: ((i * 14 + k) / 3.0)::FLOAT)::FLOAT[14] AS state,
  CASE WHEN i % 12 = 7 THEN NULL ELSE {'bytes': ('img' || i)::BLOB, 'path': 'frame_' || i || '.png'} END AS image,
  -- LeRobot per-episode image stats have shape 3x1x1: nested lists, read flattened.
  CASE WHEN i % 15 = 4 THEN NULL ELSE [[[i * 0.1]], [[i * 0.2]], [[i * 0.3]]]::DOUBLE[][][] END AS img_mean,
  [[i, NULL], [], NULL, [i + 1]][1 : i % 5]::INTEGER[][] AS nested
FROM range(5000) t(i)"""

# A LeRobot-like table large enough for several pages per column chunk.
BIG = r"""
CREATE TABLE big AS SELECT
  i::BIGINT AS "index", (i % 500)::BIGINT AS frame_index, (i // 500)::BIGINT AS episode_index,
  ((i % 500) / 30.0)::FLOAT AS "timestamp",
  list_transform(range(14), lambda k: sin(i * 0.01 + k)::FLOAT) AS "observation.state",
  list_transform(range(14), lambda k: cos(i * 0.01 + k)::FLOAT)::FLOAT[14] AS action,
  ['pick', 'place'][i % 2 + 1] AS task
FROM range(12000) t(i)"""


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    con = connect()
    con.execute(SRC)
    con.execute(BIG)
    files = []

    def write(name, table, options):
        path = os.path.join(out_dir, f"{name}.parquet")
        con.execute(f"COPY {table} TO {sql_string(path)} (FORMAT parquet, {options})")
        js = os.path.join(out_dir, f"{name}.json")
        write_json(js, dump_parquet(con, path))
        (groups,) = con.execute(
            f"SELECT count(DISTINCT row_group_id)::INTEGER FROM parquet_metadata({sql_string(path)})").fetchone()
        files.append({"name": name, "parquet": path, "json": js, "options": options, "row_groups": groups})

    for codec in ["uncompressed", "snappy", "zstd", "gzip", "lz4", "brotli"]:
        for version in ["v1", "v2"]:
            write(f"src_{codec}_{version}", "src", f"COMPRESSION {codec}, PARQUET_VERSION {version}, ROW_GROUP_SIZE 2048")
    write("src_snappy_v1_one_group", "src", "COMPRESSION snappy")
    write("big_zstd_v1", "big", "COMPRESSION zstd, PARQUET_VERSION v1")
    write("big_snappy_v2", "big", "COMPRESSION snappy, PARQUET_VERSION v2")

    # Which encodings and codecs the files above actually use (the test asserts coverage).
    encodings, codecs = set(), set()
    for f in files:
        for enc, comp in con.execute(
                f"SELECT encodings, compression FROM parquet_metadata({sql_string(f['parquet'])})").fetchall():
            encodings.update(e for e in str(enc).replace(",", " ").split() if e)
            codecs.add(str(comp))
    with open(os.path.join(out_dir, "manifest.json"), "w") as fh:
        json.dump({"files": files, "encodings": sorted(encodings), "codecs": sorted(codecs)}, fh, indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
