"""A headless Neovim that starts `chargen-tui lsp` as its language server, types, asks it for the
ghost and the completions, accepts the ghost and saves: what a writer does, by the editor's own
LSP client. `vim.lsp.start` where Neovim has it (0.8+); Debian 12's Neovim 0.7 has only
`vim.lsp.start_client`. Both send any request by name."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = r"""
local results_path, doc, typed = os.getenv("CHARGEN_RESULTS"), os.getenv("CHARGEN_DOC"), os.getenv("CHARGEN_TYPED")
local results = {}
local function finish(problem)
  results.problem = problem
  local file = io.open(results_path, "w")
  file:write(vim.fn.json_encode(results))
  file:close()
  vim.cmd("qall!")
end

vim.cmd("edit " .. vim.fn.fnameescape(doc))
local config = {name = "chargen-tui", cmd = {os.getenv("CHARGEN_PYTHON"), "-m", "chargen_tui", "lsp"},
                root_dir = vim.fn.fnamemodify(doc, ":h"), init_options = {adapting = false}}
local id
if vim.lsp.start then
  id = vim.lsp.start(config)
else
  id = vim.lsp.start_client(config)
  vim.lsp.buf_attach_client(0, id)
end
if not vim.wait(20000, function() local c = vim.lsp.get_client_by_id(id); return c and c.initialized end, 50) then
  return finish("the server did not initialize")
end

vim.api.nvim_feedkeys("i" .. typed, "xt", false)  -- typed in insert mode, one key at a time
local here = {textDocument = {uri = vim.uri_from_bufnr(0)}, position = {line = 0, character = #typed}}

local function ask(method, params)
  local answers = vim.lsp.buf_request_sync(0, method, params, 5000) or {}
  for _, answer in pairs(answers) do
    if answer.result ~= nil and answer.result ~= vim.NIL then return answer.result end
  end
end

local inline
for _ = 1, 300 do  -- until the model has loaded
  inline = ask("textDocument/inlineCompletion", vim.tbl_extend("force", here, {context = {triggerKind = 2}}))
  if inline and #inline.items > 0 then break end
  vim.wait(100)
end
if not inline or #inline.items == 0 then return finish("no inline completion") end
results.inline = inline.items[1].insertText

results.completions = {}
for _, item in ipairs((ask("textDocument/completion", here) or {}).items or {}) do
  table.insert(results.completions, item.label)
end

-- accept the ghost as a client does: insert its text at the place it names, then save
vim.lsp.util.apply_text_edits({{range = inline.items[1].range, newText = results.inline}}, 0, "utf-16")
vim.cmd("write")
finish(nil)
"""


def run_neovim(tmp_path: Path, document: Path, typed: str) -> dict:
    """What Neovim got from the server (inline: the ghost; completions: their labels), after typing
    `typed` into `document`, accepting the ghost and saving."""
    script, results = tmp_path / "editor.lua", tmp_path / "results.json"
    script.write_text(SCRIPT, encoding="utf-8")
    env = {**os.environ, "CHARGEN_RESULTS": str(results), "CHARGEN_DOC": str(document), "CHARGEN_TYPED": typed,
           "CHARGEN_PYTHON": sys.executable, "XDG_DATA_HOME": str(tmp_path / "data"),
           "XDG_CACHE_HOME": str(tmp_path / "cache"), "XDG_STATE_HOME": str(tmp_path / "state"),
           "XDG_CONFIG_HOME": str(tmp_path / "config")}
    done = subprocess.run(["nvim", "--headless", "-n", "-i", "NONE", "-u", "NONE", "-c", f"luafile {script}"],
                          env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert results.exists(), f"Neovim wrote no results (exit {done.returncode}): {done.stderr[-2000:]}"
    found = json.loads(results.read_text(encoding="utf-8"))
    assert not found.get("problem"), found["problem"]
    return found
