// The playground page: four chat panes that talk to the bot through the playground API.
"use strict";

const state = { last: 0, panes: {}, groupPane: null, kendari: [-3.9675, 122.5147], desk: [] };
const ALLOWED_TAGS = new Set(["B", "STRONG", "I", "EM", "CODE", "PRE", "U", "S", "A"]);

function sanitize(html) {
  // Telegram HTML from the bot: keep its few formatting tags, turn anything else into text.
  const template = document.createElement("template");
  template.innerHTML = html;
  const walk = (node) => {
    for (const child of Array.from(node.childNodes)) {
      if (child.nodeType === Node.ELEMENT_NODE) {
        if (!ALLOWED_TAGS.has(child.tagName)) {
          child.replaceWith(document.createTextNode(child.textContent));
          continue;
        }
        for (const attr of Array.from(child.attributes)) child.removeAttribute(attr.name);
        walk(child);
      }
    }
  };
  walk(template.content);
  return template.content;
}

async function api(path, options) {
  const response = await fetch("/playground/api/" + path, options);
  if (!response.ok) throw new Error(path + ": " + response.status + " " + (await response.text()));
  return response.json();
}

function paneElement(key) {
  return document.querySelector(`.pane[data-key="${key}"]`);
}

function render(event) {
  const host = paneElement(event.pane);
  if (!host) return;
  if (event.sender === "edit") return applyEdit(host, event);
  const list = host.querySelector(".messages");
  list.querySelector(".hint")?.remove();
  const box = document.createElement("div");
  box.className = "msg " + event.sender;
  box.dataset.testid = "message";
  box.dataset.sender = event.sender;
  if (event.message_id) box.dataset.messageId = event.message_id;
  const name = document.createElement("span");
  name.className = "name";
  name.textContent = event.name;
  box.append(name);
  if (event.reply_to) {
    const quoted = list.querySelector(`[data-message-id="${event.reply_to}"] .body`);
    if (quoted) {
      const quote = document.createElement("div");
      quote.className = "quote";
      quote.textContent = quoted.textContent;
      box.append(quote);
    }
  }
  if (event.image) {
    const img = document.createElement("img");
    img.src = event.image;
    img.alt = "foto";
    box.append(img);
  }
  if (event.location) {
    const link = document.createElement("a");
    link.href = `https://www.openstreetmap.org/?mlat=${event.location[0]}&mlon=${event.location[1]}#map=17/${event.location[0]}/${event.location[1]}`;
    link.target = "_blank";
    link.rel = "noopener";
    link.textContent = `📍 ${event.location[0].toFixed(5)}, ${event.location[1].toFixed(5)}`;
    box.append(link);
  }
  if (event.document) {
    const link = document.createElement("a");
    link.href = event.document.url;
    link.download = event.document.name;
    link.textContent = "📄 " + event.document.name;
    box.append(link, document.createElement("br"));
  }
  const body = document.createElement("div");
  body.className = "body";
  if (event.html) body.append(sanitize(event.text));
  else body.textContent = event.text;
  box.append(body);
  if (event.note) {
    const note = document.createElement("div");
    note.className = "note";
    note.textContent = event.note;
    box.append(note);
  }
  appendButtons(box, event, event.buttons);
  if (event.sender === "bot" && event.message_id && state.panes[event.pane].channel === "telegram") {
    box.title = "Klik untuk membalas pesan ini";
    box.addEventListener("click", () => setReply(event.pane, event.message_id, body.textContent));
  }
  list.append(box);
  sizes.observe(box); // an image that loads later makes it taller
  follow(list);
  if (host.hidden) countUnread(event.pane);
}

function press(event, data) {
  return api("press", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ pane: event.pane, message_id: event.message_id, data }),
  }).catch(alert);
}

function appendButtons(box, event, rows) {
  if (event.picker) return appendPicker(box, event, rows);
  // WhatsApp shows quick replies as buttons under the message, Telegram inline buttons likewise.
  const testid = state.panes[event.pane].channel === "whatsapp" ? "quick-reply" : "inline-button";
  for (const row of rows || []) {
    const line = document.createElement("div");
    line.className = "buttons";
    for (const button of row) {
      const element = document.createElement("button");
      element.textContent = button.text;
      element.dataset.testid = testid;
      element.addEventListener("click", (e) => {
        e.stopPropagation();
        press(event, button.data);
      });
      line.append(element);
    }
    box.append(line);
  }
}

function appendPicker(box, event, rows) {
  // A WhatsApp list: one button opens it, a tap on an item answers and closes it.
  const open = document.createElement("button");
  open.className = "picker-open";
  open.dataset.testid = "list-button";
  open.textContent = "☰ " + event.picker;
  const list = document.createElement("div");
  list.className = "picker";
  list.hidden = true;
  open.addEventListener("click", (e) => {
    e.stopPropagation();
    list.hidden = !list.hidden;
  });
  for (const row of rows || []) {
    for (const item of row) {
      const element = document.createElement("button");
      element.textContent = item.text;
      element.dataset.testid = "list-item";
      element.addEventListener("click", (e) => {
        e.stopPropagation();
        list.hidden = true;
        press(event, item.data);
      });
      list.append(element);
    }
  }
  box.append(open, list);
}

function applyEdit(host, event) {
  // The bot changed a message it sent: above all, it took the buttons away once they were used.
  const box = host.querySelector(`.msg.bot[data-message-id="${event.message_id}"]`);
  if (!box) return;
  for (const line of box.querySelectorAll(".buttons")) line.remove();
  if (event.text) {
    const body = box.querySelector(".body");
    body.replaceChildren();
    if (event.html) body.append(sanitize(event.text));
    else body.textContent = event.text;
  }
  appendButtons(box, event, event.buttons);
}

// -- each pane stays at its newest message, unless the reader scrolled up to read older ones --------

const NEAR_BOTTOM = 30; // px

function atBottom(list) {
  return list.scrollHeight - list.scrollTop - list.clientHeight <= NEAR_BOTTOM;
}

function follow(list) {
  if (list.dataset.follow !== "no") list.scrollTop = list.scrollHeight;
}

function watchScrolling(list) {
  let lastTop = 0;
  list.addEventListener("scroll", () => {
    // Content growing below (an image loading) never moves scrollTop; only the reader scrolls up.
    if (atBottom(list)) list.dataset.follow = "yes";
    else if (list.scrollTop < lastTop) list.dataset.follow = "no";
    lastTop = list.scrollTop;
  });
  sizes.observe(list); // a pane shown again, or the window resized
}

const sizes = new ResizeObserver((entries) => {
  const lists = new Set(entries.map((entry) => entry.target.closest(".messages")));
  for (const list of lists) if (list) follow(list);
});

// -- what to try in an empty pane ---------------------------------------------------------------

const HINTS = {
  "tg-citizen": ["Coba:", "sampah numpuk depan SD 5 seminggu"],
  "wa-citizen": ["Coba:", "jalan berlubang dekat jembatan By Pass"],
  "group-HUMAS": ["Aduan tanpa dinas dan teguran tampil di sini."],
  admin: ["Coba perintah humas:", "/overdue"],
};

function addHint(node, pane) {
  const [text, example] = HINTS[pane.key] ||
    (pane.group ? [`Klik kartu aduan ${pane.title.replace(/^Grup /, "")} untuk membalas.`] : []);
  if (!text) return;
  const hint = document.createElement("p");
  hint.className = "hint";
  hint.dataset.testid = "hint";
  hint.append(text);
  if (example) {
    const sample = document.createElement("button");
    sample.type = "button";
    sample.className = "example";
    sample.textContent = example;
    sample.title = "Klik untuk menulisnya";
    sample.addEventListener("click", () => {
      const input = node.querySelector(".text");
      input.value = example;
      input.focus();
    });
    hint.append(" ", sample);
  }
  node.querySelector(".messages").append(hint);
}

// -- the agency column: one group at a time, the selector names it, unread counts on the others -----

const unread = {}; // pane key -> messages that arrived while its group was not shown

function countUnread(key) {
  unread[key] = (unread[key] || 0) + 1;
  labelGroups();
}

function labelGroups() {
  for (const option of document.querySelectorAll(".group-select option")) {
    const count = unread[option.value] || 0;
    option.textContent = state.panes[option.value].title + (count ? ` (${count} baru)` : "");
  }
}

function setReply(key, messageId, text) {
  const host = paneElement(key);
  host.dataset.replyTo = messageId || "";
  host.querySelector(".replying").hidden = !messageId;
  host.querySelector(".replying-text").textContent = (text || "").slice(0, 80);
  if (messageId) host.querySelector(".text").focus();
}

async function send(key, fields) {
  const host = paneElement(key);
  const form = new FormData();
  form.append("pane", key);
  if (host.dataset.replyTo) form.append("reply_to", host.dataset.replyTo);
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  host.querySelector(".messages").dataset.follow = "yes"; // who writes sees their message arrive
  await api("send", { method: "POST", body: form });
  setReply(key, null);
}

function buildPane(pane, extraGroups) {
  const node = document.getElementById("pane-template").content.firstElementChild.cloneNode(true);
  node.dataset.key = pane.key;
  node.dataset.testid = "pane-" + pane.key;
  node.classList.add(pane.channel);
  node.querySelector(".title").textContent = pane.title;
  const select = node.querySelector(".group-select");
  if (extraGroups) {
    select.hidden = false;
    select.dataset.testid = "group-select";
    for (const group of extraGroups) {
      const option = document.createElement("option");
      option.value = group.key;
      option.textContent = group.title;
      select.append(option);
    }
    select.addEventListener("change", () => showGroup(select.value));
  }
  if (pane.channel === "whatsapp") node.querySelector(".photo").title = "Kirim foto (WhatsApp)";
  if (state.desk.includes(pane.key)) {
    // Opens the web desk logged in as this pane's person (the bot's own /masuk link).
    const link = node.querySelector(".desk-link");
    link.href = "/playground/desk?pane=" + encodeURIComponent(pane.key);
    link.dataset.testid = "desk-" + pane.key;
    link.hidden = false;
  }
  node.querySelector(".composer").addEventListener("submit", (e) => {
    e.preventDefault();
    const key = node.dataset.key;
    const input = node.querySelector(".text");
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    send(key, { text }).catch(alert);
  });
  node.querySelector(".location").addEventListener("click", () =>
    send(node.dataset.key, { lat: state.kendari[0], lon: state.kendari[1] }).catch(alert));
  node.querySelector(".photo input").addEventListener("change", (e) => {
    const file = e.target.files[0];
    e.target.value = "";
    if (file) send(node.dataset.key, { photo: file, text: node.querySelector(".text").value.trim() }).catch(alert);
  });
  node.querySelector(".cancel-reply").addEventListener("click", () => setReply(node.dataset.key, null));
  if (NO_ATTACHMENTS.has(pane.key)) for (const tool of node.querySelectorAll(".location, .photo")) tool.remove();
  addHint(node, pane);
  watchScrolling(node.querySelector(".messages"));
  return node;
}

// Humas types commands in its private chat: a location or a photo means nothing there.
const NO_ATTACHMENTS = new Set(["admin"]);

function showGroup(key) {
  // The agency column holds one group pane at a time; the others stay hidden but keep their messages.
  // Every group pane has its own selector: each names the group shown, so title and selector agree.
  for (const element of document.querySelectorAll(".pane.group")) {
    element.hidden = element.dataset.key !== key;
    element.querySelector(".group-select").value = key;
  }
  state.groupPane = key;
  unread[key] = 0;
  labelGroups();
}

async function poll() {
  try {
    const data = await api("feed?after=" + state.last);
    for (const event of data.events) {
      render(event);
      state.last = Math.max(state.last, event.seq);
    }
    document.getElementById("now").textContent = data.now;
  } catch (error) {
    console.warn(error);
  }
  setTimeout(poll, 400);
}

async function start() {
  const info = await api("panes");
  document.getElementById("city").textContent = info.city;
  document.getElementById("now").textContent = info.now;
  state.kendari = info.kendari;
  state.desk = info.desk || [];
  const main = document.getElementById("panes");
  const groups = info.panes.filter((p) => p.group);
  for (const pane of info.panes) state.panes[pane.key] = pane;
  const order = ["tg-citizen", "wa-citizen"];
  for (const key of order) if (state.panes[key]) main.append(buildPane(state.panes[key]));
  for (const [index, group] of groups.entries()) {
    const node = buildPane(group, groups);
    node.classList.add("group");
    node.querySelector(".group-select").value = group.key;
    main.append(node);
    if (index > 0) node.hidden = true;
  }
  state.groupPane = groups.length ? groups[0].key : null;
  if (state.panes.admin) main.append(buildPane(state.panes.admin));
  for (const button of document.querySelectorAll(".clock button")) {
    button.addEventListener("click", async () => {
      const data = await api("clock", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ hours: Number(button.dataset.hours) }),
      });
      document.getElementById("now").textContent = data.now;
    });
  }
  poll();
}

start().catch((error) => { document.body.textContent = "Playground gagal dimuat: " + error; });
