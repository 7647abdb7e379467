"""Shared by the pyarrow peer scripts (make_parquet_fixtures.py, parquet_pyarrow_read.py): a
Parquet table's values as pyarrow reads them, in the JSON form robotrain's tests compare with
value by value: {columns: [{name, type, list_depth}], rows: [{name: value}]}, struct fields
flattened to "<struct>.<field>" as robotrain does."""
import pyarrow as pa

from parquet_peer_common import value_json


def leaf_columns(schema):
    """[(name, field_path, leaf type, list depth)] with structs flattened as robotrain does."""
    out = []
    for f in schema:
        if pa.types.is_struct(f.type):
            out += [(f"{f.name}.{sub.name}", (f.name, sub.name), sub.type, 0) for sub in f.type]
            continue
        t, depth = f.type, 0
        while pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
            t, depth = t.value_type, depth + 1
        out.append((f.name, (f.name,), t, depth))
    return out


def table_json(table, skip=(), value=value_json):
    """The columns (less those named in `skip`) and rows of `table`, each value through `value`."""
    cols = [c for c in leaf_columns(table.schema) if c[0] not in skip and c[1][0] not in skip]
    rows = []
    for r in table.to_pylist():
        o = {}
        for name, path, _, _ in cols:
            v = r[path[0]]
            if len(path) > 1:
                v = None if v is None else v[path[1]]
            o[name] = value(v)
        rows.append(o)
    return {"columns": [{"name": n, "type": str(t), "list_depth": d} for n, _, t, d in cols], "rows": rows}
