"""Print the API's OpenAPI document, built from the code as /openapi.json serves it.

`make web-api-types` turns it into the web application's API types (web/src/api/schema.d.ts) with
openapi-typescript, and `make lint` checks that the committed types are those of the code.
"""

from __future__ import annotations

import json
import sys

from scripts.devstack.paths import add_code_paths


def main() -> int:
    add_code_paths()
    from patronus_api.app import _openapi_json

    json.dump(json.loads(_openapi_json()), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
