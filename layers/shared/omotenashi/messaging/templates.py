"""Message templates (Jinja2) from the top-level templates/ folder.

Layout: templates/<kind>/<locale>/{subject.txt,body.txt,body.html}; a store may override any file
with templates/stores/<store_id>/<kind>/<locale>/<file>. HTML is autoescaped; subject and text are
plain text. Undefined variables are errors, so a typo fails the test suite, not a customer email.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omotenashi.settings import get_settings

PARTS = ("subject.txt", "body.txt", "body.html")


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    text: str
    html: str


def templates_dir() -> Path:
    configured = get_settings().templates_dir
    if configured is not None:
        return configured
    package_dir = Path(__file__).resolve().parent.parent
    for candidate in (
        package_dir / "templates",  # in the built Lambda layer (python/omotenashi/templates)
        package_dir.parent.parent.parent / "templates",  # in the repository (layers/shared/omotenashi)
    ):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("message templates folder not found; set OMOTENASHI_TEMPLATES_DIR")


@functools.cache
def _environment(root: str) -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=FileSystemLoader(root),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def environment() -> Any:
    """The Jinja2 environment over `templates_dir()`; the pages (messaging/pages.py) use it too."""
    return _environment(str(templates_dir()))


def email_kinds() -> list[str]:
    """Every email kind under the templates folder (not `_partials`, not `stores` overrides, not
    the `*_page` folders of web pages)."""
    return sorted(
        p.name
        for p in templates_dir().iterdir()
        if p.is_dir() and not p.name.startswith("_") and p.name != "stores" and not p.name.endswith("_page")
    )


def available_locales(kind: str) -> list[str]:
    base = templates_dir() / kind
    return sorted(p.name for p in base.iterdir() if p.is_dir()) if base.is_dir() else []


def render(
    kind: str, locale: str, context: dict[str, Any], *, store_id: str | None = None
) -> RenderedMessage:
    env = environment()
    parts: dict[str, str] = {}
    for part in PARTS:
        names = [f"{kind}/{locale}/{part}"]
        if store_id is not None:
            names.insert(0, f"stores/{store_id}/{kind}/{locale}/{part}")
        parts[part] = env.select_template(names).render(context)
    subject = " ".join(parts["subject.txt"].split())  # one line: no header folding surprises
    return RenderedMessage(subject=subject, text=parts["body.txt"], html=parts["body.html"])


def render_file(name: str, context: Mapping[str, Any]) -> str:
    """One file of the templates folder by its path there, e.g.
    "_partials/marketing_footer/ja/footer.html" (autoescaped when it ends in .html, as every template).
    No store override: for the fixed parts every email of a class carries, such as the legal footer."""
    return str(_environment(str(templates_dir())).get_template(name).render(context))
