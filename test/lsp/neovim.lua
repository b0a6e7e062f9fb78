-- Drives the kmodsim server from a headless Neovim (0.7+) with nothing but its built-in LSP
-- client: opens a modprobe.d file, waits for the server's diagnostics, asks for a completion
-- and a hover, and writes what it got as JSON to $KMODSIM_OUT. Run by neovim.test.ts.

local server, root, file, out = os.getenv('KMODSIM_SERVER'), os.getenv('KMODSIM_ROOT'),
  os.getenv('KMODSIM_FILE'), os.getenv('KMODSIM_OUT')
local published = {}

local default_publish = vim.lsp.handlers['textDocument/publishDiagnostics']
local function on_publish(err, result, ctx, config)
  local messages = {}
  for _, d in ipairs(result.diagnostics) do
    table.insert(messages, { line = d.range.start.line, message = d.message,
      severity = d.severity })
  end
  published[result.uri] = messages
  if vim.startswith(result.uri, 'file:') then
    return default_publish(err, result, ctx, config)
  end
end

local id = vim.lsp.start_client({
  name = 'kmodsim',
  cmd = { 'node', server, '--stdio' },
  root_dir = root,
  workspace_folders = { { uri = vim.uri_from_fname(root), name = 'ws' } },
  init_options = { debounceMs = 50 },
  settings = { kmodsim = { kernel = '' } },
  handlers = { ['textDocument/publishDiagnostics'] = on_publish },
})

vim.cmd('edit ' .. vim.fn.fnameescape(file))
local buf = vim.api.nvim_get_current_buf()
vim.lsp.buf_attach_client(buf, id)
local uri = vim.uri_from_bufnr(buf)

local got = vim.wait(30000, function() return published[uri] ~= nil end, 50)
local client = vim.lsp.get_client_by_id(id)
local result = { diagnostics_arrived = got, published = published }

if client then
  -- Once the first scan is done, the server has re-published the open document's
  -- diagnostics with every workspace module known (the notification precedes the answer).
  client.request_sync('kmodsim/modules', { wait = true }, 30000, buf)
  local pos = { textDocument = { uri = uri }, position = { line = 1, character = 14 } }
  local completion = client.request_sync('textDocument/completion', pos, 10000, buf)
  local labels = {}
  local items = completion and completion.result or {}
  if items.items then items = items.items end
  for _, item in ipairs(items) do table.insert(labels, item.label .. '|' .. (item.detail or '')) end
  result.completion = labels

  pos.position = { line = 0, character = 16 }
  local hover = client.request_sync('textDocument/hover', pos, 10000, buf)
  result.hover = hover and hover.result and hover.result.contents.value or vim.NIL
  client.stop()
end

local f = io.open(out, 'w')
f:write(vim.fn.json_encode(result))
f:close()
vim.cmd('qa!')
