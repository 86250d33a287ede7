"""Write the JSON Schema of every contract to `schemas/<name>.schema.json`.

Non-Python producers validate against these files. Run `python -m schemas.export` after changing a
model; a unit test fails while the files are stale.
"""

from __future__ import annotations

import json
from pathlib import Path

from schemas import CONTRACTS

SCHEMA_DIR = Path(__file__).resolve().parent


def render(name: str) -> str:
    schema = CONTRACTS[name].model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://six-cities-matchmaker.example/schemas/{name}.schema.json"
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main() -> None:
    for name in CONTRACTS:
        path = SCHEMA_DIR / f"{name}.schema.json"
        path.write_text(render(name), encoding="utf-8")
        print(f"wrote {path.relative_to(SCHEMA_DIR.parent)}")


if __name__ == "__main__":
    main()
