"""Web application figures: the initial JavaScript's size, and upload throughput browser vs curl.

1. Initial JavaScript: what index.html loads before the first screen (the entry chunk, the
   chunks it imports statically, and the default language's catalogue), gzipped, from the
   production build's manifest. Goal: at most 150 kB.
2. Upload: a 200 MiB file of random bytes uploaded to the local S3 through the application in
   Chromium (registration, the presigned part URLs in parallel, confirmation) against curl doing
   the same through the same API to the same kind of presigned URLs (the parts sent by as many
   curl processes at once as the application sends parts), alternated in the same run. Goal: the
   browser reaches at least 70 % of curl's throughput.
   The browser's time is read in the page, from the file input's change event to the upload
   shown as done; the time from Playwright's `set_input_files` call to that answer is recorded
   beside it (`browser_wall_seconds`, without `--polled`). A Playwright wait for the done state
   is not used: after its first tries it polls every 500 ms, which adds up to half a second to a
   one-second upload (`--polled` records it too, to see the difference on the same uploads).

Writes benchmarks/results/web.json.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
DIST = ROOT / "web" / "dist"
RESULTS = ROOT / "benchmarks" / "results"
BUNDLE_GOAL_BYTES = 150_000
THROUGHPUT_GOAL = 0.70
MiB = 1024 * 1024
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PARALLEL_PARTS = 4  # the upload manager's default number of transfers in flight


# --- bundle size -------------------------------------------------------------------------


def initial_javascript(dist: Path, default_locale: str = "fr") -> dict[str, Any]:
    manifest = json.loads((dist / ".vite" / "manifest.json").read_text())
    entry = next(key for key, chunk in manifest.items() if chunk.get("isEntry"))
    seen: list[str] = []

    def visit(key: str) -> None:
        if key in seen:
            return
        seen.append(key)
        for imported in manifest[key].get("imports", []):
            visit(imported)

    visit(entry)
    catalogue = next((k for k in manifest if k.endswith(f"i18n/{default_locale}.json")), None)
    if catalogue:
        visit(catalogue)
    files = []
    for key in seen:
        path = dist / manifest[key]["file"]
        data = path.read_bytes()
        files.append(
            {"file": manifest[key]["file"], "bytes": len(data), "gzip_bytes": len(gzip.compress(data, 9))}
        )
    total = sum(f["gzip_bytes"] for f in files)
    every_js = sum(len(gzip.compress(p.read_bytes(), 9)) for p in (dist / "assets").glob("*.js"))
    return {
        "files": files,
        "initial_gzip_bytes": total,
        "all_javascript_gzip_bytes": every_js,
        "goal_bytes": BUNDLE_GOAL_BYTES,
        "goal_met": total <= BUNDLE_GOAL_BYTES,
    }


# --- upload throughput -------------------------------------------------------------------


@contextmanager
def local_stack(work: Path) -> Iterator[str]:
    """`python -m scripts.run_local` on free ports and a data folder of its own (its own MariaDB,
    or a database of its own on PATRONUS_TEST_DB_URL's server when that is set)."""
    from scripts.devstack.paths import add_code_paths

    add_code_paths()
    from scripts.devstack.database import drop_database, with_database
    from scripts.devstack.ports import free_port

    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    server = os.environ.get("PATRONUS_TEST_DB_URL", "").strip()
    database = f"bench_web_{uuid.uuid4().hex[:8]}"
    if server:
        env["PATRONUS_DB_URL"] = with_database(server.rstrip("/") + "/", database)
    log = (work / "stack.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "scripts.run_local",
            "--port",
            str(port),
            "--s3-port",
            str(free_port()),
            "--data-dir",
            str(work / "stack"),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((work / "stack.log").read_text(errors="replace")[-2000:])
            try:
                if requests.get(f"{url}/health", timeout=2).ok:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if server:
            drop_database(server.rstrip("/") + "/", database)


# Resolves with the milliseconds from the file input's change event to the first upload shown as
# done (a MutationObserver sees the DOM change as React commits it: no polling).
_WATCH_UPLOAD = """() => {
  window.__patronusUpload = new Promise((resolve) => {
    let started = null;
    document.querySelector("input[type=file]").addEventListener(
      "change", () => { started = performance.now(); }, { capture: true, once: true });
    const observer = new MutationObserver(() => {
      if (started !== null && document.querySelector("[data-upload-state=done]")) {
        observer.disconnect();
        resolve(performance.now() - started);
      }
    });
    observer.observe(document.body, { subtree: true, childList: true, attributes: true });
  });
}"""


class BrowserUploader:
    def __init__(self, url: str, poll: bool = False) -> None:
        from playwright.sync_api import sync_playwright

        self.poll = poll  # also time each upload as a Playwright wait sees it (polled_seconds)
        self.polled_seconds: list[float] = []
        self.wall_seconds: list[float] = []  # from set_input_files to the in-page answer (not polled)

        self._playwright = sync_playwright().start()
        chromium = shutil.which("chromium") or "/usr/bin/chromium"
        self._browser = self._playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        self.page = self._browser.new_page(base_url=url)
        self.page.set_default_timeout(600_000)
        self.page.goto("/dossiers/new")
        self.page.wait_for_url(re.compile(r"/oidc/oauth2/authorize"))
        self.page.locator("#username").fill("bench")
        self.page.locator("input[name=role][value=editors]").check()
        self.page.locator("button[type=submit]").click()
        self.page.locator("header.header").wait_for()

    def token(self) -> str:
        """The ID token the application signed in with (the API calls of curl's runs use it)."""
        return str(
            self.page.evaluate(
                """() => { for (const k of Object.keys(sessionStorage))
                     if (k.startsWith('oidc.user:'))
                       return JSON.parse(sessionStorage.getItem(k)).id_token; }"""
            )
        )

    def upload(self, dossier_path: str, path: Path) -> float:
        """Seconds from the file's arrival in the page (the input's change event) to the upload
        shown as done, both read in the page. Playwright's own waits poll every 500 ms after the
        first few tries, which would round the browser's time up by as much."""
        self.page.goto(dossier_path)
        self.page.get_by_test_id("dropzone").wait_for()
        self.page.evaluate(_WATCH_UPLOAD)
        started = time.perf_counter()
        self.page.locator("input[type=file]").set_input_files(str(path))
        if self.poll:
            self.page.locator("[data-upload-state=done]").last.wait_for()
            self.polled_seconds.append(time.perf_counter() - started)
        elapsed = float(self.page.evaluate("() => window.__patronusUpload")) / 1000
        if not self.poll:
            self.wall_seconds.append(time.perf_counter() - started)
        self.page.get_by_role("button", name=re.compile("Effacer|Clear")).click()
        return elapsed

    def close(self) -> None:
        self._browser.close()
        self._playwright.stop()


def curl_upload(api: str, token: str, dossier_id: str, parts_dir: Path, size: int) -> float:
    """Register, PUT the parts with curl (PARALLEL_PARTS at once), confirm: the browser's work."""
    headers = {"Authorization": f"Bearer {token}"}
    started = time.perf_counter()
    created = requests.post(
        f"{api}/v1/dossiers/{dossier_id}/documents",
        headers=headers,
        json={"filename": "curl.bin", "content_type": "application/octet-stream", "size_bytes": size},
        timeout=60,
    )
    created.raise_for_status()
    body = created.json()
    upload = body["upload"]
    assert upload["method"] == "MULTIPART", upload["method"]

    def put(part: dict[str, Any]) -> None:
        subprocess.run(
            [
                "curl",
                "--silent",
                "--show-error",
                "--fail",
                "--output",
                os.devnull,
                "--upload-file",
                str(parts_dir / f"part-{part['part_number']}"),
                part["url"],
            ],
            check=True,
        )

    with ThreadPoolExecutor(PARALLEL_PARTS) as pool:
        list(pool.map(put, upload["parts"]))
    done = requests.post(
        f"{api}/v1/documents/{body['document']['id']}/complete", headers=headers, timeout=120
    )
    done.raise_for_status()
    return time.perf_counter() - started


def split(path: Path, part_size: int, into: Path) -> None:
    into.mkdir(exist_ok=True)
    with path.open("rb") as source:
        number = 1
        while chunk := source.read(part_size):
            (into / f"part-{number}").write_bytes(chunk)
            number += 1


def throughput(size_mib: int, runs: int, polled: bool = False) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="patronus-web-bench-") as tmp:
        work = Path(tmp)
        source = work / "upload.bin"
        with source.open("wb") as out:
            for _ in range(size_mib):
                out.write(os.urandom(MiB))
        size = source.stat().st_size
        with local_stack(work) as url:
            browser = BrowserUploader(url, poll=polled)
            try:
                token = browser.token()
                headers = {"Authorization": f"Bearer {token}"}
                dossier = requests.post(
                    f"{url}/v1/dossiers",
                    headers=headers,
                    json={"reference": f"BENCH-{uuid.uuid4().hex[:8]}", "title": "Upload benchmark"},
                    timeout=30,
                ).json()
                probe = requests.post(
                    f"{url}/v1/dossiers/{dossier['id']}/documents",
                    headers=headers,
                    json={
                        "filename": "probe.bin",
                        "content_type": "application/octet-stream",
                        "size_bytes": size,
                    },
                    timeout=60,
                ).json()["upload"]
                split(source, int(probe["part_size"]), work / "parts")
                browser_seconds: list[float] = []
                curl_seconds: list[float] = []
                for _ in range(runs):  # alternated, so that both see the same machine
                    browser_seconds.append(browser.upload(f"/dossiers/{dossier['id']}", source))
                    curl_seconds.append(
                        curl_upload(url, browser.token(), dossier["id"], work / "parts", size)
                    )
            finally:
                browser.close()
    browser_median = statistics.median(browser_seconds)
    curl_median = statistics.median(curl_seconds)
    ratio = curl_median / browser_median
    return {
        "size_bytes": size,
        "parts": len(probe["parts"]),
        "part_size": probe["part_size"],
        "parallel_transfers": PARALLEL_PARTS,
        "runs": runs,
        "browser_seconds": browser_seconds,
        "browser_wall_seconds": browser.wall_seconds,
        "browser_polled_seconds": browser.polled_seconds,
        "curl_seconds": curl_seconds,
        "browser_mib_per_second": size / MiB / browser_median,
        "curl_mib_per_second": size / MiB / curl_median,
        "ratio_browser_to_curl": ratio,
        "ratio_wall_to_curl": (
            curl_median / statistics.median(browser.wall_seconds) if browser.wall_seconds else None
        ),
        "ratio_polled_to_curl": (
            curl_median / statistics.median(browser.polled_seconds) if browser.polled_seconds else None
        ),
        "goal_ratio": THROUGHPUT_GOAL,
        "goal_met": ratio >= THROUGHPUT_GOAL,
        "load_average": os.getloadavg(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="3 runs instead of 5")
    parser.add_argument("--size-mib", type=int, default=200, help="size of the uploaded file (default 200)")
    parser.add_argument("--runs", type=int, help="uploads of each kind (default 5, 3 with --quick)")
    parser.add_argument(
        "--polled",
        action="store_true",
        help="also time each browser upload as a Playwright wait for the done state sees it "
        "(it polls every 500 ms after its first tries), to compare with the in-page time",
    )
    parser.add_argument("--skip-build", action="store_true", help="measure web/dist as it is (no make web)")
    args = parser.parse_args(argv)
    if not args.skip_build:
        subprocess.run(["make", "--no-print-directory", "web"], cwd=ROOT, check=True)
    report: dict[str, Any] = {"bundle": initial_javascript(DIST)}
    print(
        f"initial JavaScript: {report['bundle']['initial_gzip_bytes'] / 1000:.1f} kB gzipped (goal <= 150 kB)"
    )
    report["upload"] = throughput(args.size_mib, args.runs or (3 if args.quick else 5), args.polled)
    upload = report["upload"]
    print(
        f"upload of {args.size_mib} MiB: browser {upload['browser_mib_per_second']:.1f} MiB/s, "
        f"curl {upload['curl_mib_per_second']:.1f} MiB/s, "
        f"ratio {upload['ratio_browser_to_curl']:.2f} (goal >= 0.70)"
        + (
            f"; from set_input_files {upload['ratio_wall_to_curl']:.2f}"
            if upload["ratio_wall_to_curl"] is not None
            else ""
        )
        + (
            f"; as a polling Playwright wait sees it {upload['ratio_polled_to_curl']:.2f}"
            if upload["ratio_polled_to_curl"] is not None
            else ""
        )
        + f"; load average {upload['load_average'][0]:.1f}"
    )
    report["goal_met"] = report["bundle"]["goal_met"] and upload["goal_met"]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "web.json").write_text(json.dumps(report, indent=2) + "\n")
    return 0 if report["goal_met"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
