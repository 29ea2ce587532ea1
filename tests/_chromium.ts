/**
 * A small headless-Chromium driver for tests: launches the Debian `chromium` binary, speaks the
 * Chrome DevTools Protocol over Deno's built-in WebSocket, and records every console error,
 * page exception and log error of the pages it opens. No npm puppeteer, no network.
 * @module
 */

/** The browser: Debian's package installs it here; $CLAIMCHECK_CHROMIUM names another. */
export const CHROMIUM = Deno.env.get("CLAIMCHECK_CHROMIUM") ?? "/usr/bin/chromium";

/** Whether the browser binary is there. */
export function chromiumAvailable(path = CHROMIUM): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** One error a page reported: a console.error call, an uncaught exception or a log entry. */
export interface PageError {
  kind: "console" | "exception" | "log";
  text: string;
  url?: string;
}

interface _Message {
  id?: number;
  method?: string;
  sessionId?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
}

/** Rejects after `ms` with `what` in the message; the timer is cleared either way. */
async function _within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** A running headless Chromium with one CDP connection to the browser target. */
export class Chromium {
  #nextId = 1;
  #pending = new Map<number, { resolve: (r: _Message) => void; reject: (e: Error) => void }>();
  #listeners = new Set<(m: _Message) => void>();
  #closed: Promise<void>;

  private constructor(
    readonly process: Deno.ChildProcess,
    readonly ws: WebSocket,
    readonly profile: string,
    /** Drains stderr to the end, so the browser never blocks on a full pipe. */
    readonly stderrDone: Promise<string>,
  ) {
    this.#closed = new Promise((resolve) => ws.addEventListener("close", () => resolve()));
    ws.addEventListener("message", (ev) => {
      const msg = JSON.parse(ev.data as string) as _Message;
      if (msg.id !== undefined) {
        const p = this.#pending.get(msg.id);
        this.#pending.delete(msg.id);
        if (msg.error) p?.reject(new Error(`CDP error ${msg.error.code}: ${msg.error.message}`));
        else p?.resolve(msg);
      } else for (const l of this.#listeners) l(msg);
    });
  }

  /**
   * Starts the browser with a throwaway profile and connects to the DevTools WebSocket it
   * prints on stderr.
   */
  static async launch(path = CHROMIUM, timeoutMs = 15_000): Promise<Chromium> {
    const profile = await Deno.makeTempDir({ prefix: "claimcheck-chromium-" });
    const process = new Deno.Command(path, {
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--no-default-browser-check",
        "--hide-scrollbars",
        `--user-data-dir=${profile}`,
        "--remote-debugging-port=0",
        "about:blank",
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    // Read stderr line by line until the WebSocket address appears, then keep draining.
    let found: (url: string) => void = () => {};
    const address = new Promise<string>((resolve) => (found = resolve));
    const stderrDone = (async () => {
      let text = "";
      const decoder = new TextDecoder();
      for await (const chunk of process.stderr) {
        text += decoder.decode(chunk, { stream: true });
        const m = text.match(/DevTools listening on (ws:\/\/\S+)/);
        if (m) found(m[1]);
      }
      return text;
    })();
    let url: string;
    try {
      url = await _within(
        Promise.race([
          address,
          stderrDone.then((text) => {
            throw new Error(`chromium exited before listening:\n${text}`);
          }),
        ]),
        timeoutMs,
        "chromium to print its DevTools address",
      );
    } catch (e) {
      try {
        process.kill("SIGKILL");
      } catch { /* already gone */ }
      await process.status;
      await stderrDone.catch(() => "");
      await Deno.remove(profile, { recursive: true }).catch(() => {});
      throw e;
    }
    const ws = new WebSocket(url);
    await _within(
      new Promise<void>((resolve, reject) => {
        ws.addEventListener("open", () => resolve(), { once: true });
        ws.addEventListener("error", () => reject(new Error(`cannot connect to ${url}`)), {
          once: true,
        });
      }),
      timeoutMs,
      "the DevTools WebSocket to open",
    );
    return new Chromium(process, ws, profile, stderrDone);
  }

  /** Sends a CDP command (to a page when `sessionId` is set) and returns its result. */
  async send<T = Record<string, unknown>>(
    method: string,
    params: Record<string, unknown> = {},
    sessionId?: string,
    timeoutMs = 15_000,
  ): Promise<T> {
    const id = this.#nextId++;
    const reply = new Promise<_Message>((resolve, reject) =>
      this.#pending.set(id, { resolve, reject })
    );
    this.ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    try {
      return (await _within(reply, timeoutMs, method)).result as T;
    } finally {
      this.#pending.delete(id);
    }
  }

  /** Calls `listener` for every CDP event until the returned function is called. */
  on(listener: (m: _Message) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Opens a new tab with Page, Runtime and Log enabled and its errors recorded. */
  async newPage(width = 1280, height = 900): Promise<Page> {
    const { targetId } = await this.send<{ targetId: string }>("Target.createTarget", {
      url: "about:blank",
    });
    const { sessionId } = await this.send<{ sessionId: string }>("Target.attachToTarget", {
      targetId,
      flatten: true,
    });
    const page = new Page(this, targetId, sessionId);
    await page.send("Page.enable");
    await page.send("Runtime.enable");
    await page.send("Log.enable");
    await page.send("Emulation.setDeviceMetricsOverride", {
      width,
      height,
      deviceScaleFactor: 1,
      mobile: false,
    });
    return page;
  }

  /**
   * Closes the browser (Browser.close, then SIGKILL if it lingers), waits for the process and
   * the WebSocket to end, and removes the profile. Safe to call twice.
   */
  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.OPEN) {
      await this.send("Browser.close", {}, undefined, 5_000).catch(() => {});
    }
    const exited = await _within(this.process.status, 5_000, "chromium to exit").catch(() => null);
    if (exited === null) {
      try {
        this.process.kill("SIGKILL");
      } catch { /* already gone */ }
      await this.process.status;
    }
    if (this.ws.readyState !== WebSocket.CLOSED) {
      this.ws.close();
      await _within(this.#closed, 5_000, "the WebSocket to close").catch(() => {});
    }
    await this.stderrDone.catch(() => "");
    await Deno.remove(this.profile, { recursive: true }).catch(() => {});
  }
}

/** One tab, attached with a flat CDP session. */
export class Page {
  /** Errors seen since the tab opened (cleared by goto). */
  errors: PageError[] = [];
  #loaded: (() => void) | null = null;

  constructor(readonly browser: Chromium, readonly targetId: string, readonly sessionId: string) {
    browser.on((m) => {
      if (m.sessionId !== sessionId) return;
      const p = m.params ?? {};
      if (m.method === "Page.loadEventFired") this.#loaded?.();
      else if (m.method === "Runtime.consoleAPICalled" && p.type === "error") {
        const args = (p.args as { value?: unknown; description?: string }[] | undefined) ?? [];
        this.errors.push({
          kind: "console",
          text: args.map((a) => a.description ?? String(a.value)).join(" "),
        });
      } else if (m.method === "Runtime.exceptionThrown") {
        const d = p.exceptionDetails as { text: string; exception?: { description?: string } };
        this.errors.push({ kind: "exception", text: d.exception?.description ?? d.text });
      } else if (m.method === "Log.entryAdded") {
        const e = p.entry as { level: string; text: string; url?: string };
        if (e.level === "error") this.errors.push({ kind: "log", text: e.text, url: e.url });
      }
    });
  }

  send<T = Record<string, unknown>>(method: string, params: Record<string, unknown> = {}) {
    return this.browser.send<T>(method, params, this.sessionId);
  }

  /** Navigates to `url` and waits for its load event; clears the recorded errors first. */
  async goto(url: string, timeoutMs = 15_000): Promise<void> {
    this.errors = [];
    const loaded = new Promise<void>((resolve) => (this.#loaded = resolve));
    const nav = await this.send<{ errorText?: string }>("Page.navigate", { url });
    if (nav.errorText) throw new Error(`cannot open ${url}: ${nav.errorText}`);
    await _within(loaded, timeoutMs, `load event of ${url}`);
    this.#loaded = null;
  }

  /** Evaluates `expression` in the page and returns its value (JSON-serializable). */
  async evaluate<T>(expression: string): Promise<T> {
    const r = await this.send<{
      result: { value?: T };
      exceptionDetails?: { text: string; exception?: { description?: string } };
    }>("Runtime.evaluate", { expression, returnByValue: true });
    if (r.exceptionDetails) {
      throw new Error(
        `evaluate failed: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`,
      );
    }
    return r.result.value as T;
  }

  /** A PNG of the whole page (not just the viewport) written to `path`. */
  async screenshot(path: string): Promise<void> {
    const { cssContentSize } = await this.send<{
      cssContentSize: { width: number; height: number };
    }>("Page.getLayoutMetrics");
    const { data } = await this.send<{ data: string }>("Page.captureScreenshot", {
      format: "png",
      captureBeyondViewport: true,
      clip: {
        x: 0,
        y: 0,
        width: Math.ceil(cssContentSize.width),
        height: Math.ceil(cssContentSize.height),
        scale: 1,
      },
    });
    await Deno.writeFile(path, Uint8Array.from(atob(data), (c) => c.charCodeAt(0)));
  }

  /** Closes the tab. */
  async close(): Promise<void> {
    await this.browser.send("Target.closeTarget", { targetId: this.targetId });
  }
}
