"""files_verify against a real S3 server (SeaweedFS): the tree uploaded the way DataSync writes it."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest
from boto3.s3.transfer import TransferConfig

from scripts import files_verify
from scripts.devstack.seaweedfs import ThrowawaySeaweedFS
from scripts.operator_tools import toolkit
from scripts.operator_tools.documents import verifier as tree_verifier
from tests.conftest import s3_client_for

PREFIX = "legacy/"
MIB = 1024 * 1024

# name -> how the test uploads it: "checksum" (ChecksumAlgorithm=SHA256), "metadata" (sha256 user
# metadata only), "plain" (neither: only --deep can check the content)
SMALL_FILES: dict[str, tuple[bytes, str]] = {
    "Dossiers/D-2024-001/Contrat signé.pdf": (b"%PDF-1.7 contrat " * 300, "checksum"),
    "Dossiers/D-2024-001/annexes/très/profond/chemin/niveau 5/niveau 6/fichier ü.txt": (
        b"deep\n" * 10,
        "checksum",
    ),
    "Dossiers/D-2024-002/Relevé d'identité (copie).PDF": (b"rib " * 1000, "metadata"),
    "日本語/資料 2024.docx": (os.urandom(20_000), "checksum"),
    "vide.txt": (b"", "checksum"),
    "a-b.txt": (b"dash", "checksum"),
    "a/x.txt": (b"in a folder named a", "checksum"),
    "a.txt": (b"dot", "metadata"),
    "ancien/scan sans empreinte.tif": (os.urandom(50_000), "plain"),
}
JUNK = ["Thumbs.db", "Dossiers/D-2024-001/~$Contrat signé.docx", "Dossiers/desktop.ini", ".DS_Store"]


def write_tree(root: Path, files: dict[str, tuple[bytes, str]]) -> None:
    for relative, (data, _) in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    for relative in JUNK:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"junk the task excludes")


def write_big_file(path: Path, size: int) -> bytes:
    """A file of ``size`` bytes, distinct in every MiB (quick to make, honest to hash)."""
    block = os.urandom(MIB)
    digest = hashlib.sha256()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        for number in range(size // MIB):
            chunk = number.to_bytes(8, "big") + block[8:]
            handle.write(chunk)
            digest.update(chunk)
    return digest.digest()


def put(client: Any, bucket: str, relative: str, data: bytes, how: str) -> None:
    """Upload one file under the key DataSync writes: the prefix + the relative path, same characters."""
    extra: dict[str, Any] = {}
    if how == "checksum":
        extra["ChecksumAlgorithm"] = "SHA256"
    elif how == "metadata":
        extra["Metadata"] = {"sha256": hashlib.sha256(data).hexdigest()}
    client.put_object(Bucket=bucket, Key=PREFIX + relative, Body=data, **extra)


def upload_like_datasync(client: Any, bucket: str, files: dict[str, tuple[bytes, str]]) -> None:
    folders: set[str] = set()
    for relative, (data, how) in files.items():
        put(client, bucket, relative, data, how)
        parts = relative.split("/")[:-1]
        folders.update("/".join(parts[: i + 1]) for i in range(len(parts)))
    for folder in folders:  # DataSync also writes one zero-byte object per folder
        client.put_object(Bucket=bucket, Key=f"{PREFIX}{folder}/", Body=b"")


def run(argv: list[str], client: Any) -> tuple[int, dict[str, Any]]:
    report_path = Path(argv[argv.index("--report") + 1])
    code = toolkit.run(lambda args: files_verify.main(args, client=client), argv)
    return code, json.loads(report_path.read_text(encoding="utf-8"))


@pytest.fixture
def client(s3_server: ThrowawaySeaweedFS) -> Any:
    return s3_client_for(s3_server)


def test_an_identical_tree_verifies_by_checksums_including_a_multipart_object(
    tmp_path: Path, client: Any, s3_bucket: str
) -> None:
    # Given a source tree with unicode names, spaces, deep paths, an empty file, a 50 MiB file and
    # the litter the task excludes, uploaded as DataSync would (the big file in 8 MiB parts)
    source = tmp_path / "share"
    write_tree(source, SMALL_FILES)
    write_big_file(source / "Scans/Grand plan 2019.tif", 50 * MIB)
    upload_like_datasync(client, s3_bucket, SMALL_FILES)
    client.upload_file(
        str(source / "Scans/Grand plan 2019.tif"),
        s3_bucket,
        PREFIX + "Scans/Grand plan 2019.tif",
        ExtraArgs={"ChecksumAlgorithm": "SHA256"},
        Config=TransferConfig(multipart_threshold=8 * MIB, multipart_chunksize=8 * MIB),
    )
    report = tmp_path / "report.json"
    argv = [
        "--source",
        str(source),
        "--target",
        f"s3://{s3_bucket}/legacy/",
        "--workers",
        "4",
        "--report",
        str(report),
    ]

    # When the trees are compared
    code, result = run(argv, client)

    # Then nothing differs; each file is content-checked by what S3 holds for it
    summary = result["summary"]
    assert code == toolkit.EXIT_OK, result["differences"]
    assert result["ok"] is True
    assert summary["files_compared"] == len(SMALL_FILES) + 1
    assert summary["bytes_compared"] == sum(len(d) for d, _ in SMALL_FILES.values()) + 50 * MIB
    assert summary["verified"] == {
        "sha256_checksum": 6,
        "sha256_composite": 1,
        "sha256_metadata": 2,
        "deep": 0,
    }
    assert summary["not_content_checked"] == 1
    assert summary["excluded_source"] == len(JUNK)
    assert all(count == 0 for count in summary["differences"].values())

    # And with --deep the object S3 holds no checksum for is downloaded and hashed too
    code, result = run([*argv, "--deep", "--require-content-check"], client)
    assert code == toolkit.EXIT_OK
    assert result["summary"]["verified"]["deep"] == 1
    assert result["summary"]["not_content_checked"] == 0


def test_corrupted_missing_extra_and_resized_objects_are_all_detected(
    tmp_path: Path, client: Any, s3_bucket: str
) -> None:
    # Given a synchronised tree
    source = tmp_path / "share"
    write_tree(source, SMALL_FILES)
    upload_like_datasync(client, s3_bucket, SMALL_FILES)
    # ... then, in S3: one object corrupted (same size, its own checksum recomputed by S3), one
    # deleted, one object no source file has, one truncated, and the unchecksummed one corrupted
    contrat = "Dossiers/D-2024-001/Contrat signé.pdf"
    corrupted = bytearray(SMALL_FILES[contrat][0])
    corrupted[100] ^= 0xFF
    put(client, s3_bucket, contrat, bytes(corrupted), "checksum")
    client.delete_object(Bucket=s3_bucket, Key=PREFIX + "日本語/資料 2024.docx")
    put(client, s3_bucket, "Dossiers/D-2024-001/en trop.pdf", b"not in the source", "checksum")
    put(client, s3_bucket, "a/x.txt", b"in a folder", "checksum")
    scan = "ancien/scan sans empreinte.tif"
    tampered = bytearray(SMALL_FILES[scan][0])
    tampered[-1] ^= 0x01
    put(client, s3_bucket, scan, bytes(tampered), "plain")
    report = tmp_path / "report.json"
    argv = ["--source", str(source), "--target", f"s3://{s3_bucket}/legacy", "--report", str(report)]

    # When the trees are compared
    code, result = run(argv, client)

    # Then every kind of difference is reported, with the right path, and the exit code says so
    found = {(d["kind"], d["path"]) for d in result["differences"]}
    assert code == toolkit.EXIT_FAILED
    assert found == {
        ("content_mismatch", contrat),
        ("missing", "日本語/資料 2024.docx"),
        ("extra", "Dossiers/D-2024-001/en trop.pdf"),
        ("size_mismatch", "a/x.txt"),
    }
    assert result["summary"]["not_content_checked"] == 1  # the tampered scan: no checksum to compare

    # And byte-for-byte comparison (--deep) catches the object S3 holds no checksum for
    code, result = run([*argv, "--deep"], client)
    assert ("content_mismatch", scan) in {(d["kind"], d["path"]) for d in result["differences"]}
    assert result["summary"]["differences"]["content_mismatch"] == 2


def test_whole_folders_missing_on_either_side(tmp_path: Path, client: Any, s3_bucket: str) -> None:
    # Given a source folder never copied and an S3 prefix with no source folder
    source = tmp_path / "share"
    write_tree(source, {"kept/a.txt": (b"a", "checksum"), "new/deep/b.txt": (b"b", "checksum")})
    put(client, s3_bucket, "kept/a.txt", b"a", "checksum")
    put(client, s3_bucket, "gone/c.txt", b"c", "checksum")
    put(client, s3_bucket, "gone/sub/Thumbs.db", b"x", "checksum")
    report = tmp_path / "report.json"
    # When compared
    code, result = run(
        ["--source", str(source), "--target", f"s3://{s3_bucket}/legacy/", "--report", str(report)], client
    )
    # Then every file below them is listed; excluded names are still ignored
    assert code == toolkit.EXIT_FAILED
    assert {(d["kind"], d["path"]) for d in result["differences"]} == {
        ("missing", "new/deep/b.txt"),
        ("extra", "gone/c.txt"),
    }


def test_the_command_line_with_an_endpoint_and_bad_input(
    tmp_path: Path,
    s3_server: ThrowawaySeaweedFS,
    s3_bucket: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
) -> None:
    # Given credentials in the environment, as an operator would have them
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_server.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_server.secret_key)
    source = tmp_path / "share"
    write_tree(source, {"a.txt": (b"a", "checksum")})
    put(s3_client_for(s3_server), s3_bucket, "a.txt", b"a", "checksum")
    endpoint = ["--endpoint-url", s3_server.endpoint, "--no-progress"]
    # When the script builds its own client, Then it verifies
    assert (
        toolkit.run(
            files_verify.main, ["--source", str(source), "--target", f"s3://{s3_bucket}/legacy/", *endpoint]
        )
        == 0
    )
    assert "IDENTICAL" in capsys.readouterr().out
    # And operator mistakes are one-line errors with exit code 2, never tracebacks
    assert (
        toolkit.run(
            files_verify.main, ["--source", str(tmp_path / "nope"), "--target", "s3://b/x", *endpoint]
        )
        == 2
    )
    assert toolkit.run(files_verify.main, ["--source", str(source), "--target", "b/legacy", *endpoint]) == 2
    assert (
        toolkit.run(
            files_verify.main, ["--source", str(source), "--target", "s3://no-such-bucket-here/", *endpoint]
        )
        == 2
    )
    errors = capsys.readouterr().err
    assert "is not a folder" in errors and "is not an s3:// URL" in errors and "Traceback" not in errors


def test_an_unreadable_source_folder_is_an_error_not_a_list_of_extras(
    tmp_path: Path, client: Any, s3_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a folder the verifying account cannot list (simulated: the tests run as root)
    source = tmp_path / "share"
    write_tree(source, {"ok/a.txt": (b"a", "checksum"), "locked/b.txt": (b"b", "checksum")})
    put(client, s3_bucket, "ok/a.txt", b"a", "checksum")
    put(client, s3_bucket, "locked/b.txt", b"b", "checksum")
    real_scandir = os.scandir

    def scandir(path: Any = ".") -> Any:
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(tree_verifier.os, "scandir", scandir)
    report = tmp_path / "report.json"
    # When compared
    code, result = run(
        ["--source", str(source), "--target", f"s3://{s3_bucket}/legacy/", "--report", str(report)], client
    )
    # Then the folder is one error, its objects are not reported as extra, the rest is compared
    assert code == toolkit.EXIT_FAILED
    assert [(d["kind"], d["path"]) for d in result["differences"]] == [("error", "locked")]
    assert result["summary"]["files_compared"] == 1
