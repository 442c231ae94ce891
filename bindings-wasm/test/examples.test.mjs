// examples/*/checks.json against the WASM package (shared runner: js/test-support/examples.mjs).
import kp from '../pkg/node.js';
import { exampleTests } from '../../js/test-support/examples.mjs';

exampleTests(kp);
