// api.js -- the one client of the management API (/api/v2/, doc/api.md) that every page
// uses: JSON in and out, the session's CSRF token on every write, errors as ApiError
// with the server's code, message and per-field errors.
//
// Contract: get/post/patch/del(path[, body]) and upload(path, blob, type, onProgress) resolve to the answer's `data`, or reject
// with ApiError {status, code, message, fields: {field: [messages]}}; status 0 and code
// "NetworkError" when the server could not be reached. A 403 CSRFTokenInvalid fetches
// the token again (GET /session) and retries the write once. A 401 calls the handler
// given to onUnauthorized() (the app shows the login page). p`...` builds paths with
// every interpolated value URL-encoded as one segment.
//
// Must never: keep the session token (it is an HttpOnly cookie the page cannot read),
// store the CSRF token anywhere but in memory, or send a write without it.

const BASE = '/api/v2';
let csrfToken = null;
let unauthorized = () => {};

export class ApiError extends Error {
    constructor(status, code, message, fields) {
        super(message);
        this.status = status;
        this.code = code;
        this.fields = fields || {};
    }
}

export function onUnauthorized(fn) {
    unauthorized = fn;
}

export function setCsrfToken(token) {
    csrfToken = token || null;
}

// p`/organizations/${org}/servers` with each value encoded as a path segment.
export function p(strings, ...values) {
    return strings.reduce((acc, s, i) => acc + s + (i < values.length ? encodeURIComponent(String(values[i])) : ''), '');
}

async function send(method, path, body, retried) {
    const headers = { Accept: 'application/json' };
    const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
    if (body !== undefined) {
        headers['Content-Type'] = 'application/json';
        init.body = JSON.stringify(body);
    }
    if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
    let res;
    try {
        res = await fetch(BASE + path, init);
    } catch (e) {
        throw new ApiError(0, 'NetworkError', e.message);
    }
    let doc = null;
    try {
        doc = await res.json();
    } catch {
        doc = null;
    }
    if (res.ok && doc && doc.status === 'success') return doc.data || {};
    const data = (doc && doc.data) || {};
    const code = data.code || `HTTP${res.status}`;
    if (res.status === 403 && code === 'CSRFTokenInvalid' && !retried) {
        await refreshCsrf();
        return send(method, path, body, true);
    }
    const err = new ApiError(res.status, code, data.message || res.statusText, data.errors);
    // The session's own calls answer 401 for a wrong password or code: the page says so.
    if (res.status === 401 && path !== '/session' && path !== '/session/totp') unauthorized(err);
    throw err;
}

async function refreshCsrf() {
    try {
        const s = await send('GET', '/session', undefined, true);
        setCsrfToken(s.csrf_token);
    } catch {
        setCsrfToken(null);
    }
}

// A large body (a CSV import) sent with XMLHttpRequest, whose upload reports progress:
// onProgress(sentBytes, totalBytes). Resolves and rejects as send() does (CSRF retried once).
export function upload(path, body, contentType, onProgress, retried = false) {
    return new Promise((resolve, reject) => {
        const xhr = new XMLHttpRequest();
        xhr.open('POST', BASE + path);
        xhr.setRequestHeader('Content-Type', contentType);
        xhr.setRequestHeader('Accept', 'application/json');
        if (csrfToken) xhr.setRequestHeader('X-CSRF-Token', csrfToken);
        xhr.withCredentials = true;
        xhr.upload.addEventListener('progress', (e) => { if (onProgress) onProgress(e.loaded, e.lengthComputable ? e.total : body.size || 0); });
        xhr.addEventListener('error', () => reject(new ApiError(0, 'NetworkError', 'The server could not be reached.')));
        xhr.addEventListener('load', async () => {
            let doc = null;
            try { doc = JSON.parse(xhr.responseText); } catch { doc = null; }
            if (xhr.status >= 200 && xhr.status < 300 && doc && doc.status === 'success') { resolve(doc.data || {}); return; }
            const data = (doc && doc.data) || {};
            const code = data.code || `HTTP${xhr.status}`;
            if (xhr.status === 403 && code === 'CSRFTokenInvalid' && !retried) {
                await refreshCsrf();
                upload(path, body, contentType, onProgress, true).then(resolve, reject);
                return;
            }
            const err = new ApiError(xhr.status, code, data.message || xhr.statusText, data.errors);
            if (xhr.status === 401) unauthorized(err);
            reject(err);
        });
        xhr.send(body);
    });
}

export const get = (path) => send('GET', path);
export const post = (path, body = {}) => send('POST', path, body);
export const patch = (path, body = {}) => send('PATCH', path, body);
export const del = (path, body) => send('DELETE', path, body);

// The session: who is logged in (null when nobody), log in, log out. The probe asks
// /session/status, which answers 200 when nobody is logged in too, so a signed-out
// visitor's page makes no failed request (and the browser logs no error).
let signIn = { local: true, oidc: null };
// How one may sign in, as the last probe said: { local, oidc: null or { name, start } }.
export const signInOptions = () => signIn;

export async function currentSession() {
    const s = await get('/session/status');
    if (s.sign_in) signIn = s.sign_in;
    if (!s.authenticated) {
        setCsrfToken(null);
        return null;
    }
    setCsrfToken(s.csrf_token);
    return s;
}

export async function login(email, password) {
    const s = await post('/session', { email, password });
    setCsrfToken(s.csrf_token);
    return s;
}

export async function logout() {
    try {
        await del('/session');
    } finally {
        setCsrfToken(null);
    }
}
