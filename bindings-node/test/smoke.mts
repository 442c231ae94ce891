// Type smoke test of the packed package from a fresh directory (no @types/node).
import keyproof, { Engine, Verifier, type Decision, type KeyRecord } from 'keyproof';

const engine: Engine = new keyproof.Engine({ formats: ['keyproof_live'] });
const minted = engine.mint({ name: 'Typed key' });
const record: KeyRecord = minted.record;
const verifier = new Verifier(engine, { lookup: (hash: string) => (hash === record.hash ? record : null) });
const decision: Decision = verifier.verifySync({ method: 'GET', path: '/', headers: [['authorization', `Bearer ${minted.key}`]] });
export const status: number = decision.status;
