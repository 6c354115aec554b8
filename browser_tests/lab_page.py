"""What a student does in a JupyterLab page, as Playwright steps (used by every browser test)."""
from __future__ import annotations

import re

ERROR = re.compile(r"\b\w+(Error|Exception)\b")


def wait_for_kernel(page) -> None:
    """The kernel has started and is idle, as the status bar says (a restart asked for
    before that races the kernel's start-up in jupyter_server)."""
    page.wait_for_function(
        """() => document.querySelector(".jp-Notebook-ExecutionIndicator")?.dataset.status === 'idle'
               && /\\|\\s*Idle/.test(document.querySelector('#jp-main-statusbar')?.textContent || '')""",
        timeout=90_000)


def menu(page, menu: str, item: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{menu}$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{re.escape(item)}")).first.click()


def wait_until_run(page, seconds: int = 240) -> None:
    """Every queued cell has run (no [*] prompt) and the kernel is idle."""
    page.wait_for_timeout(1000)
    page.wait_for_function(
        """() => ![...document.querySelectorAll('.jp-Notebook .jp-InputPrompt')].some(e => e.textContent.includes('*'))""",
        timeout=seconds * 1000)
    wait_for_kernel(page)


def run_all(page) -> None:
    menu(page, "Run", "Run All Cells")
    wait_until_run(page)


def restart_and_run_all(page) -> None:
    menu(page, "Kernel", "Restart Kernel and Run All Cells")
    page.locator(".jp-Dialog button", has_text=re.compile("^(Restart|Confirm Kernel Restart)$")).click()
    wait_until_run(page)


def errors(cells) -> dict[int, str]:
    """Cells showing an error: index -> the error's first line."""
    found = {}
    for i in range(cells.count()):
        for text in cells.nth(i).locator(
                ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").all_inner_texts():
            match = ERROR.search(text)
            if match:
                found[i] = text.strip().splitlines()[-1][:200] if text.strip() else match.group(0)
    return found


def validate(page) -> str:
    """Click nbgrader's Validate button; returns 'success' or 'failed' and closes the dialog."""
    page.locator(".validate-button").click()
    dialog = page.locator(".jp-Dialog", has_text="Validation Results")
    dialog.wait_for(timeout=240_000)
    outcome = "success" if dialog.locator(".validation-success").count() else (
        "failed" if dialog.locator(".validation-failed").count() else dialog.inner_text()[:300])
    return outcome


def type_into(page, cell, code: str) -> None:
    editor = cell.locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(code)
    page.keyboard.press("Escape")


def editor_text(cell) -> str:
    return cell.locator(".cm-content").evaluate("el => el.cmView.view.state.doc.toString()")
