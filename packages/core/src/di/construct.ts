import '../contract/reflect-metadata.js';
import type { InjectionToken } from '../contract/tokens.js';
import { XEnrichError } from '../contract/x-enrich-error.js';

/**
 * Building a provider without depending on one copy of tsyringe.
 *
 * tsyringe's `@injectable()` records a class's parameters in a map private to the copy of
 * tsyringe that ran the decorator. A plugin with its own `node_modules` (its own @x/core and
 * tsyringe) therefore decorates into a map the host's container never reads ("TypeInfo not
 * known"), and a host container from another tsyringe version has the same problem. So core
 * never asks a container to construct a plugin's class: it reads the constructor's tokens
 * from what every copy can see and calls `new` itself, resolving each token from the
 * instance's container.
 *
 * Where the tokens come from, first match wins:
 * 1. a static `inject` list on the class (`static inject = [Tokens.ProviderOptions, Tokens.Logger]`),
 *    the plain-JavaScript way, as fastify plugins and credo-ts modules declare dependencies;
 * 2. `@inject(Tokens.X)` parameter decorators: tsyringe stores them with `Reflect.defineMetadata`,
 *    and the reflect-metadata registry is global, so any copy's decorators are readable here.
 * Core's tokens are `Symbol.for(...)`, equal in every copy of core.
 */

export type { InjectionToken };

/** A class that declares its constructor's tokens in order (no decorators needed). */
export interface InjectableClass<T = unknown> {
  new (...args: never[]): T;
  /** One token per constructor parameter, in order. */
  readonly inject?: readonly InjectionToken[];
}

/** The part of a container (any tsyringe 4.x) that `construct` uses. */
export interface TokenResolver {
  resolve<T>(token: never): T;
  resolveAll?<T>(token: never): T[];
  isRegistered?(token: never, recursive?: boolean): boolean;
}

/** The metadata key tsyringe (every 4.x) writes `@inject` descriptors under. */
const INJECTION_TOKENS = 'injectionTokens';

interface Parameter {
  token: InjectionToken;
  multiple: boolean;
  optional: boolean;
}

type ReflectWithMetadata = typeof Reflect & { getOwnMetadata?(key: unknown, target: object): unknown; getMetadata?(key: unknown, target: object): unknown };

function asParameter(descriptor: unknown): Parameter | undefined {
  if (descriptor === undefined || descriptor === null) return undefined;
  // tsyringe >= 4.9 stores `{ token, multiple, isOptional }`; older 4.x stores the token itself.
  if (typeof descriptor === 'object' && 'token' in descriptor) {
    const { token, multiple, isOptional } = descriptor as { token: InjectionToken; multiple?: boolean; isOptional?: boolean };
    return { token, multiple: multiple === true, optional: isOptional === true };
  }
  return { token: descriptor as InjectionToken, multiple: false, optional: false };
}

/**
 * The constructor's parameters as tokens, or the indexes that have none.
 * A class with no constructor parameters needs no tokens.
 */
export function constructorParameters(target: InjectableClass): { parameters: Parameter[]; missing: number[] } {
  if (Array.isArray(target.inject)) {
    return { parameters: target.inject.map((token) => ({ token, multiple: false, optional: false })), missing: [] };
  }
  const reflect = Reflect as ReflectWithMetadata;
  const decorated = (reflect.getOwnMetadata?.(INJECTION_TOKENS, target) ?? {}) as Record<number, unknown>;
  // Class-typed parameters of TypeScript code compiled with emitDecoratorMetadata (never by esbuild).
  const designTypes = (reflect.getMetadata?.('design:paramtypes', target) ?? []) as unknown[];
  const count = Math.max(target.length, designTypes.length, ...Object.keys(decorated).map((index) => Number(index) + 1));
  const parameters: Parameter[] = [];
  const missing: number[] = [];
  for (let index = 0; index < count; index++) {
    const designType = designTypes[index];
    const parameter =
      asParameter(decorated[index]) ??
      (typeof designType === 'function' && designType !== Object ? { token: designType as InjectionToken, multiple: false, optional: false } : undefined);
    if (parameter) parameters.push(parameter);
    else missing.push(index);
  }
  return { parameters, missing };
}

function tokenName(token: InjectionToken): string {
  if (typeof token === 'symbol') return token.description ?? token.toString();
  if (typeof token === 'function') return token.name || 'anonymous class';
  return JSON.stringify(token);
}

/**
 * Constructs `target`, resolving each declared token from `resolver`.
 * @throws XEnrichError X_PLUGIN_REGISTER_FAILED naming the parameters without a token, or the
 *   token the container does not hold.
 */
export function construct<T>(target: InjectableClass<T>, resolver: TokenResolver): T {
  const { parameters, missing } = constructorParameters(target);
  if (missing.length > 0) {
    throw new XEnrichError(
      'X_PLUGIN_REGISTER_FAILED',
      `${target.name || 'The provider class'} has constructor parameter${missing.length === 1 ? '' : 's'} ${missing.join(', ')} without a token: ` +
        'declare `static inject = [Tokens.ProviderOptions, ...]` (one token per parameter) or put @inject(Tokens.X) on every parameter.',
    );
  }
  const args = parameters.map(({ token, multiple, optional }) => {
    if (optional && resolver.isRegistered && !resolver.isRegistered(token as never, true)) return multiple ? [] : undefined;
    try {
      return multiple && resolver.resolveAll ? resolver.resolveAll(token as never) : resolver.resolve(token as never);
    } catch (error) {
      throw new XEnrichError('X_PLUGIN_REGISTER_FAILED', `${target.name || 'The provider class'} asks for ${tokenName(token)}, which the instance's container cannot provide: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  });
  return new target(...(args as never[]));
}
