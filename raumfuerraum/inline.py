"""Assets written into a page itself, allowed by the Content-Security-Policy by their hash.

Two pages keep their CSS (the kiosk its script too) inside the document: a door display
loads one document, with no other request that could fail on a flaky network, and the 503
page reads nothing but itself. A hash allows exactly that text and no other inline code,
so the policy stays without 'unsafe-inline'.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path

from csp.decorators import csp_update


@dataclass(frozen=True)
class InlineAsset:
    text: str

    @classmethod
    def read(cls, path: Path) -> InlineAsset:
        return cls(path.read_text())

    @property
    def source(self) -> str:
        """The CSP source expression that allows exactly this text inside <script> or <style>."""
        digest = hashlib.sha256(self.text.encode()).digest()
        return f"'sha256-{base64.b64encode(digest).decode()}'"


def policy(*, scripts: tuple[InlineAsset, ...] = (), styles: tuple[InlineAsset, ...] = ()) -> dict:
    """The additions to the site's policy (for django-csp's @csp_update) that allow these assets."""
    additions = {}
    if scripts:
        additions["script-src"] = [asset.source for asset in scripts]
    if styles:
        additions["style-src"] = [asset.source for asset in styles]
    return additions


def allow(response, *, scripts: tuple[InlineAsset, ...] = (), styles: tuple[InlineAsset, ...] = ()):
    """The response, its policy extended to allow these assets (@csp_update for a non-view)."""
    return csp_update(policy(scripts=scripts, styles=styles))(lambda: response)()
