// Writes Parquet files with DuckDB covering every codec, page version (v1 pages or v2 pages
// with DELTA_* / BYTE_STREAM_SPLIT), list shape, struct, null pattern and several row groups,
// each with a JSON dump of what DuckDB reads back: robotrain's reader must match it value by value.
// Usage: node parquet_duckdb_write.mjs OUT_DIR   (writes OUT_DIR/manifest.json)
import fs from 'node:fs';
import path from 'node:path';
import { connect, dumpParquet, sqlString } from './parquet_duckdb_common.mjs';

const outDir = process.argv[2];
fs.mkdirSync(outDir, { recursive: true });
const conn = await connect();

// Every column shape robotrain reads, nulls at value and list level, rows of varying length.
await conn.run(`
CREATE TABLE src AS SELECT
  CASE WHEN i % 7 = 3 THEN NULL ELSE (i * 7919 % 100003 - 50000)::INTEGER END AS i32,
  CASE WHEN i % 5 = 1 THEN NULL ELSE i::BIGINT * 1000003 - 7 END AS i64,
  (i * 3)::BIGINT AS seq,
  (i::UBIGINT * 2654435761 % 4294967296)::UINTEGER AS u32,
  CASE WHEN i % 9 = 2 THEN NULL ELSE (i / 7.0)::FLOAT END AS f,
  (i * 0.001 - 1.5)::DOUBLE AS d,
  CASE WHEN i % 4 = 0 THEN NULL ELSE i % 3 = 0 END AS b,
  i % 2 = 0 AS flag,
  CASE WHEN i % 6 = 5 THEN NULL ELSE 'str_' || i || repeat('x', i % 4) END AS s,
  ['alpha', 'beta', 'gamma'][i % 3 + 1] AS cat,
  CASE WHEN i % 8 = 0 THEN NULL ELSE ('\\x00\\xFF' || i::VARCHAR)::BLOB END AS bin,
  NULL::INTEGER AS allnull,
  CASE WHEN i % 11 = 5 OR i % 2048 = 0 THEN NULL ELSE
    list_transform(range(i % 5), k -> CASE WHEN (i + k) % 13 = 6 THEN NULL ELSE (i + k * 0.25)::FLOAT END) END AS lf,
  CASE WHEN i % 10 = 3 THEN NULL ELSE list_transform(range(i % 4), k -> i::BIGINT * 100 + k) END AS li,
  list_transform(range(i % 3), k -> CASE WHEN k = 1 AND i % 2 = 0 THEN NULL ELSE 'e' || i || '_' || k END) AS ls,
  list_transform(range(3), k -> (i * 3 + k) * 0.5)::DOUBLE[] AS ld,
  list_transform(range(14), k -> ((i * 14 + k) / 3.0)::FLOAT)::FLOAT[14] AS state,
  CASE WHEN i % 12 = 7 THEN NULL ELSE {'bytes': ('img' || i)::BLOB, 'path': 'frame_' || i || '.png'} END AS image,
  -- LeRobot per-episode image stats have shape 3x1x1: nested lists, read flattened.
  CASE WHEN i % 15 = 4 THEN NULL ELSE [[[i * 0.1]], [[i * 0.2]], [[i * 0.3]]]::DOUBLE[][][] END AS img_mean,
  [[i, NULL], [], NULL, [i + 1]][1 : i % 5]::INTEGER[][] AS nested
FROM range(5000) t(i)`);

// A LeRobot-like table large enough for several pages per column chunk.
await conn.run(`
CREATE TABLE big AS SELECT
  i::BIGINT AS "index", (i % 500)::BIGINT AS frame_index, (i // 500)::BIGINT AS episode_index,
  ((i % 500) / 30.0)::FLOAT AS "timestamp",
  list_transform(range(14), k -> sin(i * 0.01 + k)::FLOAT) AS "observation.state",
  list_transform(range(14), k -> cos(i * 0.01 + k)::FLOAT)::FLOAT[14] AS action,
  ['pick', 'place'][i % 2 + 1] AS task
FROM range(12000) t(i)`);

const files = [];
async function write(name, table, options) {
  const file = path.join(outDir, `${name}.parquet`);
  await conn.run(`COPY ${table} TO ${sqlString(file)} (FORMAT parquet, ${options})`);
  const dump = await dumpParquet(conn, file);
  const json = path.join(outDir, `${name}.json`);
  fs.writeFileSync(json, JSON.stringify(dump));
  const rg = (await conn.runAndReadAll(
    `SELECT count(DISTINCT row_group_id)::INTEGER AS n FROM parquet_metadata(${sqlString(file)})`)).getRowObjectsJson();
  files.push({ name, parquet: file, json, options, row_groups: rg[0].n });
}

for (const codec of ['uncompressed', 'snappy', 'zstd', 'gzip']) {
  for (const version of ['v1', 'v2']) {
    await write(`src_${codec}_${version}`, 'src', `COMPRESSION ${codec}, PARQUET_VERSION ${version}, ROW_GROUP_SIZE 2048`);
  }
}
await write('src_snappy_v1_one_group', 'src', 'COMPRESSION snappy');
await write('big_zstd_v1', 'big', 'COMPRESSION zstd, PARQUET_VERSION v1');
await write('big_snappy_v2', 'big', 'COMPRESSION snappy, PARQUET_VERSION v2');

// Which encodings and codecs the files above actually use (the test asserts coverage).
const encodings = new Set();
const codecs = new Set();
for (const f of files) {
  const rows = (await conn.runAndReadAll(
    `SELECT encodings, compression FROM parquet_metadata(${sqlString(f.parquet)})`)).getRowObjectsJson();
  for (const r of rows) {
    for (const e of String(r.encodings).split(/[,\s]+/)) if (e) encodings.add(e);
    codecs.add(String(r.compression));
  }
}
fs.writeFileSync(path.join(outDir, 'manifest.json'),
  JSON.stringify({ files, encodings: [...encodings].sort(), codecs: [...codecs].sort() }, null, 1));
