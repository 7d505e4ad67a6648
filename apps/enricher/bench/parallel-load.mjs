// A client for the overload figure (bench/overload.mjs) and test: `requests` parallel
// POST /v1/enrich of `perRequest` new observables each, with fetch (undici). A 503 with
// Retry-After is backpressure: the client waits that long and sends the request again, as a
// well-behaved client does. Returns what came back.
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export async function parallelEnrich({ url, requests, perRequest, token, observable, maxAttempts = 200 }) {
  let overloaded = 0;
  let retryAfterMissing = 0;
  const records = [];
  const statuses = new Map();
  const one = async (r) => {
    const observables = Array.from({ length: perRequest }, (_, i) => observable(r * perRequest + i));
    for (let attempt = 1; ; attempt++) {
      const response = await fetch(`${url}/v1/enrich`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ observables }),
      });
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      if (response.status === 503 && attempt < maxAttempts) {
        overloaded++;
        const retryAfter = response.headers.get('retry-after');
        if (!retryAfter) retryAfterMissing++;
        await response.arrayBuffer();
        await sleep(Number(retryAfter ?? 1) * 1000);
        continue;
      }
      const body = await response.json();
      if (response.status !== 200) throw new Error(`request ${r}: HTTP ${response.status} ${JSON.stringify(body)}`);
      records.push(...body.records);
      return;
    }
  };
  await Promise.all(Array.from({ length: requests }, (_, r) => one(r)));
  const errorRecords = records.filter((record) => record.status === 'error');
  return { records: records.length, errorRecords: errorRecords.length, errorCodes: [...new Set(errorRecords.map((record) => record.error?.code))], overloaded, retryAfterMissing, statuses: Object.fromEntries(statuses) };
}
