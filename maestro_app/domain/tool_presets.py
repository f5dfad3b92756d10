"""The six tool-set presets seeded at first start (docs/TOOL_SETS.md explains them).

Tool names are what IDE agents send as `tools[].function.name`: Claude Code, Cursor,
Continue, Cline and Roo Code, Codex and opencode. Names are matched case-insensitively, so
`read` (opencode) and `Read` (Claude Code) are one entry. A preset lists capabilities by
family; `full` is no list at all (every tool, MCP tools included).

    minimal   read + list + conversation control
    readonly  minimal + search + diagnostics + web (nothing that writes or runs)
    basic     minimal + search + edit
    standard  basic + terminal + diagnostics
    extended  standard + web + MCP + browser + sub-agents and notebooks
    full      every tool
"""

from __future__ import annotations

from collections.abc import Sequence

READ = (
    "Read", "NotebookRead", "read_file", "read_file_range", "read_currently_open_file", "view_image",
)  # fmt: skip
LIST = (
    "LS", "list", "list_dir", "list_files", "view_subdirectory", "view_repo_map", "list_code_definition_names",
)  # fmt: skip
SEARCH = (
    "Glob", "Grep", "codebase_search", "grep_search", "file_search", "glob_file_search",
    "search_files", "file_glob_search", "codebase", "exact_search",
)  # fmt: skip
EDIT = (
    "Write", "Edit", "MultiEdit", "edit_file", "search_replace", "apply_patch", "delete_file",
    "reapply", "create_new_file", "edit_existing_file", "single_find_and_replace", "multi_edit",
    "write_to_file", "replace_in_file", "apply_diff", "insert_content", "search_and_replace", "patch",
)  # fmt: skip
TERMINAL = (
    "Bash", "BashOutput", "KillShell", "KillBash", "run_terminal_cmd", "run_terminal_command",
    "execute_command", "shell", "exec_command", "local_shell",
)  # fmt: skip
CONTROL = (
    "TodoWrite", "todoread", "ExitPlanMode", "todo_write", "update_plan", "update_todo_list",
    "ask_followup_question", "attempt_completion", "plan_mode_respond",
)  # fmt: skip
DIAGNOSTICS = ("read_lints", "view_diff", "get_problems")
WEB = ("WebFetch", "WebSearch", "web_search", "web_fetch", "search_web", "fetch_url_content")
MCP = ("use_mcp_tool", "access_mcp_resource", "load_mcp_documentation")
BROWSER = ("browser_action",)
AGENTS = (
    "Task", "new_task", "switch_mode", "NotebookEdit", "edit_notebook", "create_diagram",
    "update_memory", "fetch_pull_request", "create_rule_block", "request_rule", "fetch_instructions",
    "SlashCommand",
)  # fmt: skip


def _union(*families: Sequence[str]) -> list[str]:
    seen: dict[str, str] = {}
    for family in families:
        for name in family:
            seen.setdefault(name.lower(), name)
    return list(seen.values())


MINIMAL = _union(READ, LIST, CONTROL)
READONLY = _union(MINIMAL, SEARCH, DIAGNOSTICS, WEB)
BASIC = _union(MINIMAL, SEARCH, EDIT)
STANDARD = _union(BASIC, TERMINAL, DIAGNOSTICS)
EXTENDED = _union(STANDARD, WEB, MCP, BROWSER, AGENTS)

# name -> (tools or None for every tool, description)
PRESETS: dict[str, tuple[list[str] | None, str]] = {
    "full": (None, "Every tool the client sends, MCP and custom tools included"),
    "extended": (EXTENDED, "standard + web search/fetch, MCP, browser, sub-agents, notebooks"),
    "standard": (STANDARD, "basic + terminal commands and diagnostics: the usual agent loop"),
    "basic": (BASIC, "Read, list, search and edit files; no terminal"),
    "minimal": (MINIMAL, "Read files and list directories, plus conversation control"),
    "readonly": (READONLY, "Read, list, search, diagnostics and the web; nothing that writes or runs"),
}
