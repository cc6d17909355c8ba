// Starts the real ghl-emulator binary on a free port, reads what it prints at start-up
// (URL, location, PIT, seeded ids), and makes API calls to it.
import { spawn } from 'node:child_process';

const STARTUP_TIMEOUT_MS = 30_000; // ASan builds start slowly on a busy 2-core machine
const STOP_TIMEOUT_MS = 15_000;

// Parses the start-up banner (emulator/main.cc + Emulator::SeedDefault).
export function parseBanner(text) {
  const one = (re) => (text.match(re) || [])[1];
  const customFields = {};
  for (const m of text.matchAll(/^\s+((?:contact|opportunity)\.\S+) = (\S+)$/gm)) customFields[m[1]] = m[2];
  return {
    url: one(/listening on (http:\/\/[0-9.]+:[0-9]+)/),
    locationId: one(/^location (\S+) \(company \S+\)/m),
    companyId: one(/^location \S+ \(company (\S+)\)/m),
    token: one(/token \(PIT\): (\S+)/),
    userId: one(/^\s+user: (\S+)/m),
    pipelineId: one(/^\s+pipeline: (\S+)/m),
    calendarId: one(/^\s+calendar: (\S+)/m),
    customFields,
  };
}

export class Emulator {
  // Resolves once the emulator printed its banner ("admin API:" is its last line).
  static async start(binary, args = ['--search-lag-ms', '0', '--no-rate-limit']) {
    const emu = new Emulator();
    emu.child = spawn(binary, ['--listen', '127.0.0.1:0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    emu.stdout = '';
    emu.stderr = '';
    emu.exited = new Promise((resolve) => emu.child.on('exit', (code, signal) => resolve({ code, signal })));
    emu.child.stderr.on('data', (d) => { emu.stderr += d; });
    // Never leave it running, whatever happens to this process.
    process.on('exit', () => emu.child.exitCode === null && emu.child.kill('SIGKILL'));
    let onEarlyExit;
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`ghl-emulator printed no banner within ${STARTUP_TIMEOUT_MS} ms:\n${emu.stdout}\n${emu.stderr}`)), STARTUP_TIMEOUT_MS);
      emu.child.on('error', (e) => { clearTimeout(timer); reject(new Error(`cannot start ${binary}: ${e.message}`)); });
      onEarlyExit = (code, signal) => { clearTimeout(timer); reject(new Error(`ghl-emulator exited at start-up (code ${code}, signal ${signal}):\n${emu.stdout}\n${emu.stderr}`)); };
      emu.child.on('exit', onEarlyExit);
      emu.child.stdout.on('data', (d) => {
        emu.stdout += d;
        if (/^admin API: /m.test(emu.stdout)) { clearTimeout(timer); resolve(); }
      });
    });
    emu.child.off('exit', onEarlyExit);
    emu.child.stdout.on('data', () => {}); // keep draining
    Object.assign(emu, parseBanner(emu.stdout));
    for (const k of ['url', 'locationId', 'token']) {
      if (!emu[k]) throw new Error(`ghl-emulator banner has no ${k}:\n${emu.stdout}`);
    }
    return emu;
  }

  // SIGTERM, then the exit status: {ok, detail}. A sanitizer report or a crash makes ok false.
  async stop() {
    if (this.child.exitCode !== null || this.child.signalCode !== null) {
      return { ok: false, detail: `ghl-emulator died during the test (code ${this.child.exitCode}, signal ${this.child.signalCode})\n${this.stderr}` };
    }
    this.child.kill('SIGTERM');
    const timeout = new Promise((r) => setTimeout(() => r(null), STOP_TIMEOUT_MS));
    const result = await Promise.race([this.exited, timeout]);
    if (result === null) {
      this.child.kill('SIGKILL');
      return { ok: false, detail: `ghl-emulator did not stop within ${STOP_TIMEOUT_MS} ms of SIGTERM` };
    }
    if (result.code !== 0) {
      return { ok: false, detail: `ghl-emulator exited with code ${result.code} signal ${result.signal}\n${this.stderr}` };
    }
    return { ok: true, detail: '' };
  }

  // One HTTP call: {status, body (parsed JSON, or the raw text when it is not JSON), headers}.
  // opts: {query, body (object, or a string sent as is), form (object sent as
  // application/x-www-form-urlencoded), token (null: none), version (null: none)}.
  async call(method, path, opts = {}) {
    const url = new URL(this.url + path);
    for (const [k, v] of Object.entries(opts.query || {})) url.searchParams.set(k, v);
    const headers = { Accept: 'application/json' };
    const token = opts.token === undefined ? this.token : opts.token;
    if (token !== null) headers.Authorization = `Bearer ${token}`;
    if (opts.version) headers.Version = opts.version;
    let body;
    if (opts.form !== undefined) {
      headers['Content-Type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(opts.form).toString();
    } else if (opts.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    }
    const res = await fetch(url, { method, headers, body });
    const text = await res.text();
    let parsed = text;
    try { parsed = JSON.parse(text); } catch { /* not JSON: keep the text */ }
    return { status: res.status, body: parsed, headers: res.headers };
  }
}
