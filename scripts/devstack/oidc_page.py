"""The local sign-in page: instead of a password, the developer picks who they are.

In French or English, as Cognito's managed login with ``lang=``. The page carries the OAuth
parameters of the authorization request as hidden fields and posts them back with the choice.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

from scripts.devstack.tokens import ROLE_GROUPS

PREFIX = "/oidc"
# Lifetimes a developer may pick (seconds); the short ones show the application renewing its
# session. Cognito's shortest is 5 minutes.
TOKEN_LIFETIMES = (3600, 300, 70)

# --- the authorize page (French or English, as Cognito's managed login with lang=) ---------

_TEXTS: dict[str, dict[str, Any]] = {
    "fr": {
        "title": "Connexion locale à Patronus",
        "intro": "Environnement local : choisissez qui vous êtes. Aucun mot de passe n'est demandé.",
        "username": "Nom d'utilisateur",
        "name": "Nom affiché (facultatif, par exemple Alice Martin)",
        "email": "Adresse électronique (facultatif)",
        "role": "Rôle",
        "readers": "Lecteur (consulte)",
        "editors": "Rédacteur (crée et modifie)",
        "admins": "Administrateur (archive et supprime)",
        "units": "Unités",
        "units_hint": "Groupes d'unité séparés par des espaces, par exemple unit-a unit-b",
        "lifetime": "Durée des jetons (pour essayer le renouvellement de session)",
        "lifetimes": {3600: "1 heure", 300: "5 minutes", 70: "70 secondes"},
        "submit": "Se connecter",
        "invalid": "Indiquez un nom, un rôle et des unités de la forme unit-nom.",
    },
    "en": {
        "title": "Local sign-in to Patronus",
        "intro": "Local environment: choose who you are. No password is asked.",
        "username": "User name",
        "name": "Display name (optional, for example Alice Martin)",
        "email": "E-mail address (optional)",
        "role": "Role",
        "readers": "Reader (reads)",
        "editors": "Editor (creates and changes)",
        "admins": "Administrator (archives and deletes)",
        "units": "Units",
        "units_hint": "Unit groups separated by spaces, for example unit-a unit-b",
        "lifetime": "Token lifetime (to try session renewal)",
        "lifetimes": {3600: "1 hour", 300: "5 minutes", 70: "70 seconds"},
        "submit": "Sign in",
        "invalid": "Give a name, a role and units of the form unit-name.",
    },
}

_OAUTH_FIELDS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "lang",
)


def authorize_page(params: Mapping[str, str], known_units: tuple[str, ...], *, invalid: bool = False) -> str:
    asked = params.get("lang", "")
    lang = asked if asked in _TEXTS else "fr"
    t = _TEXTS[lang]
    esc = html.escape
    hidden = "\n".join(
        f'<input type="hidden" name="{name}" value="{esc(params[name])}">'
        for name in _OAUTH_FIELDS
        if name in params
    )
    role = params.get("role", "editors")
    roles = "\n".join(
        f'<label><input type="radio" name="role" value="{g}"{" checked" if g == role else ""}> '
        f"{esc(t[g])}</label>"
        for g in ROLE_GROUPS
    )
    units = params.get("units", " ".join(known_units[:1]))
    lifetime = params.get("lifetime", str(TOKEN_LIFETIMES[0]))
    lifetimes = "\n".join(
        f'<option value="{s}"{" selected" if str(s) == lifetime else ""}>{esc(t["lifetimes"][s])}</option>'
        for s in TOKEN_LIFETIMES
    )
    error = f'<p class="error" role="alert">{esc(t["invalid"])}</p>' if invalid else ""
    return f"""<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(t["title"])}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 0; color: #1b1f24; background: #f4f6f9; }}
main {{ max-width: 28rem; margin: 3rem auto; background: #fff; padding: 2rem; border-radius: 8px;
  border: 1px solid #c9d0da; }}
h1 {{ font-size: 1.4rem; margin-top: 0; }}
label {{ display: block; margin: 0.3rem 0; }}
.field {{ margin-bottom: 1rem; }}
.field > label {{ font-weight: 600; }}
input[type=text], input[type=email], select {{ width: 100%; padding: 0.45rem; font: inherit;
  border: 1px solid #6b7583; border-radius: 6px; }}
fieldset {{ border: 1px solid #c9d0da; border-radius: 6px; margin: 0 0 1rem; }}
legend {{ font-weight: 600; }}
.hint {{ color: #4a5360; font-size: 0.9rem; margin: 0.2rem 0; }}
.error {{ color: #a4161a; font-weight: 600; }}
button {{ background: #1d3f72; color: #fff; border: 0; border-radius: 6px; padding: 0.6rem 1.2rem;
  font: inherit; cursor: pointer; }}
:focus-visible {{ outline: 3px solid #f2a900; outline-offset: 2px; }}
</style>
</head>
<body>
<main>
<h1>{esc(t["title"])}</h1>
<p>{esc(t["intro"])}</p>
{error}
<form method="post" action="{PREFIX}/oauth2/authorize">
{hidden}
<div class="field"><label for="username">{esc(t["username"])}</label>
<input type="text" id="username" name="username" autocomplete="username" required
  value="{esc(params.get("username", ""))}"></div>
<div class="field"><label for="name">{esc(t["name"])}</label>
<input type="text" id="name" name="name" autocomplete="name" value="{esc(params.get("name", ""))}"></div>
<div class="field"><label for="email">{esc(t["email"])}</label>
<input type="email" id="email" name="email" autocomplete="email" value="{esc(params.get("email", ""))}"></div>
<fieldset><legend>{esc(t["role"])}</legend>
{roles}
</fieldset>
<div class="field"><label for="units">{esc(t["units"])}</label>
<p class="hint" id="units-hint">{esc(t["units_hint"])}</p>
<input type="text" id="units" name="units" aria-describedby="units-hint" value="{esc(units)}"></div>
<div class="field"><label for="lifetime">{esc(t["lifetime"])}</label>
<select id="lifetime" name="lifetime">{lifetimes}</select></div>
<button type="submit">{esc(t["submit"])}</button>
</form>
</main>
</body>
</html>
"""


def error_page(message: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign-in error</title></head>'
        f"<body><main><h1>Sign-in error</h1><p>{html.escape(message)}</p></main></body></html>"
    )
