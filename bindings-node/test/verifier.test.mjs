// The Verifier's host loop on the Node package (shared runner: js/test-support/verifier-loop.mjs).
import kp from '../index.cjs';
import { verifierLoopTests } from '../../js/test-support/verifier-loop.mjs';

verifierLoopTests(kp, 'Node');
