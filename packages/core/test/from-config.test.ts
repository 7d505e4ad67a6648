import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createEnricherFromConfig, zEnricherConfig } from '../src/index.js';

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const dirs: string[] = [];
afterEach(async () => Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true }))));

describe('createEnricherFromConfig', () => {
  it('loads the instances and persists outcomes in the file cache across runs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'x-enrich-from-config-'));
    dirs.push(dir);
    const config = zEnricherConfig.parse({ providers: { echo: { use: './test/fixtures/echo-plugin.js' } }, cache: { store: 'file', dir } });
    const first = await createEnricherFromConfig(config, { importFrom: packageRoot });
    const { records } = await first.enrich(['bad.example.org']);
    expect(records[0]).toMatchObject({ provider: { name: 'echo', plugin: 'echo' }, status: 'ok', verdict: 'malicious', cache: { hit: false } });
    await first.close();
    const second = await createEnricherFromConfig(config, { importFrom: packageRoot });
    expect((await second.enrich(['bad.example.org'])).records[0]?.cache.hit).toBe(true);
  });

  it('requires the caller to pass shared stores for redis', async () => {
    const config = zEnricherConfig.parse({ providers: {}, cache: { store: 'redis' } });
    await expect(createEnricherFromConfig(config)).rejects.toThrow(/@x\/store-redis/);
  });
});
