// dom.js -- building elements without HTML strings.
//
// Contract: h(tag, props, ...children) makes an element; strings and numbers among the
// children become text nodes, null/undefined/false are skipped, arrays are flattened.
// props: class, text (textContent), on: {event: fn}, dataset: {..}, and any other key
// as an attribute (true = present, false/null = absent); "for" is htmlFor.
//
// Must never: use innerHTML, outerHTML, insertAdjacentHTML or document.write. Every
// piece of API data reaches the page as text.

export function h(tag, props, ...children) {
    const el = document.createElement(tag);
    if (props) {
        for (const [k, v] of Object.entries(props)) {
            if (v === undefined || v === null || v === false) continue;
            if (k === 'class') el.className = Array.isArray(v) ? v.filter(Boolean).join(' ') : v;
            else if (k === 'text') el.textContent = String(v);
            else if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
            else if (k === 'dataset') Object.assign(el.dataset, v);
            else if (k === 'value') el.value = v;
            else if (k === 'checked') el.checked = !!v;
            else if (k === 'for') el.htmlFor = v;
            else el.setAttribute(k, v === true ? '' : String(v));
        }
    }
    append(el, children);
    return el;
}

export function append(el, children) {
    for (const c of children.flat(Infinity)) {
        if (c === null || c === undefined || c === false) continue;
        el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
}

export function clear(el) {
    while (el.firstChild) el.firstChild.remove();
    return el;
}

// A unique id for label/aria pairs.
let seq = 0;
export function uid(prefix = 'id') {
    seq += 1;
    return `${prefix}-${seq}`;
}
