// A Hono 4 app on workerd with the shared layer's Hono middleware.
import { Hono } from '../../node_modules/hono/dist/index.js';
import keyproof from '../../pkg/workerd.js';
import { config } from './config.js';

const engine = new keyproof.Engine(config);
let kv;
const verifier = new keyproof.Verifier(engine, { lookup: (hash) => kv.get(hash, 'json') });

const app = new Hono();
app.use('*', async (c, next) => {
  kv = c.env.KEYS;
  await next();
});
app.use('/v1/*', keyproof.hono(verifier, { clientIp: (c) => c.req.header('CF-Connecting-IP') ?? null }));
app.get('/v1/items', (c) => c.json({ runtime: 'workerd', via: 'hono', keyId: c.get('keyproof').keyId, scopes: c.get('keyproof').scopes }));
app.post('/v1/items', (c) => c.json({ created: true }, 201));
export default app;
