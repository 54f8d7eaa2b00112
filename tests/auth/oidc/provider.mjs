// A real OpenID provider (panva/oidc-provider) for tests, on 127.0.0.1:$OIDC_PORT.
// Its own sign-in page checks the password; consent is granted automatically. PKCE is required.
import http from 'node:http';
import { URLSearchParams } from 'node:url';
import Provider from 'oidc-provider';

const PORT = Number(process.env.OIDC_PORT);
const ISSUER = `http://127.0.0.1:${PORT}`;
const USERS = {
  alice: { password: 'alicepw', groups: ['researchers', 'hubadmins'] },
  bob: { password: 'bobpw', groups: ['researchers'] },
  carol: { password: 'carolpw', groups: ['visitors'] },
};

const provider = new Provider(ISSUER, {
  clients: [{
    client_id: 'hub',
    client_secret: 'hub-secret',
    redirect_uris: process.env.OIDC_REDIRECT_URIS.split(','),
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username'], groups: ['groups'] },
  scopes: ['openid', 'offline_access', 'email', 'profile', 'groups'],
  features: { devInteractions: { enabled: false } },
  cookies: { keys: ['test-cookie-key-not-secret'] },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, id) {
    const u = USERS[id]; if (!u) return undefined;
    return { accountId: id, async claims() {
      return { sub: id, email: `${id}@example.org`, email_verified: true, name: id, preferred_username: id, groups: u.groups };
    } };
  },
});

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (uid, err = '') => `<!doctype html><html><body><h1>Provider sign-in</h1>${err ? `<p class="error">${esc(err)}</p>` : ''}
<form method="post" action="/interaction/${esc(uid)}/login">
<input name="username" id="op-username" autofocus><input name="password" id="op-password" type="password">
<button type="submit" id="op-submit">Sign in</button></form></body></html>`;
const readBody = (req) => new Promise((resolve) => { let b = ''; req.on('data', (c) => (b += c)); req.on('end', () => resolve(new URLSearchParams(b))); });
const callback = provider.callback();

http.createServer(async (req, res) => {
  const m = req.url.match(/^\/interaction\/([^/?]+)(\/login)?/);
  if (!m) return callback(req, res);
  try {
    const details = await provider.interactionDetails(req, res);
    if (req.method === 'GET') { res.writeHead(200, { 'content-type': 'text/html' }); return res.end(page(details.uid)); }
    const body = await readBody(req);
    const u = USERS[body.get('username')];
    if (!u || u.password !== body.get('password')) { res.writeHead(401, { 'content-type': 'text/html' }); return res.end(page(details.uid, 'Invalid username or password')); }
    const accountId = body.get('username');
    const grant = new provider.Grant({ accountId, clientId: details.params.client_id });
    grant.addOIDCScope(details.params.scope);
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { login: { accountId }, consent: { grantId } }, { mergeWithLastSubmission: false });
  } catch (e) { res.writeHead(400, { 'content-type': 'text/plain' }); res.end(String(e)); }
}).listen(PORT, '127.0.0.1', () => console.log(`oidc-provider listening on ${ISSUER}`));
