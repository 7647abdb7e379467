// Reads a Parquet file (written by robotrain) with DuckDB and writes its rows as JSON.
// Usage: node parquet_duckdb_read.mjs FILE.parquet OUT.json
import fs from 'node:fs';
import { connect, dumpParquet } from './parquet_duckdb_common.mjs';

const [file, out] = process.argv.slice(2);
const conn = await connect();
const dump = await dumpParquet(conn, file);
const meta = (await conn.runAndReadAll(
  `SELECT decode(key) AS key, decode(value) AS value FROM parquet_kv_metadata('${file.replaceAll("'", "''")}')`)).getRowObjectsJson();
dump.key_value_metadata = Object.fromEntries(meta.map((m) => [m.key, m.value]));
fs.writeFileSync(out, JSON.stringify(dump));
