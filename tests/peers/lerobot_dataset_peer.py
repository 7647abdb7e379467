"""LeRobot 0.5.1's LeRobotDataset as the peer of robotrain's dataset reader and writers.

Usage: lerobot_dataset_peer.py JOBS.json, where JOBS.json holds (each optional, run in order):
  "create": [{"root", "repo_id", "fps", "episodes", "frames", "height", "width"}]
            a dataset written by LeRobot itself (LeRobotDataset.create / add_frame /
            save_episode / finalize) with a state, an action, a video camera and an image
            camera whose values are a known function of (episode, frame).
  "dump":   [{"root", "output", "indices"?}]
            opens the dataset with LeRobotDataset(root=...) and writes every item it yields
            (or those at "indices") to <output>.safetensors as "<index>/<key>", plus
            <output>.json: {"length", "num_episodes", "fps", "features", "camera_keys",
            "tasks": {index: task}}.
Prints one JSON line per job.
"""

import json
import sys
from pathlib import Path

import numpy as np
import torch

from lerobot_common import print_json, quiet_logging, write_tensors


def frame_values(ep: int, f: int, h: int, w: int) -> dict:
    """What LeRobot is given for frame f of episode ep: smooth images (video) and a pattern
    (PNG image) that robotrain must read back."""
    yy, xx = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    video = np.stack([(xx * 255 // max(1, w - 1) + 9 * f) % 256,
                      (yy * 255 // max(1, h - 1) + 40 * ep) % 256,
                      np.full_like(xx, (60 + 11 * f) % 256)], axis=-1).astype(np.uint8)
    image = ((np.arange(h * w * 3).reshape(h, w, 3) * 7 + 31 * ep + 3 * f) % 256).astype(np.uint8)
    return {
        "observation.state": np.array([ep + 0.25 * f, -f * 0.5, 1.0 / (f + 1)], dtype=np.float32),
        "action": np.array([ep * 10.0 - f, f * 0.125], dtype=np.float32),
        "observation.images.top": video,
        "observation.images.wrist": image,
    }


def create_job(job: dict) -> dict:
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    h, w = job["height"], job["width"]
    features = {
        "observation.state": {"dtype": "float32", "shape": (3,), "names": ["x", "y", "z"]},
        "action": {"dtype": "float32", "shape": (2,), "names": ["vx", "vy"]},
        "observation.images.top": {"dtype": "video", "shape": (h, w, 3), "names": ["height", "width", "channels"]},
        "observation.images.wrist": {"dtype": "image", "shape": (h, w, 3), "names": ["height", "width", "channels"]},
    }
    ds = LeRobotDataset.create(job["repo_id"], fps=job["fps"], features=features, root=job["root"],
                               robot_type="peer", use_videos=True)
    for ep in range(job["episodes"]):
        for f in range(job["frames"]):
            frame = frame_values(ep, f, h, w)
            frame["task"] = "pick" if ep % 2 == 0 else "place"
            ds.add_frame(frame)
        ds.save_episode(parallel_encoding=False)
    ds.finalize()
    return {"created": job["root"], "frames": ds.meta.total_frames}


def dump_job(job: dict) -> dict:
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    ds = LeRobotDataset("robotrain/peer", root=job["root"])
    indices = job.get("indices") or list(range(len(ds)))
    tensors, tasks = {}, {}
    for i in indices:
        item = ds[i]
        for key, value in item.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{i}/{key}"] = value
            elif key == "task":
                tasks[str(i)] = value
    write_tensors(job["output"] + ".safetensors", tensors)
    summary = {
        "length": len(ds),
        "num_episodes": ds.num_episodes,
        "fps": ds.fps,
        "features": sorted(ds.features),
        "camera_keys": list(ds.meta.camera_keys),
        "tasks": tasks,
    }
    Path(job["output"] + ".json").write_text(json.dumps(summary))
    return {"dumped": job["root"], "items": len(indices)}


def main() -> None:
    quiet_logging()
    jobs = json.loads(Path(sys.argv[1]).read_text())
    for job in jobs.get("create", []):
        print_json(create_job(job))
    for job in jobs.get("dump", []):
        print_json(dump_job(job))


if __name__ == "__main__":
    main()
