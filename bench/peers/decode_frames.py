"""LeRobot's own frame loading (lerobot.datasets.video_utils.decode_video_frames), driven by
robotrain's loader benchmark (bench_loader --peer) on the same files and the same samples.

One process is one LeRobot DataLoader worker: torch runs one thread in it, as in a worker, and
a sample is what LeRobotDataset.__getitem__ decodes for it, one decode_video_frames call per
camera (float32 frames in [0, 1], channel first). The benchmark starts one such process per
core it measures and asks each for a number of samples at a time, so that its rounds
interleave with robotrain's loader.

Protocol (one line each way): the script prints {"ready": true, ...} once it has decoded its
warm-up samples; then for each line "run N" it decodes its next N samples and prints
{"seconds": <wall time>, "cpu_seconds": <CPU time>, "samples": N}; "quit" or end of input
ends it.

    python decode_frames.py SPEC.json
SPEC: {"backend": "pyav" | "torchcodec", "tolerance_s": 1e-4,
       "samples": [[[video_path, timestamp_s], ...one per camera], ...],
       "shard": k, "shards": n, "warmup": 4, "same_settings": bool}
Process k takes samples k, k + n, k + 2n, ... (cycling). With same_settings the process takes
robotrain's allocator settings (glibc mallopt: no mmap, no trimming).
"""

import json
import sys
import time

from same_settings import keep_freed_memory


def main():
    spec = json.load(open(sys.argv[1]))
    if spec.get("same_settings"):
        keep_freed_memory()

    import torch

    from lerobot.datasets.video_utils import decode_video_frames

    torch.set_num_threads(1)  # as torch's DataLoader does in each worker process
    backend = spec["backend"]
    tolerance = float(spec.get("tolerance_s", 1e-4))
    mine = spec["samples"][spec.get("shard", 0) :: max(1, spec.get("shards", 1))]
    position = 0

    def load_next():
        nonlocal position
        sample = mine[position % len(mine)]
        position += 1
        frames = [decode_video_frames(path, [ts], tolerance, backend) for path, ts in sample]
        return frames

    for _ in range(int(spec.get("warmup", 4))):
        load_next()
    print(json.dumps({"ready": True, "backend": backend, "samples_in_shard": len(mine),
                      "threads": torch.get_num_threads()}), flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == "quit":
            break
        if words[0] != "run" or len(words) != 2:
            print(json.dumps({"error": f"unknown command {line.strip()!r}"}), flush=True)
            continue
        n = int(words[1])
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(n):
            load_next()
        print(json.dumps({"seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - c0,
                          "samples": n}), flush=True)


if __name__ == "__main__":
    main()
