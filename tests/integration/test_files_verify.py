"""files_verify against a real S3 server (SeaweedFS): the tree uploaded the way DataSync writes it."""

from __future__ import annotations

import hashlib
import json
import os
import re
import unicodedata
from pathlib import Path
from typing import Any

import boto3
import pytest
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

from scripts import files_verify
from scripts.devstack.seaweedfs import ThrowawaySeaweedFS
from scripts.operator_tools import toolkit
from scripts.operator_tools.documents import verifier as tree_verifier
from tests.conftest import s3_client_for

PREFIX = "legacy/"
MIB = 1024 * 1024

# name -> how the test uploads it: "checksum" (ChecksumAlgorithm=SHA256), "metadata" (sha256 user
# metadata only), "plain" (neither: only --deep can check the content). The SDK adds a CRC32 to
# every upload unless told otherwise: "metadata" and "plain" uploads use a client that does not.
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


BARE: dict[int, Any] = {}


def bare(client: Any) -> Any:
    """A client for the same server that sends no checksum unless an operation requires one."""
    if id(client) not in BARE:
        BARE[id(client)] = boto3.client(
            "s3",
            endpoint_url=client.meta.endpoint_url,
            aws_access_key_id=client._request_signer._credentials.access_key,
            aws_secret_access_key=client._request_signer._credentials.secret_key,
            region_name="eu-west-3",
            config=Config(
                signature_version="s3v4",
                s3={"addressing_style": "path"},
                request_checksum_calculation="when_required",
            ),
        )
    return BARE[id(client)]


def put(client: Any, bucket: str, relative: str, data: bytes, how: str) -> None:
    """Upload one file under the key DataSync writes: the prefix + the relative path, same characters.

    ``how``: ``checksum`` (SHA-256), ``metadata`` (a sha256 metadata entry only), ``plain`` (no
    checksum at all), or an algorithm name (``CRC64NVME``, ``CRC32C``, ``CRC32``, ``SHA1``).
    """
    extra: dict[str, Any] = {}
    if how == "checksum":
        extra["ChecksumAlgorithm"] = "SHA256"
    elif how == "metadata":
        extra["Metadata"] = {"sha256": hashlib.sha256(data).hexdigest()}
    elif how != "plain":
        extra["ChecksumAlgorithm"] = how
    target = bare(client) if how in {"metadata", "plain"} else client
    target.put_object(Bucket=bucket, Key=PREFIX + relative, Body=data, **extra)


def upload_like_datasync(client: Any, bucket: str, files: dict[str, tuple[bytes, str]]) -> None:
    folders: set[str] = set()
    for relative, (data, how) in files.items():
        put(client, bucket, relative, data, how)
        parts = relative.split("/")[:-1]
        folders.update("/".join(parts[: i + 1]) for i in range(len(parts)))
    for folder in folders:  # DataSync also writes one zero-byte object per folder
        bare(client).put_object(Bucket=bucket, Key=f"{PREFIX}{folder}/", Body=b"")


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
    assert {method: count for method, count in summary["verified"].items() if count} == {
        "sha256_checksum": 6,
        "sha256_composite": 1,
        "sha256_metadata": 2,
    }
    assert summary["not_content_checked"] == 1
    assert summary["excluded_source"] == len(JUNK)
    assert all(count == 0 for count in summary["differences"].values())

    # And with --deep the objects S3 holds no checksum for are downloaded and hashed too: the one
    # with nothing, and the two with a sha256 metadata entry (S3 never checked what it says)
    code, result = run([*argv, "--deep", "--require-content-check"], client)
    assert code == toolkit.EXIT_OK
    assert result["summary"]["verified"]["deep"] == 3
    assert result["summary"]["verified"]["sha256_metadata"] == 0
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


def test_every_checksum_s3_holds_is_used_and_a_corrupted_object_is_found(
    tmp_path: Path, client: Any, s3_bucket: str
) -> None:
    # Given files uploaded with each CRC (CRC64NVME is what S3 adds to an upload without one)
    # and SHA-1, one multipart upload with a composite CRC32, and then one object corrupted in S3
    files = {
        "a/nvme.pdf": (os.urandom(3000), "CRC64NVME"),
        "a/c.pdf": (os.urandom(3000), "CRC32C"),
        "a/plain-crc.pdf": (os.urandom(3000), "CRC32"),
        "b/sha1.pdf": (os.urandom(3000), "SHA1"),
    }
    source = tmp_path / "share"
    write_tree(source, files)
    upload_like_datasync(client, s3_bucket, files)
    write_big_file(source / "big/scan.tif", 12 * MIB)
    client.upload_file(
        str(source / "big/scan.tif"),
        s3_bucket,
        PREFIX + "big/scan.tif",
        ExtraArgs={"ChecksumAlgorithm": "CRC32"},
        Config=TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB),
    )
    corrupted = bytearray(files["a/nvme.pdf"][0])
    corrupted[10] ^= 0x01
    put(client, s3_bucket, "a/nvme.pdf", bytes(corrupted), "CRC64NVME")
    report = tmp_path / "report.json"
    # When the trees are compared
    code, result = run(
        ["--source", str(source), "--target", f"s3://{s3_bucket}/legacy/", "--report", str(report)], client
    )
    # Then each object was content-checked by the checksum it carries, and the corruption is found
    # with both sides of the comparison written the same way (hex)
    verified = result["summary"]["verified"]
    assert code == toolkit.EXIT_FAILED
    assert verified["crc32c_checksum"] == 1 and verified["crc32_checksum"] == 1
    assert verified["sha1_checksum"] == 1 and verified["crc32_composite"] == 1
    assert result["summary"]["not_content_checked"] == 0
    (mismatch,) = result["differences"]
    assert (mismatch["kind"], mismatch["path"]) == ("content_mismatch", "a/nvme.pdf")
    assert re.fullmatch(r"CRC64NVME: share [0-9a-f]{16}, S3 [0-9a-f]{16}", mismatch["detail"])


def test_the_objects_not_content_checked_are_named_and_deep_trusts_only_bytes(
    tmp_path: Path, client: Any, s3_bucket: str, capsys: Any
) -> None:
    # Given an object S3 holds no checksum for, and one whose sha256 metadata is right for the
    # source but whose bytes in S3 are not
    source = tmp_path / "share"
    files = {"old/scan.tif": (os.urandom(4000), "plain"), "old/lettre.pdf": (os.urandom(4000), "metadata")}
    write_tree(source, files)
    upload_like_datasync(client, s3_bucket, files)
    good = files["old/lettre.pdf"][0]
    bad = bytearray(good)
    bad[0] ^= 0xFF
    bare(client).put_object(
        Bucket=s3_bucket,
        Key=PREFIX + "old/lettre.pdf",
        Body=bytes(bad),
        Metadata={"sha256": hashlib.sha256(good).hexdigest()},
    )
    report = tmp_path / "report.json"
    argv = ["--source", str(source), "--target", f"s3://{s3_bucket}/legacy/", "--report", str(report)]
    # When content checks are required, Then the run fails naming the object it could not check
    code, result = run([*argv, "--require-content-check"], client)
    assert code == toolkit.EXIT_FAILED
    assert result["not_content_checked"] == ["old/scan.tif"]
    assert "old/scan.tif" in capsys.readouterr().out
    # When --deep is asked, Then the bytes are compared, not what the metadata claims
    code, result = run([*argv, "--deep"], client)
    assert code == toolkit.EXIT_FAILED
    assert [(d["kind"], d["path"]) for d in result["differences"]] == [("content_mismatch", "old/lettre.pdf")]
    assert re.fullmatch(
        r"SHA-256: share [0-9a-f]{64}, S3 bytes [0-9a-f]{64}", result["differences"][0]["detail"]
    )


def test_names_are_reported_for_what_they_are(
    tmp_path: Path, client: Any, s3_bucket: str, capsys: Any
) -> None:
    # Given, on the share: a name in NFD that S3 holds in NFC, a folder likewise, a name S3 holds
    # percent-encoded, a path over S3's 1,024-byte key limit, a name that is not UTF-8, and a link
    # to nothing
    source = tmp_path / "share"
    nfd, nfc = unicodedata.normalize("NFD", "Relevé.pdf"), unicodedata.normalize("NFC", "Relevé.pdf")
    folder_nfd, folder_nfc = unicodedata.normalize("NFD", "Été"), unicodedata.normalize("NFC", "Été")
    long_path = "/".join(["x" * 200] * 6) + "/fichier.txt"
    write_tree(
        source,
        {
            f"d/{nfd}": (b"releve", "checksum"),
            f"{folder_nfd}/note.txt": (b"note", "checksum"),
            "d/a b.pdf": (b"space", "checksum"),
            long_path: (b"long", "checksum"),
            "d/ok.txt": (b"ok", "checksum"),
        },
    )
    os.close(os.open(os.fsencode(source / "d") + b"/caf\xe9.txt", os.O_CREAT | os.O_WRONLY))
    os.symlink(source / "nowhere", source / "d" / "broken-link")
    upload_like_datasync(
        client,
        s3_bucket,
        {
            f"d/{nfc}": (b"releve", "checksum"),
            f"{folder_nfc}/note.txt": (b"note", "checksum"),
            "d/a%20b.pdf": (b"space", "checksum"),
            "d/ok.txt": (b"ok", "checksum"),
        },
    )
    report = tmp_path / "report.json"
    # When compared
    code, result = run(
        ["--source", str(source), "--target", f"s3://{s3_bucket}/legacy/", "--report", str(report)], client
    )
    # Then each is named for what it is, not as an unrelated missing file and extra object
    kinds = {(d["kind"], d["path"]) for d in result["differences"]}
    assert code == toolkit.EXIT_FAILED
    assert kinds == {
        ("name_normalisation", f"d/{nfd}"),
        ("name_normalisation", folder_nfd),
        ("name_encoding", "d/a b.pdf"),
        ("key_too_long", long_path),
        ("name_not_utf8", "d/caf\\xe9.txt"),
    }
    # ... and the files inside the folder spelled otherwise are still compared
    assert result["summary"]["files_compared"] == 2
    # And the special file is in the summary, not only in the JSON
    assert result["skipped_special_files"] == ["d/broken-link"]
    out = capsys.readouterr().out
    assert "skipped      1 special files" in out and "d/broken-link" in out


def test_an_interrupted_run_resumes_from_its_journal(
    tmp_path: Path, client: Any, s3_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a tree of 6 folders, one file of which differs
    files = {f"f{n}/doc{m}.txt": (f"{n}-{m}".encode() * 50, "checksum") for n in range(6) for m in range(3)}
    source = tmp_path / "share"
    write_tree(source, files)
    upload_like_datasync(client, s3_bucket, files)
    put(client, s3_bucket, "f4/doc1.txt", b"X" * len(files["f4/doc1.txt"][0]), "checksum")
    journal = tmp_path / "verify.journal"
    report = tmp_path / "report.json"
    argv = [
        "--source", str(source), "--target", f"s3://{s3_bucket}/legacy/", "--report", str(report),
        "--journal", str(journal), "--workers", "1",
    ]  # fmt: skip
    # ... and a run stopped (Ctrl-C) after 8 files were checked
    checked: list[str] = []
    original = tree_verifier.Verifier.check_file

    def stop_after_eight(self: Any, check: Any) -> None:
        if len(checked) == 8:
            raise KeyboardInterrupt
        checked.append(check.relative)
        original(self, check)

    monkeypatch.setattr(tree_verifier.Verifier, "check_file", stop_after_eight)
    assert toolkit.run(lambda a: files_verify.main(a, client=client), argv) == toolkit.EXIT_INTERRUPTED
    assert journal.exists()
    # When the same command runs again
    checked.clear()

    def record(self: Any, check: Any) -> None:
        checked.append(check.relative)
        original(self, check)

    monkeypatch.setattr(tree_verifier.Verifier, "check_file", record)
    code, result = run(argv, client)
    # Then the folders finished before are carried over, the rest is checked, and the result is
    # the whole comparison: every file counted once, the difference found, the journal removed
    assert result["resumed_units"] >= 2
    assert len(checked) < len(files)
    assert result["summary"]["files_compared"] == len(files)
    assert [(d["kind"], d["path"]) for d in result["differences"]] == [("content_mismatch", "f4/doc1.txt")]
    assert code == toolkit.EXIT_FAILED
    assert not journal.exists()
