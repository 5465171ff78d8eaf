"""The part of a model card only people can write: intended use and limits, read from a small YAML file.

A template (:data:`TEMPLATE`) is written next to the card when no file is
given and none is there yet; its values start with ``TODO:`` and a card shows
such a value as a placeholder, marked as not stated. A filled file is read
again each time the card is written (``--info FILE``, or the
``model_card_info.yaml`` left next to the card).

Private: :func:`workbench.releases.card.write_model_card` is the public face.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from workbench._atomic import write_text_atomic
from workbench.errors import DataError

INFO_FILE = "model_card_info.yaml"
PLACEHOLDER = "TODO:"
#: (section, field, label) in the order a card shows them (after Mitchell et al. 2019)
FIELDS = (
    ("model_details", "owner", "Owner"),
    ("model_details", "contact", "Contact"),
    ("model_details", "license", "License"),
    ("model_details", "references", "References"),
    ("intended_use", "primary_uses", "Primary intended uses"),
    ("intended_use", "primary_users", "Primary intended users"),
    ("intended_use", "out_of_scope", "Out-of-scope uses"),
    ("factors", "relevant", "Relevant factors"),
    ("factors", "evaluated", "Evaluation factors"),
    ("considerations", "ethical", "Ethical considerations"),
    ("considerations", "caveats", "Caveats and recommendations"),
)
TEMPLATE = """\
# Model card information: what only people can say about this model (after Mitchell et al. 2019,
# "Model Cards for Model Reporting"). Everything else in the card comes from stored results.
#
# Replace each "TODO: ..." text with your own. A value still starting with "TODO:" is shown in the card
# as a placeholder, marked as not stated. Then write the card again; this file is read when it sits
# next to the card, or when named:  workbench card MODEL --out DIR --info model_card_info.yaml
# Text may span lines (YAML's "|" block); a list of lines is fine too.
model_details:
  owner: "TODO: the team or person answerable for this model"
  contact: "TODO: where to send questions or report a problem"
  license: "TODO: the terms under which the model and its outputs may be used"
  references: "TODO: documents, tickets or papers that explain the model"
intended_use:
  primary_uses: "TODO: the decisions this model supports, and how its output is used in them"
  primary_users: "TODO: who acts on its output"
  out_of_scope: "TODO: uses it was not built or checked for (other populations, other decisions)"
factors:
  relevant: "TODO: groups, settings or data sources for which its performance may differ"
  evaluated: "TODO: which of those the fairness and performance reports cover"
considerations:
  ethical: "TODO: risks to people, sensitive data used, mitigations in place"
  caveats: "TODO: known limits, and recommendations for those who use the model"
"""


def read_info(path: Path) -> dict[str, dict[str, str | None]]:
    """The info file as ``{section: {field: text or None}}`` (None: a placeholder or left out).

    Raises
    ------
    DataError
        The file is missing, not YAML, or not a mapping of sections.
    """
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(
            f"the model card info file '{path}' does not exist; leave --info out to have a template "
            f"written next to the card"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"the model card info file '{path}' cannot be read ({exc})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        raise DataError(f"the model card info file '{path}' is not valid YAML{line}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise DataError(
            f"the model card info file '{path}' must hold sections such as intended_use: with fields, "
            f"not a {type(data).__name__}"
        )
    out: dict[str, dict[str, str | None]] = {}
    for section, field, _ in FIELDS:
        block = data.get(section)
        if block is not None and not isinstance(block, dict):
            raise DataError(
                f"'{section}' in the model card info file '{path}' must hold fields ({field}: ...), "
                f"not {_kind(block)}"
            )
        out.setdefault(section, {})[field] = _text((block or {}).get(field), f"{section}.{field}", path)
    return out


def placeholder_info() -> dict[str, dict[str, str | None]]:
    """Every field not stated (what a card shows before anyone filled the template)."""
    out: dict[str, dict[str, str | None]] = {}
    for section, field, _ in FIELDS:
        out.setdefault(section, {})[field] = None
    return out


def write_template(path: Path) -> Path:
    """Write :data:`TEMPLATE` to `path` atomically (never over an existing file)."""
    if path.exists():
        return path
    return write_text_atomic(path, TEMPLATE)


def unstated(info: dict) -> list[str]:
    """``section.field`` of every field still a placeholder."""
    return [f"{s}.{f}" for s, f, _ in FIELDS if not (info.get(s) or {}).get(f)]


def _text(value: Any, where: str, path: Path) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        value = "\n".join(str(v) for v in value if v is not None)
    elif isinstance(value, bool | int | float):
        value = str(value)
    if not isinstance(value, str):
        raise DataError(f"{where} in '{path}' must be text or a list of lines, not {_kind(value)}")
    value = value.strip()
    if not value or value.upper().startswith(PLACEHOLDER):
        return None
    return value


def _kind(value: Any) -> str:
    return {dict: "a mapping", list: "a list"}.get(type(value), type(value).__name__)
