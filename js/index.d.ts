// Types of the shared layer's module: createKeyproof(native) returns the API
// typed in keyproof.d.ts (NATIVE.md says what `native` must provide).
/** `recordsAsText`: hand plain-object records to the engine as JSON text (faster through napi). */
export function createKeyproof(native: object, tuning?: { recordsAsText?: boolean }): typeof import('./keyproof');
/** Headers of any common shape as a flat `[name, value …]` list (duplicates kept). */
export function flatHeaders(headers: unknown, reads?: ReadonlySet<string>): string[];
/** The raw request target (path and query, as sent) of an absolute URL string. */
export function targetOf(url: string): string;
