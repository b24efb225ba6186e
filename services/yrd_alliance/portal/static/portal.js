// Live pages: each element with data-source follows that server-sent event stream.
"use strict";

function follow(url, onMessage) {
  const source = new EventSource(url);
  source.onmessage = (event) => onMessage(JSON.parse(event.data));
  source.addEventListener("problem", () => source.close());
  window.addEventListener("pagehide", () => source.close());
}

function followStates(table) {
  follow(table.dataset.source, (change) => {
    const row = Array.from(table.querySelectorAll("tr[data-name]")).find(
      (r) => r.dataset.name === change.name
    );
    if (!row) {  // one the page does not show yet: say so, the page lists it on reload
      const notice = document.getElementById(table.dataset.notice || "");
      if (notice) notice.hidden = false;
      return;
    }
    const cell = row.querySelector(".state");
    let text = change.state;
    if (change.held) text += " · " + (table.dataset.held || "held");
    if (change.waitlist) text += " · #" + change.waitlist;
    cell.textContent = text;
    cell.dataset.code = change.code;
    row.classList.add("changed");
  });
}

function followFeed(list) {
  const limit = 50;
  follow(list.dataset.source, (entry) => {
    if (entry.kind === "stats") {
      for (const [id, value] of Object.entries(entry.counts)) {
        const target = document.getElementById(id);
        if (target) target.textContent = value;
      }
      return;
    }
    const item = document.createElement("li");
    const time = document.createElement("time");
    time.textContent = entry.time;
    const text = document.createElement("span");
    text.textContent = entry.text;
    item.append(time, " ", text);
    item.dataset.type = entry.type;
    list.prepend(item);
    list.querySelector(".waiting")?.remove();
    while (list.children.length > limit) list.lastElementChild.remove();
  });
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("table.live-states[data-source]").forEach(followStates);
  document.querySelectorAll("ol.feed[data-source]").forEach(followFeed);
});
