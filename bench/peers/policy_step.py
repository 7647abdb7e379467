"""LeRobot's own training step, driven by a robotrain step benchmark (bench_act_step,
bench_diffusion_step --peer).

The benchmark writes the policy's configuration (a JSON file) and the synthetic batch with
its normalisation stats (a safetensors file), starts this script with the venv's Python and
then asks for one step at a time, so that robotrain's step and LeRobot's are timed
interleaved in one invocation. A step is what lerobot-train's update_policy does with a batch
from its loader: the policy preprocessor (normalisation), forward, backward, gradient
clipping, optimizer step (the policy's preset: AdamW or Adam), zero_grad, and the .item()
reads of the loss and the gradient norm.

Protocol (one line each way): the script prints one JSON object when it is ready
({"ready": true, ...}); then for every line "step" read on stdin it runs one step and prints
{"ms": <wall time of the step>, "cpu_ms": <CPU time of all its threads>}; "quit" or end of input ends it.

    python policy_step.py SPEC.json
SPEC: {"policy": "act"|"diffusion", "config": {...ACTConfig/DiffusionConfig fields...},
       "input_features": {key: {"type": "VISUAL", "shape": [...]}, ...},
       "output_features": {...}, "batch": "batch.safetensors", "threads": N,
       "same_settings": bool}
The batch file holds the batch under "batch/<key>" and the stats under "stats/<key>/<stat>".
With same_settings the process takes robotrain's allocator settings (glibc mallopt: no mmap,
no trimming); the OpenMP variables come with the environment the benchmark gives it.
"""

import json
import os
import sys
import time

from same_settings import keep_freed_memory


def main():
    spec = json.load(open(sys.argv[1]))
    if spec.get("same_settings"):
        keep_freed_memory()

    import torch
    from safetensors.torch import load_file

    from lerobot.configs.types import FeatureType, PolicyFeature

    if spec.get("threads"):
        torch.set_num_threads(int(spec["threads"]))
    torch.manual_seed(0)

    def features(d):
        return {k: PolicyFeature(type=FeatureType(v["type"]), shape=tuple(v["shape"])) for k, v in d.items()}

    if spec["policy"] == "act":
        from lerobot.policies.act.configuration_act import ACTConfig as Config
        from lerobot.policies.act.modeling_act import ACTPolicy as Policy
        from lerobot.policies.act.processor_act import make_act_pre_post_processors as make_processors
    else:
        from lerobot.policies.diffusion.configuration_diffusion import DiffusionConfig as Config
        from lerobot.policies.diffusion.modeling_diffusion import DiffusionPolicy as Policy
        from lerobot.policies.diffusion.processor_diffusion import (
            make_diffusion_pre_post_processors as make_processors,
        )

    fields = dict(spec.get("config", {}))
    for k in ("crop_shape", "resize_shape", "down_dims"):
        if isinstance(fields.get(k), list):
            fields[k] = tuple(fields[k])
    cfg = Config(
        input_features=features(spec["input_features"]),
        output_features=features(spec["output_features"]),
        device="cpu",
        **fields,
    )
    tensors = load_file(spec["batch"])
    batch = {k[len("batch/"):]: v for k, v in tensors.items() if k.startswith("batch/")}
    stats = {}
    for k, v in tensors.items():
        if k.startswith("stats/"):
            key, stat = k[len("stats/"):].rsplit("/", 1)
            stats.setdefault(key, {})[stat] = v
    policy = Policy(cfg)
    policy.train()
    preprocessor, _ = make_processors(cfg, dataset_stats=stats)
    optimizer = cfg.get_optimizer_preset().build(policy.get_optim_params())
    clip = cfg.get_optimizer_preset().grad_clip_norm

    def step():
        b = preprocessor(dict(batch))
        loss, _ = policy.forward(b)
        loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(policy.parameters(), clip)
        optimizer.step()
        optimizer.zero_grad()
        return loss.item(), grad_norm.item()

    print(json.dumps({
        "ready": True,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "params": sum(p.numel() for p in policy.parameters()),
        "optimizer": type(optimizer).__name__,
        "gomp_spincount": os.environ.get("GOMP_SPINCOUNT"),
        "same_settings": bool(spec.get("same_settings")),
    }), flush=True)
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == "quit":
            break
        if cmd != "step":
            print(json.dumps({"error": f"unknown command {cmd!r}"}), flush=True)
            continue
        t0, c0 = time.perf_counter(), time.process_time()
        loss, _ = step()
        ms = (time.perf_counter() - t0) * 1000
        cpu_ms = (time.process_time() - c0) * 1000
        print(json.dumps({"ms": ms, "cpu_ms": cpu_ms, "loss": loss}), flush=True)


if __name__ == "__main__":
    main()
