"""Generates the Python code for every proto in this module into one package tree.

Usage: python protos/generate.py [OUT_DIR]   (default: services/)
The output is committed; tests/test_contracts.py fails when it is stale.
"""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path

from grpc_tools import protoc

PROTO_ROOT = Path(__file__).resolve().parent
GENERATED_PACKAGE = "alliance"


def generate(out_dir: Path) -> list[Path]:
    protos = sorted(PROTO_ROOT.rglob("*.proto"))
    well_known = resources.files("grpc_tools") / "_proto"
    out_dir.mkdir(parents=True, exist_ok=True)
    args = [
        "protoc",
        f"-I{PROTO_ROOT}",
        f"-I{well_known}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        *(str(p) for p in protos),
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    package_root = out_dir / GENERATED_PACKAGE
    for folder in [package_root, *(p for p in package_root.rglob("*") if p.is_dir())]:
        if folder.name != "__pycache__":
            (folder / "__init__.py").touch()
    return sorted(
        p for p in package_root.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    )


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else PROTO_ROOT.parent / "services"
    for path in generate(target):
        print(path)
