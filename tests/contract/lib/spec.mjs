// The official GHL OpenAPI specs as response validators: loads apps/*.json and
// common/common-schemas.json, applies tests/contract/spec-exceptions.json, and validates a
// response body against the schema the spec declares for (spec, operationId, status).
import fs from 'node:fs';
import path from 'node:path';

// Every spec file gets an $id under this base so that the specs' own cross-file references
// ("../common/common-schemas.json#/...") resolve as they do next to each other on disk.
const BASE = 'https://ghl-spec.invalid/';

// JSON Pointer helpers (RFC 6901).
const unescapeToken = (t) => t.replace(/~1/g, '/').replace(/~0/g, '~');
const escapeToken = (t) => String(t).replace(/~/g, '~0').replace(/\//g, '~1');
export const pointerTokens = (ptr) => (ptr === '' ? [] : ptr.slice(1).split('/').map(unescapeToken));
const fragmentOf = (tokens) =>
  '#' + tokens.map((t) => '/' + encodeURIComponent(escapeToken(t))).join('');

function lookup(doc, tokens) {
  let node = doc;
  for (const t of tokens) {
    if (node === null || typeof node !== 'object' || !(t in node)) return undefined;
    node = node[t];
  }
  return node;
}

// "apps/contacts.json" + "../common/common-schemas.json#/components/schemas/X" -> file, tokens.
function resolveRef(fromFile, ref) {
  const [file, frag = ''] = ref.split('#');
  const target = file === '' ? fromFile : path.posix.normalize(path.posix.join(path.posix.dirname(fromFile), file));
  return { file: target, tokens: pointerTokens(decodeURIComponent(frag)) };
}

export class SpecSet {
  // specDir: the folder holding apps/ and common/. exceptions: parsed spec-exceptions.json.
  constructor(specDir, exceptions, { Ajv, addFormats }) {
    this.docs = new Map(); // "apps/contacts.json" -> patched JSON
    this.exceptions = exceptions;
    for (const sub of ['apps', 'common']) {
      for (const f of fs.readdirSync(path.join(specDir, sub)).filter((n) => n.endsWith('.json')).sort()) {
        this.docs.set(`${sub}/${f}`, JSON.parse(fs.readFileSync(path.join(specDir, sub, f), 'utf8')));
      }
    }
    this.applyPatches();
    this.ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
    // OpenAPI 3.0 annotations that JSON Schema does not know; `nullable` ajv supports itself.
    this.ajv.addKeyword({ keyword: 'example' });
    // The OpenAPI container of the schemas; the schemas inside are compiled (strictly) when
    // a response schema refers to them.
    this.ajv.addKeyword({ keyword: 'components', schemaType: 'object' });
    addFormats(this.ajv);
    for (const [file, doc] of this.docs) this.ajv.addSchema({ ...this.componentsOnly(doc), $id: BASE + file });
    this.validators = new Map();
  }

  // Only `components` goes to ajv: the rest of an OpenAPI document is not JSON Schema and
  // ajv's strict mode would reject its keywords. Inline response schemas are compiled apart.
  componentsOnly(doc) {
    return { components: doc.components || {} };
  }

  applyPatches() {
    for (const p of this.exceptions.patches || []) {
      const doc = this.docs.get(p.file);
      for (const [pointer, schema] of Object.entries(p.set)) {
        const tokens = pointerTokens(pointer);
        const parent = doc && lookup(doc, tokens.slice(0, -1));
        if (!parent || !(tokens[tokens.length - 1] in parent)) {
          throw new Error(`spec-exceptions.json: patch ${p.id}: ${p.file}${pointer} does not exist in the spec`);
        }
        parent[tokens[tokens.length - 1]] = schema;
      }
    }
  }

  // The operation in `spec` ("contacts") with this operationId: {method, path, op}.
  operation(spec, operationId) {
    const doc = this.docs.get(`apps/${spec}.json`);
    if (!doc) throw new Error(`no spec apps/${spec}.json`);
    for (const [p, methods] of Object.entries(doc.paths || {})) {
      for (const [m, op] of Object.entries(methods)) {
        if (op && op.operationId === operationId) return { method: m.toUpperCase(), path: p, op };
      }
    }
    return undefined;
  }

  // Every operation of every spec: [{spec, operationId, method, path}].
  allOperations() {
    const out = [];
    for (const [file, doc] of this.docs) {
      if (!file.startsWith('apps/')) continue;
      const spec = path.posix.basename(file, '.json');
      for (const [p, methods] of Object.entries(doc.paths || {})) {
        for (const [m, op] of Object.entries(methods)) {
          if (op && op.operationId) out.push({ spec, operationId: op.operationId, method: m.toUpperCase(), path: p });
        }
      }
    }
    return out;
  }

  // The Version header value the operation declares (first of its enum), or undefined.
  versionOf(spec, operationId) {
    const { op } = this.operation(spec, operationId);
    const v = (op.parameters || []).find((x) => x.in === 'header' && x.name === 'Version');
    return v && v.schema && (v.schema.enum ? v.schema.enum[0] : v.schema.default);
  }

  responseException(operationId, status) {
    return (this.exceptions.responses || []).find((r) => r.operationId === operationId && r.status === status);
  }

  // How a response is checked: {file, tokens (of the schema node), schema, source, exception}.
  // source: 'spec' | 'exception'. Throws (with the reason) when there is nothing to check against.
  plan(spec, operationId, status) {
    const file = `apps/${spec}.json`;
    const { method, path: p, op } = this.operation(spec, operationId);
    const declared = (op.responses || {})[String(status)];
    const content = declared && declared.content && declared.content['application/json'];
    const exception = this.responseException(operationId, status);
    if (content && content.schema) {
      if (exception) {
        throw new Error(`spec-exceptions.json: ${exception.id}: the spec declares a schema for ${operationId} ${status}; patch it instead`);
      }
      const tokens = ['paths', p, method.toLowerCase(), 'responses', String(status), 'content', 'application/json', 'schema'];
      return { file, tokens, schema: content.schema, source: 'spec' };
    }
    if (exception) {
      // Its $refs are relative to the spec folder ("apps/contacts.json#/components/...").
      return { file: 'spec-exceptions.json', tokens: [], schema: exception.schema, source: 'exception', exception };
    }
    throw new Error(declared
      ? `the spec declares ${status} for ${operationId} without a body schema (add a "responses" entry to spec-exceptions.json)`
      : `the spec does not declare status ${status} for ${operationId} (add a "responses" entry to spec-exceptions.json)`);
  }

  // Follows $refs from a schema node in `file`: {file, node}.
  deref(file, node) {
    const seen = new Set();
    while (node && typeof node === 'object' && typeof node.$ref === 'string') {
      const r = resolveRef(file, node.$ref);
      const key = r.file + fragmentOf(r.tokens);
      if (seen.has(key)) break;
      seen.add(key);
      file = r.file;
      node = lookup(this.docs.get(r.file), r.tokens);
    }
    return { file, node };
  }

  // Required top-level keys ("envelope rule"). Where the response schema marks no top-level
  // property required (nearly all of the specs' {contact: ...}-style envelopes), every one it
  // declares is required, less those an exception makes optional; where it marks some (record
  // schemas such as AppointmentSchemaResponse), its own list stands.
  envelopeKeys(operationId, status, plan) {
    const { node } = this.deref(plan.file, plan.schema);
    if (!node || node.type !== 'object' || !node.properties) return [];
    if (Array.isArray(node.required) && node.required.length) return [];
    const optional = new Set(((this.exceptions.optionalKeys || []).find(
      (o) => o.operationId === operationId && o.status === status) || {}).keys || []);
    return Object.keys(node.properties).filter((k) => !optional.has(k));
  }

  // The compiled validator for (spec, operationId, status) and what it rests on.
  validator(spec, operationId, status) {
    const key = `${spec}/${operationId}/${status}`;
    if (this.validators.has(key)) return this.validators.get(key);
    const plan = this.plan(spec, operationId, status);
    const envelope = this.envelopeKeys(operationId, status, plan);
    const schema = { $id: `${BASE}responses/${spec}/${operationId}/${status}.json`, allOf: [this.absolute(plan.file, plan.schema)] };
    if (envelope.length) schema.allOf.push({ type: 'object', required: envelope });
    const validate = this.ajv.compile(schema);
    const entry = { validate, plan, envelope, patches: this.patchesUnder(plan) };
    this.validators.set(key, entry);
    return entry;
  }

  // A copy of an inline schema whose $refs are absolute, so that it compiles on its own.
  absolute(file, node) {
    if (Array.isArray(node)) return node.map((n) => this.absolute(file, n));
    if (!node || typeof node !== 'object') return node;
    const out = {};
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') {
        const r = resolveRef(file, v);
        out[k] = BASE + r.file + fragmentOf(r.tokens);
      } else {
        out[k] = k === 'example' || k === 'examples' ? v : this.absolute(file, v);
      }
    }
    return out;
  }

  // Ids of the patches that sit in a schema reachable from the plan's schema.
  patchesUnder(plan) {
    const reached = new Set(); // "file#/pointer" of every node visited
    const walk = (file, node, ptr) => {
      if (!node || typeof node !== 'object') return;
      const here = `${file}#${ptr}`;
      if (reached.has(here)) return;
      reached.add(here);
      if (typeof node.$ref === 'string') {
        const r = resolveRef(file, node.$ref);
        walk(r.file, lookup(this.docs.get(r.file), r.tokens), r.tokens.map((t) => '/' + escapeToken(t)).join(''));
        return;
      }
      for (const [k, v] of Object.entries(node)) {
        if (k === 'example' || k === 'examples') continue;
        walk(file, v, `${ptr}/${escapeToken(k)}`);
      }
    };
    const start = plan.tokens.map((t) => '/' + escapeToken(t)).join('');
    walk(plan.file, plan.schema, start);
    const under = (p, ptr) => [...reached].some((r) => r === `${p.file}#${ptr}` || r.startsWith(`${p.file}#${ptr}/`));
    return (this.exceptions.patches || []).filter((p) => Object.keys(p.set).some((ptr) => under(p, ptr))).map((p) => p.id);
  }

  // Validates `body`: {ok, errors (ajv's, as text)}.
  check(spec, operationId, status, body) {
    const v = this.validator(spec, operationId, status);
    const ok = v.validate(body);
    return { ok, errors: ok ? '' : this.ajv.errorsText(v.validate.errors, { separator: '; ', dataVar: 'body' }), entry: v };
  }

  // Property paths in `body` that the schema does not declare (for information only: the
  // specs list few of the fields GHL really returns, and declare no additionalProperties).
  undeclared(spec, operationId, status, body) {
    const plan = this.plan(spec, operationId, status);
    const out = new Set();
    const walk = (file, node, value, at, depth) => {
      if (depth > 8 || value === null || typeof value !== 'object') return;
      ({ file, node } = this.deref(file, node));
      if (!node || typeof node !== 'object') return;
      if (Array.isArray(value)) {
        if (node.items) value.forEach((v) => walk(file, node.items, v, `${at}[]`, depth + 1));
        return;
      }
      const parts = [node, ...(node.allOf || []).map((s) => this.deref(file, s).node)];
      const props = Object.assign({}, ...parts.map((s) => (s && s.properties) || {}));
      if (!parts.some((s) => s && s.properties) || parts.some((s) => s && s.additionalProperties)) return;
      for (const [k, v] of Object.entries(value)) {
        if (!(k in props)) out.add(at ? `${at}.${k}` : k);
        else walk(file, props[k], v, at ? `${at}.${k}` : k, depth + 1);
      }
    };
    walk(plan.file, plan.schema, body, '', 0);
    return [...out];
  }
}
