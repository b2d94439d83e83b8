"""The README walkthrough over real HTTP: API, presigned upload to S3, event, download."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import requests

from scripts.devstack.ports import free_port
from tests.conftest import ROOT, LocalStack
from tests.readme import readme_walkthrough


def run_readme_walkthrough(folder: Path, port: int, data_dir: Path) -> subprocess.CompletedProcess[str]:
    """Run the README's walkthrough with bash in ``folder``, as a reader in the repository folder
    would: ``.venv/bin/python`` and ``scripts/`` are there; the stack is named by the variables
    the README tells the reader to export."""
    python = folder / ".venv" / "bin" / "python"
    if not python.exists():
        python.parent.mkdir(parents=True)
        python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
        python.chmod(0o755)
        (folder / "scripts").symlink_to(ROOT / "scripts")
    env = {**os.environ, "PATRONUS_PORT": str(port), "PATRONUS_DATA_DIR": str(data_dir)}
    return subprocess.run(
        ["bash", "-c", readme_walkthrough()],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_readme_walkthrough_runs_twice_on_the_same_stack(local_stack: LocalStack, tmp_path: Path) -> None:
    port = urlsplit(local_stack.url).port
    assert port is not None
    # Given the local stack, When a reader runs the README walkthrough twice in a row
    runs = [run_readme_walkthrough(tmp_path, port, local_stack.data_dir) for _ in range(2)]
    # Then both runs succeed to the end, each with a dossier of its own
    for run in runs:
        assert run.returncode == 0, f"stdout:\n{run.stdout}\nstderr:\n{run.stderr}"
        assert run.stdout.splitlines()[-3:] == ["upload: HTTP 204", "status: available", "identical"]
    dossiers = [run.stdout.splitlines()[0] for run in runs]
    assert dossiers[0] != dossiers[1]
    # And nothing was left in the folder it ran from
    assert sorted(p.name for p in tmp_path.iterdir()) == [".venv", "scripts"]


def test_the_walkthrough_stops_at_the_first_failure(local_stack: LocalStack, tmp_path: Path) -> None:
    # Given a port where no stack listens
    run = run_readme_walkthrough(tmp_path, free_port(), local_stack.data_dir)
    # Then the first request fails and the walkthrough stops there, with curl's error
    assert run.returncode != 0
    assert run.stdout == ""
    assert "curl" in run.stderr


def wait_available(stack: LocalStack, document_id: str, timeout: float = 20) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        document = requests.get(
            f"{stack.url}/v1/documents/{document_id}", headers=stack.auth(), timeout=10
        ).json()
        if document["status"] == "available" or time.monotonic() > deadline:
            return document
        time.sleep(0.2)


def test_create_upload_become_available_and_download_identical(local_stack: LocalStack) -> None:
    s = local_stack
    # Given an editor's dossier
    dossier = requests.post(
        f"{s.url}/v1/dossiers",
        json={"reference": "E2E-1", "title": "End to end"},
        headers=s.auth(),
        timeout=10,
    )
    assert dossier.status_code == 201, dossier.text
    data = os.urandom(2_000_000) + "é".encode()
    # When an upload is requested and the bytes are POSTed to the presigned URL
    created = requests.post(
        f"{s.url}/v1/dossiers/{dossier.json()['id']}/documents",
        json={
            "filename": "Relevé été.bin",
            "content_type": "application/octet-stream",
            "size_bytes": len(data),
        },
        headers=s.auth(),
        timeout=10,
    ).json()
    upload = created["upload"]
    posted = requests.post(
        upload["url"],
        data=upload["fields"],
        files={"file": ("x", data, "application/octet-stream")},
        timeout=60,
    )
    assert posted.status_code == 204
    # Then the S3 event makes it available without any call to /complete
    document = wait_available(s, created["document"]["id"])
    assert document["status"] == "available"
    # And a reader downloads exactly the same bytes, under the original name
    download = requests.get(
        f"{s.url}/v1/documents/{document['id']}/download", headers=s.auth("bob", ("readers",)), timeout=10
    ).json()
    fetched = requests.get(download["url"], timeout=60)
    assert hashlib.sha256(fetched.content).hexdigest() == hashlib.sha256(data).hexdigest()
    assert "filename*=UTF-8''Relev%C3%A9%20%C3%A9t%C3%A9.bin" in fetched.headers["Content-Disposition"]


def test_tokens_are_checked(local_stack: LocalStack) -> None:
    s = local_stack
    expired = s.issuer.id_token("alice", ["editors"], ttl_seconds=-10)
    forged = s.forged_token("alice", ("admins",))
    for headers in (
        {},
        {"Authorization": f"Bearer {expired}"},
        {"Authorization": f"Bearer {forged}"},
        {"Authorization": "Basic YWxpY2U6eA=="},
    ):
        assert requests.get(f"{s.url}/v1/dossiers", headers=headers, timeout=10).status_code == 401
    reader = requests.post(
        f"{s.url}/v1/dossiers",
        json={"reference": "E2E-R", "title": "t"},
        headers=s.auth("bob", ("readers",)),
        timeout=10,
    )
    assert reader.status_code == 403
    assert requests.get(f"{s.url}/health", timeout=10).json() == {"status": "ok", "database": "ok"}


def test_tampered_or_expired_presigned_urls_are_refused(local_stack: LocalStack) -> None:
    s = local_stack
    dossier = requests.post(
        f"{s.url}/v1/dossiers", json={"reference": "E2E-2", "title": "t"}, headers=s.auth(), timeout=10
    ).json()
    created = requests.post(
        f"{s.url}/v1/dossiers/{dossier['id']}/documents",
        json={"filename": "a.txt", "content_type": "text/plain", "size_bytes": 3},
        headers=s.auth(),
        timeout=10,
    ).json()
    upload = created["upload"]
    tampered_fields = dict(upload["fields"], key=upload["fields"]["key"].replace("a.txt", "b.txt"))
    refused = requests.post(
        upload["url"], data=tampered_fields, files={"file": ("a", b"abc", "text/plain")}, timeout=10
    )
    assert refused.status_code == 403
    ok = requests.post(
        upload["url"], data=upload["fields"], files={"file": ("a", b"abc", "text/plain")}, timeout=10
    )
    assert ok.status_code == 204
    wait_available(s, created["document"]["id"])
    url = requests.get(
        f"{s.url}/v1/documents/{created['document']['id']}/download", headers=s.auth(), timeout=10
    ).json()["url"]
    assert requests.get(url.replace("X-Amz-Signature=", "X-Amz-Signature=0"), timeout=10).status_code == 403
    assert requests.get(url, timeout=10).content == b"abc"


def test_openapi_document_is_served(local_stack: LocalStack) -> None:
    spec = requests.get(f"{local_stack.url}/openapi.json", timeout=10).json()
    assert spec["info"]["title"] == "Patronus API"
    assert {"/v1/dossiers", "/v1/dossiers/{dossier_id}", "/v1/documents/{document_id}/download"} <= set(
        spec["paths"]
    )
