// The provider's options: one zod schema gives validation, defaults, the JSON Schema and the
// README's options table (`x-enrich docs provider .` prints it). Mark secrets with secret().
import { secret } from '@x/core';
import { z } from 'zod';

export const zOptions = z.strictObject({
  apiKey: secret(z.string().min(1)).describe('API key of the intel API, sent in the x-api-key header. A secret: redacted from logs, errors and results.'),
  baseUrl: z.string().url().default('https://intel.example/api/v1').describe('Base URL of the intel API.'),
  maliciousScore: z.number().int().min(1).max(100).default(70).describe('Scores at or above this are malicious.'),
  suspiciousScore: z.number().int().min(0).max(100).default(30).describe('Scores at or above this (and below maliciousScore) are suspicious.'),
});
