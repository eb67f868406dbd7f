// Event reference (issue 17, "for receivers"): what the tenant's
// customers build a receiver against, per event type its description,
// its schema and an example payload, and the same reference as Markdown
// to download. eventref.js builds both exactly as `hookline docs events`
// does, so the page, the download and the CLI agree.

import { api, tenantPath, qs } from '../api.js';
import { html, useState, useAsync, ErrorBox, Loading } from '../ui.js';
import { exampleOf, readableJSON, anchor, hasSchema, markdown } from '../eventref.js';

// allTypes reads the whole catalogue: the reference is one document, so
// it follows every cursor instead of paging.
async function allTypes(tenant) {
  const all = [];
  let cursor = '';
  for (;;) {
    const page = await api('GET', tenantPath(tenant, '/event-types') + qs({ limit: 100, cursor }));
    all.push(...(page.data || []));
    if (!page.next_cursor) return all;
    cursor = page.next_cursor;
  }
}

function CopyExample({ id, text, type }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
    } catch {
      // Without clipboard access the example is selected for the user to copy.
      const el = document.getElementById(id);
      if (el) getSelection().selectAllChildren(el);
    }
  };
  return html`<button type="button" class="small" onClick=${copy} aria-label=${'Copy the example of ' + type}>${copied ? 'Copied' : 'Copy'}</button>`;
}

function EventType({ et, i }) {
  const schema = hasSchema(et);
  const example = schema ? readableJSON(exampleOf(et.schema)) : '';
  return html`<article class="panel event-ref" id=${'ref-' + i} aria-labelledby=${'ref-h-' + i}>
    <h2 id=${'ref-h-' + i}><code>${et.type}</code></h2>
    ${et.description ? html`<p class="desc">${et.description}</p>` : null}
    ${schema ? html`
      <h3>Schema</h3>
      <pre class="json ref-schema">${readableJSON(et.schema)}</pre>
      <div class="row"><h3>Example</h3><span class="spacer"></span><${CopyExample} id=${'ref-example-' + i} text=${example} type=${et.type} /></div>
      <pre class="json ref-example" id=${'ref-example-' + i}>${example}</pre>`
    : html`<p class="muted">No payload schema is registered.</p>`}
  </article>`;
}

// Contents links to each type. The hash is the router's, so the links
// scroll to their type instead of following their href.
function Contents({ types }) {
  return html`<nav aria-label="Event types" class="ref-toc"><ul>
    ${types.map((et, i) => html`<li><a href=${'#' + anchor(et.type)} onClick=${(e) => { e.preventDefault(); document.getElementById('ref-' + i)?.scrollIntoView(); }}><code>${et.type}</code></a></li>`)}
  </ul></nav>`;
}

export default function EventReference({ tenant }) {
  const r = useAsync(() => allTypes(tenant), [tenant]);
  const types = r.data || [];
  const md = r.data ? markdown(tenant, types) : '';
  return html`<section>
    <div class="page-head"><h1>Event reference</h1><span class="spacer"></span>
      ${r.data ? html`<a id="ref-download" class="button" download=${'events-' + tenant + '.md'}
        href=${'data:text/markdown;charset=utf-8,' + encodeURIComponent(md)}>Download Markdown</a>` : null}</div>
    <p class="muted">What each event's payload holds, with an example (the schema's own, else one built from it). The same as <code>hookline docs events --tenant ${tenant}</code>.</p>
    <${ErrorBox} error=${r.error} />
    ${r.loading && !r.data ? html`<${Loading} what="the event reference" />` : null}
    ${r.data && types.length === 0 ? html`<p class="empty" id="ref-empty">No event types are registered yet.</p>` : null}
    ${types.length ? html`<${Contents} types=${types} />` : null}
    <div id="event-reference">${types.map((et, i) => html`<${EventType} et=${et} i=${i} key=${et.type} />`)}</div>
  </section>`;
}
