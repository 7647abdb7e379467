"""Reads a Parquet file (written by robotrain) with DuckDB and writes its rows as JSON, with the
file's key/value metadata.
Usage: parquet_duckdb_read.py FILE.parquet OUT.json"""
import sys

from parquet_duckdb_common import connect, dump_parquet, sql_string
from parquet_peer_common import write_json


def main(path, out):
    con = connect()
    d = dump_parquet(con, path)
    kv = con.execute(f"SELECT decode(key), decode(value) FROM parquet_kv_metadata({sql_string(path)})").fetchall()
    d["key_value_metadata"] = {k: v for k, v in kv}
    write_json(out, d)


if __name__ == "__main__":
    main(*sys.argv[1:3])
