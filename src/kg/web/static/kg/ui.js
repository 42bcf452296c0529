// The query UI on `/`: the vendored YASGUI on this server's /sparql, every saved query as a tab whose parameters
// are bound by the engine (`$name=<term>` request parameters), completion of this dataset's classes and
// properties, the project's prefixes declared in the editor, this dataset's IRIs linked to their local pages,
// and large results shown as a bounded preview with the whole result as a download.
(() => {
  "use strict";
  const config = JSON.parse(document.getElementById("kg-config").textContent);
  const endpoint = new URL(config.endpoint, window.location.href).href;
  const prefixes = config.prefixes;
  const base = config.base;  // this dataset's IRIs start with it; their pages are local
  const Yasqe = Yasgui.Yasqe;
  const Yasr = Yasgui.Yasr;

  // ---- completion: the bundled prefix list with the project's first; classes and properties of this dataset
  const bundledPrefixes = Yasqe.Autocompleters.prefixes.get;
  Yasqe.forkAutocompleter("prefixes", {
    name: "prefixes",
    persistenceId: null,  // not cached in localStorage, so the list is always this page's
    get: (yasqe) => Promise.resolve(bundledPrefixes(yasqe)).then((bundled) => {
      const ours = Object.entries(prefixes).map(([p, iri]) => `${p}: <${iri}>`);
      const others = bundled.filter((line) => !(line.split(":")[0] in prefixes));
      return [...ours, ...others].sort();
    }),
  }, false);
  // the stock class and property completers ask lov.linkeddata.es; these know this dataset's terms instead
  Yasqe.forkAutocompleter("class", { name: "kg-class", bulk: true, persistenceId: null,
                                     get: () => config.vocabulary.classes }, false);
  Yasqe.forkAutocompleter("property", { name: "kg-property", bulk: true, persistenceId: null,
                                        get: () => config.vocabulary.properties }, false);
  Yasqe.defaults.autocompleters = ["variables", "prefixes", "kg-class", "kg-property"];

  // ---- result tables: this dataset's IRIs open their page on this server, in the same window
  const localPath = (iri) => (iri.startsWith(base) && iri.length > base.length ? "/" + iri.slice(base.length) : null);
  class KgTable extends Yasr.plugins.table {
    getUriLinkFromBinding(binding, shown) {
      const html = super.getUriLinkFromBinding(binding, shown);
      const path = localPath(binding.value);
      if (!path) { return html; }
      const holder = document.createElement("template");
      holder.innerHTML = html;
      const a = holder.content.querySelector("a");
      if (!a) { return html; }
      a.setAttribute("href", path);
      a.removeAttribute("target");
      a.removeAttribute("rel");
      a.title = binding.value;
      return holder.innerHTML;
    }
  }
  Yasr.registerPlugin("table", KgTable);

  const previewArg = { name: "preview", value: String(config.preview) };
  const yasgui = new Yasgui(document.getElementById("yasgui"), {
    requestConfig: { endpoint: endpoint, method: "POST", args: [previewArg] },
    persistenceId: null,  // nothing in localStorage: every visit shows the saved queries as they are on the server
    autoAddOnInit: false,
    copyEndpointOnNewTab: true,
    endpointCatalogueOptions: { getData: () => [{ endpoint: endpoint }] },
    yasqe: { value: config.defaultQuery, resizeable: true, prefixCcApi: null },
    yasr: { prefixes: prefixes },
  });

  // ---- saved queries as tabs, each with its parameters
  const savedByTab = {};  // tab id -> saved query
  const values = {};  // tab id -> {parameter: raw value}
  config.saved.forEach((q, i) => {
    const tab = yasgui.addTab(i === 0, { name: q.name, yasqe: { value: q.text } });
    savedByTab[tab.getId()] = q;
    values[tab.getId()] = Object.fromEntries(q.params.map((p) => [p.name, p.default ?? ""]));
  });
  if (!config.saved.length) { yasgui.addTab(true); }

  // a parameter's raw value as an N-Triples term, as /sparql's `$name` parameters take it
  const XSD = "http://www.w3.org/2001/XMLSchema#";
  const quote = (s) => '"' + s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n").replace(/\r/g, "\\r") + '"';
  function term(param, raw) {
    const value = raw.trim();
    switch (param.type) {
      case "iri": return `<${value}>`;
      case "integer": return `${quote(value)}^^<${XSD}integer>`;
      case "decimal": return `${quote(value)}^^<${XSD}decimal>`;
      case "year": return `${quote(value)}^^<${XSD}gYear>`;
      case "language": return quote(value.toLowerCase());
      default: return quote(raw);
    }
  }

  function bindArgs(tab) {
    const q = savedByTab[tab.getId()];
    const args = [previewArg];
    if (q) {
      for (const p of q.params) {
        const raw = values[tab.getId()][p.name];
        if (raw !== undefined && raw !== "") { args.push({ name: "$" + p.name, value: term(p, raw) }); }
      }
    }
    tab.setRequestConfig({ args: args });
  }

  const bar = document.getElementById("kg-params");
  function renderParams(tab) {
    const q = savedByTab[tab.getId()];
    // above the editor of the tab shown
    const panel = document.querySelector(".tabPanel.active");
    if (panel && bar.parentElement !== panel) { panel.prepend(bar); }
    bar.replaceChildren();
    if (!q) { bar.hidden = true; return; }
    bar.hidden = false;
    const title = document.createElement("p");
    const link = document.createElement("a");
    link.href = `/queries/${encodeURIComponent(q.name)}`;
    link.textContent = q.summary;
    title.append(link);
    bar.append(title);
    if (!q.params.length) { return; }
    for (const p of q.params) {
      const label = document.createElement("label");
      label.textContent = `?${p.name} (${p.type})`;
      label.htmlFor = `kg-param-${p.name}`;
      let input;
      if (p.choices && p.choices.length) {
        input = document.createElement("select");
        for (const c of p.choices) {
          const o = document.createElement("option");
          o.value = c.iri;
          o.textContent = c.label;
          input.append(o);
        }
      } else {
        input = document.createElement("input");
        input.type = p.type === "iri" ? "url" : (p.type === "integer" || p.type === "decimal") ? "number" : "text";
        if (p.type === "decimal") { input.step = "any"; }
        input.size = p.type === "iri" ? 60 : 20;
      }
      input.id = `kg-param-${p.name}`;
      input.name = p.name;
      input.title = p.description || p.name;
      input.value = values[tab.getId()][p.name];
      input.addEventListener("change", () => {
        values[tab.getId()][p.name] = input.value;
        bindArgs(tab);
      });
      const span = document.createElement("span");
      span.className = "kg-param";
      span.append(label, " ", input);
      bar.append(span);
    }
    const note = document.createElement("p");
    note.className = "meta";
    note.textContent = "Parameters are bound by the query engine (sent as $name=<term>), never pasted into the text.";
    bar.append(note);
  }

  yasgui.on("tabSelect", (_, id) => { window.setTimeout(() => renderParams(yasgui.getTab(id)), 0); });
  Object.keys(savedByTab).forEach((id) => bindArgs(yasgui.getTab(id)));

  // ---- open a saved query with given values (the saved query page's "open in the editor": ?saved=NAME&p=v)
  const params = new URLSearchParams(window.location.search);
  const wanted = params.get("saved");
  if (wanted) {
    const id = Object.keys(savedByTab).find((k) => savedByTab[k].name === wanted);
    if (id) {
      for (const p of savedByTab[id].params) {
        if (params.has(p.name)) { values[id][p.name] = params.get(p.name); }
      }
      bindArgs(yasgui.getTab(id));
      yasgui.selectTabId(id);
    }
  }
  renderParams(yasgui.getTab());

  // ---- the project's prefixes: declared in the editor when a query uses one it does not declare
  function declareProjectPrefixes(yasqe) {
    const declared = yasqe.getPrefixesFromQuery();
    const text = yasqe.getValue()
      .replace(/<[^<>\s]*>/g, " ")
      .replace(/"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'/g, " ")
      .replace(/#[^\n]*/g, " ");
    const missing = {};
    for (const m of text.matchAll(/(?:^|[\s(){}.;,/|^!=<>*+])([A-Za-z][\w.-]*)?:(?=[\w\u00C0-\uFFFF%])/g)) {
      const prefix = m[1] || "";
      if (!(prefix in declared) && prefix in prefixes) { missing[prefix] = prefixes[prefix]; }
    }
    if (Object.keys(missing).length) { yasqe.addPrefixes(missing); }
  }

  // ---- a large result: the first rows are shown, the whole result is a download
  function previewBanner(tab, response) {
    const yasr = tab.getYasr();
    let banner = yasr.rootEl.querySelector(".kg-preview");
    if (!banner) {
      banner = document.createElement("div");
      banner.className = "kg-preview note";
      yasr.rootEl.prepend(banner);
    }
    const total = response && response.headers ? response.headers.get("X-Result-Total-Rows") : null;
    if (!total) { banner.hidden = true; return; }
    const shown = Number(response.headers.get("X-Result-Preview"));
    banner.hidden = false;
    banner.replaceChildren();
    const text = document.createElement("span");
    text.textContent = `Showing the first ${shown.toLocaleString("en")} of ${Number(total).toLocaleString("en")} rows. ` +
      "Download the whole result: ";
    banner.append(text);
    for (const [format, name] of [["csv", "CSV"], ["tsv", "TSV"], ["json", "JSON"], ["xml", "XML"]]) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = name;
      button.dataset.format = format;
      button.addEventListener("click", () => download(tab, format));
      banner.append(button, " ");
    }
  }

  // ---- a result the server cut (X-Result-Truncated: rows=N or bytes=N): a banner says so, with the reason
  function truncatedBanner(response) {
    const banner = document.getElementById("kg-truncated");
    if (!banner) { return; }
    const cut = response && response.headers ? response.headers.get("X-Result-Truncated") : null;
    banner.hidden = !cut;
    if (!cut) { return; }
    const [kind, limit] = cut.split("=");
    document.getElementById("kg-truncated-why").textContent = kind === "rows"
      ? `The server answers at most ${Number(limit).toLocaleString("en")} rows per query; more matched.`
      : `The answer was larger than the server's limit of ${Number(limit).toLocaleString("en")} bytes, so rows were left out.`;
    document.getElementById("kg-truncated-link").href = config.limits + "#result-" + kind;
  }

  function download(tab, format) {
    // posted into a hidden frame; the server answers with an attachment, so the editor stays as it is
    let frame = document.querySelector("iframe[name='kg-download']");
    if (!frame) {
      frame = document.createElement("iframe");
      frame.name = "kg-download";
      frame.hidden = true;
      document.body.append(frame);
    }
    const form = document.createElement("form");
    form.method = "POST";
    form.action = endpoint;
    form.target = "kg-download";
    const add = (name, value) => {
      const input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = value;
      form.append(input);
    };
    add("query", tab.getYasqe().getValue());
    add("format", format);
    add("download", "1");
    for (const a of tab.getRequestConfig().args || []) {
      if (a.name.startsWith("$")) { add(a.name, a.value); }
    }
    document.body.append(form);
    form.submit();
    form.remove();
  }

  function wire(tab) {
    const yasqe = tab.getYasqe();
    if (!yasqe || yasqe.kgWired) { return; }
    yasqe.kgWired = true;
    yasqe.on("queryBefore", () => declareProjectPrefixes(yasqe));
    yasqe.on("queryResponse", (_, response) => { previewBanner(tab, response); truncatedBanner(response); });
  }
  yasgui.on("tabAdd", (_, id) => window.setTimeout(() => { const t = yasgui.getTab(id); if (t) { wire(t); } }, 0));
  yasgui.on("tabSelect", (_, id) => window.setTimeout(() => { const t = yasgui.getTab(id); if (t) { wire(t); } }, 0));
  wire(yasgui.getTab());

  window.kgYasgui = yasgui;
  window.kgPrefixes = prefixes;
})();
