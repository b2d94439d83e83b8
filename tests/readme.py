"""The parts of README.md that tests run or compare with the code."""

from __future__ import annotations

from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
WALKTHROUGH_HEADING = "**Walkthrough.**"


def readme_walkthrough(readme: Path = README) -> str:
    """The bash block that follows the walkthrough heading, as a reader would copy it."""
    text = readme.read_text(encoding="utf-8")
    start = text.index("```bash\n", text.index(WALKTHROUGH_HEADING)) + len("```bash\n")
    return text[start : text.index("```\n", start)]
