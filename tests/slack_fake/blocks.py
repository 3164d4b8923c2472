"""Block Kit validation the way Slack's Web API applies it: pure functions, no server.

Each problem is reported like Slack reports it, a message followed by a JSON pointer into the request:
``must be less than 3001 characters [json-pointer:/blocks/3/text/text]``. Messages answer such problems
with ``invalid_blocks``; views.open answers them with ``invalid_arguments``.

The limits are Slack's documented ones (docs.slack.dev, Block Kit reference). Block and element types
that amd-bot may plausibly send are checked field by field; anything else is refused as an unsupported
type, so a new kind of block needs a deliberate addition here rather than silently passing.

    errors = validate_blocks(blocks)          # [] when Slack would accept them in a message
    errors = validate_view(view)              # modal or home tab, as views.open / views.publish check it
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

Surface = Literal["message", "modal", "home"]

MAX_BLOCKS: Mapping[Surface, int] = {"message": 50, "modal": 100, "home": 100}
MAX_SECTION_TEXT = 3000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS_ELEMENTS = 25
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_ID = 255  # action_id, block_id, callback_id, external_id
MAX_URL = 3000
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_PLACEHOLDER = 150
MAX_MODAL_TITLE = 24  # also the modal's submit and close buttons
MAX_PRIVATE_METADATA = 3000
MAX_MARKDOWN_BLOCK = 12000

PLAIN: tuple[str, ...] = ("plain_text",)
ANY_TEXT: tuple[str, ...] = ("plain_text", "mrkdwn")

_SELECTS = frozenset(
    f"{multi}{kind}_select"
    for multi in ("", "multi_")
    for kind in ("static", "external", "users", "conversations", "channels")
)
_INTERACTIVE = _SELECTS | {"button", "overflow", "datepicker", "timepicker", "checkboxes", "radio_buttons"}
_INPUTS = frozenset({"plain_text_input", "email_text_input", "number_input", "url_text_input"})
SECTION_ACCESSORIES = _INTERACTIVE | {"image"}
ACTIONS_ELEMENTS = _INTERACTIVE | {"datetimepicker"}
INPUT_ELEMENTS = (_INTERACTIVE - {"button", "overflow"}) | _INPUTS | {"datetimepicker"}


def validate_blocks(blocks: Any, *, surface: Surface = "message", pointer: str = "/blocks") -> list[str]:
    """Problems Slack would report for `blocks` on `surface`; an empty list means they are accepted."""
    check = _Checker()
    check.blocks(blocks, pointer, surface)
    return check.errors


def validate_view(view: Any, *, pointer: str = "/view") -> list[str]:
    """Problems Slack would report for a modal or home-tab view; an empty list means it is accepted."""
    check = _Checker()
    check.view(view, pointer)
    return check.errors


class _Checker:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def fail(self, pointer: str, message: str) -> None:
        self.errors.append(f"{message} [json-pointer:{pointer}]")

    # --- JSON shapes -------------------------------------------------------------------------------

    def is_object(self, value: Any, ptr: str) -> bool:
        if isinstance(value, Mapping):
            return True
        self.fail(ptr, "must provide an object")
        return False

    def string(
        self, parent: Mapping[str, Any], key: str, ptr: str, *, limit: int, required: bool = False
    ) -> None:
        value = parent.get(key)
        if value is None:
            if required:
                self.fail(ptr, f"missing required field: {key}")
            return
        here = f"{ptr}/{key}"
        if not isinstance(value, str):
            self.fail(here, "must be a string")
        elif not value:
            self.fail(here, "must be more than 0 characters")
        elif len(value) > limit:
            self.fail(here, f"must be less than {limit + 1} characters")

    def array(
        self,
        parent: Mapping[str, Any],
        key: str,
        ptr: str,
        *,
        most: int | None,
        least: int = 1,
        required: bool = True,
    ) -> list[Any]:
        value = parent.get(key)
        if value is None:
            if required:
                self.fail(ptr, f"missing required field: {key}")
            return []
        here = f"{ptr}/{key}"
        if not isinstance(value, list):
            self.fail(here, "must be an array")
            return []
        if len(value) < least:
            self.fail(here, f"must provide at least {least} items")
        if most is not None and len(value) > most:
            self.fail(here, f"no more than {most} items allowed")
        return value

    def enum(self, parent: Mapping[str, Any], key: str, ptr: str, allowed: tuple[str, ...]) -> None:
        value = parent.get(key)
        if value is not None and value not in allowed:
            self.fail(f"{ptr}/{key}", f"must be one of: {', '.join(allowed)}")

    def text(
        self,
        parent: Mapping[str, Any],
        key: str,
        ptr: str,
        *,
        limit: int,
        kinds: tuple[str, ...] = ANY_TEXT,
        required: bool = True,
    ) -> None:
        value = parent.get(key)
        if value is None:
            if required:
                self.fail(ptr, f"missing required field: {key}")
            return
        self.text_object(value, f"{ptr}/{key}", limit=limit, kinds=kinds)

    def text_object(self, value: Any, ptr: str, *, limit: int, kinds: tuple[str, ...] = ANY_TEXT) -> None:
        if not self.is_object(value, ptr):
            return
        if value.get("type") not in kinds:
            self.fail(f"{ptr}/type", f"must be one of: {', '.join(kinds)}")
        self.string(value, "text", ptr, limit=limit, required=True)

    # --- blocks ------------------------------------------------------------------------------------

    def blocks(self, blocks: Any, ptr: str, surface: Surface) -> None:
        if not isinstance(blocks, list):
            self.fail(ptr, "must be an array")
            return
        if len(blocks) > MAX_BLOCKS[surface]:
            self.fail(ptr, f"no more than {MAX_BLOCKS[surface]} items allowed")
        seen: set[str] = set()
        for index, block in enumerate(blocks):
            here = f"{ptr}/{index}"
            if not self.is_object(block, here):
                continue
            block_id = block.get("block_id")
            self.string(block, "block_id", here, limit=MAX_ID)
            if isinstance(block_id, str) and block_id in seen:
                self.fail(f"{here}/block_id", f"duplicate block_id: {block_id}")
            if isinstance(block_id, str):
                seen.add(block_id)
            kind = block.get("type")
            rule = _BLOCKS.get(kind) if isinstance(kind, str) else None
            if rule is None or surface not in rule[0]:
                self.fail(f"{here}/type", f"unsupported type: {kind}")
                continue
            if rule[1] is not None:
                rule[1](self, block, here)

    def section(self, block: Mapping[str, Any], ptr: str) -> None:
        if block.get("text") is None and block.get("fields") is None:
            self.fail(ptr, "must define either `text` or `fields`")
        self.text(block, "text", ptr, limit=MAX_SECTION_TEXT, required=False)
        fields = self.array(block, "fields", ptr, most=MAX_FIELDS, required=False)
        for index, field in enumerate(fields):
            self.text_object(field, f"{ptr}/fields/{index}", limit=MAX_FIELD_TEXT)
        accessory = block.get("accessory")
        if accessory is not None:
            self.element(accessory, f"{ptr}/accessory", SECTION_ACCESSORIES)

    def header(self, block: Mapping[str, Any], ptr: str) -> None:
        self.text(block, "text", ptr, limit=MAX_HEADER_TEXT, kinds=PLAIN)

    def context(self, block: Mapping[str, Any], ptr: str) -> None:
        elements = self.array(block, "elements", ptr, most=MAX_CONTEXT_ELEMENTS)
        for index, element in enumerate(elements):
            here = f"{ptr}/elements/{index}"
            if not self.is_object(element, here):
                continue
            if element.get("type") == "image":
                self.image(element, here)
            else:
                self.text_object(element, here, limit=MAX_SECTION_TEXT)

    def actions(self, block: Mapping[str, Any], ptr: str) -> None:
        elements = self.array(block, "elements", ptr, most=MAX_ACTIONS_ELEMENTS)
        action_ids: set[str] = set()
        for index, element in enumerate(elements):
            here = f"{ptr}/elements/{index}"
            self.element(element, here, ACTIONS_ELEMENTS)
            action_id = element.get("action_id") if isinstance(element, Mapping) else None
            # Slack matches a click to its element by action_id, so it must be unique within the block.
            if isinstance(action_id, str) and action_id in action_ids:
                self.fail(f"{here}/action_id", f"duplicate action_id: {action_id}")
            if isinstance(action_id, str):
                action_ids.add(action_id)

    def image_block(self, block: Mapping[str, Any], ptr: str) -> None:
        self.image(block, ptr)
        self.text(block, "title", ptr, limit=2000, kinds=PLAIN, required=False)

    def input(self, block: Mapping[str, Any], ptr: str) -> None:
        self.text(block, "label", ptr, limit=2000, kinds=PLAIN)
        self.text(block, "hint", ptr, limit=2000, kinds=PLAIN, required=False)
        if block.get("element") is None:
            self.fail(ptr, "missing required field: element")
        else:
            self.element(block["element"], f"{ptr}/element", INPUT_ELEMENTS)

    def markdown(self, block: Mapping[str, Any], ptr: str) -> None:
        self.string(block, "text", ptr, limit=MAX_MARKDOWN_BLOCK, required=True)

    def rich_text(self, block: Mapping[str, Any], ptr: str) -> None:
        kinds = ("rich_text_section", "rich_text_list", "rich_text_preformatted", "rich_text_quote")
        for index, element in enumerate(self.array(block, "elements", ptr, most=None)):
            here = f"{ptr}/elements/{index}"
            if self.is_object(element, here) and element.get("type") not in kinds:
                self.fail(f"{here}/type", f"unsupported type: {element.get('type')}")

    # --- elements ----------------------------------------------------------------------------------

    def element(self, element: Any, ptr: str, allowed: frozenset[str]) -> None:
        if not self.is_object(element, ptr):
            return
        kind = element.get("type")
        if kind not in allowed:
            self.fail(f"{ptr}/type", f"unsupported type: {kind}")
            return
        self.string(element, "action_id", ptr, limit=MAX_ID)
        self.text(element, "placeholder", ptr, limit=MAX_PLACEHOLDER, kinds=PLAIN, required=False)
        self.confirm(element, ptr)
        if kind == "button":
            self.button(element, ptr)
        elif kind == "image":
            self.image(element, ptr)
        elif kind == "overflow":
            self.options(element, ptr, most=5, with_url=True)
        elif kind in ("checkboxes", "radio_buttons"):
            self.options(element, ptr, most=10, kinds=ANY_TEXT)
        elif kind in ("static_select", "multi_static_select"):
            self.static_select(element, ptr)

    def button(self, element: Mapping[str, Any], ptr: str) -> None:
        self.text(element, "text", ptr, limit=MAX_BUTTON_TEXT, kinds=PLAIN)
        self.string(element, "value", ptr, limit=MAX_BUTTON_VALUE)
        self.string(element, "url", ptr, limit=MAX_URL)
        self.string(element, "accessibility_label", ptr, limit=MAX_BUTTON_TEXT)
        self.enum(element, "style", ptr, ("primary", "danger"))

    def image(self, element: Mapping[str, Any], ptr: str) -> None:
        if element.get("image_url") is None and element.get("slack_file") is None:
            self.fail(ptr, "missing required field: image_url")
        self.string(element, "image_url", ptr, limit=MAX_URL)
        self.string(element, "alt_text", ptr, limit=2000, required=True)

    def static_select(self, element: Mapping[str, Any], ptr: str) -> None:
        if element.get("option_groups") is None:
            self.options(element, ptr, most=100)
            return
        for index, group in enumerate(self.array(element, "option_groups", ptr, most=100)):
            here = f"{ptr}/option_groups/{index}"
            if self.is_object(group, here):
                self.text(group, "label", here, limit=MAX_OPTION_TEXT, kinds=PLAIN)
                self.options(group, here, most=100)

    def options(
        self,
        parent: Mapping[str, Any],
        ptr: str,
        *,
        most: int,
        kinds: tuple[str, ...] = PLAIN,
        with_url: bool = False,
    ) -> None:
        for index, option in enumerate(self.array(parent, "options", ptr, most=most)):
            here = f"{ptr}/options/{index}"
            if not self.is_object(option, here):
                continue
            # mrkdwn options exist only in checkboxes and radio buttons; select menus need plain_text.
            self.text(option, "text", here, limit=MAX_OPTION_TEXT, kinds=kinds)
            self.text(option, "description", here, limit=MAX_OPTION_TEXT, kinds=kinds, required=False)
            self.string(option, "value", here, limit=MAX_OPTION_VALUE, required=True)
            if with_url:
                self.string(option, "url", here, limit=MAX_URL)

    def confirm(self, element: Mapping[str, Any], ptr: str) -> None:
        dialog = element.get("confirm")
        here = f"{ptr}/confirm"
        if dialog is None or not self.is_object(dialog, here):
            return
        self.text(dialog, "title", here, limit=100, kinds=PLAIN)
        self.text(dialog, "text", here, limit=300)
        self.text(dialog, "confirm", here, limit=30, kinds=PLAIN)
        self.text(dialog, "deny", here, limit=30, kinds=PLAIN)
        self.enum(dialog, "style", here, ("primary", "danger"))

    # --- views -------------------------------------------------------------------------------------

    def view(self, view: Any, ptr: str) -> None:
        if not self.is_object(view, ptr):
            return
        kind = view.get("type")
        if kind not in ("modal", "home"):
            self.fail(f"{ptr}/type", "must be one of: modal, home")
            return
        self.string(view, "private_metadata", ptr, limit=MAX_PRIVATE_METADATA)
        self.string(view, "callback_id", ptr, limit=MAX_ID)
        self.string(view, "external_id", ptr, limit=MAX_ID)
        if view.get("blocks") is None:
            self.fail(ptr, "missing required field: blocks")
        else:
            self.blocks(view["blocks"], f"{ptr}/blocks", kind)
        if kind == "modal":
            self.text(view, "title", ptr, limit=MAX_MODAL_TITLE, kinds=PLAIN)
            self.text(view, "close", ptr, limit=MAX_MODAL_TITLE, kinds=PLAIN, required=False)
            self.text(view, "submit", ptr, limit=MAX_MODAL_TITLE, kinds=PLAIN, required=False)
            blocks = view.get("blocks")
            has_input = isinstance(blocks, list) and any(
                isinstance(b, Mapping) and b.get("type") == "input" for b in blocks
            )
            # Slack refuses a modal with inputs but no way to submit them.
            if has_input and view.get("submit") is None:
                self.fail(ptr, "missing required field: submit")


_ALL: frozenset[Surface] = frozenset({"message", "modal", "home"})
# type -> (surfaces it may appear on, the check of its own fields; None when it has none).
_BLOCKS: Mapping[
    str, tuple[frozenset[Surface], Callable[[_Checker, Mapping[str, Any], str], None] | None]
] = {
    "section": (_ALL, _Checker.section),
    "header": (_ALL, _Checker.header),
    "divider": (_ALL, None),
    "context": (_ALL, _Checker.context),
    "actions": (_ALL, _Checker.actions),
    "image": (_ALL, _Checker.image_block),
    "input": (_ALL, _Checker.input),
    "rich_text": (_ALL, _Checker.rich_text),
    # The markdown block is for messages from apps only.
    "markdown": (frozenset({"message"}), _Checker.markdown),
}
