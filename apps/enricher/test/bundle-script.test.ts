import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BUNDLED, BUNDLED_PLUGINS, bundledPluginFile } from '../src/bundled-plugins.js';

const APP_DIR = join(import.meta.dirname, '..');

describe('the bundle', () => {
  it('builds an entry for every plugin the app loads from it, under the same file name', async () => {
    const script = (await import(pathToFileURL(join(APP_DIR, 'scripts', 'bundle.mjs')).href)) as { BUNDLED_PLUGINS: Record<string, string> };
    expect(script.BUNDLED_PLUGINS).toEqual(BUNDLED_PLUGINS);
  });

  it('leaves the sources alone: they import the packages like any host', () => {
    expect(BUNDLED).toBe(false);
    expect(bundledPluginFile('@x/provider-virustotal-v3', APP_DIR)).toBeUndefined();
  });
});
