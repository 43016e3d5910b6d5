"""Derive the request-body JSON Schemas of Adobe's Media Edge API from its published OpenAPI file.

Adobe publishes the contract as `static/media-edge.yaml` in the public repository
AdobeDocs/data-collection-apis (Apache-2.0). This keeps only what a validator needs from it (the
request body schema of each path: types, formats, enums, required keys) and drops the prose and
the examples. The tests validate every Edge request playersim sends against the result
(`tests/data/media-edge-requests.json`), so a playersim body that Adobe's own contract refuses
fails a test, whatever playersim's own model says.

    python scripts/derive_edge_schema.py CHECKOUT > tests/data/media-edge-requests.json

(CHECKOUT: a clone of AdobeDocs/data-collection-apis.)

Needs PyYAML (installed with the `docs` extra).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

_KEEP = ("type", "format", "enum", "required", "properties", "items")


def _strip(schema: Any) -> Any:
    if not isinstance(schema, dict):
        return schema
    kept: dict[str, Any] = {}
    for key in _KEEP:
        if key not in schema:
            continue
        value = schema[key]
        if key == "properties":
            value = {name: _strip(inner) for name, inner in value.items()}
        elif key == "items":
            value = _strip(value)
        kept[key] = value
    return kept


def derive(checkout: Path) -> dict[str, Any]:
    """The request schemas by path, and where they came from (the checkout's commit)."""
    source = checkout / "static" / "media-edge.yaml"
    contract = yaml.safe_load(source.read_text(encoding="utf-8"))
    commit = subprocess.run(
        ["git", "-C", str(checkout), "rev-parse", "HEAD"],
        capture_output=True, text=True, check=False,
    ).stdout.strip()  # fmt: skip
    paths = {}
    for path, operations in sorted(contract["paths"].items()):
        operation = operations["post"]
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        query = [p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"]
        paths[path] = {
            "query": query,
            "responses": sorted(operation["responses"]),
            "schema": _strip(body),
        }
    return {
        "source": "AdobeDocs/data-collection-apis static/media-edge.yaml (Apache-2.0)",
        "commit": commit or "unknown",
        "servers": [server["url"] for server in contract.get("servers", [])],
        "paths": paths,
    }


if __name__ == "__main__":
    json.dump(derive(Path(sys.argv[1])), sys.stdout, indent=1, sort_keys=False)
    sys.stdout.write("\n")
