// The Verifier's host loop on the WASM package (shared runner: js/test-support/verifier-loop.mjs).
import kp from '../pkg/node.js';
import { verifierLoopTests } from '../../js/test-support/verifier-loop.mjs';

verifierLoopTests(kp, 'WASM');
