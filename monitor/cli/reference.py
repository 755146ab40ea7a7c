"""The CLI reference (docs/cli.md), generated from the commands themselves so it never drifts.

``python -m monitor.cli.reference > docs/cli.md`` writes it; a test checks it is current.
"""

from __future__ import annotations

from typing import Any

import typer.main


def _lines(command: Any, path: str) -> list[str]:
    out = [f"## `{path}`", ""]
    help_text = (command.help or "").strip()
    if help_text:
        out += [help_text.splitlines()[0], ""]
    params = [p for p in command.params if p.name not in ("help",)]
    if params:
        out += ["| option | help |", "|---|---|"]
        for p in params:
            argument = getattr(p, "param_type_name", "") == "argument"
            if argument:
                name = f"`{(p.name or '').upper()}`"
            else:
                name = ", ".join(f"`{o}`" for o in (*p.opts, *p.secondary_opts))
            help_ = (getattr(p, "help", "") or "").replace("|", "\\|").replace("\n", " ")
            default = getattr(p, "default", None)
            if default not in (None, False, ()) and not callable(default) and not argument:
                help_ += f" (default: {default})"
            out.append(f"| {name} | {help_} |")
        out.append("")
    if hasattr(command, "commands"):
        for name in sorted(command.commands):
            sub = command.commands[name]
            if getattr(sub, "hidden", False):
                continue
            out += _lines(sub, f"{path} {name}")
    return out


def reference() -> str:
    from monitor.cli import app  # noqa: PLC0415

    command = typer.main.get_command(app)
    header = [
        "# CLI reference",
        "",
        "Generated from the commands (`python -m monitor.cli.reference > docs/cli.md`); "
        "a test keeps it current. `parkmon COMMAND --help` says the same.",
        "",
    ]
    return "\n".join(header + _lines(command, "parkmon")) + "\n"


if __name__ == "__main__":
    import sys

    sys.stdout.write(reference())
