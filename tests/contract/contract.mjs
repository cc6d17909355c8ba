// Contract test: ghl-emulator against the official GHL OpenAPI specs.
//
//   node tests/contract/contract.mjs <path to ghl-emulator>      (ctest: emulator_contract)
//
// What it does
//   1. Loads the official specs (apps/*.json, common/common-schemas.json) from
//      <repo>/../shared/ghl-api (or $GHL_API_SPEC_DIR), applies spec-exceptions.json, and
//      compiles ajv validators, resolving the specs' $refs across files.
//   2. Self-check: hand-made wrong bodies must fail validation and a right one must pass, so a
//      validator that accepts everything cannot pass this test.
//   3. Starts the emulator (--listen 127.0.0.1:0 --search-lag-ms 0 --no-rate-limit) and reads
//      the URL, location, PIT and seeded ids from its banner.
//   4. Runs table.mjs: every case calls one operation and must get its expected status, and the
//      body must validate against the schema the spec declares for that (operation, status),
//      plus the envelope rule: every top-level property of that schema must be present (the
//      specs mark almost nothing required, so without it `{}` would pass). Each passing 2xx
//      body is then mutated (an envelope key dropped, a typed property given the wrong type)
//      and each mutant must be rejected, proving the schema constrains that response.
//   5. Coverage: each table operation must have passed at least one 2xx case, and every spec
//      operation the emulator implements (probed without a token: a missing route answers
//      404 "Cannot METHOD path") must have a table entry.
//   6. Stops the emulator with SIGTERM and requires a clean exit (catches sanitizer reports).
// It prints one row per case: operation, status, case, and
//   validated                      the body passed the spec's schema as it is
//   validated (patched: <id>)      it passed only thanks to that patch of spec-exceptions.json
//   exception:<id>                 the spec has no schema for it; checked against the exception's
//   FAILED: <why>                  wrong status, ajv's errors, an accepted mutant, a failed
//                                  round-trip check, or a coverage gap
// then every exception with its reason (and whether this run needed it), the fields the
// emulator returns that the spec does not declare (information only), and exits non-zero on
// any failure.
//
// Adding an operation: one entry in table.mjs. Where the spec is wrong or silent, add an entry
// with its reason to spec-exceptions.json; the validator applies it and the report shows it.
// Needs Node >= 18 and `npm ci` in tests/contract (scripts/test.sh does both).
import fs from 'node:fs';
import path from 'node:path';
import { CONTRACT_DIR, fail, load, specDir } from './lib/deps.mjs';
import { Emulator } from './lib/emulator.mjs';
import { SpecSet } from './lib/spec.mjs';
import { TABLE } from './table.mjs';

const binary = process.argv[2];
if (!binary) fail('usage: node contract.mjs <path to ghl-emulator>');
if (!fs.existsSync(binary)) fail(`${binary} does not exist: build the ghl-emulator target first`);

const Ajv = await load('ajv');
const addFormats = await load('ajv-formats');
const exceptions = JSON.parse(fs.readFileSync(path.join(CONTRACT_DIR, 'spec-exceptions.json'), 'utf8'));
const specs = new SpecSet(specDir(), exceptions, { Ajv, addFormats });
// The same specs less one patch each, to tell which patches a body actually needs.
const withoutPatch = new Map();
function patchesNeeded(spec, op, status, body, reached) {
  return reached.filter((id) => {
    if (!withoutPatch.has(id)) {
      const rest = { ...exceptions, patches: exceptions.patches.filter((p) => p.id !== id) };
      withoutPatch.set(id, new SpecSet(specDir(), rest, { Ajv, addFormats }));
    }
    return !withoutPatch.get(id).check(spec, op, status, body).ok;
  });
}

const rows = []; // {op, status, what, result, ok}
const notes = new Map(); // "op status" -> Set of undeclared field paths
const usedExceptions = new Set();
let failures = 0;
let mutantCount = 0;

function record(op, status, what, result, ok) {
  rows.push({ op, status: String(status), what, result, ok });
  if (!ok) failures++;
}

// ---- 1. the table agrees with the specs ----
for (const e of TABLE) {
  const found = specs.operation(e.spec, e.op);
  if (!found) fail(`table.mjs: apps/${e.spec}.json has no operation ${e.op}`);
  if (found.method !== e.method || found.path !== e.path) {
    fail(`table.mjs: ${e.op} is ${found.method} ${found.path} in apps/${e.spec}.json, not ${e.method} ${e.path}`);
  }
}

// ---- 2. self-check: the validator can fail ----
function selfCheck() {
  const must = [
    ['get-contact', 200, { contact: { id: 42, tags: 'vip' } }, false, 'wrong types inside a $ref'],
    ['delete-contact', 200, { succeeded: true }, false, 'the spec spells it `succeded`'],
    ['update-contact', 200, { succeded: true, contact: { customFields: [{ id: 1 }] } }, false, 'id typed string'],
    ['create-contact', 422, { statusCode: 422, message: 'x', error: 'Unprocessable Entity' }, false, 'message must be an array (common-schemas.json)'],
    ['get-contact', 401, { statusCode: 401, message: 'x' }, false, 'UnauthorizedDTO has `error`'],
    ['delete-contact', 200, { succeded: true }, true, 'a right body'],
    ['get-contact', 200, { contact: { id: 'a', customFields: [{ id: 'f', value: 3 }] } }, true, 'a numeric custom field value (patched)'],
  ];
  for (const [op, status, body, valid, why] of must) {
    const { ok, errors } = specs.check('contacts', op, status, body);
    if (ok !== valid) fail(`self-check: ${op} ${status} (${why}) ${valid ? 'was rejected: ' + errors : 'was accepted'}`);
  }
  console.log(`self-check: ${must.length} hand-made bodies judged as expected (${must.filter((m) => !m[3]).length} rejected)`);
}
selfCheck();

// ---- 3. the emulator ----
let emu;
try {
  emu = await Emulator.start(binary);
} catch (e) {
  fail(e.message);
}
console.log(`ghl-emulator at ${emu.url}, location ${emu.locationId}\n`);
const s = {
  locationId: emu.locationId, companyId: emu.companyId, token: emu.token, userId: emu.userId,
  pipelineId: emu.pipelineId, calendarId: emu.calendarId, customFields: emu.customFields,
  slotMs: Math.ceil(Date.now() / 3600_000) * 3600_000 + 24 * 3600_000,
  api: (method, p, opts) => emu.call(method, p, opts),
  admin: (method, p, body) => emu.call(method, '/_emulator' + p, { body, token: null }),
};

// ---- 4. the scenario ----
const fillPath = (template, params = {}) =>
  template.replace(/\{([^}]+)\}/g, (_, k) => {
    if (params[k] === undefined) throw new Error(`no value for path parameter {${k}}`);
    return encodeURIComponent(params[k]);
  });

const TYPE_FLIP = { string: 12345, number: 'x', integer: 'x', boolean: 'x', object: 'x', array: 'x' };

// Mutants of a valid body that the validator must reject: [description, body]. None at all
// means the schema does not constrain the response (an empty or untyped schema).
function mutants(e, status, body, entry) {
  const out = [];
  const { file, node } = specs.deref(entry.plan.file, entry.plan.schema);
  if (!node) return out;
  if (typeof node.type === 'string' && TYPE_FLIP[node.type] !== undefined) {
    out.push([`body as ${typeof TYPE_FLIP[node.type]}`, TYPE_FLIP[node.type]]);
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return out;
  const drop = entry.envelope[0] || (Array.isArray(node.required) && node.required[0]);
  if (drop) {
    const m = { ...body };
    delete m[drop];
    out.push([`without ${drop}`, m]);
  }
  const props = node.properties || {};
  for (const k of Object.keys(body)) {
    if (!(k in props)) continue;
    const t = specs.deref(file, props[k]).node;
    if (t && typeof t.type === 'string' && !t.nullable && TYPE_FLIP[t.type] !== undefined) {
      out.push([`${k} as ${typeof TYPE_FLIP[t.type]}`, { ...body, [k]: TYPE_FLIP[t.type] }]);
      break;
    }
  }
  return out;
}

async function runCase(e, c) {
  const what = c.what || '';
  let res;
  try {
    const req = (await c.req(s)) || {};
    const version = 'version' in req ? req.version : specs.versionOf(e.spec, e.op);
    res = await emu.call(e.method, fillPath(e.path, req.path), { query: req.query, body: req.body, form: req.form, token: req.token, version });
  } catch (err) {
    return record(e.op, c.status, what, `FAILED: request: ${err.message}`, false);
  }
  const excerpt = () => JSON.stringify(res.body).slice(0, 300);
  if (res.status !== c.status) {
    return record(e.op, c.status, what, `FAILED: got ${res.status}: ${excerpt()}`, false);
  }
  // `keep` runs whenever the status is right, so that one invalid body does not fail the
  // cases after it for want of an id.
  let kept = '';
  try {
    if (c.keep) c.keep(s, res.body);
  } catch (err) {
    kept = `keep: ${err.message}`;
  }
  let checked;
  try {
    checked = specs.check(e.spec, e.op, c.status, res.body);
  } catch (err) {
    return record(e.op, c.status, what, `FAILED: ${err.message}`, false);
  }
  if (!checked.ok) return record(e.op, c.status, what, `FAILED: ${checked.errors}; body ${excerpt()}`, false);
  const entry = checked.entry;
  if (c.status < 300) {
    const list = mutants(e, c.status, res.body, entry);
    mutantCount += list.length;
    if (!list.length) {
      return record(e.op, c.status, what, 'FAILED: the schema does not constrain this response (no wrong body can be made for it)', false);
    }
    const accepted = list.filter(([, m]) => entry.validate(m)).map(([d]) => d);
    if (accepted.length) {
      return record(e.op, c.status, what, `FAILED: the schema accepts a mutated body (${accepted.join(', ')}): it does not constrain this response`, false);
    }
  }
  try {
    const wrong = kept || (c.expect ? c.expect(s, res.body) : '');
    if (wrong) return record(e.op, c.status, what, `FAILED: ${wrong}; body ${excerpt()}`, false);
  } catch (err) {
    return record(e.op, c.status, what, `FAILED: ${err.message}; body ${excerpt()}`, false);
  }
  const undeclared = specs.undeclared(e.spec, e.op, c.status, res.body);
  if (undeclared.length) {
    const key = `${e.op} ${c.status}`;
    if (!notes.has(key)) notes.set(key, new Set());
    undeclared.forEach((f) => notes.get(key).add(f));
  }
  let result = 'validated';
  if (entry.plan.source === 'exception') {
    result = `exception:${entry.plan.exception.id}`;
    usedExceptions.add(entry.plan.exception.id);
  }
  const needed = patchesNeeded(e.spec, e.op, c.status, res.body, entry.patches);
  if (needed.length) {
    result += ` (patched: ${needed.join(', ')})`;
    needed.forEach((p) => usedExceptions.add(p));
  }
  record(e.op, c.status, what, result, true);
}

for (const e of TABLE) for (const c of e.cases) await runCase(e, c);

// ---- 5. coverage ----
const exercised = new Set(rows.filter((r) => r.ok && r.status.startsWith('2')).map((r) => r.op));
for (const e of TABLE) {
  if (!exercised.has(e.op)) record(e.op, '-', 'coverage', 'FAILED: no 2xx case of this operation passed', false);
}
const inTable = new Set(TABLE.map((e) => `${e.spec}/${e.op}`));
const undecided = [];
for (const o of specs.allOperations()) {
  if (inTable.has(`${o.spec}/${o.operationId}`)) continue;
  let verdict;
  try {
    verdict = await probe(o);
  } catch (err) {
    record(o.operationId, '-', 'coverage', `FAILED: probing ${o.method} ${o.path}: ${err.message}`, false);
    break;
  }
  if (verdict === 'implemented') {
    record(o.operationId, '-', 'coverage', `FAILED: the emulator implements ${o.method} ${o.path} (apps/${o.spec}.json) but table.mjs has no entry for it`, false);
  } else if (verdict === 'undecided') {
    undecided.push(`${o.method} ${o.path}`);
  }
}

// Whether the emulator routes a spec operation: 'implemented' | 'missing' | 'undecided'.
// Without a token, a path no route matches answers 404 "Cannot METHOD path", any other 401.
// A literal segment ("/calendars/groups") may instead be taken by a parameter route
// ("/calendars/{calendarId}"): then a decoy in its place matches too, and for GETs (safe to
// send with the PIT) the two answers are compared: the same answer means the same route.
async function probe(o) {
  const concrete = o.path.replace(/\{[^}]+\}/g, 'contract-probe');
  const noRoute = (r) => r.status === 404 && /^Cannot /.test((r.body && r.body.message) || '');
  if (noRoute(await emu.call(o.method, concrete, { token: null }))) return 'missing';
  const segs = concrete.split('/');
  const literal = segs.map((x, i) => i > 1 && x && !/^\{/.test(o.path.split('/')[i]) ? i : -1).filter((i) => i > 0);
  const swallowed = [];
  for (const i of literal) {
    const decoy = segs.map((x, j) => (j === i ? 'zzdecoy' : x)).join('/');
    if (!noRoute(await emu.call(o.method, decoy, { token: null }))) swallowed.push([i, decoy]);
  }
  if (!swallowed.length) return 'implemented';
  if (o.method !== 'GET') return 'undecided';
  const version = specs.versionOf(o.spec, o.operationId);
  const real = await emu.call('GET', concrete, { version });
  for (const [i, decoy] of swallowed) {
    const d = await emu.call('GET', decoy, { version });
    const same = d.status === real.status &&
      JSON.stringify(d.body).split('zzdecoy').join(segs[i]) === JSON.stringify(real.body);
    if (same) return 'missing';
  }
  return 'implemented';
}

// ---- 6. stop ----
const stopped = await emu.stop();
if (!stopped.ok) record('ghl-emulator', '-', 'exit', `FAILED: ${stopped.detail}`, false);

// ---- report ----
const width = (k) => Math.max(k.length, ...rows.map((r) => r[k].length));
const [wo, ws, ww] = [width('op'), width('status'), width('what')];
const line = (a, b, c, d) => `${a.padEnd(wo)}  ${b.padEnd(ws)}  ${c.padEnd(ww)}  ${d}`;
console.log(line('operation', 'status', 'case', 'result'));
console.log(line('-'.repeat(wo), '-'.repeat(ws), '-'.repeat(ww), '------'));
for (const r of rows) console.log(line(r.op, r.status, r.what, r.result));

const all = [...(exceptions.patches || []), ...(exceptions.responses || [])];
console.log('\nspec exceptions (spec-exceptions.json; "needed": some response in this run fails without it):');
for (const x of all) {
  console.log(`  ${usedExceptions.has(x.id) ? 'needed    ' : 'not needed'} ${x.id}: ${x.reason}`);
}
if (notes.size) {
  console.log('\nfields returned that the spec does not declare (information only):');
  for (const [k, v] of notes) console.log(`  ${k}: ${[...v].join(', ')}`);
}
if (undecided.length) {
  console.log(`\ncould not tell whether these spec operations are routed (a parameter route takes their path): ${undecided.join('; ')}`);
}
console.log(`\nmutants: ${mutantCount} wrong bodies made from valid 2xx responses, all rejected unless a row above says otherwise`);
const passed = rows.filter((r) => r.ok).length;
console.log(`\ncontract: ${passed} passed, ${failures} failed`);
process.exit(failures ? 1 : 0);
