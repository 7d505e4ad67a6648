// Response bodies are untyped JSON: tests assert their shape field by field.
/* eslint-disable @typescript-eslint/no-explicit-any */
import { startSimulator, type Simulator, type SimulatorOptionsInput } from '../src/index.js';

export const GOOD_KEY = 'test-key';
export const BAD_KEY = 'not-a-key';

/** GET a v3 path with a key (or none) and return status and parsed JSON (undefined when empty). */
export async function v3(sim: Simulator, path: string, key: string | null = GOOD_KEY): Promise<{ status: number; body: any; text: string; headers: Headers }> {
  const response = await fetch(`${sim.v3Url}${path}`, { headers: key === null ? {} : { 'x-apikey': key } });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined, text, headers: response.headers };
}

/** Calls a v2 endpoint with GET query parameters, or POST form when `post` is set. */
export async function v2(sim: Simulator, endpoint: string, params: Record<string, string>, post = false): Promise<{ status: number; body: any; text: string }> {
  const form = new URLSearchParams(params);
  const response = post
    ? await fetch(`${sim.v2Url}/${endpoint}`, { method: 'POST', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded' } })
    : await fetch(`${sim.v2Url}/${endpoint}?${form}`);
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined, text };
}

export async function withSimulator<T>(options: SimulatorOptionsInput, run: (sim: Simulator) => Promise<T>): Promise<T> {
  const sim = await startSimulator(options);
  try {
    return await run(sim);
  } finally {
    await sim.close();
  }
}
