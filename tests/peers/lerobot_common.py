"""Helpers shared by the LeRobot peer scripts: policies loaded strictly, processors, tensor files.

Everything here calls LeRobot 0.5.1 as a user would; nothing of LeRobot is patched, except
where a script says so (random draws fed from a file).
"""

import json
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file


def fail(message: str) -> None:
    print(f"peer check failed: {message}", file=sys.stderr)
    sys.exit(3)


def policy_class(policy_type: str):
    if policy_type == "act":
        from lerobot.policies.act.modeling_act import ACTPolicy

        return ACTPolicy
    if policy_type == "diffusion":
        from lerobot.policies.diffusion.modeling_diffusion import DiffusionPolicy

        return DiffusionPolicy
    fail(f"unknown policy type {policy_type!r}")


def load_policy_strict(policy_type: str, pretrained_dir: str):
    """from_pretrained(strict=True), then the same file through load_state_dict(strict=True):
    no missing, no unexpected key, every shape and dtype equal. Returns (policy, pre, post)."""
    from lerobot.policies.factory import make_pre_post_processors

    cls = policy_class(policy_type)
    policy = cls.from_pretrained(pretrained_dir, strict=True)
    weights = load_file(str(Path(pretrained_dir) / "model.safetensors"))
    expected = policy.state_dict()
    missing = sorted(set(expected) - set(weights))
    unexpected = sorted(set(weights) - set(expected))
    if missing or unexpected:
        fail(f"{pretrained_dir}: missing keys {missing[:8]}, unexpected keys {unexpected[:8]}")
    for name, tensor in weights.items():
        if tensor.shape != expected[name].shape or tensor.dtype != expected[name].dtype:
            fail(f"{name}: file has {tensor.dtype}{list(tensor.shape)}, "
                 f"LeRobot expects {expected[name].dtype}{list(expected[name].shape)}")
    result = policy.load_state_dict(weights, strict=True)
    if result.missing_keys or result.unexpected_keys:
        fail(f"load_state_dict(strict=True): {result}")
    pre, post = make_pre_post_processors(policy.config, pretrained_path=pretrained_dir)
    return policy, pre, post


def read_tensors(path: str) -> dict:
    return load_file(path)


def write_tensors(path: str, tensors: dict) -> None:
    save_file({k: v.detach().contiguous().cpu() for k, v in tensors.items()}, path)


def print_json(obj) -> None:
    print(json.dumps(obj), flush=True)


def quiet_logging() -> None:
    import logging

    logging.disable(logging.WARNING)
    torch.set_num_threads(1)  # see tests/integration/lerobot_support.h
