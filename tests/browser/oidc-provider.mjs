// oidc-provider.mjs -- a real OpenID Connect provider for tests/integration/oidc.t:
// npm's oidc-provider (its development login form: any login name and password sign in)
// on 127.0.0.1:PORT, with one confidential client for postgate-admin. It signs with an
// RSA key made here (kid "k1").
//
// Beside the provider, two test hooks that a real provider lacks, so oidc.t can hand the
// relying party ID tokens a real provider would never make:
//   POST /test/mode {"kind", "nonce", "sub", "email"} -- the next request to the token
//        endpoint is answered here, once, with an ID token of that kind: "good" (signed
//        with k1, right issuer and audience), "forged" (signed with a key of this script
//        that the JWKS does not hold, under the kid "k1"), "wrong_aud", "expired", or
//        "rotated" (signed with a new key "k2", which the JWKS publishes from now on).
//   GET /test/jwks-fetches -- how often the JWKS was fetched.
// A login name is the account: its e-mail address is the name (NAME@example.test when
// it has no "@"), verified unless the name starts with "unverified".
//
// Environment: PORT, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI. Prints "READY" when it
// listens; runs until killed.

import { createServer } from 'node:http';
import Provider from 'oidc-provider';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const clientId = process.env.CLIENT_ID;

async function rsaKey(kid) {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const priv = { ...await exportJWK(privateKey), kid, alg: 'RS256', use: 'sig' };
    const pub = { ...await exportJWK(publicKey), kid, alg: 'RS256', use: 'sig' };
    return { privateKey, priv, pub };
}
const k1 = await rsaKey('k1');
const k2 = await rsaKey('k2');
const forger = await rsaKey('k1');   // same kid, another key
let rotated = false;
let jwksFetches = 0;
let mode = null;

const emailOf = (id) => (id.includes('@') ? id : `${id}@example.test`);
const provider = new Provider(issuer, {
    clients: [{
        client_id: clientId,
        client_secret: process.env.CLIENT_SECRET,
        redirect_uris: [process.env.REDIRECT_URI],
        response_types: ['code'],
        grant_types: ['authorization_code'],
        token_endpoint_auth_method: 'client_secret_basic',
    }],
    jwks: { keys: [k1.priv] },
    cookies: { keys: ['postgate-test-cookie-key'] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    features: { devInteractions: { enabled: true } },
    pkce: { required: () => true },
    async findAccount(ctx, id) {
        return {
            accountId: id,
            async claims() {
                return { sub: id, email: emailOf(id), email_verified: !id.startsWith('unverified'), name: 'Test Person' };
            },
        };
    },
});
provider.on('server_error', (ctx, err) => console.error(`provider error: ${err.stack}`));
const handler = provider.callback();

async function mint(m) {
    const now = Math.floor(Date.now() / 1000);
    const claims = { nonce: m.nonce, email: m.email, email_verified: true, name: 'Minted Person' };
    const key = m.kind === 'forged' ? forger : m.kind === 'rotated' ? k2 : k1;
    return new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: key.pub.kid, typ: 'JWT' })
        .setIssuer(issuer)
        .setSubject(m.sub)
        .setAudience(m.kind === 'wrong_aud' ? 'someone-else' : clientId)
        .setIssuedAt(m.kind === 'expired' ? now - 400 : now)
        .setExpirationTime(m.kind === 'expired' ? now - 300 : now + 300)
        .sign(key.privateKey);
}

function readBody(req) {
    return new Promise((resolve) => {
        let s = '';
        req.on('data', (c) => { s += c; });
        req.on('end', () => resolve(s));
    });
}

function json(res, status, doc) {
    res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
    res.end(JSON.stringify(doc));
}

createServer(async (req, res) => {
    const path = req.url.split('?')[0];
    try {
        if (req.method === 'POST' && path === '/test/mode') {
            mode = JSON.parse(await readBody(req));
            if (mode.kind === 'rotated') rotated = true;
            json(res, 200, { ok: true });
        } else if (req.method === 'GET' && path === '/test/jwks-fetches') {
            json(res, 200, { fetches: jwksFetches });
        } else if (req.method === 'POST' && path === '/token' && mode) {
            const m = mode;
            mode = null;
            await readBody(req);
            json(res, 200, { access_token: 'minted-access-token', token_type: 'Bearer', expires_in: 300, id_token: await mint(m) });
        } else if (req.method === 'GET' && path === '/jwks') {
            jwksFetches += 1;
            if (rotated) json(res, 200, { keys: [k1.pub, k2.pub] });
            else handler(req, res);
        } else {
            handler(req, res);
        }
    } catch (e) {
        console.error(`test hook error: ${e.stack}`);
        json(res, 500, { error: 'server_error' });
    }
}).listen(port, '127.0.0.1', () => console.log('READY'));
