// The analyst's page: everything is tagged by the API that serves this page (POST /tag/file,
// which is `serve tag` over HTTP), so what is shown and downloaded is what `serve tag` writes.
// User text is only ever set with textContent, never as markup.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);

  // Colours that stay apart for the common colour-vision deficiencies (Okabe & Ito); the
  // label is always written out too, so colour is never the only signal.
  const COLOURS = {
    economy: "#E69F00", border_sea: "#0072B2", people_to_people: "#CC79A7",
    science_tech: "#009E73", party_relations: "#D55E00", other: "#8A8F98",
    uncertain: "#6B5B95", error: "#B00020",
  };
  const EXTRA = ["#56B4E9", "#F0E442", "#7F3C8D", "#11A579", "#3969AC", "#E73F74"];
  const NAMES = {
    economy: "Economy", border_sea: "Border & sea", people_to_people: "People-to-people",
    science_tech: "Science & tech", party_relations: "Party relations", other: "Other (not VN–China)",
    uncertain: "Uncertain", error: "Error",
  };
  const LANGS = { vi: "Vietnamese", zh: "Chinese", en: "English" };
  const INVISIBLE = /[\u00ad\u200b-\u200f\u2060\ufeff\u0000]/g;   // vnzh_runtime.markup.INVISIBLE

  const state = {
    health: null,
    source: null,   // {name, body}: what was tagged last, sent again for the slider and downloads
    shown: null,    // the source whose results are on the page
    auto: true,
    seq: 0,
    timer: null,
  };

  const colour = (label) => {
    if (COLOURS[label]) return COLOURS[label];
    const labels = (state.health && state.health.labels) || [];
    return EXTRA[Math.max(0, labels.indexOf(label)) % EXTRA.length];
  };
  const labelName = (label) => NAMES[label] || String(label).replace(/_/g, " ");
  const langName = (lang) => LANGS[lang] || lang || "unknown";

  // White or near-black text on a topic colour, whichever reads better (WCAG's contrast ratio): white on
  // economy's orange was 2.3:1, black on border_sea's blue 3.6:1.
  function inkOn(hex) {
    const channel = (i) => {
      const c = parseInt(hex.slice(i, i + 2), 16) / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    };
    const lum = 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5);
    return 1.05 / (lum + 0.05) >= (lum + 0.05) / 0.0556 ? "#fff" : "#111";
  }

  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props)) {
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key === "colour") {
        node.style.setProperty("--c", value);
        node.style.setProperty("--on-c", inkOn(value));
      }
      else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value);
    }
    for (const child of children) if (child !== null && child !== undefined) node.append(child);
    return node;
  }

  // ---- messages -------------------------------------------------------------------------
  function status(text) { $("status").textContent = text; }

  function showError(sentence) {
    const box = $("error");
    box.textContent = sentence;
    box.hidden = false;
    status("");
  }

  function clearError() {
    $("error").hidden = true;
    $("error").textContent = "";
  }

  // `name`: the file the message may open with, kept as it is ("saved page.mhtml: ..." is not "Saved page...").
  function sentence(text, name = "") {
    const s = String(text).trim().replace(/\s*\n\s*/g, " ");   // runs of spaces may be a file's name
    // "the file has..." becomes "The file has..."; "x.csv:1: ..." and "threshold: ..." stay as they are.
    const named = name !== "" && s.startsWith(name);
    const first = !named && /^[a-z]+\s/.test(s) ? s.charAt(0).toUpperCase() + s.slice(1) : s;
    return /[.!?]$/.test(first) ? first : first + ".";
  }

  // One sentence from any answer of the API: {"detail": "..."} or FastAPI's 422 list.
  async function apiError(response, name = "") {
    let detail = null;
    try { detail = (await response.json()).detail; } catch (_) { /* not JSON */ }
    if (typeof detail === "string" && detail) return sentence(detail, name);
    if (Array.isArray(detail) && detail.length) {
      const first = detail[0];
      const where = (first.loc || []).filter((part) => part !== "body" && part !== "query").join(".");
      return sentence((where ? where + ": " : "") + (first.msg || "invalid request"));
    }
    return sentence(`The tagger answered ${response.status} ${response.statusText || ""}`.trim());
  }

  // ---- threshold --------------------------------------------------------------------------
  function autoValue() {
    const value = state.health && state.health.auto_threshold;
    return typeof value === "number" ? value : null;
  }

  function thresholdParam() {
    return state.auto ? "auto" : String(Number($("threshold").value));
  }

  function showThreshold() {
    const value = Number($("threshold").value);
    const auto = autoValue();
    // without /health the dev-chosen value is unknown here, not "never": the server still applies it
    const text = state.auto
      ? (auto !== null ? `auto (${auto.toFixed(2)})` : state.health ? "auto (never)" : "auto")
      : (value === 0 ? "0 (never)" : value.toFixed(2));
    $("threshold-value").textContent = text;
    $("threshold").setAttribute("aria-valuetext", text);
    $("auto").setAttribute("aria-pressed", String(state.auto));
  }

  function setAuto() {
    state.auto = true;
    $("threshold").value = String(autoValue() ?? 0);
    showThreshold();
  }

  function retagSoon() {
    clearTimeout(state.timer);
    if (state.source) state.timer = setTimeout(tagCurrent, 200);
  }

  // ---- talking to the API -------------------------------------------------------------------
  function fileUrl(source, format) {
    const query = new URLSearchParams({ filename: source.name, threshold: thresholdParam(), format });
    return `/tag/file?${query}`;
  }

  async function post(format, source = state.source) {
    let response;
    try {
      response = await fetch(fileUrl(source, format), {
        method: "POST", body: source.body, headers: { "content-type": "application/octet-stream" },
      });
    } catch (_) {
      throw new Error("The tagger could not be reached; check that python -m serve api is still running.");
    }
    if (!response.ok) throw new Error(await apiError(response, source.name));
    return response;
  }

  // `note`: said after the counts; `pasted`: the server's words about files are put as the analyst's
  async function tag(name, body, { note = "", pasted = false } = {}) {
    state.source = { name, body, note, pasted };
    await tagCurrent();
  }

  async function tagCurrent() {
    if (!state.source) return;
    const seq = ++state.seq;
    const started = performance.now();
    clearError();
    status(`Tagging ${state.source.name}…`);
    document.body.setAttribute("aria-busy", "true");
    const slow = setTimeout(() => {   // a hung or very busy server: say so, rather than look stuck
      if (seq === state.seq) status(`Still tagging ${state.source.name}: the tagger has not answered for 10 seconds…`);
    }, 10000);
    try {
      const answer = await (await post("json")).text();
      // the reviver runs for every value (3x the parse of a large file's answer): only where an id may need it
      const data = /\d{16}/.test(answer) ? JSON.parse(answer, exactIntegers) : JSON.parse(answer);
      if (seq !== state.seq) return;   // a newer request (slider moved) owns the page now
      render(data);
      state.shown = state.source;
      const ms = performance.now() - started;
      document.body.dataset.tagMs = ms.toFixed(1);
      document.body.dataset.tagged = String(seq);
      status(`Tagged ${counted(data.records.length, data.name)} of ${data.name} in ${Math.round(ms)} ms.` +
             (state.source.note ? ` ${state.source.note}` : ""));
    } catch (err) {
      if (seq !== state.seq) return;
      // the limits speak of files: a pasted article is one to the server, not to the analyst
      showError(state.source.pasted ? pastedWords(err.message) : err.message);
      if (state.shown !== state.source) {   // the results on the page are another input's: take them away
        $("summary").hidden = true;
        $("results").hidden = true;
        state.shown = state.source = null;
      }
    } finally {
      clearTimeout(slow);
      if (seq === state.seq) document.body.removeAttribute("aria-busy");
    }
  }

  // An integer past 2^53 (a CMS's 19-digit id or doc_id) as the file wrote it, not rounded to a neighbour's
  // value (two records shown with one id, two documents as one); the source text is Chrome 114's.
  function exactIntegers(key, value, context) {
    const source = context && context.source;
    return Number.isInteger(value) && !Number.isSafeInteger(value) && /^-?\d+$/.test(source || "") ? source : value;
  }

  // The server speaks of files and records; a pasted article is neither to the analyst.
  function pastedWords(message) {
    return message
      .replace(/^The file has/, "The pasted text has")
      .replace(/^article\.txt:\d+: JSON Lines, not an article's text;.*$/,
               "The pasted text is JSON Lines, records, not an article: save it as a .jsonl file and choose it here.")
      .replace(/^article\.txt: record \d+, id "article:([\d.]+)", has (\d+) characters; the limit is (\d+) per text.*$/,
               "Line $1 of the pasted text has $2 characters; the limit is $3 per paragraph: break it into paragraphs.")
      .replace(/^article\.txt(?::(\d+))?: /, (_, line) => (line ? `Line ${line} of the pasted text: ` : "The pasted text: "));
  }

  async function download(format) {
    if (!state.shown) return;
    clearError();
    try {
      // the input whose tags are on screen, not one still being tagged (a paste submitted meanwhile)
      const response = await post(format, state.shown);
      const body = await response.blob();
      // Excel reads a CSV as UTF-8 only after a byte order mark: without it, "Việt Nam" shows as mojibake
      const blob = format === "csv" ? new Blob(["\ufeff", body], { type: body.type }) : body;
      const header = response.headers.get("content-disposition") || "";
      const utf8 = /filename\*=UTF-8''([^;]+)/i.exec(header);   // the file's own name, "中越 bài.tags.csv"
      const match = /filename="([^"]+)"/.exec(header);
      const name = utf8 ? decodeURIComponent(utf8[1]) : match ? match[1] : `tags.${format}`;
      const link = el("a", { href: URL.createObjectURL(blob), download: name });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 10000);
      status(`Downloaded ${link.download}.`);
    } catch (err) {
      showError(err.message);
    }
  }

  // ---- rendering --------------------------------------------------------------------------
  const labelsOf = (record) => (Array.isArray(record.labels) && record.labels.length ? record.labels : [record.label]);
  const kindOf = (record) => ("error" in record ? "error" : record.label);

  function bestOf(scores) {
    return Object.entries(scores || {}).sort((a, b) => b[1] - a[1]);
  }

  // Two decimals, cut rather than rounded, so a score shown as 0.68 is never below a 0.68 threshold.
  // Scores come rounded to 4 decimals; 0.58 * 100 is 57.99999...: round away the float error before the floor.
  function fmt(score) { return (Math.floor(Math.round(Number(score) * 10000) / 100) / 100).toFixed(2); }

  const MAX_SHOWN = 2000;
  const RECORDS_FILE = /\.(jsonl|ndjson|json|csv|tsv|xml|rss|atom|rdf)$/i;
  // "1 paragraph", "3 records": a file of records counts records, an article its paragraphs
  const counted = (n, name) => `${n} ${RECORDS_FILE.test(name) ? "record" : "paragraph"}${n === 1 ? "" : "s"}`;

  function render(data) {
    const { records, texts, furniture } = data;
    $("source-name").textContent = data.name;
    renderSummary(data);
    const list = $("paragraphs");
    const isRecords = RECORDS_FILE.test(data.name);   // records may come from several documents (a feed's items too)
    // Tens of thousands of cards froze the tab for 20 s: the first MAX_SHOWN, the summary counts them all
    const items = records.slice(0, MAX_SHOWN).map((record, i) => {
      const item = paragraph(record, texts[i], furniture[i], i, isRecords);
      if (isRecords && i > 0 && record.doc_id !== records[i - 1].doc_id) item.classList.add("doc-start");
      return item;
    });
    if (records.length > MAX_SHOWN) {
      items.push(el("li", { class: "more", text: `… and ${records.length - MAX_SHOWN} more, not shown here: ` +
                                                  "download JSONL or CSV for all of them." }));
    }
    list.replaceChildren(...items);
    $("summary").hidden = false;
    $("results").hidden = false;
  }

  function paragraph(record, text, isFurniture, index, showDoc) {
    const kind = kindOf(record);
    const ranked = bestOf(record.scores);
    const muted = kind === "other" || isFurniture;
    const classes = ["para", `k-${kind}`, muted ? "muted" : "", kind === "uncertain" ? "uncertain" : "",
      kind === "error" ? "failed" : ""].filter(Boolean).join(" ");
    const chips = el("div", { class: "chips" });
    if (kind === "error") {
      chips.append(el("span", { class: "chip label", colour: colour("error"), text: "Error" }));
    } else {
      labelsOf(record).forEach((label, rank) => {
        let name = labelName(label);
        if (label === "uncertain" && ranked.length) {
          name += ` · best guess ${labelName(ranked[0][0])} ${fmt(ranked[0][1])}`;
        } else if (record.label_scores && label in record.label_scores) {
          // a multi-label model's topics, each by its own score (its first chip's softmax score read
          // lower than a further topic's own: "Border & sea 0.75 | Party relations 0.95")
          name += ` ${fmt(record.label_scores[label])}`;
        } else if (ranked.length && rank === 0) {
          name += ` ${fmt(record.scores[label] ?? ranked[0][1])}`;
        }
        chips.append(el("span", { class: `chip label${rank ? " secondary" : ""}`, colour: colour(label), text: name }));
      });
      chips.append(el("span", { class: "chip lang", title: langName(record.lang) },
        el("span", { "aria-hidden": "true", text: record.lang || "?" }),
        el("span", { class: "visually-hidden", text: `language: ${langName(record.lang)}` })));
    }
    if (isFurniture) chips.append(el("span", { class: "chip furniture", text: "furniture" }));
    if (showDoc && record.doc_id !== undefined && record.doc_id !== null) {
      chips.append(el("span", { class: "chip doc", text: `document ${record.doc_id}` }));
    }
    chips.append(el("span", { class: "rid", text: record.id === null || record.id === undefined ? `#${index + 1}` : String(record.id) }));

    const body = kind === "error"
      ? el("p", { class: "text error-text", text: state.source && state.source.pasted ? pastedWords(record.error) : record.error })
      : el("p", { class: "text", lang: record.lang || undefined, dir: "auto", text: text ?? "" });

    const item = el("li", { class: classes, colour: colour(kind === "uncertain" || kind === "error" ? kind : labelsOf(record)[0]) },
      chips, body);
    if (ranked.length) {
      item.title = ranked.map(([label, p]) => `${labelName(label)}: ${fmt(p)}`).join("\n");
      item.append(scoreTable(ranked));
    }
    return item;
  }

  function scoreTable(ranked) {
    const rows = ranked.map(([label, p]) => el("tr", {},
      el("th", { scope: "row", text: labelName(label) }),
      el("td", { class: "bar-cell" }, el("span", { class: "bar", "aria-hidden": "true" },
        el("span", { class: "fill", colour: colour(label) }))),
      el("td", { class: "num", text: Number(p).toFixed(4) })));
    rows.forEach((row, i) => { row.querySelector(".fill").style.width = `${(ranked[i][1] * 100).toFixed(1)}%`; });
    return el("details", { class: "scores" }, el("summary", { text: "Scores" }),
      el("table", {}, el("caption", { class: "visually-hidden", text: "Score per topic, highest first" }),
        el("tbody", {}, ...rows)));
  }

  function renderSummary(data) {
    const { records, furniture } = data;
    const counts = new Map();
    const langs = new Map();
    const labels = [...((state.health && state.health.labels) || data.labels || [])];
    labels.forEach((label) => counts.set(label, 0));
    records.forEach((record) => {
      const kind = kindOf(record);
      counts.set(kind, (counts.get(kind) || 0) + 1);
      if (record.lang) langs.set(record.lang, (langs.get(record.lang) || 0) + 1);
    });
    const total = records.length;
    const errors = counts.get("error") || 0;
    const uncertain = counts.get("uncertain") || 0;
    const furnitureCount = furniture.filter(Boolean).length;
    const topics = labels.filter((l) => l !== "other" && counts.get(l) > 0)
      .sort((a, b) => counts.get(b) - counts.get(a));
    const parts = [counted(total, data.name)];
    const top = topics.filter((l) => counts.get(l) === counts.get(topics[0]));   // a tie names every topic in it
    if (topics.length) {
      parts.push(`mostly ${top.map(labelName).join(" and ")} (${counts.get(topics[0])}${top.length > 1 ? " each" : ""})`);
    }
    parts.push(`${counts.get("other") || 0} other`, `${furnitureCount} furniture`, `${uncertain} uncertain`);
    if (errors) parts.push(`${errors} ${errors === 1 ? "error" : "errors"}`);
    if (langs.size) parts.push("languages: " + [...langs].map(([l, n]) => `${langName(l)} ${n}`).join(", "));
    $("counts").textContent = parts.join(" · ");

    const shown = [...labels, ...(uncertain ? ["uncertain"] : []), ...(errors ? ["error"] : [])];
    const most = Math.max(1, ...shown.map((l) => counts.get(l) || 0));
    $("chart").replaceChildren(...shown.map((label) => {
      const n = counts.get(label) || 0;
      const fill = el("span", { class: "fill", colour: colour(label) });
      fill.style.width = `${(100 * n / most).toFixed(1)}%`;
      return el("li", { class: n ? "" : "zero" },
        el("span", { class: "name", text: labelName(label) }),
        el("span", { class: "bar", "aria-hidden": "true" }, fill),
        el("span", { class: "num" }, String(n),
          el("span", { class: "visually-hidden", text: n === 1 ? " paragraph" : " paragraphs" })));
    }));

    const used = typeof data.threshold === "number" ? data.threshold.toFixed(2) : "none";
    $("used").textContent = `${modelLine()} · uncertain below: ${used}${state.auto ? " (auto)" : ""}`;
  }

  function modelLine() {
    const health = state.health;
    if (!health) return "Model: unknown";
    const m = health.model || {};
    const parts = [`Model ${m.name || m.source || health.model_type || "unknown"}`];
    if (m.version) parts.push(`version ${m.version}`);
    if (m.alias) parts.push(`alias @${m.alias}`);
    parts.push(`${health.model_type || m.model_type} model`);
    return parts.join(" · ");
  }

  // ---- start ------------------------------------------------------------------------------
  async function loadHealth() {
    try {
      const response = await fetch("/health");
      if (!response.ok) throw new Error(await apiError(response));
      state.health = await response.json();
      $("model").textContent = modelLine();
      const bytes = state.health.limits && state.health.limits.file_bytes;
      if (bytes) $("limit").textContent = `up to ${(bytes / 1e6).toLocaleString("en")} MB`;
    } catch (err) {
      $("model").textContent = "The model’s details could not be read.";
      // fetch's own words ("Failed to fetch") say nothing of what to do
      showError(err instanceof TypeError
        ? "The tagger could not be reached for the model’s details; check that python -m serve api is running, then reload the page."
        : err.message);
    }
    setAuto();
  }

  function wire() {
    $("form").addEventListener("submit", (event) => {
      event.preventDefault();
      const text = $("article").value;
      if (!text.replace(INVISIBLE, "").trim()) {   // zero-width spaces alone are blank, as the tagger reads them
        showError("Paste an article first, or choose a file.");
        $("article").focus();
        return;
      }
      // pasted text is Unicode already: the BOM says so, outranking any charset a pasted page's source declares
      tag("article.txt", "\ufeff" + text, { pasted: true });
    });
    $("article").addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        $("form").requestSubmit();
      }
    });
    $("file").addEventListener("change", () => {
      const file = $("file").files[0];
      if (file) tag(file.name, file);
      $("file").value = "";
    });
    $("threshold").addEventListener("input", () => {
      state.auto = false;
      showThreshold();
      retagSoon();
    });
    $("auto").addEventListener("click", () => {
      setAuto();
      retagSoon();
    });
    $("download-jsonl").addEventListener("click", () => download("jsonl"));
    $("download-csv").addEventListener("click", () => download("csv"));

    // Dropping a file anywhere on the page tags it; text dropped into the box stays text.
    const drop = $("drop");
    const hasFiles = (event) => Array.from(event.dataTransfer ? event.dataTransfer.types : []).includes("Files");
    document.addEventListener("dragover", (event) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      drop.classList.add("over");
    });
    document.addEventListener("dragleave", (event) => {
      if (event.relatedTarget === null) drop.classList.remove("over");
    });
    document.addEventListener("drop", (event) => {
      drop.classList.remove("over");
      if (!hasFiles(event)) return;
      event.preventDefault();
      const files = event.dataTransfer.files;
      const note = files.length > 1 ? `Only the first of the ${files.length} files dropped was tagged; drop one at a time.` : "";
      if (files[0]) tag(files[0].name, files[0], { note });
    });
  }

  wire();
  loadHealth();
})();
