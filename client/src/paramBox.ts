// The parameter box of *Simulate insmod*. VS Code's InputBox cannot offer completions, so this
// is a QuickPick whose value is the typed parameter string and whose items are the server's
// completions (kmodsim/paramCompletions) for the word at the end of it. The first item is
// always the typed string itself: Enter loads with it; choosing a completion (arrow keys,
// then Enter) puts it into the string and keeps the box open.

import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import {
  PARAM_COMPLETIONS, type ParamCompletionItem, type ParamCompletionsParams,
} from '../../server/src/lsp/protocol.js';
import { insertCompletion } from './paramText.js';

interface Item extends vscode.QuickPickItem { completion?: ParamCompletionItem }

function loadItem(text: string): Item {
  return { label: text === '' ? '(no parameters)' : text, alwaysShow: true,
    description: 'Enter: load with these parameters' };
}

function completionItem(c: ParamCompletionItem): Item {
  return { label: c.label, description: c.detail, detail: c.documentation, alwaysShow: true,
    completion: c };
}

export async function askParams(client: LanguageClient, file: string,
  initial = ''): Promise<string | undefined> {
  const box = vscode.window.createQuickPick<Item>();
  box.title = 'kmodsim: module parameters';
  box.placeholder = 'name=value ... (empty: none)';
  box.ignoreFocusOut = true;
  box.value = initial;
  box.items = [loadItem(initial)];

  // Answers can arrive out of order while the user types: only the newest one is shown.
  let asked = 0;
  const refresh = async (): Promise<void> => {
    const mine = ++asked;
    const text = box.value;
    box.busy = true;
    let found: ParamCompletionItem[] = [];
    try {
      const p: ParamCompletionsParams = { file, text, offset: text.length };
      found = await client.sendRequest<ParamCompletionItem[]>(PARAM_COMPLETIONS, p);
    } catch (e) {
      client.warn(`kmodsim/paramCompletions: ${(e as Error).message}`, undefined, false);
    }
    if (mine !== asked) return;
    box.busy = false;
    box.items = [loadItem(text), ...found.map(completionItem)];
  };

  return new Promise<string | undefined>((resolve) => {
    box.onDidChangeValue(() => {
      box.items = [loadItem(box.value), ...box.items.slice(1)];
      void refresh();
    });
    box.onDidAccept(() => {
      const chosen = box.selectedItems[0] ?? box.activeItems[0];
      if (chosen?.completion) {
        box.value = insertCompletion(box.value, chosen.completion.label);
        void refresh();
        return;
      }
      resolve(box.value.trim());
      box.hide();
    });
    box.onDidHide(() => {
      resolve(undefined);
      box.dispose();
    });
    box.show();
    void refresh();
  });
}
