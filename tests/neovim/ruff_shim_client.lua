-- Headless Neovim as a real LSP client of `ruff-shim server` (driven by tests/test_neovim.py).
--
--   nvim --headless --clean -u ruff_shim_client.lua FILE.py
--
-- Works on Debian's Neovim 0.7.2, which has no vim.lsp.start: vim.lsp.start_client +
-- vim.lsp.buf_attach_client. Inputs come from the environment:
--   LSP_SHIM_TEST_CMD   absolute path of ruff-shim
--   LSP_SHIM_TEST_ROOT  workspace folder
--   LSP_SHIM_TEST_OUT   file this script writes its findings to, one "key=value" per line;
--                       OUT.ready is created once diagnostics arrived, and the script waits for
--                       the test to create OUT.go before it stops the client
-- Exit status: 0 when diagnostics arrived and the client stopped, 1 otherwise.

-- No provider probing (python3's spawns interpreters): only the LSP processes should run.
for _, provider in ipairs({ "python3", "node", "perl", "ruby" }) do
  vim.g["loaded_" .. provider .. "_provider"] = 0
end

local cmd = os.getenv("LSP_SHIM_TEST_CMD")
local root = os.getenv("LSP_SHIM_TEST_ROOT")
local out_path = os.getenv("LSP_SHIM_TEST_OUT")
local lines = {}

local function note(key, value)
  table.insert(lines, key .. "=" .. tostring(value))
end

local function finish(ok)
  local f = assert(io.open(out_path, "w"))
  f:write(table.concat(lines, "\n") .. "\n")
  f:close()
  if ok then
    vim.cmd("qall!")
  else
    vim.cmd("cquit 1")
  end
end

local function main()
  local bufnr = vim.api.nvim_get_current_buf()
  note("file", vim.api.nvim_buf_get_name(bufnr))
  local client_id = vim.lsp.start_client({
    name = "ruff-shim",
    cmd = { cmd, "server" },
    root_dir = root,
    workspace_folders = { { uri = vim.uri_from_fname(root), name = "proj" } },
    on_init = function(_, result)
      -- 0.7 keeps no server_info on the client: take it from the initialize result.
      note("server_name", result.serverInfo and result.serverInfo.name or "?")
    end,
    on_exit = function(code, signal)
      note("server_exit", code)
      note("server_signal", signal)
    end,
  })
  if not client_id then
    note("error", "start_client returned nil")
    return finish(false)
  end
  vim.lsp.buf_attach_client(bufnr, client_id)

  -- ruff publishes diagnostics (push) to a client that does not declare pull support.
  local got = vim.wait(60000, function()
    return #vim.diagnostic.get(bufnr) > 0
  end, 20)
  note("diagnostics_received", got)
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    local message = d.message:gsub("%s+", " ")
    note("diagnostic", string.format("%s|%d|%s", tostring(d.code), d.lnum, message))
  end

  -- Handshake: the test looks at the live process tree (shim + server copy), then says go.
  local ready = assert(io.open(out_path .. ".ready", "w"))
  ready:close()
  local go = vim.wait(20000, function()
    return vim.loop.fs_stat(out_path .. ".go") ~= nil
  end, 10)
  note("go", go)

  local client = vim.lsp.get_client_by_id(client_id)
  if client == nil then
    note("error", "client vanished before stop")
    return finish(false)
  end
  client.stop() -- shutdown request, then exit notification
  local stopped = vim.wait(10000, function()
    return client.is_stopped()
  end, 20)
  note("stopped", stopped)
  -- Give on_exit (scheduled) a moment to record the server's exit status.
  vim.wait(2000, function()
    for _, l in ipairs(lines) do
      if l:find("^server_exit=") then
        return true
      end
    end
    return false
  end, 20)
  finish(got and stopped)
end

-- -u runs before the file on the command line is loaded: start once the buffer exists.
vim.api.nvim_create_autocmd("VimEnter", {
  once = true,
  callback = function()
    local ok, err = pcall(main)
    if not ok then
      note("error", err)
      finish(false)
    end
  end,
})
