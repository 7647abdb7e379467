// Shared by the Parquet cross-check scripts: loads @duckdb/node-api from the node_modules
// directory named by ROBOTRAIN_NODE_MODULES (default: the one next to this script) and dumps
// query results as JSON rows with BLOBs as lowercase hex.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

export async function connect() {
  const modules = process.env.ROBOTRAIN_NODE_MODULES || path.join(here, 'node_modules');
  const require = createRequire(path.join(path.dirname(modules), 'index.js'));
  const { DuckDBInstance } = require('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:');
  return instance.connect();
}

export function sqlString(s) {
  return "'" + String(s).replaceAll("'", "''") + "'";
}

function quoteIdent(s) {
  return '"' + String(s).replaceAll('"', '""') + '"';
}

// Expression that turns a column of `type` into JSON-friendly values (BLOB -> hex).
function exportExpr(expr, type) {
  if (type === 'BLOB') return `lower(hex(${expr}))`;
  if (/^BLOB(\[\d*\])$/.test(type)) return `list_transform(${expr}, x -> lower(hex(x)))`;
  return expr;
}

// Reads a Parquet file with DuckDB. Struct columns are flattened to "<name>.<field>" leaves,
// matching robotrain's reader. Returns {columns: [{name, type}], rows: [{name: value}],
// struct_types: {name: DuckDB type}}.
export async function dumpParquet(conn, file) {
  const src = `read_parquet(${sqlString(file)})`;
  const desc = (await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${src}`)).getRowObjectsJson();
  const cols = [];
  const exprs = [];
  const structTypes = {};
  for (const d of desc) {
    const name = d.column_name;
    const type = d.column_type;
    const m = /^STRUCT\((.*)\)$/.exec(type);
    if (m) {
      structTypes[name] = type;
      // Fields: "name TYPE, name TYPE" (no nested structs in our fixtures).
      for (const part of m[1].split(/,\s*(?![^()]*\))/)) {
        const sp = part.trim().split(/\s+/);
        const field = sp[0].replace(/^"|"$/g, '');
        const ftype = sp.slice(1).join(' ');
        cols.push({ name: `${name}.${field}`, type: ftype });
        exprs.push(`${exportExpr(`${quoteIdent(name)}.${quoteIdent(field)}`, ftype)} AS ${quoteIdent(name + '.' + field)}`);
      }
    } else {
      cols.push({ name, type });
      exprs.push(`${exportExpr(quoteIdent(name), type)} AS ${quoteIdent(name)}`);
    }
  }
  const rows = (await conn.runAndReadAll(`SELECT ${exprs.join(', ')} FROM ${src}`)).getRowObjectsJson();
  return { columns: cols, rows, struct_types: structTypes };
}
