// The deployment both test Workers run (and the test replays in Node).
export const config = {
  formats: ['keyproof_live'],
  policy: {
    credentials: { methods: ['bearer', 'api_key_header'] },
    routes: [
      { method: 'GET', path: '/v1/items', all_of: ['items:read'] },
      { method: 'POST', path: '/v1/items', all_of: ['items:write'] },
    ],
    plans: { starter: { limit: 60, burst: 3 } },
    default_plan: 'starter',
  },
};
