"""The rendered protocol in docs/ is the code's protocol: regenerate with `exprbench protocol > docs/protocol.md`."""

from pathlib import Path

from exprbench.protocol import PROTOCOL_VERSION, render_markdown


def test_protocol_doc_is_current():
    doc = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"
    assert doc.read_text() == render_markdown() + "\n", "run: exprbench protocol > docs/protocol.md"
    assert f"{PROTOCOL_VERSION}" in doc.read_text()
