"""Saves a small ACT policy the way LeRobot 0.5.1 does (lerobot-train's checkpoint: the policy's
save_pretrained plus its pre/post-processors with the dataset's normalisation stats), so that
robotrain can be tested against a pretrained_model directory written by the real thing.

usage: seed_save_lerobot_policy.py DATASET_ROOT OUTPUT_DIR [--device-in-config DEVICE]

DATASET_ROOT is a local LeRobot dataset (its features and stats shape the policy). With
--device-in-config the saved config.json names that device, as a checkpoint trained on that
machine does (e.g. "cuda" for a GPU-trained policy loaded where there is none).
"""

import argparse
import json
import pathlib

import torch

from lerobot.datasets.lerobot_dataset import LeRobotDatasetMetadata
from lerobot.policies.act.configuration_act import ACTConfig
from lerobot.policies.factory import make_policy, make_pre_post_processors


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dataset_root")
    parser.add_argument("output_dir")
    parser.add_argument("--device-in-config", default=None)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    meta = LeRobotDatasetMetadata("local/" + pathlib.Path(args.dataset_root).name, root=args.dataset_root)
    config = ACTConfig(
        device="cpu",
        dim_model=32,
        n_heads=2,
        dim_feedforward=64,
        n_encoder_layers=1,
        n_decoder_layers=1,
        n_vae_encoder_layers=1,
        latent_dim=8,
        chunk_size=10,
        n_action_steps=10,
        # No torchvision download here: the backbone starts random (its weights are saved anyway).
        pretrained_backbone_weights=None,
        push_to_hub=False,
    )
    policy = make_policy(config, ds_meta=meta)
    preprocessor, postprocessor = make_pre_post_processors(config, dataset_stats=meta.stats)

    out = pathlib.Path(args.output_dir)
    policy.save_pretrained(out)
    preprocessor.save_pretrained(out)
    postprocessor.save_pretrained(out)

    if args.device_in_config:
        config_path = out / "config.json"
        saved = json.loads(config_path.read_text())
        saved["device"] = args.device_in_config
        config_path.write_text(json.dumps(saved, indent=4))
    print(json.dumps({"files": sorted(p.name for p in out.iterdir())}))


if __name__ == "__main__":
    main()
