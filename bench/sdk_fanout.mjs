// What users write instead of ghl-syncd: a Node script on the official SDK
// (@gohighlevel/api-client, as pinned in tests/contract), one HighLevel client per
// location, each location paced to GHL's 100 requests per 10 s with a timer. Same
// workload as ghl_client_bench: GET /contacts/?limit=1 as fast as the limit allows.
//
//   node bench/sdk_fanout.mjs URL LOCATIONS SECONDS
//
// Prints one JSON line: {served, cpuSecondsPer1000, peakRssMiB, rate429}.
import { load } from '../tests/contract/lib/deps.mjs';

const [url, locationsArg, secondsArg] = process.argv.slice(2);
const locations = Number(locationsArg);
const seconds = Number(secondsArg);
const { HighLevel } = await load('@gohighlevel/api-client');

const locs = [];
for (let i = 0; i < locations; i++) {
  const r = await fetch(`${url}/_emulator/locations`, { method: 'POST', body: '{"name":"sdk"}' });
  const { location } = await r.json();
  locs.push(location);
}
await fetch(`${url}/_emulator/requests`, { method: 'DELETE' });

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
let peakRss = 0;
const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 200);
const cpu0 = process.cpuUsage();
const end = Date.now() + seconds * 1000;
let answered = 0;

async function drive(location) {
  const ghl = new HighLevel({
    privateIntegrationToken: location.token, apiVersion: '2021-07-28', logLevel: 'none',
  });
  ghl.getHttpClient().defaults.baseURL = url;
  const gap = 10_000 / 100;  // one request per 100 ms: 100 per 10 s
  let next = Date.now();
  while (Date.now() < end) {
    try {
      await ghl.contacts.getContacts({ locationId: location.id, limit: 1 });
    } catch (e) {
      // counted by the emulator's request log
    }
    answered++;
    next += gap;
    const wait = next - Date.now();
    if (wait > 0) await sleep(wait);
  }
}
await Promise.all(locs.map(drive));
clearInterval(sampler);
peakRss = Math.max(peakRss, process.memoryUsage().rss);
const cpu = process.cpuUsage(cpu0);
const log = await (await fetch(`${url}/_emulator/requests`)).json();
const served = log.requests.filter((r) => r.status === 200).length;
const refused = log.requests.filter((r) => r.status === 429).length;
console.log(JSON.stringify({
  served,
  refused,
  cpuSecondsPer1000: ((cpu.user + cpu.system) / 1e6) * 1000 / Math.max(1, answered),
  peakRssMiB: peakRss / 1048576,
}));
