// Loads the npm packages the tests need, failing with the way to install them (rather than
// Node's bare ERR_MODULE_NOT_FOUND) when tests/contract/node_modules is missing or stale.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const CONTRACT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_ROOT = path.resolve(CONTRACT_DIR, '..', '..');

export function fail(message) {
  console.error(`FAILED: ${message}`);
  process.exit(1);
}

export async function load(name) {
  const lock = path.join(CONTRACT_DIR, 'package-lock.json');
  const installed = path.join(CONTRACT_DIR, 'node_modules', '.package-lock.json');
  const hint = 'run scripts/test.sh (it installs nodejs/npm and runs `npm ci` in tests/contract)';
  if (!fs.existsSync(installed)) fail(`tests/contract/node_modules is missing: ${hint}`);
  if (fs.statSync(lock).mtimeMs > fs.statSync(installed).mtimeMs) {
    fail(`tests/contract/package-lock.json is newer than node_modules: ${hint}`);
  }
  try {
    const mod = await import(name);
    return mod.default ?? mod;
  } catch (e) {
    fail(`cannot load the npm package ${name} (${e.message}): ${hint}`);
  }
}

// The official specs: <repo>/../shared/ghl-api (CI keeps a copy of shared/ beside the checkout),
// or $GHL_API_SPEC_DIR.
export function specDir() {
  const dir = process.env.GHL_API_SPEC_DIR || path.resolve(REPO_ROOT, '..', 'shared', 'ghl-api');
  if (!fs.existsSync(path.join(dir, 'apps', 'contacts.json'))) {
    fail(`the official GHL specs are not at ${dir} (expected shared/ghl-api beside the repository, or set GHL_API_SPEC_DIR)`);
  }
  return dir;
}
