"""config/README.md is the generated description of every key the schemas validate."""
import yaml

from tests.conftest import REPO
from xairepro.config.docs import markdown

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
DOC = REPO / "config" / "README.md"


def test_config_readme_is_generated_from_the_schemas():
    assert DOC.read_text() == markdown(SCHEMA), (
        "config/README.md is out of date: run python -m xairepro.config.docs "
        "workflow/schemas/config.schema.yaml config/README.md")


def _keys(node, prefix=""):
    for key, value in node.items():
        yield f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _keys(value, f"{prefix}{key}.")


def test_every_key_of_both_configs_is_documented():
    lines = [line for line in DOC.read_text().splitlines() if line.startswith("| `")]
    documented = {line.split("`")[1] for line in lines}
    entry_sections = {k.removesuffix(".<name>") for k in documented if k.endswith(".<name>")}
    open_sections = {line.split("`")[1] for line in lines if "section (open" in line or "| map: " in line}
    for config in ("config.yaml", "paper.yaml", "rehearsal.yaml"):
        for key in _keys(yaml.safe_load((REPO / "config" / config).read_text())):
            parts = key.split(".")
            # a key inside a per-name section (gradient_rollback.datasets.nations.dim) is documented as <name>
            for i in range(1, len(parts)):
                if ".".join(parts[:i]) in entry_sections:
                    parts[i] = "<name>"
            path = ".".join(parts)
            covered = any(path.startswith(f"{section}.") for section in open_sections)
            assert path in documented or covered, f"{config}: {key} is not in config/README.md"
