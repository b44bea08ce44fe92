"""Write the run's effective configuration (defaults from the schema filled in) as YAML for the report:
python -m xairepro.scorecard.config_dump CONFIG_JSON OUT_YAML"""
from __future__ import annotations

import json
import sys

import yaml

from xairepro.io import atomic_path


def main(argv: list[str] | None = None) -> None:
    config_json, out = argv or sys.argv[1:]
    with atomic_path(out) as tmp:
        tmp.write_text(yaml.safe_dump(json.loads(config_json), sort_keys=True))


if __name__ == "__main__":
    main()
