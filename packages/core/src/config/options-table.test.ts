import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { renderProviderOptionsTable } from './config-reference.js';
import { zDuration } from '../contract/duration.js';
import { secret } from '../contract/secret.js';

describe('renderProviderOptionsTable', () => {
  it('renders every option with its type, default (secrets marked) and description', () => {
    const schema = z.strictObject({
      apiKey: secret(z.string().min(1)).describe('Your API key.'),
      baseUrl: z.string().url().default('https://api.example/v1').describe('Where the API is.'),
      requestTimeout: zDuration.default(15_000).describe('Timeout of one request.'),
      tags: z.array(z.string()).optional().describe('Tags | to add.'),
    });
    expect(renderProviderOptionsTable(schema)).toBe(
      [
        '| Option | Type | Default | Description |',
        '| --- | --- | --- | --- |',
        '| `apiKey` | string | **required**, secret | Your API key. |',
        '| `baseUrl` | string | `"https://api.example/v1"` | Where the API is. |',
        '| `requestTimeout` | duration | `15s` | Timeout of one request. |',
        '| `tags` | list of string | (optional) | Tags \\| to add. |',
        '',
      ].join('\n'),
    );
  });
});
