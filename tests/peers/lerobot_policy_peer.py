"""LeRobot 0.5.1's ACTPolicy / DiffusionPolicy as the peer of robotrain's policies.

Usage: lerobot_policy_peer.py JOBS.json, where JOBS.json holds (each part optional, run in
this order, in one process so LeRobot is imported once):
  "save":    [{"type", "dataset", "output", "config": {...}}]
             a fresh LeRobot policy for the dataset (make_policy with the dataset metadata),
             saved with save_pretrained plus its pre/post processors (make_pre_post_processors
             with the dataset's stats), as a LeRobot user would hand a checkpoint to robotrain.
  "predict": [{"type", "checkpoint", "inputs", "output", "seed"}]
             loads the checkpoint strictly, then for each "call<k>/<key>" observation group of
             the inputs file runs preprocessor -> policy -> postprocessor: ACT's
             predict_action_chunk ("call<k>/chunk"), diffusion's select_action
             ("call<k>/action", initial noise "noise" from the inputs file, the DDPM steps'
             noise from torch's default generator seeded with "seed").
  "train":   [{"type", "init", "batches", "steps", "grad_clip_norm", "output_dir"}]
             LeRobot's own training step (lerobot_train.update_policy with an Accelerator,
             the policy's optimizer and scheduler presets) on the raw batches
             "step<i>/<key>" through the preprocessor, with the step's random draws
             ("step<i>/draw.latent_eps", "draw.noise", "draw.timesteps") fed to torch's
             randn_like/randn/randint for that step only. Writes curves.safetensors (loss,
             grad_norm, lr per step, float64) and model.safetensors (final weights).
Prints one JSON line per job.
"""

import contextlib
import json
import sys
from pathlib import Path

import torch

from lerobot_common import fail, load_policy_strict, print_json, quiet_logging, read_tensors, write_tensors


def groups(tensors: dict, prefix: str) -> list[dict]:
    """{"call0/a": x, "call1/a": y} -> [{"a": x}, {"a": y}]."""
    out = {}
    for name, tensor in tensors.items():
        if not name.startswith(prefix):
            continue
        head, key = name.split("/", 1)
        out.setdefault(int(head[len(prefix):]), {})[key] = tensor
    return [out[i] for i in sorted(out)]


def save_job(job: dict) -> dict:
    from lerobot.configs.types import FeatureType  # noqa: F401  (imported for the registry)
    from lerobot.datasets.dataset_metadata import LeRobotDatasetMetadata
    from lerobot.policies.factory import make_policy, make_policy_config, make_pre_post_processors

    torch.manual_seed(job.get("seed", 0))
    meta = LeRobotDatasetMetadata("robotrain/peer", root=job["dataset"])
    cfg = make_policy_config(job["type"], device="cpu", push_to_hub=False, **job.get("config", {}))
    policy = make_policy(cfg, ds_meta=meta)
    pre, post = make_pre_post_processors(policy.config, dataset_stats=meta.stats)
    out = Path(job["output"])
    policy.save_pretrained(out)
    pre.save_pretrained(out)
    post.save_pretrained(out)
    return {"saved": str(out), "files": sorted(p.name for p in out.iterdir())}


def predict_job(job: dict) -> dict:
    policy, pre, post = load_policy_strict(job["type"], job["checkpoint"])
    inputs = read_tensors(job["inputs"])
    calls = groups(inputs, "call")
    outputs = {}
    torch.manual_seed(job.get("seed", 0))
    policy.reset()
    with torch.no_grad():
        for k, observation in enumerate(calls):
            batch = pre(dict(observation))
            if job["type"] == "act":
                outputs[f"call{k}/chunk"] = post(policy.predict_action_chunk(batch))
            else:
                outputs[f"call{k}/action"] = post(policy.select_action(batch, noise=inputs["noise"]))
    write_tensors(job["output"], outputs)
    return {"predicted": job["checkpoint"], "calls": len(calls)}


class FedDraws:
    """torch.randn_like / randn / randint answered from a list of tensors for one training step
    (LeRobot's ACT VAE sample, diffusion noise and timesteps). Each draw must have the shape
    LeRobot asks for, and every fed tensor must be used."""

    def __init__(self, draws: dict):
        self.queue = {name: tensor for name, tensor in draws.items()}

    def _take(self, name: str, shape) -> torch.Tensor:
        if name not in self.queue:
            fail(f"LeRobot drew torch.{name} of shape {list(shape)} but no such draw was fed")
        tensor = self.queue.pop(name)
        if list(tensor.shape) != list(shape):
            fail(f"torch.{name}: LeRobot asked for {list(shape)}, the fed draw is {list(tensor.shape)}")
        return tensor

    @contextlib.contextmanager
    def active(self):
        real = torch.randn_like, torch.randn, torch.randint

        def randn_like(t, **_):
            return self._take("randn_like", t.shape).to(t.dtype)

        def randn(*size, **kwargs):
            shape = size[0] if len(size) == 1 and not isinstance(size[0], int) else size
            shape = kwargs.get("size", shape)
            return self._take("randn", shape).to(kwargs.get("dtype") or torch.float32)

        def randint(*args, **kwargs):
            return self._take("randint", kwargs.get("size", args[-1] if args else None)).long()

        torch.randn_like, torch.randn, torch.randint = randn_like, randn, randint
        try:
            yield
        finally:
            torch.randn_like, torch.randn, torch.randint = real
        if self.queue:
            fail(f"fed draws not used by LeRobot: {sorted(self.queue)}")


def train_job(job: dict) -> dict:
    from accelerate import Accelerator
    from lerobot.scripts.lerobot_train import update_policy
    from lerobot.utils.logging_utils import AverageMeter, MetricsTracker

    policy, pre, _ = load_policy_strict(job["type"], job["init"])
    # lerobot_train: the policy preset's optimizer over get_optim_params() and its scheduler.
    optimizer = policy.config.get_optimizer_preset().build(policy.get_optim_params())
    scheduler_cfg = policy.config.get_scheduler_preset()
    scheduler = scheduler_cfg.build(optimizer, job["steps"]) if scheduler_cfg is not None else None
    accelerator = Accelerator(step_scheduler_with_optimizer=False, cpu=True)
    policy, optimizer, scheduler = accelerator.prepare(policy, optimizer, scheduler)
    meters = {n: AverageMeter(n, ":.3f") for n in ("loss", "grad_norm", "lr", "update_s", "dataloading_s")}
    tracker = MetricsTracker(1, 1, 1, meters, initial_step=0, accelerator=accelerator)

    batches = groups(read_tensors(job["batches"]), "step")
    if len(batches) < job["steps"]:
        fail(f"{job['batches']} holds {len(batches)} batches, {job['steps']} steps asked")
    names = {"draw.latent_eps": "randn_like", "draw.noise": "randn", "draw.timesteps": "randint"}
    loss, grad_norm, lr = [], [], []
    for i in range(job["steps"]):
        raw = batches[i]
        draws = FedDraws({names[k]: v for k, v in raw.items() if k in names})
        batch = pre({k: v for k, v in raw.items() if k not in names})
        with draws.active():
            tracker, _ = update_policy(tracker, policy, batch, optimizer, job["grad_clip_norm"],
                                       accelerator=accelerator, lr_scheduler=scheduler)
        loss.append(tracker.loss.val)
        grad_norm.append(tracker.grad_norm.val)
        lr.append(tracker.lr.val)
    out = Path(job["output_dir"])
    out.mkdir(parents=True, exist_ok=True)
    write_tensors(str(out / "curves.safetensors"), {
        "loss": torch.tensor(loss, dtype=torch.float64),
        "grad_norm": torch.tensor(grad_norm, dtype=torch.float64),
        "lr": torch.tensor(lr, dtype=torch.float64),
    })
    write_tensors(str(out / "model.safetensors"), accelerator.unwrap_model(policy).state_dict())
    return {"trained": job["steps"], "final_loss": loss[-1]}


def main() -> None:
    quiet_logging()
    jobs = json.loads(Path(sys.argv[1]).read_text())
    for job in jobs.get("save", []):
        print_json(save_job(job))
    for job in jobs.get("predict", []):
        print_json(predict_job(job))
    for job in jobs.get("train", []):
        print_json(train_job(job))


if __name__ == "__main__":
    main()
