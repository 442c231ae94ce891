// examples/*/checks.json against the Node package (shared runner: js/test-support/examples.mjs).
import kp from '../index.cjs';
import { exampleTests } from '../../js/test-support/examples.mjs';

exampleTests(kp);
