"""Writes the fuzzers' seed corpora under fuzz/corpus/<harness>/ from real files and answers.

Run with the project's Python environment (pyarrow, safetensors, mlflow):
    ~/.cache/robotrain/venv/bin/python fuzz/make_corpus.py [SYNTH_DATASET_DIR]

- parquet_file, parquet_footer, parquet_chunk: small files pyarrow writes with each codec and
  encoding (whole files; their footers and page headers; their column chunks behind the
  chunk fuzzer's 8-byte schema header);
- safetensors: files written by the safetensors library;
- dataset_meta: LeRobot's own info.json (LeRobotDataset.create), robotrain's (`robotrain dataset
  synth`, when its output directory is given), and v2.1 jsonl files;
- mlflow_json: answers of a real `mlflow server` (started here on a free port, SQLite store);
- hf_api, blob_listing: answers in the documented formats of the Hugging Face Hub API and
  Azure Blob's List Blobs (no real service can run here).
Every seed is small (the corpus is meant to be checked in).
"""
import io
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def out_dir(name):
    d = os.path.join(CORPUS, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def save(d, name, data):
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


CODEC_IDS = {"UNCOMPRESSED": 0, "SNAPPY": 1, "GZIP": 2, "BROTLI": 4, "LZ4": 7, "ZSTD": 6}
PHYSICAL_IDS = {"BOOLEAN": 0, "INT32": 1, "INT64": 2, "INT96": 3, "FLOAT": 4, "DOUBLE": 5, "BYTE_ARRAY": 6,
                "FIXED_LEN_BYTE_ARRAY": 7}


def parquet_seeds():
    files, chunks = out_dir("parquet_file"), out_dir("parquet_chunk")
    footers = out_dir("parquet_footer")
    n = 12
    nn = pa.field  # shorthand
    # (name, table, shape id of parquet_chunk_fuzzer, write options)
    cases = [
        ("req_i64_plain", pa.table({"c": pa.array(range(n), pa.int64())},
                                   schema=pa.schema([nn("c", pa.int64(), nullable=False)])), 0,
         dict(compression="none", use_dictionary=False)),
        ("opt_f32_snappy_dict", pa.table({"c": pa.array([None if i % 3 == 0 else i / 4 for i in range(n)], pa.float32())}),
         1, dict(compression="snappy")),
        ("opt_str_zstd_v2", pa.table({"c": pa.array([None if i % 4 == 1 else "s%d" % (i % 5) for i in range(n)])}), 1,
         dict(compression="zstd", data_page_version="2.0")),
        ("list_f32_gzip", pa.table({"c": pa.array([[float(i), None][: i % 3] for i in range(n)], pa.list_(pa.float32()))}),
         2, dict(compression="gzip")),
        ("list_list_i32_brotli", pa.table({"c": pa.array([[[i], [], None][: i % 4] for i in range(n)],
                                                         pa.list_(pa.list_(pa.int32())))}), 3,
         dict(compression="brotli")),
        ("opt_bool_lz4_v2", pa.table({"c": pa.array([None if i % 5 == 0 else i % 2 == 0 for i in range(n)])}), 1,
         dict(compression="lz4", data_page_version="2.0")),
        ("opt_i32_delta", pa.table({"c": pa.array([i * 7 - 30 for i in range(n)], pa.int32())}), 1,
         dict(compression="none", use_dictionary=False, column_encoding={"c": "DELTA_BINARY_PACKED"})),
        ("opt_bin_dlba", pa.table({"c": pa.array([b"x" * (i % 4) for i in range(n)], pa.binary())}), 1,
         dict(compression="none", use_dictionary=False, column_encoding={"c": "DELTA_LENGTH_BYTE_ARRAY"})),
        ("opt_str_dba_v2", pa.table({"c": pa.array(["robot%d" % (i // 2) for i in range(n)])}), 1,
         dict(compression="snappy", use_dictionary=False, data_page_version="2.0",
              column_encoding={"c": "DELTA_BYTE_ARRAY"})),
        ("opt_f64_bss", pa.table({"c": pa.array([i * 0.5 for i in range(n)], pa.float64())}), 1,
         dict(compression="none", use_dictionary=False, column_encoding={"c": "BYTE_STREAM_SPLIT"})),
        ("opt_fixed3_bss", pa.table({"c": pa.array([bytes([i, 1, 2]) for i in range(n)], pa.binary(3))}), 1,
         dict(compression="none", use_dictionary=False, column_encoding={"c": "BYTE_STREAM_SPLIT"})),
        ("fixed_size_list_f32", pa.table({"c": pa.array([[float(i)] * 3 for i in range(n)], pa.list_(pa.float32(), 3))}),
         2, dict(compression="snappy")),
    ]
    for name, table, shape, opts in cases:
        buf = io.BytesIO()
        pq.write_table(table, buf, store_schema=False, **opts)
        data = buf.getvalue()
        save(files, name + ".parquet", data)
        (flen,) = struct.unpack("<I", data[-8:-4])
        save(footers, name + ".footer", data[-8 - flen:-8])
        md = pq.ParquetFile(io.BytesIO(data)).metadata
        cc = md.row_group(0).column(0)
        start = cc.dictionary_page_offset if cc.has_dictionary_page else cc.data_page_offset
        chunk = data[start:start + cc.total_compressed_size]
        save(footers, name + ".page", chunk[:64])  # begins with a page header
        type_length = 3 if cc.physical_type == "FIXED_LEN_BYTE_ARRAY" else 0
        if cc.physical_type == "BYTE_ARRAY" and pa.types.is_string(table.schema[0].type):
            type_length |= 0x80
        config = bytes([PHYSICAL_IDS[cc.physical_type], shape, CODEC_IDS[cc.compression], type_length])
        config += struct.pack("<HH", md.num_rows, cc.num_values)
        save(chunks, name + ".chunk", config + chunk)


def safetensors_seeds():
    from safetensors.numpy import save as st_save
    d = out_dir("safetensors")
    save(d, "mixed.safetensors", st_save({"w": np.arange(6, dtype=np.float32).reshape(2, 3),
                                           "b": np.array([1, -2], dtype=np.int64),
                                           "m": np.array([True, False, True]),
                                           "h": np.zeros((2, 2), dtype=np.float16)},
                                          metadata={"format": "pt", "note": "seed"}))
    save(d, "empty_tensor.safetensors", st_save({"e": np.zeros((0, 4), dtype=np.float32),
                                                 "s": np.array(3.5, dtype=np.float64)}))
    save(d, "u8.safetensors", st_save({"img": np.arange(48, dtype=np.uint8).reshape(4, 4, 3)}))


V21_INFO = {"codebase_version": "v2.1", "robot_type": "so100", "fps": 30, "total_episodes": 2, "total_frames": 8,
            "total_tasks": 2, "chunks_size": 1000, "splits": {"train": "0:2"},
            "data_path": "data/chunk-{episode_chunk:03d}/episode_{episode_index:06d}.parquet",
            "video_path": "videos/chunk-{episode_chunk:03d}/{video_key}/episode_{episode_index:06d}.mp4",
            "features": {"action": {"dtype": "float32", "shape": [2], "names": ["x", "y"]},
                         "observation.images.top": {"dtype": "video", "shape": [64, 96, 3],
                                                    "names": ["height", "width", "channels"],
                                                    "info": {"video.fps": 30, "video.codec": "av1"}},
                         "timestamp": {"dtype": "float32", "shape": [1], "names": None},
                         "episode_index": {"dtype": "int64", "shape": [1], "names": None}}}


def dataset_meta_seeds(synth_dir):
    d = out_dir("dataset_meta")
    save(d, "v21_info", b"\x00" + json.dumps(V21_INFO).encode())
    save(d, "episodes_jsonl", b"\x01" + b'{"episode_index": 0, "tasks": ["pick"], "length": 5}\n'
                                        b'{"episode_index": 1, "tasks": ["place", "pick"], "length": 3}\n')
    save(d, "tasks_jsonl", b"\x02" + b'{"task_index": 0, "task": "pick"}\n{"task_index": 1, "task": "place"}\n')
    save(d, "episodes_stats_jsonl",
         b"\x03" + b'{"episode_index": 0, "stats": {"action": {"min": [0, 0], "max": [1, 2], "mean": [0.5, 1],'
                   b' "std": [0.1, 0.2], "count": [5]}, "observation.images.top": {"min": [[[0]], [[0]], [[0]]],'
                   b' "max": [[[1]], [[1]], [[1]]], "mean": [[[0.5]], [[0.4]], [[0.3]]],'
                   b' "std": [[[0.2]], [[0.2]], [[0.2]]], "count": [5]}}}\n')
    # LeRobot's own info.json and stats.json, from LeRobotDataset.create / save_episode.
    try:
        from lerobot.datasets.lerobot_dataset import LeRobotDataset
        with tempfile.TemporaryDirectory() as tmp:
            ds = LeRobotDataset.create("seed/fuzz", fps=30, root=os.path.join(tmp, "ds"), use_videos=False,
                                       features={"observation.state": {"dtype": "float32", "shape": (3,),
                                                                       "names": ["a", "b", "c"]},
                                                 "action": {"dtype": "float32", "shape": (2,), "names": ["x", "y"]}})
            for i in range(3):
                ds.add_frame({"observation.state": np.full(3, i, np.float32), "action": np.full(2, -i, np.float32),
                              "task": "pick"})
            ds.save_episode()
            ds.finalize()
            with open(os.path.join(tmp, "ds", "meta", "info.json"), "rb") as f:
                save(d, "lerobot_info", b"\x00" + f.read())
            stats = os.path.join(tmp, "ds", "meta", "stats.json")
            if os.path.exists(stats):
                with open(stats, "rb") as f:
                    save(d, "lerobot_stats", b"\x04" + f.read())
    except Exception as e:  # the seed set is still useful without it
        print("LeRobot seeds skipped:", e, file=sys.stderr)
    if synth_dir:
        with open(os.path.join(synth_dir, "meta", "info.json"), "rb") as f:
            save(d, "robotrain_synth_info", b"\x00" + f.read())
        with open(os.path.join(synth_dir, "meta", "stats.json"), "rb") as f:
            data = f.read()
            if len(data) < 20000:
                save(d, "robotrain_synth_stats", b"\x04" + data)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mlflow_seeds():
    d = out_dir("mlflow_json")
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1", "--port", str(port),
             "--backend-store-uri", f"sqlite:///{tmp}/mlflow.db", "--default-artifact-root", f"{tmp}/artifacts",
             "--workers", "1"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}/api/2.0/mlflow/"
        try:
            for _ in range(120):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
                    break
                except Exception:
                    time.sleep(0.5)

            def call(path, body=None):
                req = urllib.request.Request(base + path, method="POST" if body is not None else "GET",
                                             data=json.dumps(body).encode() if body is not None else None,
                                             headers={"Content-Type": "application/json"})
                try:
                    with urllib.request.urlopen(req, timeout=10) as r:
                        return r.read()
                except urllib.error.HTTPError as e:
                    return e.read()

            exp = json.loads(call("experiments/create", {"name": "seed"}))["experiment_id"]
            run = json.loads(call("runs/create", {"experiment_id": exp, "run_name": "seed-run", "start_time": 1700000000000,
                                                  "tags": [{"key": "mlflow.user", "value": "robotrain"}]}))
            run_id = run["run"]["info"]["run_id"]
            save(d, "runs_create.json", json.dumps(run))
            call("runs/log-batch", {"run_id": run_id,
                                    "metrics": [{"key": "train/loss", "value": 0.5 - i / 10, "timestamp": 1700000000000 + i,
                                                 "step": i} for i in range(3)],
                                    "params": [{"key": "policy.type", "value": "act"}]})
            save(d, "runs_get.json", call(f"runs/get?run_id={run_id}"))
            save(d, "runs_search.json", call("runs/search", {"experiment_ids": [exp], "max_results": 10}))
            save(d, "metrics_history.json", call(f"metrics/get-history?run_id={run_id}&metric_key=train/loss"))
            call("registered-models/create", {"name": "seed-model"})
            save(d, "model_version_create.json",
                 call("model-versions/create", {"name": "seed-model", "source": f"runs:/{run_id}/model", "run_id": run_id}))
            save(d, "registered_models_search.json", call("registered-models/search?max_results=10"))
            save(d, "model_versions_search.json", call("model-versions/search?filter=name%3D%27seed-model%27"))
            save(d, "error_not_found.json", call("runs/get?run_id=0123456789abcdef0123456789abcdef"))
        finally:
            server.terminate()
            server.wait(timeout=30)


def hf_api_seeds():
    d = out_dir("hf_api")
    sha = "8f2c5e0b6a1d4c3b2a19f8e7d6c5b4a392817263"
    save(d, "refs.json", json.dumps({"branches": [{"name": "main", "ref": "refs/heads/main", "targetCommit": sha}],
                                     "converts": [], "tags": [{"name": "v3.0", "ref": "refs/tags/v3.0", "targetCommit": sha}]}))
    save(d, "revision.json", json.dumps({"_id": "66b0", "id": "lerobot/pusht", "sha": sha, "lastModified": "2025-01-01T00:00:00.000Z",
                                         "private": False, "gated": False, "siblings": [{"rfilename": "meta/info.json"}]}))
    save(d, "tree.json", json.dumps([
        {"type": "directory", "oid": "a" * 40, "size": 0, "path": "data"},
        {"type": "file", "oid": "b" * 40, "size": 2411, "path": "meta/info.json"},
        {"type": "file", "oid": "c" * 40, "size": 134, "path": "data/chunk-000/file-000.parquet",
         "lfs": {"oid": "d" * 64, "size": 1048576, "pointerSize": 134}}]))
    # A size no integer holds (UBSan found a float-to-int64 cast on it in CI).
    save(d, "tree_size_out_of_range.json", json.dumps([{"type": "file", "oid": "b" * 40, "size": 1e300, "path": "a"}]))
    save(d, "link_header", '<https://huggingface.co/api/datasets/lerobot/pusht/tree/main?recursive=true&cursor=ZXlKbGJt>; rel="next"')
    save(d, "etag", 'W/"' + "e" * 64 + '"')


def blob_listing_seeds():
    d = out_dir("blob_listing")
    blob = ("<Blob><Name>{name}</Name><Properties><Creation-Time>Mon, 01 Jan 2024 00:00:00 GMT</Creation-Time>"
            "<Last-Modified>Mon, 01 Jan 2024 00:00:00 GMT</Last-Modified><Etag>0x8DC0{n:012X}</Etag>"
            "<Content-Length>{size}</Content-Length><Content-Type>application/octet-stream</Content-Type>"
            "<Content-Encoding /><Content-Language /><Content-CRC64 /><Content-MD5>{md5}</Content-MD5>"
            "<Cache-Control /><Content-Disposition /><BlobType>BlockBlob</BlobType><AccessTier>Hot</AccessTier>"
            "<AccessTierInferred>true</AccessTierInferred><LeaseStatus>unlocked</LeaseStatus>"
            "<LeaseState>available</LeaseState><ServerEncrypted>true</ServerEncrypted></Properties>"
            "<OrMetadata /></Blob>")
    head = ('<?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint="https://acct.blob.core.windows.net/"'
            ' ContainerName="datasets"><Prefix>pusht/</Prefix><MaxResults>2</MaxResults><Blobs>')
    names = [("pusht/meta/info.json", 2411, "1B2M2Y8AsgTpgAmY7PhCfg=="),
             ("pusht/data/chunk-000/file-000.parquet", 1048576, ""),
             ("pusht/videos/a &amp; b/&#233;pisode.mp4", 7, "")]
    body = "".join(blob.format(name=n, n=i, size=s, md5=m) for i, (n, s, m) in enumerate(names))
    save(d, "page_with_marker.xml", head + body + "</Blobs><NextMarker>2!80!MDAwMDI1IXB1c2h0L3ZpZGVvcyE-</NextMarker>"
                                   "</EnumerationResults>")
    save(d, "last_page.xml", head + blob.format(name="pusht/meta/stats.json", n=9, size=12, md5="") +
         "</Blobs><NextMarker /></EnumerationResults>")
    save(d, "cdata_comment.xml", head + "<!-- c --><Blob><Name><![CDATA[a<b>.txt]]></Name><Properties>"
                                 "<Content-Length>1</Content-Length></Properties></Blob></Blobs><NextMarker/>"
                                 "</EnumerationResults>")


def main():
    synth = sys.argv[1] if len(sys.argv) > 1 else None
    parquet_seeds()
    safetensors_seeds()
    dataset_meta_seeds(synth)
    hf_api_seeds()
    blob_listing_seeds()
    mlflow_seeds()
    for name in sorted(os.listdir(CORPUS)):
        p = os.path.join(CORPUS, name)
        files = os.listdir(p)
        print(f"{name}: {len(files)} seeds, {sum(os.path.getsize(os.path.join(p, f)) for f in files)} bytes")


if __name__ == "__main__":
    main()
