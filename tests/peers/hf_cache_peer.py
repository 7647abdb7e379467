"""huggingface_hub (the venv's) as the peer of robotrain's Hugging Face cache.

Usage: hf_cache_peer.py download|offline REPO_ID REVISION CACHE_DIR FILE...
  download  snapshot_download of the dataset repo at REVISION from $HF_ENDPOINT into CACHE_DIR.
  offline   with HF_HUB_OFFLINE=1 (set by the caller): snapshot_download and hf_hub_download
            of each FILE at REVISION, from CACHE_DIR alone.
Prints JSON: {"snapshot": path, "files": {FILE: {"path", "blob" (the link's target), "sha256"}}}.
"""

import hashlib
import json
import os
import sys

from huggingface_hub import hf_hub_download, snapshot_download


def describe(path: str) -> dict:
    with open(path, "rb") as f:
        return {"path": path, "blob": os.path.realpath(path), "sha256": hashlib.sha256(f.read()).hexdigest()}


def main() -> None:
    mode, repo_id, revision, cache_dir, files = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
    if mode == "offline" and os.environ.get("HF_HUB_OFFLINE") != "1":
        sys.exit("offline mode needs HF_HUB_OFFLINE=1")
    snapshot = snapshot_download(repo_id, repo_type="dataset", cache_dir=cache_dir, revision=revision)
    out = {"snapshot": str(snapshot), "files": {}}
    for name in files:
        path = hf_hub_download(repo_id, name, repo_type="dataset", cache_dir=cache_dir, revision=revision)
        out["files"][name] = describe(path)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
