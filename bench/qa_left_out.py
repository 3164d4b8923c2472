"""How well the bot understands a blind dev set the learned model was not trained on: each dev set named
(default: every one in the model's data) is left out of the training, and scored with the rules as they
are, as the model's thresholds and the rule changes after it were chosen (README, "The learned second
opinion"); the model alone is scored too. Sets the rules were since tuned on score higher than they would
blind: only the held-out sets (tests/test_qa_held_out.py) say how the bot generalises, never scored here.

    .venv/bin/python bench/qa_left_out.py [dev_10 dev_11 ...]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.foundation.catalog import Catalog  # noqa: E402
from commands.ask import learned  # noqa: E402
from commands.ask.engine import vocabulary  # noqa: E402
from demo.world import ensure_demo  # noqa: E402
from tests.support.demo import isolated_settings  # noqa: E402
from tests.support.examples import TRAINED_ON, harbour_vocabulary  # noqa: E402
from tests.test_qa_held_out import cases, score  # noqa: E402
from tests.test_qa_understanding import understood  # noqa: E402


async def main(names: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = isolated_settings(Path(tmp) / "home")
        await ensure_demo(settings)
        demo = vocabulary(Catalog.load(settings.manifest_path, {}, None), settings.migrations)
        vocab = {"demo": demo, "harbour": harbour_vocabulary(Path(tmp))}
    examples = learned.examples()
    print(f"{'left out':10} {'questions':>10} {'bot':>7} {'chatter silent':>15} {'model alone':>12}")
    for name in names:
        model = learned.trained([e for e in examples if e.written_for != name])
        blind = [e for e in examples if e.written_for == name]
        said = model.predict([e.text for e in blind])
        alone = sum(label == e.label for label, e in zip(said, blind, strict=True))
        rows = cases(ROOT / "tests" / "qa" / f"{name}.yaml")
        questions = [c for c in rows if c["intent"] != "chatter"]
        chatter = [c for c in rows if c["intent"] == "chatter"]
        with learned.using(model):
            right, _ = score(questions, vocab)
            silent = sum(understood(c, demo).intent is None for c in chatter)
        print(
            f"{name:10} {len(questions):>10} {right:>7.1%} {silent / len(chatter):>15.1%} "
            f"{alone / len(blind):>12.1%}"
        )


if __name__ == "__main__":
    wanted = sys.argv[1:] or [name for name in TRAINED_ON if name.startswith("dev")]
    asyncio.run(main(wanted))
