"""commands/ask/examples.tsv, the learned second opinion's training data, built from the labelled sets
the rules were tuned on (tests/qa: the first corpus, the dev sets, the chatter), never from a held-out
one. Each message is masked with the vocabulary of the project it was written about, so the file holds
how questions are put, not the demo's names. tests/test_qa_learned.py checks the file is up to date;
`python -m tests.support.examples` writes it again after a labelled set changes."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from bot.foundation.catalog import Catalog
from commands.ask.engine import vocabulary
from commands.ask.glossary import glossed
from commands.ask.learned import CHATTER, EXAMPLES, masked
from commands.ask.markup import plain
from commands.ask.subjects import Vocabulary
from demo.world import ensure_demo
from tests.support.demo import isolated_settings

QA = Path(__file__).parent.parent / "qa"
HARBOUR = QA.parent / "projects" / "harbour"
TRAINED_ON = (
    "questions",
    "dev",
    "dev_2",
    "dev_3",
    "dev_4",
    "dev_5",
    "dev_6",
    "dev_7",
    "dev_8",
    "dev_9",
    "dev_10",
    "dev_11",
    "dev_12",
    "dev_13",
    "dev_14",
    "dev_15",
    "dev_16",
    "dev_17",
    "dev_18",
    "dev_19",
    "dev_20",
    "dev_21",
    "dev_22",
    "dev_23",
    "dev_24",
    "dev_25",
    "dev_26",
    "dev_27",
    "dev_28",
    "dev_29",
    "dev_30",
    "dev_31",
    "dev_32",
    "dev_33",
    "dev_34",
    "dev_35",
    "dev_36",
    "dev_37",
    "dev_38",
    "dev_39",
    "dev_40",
    "dev_41",
    "dev_42",
    "dev_43",
    "dev_44",
    "dev_45",
    "dev_46",
    "dev_47",
    "dev_48",
    "dev_49",
    "dev_50",
    "dev_51",
    "dev_52",
    "dev_53",
    "dev_54",
    "dev_55",
    "dev_56",
    "dev_57",
    "dev_58",
    "dev_59",
    "dev_60",
    "dev_61",
    "dev_62",
    "dev_63",
    "chatter",
)
BOT_USER = "U0AMDBOT01"
_HEADER = (
    f"# Built by `python -m tests.support.examples` from the sets {', '.join(TRAINED_ON)} in tests/qa"
    " (never a held-out set): a label, the set, the message with its names masked, tab-separated.\n"
)


def harbour_vocabulary(where: Path) -> Vocabulary:
    """The second dbt project's vocabulary (tests/projects/harbour), parsed by dbt in `where`."""
    project = where / "harbour"
    shutil.copytree(HARBOUR, project)
    dbt = Path(sys.executable).parent / "dbt"
    parse = [str(dbt), "parse", "--profiles-dir", "."]
    done = subprocess.run(parse, cwd=project, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout[-2000:]
    return vocabulary(Catalog.load(project / "target" / "manifest.json", {}, None), [])


def label_of(case: dict[str, Any], name: str) -> str:
    """A message's first label: what a question asks first, or `none` for chatter."""
    intent = case.get("intent", "chatter") if name != "chatter" else "chatter"
    first = str(intent[0] if isinstance(intent, list) else intent)
    return CHATTER if first == "chatter" else first


def built(vocabularies: dict[str, Vocabulary]) -> str:
    lines = [_HEADER]
    for name in TRAINED_ON:
        for case in yaml.safe_load((QA / f"{name}.yaml").read_text()):
            vocab = vocabularies[case.get("project", "demo")]
            text = masked(glossed(plain(case["q"], bot_user=BOT_USER).text, vocab), vocab)
            lines.append(f"{label_of(case, name)}\t{name}\t{text}\n")
    return "".join(lines)


async def _write() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = isolated_settings(Path(tmp) / "home")
        await ensure_demo(settings)
        demo = vocabulary(Catalog.load(settings.manifest_path, {}, None), settings.migrations)
        EXAMPLES.write_text(built({"demo": demo, "harbour": harbour_vocabulary(Path(tmp))}))
    print(f"wrote {EXAMPLES}")


if __name__ == "__main__":
    asyncio.run(_write())
