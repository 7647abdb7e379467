"""Reads a robotrain checkpoint's pretrained_model/ with LeRobot 0.5.1 the way `lerobot-train
--resume --config_path DIR/train_config.json` does (TrainPipelineConfig parsed by draccus, then
validate()), and prints what LeRobot made of it as one JSON line. A config LeRobot rejects exits
non-zero with LeRobot's own error.

usage: seed_check_lerobot_config.py PRETRAINED_MODEL_DIR
"""

import json
import pathlib
import sys

from lerobot.configs.train import TrainPipelineConfig
from lerobot.policies.factory import get_policy_class  # noqa: F401  (registers the policy config types)


def main() -> None:
    pretrained = pathlib.Path(sys.argv[1])
    config_path = pretrained / "train_config.json"
    cfg = TrainPipelineConfig.from_pretrained(pretrained)
    # validate() reads the command line, as lerobot-train's wrapper leaves it.
    sys.argv = ["lerobot-train", f"--config_path={config_path}", "--resume=true"]
    cfg.resume = True
    cfg.validate()
    print(
        json.dumps(
            {
                "dataset_repo_id": cfg.dataset.repo_id,
                "dataset_root": cfg.dataset.root,
                "policy_type": cfg.policy.type,
                "push_to_hub": cfg.policy.push_to_hub,
                "pretrained_path": str(cfg.policy.pretrained_path) if cfg.policy.pretrained_path else None,
                "device": cfg.policy.device,
            }
        )
    )


if __name__ == "__main__":
    main()
