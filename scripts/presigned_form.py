"""Turn the upload instructions of POST /v1/dossiers/{id}/documents into curl form arguments.

Reads the API's JSON answer on stdin and prints one argument per line, ready for bash:
    mapfile -t FORM < <(echo "$UPLOAD" | .venv/bin/python -m scripts.presigned_form)
    curl "${FORM[@]}" -F file=@report.pdf "$URL"
"""

from __future__ import annotations

import argparse
import json
import sys


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    ).parse_args(argv)
    try:
        answer = json.load(sys.stdin)
        upload = answer.get("upload", answer)
        if upload.get("method") != "POST":
            sys.stderr.write("this upload is multipart: PUT each part to its URL, then call /complete\n")
            return 2
        fields = upload["fields"]
    except (json.JSONDecodeError, AttributeError, KeyError, TypeError):
        sys.stderr.write("stdin is not the JSON answer of a document creation\n")
        return 2
    for name, value in fields.items():
        sys.stdout.write(f"--form-string\n{name}={value}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
