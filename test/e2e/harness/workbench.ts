/// <reference lib="dom" />
// Drives the workbench in headless Chromium the way a person does: clicks, context menus, input
// boxes, quick picks. Never calls into VS Code's internals.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Frame, type Locator, type Page } from 'playwright-core';
import { requireTool } from '../../helpers/tools.js';
import { ROOT, type CodeServer } from './codeServer.js';

const SCREENSHOTS = join(ROOT, 'test', 'e2e', 'screenshots');
const TIMEOUT = 30_000;

export class Workbench {
  private step = 0;

  private constructor(
    private readonly browser: Browser,
    private readonly context: BrowserContext,
    readonly page: Page,
    private readonly name: string,
    private readonly server: CodeServer,
  ) {}

  /** A fresh browser profile (so an empty SecretStorage) on the server's workbench. */
  static async open(server: CodeServer, name: string): Promise<Workbench> {
    const browser = await chromium.launch({
      executablePath: requireTool('chromium', 'run test/e2e/setup.sh (apt-get install chromium)'),
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(server.url).origin });
    const page = await context.newPage();
    page.setDefaultTimeout(TIMEOUT);
    await page.goto(server.url);
    await page.waitForSelector('.monaco-workbench', { timeout: 90_000 });
    const bench = new Workbench(browser, context, page, name, server);
    await bench.showView();
    return bench;
  }

  /**
   * Collapses the other Explorer sections and expands "Lazy Images", so the tree has room; the
   * view opening is what activates the extension. A click lost while the workbench is still
   * laying itself out is repeated.
   */
  async showView(): Promise<void> {
    const header = this.page.locator('.pane-header', { hasText: 'Lazy Images' });
    await header.waitFor();
    // One at a time: each click changes which headers are expanded.
    const others = this.page.locator('.pane-header[aria-expanded="true"]').filter({ hasNotText: 'Lazy Images' });
    while (await others.count()) await others.first().click();
    const deadline = Date.now() + TIMEOUT;
    for (let clicked = 0; (await header.getAttribute('aria-expanded')) !== 'true';) {
      if (Date.now() > deadline) throw new Error(`the Lazy Images view never opened\n${await this.diagnosis()}`);
      if (Date.now() - clicked > 2000) {
        await header.click();
        clicked = Date.now();
      }
      await this.page.waitForTimeout(200);
    }
  }

  async screenshot(what: string): Promise<string> {
    await mkdir(SCREENSHOTS, { recursive: true });
    const path = join(SCREENSHOTS, `${this.name}-${String(++this.step).padStart(2, '0')}-${what.replace(/[^a-z0-9]+/gi, '-')}.png`);
    await this.page.screenshot({ path });
    return path;
  }

  /** The Lazy Images view's body. */
  view(): Locator {
    return this.page.locator('.pane', { has: this.page.locator('.pane-header', { hasText: 'Lazy Images' }) }).locator('.pane-body');
  }

  /** A row of the tree whose label (and description) matches; `expandable`: only rows that can expand. */
  row(label: string | RegExp, expandable = false): Locator {
    return this.view().locator(expandable ? '.monaco-list-row[aria-expanded]' : '.monaco-list-row').filter({ has: this.page.locator('.label-name', { hasText: labelPattern(label) }) }).first();
  }

  /** The codicon a row shows, e.g. `cloud-download` (VS Code renders ThemeIcons as `codicon-<id>`). */
  async rowIcon(label: string | RegExp): Promise<string> {
    const classes = await this.row(label).locator('.custom-view-tree-node-item-icon').first().getAttribute('class') ?? '';
    return /\bcodicon-([\w-]+)/.exec(classes)?.[1] ?? '';
  }

  async rowLabels(): Promise<string[]> {
    return this.view().locator('.monaco-list-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('aria-label') ?? ''));
  }

  /**
   * Polls the tree until its rendered rows' labels (with descriptions) satisfy `ok`; returns them.
   * `before` runs ahead of each look, e.g. to scroll the (virtualized) tree.
   */
  async waitForRows(ok: (labels: string[]) => boolean, before?: () => Promise<void>): Promise<string[]> {
    const deadline = Date.now() + TIMEOUT;
    for (;;) {
      await before?.();
      const labels = (await this.rowLabels()).map((l) => l.trim());
      if (ok(labels)) return labels;
      if (Date.now() > deadline) throw new Error(`the tree never reached the expected state\n${await this.diagnosis()}`);
      await this.page.waitForTimeout(200);
    }
  }

  /**
   * What the workbench shows, for a failure message: the tree's rows, the notifications, and the
   * tails of the extension's log and of the extension host's (where a crash or hang shows).
   */
  async diagnosis(): Promise<string> {
    const rows = await this.rowLabels().catch((e: Error) => [`(unreadable: ${e.message})`]);
    const toasts = await this.page.locator('.notifications-toasts .notification-toast').allTextContents().catch(() => []);
    const tail = (text: string): string => text.split('\n').slice(-25).join('\n');
    const hostLogs = (await this.server.files()).filter((f) => /exthost\.log$/.test(f));
    const host = (await Promise.all(hostLogs.map((f) => readFile(f, 'utf8').catch(() => '')))).join('\n');
    const expanded = await this.page.locator('.pane-header', { hasText: 'Lazy Images' }).getAttribute('aria-expanded', { timeout: 1000 }).catch(() => 'unknown');
    return [
      `tree (view expanded: ${expanded}):\n${rows.join('\n')}`,
      `notifications:\n${toasts.join('\n')}`,
      `Lazy Images log (tail):\n${tail(await this.server.extensionLog())}`,
      `extension host log (tail):\n${tail(host)}`,
    ].join('\n--\n');
  }

  /** The Explorer's folders section (workspace folders and their files), expanded if it was not. */
  async folders(): Promise<Locator> {
    // Its title is the workspace's name: "workspace" here, "Untitled (Workspace)" once it has two folders.
    const header = this.page.locator('.pane-header', { hasText: /workspace/i }).first();
    if ((await header.getAttribute('aria-expanded', { timeout: 5_000 })) !== 'true') await header.click({ timeout: 5_000 });
    return this.page.locator('.explorer-folders-view');
  }

  /** Labels of the Explorer's file rows, polled until `ok` holds; a row named `expand` is opened on the way. */
  async waitForFiles(ok: (labels: string[]) => boolean, expand?: string): Promise<string[]> {
    const deadline = Date.now() + TIMEOUT;
    for (let labels: string[] = []; ; await this.page.waitForTimeout(200)) {
      if (Date.now() > deadline) {
        const shot = await this.screenshot('files-never-shown').catch(() => '');
        throw new Error(`the Explorer never showed the expected files (${shot}):\n${labels.join('\n')}\n--\n${await this.diagnosis()}`);
      }
      try {
        const view = await this.folders();
        labels = (await view.locator('.monaco-list-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('aria-label') ?? ''))).map((l) => l.trim());
        if (ok(labels)) return labels;
        const row = expand ? view.locator(`.monaco-list-row[aria-label="${expand}"][aria-expanded="false"]`) : undefined;
        if (row && (await row.count())) await row.first().click();
      } catch (e) {
        // A folder added to a one-folder window makes it a workspace, which reloads the page.
        if (!/context was destroyed|navigation|Target closed|Timeout/i.test((e as Error).message)) throw e;
        await this.page.waitForSelector('.monaco-workbench', { timeout: 90_000 });
      }
    }
  }

  /**
   * Expands a collapsed row (a click toggles it) and waits until it says it is expanded. The row
   * is found again on every look: a refresh re-renders rows, and a click on a row being replaced
   * is lost, so an unanswered click is repeated. Rows that cannot expand are passed over: a link
   * `bin → usr/bin` is not the folder `bin`.
   */
  async expand(label: string | RegExp): Promise<void> {
    await this.toggle(label, 'true');
  }

  /** Collapses an expanded row, the same way. */
  async collapse(label: string | RegExp): Promise<void> {
    await this.toggle(label, 'false');
  }

  private async toggle(label: string | RegExp, wanted: 'true' | 'false'): Promise<void> {
    const deadline = Date.now() + TIMEOUT;
    for (let clicked = 0; ;) {
      const row = this.row(label, true);
      const state = await row.getAttribute('aria-expanded', { timeout: 1000 }).catch(() => undefined);
      if (state === wanted) return;
      if (Date.now() > deadline) throw new Error(`the row ${String(label)} never ${state === undefined ? 'appeared' : wanted === 'true' ? 'expanded' : 'collapsed'}\n${await this.diagnosis()}`);
      if ((state === 'true' || state === 'false') && Date.now() - clicked > 2000) {
        await this.click(row);
        clicked = Date.now();
      }
      await this.page.waitForTimeout(200);
    }
  }

  /**
   * Right-clicks a row and picks a context-menu entry, as a mouse user does. A menu closes as soon
   * as an entry takes the click; one still open a few seconds later lost the click (a loaded
   * machine), and the entry is clicked again.
   */
  /** The entries of a row's context menu, which is closed again. */
  async menuEntries(label: string | RegExp): Promise<string[]> {
    await this.click(this.row(label), 'right');
    const items = this.page.locator('.context-view .action-item .action-label');
    await items.first().waitFor();
    const entries = await items.allTextContents();
    await this.escape();
    await this.page.locator('.context-view .monaco-menu').waitFor({ state: 'detached' });
    return entries.filter(Boolean);
  }

  async contextMenu(label: string | RegExp, entry: string): Promise<void> {
    const item = this.page.locator('.context-view .action-item', { hasText: entry }).first();
    const menu = this.page.locator('.context-view .monaco-menu');
    // A right-click on a row being redrawn is lost, or opens the menu of the row that took its
    // place: close whatever opened and click again.
    const deadline = Date.now() + TIMEOUT;
    for (;;) {
      await this.click(this.row(label), 'right');
      if (await item.waitFor({ timeout: 5000 }).then(() => true, () => false)) break;
      if (Date.now() > deadline) throw new Error(`no "${entry}" in the context menu of ${String(label)}\n${await this.diagnosis()}`);
      if (await menu.isVisible()) {
        await this.page.keyboard.press('Escape');
        await menu.waitFor({ state: 'detached' }).catch(() => undefined);
      }
    }
    for (let attempt = 0; ; attempt++) {
      // The menu acts on mouse-up after hover has focused the entry; hover first, as a hand would.
      await item.hover();
      await item.click();
      try {
        await menu.waitFor({ state: 'detached', timeout: 5000 });
        return;
      } catch (e) {
        if (!(await menu.isVisible())) return; // it closed after all
        if (attempt >= 2) throw e;
      }
    }
  }

  /**
   * Clicks a row whose action opens an input box. A row re-rendered by a refresh between
   * finding and clicking it swallows the click, so it is clicked again until the box opens; only
   * after 10 s, as a click that did land on a busy extension host would start a second flow whose
   * first box replaces the first flow's later one.
   */
  async clickForPrompt(label: string | RegExp): Promise<void> {
    const widget = this.page.locator('.quick-input-widget');
    for (let attempt = 0; ; attempt++) {
      await this.click(this.row(label));
      try {
        await widget.waitFor({ state: 'visible', timeout: 10_000 });
        return;
      } catch (e) {
        if (attempt >= 2) throw e;
      }
    }
  }

  /**
   * Clicks like a person who has moved the mouse first: a tooltip left open by hovering another
   * row would otherwise sit on top of the target and take the click.
   */
  async click(target: Locator, button: 'left' | 'right' = 'left'): Promise<void> {
    await this.page.mouse.move(1, 1);
    await this.page.locator('.context-view .monaco-hover, .workbench-hover').first().waitFor({ state: 'hidden', timeout: 5000 }).catch(() => undefined);
    await target.click({ button });
  }

  /**
   * Selects several rows as a mouse user does: a click on the first, Ctrl+click on each other one.
   * A click can be lost while the tree redraws (a status arriving, the first row expanding), so
   * the selection is read back after each and mended until it is exactly `labels`.
   */
  async select(labels: Array<string | RegExp>): Promise<void> {
    const patterns = labels.map(labelPattern);
    const deadline = Date.now() + TIMEOUT;
    await this.click(this.row(labels[0]!));
    for (;;) {
      const selected = await this.view().locator('.monaco-list-row.selected .label-name').allTextContents();
      const missing = patterns.find((p) => !selected.some((s) => p.test(s)));
      const extra = selected.find((s) => !patterns.some((p) => p.test(s)));
      if (!missing && extra === undefined) return;
      if (Date.now() > deadline) throw new Error(`the rows ${labels.join(', ')} were never all selected (selected: ${selected.join(', ')})\n${await this.diagnosis()}`);
      const row = this.row(missing ?? labelPattern(extra!));
      await this.page.mouse.move(1, 1);
      await row.click({ modifiers: ['Control'] });
      // The toggle shows, or the next round sees what it missed and clicks again.
      await row.and(this.page.locator(missing ? '.selected' : ':not(.selected)')).waitFor({ timeout: 3000 }).catch(() => undefined);
    }
  }

  /** Clicks a row that opens an editor, and waits for its tab to be the active one. */
  async openRow(label: string): Promise<void> {
    await this.click(this.row(label));
    await this.page.locator('.editor-group-container.active .tab.active', { hasText: label }).waitFor().catch(async (e: Error) => {
      await this.screenshot('open-row-failed');
      throw new Error(`${e.message}\n${await this.diagnosis()}`);
    });
  }

  /** Puts keyboard focus in the tree without clicking (a click would toggle a row). */
  async focusTree(): Promise<void> {
    await this.view().locator('.monaco-list').first().focus();
  }

  /** Polls until `check` holds; `what` says in a failure what never happened. */
  async until(check: () => Promise<boolean>, what: string, timeout = TIMEOUT): Promise<void> {
    const deadline = Date.now() + timeout;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`${what}\n${await this.diagnosis()}`);
      await this.page.waitForTimeout(200);
    }
  }

  /**
   * The page of an open report webview whose document title matches: VS Code nests it two frames
   * deep (`iframe.webview` then `#active-frame`); ours all hold `#report`.
   */
  async webview(title: RegExp, timeout = TIMEOUT): Promise<Frame> {
    let found: Frame | undefined;
    await this.until(async () => {
      for (const frame of this.page.frames()) {
        if (frame.isDetached() || !title.test(await frame.title().catch(() => ''))) continue;
        // Rendered, not only the empty page: the data arrives by message after the page loads.
        if (await frame.locator('#report > *').count().catch(() => 0)) found = frame;
      }
      return found !== undefined;
    }, `no report webview titled ${title} opened`, timeout);
    return found!;
  }

  /** Reloads the window (the page, as Developer: Reload Window does) and waits for the workbench. */
  async reload(): Promise<void> {
    await this.page.reload();
    await this.page.waitForSelector('.monaco-workbench', { timeout: 90_000 });
  }

  /** Runs a command from the Command Palette, by its title as the palette lists it. */
  async runCommand(title: string): Promise<void> {
    const widget = this.page.locator('.quick-input-widget');
    const input = widget.locator('.quick-input-box input');
    const row = this.quickPickRow(title);
    const deadline = Date.now() + TIMEOUT;
    for (;;) {
      // A key pressed while a webview has the focus stays in its frame: the workbench takes the focus back first.
      await this.page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
      // F1 while the last command's palette is still closing would be lost with it.
      await widget.waitFor({ state: 'hidden' }).catch(() => undefined);
      await this.page.keyboard.press('F1');
      try {
        await input.waitFor({ state: 'visible', timeout: 5000 });
        await input.fill(`>${title}`, { timeout: 5000 });
        // Picked once listed; a palette that closes first is opened again, below.
        while (!(await row.isVisible())) {
          if (!(await widget.isVisible())) throw new Error(`the Command Palette closed before it listed ${title}`);
          if (Date.now() > deadline) throw new Error(`the Command Palette never listed ${title}`);
          await this.page.waitForTimeout(100);
        }
        await row.click({ timeout: 10_000 });
        return;
      } catch (e) {
        // A webview that takes the focus as it settles (one just moved or revealed) closes the palette,
        // at any step up to the pick: open it again. One still open is not that.
        if (Date.now() > deadline || (await widget.isVisible())) throw e;
      }
    }
  }

  /** Opens a workspace file with Quick Open, as a keyboard user does. */
  async openFile(name: string): Promise<void> {
    await this.page.keyboard.press('Control+P');
    const input = this.page.locator('.quick-input-widget .quick-input-box input');
    await input.waitFor({ state: 'visible' });
    await input.fill(name);
    await this.pick(name); // the search is asynchronous: pick the result once it is listed
    await this.page.locator('.editor-group-container.active .tab.active', { hasText: name }).waitFor();
    await this.page.locator('.editor-group-container.active .monaco-editor .view-lines').waitFor();
  }

  async clickWelcomeButton(text: string): Promise<void> {
    await this.view().locator('.welcome-view-content a.monaco-button', { hasText: text }).click();
  }

  /** Types into the open input box (or quick pick filter) and presses Enter. */
  async answer(text: string): Promise<void> {
    const input = this.page.locator('.quick-input-widget .quick-input-box input');
    await input.waitFor({ state: 'visible' });
    await input.fill(text);
    await input.press('Enter');
    // The next prompt reuses the same widget: wait for this one's text to be consumed.
    await this.page.waitForFunction((el) => !(el as HTMLInputElement | null)?.value || !(el as HTMLElement).offsetParent, await input.elementHandle());
  }

  /** The open input box's title, prompt and placeholder, to check which question is asked. */
  async prompt(): Promise<string> {
    const widget = this.page.locator('.quick-input-widget');
    await widget.waitFor({ state: 'visible' });
    const parts = await Promise.all([
      widget.locator('.quick-input-title').textContent(),
      widget.locator('.quick-input-message').textContent(),
      widget.locator('.quick-input-box input').getAttribute('placeholder'),
    ]);
    return parts.filter(Boolean).join(' | ');
  }

  /** Waits until the open input box or quick pick asks `question` (the widget is reused between prompts). */
  async waitForPrompt(question: RegExp): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (let text = await this.prompt(); !question.test(text); text = await this.prompt()) {
      if (Date.now() > deadline) throw new Error(`expected a prompt matching ${question}, it asks: ${text}`);
      await this.page.waitForTimeout(100);
    }
  }

  async pick(label: string): Promise<void> {
    const row = this.quickPickRow(label);
    await row.waitFor();
    await row.click();
  }

  private quickPickRow(label: string): Locator {
    return this.page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: label }).first();
  }

  async escape(): Promise<void> {
    await this.page.keyboard.press('Escape');
  }

  /** Waits for a modal dialog whose message matches, presses one of its buttons, and returns its text. */
  async dialog(message: RegExp, button: string): Promise<string> {
    const box = this.page.locator('.monaco-dialog-box', { hasText: message });
    await box.waitFor();
    const text = (await box.textContent()) ?? '';
    await box.locator('.monaco-button', { hasText: button }).first().click();
    await box.waitFor({ state: 'detached' });
    return text;
  }

  /** How many modal dialogs are open. */
  async dialogs(): Promise<number> {
    return this.page.locator('.monaco-dialog-box').count();
  }

  /** Waits for a status bar message that matches, and returns the status bar's text. */
  async statusBar(text: RegExp): Promise<string> {
    const item = this.page.locator('.part.statusbar .statusbar-item', { hasText: text }).first();
    await item.waitFor();
    return (await item.textContent()) ?? '';
  }

  /** Waits for a notification toast whose text matches, and returns its text. */
  async notification(text: RegExp): Promise<string> {
    const toast = this.page.locator('.notifications-toasts .notification-toast', { hasText: text }).first();
    await toast.waitFor();
    return (await toast.textContent()) ?? '';
  }

  /**
   * Waits for a notification whose text matches, presses one of its buttons, and returns its text.
   * VS Code hides an information toast after 15 s, buttons or not; one answered later than that
   * (in the test after the one that caused it) is still listed, with its buttons, in the
   * notification center, which is closed again afterwards (toasts do not show while it is open).
   */
  async notificationButton(text: RegExp, button: string): Promise<string> {
    const toast = this.page.locator('.notifications-toasts .notification-toast', { hasText: text }).first();
    const center = this.page.locator('.notifications-center');
    const item = await toast.waitFor().then(() => toast, async () => {
      await this.runCommand('Notifications: Show Notifications');
      const listed = center.locator('.notification-list-item', { hasText: text }).first();
      await listed.waitFor();
      return listed;
    });
    const said = (await item.textContent()) ?? '';
    await item.locator('.monaco-button', { hasText: button }).first().click();
    if (item !== toast && (await center.isVisible())) {
      await center.locator('.notifications-center-header-toolbar .action-label[aria-label^="Hide Notifications"]').click();
      await center.waitFor({ state: 'hidden' });
    }
    return said;
  }

  /** The text of the panel's output view, as rendered. */
  async outputText(): Promise<string> {
    return this.renderedText(this.page.locator('.part.panel .monaco-editor .view-lines'));
  }

  async clipboard(): Promise<string> {
    return this.page.evaluate(() => navigator.clipboard.readText());
  }

  /** The text of the active editor, as rendered: its visible lines in screen order. */
  async editorText(): Promise<string> {
    return this.renderedText(this.page.locator('.editor-group-container.active .monaco-editor .view-lines'));
  }

  /** A Monaco editor's visible lines in screen order. */
  private async renderedText(lines: Locator): Promise<string> {
    await lines.waitFor();
    // Monaco reuses line elements: their DOM order is not their order on screen.
    const text = await lines.locator('.view-line').evaluateAll((els) => els
      .map((e) => ({ top: parseFloat((e as HTMLElement).style.top), text: e.textContent ?? '' }))
      .sort((a, b) => a.top - b.top)
      .map((l) => l.text)
      .join('\n'));
    return text.replace(/\u00a0/g, ' ');
  }

  /** Waits until the active editor's text (as rendered) matches or stops matching `pattern`. */
  async waitForEditorText(pattern: RegExp, present = true): Promise<string> {
    const deadline = Date.now() + TIMEOUT;
    for (;;) {
      const text = await this.editorText();
      if (pattern.test(text) === present) return text;
      if (Date.now() > deadline) throw new Error(`the editor never ${present ? 'showed' : 'stopped showing'} ${pattern}; it shows:\n${text}`);
      await this.page.waitForTimeout(100);
    }
  }

  async activeTabTitle(): Promise<string> {
    return (await this.page.locator('.editor-group-container.active .tab.active .label-name').textContent()) ?? '';
  }

  async close(): Promise<void> {
    await this.context.close();
    await this.browser.close();
  }
}

/** A row's label as a pattern: a string matches the whole label, or its start up to a space. */
function labelPattern(label: string | RegExp): RegExp {
  return typeof label === 'string' ? new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\s|$)`) : label;
}
