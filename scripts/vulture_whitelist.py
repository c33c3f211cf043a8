"""Names vulture takes for dead code but a framework uses: read by vulture only, never imported.

    .venv/bin/vulture mochung scripts/vulture_whitelist.py --min-confidence 80

Each entry is a parameter that must keep its name because the caller passes it by keyword
(or the signature is an interface): deleting or renaming it would break the call.
"""

from typing import Any

_: Any = None

USED_BY_FRAMEWORKS = (
    _.db_info,  # tortoise calls the engine module's get_client_class(db_info) (adapters/sqlite_engine.py)
    _.run_manager,  # LangChain's BaseChatModel calls _generate/_agenerate/_stream/_astream with run_manager=
    _.prompts,  # LangChain calls a callback handler's on_llm_start(serialized, prompts, ...) (agents/usage.py)
    _.input_str,  # ... and on_tool_start(serialized, input_str, ...)
    _.tool_choice,  # BaseChatModel.bind_tools(tools, *, tool_choice=...): the offline model ignores it
    # the output tools' arguments are the schema the model sees; each tool reads them
    # through locals() (agents/tools/output.py `_props`)
    _.groom_name,
    _.bride_name,
    _.main_photo,
    _.groom_parents,
    _.bride_parents,
    _.wedding_date,
    _.wedding_time,
    _.wedding_date_text,
    _.place_name,
    _.map_url,
)
