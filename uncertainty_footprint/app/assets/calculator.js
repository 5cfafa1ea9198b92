// The calculator's client-side callbacks. The server answers each interaction with one "view": the results as
// formatted text and two chart specifications (uncertainty_footprint/app/page.py). This script writes that text
// into the page (as text nodes: nothing from an input is ever parsed as HTML), hands the charts to Plotly, keeps
// the URL equal to the state (no reload, no new history entry) and exports the chart; the controls themselves
// are left to Dash, so that a click re-renders only what changed.
(function () {
    "use strict";

    var last = null;      // the last valid view: a card's sources are drawn from it when they are opened
    var bibliography = {};

    function h(tag, attrs, children) {
        var el = document.createElement(tag);
        Object.keys(attrs || {}).forEach(function (key) {
            var value = attrs[key];
            if (value === null || value === undefined || value === false) { return; }
            if (key === "text") { el.textContent = value; } else if (key === "className") { el.className = value; }
            else { el.setAttribute(key, value === true ? "" : String(value)); }
        });
        (children || []).forEach(function (child) {
            if (child === null || child === undefined) { return; }
            el.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
        });
        return el;
    }

    function setText(id, value) {
        var el = document.getElementById(id);
        if (el && el.textContent !== value) { el.textContent = value; }
    }

    function fill(id, nodes) {
        var el = document.getElementById(id);
        if (el) { el.replaceChildren.apply(el, nodes); }
        return el;
    }

    function bar(share) {
        var fillEl = h("div", {className: "bar-fill"});
        fillEl.style.width = (100 * share).toFixed(1) + "%";
        return h("div", {className: "bar", "aria-hidden": "true"}, [fillEl]);
    }

    // A table of [name, detail, cell, cell, share] rows.
    function table(id, caption, head, columns, rows) {
        var header = h("tr", {}, [h("th", {scope: "col", text: head})].concat(
            columns.map(function (c) { return h("th", {scope: "col", text: c}); }),
            [h("th", {scope: "col", text: "share"})]));
        var body = rows.map(function (r) {
            var name = h("td", {}, [r[0], r[1] ? h("span", {className: "hot-detail", text: " " + r[1]}) : null]);
            return h("tr", {}, [name].concat(r.slice(2, 2 + columns.length).map(function (c) {
                return h("td", {className: "num", text: c});
            }), [h("td", {}, [bar(r[2 + columns.length])])]));
        });
        return h("table", {id: id}, [h("caption", {text: caption}), h("thead", {}, [header]),
                                     h("tbody", {}, body)]);
    }

    function renderTotal(view) {
        var t = view.total;
        var parts = [h("span", {className: "total-label", text: "Total "}),
                     h("span", {id: "total-median", className: "total-median", text: t.median}),
                     " kg CO2-eq, 90 % interval ",
                     h("span", {id: "total-interval", text: t.interval}),
                     h("span", {className: "total-point", text: t.rest})];
        if (view.balance) {
            var b = view.balance;
            parts.push(h("div", {id: "balance", className: "balance"}, [
                "Net balance ", h("span", {id: "balance-median", text: b.median}), b.text,
                h("span", {id: "balance-statement", text: b.statement})]));
        }
        if (t.without) { parts.push(h("div", {id: "total-without", className: "note", text: t.without})); }
        fill("total", parts);
    }

    function renderHotspots(view) {
        var hs = view.hotspots;
        setText("hotspots-heading", hs.heading);
        setText("sentence", view.sentence);
        var nodes = [];
        if (hs.components.length) {
            nodes.push(table("hot-components", "Components", "component", hs.columns, hs.components));
        }
        if (hs.parameters.length) {
            nodes.push(table("hot-parameters", "Parameters", "parameter", hs.columns, hs.parameters));
        }
        if (hs.note) { nodes.push(h("p", {className: "note", text: hs.note})); }
        fill("hotspots", nodes);
    }

    function renderCards(view) {
        Object.keys(view.cards).forEach(function (name) {
            var c = view.cards[name];
            var info = document.getElementById("info-" + name);
            if (info) {
                if (!info.firstChild) {
                    info.appendChild(h("span", {id: "flag-" + name, className: "flag"}));
                    info.appendChild(h("span", {id: "method-now-" + name, className: "method-now"}));
                    info.appendChild(h("span", {id: "now-" + name, className: "now"}));
                }
                setText("flag-" + name, c.flag);
                var flag = document.getElementById("flag-" + name);
                if (c.flag_title) { flag.setAttribute("title", c.flag_title); } else { flag.removeAttribute("title"); }
                setText("method-now-" + name, c.method);
                setText("now-" + name, c.now);
            }
            renderSources(name, false);
        });
    }

    function citation(key) {
        return bibliography[key] || key;
    }

    // The inputs behind a card's value: drawn when the list is open (or opened).
    function renderSources(name, force) {
        var box = document.getElementById("src-" + name);
        if (!box || !last) { return; }
        var known = Object.prototype.hasOwnProperty.call(last.sources || {}, name);
        if (!known && name === "truncation") { box.replaceChildren(); return; }  // no truncation component
        var rows = known ? last.sources[name] : [];
        var details = box.firstChild;
        if (!details) {
            details = h("details", {className: "sources"}, [h("summary", {}), h("div", {className: "src-body"})]);
            details.addEventListener("toggle", function () { renderSources(name, true); });
            box.appendChild(details);
        }
        var assumed = rows.filter(function (r) { return r[4] === "assumed"; }).length;
        details.firstChild.textContent = rows.length ?
            "Sources: " + rows.length + " input" + (rows.length === 1 ? "" : "s") +
            (assumed ? ", " + assumed + " assumed" : "") : "Sources: no inputs (0 kg)";
        if (!details.open && !force) { return; }
        var body = details.lastChild;
        if (!rows.length) {
            body.replaceChildren(h("p", {className: "note", text: "Nothing computes this card."}));
            return;
        }
        var head = headRow(["input", "distribution", "unit", "status", "source", "pedigree"]);
        var trs = rows.map(function (r) {
            var sources = h("td", {}, []);
            r[5].forEach(function (key, i) {
                if (i) { sources.appendChild(document.createTextNode(", ")); }
                sources.appendChild(h("span", {className: "cite", title: citation(key), text: key}));
            });
            var name = [h("code", {text: r[0]}), r[1] ? h("div", {className: "hot-detail", text: r[1]}) : null];
            return h("tr", {className: "status-" + r[4]}, [
                h("td", {title: r[8] || null}, name),
                h("td", {text: r[2]}), h("td", {text: r[3]}),
                h("td", {}, [r[4] === "assumed" ? h("mark", {className: "assumed", text: "assumed"}) : r[4]]),
                sources,
                h("td", {title: r[7] || null, text: r[6] || "-"})]);
        });
        body.replaceChildren(h("table", {className: "src-table"}, [
            h("caption", {text: "Inputs behind this card (distribution, unit, status and source, from the data " +
                                "catalog or the experiment)"}),
            h("thead", {}, [head]), h("tbody", {}, trs)]));
    }

    function headRow(cells) {
        return h("tr", {}, cells.map(function (c) { return h("th", {scope: "col", text: c}); }));
    }

    function abRow(label, name, median, interval, ids, className) {
        return h("tr", {className: className || null}, [
            h("th", {scope: "row", text: label}), h("td", {text: name}),
            h("td", {id: ids[0], className: "num", text: median}),
            h("td", {id: ids[1], className: "num", text: interval})]);
    }

    function renderAB(view) {
        var ab = view.ab;
        document.body.classList.toggle("ab-mode", !!ab);
        if (!ab) {
            fill("ab", [h("p", {className: "note", text: "Keep this device as design A, then change it into " +
                "design B: both totals, their difference and P(B < A) from common random numbers."})]);
            return;
        }
        var rows = [abRow("A", ab.a.name, ab.a.median, ab.a.interval, ["ab-a-median", "ab-a-interval"]),
                    abRow("B", ab.b.name, ab.b.median, ab.b.interval, ["ab-b-median", "ab-b-interval"])];
        if (ab.diff) {
            rows.push(abRow("B - A", "paired difference (common random numbers)", ab.diff.median, ab.diff.interval,
                            ["ab-diff-median", "ab-diff-interval"], "ab-diff"));
        }
        var nodes = [h("table", {id: "ab-table"}, [
            h("caption", {text: "Two designs, kg CO2-eq"}),
            h("thead", {}, [headRow(["design", "name", "median", "90 % interval"])]),
            h("tbody", {}, rows)])];
        if (ab.diff) {
            nodes.push(h("p", {id: "ab-p", className: "ab-p"}, [
                "P(B < A) = ", h("strong", {id: "ab-p-value", text: ab.p}), ": " + ab.verdict + "."]));
            if (ab.decided) { nodes.push(h("p", {id: "ab-decided", text: ab.decided})); }
            if (ab.decides.length) {
                nodes.push(table("ab-decides", "What decides the difference: exact shares of its variance", "input",
                                 ["Shapley", "ST"], ab.decides));
            }
        }
        if (ab.note) { nodes.push(h("p", {className: "note", id: "ab-note", text: ab.note})); }
        fill("ab", nodes);
    }

    // The URL follows the state once the new numbers are painted (replacing a long URL is work for the browser
    // that need not come before the numbers). window.calculatorUrlPending is true until then (the browser tests
    // wait for it).
    var pendingQuery = null;
    window.calculatorUrlPending = false;
    function replaceUrl(query) {
        if (!query) { return; }
        var first = pendingQuery === null;
        pendingQuery = query;
        window.calculatorUrlPending = true;
        if (!first) { return; }
        window.requestAnimationFrame(function () {
            window.setTimeout(function () {
                var q = pendingQuery;
                pendingQuery = null;
                if (window.location.search !== q) {
                    window.history.replaceState(null, "", window.location.pathname + q);
                }
                window.calculatorUrlPending = false;
            }, 0);
        });
    }

    function render(view, bib) {
        if (bib) { bibliography = bib; }
        if (!view) { return window.dash_clientside.no_update; }
        Object.keys(view.messages || {}).forEach(function (id) { setText(id, view.messages[id]); });
        if (!view.ok) { return window.dash_clientside.no_update; }
        last = view;
        renderTotal(view);
        renderCards(view);
        renderSources("truncation", false);
        renderHotspots(view);
        renderAB(view);
        setText("corr-note", view.correlations || "");
        replaceUrl(view.query);
        return window.dash_clientside.no_update;
    }

    // ---- the selections: native radio buttons and checkboxes in fieldsets with legends (Dash's own radio items
    // are list boxes of options that hold inputs, which assistive technology cannot read as radio buttons). A
    // change goes to Dash as the new value of the "controls" store, which the one callback reads.
    var controlsNow = null;

    function emit(change) {
        var next = JSON.parse(JSON.stringify(controlsNow));
        change(next);
        controlsNow = next;
        window.dash_clientside.set_props("controls", {data: next});
    }

    function radios(boxId, legend, hideLegend, opts, value, pick) {
        var box = document.getElementById(boxId);
        if (!box) { return; }
        var signature = JSON.stringify(opts) + legend;
        if (box.ufSignature !== signature) {
            var set = h("fieldset", {className: "choices"}, [
                h("legend", {className: hideLegend ? "sr-only" : "choices-legend", text: legend})]);
            opts.forEach(function (o) {
                var input = h("input", {type: "radio", name: boxId, value: o.value});
                input.addEventListener("change", function () { if (input.checked) { pick(o.value); } });
                var text = h("span", {className: "choice-text", text: o.label});
                set.appendChild(h("label", {className: "choice"}, [input, text]));
            });
            box.replaceChildren(set);
            box.ufSignature = signature;
        }
        box.querySelectorAll("input").forEach(function (input) {
            var on = input.value === String(value);
            if (input.checked !== on) { input.checked = on; }
            input.parentNode.classList.toggle("selected", on);
        });
    }

    function checkbox(boxId, label, checked, toggle) {
        var box = document.getElementById(boxId);
        if (!box) { return; }
        var input = box.querySelector("input");
        if (!input) {
            input = h("input", {type: "checkbox", name: boxId});
            input.addEventListener("change", function () { toggle(input.checked); });
            box.replaceChildren(h("label", {className: "check"}, [input, h("span", {text: label})]));
        }
        if (input.checked !== checked) { input.checked = checked; }
    }

    // "Load experiment": a native file input (read here, sent to the one callback as a data URL).
    function uploader() {
        var box = document.getElementById("upload");
        if (!box || box.firstChild) { return; }
        var max = Number(box.getAttribute("data-max")) || Infinity;
        var input = h("input", {type: "file", accept: ".yaml,.yml,text/yaml,application/x-yaml", className: "file"});
        input.addEventListener("change", function () {
            var file = input.files && input.files[0];
            if (!file) { return; }
            if (file.size > max) {
                setText("msg-load", file.name + ": larger than 1 MiB; an experiment file is a few kilobytes");
                input.value = "";
                return;
            }
            var reader = new FileReader();
            reader.onload = function () {
                var data = {contents: reader.result, filename: file.name, t: Date.now()};
                window.dash_clientside.set_props("upload-data", {data: data});
                input.value = "";
            };
            reader.readAsDataURL(file);
        });
        box.appendChild(h("label", {className: "action upload-label"}, ["Load experiment", input]));
    }

    function controls(data, options, titles) {
        uploader();
        if (!data || !options) { return window.dash_clientside.no_update; }
        controlsNow = data;
        titles = titles || {};
        radios("application", titles.application || "Application", false, options.application, data.application,
               function (v) { emit(function (c) { c.application = v; }); });
        checkbox("correlations", titles.correlations || "Correlations", !!data.correlations,
                 function (on) { emit(function (c) { c.correlations = on; }); });
        Object.keys(data.choice).forEach(function (card) {
            radios("choice-" + card, titles["choice:" + card] || card, true, options.choice[card] || [],
                   data.choice[card],
                   function (v) { emit(function (c) { c.choice[card] = v; }); });
            checkbox("on-" + card, titles["on:" + card] || card, data.on[card] !== false,
                     function (on) { emit(function (c) { c.on[card] = on; }); });
        });
        Object.keys(data.method).forEach(function (comp) {
            radios("method-" + comp, titles["method:" + comp] || "Method", false, options.method[comp] || [],
                   data.method[comp],
                   function (v) { emit(function (c) { c.method[comp] = v; }); });
        });
        return window.dash_clientside.no_update;
    }

    function figures(view) {
        var no = window.dash_clientside.no_update;
        if (!view || !view.ok) { return [no, no]; }
        return [view.chart, view.histogram];
    }

    function exportChart(nPng, nSvg, name) {
        var trigger = (window.dash_clientside.callback_context.triggered[0] || {}).prop_id || "";
        var format = trigger.indexOf("export-svg") === 0 ? "svg" : "png";
        var graph = document.querySelector("#chart .js-plotly-plot");
        if (graph && window.Plotly) {
            var stem = String(name || "calculator").replace(/[^A-Za-z0-9]+/g, "_").replace(/^_+|_+$/g, "")
                .toLowerCase().slice(0, 60) || "calculator";
            window.Plotly.downloadImage(graph, {format: format, filename: stem + "_chart", width: 1000, height: 600});
        }
        return window.dash_clientside.no_update;
    }

    window.dash_clientside = Object.assign({}, window.dash_clientside, {
        calculator: {
            // the URL's query when the page opens (a shared link); nothing for the plain address
            link: function (search) {
                return search && search.length > 1 ? search : window.dash_clientside.no_update;
            },
            render: render,
            controls: controls,
            figures: figures,
            exportChart: exportChart
        }
    });
}());
