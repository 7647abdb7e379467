"""DuckDB (the PyPI package) reading Parquet files into JSON rows: struct columns flattened to
"<name>.<field>" leaves as robotrain's reader exposes them, BLOBs as lowercase hex."""
import re

import duckdb

from parquet_peer_common import value_json


def sql_string(s):
    return "'" + str(s).replace("'", "''") + "'"


def quote_ident(s):
    return '"' + str(s).replace('"', '""') + '"'


def export_expr(expr, type_):
    """An expression turning a column of `type_` into JSON-friendly values (BLOB as hex)."""
    if type_ == "BLOB":
        return f"lower(hex({expr}))"
    if re.fullmatch(r"BLOB\[\d*\]", type_):
        return f"list_transform({expr}, lambda x: lower(hex(x)))"
    return expr


def struct_fields(inner):
    """'bytes BLOB, path VARCHAR' -> [('bytes', 'BLOB'), ('path', 'VARCHAR')] (no nested structs)."""
    out = []
    for part in re.split(r",\s*(?![^()]*\))", inner):
        name, _, type_ = part.strip().partition(" ")
        out.append((name.strip('"'), type_.strip()))
    return out


def dump_parquet(con, path):
    """{columns: [{name, type}], rows: [{name: value}], struct_types: {name: DuckDB type}}."""
    src = f"read_parquet({sql_string(path)})"
    cols, exprs, struct_types = [], [], {}
    for name, type_, *_ in con.execute(f"DESCRIBE SELECT * FROM {src}").fetchall():
        m = re.fullmatch(r"STRUCT\((.*)\)", type_)
        if m:
            struct_types[name] = type_
            for field, ftype in struct_fields(m.group(1)):
                leaf = f"{name}.{field}"
                cols.append({"name": leaf, "type": ftype})
                exprs.append(f"{export_expr(f'{quote_ident(name)}.{quote_ident(field)}', ftype)} AS {quote_ident(leaf)}")
        else:
            cols.append({"name": name, "type": type_})
            exprs.append(f"{export_expr(quote_ident(name), type_)} AS {quote_ident(name)}")
    rel = con.execute(f"SELECT {', '.join(exprs)} FROM {src}")
    names = [d[0] for d in rel.description]
    rows = [{n: value_json(v) for n, v in zip(names, r)} for r in rel.fetchall()]
    return {"columns": cols, "rows": rows, "struct_types": struct_types}


def connect():
    return duckdb.connect(":memory:")
