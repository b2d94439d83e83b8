"""The web application against the local stack, in Debian's Chromium (Playwright for Python).

Each test signs in through the local OpenID Connect provider as a user would, works through the
screens, and checks every screen it reaches with axe-core (no serious or critical violation).
The main screens are saved into docs/images/ for the README by `make screenshots`.
"""

from __future__ import annotations

import hashlib
import re
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, Route, expect

from scripts.devstack.database import connect
from tests.conftest import LocalStack
from tests.e2e.browser import Web, stored_user

pytestmark = pytest.mark.browser

MiB = 1024 * 1024
NOT_SHARED = "Ce dossier n’est partagé avec personne en dehors de son unité."
EDIT_REFUSED = "Vos droits ne vous permettent pas de modifier ce dossier"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8].upper()}"


def create_dossier(page: Page, reference: str, title: str) -> str:
    """Create a dossier through the form; returns the path of its page."""
    page.goto("/dossiers/new")
    page.get_by_label("Référence").fill(reference)
    page.get_by_label("Intitulé").fill(title)
    page.get_by_role("button", name="Créer le dossier").click()
    page.wait_for_url(re.compile(r"/dossiers/[0-9a-f]{32}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(reference)
    return _path(page)


def _path(page: Page) -> str:
    return "/" + page.url.split("/", 3)[3]


DROP_FILES = """async (specs) => {
  const hex = (buffer) => [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");
  const transfer = new DataTransfer();
  window.__dropped = {};
  for (const spec of specs) {
    const bytes = new Uint8Array(spec.size);
    for (let offset = 0; offset < spec.size; offset += 65536) {
      crypto.getRandomValues(bytes.subarray(offset, Math.min(offset + 65536, spec.size)));
    }
    transfer.items.add(new File([bytes], spec.name, { type: spec.type }));
    window.__dropped[spec.name] = hex(await crypto.subtle.digest("SHA-256", bytes));
  }
  return transfer;
}"""

WATCH_PROGRESS = """() => {
  window.__progress = {};
  const tick = () => {
    for (const bar of document.querySelectorAll("progress[aria-label]")) {
      const name = bar.getAttribute("aria-label");
      (window.__progress[name] ??= []).push(bar.value / bar.max);
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}"""


def drop(page: Page, files: list[dict[str, object]]) -> dict[str, str]:
    """Drop files built in the page (random bytes) on the drop zone; returns their SHA-256."""
    transfer = page.evaluate_handle(DROP_FILES, files)
    page.get_by_test_id("dropzone").dispatch_event("drop", {"dataTransfer": transfer})
    return dict(page.evaluate("() => window.__dropped"))


def throttle_uploads(page: Page, bytes_per_second: int) -> None:
    """Slow the browser's uploads so that progress can be watched (Chrome DevTools Protocol)."""
    session = page.context.new_cdp_session(page)
    session.send("Network.enable")
    session.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": bytes_per_second},
    )


def download(page: Page, name: str) -> bytes:
    with page.expect_download() as info:
        page.get_by_role("button", name=f"Télécharger {name}").click()
    return Path(info.value.path()).read_bytes()


def test_an_editor_signs_in_creates_a_dossier_uploads_files_and_downloads_them(web: Web) -> None:
    # Given an editor of unit-a, signed in through the local OpenID Connect sign-in page
    page = web.context().new_page()
    web.sign_in(page, "alice", "editors", units="unit-a", check="sign-in page")
    expect(page.get_by_role("heading", level=1, name="Dossiers")).to_be_visible()
    page.get_by_label("Rechercher (début de référence ou mots de l’intitulé)").fill("DEMO")
    page.get_by_role("button", name="Rechercher").click()
    expect(page.get_by_role("row").filter(has_text="DEMO-0001")).to_be_visible()
    web.check(page, "dossier list")
    web.screenshot(page, "web-dossiers")

    # Then "my account" shows who the application thinks she is
    page.get_by_role("link", name="Mon compte").click()
    expect(page.get_by_test_id("me-name")).to_have_text("alice")
    expect(page.get_by_test_id("me-role")).to_have_text("Rédacteur")
    expect(page.get_by_test_id("me-units")).to_have_text("a")
    web.check(page, "my account")
    web.screenshot(page, "web-account")

    # When she creates a dossier
    page.goto("/dossiers/new")
    expect(page.get_by_role("heading", level=1, name="Nouveau dossier")).to_be_visible()
    web.check(page, "new dossier")
    web.screenshot(page, "web-new-dossier")
    reference = unique("WEB")
    create_dossier(page, reference, "Bail commercial — 12 rue de la Paix")

    # and drops three files on it, one above the (lowered) multipart threshold, on a slow link
    throttle_uploads(page, 4 * MiB)
    page.evaluate(WATCH_PROGRESS)
    hashes = drop(
        page,
        [
            {"name": "contrat.pdf", "size": 150_000, "type": "application/pdf"},
            {"name": "plan.png", "size": 40_000, "type": "image/png"},
            {"name": "scan-complet.tiff", "size": 20 * MiB + 123, "type": "image/tiff"},
        ],
    )

    # Then each file shows its own progress and the overall one, and all three are sent
    expect(page.get_by_role("progressbar", name="Progression de l’ensemble des envois")).to_be_visible()
    page.wait_for_function(
        """() => { const bar = document.querySelector('progress[aria-label^="Progression de l"]');
                   return bar !== null && bar.value / bar.max > 0.25; }"""
    )
    expect(page.locator("[data-upload-state=uploading]")).not_to_have_count(0)
    expect(page.get_by_text(re.compile(r"\d parties? sur 5"))).to_be_visible()
    web.screenshot(page, "web-uploading")
    web.check(page, "uploads in progress")
    expect(page.locator("[data-upload-state=done]")).to_have_count(3, timeout=60_000)
    progress: dict[str, list[float]] = page.evaluate("() => window.__progress")
    overall = progress["Progression de l’ensemble des envois"]
    assert any(0 < value < 1 for value in overall), "the overall progress was never seen between 0 and 100 %"
    assert overall[-1] == 1
    assert overall == sorted(overall), "the overall progress went backwards"
    big = progress["Progression de scan-complet.tiff"]
    assert any(0 < value < 1 for value in big)

    # and the documents are listed, available, with locale-formatted sizes
    table = page.get_by_role("table", name="Documents du dossier")
    for name in hashes:
        expect(table.get_by_role("row").filter(has_text=name)).to_contain_text("Disponible")
    expect(table.get_by_role("row").filter(has_text="scan-complet.tiff")).to_contain_text("21 Mo")
    web.screenshot(page, "web-dossier")
    web.check(page, "dossier with documents")

    # When she downloads each one, then the bytes are the ones she dropped
    for name, digest in hashes.items():
        assert hashlib.sha256(download(page, name)).hexdigest() == digest, name

    # and the history shows the creation and the uploads
    page.get_by_role("link", name="Historique").click()
    history = page.get_by_role("table", name="Historique du dossier, du plus récent au plus ancien")
    expect(history.get_by_text("Dossier créé")).to_be_visible()
    expect(history.get_by_text("Document disponible")).to_have_count(3)
    web.screenshot(page, "web-history")
    web.check(page, "history")


def test_a_failed_part_is_retried_alone_and_an_upload_can_be_cancelled(web: Web) -> None:
    # Given an editor on a new dossier, and a storage that fails part 2 of a file three times
    page = web.context().new_page()
    web.sign_in(page, "alice", "editors")
    create_dossier(page, unique("RETRY"), "Reprise d’un envoi")
    sent: Counter[str] = Counter()
    page.on(
        "request",
        lambda r: sent.update([m.group(1)]) if (m := re.search(r"partNumber=(\d+)", r.url)) else None,
    )
    failures = {"left": 3}

    def flaky(route: Route) -> None:
        if failures["left"] > 0:
            failures["left"] -= 1
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route(re.compile(r"partNumber=2(&|$)"), flaky)

    # When a file of 3 parts is dropped
    hashes = drop(page, [{"name": "gros.bin", "size": 12 * MiB, "type": "application/octet-stream"}])

    # Then after its automatic attempts the file waits for the user, parts 1 and 3 kept
    row = page.locator("li.upload-item").filter(has_text="gros.bin")
    expect(row).to_have_attribute("data-upload-state", "failed", timeout=30_000)
    expect(row).to_contain_text("Les parties déjà envoyées sont conservées")
    web.check(page, "failed upload")

    # When the user resumes it, only part 2 is sent again, and the file is complete
    row.get_by_role("button", name="Reprendre l’envoi de gros.bin").click()
    expect(row).to_have_attribute("data-upload-state", "done", timeout=30_000)
    assert sent == {"1": 1, "2": 4, "3": 1}
    assert hashlib.sha256(download(page, "gros.bin")).hexdigest() == hashes["gros.bin"]

    # When an upload is held by the storage and the user cancels it, then it stops there
    page.route(re.compile(r"partNumber=1(&|$)"), lambda route: None)  # never answered
    drop(page, [{"name": "annule.bin", "size": 12 * MiB, "type": "application/octet-stream"}])
    cancelled = page.locator("li.upload-item").filter(has_text="annule.bin")
    expect(cancelled).to_have_attribute("data-upload-state", "uploading")
    cancelled.get_by_role("button", name="Annuler l’envoi de annule.bin").click()
    expect(cancelled).to_have_attribute("data-upload-state", "cancelled")
    # And its upload was abandoned through the API: read again, the document says so
    page.reload()
    table = page.get_by_role("table", name="Documents du dossier")
    expect(table.get_by_role("row").filter(has_text="annule.bin")).to_contain_text("Envoi abandonné")


def test_a_stale_edit_shows_what_changed_and_is_never_silently_overwritten(web: Web) -> None:
    # Given a dossier that alice opens for editing
    alice = web.context().new_page()
    web.sign_in(alice, "alice", "editors")
    path = create_dossier(alice, unique("STALE"), "Titre d’origine")
    alice.goto(path + "/edit")
    alice.get_by_label("Intitulé").fill("Titre d’alice")
    alice.get_by_label("Description").fill("Ajouté par alice")

    # When bob, in another browser, changes the title first
    bob = web.context().new_page()
    web.sign_in(bob, "bob", "editors", path=path + "/edit")
    bob.get_by_label("Intitulé").fill("Titre de bob")
    bob.get_by_role("button", name="Enregistrer").click()
    bob.wait_for_url(re.compile(re.escape(path) + "$"))

    # and alice saves
    alice.get_by_role("button", name="Enregistrer").click()

    # Then she sees what changed, field by field, and nothing was overwritten
    conflict = alice.get_by_role("region", name="Ce dossier a été modifié par quelqu’un d’autre")
    expect(conflict).to_be_visible()
    changed = conflict.get_by_role("row").filter(has_text="Intitulé")
    expect(changed).to_contain_text("Titre d’origine")
    expect(changed).to_contain_text("Titre de bob")
    expect(changed).to_contain_text("Titre d’alice")
    web.check(alice, "stale edit")
    web.screenshot(alice, "web-stale-edit")
    bob.reload()
    expect(bob.get_by_role("heading", level=1)).to_contain_text("Titre de bob")

    # When she reloads, her typing is replaced by the current version
    conflict.get_by_role("button", name="Recharger la version actuelle (abandonner ma saisie)").click()
    expect(alice.get_by_label("Intitulé")).to_have_value("Titre de bob")
    expect(alice.get_by_label("Description")).to_have_value("")

    # and when she types again, bob changes it again, and she reapplies hers on top
    alice.get_by_label("Description").fill("Ajouté par alice")
    bob.goto(path + "/edit")
    bob.get_by_label("Intitulé").fill("Titre de bob, deuxième")
    bob.get_by_role("button", name="Enregistrer").click()
    bob.wait_for_url(re.compile(re.escape(path) + "$"))
    alice.get_by_role("button", name="Enregistrer").click()
    alice.get_by_role("button", name="Appliquer mes modifications à la version actuelle").click()
    alice.wait_for_url(re.compile(re.escape(path) + "$"))
    expect(alice.get_by_role("heading", level=1)).to_contain_text("Titre de bob, deuxième")
    expect(alice.get_by_text("Ajouté par alice")).to_be_visible()


def test_a_reader_is_offered_no_write_action_and_a_direct_edit_url_is_refused(web: Web) -> None:
    # Given a dossier with a document, made by an editor
    editor = web.context().new_page()
    web.sign_in(editor, "alice", "editors")
    path = create_dossier(editor, unique("READ"), "Lecture seule")
    drop(editor, [{"name": "note.txt", "size": 12, "type": "text/plain"}])
    expect(editor.locator("[data-upload-state=done]")).to_have_count(1)

    # When a reader opens it
    page = web.context().new_page()
    web.sign_in(page, "rita", "readers", path=path)

    # Then she can read and download, but no write action is offered
    expect(page.get_by_role("button", name="Télécharger note.txt")).to_be_visible()
    for hidden in ("Nouveau dossier", "Modifier"):
        expect(page.get_by_role("link", name=hidden)).to_have_count(0)
    for hidden in ("Archiver", "Supprimer note.txt", "Choisir des fichiers"):
        expect(page.get_by_role("button", name=hidden)).to_have_count(0)
    expect(page.get_by_text("Choisir des fichiers")).to_have_count(0)
    web.check(page, "dossier as a reader")

    # and the sharing screen shows her who sees the dossier, but offers no way to change it
    page.get_by_role("link", name="Partage").click()
    expect(page.get_by_text(NOT_SHARED)).to_be_visible()
    expect(page.get_by_role("button", name="Partager", exact=True)).to_have_count(0)
    expect(page.get_by_role("textbox")).to_have_count(0)
    expect(page.get_by_text("Seuls les rédacteurs de l’unité du dossier")).to_be_visible()
    web.check(page, "sharing as a reader")

    # and the edit and create URLs typed by hand say she may not
    page.goto(path + "/edit")
    expect(page.get_by_role("alert")).to_contain_text(
        "Vos droits ne vous permettent pas de modifier ce dossier"
    )
    expect(page.get_by_role("textbox")).to_have_count(0)
    web.check(page, "edit refused")
    page.goto("/dossiers/new")
    expect(page.get_by_role("alert")).to_contain_text("Vos droits ne vous permettent pas de créer un dossier")


def test_an_admin_archives_a_dossier_which_becomes_read_only(web: Web) -> None:
    editor = web.context().new_page()
    web.sign_in(editor, "alice", "editors")
    reference = unique("ARCH")
    path = create_dossier(editor, reference, "À archiver")

    page = web.context().new_page()
    web.sign_in(page, "carol", "admins", path=path)
    page.get_by_role("button", name="Archiver").click()
    dialog = page.get_by_role("dialog", name=f"Archiver le dossier {reference} ?")
    expect(dialog).to_be_visible()
    web.check(page, "archive dialog")
    dialog.get_by_role("button", name="Archiver le dossier").click()

    expect(dialog).to_be_hidden()
    expect(page.get_by_text("Ce dossier est archivé : il est en lecture seule.")).to_be_visible()
    expect(page.get_by_role("button", name="Archiver")).to_have_count(0)
    expect(page.get_by_role("link", name="Modifier")).to_have_count(0)
    page.goto("/dossiers?status=archived")
    expect(page.get_by_role("row").filter(has_text=reference)).to_contain_text("Archivé")
    page.goto(path + "/edit")
    expect(page.get_by_role("alert")).to_contain_text("Ce dossier est archivé")


def test_the_language_switch_changes_texts_and_formats_and_persists(web: Web) -> None:
    context = web.context()
    page = context.new_page()
    web.sign_in(page, "alice", "editors")
    path = create_dossier(page, unique("LANG"), "Langue")
    drop(page, [{"name": "taille.bin", "size": 1_500, "type": "application/octet-stream"}])
    expect(page.locator("[data-upload-state=done]")).to_have_count(1)
    expect(page.get_by_role("row").filter(has_text="taille.bin")).to_contain_text("1,5 ko")

    page.get_by_label("Langue").select_option("en")

    expect(page.get_by_role("link", name="Edit")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("row").filter(has_text="taille.bin")).to_contain_text("1.5 kB")
    web.check(page, "dossier in English")
    page.reload()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    # A new tab has its own session (tokens live in the tab), but keeps the language: even the
    # sign-in page is in English
    other = context.new_page()
    other.goto(path)
    other.wait_for_url(re.compile(r"/oidc/oauth2/authorize.*lang=en"))
    expect(other.get_by_role("heading", level=1)).to_have_text("Local sign-in to Patronus")
    web.fill_sign_in(other, "alice", "editors", units="unit-a")
    expect(other.get_by_role("link", name="History")).to_be_visible()
    other.get_by_label("Language").select_option("fr")
    expect(other.get_by_role("link", name="Historique")).to_be_visible()


def test_a_dossier_can_be_created_with_the_keyboard_only(web: Web) -> None:
    page = web.context().new_page()
    web.sign_in(page, "alice", "editors")
    reference = unique("KEY")

    # From the list, Tab reaches "skip to content" first, then the navigation
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Aller au contenu")).to_be_focused()
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement?.textContent") == "Nouveau dossier":
            break
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/dossiers/new$"))

    # The new screen's heading takes the focus; the form's fields come next, in order; Enter sends
    expect(page.get_by_role("heading", level=1, name="Nouveau dossier")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Référence")).to_be_focused()
    page.keyboard.type(reference)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Intitulé")).to_be_focused()
    page.keyboard.type("Créé au clavier")
    page.keyboard.press("Enter")

    page.wait_for_url(re.compile(r"/dossiers/[0-9a-f]{32}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(reference)
    expect(page.get_by_role("heading", level=1)).to_be_focused()

    # and the file picker is reachable with the keyboard too, once the dossier's panels are shown
    # (on a busy machine they render after the heading takes the focus)
    expect(page.locator("input[type=file]")).to_be_attached()
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement?.type") == "file":
            break
    assert page.evaluate("() => document.activeElement?.type") == "file"


def test_errors_say_what_to_do_and_a_503_with_retry_after_is_retried(web: Web) -> None:
    page = web.context().new_page()
    web.sign_in(page, "alice", "editors")
    answers = {"left": 1}

    def busy_once(route: Route) -> None:
        if answers["left"] > 0:
            answers["left"] -= 1
            route.fulfill(
                status=503,
                headers={"Retry-After": "1", "Content-Type": "application/json"},
                body='{"error": {"code": "unavailable", "message": "database down", "details": []}}',
            )
        else:
            route.continue_()

    # A list answered 503 once is retried after Retry-After and shows
    page.route(re.compile(r"/v1/dossiers\?"), busy_once)
    started = time.monotonic()
    page.goto("/dossiers?q=DEMO")
    expect(page.get_by_role("row").filter(has_text="DEMO-0001")).to_be_visible()
    assert answers["left"] == 0 and time.monotonic() - started >= 1
    page.unroute(re.compile(r"/v1/dossiers\?"))

    # A duplicate reference is refused in French with what to do next
    page.goto("/dossiers/new")
    page.get_by_label("Référence").fill("DEMO-0001")
    page.get_by_label("Intitulé").fill("Doublon")
    page.get_by_role("button", name="Créer le dossier").click()
    expect(page.get_by_role("alert")).to_contain_text("Un dossier porte déjà cette référence.")
    expect(page.get_by_role("alert")).to_contain_text("Choisissez une autre référence")
    web.check(page, "duplicate refused")
    web.screenshot(page, "web-error")

    # A field the rules refuse is marked on the field itself
    page.get_by_label("Référence").fill("-mauvaise référence")
    page.get_by_role("button", name="Créer le dossier").click()
    expect(page.get_by_label("Référence")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text("La référence commence par une lettre ou un chiffre")).to_be_visible()

    # An unknown dossier and an unknown page say so
    page.goto("/dossiers/" + "0" * 32)
    expect(page.get_by_role("heading", level=1, name="Dossier introuvable")).to_be_visible()
    web.check(page, "unknown dossier")
    page.goto("/no/such/page")
    expect(page.get_by_role("heading", level=1, name="Page introuvable")).to_be_visible()
    web.check(page, "unknown page")


def test_the_session_is_renewed_and_an_ended_session_keeps_the_form(web: Web) -> None:
    # Given alice signed in with 70-second tokens, typing a new dossier
    page = web.context().new_page()
    web.sign_in(page, "alice", "editors", path="/dossiers/new", lifetime="70")
    reference = unique("SESSION")
    page.get_by_label("Référence").fill(reference)
    page.get_by_label("Intitulé").fill("Saisie conservée")
    first = stored_user(page)
    assert first is not None

    # Then the application renews the tokens in the background, the form untouched
    deadline = time.monotonic() + 40
    while (stored_user(page) or {}).get("id_token") == first["id_token"]:
        assert time.monotonic() < deadline, "the session was not renewed"
        page.wait_for_timeout(500)
    expect(page.get_by_label("Intitulé")).to_have_value("Saisie conservée")

    # When the session ends at the provider (its refresh token revoked)
    renewed = stored_user(page)
    assert renewed is not None
    page.evaluate(
        """async (token) => { await fetch("/oidc/oauth2/revoke", { method: "POST",
             body: new URLSearchParams({ token, client_id: "patronus-web-local" }) }); }""",
        renewed["refresh_token"],
    )

    # Then at the next renewal a dialog asks to sign in again, over the form
    dialog = page.get_by_role("dialog", name="Votre session a expiré")
    expect(dialog).to_be_visible(timeout=40_000)
    web.check(page, "session expired")
    web.screenshot(page, "web-session-expired")

    # When she signs in again in the popup, the dialog goes and her typing is still there
    with page.expect_popup() as popup:
        dialog.get_by_role("button", name="Se reconnecter").click()
    web.fill_sign_in(popup.value, "alice", "editors", units="unit-a")
    expect(dialog).to_be_hidden()
    expect(page.get_by_label("Intitulé")).to_have_value("Saisie conservée")
    page.get_by_role("button", name="Créer le dossier").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(reference)


def test_sign_out_ends_the_session(web: Web) -> None:
    context = web.context()
    page = context.new_page()
    web.sign_in(page, "alice", "editors")

    page.get_by_role("button", name="Se déconnecter").click()

    page.wait_for_url(re.compile(r"/signed-out$"))
    expect(page.get_by_role("heading", level=1, name="Vous êtes déconnecté")).to_be_visible()
    assert stored_user(page) is None
    web.check(page, "signed out")
    page.goto("/dossiers")
    page.wait_for_url(re.compile(r"/oidc/oauth2/authorize"))


def test_the_list_filters_by_unit_and_by_creator_and_a_dossier_is_created_in_a_chosen_unit(web: Web) -> None:
    # Given alice, an editor of two units, who creates a dossier in the second one
    alice = web.context().new_page()
    web.sign_in(alice, "alice", "editors", units="unit-a unit-b")
    tag = unique("UNIT")
    alice.goto("/dossiers/new")
    unit = alice.get_by_label("Unité")
    expect(unit).to_have_value("")  # two units: nothing is chosen for her
    alice.get_by_label("Référence").fill(f"{tag}-B")
    alice.get_by_label("Intitulé").fill(f"{tag} dans b")
    alice.get_by_role("button", name="Créer le dossier").click()
    expect(alice.get_by_text("Choisissez l’unité du dossier.")).to_be_visible()
    unit.select_option(label="b")
    web.check(alice, "new dossier with a unit to choose")
    alice.get_by_role("button", name="Créer le dossier").click()
    alice.wait_for_url(re.compile(r"/dossiers/[0-9a-f]{32}$"))
    expect(alice.get_by_test_id("dossier-unit")).to_have_text("b")

    # and bob, an editor of unit-a only, whose only unit is chosen for him
    bob = web.context().new_page()
    web.sign_in(bob, "bob", "editors", units="unit-a")
    bob.goto("/dossiers/new")
    expect(bob.get_by_label("Unité")).to_have_value("unit-a")
    create_dossier(bob, f"{tag}-A", f"{tag} dans a")
    expect(bob.get_by_test_id("dossier-unit")).to_have_text("a")

    # When alice lists the tag's dossiers, she sees both, with their units
    alice.goto(f"/dossiers?q={tag}")
    rows = alice.get_by_role("row")
    expect(rows.filter(has_text=f"{tag}-A")).to_contain_text("bob")
    expect(rows.filter(has_text=f"{tag}-B")).to_contain_text("alice")

    # Then the unit filter keeps unit-b's only
    alice.get_by_label("Unité").select_option(label="b")
    alice.get_by_role("button", name="Rechercher").click()
    alice.wait_for_url(re.compile(r"unit=unit-b"))
    expect(rows.filter(has_text=f"{tag}-B")).to_be_visible()
    expect(rows.filter(has_text=f"{tag}-A")).to_have_count(0)
    web.check(alice, "dossier list filtered by unit")
    web.screenshot(alice, "web-dossiers-filtered")

    # and "mine" keeps hers only, whatever the unit
    alice.get_by_label("Unité").select_option(label="Toutes")
    alice.get_by_label("Créés par moi").check()
    alice.get_by_role("button", name="Rechercher").click()
    alice.wait_for_url(re.compile(r"mine=1"))
    expect(rows.filter(has_text=f"{tag}-B")).to_be_visible()
    expect(rows.filter(has_text=f"{tag}-A")).to_have_count(0)
    # and the filters survive a reload, read back from the address
    alice.reload()
    expect(alice.get_by_label("Créés par moi")).to_be_checked()
    expect(rows.filter(has_text=f"{tag}-A")).to_have_count(0)

    # and bob, who is not in unit-b, does not see alice's dossier at all
    bob.goto(f"/dossiers?q={tag}")
    expect(bob.get_by_role("row").filter(has_text=f"{tag}-A")).to_be_visible()
    expect(bob.get_by_role("row").filter(has_text=f"{tag}-B")).to_have_count(0)


def share_with_a_user(web: Web, page: Page, user: str) -> None:
    """On the sharing screen: a grant to the dossier's own unit is refused on the field, then the
    dossier is shared with `user` for reading."""
    expect(page.get_by_role("heading", level=2, name="Partage")).to_be_visible()
    expect(page.get_by_text(NOT_SHARED)).to_be_visible()
    web.check(page, "sharing, nobody yet")

    page.get_by_label("Une unité").check()
    expect(suggestion(page, page.get_by_label("Unité", exact=True), "a")).to_have_count(1)
    page.get_by_label("Unité", exact=True).fill("a")
    page.get_by_role("button", name="Partager", exact=True).click()
    expect(page.get_by_text("Le dossier appartient déjà à cette unité")).to_be_visible()
    expect(page.get_by_label("Unité", exact=True)).to_have_attribute("aria-invalid", "true")

    page.get_by_label("Une personne").check()
    person = page.get_by_label("Nom, adresse ou identifiant de la personne")
    person.fill(user[:2])  # they signed in before: the start of their name suggests them
    expect(suggestion(page, person, user)).to_have_count(1)
    person.fill(user)
    page.get_by_label("Droit").select_option(label="Lecture")
    page.get_by_role("button", name="Partager", exact=True).click()
    grants = page.get_by_role("table", name="Avec qui le dossier est partagé")
    expect(grants.get_by_role("row").filter(has_text=user)).to_contain_text("Lecture")


def offered_reading_only(web: Web, page: Page, path: str, user: str) -> None:
    """What a read grant offers: download, the list of grants; no edit, upload or sharing."""
    expect(page.get_by_role("button", name="Télécharger piece.txt")).to_be_visible()
    expect(page.get_by_role("link", name="Modifier")).to_have_count(0)
    expect(page.get_by_text("Choisir des fichiers")).to_have_count(0)
    page.get_by_role("link", name="Partage").click()
    expect(page.get_by_role("row").filter(has_text=user)).to_be_visible()
    expect(page.get_by_role("button", name="Partager", exact=True)).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("^Retirer"))).to_have_count(0)
    web.check(page, "sharing, read only")
    page.goto(path + "/edit")
    expect(page.get_by_role("alert")).to_contain_text(EDIT_REFUSED)


def test_a_dossier_shared_with_another_user_is_seen_by_them_read_only_and_the_history_says_so(
    web: Web,
) -> None:
    # Given alice, an editor of unit-a, with a dossier and a document in it
    alice = web.context().new_page()
    web.sign_in(alice, "alice", "editors", units="unit-a")
    reference = unique("SHARE")
    path = create_dossier(alice, reference, "Partagé avec erin")
    drop(alice, [{"name": "piece.txt", "size": 64, "type": "text/plain"}])
    expect(alice.locator("[data-upload-state=done]")).to_have_count(1)

    # and erin, an editor of unit-c, who does not see it
    erin = web.context().new_page()
    web.sign_in(erin, "erin", "editors", units="unit-c")
    erin.goto(f"/dossiers?q={reference}")
    expect(erin.get_by_text("Aucun dossier ne correspond.")).to_be_visible()
    erin.get_by_role("link", name="Mon compte").click()
    expect(erin.get_by_test_id("me-subject")).to_have_text("erin")

    # When alice shares it with erin, for reading (after trying her own unit, refused in French)
    alice.get_by_role("link", name="Partage").click()
    share_with_a_user(web, alice, "erin")
    web.check(alice, "sharing with a grant")
    web.screenshot(alice, "web-sharing")

    # Then erin finds it in her list and opens it
    erin.goto(f"/dossiers?q={reference}")
    erin.get_by_role("link", name=reference).click()
    expect(erin.get_by_role("heading", level=1)).to_contain_text(reference)

    # and, although an editor, she is offered what her read grant allows, nothing more
    offered_reading_only(web, erin, path, "erin")

    # When erin downloads the document
    erin.goto(path)
    assert len(download(erin, "piece.txt")) == 64

    # Then alice's history shows the grant and the download, by whom
    alice.get_by_role("link", name="Historique").click()
    history = alice.get_by_role("table", name=re.compile("Historique du dossier"))
    shared = history.get_by_role("row").filter(has_text="Dossier partagé")
    expect(shared).to_contain_text("destinataire : erin")
    expect(shared).to_contain_text("droit : Lecture")
    expect(history.get_by_role("row").filter(has_text="Document téléchargé")).to_contain_text("erin")
    web.check(alice, "history with grants and downloads")

    # When alice stops sharing, erin no longer sees the dossier
    alice.get_by_role("link", name="Partage").click()
    alice.get_by_role("button", name="Retirer le partage avec erin").click()
    dialog = alice.get_by_role("dialog", name="Ne plus partager le dossier avec erin ?")
    web.check(alice, "stop sharing dialog")
    dialog.get_by_role("button", name="Retirer").click()
    expect(dialog).to_be_hidden()
    expect(alice.get_by_text(NOT_SHARED)).to_be_visible()
    erin.reload()
    expect(erin.get_by_role("heading", level=1, name="Dossier introuvable")).to_be_visible()

    # and the history in English names the revocation
    alice.get_by_label("Langue").select_option("en")
    alice.get_by_role("link", name="History").click()
    expect(alice.get_by_role("row").filter(has_text="Sharing removed")).to_contain_text("grantee: erin")


def suggestion(page: Page, field: Locator, value: str) -> Locator:
    """The option of a field's datalist that suggests ``value``."""
    return page.locator(f'datalist[id="{field.get_attribute("list")}"] option[value="{value}"]')


def test_an_admin_creates_in_any_unit_and_moves_dossiers_and_an_editor_without_a_unit_may_not_create(
    web: Web,
) -> None:
    # Given an admin in no unit, who types the unit of a new dossier
    carol = web.context().new_page()
    web.sign_in(carol, "carol", "admins", units="", path="/dossiers/new")
    # (the units in use are suggested as she types: the default unit is one)
    expect(suggestion(carol, carol.get_by_label("Unité"), "general")).to_have_count(1)
    carol.get_by_label("Référence").fill(unique("ADMIN"))
    carol.get_by_label("Intitulé").fill("Créé pour une autre unité")
    carol.get_by_label("Unité").fill("Mauvaise Unité")
    carol.get_by_role("button", name="Créer le dossier").click()
    expect(carol.get_by_text("Le nom d’une unité est fait de lettres minuscules")).to_be_visible()
    carol.get_by_label("Unité").fill("archives")
    web.check(carol, "new dossier as an admin")
    carol.get_by_role("button", name="Créer le dossier").click()
    carol.wait_for_url(re.compile(r"/dossiers/[0-9a-f]{32}$"))
    expect(carol.get_by_test_id("dossier-unit")).to_have_text("archives")
    # and the list lets her filter on that unit, now in use, though she is not in it
    carol.goto("/dossiers")
    expect(carol.get_by_label("Unité").locator("option", has_text="archives")).to_have_count(1)

    # When she moves a dossier of unit-a to unit-b, its editor in unit-a loses it
    alice = web.context().new_page()
    web.sign_in(alice, "amelie", "editors", units="unit-a", name="Amélie Martin")
    path = create_dossier(alice, unique("MOVE"), "À déplacer")
    carol.goto(path + "/edit")
    expect(carol.get_by_label("Unité")).to_have_value("unit-a")
    carol.get_by_label("Unité").fill("b")
    web.check(carol, "edit as an admin")
    carol.get_by_role("button", name="Enregistrer").click()
    carol.wait_for_url(re.compile(re.escape(path) + "$"))
    expect(carol.get_by_test_id("dossier-unit")).to_have_text("b")
    carol.get_by_role("link", name="Historique").click()
    moved = carol.get_by_role("row").filter(has_text="Dossier changé d’unité")
    expect(moved).to_contain_text("de : a · vers : b")
    # (its creator is named as her token names her, not by her identifier, there and above)
    expect(carol.get_by_role("row").filter(has_text="Dossier créé")).to_contain_text("Amélie Martin")
    expect(carol.locator(".dossier-header dd", has_text="Amélie Martin")).to_have_count(1)
    alice.reload()
    expect(alice.get_by_role("heading", level=1, name="Dossier introuvable")).to_be_visible()
    # and an editor who is not an admin is offered no unit to change
    bob = web.context().new_page()
    web.sign_in(bob, "bob", "editors", units="unit-b", path=path + "/edit")
    expect(bob.get_by_label("Intitulé")).to_be_visible()
    expect(bob.get_by_label("Unité")).to_have_count(0)

    # When an editor in no unit opens the creation form, they are told why they may not create
    dan = web.context().new_page()
    web.sign_in(dan, "dan", "editors", units="", path="/dossiers/new")
    expect(dan.get_by_role("alert")).to_contain_text("Vous n’appartenez à aucune unité")
    expect(dan.get_by_role("link", name="Nouveau dossier")).to_have_count(0)


def set_document_status(local_stack: LocalStack, dossier_path: str, filename: str, status: str) -> None:
    """Put a document in a status that only the malware scan or the clean-up of abandoned uploads
    sets (neither runs in the local stack yet), straight in the stack's database."""
    connection = connect(local_stack.db_url)
    try:
        with connection.cursor() as cursor:
            changed = cursor.execute(
                "UPDATE documents d JOIN dossiers o ON o.id = d.dossier_id"
                " SET d.status = %s WHERE o.public_id = %s AND d.filename = %s",
                (status, dossier_path.rsplit("/", 1)[1], filename),
            )
    finally:
        connection.close()
    assert changed == 1


def test_document_statuses_are_shown_in_words_and_only_available_documents_download(
    web: Web, local_stack: LocalStack
) -> None:
    # Given a dossier with four uploaded documents, three of which the scan or the clean-up moved on
    page = web.context().new_page()
    web.sign_in(page, "alice", "editors")
    path = create_dossier(page, unique("STATUS"), "États des documents")
    names = ["sain.txt", "en-analyse.txt", "infecte.txt", "abandonne.txt"]
    drop(page, [{"name": name, "size": 32, "type": "text/plain"} for name in names])
    expect(page.locator("[data-upload-state=done]")).to_have_count(4)
    set_document_status(local_stack, path, "en-analyse.txt", "scanning")
    set_document_status(local_stack, path, "infecte.txt", "quarantined")
    set_document_status(local_stack, path, "abandonne.txt", "expired")

    # When the dossier is shown again
    page.reload()
    table = page.get_by_role("table", name="Documents du dossier")

    # Then each status is said in words, and only the available document offers a download
    expected = {
        "sain.txt": "Disponible",
        "en-analyse.txt": "Analyse antivirus",
        "infecte.txt": "En quarantaine",
        "abandonne.txt": "Envoi abandonné",
    }
    for name, label in expected.items():
        expect(table.get_by_role("row").filter(has_text=name)).to_contain_text(label)
    expect(page.get_by_role("button", name="Télécharger sain.txt")).to_be_visible()
    for name in names[1:]:
        expect(page.get_by_role("button", name=f"Télécharger {name}")).to_have_count(0)
    expect(page.get_by_text("Seuls les documents disponibles se téléchargent")).to_be_visible()
    web.check(page, "document statuses")

    # and in English too
    page.get_by_label("Langue").select_option("en")
    expect(page.get_by_role("row").filter(has_text="infecte.txt")).to_contain_text("Quarantined")
    expect(page.get_by_role("row").filter(has_text="en-analyse.txt")).to_contain_text("Virus scan")
    expect(page.get_by_role("row").filter(has_text="abandonne.txt")).to_contain_text("Upload abandoned")
