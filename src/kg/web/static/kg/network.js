// Draws a cooperation network with the vendored Cytoscape.js: firms joined by one edge per agreement (labelled
// with its form and year; parallel agreements drawn apart), clusters and networks joined to their members.
// A container <div class="kg-network" data-src="/network.json?..."> holds the elements as JSON in a
// <script type="application/json"> child; a <select name="depth"> in the same form redraws at another depth.
(() => {
  "use strict";
  const STYLE = [
    { selector: "node", style: {
      "label": "data(label)", "font-size": 10, "text-valign": "bottom", "text-margin-y": 3,
      "width": 14, "height": 14, "background-color": "#2a6", "min-zoomed-font-size": 7,
      "text-wrap": "ellipsis", "text-max-width": 140 } },
    { selector: "node[kind = 'cluster']", style: { "shape": "hexagon", "background-color": "#d80", "width": 20, "height": 20 } },
    { selector: "node[kind = 'network']", style: { "shape": "diamond", "background-color": "#36c", "width": 20, "height": 20 } },
    { selector: "node[?focus]", style: { "background-color": "#c33", "width": 24, "height": 24, "font-weight": "bold", "font-size": 12 } },
    { selector: "edge", style: {
      "curve-style": "bezier", "control-point-step-size": 28, "width": 1.5, "line-color": "#999",
      "label": "data(label)", "font-size": 8, "text-rotation": "autorotate", "color": "#333",
      "text-background-color": "#fff", "text-background-opacity": 0.85, "text-background-padding": 1,
      "min-zoomed-font-size": 6 } },
    { selector: "edge[kind = 'member']", style: { "line-style": "dashed", "line-color": "#bbb", "label": "" } },
    { selector: "node[kind = 'class']", style: { "shape": "round-rectangle", "background-color": "#eef", "border-width": 1,
      "border-color": "#669", "width": (n) => Math.max(30, n.data("label").length * 6.2), "height": 18,
      "min-zoomed-font-size": 0, "text-valign": "center", "text-margin-y": 0, "padding": 4 } },
    { selector: "edge[kind = 'subclass']", style: { "target-arrow-shape": "triangle-backcurve", "target-arrow-fill": "hollow",
      "line-color": "#557", "target-arrow-color": "#557", "label": "" } },
    { selector: "edge[kind = 'property']", style: { "target-arrow-shape": "vee", "line-color": "#aab",
      "target-arrow-color": "#aab", "line-style": "dotted" } },
    { selector: ":selected", style: { "line-color": "#c33", "background-color": "#c33" } },
  ];

  function elements(data) {
    const nodes = data.nodes.map((n) => ({ group: "nodes", data: n }));
    const edges = data.edges.map((e) => ({ group: "edges", data: e }));
    return nodes.concat(edges);
  }

  // a neighbourhood in rings around its focus; a whole network or a class diagram by force-directed placement
  function layout(data) {
    const focus = data.nodes.find((n) => n.focus);
    if (focus) {
      return { name: "breadthfirst", roots: [focus.id], circle: true, spacingFactor: 0.9, padding: 20, animate: false,
               nodeDimensionsIncludeLabels: true };
    }
    if (data.nodes.length > 300) {
      // force-directed placement is quadratic: a large network goes in rings, the best connected in the middle
      return { name: "concentric", concentric: (n) => n.degree(), levelWidth: () => 2, minNodeSpacing: 12,
               animate: false };
    }
    const classes = data.nodes.some((n) => n.kind === "class");
    return { name: "cose", animate: false, nodeRepulsion: () => (classes ? 60000 : 400000),
             idealEdgeLength: () => (classes ? 60 : 120), gravity: classes ? 4 : 1, componentSpacing: 40,
             nodeOverlap: 20, nodeDimensionsIncludeLabels: true, randomize: false,
             numIter: data.nodes.length > 400 ? 300 : 1000 };
  }

  function draw(container, data) {
    const canvas = container.querySelector(".kg-canvas");
    const status = container.querySelector(".kg-status");
    if (container.kgCy) { container.kgCy.destroy(); }
    container.dataset.ready = "false";
    const cy = cytoscape({
      container: canvas,
      elements: elements(data),
      style: STYLE,
      layout: layout(data),
    });
    cy.on("tap", "node", (ev) => { window.location.href = ev.target.data("href"); });
    cy.on("tap", "edge[href]", (ev) => { window.location.href = ev.target.data("href"); });
    cy.on("mouseover", "edge[title]", (ev) => { canvas.title = ev.target.data("title"); });
    // a large drawing is not shrunk below legibility: the reader pans and zooms instead
    const legible = data.nodes.some((n) => n.kind === "class") ? 0.75 : 0.5;
    if (cy.zoom() < legible) { cy.zoom(legible); cy.center(); }
    container.kgCy = cy;
    window.kgNetwork = cy;
    if (status && data.summary) {
      status.textContent = data.summary;
    } else if (status) {
      const shown = `${data.nodes.length} nodes, ${data.agreements} agreements`;
      status.textContent = data.truncated
        ? `${shown} (there are more: at most ${data.limit} agreements are drawn; narrow the view with the filters ` +
          "or a smaller depth)"
        : shown;
    }
    container.dataset.ready = "true";
  }

  function init(container) {
    const script = container.querySelector("script[type='application/json']");
    draw(container, JSON.parse(script.textContent));
    const form = container.closest("form");
    const depth = form && form.querySelector("select[name='depth']");
    if (depth) {
      depth.addEventListener("change", async () => {
        const url = new URL(container.dataset.src, window.location.href);
        url.searchParams.set("depth", depth.value);
        const status = container.querySelector(".kg-status");
        if (status) { status.textContent = "loading…"; }
        const resp = await fetch(url, { headers: { Accept: "application/json" } });
        if (!resp.ok) { if (status) { status.textContent = await resp.text(); } return; }
        draw(container, await resp.json());
      });
    }
  }

  document.querySelectorAll(".kg-network").forEach(init);
})();
