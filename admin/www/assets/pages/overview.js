// overview.js -- a server's overview: what it is (mode, token, limits), the volume of
// incoming, outgoing, bounced and held mail by hour (last 24) and by day (last 30) as
// charts, and where to go next when it has sent nothing yet.
//
// Contract: doc/api.md "Statistics of a server" (…/statistics?period=hour|day). Buckets
// are UTC; labels are shown in the browser's time zone. Charts come from lib/chart.js.

import { h } from '../lib/dom.js';
import { t, lang, formatDate } from '../lib/i18n.js';
import { get } from '../lib/api.js';
import { pageHeader, notice, link, badge } from '../lib/ui.js';
import { barChart } from '../lib/chart.js';
import { loadServer, serverTabs, serverCrumbs, serverUrl, serverApi } from './common.js';

const SERIES = () => [
    { key: 'incoming', label: t('overview.incoming'), color: '#1f5f8b' },
    { key: 'outgoing', label: t('overview.outgoing'), color: '#2f8f5b' },
    { key: 'bounced', label: t('overview.bounced'), color: '#b3362b' },
    { key: 'held', label: t('overview.held'), color: '#c98a00' },
];

async function overviewPage(ctx, box) {
    const { org, server } = await loadServer(ctx.params.org, ctx.params.server);
    const base = serverApi(org.permalink, server.permalink);
    const [hours, days] = await Promise.all([get(`${base}/statistics?period=hour&count=24`), get(`${base}/statistics?period=day&count=30`)]);
    box.append(pageHeader(server.name, { crumbs: serverCrumbs(org, server, [t('nav.overview'), null]) }),
        serverTabs(org, server, 'overview'));
    if (server.suspended) box.append(notice(t('server.suspended_notice', { when: formatDate(server.suspended_at) }), 'warning'));
    if (server.mode === 'Development') box.append(notice(t('server.development_notice'), 'info'));

    const totals = days.totals;
    box.append(h('section', { class: 'stats', 'aria-label': t('overview.totals_label') },
        SERIES().map((se) => h('div', { class: ['stat', `stat-${se.key}`] },
            h('span', { class: 'stat-value' }, String(totals[se.key])),
            h('span', { class: 'stat-label' }, se.label)))));
    box.append(h('p', { class: 'hint' }, t('overview.totals_hint')));

    const hourFmt = new Intl.DateTimeFormat(lang(), { hour: '2-digit', minute: '2-digit' });
    const dayFmt = new Intl.DateTimeFormat(lang(), { month: 'short', day: 'numeric' });
    const empty = totals.incoming + totals.outgoing + totals.held + totals.bounced === 0;
    if (empty) {
        box.append(h('div', { class: 'empty' },
            h('h2', null, t('overview.empty_title')),
            h('p', null, t('overview.empty_text')),
            h('p', null, link(serverUrl(org, server, '/domains'), t('overview.go_domains'), { class: 'btn btn-secondary' }), ' ',
                link(serverUrl(org, server, '/credentials'), t('overview.go_credentials'), { class: 'btn btn-secondary' }))));
    }
    box.append(h('section', { class: 'card' },
        barChart({ id: 'chart-hours', title: t('overview.by_hour'), buckets: hours.buckets, series: SERIES(),
            label: (b) => hourFmt.format(new Date(b.start)) })));
    box.append(h('section', { class: 'card' },
        barChart({ id: 'chart-days', title: t('overview.by_day'), buckets: days.buckets, series: SERIES(),
            label: (b) => dayFmt.format(new Date(b.start)) })));
    box.append(h('section', { class: 'card' }, h('h2', null, t('server.facts')),
        h('dl', { class: 'facts' },
            h('dt', null, t('servers.permalink')), h('dd', null, h('code', null, `${org.permalink}/${server.permalink}`)),
            h('dt', null, t('server.token')), h('dd', null, h('code', null, server.token)),
            h('dt', null, t('server.mode')), h('dd', null, server.mode === 'Live' ? badge(t('server.mode.Live'), 'ok') : badge(t('server.mode.Development'), 'warning')),
            h('dt', null, t('server.send_limit')), h('dd', null, server.send_limit === null ? t('server.no_limit') : String(server.send_limit)))));
}

export const routes = [
    { path: '/orgs/:org/servers/:server', page: overviewPage },
];
