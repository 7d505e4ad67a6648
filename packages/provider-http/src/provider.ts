import {
  inject,
  injectable,
  Tokens,
  UpstreamError,
  XEnrichError,
  type Clock,
  type Entity,
  type EnrichContext,
  type EnrichmentProvider,
  type HttpClient,
  type Observable,
  type ProviderOutcome,
  type Reason,
  type UpstreamClient,
  type UpstreamDefinition,
  type UpstreamRequest,
} from '@x/core';
import { coerce, compilePath, FieldTypeError, searchPath, type CompiledPath, type FieldType } from './extract.js';
import { jsonStrings, type HttpProviderOptions, type StepOptions } from './options.js';
import { conditionFields, describeCondition, evaluate, type Comparison, type Condition } from './rules.js';
import { assertHeaderSafe, compileTemplate, type Template, type TemplateVariables } from './template.js';

interface CompiledField {
  name: string;
  path: CompiledPath;
  type: FieldType;
  internal: boolean;
}

interface CompiledStep {
  name: string;
  method: StepOptions['method'];
  path: Template[];
  trailingSlash: boolean;
  query: Array<[string, Template]>;
  headers: Array<[string, Template]>;
  form: Array<[string, Template]> | undefined;
  json: ((variables: TemplateVariables) => unknown) | undefined;
  /** Fields read from this step's response. */
  fields: CompiledField[];
}

/** A JSON body template: every string in it is a template; the rest is kept. */
function compileJson(value: unknown): ((variables: TemplateVariables) => unknown) | undefined {
  if (value === undefined) return undefined;
  if (jsonStrings(value).length === 0) return () => value;
  const walk = (node: unknown): ((v: TemplateVariables) => unknown) => {
    if (typeof node === 'string') return compileTemplate(node);
    if (Array.isArray(node)) {
      const items = node.map(walk);
      return (v) => items.map((item) => item(v));
    }
    if (node && typeof node === 'object') {
      const entries = Object.entries(node).map(([key, inner]) => [key, walk(inner)] as const);
      return (v) => Object.fromEntries(entries.map(([key, inner]) => [key, inner(v)]));
    }
    return () => node;
  };
  return walk(value);
}

/** `/indicators/IPv4/{{value}}/general` -> one template per segment (a trailing `/` is kept apart). */
function compilePathTemplate(path: string): Template[] {
  const trimmed = path.replace(/^\/+/, '').replace(/\/+$/, '');
  return trimmed === '' ? [] : trimmed.split('/').map((segment) => compileTemplate(segment));
}

const OAUTH_EARLY_REFRESH_MS = 30_000;

/**
 * The `@x/provider-http` provider: one instance runs the requests its options describe, reads
 * the fields with JMESPath, and applies the rules in order. Everything is compiled once here,
 * from options the schema already checked (templates, expressions, field references).
 */
@injectable()
export class HttpProvider implements EnrichmentProvider {
  private readonly plans = new Map<string, CompiledStep[]>();
  private readonly upstream: UpstreamClient;
  private readonly fieldsByName = new Map<string, CompiledField>();
  private readonly messages = new Map<number, Template>();
  private readonly entityNames: Template[];
  private readonly token: { value: string; expiresAt: number } = { value: '', expiresAt: 0 };
  private readonly tokenUpstream: UpstreamClient | undefined;
  private tokenRequest: Promise<string> | undefined;
  /** Fields the not-found and pending conditions read. */
  private readonly statusFields: ReadonlySet<string>;

  constructor(
    @inject(Tokens.ProviderOptions) private readonly options: HttpProviderOptions,
    @inject(Tokens.HttpClient) http: HttpClient,
    @inject(Tokens.Clock) private readonly clock: Clock,
  ) {
    const definition: UpstreamDefinition = {
      name: options.name,
      baseUrl: options.baseUrl,
      timeoutMs: options.timeout,
      maxResponseBytes: options.maxResponseBytes,
      headers: options.headers,
      notFound: options.notFound.statuses,
      ...this.upstreamAuth(),
    };
    this.upstream = http.upstream(definition);
    const auth = options.auth;
    if (auth?.type === 'oauth2') {
      const basic = Buffer.from(`${encodeURIComponent(auth.clientId)}:${encodeURIComponent(auth.clientSecret)}`).toString('base64');
      this.tokenUpstream = http.upstream({
        name: `${options.name} token endpoint`,
        baseUrl: auth.tokenUrl,
        timeoutMs: options.timeout,
        auth: { header: 'authorization', scheme: 'Basic', secret: basic },
        secrets: [auth.clientSecret],
        statuses: { 400: { kind: 'auth', retryable: false, hint: 'Check clientId, clientSecret and scope.' }, 401: { kind: 'auth', retryable: false, hint: 'Check clientId and clientSecret.' } },
      });
    }
    for (const [name, field] of Object.entries(options.fields)) this.fieldsByName.set(name, { name, path: compilePath(field.path), type: field.type, internal: field.internal });
    for (const [type, plan] of Object.entries(options.requests)) {
      const steps = plan!.steps;
      const last = steps.at(-1)!.name;
      this.plans.set(
        type,
        steps.map((step) => ({
          name: step.name,
          method: step.method,
          path: compilePathTemplate(step.path),
          trailingSlash: step.path.endsWith('/'),
          query: Object.entries(step.query ?? {}).map(([key, text]) => [key, compileTemplate(text)]),
          headers: Object.entries(step.headers ?? {}).map(([key, text]) => [key, compileTemplate(text)]),
          form: step.form ? Object.entries(step.form).map(([key, text]) => [key, compileTemplate(text)]) : undefined,
          json: compileJson(step.json),
          fields: Object.entries(options.fields)
            .filter(([, field]) => (field.from ?? last) === step.name)
            .map(([name]) => this.fieldsByName.get(name)!),
        })),
      );
    }
    options.rules.forEach((rule, i) => {
      if (rule.message) this.messages.set(i, compileTemplate(rule.message));
    });
    this.entityNames = options.entities.map((entity) => compileTemplate(entity.name));
    this.statusFields = new Set([...(options.notFound.when ? conditionFields(options.notFound.when) : []), ...(options.pending ? conditionFields(options.pending.when) : [])]);
  }

  private upstreamAuth(): Pick<UpstreamDefinition, 'auth' | 'secrets'> {
    const auth = this.options.auth;
    if (!auth) return {};
    switch (auth.type) {
      case 'header':
        return { auth: { header: auth.name, secret: auth.value, ...(auth.scheme ? { scheme: auth.scheme } : {}) } };
      case 'query':
        return { auth: { query: auth.name, secret: auth.value } };
      case 'bearer':
        return { auth: { header: 'authorization', scheme: 'Bearer', secret: auth.token } };
      case 'basic':
        return { auth: { header: 'authorization', scheme: 'Basic', secret: Buffer.from(`${auth.username}:${auth.password}`).toString('base64') }, secrets: auth.password ? [auth.password] : [] };
      case 'oauth2':
        return { secrets: [auth.clientSecret] };
    }
  }

  async enrich(observable: Observable, context: EnrichContext): Promise<ProviderOutcome> {
    const plan = this.plans.get(observable.type);
    if (!plan) throw new XEnrichError('X_PROVIDER_FAILED', `${this.options.name} has no request for ${observable.type} observables.`);
    const trace = context.trace;
    const fields: Record<string, unknown> = {};
    const variables: TemplateVariables = { value: observable.value, type: observable.type, fields };
    for (const step of plan) {
      const request = await this.request(step, variables, context);
      trace?.({ kind: 'request', summary: `${step.name}: ${request.method} /${request.path.join('/')}`, detail: { step: step.name, method: request.method, path: request.path, query: request.query, headers: request.headers ? Object.keys(request.headers) : [], body: request.json ?? request.form } });
      const answer = await this.upstream.request(request, context);
      trace?.({ kind: 'response', summary: `${step.name}: HTTP ${answer.status}${answer.notFound ? ' (not found)' : ''}`, detail: { step: step.name, status: answer.status, notFound: answer.notFound, body: abridge(answer.body) } });
      if (answer.notFound) {
        return this.notFound(`${this.options.name} answered HTTP ${answer.status}: it has no data on this ${observable.type}.`, `http_${answer.status}`, trace);
      }
      // The fields that say "no data" or "pending" first: such an answer need not have the
      // others (ThreatFox's `no_result` carries a sentence where the data would be).
      this.extract(step, answer.body, fields, trace, this.statusFields);
      if (step === plan.at(-1)) {
        const early = this.noDataOrPending(observable, fields, trace);
        if (early) return early;
      }
      this.extract(step, answer.body, fields, trace);
    }
    const { verdict, confidence, reasons } = this.decide(variables, trace);
    const extracted = Object.fromEntries([...this.fieldsByName.values()].filter((field) => !field.internal).map((field) => [field.name, fields[field.name] ?? null]));
    const entities: Entity[] = this.options.entities.map((entity, i) => ({
      type: entity.type,
      name: this.entityNames[i]!(variables),
      ...(entity.fields ? { fields: Object.fromEntries(entity.fields.map((name) => [name, fields[name] ?? null])) } : {}),
    }));
    trace?.({ kind: 'outcome', summary: `found: ${verdict}${confidence ? ` (${confidence})` : ''}`, detail: { verdict, confidence } });
    return { kind: 'found', verdict, confidence, reasons, extracted, entities };
  }

  /** `not_found` or `pending` when the options' conditions say so. */
  private noDataOrPending(observable: Observable, fields: Record<string, unknown>, trace: EnrichContext['trace']): ProviderOutcome | undefined {
    const notFound = this.options.notFound.when;
    if (notFound && evaluate(notFound, fields)) return this.notFound(`${this.options.name}: ${describeCondition(notFound)} (no data on this ${observable.type}).`, describeCondition(notFound), trace, valuesOf(conditionFields(notFound), fields));
    const pending = this.options.pending?.when;
    if (pending && evaluate(pending, fields)) {
      const reason = { rule: describeCondition(pending), message: `${this.options.name} is still analysing it.`, values: valuesOf(conditionFields(pending), fields) };
      trace?.({ kind: 'outcome', summary: 'pending', detail: { reason } });
      return { kind: 'pending', reasons: [reason] };
    }
    return undefined;
  }

  private notFound(message: string, rule: string, trace: EnrichContext['trace'], values?: Record<string, unknown>): ProviderOutcome {
    const reason: Reason = { rule, message, ...(values ? { values } : {}) };
    trace?.({ kind: 'outcome', summary: 'not_found', detail: { reason } });
    return { kind: 'not_found', reasons: [reason] };
  }

  /** The first rule that holds, with the values it saw; else `otherwise`. */
  private decide(variables: TemplateVariables, trace: EnrichContext['trace']): { verdict: Extract<ProviderOutcome, { kind: 'found' }>['verdict']; confidence: Extract<ProviderOutcome, { kind: 'found' }>['confidence']; reasons: Reason[] } {
    const rules = this.options.rules;
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i]!;
      const seen: Comparison[] = [];
      const holds = evaluate(rule.when, variables.fields, seen);
      const id = rule.name ?? describeCondition(rule.when);
      trace?.({ kind: 'rule', summary: `${id}: ${holds ? 'holds' : 'does not hold'}`, detail: { rule: id, holds, values: valuesOf(conditionFields(rule.when), variables.fields) } });
      if (!holds) continue;
      const values = valuesOf(seen.map((comparison) => comparison.field), variables.fields);
      const message = this.messages.get(i)?.(variables) ?? `${this.options.name}: ${describeCondition(rule.when)} (${Object.entries(values).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')})`;
      return { verdict: rule.verdict, confidence: rule.confidence ?? null, reasons: [{ rule: id, message, values }] };
    }
    const { verdict, confidence } = this.options.otherwise;
    const checked = rules.map((rule) => rule.name ?? describeCondition(rule.when));
    return {
      verdict,
      confidence: confidence ?? null,
      reasons: [{ rule: 'otherwise', message: `${this.options.name}: no rule matched${checked.length ? ` (${checked.join('; ')})` : ''}.` }],
    };
  }

  /** Reads `step`'s fields (those in `only`, else the ones not read yet) from its response, typed; a value of another type fails the lookup. */
  private extract(step: CompiledStep, body: unknown, fields: Record<string, unknown>, trace: EnrichContext['trace'], only?: ReadonlySet<string>): void {
    for (const field of step.fields) {
      if (only ? !only.has(field.name) : Object.hasOwn(fields, field.name)) continue;
      let value: unknown;
      try {
        value = coerce(field.name, field.type, searchPath(field.path, body), field.path.source);
      } catch (error) {
        const why = error instanceof FieldTypeError ? error.message : `field ${field.name} (${field.path.source}) cannot be read: ${(error as Error).message}`;
        throw new UpstreamError('bad_response', `${this.options.name} ${step.name}: the response does not fit: ${why}.`, { retryable: false });
      }
      fields[field.name] = value;
      trace?.({ kind: 'field', summary: `${field.name} = ${JSON.stringify(value)}`, detail: { field: field.name, path: field.path.source, type: field.type, value } });
    }
  }

  /** The request of one step, rendered from the templates. */
  private async request(step: CompiledStep, variables: TemplateVariables, context: EnrichContext): Promise<UpstreamRequest> {
    const headers: Record<string, string> = {};
    for (const [name, template] of step.headers) headers[name] = assertHeaderSafeOrThrow(name, template(variables));
    if (this.options.auth?.type === 'oauth2') headers.authorization = `Bearer ${await this.accessToken(context)}`;
    return {
      method: step.method,
      path: step.path.map((segment) => segment(variables)),
      ...(step.trailingSlash ? { trailingSlash: true } : {}),
      ...(step.query.length ? { query: Object.fromEntries(step.query.map(([name, template]) => [name, template(variables)])) } : {}),
      ...(Object.keys(headers).length ? { headers } : {}),
      ...(step.form ? { form: Object.fromEntries(step.form.map(([name, template]) => [name, template(variables)])) } : {}),
      ...(step.json ? { json: step.json(variables) } : {}),
    };
  }

  /** The OAuth2 client-credentials token, cached until shortly before it expires; one request at a time. */
  private accessToken(context: EnrichContext): Promise<string> {
    if (this.token.value && this.clock.now() < this.token.expiresAt) return Promise.resolve(this.token.value);
    this.tokenRequest ??= this.fetchToken(context).finally(() => {
      this.tokenRequest = undefined;
    });
    return this.tokenRequest;
  }

  private async fetchToken(context: EnrichContext): Promise<string> {
    const auth = this.options.auth;
    if (auth?.type !== 'oauth2' || !this.tokenUpstream) throw new XEnrichError('X_PROVIDER_FAILED', 'no oauth2 auth configured');
    const form: Record<string, string> = { grant_type: 'client_credentials', ...(auth.scope ? { scope: auth.scope } : {}), ...(auth.audience ? { audience: auth.audience } : {}) };
    const answer = await this.tokenUpstream.request({ method: 'POST', path: [], form }, context);
    const body = answer.body as { access_token?: unknown; expires_in?: unknown } | undefined;
    if (typeof body?.access_token !== 'string' || body.access_token === '') {
      throw new UpstreamError('bad_response', `${this.options.name} token endpoint answered without an access_token.`, { retryable: false });
    }
    const lifetimeMs = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in * 1000 : 300_000;
    this.token.value = body.access_token;
    this.token.expiresAt = this.clock.now() + Math.max(0, lifetimeMs - OAUTH_EARLY_REFRESH_MS);
    return body.access_token;
  }
}

/** A header value with a control character came from a response (or an odd observable): nothing is sent. */
function assertHeaderSafeOrThrow(name: string, value: string): string {
  try {
    return assertHeaderSafe(name, value);
  } catch (error) {
    throw new UpstreamError('bad_response', `${(error as Error).message}.`, { retryable: false });
  }
}

function valuesOf(names: readonly string[], fields: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(names.map((name) => [name, fields[name] ?? null]));
}

/** A response body for a trace: long strings and lists cut, so a dry run stays readable. */
function abridge(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.length > 200 ? `${value.slice(0, 200)}…` : value;
  if (Array.isArray(value)) return [...value.slice(0, 5).map((item) => abridge(item, depth + 1)), ...(value.length > 5 ? [`… ${value.length - 5} more`] : [])];
  if (value && typeof value === 'object') {
    if (depth > 4) return '{…}';
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, abridge(inner, depth + 1)]));
  }
  return value;
}

export type { Condition };
