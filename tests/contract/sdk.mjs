// Official-SDK test: GoHighLevel's own Node SDK (@gohighlevel/api-client, pinned in
// package.json) talks to ghl-emulator as it would to services.leadconnectorhq.com.
//
//   node tests/contract/sdk.mjs <path to ghl-emulator>      (ctest: emulator_official_sdk)
//
// The SDK is configured as a user would: `privateIntegrationToken` (the emulator's PIT) and
// `apiVersion: '2021-07-28'` (the SDK's default, 2023-02-21, is no Version the specs declare;
// FACTS.md §1.2). Only the base URL is changed, on the axios instance the SDK exposes
// (getHttpClient(); every service shares that instance). Calls and their argument shapes are
// those of node_modules/@gohighlevel/api-client/dist/lib/code/contacts/contacts.js.
// Checks that values round-trip through create, get, update, upsert, tags, search, duplicate
// lookup and delete; that the emulator's errors come back as the SDK's GHLError with the
// status and message; and that the SDK's default Version is refused as the emulator documents.
import fs from 'node:fs';
import { fail, load } from './lib/deps.mjs';
import { Emulator } from './lib/emulator.mjs';

const binary = process.argv[2];
if (!binary) fail('usage: node sdk.mjs <path to ghl-emulator>');
if (!fs.existsSync(binary)) fail(`${binary} does not exist: build the ghl-emulator target first`);

const sdk = await load('@gohighlevel/api-client');
const { HighLevel, GHLError } = sdk;
if (typeof HighLevel !== 'function') fail('@gohighlevel/api-client exports no HighLevel class');

let emu;
try {
  emu = await Emulator.start(binary);
} catch (e) {
  fail(e.message);
}

// A HighLevel client aimed at the emulator.
function client(options = {}) {
  const ghl = new HighLevel({ privateIntegrationToken: emu.token, logLevel: 'none', ...options });
  ghl.getHttpClient().defaults.baseURL = emu.url;
  return ghl;
}

const results = [];
async function check(name, fn) {
  try {
    await fn();
    results.push([name, 'ok']);
  } catch (e) {
    results.push([name, `FAILED: ${e.message}`]);
  }
}
function equal(actual, expected, what) {
  const a = JSON.stringify(actual);
  const b = JSON.stringify(expected);
  if (a !== b) throw new Error(`${what}: got ${a}, want ${b}`);
}
// The GHLError a call throws (fails when it resolves).
async function rejection(promise) {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error('the call succeeded but should have failed');
}

const ghl = client({ apiVersion: '2021-07-28' });
const locationId = emu.locationId;
const pincodeId = emu.customFields['contact.pincode'];
let id;

await check('contacts.createContact', async () => {
  const r = await ghl.contacts.createContact({
    locationId, firstName: 'Katherine', lastName: 'Johnson', email: 'katherine.sdk@example.com',
    phone: '+15550100002', tags: ['nasa'], customFields: [{ id: pincodeId, field_value: '23666' }],
  });
  id = r.contact.id;
  if (!id) throw new Error(`no contact id in ${JSON.stringify(r)}`);
  equal(r.contact.firstName, 'Katherine', 'firstName');
});

await check('contacts.getContact', async () => {
  const { contact } = await ghl.contacts.getContact({ contactId: id });
  equal([contact.id, contact.locationId, contact.firstName, contact.lastName, contact.email, contact.phone],
    [id, locationId, 'Katherine', 'Johnson', 'katherine.sdk@example.com', '+15550100002'], 'fields');
  equal(contact.tags, ['nasa'], 'tags');
  equal(contact.customFields, [{ id: pincodeId, value: '23666' }], 'customFields (written {id, field_value}, read {id, value})');
});

await check('contacts.updateContact', async () => {
  const r = await ghl.contacts.updateContact({ contactId: id }, { lastName: 'Goble', city: 'Hampton' });
  equal(r.succeded, true, 'succeded (sic)');
  const { contact } = await ghl.contacts.getContact({ contactId: id });
  equal([contact.firstName, contact.lastName, contact.city], ['Katherine', 'Goble', 'Hampton'], 'after update');
});

await check('contacts.upsertContact', async () => {
  const r = await ghl.contacts.upsertContact({ locationId, email: 'katherine.sdk@example.com', companyName: 'NACA' });
  equal([r.new, r.contact.id, r.contact.companyName], [false, id, 'NACA'], 'upsert matched by email');
});

await check('contacts.addTags / removeTags', async () => {
  equal((await ghl.contacts.addTags({ contactId: id }, { tags: ['mathematician'] })).tags.sort(), ['mathematician', 'nasa'], 'after add');
  equal((await ghl.contacts.removeTags({ contactId: id }, { tags: ['nasa'] })).tags, ['mathematician'], 'after remove');
});

await check('contacts.searchContactsAdvanced', async () => {
  const r = await ghl.contacts.searchContactsAdvanced({
    locationId, pageLimit: 20, filters: [{ field: 'email', operator: 'eq', value: 'katherine.sdk@example.com' }],
  });
  equal([r.total, r.contacts.length], [1, 1], 'total and page size');
  equal([r.contacts[0].id, r.contacts[0].lastName, r.contacts[0].city], [id, 'Goble', 'Hampton'], 'the contact found');
});

await check('contacts.getDuplicateContact', async () => {
  const r = await ghl.contacts.getDuplicateContact({ locationId, number: '+15550100002' });
  equal(r.contact && r.contact.id, id, 'found by phone');
});

await check('errors come back as GHLError', async () => {
  const e = await rejection(ghl.contacts.getContact({ contactId: 'sdk00000000000000000' }));
  if (!(e instanceof GHLError)) throw new Error(`not a GHLError: ${e}`);
  equal([e.statusCode, e.message], [400, 'Contact not found'], 'status and message');
  const v = await rejection(ghl.contacts.createContact({ locationId, shoeSize: 9 }));
  equal([v.statusCode, v.message], [422, 'property shoeSize should not exist'], '422 message array joined by the SDK');
});

await check("the SDK's default Version (2023-02-21) is refused", async () => {
  const e = await rejection(client().contacts.getContact({ contactId: id }));
  equal(e.statusCode, 400, 'status');
  if (!/Version/.test(e.message)) throw new Error(`message does not name the Version header: ${e.message}`);
});

await check('contacts.deleteContact', async () => {
  equal((await ghl.contacts.deleteContact({ contactId: id })).succeded, true, 'succeded (sic)');
  equal((await rejection(ghl.contacts.getContact({ contactId: id }))).statusCode, 400, 'get after delete');
});

const stopped = await emu.stop();
if (!stopped.ok) results.push(['ghl-emulator exit', `FAILED: ${stopped.detail}`]);

const version = (await import('node:module')).createRequire(import.meta.url)('@gohighlevel/api-client/package.json').version;
console.log(`@gohighlevel/api-client ${version} against ${emu.url}`);
for (const [name, result] of results) console.log(`  ${result === 'ok' ? 'ok    ' : 'FAILED'} ${name}${result === 'ok' ? '' : ': ' + result.slice(8)}`);
const failed = results.filter(([, r]) => r !== 'ok').length;
console.log(`sdk: ${results.length - failed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
