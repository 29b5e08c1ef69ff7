// router.js -- the one router: paths such as /orgs/:org/servers/:server matched in the
// order they were added, History API navigation, and same-origin <a> clicks taken over.
//
// Contract: addRoutes([{path, page, auth}]) where page(ctx) renders into ctx.main and
// ctx = {params, query, path}; start(onRoute) calls onRoute(route, ctx) for the current
// location and after every navigate() or back/forward. Paths under /api/ are never
// client routes (the server answers those). Unknown paths reach the route '*'.
//
// Must never: navigate to another origin, or decode a parameter twice.

const routes = [];
let handler = null;

export function addRoutes(list) {
    for (const r of list) {
        const names = [];
        const source = r.path === '*' ? '.*' : r.path.replace(/\/:(\w+)/g, (m, name) => {
            names.push(name);
            return '/([^/]+)';
        });
        routes.push({ ...r, names, re: new RegExp(`^${source}/?$`) });
    }
}

function match(path) {
    for (const r of routes) {
        const m = r.re.exec(path);
        if (!m) continue;
        const params = {};
        r.names.forEach((n, i) => {
            try { params[n] = decodeURIComponent(m[i + 1]); } catch { params[n] = m[i + 1]; }
        });
        return { route: r, params };
    }
    return null;
}

function dispatch() {
    const { pathname, search } = window.location;
    const found = match(pathname);
    const query = Object.fromEntries(new URLSearchParams(search));
    if (found && handler) handler(found.route, { params: found.params, query, path: pathname + search });
}

export function navigate(path, { replace = false } = {}) {
    const url = new URL(path, window.location.origin);
    if (url.origin !== window.location.origin) return;
    if (replace) history.replaceState(null, '', url.pathname + url.search);
    else history.pushState(null, '', url.pathname + url.search);
    dispatch();
}

export function reload() {
    dispatch();
}

export function start(onRoute) {
    handler = onRoute;
    window.addEventListener('popstate', dispatch);
    document.addEventListener('click', (e) => {
        if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
        const a = e.target.closest('a[href]');
        if (!a || a.target || a.hasAttribute('download')) return;
        const url = new URL(a.href, window.location.href);
        // /auth/ is the server's too: OpenID Connect sign-in leaves for the provider from there.
        if (url.origin !== window.location.origin || url.pathname.startsWith('/api/')
            || url.pathname.startsWith('/assets/') || url.pathname.startsWith('/auth/')) return;
        if (url.hash && url.pathname === window.location.pathname) return;
        e.preventDefault();
        navigate(url.pathname + url.search);
    });
    dispatch();
}
