// Every golden vector file in tests/vectors/ runs in place (never copied)
// against the Node package (shared runner: js/test-support/vectors.mjs).
import kp from '../index.cjs';
import { vectorTests } from '../../js/test-support/vectors.mjs';

vectorTests(kp, 'node');
